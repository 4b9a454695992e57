"""People: users, consent, reference sets and photos, wizard sessions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.store.base import Db, Row, now_iso
from bot.store.rows import Photo


@dataclass(frozen=True)
class Session:
    state: str
    rev: int
    data: dict[str, Any]


class People(Db):
    # --- users and consent ----------------------------------------------------------------
    async def user(self, platform: str, platform_user_id: str) -> Row | None:
        return await self.one(
            "SELECT * FROM users WHERE platform = ? AND platform_user_id = ?",
            platform,
            platform_user_id,
        )

    async def user_by_id(self, user_id: int) -> Row | None:
        return await self.one("SELECT * FROM users WHERE id = ?", user_id)

    async def ensure_user(
        self,
        platform: str,
        platform_user_id: str,
        name: str = "",
        chat_id: str | None = None,
        locale: str | None = None,
    ) -> Row:
        """The person's row, made on first contact. ``locale``: an offered locale code the
        platform says they use, kept only while none is known (/language decides after)."""
        row = await self.user(platform, platform_user_id)
        if (
            row is not None
            and row["display_name"] == name
            and chat_id in (None, row["chat_id"])
            and (locale is None or row["locale"] is not None)
        ):
            return row  # nothing changed: no write (every event passes here)
        await self.run(
            "INSERT INTO users (platform, platform_user_id, display_name, chat_id, locale) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (platform, platform_user_id) DO UPDATE SET "
            "display_name = excluded.display_name, "
            "chat_id = COALESCE(excluded.chat_id, users.chat_id), "
            "locale = COALESCE(users.locale, excluded.locale)",
            platform,
            platform_user_id,
            name,
            chat_id,
            locale,
        )
        row = await self.user(platform, platform_user_id)
        assert row is not None
        return row

    async def set_locale(self, user_id: int, locale: str) -> None:
        """The language a person chose with /language (a code the catalogs offer)."""
        await self.run("UPDATE users SET locale = ? WHERE id = ?", locale, user_id)

    async def record_consent(
        self, user_id: int, version: str, text: str, kind: str = "studio"
    ) -> int:
        """``kind``: the studio's own consent, or ``personal`` (a personal model, 0017)."""
        return await self.run(
            "INSERT INTO consents (user_id, version, text, kind) VALUES (?, ?, ?, ?)",
            user_id,
            version,
            text,
            kind,
        )

    async def consent(self, user_id: int, kind: str = "studio") -> Row | None:
        """The latest consent of this kind not withdrawn."""
        return await self.one(
            "SELECT * FROM consents WHERE user_id = ? AND kind = ? AND withdrawn_at IS NULL "
            "ORDER BY id DESC LIMIT 1",
            user_id,
            kind,
        )

    # --- reference sets and photos ------------------------------------------------------------
    async def current_set(self, user_id: int) -> Row:
        """The set the person is working on: the pet's set they chose (``working_sets``,
        bot/store/pet_sets.py), else their own open set (created when none is)."""
        row = await self.one(
            "SELECT s.* FROM working_sets w JOIN reference_sets s ON s.id = w.set_id "
            "WHERE w.user_id = ? AND s.status != 'archived'",
            user_id,
        )
        return row if row is not None else await self.person_set(user_id)

    async def person_set(self, user_id: int) -> Row:
        """The person's own open reference set (collecting or ready), created when none is."""
        row = await self.one(
            "SELECT * FROM reference_sets WHERE user_id = ? AND status != 'archived' "
            "AND subject = 'person' ORDER BY id DESC LIMIT 1",
            user_id,
        )
        if row is None:
            await self.run("INSERT INTO reference_sets (user_id) VALUES (?)", user_id)
            row = await self.person_set(user_id)
        return row

    async def set_status(self, set_id: int, status: str) -> None:
        await self.run("UPDATE reference_sets SET status = ? WHERE id = ?", status, set_id)

    async def set_judged(self, set_id: int, rule: int) -> None:
        """The set was judged under this one-person rule (reference_set.RULE)."""
        await self.run("UPDATE reference_sets SET judged_rule = ? WHERE id = ?", rule, set_id)

    async def judged_rule(self, set_id: int) -> int | None:
        """The one-person rule the set was last judged under (0: never); None: no set."""
        row = await self.one("SELECT judged_rule FROM reference_sets WHERE id = ?", set_id)
        return None if row is None else int(row[0])

    async def photo_by_sha(self, set_id: int, sha256: str) -> Photo | None:
        row = await self.one(
            "SELECT * FROM reference_photos WHERE set_id = ? AND sha256 = ?", set_id, sha256
        )
        return None if row is None else Photo.of(row)

    async def add_photo(
        self, set_id: int, user_id: int, sha256: str, path: str, filename: str
    ) -> int:
        return await self.run(
            "INSERT INTO reference_photos (set_id, user_id, sha256, path, filename) "
            "VALUES (?, ?, ?, ?, ?)",
            set_id,
            user_id,
            sha256,
            path,
            filename,
        )

    async def update_photo(
        self,
        photo_id: int,
        status: str,
        reasons: list[dict[str, str]] | None = None,
        embedding: list[float] | None = None,
        backend: str | None = None,
        crop_path: str | None = None,
        width: int | None = None,
        height: int | None = None,
        quality: dict[str, float] | None = None,
    ) -> None:
        await self.run(
            "UPDATE reference_photos SET status = ?, reasons = ?, embedding = ?, backend = ?, "
            "crop_path = COALESCE(?, crop_path), width = COALESCE(?, width), "
            "height = COALESCE(?, height), quality = COALESCE(?, quality) WHERE id = ?",
            status,
            json.dumps(reasons or []),
            json.dumps(embedding) if embedding is not None else None,
            backend,
            crop_path,
            width,
            height,
            json.dumps(quality) if quality is not None else None,
            photo_id,
        )

    async def set_fingerprint(self, photo_id: int, fingerprint: str) -> None:
        """The engine's perceptual fingerprint of the photo (engine/near_duplicate.py)."""
        await self.run(
            "UPDATE reference_photos SET fingerprint = ? WHERE id = ?", fingerprint, photo_id
        )

    async def delete_photo(self, photo_id: int) -> None:
        row = await self.one("SELECT * FROM reference_photos WHERE id = ?", photo_id)
        if row is None:
            return
        await self.run("DELETE FROM reference_photos WHERE id = ?", photo_id)
        await self.drop_files([row["path"], row["crop_path"]])

    async def photos(self, set_id: int, status: str | None = None) -> list[Photo]:
        if status is None:
            rows = await self.all(
                "SELECT * FROM reference_photos WHERE set_id = ? ORDER BY id", set_id
            )
        else:
            rows = await self.all(
                "SELECT * FROM reference_photos WHERE set_id = ? AND status = ? ORDER BY id",
                set_id,
                status,
            )
        return [Photo.of(r) for r in rows]

    async def count_photos(self, set_id: int, status: str = "accepted") -> int:
        row = await self.one(
            "SELECT COUNT(*) FROM reference_photos WHERE set_id = ? AND status = ?",
            set_id,
            status,
        )
        return int(row[0]) if row else 0

    async def protected_faces(self) -> list[Row]:
        return await self.all("SELECT * FROM protected_faces WHERE lifted_at IS NULL")

    # --- wizard sessions ----------------------------------------------------------------
    async def session(self, user_id: int) -> Session | None:
        row = await self.one("SELECT * FROM wizard_sessions WHERE user_id = ?", user_id)
        if row is None:
            return None
        return Session(row["state"], int(row["rev"]), json.loads(row["data"]))

    async def save_session(
        self, user_id: int, state: str, data: dict[str, Any], expected_rev: int | None = None
    ) -> Session | None:
        """Store the session's new state and bump its ``rev`` (old buttons go stale).

        With ``expected_rev`` (the revision the event was handled at; 0: no session yet)
        it is a compare-and-set: when the session moved on meanwhile (a /cancel between
        the files of a burst) or is gone (/forget), nothing is saved and None returned."""
        if expected_rev is not None:
            if expected_rev > 0:
                changed = await self.run(
                    "UPDATE wizard_sessions SET state = ?, rev = rev + 1, data = ?, "
                    "updated_at = ? WHERE user_id = ? AND rev = ?",
                    state,
                    json.dumps(data, ensure_ascii=False),
                    now_iso(),
                    user_id,
                    expected_rev,
                )
                return await self.session(user_id) if changed else None
            if await self.session(user_id) is not None or await self.user_by_id(user_id) is None:
                return None
        await self.run(
            "INSERT INTO wizard_sessions (user_id, state, rev, data, updated_at) "
            "VALUES (?, ?, 1, ?, ?) ON CONFLICT (user_id) DO UPDATE SET state = excluded.state, "
            "rev = wizard_sessions.rev + 1, data = excluded.data, updated_at = excluded.updated_at",
            user_id,
            state,
            json.dumps(data, ensure_ascii=False),
            now_iso(),
        )
        s = await self.session(user_id)
        assert s is not None
        return s

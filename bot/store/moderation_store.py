"""SQL for moderation and data rights: reports, the audit log, protected faces,
bans, pending inputs, and deleting a person's images and reference photos.

It shares the studio's :class:`~bot.store.store.Store` (one connection, one
media folder) rather than opening its own. Protected faces keep embeddings
only; nothing here ever writes a photo.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.store.base import marks
from bot.store.inputs import PendingInputs
from bot.store.media import PACK_SHEETS, SHEETS
from bot.store.personal_store import KIND as PERSONAL
from bot.store.protection_store import Protections
from bot.store.store import Row, Store
from sitter import contract as c

REASONS = ("not_me", "sexual", "minor", "deception", "other")
PROTECT_REQUEST = "protect_request"  # a face to protect, no portrait (*_protect_requests.sql)


def now_iso(delta: timedelta | None = None) -> str:
    t = datetime.now(UTC) + (delta or timedelta())
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class Purge:
    """What a deletion removed: rows and files."""

    photos: int = 0
    results: int = 0
    follow_ups: int = 0
    embeddings: int = 0
    files: int = 0

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items()}


class ModerationStore(PendingInputs, Protections):
    def __init__(self, store: Store):
        self.store = store
        self.media = store.media

    # --- users --------------------------------------------------------------------------
    async def user(self, user_id: int | None) -> Row | None:
        if user_id is None:
            return None
        return await self.store.one("SELECT * FROM users WHERE id = ?", user_id)

    async def find_user(self, ref: str) -> Row | None:
        """A user by ``#7`` / ``7`` (our id) or ``telegram:123`` / ``discord:456``."""
        ref = ref.strip()
        if ":" in ref:
            platform, _, pid = ref.partition(":")
            return await self.store.one(
                "SELECT * FROM users WHERE platform = ? AND platform_user_id = ?",
                platform.strip().lower(),
                pid.strip(),
            )
        digits = ref.lstrip("#")
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 19:
            return None  # a 20-digit id must not reach SQLite (OverflowError)
        n = int(digits)
        return await self.user(n) if 0 < n <= c.MAX_ID else None

    # --- reports ------------------------------------------------------------------------
    async def create_report(
        self, variation_id: int, reporter_user_id: int, reason: str, text: str = ""
    ) -> int:
        if reason not in REASONS:
            raise ValueError(f"unknown report reason {reason!r}; one of {', '.join(REASONS)}")
        v = await self.store.one(
            "SELECT v.id, v.order_id, v.user_id, o.platform FROM variations v "
            "JOIN orders o ON o.id = v.order_id WHERE v.id = ?",
            variation_id,
        )
        if v is None:
            raise LookupError(f"no portrait #{variation_id}")
        return await self.store.run(
            "INSERT INTO reports (variation_id, order_id, owner_user_id, reporter_user_id, "
            "reason, text, platform) VALUES (?, ?, ?, ?, ?, ?, ?)",
            variation_id,
            v["order_id"],
            v["user_id"],
            reporter_user_id,
            reason,
            text,
            v["platform"],
        )

    async def create_protect_request(
        self, reporter_user_id: int, embedding: c.Embedding, platform: str
    ) -> int:
        """A request to protect a face that isn't the person's own (*_protect_requests.sql):
        a report with no portrait, carrying the selfie's embedding, never the photo."""
        return await self.store.run(
            "INSERT INTO reports (reporter_user_id, reason, platform, face_backend, "
            "face_embedding) VALUES (?, ?, ?, ?, ?)",
            reporter_user_id,
            PROTECT_REQUEST,
            platform,
            embedding.backend,
            json.dumps(list(embedding.vector)),
        )

    async def open_protect_request(self, reporter_user_id: int) -> Row | None:
        return await self.store.one(
            "SELECT id FROM reports WHERE reporter_user_id = ? AND reason = ? AND status = 'open'",
            reporter_user_id,
            PROTECT_REQUEST,
        )

    async def open_report(self, variation_id: int, reporter_user_id: int) -> Row | None:
        """The reporter's still-open report of this portrait (one is enough)."""
        return await self.store.one(
            "SELECT * FROM reports WHERE variation_id = ? AND reporter_user_id = ? "
            "AND status = 'open'",
            variation_id,
            reporter_user_id,
        )

    async def reports_today(self, reporter_user_id: int) -> int:
        row = await self.store.one(
            "SELECT COUNT(*) FROM reports WHERE reporter_user_id = ? AND created_at >= ?",
            reporter_user_id,
            now_iso(-timedelta(days=1)),
        )
        return int(row[0]) if row else 0

    async def report(self, report_id: int) -> Row | None:
        """A report with what the moderators need: image, prompt, owner and reporter."""
        return await self.store.one(
            "SELECT r.*, v.path AS image_path, v.idx AS variation_idx, v.removed_at, "
            "o.prompt AS prompt, o.style AS style, o.set_id AS set_id, "
            "ow.platform AS owner_platform, ow.platform_user_id AS owner_pid, "
            "ow.display_name AS owner_name, ow.chat_id AS owner_chat, "
            "ow.banned_at AS owner_banned, "
            "rp.platform AS reporter_platform, rp.platform_user_id AS reporter_pid, "
            "rp.display_name AS reporter_name, rp.chat_id AS reporter_chat "
            "FROM reports r LEFT JOIN variations v ON v.id = r.variation_id "
            "LEFT JOIN orders o ON o.id = r.order_id "
            "LEFT JOIN users ow ON ow.id = r.owner_user_id "
            "LEFT JOIN users rp ON rp.id = r.reporter_user_id WHERE r.id = ?",
            report_id,
        )

    async def set_report_text(self, report_id: int, text: str) -> None:
        await self.store.run("UPDATE reports SET text = ? WHERE id = ?", text, report_id)

    async def mark_posted(self, report_id: int) -> None:
        await self.store.run("UPDATE reports SET posted_at = ? WHERE id = ?", now_iso(), report_id)

    async def unposted_reports(self) -> list[Row]:
        return await self.store.all(
            "SELECT id FROM reports WHERE status = 'open' AND posted_at IS NULL ORDER BY id"
        )

    async def decide(self, report_id: int, decision: str, decided_by: str) -> bool:
        """Record the decision; False when someone else decided first (no double action)."""
        changed = await self.store.run(
            "UPDATE reports SET status = 'decided', decision = ?, decided_by = ?, decided_at = ? "
            "WHERE id = ? AND status = 'open'",
            decision,
            decided_by,
            now_iso(),
            report_id,
        )
        return changed == 1

    async def upheld_history(self, owner_user_id: int | None, exclude: int = 0) -> list[Row]:
        """Earlier reports against this owner that moderators acted on (not dismissed)."""
        if owner_user_id is None:
            return []
        return await self.store.all(
            "SELECT id, reason, decision, decided_at FROM reports WHERE owner_user_id = ? "
            "AND status = 'decided' AND decision != 'dismiss' AND id != ? ORDER BY id",
            owner_user_id,
            exclude,
        )

    # --- the audit log ------------------------------------------------------------------------
    async def log(
        self,
        actor: str,
        action: str,
        *,
        target_user_id: int | None = None,
        report_id: int | None = None,
        reason: str = "",
        detail: dict[str, Any] | None = None,
    ) -> int:
        return await self.store.run(
            "INSERT INTO moderation_actions (actor, action, target_user_id, report_id, reason, "
            "detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            actor,
            action,
            target_user_id,
            report_id,
            reason,
            json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
            now_iso(),
        )

    async def audit(self, since: str | None = None) -> list[dict[str, Any]]:
        rows = await self.store.all(
            "SELECT id, created_at, actor, action, target_user_id, report_id, reason, detail "
            "FROM moderation_actions WHERE created_at >= ? ORDER BY created_at, id",
            since or "",
        )
        return [{k: r[k] for k in r.keys()} for r in rows]  # noqa: SIM118 (Row is no dict)

    # --- deleting images and photos ---------------------------------------------------------
    async def remove_order_images(self, order_id: int | None) -> Purge:
        """Remove an order's portraits (and their upscaled/labelled copies): files gone,
        rows kept with ``removed_at`` so reports and the owner's history still make sense."""
        if order_id is None:
            return Purge()
        vars_ = await self.store.all(
            "SELECT id, path FROM variations WHERE order_id = ? AND removed_at IS NULL", order_id
        )
        jobs = await self.store.all(  # an avatar job keeps its other sizes in more_paths
            "SELECT vj.id, vj.path FROM variation_jobs vj JOIN variations v "
            "ON v.id = vj.variation_id WHERE v.order_id = ? UNION ALL "
            "SELECT vj.id, j.value FROM variation_jobs vj JOIN variations v "
            "ON v.id = vj.variation_id, json_each(COALESCE(vj.more_paths, '[]')) j "
            "WHERE v.order_id = ?",
            order_id,
            order_id,
        )
        async with self.store.tx():
            await self.store.run(
                "DELETE FROM variation_jobs WHERE variation_id IN "
                "(SELECT id FROM variations WHERE order_id = ?)",
                order_id,
            )
            await self.store.run(
                "UPDATE variations SET removed_at = ?, path = NULL, sha256 = NULL "
                "WHERE order_id = ? AND removed_at IS NULL",
                now_iso(),
                order_id,
            )
        files = await self.drop_files([r["path"] for r in vars_] + [r["path"] for r in jobs])
        owner = await self.store.one("SELECT user_id FROM orders WHERE id = ?", order_id)
        if owner is not None:  # a pack's contact sheet is a picture of its portraits
            files += self.store.media.delete_kind(owner["user_id"], PACK_SHEETS)
        follow_ups = len({r["id"] for r in jobs})
        return Purge(results=len(vars_), follow_ups=follow_ups, files=files)

    async def purge_references(self, user_id: int | None) -> Purge:
        """Delete all of a user's reference photos, crops and embeddings (rows and files)."""
        if user_id is None:
            return Purge()
        rows = await self.store.all(
            "SELECT path, crop_path, embedding FROM reference_photos WHERE user_id = ?", user_id
        )
        models = await self.store.all(
            "SELECT path FROM personal_models WHERE user_id = ? AND path IS NOT NULL", user_id
        )
        async with self.store.tx():
            await self.store.run("DELETE FROM personal_models WHERE user_id = ?", user_id)
            await self.store.run("DELETE FROM reference_photos WHERE user_id = ?", user_id)
            await self.store.run("DELETE FROM working_sets WHERE user_id = ?", user_id)
            await self.store.run("DELETE FROM reference_sets WHERE user_id = ?", user_id)
        files = await self.drop_files(p for r in rows for p in (r["path"], r["crop_path"]))
        files += sum(self.store.media.delete(str(r["path"])) for r in models)  # learned from them
        files += self.store.media.delete_kind(user_id, PERSONAL)  # one stored meanwhile
        files += self.store.media.delete_kind(user_id, SHEETS)  # pictures of the photos
        files += self.store.media.delete_kind(user_id, PACK_SHEETS)  # of portraits from them
        self._prune_empty_dirs(user_id)
        return Purge(
            photos=len(rows), embeddings=sum(1 for r in rows if r["embedding"]), files=files
        )

    async def drop_files(self, paths: Iterable[str | None]) -> int:
        """Delete files no row refers to any more (the store's own rule)."""
        return await self.store.drop_files(paths)

    def _prune_empty_dirs(self, user_id: int) -> None:
        folder = self.media.user_dir(user_id)
        if not folder.exists():
            return
        for d in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
            if not any(d.iterdir()):
                d.rmdir()
        if not any(folder.iterdir()):
            folder.rmdir()

    # --- lists for the moderators and the reporter ------------------------------------------------
    async def open_reports(self, limit: int = 20) -> list[Row]:
        return await self.store.all(
            "SELECT id, reason, created_at FROM reports WHERE status = 'open' ORDER BY id LIMIT ?",
            limit,
        )

    async def open_report_ids(self, owner_user_id: int) -> list[int]:
        rows = await self.store.all(
            "SELECT id FROM reports WHERE owner_user_id = ? AND status = 'open'", owner_user_id
        )
        return [int(r["id"]) for r in rows]

    async def portraits(self, variation_ids: list[int]) -> list[Row]:
        """``id`` and ``idx`` of those portraits still stored, in their order's order."""
        if not variation_ids:
            return []
        return await self.store.all(
            f"SELECT id, idx FROM variations WHERE id IN ({marks(variation_ids)}) ORDER BY idx",
            *variation_ids,
        )

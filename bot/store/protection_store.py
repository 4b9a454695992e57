"""SQL for protected faces and bans, a part of the ModerationStore (moderation_store.py).

Protected faces keep embeddings only; nothing here ever writes a photo.
"""

from __future__ import annotations

import json
from typing import Any

from bot.store.base import now_iso
from bot.store.store import Row, Store
from sitter import contract as c

# Photos of a person's own set (faces): a pet's set holds an animal's embeddings (issue 25).
FACES = "set_id IN (SELECT id FROM reference_sets WHERE subject = 'person')"


class Protections:
    store: Store

    # --- protected faces --------------------------------------------------------------------
    async def reference_embeddings(
        self, user_id: int | None, set_id: int | None = None
    ) -> list[c.Embedding]:
        """Accepted reference embeddings: of one set when given (the order's), else all
        (faces only: a pet's set holds an animal's embeddings)."""
        if user_id is None:
            return []
        sql = (
            "SELECT backend, embedding FROM reference_photos WHERE user_id = ? "
            "AND status = 'accepted' AND embedding IS NOT NULL AND " + FACES
        )
        args: list[Any] = [user_id]
        if set_id is not None:
            sql += " AND set_id = ?"
            args.append(set_id)
        rows = await self.store.all(sql, *args)
        return [
            c.Embedding(backend=r["backend"] or "", vector=json.loads(r["embedding"])) for r in rows
        ]

    async def others_reference_embeddings(self, user_id: int) -> list[c.Embedding]:
        """Every other account's accepted reference embeddings (a /protect selfie must not
        show a face someone else holds)."""
        rows = await self.store.all(
            "SELECT backend, embedding FROM reference_photos WHERE user_id != ? "
            "AND status = 'accepted' AND embedding IS NOT NULL AND " + FACES,
            user_id,
        )
        return [
            c.Embedding(backend=r["backend"] or "", vector=json.loads(r["embedding"])) for r in rows
        ]

    async def add_protected(
        self,
        embedding: c.Embedding,
        source: str,
        owner_user_id: int | None = None,
        report_id: int | None = None,
    ) -> int:
        if source not in ("moderator", "self"):
            raise ValueError(f"protected face source is moderator or self, not {source!r}")
        return await self.store.run(
            "INSERT INTO protected_faces (backend, embedding, source, owner_user_id, report_id) "
            "VALUES (?, ?, ?, ?, ?)",
            embedding.backend,
            json.dumps(list(embedding.vector)),
            source,
            owner_user_id,
            report_id,
        )

    async def lift_self_protection(self, owner_user_id: int) -> int:
        return await self.store.run(
            "UPDATE protected_faces SET lifted_at = ? WHERE owner_user_id = ? AND source = 'self' "
            "AND lifted_at IS NULL",
            now_iso(),
            owner_user_id,
        )

    async def delete_self_protection(self, owner_user_id: int) -> int:
        """Forget: a person's own protection embeddings are their data too."""
        return await self.store.run(
            "DELETE FROM protected_faces WHERE owner_user_id = ? AND source = 'self'",
            owner_user_id,
        )

    async def self_protected(self, owner_user_id: int) -> int:
        row = await self.store.one(
            "SELECT COUNT(*) FROM protected_faces WHERE owner_user_id = ? AND source = 'self' "
            "AND lifted_at IS NULL",
            owner_user_id,
        )
        return int(row[0]) if row else 0

    async def active_protected(self, uploader_user_id: int | None = None) -> list[c.ProtectedFace]:
        """Protected faces to check a new reference photo against.

        A person's own ``/protect`` does not refuse their own uploads: it keeps
        *others* from using their face.
        """
        rows = await self.store.all(
            "SELECT id, backend, embedding FROM protected_faces WHERE lifted_at IS NULL "
            "AND NOT (source = 'self' AND owner_user_id IS ?)",
            uploader_user_id if uploader_user_id is not None else -1,
        )
        return [
            c.ProtectedFace(
                id=r["id"],
                embedding=c.Embedding(backend=r["backend"], vector=json.loads(r["embedding"])),
            )
            for r in rows
        ]

    # --- bans ---------------------------------------------------------------------------
    async def ban(self, user_id: int, reason: str) -> bool:
        changed = await self.store.run(
            "UPDATE users SET banned_at = ?, ban_reason = ?, ban_notified = 0 "
            "WHERE id = ? AND banned_at IS NULL",
            now_iso(),
            reason,
            user_id,
        )
        return changed == 1

    async def unban(self, user_id: int) -> bool:
        changed = await self.store.run(
            "UPDATE users SET banned_at = NULL, ban_reason = NULL, ban_notified = 0 "
            "WHERE id = ? AND banned_at IS NOT NULL",
            user_id,
        )
        return changed == 1

    async def banned_keys(self) -> set[tuple[str, str]]:
        rows = await self.store.all(
            "SELECT platform, platform_user_id FROM users WHERE banned_at IS NOT NULL"
        )
        return {(r["platform"], r["platform_user_id"]) for r in rows}

    async def mark_ban_notified(self, user_id: int) -> bool:
        """True the first time only: the banned person is told once."""
        changed = await self.store.run(
            "UPDATE users SET ban_notified = 1 WHERE id = ? AND ban_notified = 0", user_id
        )
        return changed == 1

    # --- reaching other accounts (bot/studio/moderation/protect_reach.py) -------------------
    async def photos_with_faces(self) -> list[Row]:
        """Every kept reference photo that has a face embedding, set by set (a pet's set
        holds an animal's image embeddings, no face: not compared with faces)."""
        return await self.store.all(
            "SELECT p.id, p.set_id, p.user_id, p.backend, p.embedding FROM reference_photos p "
            "JOIN reference_sets s ON s.id = p.set_id WHERE p.embedding IS NOT NULL "
            "AND p.status != 'refused' AND s.subject = 'person' ORDER BY p.set_id, p.id"
        )

    async def first_order_of_set(self, set_id: int) -> int | None:
        """The first order painted from a reference set (its retries and follow-ups hang
        from it), or None."""
        row = await self.store.one(  # a joint order painted from it as the partner's (0018)
            "SELECT id FROM orders WHERE set_id = ? OR partner_set_id = ? ORDER BY id",
            set_id,
            set_id,
        )
        return int(row["id"]) if row else None

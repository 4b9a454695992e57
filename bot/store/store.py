"""All data access of the bot: one aiosqlite connection, media files beside it.

:class:`Store` is made of small parts, one module each (``bot/store/people.py``,
``orders.py``, ``messages.py``, ``guilds.py``) over the shared connection and its
write lock (``base.py``); what deletes across them (/forget, the retention sweep)
lives here. Rows come back as ``aiosqlite.Row`` (index by column name). Times are
ISO-8601 UTC text, embeddings JSON lists. Every write commits at once (autocommit
mode); several writes that must stand or fall together run in :meth:`Store.tx`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bot.store.base import Row, now_iso
from bot.store.codes import ACTIVE_SQL
from bot.store.guilds import Guilds
from bot.store.history import History
from bot.store.media import MediaStore
from bot.store.messages import Messages
from bot.store.migrate import open_db
from bot.store.orders import ACTIVE_ORDER, FOLLOWED_ORDER, Orders
from bot.store.pack_orders import PackOrders
from bot.store.people import People, Session
from bot.store.personal_store import PersonalModels
from bot.store.pet_sets import PetSets
from bot.store.together_store import Together

__all__ = ["ACTIVE_ORDER", "FOLLOWED_ORDER", "ForgetCounts", "Row", "Session", "Store", "now_iso"]


@dataclass(frozen=True)
class ForgetCounts:
    photos: int = 0
    orders: int = 0
    results: int = 0
    files: int = 0


class Store(
    People, PetSets, Orders, PackOrders, Messages, Guilds, History, PersonalModels, Together
):
    @classmethod
    async def open(cls, db_path: Path, media_dir: Path) -> Store:
        return cls(await open_db(db_path), MediaStore(media_dir))

    async def close(self) -> None:
        await self.db.close()

    # --- data rights ---------------------------------------------------------------------
    async def forget(self, user_id: int) -> ForgetCounts:
        """Delete a user's rows and files (their user row last); return what went."""
        photos = await self.one("SELECT COUNT(*) FROM reference_photos WHERE user_id = ?", user_id)
        orders = await self.one("SELECT COUNT(*) FROM orders WHERE user_id = ?", user_id)
        results = await self.one("SELECT COUNT(*) FROM variations WHERE user_id = ?", user_id)
        user = await self.user_by_id(user_id)
        # Portraits of two people (migration 0018): gone for both, counted as theirs too.
        partner_orders, partner_results = await self.partner_counts(user_id)
        joint_files = await self.forget_joint(user_id)
        async with self.tx():
            # Keep moderation's trail: reports point at nothing once the rows go.
            await self.run("DELETE FROM variation_jobs WHERE user_id = ?", user_id)
            await self.run("DELETE FROM variations WHERE user_id = ?", user_id)
            await self.run("DELETE FROM personal_models WHERE user_id = ?", user_id)
            await self.run("DELETE FROM order_looks WHERE user_id = ?", user_id)
            await self.run("DELETE FROM orders WHERE user_id = ?", user_id)
            await self.run("DELETE FROM reference_photos WHERE user_id = ?", user_id)
            await self.run("DELETE FROM working_sets WHERE user_id = ?", user_id)
            await self.run("DELETE FROM reference_sets WHERE user_id = ?", user_id)
            await self.run("DELETE FROM wizard_sessions WHERE user_id = ?", user_id)
            await self.run("DELETE FROM remembered_subjects WHERE user_id = ?", user_id)
            await self.run("DELETE FROM consents WHERE user_id = ?", user_id)
            if user is not None and user["banned_at"]:
                pass  # a banned user's row stays so the ban holds; their data is gone
            else:
                await self.run("DELETE FROM users WHERE id = ?", user_id)
        files = self.media.delete_user(user_id) + joint_files
        return ForgetCounts(
            photos=int(photos[0]) if photos else 0,
            orders=(int(orders[0]) if orders else 0) + partner_orders,
            results=(int(results[0]) if results else 0) + partner_results,
            files=files,
        )

    async def sweep_retention(self, reference_days: int, result_days: int) -> dict[str, int]:
        """Delete reference photos and results older than their retention period."""
        ref_cut = now_iso(-timedelta(days=reference_days))
        res_cut = now_iso(-timedelta(days=result_days))
        old_photos = await self.all(
            "SELECT id, path, crop_path FROM reference_photos WHERE created_at < ?", ref_cut
        )
        old_vars = await self.all(
            "SELECT v.id, v.path FROM variations v JOIN orders o ON o.id = v.order_id "
            f"WHERE v.created_at < ? AND o.status NOT IN {ACTIVE_SQL}",
            res_cut,
        )
        old_jobs = await self.all(
            "SELECT vj.path FROM variation_jobs vj JOIN variations v ON v.id = vj.variation_id "
            "WHERE v.created_at < ? UNION ALL SELECT m.value FROM variation_jobs vj "
            "JOIN variations v ON v.id = vj.variation_id, json_each(vj.more_paths) m "
            "WHERE v.created_at < ?",
            res_cut,
            res_cut,
        )
        # A personal model learned from reference photos goes after the same period
        # (a training still in flight is the tracker's: it is dropped when it ends).
        old_models = await self.all(
            "SELECT path FROM personal_models WHERE created_at < ? "
            "AND status NOT IN ('queued', 'running')",
            ref_cut,
        )
        async with self.tx():
            await self.run(
                "DELETE FROM personal_models WHERE created_at < ? "
                "AND status NOT IN ('queued', 'running')",
                ref_cut,
            )
            await self.run("DELETE FROM reference_photos WHERE created_at < ?", ref_cut)
            for r in old_vars:
                await self.run("DELETE FROM variations WHERE id = ?", r["id"])
        files = await self.drop_files(
            [p for r in old_photos for p in (r["path"], r["crop_path"])]
            + [r["path"] for r in old_vars]
            + [r["path"] for r in old_jobs]
        )
        models = sum(self.media.delete(str(r["path"])) for r in old_models if r["path"])
        done = {"photos": len(old_photos), "results": len(old_vars), "files": files + models}
        if old_models:
            done["personal_models"] = len(old_models)
        return done

    async def drop_files(self, paths: Iterable[str | None]) -> int:
        """Delete files no row refers to any more (content-addressed files can be shared)."""
        n = 0
        for rel in {p for p in paths if p}:
            still = await self.one(
                "SELECT 1 FROM reference_photos WHERE path = ? OR crop_path = ? "
                "UNION SELECT 1 FROM variations WHERE path = ? "
                "UNION SELECT 1 FROM variation_jobs WHERE path = ? "
                "UNION SELECT 1 FROM variation_jobs, json_each(more_paths) WHERE value = ? LIMIT 1",
                rel,
                rel,
                rel,
                rel,
                rel,
            )
            if still is None and self.media.delete(rel):
                n += 1
        return n

    async def instance_id(self) -> str:
        """This database's random id (made by migration 0002)."""
        row = await self.one("SELECT value FROM meta WHERE key = 'instance'")
        assert row is not None, "migration 0002 not applied"
        return str(row[0])

"""Personal models (migrations/0017_personal_models.sql): one row per training of a
person's LoRA on one reference set. Codes and parameters only; the file lives in the
person's media folder (``u<id>/personal/``), so /forget's folder deletion reaches it
too. Deleting is :meth:`PersonalModels.drop_personal`: rows and files of a person (or
of one set), returning the train jobs Redis must forget first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.store.base import Db, Row, now_iso
from bot.store.codes import TrainingStatus

KIND = "personal"  # the media kind (folder) of model files
IN_FLIGHT = (TrainingStatus.QUEUED.value, TrainingStatus.RUNNING.value)
_COLUMNS = frozenset(
    {
        "status",
        "error",
        "job_id",
        "enqueues",
        "steps_done",
        "sha256",
        "path",
        "enabled",
        "family",
        "base_model",
        "licence",
        "commercial_ok",
        "finished_at",
        "delivered_at",
    }
)


@dataclass(frozen=True)
class Dropped:
    models: int = 0  # rows deleted
    files: int = 0  # model files deleted
    job_ids: tuple[str, ...] = ()  # train jobs that were queued or running


class PersonalModels(Db):
    async def add_personal(
        self,
        user_id: int,
        set_id: int,
        consent_version: str,
        platform: str,
        chat_id: str,
        photos: int,
        steps: int = 0,
        quota_cost: int = 0,
    ) -> int:
        """``quota_cost``: images of the daily quota it counts as (images_since)."""
        return await self.run(
            "INSERT INTO personal_models (user_id, set_id, consent_version, platform, chat_id, "
            "photos, steps, quota_cost) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            user_id,
            set_id,
            consent_version,
            platform,
            chat_id,
            photos,
            steps,
            quota_cost,
        )

    async def set_owner(self, set_id: int) -> int | None:
        """Whose reference set this is (None: no such set)."""
        row = await self.one("SELECT user_id FROM reference_sets WHERE id = ?", set_id)
        return None if row is None else int(row[0])

    async def personal(self, model_id: int) -> Row | None:
        return await self.one("SELECT * FROM personal_models WHERE id = ?", model_id)

    async def personal_by_job(self, job_id: str) -> Row | None:
        return await self.one("SELECT * FROM personal_models WHERE job_id = ?", job_id)

    async def latest_personal(self, user_id: int) -> Row | None:
        """The person's newest training (any status)."""
        return await self.one(
            "SELECT * FROM personal_models WHERE user_id = ? ORDER BY id DESC LIMIT 1", user_id
        )

    async def training_in_flight(self, user_id: int) -> Row | None:
        return await self.one(
            "SELECT * FROM personal_models WHERE user_id = ? AND status IN ('queued', 'running') "
            "ORDER BY id DESC LIMIT 1",
            user_id,
        )

    async def ready_personal(self, user_id: int, set_id: int) -> Row | None:
        """The person's ready model learned from this set (enabled or not)."""
        return await self.one(
            "SELECT * FROM personal_models WHERE user_id = ? AND set_id = ? AND status = 'ready' "
            "ORDER BY id DESC LIMIT 1",
            user_id,
            set_id,
        )

    async def personal_to_follow(self) -> list[Row]:
        """Trainings not finished, or finished and not told yet."""
        return await self.all(
            "SELECT * FROM personal_models WHERE status IN ('queued', 'running') "
            "OR delivered_at IS NULL ORDER BY id"
        )

    async def set_personal(self, model_id: int, **values: Any) -> int:
        bad = set(values) - _COLUMNS
        if bad:
            raise ValueError(f"not personal_models columns: {sorted(bad)}")
        if not values:
            return 0
        sets = ", ".join(f"{k} = ?" for k in values)
        return await self.run(
            f"UPDATE personal_models SET {sets} WHERE id = ?", *values.values(), model_id
        )

    async def finish_personal(self, model_id: int, status: str, **values: Any) -> int:
        """A training's end (ready, failed, cancelled, outdated): only while in flight."""
        values = {"status": status, "finished_at": now_iso(), **values}
        sets = ", ".join(f"{k} = ?" for k in values)
        if set(values) - _COLUMNS:
            raise ValueError(f"not personal_models columns: {sorted(set(values) - _COLUMNS)}")
        return await self.run(
            f"UPDATE personal_models SET {sets} WHERE id = ? AND status IN ('queued', 'running')",
            *values.values(),
            model_id,
        )

    async def trainings_running(self, user_id: int, set_id: int | None = None) -> list[str]:
        """Job ids of the person's trainings queued or running (of one set, or all)."""
        rows = await self.all(
            "SELECT job_id FROM personal_models WHERE user_id = ? AND (? IS NULL OR set_id = ?) "
            "AND job_id IS NOT NULL AND status IN ('queued', 'running')",
            user_id,
            set_id,
            set_id,
        )
        return [str(r[0]) for r in rows]

    async def has_personal(self, user_id: int, set_id: int) -> bool:
        """Any model row of this set (ready, learning, failed...)."""
        row = await self.one(
            "SELECT 1 FROM personal_models WHERE user_id = ? AND set_id = ? LIMIT 1",
            user_id,
            set_id,
        )
        return row is not None

    async def personal_job_ids(self, user_id: int) -> list[str]:
        rows = await self.all(
            "SELECT job_id FROM personal_models WHERE user_id = ? AND job_id IS NOT NULL", user_id
        )
        return [str(r[0]) for r in rows]

    async def drop_personal(
        self, user_id: int, set_id: int | None = None, *, keep_row: bool = False
    ) -> Dropped:
        """Delete the person's models (of one set, or all) and their files. With
        ``keep_row`` the rows stay as what a training cost (its quota, for the day's
        count: a new set is no way round the limit), codes only: a ready model becomes
        ``outdated`` (no file, no hash: the person is told and offered retraining), one
        in flight ``cancelled``; ``models`` then counts those two. Without it every row
        goes (/forget, a ban, a moderator)."""
        where, args = "user_id = ?", [user_id]
        if set_id is not None:
            where, args = where + " AND set_id = ?", [user_id, set_id]
        rows = await self.all(f"SELECT * FROM personal_models WHERE {where}", *args)
        if not rows:
            return Dropped()
        jobs = tuple(str(r["job_id"]) for r in rows if r["job_id"] and r["status"] in IN_FLIGHT)
        changed = 0
        async with self.tx():
            for r in rows:
                if not keep_row:
                    await self.run("DELETE FROM personal_models WHERE id = ?", r["id"])
                    changed += 1
                elif r["status"] == "ready":
                    await self.run(
                        "UPDATE personal_models SET status = 'outdated', path = NULL, "
                        "sha256 = NULL, enabled = 0, delivered_at = finished_at, "
                        "finished_at = ? WHERE id = ?",
                        now_iso(),
                        r["id"],
                    )
                    changed += 1
                elif r["status"] in IN_FLIGHT:
                    now = now_iso()
                    await self.run(
                        "UPDATE personal_models SET status = 'cancelled', path = NULL, "
                        "sha256 = NULL, enabled = 0, finished_at = ?, delivered_at = ? "
                        "WHERE id = ?",
                        now,
                        now,
                        r["id"],
                    )
                    changed += 1
        files = sum(self.media.delete(str(r["path"])) for r in rows if r["path"])
        return Dropped(
            models=changed, files=files + await self._unreferenced(user_id), job_ids=jobs
        )

    async def _unreferenced(self, user_id: int) -> int:
        """Delete the person's model files no row names. A training's file is written
        under the person's lock, which a moderator's removal or ban does not hold: a
        file stored between this drop's read of the rows and its delete would be left
        behind, named by nothing (one training at a time: no other is being stored)."""
        rows = await self.all(
            "SELECT path FROM personal_models WHERE user_id = ? AND path IS NOT NULL", user_id
        )
        keep = {str(r["path"]) for r in rows}
        folder = self.media.user_dir(user_id) / KIND
        if not folder.is_dir():
            return 0
        rels = (p.relative_to(self.media.root).as_posix() for p in folder.iterdir())
        return sum(self.media.delete(rel) for rel in rels if rel not in keep)

    async def mark_personal_order(self, order_id: int, used: bool) -> None:
        """The order's request carried (or no longer carries) the personal model."""
        await self.run("UPDATE orders SET personal = ? WHERE id = ?", int(used), order_id)

    async def old_personal(self, cut: str) -> list[Row]:
        """Models made before ``cut`` (the reference retention period)."""
        return await self.all("SELECT * FROM personal_models WHERE created_at < ?", cut)

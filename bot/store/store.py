"""All data access of the bot: one aiosqlite connection, media files beside it.

Rows come back as ``aiosqlite.Row`` (index by column name). Times are ISO-8601
UTC text, embeddings JSON lists. Every write commits at once (autocommit mode);
several writes that must stand or fall together run in :meth:`Store.tx`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite

from bot.store.media import MediaStore
from bot.store.migrate import open_db

Row = aiosqlite.Row

ACTIVE_ORDER = ("queued", "running")
FOLLOWED_ORDER = ("queued", "running", "done", "failed")


def now_iso(delta: timedelta | None = None) -> str:
    t = datetime.now(UTC) + (delta or timedelta())
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class Session:
    state: str
    rev: int
    data: dict[str, Any]


@dataclass(frozen=True)
class ForgetCounts:
    photos: int = 0
    orders: int = 0
    results: int = 0
    files: int = 0


class Store:
    def __init__(self, db: aiosqlite.Connection, media: MediaStore):
        self.db = db
        self.media = media
        # One connection serves every task. A transaction belongs to the task that
        # began it; other tasks' writes wait for it (in autocommit mode they would
        # otherwise join it, and be rolled back or committed with it).
        self._tx_lock = asyncio.Lock()
        self._tx_task: asyncio.Task[Any] | None = None

    @classmethod
    async def open(cls, db_path: Path, media_dir: Path) -> Store:
        return cls(await open_db(db_path), MediaStore(media_dir))

    async def close(self) -> None:
        await self.db.close()

    # --- helpers ---------------------------------------------------------------------
    async def one(self, sql: str, *args: Any) -> Row | None:
        async with self.db.execute(sql, args) as cur:
            return await cur.fetchone()

    async def all(self, sql: str, *args: Any) -> list[Row]:
        async with self.db.execute(sql, args) as cur:
            return list(await cur.fetchall())

    async def run(self, sql: str, *args: Any) -> int:
        """Execute a write; return lastrowid for inserts, else the rows changed."""
        if self._tx_task is not None and self._tx_task is asyncio.current_task():
            return await self._write(sql, args)
        async with self._tx_lock:
            return await self._write(sql, args)

    async def _write(self, sql: str, args: tuple[Any, ...]) -> int:
        async with self.db.execute(sql, args) as cur:
            return cur.lastrowid if sql.lstrip().upper().startswith("INSERT") else cur.rowcount

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[None]:
        """One transaction for this task; nested calls in the same task join it."""
        if self._tx_task is not None and self._tx_task is asyncio.current_task():
            yield
            return
        async with self._tx_lock:
            await self.db.execute("BEGIN IMMEDIATE")
            self._tx_task = asyncio.current_task()
            try:
                yield
                await self.db.commit()
            except BaseException:
                await self.db.rollback()
                raise
            finally:
                self._tx_task = None

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
        self, platform: str, platform_user_id: str, name: str = "", chat_id: str | None = None
    ) -> Row:
        row = await self.user(platform, platform_user_id)
        if row is not None and row["display_name"] == name and chat_id in (None, row["chat_id"]):
            return row  # nothing changed: no write (every event passes here)
        await self.run(
            "INSERT INTO users (platform, platform_user_id, display_name, chat_id) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (platform, platform_user_id) DO UPDATE SET "
            "display_name = excluded.display_name, "
            "chat_id = COALESCE(excluded.chat_id, users.chat_id)",
            platform,
            platform_user_id,
            name,
            chat_id,
        )
        row = await self.user(platform, platform_user_id)
        assert row is not None
        return row

    async def record_consent(self, user_id: int, version: str, text: str) -> int:
        return await self.run(
            "INSERT INTO consents (user_id, version, text) VALUES (?, ?, ?)", user_id, version, text
        )

    async def consent(self, user_id: int) -> Row | None:
        """The latest consent not withdrawn."""
        return await self.one(
            "SELECT * FROM consents WHERE user_id = ? AND withdrawn_at IS NULL "
            "ORDER BY id DESC LIMIT 1",
            user_id,
        )

    # --- reference sets and photos ------------------------------------------------------------
    async def current_set(self, user_id: int) -> Row:
        """The user's open reference set (collecting or ready), created when none is."""
        row = await self.one(
            "SELECT * FROM reference_sets WHERE user_id = ? AND status != 'archived' "
            "ORDER BY id DESC LIMIT 1",
            user_id,
        )
        if row is None:
            await self.run("INSERT INTO reference_sets (user_id) VALUES (?)", user_id)
            row = await self.current_set(user_id)
        return row

    async def set_status(self, set_id: int, status: str) -> None:
        await self.run("UPDATE reference_sets SET status = ? WHERE id = ?", status, set_id)

    async def photo_by_sha(self, set_id: int, sha256: str) -> Row | None:
        return await self.one(
            "SELECT * FROM reference_photos WHERE set_id = ? AND sha256 = ?", set_id, sha256
        )

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

    async def delete_photo(self, photo_id: int) -> None:
        row = await self.one("SELECT * FROM reference_photos WHERE id = ?", photo_id)
        if row is None:
            return
        await self.run("DELETE FROM reference_photos WHERE id = ?", photo_id)
        await self.drop_files([row["path"], row["crop_path"]])

    async def photos(self, set_id: int, status: str | None = None) -> list[Row]:
        if status is None:
            return await self.all(
                "SELECT * FROM reference_photos WHERE set_id = ? ORDER BY id", set_id
            )
        return await self.all(
            "SELECT * FROM reference_photos WHERE set_id = ? AND status = ? ORDER BY id",
            set_id,
            status,
        )

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

    async def save_session(self, user_id: int, state: str, data: dict[str, Any]) -> Session:
        """Store the session's new state and bump its ``rev`` (old buttons go stale)."""
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

    # --- orders --------------------------------------------------------------------------
    async def create_order(
        self,
        user_id: int,
        set_id: int | None,
        platform: str,
        chat_id: str,
        style: str,
        choices: dict[str, Any],
        prompt: str,
        negative_prompt: str,
        params: dict[str, Any],
        seeds: list[int],
        retry_of: int | None = None,
    ) -> int:
        return await self.run(
            "INSERT INTO orders (user_id, set_id, retry_of, platform, chat_id, style, choices, "
            "prompt, negative_prompt, params, seeds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            user_id,
            set_id,
            retry_of,
            platform,
            chat_id,
            style,
            json.dumps(choices, ensure_ascii=False),
            prompt,
            negative_prompt,
            json.dumps(params),
            json.dumps(seeds),
        )

    async def order(self, order_id: int) -> Row | None:
        return await self.one("SELECT * FROM orders WHERE id = ?", order_id)

    async def set_order(self, order_id: int, **fields: Any) -> None:
        allowed = {
            "status",
            "error",
            "job_id",
            "finished_at",
            "delivered_at",
            "enqueues",
            "progress",
        }
        if not fields or set(fields) - allowed:
            raise ValueError(f"cannot set {sorted(set(fields) - allowed)} on an order")
        cols = ", ".join(f"{k} = ?" for k in fields)
        await self.run(f"UPDATE orders SET {cols} WHERE id = ?", *fields.values(), order_id)

    async def finish_order(self, order_id: int, **fields: Any) -> bool:
        """Set ``fields`` (status done/failed ...) only while the order is still queued or
        running: False when a /cancel, a ban or a forget got there first."""
        if not fields or set(fields) - {"status", "error", "finished_at"}:
            raise ValueError(f"cannot finish an order with {sorted(fields)}")
        cols = ", ".join(f"{k} = ?" for k in fields)
        changed = await self.run(
            f"UPDATE orders SET {cols} WHERE id = ? AND status IN ('queued', 'running')",
            *fields.values(),
            order_id,
        )
        return bool(changed)

    async def active_order(self, user_id: int) -> Row | None:
        return await self.one(
            "SELECT * FROM orders WHERE user_id = ? AND status IN ('queued', 'running') "
            "ORDER BY id DESC LIMIT 1",
            user_id,
        )

    async def last_order(self, user_id: int) -> Row | None:
        return await self.one(
            "SELECT * FROM orders WHERE user_id = ? ORDER BY id DESC LIMIT 1", user_id
        )

    async def orders_since(self, user_id: int, since_iso: str) -> int:
        row = await self.one(
            "SELECT COUNT(*) FROM orders WHERE user_id = ? AND created_at >= ? "
            "AND status NOT IN ('cancelled', 'failed')",
            user_id,
            since_iso,
        )
        return int(row[0]) if row else 0

    async def orders_to_follow(self) -> list[Row]:
        """Orders still queued/running, or finished but not yet told to their owner."""
        return await self.all(
            "SELECT * FROM orders WHERE (status IN ('queued', 'running') "
            "OR (status IN ('done', 'failed') AND delivered_at IS NULL)) "
            "AND user_id NOT IN (SELECT id FROM users WHERE banned_at IS NOT NULL) ORDER BY id"
        )  # nothing is delivered to a banned owner (a ban cancels their queued work)

    # --- variations --------------------------------------------------------------------
    async def add_variation(
        self,
        order_id: int,
        user_id: int,
        idx: int,
        seed: int,
        path: str,
        sha256: str,
        likeness: float | None,
        face_found: bool,
        passed: bool,
        attempts: int,
        verdict: str | None = None,
        threshold: float | None = None,
        regenerated: str = "",
        detail: str | None = None,
        detail_gain: float | None = None,
    ) -> int:
        return await self.run(
            "INSERT INTO variations (order_id, user_id, idx, seed, path, sha256, likeness, "
            "face_found, passed, attempts, verdict, threshold, regenerated, detail, detail_gain) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (order_id, idx) DO UPDATE SET path = excluded.path",
            order_id,
            user_id,
            idx,
            seed,
            path,
            sha256,
            likeness,
            int(face_found),
            int(passed),
            attempts,
            verdict,
            threshold,
            regenerated,
            detail,
            detail_gain,
        )

    async def variations(self, order_id: int) -> list[Row]:
        return await self.all("SELECT * FROM variations WHERE order_id = ? ORDER BY idx", order_id)

    async def variation(self, variation_id: int) -> Row | None:
        return await self.one("SELECT * FROM variations WHERE id = ?", variation_id)

    # --- follow-up jobs (upscale, label) ----------------------------------------------------
    async def variation_job(self, variation_id: int, kind: str) -> Row | None:
        return await self.one(
            "SELECT * FROM variation_jobs WHERE variation_id = ? AND kind = ?", variation_id, kind
        )

    async def variation_job_by_id(self, vj_id: int) -> Row | None:
        return await self.one("SELECT * FROM variation_jobs WHERE id = ?", vj_id)

    async def create_variation_job(self, variation_id: int, user_id: int, kind: str) -> int:
        return await self.run(
            "INSERT INTO variation_jobs (variation_id, user_id, kind) VALUES (?, ?, ?)",
            variation_id,
            user_id,
            kind,
        )

    async def set_variation_job(self, vj_id: int, **fields: Any) -> None:
        allowed = {"status", "job_id", "path", "method", "error", "delivered_at", "enqueues"}
        if not fields or set(fields) - allowed:
            raise ValueError(f"cannot set {sorted(set(fields) - allowed)} on a variation job")
        cols = ", ".join(f"{k} = ?" for k in fields)
        await self.run(f"UPDATE variation_jobs SET {cols} WHERE id = ?", *fields.values(), vj_id)

    async def variation_jobs_to_follow(self) -> list[Row]:
        return await self.all(
            "SELECT vj.*, v.idx AS idx, v.order_id AS order_id, v.path AS source_path, "
            "o.platform AS platform, o.chat_id AS chat_id FROM variation_jobs vj "
            "JOIN variations v ON v.id = vj.variation_id JOIN orders o ON o.id = v.order_id "
            "WHERE (vj.status = 'queued' OR (vj.status IN ('done', 'failed') "
            "AND vj.delivered_at IS NULL)) "
            "AND vj.user_id NOT IN (SELECT id FROM users WHERE banned_at IS NOT NULL) "
            "ORDER BY vj.id"
        )

    # --- platform messages (what adapters need to edit later) ----------------------------------
    async def remember_message(
        self, platform: str, key: str, chat_id: str, message_id: str
    ) -> None:
        await self.run(
            "INSERT INTO platform_messages (platform, key, chat_id, message_id) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (platform, key) DO UPDATE SET "
            "chat_id = excluded.chat_id, message_id = excluded.message_id",
            platform,
            key,
            chat_id,
            message_id,
        )

    async def message(self, platform: str, key: str) -> Row | None:
        return await self.one(
            "SELECT * FROM platform_messages WHERE platform = ? AND key = ?", platform, key
        )

    # --- data rights ---------------------------------------------------------------------
    async def forget(self, user_id: int) -> ForgetCounts:
        """Delete a user's rows and files (their user row last); return what went."""
        photos = await self.one("SELECT COUNT(*) FROM reference_photos WHERE user_id = ?", user_id)
        orders = await self.one("SELECT COUNT(*) FROM orders WHERE user_id = ?", user_id)
        results = await self.one("SELECT COUNT(*) FROM variations WHERE user_id = ?", user_id)
        user = await self.user_by_id(user_id)
        async with self.tx():
            # Keep moderation's trail: reports point at nothing once the rows go.
            await self.run("DELETE FROM variation_jobs WHERE user_id = ?", user_id)
            await self.run("DELETE FROM variations WHERE user_id = ?", user_id)
            await self.run("DELETE FROM orders WHERE user_id = ?", user_id)
            await self.run("DELETE FROM reference_photos WHERE user_id = ?", user_id)
            await self.run("DELETE FROM reference_sets WHERE user_id = ?", user_id)
            await self.run("DELETE FROM wizard_sessions WHERE user_id = ?", user_id)
            await self.run("DELETE FROM consents WHERE user_id = ?", user_id)
            if user is not None and user["banned_at"]:
                pass  # a banned user's row stays so the ban holds; their data is gone
            else:
                await self.run("DELETE FROM users WHERE id = ?", user_id)
        files = self.media.delete_user(user_id)
        return ForgetCounts(
            photos=int(photos[0]) if photos else 0,
            orders=int(orders[0]) if orders else 0,
            results=int(results[0]) if results else 0,
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
            "WHERE v.created_at < ? AND o.status NOT IN ('queued', 'running')",
            res_cut,
        )
        old_jobs = await self.all(
            "SELECT vj.path FROM variation_jobs vj JOIN variations v ON v.id = vj.variation_id "
            "WHERE v.created_at < ?",
            res_cut,
        )
        async with self.tx():
            await self.run("DELETE FROM reference_photos WHERE created_at < ?", ref_cut)
            for r in old_vars:
                await self.run("DELETE FROM variations WHERE id = ?", r["id"])
        files = await self.drop_files(
            [p for r in old_photos for p in (r["path"], r["crop_path"])]
            + [r["path"] for r in old_vars]
            + [r["path"] for r in old_jobs]
        )
        return {"photos": len(old_photos), "results": len(old_vars), "files": files}

    async def drop_files(self, paths: Iterable[str | None]) -> int:
        """Delete files no row refers to any more (content-addressed files can be shared)."""
        n = 0
        for rel in {p for p in paths if p}:
            still = await self.one(
                "SELECT 1 FROM reference_photos WHERE path = ? OR crop_path = ? "
                "UNION SELECT 1 FROM variations WHERE path = ? "
                "UNION SELECT 1 FROM variation_jobs WHERE path = ? LIMIT 1",
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

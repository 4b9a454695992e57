"""The one connection every Store part shares, and its write lock.

Rows come back as ``aiosqlite.Row`` (index by column name). Times are ISO-8601
UTC text, embeddings JSON lists. Every write commits at once (autocommit mode)
and goes through :meth:`Db.run`, which waits for another task's transaction;
several writes that must stand or fall together run in :meth:`Db.tx`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import aiosqlite

from bot.store.media import MediaStore

Row = aiosqlite.Row


def now_iso(delta: timedelta | None = None) -> str:
    t = datetime.now(UTC) + (delta or timedelta())
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def marks(values: Any) -> str:
    """``?,?,?`` for an ``IN (...)`` of these values."""
    return ",".join("?" * len(values))


class Db:
    def __init__(self, db: aiosqlite.Connection, media: MediaStore):
        self.db = db
        self.media = media
        # One connection serves every task. A transaction belongs to the task that
        # began it; other tasks' writes wait for it (in autocommit mode they would
        # otherwise join it, and be rolled back or committed with it).
        self._tx_lock = asyncio.Lock()
        self._tx_task: asyncio.Task[Any] | None = None

    async def drop_files(self, paths: Iterable[str | None]) -> int:
        """Delete files no row refers to any more: the Store's (bot/store/store.py), which
        sees every table; a part that deletes rows calls it for their files."""
        raise NotImplementedError

    async def forget_adapter_chats(self, platform: str, user_id: str) -> tuple[set[str], int]:
        """/forget's hook for an adapter's own tables: (the person's chat ids found there,
        rows deleted). A store part holding such tables adds its own and asks ``super()``,
        so every part is asked whatever the order of the Store's mixins."""
        return set(), 0

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
            if sql.lstrip().upper().startswith("INSERT"):
                assert cur.lastrowid is not None  # sqlite3 sets it after every INSERT
                return cur.lastrowid
            return cur.rowcount

    async def checkpoint(self) -> bool:
        """Write the WAL back into the database and empty it (with secure_delete on,
        deleted rows are then gone from both files), between other tasks' transactions."""
        if self._tx_task is not None and self._tx_task is asyncio.current_task():
            return False  # inside this task's own transaction: nothing is final yet
        for _ in range(40):  # a statement another task has open keeps it from finishing
            async with self._tx_lock, self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cur:
                row = await cur.fetchone()
            if row is None or int(row[0]) == 0:
                return True
            await asyncio.sleep(0.05)
        return False

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

"""Remembered platform messages (what an ``edit_key`` names), one API for every
adapter, and the small key/value ``meta`` table adapters keep state in."""

from __future__ import annotations

from typing import Any, Protocol

from bot.store.base import Db, Row


class MessageIds(Protocol):
    """Where adapters keep message ids for ``edit_key`` (the Store has these methods)."""

    async def remember_message(
        self, platform: str, key: str, chat_id: str, message_id: str
    ) -> None: ...

    async def message(self, platform: str, key: str) -> Any: ...


class Messages(Db):
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

    # --- meta: one value per key (the database's instance id, adapters' digests) ---------
    async def meta_value(self, key: str) -> str | None:
        row = await self.one("SELECT value FROM meta WHERE key = ?", key)
        return None if row is None else str(row[0])

    async def set_meta(self, key: str, value: str) -> None:
        await self.run(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            key,
            value,
        )

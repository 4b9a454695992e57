"""Which Discord message an ``edit_key`` refers to, kept in SQLite so an edit
(the progress message) finds its message again after a restart."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

PLATFORM = "discord"


@dataclass(frozen=True)
class Sent:
    chat_id: str
    message_id: str


class MessageKeys:
    def __init__(self, db: aiosqlite.Connection):
        self.db = db

    async def get(self, key: str) -> Sent | None:
        async with self.db.execute(
            "SELECT chat_id, message_id FROM platform_messages WHERE platform = ? AND key = ?",
            (PLATFORM, key),
        ) as cur:
            row = await cur.fetchone()
        return Sent(str(row[0]), str(row[1])) if row else None

    async def put(self, key: str, chat_id: int | str, message_id: int | str) -> None:
        await self.db.execute(
            "INSERT INTO platform_messages (platform, key, chat_id, message_id) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (platform, key) DO UPDATE SET chat_id = excluded.chat_id,"
            " message_id = excluded.message_id",
            (PLATFORM, key, str(chat_id), str(message_id)),
        )

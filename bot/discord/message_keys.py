"""Which Discord message an ``edit_key`` refers to: the Store's remembered platform
messages (the same API Telegram uses), so an edit (the progress message) finds its
message again after a restart."""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.messages import MessageIds

PLATFORM = "discord"


@dataclass(frozen=True)
class Sent:
    chat_id: str
    message_id: str


class MessageKeys:
    def __init__(self, ids: MessageIds):
        self.ids = ids

    async def get(self, key: str) -> Sent | None:
        row = await self.ids.message(PLATFORM, key)
        return Sent(str(row["chat_id"]), str(row["message_id"])) if row else None

    async def put(self, key: str, chat_id: int | str, message_id: int | str) -> None:
        await self.ids.remember_message(PLATFORM, key, str(chat_id), str(message_id))

"""What every part of moderation shares: the store, the engine, where to send."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.store.moderation_store import ModerationStore
from bot.store.store import Store
from bot.studio.core.events import Outbox, Recipient, Reply
from bot.studio.moderation.targets import Places
from bot.studio.moderation.texts import say
from sitter.config import Settings
from sitter.engine_client import Engine

log = logging.getLogger(__name__)


class Desk:
    def __init__(
        self,
        store: Store,
        engine: Engine | None,
        settings: Settings,
        outboxes: Mapping[str, Outbox],
    ):
        self.store = store
        self.db = ModerationStore(store)
        self.engine = engine
        self.settings = settings
        self.outboxes = outboxes  # the studio's own dict: adapters added later are seen
        self.places = Places()
        self.banned: set[tuple[str, str]] = set()  # (platform, user id): the gate's set

    async def send(self, to: Recipient, reply: Reply) -> bool:
        outbox = self.outboxes.get(to.platform)
        if outbox is None or not to.chat_id:
            return False
        try:
            await outbox.send(to, reply)
        except Exception as exc:
            log.warning("moderation: sending to %s:%s failed: %s", to.platform, to.chat_id, exc)
            return False
        return True

    async def tell(self, platform: str | None, chat_id: str | None, text: str) -> bool:
        if not platform or not chat_id:
            return False
        return await self.send(Recipient(platform, chat_id), say(text))

    async def tell_privately(
        self, platform: str | None, pid: str | None, chat: str | None, text: str
    ) -> bool:
        return await self.tell(platform, self.places.private_chat(platform, pid, chat), text)

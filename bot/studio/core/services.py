"""What the studio's parts share: the store, the engine, prompts, settings, outboxes.

One mutable object, made by :class:`~bot.studio.core.core.Studio` and handed to each part
(the conversation's steps, orders, follow-ups, tracking), so a part never needs the
whole studio and a setting changed at run time (tests do) is seen by all of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.store.store import Store
from bot.studio.core.events import Outbox
from bot.studio.core.plugin import StudioPlugin
from sitter.config import Settings
from sitter.outage import Outages
from sitter.packs import Pack
from sitter.prompts import PromptLibrary
from sitter.queue import Engine

ANALYZE_TIMEOUT_S = 90.0


def _day() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


class UploadGuard:
    """Per-person daily count of refused files (in memory; photos/uploads.py counts them)."""

    def __init__(self, max_refused_per_day: int):
        self.max_refused = max_refused_per_day
        self._refused: dict[tuple[int, str], int] = {}

    def refused_today(self, user_id: int) -> int:
        return self._refused.get((user_id, _day()), 0)

    def note_refused(self, user_id: int) -> None:
        key = (user_id, _day())
        self._refused = {k: v for k, v in self._refused.items() if k[1] == key[1]}
        self._refused[key] = self._refused.get(key, 0) + 1

    def blocked(self, user_id: int) -> bool:
        return bool(self.max_refused) and self.refused_today(user_id) >= self.max_refused


@dataclass
class Services:
    store: Store
    engine: Engine
    prompts: PromptLibrary
    settings: Settings
    tick_s: float = 0.5
    analyze_timeout_s: float = ANALYZE_TIMEOUT_S
    outboxes: dict[str, Outbox] = field(default_factory=dict)
    outages: Outages = field(default_factory=Outages)  # Redis down / disk full: one warning
    plugin: StudioPlugin | None = None  # moderation (see bot/studio/core/plugin.py)
    # (platform, chat id) -> (refusals, other failures, next try): see delivery.Delivery
    send_failures: dict[tuple[str, str], tuple[int, int, float]] = field(default_factory=dict)
    locks: dict[int, asyncio.Lock] = field(default_factory=dict)  # one event per person at once
    uploads: UploadGuard = field(default_factory=lambda: UploadGuard(0))
    packs: dict[str, Pack] = field(default_factory=dict)  # prompts/packs, checked at start
    # platform -> how an invitation's token is passed on there (an adapter sets it: a
    # Telegram deep link); a platform without one shows the bare code (bot/studio/together/)
    invite_links: dict[str, Callable[[str], str]] = field(default_factory=dict)
    _instance: str | None = None

    def __post_init__(self) -> None:
        self.uploads.max_refused = self.settings.max_refused_per_day

    async def job_prefix(self) -> str:
        """Job ids start with the queue prefix and this database's own id."""
        if self._instance is None:
            self._instance = await self.store.instance_id()
        return f"{self.engine.prefix}-{self._instance}"

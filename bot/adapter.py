"""What a chat adapter is handed, and what it offers: one signature for all of them.

``bot/app.py`` opens the services once (``async with services(...)``) and runs each
adapter as ``await adapter.run(services)``: Telegram and Discord until cancelled, the
terminal until the person leaves. An adapter keeps no module globals; whatever it
opens it closes before ``run`` returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sitter.config import Settings

if TYPE_CHECKING:
    from bot.studio.core.core import Studio


@dataclass(frozen=True)
class Services:
    """What is open while the adapters run."""

    settings: Settings  # as started: redis_url is the Redis found or started
    studio: Studio  # the core; its store (database, media folder) and engine client


class Adapter(Protocol):
    name: str  # "Telegram bot", "Discord bot", "terminal chat": its start line and task

    async def run(self, services: Services) -> None:
        """Serve until cancelled (a bot) or until the person leaves (the terminal)."""
        ...

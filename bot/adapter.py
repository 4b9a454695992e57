"""What a chat adapter is handed, and what it offers: one signature for all of them.

``bot/app.py`` opens the services once (``async with services(...)``) and runs each
adapter as ``await adapter.run(services)``: Telegram and Discord until cancelled, the
terminal until the person leaves. An adapter keeps no module globals; whatever it
opens it closes before ``run`` returns.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from sitter.config import PlatformSettings, Settings

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


@dataclass(frozen=True)
class Check:
    """One line of ``sitter doctor`` about a platform's settings: a problem to fix
    (``fails``) or a note."""

    fails: bool
    area: str
    text: str


S = TypeVar("S", bound=PlatformSettings)


@dataclass(frozen=True)
class Platform(Generic[S]):
    """What a chat platform's adapter registers (its ``platform.py``, which imports no chat
    library): how the start-up finds and builds it, and what ``sitter doctor`` checks.
    bot/platforms.py lists them; nothing outside an adapter names a platform."""

    name: str  # "Telegram": in messages
    settings: type[S]  # its own settings (SITTER_<PLATFORM>_...)
    token_help: str  # where to get a token and which setting takes it
    build: Callable[[bool], Adapter]  # the adapter (its library is imported then); sync commands
    rejected: tuple[str, str]  # (the library's exception for a refused token, plain words)
    checks: Callable[[S], list[Check]]  # doctor, given its settings, when its token is set
    # Its tokens' shape, hidden in every log line even when never configured (sitter/redact.py)
    token_shape: re.Pattern[str]

    def load(self) -> S:
        """Its settings as configured now (environment, then .env)."""
        return self.settings.load()

    def check(self) -> list[Check]:
        """Its doctor checks on its settings as configured now."""
        return self.checks(self.load())

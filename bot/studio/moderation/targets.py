"""Where reports go: each adapter says, when it attaches, which of its chats
moderate, how else its people can report, and how to reach someone privately.
Moderation itself names no platform."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from bot.studio.core.events import Recipient

log = logging.getLogger(__name__)

Chats = Sequence[str] | Callable[[], Awaitable[Sequence[str]]]


@dataclass(frozen=True)
class Place:
    """One platform's moderation, as its adapter describes it."""

    #: The moderators' chats, or a coroutine function reading them (asked per report).
    chats: Chats = ()
    #: Said after "press the Report button under it", e.g. " (or reply with /report)."
    report_hint: str = ""
    #: A person's user id is also their private chat (so a report form reaches them).
    user_is_chat: bool = False


@dataclass(frozen=True)
class Targets:
    """The moderators' chats of every platform, read once for one report."""

    by_platform: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def chats(self, platform: str | None) -> tuple[str, ...]:
        return next((chats for p, chats in self.by_platform if p == platform), ())

    def recipients(self, platform: str | None) -> list[Recipient]:
        """The platform's own moderators, else everyone configured (never nobody)."""
        own = [Recipient(platform, t) for t in self.chats(platform) if platform]
        if own:
            return own
        return [Recipient(p, t) for p, chats in self.by_platform for t in chats]


@dataclass
class Places:
    """What the adapters registered, by platform, in the order they attached."""

    places: dict[str, Place] = field(default_factory=dict)

    def add(self, platform: str, place: Place) -> None:
        self.places[platform] = place

    def get(self, platform: str | None) -> Place:
        return self.places.get(platform or "", Place())

    async def targets(self) -> Targets:
        found = []
        for platform, place in self.places.items():
            chats: Sequence[str] = ()
            try:
                chats = place.chats if not callable(place.chats) else await place.chats()
            except Exception as exc:  # an adapter's table may be absent: no chats there
                log.warning("moderation: %s's moderators' chats unreadable: %s", platform, exc)
            found.append((platform, tuple(str(c) for c in chats)))
        return Targets(tuple(found))

    def private_chat(self, platform: str | None, pid: str | None, chat: str | None) -> str | None:
        """Where to reach a person privately: their user id where that is their private
        chat; elsewhere the chat the studio last saw them in."""
        if self.get(platform).user_is_chat and pid:
            return pid
        return chat

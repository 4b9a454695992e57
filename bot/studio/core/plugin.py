"""The typed interface a studio plugin (moderation today) offers the core.

In the spirit of aiogram's routers: the core asks a plugin, in this order, to
``gate`` every event (a ban answers before any database write), to take the
``commands`` it names and the presses it ``owns``, and to ``take_input`` (text or
files the plugin asked for, such as a report's details or a /protect selfie)
before the conversation sees it. ``tick`` runs on every pass of the background
loop. The core never probes a plugin with ``getattr``.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from bot.studio.core.buttons import Pressed
from bot.studio.core.events import Command, Event, Files, Press, Reply, Text


@runtime_checkable
class StudioPlugin(Protocol):
    #: Command names (no slash, lower case) the plugin answers, in any chat.
    commands: frozenset[str]

    def owns(self, pressed: Pressed | None) -> bool:
        """True when a press (parsed once by the core's grammar) belongs to this plugin."""
        ...

    async def gate(self, event: Event) -> list[Reply] | None:
        """Replies that end the event here (a banned person), else None."""
        ...

    async def handle_command(self, event: Command, user: Any) -> list[Reply]: ...

    async def handle_press(self, event: Press, pressed: Pressed, user: Any) -> list[Reply]:
        """A press it :meth:`owns`, handed over as the core's grammar read it (once)."""
        ...

    async def take_input(self, event: Text | Files, user: Any) -> list[Reply] | None:
        """Replies when the plugin was waiting for this text or these files, else None."""
        ...

    async def tick(self) -> int:
        """One background pass; returns how many things it did (for logs and tests)."""
        ...

"""The press registry: which feature answers which typed press (aiogram's routers).

Each feature's part registers its handlers (``routes.on_press(OrderPress, ...)``) when
the studio is put together; the core parses a press once (:mod:`bot.studio.core.buttons`)
and hands the typed press to the one handler registered for its type.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

from bot.studio.core.buttons import Pressed
from bot.studio.core.conversation import Turn
from bot.studio.core.events import Reply

P = TypeVar("P", bound=Pressed)
Handler = Callable[[Turn, P], Awaitable[list[Reply]]]


class Routes:
    def __init__(self) -> None:
        self._presses: dict[type[Pressed], Handler[Pressed]] = {}

    def on_press(self, press: type[P], handler: Handler[P]) -> None:
        if press in self._presses:
            raise ValueError(f"{press.__name__} already has a handler")
        self._presses[press] = cast(Handler[Pressed], handler)

    def press(self, pressed: Pressed) -> Handler[Pressed] | None:
        return self._presses.get(type(pressed))

"""The registry features plug into (aiogram's routers): presses, commands, steps.

When the studio is put together, each feature's part registers its typed presses
(``routes.on_press(OrderPress, ...)``), its commands (``routes.on_command("status",
...)``) and its side questions (``routes.side_step(step, label)``). The core parses a
press once (:mod:`bot.studio.core.buttons`) and hands the typed press to the one handler
registered for its type. A handler answers with replies, or with an :class:`Outcome` (a
step to move to) that the table's router carries out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from bot.studio.core.buttons import Pressed
from bot.studio.core.conversation import Arrow, Outcome, State, Step, Turn
from bot.studio.core.events import Button, Reply

P = TypeVar("P", bound=Pressed)
Handler = Callable[[Turn, P], Awaitable[list[Reply] | Outcome]]
CommandHandler = Callable[[Turn], Awaitable[list[Reply] | Outcome]]
#: ``/start <payload>`` (a deep link's payload) answered by the feature that made it.
StartHandler = Callable[[Turn, str, bool], Awaitable[list[Reply] | Outcome | None]]


@dataclass(frozen=True)
class WizardStep:
    """A question a feature adds to the wizard (built with the wizard's kit), asked right
    after ``after`` when the session's data holds ``when`` (a joint order's placement)."""

    state: str
    build: Callable[[Any], Step]  # the wizard's Kit -> the step
    after: str
    when: str
    summary: Callable[[dict[str, Any]], str | None] = lambda _data: None  # its summary line


#: What followed the command's name (``/personal off``: "off"), set while it is answered.
COMMAND_ARGS: ContextVar[str] = ContextVar("command_args", default="")


def command_args() -> str:
    """The words after the command being answered (a handler that takes arguments)."""
    return COMMAND_ARGS.get()


COMMAND_VOUCHED: ContextVar[bool] = ContextVar("command_vouched", default=False)


def command_vouched() -> bool:
    """The command's arguments came from the adapter, not typed (``Command.vouched``)."""
    return COMMAND_VOUCHED.get()


class Routes:
    def __init__(self, reserved: frozenset[str] = frozenset()) -> None:
        #: Names answered before the features' commands (the conversation's own, the
        #: plugin's): a feature registering one would never be reached.
        self.reserved = reserved
        self._presses: dict[type[Pressed], Handler[Pressed]] = {}
        self.commands: dict[str, CommandHandler] = {}
        self.always: set[str] = set()  # commands answered before consent and when banned
        self.steps: list[Step] = []
        self.arrows: list[tuple[str, Arrow]] = []  # the ways into the side steps
        self.start_payload: StartHandler | None = None
        self.wizard_steps: list[WizardStep] = []
        self.buttons: list[Button] = []  # under the style question (after Done)

    def on_start_payload(self, handler: StartHandler) -> None:
        """``/start <payload>``: one feature reads deep-link payloads (an invitation);
        None from it: not its payload, /start as usual."""
        if self.start_payload is not None:
            raise ValueError("/start payloads already have a handler")
        self.start_payload = handler

    def wizard_step(self, step: WizardStep) -> None:
        self.wizard_steps.append(step)

    def style_button(self, button: Button) -> None:
        """A feature's button under the style question (the first one after Done)."""
        self.buttons.append(button)

    def on_press(self, press: type[P], handler: Handler[P]) -> None:
        if press in self._presses:
            raise ValueError(f"{press.__name__} already has a handler")
        self._presses[press] = cast(Handler[Pressed], handler)

    def press(self, pressed: Pressed) -> Handler[Pressed] | None:
        return self._presses.get(type(pressed))

    def on_command(self, name: str, handler: CommandHandler, *, always: bool = False) -> None:
        """``/name`` (lower case, no slash) answered by ``handler`` in any state."""
        if name in self.commands:
            raise ValueError(f"/{name} already has a handler")
        if name in self.reserved:
            raise ValueError(f"/{name} is answered before any feature's command")
        self.commands[name] = handler
        if always:
            self.always.add(name)

    def side_step(self, step: Step, into: str) -> None:
        """A side question asked from IDLE (``into``: the arrow's label in flow.mmd)."""
        if not step.side:
            raise ValueError(f"{step.state} is not a side step")
        self.steps.append(step)
        self.arrows.append((State.IDLE, Arrow(step.state, into)))

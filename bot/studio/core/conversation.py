"""The conversation as a table: each state's step, and one router that moves between them.

In the spirit of python-telegram-bot's ``ConversationHandler`` (``states={...}``,
``fallbacks=[...]``, handlers that return the next state), but durable: the session
(state, revision, data) lives in SQLite, and every wizard button carries the
revision, so a press from an older message is caught.

A :class:`Step` says what its state shows, which presses it takes (by action), and
what it does with typed text and with files. A handler receives a :class:`Turn` and
returns an :class:`Outcome`: the replies, and the next state (or none). The router
(:class:`Conversation`) saves the session and shows the next step. Each step also
declares its :class:`Arrow` s, the ways out of it, from which ``flow.mmd`` is made.

A side question (a feature's, such as a relight's light typed in the person's own
words) is a step too, entered from IDLE like PTB's nested conversations: ``side``
steps end at any command, and a step with ``timeout_s`` lapses back to IDLE when it
was asked longer ago than that (``conversation_timeout``): later words are not its
answer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.store.store import Row
from bot.studio.core import buttons as b
from bot.studio.core import words_chat as w
from bot.studio.core.events import Button, IncomingFile, Reply
from bot.studio.core.services import Services

# Typed words that mean a button whatever its label says ("◀ Styles" is the pack step's Back).
NAV_WORDS = frozenset({"back", "cancel", "skip"})


def label_key(text: str) -> str:
    """A label or a typed line as compared: case, marks (◀ ✕ ✓) and spacing ignored."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


class State(StrEnum):
    """The fixed states; the wizard's slot steps (from prompts/wizard.toml) sit between
    STYLE and CONFIRM under their slot's name."""

    CONSENT = "consent"
    REFERENCES = "references"
    STYLE = "style"
    CONFIRM = "confirm"
    IDLE = "idle"


def say(text: str, *rows: tuple[Button, ...], edit_key: str | None = None) -> Reply:
    return Reply(text=text, buttons=tuple(r for r in rows if r), edit_key=edit_key)


@dataclass(frozen=True)
class Turn:
    """One event's view of the session: who, where they are, and the studio's parts."""

    user: Row
    state: str
    rev: int
    data: dict[str, Any]
    services: Services


@dataclass
class Outcome:
    """What a handler decided. ``to`` None: stay (no save); then ``show`` shows the
    current step again. Otherwise the session is saved in ``to`` (with ``data``, or the
    turn's) and, if ``show``, the new step is shown. ``then`` builds replies that need
    the saved revision (a Done button, an order queued after the session moved on)."""

    replies: list[Reply] = field(default_factory=list)
    to: str | None = None
    data: dict[str, Any] | None = None
    show: bool = True
    then: Callable[[int], Awaitable[list[Reply]]] | None = None


def answer(*replies: Reply) -> Outcome:
    """Just these replies; the session stays as it is."""
    return Outcome(list(replies), show=False)


def again(*replies: Reply) -> Outcome:
    """These replies, then the current step once more (same revision)."""
    return Outcome(list(replies))


def go(to: str, data: dict[str, Any] | None = None, *before: Reply) -> Outcome:
    return Outcome(list(before), to=to, data=data)


Show = Callable[[Turn], Awaitable[list[Reply]]]
PressHandler = Callable[[Turn, str], Awaitable[Outcome]]
TextHandler = Callable[[Turn, str], Awaitable[Outcome]]
FilesHandler = Callable[[Turn, tuple[IncomingFile, ...]], Awaitable[Outcome]]


@dataclass(frozen=True)
class Arrow:
    """A way out of a step, for the diagram and the reachability test."""

    to: str
    label: str


@dataclass(frozen=True)
class Step:
    state: str
    show: Show
    presses: Mapping[str, PressHandler]  # button action -> handler (arg as text)
    text: TextHandler
    files: FilesHandler
    arrows: tuple[Arrow, ...] = ()
    number: int | None = None  # "Step N of M" for the wizard's questions
    wizard: bool = False  # a portrait being chosen: /cancel leaves it
    side: bool = False  # a side question from IDLE: any command ends it
    timeout_s: float | None = None  # asked longer ago than this: back to IDLE
    # An IDLE session saved before this side step existed, in the data its question was
    # kept in then: that data as this step's (with ASKED_AT), else None. (read at turn())
    legacy: Callable[[Mapping[str, Any]], dict[str, Any] | None] | None = None


ASKED_AT = "asked_at"  # session data: when a step with a timeout was entered


class Conversation:
    """The table and its router."""

    def __init__(
        self,
        services: Services,
        steps: Sequence[Step],
        fallback_presses: Mapping[str, PressHandler] | None = None,
        fallback_arrows: Sequence[tuple[str, Arrow]] = (),
    ):
        self.services = services
        self.order = tuple(s.state for s in steps)
        self.steps = {s.state: s for s in steps}
        self.fallback_presses = dict(fallback_presses or {})
        self.fallback_arrows = tuple(fallback_arrows)  # (from, arrow); from "*" = any step
        self.total = sum(1 for s in steps if s.number is not None)

    # --- sessions -----------------------------------------------------------------------
    async def turn(self, user: Row) -> Turn:
        s = await self.services.store.session(user["id"])
        if s is None:
            return Turn(user, State.CONSENT, 0, {}, self.services)
        state = s.state if s.state in self.steps else State.IDLE  # a step left wizard.toml
        data = s.data
        if state == State.IDLE and data:  # a side question saved in an older form
            state, data = self._adopt(data)
        timeout = self.steps[state].timeout_s
        if timeout is not None and time.time() - float(data.get(ASKED_AT) or 0) > timeout:
            saved = await self.services.store.save_session(user["id"], State.IDLE, {}, s.rev)
            return Turn(user, State.IDLE, saved.rev if saved else s.rev, {}, self.services)
        return Turn(user, state, s.rev, data, self.services)

    def _adopt(self, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """IDLE data a side step reads as its own (``Step.legacy``): that step and data."""
        for step in self.steps.values():
            if step.legacy is not None and (adopted := step.legacy(data)) is not None:
                return step.state, adopted
        return State.IDLE, data

    async def end_side(self, turn: Turn) -> Turn:
        """A command ends a side question: the session is back in IDLE (else unchanged)."""
        if not self.steps[turn.state].side:
            return turn
        await self.services.store.save_session(turn.user["id"], State.IDLE, {})
        return await self.turn(turn.user)

    async def show(self, turn: Turn) -> list[Reply]:
        return await self.steps[turn.state].show(turn)

    async def go(self, turn: Turn, to: str, data: dict[str, Any] | None = None) -> list[Reply]:
        """Move to ``to`` (bumping the revision) and show it."""
        return await self.finish(turn, go(to, data))

    async def finish(self, turn: Turn, out: Outcome) -> list[Reply]:
        """The router: save the session where the handler said, then show that step."""
        replies = list(out.replies)
        if out.to is None:
            return replies + (await self.show(turn) if out.show else [])
        data = turn.data if out.data is None else out.data
        to = self.steps.get(out.to)
        if to is not None and to.timeout_s is not None:
            data = {**data, ASKED_AT: time.time()}
        s = await self.services.store.save_session(turn.user["id"], out.to, data, turn.rev)
        if s is None:  # moved on meanwhile (a /cancel during a burst) or forgotten: keep that
            return replies
        now = Turn(turn.user, s.state, s.rev, s.data, self.services)
        if out.then is not None:
            replies += await out.then(s.rev)
        if out.show:
            replies += await self.show(now)
        return replies

    # --- events -------------------------------------------------------------------------
    async def press(self, turn: Turn, action: str, arg: str) -> list[Reply]:
        step = self.steps[turn.state]
        handler = step.presses.get(action) or self.fallback_presses.get(action)
        if handler is None:
            return [say(w.WRONG_STEP_BUTTON), *await self.show(turn)]
        return await self.finish(turn, await handler(turn, arg))

    async def text(self, turn: Turn, text: str) -> list[Reply]:
        step = self.steps[turn.state]
        named = await self.named_button(turn, step, text)
        if named is not None:  # "skip", "back", "Library", "I agree": the button, pressed
            return await self.press(turn, *named)
        if step.wizard and label_key(text) in NAV_WORDS:  # "skip" where no Skip button is
            return [say(w.NO_SUCH_BUTTON.format(word=text.strip())), *await self.show(turn)]
        return await self.finish(turn, await step.text(turn, text))

    async def named_button(self, turn: Turn, step: Step, text: str) -> tuple[str, str] | None:
        """(action, arg) of the step's button whose label was typed, or of a nav word.

        Typed "skip" became "Described as: skip", "back" the attire and "Library" the bare
        word instead of its wording: a line that names a button on screen presses it.
        The photo step reads its own words (``remove 3``, ``done``)."""
        key = label_key(text)
        if not key or turn.state == State.REFERENCES or len(key) > 40:
            return None
        for reply in await step.show(turn):
            for row in reply.buttons:
                for btn in row:
                    pressed = b.parse(btn.data)
                    if label_key(btn.label) == key and isinstance(pressed, b.WizardPress):
                        return pressed.action, pressed.arg
        if key in NAV_WORDS and key in step.presses:
            return key, ""
        return None

    async def files(self, turn: Turn, files: tuple[IncomingFile, ...]) -> list[Reply]:
        return await self.finish(turn, await self.steps[turn.state].files(turn, files))

    # --- the table as data ----------------------------------------------------------------
    def arrows(self) -> list[tuple[str, Arrow]]:
        """Every arrow, (from, arrow), fallbacks expanded to the steps they leave."""
        out = [(s.state, a) for s in self.steps.values() for a in s.arrows]
        for origin, a in self.fallback_arrows:
            if origin == "*wizard":
                out += [(s.state, a) for s in self.steps.values() if s.wizard and s.state != a.to]
            else:
                out.append((origin, a))
        return out

    def reachable(self, start: str = State.CONSENT) -> set[str]:
        seen, todo = {start}, [start]
        edges = self.arrows()
        while todo:
            here = todo.pop()
            for origin, a in edges:
                if origin == here and a.to not in seen:
                    seen.add(a.to)
                    todo.append(a.to)
        return seen

    def mermaid(self) -> str:
        """The diagram of the table (bot/studio/wizard/flow.mmd is this text; a test checks)."""
        lines = [
            "%% Generated from the conversation table (bot/studio/wizard/wizard.py) by",
            "%%   python -m bot.studio.wizard > bot/studio/wizard/flow.mmd",
            "%% Every arrow saves the session and bumps its rev: buttons shown before are stale.",
            "stateDiagram-v2",
            f"    [*] --> {State.CONSENT}: /start",
        ]
        for origin, a in self.arrows():
            lines.append(f"    {origin} --> {a.to}: {a.label}")
        lines += [
            f"    note right of {State.IDLE}",
            "        run_background follows the order: queued (position, Cancel order),",
            "        running, results (retry, follow-ups) or a failure with retry",
            "    end note",
        ]
        return "\n".join(lines) + "\n"

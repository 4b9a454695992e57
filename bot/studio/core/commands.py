"""The conversation's own commands (/start, /new, /cancel, /help, /privacy), valid in
every state, and the dispatch to the commands the features registered (core/routes.py:
/photos and /done in photos/, /status in orders/, /portraits in history/, /forget in
rights/).

Every command a message suggests does what the message says: "/cancel" after
"cancel it with /cancel" cancels the order (asking which, when a portrait is being
chosen at the same time).
"""

from __future__ import annotations

from typing import Protocol

from bot.store.store import Row
from bot.studio.core import buttons as b
from bot.studio.core import words
from bot.studio.core import words_chat as w
from bot.studio.core.conversation import Conversation, Outcome, State, Turn, say
from bot.studio.core.events import Button, Command, Reply
from bot.studio.core.inputs import clean_text
from bot.studio.core.routes import COMMAND_ARGS, COMMAND_VOUCHED, CommandHandler, Routes
from bot.studio.core.services import Services

# Answered before consent and for a banned person too (with the features' ``always``).
ALWAYS = frozenset({"help", "privacy"})
# The conversation's own commands, answered before the features' (which cannot take them).
OWN = ALWAYS | {"start", "new", "cancel"}


class WizardPart(Protocol):
    """What /new, /cancel and /help ask of the wizard (bot/studio/wizard/wizard.py)."""

    total: int  # its questions, for /help

    async def new(self, turn: Turn, _arg: str = "") -> Outcome: ...

    async def cancel(self, turn: Turn, _arg: str) -> Outcome: ...


class OrdersPart(Protocol):
    """What /cancel asks of the orders (bot/studio/orders/orders.py)."""

    async def cancel(self, user: Row, order_id: int) -> Reply: ...

    def cancel_button(self, order_id: int, label: str) -> Button: ...


class Commands:
    """The features come in as the parts they are (``Studio`` hands them over); the core
    imports none of them."""

    def __init__(
        self,
        services: Services,
        conversation: Conversation,
        wizard: WizardPart,
        orders: OrdersPart,
        routes: Routes,
    ):
        self.s = services
        self.talk = conversation
        self.wizard = wizard
        self.orders = orders
        self.routes = routes
        self.table: dict[str, CommandHandler] = {"cancel": self.cancel, "new": self.new}

    async def handle(self, event: Command, turn: Turn, consented: bool) -> list[Reply]:
        name = event.name.lower().lstrip("/")
        COMMAND_ARGS.set(event.args)  # this event's task only (routes.command_args)
        COMMAND_VOUCHED.set(event.vouched)
        if name == "help":
            return [say(words.help_text(self.wizard.total))]
        if name == "privacy":
            return [say(words.privacy(self.s.settings))]
        if name in self.routes.always:  # /forget
            return await self._answer(turn, self.routes.commands[name])
        if name == "start" and event.args.strip() and self.routes.start_payload is not None:
            out = await self.routes.start_payload(turn, event.args.strip(), consented)
            if isinstance(out, Outcome):
                return await self.talk.finish(turn, out)
            if out is not None:
                return out
        if name == "start":
            if not consented:
                return await self.talk.go(turn, State.CONSENT, {})
            return [say(w.WELCOME_BACK), *await self.talk.show(turn)]
        if not consented:
            return [say(w.FIRST_THINGS_FIRST), *await self.talk.go(turn, State.CONSENT, {})]
        handler = self.table.get(name) or self.routes.commands.get(name)
        if handler is None:
            return [say(w.unknown_command(clean_text(name)[:40], self.s.plugin is not None))]
        return await self._answer(turn, handler)

    async def _answer(self, turn: Turn, handler: CommandHandler) -> list[Reply]:
        out = await handler(turn)  # replies, or a step to go to
        return await self.talk.finish(turn, out) if isinstance(out, Outcome) else out

    async def cancel(self, turn: Turn) -> list[Reply] | Outcome:
        active = await self.s.store.active_order(turn.user["id"])
        if self.talk.steps[turn.state].wizard:
            if active is not None:  # both could be "it": ask, each button does one
                stop = Button(w.CANCEL_WIZARD_BUTTON, b.wizard(turn.rev, "cancel"))
                label = w.CANCEL_ORDER_BUTTON.format(id=active["id"])
                order = self.orders.cancel_button(active["id"], label)
                return [say(w.cancel_which(active["id"]), (order, stop))]
            return await self.wizard.cancel(turn, "")
        if active is not None:
            return [await self.orders.cancel(turn.user, active["id"])]
        return [say(w.NOTHING_TO_CANCEL)]

    async def new(self, turn: Turn) -> Outcome:
        return await self.wizard.new(turn)

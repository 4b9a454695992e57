"""The commands a person types (/start, /new, /photos, /status, /cancel, /privacy,
/forget, /help, /done): the conversation's fallbacks, valid in every state.

Every command a message suggests does what the message says: "/cancel" after
"cancel it with /cancel" cancels the order (asking which, when a portrait is being
chosen at the same time).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.store.store import Row
from bot.studio.core import buttons as b
from bot.studio.core import words
from bot.studio.core import words_chat as w
from bot.studio.core.conversation import Conversation, State, Turn, say
from bot.studio.core.events import Button, Command, Reply
from bot.studio.core.inputs import clean_text
from bot.studio.core.services import Services
from bot.studio.history.portraits import Portraits
from bot.studio.orders.orders import Orders, cancel_button, remove_queued
from bot.studio.photos.photos import Photos
from bot.studio.rights import rights
from bot.studio.wizard.wizard import Wizard

# Answered before consent and for a banned person too.
ALWAYS = frozenset({"help", "privacy", "forget"})


class Commands:
    def __init__(
        self,
        services: Services,
        conversation: Conversation,
        wizard: Wizard,
        photos: Photos,
        orders: Orders,
    ):
        self.s = services
        self.talk = conversation
        self.wizard = wizard
        self.photos = photos
        self.orders = orders
        self.portraits = Portraits(services)
        self.table: dict[str, Callable[[Turn], Awaitable[list[Reply]]]] = {
            "status": self.status,
            "cancel": self.cancel,
            "new": self.new,
            "photos": self.more_photos,
            "done": self.done,
            "portraits": self.history,
        }

    async def handle(self, event: Command, turn: Turn, consented: bool) -> list[Reply]:
        name = event.name.lower().lstrip("/")
        if name == "help":
            return [say(words.help_text(self.wizard.total))]
        if name == "privacy":
            return [say(words.privacy(self.s.settings))]
        if name == "forget":
            yes = Button(w.FORGET_YES, b.item("f", turn.rev), "danger")
            return [say(w.FORGET_ASK, (yes, Button(w.FORGET_KEEP, b.wizard(turn.rev, "keep"))))]
        if name == "start":
            if not consented:
                return await self.talk.go(turn, State.CONSENT, {})
            return [say(w.WELCOME_BACK), *await self.talk.show(turn)]
        if not consented:
            return [say(w.FIRST_THINGS_FIRST), *await self.talk.go(turn, State.CONSENT, {})]
        handler = self.table.get(name)
        if handler is None or (name == "done" and turn.state != State.REFERENCES):
            return [say(w.unknown_command(clean_text(name)[:40]))]
        return await handler(turn)

    async def status(self, turn: Turn) -> list[Reply]:
        return [await self.orders.status(turn.user, w.status_where(turn.state))]

    async def cancel(self, turn: Turn) -> list[Reply]:
        active = await self.s.store.active_order(turn.user["id"])
        if self.talk.steps[turn.state].wizard:
            if active is not None:  # both could be "it": ask, each button does one
                stop = Button(w.CANCEL_WIZARD_BUTTON, b.wizard(turn.rev, "cancel"))
                order = cancel_button(active["id"], w.CANCEL_ORDER_BUTTON.format(id=active["id"]))
                return [say(w.cancel_which(active["id"]), (order, stop))]
            return await self.talk.finish(turn, await self.wizard.cancel(turn, ""))
        if active is not None:
            return [await self.orders.cancel(turn.user, active["id"])]
        return [say(w.NOTHING_TO_CANCEL)]

    async def new(self, turn: Turn) -> list[Reply]:
        return await self.talk.finish(turn, await self.wizard.new(turn))

    async def more_photos(self, turn: Turn) -> list[Reply]:
        await self.photos.collect_again(turn.user)
        return await self.talk.go(turn, State.REFERENCES)  # the answers so far are kept

    async def history(self, turn: Turn) -> list[Reply]:
        """/portraits: the orders still kept, newest first (bot/studio/history/portraits.py)."""
        return [await self.portraits.page(turn.user)]

    async def done(self, turn: Turn) -> list[Reply]:
        return await self.talk.finish(turn, await self.photos.done(turn, ""))

    async def forget(self, user: Row) -> Reply:
        """/forget confirmed: queued work leaves Redis, then every row and file."""
        uid = user["id"]
        active = await self.s.store.active_order(uid)
        if active is not None and active["job_id"]:
            await remove_queued(self.s.engine, active["job_id"])
        # Kept results hold portraits (and their requests the reference crops); photo
        # checks hold photos: Redis first, then rows, files, protections, audit log.
        counts = await rights.forget_everywhere(self.s, uid)
        # The person's lock stays: it is held right now (this event), and a burst or the
        # tracker may be waiting on it; ids are never reused, so it guards nothing else.
        return say(w.forgotten(counts.photos, counts.orders, counts.results, counts.files))

"""/forget: the question, its confirmation button (``f:<rev>``) and the forgetting
itself. Answered in any state, before consent and for a suspended account too."""

from __future__ import annotations

from bot.store.store import Row
from bot.studio.core import buttons as b
from bot.studio.core import words_chat as w
from bot.studio.core.conversation import Turn, say
from bot.studio.core.events import Button, Reply
from bot.studio.core.routes import Routes
from bot.studio.core.services import Services
from bot.studio.orders.orders import remove_queued
from bot.studio.rights import rights
from bot.studio.rights.buttons import ForgetPress
from bot.studio.rights.buttons import forget as forget_button


class Forget:
    def __init__(self, services: Services):
        self.s = services

    def register(self, routes: Routes) -> None:
        routes.on_command("forget", self.ask, always=True)
        routes.on_press(ForgetPress, self.press)

    async def ask(self, turn: Turn) -> list[Reply]:
        yes = Button(w.FORGET_YES, forget_button(turn.rev), "danger")
        return [say(w.FORGET_ASK, (yes, Button(w.FORGET_KEEP, b.wizard(turn.rev, "keep"))))]

    async def press(self, turn: Turn, p: ForgetPress) -> list[Reply]:
        """/forget's confirmation: only the one shown with the session's revision."""
        if p.id != turn.rev:
            return [say(w.FORGET_STALE)]
        return [await self.forget(turn.user)]

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

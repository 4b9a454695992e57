"""/portraits: the person's orders still within retention, newest first, a page at a
time, each one's results message sent again with its buttons (which carry ids, so
they work however old the message is: bot/studio/core/buttons.py)."""

from __future__ import annotations

from datetime import timedelta

from bot.store.codes import IN_FLIGHT, OrderStatus
from bot.store.store import Row, now_iso
from bot.studio.core import buttons as b
from bot.studio.core import words_chat as w
from bot.studio.core.conversation import Turn
from bot.studio.core.events import Button, Reply
from bot.studio.core.routes import Routes
from bot.studio.core.services import Services
from bot.studio.history import buttons as hb
from bot.studio.history import words_history as wl
from bot.studio.history.buttons import HistoryPress
from bot.studio.jobs.results import failure_reply, results_reply
from bot.studio.pets import words_pets as wpt
from bot.studio.wizard.looks import format_label
from sitter.packs import pack_name

PAGE = 5


def _say(text: str, *rows: tuple[Button, ...]) -> Reply:
    return Reply(text=text, buttons=tuple(r for r in rows if r))


class Portraits:
    def __init__(self, services: Services):
        self.s = services

    def register(self, routes: Routes) -> None:
        routes.on_press(HistoryPress, lambda turn, p: self.press(turn.user, p))
        routes.on_command("portraits", self.command)

    async def command(self, turn: Turn) -> list[Reply]:
        """/portraits: the orders still kept, newest first."""
        return [await self.page(turn.user)]

    def _cut(self) -> str:
        """Orders placed before this are past the result retention period."""
        return now_iso(-timedelta(days=self.s.settings.result_retention_days))

    async def page(self, user: Row, before: int | None = None) -> Reply:
        """One page: a line and a Show button per order, Older / Newest to move."""
        rows = await self.s.store.portraits_page(user["id"], self._cut(), before, PAGE + 1)
        if not rows:
            return _say(wl.no_older() if before is not None else wl.NO_PORTRAITS)
        shown, more = rows[:PAGE], len(rows) > PAGE
        lines = [wl.portraits_heading(self.s.settings.result_retention_days)]
        for o in shown:
            style = self.s.prompts.styles.get(o["style"])
            fmt = format_label(self.s.prompts, o["aspect"])
            look = f", {fmt}" if fmt else ""
            name = style.name if style else o["style"]
            if o["pack"]:  # its row's style is only its first look's
                name = pack_name(self.s.packs, o["pack"])
            if pet := dict(o).get("pet_name"):  # a pet's portraits: "Watercolor, of Mochi"
                name = wpt.results_name(name, str(pet))
            lines.append(wl.portraits_line(o["id"], name, look, o["created_at"][:10], o["shown"]))
        show = [Button(wl.show_button(o["id"]), hb.history("h", o["id"])) for o in shown]
        nav: list[Button] = []
        if before is not None:
            nav.append(Button(wl.NEWEST, hb.history("hp", b.MAX_ID)))
        if more:
            nav.append(Button(wl.OLDER, hb.history("hp", shown[-1]["id"]), "primary"))
        rows_ = [tuple(show[i : i + 3]) for i in range(0, len(show), 3)]
        return _say("\n".join(lines), *rows_, tuple(nav))

    async def press(self, user: Row, p: HistoryPress) -> list[Reply]:
        if p.kind == "hp":
            return [await self.page(user, None if p.id == b.MAX_ID else p.id)]
        return await self.resend(user, p.id)

    async def resend(self, user: Row, order_id: int) -> list[Reply]:
        """The order's results message again, with its buttons; never another's order."""
        store = self.s.store
        order = await store.order(order_id)
        if order is None:
            return [_say(wl.ORDER_GONE)]
        if order["user_id"] != user["id"]:
            return [_say(w.SOMEONE_ELSES)]
        if order["created_at"] < self._cut():  # past retention, not swept yet
            return [_say(wl.ORDER_GONE)]
        if order["status"] in IN_FLIGHT:
            return [_say(w.still_in_progress(order_id))]
        if order["status"] == OrderStatus.FAILED:
            return [failure_reply(order)]
        if order["status"] not in (OrderStatus.DONE, OrderStatus.DELIVERED):
            return [_say(wl.ORDER_GONE)]
        variations = await store.variations(order_id)
        withheld = await store.withheld_count(order_id)
        return [results_reply(self.s, order, variations, withheld)]

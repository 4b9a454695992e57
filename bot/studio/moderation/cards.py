"""The moderators' card for one report, posted to every moderators' chat and kept
up to date there (it carries an ``edit_key``); the open reports list."""

from __future__ import annotations

from bot.store.moderation_store import PROTECT_REQUEST
from bot.store.store import Row
from bot.studio.core import buttons as b
from bot.studio.core.events import Button, Image, Reply
from bot.studio.moderation.desk import Desk
from bot.studio.moderation.texts import (
    ACTIONS,
    REASON_WORDS,
    decided_line,
    person,
    say,
)


def card_key(report_id: int) -> str:
    return f"report:{report_id}"


class Cards:
    def __init__(self, desk: Desk):
        self.desk = desk
        self._posting: set[int] = set()

    async def card(self, rid: int) -> Reply:
        """What the moderators see for one report: image, owner, reason, prompt, history."""
        db = self.desk.db
        r = await db.report(rid)
        if r is None:
            return say(f"Report #{rid} no longer exists.")
        if r["reason"] == PROTECT_REQUEST:
            return self._request_card(rid, r)
        history = await db.upheld_history(r["owner_user_id"], exclude=rid)
        hist = (
            f"{len(history)} upheld before: "
            + ", ".join(f"#{h['id']} {h['reason']} → {h['decision']}" for h in history)
            if history
            else "no upheld reports before"
        )
        owner = person(r["owner_name"], r["owner_platform"], r["owner_pid"], r["owner_user_id"])
        if r["owner_banned"]:
            owner += " – banned"
        reporter = person(
            r["reporter_name"], r["reporter_platform"], r["reporter_pid"], r["reporter_user_id"]
        )
        prompt = (r["prompt"] or "(order deleted)")[:600]
        lines = [
            f"Report #{rid} · {REASON_WORDS.get(r['reason'], r['reason'])}",
            f"Owner: {owner}",
            f"Owner's history: {hist}",
            f"Reported by: {reporter}",
        ]
        if r["text"]:
            lines.append(f"Details: “{r['text']}”")
        lines.append(f"Order #{r['order_id']} ({r['style']}): {prompt}")
        images: tuple[Image, ...] = ()
        if r["image_path"]:
            path = self.desk.store.media.path(r["image_path"])
            images = (Image(path, caption=f"Report #{rid}"),)
        else:
            lines.append("(The portrait is no longer stored.)")
        if r["status"] == "open":
            lines.append(
                "Each action also does the ones before it; protect and ban both remove the "
                "portraits and the owner's photos first."
            )
            rows = [
                (self._action(rid, "dis"), self._action(rid, "rm", "danger")),
                (self._action(rid, "pur", "danger"),),
                (self._action(rid, "pro", "danger"), self._action(rid, "ban", "danger")),
            ]
        else:
            lines.append(decided_line(r))
            rows = []
            if r["decision"] == "ban" and r["owner_banned"]:
                rows = [(Button("Lift the ban", b.moderator(rid, "unban")),)]
        return Reply(
            text="\n".join(lines), buttons=tuple(rows), images=images, edit_key=card_key(rid)
        )

    @staticmethod
    def _action(rid: int, act: str, kind: str = "choice") -> Button:
        return Button(ACTIONS[act][1], b.moderator(rid, act), kind)

    def _request_card(self, rid: int, r: Row) -> Reply:
        """A /protect selfie that didn't match the person's own photos: protect or not."""
        reporter = person(
            r["reporter_name"], r["reporter_platform"], r["reporter_pid"], r["reporter_user_id"]
        )
        lines = [
            f"Report #{rid} · {REASON_WORDS[PROTECT_REQUEST]}",
            f"Asked by: {reporter}",
            "Their /protect selfie doesn't match their own accepted reference photos (or "
            "they have none), so it may be someone else's face. Only its face "
            "measurements are kept, never the photo. Protecting it refuses that face to "
            "everyone and deletes every stored photo and portrait of it.",
        ]
        rows: list[tuple[Button, ...]] = []
        if r["status"] == "open":
            rows = [(self._action(rid, "dis"), self._action(rid, "pro", "danger"))]
        else:
            lines.append(decided_line(r))
        return Reply(text="\n".join(lines), buttons=tuple(rows), edit_key=card_key(rid))

    async def post(self, rid: int) -> bool:
        """Send the card to the moderators, or bring it up to date where they have it
        (the card carries an ``edit_key``); True when at least one chat got it."""
        r = await self.desk.db.report(rid)
        if r is None or rid in self._posting:
            return False
        self._posting.add(rid)  # the background tick must not post it a second time
        try:
            card = await self.card(rid)
            sent = False
            for to in (await self.desk.places.targets()).recipients(r["platform"]):
                sent = await self.desk.send(to, card) or sent
            if sent and not r["posted_at"]:
                await self.desk.db.mark_posted(rid)
            return sent
        finally:
            self._posting.discard(rid)

    async def tick(self) -> int:
        """Post reports that could not reach the moderators before; return how many did."""
        n = 0
        for r in await self.desk.db.unposted_reports():
            n += int(await self.post(r["id"]))
        return n

    async def show(self, rid: int) -> list[Reply]:
        card = await self.card(rid)
        return [Reply(card.text, card.buttons, card.images)]  # a fresh copy here, no edit

    async def open_reports(self) -> list[Reply]:
        rows = await self.desk.db.open_reports(20)
        if not rows:
            return [say("No open reports.")]
        buttons = [
            (
                Button(
                    f"#{r['id']} {REASON_WORDS.get(r['reason'], r['reason'])}",
                    b.moderator(r["id"], "show"),
                ),
            )
            for r in rows
        ]
        return [say(f"{len(rows)} open report{'s' if len(rows) != 1 else ''}:", *buttons)]

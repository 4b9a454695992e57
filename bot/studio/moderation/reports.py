"""Reporting a portrait: ``/report`` or the Report button, the reason, typed details.

Report steps happen in the reporter's private chat, also when the button was
pressed on a portrait shared in a group; the report goes to the moderators at
once (or on the next background pass when they cannot be reached).
"""

from __future__ import annotations

from bot.store.store import Row
from bot.studio.core import buttons as b
from bot.studio.core.events import Button, Command, Recipient, Reply, Text, Who
from bot.studio.moderation.cards import Cards
from bot.studio.moderation.desk import Desk
from bot.studio.moderation.texts import (
    MAX_TARGETS,
    NOTE_MAX,
    REASONS,
    REPORTS_PER_DAY,
    STALE,
    TARGET,
    actor,
    reason_lower,
    say,
)


class Reports:
    def __init__(self, desk: Desk, cards: Cards):
        self.desk = desk
        self.cards = cards

    async def command(self, event: Command, user: Row, args: str) -> list[Reply]:
        """``/report [rep:<variation> ...] [reason] [details]``: adapters put the ``rep:``
        data of the message the person replied to (or picked); a bare number works too."""
        words = args.split()
        targets: list[int] = []
        while words and (m := TARGET.fullmatch(words[0])):
            words.pop(0)
            if len(targets) < MAX_TARGETS:  # one message's portraits at most
                targets.append(int(m.group(1)))
        rest = " ".join(words)
        if not targets:
            how = self.desk.places.get(event.who.platform).report_hint or "."
            return [say("To report a portrait, press the Report button under it" + how)]
        if len(targets) > 1:  # replied to a message with several portraits' buttons
            return await self._pick_portrait(event.who, user, targets)
        first, _, more = rest.partition(" ")
        code = next((k for k, (stored, _) in REASONS.items() if first in (k, stored)), None)
        if code is not None:
            return await self.file(event.who, user, targets[0], code, more.strip())
        return await self.ask_reason(event.who, user, targets[0], rest)

    async def _cannot_report(self, user: Row, vid: int) -> str:
        """Why this person cannot report this portrait now ('' when they can)."""
        v = await self.desk.store.variation(vid)
        if v is None:
            return "That portrait is no longer stored, so there is nothing to report."
        if v.removed_at:
            return "The moderators have already removed that portrait."
        if await self.desk.db.open_report(vid, user["id"]):
            return "You already reported this portrait; the moderators have it."
        if await self.desk.db.reports_today(user["id"]) >= REPORTS_PER_DAY:
            return (
                f"You have sent {REPORTS_PER_DAY} reports today, the most I take in a day; "
                "the moderators are working through them. Please try again tomorrow."
            )
        return ""

    async def _pick_portrait(self, who: Who, user: Row, vids: list[int]) -> list[Reply]:
        rows = await self.desk.db.portraits(vids)
        if not rows:
            return [say("Those portraits are no longer stored, so there is nothing to report.")]
        buttons = tuple(Button(f"Portrait {r['idx']}", b.report(r["id"])) for r in rows)
        return await self._privately(who, user, say("Which portrait do you report?", buttons))

    async def press(self, who: Who, user: Row, p: b.ReportPress | b.NotePress) -> list[Reply]:
        if isinstance(p, b.NotePress):
            return await self._ask_note(user, p.report)
        if not p.reason:
            return await self.ask_reason(who, user, p.variation, "")
        if p.reason in REASONS:
            return await self.file(who, user, p.variation, p.reason, "")
        return [say(STALE)]

    async def ask_reason(self, who: Who, user: Row, vid: int, text: str) -> list[Reply]:
        refusal = await self._cannot_report(user, vid)
        if refusal:
            return [say(refusal)]
        if text:  # what /report already said is kept for the report
            await self.desk.db.expect_input(user["id"], "report_text", vid, text[:NOTE_MAX])
        rows = [(Button(label, b.report(vid, code)),) for code, (_, label) in REASONS.items()]
        return await self._privately(who, user, say("Why are you reporting this portrait?", *rows))

    async def _privately(self, who: Who, user: Row, reply: Reply) -> list[Reply]:
        """Report steps happen in the reporter's private chat, also when the Report button
        was pressed on a portrait shared in a group (the answer there is one line)."""
        if who.private:
            return [reply]
        chat = self.desk.places.private_chat(who.platform, who.user_id, None)
        if chat and await self.desk.send(Recipient(who.platform, chat), reply):
            return [say("I've sent you the report form in a private message.")]
        return [say("To report, start a private chat with me first, then press Report again.")]

    async def file(self, who: Who, user: Row, vid: int, code: str, text: str) -> list[Reply]:
        db = self.desk.db
        reason = REASONS[code][0]
        refusal = await self._cannot_report(user, vid)
        if refusal:
            return [say(refusal)]
        pending = await db.pending_input(user["id"])
        if not text and pending and pending["kind"] == "report_text" and pending["ref"] == vid:
            text = pending["text"]
        try:
            rid = await db.create_report(vid, user["id"], reason, text[:NOTE_MAX])
        except LookupError:
            return [say("That portrait is no longer stored, so there is nothing to report.")]
        if pending and pending["kind"] == "report_text":
            await db.clear_input(user["id"])
        await db.log(actor(who), "report", report_id=rid, reason=reason, detail={"text": text})
        posted = await self.cards.post(rid)
        anyone = posted or bool((await self.desk.places.targets()).recipients(who.platform))
        ack = (
            f"Thank you. Your report #{rid} ({reason_lower(reason)}) is with the "
            "moderators"
            + ("" if posted else " (I'll pass it on as soon as I can reach them)")
            + ". I'll tell you what they decide."
        )
        if not anyone:  # (a studio with none: it promised moderators that did not exist)
            ack = (
                f"Thank you. Your report #{rid} ({reason_lower(reason)}) is recorded, but "
                "this studio has no moderators set up yet, so nobody has seen it. It goes "
                "to them as soon as its operator adds some, and I'll tell you what they decide."
            )
        rows = () if text else ((Button("Add details", b.report_note(rid), "free_text"),),)
        return [say(ack, *rows)]

    async def _ask_note(self, user: Row, rid: int) -> list[Reply]:
        r = await self.desk.db.report(rid)
        if r is None or r["reporter_user_id"] != user["id"]:
            return [say(STALE)]
        if r["status"] != "open":
            return [say(f"Report #{rid} has already been decided.")]
        await self.desk.db.expect_input(user["id"], "report_note", rid)
        return [
            say(f"Type the details for report #{rid} in one message (up to {NOTE_MAX} characters).")
        ]

    async def take_note(self, event: Text, user: Row, rid: int) -> list[Reply]:
        db = self.desk.db
        await db.clear_input(user["id"])
        text = " ".join(event.text.split())[:NOTE_MAX]
        r = await db.report(rid)
        if r is None or r["status"] != "open":
            return [say(f"Report #{rid} has already been decided; I didn't add that.")]
        joined = f"{r['text']}\n{text}".strip()
        await db.set_report_text(rid, joined)
        await db.log(actor(event.who), "report_details", report_id=rid, detail={"text": text})
        if r["posted_at"]:
            await self.cards.post(rid)  # refresh the moderators' card
        return [say(f"Added to report #{rid}. Thank you.")]

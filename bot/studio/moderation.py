"""Reports, the moderator queue and decisions, protected faces and bans.

Plugged into the studio core as its moderation hook (:func:`attach`). The core
routes ``/report``, ``/protect``, ``/unprotect``, ``/mod``, ``/reports``, ``/ban``
and every ``rep:``/``mod:`` button here; typed input this module is waiting for
(a report's details, the selfie after ``/protect``) comes through
:meth:`Moderation.take_input`; :meth:`Moderation.gate` tells a banned person once
and then ignores them without touching the database.

Button data (at most 64 bytes, state in the database, never in memory)::

    rep:<variation>               report this portrait: show the reasons
    rep:<variation>:<reason>      report it for this reason
    rep:n:<report>                add details to my report (typed next)
    mod:<report>:<action>         a moderator's decision (dis rm pur pro ban), or
                                  unban / show

Decisions escalate: *remove* deletes the order's portraits; *purge* also deletes
the owner's reference photos; *protect* and *ban* each do both and then protect
the face / ban the owner. A protected face is taken from the embeddings of the
owner's reference photos of the reported order (the photos the portrait was
made from, so the real person's face, not a generated likeness), read before
the purge; only when those are gone is the portrait itself analysed by the
engine. Only embeddings are kept, never a photo.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.store.moderation_store import ModerationStore, Purge
from bot.store.store import Row, Store
from bot.studio import reach, rights
from bot.studio import words as w
from bot.studio.events import (
    Button,
    Command,
    Event,
    Files,
    Image,
    Outbox,
    Press,
    Recipient,
    Reply,
    Text,
    Who,
)
from sitter import contract as c
from sitter.config import Settings
from sitter.queue import EngineClient

log = logging.getLogger(__name__)

# "/report rep:123", "/report #123" or "/report 123": ASCII digits only ("²".isdigit()).
_TARGET = re.compile(r"(?:rep:|#)?([0-9]{1,12})")
MAX_TARGETS = 10


def _is_num(text: str) -> bool:
    return text.isascii() and text.isdigit()


REASONS: dict[str, tuple[str, str]] = {
    # code in the button: (stored reason, what the reporter picks)
    "me": ("not_me", "It's me and I did not consent"),
    "sex": ("sexual", "Sexual or degrading"),
    "min": ("minor", "Shows a minor"),
    "dec": ("deception", "Impersonation or deception"),
    "oth": ("other", "Something else"),
}
REASON_WORDS = {stored: label for stored, label in REASONS.values()}


def _reason_lower(reason: str) -> str:
    label = REASON_WORDS.get(reason, reason)
    return label[0].lower() + label[1:]


ACTIONS: dict[str, tuple[str, str]] = {
    # code in the button: (decision stored, button label)
    "dis": ("dismiss", "Dismiss"),
    "rm": ("remove", "Remove images"),
    "pur": ("purge", "Purge owner's photos"),
    "pro": ("protect", "Protect this face"),
    "ban": ("ban", "Ban owner"),
}
DECISION_WORDS = {
    "dismiss": "dismissed (no action)",
    "remove": "portraits removed",
    "purge": "portraits removed and the owner's reference photos deleted",
    "protect": "portraits removed, reference photos deleted and the face protected",
    "ban": "portraits removed, reference photos deleted and the owner banned",
}
NOTE_MAX = 1000
REPORTS_PER_DAY = 10  # per reporter: enough for a real case, not for flooding the queue
SELFIE_MINUTES = 15
ANALYZE_TIMEOUT_S = 120.0


def actor(who: Who) -> str:
    return f"{who.platform}:{who.user_id}"


def _say(text: str, *rows: tuple[Button, ...], edit_key: str | None = None) -> Reply:
    return Reply(text=text, buttons=tuple(r for r in rows if r), edit_key=edit_key)


def _private_chat(platform: str | None, pid: str | None, chat: str | None) -> str | None:
    """Where to reach a person privately: on Telegram the private chat's id is the
    user's id; elsewhere the chat the studio last saw them in."""
    if platform == "telegram" and pid:
        return pid
    return chat


def _card_key(report_id: int) -> str:
    return f"report:{report_id}"


def _person(name: str | None, platform: str | None, pid: str | None, uid: int | None) -> str:
    if uid is None or platform is None:
        return "(deleted account)"
    label = name or "(no name)"
    return f"{label} ({platform}:{pid}, user #{uid})"


@dataclass(frozen=True)
class Targets:
    """Where reports go, per platform: Telegram's configured chat, Discord's channels."""

    telegram: tuple[str, ...] = ()
    discord: tuple[str, ...] = ()
    terminal: tuple[str, ...] = ()

    def recipients(self, platform: str | None) -> list[Recipient]:
        """The platform's own moderators, else everyone configured (never nobody)."""
        own = [Recipient(platform, t) for t in getattr(self, platform or "", ())]
        if own:
            return own
        return [
            Recipient(p, t) for p in ("telegram", "discord", "terminal") for t in getattr(self, p)
        ]


class Moderation:
    def __init__(
        self,
        store: Store,
        engine: EngineClient | None,
        settings: Settings,
        outboxes: Mapping[str, Outbox],
    ):
        self.store = store
        self.db = ModerationStore(store)
        self.engine = engine
        self.settings = settings
        self.outboxes = outboxes  # the studio's own dict: adapters added later are seen
        self.terminal_targets: tuple[str, ...] = ()  # tests / terminal moderators
        self._banned: set[tuple[str, str]] = set()
        self._posting: set[int] = set()

    async def load(self) -> Moderation:
        self._banned = await self.db.banned_keys()
        return self

    # --- where reports go -------------------------------------------------------------
    async def targets(self) -> Targets:
        tg = self.settings.telegram_moderation_chat
        # Only servers the operator trusts: any admin can set a channel in their own server.
        guilds = [str(g) for g in self.settings.discord_moderation_guilds]
        rows = []
        if guilds:
            marks = ",".join("?" * len(guilds))
            try:
                rows = await self.store.all(
                    "SELECT DISTINCT moderation_channel_id FROM discord_guild_settings "
                    f"WHERE moderation_channel_id IS NOT NULL AND guild_id IN ({marks})",
                    *guilds,
                )
            except Exception:  # the Discord table is another migration's; absent is fine
                rows = []
        return Targets(
            telegram=(str(tg),) if tg is not None else (),
            discord=tuple(str(r[0]) for r in rows),
            terminal=self.terminal_targets,
        )

    async def _send(self, to: Recipient, reply: Reply) -> bool:
        outbox = self.outboxes.get(to.platform)
        if outbox is None or not to.chat_id:
            return False
        try:
            await outbox.send(to, reply)
        except Exception as exc:
            log.warning("moderation: sending to %s:%s failed: %s", to.platform, to.chat_id, exc)
            return False
        return True

    async def _tell(self, platform: str | None, chat_id: str | None, text: str) -> bool:
        if not platform or not chat_id:
            return False
        return await self._send(Recipient(platform, chat_id), _say(text))

    # --- bans: told once, then ignored cheaply -----------------------------------------
    def is_banned(self, who: Who) -> bool:
        return (who.platform, who.user_id) in self._banned

    async def gate(self, event: Event) -> list[Reply] | None:
        """None: go on. [] : ignore. A reply: the one time a banned person is told.

        /privacy and /forget (and its confirm button) stay open: data rights
        hold for everyone. The check is a set lookup; only a banned person's
        first event after the ban touches the database.
        """
        who = event.who
        if not self.is_banned(who):
            return None
        if isinstance(event, Command) and event.name.lower() in ("privacy", "forget"):
            return None
        if isinstance(event, Press) and event.data.startswith("f:"):
            return None
        user = await self.store.one(
            "SELECT id, ban_reason FROM users WHERE platform = ? AND platform_user_id = ?",
            who.platform,
            who.user_id,
        )
        if user is None or not await self.db.mark_ban_notified(user["id"]):
            return []
        return [_say(self._ban_words(user["ban_reason"]))]

    @staticmethod
    def _ban_words(reason: str | None) -> str:
        why = f" ({reason})" if reason else ""
        return (
            f"A moderator has suspended your access to Sitter{why}. I won't answer other "
            "messages. /privacy and /forget still work."
        )

    # --- the core's hook: commands ----------------------------------------------------------
    async def handle_command(self, event: Command, user: Row) -> list[Reply]:
        name = event.name.lower().lstrip("/")
        args = event.args.strip()
        if name == "report":
            return await self._report_command(event, user, args)
        if name == "protect":
            return await self._protect(event, user)
        if name == "unprotect":
            return await self._unprotect(event, user)
        # /mod, /reports, /ban: moderators only
        if not event.who.is_moderator:
            return [_say("Only moderators can use that command.")]
        sub, _, rest = args.partition(" ")
        if name == "reports" or (name == "mod" and sub == "reports"):
            return await self._open_reports()
        if name == "ban" or (name == "mod" and sub == "ban"):
            return await self._ban_command(event, rest if name == "mod" else args)
        if name == "mod" and sub == "unban":
            return await self._unban_command(event, rest)
        return [
            _say(
                "Moderator commands: /reports (open reports), /ban <user> [reason], "
                "/mod unban <user>. <user> is #id from a report, or platform:id."
            )
        ]

    async def _report_command(self, event: Command, user: Row, args: str) -> list[Reply]:
        """``/report [rep:<variation> ...] [reason] [details]``: adapters put the ``rep:``
        data of the message the person replied to (or picked); a bare number works too."""
        words = args.split()
        targets = []
        while words and _TARGET.fullmatch(words[0]):
            token = words.pop(0)
            if len(targets) < MAX_TARGETS:  # one message's portraits at most
                targets.append(int(_TARGET.fullmatch(token).group(1)))  # type: ignore[union-attr]
        rest = " ".join(words)
        if not targets:
            how = (
                ", or reply to the message with its buttons with /report."
                if event.who.platform == "telegram"
                else " (on Discord also: right-click the message > Apps > Report portrait)."
            )
            return [_say("To report a portrait, press the Report button under it" + how)]
        if len(targets) > 1:  # replied to a message with several portraits' buttons
            return await self._pick_portrait(event.who, user, targets)
        first, _, more = rest.partition(" ")
        code = next((k for k, (stored, _) in REASONS.items() if first in (k, stored)), None)
        if code is not None:
            return await self._file_report(event.who, user, targets[0], code, more.strip())
        return await self._ask_reason(event.who, user, targets[0], rest)

    async def _cannot_report(self, user: Row, vid: int) -> str:
        """Why this person cannot report this portrait now ('' when they can)."""
        v = await self.store.one("SELECT id, removed_at FROM variations WHERE id = ?", vid)
        if v is None:
            return "That portrait is no longer stored, so there is nothing to report."
        if v["removed_at"]:
            return "The moderators have already removed that portrait."
        if await self.db.open_report(vid, user["id"]):
            return "You already reported this portrait; the moderators have it."
        if await self.db.reports_today(user["id"]) >= REPORTS_PER_DAY:
            return (
                f"You have sent {REPORTS_PER_DAY} reports today, the most I take in a day; "
                "the moderators are working through them. Please try again tomorrow."
            )
        return ""

    async def _pick_portrait(self, who: Who, user: Row, vids: list[int]) -> list[Reply]:
        rows = await self.store.all(
            f"SELECT id, idx FROM variations WHERE id IN ({','.join('?' * len(vids))}) "
            "ORDER BY idx",
            *vids,
        )
        if not rows:
            return [_say("Those portraits are no longer stored, so there is nothing to report.")]
        buttons = tuple(Button(f"Portrait {r['idx']}", f"rep:{r['id']}") for r in rows)
        return await self._privately(who, user, _say("Which portrait do you report?", buttons))

    # --- the core's hook: presses ------------------------------------------------------------
    async def handle_press(self, event: Press, user: Row) -> list[Reply]:
        parts = event.data.split(":")
        if parts[0] == "rep":
            if len(parts) == 2 and _is_num(parts[1]):
                return await self._ask_reason(event.who, user, int(parts[1]), "")
            if len(parts) == 3 and parts[1] == "n" and _is_num(parts[2]):
                return await self._ask_note(user, int(parts[2]))
            if len(parts) == 3 and _is_num(parts[1]) and parts[2] in REASONS:
                return await self._file_report(event.who, user, int(parts[1]), parts[2], "")
        elif parts[0] == "mod" and len(parts) == 3 and _is_num(parts[1]):
            if not event.who.is_moderator:
                log.info("moderation: %s pressed %s, not a moderator", actor(event.who), event.data)
                return [_say("Only moderators can act on reports.")]
            rid, act = int(parts[1]), parts[2]
            if act in ACTIONS:
                return await self.decide(event.who, rid, act)
            if act == "unban":
                return await self._unban_from_report(event.who, rid)
            if act == "show":
                return await self._show(rid)
        return [_say("That button doesn't work any more.")]

    # --- reporting -----------------------------------------------------------------------------
    async def _ask_reason(self, who: Who, user: Row, vid: int, text: str) -> list[Reply]:
        refusal = await self._cannot_report(user, vid)
        if refusal:
            return [_say(refusal)]
        if text:  # what /report already said is kept for the report
            await self.db.expect_input(user["id"], "report_text", vid, text[:NOTE_MAX])
        rows = [(Button(label, f"rep:{vid}:{code}"),) for code, (_, label) in REASONS.items()]
        return await self._privately(who, user, _say("Why are you reporting this portrait?", *rows))

    async def _privately(self, who: Who, user: Row, reply: Reply) -> list[Reply]:
        """Report steps happen in the reporter's private chat, also when the Report button
        was pressed on a portrait shared in a group (the answer there is one line)."""
        if who.private:
            return [reply]
        chat = _private_chat(who.platform, who.user_id, None)
        if chat and await self._send(Recipient(who.platform, chat), reply):
            return [_say("I've sent you the report form in a private message.")]
        return [_say("To report, start a private chat with me first, then press Report again.")]

    async def _file_report(
        self, who: Who, user: Row, vid: int, code: str, text: str
    ) -> list[Reply]:
        reason = REASONS[code][0]
        refusal = await self._cannot_report(user, vid)
        if refusal:
            return [_say(refusal)]
        pending = await self.db.pending_input(user["id"])
        if not text and pending and pending["kind"] == "report_text" and pending["ref"] == vid:
            text = pending["text"]
        try:
            rid = await self.db.create_report(vid, user["id"], reason, text[:NOTE_MAX])
        except LookupError:
            return [_say("That portrait is no longer stored, so there is nothing to report.")]
        if pending and pending["kind"] == "report_text":
            await self.db.clear_input(user["id"])
        await self.db.log(actor(who), "report", report_id=rid, reason=reason, detail={"text": text})
        posted = await self.post(rid)
        ack = (
            f"Thank you. Your report #{rid} ({_reason_lower(reason)}) is with the "
            "moderators"
            + ("" if posted else " (I'll pass it on as soon as I can reach them)")
            + ". I'll tell you what they decide."
        )
        rows = () if text else ((Button("Add details", f"rep:n:{rid}", "free_text"),),)
        return [_say(ack, *rows)]

    async def _ask_note(self, user: Row, rid: int) -> list[Reply]:
        r = await self.db.report(rid)
        if r is None or r["reporter_user_id"] != user["id"]:
            return [_say("That button doesn't work any more.")]
        if r["status"] != "open":
            return [_say(f"Report #{rid} has already been decided.")]
        await self.db.expect_input(user["id"], "report_note", rid)
        return [
            _say(
                f"Type the details for report #{rid} in one message (up to {NOTE_MAX} characters)."
            )
        ]

    async def take_input(self, event: Text | Files, user: Row) -> list[Reply] | None:
        """Typed details or the /protect selfie, when this module asked for them; else None."""
        pending = await self.db.pending_input(user["id"])
        if pending is None:
            return None
        if pending["kind"] == "report_note" and isinstance(event, Text):
            return await self._take_note(event, user, int(pending["ref"]))
        if pending["kind"] == "protect_selfie" and isinstance(event, Files):
            return await self._take_selfie(event, user)
        return None

    async def _take_note(self, event: Text, user: Row, rid: int) -> list[Reply]:
        await self.db.clear_input(user["id"])
        text = " ".join(event.text.split())[:NOTE_MAX]
        r = await self.db.report(rid)
        if r is None or r["status"] != "open":
            return [_say(f"Report #{rid} has already been decided; I didn't add that.")]
        joined = f"{r['text']}\n{text}".strip()
        await self.db.set_report_text(rid, joined)
        await self.db.log(actor(event.who), "report_details", report_id=rid, detail={"text": text})
        if r["posted_at"]:
            await self.post(rid)  # refresh the moderators' card
        return [_say(f"Added to report #{rid}. Thank you.")]

    # --- the moderators' card ---------------------------------------------------------------------
    async def card(self, rid: int) -> Reply:
        """What the moderators see for one report: image, owner, reason, prompt, history."""
        r = await self.db.report(rid)
        if r is None:
            return _say(f"Report #{rid} no longer exists.")
        history = await self.db.upheld_history(r["owner_user_id"], exclude=rid)
        hist = (
            f"{len(history)} upheld before: "
            + ", ".join(f"#{h['id']} {h['reason']} → {h['decision']}" for h in history)
            if history
            else "no upheld reports before"
        )
        owner = _person(r["owner_name"], r["owner_platform"], r["owner_pid"], r["owner_user_id"])
        if r["owner_banned"]:
            owner += " – banned"
        reporter = _person(
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
            images = (Image(self.store.media.path(r["image_path"]), caption=f"Report #{rid}"),)
        else:
            lines.append("(The portrait is no longer stored.)")
        if r["status"] == "open":
            lines.append(
                "Each action also does the ones before it; protect and ban both remove the "
                "portraits and the owner's photos first."
            )
            rows = [
                (
                    Button(ACTIONS["dis"][1], f"mod:{rid}:dis"),
                    Button(ACTIONS["rm"][1], f"mod:{rid}:rm", "danger"),
                ),
                (Button(ACTIONS["pur"][1], f"mod:{rid}:pur", "danger"),),
                (
                    Button(ACTIONS["pro"][1], f"mod:{rid}:pro", "danger"),
                    Button(ACTIONS["ban"][1], f"mod:{rid}:ban", "danger"),
                ),
            ]
        else:
            lines.append(self._decided_line(r))
            rows = []
            if r["decision"] == "ban" and r["owner_banned"]:
                rows = [(Button("Lift the ban", f"mod:{rid}:unban"),)]
        return Reply(
            text="\n".join(lines),
            buttons=tuple(rows),
            images=images,
            edit_key=_card_key(rid),
        )

    @staticmethod
    def _decided_line(r: Row, lead: str = "Decided") -> str:
        return (
            f"{lead}: {DECISION_WORDS.get(r['decision'], r['decision'])}, "
            f"by {r['decided_by']} at {r['decided_at']}."
        )

    async def post(self, rid: int) -> bool:
        """Send the card to the moderators, or bring it up to date where they have it
        (the card carries an ``edit_key``); True when at least one chat got it."""
        r = await self.db.report(rid)
        if r is None or rid in self._posting:
            return False
        self._posting.add(rid)  # the background tick must not post it a second time
        try:
            card = await self.card(rid)
            sent = False
            for to in (await self.targets()).recipients(r["platform"]):
                sent = await self._send(to, card) or sent
            if sent and not r["posted_at"]:
                await self.db.mark_posted(rid)
            return sent
        finally:
            self._posting.discard(rid)

    async def tick(self) -> int:
        """Post reports that could not reach the moderators before; return how many did."""
        n = 0
        for r in await self.db.unposted_reports():
            n += int(await self.post(r["id"]))
        return n

    async def _show(self, rid: int) -> list[Reply]:
        card = await self.card(rid)
        return [Reply(card.text, card.buttons, card.images)]  # a fresh copy here, no edit

    async def _open_reports(self) -> list[Reply]:
        rows = await self.store.all(
            "SELECT id, reason, created_at FROM reports WHERE status = 'open' ORDER BY id LIMIT 20"
        )
        if not rows:
            return [_say("No open reports.")]
        buttons = [
            (
                Button(
                    f"#{r['id']} {REASON_WORDS.get(r['reason'], r['reason'])}",
                    f"mod:{r['id']}:show",
                ),
            )
            for r in rows
        ]
        return [_say(f"{len(rows)} open report{'s' if len(rows) != 1 else ''}:", *buttons)]

    # --- decisions ------------------------------------------------------------------------------
    async def decide(self, mod: Who, rid: int, act: str) -> list[Reply]:
        decision = ACTIONS[act][0]
        r = await self.db.report(rid)
        if r is None:
            return [_say(f"Report #{rid} no longer exists.")]
        if r["status"] != "open":
            return [_say(self._decided_line(r, f"Report #{rid} was already decided"))]
        who = actor(mod) + (f" ({mod.name})" if mod.name else "")
        faces: list[c.Embedding] = []
        if decision == "protect":
            faces = await self._faces_to_protect(r)
            if not faces:
                return [
                    _say(
                        f"I couldn't find a face to protect for report #{rid}: the reference "
                        "photos are gone and no face was found in the portrait. Nothing was "
                        "changed; choose another action."
                    )
                ]
        if not await self.db.decide(rid, decision, who):  # another moderator was faster
            r = await self.db.report(rid)
            assert r is not None
            return [_say(self._decided_line(r, f"Report #{rid} was already decided"))]
        owner = r["owner_user_id"]
        done: dict[str, Any] = {}
        if decision != "dismiss":
            # Every order of the same reference set (retries too) and their copies.
            removed, others = await reach.remove_images_everywhere(
                self.store, self.engine, r["order_id"]
            )
            detail: dict[str, Any] = {"order_id": r["order_id"], **removed.as_dict()}
            if others:
                detail["other_orders"] = others
            await self.db.log(
                who,
                "remove_images",
                target_user_id=owner,
                report_id=rid,
                reason=r["reason"],
                detail=detail,
            )
            done["removed"] = removed.results
        if decision in ("purge", "protect", "ban"):
            # Queued work carries the reference crops: it stops and leaves Redis first.
            await reach.stop_owner_work(self.store, self.engine, owner, "stopped by a moderator")
            if owner is not None:
                await rights.drop_person_jobs(self.store, self.engine, owner)
            purged: Purge = await self.db.purge_references(owner)
            await self.db.log(
                who,
                "purge_references",
                target_user_id=owner,
                report_id=rid,
                reason=r["reason"],
                detail=purged.as_dict(),
            )
            done["purged"] = purged.photos
        if decision == "protect":
            ids = [
                await self.db.add_protected(e, "moderator", r["reporter_user_id"], rid)
                for e in faces
            ]
            await self.db.log(
                who,
                "protect_face",
                target_user_id=owner,
                report_id=rid,
                reason=r["reason"],
                detail={"protected_face_ids": ids, "backend": faces[0].backend},
            )
            done["protected"] = len(ids)
        if decision == "ban" and owner is not None:
            await self._ban(who, owner, f"report #{rid}: {_reason_lower(r['reason'])}", rid)
        if decision == "dismiss":
            await self.db.log(
                who, "dismiss", target_user_id=owner, report_id=rid, reason=r["reason"]
            )
        await self._tell_people(rid, decision, r)
        await self.post(rid)  # every moderators' chat sees the decided card
        return [_say(f"Done: report #{rid} {DECISION_WORDS[decision]}. {self._counts(done)}")]

    @staticmethod
    def _counts(done: dict[str, Any]) -> str:
        parts = []
        if "removed" in done:
            parts.append(f"{done['removed']} portraits removed")
        if "purged" in done:
            parts.append(f"{done['purged']} reference photos deleted")
        if "protected" in done:
            parts.append(f"{done['protected']} face embeddings protected")
        return ("(" + ", ".join(parts) + ")") if parts else ""

    async def _faces_to_protect(self, r: Row) -> list[c.Embedding]:
        if r["set_id"] is not None:
            faces = await self.db.reference_embeddings(r["owner_user_id"], r["set_id"])
            if faces:
                return faces
        if not r["image_path"] or self.engine is None:
            return []
        photo = self.store.media.read(r["image_path"])
        prefix = await rights.job_prefix(self.store, self.engine)
        owner = r["owner_user_id"] or 0
        try:
            result = await self.engine.call(
                c.JOB_ANALYZE,
                c.AnalyzePhotoRequest(photo=photo),
                job_id=rights.analysis_job_id(prefix, owner),
                timeout=ANALYZE_TIMEOUT_S,
            )
        except TimeoutError:
            return []
        if isinstance(result, c.AnalyzePhotoResult) and result.embedding is not None:
            return [result.embedding]
        return []

    async def _tell_people(self, rid: int, decision: str, r: Row) -> None:
        reason = _reason_lower(r["reason"])
        if decision == "dismiss":
            outcome = "the moderators looked at it and decided no action was needed."
        else:
            outcome = f"the moderators acted on it: {DECISION_WORDS[decision]}."
        await self._tell(
            r["reporter_platform"],
            _private_chat(r["reporter_platform"], r["reporter_pid"], r["reporter_chat"]),
            f"Your report #{rid} ({reason}) was reviewed: {outcome} Thank you for telling us.",
        )
        if decision == "dismiss" or r["owner_user_id"] is None:
            return
        lines = [
            f"A moderator removed your portraits from order #{r['order_id']} after a report "
            f"({reason})."
        ]
        if decision in ("purge", "protect", "ban"):
            lines.append("Your reference photos were deleted too.")
        if decision == "protect":
            lines.append("The face in them is now protected: photos of it can't be used here.")
        if decision == "ban":
            lines.append(self._ban_words(None))
        owner_chat = _private_chat(r["owner_platform"], r["owner_pid"], r["owner_chat"])
        told = await self._tell(r["owner_platform"], owner_chat, " ".join(lines))
        if told and decision == "ban":
            await self.db.mark_ban_notified(r["owner_user_id"])

    # --- bans -------------------------------------------------------------------------------------
    async def _ban(self, who: str, user_id: int, reason: str, rid: int | None = None) -> bool:
        if not await self.db.ban(user_id, reason):
            return False
        # Queued orders and follow-ups are cancelled; the tracker delivers nothing more.
        await reach.stop_owner_work(self.store, self.engine, user_id, "the account is suspended")
        u = await self.db.user(user_id)
        if u is not None:
            self._banned.add((u["platform"], u["platform_user_id"]))
        await self.db.log(who, "ban", target_user_id=user_id, report_id=rid, reason=reason)
        return True

    async def _unban(self, who: str, user_id: int, rid: int | None = None) -> bool:
        if not await self.db.unban(user_id):
            return False
        u = await self.db.user(user_id)
        if u is not None:
            self._banned.discard((u["platform"], u["platform_user_id"]))
            await self._tell(
                u["platform"],
                _private_chat(u["platform"], u["platform_user_id"], u["chat_id"]),
                "A moderator lifted your suspension: you can use Sitter again.",
            )
        await self.db.log(who, "unban", target_user_id=user_id, report_id=rid)
        return True

    async def _ban_command(self, event: Command, args: str) -> list[Reply]:
        ref, _, reason = args.strip().partition(" ")
        u = await self.db.find_user(ref) if ref else None
        if u is None:
            return [_say("Who? Use /ban <user> [reason], <user> being #id or platform:id.")]
        who = actor(event.who) + (f" ({event.who.name})" if event.who.name else "")
        if not await self._ban(who, u["id"], reason.strip() or "by a moderator"):
            return [_say(f"User #{u['id']} is already banned.")]
        chat = _private_chat(u["platform"], u["platform_user_id"], u["chat_id"])
        await self._tell(u["platform"], chat, self._ban_words(reason.strip() or None))
        await self.db.mark_ban_notified(u["id"])
        return [_say(f"User #{u['id']} is banned. /mod unban #{u['id']} lifts it.")]

    async def _unban_command(self, event: Command, args: str) -> list[Reply]:
        u = await self.db.find_user(args) if args.strip() else None
        if u is None:
            return [_say("Who? Use /mod unban <user>, <user> being #id or platform:id.")]
        who = actor(event.who) + (f" ({event.who.name})" if event.who.name else "")
        if not await self._unban(who, u["id"]):
            return [_say(f"User #{u['id']} is not banned.")]
        return [_say(f"User #{u['id']}'s ban is lifted.")]

    async def _unban_from_report(self, mod: Who, rid: int) -> list[Reply]:
        r = await self.db.report(rid)
        if r is None or r["owner_user_id"] is None:
            return [_say(f"Report #{rid}'s owner no longer exists.")]
        who = actor(mod) + (f" ({mod.name})" if mod.name else "")
        lifted = await self._unban(who, r["owner_user_id"], rid)
        await self.post(rid)
        note = "Ban lifted." if lifted else "The owner was not banned (any more)."
        return [_say(f"Report #{rid}: {note}")]

    # --- protecting your own face -------------------------------------------------------
    async def _protect(self, event: Command, user: Row) -> list[Reply]:
        if not event.who.private:
            return [_say("Send /protect to me in a private chat: selfies don't belong in a group.")]
        if await self.db.self_protected(user["id"]):
            return [_say("Your face is already protected. /unprotect lifts it.")]
        await self.db.expect_input(user["id"], "protect_selfie", minutes=SELFIE_MINUTES)
        return [
            _say(
                "Send me one clear selfie (only your face, looking at the camera). I'll keep "
                "its face measurements (an embedding) and never the photo, and from then on "
                "nobody else's photos of you will be accepted here. Your own uploads still "
                "work. /unprotect lifts it at any time (and cancels this)."
            )
        ]

    async def _take_selfie(self, event: Files, user: Row) -> list[Reply]:
        files = [f for f in event.files if f.data]
        if len(event.files) != 1 or not files:
            return [_say("Please send exactly one selfie for /protect.")]
        if self.engine is None:
            return [_say("The photo checker isn't available right now; please try again later.")]
        prefix = await rights.job_prefix(self.store, self.engine)
        try:
            result = await self.engine.call(
                c.JOB_ANALYZE,
                c.AnalyzePhotoRequest(photo=files[0].data or b"", filename=files[0].filename),
                job_id=rights.analysis_job_id(prefix, user["id"]),
                timeout=ANALYZE_TIMEOUT_S,
            )
        except TimeoutError:
            return [_say("The photo checker didn't answer in time. Please send the selfie again.")]
        # The selfie's bytes were never written anywhere; only the embedding is kept.
        if isinstance(result, c.JobFailure):
            return [_say(f"I couldn't check it ({result.message}). Please send it again.")]
        assert isinstance(result, c.AnalyzePhotoResult)
        if result.embedding is None or result.face_count != 1:
            why = "; ".join(w.issue_words(i) for i in result.issues) or "I can't use it"
            return [_say(f"That selfie won't do: {why}. Please send another.")]
        pid = await self.db.add_protected(result.embedding, "self", user["id"])
        await self.db.clear_input(user["id"])
        await self.db.log(
            actor(event.who),
            "protect_self",
            target_user_id=user["id"],
            detail={"protected_face_id": pid, "backend": result.embedding.backend},
        )
        return [
            _say(
                "Done: your face is protected. I kept only its measurements; the selfie "
                "was not stored. /unprotect lifts it."
            )
        ]

    async def _unprotect(self, event: Command, user: Row) -> list[Reply]:
        lifted = await self.db.lift_self_protection(user["id"])
        await self.db.clear_input(user["id"])
        if not lifted:
            return [_say("Your face wasn't protected. /protect with a selfie protects it.")]
        await self.db.log(
            actor(event.who), "unprotect_self", target_user_id=user["id"], detail={"lifted": lifted}
        )
        return [_say("Your face is no longer protected.")]


async def attach(studio: Any) -> Moderation:
    """Build the hook for a :class:`~bot.studio.core.Studio` and plug it in."""
    mod = await Moderation(studio.store, studio.engine, studio.settings, studio.outboxes).load()
    studio.moderation = mod
    return mod

"""Invitations to a portrait together: made by the person who orders, passed on (a
Telegram deep link, a Discord member's DMs, a code in the terminal), answered by the
second person in their own chat, withdrawable by either at any time.

The token is random (``secrets``), works once (the first /start with it names the
invitee) and is stored as its sha256 only. Accepting records the invitation text's
version (:data:`~bot.studio.together.words_together.INVITATION_VERSION`): that is the
second person's consent. A banned person can neither invite nor be invited.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.store.store import Row, now_iso
from bot.studio.core import words
from bot.studio.core.conversation import Outcome, State, Turn, go, say
from bot.studio.core.events import Button, Recipient, Reply
from bot.studio.core.services import Services
from bot.studio.together import buttons as tb
from bot.studio.together import joint
from bot.studio.together import words_together as wt

TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")  # what make() hands out (Telegram: <= 64)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hours_left(inv: Row) -> int:
    end = datetime.strptime(inv["expires_at"][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return max(0, round((end - datetime.now(UTC)).total_seconds() / 3600))


def expired(inv: Row) -> bool:
    return bool(inv["expires_at"] <= now_iso())


class Invitations:
    def __init__(self, services: Services):
        self.s = services

    async def ready(self, user: Row) -> bool:
        ref = await self.s.store.person_set(user["id"])
        return ref["status"] == "ready"

    async def tell(self, user_id: int | None, reply: Reply) -> bool:
        """A message to the other person's own chat (through their platform's outbox)."""
        other = await self.s.store.user_by_id(user_id) if user_id else None
        if other is None or not other["chat_id"]:
            return False
        outbox = self.s.outboxes.get(other["platform"])
        if outbox is None:
            return False
        try:
            await outbox.send(Recipient(other["platform"], other["chat_id"]), reply)
        except Exception:
            return False
        return True

    # --- making one ----------------------------------------------------------------------------
    async def refusal(self, user: Row) -> str | None:
        if user["banned_at"]:
            return wt.BANNED_INVITER
        if not await self.ready(user):
            return wt.NEED_SET_FIRST
        return None

    async def make(self, user: Row) -> Reply:
        """A new invitation with a link (or a code) to pass on."""
        if (why := await self.refusal(user)) is not None:
            return say(why)
        token = secrets.token_urlsafe(18)  # 24 characters of [A-Za-z0-9_-]: a deep link's
        hours = self.s.settings.invite_hours
        inv_id = await self.s.store.create_invitation(
            user["id"], user["platform"], token_hash(token), now_iso(timedelta(hours=hours))
        )
        link = self.s.invite_links.get(user["platform"])
        shown = link(token) if link is not None else wt.invitation_code(token)
        withdraw = Button(wt.WITHDRAW, tb.invitation("tx", inv_id), "danger")
        return say(wt.invitation_made(shown, hours), (withdraw,))

    async def make_for(self, user: Row, member: str) -> Reply:
        """Discord: ``member`` is "<user id> <DM channel id> <name>" as the adapter found
        the member in a server both share; the invitation goes to their DMs."""
        if (why := await self.refusal(user)) is not None:
            return say(why)
        uid, _, rest = member.partition(" ")
        chat, _, name = rest.partition(" ")
        if not (uid.isdigit() and chat.isdigit()):
            return say(wt.NO_MEMBER)
        if uid == user["platform_user_id"]:
            return say(wt.SELF_INVITE)
        store = self.s.store
        known = await store.user(user["platform"], uid)
        if known is not None and known["banned_at"]:
            return say(wt.INVITEE_BANNED)
        invitee = await store.ensure_user(user["platform"], uid, name.strip(), chat)
        hours = self.s.settings.invite_hours
        inv_id = await store.create_invitation(
            user["id"],
            user["platform"],
            token_hash(secrets.token_urlsafe(18)),  # (never shown: the DM is the link)
            now_iso(timedelta(hours=hours)),
            invitee_id=invitee["id"],
        )
        inv = await store.invitation(inv_id)
        assert inv is not None
        await self.tell(invitee["id"], await self.card(inv, invitee))
        withdraw = Button(wt.WITHDRAW, tb.invitation("tx", inv_id), "danger")
        return say(wt.invitation_sent(joint.name(invitee), hours), (withdraw,))

    # --- the second person ----------------------------------------------------------------------
    async def card(self, inv: Row, invitee: Row) -> Reply:
        """What the invitee sees: who asks, what is made, who receives it; or what to do
        first (consent, a ready set) while the invitation waits."""
        inviter = joint.name(await self.s.store.user_by_id(inv["inviter_user_id"]))
        consent = await self.s.store.consent(invitee["id"])
        if consent is None or consent["version"] != words.CONSENT_VERSION:
            return say(wt.needs_consent_first(inviter))
        if not await self.ready(invitee):
            return say(wt.needs_set_first(inviter))
        yes = Button(wt.ACCEPT, tb.invitation("ta", inv["id"]), "primary")
        no = Button(wt.DECLINE, tb.invitation("td", inv["id"]), "danger")
        return say(wt.invitation_card(inviter, hours_left(inv)), (yes, no))

    async def open_link(
        self, turn: Turn, token: str, consented: bool
    ) -> list[Reply] | Outcome | None:
        """``/start <token>``: the link's first use names the invitee (single use)."""
        store, user = self.s.store, turn.user
        if not TOKEN.fullmatch(token):
            return None  # another deep link's payload (Telegram's ?start=portrait)
        inv = await store.invitation_by_token(token_hash(token))
        first: list[Reply] = []
        if inv is None:
            first = [say(wt.NOT_FOUND)]
        elif inv["inviter_user_id"] == user["id"]:
            first = [say(wt.OWN_INVITATION)]
        elif inv["platform"] != user["platform"]:  # both copies go out on one platform
            first = [say(wt.OTHER_PLATFORM)]
        elif inv["status"] in ("open", "claimed") and expired(inv):
            await store.expire_invitations()
            first = [say(wt.EXPIRED)]
        elif inv["status"] == "open":
            if await store.claim_invitation(inv["id"], user["id"]):
                inv = await store.invitation(inv["id"])
            else:
                first = [say(wt.TAKEN)]
        elif inv["invitee_user_id"] != user["id"]:
            first = [say(wt.TAKEN)]
        elif inv["status"] != "claimed":
            first = [say(wt.ENDED)]
        if first or inv is None:
            return go(State.CONSENT, {}, *first) if not consented else first
        card = await self.card(inv, user)
        if not consented:  # consent first: the invitation waits (/together shows it)
            return go(State.CONSENT, {}, card)
        return [card]

    async def answer(self, user: Row, inv_id: int, accept: bool) -> list[Reply]:
        store = self.s.store
        inv = await store.invitation(inv_id)
        if inv is None or inv["invitee_user_id"] != user["id"]:
            return [say(wt.NOT_YOURS)]
        if inv["status"] == "claimed" and expired(inv):
            await store.expire_invitations()
            return [say(wt.EXPIRED)]
        if inv["status"] != "claimed":
            return [say(wt.ENDED)]
        if accept:
            card = await self.card(inv, user)  # consent and a ready set come first
            if not any(r for r in card.buttons):
                return [card]
            theirs = await store.current_set(inv["inviter_user_id"])
            mine = await store.current_set(user["id"])
            if await joint.same_face(self.s, theirs["id"], mine["id"], user["id"]):
                return [say(wt.SAME_FACE)]  # (a second account of the one who invites)
        status = "accepted" if accept else "declined"
        consent = (wt.INVITATION_VERSION, wt.CONSENT_TEXT) if accept else None
        if not await store.answer_invitation(inv_id, user["id"], status, consent):
            return [say(wt.ENDED)]
        inviter = await store.user_by_id(inv["inviter_user_id"])
        me = joint.name(user)
        if not accept:
            await self.tell(inv["inviter_user_id"], say(wt.declined_inviter(me)))
            return [say(wt.DECLINED_SELF)]
        make = Button(wt.MAKE_IT, tb.invitation("tg", inv_id), "primary")
        stop = Button(wt.WITHDRAW, tb.invitation("tx", inv_id), "danger")
        await self.tell(inv["inviter_user_id"], say(wt.accepted_inviter(me), (make, stop)))
        return [say(wt.accepted_self(joint.name(inviter)), (stop,))]

    async def withdraw(self, user: Row, inv_id: int) -> list[Reply]:
        """Either person, at any time: no new joint orders; queued ones stop."""
        store = self.s.store
        inv = await store.invitation(inv_id)
        if inv is None or user["id"] not in (inv["inviter_user_id"], inv["invitee_user_id"]):
            return [say(wt.NOT_YOURS)]
        if not await store.end_invitation(inv_id, user["id"]):
            return [say(wt.ENDED)]
        await joint.stop_joint(self.s, inv_id)
        other = joint.other_side(inv, user["id"])
        if other is not None and inv["status"] != "open":
            await self.tell(other, say(wt.withdrawn_other(joint.name(user))))
        return [say(wt.WITHDRAWN_SELF)]

    async def listing(self, user: Row) -> list[Reply]:
        """/together with invitations live: each with what can be done with it."""
        await self.s.store.expire_invitations()
        live = await self.s.store.invitations_of(user["id"])
        if not live:
            return []
        lines, rows = [wt.list_heading()], []
        for n, inv in enumerate(live, 1):
            mine = inv["inviter_user_id"] == user["id"]
            other_id = joint.other_side(inv, user["id"])
            other = await self.s.store.user_by_id(other_id) if other_id else None
            lines.append(wt.open_line(n, joint.name(other), inv["status"], mine))
            row: list[Button] = []
            if mine and inv["status"] == "accepted":
                row.append(Button(f"{wt.MAKE_IT} ({n})", tb.invitation("tg", inv["id"])))
            if not mine and inv["status"] == "claimed":
                row += [
                    Button(f"{wt.ACCEPT} ({n})", tb.invitation("ta", inv["id"])),
                    Button(f"{wt.DECLINE} ({n})", tb.invitation("td", inv["id"])),
                ]
            row.append(Button(f"{wt.WITHDRAW} ({n})", tb.invitation("tx", inv["id"])))
            rows.append(tuple(row))
        if await self.ready(user):
            rows.append((Button(wt.TOGETHER_BUTTON, tb.invite()),))
        return [say("\n".join(lines), *rows)]

    async def start_joint(self, turn: Turn, inv_id: int) -> list[Reply] | Outcome:
        """ "Make our portrait": the wizard, with the invitation in the session's data."""
        inv = await self.s.store.invitation(inv_id)
        if inv is None or inv["inviter_user_id"] != turn.user["id"]:
            return [say(wt.NOT_YOURS)]
        if inv["status"] != "accepted":
            return [say(wt.ENDED)]
        if not await self.ready(turn.user):
            return [say(wt.NEED_SET_FIRST)]
        partner = await self.s.store.user_by_id(inv["invitee_user_id"])
        data: dict[str, Any] = {joint.TOGETHER: inv_id, joint.PARTNER_NAME: joint.name(partner)}
        return go(State.STYLE, data)

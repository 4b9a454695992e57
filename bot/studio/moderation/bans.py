"""Bans: a banned person is told once, then ignored cheaply (a set lookup, no
database write); moderators ban and lift bans by command or from a report."""

from __future__ import annotations

import bot.studio.moderation.reach as reach
from bot.studio.core.buttons import parse
from bot.studio.core.events import Command, Event, Press, Reply, Who
from bot.studio.jobs import words_failures as wf
from bot.studio.moderation.cards import Cards
from bot.studio.moderation.desk import Desk
from bot.studio.moderation.texts import ban_words, say, signed
from bot.studio.personal import gone


class Bans:
    def __init__(self, desk: Desk, cards: Cards):
        self.desk = desk
        self.cards = cards

    async def load(self) -> None:
        self.desk.banned = await self.desk.db.banned_keys()

    def is_banned(self, who: Who) -> bool:
        return (who.platform, who.user_id) in self.desk.banned

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
        if isinstance(event, Press):
            p = parse(event.data)
            if p is not None and p.always:  # /forget's confirm button
                return None
        user = await self.desk.store.user(who.platform, who.user_id)
        if user is None or not await self.desk.db.mark_ban_notified(user["id"]):
            return []
        return [say(ban_words(user["ban_reason"]))]

    async def ban(self, who: str, user_id: int, reason: str, rid: int | None = None) -> bool:
        db = self.desk.db
        if not await db.ban(user_id, reason):
            return False
        # Queued orders and follow-ups are cancelled; the tracker delivers nothing more.
        await reach.stop_owner_work(
            self.desk.store, self.desk.engine, user_id, wf.ACCOUNT_SUSPENDED
        )
        await gone.drop_models(self.desk.store, self.desk.engine, user_id)  # a ban: none kept
        u = await db.user(user_id)
        if u is not None:
            self.desk.banned.add((u["platform"], u["platform_user_id"]))
        await db.log(who, "ban", target_user_id=user_id, report_id=rid, reason=reason)
        return True

    async def unban(self, who: str, user_id: int, rid: int | None = None) -> bool:
        db = self.desk.db
        if not await db.unban(user_id):
            return False
        u = await db.user(user_id)
        if u is not None:
            self.desk.banned.discard((u["platform"], u["platform_user_id"]))
            await self.desk.tell_privately(
                u["platform"],
                u["platform_user_id"],
                u["chat_id"],
                "A moderator lifted your suspension: you can use Sitter again.",
            )
        await db.log(who, "unban", target_user_id=user_id, report_id=rid)
        return True

    async def ban_command(self, event: Command, args: str) -> list[Reply]:
        ref, _, reason = args.strip().partition(" ")
        u = await self.desk.db.find_user(ref) if ref else None
        if u is None:
            return [say("Who? Use /ban <user> [reason], <user> being #id or platform:id.")]
        if not await self.ban(signed(event.who), u["id"], reason.strip() or "by a moderator"):
            return [say(f"User #{u['id']} is already banned.")]
        await self.desk.tell_privately(
            u["platform"], u["platform_user_id"], u["chat_id"], ban_words(reason.strip() or None)
        )
        await self.desk.db.mark_ban_notified(u["id"])
        return [say(f"User #{u['id']} is banned. /mod unban #{u['id']} lifts it.")]

    async def unban_command(self, event: Command, args: str) -> list[Reply]:
        u = await self.desk.db.find_user(args) if args.strip() else None
        if u is None:
            return [say("Who? Use /mod unban <user>, <user> being #id or platform:id.")]
        if not await self.unban(signed(event.who), u["id"]):
            return [say(f"User #{u['id']} is not banned.")]
        return [say(f"User #{u['id']}'s ban is lifted.")]

    async def unban_from_report(self, mod: Who, rid: int) -> list[Reply]:
        r = await self.desk.db.report(rid)
        if r is None or r["owner_user_id"] is None:
            return [say(f"Report #{rid}'s owner no longer exists.")]
        lifted = await self.unban(signed(mod), r["owner_user_id"], rid)
        await self.cards.post(rid)
        note = "Ban lifted." if lifted else "The owner was not banned (any more)."
        return [say(f"Report #{rid}: {note}")]

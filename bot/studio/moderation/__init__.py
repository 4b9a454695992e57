"""Reports, the moderator queue and decisions, protected faces and bans.

A :class:`~bot.studio.core.plugin.StudioPlugin`, plugged into the studio core by
:func:`attach`. The core gives it the :attr:`Moderation.commands` it names
(``/report``, ``/protect``, ``/unprotect``, ``/mod``, ``/reports``, ``/ban``) and
every press it :meth:`~Moderation.owns` (``rep:``/``mod:`` buttons, see
:mod:`bot.studio.core.buttons`); typed input it waits for (a report's details, the
selfie after ``/protect``) comes through :meth:`Moderation.take_input`;
:meth:`Moderation.gate` tells a banned person once and then ignores them
without touching the database. State lives in the database, never in memory.

It knows no platform: each adapter says, when it attaches, where its reports go
and how its people report (:func:`offer_place`, :class:`Place`).

The parts, one file each: ``reports.py`` (reporting), ``cards.py`` (the
moderators' card), ``decisions.py`` (what a decision does), ``bans.py``,
``protect.py`` (your own face), ``targets.py`` (where reports go), ``desk.py``
(what they share) and ``texts.py`` (what is said).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Protocol

from bot.store.store import Row, Store
from bot.studio.core import buttons as b
from bot.studio.core.events import Command, Event, Files, Outbox, Press, Reply, Text, Who
from bot.studio.core.plugin import StudioPlugin
from bot.studio.moderation.bans import Bans
from bot.studio.moderation.cards import Cards
from bot.studio.moderation.decisions import Decisions
from bot.studio.moderation.desk import Desk
from bot.studio.moderation.protect import Protection
from bot.studio.moderation.reports import Reports
from bot.studio.moderation.targets import Place, Targets
from bot.studio.moderation.texts import ACTIONS, REASONS, STALE, actor, say
from sitter.config import Settings
from sitter.engine_client import Engine


class Host(Protocol):
    """What :func:`attach` and :func:`offer_place` use of a
    :class:`~bot.studio.core.core.Studio` (typed here: the core imports this module)."""

    @property
    def store(self) -> Store: ...
    @property
    def engine(self) -> Engine | None: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def outboxes(self) -> Mapping[str, Outbox]: ...

    moderation: StudioPlugin | None


__all__ = ["ACTIONS", "REASONS", "Moderation", "Place", "Targets", "attach", "offer_place"]

log = logging.getLogger(__name__)

COMMANDS = frozenset({"report", "protect", "unprotect", "mod", "reports", "ban"})


class Moderation:
    #: The commands this plugin answers, in any chat (moderators act from group chats).
    commands: frozenset[str] = COMMANDS

    def __init__(
        self,
        store: Store,
        engine: Engine | None,
        settings: Settings,
        outboxes: Mapping[str, Outbox],
    ):
        self.desk = Desk(store, engine, settings, outboxes)
        self.cards = Cards(self.desk)
        self.bans = Bans(self.desk, self.cards)
        self.decisions = Decisions(self.desk, self.cards, self.bans)
        self.reports = Reports(self.desk, self.cards)
        self.protection = Protection(self.desk, self.cards)
        self.store = store
        self.db = self.desk.db

    async def load(self) -> Moderation:
        await self.bans.load()
        return self

    # --- where reports go: the adapters say ----------------------------------------------
    def add_place(self, platform: str, place: Place) -> None:
        self.desk.places.add(platform, place)

    async def targets(self) -> Targets:
        return await self.desk.places.targets()

    # --- the StudioPlugin interface -------------------------------------------------------
    def owns(self, pressed: b.Pressed | None) -> bool:
        return isinstance(pressed, b.ModerationPress)

    def is_banned(self, who: Who) -> bool:
        return self.bans.is_banned(who)

    async def gate(self, event: Event) -> list[Reply] | None:
        return await self.bans.gate(event)

    async def handle_command(self, event: Command, user: Row) -> list[Reply]:
        name = event.name.lower().lstrip("/")
        args = event.args.strip()
        if name == "report":
            return await self.reports.command(event, user, args)
        if name == "protect":
            return await self.protection.protect(event, user)
        if name == "unprotect":
            return await self.protection.unprotect(event, user)
        # /mod, /reports, /ban: moderators only
        if not event.who.is_moderator:
            return [say("Only moderators can use that command.")]
        sub, _, rest = args.partition(" ")
        if name == "reports" or (name == "mod" and sub == "reports"):
            return await self.cards.open_reports()
        if name == "ban" or (name == "mod" and sub == "ban"):
            return await self.bans.ban_command(event, rest if name == "mod" else args)
        if name == "mod" and sub == "unban":
            return await self.bans.unban_command(event, rest)
        return [
            say(
                "Moderator commands: /reports (open reports), /ban <user> [reason], "
                "/mod unban <user>. <user> is #id from a report, or platform:id."
            )
        ]

    async def handle_press(self, event: Press, p: b.Pressed, user: Row) -> list[Reply]:
        """A press the core read once (``p``, a press this plugin :meth:`owns`)."""
        moderators_only = isinstance(p, b.ModeratorPress) or (
            isinstance(p, b.UnreadModerationPress) and p.prefix == "mod"
        )
        if moderators_only and not event.who.is_moderator:
            log.info("moderation: %s pressed %s, not a moderator", actor(event.who), event.data)
            return [say("Only moderators can act on reports.")]
        if isinstance(p, b.ReportPress | b.NotePress):
            return await self.reports.press(event.who, user, p)
        if isinstance(p, b.ModeratorPress):
            if p.action in ACTIONS:
                return await self.decisions.decide(event.who, p.report, p.action)
            if p.action == "unban":
                return await self.bans.unban_from_report(event.who, p.report)
            return await self.cards.show(p.report)
        return [say(STALE)]

    async def take_input(self, event: Text | Files, user: Row) -> list[Reply] | None:
        """Typed details or the /protect selfie, when this plugin asked for them; else None."""
        pending = await self.db.pending_input(user["id"])
        if pending is None:
            return None
        if pending["kind"] == "report_note" and isinstance(event, Text):
            return await self.reports.take_note(event, user, int(pending["ref"]))
        if pending["kind"] == "protect_selfie" and isinstance(event, Files):
            return await self.protection.take_selfie(event, user)
        return None

    async def tick(self) -> int:
        """Post reports that could not reach the moderators before; return how many did."""
        return await self.cards.tick()

    # --- for tests and tools ----------------------------------------------------------------
    async def card(self, rid: int) -> Reply:
        return await self.cards.card(rid)

    async def post(self, rid: int) -> bool:
        return await self.cards.post(rid)

    async def decide(self, mod: Who, rid: int, act: str) -> list[Reply]:
        return await self.decisions.decide(mod, rid, act)


def offer_place(studio: object, platform: str, place: Place) -> None:
    """An adapter tells the studio's moderation (if it has one) where its reports go
    (``object``: each adapter types its studio by its own narrow protocol, tests by fakes)."""
    mod = getattr(studio, "moderation", None)
    if isinstance(mod, Moderation):
        mod.add_place(platform, place)


async def attach(studio: Host) -> Moderation:
    """Build the plugin for a :class:`~bot.studio.core.core.Studio` and plug it in."""
    mod = await Moderation(studio.store, studio.engine, studio.settings, studio.outboxes).load()
    studio.moderation = mod
    return mod

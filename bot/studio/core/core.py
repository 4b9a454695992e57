"""The studio core: one conversation per person, the same on every platform.

Public API (adapters rely on it; it stays stable)::

    studio = await Studio.open(settings)            # or Studio(store, engine, prompts, settings)
    studio.add_outbox("telegram", outbox)           # for messages the core sends on its own
    task = asyncio.create_task(studio.run_background())  # follow orders; cancel to stop
    replies = await studio.handle(event)            # replies for the event's chat, in order
    await studio.aclose()

``handle`` takes the events of :mod:`bot.studio.core.events` (Command, Text, Files,
Press) and returns :class:`Reply` objects to render in order. Several files sent
together arrive as ONE ``Files`` event and get one answer with a verdict per
photo. A reply's ``edit_key`` names a message to edit in place (the progress of
an order): the adapter remembers which platform message it sent under that key
(``Store.remember_message`` is there for it) and edits it instead of sending a
new one when it sees the key again.

Button data is the core's (see :mod:`bot.studio.core.buttons`); adapters pass it back
untouched in ``Press.data``. Finished orders, progress and follow-up results are
sent through the outbox registered for the order's platform by ``run_background``
(:mod:`bot.studio.jobs.tracking`).

This module is the facade, and where the feature folders are put together (like
aiogram's ``dp.include_routers``): each part registers its typed presses, commands and
side questions with :class:`~bot.studio.core.routes.Routes`. An event goes to the
moderation plugin (:mod:`bot.studio.core.plugin`), a command to
:mod:`bot.studio.core.commands` (the conversation's own, then the features'), a press,
parsed once, to the handler registered for its type, and text and files to the
conversation's table (:mod:`bot.studio.core.conversation`, built by
:mod:`bot.studio.wizard.wizard` with the features' side steps; its diagram is
``bot/studio/wizard/flow.mmd``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.store.store import Row, Store
from bot.studio.core import buttons as b
from bot.studio.core import words
from bot.studio.core import words_chat as w
from bot.studio.core.commands import ALWAYS, OWN, Commands
from bot.studio.core.conversation import Conversation, Outcome, State, Turn, say
from bot.studio.core.events import Command, Event, Files, Outbox, Press, Reply, Text
from bot.studio.core.inputs import clean_text
from bot.studio.core.plugin import StudioPlugin
from bot.studio.core.routes import Routes
from bot.studio.core.services import ANALYZE_TIMEOUT_S, Services
from bot.studio.history.portraits import Portraits
from bot.studio.jobs.delivery import Delivery
from bot.studio.jobs.tracking import Tracker
from bot.studio.language.language import Language
from bot.studio.moderation import COMMANDS as MODERATION_NAMES
from bot.studio.moderation import attach
from bot.studio.orders.orders import VARIATIONS, Orders
from bot.studio.orders.presses import OrderPresses
from bot.studio.personal.personal import Personal
from bot.studio.pets.pets import Pets
from bot.studio.photos.photos import Photos
from bot.studio.portrait.followups import FollowUps
from bot.studio.portrait.portrait_menu import PortraitMenu
from bot.studio.rights.forget import Forget
from bot.studio.together.part import Together
from bot.studio.wizard.wizard import Wizard
from sitter import i18n
from sitter.config import Settings
from sitter.outage import kind_of
from sitter.packs import Pack, load_packs
from sitter.prompts import PromptLibrary
from sitter.queue import Engine, EngineClient

__all__ = ["ANALYZE_TIMEOUT_S", "VARIATIONS", "State", "Studio", "clean_text"]

log = logging.getLogger(__name__)

# The commands the moderation plugin answers: without a plugin, "not available".
MODERATION_COMMANDS = MODERATION_NAMES


class Studio:
    def __init__(
        self,
        store: Store,
        engine: Engine,
        prompts: PromptLibrary,
        settings: Settings,
        *,
        tick_s: float = 0.5,
        analyze_timeout_s: float = ANALYZE_TIMEOUT_S,
        packs: dict[str, Pack] | None = None,
    ):
        s = Services(store, engine, prompts, settings, tick_s, analyze_timeout_s)
        s.packs = load_packs(prompts) if packs is None else packs  # a bad pack stops start-up
        self.services = s
        self.orders = Orders(s)
        self.followups = FollowUps(s)
        self.portrait_menu = PortraitMenu(s, self.orders)
        self.delivery = Delivery(s)
        self.pets = Pets(s)
        self.photos = Photos(s, self.pets)
        self.wizard = Wizard(s, self.photos, self.orders, self.pets)
        # Each part registers the typed presses it answers and its side questions.
        self.routes = Routes(reserved=OWN | MODERATION_COMMANDS)
        parts = (OrderPresses(self.orders), self.followups, self.portrait_menu)
        self.personal = Personal(s, self.orders)
        self.photos.sheet_rows.append(self.personal.offer_button)
        self.photos.after_done.append(self.personal.after_done)
        more = (self.photos, self.pets, Portraits(s), Forget(s), self.personal, Language(s))
        for part in (*parts, *more):
            part.register(self.routes)
        self.together = Together(s, self.orders)
        self.together.register(self.routes)
        self.conversation: Conversation = self.wizard.conversation(self.routes)
        self.commands = Commands(s, self.conversation, self.wizard, self.orders, self.routes)
        self._moderation: StudioPlugin | None = None
        self._owned: list[Callable[[], Awaitable[Any]]] = []

    # --- the shared parts, as attributes (adapters and tests read and set them) ---------
    store = property(lambda self: self.services.store)
    engine = property(lambda self: self.services.engine)
    prompts = property(lambda self: self.services.prompts)
    outboxes = property(lambda self: self.services.outboxes)
    outages = property(lambda self: self.services.outages)
    send_failures = property(lambda self: self.services.send_failures)
    uploads = property(lambda self: self.services.uploads)

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        self.services.settings = value

    @property
    def tick_s(self) -> float:
        return self.services.tick_s

    @tick_s.setter
    def tick_s(self, value: float) -> None:
        self.services.tick_s = value

    @property
    def analyze_timeout_s(self) -> float:
        return self.services.analyze_timeout_s

    @analyze_timeout_s.setter
    def analyze_timeout_s(self, value: float) -> None:
        self.services.analyze_timeout_s = value

    @property
    def moderation(self) -> StudioPlugin | None:
        """The moderation plugin as it was set (``attach`` sets it)."""
        return self._moderation

    @moderation.setter
    def moderation(self, hook: StudioPlugin | None) -> None:
        if hook is not None and not isinstance(hook, StudioPlugin):
            raise TypeError(
                f"{type(hook).__name__} is not a StudioPlugin (bot/studio/core/plugin.py)"
            )
        if hook is not None and (taken := hook.commands & set(self.routes.commands)):
            raise ValueError(f"the plugin would hide the features' /{', /'.join(sorted(taken))}")
        self._moderation = hook
        self.services.plugin = hook

    # --- life cycle -------------------------------------------------------------------------
    @classmethod
    async def open(cls, settings: Settings, engine: Engine | None = None, **kw: Any) -> Studio:
        """Open the database (migrating it), load prompts/, connect to Redis if needed."""
        prompts = PromptLibrary.load()
        kw.setdefault("packs", load_packs(prompts))  # like a bad style: the file is named
        store = await Store.open(settings.db_path, settings.media_dir)
        owned: list[Callable[[], Awaitable[Any]]] = [store.close]
        if engine is None:
            from sitter.queue import connect

            redis = await connect(settings.redis_url, settings.queue_prefix)
            engine = EngineClient(redis, settings.queue_prefix, poll_delay=settings.poll_delay_s)
            owned.append(redis.aclose)
        studio = cls(store, engine, prompts, settings, **kw)
        studio._owned = owned
        await attach(studio)  # reports, moderators, protected faces, bans
        return studio

    async def aclose(self) -> None:
        for close in reversed(self._owned):
            with contextlib.suppress(Exception):
                await close()
        self._owned = []

    def add_outbox(self, platform: str, outbox: Outbox) -> None:
        self.services.outboxes[platform] = outbox

    def add_invite_link(self, platform: str, link: Callable[[str], str]) -> None:
        """How an invitation's token is passed on there (Telegram: a deep link)."""
        self.services.invite_links[platform] = link

    def tracker(self) -> Tracker:
        """The background follower of orders and follow-ups (one pass: ``tick()``)."""
        return Tracker(self.services, self.orders, self.followups, self.delivery)

    async def run_background(self) -> None:
        """Follow orders and follow-up jobs, deliver results, sweep old data. Cancel to stop."""
        await self.tracker().run()

    # --- what other parts and tests call -------------------------------------------------
    async def job_prefix(self) -> str:
        return await self.services.job_prefix()

    async def enqueue_order(self, order_id: int) -> Reply:
        return await self.orders.enqueue(order_id)

    async def enqueue_follow_up(self, vj_id: int) -> None:
        await self.followups.enqueue(vj_id)

    # --- entry point --------------------------------------------------------------------
    async def handle(self, event: Event) -> list[Reply]:
        who = event.who
        plugin = self.services.plugin
        if plugin is not None and (early := await plugin.gate(event)) is not None:
            return early  # banned: told once, then ignored before any database write
        user = await self.store.ensure_user(
            who.platform, who.user_id, who.name, who.chat_id, locale=i18n.known(who.locale)
        )
        # They write again: what could not be delivered to them is tried again now.
        self.send_failures.pop((user["platform"], user["chat_id"] or ""), None)
        lock = self.services.locks.setdefault(user["id"], asyncio.Lock())
        # A group or server channel speaks its own setting; a person's chat, their language.
        speak = user["locale"] if who.private else self.settings.chat_locale
        async with lock:
            with i18n.use(speak):
                return await self._guarded(event, user)

    async def _guarded(self, event: Event, user: Row) -> list[Reply]:
        try:
            return await self._dispatch(event, user)
        except Exception as exc:
            if self.outages.failed(exc, "a chat event"):  # no traceback: one warning
                busy = kind_of(exc) == "database"
                return [say(words.BUSY if busy else words.OUTAGE)]
            who = event.who.user_id
            log.exception("studio: failed on %s from %s", type(event).__name__, who)
            return [say(w.SOMETHING_WENT_WRONG)]

    async def _dispatch(self, event: Event, user: Row) -> list[Reply]:
        plugin = self.services.plugin
        routes = self.routes
        pressed = b.parse(event.data) if isinstance(event, Press) else None  # the one parse
        # The plugin first: moderators act from group/moderation chats too.
        if isinstance(event, Command) and event.name.lower() in (
            plugin.commands if plugin is not None else MODERATION_COMMANDS
        ):
            if plugin is None:
                return [say(w.NO_PLUGIN)]
            return await plugin.handle_command(event, user)
        if (
            isinstance(event, Press)
            and pressed is not None
            and (
                plugin.owns(pressed)
                if plugin is not None
                else isinstance(pressed, b.ModerationPress)
            )
        ):
            if plugin is None:
                return [say(w.NO_PLUGIN)]
            return await plugin.handle_press(event, pressed, user)  # as read, not again
        exempt = (
            isinstance(event, Command) and (event.name in ALWAYS or event.name in routes.always)
        ) or (pressed is not None and pressed.always)
        if user["banned_at"] and not exempt:
            return [say(w.SUSPENDED)]
        if not event.who.private:
            if isinstance(event, Command) and event.name == "help":
                return [say(words.help_text(self.wizard.total))]
            return [say(w.GO_PRIVATE)]
        talk = self.conversation
        turn = await talk.turn(user)
        consent = await self.store.consent(user["id"])  # read once per event
        consented = consent is not None and consent["version"] == words.CONSENT_VERSION
        if not exempt and turn.state != State.CONSENT and not consented:  # a session, no consent
            return [say(w.CONSENT_CHANGED), *await talk.go(turn, State.CONSENT, {})]
        if isinstance(event, Command):
            turn = await talk.end_side(turn)  # a command ends a side question
            return await self.commands.handle(event, turn, consented)
        if isinstance(event, Press):
            outdated = not consented and consent is not None
            if outdated and not exempt and (pressed is None or pressed.needs_consent):
                # a result's, /portraits' or a portrait's button starts work on their photos:
                # only with consent to the current text (the consent screen's own buttons
                # are wizard presses, and /forget's confirmation is exempt)
                return [say(w.CONSENT_CHANGED), *await talk.show(turn)]
            return await self._press(pressed, turn)
        if plugin is not None and (taken := await plugin.take_input(event, user)) is not None:
            return taken  # details for a report, or the selfie after /protect
        if isinstance(event, Files):
            return await talk.files(turn, event.files)
        assert isinstance(event, Text)
        return await talk.text(turn, clean_text(event.text))

    # --- button presses ----------------------------------------------------------------
    async def _press(self, pressed: b.Pressed | None, turn: Turn) -> list[Reply]:
        """A press, parsed once: the table's own, or the feature registered for its type."""
        if isinstance(pressed, b.WizardPress):
            if pressed.rev != turn.rev:
                return [say(w.STALE_BUTTON), *await self.conversation.show(turn)]
            return await self.conversation.press(turn, pressed.action, pressed.arg)
        handler = self.routes.press(pressed) if pressed is not None else None
        if pressed is None or handler is None:
            return [say(w.DEAD_BUTTON), *await self.conversation.show(turn)]
        out = await handler(turn, pressed)  # replies, or a step to go to (a side question)
        return await self.conversation.finish(turn, out) if isinstance(out, Outcome) else out

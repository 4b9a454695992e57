"""The studio core: one conversation per person, the same on every platform.

Public API (adapters rely on it; it stays stable)::

    studio = await Studio.open(settings)            # or Studio(store, engine, prompts, settings)
    studio.add_outbox("telegram", outbox)           # for messages the core sends on its own
    task = asyncio.create_task(studio.run_background())  # follow orders; cancel to stop
    replies = await studio.handle(event)            # replies for the event's chat, in order
    await studio.aclose()

``handle`` takes the events of :mod:`bot.studio.events` (Command, Text, Files,
Press) and returns :class:`Reply` objects to render in order. Several files sent
together arrive as ONE ``Files`` event and get one answer with a verdict per
photo. A reply's ``edit_key`` names a message to edit in place (the progress of
an order): the adapter remembers which platform message it sent under that key
(``Store.remember_message`` is there for it) and edits it instead of sending a
new one when it sees the key again.

Button data is the core's (see :mod:`bot.studio.buttons`); adapters pass it back
untouched in ``Press.data``. Finished orders, progress and upscale/label results
are sent through the outbox registered for the order's platform by
``run_background``: rows and files are stored first, then the message is sent,
then marked delivered, so an order that finishes while the bot is down is
delivered when it comes back.

Moderation is a hook: set ``studio.moderation`` to an object with
``async handle_command(event, user) -> list[Reply]`` and
``async handle_press(event, user) -> list[Reply]``; it receives ``/report``,
``/protect``, ``/mod...`` commands and ``rep:``/``mod:`` presses.

The flow, as states of a wizard session kept in SQLite::

    consent -> references -> style -> attire -> setting -> lighting -> composition
            -> confirm -> idle (order queued; results arrive via run_background)
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import random
import re
import secrets
import unicodedata
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from bot.store.store import Store
from bot.studio import buttons as b
from bot.studio import reach, rights, uploads
from bot.studio import words as w
from bot.studio.events import (
    Button,
    Command,
    Event,
    Files,
    Image,
    IncomingFile,
    Outbox,
    Press,
    Reply,
    Text,
)
from sitter import contract as c
from sitter.config import Settings
from sitter.observability import ORDERS, bind_order
from sitter.prompts import WIZARD_SLOTS, PromptLibrary
from sitter.queue import Engine, EngineClient

log = logging.getLogger(__name__)

VARIATIONS = 4
ANALYZE_TIMEOUT_S = 90.0
# A new photo is compared with the set only once the set has a majority to compare
# with; otherwise one odd first photo would make every later one "a different
# person". The odd one out is found at Done (check_set) and named.
SET_CHECK_FROM = 3
MODERATION_COMMANDS = frozenset({"report", "protect", "unprotect", "mod", "reports", "ban"})


class State(StrEnum):
    CONSENT = "consent"
    REFERENCES = "references"
    STYLE = "style"
    ATTIRE = "attire"
    SETTING = "setting"
    LIGHTING = "lighting"
    COMPOSITION = "composition"
    CONFIRM = "confirm"
    IDLE = "idle"


WIZARD_ORDER: tuple[State, ...] = (
    State.STYLE,
    State.ATTIRE,
    State.SETTING,
    State.LIGHTING,
    State.COMPOSITION,
    State.CONFIRM,
)
assert tuple(s.value for s in WIZARD_ORDER[1:-1]) == WIZARD_SLOTS


class ModerationHook(Protocol):
    async def handle_command(self, event: Command, user: Any) -> list[Reply]: ...
    async def handle_press(self, event: Press, user: Any) -> list[Reply]: ...


def _say(text: str, *rows: tuple[Button, ...], edit_key: str | None = None) -> Reply:
    return Reply(text=text, buttons=tuple(r for r in rows if r), edit_key=edit_key)


def _rows(items: list[Button], per_row: int) -> list[tuple[Button, ...]]:
    return [tuple(items[i : i + per_row]) for i in range(0, len(items), per_row)]


def clean_text(text: str) -> str:
    """Drop control and format characters a user cannot see, collapse whitespace.

    Keeps emoji and right-to-left scripts; drops bidi overrides and zero-width marks.
    """
    spaced = re.sub(r"\s+", " ", text)
    kept = "".join(ch for ch in spaced if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    return re.sub(r" +", " ", kept).strip()


def _ext(f: IncomingFile) -> str:
    head = (f.data or b"")[:16]
    for magic, ext in (
        (b"\xff\xd8\xff", "jpg"),
        (b"\x89PNG", "png"),
        (b"GIF8", "gif"),
        (b"BM", "bmp"),
    ):
        if head.startswith(magic):
            return ext
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp":
        return "heic"
    return "bin"


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
    ):
        self.store = store
        self.engine = engine
        self.prompts = prompts
        self.settings = settings
        self.tick_s = tick_s
        self.analyze_timeout_s = analyze_timeout_s
        self.outboxes: dict[str, Outbox] = {}
        self.moderation: ModerationHook | None = None
        self._locks: dict[int, asyncio.Lock] = {}
        # (platform, chat id) -> (refusals, other failures, next try): see tracking.send
        self.send_failures: dict[tuple[str, str], tuple[int, int, float]] = {}
        from sitter.outage import Outages

        self.outages = Outages()  # Redis down / disk full: one warning, one line at the end
        self._instance: str | None = None
        self._owned: list[Callable[[], Awaitable[Any]]] = []
        self._screen: Callable[[str], str | None] | None = _find_screen()
        self._screen_order = _find_order_screen()
        self._style_keys = sorted(prompts.styles)
        from bot.studio.uploads import UploadGuard

        self.uploads = UploadGuard(settings.max_refused_per_day)

    # --- life cycle -------------------------------------------------------------------
    @classmethod
    async def open(cls, settings: Settings, engine: Engine | None = None, **kw: Any) -> Studio:
        """Open the database (migrating it), load prompts/, connect to Redis if needed."""
        prompts = PromptLibrary.load()
        store = await Store.open(settings.db_path, settings.media_dir)
        owned: list[Callable[[], Awaitable[Any]]] = [store.close]
        if engine is None:
            from sitter.queue import connect

            redis = await connect(settings.redis_url, settings.queue_prefix)
            engine = EngineClient(redis, settings.queue_prefix, poll_delay=settings.poll_delay_s)
            owned.append(redis.aclose)
        studio = cls(store, engine, prompts, settings, **kw)
        studio._owned = owned
        try:
            from bot.studio.moderation import attach
        except ImportError:  # moderation is optional: the core works without it
            attach = None
        if attach is not None:
            await attach(studio)  # reports, moderators, protected faces, bans
        return studio

    async def aclose(self) -> None:
        for close in reversed(self._owned):
            with contextlib.suppress(Exception):
                await close()
        self._owned = []

    def add_outbox(self, platform: str, outbox: Outbox) -> None:
        self.outboxes[platform] = outbox

    async def run_background(self) -> None:
        """Follow orders and follow-up jobs, deliver results, sweep old data. Cancel to stop."""
        from bot.studio.tracking import Tracker

        await Tracker(self).run()

    async def job_prefix(self) -> str:
        if self._instance is None:
            self._instance = await self.store.instance_id()
        return f"{self.engine.prefix}-{self._instance}"

    # --- entry point --------------------------------------------------------------------
    async def handle(self, event: Event) -> list[Reply]:
        who = event.who
        gate = getattr(self.moderation, "gate", None)
        if gate is not None and (early := await gate(event)) is not None:
            return early  # banned: told once, then ignored before any database write
        user = await self.store.ensure_user(who.platform, who.user_id, who.name, who.chat_id)
        # They write again: what could not be delivered to them is tried again now.
        self.send_failures.pop((user["platform"], user["chat_id"] or ""), None)
        lock = self._locks.setdefault(user["id"], asyncio.Lock())
        async with lock:
            try:
                return await self._dispatch(event, user)
            except Exception as exc:
                if self.outages.failed(exc, "a chat event"):
                    return [_say(w.OUTAGE)]
                log.exception("studio: failed on %s from %s", type(event).__name__, who.user_id)
                return [_say("Sorry, something went wrong on my side. Please try again.")]

    async def _dispatch(self, event: Event, user: Any) -> list[Reply]:
        who = event.who
        # Moderation first: moderators act from group/moderation chats too.
        if isinstance(event, Command) and event.name.lower() in MODERATION_COMMANDS:
            return await self._moderation_command(event, user)
        if isinstance(event, Press) and isinstance(b.parse(event.data), b.ModerationPress):
            return await self._moderation_press(event, user)
        if user["banned_at"]:
            if isinstance(event, Command) and event.name in ("privacy", "forget", "help"):
                pass
            elif not (isinstance(event, Press) and event.data.startswith("f:")):
                return [
                    _say(
                        "Your access to Sitter has been suspended. /privacy and /forget still work."
                    )
                ]
        if not who.private:
            if isinstance(event, Command) and event.name == "help":
                return [_say(w.HELP)]
            return [
                _say(
                    "Let's talk in private: send me /start in a direct message. "
                    "Photos of your face don't belong in a group chat."
                )
            ]
        exempt = (isinstance(event, Command) and event.name in ("help", "privacy", "forget")) or (
            isinstance(event, Press) and event.data.startswith("f:")
        )
        if not exempt:
            s = await self.store.session(user["id"])
            if s is not None and s.state != State.CONSENT and not await self._consented(user):
                return [
                    _say("The consent text changed since you agreed; please read it again."),
                    *await self._go(user, State.CONSENT, {}),
                ]
        if isinstance(event, Command):
            return await self._command(event, user)
        if isinstance(event, Press):
            return await self._press(event, user)
        take = getattr(self.moderation, "take_input", None)
        if take is not None and (taken := await take(event, user)) is not None:
            return taken  # details for a report, or the selfie after /protect
        if isinstance(event, Files):
            return await self._files(event, user)
        return await self._text(event, user)

    # --- sessions ----------------------------------------------------------------------
    async def _consented(self, user: Any) -> bool:
        """Agreed to the current consent text (a new version asks again)."""
        consent = await self.store.consent(user["id"])
        return consent is not None and consent["version"] == w.CONSENT_VERSION

    async def _session(self, user: Any) -> tuple[State, int, dict[str, Any]]:
        s = await self.store.session(user["id"])
        if s is None:
            return State.CONSENT, 0, {}
        return State(s.state), s.rev, s.data

    async def _go(self, user: Any, state: State, data: dict[str, Any]) -> list[Reply]:
        """Move to ``state`` (bumping rev) and return what to show there."""
        s = await self.store.save_session(user["id"], state.value, data)
        return await self._show(user, State(s.state), s.rev, s.data)

    async def _show(self, user: Any, state: State, rev: int, data: dict[str, Any]) -> list[Reply]:
        """The prompt of the current step, with fresh buttons."""
        if state == State.CONSENT:
            return [
                _say(
                    w.welcome(self.settings),
                    (
                        Button("I agree", b.wizard(rev, "agree"), "primary"),
                        Button("No thanks", b.wizard(rev, "decline")),
                    ),
                )
            ]
        if state == State.REFERENCES:
            ref = await self.store.current_set(user["id"])
            n = await self.store.count_photos(ref["id"])
            text = w.ASK_PHOTOS.format(min=self.settings.min_photos)
            if n:
                text += "\n" + w.count_line(n, self.settings.min_photos, self.settings.max_photos)
            return [_say(text, self._done_row(rev, n))]
        if state in WIZARD_ORDER[:-1]:
            return [self._ask_step(state, rev)]
        if state == State.CONFIRM:
            return [self._confirm(rev, data)]
        order = await self.store.last_order(user["id"])
        text = "What next? /new for another portrait, /photos to add photos, /help for more."
        if order is not None and order["status"] in ("queued", "running"):
            text = f"Your order #{order['id']} is {order['status']}. /status shows where it is."
        return [_say(text, (Button("New portrait", b.wizard(rev, "new"), "primary"),))]

    def _done_row(self, rev: int, accepted: int) -> tuple[Button, ...]:
        if accepted >= self.settings.min_photos:
            return (Button(f"Done ({accepted} photos)", b.wizard(rev, "done"), "primary"),)
        return ()

    def _nav_row(self, rev: int) -> tuple[Button, ...]:
        return (
            Button("◀ Back", b.wizard(rev, "back")),
            Button("✕ Cancel", b.wizard(rev, "cancel")),
        )

    def _ask_step(self, state: State, rev: int) -> Reply:
        if state == State.STYLE:
            items = [
                Button(self.prompts.styles[k].name, b.wizard(rev, "style", str(i)))
                for i, k in enumerate(self._style_keys)
            ]
            lines = [f"• {s.name}: {s.description}" for s in self.prompts.styles.values()]
            text = "Step 1 of 5 – choose a style:\n" + "\n".join(lines)
            return _say(text, *_rows(items, 2), self._nav_row(rev))
        step = self.prompts.step(state.value)
        number = WIZARD_ORDER.index(state) + 1
        items = [
            Button(p.label, b.wizard(rev, "preset", str(i))) for i, p in enumerate(step.presets)
        ]
        own = (Button("Type my own", b.wizard(rev, "own"), "free_text"),)
        text = f"Step {number} of 5 – {step.question}\nChoose one, or type your own answer."
        return _say(text, *_rows(items, 2), own, self._nav_row(rev))

    def _order_words(self, data: dict[str, Any]) -> str:
        style = self.prompts.styles.get(data.get("style", ""))
        lines = [f"Style: {style.name if style else '?'}"]
        for slot in WIZARD_SLOTS:
            lines.append(f"{slot.capitalize()}: {data.get(slot, '')}")
        return "\n".join(lines)

    def _confirm(self, rev: int, data: dict[str, Any]) -> Reply:
        text = (
            f"Your order:\n{self._order_words(data)}\n\nI'll paint {VARIATIONS} variations. "
            "Queue it?"
        )
        return _say(
            text,
            (Button("✓ Queue it", b.wizard(rev, "go"), "primary"),),
            self._nav_row(rev),
        )

    # --- commands ----------------------------------------------------------------------
    async def _command(self, event: Command, user: Any) -> list[Reply]:
        name = event.name.lower().lstrip("/")
        state, rev, data = await self._session(user)
        consented = await self._consented(user)
        if name == "help":
            return [_say(w.HELP)]
        if name == "privacy":
            return [_say(w.privacy(self.settings))]
        if name == "forget":
            return [
                _say(
                    "This deletes all your photos, orders and portraits, and your consent. "
                    "It cannot be undone. Delete everything?",
                    (
                        Button("Yes, delete everything", b.item("f", rev), "danger"),
                        Button("Keep my data", b.wizard(rev, "keep")),
                    ),
                )
            ]
        if name == "start":
            if not consented:
                return await self._go(user, State.CONSENT, {})
            return [
                _say("Welcome back – here's where we were."),
                *await self._show(user, state, rev, data),
            ]
        if not consented:
            return [_say("First things first:"), *await self._go(user, State.CONSENT, {})]
        if name == "status":
            return [await self._status(user, state, data)]
        if name == "cancel":
            return await self._cancel(user, state, rev, data)
        if name == "new":
            return await self._new(user)
        if name == "photos":
            ref = await self.store.current_set(user["id"])
            await self.store.set_status(ref["id"], "collecting")
            return await self._go(user, State.REFERENCES, data)
        if name == "done" and state == State.REFERENCES:
            return await self._done(user, data)
        known = "/start /new /photos /status /cancel /privacy /forget /help"
        return [_say(f"I don't know the command /{clean_text(name)[:40]}. I know: {known}.")]

    async def _status(self, user: Any, state: State, data: dict[str, Any]) -> Reply:
        order = await self.store.last_order(user["id"])
        if order is None:
            where = {
                State.CONSENT: "waiting for your consent (/start)",
                State.REFERENCES: "collecting your photos",
                State.CONFIRM: "waiting for you to confirm your order",
                State.IDLE: "ready for a new portrait (/new)",
            }.get(state, f"at the {state.value} step of the wizard")
            return _say(f"No orders yet. We're {where}.")
        text = f"Order #{order['id']} ({self._style_name(order['style'])}): "
        if order["status"] in ("queued", "running") and order["job_id"]:
            js = await self.engine.state(c.JOB_GENERATE, order["job_id"])
            if js.status == "queued":
                text += (
                    f"queued, position {int(js.position or 0) + 1}.{await self.no_worker_note()}"
                )
            elif js.status == "running" and await self._orphaned(order["job_id"]):
                text += "its engine worker stopped; it goes back to the queue in a moment."
            elif js.status == "running":
                text += "being painted right now."
            else:
                text += "finishing up."
        else:
            text += {
                "done": "ready; sending it now.",
                "delivered": "delivered.",
                "failed": f"failed: {order['error']}",
                "cancelled": "cancelled.",
            }.get(order["status"], order["status"])
        today = await self._orders_today(user)
        if self.settings.daily_quota:
            text += f"\nOrders today: {today} of {self.settings.daily_quota}."
        return _say(text)

    async def _orphaned(self, job_id: str) -> bool:
        """The worker that claimed the running job is gone (never with an older engine)."""
        return await self.engine.orphaned(job_id)

    def _style_name(self, key: str) -> str:
        s = self.prompts.styles.get(key)
        return s.name if s else key

    async def _cancel(self, user: Any, state: State, rev: int, data: dict[str, Any]) -> list[Reply]:
        order = await self.store.active_order(user["id"])
        if state in (*WIZARD_ORDER, State.REFERENCES):
            replies = await self._go(user, State.IDLE, {})
            return [_say("Cancelled. Your photos are kept; nothing was queued."), *replies]
        if order is not None:
            return [await self._cancel_order(user, order["id"])]
        return [_say("There's nothing to cancel right now.")]

    async def _new(self, user: Any) -> list[Reply]:
        ref = await self.store.current_set(user["id"])
        if ref["status"] != "ready":
            return await self._go(user, State.REFERENCES, {})
        return await self._go(user, State.STYLE, {})

    # --- moderation hook ------------------------------------------------------------------
    async def _moderation_command(self, event: Command, user: Any) -> list[Reply]:
        if self.moderation is None:
            return [_say("Reporting is not available yet.")]
        return await self.moderation.handle_command(event, user)

    async def _moderation_press(self, event: Press, user: Any) -> list[Reply]:
        if self.moderation is None:
            return [_say("Reporting is not available yet.")]
        return await self.moderation.handle_press(event, user)

    # --- button presses ----------------------------------------------------------------
    async def _press(self, event: Press, user: Any) -> list[Reply]:
        parsed = b.parse(event.data)
        state, rev, data = await self._session(user)
        if parsed is None:
            return [
                _say("That button doesn't work any more. Here's where we are:"),
                *await self._show(user, state, rev, data),
            ]
        if isinstance(parsed, b.ItemPress):
            return await self._item_press(parsed, user, rev)
        assert isinstance(parsed, b.WizardPress)
        if parsed.rev != rev:
            return [
                _say("That button is from an earlier message. Here's where we are now:"),
                *await self._show(user, state, rev, data),
            ]
        return await self._wizard_press(parsed, user, state, rev, data)

    async def _wizard_press(
        self, p: b.WizardPress, user: Any, state: State, rev: int, data: dict[str, Any]
    ) -> list[Reply]:
        act = p.action
        if act == "keep":
            return [_say("Good, nothing was deleted."), *await self._show(user, state, rev, data)]
        if state == State.CONSENT:
            if act == "agree":
                await self.store.record_consent(user["id"], w.CONSENT_VERSION, w.CONSENT_TEXT)
                return [_say("Thank you, noted."), *await self._go(user, State.REFERENCES, {})]
            if act == "decline":
                await self.store.save_session(user["id"], State.CONSENT.value, {})
                return [
                    _say(
                        "No problem. I won't keep or use any photo. /start if you change your mind."
                    )
                ]
        elif state == State.REFERENCES and act == "done":
            return await self._done(user, data)
        elif state == State.IDLE and act == "new":
            return await self._new(user)
        elif state in WIZARD_ORDER:
            if act == "back":
                return await self._back(user, state, data)
            if act == "cancel":
                return await self._cancel(user, state, rev, data)
            if act == "own" and state not in (State.STYLE, State.CONFIRM):
                return [
                    _say(f"Type your answer as a message (up to {w.FREE_TEXT_MAX} characters).")
                ]
            if act == "style" and state == State.STYLE:
                try:
                    key = self._style_keys[int(p.arg)]
                except (ValueError, IndexError):
                    return [_say("I don't know that style."), self._ask_step(state, rev)]
                return await self._answer(user, state, data, key)
            if act == "preset" and state not in (State.STYLE, State.CONFIRM):
                presets = self.prompts.step(state.value).presets
                try:
                    value = presets[int(p.arg)].value
                except (ValueError, IndexError):
                    return [_say("That choice isn't on the list."), self._ask_step(state, rev)]
                return await self._answer(user, state, data, value)
            if act == "go" and state == State.CONFIRM:
                return await self._place(user, data)
        return [
            _say("That button doesn't fit this step. Here's where we are:"),
            *await self._show(user, state, rev, data),
        ]

    async def _back(self, user: Any, state: State, data: dict[str, Any]) -> list[Reply]:
        i = WIZARD_ORDER.index(state)
        if i == 0:
            ref = await self.store.current_set(user["id"])
            await self.store.set_status(ref["id"], "collecting")
            return await self._go(user, State.REFERENCES, data)
        return await self._go(user, WIZARD_ORDER[i - 1], data)

    async def _answer(
        self, user: Any, state: State, data: dict[str, Any], value: str
    ) -> list[Reply]:
        data = {**data, state.value: value}
        nxt = WIZARD_ORDER[WIZARD_ORDER.index(state) + 1]
        return await self._go(user, nxt, data)

    # --- typed text ------------------------------------------------------------------
    async def _text(self, event: Text, user: Any) -> list[Reply]:
        state, rev, data = await self._session(user)
        raw = event.text
        text = clean_text(raw)
        if state == State.CONSENT:
            return [
                _say(
                    "Please press “I agree” to continue (or /privacy to read how your "
                    "photos are handled)."
                ),
                *await self._show(user, state, rev, data),
            ]
        if state == State.REFERENCES:
            if text.lower() in ("done", "/done"):
                return await self._done(user, data)
            return [
                _say(
                    "I'm waiting for photos: send them as photos or files, or press Done "
                    "when you have enough."
                ),
                *await self._show(user, state, rev, data),
            ]
        if state == State.IDLE:
            return [
                _say("I'm not asking anything right now."),
                *await self._show(user, state, rev, data),
            ]
        if state == State.CONFIRM:
            return [
                _say("Press “Queue it” to order, or Back to change something."),
                self._confirm(rev, data),
            ]
        if not text:
            return [
                _say("That message was empty. Choose a button or type your answer."),
                self._ask_step(state, rev),
            ]
        if len(text) > w.FREE_TEXT_MAX:
            return [
                _say(
                    f"That's {len(text):,} characters; please keep it under {w.FREE_TEXT_MAX} "
                    "– a few words are enough."
                ),
                self._ask_step(state, rev),
            ]
        if state == State.STYLE:
            style = self.prompts.find_style(text)
            if style is None:
                names = ", ".join(self.prompts.styles[k].name for k in self._style_keys)
                return [
                    _say(f"I don't know the style “{text}”. Choose one of: {names}."),
                    self._ask_step(state, rev),
                ]
            return await self._answer(user, state, data, style.key)
        if self._screen is not None:
            refusal = self._screen(text)
            if refusal:
                return [_say(refusal), self._ask_step(state, rev)]
        return await self._answer(user, state, data, text)

    # --- reference photos ------------------------------------------------------------------
    async def _files(self, event: Files, user: Any) -> list[Reply]:
        state, rev, data = await self._session(user)
        if state == State.CONSENT:
            return [
                _say("Before I look at any photo I need your consent. I didn't keep these."),
                *await self._show(user, state, rev, data),
            ]
        if state != State.REFERENCES:
            where = "now" if state == State.IDLE else f"at the {state.value} step now"
            return [
                _say(f"I'm not collecting photos {where}. To add more, use /photos."),
                *await self._show(user, state, rev, data),
            ]
        from bot.studio import uploads

        ref = await self.store.current_set(user["id"])
        if not await uploads.engine_alive(self):
            kept, refused = await uploads.keep_pending(
                self, user, ref["id"], list(event.files[: self.settings.max_files_per_message])
            )
            s = await self.store.save_session(user["id"], State.REFERENCES.value, data)
            usable = await uploads.usable(self, ref["id"])
            text = "\n".join([*refused, uploads.engine_down_text(kept)])
            return [_say(text, self._done_row(s.rev, usable))]

        async def collecting() -> bool:
            return (await self._session(user))[0] == State.REFERENCES

        lines = await uploads.run_burst(
            self, user, event.files, lambda f: self._one_photo(user, ref["id"], f), collecting
        )
        accepted = await self.store.count_photos(ref["id"])
        lines.append("")
        lines.append(w.count_line(accepted, self.settings.min_photos, self.settings.max_photos))
        s = await self.store.save_session(user["id"], State.REFERENCES.value, data)
        return [_say("\n".join(lines), self._done_row(s.rev, accepted))]

    async def _one_photo(self, user: Any, set_id: int, f: IncomingFile) -> str:
        """Analyse one file; return the verdict in words (accepted with ✓)."""
        if f.data is None:
            return f"✗ I could not get this file{': ' + f.error if f.error else ''}."
        if len(f.data) > self.settings.max_upload_bytes:
            mb = self.settings.max_upload_bytes / 1e6
            return f"✗ it is {len(f.data) / 1e6:.1f} MB; the limit is {mb:.0f} MB."
        if not f.data:
            return "✗ the file is empty."
        if await self.store.count_photos(set_id) >= self.settings.max_photos:
            return f"✗ I already have {self.settings.max_photos} good photos; that's enough."
        sha = hashlib.sha256(f.data).hexdigest()
        dup = await self.store.photo_by_sha(set_id, sha)
        if dup is not None and dup["status"] == "pending":
            await self.store.delete_photo(dup["id"])  # its check was cut short: check again
        elif dup is not None:
            was = {"accepted": "accepted", "refused": "refused", "excluded": "left out"}
            return f"✗ same photo as one you already sent ({was.get(dup['status'], 'seen')})."
        rel, sha = self.store.media.put(user["id"], "refs", f.data, _ext(f))
        photo_id = await self.store.add_photo(set_id, user["id"], sha, rel, f.filename[:200])
        accepted = await self.store.photos(set_id, "accepted")
        req = c.AnalyzePhotoRequest(
            photo=f.data,
            filename=f.filename[:200],
            set_embeddings=[_embedding(p) for p in accepted if p["embedding"]]
            if len(accepted) >= SET_CHECK_FROM
            else [],
            protected=[
                c.ProtectedFace(
                    id=p["id"],
                    embedding=c.Embedding(backend=p["backend"], vector=json.loads(p["embedding"])),
                )
                for p in await self.store.protected_faces()
                # a person's own /protect keeps others out, not themself
                if not (p["source"] == "self" and p["owner_user_id"] == user["id"])
            ],
        )
        job_id = rights.analysis_job_id(await self.job_prefix(), user["id"])
        handle = await self.engine.enqueue(c.JOB_ANALYZE, req, job_id=job_id)
        try:
            result = await self.engine.result(c.JOB_ANALYZE, handle, timeout=self.analyze_timeout_s)
        except TimeoutError:
            await self.engine.drop([handle.job_id])  # it holds the photo: not left in Redis
            await self.store.delete_photo(photo_id)
            return (
                f"{uploads.CHECKER_TIMED_OUT} (the engine is busy or stopped). "
                "Please send it again in a minute."
            )
        await self.engine.drop([handle.job_id])  # read: its photo, crop, embedding leave Redis
        if isinstance(result, c.JobFailure):
            await self.store.delete_photo(photo_id)
            return f"✗ I couldn't check it ({result.message}). Please send it again."
        assert isinstance(result, c.AnalyzePhotoResult)
        reasons = [{"problem": i.problem.value, "detail": i.detail} for i in result.issues]
        if not result.accepted or result.embedding is None:
            await rights.refused(self.store, user["id"], photo_id, reasons, result.protected_match)
            why = "; ".join(w.issue_words(i) for i in result.issues) or "it can't be used"
            return f"✗ {why}."
        crop = None
        if result.face_crop:
            crop, _ = self.store.media.put(user["id"], "crops", result.face_crop, "png")
        await self.store.update_photo(
            photo_id,
            "accepted",
            reasons,
            embedding=list(result.embedding.vector),
            backend=result.embedding.backend,
            crop_path=crop,
            width=result.width,
            height=result.height,
            quality=dict(result.quality),
        )
        return "✓ accepted."

    async def _done(self, user: Any, data: dict[str, Any]) -> list[Reply]:
        from bot.studio import uploads

        ref = await self.store.current_set(user["id"])
        pending = await self.store.photos(ref["id"], "pending")
        checked: list[str] = []
        enough = len(await self.store.photos(ref["id"], "accepted")) >= self.settings.min_photos
        if (pending or enough) and not await uploads.engine_alive(self):
            s = await self.store.save_session(user["id"], State.REFERENCES.value, data)
            n = await uploads.usable(self, ref["id"])
            return [_say(uploads.engine_down_text(len(pending)), self._done_row(s.rev, n))]
        if pending:
            checked = await uploads.check_pending(
                self, user, ref["id"], lambda f: self._one_photo(user, ref["id"], f)
            )
        accepted = await self.store.photos(ref["id"], "accepted")
        minimum = self.settings.min_photos
        if checked:
            checked.append("")
        if len(accepted) < minimum:
            s = await self.store.save_session(user["id"], State.REFERENCES.value, data)
            return [
                _say(
                    "\n".join(checked)
                    + f"I need at least {minimum} good photos; I have {len(accepted)}. "
                    "Send a few more.",
                    self._done_row(s.rev, len(accepted)),
                )
            ]
        notes: list[str] = []
        if len(accepted) >= 3:
            req = c.CheckSetRequest(embeddings=[_embedding(p) for p in accepted])
            job_id = rights.analysis_job_id(await self.job_prefix(), user["id"])
            try:
                result = await self.engine.call(
                    c.JOB_CHECK_SET, req, job_id=job_id, timeout=self.analyze_timeout_s
                )
            except TimeoutError:
                s = await self.store.save_session(user["id"], State.REFERENCES.value, data)
                return [
                    _say(
                        "The photo checker didn't answer in time; press Done again in a minute.",
                        self._done_row(s.rev, len(accepted)),
                    )
                ]
            if isinstance(result, c.JobFailure):
                s = await self.store.save_session(user["id"], State.REFERENCES.value, data)
                return [
                    _say(
                        f"I couldn't compare your photos ({result.message}). Press Done to "
                        "try again.",
                        self._done_row(s.rev, len(accepted)),
                    )
                ]
            assert isinstance(result, c.CheckSetResult)
            for i in result.outliers:
                if 0 <= i < len(accepted):
                    p = accepted[i]
                    reason = [
                        {
                            "problem": "different_person",
                            "detail": "looks like a different person than the others",
                        }
                    ]
                    await self.store.update_photo(
                        p["id"],
                        "excluded",
                        reason,
                        embedding=json.loads(p["embedding"]),
                        backend=p["backend"],
                    )
                    notes.append(
                        f"• {p['filename'] or 'photo ' + str(i + 1)} looks like a "
                        "different person than the others, so I left it out."
                    )
        left = len(accepted) - len(notes)
        if left < minimum:
            s = await self.store.save_session(user["id"], State.REFERENCES.value, data)
            return [
                _say(
                    "\n".join(
                        [
                            *notes,
                            f"That leaves {left} good photos; I need {minimum}. "
                            "Send a few more of the same person.",
                        ]
                    ),
                    self._done_row(s.rev, left),
                )
            ]
        await self.store.set_status(ref["id"], "ready")
        head = f"Great, {left} photos of you are ready."
        return [_say("\n".join([*checked, *notes, head])), *await self._go(user, State.STYLE, {})]

    # --- orders ------------------------------------------------------------------------
    async def _limits(self, user: Any) -> str | None:
        active = await self.store.active_order(user["id"])
        if active is not None:
            return (
                f"You already have an order in progress (#{active['id']}). Wait for it, or "
                "cancel it with /cancel, before ordering another."
            )
        quota = self.settings.daily_quota
        if quota and await self._orders_today(user) >= quota:
            return f"You've reached today's limit of {quota} orders. It resets at midnight UTC."
        return None

    async def _orders_today(self, user: Any) -> int:
        """Today's orders, counting those placed before a /forget today."""
        pid = user["platform_user_id"]
        carried = await rights.carried_orders(self.store, user["platform"], pid)
        return await self.store.orders_since(user["id"], _today()) + carried

    async def _place(self, user: Any, data: dict[str, Any]) -> list[Reply]:
        refusal = await self._limits(user)
        if refusal:
            return [_say(refusal)]
        style = self.prompts.styles.get(data.get("style", ""))
        if style is None:
            return [
                _say("That style is no longer offered; please choose again."),
                *await self._go(user, State.STYLE, {}),
            ]
        ref = await self.store.current_set(user["id"])
        if not await self.store.photos(ref["id"], "accepted"):
            return [
                _say("Your reference photos are gone; please send new ones."),
                *await self._go(user, State.REFERENCES, {}),
            ]
        if (refusal := await reach.check_set(self, user, ref["id"])) is not None:
            return [_say(refusal)]
        answers = {k: str(data.get(k, "")) for k in WIZARD_SLOTS}
        if self._screen_order is not None:
            refusal = self._screen_order(answers)
            if refusal:
                return [_say(refusal + " Go Back and change it.")]
        from bot.studio.prompt_fit import prompt_refusal  # FLUX.2 [klein]'s 512 tokens

        too_long = await prompt_refusal(
            self.engine,
            self.prompts,
            style.key,
            answers,
            job_id=rights.analysis_job_id(await self.job_prefix(), user["id"]),
        )
        if too_long:
            return [_say(too_long + " Go Back and change it.")]
        order_id = await self.store.create_order(
            user_id=user["id"],
            set_id=ref["id"],
            platform=user["platform"],
            chat_id=user["chat_id"] or "",
            style=style.key,
            choices=answers,
            prompt=style.compose(answers),
            negative_prompt=style.negative,
            params=style.params.model_dump(exclude_none=True),
            seeds=_seeds(),
        )
        await self.store.save_session(user["id"], State.IDLE.value, data)
        ORDERS.labels(user["platform"]).inc()
        return [await self.enqueue_order(order_id)]

    async def enqueue_order(self, order_id: int) -> Reply:
        """Queue an order's generation (idempotent: its job id derives from the order id)."""
        order = await self.store.order(order_id)
        assert order is not None
        # Row ids can come back after a deletion (/forget of the newest order), and arq
        # keeps a finished job's result for days: the random part keeps a new order from
        # ever matching an old job. Stored on first enqueue, so re-enqueues stay idempotent.
        job_id = order["job_id"] or (
            f"{await self.job_prefix()}-o{order_id}-{secrets.token_hex(4)}"
        )
        refs = await self.store.photos(order["set_id"], "accepted") if order["set_id"] else []
        if not refs:
            await self.store.set_order(
                order_id, status="failed", error="the reference photos are gone"
            )
            return _say(f"Order #{order_id} can't be made: your reference photos are gone.")
        style = self.prompts.styles.get(order["style"])
        req = c.GenerateRequest(
            generation_id=job_id,
            prompt=order["prompt"],
            reference_prompt=self._reference_prompt(order),
            negative_prompt=order["negative_prompt"],
            style=order["style"],
            gate=style.likeness if style else c.LikenessGate(),  # the style's likeness policy
            params=c.GenerationParams(**json.loads(order["params"])),
            seeds=json.loads(order["seeds"]),
            references=[
                c.Reference(
                    embedding=_embedding(p),
                    face_crop=self.store.media.read(p["crop_path"]) if p["crop_path"] else None,
                    quality=json.loads(p["quality"] or "{}"),
                )
                for p in refs
            ],
            protected=await reach.protected_for(self.store, order["user_id"]),
        )
        await self.store.set_order(order_id, job_id=job_id, enqueues=order["enqueues"] + 1)
        with bind_order(job_id):  # the worker logs under the same id
            await self.engine.enqueue(c.JOB_GENERATE, req, job_id=job_id)
            log.info(
                "order %s queued (%s, %d reference photos)", order_id, order["style"], len(refs)
            )
        js = await self.engine.state(c.JOB_GENERATE, job_id)
        text = self.progress_text(order_id, js.status, js.position, await self.no_worker_note())
        await self.store.set_order(order_id, progress=text)
        return self.progress_reply(order_id, text, cancellable=js.status == "queued")

    def _reference_prompt(self, order: Any) -> str:
        """The order worded for FLUX.2 [klein] (the engine picks what its model needs)."""
        if order["style"] not in self.prompts.styles:
            return ""
        return self.prompts.reference_prompt(order["style"], json.loads(order["choices"] or "{}"))

    async def no_worker_note(self, queue: str = c.QUEUE_GPU) -> str:
        """ " The engine isn't running..." when no worker's heartbeat is alive for ``queue``."""
        from bot.studio.uploads import engine_alive
        from sitter.heartbeat import minutes_ago

        if await engine_alive(self, queue):
            return ""
        try:
            seen = await self.engine.last_seen(queue)
        except Exception:
            seen = None
        return (
            f" The studio's engine is not running ({minutes_ago(seen)}); your order waits "
            "safely and starts when it runs again."
        )

    def progress_text(
        self, order_id: int, status: str, position: int | None, note: str = ""
    ) -> str:
        if status == "queued":
            pos = int(position or 0) + 1
            ahead = "you're next" if pos == 1 else f"{pos - 1} ahead of you"
            return f"Order #{order_id} is queued: position {pos} ({ahead}).{note}"
        if status == "running":
            return f"Order #{order_id}: painting your {VARIATIONS} portraits now…"
        return f"Order #{order_id}: finishing up…"

    def progress_reply(self, order_id: int, text: str, cancellable: bool) -> Reply:
        row = (Button("Cancel order", b.item("q", order_id), "danger"),) if cancellable else ()
        return _say(text, row, edit_key=f"order-{order_id}")

    async def _cancel_order(self, user: Any, order_id: int) -> Reply:
        order = await self.store.order(order_id)
        if order is None or order["user_id"] != user["id"]:
            return _say("That order isn't yours.")
        if order["status"] not in ("queued", "running"):
            return _say(f"Order #{order_id} is already {order['status']}; nothing to cancel.")
        removed = False
        if order["job_id"]:
            removed = await _remove_queued(self.engine, order["job_id"])
        if not removed and order["job_id"]:
            js = await self.engine.state(c.JOB_GENERATE, order["job_id"])
            if js.status != "missing":
                return _say(
                    f"Order #{order_id} is already being painted and can't be stopped; "
                    "it will arrive shortly."
                )
        await self.store.set_order(order_id, status="cancelled", finished_at=_now())
        text = f"Order #{order_id} cancelled. It doesn't count toward today's limit."
        await self.store.set_order(order_id, progress=text)
        return _say(text, edit_key=f"order-{order_id}")

    # --- result buttons -------------------------------------------------------------------
    async def _item_press(self, p: b.ItemPress, user: Any, rev: int) -> list[Reply]:
        if p.kind == "f":
            if p.id != rev:
                return [
                    _say(
                        "That delete button is from an earlier message; send /forget "
                        "again if you want to delete everything."
                    )
                ]
            return [await self._forget(user)]
        if p.kind in ("r", "q"):
            order = await self.store.order(p.id)
            if order is None:
                return [_say("That order no longer exists.")]
            if order["user_id"] != user["id"]:
                return [_say("This portrait belongs to someone else.")]
            if p.kind == "q":
                return [await self._cancel_order(user, p.id)]
            return await self._retry(user, order)
        variation = await self.store.variation(p.id)
        if variation is None:
            return [_say("That portrait no longer exists.")]
        if variation["user_id"] != user["id"]:
            return [_say("This portrait belongs to someone else.")]
        if variation["removed_at"] or not variation["path"]:
            return [_say("That portrait was removed.")]
        return [await self._follow_up(user, variation, "upscale" if p.kind == "u" else "label")]

    async def _retry(self, user: Any, order: Any) -> list[Reply]:
        if order["status"] in ("queued", "running"):
            return [_say(f"Order #{order['id']} is still in progress; wait for it first.")]
        refusal = await self._limits(user)
        if refusal:
            return [_say(refusal)]
        if order["set_id"] and (refusal := await reach.check_set(self, user, order["set_id"])):
            return [_say(refusal)]
        new_id = await self.store.create_order(
            user_id=user["id"],
            set_id=order["set_id"],
            platform=user["platform"],
            chat_id=user["chat_id"] or order["chat_id"] or "",
            style=order["style"],
            choices=json.loads(order["choices"]),
            prompt=order["prompt"],
            negative_prompt=order["negative_prompt"],
            params=json.loads(order["params"]),
            seeds=_seeds(),
            retry_of=order["id"],
        )
        return [
            _say(f"Trying order #{order['id']} again with new seeds."),
            await self.enqueue_order(new_id),
        ]

    async def _follow_up(self, user: Any, variation: Any, kind: str) -> Reply:
        n = variation["idx"]
        verb = {"upscale": "Upscaling", "label": "Labelling"}[kind]
        vj = await self.store.variation_job(variation["id"], kind)
        if vj is not None and vj["status"] == "queued":
            return _say(f"{verb} #{n} is already under way; I'll send it when it's ready.")
        if vj is not None and vj["status"] in ("done", "delivered") and vj["path"]:
            return self.follow_up_reply(vj, n, again=True)
        if vj is None:
            vj_id = await self.store.create_variation_job(variation["id"], user["id"], kind)
        else:  # failed before: try again
            vj_id = vj["id"]
            await self.store.set_variation_job(
                vj_id, status="queued", error=None, delivered_at=None
            )
        await self.enqueue_follow_up(vj_id)
        return _say(f"{verb} #{n}… I'll send it as a file when it's ready.")

    async def enqueue_follow_up(self, vj_id: int) -> None:
        vj = await self.store.one("SELECT * FROM variation_jobs WHERE id = ?", vj_id)
        assert vj is not None
        variation = await self.store.variation(vj["variation_id"])
        assert variation is not None
        image = self.store.media.read(variation["path"])
        job, req = (
            (c.JOB_UPSCALE, c.UpscaleRequest(image=image))
            if vj["kind"] == "upscale"
            else (c.JOB_LABEL, c.LabelRequest(image=image))
        )
        tries = vj["enqueues"] + 1
        job_id = f"{await self.job_prefix()}-{vj['kind'][0]}{vj_id}-{tries}-{secrets.token_hex(4)}"
        if vj["job_id"]:  # pressed again: the old job (and its portrait) leaves Redis
            await self.engine.drop([vj["job_id"]])
        await self.store.set_variation_job(vj_id, job_id=job_id, enqueues=tries)
        await self.engine.enqueue(job, req, job_id=job_id)

    def follow_up_reply(self, vj: Any, n: int, again: bool = False) -> Reply:
        what = {"upscale": "upscaled", "label": "with the “Made with AI” label"}[vj["kind"]]
        text = f"Portrait #{n} {what}" + (f" ({vj['method']})" if vj["method"] else "") + "."
        if again:
            text = "Here it is again: " + text
        text += " Sent as a file so its AI provenance metadata stays intact."
        path = self.store.media.path(vj["path"])
        return Reply(text=text, images=(Image(path, caption=f"#{n}", as_file=True),))

    # --- data rights -------------------------------------------------------------------
    async def _forget(self, user: Any) -> Reply:
        active = await self.store.active_order(user["id"])
        if active is not None and active["job_id"]:
            await _remove_queued(self.engine, active["job_id"])
        # Kept results hold portraits (and their requests the reference crops); photo
        # checks hold photos: Redis first, then rows, files, protections, audit log.
        counts = await rights.forget_everywhere(self, user["id"])
        self._locks.pop(user["id"], None)
        return _say(
            f"Done. I deleted {counts.photos} photo{'s' if counts.photos != 1 else ''}, "
            f"{counts.orders} order{'s' if counts.orders != 1 else ''} and "
            f"{counts.results} portrait{'s' if counts.results != 1 else ''} "
            f"({counts.files} files), and your consent. /start to begin again."
        )


# --- helpers ---------------------------------------------------------------------------
def _embedding(photo: Any) -> c.Embedding:
    return c.Embedding(backend=photo["backend"] or "", vector=json.loads(photo["embedding"]))


def _seeds() -> list[int]:
    rng = random.SystemRandom()
    return [rng.randrange(2**31) for _ in range(VARIATIONS)]


def _today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT00:00:00.000Z")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


async def _remove_queued(engine: Engine, job_id: str) -> bool:
    """Take a job out of its queue if it hasn't started; True when it was removed."""
    return await engine.remove_queued(job_id)


def _find_screen() -> Callable[[str], str | None] | None:
    """The free-text screen of bot/studio/safety.py, when that module exists.

    Returns ``screen(text) -> refusal sentence | None``.
    """
    try:
        from bot.studio import safety
    except ImportError:
        return None
    check = getattr(safety, "screen_text", None)
    if check is None:
        return getattr(safety, "screen", None)

    def screen(text: str) -> str | None:
        verdict = check(text)
        return None if verdict.ok else verdict.message

    return screen


def _find_order_screen() -> Callable[[dict[str, str]], str | None] | None:
    """Screens all typed answers together (a phrase split across two slots)."""
    try:
        from bot.studio import safety
    except ImportError:
        return None
    check = getattr(safety, "screen_order", None)
    if check is None:
        return None

    def screen(slots: dict[str, str]) -> str | None:
        verdict = check(slots)
        return None if verdict.ok else verdict.message

    return screen

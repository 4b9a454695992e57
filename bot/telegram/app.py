"""The Telegram adapter: python-telegram-bot (v22) in front of the studio core.

Platform quirks live here, decisions in the core (bot/studio/core/core.py):

- private chats carry the studio; in a group the bot answers commands with a
  pointer to the private chat (a t.me deep link) and ignores photos. The
  configured moderation chat is the exception: its commands and button presses
  go to the core, which checks who may moderate;
- one update -> one event; an album (many updates, one ``media_group_id``) ->
  one :class:`Files` event, answered once;
- every callback query is answered; a short answer to a press that changes
  nothing (stale or foreign button) is shown as the popup over the button;
- one chat's events are handled in order, different chats concurrently;
- flood control (bot/telegram/flood.py): 30 messages/s overall, 20/min per
  group, about 1/s per private chat after a short burst; a ``RetryAfter`` from
  the server is waited out and the request sent again.

Entry point for ``sitter run`` and ``sitter bot`` (bot/app.py):
``await TelegramBot().run(services)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from telegram import BotCommand, CallbackQuery, Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.adapter import Services
from bot.studio.core import buttons
from bot.studio.core.events import (
    ChatRefused,
    Event,
    Files,
    IncomingFile,
    Press,
    Recipient,
    Reply,
    Text,
    Who,
)
from bot.studio.moderation import Place, offer_place
from bot.telegram import translate
from bot.telegram.albums import AlbumBuffer
from bot.telegram.flood import FloodControl, refuses_us
from bot.telegram.locks import KeyedLocks
from bot.telegram.menu import GROUP_COMMANDS, menus
from bot.telegram.reachable import start_when_reachable
from bot.telegram.render import MessageIds, Renderer
from bot.telegram.settings import TOKEN_HELP, TelegramSettings
from sitter.config import ConfigError, Settings

log = logging.getLogger(__name__)

POPUP_MAX = 200  # Telegram shows at most 200 characters in a callback answer
PRESS_ANSWER_AFTER_S = 2.0  # answer a slow press early, so the button stops spinning
SORRY = (
    "Something went wrong on my side while handling that. Nothing you sent is lost; "
    "please try again in a moment."
)


class StudioLike(Protocol):
    async def handle(self, event: Event) -> list[Reply]: ...

    def add_outbox(self, platform: str, outbox: Any) -> None: ...

    def add_invite_link(self, platform: str, link: Callable[[str], str]) -> None: ...


def moderation_place(settings: TelegramSettings) -> Place:
    """What Telegram tells moderation: reports go to the configured chat; a private
    chat's id is the user's id; /report also works as a reply to a result."""
    chat = settings.moderation_chat
    return Place(
        chats=(str(chat),) if chat is not None else (),
        report_hint=", or reply to the message with its buttons with /report.",
        user_is_chat=True,
    )


class TelegramOutbox:
    """What the core uses to send on its own (progress, results, notices)."""

    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer

    async def send(self, to: Recipient, reply: Reply) -> None:
        try:
            await self.renderer.send(int(to.chat_id), reply)
        except TelegramError as exc:
            if refuses_us(exc):
                raise ChatRefused(f"Telegram: {exc.message}") from exc
            raise


def popup_text(replies: Sequence[Reply]) -> str:
    """The replies' words squeezed into a callback answer (Telegram shows 200 characters)."""
    text = " ".join(r.text.strip() for r in replies if r.text.strip())
    return text if len(text) <= POPUP_MAX else text[: POPUP_MAX - 1] + "…"


class TelegramAdapter:
    def __init__(
        self,
        studio: StudioLike,
        settings: Settings,
        *,
        ids: MessageIds | None = None,
        album_window_s: float = 0.8,
        poll_timeout_s: float = 10.0,
        concurrency: int = 64,
        flood_control: bool = True,
        chat_rate: float = 1.0,
        chat_burst: int = 6,
        telegram: TelegramSettings | None = None,
    ) -> None:
        """``telegram``: its own settings (SITTER_TELEGRAM_*), read now when not given."""
        own = telegram if telegram is not None else TelegramSettings.load()
        if own.token is None:
            raise ConfigError(TOKEN_HELP)
        # httpx logs every request URL at INFO, and Bot API URLs contain the token.
        if logging.getLogger("httpx").level == logging.NOTSET:
            logging.getLogger("httpx").setLevel(logging.WARNING)
        self.studio = studio
        self.settings = settings
        self.poll_timeout_s = poll_timeout_s
        self.telegram = own
        self.moderators = set(own.moderators)
        self.moderation_chat = own.moderation_chat
        self.limit, self.limit_words = translate.download_limit(
            own.api_url, settings.max_upload_bytes
        )
        if ids is None and hasattr(getattr(studio, "store", None), "remember_message"):
            ids = studio.store  # type: ignore[attr-defined]  # the Studio's store, checked above
        api = own.api_url.rstrip("/")
        builder = (
            ApplicationBuilder()
            .token(own.token.get_secret_value())
            .base_url(f"{api}/bot")
            .base_file_url(f"{api}/file/bot")
            .concurrent_updates(concurrency)
            # httpx scans its pool per request: a small one is cheaper (waits: pool_timeout)
            .connection_pool_size(16)
            .pool_timeout(30)
            .connect_timeout(10)
            .read_timeout(20)
            .write_timeout(30)
            .media_write_timeout(60)
            .get_updates_read_timeout(poll_timeout_s + 10)
        )
        self.app: Application
        if flood_control:  # off only to measure the bot's own capacity (benchmarks)
            limiter = FloodControl(per_second=chat_rate, burst=chat_burst)
            self.app = builder.rate_limiter(limiter).build()
        else:
            self.app = builder.build()
        self.renderer = Renderer(self.app.bot, ids)
        self.outbox = TelegramOutbox(self.renderer)
        self.albums = AlbumBuffer(album_window_s, self._album_ready)
        self._locks = KeyedLocks()
        self._add_handlers()
        offer_place(studio, translate.PLATFORM, moderation_place(own))

    # --- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        self.studio.add_outbox(translate.PLATFORM, self.outbox)
        await self.app.initialize()
        self.studio.add_invite_link(translate.PLATFORM, self.deep_link)  # invitations (/together)
        for language, commands in menus():  # the default list, then one per language
            await self.app.bot.set_my_commands(
                [BotCommand(n, d) for n, d in commands], language_code=language or None
            )
        await self.app.start()
        assert self.app.updater is not None
        await self.app.updater.start_polling(
            poll_interval=0.0,
            timeout=int(self.poll_timeout_s),
            allowed_updates=["message", "callback_query"],
            drop_pending_updates=False,  # what arrived while the bot was down is still answered
        )
        log.info("telegram: polling as @%s", self.app.bot.username)

    def deep_link(self, token: str) -> str:  # t.me/<bot>?start=<token>: opens /start <token>
        return f"https://t.me/{self.app.bot.username}?start={token}"

    async def stop(self) -> None:
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()  # lets the handlers in flight finish
        await self.albums.drain()  # albums still collecting: handed on now, not lost
        await self.app.shutdown()

    async def run(self) -> None:
        """Poll until cancelled."""
        await start_when_reachable(self.start)  # no network yet: retried, one warning
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    # --- routing ---------------------------------------------------------------------------
    def _add_handlers(self) -> None:
        new = filters.UpdateType.MESSAGE
        private = filters.ChatType.PRIVATE
        self.app.add_handler(CallbackQueryHandler(self._on_press))
        self.app.add_handler(MessageHandler(new & filters.ChatType.GROUPS, self._on_group))
        self.app.add_handler(MessageHandler(new & private & filters.COMMAND, self._on_command))
        self.app.add_handler(MessageHandler(new & private & filters.TEXT, self._on_text))
        self.app.add_handler(MessageHandler(new & private, self._on_file))
        self.app.add_error_handler(self._on_error)

    def _who(self, update: Update) -> Who:
        assert update.effective_user is not None
        message = update.effective_message
        return translate.who(update.effective_user, message, self.moderators)

    async def _on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        parsed = translate.parse_command(update.message.text)
        if parsed is None:
            await self._dispatch(Text(self._who(update), update.message.text))
            return
        if parsed.name == "report":  # replying to a portrait's buttons names it
            targets = report_targets(update.message.reply_to_message)
            if targets:
                args = " ".join([*targets, parsed.args]).strip()
                parsed = translate.ParsedCommand(parsed.name, args, parsed.addressed_to)
        await self._dispatch(translate.command_event(self._who(update), parsed))

    async def _on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await self._dispatch(Text(self._who(update), update.message.text))

    async def _on_file(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        assert message is not None
        w = self._who(update)
        wanted = translate.describe(message, self.limit, self.limit_words)
        if wanted is None:
            await self._dispatch(Text(w, message.caption or ""))  # contact, location, poll...
            return
        fetch = translate.fetch(self.app.bot, wanted, self.limit)
        if message.media_group_id:
            self.albums.add(w, message.media_group_id, message.message_id, fetch)
            return
        with contextlib.suppress(TelegramError):
            await self.app.bot.send_chat_action(message.chat.id, "typing")
        await self._dispatch(Files(w, (await fetch,)))

    async def _album_ready(self, w: Who, files: list[IncomingFile]) -> None:
        with contextlib.suppress(TelegramError):
            await self.app.bot.send_chat_action(int(w.chat_id), "typing")
        await self._dispatch(Files(w, tuple(files)))

    async def _on_group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        assert message is not None
        parsed = translate.parse_command(message.text or "") if message.text else None
        if parsed is None:
            return  # photos and chatter in groups are never taken
        mine = parsed.addressed_to.lower() == (self.app.bot.username or "").lower()
        if parsed.addressed_to and not mine:
            return  # another bot's command
        if self.moderation_chat is not None and message.chat.id == self.moderation_chat:
            await self._dispatch(translate.command_event(self._who(update), parsed))
            return
        if not mine and parsed.name not in GROUP_COMMANDS:
            return
        link = f"https://t.me/{self.app.bot.username}?start=portrait"
        await self.renderer.send(
            message.chat.id,
            Reply(
                "Portraits are made in a private chat with me, so your photos stay between "
                f"us. Open it here: {link}"
            ),
        )

    async def _on_press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button press: to the core; the query is always answered.

        In a private chat (or the moderation chat) the core's replies are posted
        there. Pressed in any other group (a message someone shared), only the
        presser should see the answer: it becomes the popup over the button.
        """
        query = update.callback_query
        assert query is not None
        w = self._who(update)
        message_id = str(query.message.message_id) if query.message is not None else ""
        event = Press(w, query.data or "", message_id)
        in_chat = w.private or (
            self.moderation_chat is not None and w.chat_id == str(self.moderation_chat)
        )
        answered = False
        try:
            async with self._locks.hold(w.chat_id):
                task = asyncio.ensure_future(self.studio.handle(event))
                done, _ = await asyncio.wait({task}, timeout=PRESS_ANSWER_AFTER_S)
                if not done:
                    answered = await self._answer(query)
                replies = await task
                if not in_chat:
                    answered = answered or await self._answer(
                        query, popup_text(replies), alert=True
                    )
                    return
                if not answered:
                    answered = await self._answer(query)
                await self._render_all(w.chat_id, replies)
        except Exception:
            log.exception("telegram: press %r from %s failed", event.data, w.user_id)
            if not answered:
                await self._answer(query, SORRY, alert=True)
            elif in_chat:
                await self._safe_send(w.chat_id, Reply(SORRY))

    async def _answer(self, query: CallbackQuery, text: str = "", alert: bool = False) -> bool:
        try:
            await query.answer(text or None, show_alert=alert)
        except TelegramError as exc:  # too old (> 15 min) or already answered: nothing to do
            log.info("telegram: could not answer callback query: %s", exc)
        return True

    # --- the core --------------------------------------------------------------------------
    async def _dispatch(self, event: Event) -> None:
        w = event.who
        async with self._locks.hold(w.chat_id):
            try:
                replies = await self.studio.handle(event)
            except Exception:
                log.exception(
                    "telegram: studio failed on %s from %s", type(event).__name__, w.user_id
                )
                await self._safe_send(w.chat_id, Reply(SORRY))
                return
            await self._render_all(w.chat_id, replies)

    async def _render_all(self, chat_id: str, replies: Sequence[Reply]) -> None:
        for reply in replies:
            await self.renderer.send(int(chat_id), reply)

    async def _safe_send(self, chat_id: str, reply: Reply) -> None:
        try:
            await self.renderer.send(int(chat_id), reply)
        except TelegramError:
            log.exception("telegram: could not tell chat %s about an error", chat_id)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram: unhandled error on %r", update, exc_info=context.error)


class TelegramBot:
    """The Telegram adapter as bot/app.py runs it (bot/adapter.py's signature)."""

    name = "Telegram bot"

    async def run(self, services: Services) -> None:
        """Poll until cancelled."""
        await TelegramAdapter(services.studio, services.settings).run()


def report_targets(message: Message | None) -> list[str]:
    """The ``rep:`` buttons on the message a ``/report`` replies to (the studio's own data:
    results carry one Report button per portrait)."""
    markup = message.reply_markup if message is not None else None
    if markup is None:
        return []
    return [
        b.callback_data
        for row in markup.inline_keyboard
        for b in row
        if isinstance(b.callback_data, str) and buttons.is_report(b.callback_data)
    ]

"""Studio replies -> Bot API calls.

- text (split at Telegram's 4096 characters), buttons as an inline keyboard;
- photos: one -> ``sendPhoto`` with the text as caption, several -> one album
  (``sendMediaGroup``) and then one message with the text and buttons;
- ``Image.as_file`` -> ``sendDocument`` (photo sends are recompressed and lose the
  AI provenance metadata; the caption says so);
- ``Reply.edit_key`` -> edit the message sent earlier with that key. Its id is kept
  in the database (platform_messages), so the progress message is still edited
  after a restart; if it can no longer be edited a new one is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
)
from telegram.constants import MessageLimit
from telegram.error import BadRequest

from bot.store.messages import MessageIds
from bot.studio.core.events import Button, Image, Reply
from bot.telegram.locks import KeyedLocks
from bot.telegram.translate import PLATFORM
from bot.textsplit import chunk_lines

log = logging.getLogger(__name__)

CALLBACK_DATA_MAX = 64  # bytes, Telegram's limit for callback_data
PHOTO_MAX_BYTES = 10 * 1024 * 1024  # bigger images go as documents
ALBUM_MAX = 10
FILE_NOTE = "Sent as a file: photo sends strip the AI provenance metadata, files keep it."


class ButtonDataTooLong(ValueError):
    pass


def keyboard(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup | None:
    """Inline keyboard from the core's button rows; refuses data over 64 bytes."""
    if not rows:
        return None
    out = []
    for row in rows:
        line = []
        for b in row:
            size = len(b.data.encode("utf-8"))
            if not 1 <= size <= CALLBACK_DATA_MAX:
                raise ButtonDataTooLong(
                    f"button {b.label!r} carries {size} bytes of data {b.data!r}; "
                    f"Telegram allows 1-{CALLBACK_DATA_MAX}"
                )
            line.append(InlineKeyboardButton(b.label, callback_data=b.data))
        out.append(line)
    return InlineKeyboardMarkup(out)


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Split at line breaks (or hard, for a single huge line) into Telegram-sized parts."""
    if len(text) <= limit:
        return [text]
    parts = [p for p in chunk_lines(text, limit) if p]
    return [p.rstrip("\n") or "…" for p in parts]


def upload_name(image: Image) -> str:
    """The name a person sees on a file: stored files are named by their hash."""
    stem, suffix = image.path.stem, image.path.suffix
    if len(stem) >= 32 and all(ch in "0123456789abcdef" for ch in stem):
        return f"sitter-{stem[:10]}{suffix}"
    return image.path.name


def file_caption(image: Image) -> str:
    caption = image.caption.strip()
    if "metadata" in caption.lower():
        return caption[: MessageLimit.CAPTION_LENGTH]
    joined = f"{caption}\n{FILE_NOTE}" if caption else FILE_NOTE
    return joined[: MessageLimit.CAPTION_LENGTH]


class Renderer:
    def __init__(self, bot: Bot, ids: MessageIds | None) -> None:
        self.bot = bot
        self.ids = ids
        # Two sends with the same edit_key at once (a reply and the core's own
        # progress update) must not both find "no message yet" and send two.
        self._edit_locks = KeyedLocks()

    async def send(self, chat_id: int | str, reply: Reply) -> list[int]:
        """Show ``reply`` in the chat; return the message ids it now occupies.

        Raises TelegramError if it could not be delivered (after the rate limiter's
        retries), so the studio's outbox can try again later.
        """
        return [m if isinstance(m, int) else m.message_id for m in await self._send(chat_id, reply)]

    async def _send(self, chat_id: int | str, reply: Reply) -> list[Message | int]:
        if reply.edit_key:
            async with self._edit_locks.hold(self._key(chat_id, reply.edit_key)):
                return await self._send_unlocked(chat_id, reply)
        return await self._send_unlocked(chat_id, reply)

    async def _send_unlocked(self, chat_id: int | str, reply: Reply) -> list[Message | int]:
        markup = keyboard(reply.buttons)
        quiet = reply.silent
        photos = [
            i for i in reply.images if not i.as_file and i.path.stat().st_size <= PHOTO_MAX_BYTES
        ]
        files = [i for i in reply.images if i not in photos]
        text = reply.text.strip()

        if not reply.images:
            if reply.edit_key:
                edited = await self._edit(chat_id, reply.edit_key, text, markup)
                if edited is not None:
                    return [edited]  # (the same message id, edited in place)
            msgs = await self._text(chat_id, text or "…", markup, quiet)
            if reply.edit_key:
                await self._remember(chat_id, reply.edit_key, msgs[-1])
            return list(msgs)

        cap_limit = MessageLimit.CAPTION_LENGTH
        if len(photos) == 1 and not files and len(text) <= cap_limit:
            return [await self._photo(chat_id, photos[0], text, markup, quiet)]
        if len(files) == 1 and not photos and len(text) + len(FILE_NOTE) + 1 <= cap_limit:
            caption = file_caption(Image(files[0].path, text or files[0].caption))
            return [await self._document(chat_id, files[0], caption, markup, quiet)]

        sent: list[Message | int] = []
        for start in range(0, len(photos), ALBUM_MAX):
            chunk = photos[start : start + ALBUM_MAX]
            if len(chunk) == 1:
                sent.append(await self._photo(chat_id, chunk[0], chunk[0].caption, None, quiet))
            else:
                sent.extend(await self._album(chat_id, chunk, quiet))
        for f in files:
            sent.append(await self._document(chat_id, f, file_caption(f), None, quiet))
        if text or markup:
            msgs = await self._text(chat_id, text or "Choose:", markup, quiet)
            if reply.edit_key:
                await self._remember(chat_id, reply.edit_key, msgs[-1])
            sent.extend(msgs)
        return sent

    # --- the calls ----------------------------------------------------------------------
    async def _text(
        self, chat_id: int | str, text: str, markup: InlineKeyboardMarkup | None, quiet: bool
    ) -> list[Message]:
        parts = split_text(text)
        out = []
        for n, part in enumerate(parts):
            last = n == len(parts) - 1
            out.append(
                await self.bot.send_message(
                    chat_id,
                    part,
                    reply_markup=markup if last else None,
                    disable_notification=quiet,
                )
            )
        return out

    async def _photo(
        self,
        chat_id: int | str,
        image: Image,
        caption: str,
        markup: InlineKeyboardMarkup | None,
        quiet: bool,
    ) -> Message:
        return await self.bot.send_photo(
            chat_id,
            image.path.read_bytes(),
            caption=caption[: MessageLimit.CAPTION_LENGTH] or None,
            reply_markup=markup,
            disable_notification=quiet,
            filename=upload_name(image),
        )

    async def _document(
        self,
        chat_id: int | str,
        image: Image,
        caption: str,
        markup: InlineKeyboardMarkup | None,
        quiet: bool,
    ) -> Message:
        return await self.bot.send_document(
            chat_id,
            image.path.read_bytes(),
            filename=upload_name(image),
            caption=caption or None,
            reply_markup=markup,
            disable_notification=quiet,
            disable_content_type_detection=True,
        )

    async def _album(self, chat_id: int | str, images: list[Image], quiet: bool) -> list[Message]:
        media = [
            InputMediaPhoto(
                i.path.read_bytes(),
                caption=i.caption[: MessageLimit.CAPTION_LENGTH] or None,
                filename=upload_name(i),
            )
            for i in images
        ]
        return list(await self.bot.send_media_group(chat_id, media, disable_notification=quiet))

    # --- edits ----------------------------------------------------------------------------
    def _key(self, chat_id: int | str, edit_key: str) -> str:
        return f"{chat_id}:{edit_key}"

    async def _remember(self, chat_id: int | str, edit_key: str, message: Message) -> None:
        if self.ids is not None:
            await self.ids.remember_message(
                PLATFORM, self._key(chat_id, edit_key), str(chat_id), str(message.message_id)
            )

    async def _edit(
        self, chat_id: int | str, edit_key: str, text: str, markup: InlineKeyboardMarkup | None
    ) -> int | None:
        """Edit the keyed message; its id, or None when there is none or it cannot be edited."""
        if self.ids is None:
            return None
        row = await self.ids.message(PLATFORM, self._key(chat_id, edit_key))
        if row is None:
            return None
        message_id = int(row["message_id"])
        try:
            result = await self.bot.edit_message_text(
                text[: MessageLimit.MAX_TEXT_LENGTH] or "…",
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=markup,
            )
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return message_id  # the same text again: nothing to change
            log.info(
                "cannot edit message %s in %s (%s); sending a new one", message_id, chat_id, exc
            )
            return None
        return result.message_id if isinstance(result, Message) else message_id

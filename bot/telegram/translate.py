"""Telegram updates -> studio events (bot/studio/core/events.py).

Pure functions over PTB objects, plus the one that fetches a file. Size and type
are checked from what Telegram tells us *before* downloading, so a 2 GB video or
a PDF never touches the bot's memory.
"""

from __future__ import annotations

import logging
import mimetypes
from dataclasses import dataclass

from telegram import Bot, Document, Message, PhotoSize
from telegram import User as TgUser
from telegram.error import TelegramError

from bot.studio.core.events import Command, IncomingFile, Who

log = logging.getLogger(__name__)

PLATFORM = "telegram"
PUBLIC_API = "api.telegram.org"
PUBLIC_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses bigger files on the public Bot API
SELF_HOSTED_DOWNLOAD_LIMIT = 2000 * 1024 * 1024  # a local Bot API server serves up to 2000 MB

PHOTO_NAME = "photo"  # Telegram photos have no file name; albums number them (photo 2)

IMAGE_EXTENSIONS = {
    "jpg", "jpeg", "png", "webp", "heic", "heif", "avif", "bmp", "tif", "tiff", "gif",
}  # fmt: skip


def download_limit(api_url: str, studio_limit: int) -> tuple[int, str]:
    """The byte limit for fetching a file and the words for it when it is exceeded."""
    if PUBLIC_API in api_url:
        if studio_limit < PUBLIC_DOWNLOAD_LIMIT:
            return studio_limit, f"over the studio's {_mb(studio_limit)} limit per photo"
        return PUBLIC_DOWNLOAD_LIMIT, "over Telegram's 20 MB limit for bots to download files"
    if studio_limit < SELF_HOSTED_DOWNLOAD_LIMIT:
        return studio_limit, f"over the studio's {_mb(studio_limit)} limit per photo"
    return SELF_HOSTED_DOWNLOAD_LIMIT, "over the 2000 MB limit of the Bot API server"


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"


def who(user: TgUser, message: Message | None, moderators: set[int]) -> Who:
    chat = message.chat if message is not None else None
    return Who(
        platform=PLATFORM,
        user_id=str(user.id),
        chat_id=str(chat.id if chat is not None else user.id),
        name=user.full_name,
        private=chat is None or chat.type == "private",
        is_moderator=user.id in moderators,
        locale=user.language_code or "",
    )


@dataclass(frozen=True)
class ParsedCommand:
    name: str
    args: str
    addressed_to: str  # the @bot the command names, '' when none


def parse_command(text: str) -> ParsedCommand | None:
    """``/start@sitter_bot payload`` -> ('start', 'payload', 'sitter_bot')."""
    if not text.startswith("/") or len(text) < 2:
        return None
    head, _, args = text[1:].partition(" ")
    head = head.split("\n", 1)[0]
    name, _, bot = head.partition("@")
    if not name or not all(c.isalnum() or c == "_" for c in name):
        return None
    return ParsedCommand(name.lower(), args.strip(), bot)


def command_event(w: Who, parsed: ParsedCommand) -> Command:
    return Command(w, parsed.name, parsed.args)


@dataclass(frozen=True)
class Wanted:
    """A file the user sent, described before deciding whether to fetch it."""

    file_id: str
    filename: str
    size: int
    mime: str
    refusal: str = ""  # set when it must not be downloaded


def describe(message: Message, limit: int, limit_words: str) -> Wanted | None:
    """What the message carries as a reference photo, or None when it carries no file."""
    if message.photo:
        best: PhotoSize = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        return _check(
            Wanted(best.file_id, PHOTO_NAME, best.file_size or 0, "image/jpeg"),
            limit, limit_words,
        )  # fmt: skip
    if message.document:
        return _check(_document(message.document), limit, limit_words)
    for kind, what in (
        ("video", "a video"),
        ("animation", "an animation"),
        ("video_note", "a video message"),
        ("voice", "a voice message"),
        ("audio", "an audio file"),
        ("sticker", "a sticker"),
    ):
        media = getattr(message, kind, None)
        if media is not None:
            name = getattr(media, "file_name", None) or kind
            return Wanted(
                media.file_id, name, getattr(media, "file_size", 0) or 0, "",
                refusal=f"{what}, not a photo: send photos (or image files) of yourself",
            )  # fmt: skip
    return None


def _document(doc: Document) -> Wanted:
    name = doc.file_name or f"file_{doc.file_unique_id}"
    mime = (doc.mime_type or mimetypes.guess_type(name)[0] or "").lower()
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    is_image = mime.startswith("image/") or ext in IMAGE_EXTENSIONS
    refusal = ""
    if not is_image:
        kind = mime or (f".{ext} file" if ext else "file of unknown type")
        refusal = f"not an image ({kind}): send photos (JPEG, PNG, WebP or HEIC)"
    return Wanted(doc.file_id, name, doc.file_size or 0, mime, refusal)


def _check(w: Wanted, limit: int, limit_words: str) -> Wanted:
    if w.refusal or w.size <= limit:
        return w
    return Wanted(
        w.file_id, w.filename, w.size, w.mime,
        refusal=f"{_mb(w.size)}, {limit_words}; send a smaller copy",
    )  # fmt: skip


async def fetch(bot: Bot, wanted: Wanted, limit: int) -> IncomingFile:
    """Download a described file; a refusal or a failed download becomes ``error``."""
    if wanted.refusal:
        return IncomingFile(wanted.filename, None, wanted.size, wanted.mime, wanted.refusal)
    try:
        tg_file = await bot.get_file(wanted.file_id)
        if (tg_file.file_size or 0) > limit:
            raise ValueError("too big")
        data = bytes(await tg_file.download_as_bytearray())
    except (TelegramError, OSError, ValueError) as exc:
        # The error can name a local Bot API server's path, which holds the token:
        # log it, tell the person only what to do.
        log.warning("download of %s failed: %s", wanted.filename, type(exc).__name__)
        return IncomingFile(
            wanted.filename, None, wanted.size, wanted.mime,
            "could not be downloaded from Telegram; please send it again",
        )  # fmt: skip
    if len(data) > limit:
        return IncomingFile(wanted.filename, None, len(data), wanted.mime, "too large")
    return IncomingFile(wanted.filename, data, len(data), wanted.mime)

"""What adapters hand to the studio core, and what the core hands back.

Adapters turn platform updates into these events and render these replies;
the core never sees a platform object. Button data is a short string (it must
fit Telegram's 64 bytes and Discord's 100-character custom ids) that the core
alone writes and reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Who:
    """The person behind an event and where to answer them."""

    platform: str  # telegram | discord | terminal
    user_id: str  # the platform's user id, as text
    chat_id: str  # where replies go (private chat / DM channel)
    name: str = ""
    private: bool = True  # False in a group or server channel
    is_moderator: bool = False  # decided by the adapter (role / configured ids)
    # The platform's language for this person, as it sends it (Telegram's language_code
    # "ru", Discord's Interaction.locale "es-ES", the terminal's LANG): remembered on first
    # contact (users.locale), then /language decides. "" when the event carries none.
    locale: str = ""


# --- events ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Command:
    who: Who
    name: str  # without the slash: start, help, status, cancel, privacy, forget, ...
    args: str = ""
    # The adapter made ``args`` itself from the platform's own data (a slash command's
    # chosen member), not from words the person typed: only then may a handler trust ids
    # in them (/together's "member <id> <dm> <name>").
    vouched: bool = False


@dataclass(frozen=True)
class Text:
    who: Who
    text: str


@dataclass(frozen=True)
class IncomingFile:
    filename: str
    data: bytes | None  # None when the adapter could not or would not fetch it
    size: int = 0
    mime: str = ""
    error: str = ""  # why data is None, in words (e.g. 'over Telegram's 20 MB download limit')


@dataclass(frozen=True)
class Files:
    """One or more files sent together (an album, a message with attachments)."""

    who: Who
    files: tuple[IncomingFile, ...]


@dataclass(frozen=True)
class Press:
    """A button press. ``data`` is what the core put in the button."""

    who: Who
    data: str
    message_id: str = ""


Event = Command | Text | Files | Press


# --- replies --------------------------------------------------------------------------
@dataclass(frozen=True)
class Button:
    label: str
    data: str
    kind: str = "choice"  # choice | primary | danger | free_text (ask for typed input)


@dataclass(frozen=True)
class Image:
    path: Path
    caption: str = ""
    as_file: bool = False  # send as a document/file so metadata survives


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()  # rows of buttons
    images: tuple[Image, ...] = ()
    edit_key: str | None = None  # edit the earlier message sent with this key, if any
    silent: bool = False


@dataclass(frozen=True)
class Recipient:
    platform: str
    chat_id: str


class ChatRefused(Exception):
    """The chat refuses our messages for good (the person blocked the bot, left or
    deleted the chat): raised by an outbox instead of its platform's error. Any other
    exception from ``send`` is taken as passing (network, 5xx, rate limits)."""


class Outbox(Protocol):
    """What an adapter gives the core for messages it sends on its own.

    (Progress updates, finished orders, moderation notices.) ``send`` must
    raise if the message could not be delivered, so the core can try again:
    :class:`ChatRefused` when the chat refuses us, anything else when it may pass.
    """

    async def send(self, to: Recipient, reply: Reply) -> None: ...

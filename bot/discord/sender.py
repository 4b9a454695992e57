"""Replies from the core rendered as Discord messages, and the outbox the core
uses for messages it sends on its own (progress, finished orders)."""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

import discord

from bot.discord.components import build_view
from bot.discord.files import DEFAULT_FILE_LIMIT, MAX_FILES, fit, per_file_limit
from bot.discord.message_keys import MessageKeys
from bot.studio.core.events import ChatRefused, Image, Recipient, Reply
from bot.textsplit import chunk_lines

log = logging.getLogger(__name__)

TEXT_LIMIT = 2000
ALT_TEXT_LIMIT = 1024
REFIT_NOTE = "(Re-encoded to fit Discord's upload limit; the original keeps its metadata.)"


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split on line breaks (then hard) into chunks Discord accepts; never an empty list."""
    chunks = chunk_lines(text, limit)
    return [c.rstrip("\n") or "\u200b" for c in chunks if c.strip()] or [""]


@dataclass
class Rendered:
    texts: list[str]  # the last one carries the view and the first batch of files
    view: discord.ui.View | None
    file_batches: list[list[discord.File]]


def _name(img: Image, n: int) -> str:
    """A readable file name: stored files are named by their hash."""
    if not re.fullmatch(r"[0-9a-f]{32,}", img.path.stem):
        return img.path.name
    number = re.match(r"#(\d+)", img.caption)
    return f"portrait-{number.group(1) if number else n}{img.path.suffix}"


def _load(images: Iterable[Image], limit: int) -> tuple[list[discord.File], bool]:
    images = list(images)
    each = per_file_limit(limit, min(len(images), MAX_FILES))
    files, refitted = [], False
    for n, img in enumerate(images, 1):
        fitted = fit(img.path.read_bytes(), _name(img, n), each)
        refitted |= fitted.changed
        files.append(
            discord.File(
                io.BytesIO(fitted.data),
                filename=fitted.filename,
                description=img.caption[:ALT_TEXT_LIMIT] or None,
            )
        )
    return files, refitted


async def render(reply: Reply, file_limit: int = DEFAULT_FILE_LIMIT) -> Rendered:
    files, refitted = await asyncio.to_thread(_load, reply.images, file_limit)
    text = reply.text
    if not text.strip() and reply.images:
        text = "\n".join(i.caption for i in reply.images if i.caption)
    if refitted:
        text = f"{text}\n{REFIT_NOTE}".strip()
    batches = [files[i : i + MAX_FILES] for i in range(0, len(files), MAX_FILES)] or [[]]
    return Rendered(split_text(text), build_view(reply.buttons), batches)


class Sender:
    """Sends or edits messages for replies; edit keys are remembered in the database."""

    def __init__(self, keys: MessageKeys):
        self.keys = keys
        self._key_locks: dict[str, asyncio.Lock] = {}

    async def to_channel(
        self,
        channel: discord.abc.Messageable,
        reply: Reply,
        *,
        file_limit: int = DEFAULT_FILE_LIMIT,
    ) -> discord.Message:
        if not reply.edit_key:
            return await self._to_channel(channel, reply, file_limit=file_limit)
        # One message per key: a progress update racing the reply that created it
        # must find the stored message id, not send a second message.
        lock = self._key_locks.setdefault(reply.edit_key, asyncio.Lock())
        async with lock:
            return await self._to_channel(channel, reply, file_limit=file_limit)

    async def _to_channel(
        self,
        channel: discord.abc.Messageable,
        reply: Reply,
        *,
        file_limit: int = DEFAULT_FILE_LIMIT,
    ) -> discord.Message:
        out = await render(reply, file_limit)
        channel_id = getattr(channel, "id", None)
        if reply.edit_key:
            known = await self.keys.get(reply.edit_key)
            if known is not None and known.chat_id == str(channel_id):
                edited = await self._edit(channel, int(known.message_id), out)
                if edited is not None:
                    return edited
        for text in out.texts[:-1]:
            await channel.send(text, silent=reply.silent)
        kwargs: dict = {"silent": reply.silent}
        if out.view is not None:
            kwargs["view"] = out.view
        if out.file_batches[0]:
            kwargs["files"] = out.file_batches[0]
        message = await channel.send(out.texts[-1] or None, **kwargs)
        for batch in out.file_batches[1:]:
            await channel.send(files=batch, silent=True)
        if reply.edit_key:
            await self.keys.put(reply.edit_key, message.channel.id, message.id)
        return message

    async def _edit(
        self, channel: discord.abc.Messageable, message_id: int, out: Rendered
    ) -> discord.Message | None:
        # DMs, text channels and threads (where the studio speaks) all have it; the
        # Messageable protocol does not declare it
        partial = channel.get_partial_message(message_id)  # type: ignore[attr-defined]
        kwargs: dict = {"content": "\n".join(out.texts)[:TEXT_LIMIT], "view": out.view}
        if out.file_batches[0]:
            kwargs["attachments"] = out.file_batches[0]
        try:
            return await partial.edit(**kwargs)
        except discord.NotFound:
            log.info("message %s to edit is gone; sending a new one", message_id)
            return None

    async def ephemeral(self, interaction: discord.Interaction, reply: Reply) -> None:
        """Follow up only the presser can see (a press in a server channel)."""
        out = await render(reply, interaction.filesize_limit or DEFAULT_FILE_LIMIT)
        for text in out.texts[:-1]:
            await interaction.followup.send(text, ephemeral=True)
        kwargs: dict = {"ephemeral": True}
        if out.view is not None:
            kwargs["view"] = out.view
        if out.file_batches[0]:
            kwargs["files"] = out.file_batches[0]
        await interaction.followup.send(out.texts[-1] or "\u200b", **kwargs)


class DiscordOutbox:
    """The core's outbox for Discord. ``send`` raises when Discord refused or failed
    (after discord.py's own retries of 429s and 5xx), so the core keeps the reply
    undelivered and tries again later; nothing is dropped here."""

    def __init__(self, client: discord.Client, sender: Sender):
        self.client = client
        self.sender = sender

    async def send(self, to: Recipient, reply: Reply) -> None:
        if to.platform != "discord":
            raise ValueError(f"the Discord outbox cannot reach {to.platform!r} chats")
        channel = self.client.get_partial_messageable(int(to.chat_id))
        try:
            await self.sender.to_channel(channel, reply)
        except (discord.Forbidden, discord.NotFound) as exc:
            # 403: DMs closed, blocked, no rights; 404: the channel is gone (a missing
            # message to edit is handled in to_channel). 5xx and 429 pass.
            raise ChatRefused(f"Discord: {exc.status} {exc.text}") from exc

"""The Discord client: slash commands in servers, the studio in DMs (or a
private thread), every component routed to the core as a Press.

Platform quirks live here; decisions (ownership, stale buttons, what to say)
are the core's. Each event of one member is handled in order (a lock per
member), and every interaction is acknowledged before the core is asked.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

import discord
from discord import app_commands

from bot.discord import ids
from bot.discord.commands import install as install_commands
from bot.discord.components import DYNAMIC_ITEMS, modal_value
from bot.discord.files import DEFAULT_FILE_LIMIT, fetch
from bot.discord.guild_settings import (
    GuildSettings,
    GuildSettingsStore,
    Place,
    moderation_place,
)
from bot.discord.message_keys import MessageKeys
from bot.discord.sender import DiscordOutbox, Sender
from bot.store.store import Store
from bot.studio.core.events import Command, Event, Files, Outbox, Press, Reply, Text, Who
from bot.studio.moderation import offer_place

log = logging.getLogger(__name__)

UNKNOWN_BUTTON = (
    "That button no longer works (it is from an older version of Sitter). "
    "Use /portrait to start again, or the buttons on my latest message."
)
TOGETHER_NO_BOTS = "Bots have no photos: invite a person."

PLATFORM = "discord"
DMS_CLOSED = 50007  # Discord's "Cannot send messages to this user"

DM_CLOSED_TEXT = (
    "I couldn't send you a direct message: your DMs are closed to me.\n"
    "To open them for this server: click the server's name (top left) > **Privacy Settings** "
    "> turn on **Direct Messages**, then run `/portrait` again. "
    "(Or, in User Settings > Privacy & Safety, allow direct messages from server members.)"
)

DELIVERY_FAILED = (
    "Discord didn't accept my answer just now. Nothing is lost: send /status in our "
    "DM (or press the button again) to see where you are."
)


class Studio(Protocol):
    async def handle(self, event: Event) -> list[Reply]: ...

    def add_outbox(self, platform: str, outbox: Outbox) -> None: ...


class SitterClient(discord.AutoShardedClient):
    """Sharding-ready: one process runs the shards Discord recommends."""

    def __init__(
        self,
        studio: Studio,
        store: Store,
        *,
        max_upload_bytes: int,
        message_content: bool = False,
        moderation_guilds: Sequence[int] = (),
        sync_commands: bool | str = "auto",
        **options: object,
    ):
        # DMs' content reaches bots without the privileged intent; threads need it.
        intents = discord.Intents.default()
        intents.message_content = message_content
        # User text (names, report details, prompts) never pings anyone.
        options.setdefault("allowed_mentions", discord.AllowedMentions.none())
        # discord.py types each client option; ours pass through as the caller gave them
        super().__init__(intents=intents, **options)  # type: ignore[arg-type]
        self.studio = studio
        self.store = store
        self.guilds_store = GuildSettingsStore(store)
        self.sender = Sender(MessageKeys(store))
        self.max_upload_bytes = max_upload_bytes
        self.message_content = message_content
        # "auto" (or True): upload the slash commands when they changed; "always": on
        # every start (`sitter bot --sync`); "never" (or False): not at all (tests).
        self.sync_commands: str = (
            ("auto" if sync_commands else "never")
            if isinstance(sync_commands, bool)
            else sync_commands
        )
        self.tree = app_commands.CommandTree(self)
        self._locks: dict[str, asyncio.Lock] = {}
        install_commands(self)
        # Moderators act on everyone's reports: only in the servers the operator lists.
        self.moderation_guilds = frozenset(moderation_guilds)
        offer_place(studio, PLATFORM, moderation_place(store, self.moderation_guilds))

    async def setup_hook(self) -> None:
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        self.studio.add_outbox(PLATFORM, DiscordOutbox(self, self.sender))
        if self.sync_commands != "never":
            from bot.discord.command_sync import sync_if_changed

            await sync_if_changed(
                self.tree, self.store, self.application_id, force=self.sync_commands == "always"
            )

    # --- who and in what order ------------------------------------------------------------
    def _lock(self, user_id: int) -> asyncio.Lock:
        return self._locks.setdefault(str(user_id), asyncio.Lock())

    def who(
        self,
        user: discord.abc.User,
        chat_id: int | None,
        *,
        private: bool,
        moderator: bool = False,
        locale: discord.Locale | None = None,
    ) -> Who:
        return Who(
            platform=PLATFORM,
            user_id=str(user.id),
            chat_id=str(chat_id or ""),
            name=user.display_name,
            private=private,
            is_moderator=moderator,
            locale=locale.value if locale is not None else "",
        )

    async def is_moderator(self, interaction: discord.Interaction, gs: GuildSettings) -> bool:
        member = interaction.user
        if not isinstance(member, discord.Member):
            return False
        # Moderators act on everyone's reports: only in servers the operator lists.
        if interaction.guild_id not in self.moderation_guilds:
            return False
        if interaction.permissions.manage_guild:
            return True
        if gs.moderator_role_id is None:
            return False
        # The role ids come with the interaction; member.roles needs the server cached.
        role_ids = {r.id for r in member.roles} | set(getattr(member, "_roles", ()))
        return int(gs.moderator_role_id) in role_ids

    async def who_for(self, interaction: discord.Interaction) -> Who:
        """Who pressed, and the chat the core should think of as theirs.

        In a DM or the presser's own studio thread, that chat. Anywhere else (a
        result shared in a server, someone else's studio thread) the replies are
        ephemeral, seen by the presser alone, so the press counts as private and
        the presser's DM is their chat: ownership is then the core's check.
        """
        channel_id, moderator = interaction.channel_id, False
        if interaction.guild_id is not None:
            gs = await self.guilds_store.get(interaction.guild_id)
            moderator = await self.is_moderator(interaction, gs)
            if not await self.in_own_chat(interaction):  # create_dm opens no conversation
                channel_id = (await interaction.user.create_dm()).id
        user, locale = interaction.user, interaction.locale
        return self.who(user, channel_id, private=True, moderator=moderator, locale=locale)

    async def in_own_chat(self, interaction: discord.Interaction) -> bool:
        """True in a DM or the presser's own studio thread: replies can be public there."""
        if interaction.guild_id is None:
            return True
        cid = interaction.channel_id
        return cid is not None and await self.guilds_store.thread_owner(cid) == str(
            interaction.user.id
        )

    async def ask(self, event: Event) -> list[Reply]:
        return await self.studio.handle(event)

    async def deliver(
        self, channel: discord.abc.Messageable, replies: Sequence[Reply], file_limit: int
    ) -> discord.Message | None:
        first = None
        for reply in replies:
            sent = await self.sender.to_channel(channel, reply, file_limit=file_limit)
            first = first or sent
        return first

    async def answer(self, interaction: discord.Interaction, replies: list[Reply]) -> None:
        """Replies to a press: in the presser's own chat, else only the presser sees them."""
        channel = interaction.channel  # a server's category or forum takes no messages
        here = channel if isinstance(channel, discord.abc.Messageable) else None
        try:
            if await self.in_own_chat(interaction) and here is not None:
                limit = interaction.filesize_limit or DEFAULT_FILE_LIMIT
                await self.deliver(here, replies, limit)
            else:
                for reply in replies:
                    if here is not None and await self._edits_here(interaction, reply):
                        # e.g. a moderator's decision updating the report card in place
                        await self.sender.to_channel(here, reply)
                    else:
                        await self.sender.ephemeral(interaction, reply)
        except discord.HTTPException as exc:
            # discord.py already retried 429s and 5xx. The core has the state; say so
            # through the interaction's own webhook, which still works for 15 minutes.
            log.warning("reply to %s failed: %s", interaction.user.id, exc)
            await interaction.followup.send(DELIVERY_FAILED, ephemeral=True)

    async def _edits_here(self, interaction: discord.Interaction, reply: Reply) -> bool:
        """True when the reply edits a message the bot keeps in this very channel."""
        if not reply.edit_key or interaction.channel is None:
            return False
        known = await self.sender.keys.get(reply.edit_key)
        return known is not None and known.chat_id == str(interaction.channel_id)

    # --- events -------------------------------------------------------------------------
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.author.id == getattr(self.user, "id", None):
            return
        if not isinstance(message.channel, discord.DMChannel):
            owner = await self.guilds_store.thread_owner(message.channel.id)
            if owner != str(message.author.id):
                return  # server chatter (or someone else in a studio thread) is not ours
        who = self.who(message.author, message.channel.id, private=True)
        limit = message.guild.filesize_limit if message.guild else DEFAULT_FILE_LIMIT
        async with self._lock(message.author.id):
            if message.attachments:
                # Downloads and the engine's analysis take seconds: show "typing…".
                async with message.channel.typing():
                    files = [await fetch(a, self.max_upload_bytes) for a in message.attachments]
                    replies = await self.ask(Files(who, tuple(files)))
            elif message.content.startswith("/") and len(message.content) > 1:
                name, _, args = message.content[1:].partition(" ")
                replies = await self.ask(Command(who, name.lower(), args.strip()))
            elif message.content.strip():
                replies = await self.ask(Text(who, message.content.strip()))
            else:
                return
            try:
                await self.deliver(message.channel, replies, limit)
            except discord.HTTPException as exc:
                # Retries are discord.py's; what the member sent is already in the store.
                log.warning("reply in %s failed: %s", message.channel.id, exc)

    async def on_press(self, interaction: discord.Interaction, data: str) -> None:
        """A button or menu: acknowledge at once (Discord allows 3 s), then ask the core."""
        await interaction.response.defer()
        who = await self.who_for(interaction)
        message_id = str(interaction.message.id) if interaction.message else ""
        async with self._lock(interaction.user.id):
            replies = await self.ask(Press(who, data, message_id))
            await self.answer(interaction, replies)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Modal submits are routed here by custom id, so one opened before a restart works;
        a component or modal whose custom id is not one of ours gets a plain answer."""
        if interaction.type is discord.InteractionType.component:
            custom_id = str(dict(interaction.data or {}).get("custom_id", ""))
            if not any(
                item.__discord_ui_compiled_template__.fullmatch(custom_id) for item in DYNAMIC_ITEMS
            ):
                await self._unknown_component(interaction)
            return
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        data = ids.modal_data(str(dict(interaction.data or {}).get("custom_id", "")))
        if data is None:
            await self._unknown_component(interaction)
            return
        await interaction.response.defer()
        text = modal_value(dict(interaction.data or {}))
        who = await self.who_for(interaction)
        message_id = str(interaction.message.id) if interaction.message else ""
        async with self._lock(interaction.user.id):
            replies = await self.ask(Press(who, data, message_id))
            # The core answers a live "type your own" press with a bare prompt; any
            # buttons mean it refused (a stale modal): then the text is not applied
            # to whatever step the member is at now, and the core's answer is shown.
            if text.strip() and not any(r.buttons for r in replies):
                replies = await self.ask(Text(who, text.strip()))
            await self.answer(interaction, replies)

    async def _unknown_component(self, interaction: discord.Interaction) -> None:
        """A button Sitter did not make (an older version's, another prefix): acknowledged,
        so Discord doesn't show "This interaction failed", and said plainly."""
        if interaction.response.is_done():
            return
        try:
            await interaction.response.send_message(UNKNOWN_BUTTON, ephemeral=True)
        except discord.HTTPException as exc:
            log.warning("answering an unknown component failed: %s", exc)

    # --- /together ----------------------------------------------------------------------------
    async def invite_member(self, interaction: discord.Interaction, member: discord.User) -> None:
        """A member of this server invited to a portrait together: the core sends the
        invitation to their DMs; the inviter's answer comes in their own DM."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        user = interaction.user
        if member.bot:
            await interaction.followup.send(TOGETHER_NO_BOTS, ephemeral=True)
            return
        try:
            mine, theirs = await user.create_dm(), await member.create_dm()
        except discord.HTTPException as exc:
            log.warning("opening DMs for an invitation failed: %s", exc)
            await interaction.followup.send(DELIVERY_FAILED, ephemeral=True)
            return
        who = self.who(user, mine.id, private=True)
        args = f"member {member.id} {theirs.id} {member.display_name}"
        async with self._lock(user.id):
            replies = await self.ask(Command(who, "together", args, vouched=True))
            try:
                await self.deliver(mine, replies, DEFAULT_FILE_LIMIT)
            except discord.HTTPException as exc:
                log.warning("answering /together for %s failed: %s", user.id, exc)
        text = " ".join(r.text for r in replies)[:1900] or DELIVERY_FAILED
        await interaction.followup.send(text, ephemeral=True)

    # --- /portrait --------------------------------------------------------------------------
    async def start_studio(self, interaction: discord.Interaction) -> None:
        """Open the studio where the server wants it and say where to look."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        user = interaction.user
        if interaction.guild_id is None:  # /portrait inside the DM itself
            who = self.who(user, interaction.channel_id, private=True, locale=interaction.locale)
            dm = interaction.channel
            assert isinstance(dm, discord.abc.Messageable)  # a DM takes messages
            async with self._lock(user.id):
                replies = await self.ask(Command(who, "start"))
                await self.deliver(dm, replies, interaction.filesize_limit)
            await interaction.followup.send("The studio is open below.", ephemeral=True)
            return
        gs = await self.guilds_store.get(interaction.guild_id)
        target: discord.Thread | discord.DMChannel | None = None
        if gs.place is Place.THREAD:
            target = await self._studio_thread(interaction)
        if target is None:
            target = await user.create_dm()
        who = self.who(
            user,
            target.id,
            private=True,
            moderator=await self.is_moderator(interaction, gs),
            locale=interaction.locale,
        )
        async with self._lock(user.id):
            replies = await self.ask(Command(who, "start"))
            try:
                first = await self.deliver(target, replies, DEFAULT_FILE_LIMIT)
            except discord.Forbidden as exc:
                text = (
                    DM_CLOSED_TEXT
                    if exc.code == DMS_CLOSED
                    else f"Discord did not let me post the studio there ({exc.text})."
                )
                await interaction.followup.send(text, ephemeral=True)
                return
            except discord.HTTPException as exc:
                log.warning("opening the studio for %s failed: %s", user.id, exc)
                await interaction.followup.send(DELIVERY_FAILED, ephemeral=True)
                return
        where = first.jump_url if first else "your direct messages"
        place = "a private thread" if isinstance(target, discord.Thread) else "a direct message"
        await interaction.followup.send(
            f"I've opened the studio in {place}: {where}", ephemeral=True
        )

    async def _studio_thread(self, interaction: discord.Interaction) -> discord.Thread | None:
        """The member's private studio thread in this channel; None to fall back to DMs."""
        channel = interaction.channel
        if not isinstance(channel, discord.TextChannel) or not self.message_content:
            return None
        assert interaction.guild_id is not None
        known = await self.guilds_store.user_thread(interaction.guild_id, interaction.user.id)
        if known is not None:
            try:
                found = await self.fetch_channel(int(known))
            except discord.HTTPException:
                found = None  # deleted, or no longer visible to the bot: open a new one
            if isinstance(found, discord.Thread) and not found.locked:
                return found  # a message in an archived thread unarchives it
        try:
            thread = await channel.create_thread(
                name=f"Portrait studio · {interaction.user.display_name}"[:100],
                type=discord.ChannelType.private_thread,
                invitable=False,
            )
            await thread.add_user(interaction.user)
        except discord.HTTPException as exc:
            log.warning("cannot open a studio thread in %s: %s; using DMs", channel.id, exc)
            return None
        await self.guilds_store.add_thread(thread.id, interaction.guild_id, interaction.user.id)
        return thread

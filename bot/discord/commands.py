"""Slash commands: ``/portrait`` and ``/together`` (anyone), ``/sitter-settings`` (manage
server)."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.discord.guild_settings import GuildSettings, Place
from bot.discord.host import ClientHost
from sitter.i18n import N_

THREADS_NEED_INTENT = (
    "Private threads need the Message Content intent (messages in threads are not "
    "delivered to bots without it): enable it for the bot in the Discord developer portal "
    "(Bot > Privileged Gateway Intents) and set SITTER_DISCORD_MESSAGE_CONTENT=true. "
    "The studio stays in DMs until then."
)


class TextChannelOption(app_commands.Transformer):
    """A text channel, taken from the interaction's resolved data.

    (``discord.TextChannel`` as the annotation needs the server in the gateway
    cache; this works without it, and Discord offers only text channels.)
    """

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.text, discord.ChannelType.news]

    async def transform(self, interaction: discord.Interaction, value: Any) -> Any:
        return value


def describe(gs: GuildSettings) -> str:
    role = f"<@&{gs.moderator_role_id}>" if gs.moderator_role_id else "not set (Manage Server only)"
    channel = f"<#{gs.moderation_channel_id}>" if gs.moderation_channel_id else "not set"
    place = "a private thread" if gs.place is Place.THREAD else "direct messages"
    return (
        f"**Sitter settings for this server**\nStudio runs in: {place}\n"
        f"Moderators' role: {role}\nModeration reports go to: {channel}"
    )


def report_targets(message: discord.Message) -> list[str]:
    """The core's ``rep:`` data on a message's buttons (results carry one per portrait)."""
    from bot.discord import ids
    from bot.studio.core import buttons

    found = []
    for row in message.components:
        for item in getattr(row, "children", []):
            cid = getattr(item, "custom_id", None) or ""
            if cid.startswith(ids.PRESS) and buttons.is_report(cid[len(ids.PRESS) :]):
                found.append(cid[len(ids.PRESS) :])
    return found


def install(client: ClientHost) -> None:
    tree = client.tree

    @tree.context_menu(name="Report portrait")
    async def report_portrait(interaction: discord.Interaction, message: discord.Message) -> None:
        """Right-click a portrait the bot posted > Apps > Report portrait (only you see it)."""
        from bot.studio.core.events import Command

        await interaction.response.defer(ephemeral=True, thinking=True)
        who = await client.who_for(interaction)
        async with client._lock(interaction.user.id):
            event = Command(who, "report", " ".join(report_targets(message)))
            replies = await client.ask(event)
        await client.answer(interaction, replies)

    @tree.command(name="portrait", description=N_("Open the portrait studio (in your DMs)"))
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    async def portrait(interaction: discord.Interaction) -> None:
        await client.start_studio(interaction)

    @tree.command(name="pet", description=N_("A portrait of your cat or dog (its own photo set)"))
    @app_commands.allowed_contexts(guilds=False, dms=True, private_channels=False)
    async def pet(interaction: discord.Interaction) -> None:
        """/pet in the DM: the pet's set (bot/studio/pets/), as typed "/pet" would."""
        from bot.studio.core.events import Command
        from bot.studio.pets.words_pets import PET_OPENED

        await interaction.response.defer(ephemeral=True, thinking=True)
        who = await client.who_for(interaction)
        async with client._lock(interaction.user.id):
            replies = await client.ask(Command(who, "pet"))
        await client.answer(interaction, replies)
        await interaction.followup.send(PET_OPENED, ephemeral=True)

    @tree.command(name="together", description=N_("Invite a member to a portrait of you both"))
    @app_commands.guild_only()
    @app_commands.describe(member=N_("Who to invite (they answer in their own DMs)"))
    async def together(interaction: discord.Interaction, member: discord.User) -> None:
        await client.invite_member(interaction, member)

    @tree.command(name="sitter-settings", description=N_("Where the studio runs and who moderates"))
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.describe(
        studio=N_("Where members use the studio"),
        moderator_role=N_("Members with this role handle reports"),
        moderation_channel=N_("Channel where reports are posted"),
    )
    @app_commands.choices(
        studio=[
            app_commands.Choice(name=N_("Direct messages"), value=Place.DM.value),
            app_commands.Choice(
                name=N_("A private thread in the channel"), value=Place.THREAD.value
            ),
        ]
    )
    async def sitter_settings(
        interaction: discord.Interaction,
        studio: app_commands.Choice[str] | None = None,
        moderator_role: discord.Role | None = None,
        moderation_channel: app_commands.Transform[Any, TextChannelOption] | None = None,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        # default_permissions hides the command; admins can change that, so check here too.
        if interaction.guild_id is None or not interaction.permissions.manage_guild:
            await interaction.followup.send(
                "Only members with the **Manage Server** permission can change Sitter's settings.",
                ephemeral=True,
            )
            return
        if moderation_channel is not None and moderation_channel.type not in (
            discord.ChannelType.text,
            discord.ChannelType.news,
        ):
            await interaction.followup.send(
                f"{moderation_channel.mention} is not a text channel; reports need one.",
                ephemeral=True,
            )
            return
        note = ""
        place = Place(studio.value) if studio else None
        if place is Place.THREAD and not client.message_content:
            place, note = None, "\n\n" + THREADS_NEED_INTENT
        gs = await client.guilds_store.update(
            interaction.guild_id,
            f"discord:{interaction.user.id}",
            place=place,
            moderator_role_id=str(moderator_role.id) if moderator_role else None,
            moderation_channel_id=str(moderation_channel.id) if moderation_channel else None,
        )
        await interaction.followup.send(describe(gs) + note, ephemeral=True)

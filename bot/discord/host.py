"""What the slash commands and components need from the client, as a Protocol.

``commands.py`` and ``components.py`` call back into the running client; naming
that surface here (instead of importing ``SitterClient``) keeps the client the
only module that knows them all, with no import circle.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

import discord
from discord import app_commands

from bot.discord.guild_settings import GuildSettingsStore
from bot.studio.core.events import Event, Reply, Who


class ClientHost(Protocol):
    tree: app_commands.CommandTree[Any]
    message_content: bool
    guilds_store: GuildSettingsStore

    def _lock(self, user_id: int) -> asyncio.Lock: ...

    async def who_for(self, interaction: discord.Interaction) -> Who: ...

    async def ask(self, event: Event) -> list[Reply]: ...

    async def answer(self, interaction: discord.Interaction, replies: list[Reply]) -> None: ...

    async def start_studio(self, interaction: discord.Interaction) -> None: ...

    async def invite_member(
        self, interaction: discord.Interaction, member: discord.User
    ) -> None: ...

    async def on_press(self, interaction: discord.Interaction, data: str) -> None: ...

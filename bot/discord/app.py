"""Entry point for ``sitter run`` and ``sitter bot``: the Discord side of the bot.

bot/app.py opens the services (database, studio) with ``async with`` and hands them
to :meth:`DiscordBot.run`; this module keeps no globals.
"""

from __future__ import annotations

import logging

from bot.adapter import Services
from bot.discord.client import SitterClient, Studio
from bot.discord.settings import TOKEN_HELP, DiscordSettings
from bot.store.store import Store
from sitter.config import ConfigError, Settings

log = logging.getLogger(__name__)


def build_client(
    settings: Settings,
    discord: DiscordSettings,
    studio: Studio,
    store: Store,
    *,
    sync_commands: bool | str = "auto",
) -> SitterClient:
    return SitterClient(
        studio,
        store,
        max_upload_bytes=settings.max_upload_bytes,
        message_content=discord.message_content,
        moderation_guilds=discord.moderation_guilds,
        sync_commands=sync_commands,
    )


class DiscordBot:
    """The Discord adapter as bot/app.py runs it (bot/adapter.py's signature)."""

    name = "Discord bot"

    def __init__(self, *, sync: bool = False) -> None:
        self.sync = sync  # upload the slash commands now, not only when they changed

    async def run(self, services: Services) -> None:
        """Log in, sync the slash commands if they changed (or ``sync``) and serve until
        cancelled (reconnects on its own).

        The adapter's tables (server settings, message ids to edit) live in the studio's
        own database file, written through the studio's store (and its lock).
        """
        settings, studio = services.settings, services.studio
        own = DiscordSettings.load()
        if own.token is None:
            raise ConfigError(TOKEN_HELP)
        client = build_client(
            settings,
            own,
            studio,
            studio.store,
            sync_commands="always" if self.sync else "auto",  # auto: only when they changed
        )
        async with client:
            await client.start(own.token.get_secret_value(), reconnect=True)

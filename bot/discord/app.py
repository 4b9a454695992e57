"""Entry point for ``sitter run``: the Discord side of the bot.

The caller opens the resources (database, studio) with ``async with`` and passes
them in; this module keeps no globals.
"""

from __future__ import annotations

import logging

from bot.discord.client import SitterClient, Studio
from bot.store.store import Store
from sitter.config import WHERE_TO_GET, ConfigError, Settings

log = logging.getLogger(__name__)


def build_client(
    settings: Settings, studio: Studio, store: Store, **options: object
) -> SitterClient:
    return SitterClient(
        studio,
        store,
        max_upload_bytes=settings.max_upload_bytes,
        message_content=settings.discord_message_content,
        **options,
    )


async def run_discord(
    settings: Settings,
    studio: Studio,
    store: Store | None = None,
    *,
    sync: bool = False,
) -> None:
    """Log in, sync the slash commands if they changed (or ``sync``) and serve until
    cancelled (reconnects on its own).

    ``store`` defaults to the studio's own (``studio.store``): the adapter's tables
    (server settings, message ids to edit) live in the same file, written through
    the same lock.
    The caller runs ``studio.run_background()``; this only serves Discord.
    """
    if settings.discord_token is None:
        raise ConfigError(WHERE_TO_GET["discord_token"])
    client = build_client(
        settings,
        studio,
        store or studio.store,  # type: ignore[attr-defined]
        sync_commands="always" if sync else "auto",  # auto: only when the commands changed
    )
    async with client:
        await client.start(settings.discord_token.get_secret_value(), reconnect=True)

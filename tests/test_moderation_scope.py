"""Reports reach only the moderation channels of servers the operator lists.

Any admin can set a moderation channel in their own server with /sitter-settings;
without the operator's list, one stranger's server would receive every report.
"""

from __future__ import annotations

from pathlib import Path

from bot.discord.guild_settings import GuildSettingsStore, moderation_place
from bot.studio.core.core import Studio
from sitter.config import load_settings

TRUSTED, STRANGER = 111, 222


async def _studio(data_dir: Path, redis_url: str, prefix: str, guilds: list[int]) -> Studio:
    settings = load_settings(
        data_dir=data_dir,
        redis_url=redis_url,
        queue_prefix=prefix,
    )
    studio = await Studio.open(settings)
    assert studio.moderation is not None
    # What the Discord adapter registers when it attaches (bot/discord/client.py).
    studio.moderation.add_place("discord", moderation_place(studio.store, guilds))
    return studio


async def test_only_listed_servers_get_reports(
    data_dir: Path, redis_url: str, queue_prefix: str
) -> None:
    studio = await _studio(data_dir, redis_url, queue_prefix, [TRUSTED])
    try:
        guilds = GuildSettingsStore(studio.store)
        await guilds.update(TRUSTED, "op", moderation_channel_id="1001")
        await guilds.update(STRANGER, "mallory", moderation_channel_id="2002")
        assert studio.moderation is not None
        targets = await studio.moderation.targets()
        assert targets.chats("discord") == ("1001",)
    finally:
        await studio.aclose()


async def test_no_list_no_discord_moderation(
    data_dir: Path, redis_url: str, queue_prefix: str
) -> None:
    studio = await _studio(data_dir, redis_url, queue_prefix, [])
    try:
        await GuildSettingsStore(studio.store).update(
            STRANGER, "mallory", moderation_channel_id="2002"
        )
        assert studio.moderation is not None
        assert (await studio.moderation.targets()).chats("discord") == ()
    finally:
        await studio.aclose()

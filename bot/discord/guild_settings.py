"""Per-server settings an admin sets with ``/sitter-settings``, and studio threads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bot.store.store import Store
from bot.studio.moderation.targets import Place as ModerationPlace

REPORT_HINT = " (on Discord also: right-click the message > Apps > Report portrait)."


class Place(StrEnum):
    DM = "dm"  # the studio runs in the member's direct messages (default)
    THREAD = "thread"  # in a private thread of the channel where /portrait was used


@dataclass(frozen=True)
class GuildSettings:
    guild_id: str
    place: Place = Place.DM
    moderator_role_id: str | None = None
    moderation_channel_id: str | None = None


class GuildSettingsStore:
    """The Discord view of the Store's server tables (every write through its lock)."""

    def __init__(self, store: Store):
        self.store = store

    async def get(self, guild_id: int | str) -> GuildSettings:
        row = await self.store.guild_settings(str(guild_id))
        if row is None:
            return GuildSettings(str(guild_id))
        return GuildSettings(str(guild_id), Place(row[0]), row[1], row[2])

    async def update(
        self,
        guild_id: int | str,
        by: str,
        *,
        place: Place | None = None,
        moderator_role_id: str | None = None,
        moderation_channel_id: str | None = None,
    ) -> GuildSettings:
        """Change the given fields only; return the settings now in force."""
        now = await self.get(guild_id)
        await self.store.save_guild_settings(
            str(guild_id),
            str(place or now.place),
            moderator_role_id if moderator_role_id is not None else now.moderator_role_id,
            moderation_channel_id
            if moderation_channel_id is not None
            else now.moderation_channel_id,
            by,
        )
        return await self.get(guild_id)

    async def add_thread(self, thread_id: int, guild_id: int, user_id: int) -> None:
        await self.store.add_studio_thread(str(thread_id), str(guild_id), str(user_id))

    async def thread_owner(self, thread_id: int) -> str | None:
        """The member a studio thread belongs to, or None if it is not a studio thread."""
        return await self.store.studio_thread_owner(str(thread_id))

    async def user_thread(self, guild_id: int, user_id: int) -> str | None:
        return await self.store.user_studio_thread(str(guild_id), str(user_id))


def moderation_place(store: Store, trusted_guilds: Iterable[int | str]) -> ModerationPlace:
    """Where Discord's reports go: the moderation channels set with /sitter-settings, in
    the servers the operator trusts only (any admin can set one in their own server)."""
    guilds = [str(g) for g in trusted_guilds]

    async def channels() -> list[str]:
        return await store.moderation_channels(guilds)

    return ModerationPlace(chats=channels, report_hint=REPORT_HINT)

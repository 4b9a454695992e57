"""Per-server settings an admin sets with ``/sitter-settings``, and studio threads."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import aiosqlite


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
    def __init__(self, db: aiosqlite.Connection):
        self.db = db

    async def get(self, guild_id: int | str) -> GuildSettings:
        async with self.db.execute(
            "SELECT studio_place, moderator_role_id, moderation_channel_id"
            " FROM discord_guild_settings WHERE guild_id = ?",
            (str(guild_id),),
        ) as cur:
            row = await cur.fetchone()
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
        await self.db.execute(
            "INSERT INTO discord_guild_settings (guild_id, studio_place, moderator_role_id,"
            " moderation_channel_id, updated_by) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (guild_id) DO UPDATE SET studio_place = excluded.studio_place,"
            " moderator_role_id = excluded.moderator_role_id,"
            " moderation_channel_id = excluded.moderation_channel_id,"
            " updated_by = excluded.updated_by,"
            " updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            (
                str(guild_id),
                str(place or now.place),
                moderator_role_id if moderator_role_id is not None else now.moderator_role_id,
                moderation_channel_id
                if moderation_channel_id is not None
                else now.moderation_channel_id,
                by,
            ),
        )
        return await self.get(guild_id)

    async def add_thread(self, thread_id: int, guild_id: int, user_id: int) -> None:
        await self.db.execute(
            "INSERT OR IGNORE INTO discord_studio_threads (thread_id, guild_id, user_id)"
            " VALUES (?, ?, ?)",
            (str(thread_id), str(guild_id), str(user_id)),
        )

    async def thread_owner(self, thread_id: int) -> str | None:
        """The member a studio thread belongs to, or None if it is not a studio thread."""
        async with self.db.execute(
            "SELECT user_id FROM discord_studio_threads WHERE thread_id = ?", (str(thread_id),)
        ) as cur:
            row = await cur.fetchone()
        return str(row[0]) if row else None

    async def user_thread(self, guild_id: int, user_id: int) -> str | None:
        async with self.db.execute(
            "SELECT thread_id FROM discord_studio_threads WHERE guild_id = ? AND user_id = ?"
            " ORDER BY created_at DESC LIMIT 1",
            (str(guild_id), str(user_id)),
        ) as cur:
            row = await cur.fetchone()
        return str(row[0]) if row else None

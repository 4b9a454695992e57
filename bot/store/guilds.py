"""Discord servers' settings (``/sitter-settings``) and their private studio threads: the
Discord adapter's own tables (migrations 0004, 0009), the only store part that knows
their platform."""

from __future__ import annotations

from collections.abc import Sequence

from bot.store.base import Db, Row, marks

PLATFORM = "discord"  # whose ids these tables hold


class Guilds(Db):
    async def forget_adapter_chats(self, platform: str, user_id: str) -> tuple[set[str], int]:
        """/forget's hook for these tables: the person's studio threads (their ids, so the
        message ids kept for edits in them go too) and the rows naming them."""
        chats, n = await super().forget_adapter_chats(platform, user_id)
        if platform != PLATFORM:
            return chats, n
        rows = await self.all(
            "SELECT thread_id FROM discord_studio_threads WHERE user_id = ?", user_id
        )
        n += await self.run("DELETE FROM discord_studio_threads WHERE user_id = ?", user_id)
        return chats | {str(r["thread_id"]) for r in rows}, n

    async def guild_settings(self, guild_id: str) -> Row | None:
        return await self.one(
            "SELECT studio_place, moderator_role_id, moderation_channel_id"
            " FROM discord_guild_settings WHERE guild_id = ?",
            guild_id,
        )

    async def save_guild_settings(
        self,
        guild_id: str,
        place: str,
        moderator_role_id: str | None,
        moderation_channel_id: str | None,
        by: str,
    ) -> None:
        await self.run(
            "INSERT INTO discord_guild_settings (guild_id, studio_place, moderator_role_id,"
            " moderation_channel_id, updated_by) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (guild_id) DO UPDATE SET studio_place = excluded.studio_place,"
            " moderator_role_id = excluded.moderator_role_id,"
            " moderation_channel_id = excluded.moderation_channel_id,"
            " updated_by = excluded.updated_by,"
            " updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            guild_id,
            place,
            moderator_role_id,
            moderation_channel_id,
            by,
        )

    async def moderation_channels(self, guild_ids: Sequence[str]) -> list[str]:
        """The moderation channels set in these servers (only those: see the caller)."""
        if not guild_ids:
            return []
        rows = await self.all(
            "SELECT DISTINCT moderation_channel_id FROM discord_guild_settings "
            f"WHERE moderation_channel_id IS NOT NULL AND guild_id IN ({marks(guild_ids)})",
            *guild_ids,
        )
        return [str(r[0]) for r in rows]

    async def add_studio_thread(self, thread_id: str, guild_id: str, user_id: str) -> None:
        await self.run(
            "INSERT OR IGNORE INTO discord_studio_threads (thread_id, guild_id, user_id)"
            " VALUES (?, ?, ?)",
            thread_id,
            guild_id,
            user_id,
        )

    async def studio_thread_owner(self, thread_id: str) -> str | None:
        row = await self.one(
            "SELECT user_id FROM discord_studio_threads WHERE thread_id = ?", thread_id
        )
        return str(row[0]) if row else None

    async def user_studio_thread(self, guild_id: str, user_id: str) -> str | None:
        row = await self.one(
            "SELECT thread_id FROM discord_studio_threads WHERE guild_id = ? AND user_id = ?"
            " ORDER BY created_at DESC LIMIT 1",
            guild_id,
            user_id,
        )
        return str(row[0]) if row else None

-- Reason: Discord server settings an admin sets with /sitter-settings (where the
-- studio runs: the member's DMs or a private thread; the moderators' role; the
-- channel for moderation reports), and the private studio threads the bot opened
-- (messages there are studio input, like DMs).

CREATE TABLE discord_guild_settings (
    guild_id              TEXT PRIMARY KEY,
    studio_place          TEXT NOT NULL DEFAULT 'dm' CHECK (studio_place IN ('dm', 'thread')),
    moderator_role_id     TEXT,
    moderation_channel_id TEXT,
    updated_by            TEXT,
    updated_at            TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE discord_studio_threads (
    thread_id  TEXT PRIMARY KEY,
    guild_id   TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX discord_studio_threads_user ON discord_studio_threads (guild_id, user_id);

-- Reason: issue 15. An order keeps its picture format (1:1, 4:5, 9:16, 16:9; NULL: the
-- style's own size, as before) and how the person asked to be described (NULL: "a
-- person"), so a retry and a resend from /portraits keep both. The last description a
-- person gave is offered again on their next order: one row per person, deleted by
-- /forget and by the retention sweep with the wizard sessions.

ALTER TABLE orders ADD COLUMN aspect TEXT;
ALTER TABLE orders ADD COLUMN subject TEXT;

CREATE TABLE remembered_subjects (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    text       TEXT NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

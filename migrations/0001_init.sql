-- Reason: the whole studio's data model: people and their consent, reference
-- photos, wizard sessions, orders and their variations, follow-up jobs
-- (upscale, label), reports, the moderation audit log and protected faces.
-- Times are ISO-8601 UTC text. Embeddings are JSON arrays of floats.

CREATE TABLE users (
    id               INTEGER PRIMARY KEY,
    platform         TEXT NOT NULL,              -- telegram | discord | terminal
    platform_user_id TEXT NOT NULL,
    display_name     TEXT NOT NULL DEFAULT '',
    chat_id          TEXT,                       -- private chat / DM channel
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    banned_at        TEXT,
    ban_reason       TEXT,
    ban_notified     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (platform, platform_user_id)
);

CREATE TABLE consents (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    version     TEXT NOT NULL,
    text        TEXT NOT NULL,
    accepted_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    withdrawn_at TEXT
);
CREATE INDEX consents_user ON consents (user_id);

CREATE TABLE reference_sets (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status     TEXT NOT NULL DEFAULT 'collecting',  -- collecting | ready | archived
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX reference_sets_user ON reference_sets (user_id);

CREATE TABLE reference_photos (
    id         INTEGER PRIMARY KEY,
    set_id     INTEGER NOT NULL REFERENCES reference_sets (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sha256     TEXT NOT NULL,
    path       TEXT NOT NULL,                 -- relative to the media folder
    crop_path  TEXT,
    filename   TEXT NOT NULL DEFAULT '',
    width      INTEGER,
    height     INTEGER,
    status     TEXT NOT NULL DEFAULT 'pending', -- pending | accepted | refused | excluded
    reasons    TEXT NOT NULL DEFAULT '[]',      -- JSON list of {problem, detail}
    embedding  TEXT,                            -- JSON list of floats
    backend    TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (set_id, sha256)
);
CREATE INDEX reference_photos_user ON reference_photos (user_id);
CREATE INDEX reference_photos_created ON reference_photos (created_at);

CREATE TABLE wizard_sessions (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    state      TEXT NOT NULL,
    rev        INTEGER NOT NULL DEFAULT 0,      -- bumps on every step: old buttons are stale
    data       TEXT NOT NULL DEFAULT '{}',      -- JSON: answers so far
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE orders (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    set_id          INTEGER REFERENCES reference_sets (id) ON DELETE SET NULL,
    retry_of        INTEGER REFERENCES orders (id) ON DELETE SET NULL,
    platform        TEXT NOT NULL,
    chat_id         TEXT,
    style           TEXT NOT NULL,
    choices         TEXT NOT NULL DEFAULT '{}',  -- JSON: the wizard's answers
    prompt          TEXT NOT NULL,
    negative_prompt TEXT NOT NULL DEFAULT '',
    params          TEXT NOT NULL DEFAULT '{}',  -- JSON GenerationParams
    seeds           TEXT NOT NULL DEFAULT '[]',  -- JSON list of ints
    job_id          TEXT UNIQUE,
    status          TEXT NOT NULL DEFAULT 'queued', -- queued|running|done|delivered|failed|cancelled
    error           TEXT,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at     TEXT,
    delivered_at    TEXT
);
CREATE INDEX orders_user ON orders (user_id, created_at);
CREATE INDEX orders_status ON orders (status);

CREATE TABLE variations (
    id         INTEGER PRIMARY KEY,
    order_id   INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,               -- 1..4 as shown to the user
    seed       INTEGER NOT NULL,
    path       TEXT,
    sha256     TEXT,
    likeness   REAL,
    face_found INTEGER NOT NULL DEFAULT 0,
    passed     INTEGER NOT NULL DEFAULT 0,
    attempts   INTEGER NOT NULL DEFAULT 1,
    removed_at TEXT,                           -- removed by moderation
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (order_id, idx)
);

-- Follow-up work on one variation: upscale or label. Restart-safe like orders.
CREATE TABLE variation_jobs (
    id           INTEGER PRIMARY KEY,
    variation_id INTEGER NOT NULL REFERENCES variations (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,                -- upscale | label
    job_id       TEXT UNIQUE,
    status       TEXT NOT NULL DEFAULT 'queued', -- queued|done|delivered|failed
    path         TEXT,
    method       TEXT,
    error        TEXT,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    delivered_at TEXT,
    UNIQUE (variation_id, kind)
);

CREATE TABLE reports (
    id               INTEGER PRIMARY KEY,
    variation_id     INTEGER REFERENCES variations (id) ON DELETE SET NULL,
    order_id         INTEGER REFERENCES orders (id) ON DELETE SET NULL,
    owner_user_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    reporter_user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    reason           TEXT NOT NULL,  -- not_me | sexual | minor | deception | other
    text             TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL DEFAULT 'open',  -- open | decided
    decision         TEXT,
    decided_by       TEXT,
    decided_at       TEXT,
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX reports_owner ON reports (owner_user_id);

-- The audit log: no foreign keys, so it outlives what it describes.
CREATE TABLE moderation_actions (
    id         INTEGER PRIMARY KEY,
    actor      TEXT NOT NULL,        -- 'telegram:123', 'discord:456', 'system', 'user:7'
    action     TEXT NOT NULL,
    target_user_id INTEGER,
    report_id  INTEGER,
    reason     TEXT NOT NULL DEFAULT '',
    detail     TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX moderation_actions_created ON moderation_actions (created_at);

-- Embeddings only, never the photo.
CREATE TABLE protected_faces (
    id            INTEGER PRIMARY KEY,
    backend       TEXT NOT NULL,
    embedding     TEXT NOT NULL,
    source        TEXT NOT NULL,      -- moderator | self
    owner_user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    report_id     INTEGER,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    lifted_at     TEXT
);

-- Platform message ids the adapters need again (the progress message to edit).
CREATE TABLE platform_messages (
    platform   TEXT NOT NULL,
    key        TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    message_id TEXT NOT NULL,
    PRIMARY KEY (platform, key)
);

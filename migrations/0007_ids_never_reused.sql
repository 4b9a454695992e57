-- Reason: row ids that buttons (rep:<portrait>, r:<order>), reports and the audit
-- log refer to must never name someone else. Without AUTOINCREMENT SQLite hands the
-- largest deleted id out again, so after /forget the next new person took the
-- forgotten person's user and portrait ids. SQLite cannot add AUTOINCREMENT to a
-- table, so each table is rebuilt (data, constraints and indexes kept; foreign keys
-- are off for the rebuild and checked before the commit), and each id sequence
-- starts above every id the audit log and the reports already mention.
-- It also adds what the daily quota needs to outlive /forget: a keyed fingerprint
-- of the account for the day (never the account id itself).
-- Foreign keys: off

CREATE TABLE new_users (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    platform         TEXT NOT NULL,
    platform_user_id TEXT NOT NULL,
    display_name     TEXT NOT NULL DEFAULT '',
    chat_id          TEXT,
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    banned_at        TEXT,
    ban_reason       TEXT,
    ban_notified     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (platform, platform_user_id)
);
INSERT INTO new_users SELECT id, platform, platform_user_id, display_name, chat_id, created_at,
    banned_at, ban_reason, ban_notified FROM users;
DROP TABLE users;
ALTER TABLE new_users RENAME TO users;

CREATE TABLE new_consents (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    version     TEXT NOT NULL,
    text        TEXT NOT NULL,
    accepted_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    withdrawn_at TEXT
);
INSERT INTO new_consents SELECT id, user_id, version, text, accepted_at, withdrawn_at
    FROM consents;
DROP TABLE consents;
ALTER TABLE new_consents RENAME TO consents;
CREATE INDEX consents_user ON consents (user_id);

CREATE TABLE new_reference_sets (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status     TEXT NOT NULL DEFAULT 'collecting',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
INSERT INTO new_reference_sets SELECT id, user_id, status, created_at FROM reference_sets;
DROP TABLE reference_sets;
ALTER TABLE new_reference_sets RENAME TO reference_sets;
CREATE INDEX reference_sets_user ON reference_sets (user_id);

CREATE TABLE new_reference_photos (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    set_id     INTEGER NOT NULL REFERENCES reference_sets (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sha256     TEXT NOT NULL,
    path       TEXT NOT NULL,                 -- '' once a refused file is deleted
    crop_path  TEXT,
    filename   TEXT NOT NULL DEFAULT '',
    width      INTEGER,
    height     INTEGER,
    status     TEXT NOT NULL DEFAULT 'pending',
    reasons    TEXT NOT NULL DEFAULT '[]',
    embedding  TEXT,
    backend    TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    quality    TEXT NOT NULL DEFAULT '{}',    -- 0006: JSON {name: value}
    UNIQUE (set_id, sha256)
);
INSERT INTO new_reference_photos SELECT id, set_id, user_id, sha256, path, crop_path, filename,
    width, height, status, reasons, embedding, backend, created_at, quality FROM reference_photos;
DROP TABLE reference_photos;
ALTER TABLE new_reference_photos RENAME TO reference_photos;
CREATE INDEX reference_photos_user ON reference_photos (user_id);
CREATE INDEX reference_photos_created ON reference_photos (created_at);

CREATE TABLE new_orders (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    set_id          INTEGER REFERENCES reference_sets (id) ON DELETE SET NULL,
    retry_of        INTEGER REFERENCES orders (id) ON DELETE SET NULL,
    platform        TEXT NOT NULL,
    chat_id         TEXT,
    style           TEXT NOT NULL,
    choices         TEXT NOT NULL DEFAULT '{}',
    prompt          TEXT NOT NULL,
    negative_prompt TEXT NOT NULL DEFAULT '',
    params          TEXT NOT NULL DEFAULT '{}',
    seeds           TEXT NOT NULL DEFAULT '[]',
    job_id          TEXT UNIQUE,
    status          TEXT NOT NULL DEFAULT 'queued',
    error           TEXT,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at     TEXT,
    delivered_at    TEXT,
    enqueues        INTEGER NOT NULL DEFAULT 0,
    progress        TEXT
);
INSERT INTO new_orders SELECT id, user_id, set_id, retry_of, platform, chat_id, style, choices,
    prompt, negative_prompt, params, seeds, job_id, status, error, created_at, finished_at,
    delivered_at, enqueues, progress FROM orders;
DROP TABLE orders;
ALTER TABLE new_orders RENAME TO orders;
CREATE INDEX orders_user ON orders (user_id, created_at);
CREATE INDEX orders_status ON orders (status);

CREATE TABLE new_variations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id   INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    seed       INTEGER NOT NULL,
    path       TEXT,
    sha256     TEXT,
    likeness   REAL,
    face_found INTEGER NOT NULL DEFAULT 0,
    passed     INTEGER NOT NULL DEFAULT 0,
    attempts   INTEGER NOT NULL DEFAULT 1,
    removed_at TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    verdict    TEXT,                           -- migration 0005: the likeness gate's
    threshold  REAL,
    regenerated TEXT NOT NULL DEFAULT '',
    UNIQUE (order_id, idx)
);
INSERT INTO new_variations SELECT id, order_id, user_id, idx, seed, path, sha256, likeness,
    face_found, passed, attempts, removed_at, created_at, verdict, threshold, regenerated
    FROM variations;
DROP TABLE variations;
ALTER TABLE new_variations RENAME TO variations;

CREATE TABLE new_variation_jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    variation_id INTEGER NOT NULL REFERENCES variations (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    job_id       TEXT UNIQUE,
    status       TEXT NOT NULL DEFAULT 'queued',
    path         TEXT,
    method       TEXT,
    error        TEXT,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    delivered_at TEXT,
    enqueues     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (variation_id, kind)
);
INSERT INTO new_variation_jobs SELECT id, variation_id, user_id, kind, job_id, status, path,
    method, error, created_at, delivered_at, enqueues FROM variation_jobs;
DROP TABLE variation_jobs;
ALTER TABLE new_variation_jobs RENAME TO variation_jobs;

CREATE TABLE new_reports (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    variation_id     INTEGER REFERENCES variations (id) ON DELETE SET NULL,
    order_id         INTEGER REFERENCES orders (id) ON DELETE SET NULL,
    owner_user_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    reporter_user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    reason           TEXT NOT NULL,
    text             TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL DEFAULT 'open',
    decision         TEXT,
    decided_by       TEXT,
    decided_at       TEXT,
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    platform         TEXT,
    posted_at        TEXT
);
INSERT INTO new_reports SELECT id, variation_id, order_id, owner_user_id, reporter_user_id,
    reason, text, status, decision, decided_by, decided_at, created_at, platform, posted_at
    FROM reports;
DROP TABLE reports;
ALTER TABLE new_reports RENAME TO reports;
CREATE INDEX reports_owner ON reports (owner_user_id);
CREATE INDEX reports_reporter ON reports (reporter_user_id);
CREATE INDEX reports_status ON reports (status, posted_at);

CREATE TABLE new_moderation_actions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    target_user_id INTEGER,
    report_id  INTEGER,
    reason     TEXT NOT NULL DEFAULT '',
    detail     TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
INSERT INTO new_moderation_actions SELECT id, actor, action, target_user_id, report_id, reason,
    detail, created_at FROM moderation_actions;
DROP TABLE moderation_actions;
ALTER TABLE new_moderation_actions RENAME TO moderation_actions;
CREATE INDEX moderation_actions_created ON moderation_actions (created_at);

CREATE TABLE new_protected_faces (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    backend       TEXT NOT NULL,
    embedding     TEXT NOT NULL,
    source        TEXT NOT NULL,
    owner_user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    report_id     INTEGER,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    lifted_at     TEXT
);
INSERT INTO new_protected_faces SELECT id, backend, embedding, source, owner_user_id, report_id,
    created_at, lifted_at FROM protected_faces;
DROP TABLE protected_faces;
ALTER TABLE new_protected_faces RENAME TO protected_faces;
CREATE INDEX protected_faces_owner ON protected_faces (owner_user_id);

-- Every sequence starts above the largest id anything still mentions: ids that were
-- deleted before this migration and that the audit log or a report names stay taken.
DELETE FROM sqlite_sequence;
INSERT INTO sqlite_sequence (name, seq) SELECT 'users', COALESCE(MAX(x), 0) FROM (
    SELECT MAX(id) AS x FROM users
    UNION ALL SELECT MAX(target_user_id) FROM moderation_actions
    UNION ALL SELECT MAX(owner_user_id) FROM reports
    UNION ALL SELECT MAX(reporter_user_id) FROM reports
    UNION ALL SELECT MAX(owner_user_id) FROM protected_faces);
-- The audit log's JSON detail names orders and portraits too ('$.order_id',
-- '$.variation_id', the list '$.other_orders'); rows whose detail is not JSON are skipped.
INSERT INTO sqlite_sequence (name, seq) SELECT 'orders', COALESCE(MAX(x), 0) FROM (
    SELECT MAX(id) AS x FROM orders UNION ALL SELECT MAX(order_id) FROM reports
    UNION ALL SELECT MAX(CAST(json_extract(detail, '$.order_id') AS INTEGER))
        FROM moderation_actions WHERE json_valid(detail)
    UNION ALL SELECT MAX(CAST(j.value AS INTEGER)) FROM moderation_actions m,
        json_each(CASE WHEN json_valid(m.detail)
            AND json_type(m.detail, '$.other_orders') = 'array'
            THEN json_extract(m.detail, '$.other_orders') ELSE '[]' END) j);
INSERT INTO sqlite_sequence (name, seq) SELECT 'variations', COALESCE(MAX(x), 0) FROM (
    SELECT MAX(id) AS x FROM variations UNION ALL SELECT MAX(variation_id) FROM reports
    UNION ALL SELECT MAX(CAST(json_extract(detail, '$.variation_id') AS INTEGER))
        FROM moderation_actions WHERE json_valid(detail));
INSERT INTO sqlite_sequence (name, seq) SELECT 'reports', COALESCE(MAX(x), 0) FROM (
    SELECT MAX(id) AS x FROM reports UNION ALL SELECT MAX(report_id) FROM moderation_actions
    UNION ALL SELECT MAX(report_id) FROM protected_faces);
INSERT INTO sqlite_sequence (name, seq) SELECT 'protected_faces', COALESCE(MAX(id), 0)
    FROM protected_faces;
INSERT INTO sqlite_sequence (name, seq) SELECT 'moderation_actions', COALESCE(MAX(id), 0)
    FROM moderation_actions;
INSERT INTO sqlite_sequence (name, seq) SELECT 'consents', COALESCE(MAX(id), 0) FROM consents;
INSERT INTO sqlite_sequence (name, seq) SELECT 'reference_sets', COALESCE(MAX(id), 0)
    FROM reference_sets;
INSERT INTO sqlite_sequence (name, seq) SELECT 'reference_photos', COALESCE(MAX(id), 0)
    FROM reference_photos;
INSERT INTO sqlite_sequence (name, seq) SELECT 'variation_jobs', COALESCE(MAX(id), 0)
    FROM variation_jobs;

-- The daily quota after /forget: HMAC(quota_key, day + account) -> orders that day.
CREATE TABLE quota_marks (
    day    TEXT NOT NULL,     -- YYYY-MM-DD (UTC)
    mark   TEXT NOT NULL,     -- hex HMAC-SHA256, swept once the day is over
    orders INTEGER NOT NULL,
    PRIMARY KEY (day, mark)
);
INSERT INTO meta (key, value) VALUES ('quota_key', lower(hex(randomblob(32))));

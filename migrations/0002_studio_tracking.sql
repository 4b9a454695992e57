-- Reason: the studio core follows queued work across restarts. It needs to know
-- how often a job was (re-)enqueued (a lost job id is re-enqueued a bounded
-- number of times, then failed clearly) and what the progress message last
-- said (so it is edited only when something changed).

ALTER TABLE orders ADD COLUMN enqueues INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN progress TEXT;
ALTER TABLE variation_jobs ADD COLUMN enqueues INTEGER NOT NULL DEFAULT 0;

-- This database's own id: job ids in Redis carry it, so a fresh database
-- (order ids starting from 1 again) never picks up an older database's results.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('instance', lower(hex(randomblob(6))));

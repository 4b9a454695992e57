-- Reason: content packs (prompts/packs/*.toml, issue 15). One order renders every look
-- of a pack: the order row names the pack and what it costs against the daily quota,
-- which now counts images (a one-style order costs its 4 variations; rows from before
-- keep that default). Each look is its own generate job with its own style, answers,
-- prompt and seeds, followed and delivered (one album per look) on its own, so a pack
-- that is half delivered when the bot restarts delivers the rest, once. Its portraits
-- are ordinary variations of the order, numbered across the whole pack (the contact
-- sheet's numbers); looks go with their order (ON DELETE CASCADE) and by user_id on
-- /forget.

ALTER TABLE orders ADD COLUMN pack TEXT;
ALTER TABLE orders ADD COLUMN images INTEGER NOT NULL DEFAULT 4;

CREATE TABLE order_looks (
    id              INTEGER PRIMARY KEY,
    order_id        INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    idx             INTEGER NOT NULL,               -- 1.. in the pack's order
    name            TEXT NOT NULL,
    style           TEXT NOT NULL,
    choices         TEXT NOT NULL DEFAULT '{}',     -- JSON: the look's answers + the asked ones
    prompt          TEXT NOT NULL,
    negative_prompt TEXT NOT NULL DEFAULT '',
    params          TEXT NOT NULL DEFAULT '{}',
    seeds           TEXT NOT NULL DEFAULT '[]',
    first           INTEGER NOT NULL,               -- the pack-wide number of its first image
    job_id          TEXT UNIQUE,
    enqueues        INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL DEFAULT 'queued', -- queued|running|done|failed|cancelled
    error           TEXT,
    delivered_at    TEXT,
    UNIQUE (order_id, idx)
);
CREATE INDEX order_looks_order ON order_looks (order_id);

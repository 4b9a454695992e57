-- Reason: issue 15's follow-ups of one portrait. Vary and relight make four new
-- portraits each: they are orders of their own (a kind, the portrait they came from,
-- and what was asked: strength, light), so /forget, the retention sweep, reports and
-- their buttons find them like any order. An avatar export makes several files from
-- one job (512 and 1024 px): the first is the job's path, the others more_paths.

ALTER TABLE orders ADD COLUMN kind TEXT NOT NULL DEFAULT 'order';  -- order | vary | relight
ALTER TABLE orders ADD COLUMN parent_variation_id INTEGER
    REFERENCES variations (id) ON DELETE SET NULL;
ALTER TABLE orders ADD COLUMN refine TEXT;  -- JSON: strength, lighting, of_order, of_idx
ALTER TABLE variation_jobs ADD COLUMN more_paths TEXT NOT NULL DEFAULT '[]';  -- JSON list

-- Reason: codes in storage, words at the edge (issue 20): what an order's progress
-- message shows becomes a code and JSON params (bot/store/codes.py ProgressCode, worded
-- by bot/studio/jobs/words_progress.py when sent), and the database itself refuses a
-- status or failure code that is not one of bot/store/codes.py's enums.
--
-- Old rows' progress sentences become codes where this version's words wrote them;
-- a code passes through; anything else becomes NULL (progress is transient: the next
-- pass shows it again).
-- Params the old sentence can't give back (the bar of a running order, the no-worker
-- note) are left out: the next report or pass adds them.

ALTER TABLE orders ADD COLUMN progress_code TEXT;
ALTER TABLE orders ADD COLUMN progress_params TEXT;

UPDATE orders SET progress_code = CASE
    WHEN progress IN ('queued', 'painting', 'running', 'finishing', 'cancelled', 'pack_queued', 'pack_painting', 'pack_finishing', 'pack_cancelled') THEN progress
    WHEN progress GLOB 'Order #* cancelled: the looks not yet painted are off the queue.*' THEN 'pack_cancelled'
    WHEN progress GLOB 'Order #* cancelled. It doesn''t count toward today''s limit.' THEN 'cancelled'
    WHEN progress GLOB 'Order #* (*, * looks) is queued: position *' THEN 'pack_queued'
    WHEN progress GLOB 'Order #* is queued: position *' THEN 'queued'
    WHEN progress GLOB 'Order #*: painting your * portraits now…*' THEN 'painting'
    WHEN progress GLOB 'Order #*: finishing up…' THEN 'finishing'
    WHEN progress GLOB 'Order #* (*): painting look * of *, *…*' THEN 'pack_painting'
    WHEN progress GLOB 'Order #* (*): putting the contact sheet together…' THEN 'pack_finishing'
END
WHERE progress IS NOT NULL;

UPDATE orders SET progress_params = CASE progress_code
    WHEN 'queued' THEN json_object(
        'position', CAST(substr(progress, instr(progress, ': position ') + 11) AS INTEGER))
    WHEN 'pack_queued' THEN json_object(
        'looks', (SELECT COUNT(*) FROM order_looks l WHERE l.order_id = orders.id),
        'position', CAST(substr(progress, instr(progress, ': position ') + 11) AS INTEGER))
    WHEN 'painting' THEN json_object(
        'variations', CAST(substr(progress, instr(progress, 'painting your ') + 14) AS INTEGER))
    WHEN 'pack_painting' THEN json_object(
        'look', COALESCE((SELECT l.name FROM order_looks l WHERE l.order_id = orders.id
            AND l.idx = CAST(substr(progress, instr(progress, ': painting look ') + 16) AS INTEGER)), ''),
        'k', CAST(substr(progress, instr(progress, ': painting look ') + 16) AS INTEGER),
        'n', (SELECT COUNT(*) FROM order_looks l WHERE l.order_id = orders.id),
        'sent', (SELECT COUNT(*) FROM order_looks l WHERE l.order_id = orders.id
            AND l.delivered_at IS NOT NULL))
    WHEN 'pack_cancelled' THEN json_object(
        'sent', (SELECT COUNT(*) FROM order_looks l WHERE l.order_id = orders.id
            AND l.delivered_at IS NOT NULL),
        'stopped', COALESCE((SELECT SUM(json_array_length(l.seeds)) FROM order_looks l
            WHERE l.order_id = orders.id AND l.status = 'stopped'), 0))
    ELSE '{}'
END
WHERE progress_code IS NOT NULL;

ALTER TABLE orders DROP COLUMN progress;

-- The enums, guarded: a write of a status or failure code outside them is refused
-- (RAISE(ABORT): the statement fails, the transaction's earlier writes stay). A failure
-- is a code, or {"code": ..., params} (bot/store/codes.py stored()).
--
-- The triggers name no code: they read the table `codes` (kind = the enum's class name),
-- which bot/store/migrate.py fills from bot/store/codes.py's GUARDED enums every time
-- the database is migrated or opened (INSERT OR IGNORE, one transaction). A member added
-- to an enum is known on the next start: no migration. A member removed from an enum
-- stays known (its row is never deleted): old rows may still hold it, and rewriting them
-- must not fail.

CREATE TABLE codes (
    kind TEXT NOT NULL,  -- the enum: OrderStatus, LookStatus, FollowUpStatus, Failure, ...
    code TEXT NOT NULL,  -- one of its values
    PRIMARY KEY (kind, code)
) WITHOUT ROWID;

CREATE TRIGGER orders_status_insert BEFORE INSERT ON orders
WHEN NEW.status NOT IN (SELECT code FROM codes WHERE kind = 'OrderStatus')
BEGIN SELECT RAISE(ABORT, 'orders.status: not an OrderStatus code (bot/store/codes.py)'); END;

CREATE TRIGGER orders_status_update BEFORE UPDATE OF status ON orders
WHEN NEW.status NOT IN (SELECT code FROM codes WHERE kind = 'OrderStatus')
BEGIN SELECT RAISE(ABORT, 'orders.status: not an OrderStatus code (bot/store/codes.py)'); END;

CREATE TRIGGER orders_error_insert BEFORE INSERT ON orders
WHEN NEW.error IS NOT NULL AND COALESCE(CASE
    WHEN json_valid(NEW.error) AND substr(NEW.error, 1, 1) = '{'
    THEN json_extract(NEW.error, '$.code') ELSE NEW.error END, '') NOT IN (
    SELECT code FROM codes WHERE kind = 'Failure')
BEGIN SELECT RAISE(ABORT, 'orders.error: not a Failure code (bot/store/codes.py)'); END;

CREATE TRIGGER orders_error_update BEFORE UPDATE OF error ON orders
WHEN NEW.error IS NOT NULL AND COALESCE(CASE
    WHEN json_valid(NEW.error) AND substr(NEW.error, 1, 1) = '{'
    THEN json_extract(NEW.error, '$.code') ELSE NEW.error END, '') NOT IN (
    SELECT code FROM codes WHERE kind = 'Failure')
BEGIN SELECT RAISE(ABORT, 'orders.error: not a Failure code (bot/store/codes.py)'); END;

CREATE TRIGGER order_looks_status_insert BEFORE INSERT ON order_looks
WHEN NEW.status NOT IN (SELECT code FROM codes WHERE kind = 'LookStatus')
BEGIN SELECT RAISE(ABORT, 'order_looks.status: not a LookStatus code (bot/store/codes.py)'); END;

CREATE TRIGGER order_looks_status_update BEFORE UPDATE OF status ON order_looks
WHEN NEW.status NOT IN (SELECT code FROM codes WHERE kind = 'LookStatus')
BEGIN SELECT RAISE(ABORT, 'order_looks.status: not a LookStatus code (bot/store/codes.py)'); END;

CREATE TRIGGER order_looks_error_insert BEFORE INSERT ON order_looks
WHEN NEW.error IS NOT NULL AND COALESCE(CASE
    WHEN json_valid(NEW.error) AND substr(NEW.error, 1, 1) = '{'
    THEN json_extract(NEW.error, '$.code') ELSE NEW.error END, '') NOT IN (
    SELECT code FROM codes WHERE kind = 'Failure')
BEGIN SELECT RAISE(ABORT, 'order_looks.error: not a Failure code (bot/store/codes.py)'); END;

CREATE TRIGGER order_looks_error_update BEFORE UPDATE OF error ON order_looks
WHEN NEW.error IS NOT NULL AND COALESCE(CASE
    WHEN json_valid(NEW.error) AND substr(NEW.error, 1, 1) = '{'
    THEN json_extract(NEW.error, '$.code') ELSE NEW.error END, '') NOT IN (
    SELECT code FROM codes WHERE kind = 'Failure')
BEGIN SELECT RAISE(ABORT, 'order_looks.error: not a Failure code (bot/store/codes.py)'); END;

CREATE TRIGGER variation_jobs_status_insert BEFORE INSERT ON variation_jobs
WHEN NEW.status NOT IN (SELECT code FROM codes WHERE kind = 'FollowUpStatus')
BEGIN SELECT RAISE(ABORT, 'variation_jobs.status: not a FollowUpStatus code (bot/store/codes.py)'); END;

CREATE TRIGGER variation_jobs_status_update BEFORE UPDATE OF status ON variation_jobs
WHEN NEW.status NOT IN (SELECT code FROM codes WHERE kind = 'FollowUpStatus')
BEGIN SELECT RAISE(ABORT, 'variation_jobs.status: not a FollowUpStatus code (bot/store/codes.py)'); END;

CREATE TRIGGER variation_jobs_error_insert BEFORE INSERT ON variation_jobs
WHEN NEW.error IS NOT NULL AND COALESCE(CASE
    WHEN json_valid(NEW.error) AND substr(NEW.error, 1, 1) = '{'
    THEN json_extract(NEW.error, '$.code') ELSE NEW.error END, '') NOT IN (
    SELECT code FROM codes WHERE kind = 'Failure')
BEGIN SELECT RAISE(ABORT, 'variation_jobs.error: not a Failure code (bot/store/codes.py)'); END;

CREATE TRIGGER variation_jobs_error_update BEFORE UPDATE OF error ON variation_jobs
WHEN NEW.error IS NOT NULL AND COALESCE(CASE
    WHEN json_valid(NEW.error) AND substr(NEW.error, 1, 1) = '{'
    THEN json_extract(NEW.error, '$.code') ELSE NEW.error END, '') NOT IN (
    SELECT code FROM codes WHERE kind = 'Failure')
BEGIN SELECT RAISE(ABORT, 'variation_jobs.error: not a Failure code (bot/store/codes.py)'); END;

CREATE TRIGGER orders_progress_insert BEFORE INSERT ON orders
WHEN NEW.progress_code IS NOT NULL AND NEW.progress_code NOT IN (
    SELECT code FROM codes WHERE kind = 'ProgressCode')
BEGIN SELECT RAISE(ABORT, 'orders.progress_code: not a ProgressCode (bot/store/codes.py)'); END;

CREATE TRIGGER orders_progress_update BEFORE UPDATE OF progress_code ON orders
WHEN NEW.progress_code IS NOT NULL AND NEW.progress_code NOT IN (
    SELECT code FROM codes WHERE kind = 'ProgressCode')
BEGIN SELECT RAISE(ABORT, 'orders.progress_code: not a ProgressCode (bot/store/codes.py)'); END;

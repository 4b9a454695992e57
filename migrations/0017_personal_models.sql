-- Reason: a personal model (issue 23): a small LoRA file learned from a person's
-- accepted reference photos, opt-in, used only for their own orders on the set it was
-- learned from. One row per training: codes and parameters only (status, failure code,
-- the train job, the set, steps, the file's hash and path under the person's media
-- folder, the version of the words they agreed to, the switch, the base model and its
-- licence). Everything that deletes a person's reference photos deletes these rows and
-- files (bot/studio/personal/gone.py); the row goes with its set and its person.

CREATE TABLE personal_models (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    set_id          INTEGER NOT NULL REFERENCES reference_sets (id) ON DELETE CASCADE,
    status          TEXT NOT NULL DEFAULT 'queued',  -- TrainingStatus (bot/store/codes.py)
    error           TEXT,                        -- a failure code (bot/store/codes.py)
    job_id          TEXT,
    enqueues        INTEGER NOT NULL DEFAULT 0,
    photos          INTEGER NOT NULL DEFAULT 0,  -- accepted photos it was asked on
    steps           INTEGER NOT NULL DEFAULT 0,  -- steps asked (0: the engine's default)
    steps_done      INTEGER NOT NULL DEFAULT 0,
    quota_cost      INTEGER NOT NULL DEFAULT 0,  -- images of the daily quota it counts as
    sha256          TEXT,
    path            TEXT,                        -- u<id>/personal/<sha256>.safetensors
    consent_version TEXT NOT NULL,
    enabled         INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    family          TEXT,
    base_model      TEXT,
    licence         TEXT,
    commercial_ok   INTEGER,
    platform        TEXT NOT NULL,
    chat_id         TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at     TEXT,
    delivered_at    TEXT,
    -- a ready model has its file
    CHECK (status != 'ready' OR (path IS NOT NULL AND sha256 IS NOT NULL))
);
CREATE INDEX personal_models_user ON personal_models (user_id);
CREATE INDEX personal_models_set ON personal_models (set_id);
CREATE UNIQUE INDEX personal_models_job ON personal_models (job_id) WHERE job_id IS NOT NULL;

-- Consent to a personal model is recorded like the studio's own (version, the words
-- agreed to, when), in the same table under its own kind; the studio's consent check
-- reads kind 'studio' only.
ALTER TABLE consents ADD COLUMN kind TEXT NOT NULL DEFAULT 'studio';

-- The order was painted with the person's personal model (its summary and results say
-- "personal model"): set when its request carried the model.
ALTER TABLE orders ADD COLUMN personal INTEGER NOT NULL DEFAULT 0;

-- Its status and failure codes guarded like the other tables' (0016): a write of a code
-- outside bot/store/codes.py's TrainingStatus / Failure is refused (the codes it knows:
-- the table `codes`, filled from the enums whenever the database is opened).
CREATE TRIGGER personal_models_status_insert BEFORE INSERT ON personal_models
WHEN NEW.status NOT IN (SELECT code FROM codes WHERE kind = 'TrainingStatus')
BEGIN SELECT RAISE(ABORT, 'personal_models.status: not a TrainingStatus code (bot/store/codes.py)'); END;

CREATE TRIGGER personal_models_status_update BEFORE UPDATE OF status ON personal_models
WHEN NEW.status NOT IN (SELECT code FROM codes WHERE kind = 'TrainingStatus')
BEGIN SELECT RAISE(ABORT, 'personal_models.status: not a TrainingStatus code (bot/store/codes.py)'); END;

CREATE TRIGGER personal_models_error_insert BEFORE INSERT ON personal_models
WHEN NEW.error IS NOT NULL AND NEW.error NOT IN (
    SELECT code FROM codes WHERE kind = 'Failure')
BEGIN SELECT RAISE(ABORT, 'personal_models.error: not a Failure code (bot/store/codes.py)'); END;

CREATE TRIGGER personal_models_error_update BEFORE UPDATE OF error ON personal_models
WHEN NEW.error IS NOT NULL AND NEW.error NOT IN (
    SELECT code FROM codes WHERE kind = 'Failure')
BEGIN SELECT RAISE(ABORT, 'personal_models.error: not a Failure code (bot/store/codes.py)'); END;

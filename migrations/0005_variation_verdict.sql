-- Reason: the likeness gate is made for each person and style (engine/gate.py). Each
-- portrait keeps the gate's verdict (passed, no_face, not_alike, copy, unchecked), the
-- likeness it needed, and why earlier attempts were made again (a comma-separated list
-- of verdicts), so the results caption can say the score and the reason in plain words.
-- Rows from before keep NULL and are captioned as before.

ALTER TABLE variations ADD COLUMN verdict TEXT;
ALTER TABLE variations ADD COLUMN threshold REAL;
ALTER TABLE variations ADD COLUMN regenerated TEXT NOT NULL DEFAULT '';

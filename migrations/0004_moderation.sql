-- Reason: moderation waits for typed input that must survive a restart (a
-- report's optional note, the selfie after /protect); it must know whether a
-- report has reached the moderators yet (posting is retried until it has) and
-- on which platform; and it looks reports up by reporter and protected faces
-- by owner.

CREATE TABLE pending_inputs (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,            -- report_text | report_note | protect_selfie
    ref        INTEGER,                  -- the portrait or report it belongs to
    text       TEXT NOT NULL DEFAULT '', -- what /report already said, kept for the report
    expires_at TEXT NOT NULL
);

ALTER TABLE reports ADD COLUMN platform TEXT;   -- whose moderators are asked
ALTER TABLE reports ADD COLUMN posted_at TEXT;  -- when the moderators got it
CREATE INDEX reports_reporter ON reports (reporter_user_id);
CREATE INDEX reports_status ON reports (status, posted_at);
CREATE INDEX protected_faces_owner ON protected_faces (owner_user_id);

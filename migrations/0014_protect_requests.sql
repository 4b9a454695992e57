-- Reason: /protect took any selfie, so anyone could lock someone else out of the studio
-- (issue 22). A person now protects only their own face (a selfie that matches their
-- accepted reference photos); any other request goes to the moderators as a report of
-- its own kind (reason 'protect_request', no portrait), carrying the selfie's face
-- embedding (never the photo) for the moderators to protect or dismiss.

ALTER TABLE reports ADD COLUMN face_backend TEXT;
ALTER TABLE reports ADD COLUMN face_embedding TEXT;  -- JSON list of floats

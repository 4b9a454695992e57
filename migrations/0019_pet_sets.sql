-- Reason: issue 25. A person may keep a reference set of a pet (a cat or a dog, with its
-- name) beside their own: a set now says whose it is (subject: a code, 'person', 'cat'
-- or 'dog'; pet_name: the name the owner gave, NULL for the person's own set) and when
-- the owner confirmed the photos are theirs to use (owner_confirmed_at; NULL for the
-- person's own set, whose consent is the consents row). One active set per subject:
-- the person's own, and one per pet. working_sets remembers which set the references
-- step collects into (no row: the person's own), deleted with the person or the set.

ALTER TABLE reference_sets ADD COLUMN subject TEXT NOT NULL DEFAULT 'person';
ALTER TABLE reference_sets ADD COLUMN pet_name TEXT;
ALTER TABLE reference_sets ADD COLUMN owner_confirmed_at TEXT;
CREATE INDEX reference_sets_subject ON reference_sets (user_id, subject);

CREATE TABLE working_sets (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    set_id  INTEGER NOT NULL REFERENCES reference_sets (id) ON DELETE CASCADE
);

-- An order says whose portrait it is (a code, as its set's subject; NULL: a person's, as
-- every older order) and the pet's name as it was when ordered, for captions and /portraits.
ALTER TABLE orders ADD COLUMN sitter TEXT;
ALTER TABLE orders ADD COLUMN pet_name TEXT;

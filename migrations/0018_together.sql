-- Reason: portraits of two people (issue 24). The second person takes part only by
-- accepting an invitation in their own chat: an invitation row holds codes only (its
-- status, the sha256 of its random token, who invites, who accepted, when it lapses,
-- the consent text version accepted, and the invitee's consent row: kind 'together',
-- withdrawn with the invitation). A joint order is an ordinary order that names the
-- partner, the partner's reference set, the invitation it rests on and the placement.

CREATE TABLE invitations (
    id               INTEGER PRIMARY KEY,
    token_sha256     TEXT NOT NULL UNIQUE,          -- the token itself is never stored
    inviter_user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    invitee_user_id  INTEGER REFERENCES users (id) ON DELETE CASCADE,
    platform         TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'open',  -- open|claimed|accepted|declined|withdrawn|expired
    consent_version  TEXT,                          -- the invitation text version accepted
    consent_id       INTEGER REFERENCES consents (id) ON DELETE SET NULL, -- its consent row
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at       TEXT NOT NULL,
    answered_at      TEXT,
    ended_at         TEXT,
    ended_by         INTEGER                        -- user id of who withdrew (no FK: kept)
);
CREATE INDEX invitations_inviter ON invitations (inviter_user_id, status);
CREATE INDEX invitations_invitee ON invitations (invitee_user_id, status);

ALTER TABLE orders ADD COLUMN partner_user_id INTEGER REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE orders ADD COLUMN partner_set_id INTEGER REFERENCES reference_sets (id) ON DELETE SET NULL;
ALTER TABLE orders ADD COLUMN invitation_id INTEGER REFERENCES invitations (id) ON DELETE SET NULL;
ALTER TABLE orders ADD COLUMN placement TEXT;          -- side_by_side|shoulder_to_shoulder|facing|back_to_back
ALTER TABLE orders ADD COLUMN partner_chat_id TEXT;    -- where the partner's copy goes
ALTER TABLE orders ADD COLUMN partner_delivered_at TEXT;
CREATE INDEX orders_partner ON orders (partner_user_id);

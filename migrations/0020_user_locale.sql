-- Reason: the studio speaks each person's language (issue 26). A person's locale code
-- (en, ru, es, pt_BR, ar: one the catalogs offer), taken from the platform on first
-- contact (Telegram's language_code, Discord's Interaction.locale, the terminal's LANG)
-- and changed with /language. NULL: not known yet (English until it is). A code, never
-- words; deleted with the account by /forget like the rest of the row.
ALTER TABLE users ADD COLUMN locale TEXT;

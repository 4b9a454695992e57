-- Reason: sets made before the one-person rule (issue 22, item 1) were never judged
-- again, so a set of two people's photos stayed ready and orders ran on it. A set now
-- records the rule it was last judged under (0: never, as every older set); an order on
-- a set judged under an older rule judges it first (bot/studio/photos/reference_set.py).

ALTER TABLE reference_sets ADD COLUMN judged_rule INTEGER NOT NULL DEFAULT 0;

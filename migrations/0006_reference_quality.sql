-- Reason: FLUX.2 [klein] takes up to four of a person's own photos as its
-- identity; the engine chooses the sharpest, best exposed, largest-face and most
-- varied in angle, by what the photo analysis measured. Keep those measures.
ALTER TABLE reference_photos ADD COLUMN quality TEXT NOT NULL DEFAULT '{}';  -- JSON {name: value}

-- Reason: the same picture sent again at another size or compression has other bytes,
-- so the sha256 check misses it and it would count as several good photos. Each
-- reference photo keeps the engine's perceptual fingerprint (engine/near_duplicate.py,
-- "<16 hex>/<16 hex>"); a new photo that is the same picture as one in the set is
-- refused and counted once. Rows from before, and photos from an older engine, keep ''
-- (then only the byte-identical check applies).

ALTER TABLE reference_photos ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';

-- Reason: the face detail pass (engine/pipeline/detail.py) re-renders a portrait's face
-- up close and keeps that version only when the likeness gate ranks it better. Each
-- portrait keeps why the pass ran (small_face, near_gate, always; NULL: it did not run)
-- and, when its version was kept, how much it changed the likeness, so the results
-- caption can mention it. Rows from before keep NULL.

ALTER TABLE variations ADD COLUMN detail TEXT;
ALTER TABLE variations ADD COLUMN detail_gain REAL;

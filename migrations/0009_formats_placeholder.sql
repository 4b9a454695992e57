-- Reason: placeholder for another helper's migration 0009 (packs); drop at merge.
SELECT 1;

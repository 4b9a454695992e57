-- Reason: a placeholder for another issue's migration 0017 (this branch takes 0020 only);
-- delete this file when main brings the real 0017.

SELECT 1;

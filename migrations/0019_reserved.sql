-- Reason: a placeholder for another issue's migration 0019 (this branch takes 0021 only);
-- delete this file when main brings the real 0019.

SELECT 1;

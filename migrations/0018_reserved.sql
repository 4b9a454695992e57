-- Reason: a placeholder for another issue's migration 0018 (this branch takes 0021 only);
-- delete this file when main brings the real 0018.

SELECT 1;

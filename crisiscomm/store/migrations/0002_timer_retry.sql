-- 0002: a timer whose firing keeps failing is tried again later, not at every pass.
-- `failures` counts the failed firings; `next_try_at` (UTC text, like due_at) is when the
-- next one may run: after 1, 2, 4 ... seconds, up to 10 minutes (crisiscomm/store/timers.py).
ALTER TABLE timers ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE timers ADD COLUMN next_try_at TEXT;

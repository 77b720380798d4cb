-- 0004: the reset generation a seed ran with (--reset-generation N). A run whose N is above the latest
-- successful record's empties the business tables and seeds again, once: the same N again is a no-op.
-- This is how a stack re-seeds a sandbox (spec field data_generation) without resetting on every new Job.

ALTER TABLE seed_record ADD COLUMN IF NOT EXISTS reset_generation integer NOT NULL DEFAULT 0;

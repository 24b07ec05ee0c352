-- The official result is frozen (computed from the ledger and the locked ballots) when
-- the producer starts the on-air reveal, so every step announced comes from one count.
ALTER TABLE contests ADD COLUMN frozen_result jsonb;

-- Claims for campaigns that several nodes share (see ../migrations/0009).
-- Numbered as the SQLite migration it matches: 0001 here is 0001–0008 there.
ALTER TABLE candidates ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE candidates ADD COLUMN claimed_by TEXT;
ALTER TABLE candidates ADD COLUMN claim_until TEXT;

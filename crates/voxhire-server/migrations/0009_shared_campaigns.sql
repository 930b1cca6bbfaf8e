-- Several nodes may run one job's campaign on a shared store. A node claims
-- a candidate before it dials them: `attempts` is the attempt number the
-- claim took (so a node with a stale view cannot dial the same attempt
-- again), `claimed_by` the node, `claim_until` when the claim lapses unless
-- the node renews it (RFC 3339, UTC, as every time here). A node that dies
-- stops renewing: once its claims lapse, another node closes its calls
-- (BYE, attempt interrupted) and the campaign's retry rules take over.
ALTER TABLE candidates ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE candidates ADD COLUMN claimed_by TEXT;
ALTER TABLE candidates ADD COLUMN claim_until TEXT;
UPDATE candidates SET attempts =
    (SELECT COALESCE(MAX(attempt_no), 0) FROM interviews WHERE candidate_id = candidates.id);

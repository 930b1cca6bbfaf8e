-- Personal data in the store is sealed under the master key from now on
-- (candidates' name, phone, résumé and screening; interview reports; webhook
-- bodies; replayable responses), so the rows that mention a candidate can no
-- longer be found by their text: the outbox names its candidate.
ALTER TABLE outbox ADD COLUMN candidate_id TEXT;
CREATE INDEX outbox_by_candidate ON outbox(candidate_id);

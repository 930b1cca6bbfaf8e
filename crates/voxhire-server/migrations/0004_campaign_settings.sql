-- A job's campaign settings (JSON: calling window, retries, ring timeout,
-- pacing), checked when the job is created or changed.
ALTER TABLE jobs ADD COLUMN campaign TEXT;

-- Each job's campaign as the recruiter left it, so a restarted server picks
-- up what was running, and a paused campaign stays paused.
CREATE TABLE campaigns (
    job_id      TEXT PRIMARY KEY REFERENCES jobs(id),
    state       TEXT NOT NULL CHECK (state IN ('running', 'paused', 'cancelled', 'finished')),
    updated_at  TEXT NOT NULL
);

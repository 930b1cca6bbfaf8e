-- The recruiting back office: machine API keys, jobs, candidates with their
-- status history, interviews, webhook subscriptions and the durable outbox.
-- Times are RFC 3339 UTC text; ids are prefixed random strings.

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    scope       TEXT NOT NULL CHECK (scope IN ('read', 'write')),
    key_hash    TEXT NOT NULL UNIQUE,   -- SHA-256 of the key: the key is shown once
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);

CREATE TABLE jobs (
    id          TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    language    TEXT NOT NULL,
    script_toml TEXT NOT NULL,          -- validated at create
    created_at  TEXT NOT NULL
);

CREATE TABLE candidates (
    id          TEXT PRIMARY KEY,
    job_id      TEXT NOT NULL REFERENCES jobs(id),
    external_id TEXT,
    name        TEXT NOT NULL,
    phone       TEXT NOT NULL,          -- a sip: URI or a phone number
    language    TEXT NOT NULL,
    timezone    TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX candidates_by_job ON candidates(job_id, created_at);

-- Every status change: when, why, and who (a key, the engine, a recruiter).
CREATE TABLE candidate_events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    candidate_id TEXT NOT NULL REFERENCES candidates(id),
    at           TEXT NOT NULL,
    status       TEXT NOT NULL,
    cause        TEXT NOT NULL,
    actor        TEXT NOT NULL
);
CREATE INDEX candidate_events_by_candidate ON candidate_events(candidate_id, seq);

CREATE TABLE interviews (
    id             TEXT PRIMARY KEY,
    candidate_id   TEXT NOT NULL REFERENCES candidates(id),
    attempt_no     INTEGER NOT NULL,
    call_id        TEXT,
    outcome        TEXT NOT NULL,       -- the attempt: completed, busy, no_answer, …
    attempt        TEXT NOT NULL,       -- the whole AttemptOutcome as JSON
    status         TEXT,                -- the interview: completed, hung_up, …
    score          REAL,
    recommendation TEXT,
    report_json    TEXT,
    run_dir        TEXT NOT NULL,
    started_at     TEXT NOT NULL,
    ended_at       TEXT NOT NULL
);
CREATE INDEX interviews_by_candidate ON interviews(candidate_id, attempt_no);

CREATE TABLE webhooks (
    id          TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    events      TEXT NOT NULL,          -- JSON array of event types
    created_at  TEXT NOT NULL,
    disabled_at TEXT
);

-- One row per (event, subscription), written in the same transaction as the
-- change it reports; delivered at least once, in order of creation.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,   -- the delivery's idempotency id
    webhook_id      TEXT NOT NULL REFERENCES webhooks(id),
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,      -- the JSON body, signed as sent
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    delivered_at    TEXT,
    dead_at         TEXT,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox(delivered_at, dead_at, next_attempt_at);

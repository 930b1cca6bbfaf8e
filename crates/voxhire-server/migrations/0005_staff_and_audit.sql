-- Staff accounts with multi-factor sign-in, their sessions, and the
-- tamper-evident audit trail.

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'recruiter', 'auditor')),
    password_hash  TEXT NOT NULL,             -- Argon2id, PHC string
    totp_secret    BLOB NOT NULL,             -- sealed under the master key (voxhire-vault)
    totp_last_step INTEGER NOT NULL DEFAULT 0, -- newest accepted time step: a code works once
    failed_logins  INTEGER NOT NULL DEFAULT 0, -- in a row
    locked_until   TEXT,
    created_at     TEXT NOT NULL,
    disabled_at    TEXT
);

-- Single-use recovery codes, stored as SHA-256 (they are random, 50 bits).
CREATE TABLE recovery_codes (
    user_id    TEXT NOT NULL REFERENCES users(id),
    code_hash  TEXT NOT NULL,
    used_at    TEXT,
    PRIMARY KEY (user_id, code_hash)
);

-- A signed-in browser: the cookie holds a random token, the store its SHA-256.
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE INDEX sessions_by_user ON sessions(user_id);

-- Keys the server keeps sealed under the master key (the audit log's MAC
-- key); `voxhire keys rotate` re-wraps them.
CREATE TABLE sealed_secrets (
    name    TEXT PRIMARY KEY,
    sealed  BLOB NOT NULL
);

-- The audit trail: who did what to which object, each entry holding the hash
-- of the one before it and an HMAC under a key only the master key opens.
-- Entries name ids, never personal data, so erasure leaves the chain whole.
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    object     TEXT NOT NULL,
    detail     TEXT NOT NULL,  -- JSON, ids and codes only
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL,
    mac        TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

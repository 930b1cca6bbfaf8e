-- Idempotency keys on POSTs that create or start things: a retried request
-- with the same key gets the first response back instead of acting twice.
CREATE TABLE idempotency (
    caller      TEXT NOT NULL,          -- SHA-256 of the API key that sent it
    key         TEXT NOT NULL,          -- the Idempotency-Key header
    request     TEXT NOT NULL,          -- SHA-256 of method, path and body
    status      INTEGER NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (caller, key)
);

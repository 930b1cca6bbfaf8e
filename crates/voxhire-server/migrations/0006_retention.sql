-- Per-job retention: how many days recordings and reports are kept after
-- the call (JSON {recordings_days, reports_days}); the server's sweeper
-- deletes them when due and notes when it did.
ALTER TABLE jobs ADD COLUMN retention TEXT;
ALTER TABLE interviews ADD COLUMN recording_deleted_at TEXT;
ALTER TABLE interviews ADD COLUMN report_deleted_at TEXT;

-- Résumé screening: a job's requirements, a candidate's résumé text and the
-- screening's result (JSON: decision, score, checks with quotes, reasons).
ALTER TABLE jobs ADD COLUMN requirements TEXT;
ALTER TABLE candidates ADD COLUMN resume_text TEXT;
ALTER TABLE candidates ADD COLUMN screening TEXT;

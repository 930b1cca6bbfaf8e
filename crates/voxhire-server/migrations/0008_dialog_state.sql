-- The dialog of an answered call while it is up (Call-ID, tags, route set,
-- CSeq, remote target; sealed: the remote URI is the candidate's number), so
-- a server that died mid-call can end the call with a BYE when it restarts.
ALTER TABLE interviews ADD COLUMN dialog BLOB;

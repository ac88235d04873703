-- Aesthetix schema, version 16: a revert runs in the background (issue 18), so Bulk Actions
-- can show it is under way and, afterwards, what it did.

-- When a revert of the import was started; cleared when it ends (done or failed).
ALTER TABLE jobs ADD COLUMN revert_started_at BIGINT;
-- What the revert did: contacts deleted, contacts restored, contacts left alone because they
-- changed since the import.
ALTER TABLE jobs ADD COLUMN revert_deleted BIGINT;
ALTER TABLE jobs ADD COLUMN revert_restored BIGINT;
ALTER TABLE jobs ADD COLUMN revert_left BIGINT;

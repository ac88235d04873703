-- Aesthetix schema, version 2: what reverting an import (SPEC §9.4) needs beyond the journal.

-- When the import was reverted; a job is reverted at most once.
ALTER TABLE jobs ADD COLUMN reverted_at BIGINT;

-- Which import appended an additional email or phone (NULL: added some other way), so a
-- revert removes exactly those.
ALTER TABLE contact_emails ADD COLUMN job_id BIGINT;
ALTER TABLE contact_phones ADD COLUMN job_id BIGINT;

-- Every update resets email verification (SPEC §6.5); the journal keeps the status the
-- contact had before, when it was not `unverified`, so a revert restores it.
ALTER TABLE journal ADD COLUMN email_verification_before TEXT;

-- Deleting a contact cascades to its enrollments, and a revert looks them up by job.
CREATE INDEX enrollments_contact ON enrollments (contact_id);
CREATE INDEX enrollments_job ON enrollments (job_id);

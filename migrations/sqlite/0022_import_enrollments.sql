-- Aesthetix schema, version 22: a workflow enrolled by an import (trigger `import`) enrolls a
-- contact once per import, not once ever (SPEC §6.6, §11: a regular Nextech reconciliation
-- imports the practice's file again and again, each import enrolled in the workflow that moves
-- the board; a contact enrolled by last week's import must be enrolled by this week's). Every
-- other trigger still enrolls a contact at most once per workflow, which is what ends chains of
-- tag-added workflows.
--
-- `occasion` is the enrolling import's job id for an import-triggered workflow, else 0; a
-- contact is enrolled once per (workflow, occasion), keyed by location first as every key is.
-- SQLite cannot drop a table's UNIQUE constraint, so the table is rebuilt with the same ids.
-- Foreign keys stay on inside a migration's transaction, so dropping the old table sets
-- `outbox.enrollment_id` to NULL: the links are kept aside first and put back.
CREATE TEMP TABLE outbox_links AS
    SELECT id, enrollment_id FROM outbox WHERE enrollment_id IS NOT NULL;

CREATE TABLE enrollments_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id BIGINT NOT NULL,
    workflow_id BIGINT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    job_id BIGINT,
    next_step BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed', 'failed')),
    run_after BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    occasion BIGINT NOT NULL DEFAULT 0,
    UNIQUE (location_id, workflow_id, contact_id, occasion)
);
INSERT INTO enrollments_rebuilt
    (id, location_id, workflow_id, contact_id, job_id, next_step, status, run_after, created_at, occasion)
    SELECT e.id, e.location_id, e.workflow_id, e.contact_id, e.job_id, e.next_step, e.status,
           e.run_after, e.created_at,
           CASE WHEN w.trigger_kind = 'import' AND e.job_id IS NOT NULL THEN e.job_id ELSE 0 END
    FROM enrollments e JOIN workflows w ON w.id = e.workflow_id;
DROP TABLE enrollments;
ALTER TABLE enrollments_rebuilt RENAME TO enrollments;
CREATE INDEX enrollments_due ON enrollments (status, run_after);
CREATE INDEX enrollments_contact ON enrollments (contact_id);
CREATE INDEX enrollments_job ON enrollments (job_id);

UPDATE outbox SET enrollment_id = (SELECT l.enrollment_id FROM outbox_links l WHERE l.id = outbox.id)
    WHERE id IN (SELECT id FROM outbox_links);
DROP TABLE outbox_links;

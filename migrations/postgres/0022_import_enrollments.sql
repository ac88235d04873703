-- Aesthetix schema, version 22: a workflow enrolled by an import (trigger `import`) enrolls a
-- contact once per import, not once ever (SPEC §6.6, §11: a regular Nextech reconciliation
-- imports the practice's file again and again, each import enrolled in the workflow that moves
-- the board; a contact enrolled by last week's import must be enrolled by this week's). Every
-- other trigger still enrolls a contact at most once per workflow, which is what ends chains of
-- tag-added workflows.
--
-- `occasion` is the enrolling import's job id for an import-triggered workflow, else 0; a
-- contact is enrolled once per (workflow, occasion), keyed by location first as every key is.
ALTER TABLE enrollments ADD COLUMN occasion BIGINT NOT NULL DEFAULT 0;
UPDATE enrollments e SET occasion = e.job_id
    FROM workflows w
    WHERE w.id = e.workflow_id AND w.trigger_kind = 'import' AND e.job_id IS NOT NULL;
ALTER TABLE enrollments DROP CONSTRAINT enrollments_workflow_id_contact_id_key;
ALTER TABLE enrollments ADD CONSTRAINT enrollments_once UNIQUE (location_id, workflow_id, contact_id, occasion);

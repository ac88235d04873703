-- Aesthetix schema, version 5: the import wizard's drafts (SPEC §6.1).
--
-- A draft is an upload on its way to becoming an import job: the stored file (a `files` row,
-- kept under a generated name; the user's file name is display data only) and the choices the
-- admin made so far (sheet, mapping, details, the last validation) as JSON. Submitting it
-- creates the job and records it here, so submitting twice returns the same job.
-- The Idempotency-Key of a submit (SPEC §9.6) is `jobs.idempotency_key`, unique per location
-- since version 1.

CREATE TABLE import_drafts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id BIGINT NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    file_id BIGINT NOT NULL REFERENCES files(id),
    settings TEXT NOT NULL DEFAULT '{}',
    job_id BIGINT REFERENCES jobs(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX import_drafts_location ON import_drafts (location_id, id);

-- Aesthetix schema, version 12: saved import templates, and a migration's waiting steps (SPEC §11).
--
-- An admin saves an import's choices — mapping by header, value mappings, fill-only columns,
-- mode and options, tags, workflow — under a name, and applies them to the next file. The
-- choices are one JSON document (the `jobs::templates::Choices` shape); a name is unique per
-- location, and saving a name again replaces its choices.

CREATE TABLE import_templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id BIGINT NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    choices TEXT NOT NULL,
    from_job BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (location_id, name)
);

-- A migration's patients file waiting for its leads file (SPEC §11, the API's migration): the
-- draft is submitted by the worker loop once the job `after_job` completed, or the step stops
-- when that job ended otherwise. `status`: waiting, submitted, stopped.
CREATE TABLE migration_steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id BIGINT NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
    after_job BIGINT NOT NULL,
    draft_id BIGINT NOT NULL,
    acknowledge_workflows BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    job_id BIGINT,
    reason TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX migration_steps_waiting ON migration_steps (status);

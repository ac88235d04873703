-- Aesthetix schema, version 12: saved import templates (SPEC §11).
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

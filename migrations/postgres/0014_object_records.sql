-- Aesthetix schema, version 14: companies and custom objects (SPEC §8, issue 13).

-- A custom object's primary field has a label as well as a key (`Treatment Name`).
ALTER TABLE custom_objects ADD COLUMN primary_field_label TEXT NOT NULL DEFAULT '';

-- The records of companies and of every custom object, in one table read and written through
-- each object's schema (domain::object): `object` is `company` or `custom:KEY`, `record_id`
-- the location's own integer for that object (SPEC §8), never reused (record_counters), so
-- a revert's journal can name a record by it. `field_values` holds every field but the id as
-- JSON text by key; `primary_value` repeats the primary field for listing.
CREATE TABLE object_records (
    location_id BIGINT NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    object TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    primary_value TEXT NOT NULL DEFAULT '',
    field_values TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (location_id, object, record_id)
);

-- The next record id of each object of a location; only ever goes up.
CREATE TABLE record_counters (
    location_id BIGINT NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    object TEXT NOT NULL,
    next_id BIGINT NOT NULL,
    PRIMARY KEY (location_id, object)
);

-- The tables of version 1 that nothing ever wrote: records live in object_records.
DROP TABLE custom_object_records;
DROP TABLE companies;

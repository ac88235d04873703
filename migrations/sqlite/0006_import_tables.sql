-- Aesthetix schema, version 6 (SQLite only): the three tables an import writes for every row,
-- rebuilt to cost less per row. Nothing they hold changes; PostgreSQL needs none of it.
--
-- Why: SQLite evaluates a CHECK of the form `x IN ('a', 'b', 'c')` — three or more constants —
-- through a temporary B-tree it builds afresh for every INSERT, so each contact and each line
-- result paid for one or two such trees (about 10% of an import's time). The same constraints
-- are now written as `x = 'a' OR x = 'b' OR …`, which SQLite evaluates in place. `job_lines`
-- and `contact_imports` also become WITHOUT ROWID tables: their primary key is the table, one
-- B-tree per row instead of two.
--
-- The runner applies every SQLite migration with foreign keys off and checks them before it
-- commits (SQLite's own procedure for rebuilding a table), so dropping the old `contacts` does
-- not cascade to its tags, notes and the rest: they keep pointing at `contacts` by name.

-- contacts: the same columns in the same order, ids and their AUTOINCREMENT counter kept (a
-- reverted import's deleted ids are never handed out again).
CREATE TABLE contacts_v6 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id BIGINT NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    first_name TEXT,
    last_name TEXT,
    email TEXT,
    email_key TEXT,
    phone TEXT,
    phone_extension TEXT,
    company_name TEXT,
    contact_type TEXT,
    status TEXT,
    dnd_sms INTEGER NOT NULL DEFAULT FALSE,
    dnd_email INTEGER NOT NULL DEFAULT FALSE,
    dnd_calls INTEGER NOT NULL DEFAULT FALSE,
    dnd_voicemail INTEGER NOT NULL DEFAULT FALSE,
    email_verification TEXT NOT NULL DEFAULT 'unverified'
        CHECK (email_verification = 'unverified' OR email_verification = 'valid'
               OR email_verification = 'invalid'),
    source TEXT,
    owner_user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    date_of_birth TEXT,
    created_date TEXT,
    address1 TEXT,
    city TEXT,
    state TEXT,
    postal_code TEXT,
    country TEXT,
    timezone TEXT,
    website TEXT,
    utm_source TEXT,
    utm_medium TEXT,
    utm_campaign TEXT,
    utm_term TEXT,
    utm_content TEXT,
    -- custom field values: JSON object field_key -> value
    custom_values TEXT NOT NULL DEFAULT '{}',
    -- lower-cased name, email and phone, for the contacts list search
    search_text TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    -- bumped by every change, so a revert can tell whether a record changed since
    version BIGINT NOT NULL DEFAULT 1
);
INSERT INTO contacts_v6 SELECT * FROM contacts;
UPDATE sqlite_sequence
   SET seq = MAX(seq, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'contacts'), 0))
 WHERE name = 'contacts_v6';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'contacts_v6', seq FROM sqlite_sequence
 WHERE name = 'contacts'
   AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'contacts_v6');
DROP TABLE contacts;
ALTER TABLE contacts_v6 RENAME TO contacts;
CREATE UNIQUE INDEX contacts_email_key ON contacts (location_id, email_key);
CREATE UNIQUE INDEX contacts_phone ON contacts (location_id, phone);
CREATE INDEX contacts_location_created ON contacts (location_id, created_at, id);

CREATE TABLE job_lines_v6 (
    job_id BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    line BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status = 'success' OR status = 'warning' OR status = 'error'),
    action TEXT NOT NULL
        CHECK (action = 'created' OR action = 'updated' OR action = 'skipped' OR action = 'none'),
    record_id BIGINT,
    primary_value TEXT,
    messages TEXT,
    cells TEXT,
    PRIMARY KEY (job_id, line)
) WITHOUT ROWID;
INSERT INTO job_lines_v6 (job_id, line, status, action, record_id, primary_value, messages, cells)
SELECT job_id, line, status, action, record_id, primary_value, messages, cells FROM job_lines;
DROP TABLE job_lines;
ALTER TABLE job_lines_v6 RENAME TO job_lines;
CREATE INDEX job_lines_status ON job_lines (job_id, status, line);

CREATE TABLE contact_imports_v6 (
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    job_id BIGINT NOT NULL,
    location_id BIGINT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('created', 'updated')),
    PRIMARY KEY (contact_id, job_id)
) WITHOUT ROWID;
INSERT INTO contact_imports_v6 (contact_id, job_id, location_id, action)
SELECT contact_id, job_id, location_id, action FROM contact_imports;
DROP TABLE contact_imports;
ALTER TABLE contact_imports_v6 RENAME TO contact_imports;
CREATE INDEX contact_imports_job ON contact_imports (job_id);

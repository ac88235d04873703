-- Aesthetix schema, version 1: the whole domain of SPEC §2–§3 and §9–§12.
-- Times are milliseconds since the Unix epoch (BIGINT) on both backends; JSON is TEXT.
-- Every location-scoped table carries location_id, and every query the store makes filters on it.

CREATE TABLE locations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    country TEXT NOT NULL DEFAULT 'US',
    timezone TEXT NOT NULL DEFAULT 'America/New_York',
    currency TEXT NOT NULL DEFAULT 'USD',
    date_order TEXT NOT NULL DEFAULT 'MDY',
    match_order TEXT NOT NULL DEFAULT 'email_first',
    require_unique_identifier INTEGER NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE memberships (
    location_id BIGINT NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
    PRIMARY KEY (location_id, user_id)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    location_id BIGINT NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id BIGINT NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    prefix TEXT NOT NULL UNIQUE,
    key_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- Custom field definitions per location and object ('contact', 'opportunity', 'company',
-- 'custom:KEY'). options is a JSON array of strings for option types.
CREATE TABLE custom_fields (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id BIGINT NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    object TEXT NOT NULL,
    field_key TEXT NOT NULL,
    label TEXT NOT NULL,
    field_type TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '[]',
    required INTEGER NOT NULL DEFAULT FALSE,
    is_unique INTEGER NOT NULL DEFAULT FALSE,
    position BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    UNIQUE (location_id, object, field_key)
);

CREATE TABLE tags (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id BIGINT NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (location_id, name_key)
);

-- email_key is the Unicode lower case of the whole primary email, computed by the application
-- so that both backends agree (SPEC §6.4). phone is E.164. Both unique per location.
CREATE TABLE contacts (
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
        CHECK (email_verification IN ('unverified', 'valid', 'invalid')),
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
CREATE UNIQUE INDEX contacts_email_key ON contacts (location_id, email_key);
CREATE UNIQUE INDEX contacts_phone ON contacts (location_id, phone);
CREATE INDEX contacts_location_created ON contacts (location_id, created_at, id);

CREATE TABLE contact_emails (
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    location_id BIGINT NOT NULL,
    email TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (contact_id, email)
);

CREATE TABLE contact_phones (
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    location_id BIGINT NOT NULL,
    phone TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (contact_id, phone)
);

CREATE TABLE contact_tags (
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    tag_id BIGINT NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    location_id BIGINT NOT NULL,
    added_by_job BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (contact_id, tag_id)
);
CREATE INDEX contact_tags_tag ON contact_tags (location_id, tag_id);

CREATE TABLE notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    job_id BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX notes_contact ON notes (contact_id, id);

-- Which imports created or updated a contact (SPEC §3, Smart List "from this import").
CREATE TABLE contact_imports (
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    job_id BIGINT NOT NULL,
    location_id BIGINT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('created', 'updated')),
    PRIMARY KEY (contact_id, job_id)
);
CREATE INDEX contact_imports_job ON contact_imports (job_id);

CREATE TABLE pipelines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id BIGINT NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (location_id, name)
);

CREATE TABLE stages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id BIGINT NOT NULL,
    pipeline_id BIGINT NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    position BIGINT NOT NULL,
    UNIQUE (pipeline_id, name)
);

CREATE TABLE opportunities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id BIGINT NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    pipeline_id BIGINT NOT NULL REFERENCES pipelines(id),
    stage_id BIGINT NOT NULL REFERENCES stages(id),
    name TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost', 'abandoned')),
    -- exact decimal as text, never a float
    monetary_value TEXT,
    owner_user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    source TEXT,
    contact_id BIGINT REFERENCES contacts(id) ON DELETE SET NULL,
    custom_values TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX opportunities_contact ON opportunities (location_id, contact_id);

CREATE TABLE companies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id BIGINT NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    custom_values TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE custom_objects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id BIGINT NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    object_key TEXT NOT NULL,
    name TEXT NOT NULL,
    primary_field_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (location_id, object_key)
);

CREATE TABLE custom_object_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id BIGINT NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    custom_object_id BIGINT NOT NULL REFERENCES custom_objects(id) ON DELETE CASCADE,
    field_values TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

-- Values of fields declared unique on companies and custom objects, enforced by the database.
CREATE TABLE record_unique_values (
    location_id BIGINT NOT NULL,
    object TEXT NOT NULL,
    field_key TEXT NOT NULL,
    value_key TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    PRIMARY KEY (location_id, object, field_key, value_key)
);

CREATE TABLE smart_lists (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id BIGINT NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- JSON array of filter expressions (SPEC §13.1 syntax)
    filters TEXT NOT NULL DEFAULT '[]',
    builtin INTEGER NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    UNIQUE (location_id, name)
);

CREATE TABLE workflows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id BIGINT NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    trigger_kind TEXT NOT NULL CHECK (trigger_kind IN ('tag-added', 'contact-created', 'import')),
    trigger_value TEXT,
    status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('active', 'paused', 'draft')),
    -- JSON array of actions (SPEC §13.1 syntax)
    actions TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    UNIQUE (location_id, name)
);

CREATE TABLE enrollments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id BIGINT NOT NULL,
    workflow_id BIGINT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    job_id BIGINT,
    next_step BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed', 'failed')),
    run_after BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (workflow_id, contact_id)
);
CREATE INDEX enrollments_due ON enrollments (status, run_after);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id BIGINT NOT NULL,
    enrollment_id BIGINT REFERENCES enrollments(id) ON DELETE SET NULL,
    step BIGINT NOT NULL,
    contact_id BIGINT,
    channel TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    recipient TEXT,
    subject TEXT,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'suppressed')),
    reason TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (enrollment_id, step)
);
CREATE INDEX outbox_location ON outbox (location_id, id);

-- Stored files (uploads, exports, error logs) under generated names in the file store.
CREATE TABLE files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id BIGINT NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('upload', 'export', 'error_log')),
    original_name TEXT NOT NULL,
    stored_name TEXT NOT NULL UNIQUE,
    size_bytes BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    deleted_at BIGINT
);

-- Bulk Actions (SPEC §9): one row per import or export, with its lease and checkpoint.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id BIGINT NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    operation TEXT NOT NULL CHECK (operation IN ('import', 'export')),
    object TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'paused', 'cancelled', 'completed', 'failed')),
    status_reason TEXT,
    requested TEXT CHECK (requested IN ('pause', 'cancel')),
    file_id BIGINT REFERENCES files(id),
    file_name TEXT,
    result_file_id BIGINT REFERENCES files(id),
    -- the job's options (mapping, mode, tags, filters, columns …) as JSON
    options TEXT NOT NULL DEFAULT '{}',
    idempotency_key TEXT,
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    total BIGINT,
    processed BIGINT NOT NULL DEFAULT 0,
    created_count BIGINT NOT NULL DEFAULT 0,
    updated_count BIGINT NOT NULL DEFAULT 0,
    skipped_count BIGINT NOT NULL DEFAULT 0,
    error_count BIGINT NOT NULL DEFAULT 0,
    warning_count BIGINT NOT NULL DEFAULT 0,
    blank_count BIGINT NOT NULL DEFAULT 0,
    -- the last file line whose result is committed
    checkpoint_line BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_expires_at BIGINT,
    UNIQUE (location_id, idempotency_key)
);
CREATE INDEX jobs_location ON jobs (location_id, id);
CREATE INDEX jobs_claimable ON jobs (status, lease_expires_at);

-- One result per non-blank line. Success lines keep only line, action, record id and primary;
-- warning and error lines keep their messages and original cells (JSON).
CREATE TABLE job_lines (
    job_id BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    line BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('success', 'warning', 'error')),
    action TEXT NOT NULL CHECK (action IN ('created', 'updated', 'skipped', 'none')),
    record_id BIGINT,
    primary_value TEXT,
    messages TEXT,
    cells TEXT,
    PRIMARY KEY (job_id, line)
);
CREATE INDEX job_lines_status ON job_lines (job_id, status, line);

-- The change journal that makes revert possible (SPEC §9.4): the record's values before and
-- after each change a job made, written in the same transaction as the change.
CREATE TABLE journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id BIGINT NOT NULL,
    job_id BIGINT NOT NULL,
    line BIGINT NOT NULL,
    entity TEXT NOT NULL,
    entity_id BIGINT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('created', 'updated')),
    before_values TEXT,
    after_values TEXT,
    version_after BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX journal_job ON journal (job_id, id);

CREATE TABLE scheduled_exports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id BIGINT NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    smart_list_id BIGINT NOT NULL REFERENCES smart_lists(id) ON DELETE CASCADE,
    frequency TEXT NOT NULL CHECK (frequency IN ('daily', 'weekly')),
    columns TEXT NOT NULL DEFAULT '[]',
    next_run_at BIGINT NOT NULL,
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id BIGINT NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    user_id BIGINT REFERENCES users(id) ON DELETE CASCADE,
    message TEXT NOT NULL,
    link TEXT,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);

-- Saved mapping templates (SPEC §11): header -> field key, as JSON.
CREATE TABLE mapping_templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id BIGINT NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    mapping TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    UNIQUE (location_id, name)
);

//! What an import reads and writes: contacts looked up by a chunk's identifiers in one query,
//! and a chunk's writes — contacts, tags, notes, provenance, journal, line results and the
//! job's checkpoint — committed in ONE transaction, so a crash never applies a line twice or
//! skips one.

use std::collections::BTreeMap;

use domain::job::{JobRequest, JobStatus, LineAction, LineStatus};

use crate::claims::{AfterChunk, Lease};
use crate::sql::params;
use crate::{Db, LocationId, Result, Store, StoreError};

mod postgres;
mod sqlite;
#[cfg(test)]
mod tests;

pub(crate) use sqlite::SqliteSettings;

/// Contact fields kept in their own text columns: (field key, column).
pub(crate) const TEXT_COLUMNS: &[(&str, &str)] = &[
    ("first_name", "first_name"),
    ("last_name", "last_name"),
    ("email", "email"),
    ("phone", "phone"),
    ("phone_extension", "phone_extension"),
    ("company_name", "company_name"),
    ("contact_type", "contact_type"),
    ("status", "status"),
    ("source", "source"),
    ("date_of_birth", "date_of_birth"),
    ("created_at", "created_date"),
    ("address1", "address1"),
    ("city", "city"),
    ("state", "state"),
    ("postal_code", "postal_code"),
    ("country", "country"),
    ("timezone", "timezone"),
    ("website", "website"),
    ("utm_source", "utm_source"),
    ("utm_medium", "utm_medium"),
    ("utm_campaign", "utm_campaign"),
    ("utm_term", "utm_term"),
    ("utm_content", "utm_content"),
];
/// The per-channel DND flags, kept as booleans.
pub(crate) const BOOL_COLUMNS: &[&str] = &["dnd_sms", "dnd_email", "dnd_calls", "dnd_voicemail"];
/// Contact Owner: a user id.
pub(crate) const OWNER: &str = "owner";

/// Whether a field key is stored in a column of its own (else it is a custom field, kept in
/// `custom_values`).
fn is_standard(key: &str) -> bool {
    key == OWNER || BOOL_COLUMNS.contains(&key) || TEXT_COLUMNS.iter().any(|(k, _)| *k == key)
}

/// A contact as an import sees it: every field by key in its stored text form (blank fields
/// absent; DND flags `true`/`false`; Contact Owner a user id), tags and additional values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredContact {
    pub id: i64,
    pub values: BTreeMap<String, String>,
    pub tags: Vec<String>,
    pub additional_emails: Vec<String>,
    pub additional_phones: Vec<String>,
}

/// One contact a chunk writes.
#[derive(Debug, Clone, Default)]
pub struct ContactWrite {
    /// `None` creates the contact.
    pub id: Option<i64>,
    pub values: BTreeMap<String, String>,
    /// Values before the change, for the journal (updates).
    pub before: Option<BTreeMap<String, String>>,
    pub new_tags: Vec<String>,
    pub new_emails: Vec<String>,
    pub new_phones: Vec<String>,
    pub notes: Vec<String>,
    /// The first line of the chunk that touched it (the journal's line).
    pub line: u64,
}

/// One line result.
#[derive(Debug, Clone)]
pub struct LineWrite {
    pub line: u64,
    pub status: LineStatus,
    pub action: LineAction,
    /// The contact: an id, or an index into [`ChunkWrite::contacts`] for one this chunk creates.
    pub record: Option<RecordRef>,
    pub primary: Option<String>,
    /// Warning and error lines keep their messages and original cells (JSON).
    pub messages: Option<String>,
    pub cells: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordRef {
    Id(i64),
    Written(usize),
}

/// How a chunk moves the job's totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub processed: i64,
    pub created: i64,
    pub updated: i64,
    pub skipped: i64,
    pub errors: i64,
    pub warnings: i64,
    pub blank: i64,
}

impl std::ops::AddAssign for Totals {
    fn add_assign(&mut self, o: Totals) {
        self.processed += o.processed;
        self.created += o.created;
        self.updated += o.updated;
        self.skipped += o.skipped;
        self.errors += o.errors;
        self.warnings += o.warnings;
        self.blank += o.blank;
    }
}

/// Everything one chunk of an import writes.
#[derive(Debug, Clone, Default)]
pub struct ChunkWrite {
    pub contacts: Vec<ContactWrite>,
    pub lines: Vec<LineWrite>,
    pub totals: Totals,
    /// The last file line this chunk covers (blank lines included).
    pub checkpoint_line: u64,
    /// Workflow enrollments, as (workflow id, indexes into `contacts`): made in the same
    /// transaction, once per contact per workflow (SPEC §6.6).
    pub enrollments: Vec<(i64, Vec<usize>)>,
    /// An opportunities import's opportunities (SPEC §7), written after the contacts in the
    /// same transaction (see `opportunity_import`).
    pub opportunities: Vec<crate::opportunity_import::OpportunityWrite>,
    /// Per line (in `lines` order; empty for other imports): the opportunity it wrote — an id,
    /// or `RecordRef::Written(i)` an index into `opportunities`.
    pub line_opportunities: Vec<Option<RecordRef>>,
}

/// A chunk's first statement: is the lease still this process's (`$1` job, `$2` location,
/// `$3` owner)? Read without locking the job's row, so the heartbeat never waits behind a
/// chunk.
const LEASE_HELD_SQL: &str = "SELECT id FROM jobs WHERE id = $1 AND location_id = $2 AND status = 'running' AND lease_owner = $3";

/// A chunk's last statement: the job's totals and checkpoint, fenced on the lease again
/// (`$11` owner, `$12` the lease's new expiry); it returns a pending pause or cancel request.
pub(crate) const CHECKPOINT_SQL: &str = "UPDATE jobs SET processed = processed + $3, created_count = created_count + $4, \
     updated_count = updated_count + $5, skipped_count = skipped_count + $6, error_count = error_count + $7, \
     warning_count = warning_count + $8, blank_count = blank_count + $9, checkpoint_line = $10, \
     lease_expires_at = $12, status_reason = NULL \
     WHERE id = $1 AND location_id = $2 AND status = 'running' AND lease_owner = $11 RETURNING requested";

/// Settles a pause or cancel request with the chunk (`$2` status, `$3` finished at): an
/// import's on either backend and an export's progress alike, after [`after_chunk`] and
/// [`settled`] read the request.
pub(crate) const SETTLE_SQL: &str = "UPDATE jobs SET status = $2, requested = NULL, lease_owner = NULL, lease_expires_at = NULL, finished_at = $3 WHERE id = $1";

/// A chunk's checkpoint and, when a pause or cancel was requested meanwhile, its settling, on an
/// open sqlx transaction of either backend (the PostgreSQL contact writer and the records writer
/// share it): [`CHECKPOINT_SQL`] fenced on the lease — a lapsed lease matches nothing and the
/// chunk fails with `lease_lost` — then [`SETTLE_SQL`]. Evaluates to the [`AfterChunk`].
macro_rules! checkpoint_chunk {
    ($tx:expr, $job_id:expr, $location:expr, $totals:expr, $line:expr, $lease:expr, $lease_ms:expr, $now:expr) => {{
        let t = $totals;
        let requested: Option<Option<String>> = sqlx::query_scalar($crate::import::CHECKPOINT_SQL)
            .bind($job_id)
            .bind($location.0)
            .bind(t.processed)
            .bind(t.created)
            .bind(t.updated)
            .bind(t.skipped)
            .bind(t.errors)
            .bind(t.warnings)
            .bind(t.blank)
            .bind($line as i64)
            .bind(&$lease.owner)
            .bind($crate::now_ms() + $lease_ms)
            .fetch_optional(&mut *$tx)
            .await?;
        let Some(requested) = requested else {
            return Err($crate::claims::lease_lost($job_id));
        };
        let after = $crate::import::after_chunk(requested.as_deref());
        if after != AfterChunk::Running {
            let (status, finished) = $crate::import::settled(after, $now);
            sqlx::query($crate::import::SETTLE_SQL)
                .bind($job_id)
                .bind(status)
                .bind(finished)
                .execute(&mut *$tx)
                .await?;
            // A pause or cancel settling: the process may die on either side of the commit.
            $crate::failpoint::hit("settle_before_commit");
        }
        after
    }};
}
pub(crate) use checkpoint_chunk;

/// What the unique index refusing a contact means to the user.
const TAKEN_MEANWHILE: &str = "another contact took this email or phone at the same time";

/// What the checkpoint's returned request does to the job after this chunk (an import's or
/// an export's).
pub(crate) fn after_chunk(requested: Option<&str>) -> AfterChunk {
    match requested.and_then(|r| r.parse::<JobRequest>().ok()) {
        Some(JobRequest::Pause) => AfterChunk::Paused,
        Some(JobRequest::Cancel) => AfterChunk::Cancelled,
        None => AfterChunk::Running,
    }
}

/// The status and finish time a settled request gives the job.
pub(crate) fn settled(after: AfterChunk, now: i64) -> (&'static str, Option<i64>) {
    if after == AfterChunk::Paused {
        (JobStatus::Paused.as_str(), None)
    } else {
        (JobStatus::Cancelled.as_str(), Some(now))
    }
}

/// What a chunk did to a contact, for provenance and the journal.
fn action_of(c: &ContactWrite) -> &'static str {
    if c.id.is_none() {
        LineAction::Created.as_str()
    } else {
        LineAction::Updated.as_str()
    }
}

fn select_columns() -> String {
    let mut cols = vec!["id".to_string()];
    cols.extend(TEXT_COLUMNS.iter().map(|(_, c)| c.to_string()));
    cols.push("CAST(owner_user_id AS TEXT)".into());
    cols.extend(BOOL_COLUMNS.iter().map(|c| c.to_string()));
    cols.push("custom_values".into());
    cols.join(", ")
}

pub(crate) fn search_text(values: &BTreeMap<String, String>) -> String {
    ["first_name", "last_name", "email", "phone"]
        .iter()
        .filter_map(|k| values.get(*k))
        .map(|s| s.to_lowercase())
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn custom_json(values: &BTreeMap<String, String>) -> String {
    let custom: BTreeMap<&String, &String> =
        values.iter().filter(|(k, _)| !is_standard(k)).collect();
    serde_json::to_string(&custom).expect("strings serialise")
}

fn json(values: &BTreeMap<String, String>) -> String {
    serde_json::to_string(values).expect("strings serialise")
}

/// `INSERT` of a contact with every column, parameters in a fixed order (see [`bind_contact`]).
fn insert_sql() -> String {
    let mut cols: Vec<&str> = vec!["location_id"];
    cols.extend(TEXT_COLUMNS.iter().map(|(_, c)| *c));
    cols.push("owner_user_id");
    cols.extend(BOOL_COLUMNS);
    cols.extend([
        "custom_values",
        "email_key",
        "search_text",
        "created_at",
        "updated_at",
    ]);
    format!(
        "INSERT INTO contacts ({}) VALUES ({}) RETURNING id",
        cols.join(", "),
        params(1, cols.len())
    )
}

fn update_sql() -> String {
    let mut sets: Vec<String> = Vec::new();
    let mut n = 3; // $1 = id, $2 = location
    for (_, c) in TEXT_COLUMNS {
        sets.push(format!("{c} = ${n}"));
        n += 1;
    }
    sets.push(format!("owner_user_id = ${n}"));
    n += 1;
    for c in BOOL_COLUMNS {
        sets.push(format!("{c} = ${n}"));
        n += 1;
    }
    for c in ["custom_values", "email_key", "search_text", "updated_at"] {
        sets.push(format!("{c} = ${n}"));
        n += 1;
    }
    format!(
        "UPDATE contacts SET {}, email_verification = 'unverified', version = version + 1 \
         WHERE id = $1 AND location_id = $2 RETURNING version",
        sets.join(", ")
    )
}

/// An import's connection to the database for its whole run, through which it looks a chunk
/// up and writes it. On SQLite a `rusqlite` connection of its own with its statements prepared
/// once (see [`sqlite`]); on PostgreSQL the pool. The CLI, the worker and the dry run all go
/// through one, and [`Store::contacts_for_matching`] / [`Store::apply_import_chunk`] open one
/// for a single call, so each backend has one implementation of each.
pub struct ImportSession {
    store: Store,
    conn: SessionConn,
}

enum SessionConn {
    /// Lent to a blocking thread while a call runs.
    Sqlite(Option<rusqlite::Connection>),
    Postgres(sqlx::PgPool),
}

impl Store {
    /// Opens an [`ImportSession`].
    pub async fn import_session(&self) -> Result<ImportSession> {
        let conn = match &self.db {
            Db::Sqlite(pool) => {
                let path = pool.connect_options().get_filename().to_path_buf();
                let settings = crate::sqlite_settings();
                let conn = blocking(move || sqlite::open_writer(&path, settings)).await?;
                SessionConn::Sqlite(Some(conn))
            }
            Db::Postgres(p) => SessionConn::Postgres(p.clone()),
        };
        Ok(ImportSession {
            store: self.clone(),
            conn,
        })
    }

    /// [`ImportSession::contacts_for_matching`] through a session of its own.
    pub async fn contacts_for_matching(
        &self,
        location: LocationId,
        ids: &[i64],
        email_keys: &[String],
        phones: &[String],
    ) -> Result<Vec<StoredContact>> {
        self.import_session()
            .await?
            .contacts_for_matching(location, ids, email_keys, phones)
            .await
    }

    /// [`ImportSession::apply_import_chunk`] through a session of its own.
    pub async fn apply_import_chunk(
        &self,
        lease: &Lease,
        chunk: &ChunkWrite,
    ) -> Result<(Vec<i64>, AfterChunk)> {
        self.import_session()
            .await?
            .apply_import_chunk(lease, std::sync::Arc::new(chunk.clone()))
            .await
    }
}

/// Runs `f` on a blocking thread.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Corrupt(format!("the import's database thread stopped: {e}")))?
}

impl ImportSession {
    /// Runs `f` with the SQLite connection on a blocking thread, and takes it back.
    async fn on_sqlite<T: Send + 'static>(
        &mut self,
        f: impl FnOnce(&mut rusqlite::Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let SessionConn::Sqlite(slot) = &mut self.conn else {
            unreachable!("on_sqlite on a PostgreSQL session")
        };
        let mut conn = slot.take().ok_or_else(|| {
            StoreError::Corrupt("the import's database connection was lost".into())
        })?;
        let (conn, result) = blocking(move || {
            let r = f(&mut conn);
            Ok((conn, r))
        })
        .await?;
        *slot = Some(conn);
        result
    }

    /// The location's contacts with one of these ids, primary email match keys or primary
    /// phones, by ascending id, with their tags and additional values.
    pub async fn contacts_for_matching(
        &mut self,
        location: LocationId,
        ids: &[i64],
        email_keys: &[String],
        phones: &[String],
    ) -> Result<Vec<StoredContact>> {
        if ids.is_empty() && email_keys.is_empty() && phones.is_empty() {
            return Ok(Vec::new());
        }
        match &self.conn {
            SessionConn::Postgres(p) => {
                postgres::contacts_for_matching(p, location, ids, email_keys, phones).await
            }
            SessionConn::Sqlite(_) => {
                let (ids, emails, phones) = (ids.to_vec(), email_keys.to_vec(), phones.to_vec());
                self.on_sqlite(move |c| {
                    sqlite::contacts_for_matching(c, location.0, &ids, &emails, &phones)
                })
                .await
            }
        }
    }

    /// Applies one chunk of an import in a single transaction: contacts created and updated
    /// (each update resets email verification, SPEC §6.5), tags added, additional values
    /// appended, notes, provenance, journal, line results and the job's totals and checkpoint.
    /// Returns the id of every contact written, in `chunk.contacts` order, then of every
    /// opportunity written, in `chunk.opportunities` order.
    ///
    /// The commit is fenced on `lease` (SPEC §9.7): when another process holds the job now,
    /// nothing is written. A pause or cancel requested meanwhile is settled in the same
    /// transaction, after this chunk's checkpoint.
    pub async fn apply_import_chunk(
        &mut self,
        lease: &Lease,
        chunk: std::sync::Arc<ChunkWrite>,
    ) -> Result<(Vec<i64>, AfterChunk)> {
        match &self.conn {
            SessionConn::Postgres(p) => {
                postgres::apply_import_chunk(p, lease, self.store.lease_ms, &chunk).await
            }
            SessionConn::Sqlite(_) => {
                let lease = lease.clone();
                let lease_ms = self.store.lease_ms;
                self.on_sqlite(move |c| sqlite::apply_import_chunk(c, &lease, lease_ms, &chunk))
                    .await
            }
        }
    }
}

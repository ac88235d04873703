//! What an import reads and writes: contacts looked up by a chunk's identifiers in one query,
//! and a chunk's writes — contacts, tags, notes, provenance, journal, line results and the
//! job's checkpoint — committed in ONE transaction, so a crash never applies a line twice or
//! skips one.

use std::collections::{BTreeMap, HashMap};

use domain::job::{JobRequest, JobStatus, LineAction, LineStatus};
use domain::value::tag_key;

use crate::claims::{AfterChunk, Lease};
use crate::contacts::email_match_key;
use crate::sql::{params, positional, qmarks};
use crate::{Db, LocationId, Result, Store, StoreError, now_ms};

mod sqlite;

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
}

/// (contact id, value) rows.
type Pairs = Vec<(i64, String)>;

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

/// A journal row to write on PostgreSQL: (index into the chunk's contacts, then for an update
/// only: values before, values after, email verification before).
type JournalRow = (usize, Option<String>, Option<String>, Option<String>);

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

/// Rows per multi-row `INSERT` of contacts on PostgreSQL (35 parameters each).
const CONTACT_ROWS_PER_INSERT: usize = 500;

/// `INSERT … VALUES (…), (…) RETURNING id` for `rows` contacts (PostgreSQL).
fn insert_many_sql(rows: usize) -> String {
    let one = insert_sql();
    let (head, _) = one.split_once(" VALUES ").expect("an INSERT … VALUES");
    let cols = head.matches(',').count() + 1;
    format!("{} RETURNING id", multi_values(head, cols, rows, ""))
}

/// `PREFIX VALUES ($1, …), (…)SUFFIX` for `rows` rows of `cols` parameters (PostgreSQL).
fn multi_values(prefix: &str, cols: usize, rows: usize, suffix: &str) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(prefix.len() + rows * cols * 6 + suffix.len() + 8);
    s.push_str(prefix);
    s.push_str(" VALUES ");
    let mut k = 1;
    for r in 0..rows {
        s.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            let _ = write!(s, "${k}");
            k += 1;
        }
        s.push(')');
    }
    s.push_str(suffix);
    s
}

/// Inserts `items` with multi-row statements of at most 500 rows (and 30,000 parameters):
/// one round trip per batch instead of one per row (PostgreSQL).
macro_rules! insert_rows {
    ($tx:expr, $prefix:expr, $cols:expr, $suffix:expr, $items:expr, |$q:ident, $it:ident| $bind:expr) => {{
        let per = (30_000 / $cols).min(500);
        for batch in $items.chunks(per) {
            let sql = multi_values($prefix, $cols, batch.len(), $suffix);
            let mut $q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for $it in batch {
                $q = $bind;
            }
            $q.execute(&mut *$tx).await?;
        }
    }};
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

/// Binds a contact's columns in the order of [`insert_sql`] / [`update_sql`] (after the
/// leading id/location parameters).
macro_rules! bind_contact {
    ($q:expr, $v:expr, $now:expr, $with_created:expr) => {{
        let v: &BTreeMap<String, String> = $v;
        let mut q = $q;
        for (k, _) in TEXT_COLUMNS {
            q = q.bind(v.get(*k).cloned());
        }
        q = q.bind(v.get(OWNER).and_then(|s| s.parse::<i64>().ok()));
        for c in BOOL_COLUMNS {
            q = q.bind(v.get(*c).map(|s| s == "true").unwrap_or(false));
        }
        q = q
            .bind(custom_json(v))
            .bind(v.get("email").map(|e| email_match_key(e)))
            .bind(search_text(v));
        if $with_created {
            q = q.bind($now);
        }
        q.bind($now)
    }};
}

impl Store {
    /// [`ImportSession::contacts_for_matching`] on PostgreSQL: a chunk's whole lookup in one
    /// query.
    async fn pg_contacts_for_matching(
        &self,
        location: LocationId,
        ids: &[i64],
        email_keys: &[String],
        phones: &[String],
    ) -> Result<Vec<StoredContact>> {
        let Db::Postgres(p) = &self.db else {
            unreachable!("the SQLite lookup is sqlite::contacts_for_matching")
        };
        if ids.is_empty() && email_keys.is_empty() && phones.is_empty() {
            return Ok(Vec::new());
        }
        // One SELECT per identifier, joined by UNION, so each uses its own unique index (an
        // OR across the three would scan the location's contacts).
        let mut parts = Vec::new();
        for (col, len) in [
            ("id", ids.len()),
            ("email_key", email_keys.len()),
            ("phone", phones.len()),
        ] {
            if len > 0 {
                parts.push(format!(
                    "SELECT {} FROM contacts WHERE location_id = ? AND {col} IN ({})",
                    select_columns(),
                    qmarks(len)
                ));
            }
        }
        let sql = positional(&format!("{} ORDER BY 1", parts.join(" UNION ")));
        let mut contacts: Vec<StoredContact> = {
            use sqlx::Row;
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            if !ids.is_empty() {
                q = q.bind(location.0);
                for id in ids {
                    q = q.bind(*id);
                }
            }
            if !email_keys.is_empty() {
                q = q.bind(location.0);
                for e in email_keys {
                    q = q.bind(e.clone());
                }
            }
            if !phones.is_empty() {
                q = q.bind(location.0);
                for ph in phones {
                    q = q.bind(ph.clone());
                }
            }
            let rows = q.fetch_all(p).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let mut values = BTreeMap::new();
                let mut i = 1;
                for (key, _) in TEXT_COLUMNS {
                    if let Some(v) = row.try_get::<Option<String>, _>(i)? {
                        values.insert(key.to_string(), v);
                    }
                    i += 1;
                }
                if let Some(v) = row.try_get::<Option<String>, _>(i)? {
                    values.insert(OWNER.to_string(), v);
                }
                i += 1;
                for c in BOOL_COLUMNS {
                    values.insert(c.to_string(), row.try_get::<bool, _>(i)?.to_string());
                    i += 1;
                }
                let custom: String = row.try_get(i)?;
                let custom: BTreeMap<String, String> = serde_json::from_str(&custom)
                    .map_err(|e| StoreError::Corrupt(format!("custom_values: {e}")))?;
                values.extend(custom);
                out.push(StoredContact {
                    id: row.try_get(0)?,
                    values,
                    ..StoredContact::default()
                });
            }
            Ok::<_, StoreError>(out)
        }?;
        if contacts.is_empty() {
            return Ok(contacts);
        }
        let found: Vec<i64> = contacts.iter().map(|c| c.id).collect();
        let list = qmarks(found.len());
        // `+ct.location_id` as on SQLite (see `sqlite::contacts_for_matching`): PostgreSQL
        // reads it as the same number.
        let tags_sql = positional(&format!(
            "SELECT ct.contact_id, t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id \
             WHERE +ct.location_id = ? AND ct.contact_id IN ({list}) ORDER BY ct.created_at, t.id"
        ));
        let emails_sql = positional(&format!(
            "SELECT contact_id, email FROM contact_emails WHERE location_id = ? AND contact_id IN ({list}) ORDER BY position"
        ));
        let phones_sql = positional(&format!(
            "SELECT contact_id, phone FROM contact_phones WHERE location_id = ? AND contact_id IN ({list}) ORDER BY position"
        ));
        let (tags, emails, phones): (Pairs, Pairs, Pairs) = {
            let mut out = Vec::new();
            for sql in [&tags_sql, &emails_sql, &phones_sql] {
                let mut q = sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(location.0);
                for id in &found {
                    q = q.bind(*id);
                }
                out.push(q.fetch_all(p).await?);
            }
            let mut it = out.into_iter();
            Ok::<_, StoreError>((it.next().unwrap(), it.next().unwrap(), it.next().unwrap()))
        }?;
        let pos: HashMap<i64, usize> = contacts
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id, i))
            .collect();
        for (id, t) in tags {
            contacts[pos[&id]].tags.push(t);
        }
        for (id, e) in emails {
            contacts[pos[&id]].additional_emails.push(e);
        }
        for (id, ph) in phones {
            contacts[pos[&id]].additional_phones.push(ph);
        }
        Ok(contacts)
    }

    /// [`ImportSession::apply_import_chunk`] on PostgreSQL: multi-row statements, one round
    /// trip per batch.
    async fn pg_apply_import_chunk(
        &self,
        lease: &Lease,
        chunk: &ChunkWrite,
    ) -> Result<(Vec<i64>, AfterChunk)> {
        let Db::Postgres(p) = &self.db else {
            unreachable!("the SQLite write is sqlite::apply_import_chunk")
        };
        let now = now_ms();
        let location = lease.location_id;
        let job_id = lease.job_id;
        let update = update_sql();
        let lease_ms = self.lease_ms;
        {
            let mut tx = p.begin().await?;
            let t = chunk.totals;
            // The lease first, without locking the job's row (the heartbeat must never wait
            // behind a chunk): a process that lost its lease writes nothing.
            let held: Option<i64> = sqlx::query_scalar(LEASE_HELD_SQL)
                .bind(job_id)
                .bind(location.0)
                .bind(&lease.owner)
                .fetch_optional(&mut *tx)
                .await?;
            if held.is_none() {
                return Err(crate::claims::lease_lost(job_id));
            }
            // Every update resets email verification (SPEC §6.5): the journal keeps what it
            // was, read inside this transaction with the rows locked, so a change committed
            // meanwhile is what it records (as the SQLite writer does).
            let verification = pg_email_verifications(&mut tx, location, chunk).await?;
            let n = chunk.contacts.len();
            let mut ids = vec![0i64; n];
            let mut versions = vec![1i64; n];
            // Creates: many rows per statement. Within one statement ids are assigned in row
            // order, so the returned ids sorted ascending belong to the rows in order.
            let creates: Vec<usize> = (0..n).filter(|i| chunk.contacts[*i].id.is_none()).collect();
            for batch in creates.chunks(CONTACT_ROWS_PER_INSERT) {
                let mut q =
                    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(insert_many_sql(batch.len())));
                for &i in batch {
                    q = q.bind(location.0);
                    q = bind_contact!(q, &chunk.contacts[i].values, now, true);
                }
                let mut got: Vec<i64> = q
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(|e| crate::error::conflict_on_unique(e, || TAKEN_MEANWHILE.into()))?;
                got.sort_unstable();
                for (k, &i) in batch.iter().enumerate() {
                    ids[i] = got[k];
                }
            }
            for (i, c) in chunk.contacts.iter().enumerate() {
                let Some(id) = c.id else { continue };
                let q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(update.clone()))
                    .bind(id)
                    .bind(location.0);
                let version: Option<i64> = bind_contact!(q, &c.values, now, false)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(|e| crate::error::conflict_on_unique(e, || TAKEN_MEANWHILE.into()))?;
                ids[i] = id;
                versions[i] =
                    version.ok_or_else(|| StoreError::not_found(format!("contact {id}")))?;
            }
            let action = |i: usize| action_of(&chunk.contacts[i]);

            // Tags: every new tag of the chunk created once, then linked in bulk.
            let mut tag_names: Vec<(String, String)> = Vec::new();
            for c in &chunk.contacts {
                for t in &c.new_tags {
                    let key = tag_key(t);
                    if !tag_names.iter().any(|(k, _)| *k == key) {
                        tag_names.push((key, t.clone()));
                    }
                }
            }
            let mut tag_ids: HashMap<String, i64> = HashMap::new();
            if !tag_names.is_empty() {
                insert_rows!(
                    tx,
                    "INSERT INTO tags (location_id, name, name_key, created_at)",
                    4,
                    " ON CONFLICT (location_id, name_key) DO NOTHING",
                    tag_names,
                    |q, t| q.bind(location.0).bind(&t.1).bind(&t.0).bind(now)
                );
                for batch in tag_names.chunks(500) {
                    let sql = positional(&format!(
                        "SELECT name_key, id FROM tags WHERE location_id = ? AND name_key IN ({})",
                        qmarks(batch.len())
                    ));
                    let mut q = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql))
                        .bind(location.0);
                    for (k, _) in batch {
                        q = q.bind(k.clone());
                    }
                    tag_ids.extend(q.fetch_all(&mut *tx).await?);
                }
            }
            let links: Vec<(i64, i64)> = chunk
                .contacts
                .iter()
                .enumerate()
                .flat_map(|(i, c)| c.new_tags.iter().map(move |t| (i, t)))
                .map(|(i, t)| (ids[i], tag_ids[&tag_key(t)]))
                .collect();
            insert_rows!(
                tx,
                "INSERT INTO contact_tags (contact_id, tag_id, location_id, added_by_job, created_at)",
                5,
                " ON CONFLICT (contact_id, tag_id) DO NOTHING",
                links,
                |q, l| q
                    .bind(l.0)
                    .bind(l.1)
                    .bind(location.0)
                    .bind(job_id)
                    .bind(now)
            );

            // Additional emails and phones are rare: one statement each.
            for (i, c) in chunk.contacts.iter().enumerate() {
                let id = ids[i];
                for e in &c.new_emails {
                    sqlx::query("INSERT INTO contact_emails (contact_id, location_id, email, position, job_id) \
                                 VALUES ($1, $2, $3, (SELECT COALESCE(MAX(position), -1) + 1 FROM contact_emails WHERE contact_id = $1), $4) \
                                 ON CONFLICT (contact_id, email) DO NOTHING")
                        .bind(id).bind(location.0).bind(e).bind(job_id)
                        .execute(&mut *tx).await?;
                }
                for ph in &c.new_phones {
                    sqlx::query("INSERT INTO contact_phones (contact_id, location_id, phone, position, job_id) \
                                 VALUES ($1, $2, $3, (SELECT COALESCE(MAX(position), -1) + 1 FROM contact_phones WHERE contact_id = $1), $4) \
                                 ON CONFLICT (contact_id, phone) DO NOTHING")
                        .bind(id).bind(location.0).bind(ph).bind(job_id)
                        .execute(&mut *tx).await?;
                }
            }
            let notes: Vec<(i64, &String)> = chunk
                .contacts
                .iter()
                .enumerate()
                .flat_map(|(i, c)| c.notes.iter().map(move |nt| (i, nt)))
                .map(|(i, nt)| (ids[i], nt))
                .collect();
            insert_rows!(
                tx,
                "INSERT INTO notes (location_id, contact_id, body, job_id, created_at)",
                5,
                "",
                notes,
                |q, nt| q
                    .bind(location.0)
                    .bind(nt.0)
                    .bind(nt.1)
                    .bind(job_id)
                    .bind(now)
            );
            let provenance: Vec<usize> = (0..n).collect();
            insert_rows!(
                tx,
                "INSERT INTO contact_imports (contact_id, job_id, location_id, action)",
                4,
                " ON CONFLICT (contact_id, job_id) DO NOTHING",
                provenance,
                |q, i| q
                    .bind(ids[*i])
                    .bind(job_id)
                    .bind(location.0)
                    .bind(action(*i))
            );
            let journal: Vec<JournalRow> = chunk
                .contacts
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    (
                        i,
                        c.before.as_ref().map(json),
                        c.before.as_ref().map(|_| json(&c.values)),
                        c.before
                            .as_ref()
                            .and_then(|_| verification.get(&ids[i]).cloned()),
                    )
                })
                .collect();
            insert_rows!(
                tx,
                "INSERT INTO journal (location_id, job_id, line, entity, entity_id, action, before_values, after_values, version_after, created_at, email_verification_before)",
                11,
                "",
                journal,
                |q, j| q
                    .bind(location.0)
                    .bind(job_id)
                    .bind(chunk.contacts[j.0].line as i64)
                    .bind("contact")
                    .bind(ids[j.0])
                    .bind(action(j.0))
                    .bind(j.1.clone())
                    .bind(j.2.clone())
                    .bind(versions[j.0])
                    .bind(now)
                    .bind(j.3.clone())
            );
            for (workflow, written) in &chunk.enrollments {
                let contact_ids: Vec<i64> = written.iter().map(|i| ids[*i]).collect();
                let conn = &mut *tx;
                crate::workflows::enroll_on!(
                    conn,
                    location,
                    *workflow,
                    &contact_ids,
                    Some(job_id),
                    now
                )?;
            }
            let lines: Vec<(&LineWrite, Option<i64>)> = chunk
                .lines
                .iter()
                .map(|l| {
                    (
                        l,
                        l.record.map(|r| match r {
                            RecordRef::Id(id) => id,
                            RecordRef::Written(i) => ids[i],
                        }),
                    )
                })
                .collect();
            insert_rows!(
                tx,
                "INSERT INTO job_lines (job_id, line, status, action, record_id, primary_value, messages, cells)",
                8,
                "",
                lines,
                |q, l| q
                    .bind(job_id)
                    .bind(l.0.line as i64)
                    .bind(l.0.status.as_str())
                    .bind(l.0.action.as_str())
                    .bind(l.1)
                    .bind(l.0.primary.clone())
                    .bind(l.0.messages.clone())
                    .bind(l.0.cells.clone())
            );
            // The checkpoint last, fenced on the lease again: it holds the job's row lock only
            // for the commit. Had the lease lapsed and another process claimed the job
            // meanwhile, it matches nothing and the whole chunk rolls back.
            let requested: Option<Option<String>> = sqlx::query_scalar(CHECKPOINT_SQL)
                .bind(job_id)
                .bind(location.0)
                .bind(t.processed)
                .bind(t.created)
                .bind(t.updated)
                .bind(t.skipped)
                .bind(t.errors)
                .bind(t.warnings)
                .bind(t.blank)
                .bind(chunk.checkpoint_line as i64)
                .bind(&lease.owner)
                .bind(now_ms() + lease_ms)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(requested) = requested else {
                return Err(crate::claims::lease_lost(job_id));
            };
            let after = after_chunk(requested.as_deref());
            if after != AfterChunk::Running {
                let (status, finished) = settled(after, now);
                sqlx::query(SETTLE_SQL)
                    .bind(job_id)
                    .bind(status)
                    .bind(finished)
                    .execute(&mut *tx)
                    .await?;
                // A pause or cancel settling: the process may die on either side of the commit.
                crate::failpoint::hit("settle_before_commit");
            }
            crate::failpoint::hit("chunk_before_commit");
            tx.commit().await?;
            crate::failpoint::hit("chunk_after_commit");
            if after != AfterChunk::Running {
                crate::failpoint::hit("settle_after_commit");
            }
            Ok((ids, after))
        }
    }
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
    Postgres,
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
            Db::Postgres(_) => SessionConn::Postgres,
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
        match self.conn {
            SessionConn::Postgres => {
                self.store
                    .pg_contacts_for_matching(location, ids, email_keys, phones)
                    .await
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
    /// Returns the id of every contact written, in `chunk.contacts` order.
    ///
    /// The commit is fenced on `lease` (SPEC §9.7): when another process holds the job now,
    /// nothing is written. A pause or cancel requested meanwhile is settled in the same
    /// transaction, after this chunk's checkpoint.
    pub async fn apply_import_chunk(
        &mut self,
        lease: &Lease,
        chunk: std::sync::Arc<ChunkWrite>,
    ) -> Result<(Vec<i64>, AfterChunk)> {
        match self.conn {
            SessionConn::Postgres => self.store.pg_apply_import_chunk(lease, &chunk).await,
            SessionConn::Sqlite(_) => {
                let lease = lease.clone();
                let lease_ms = self.store.lease_ms;
                self.on_sqlite(move |c| sqlite::apply_import_chunk(c, &lease, lease_ms, &chunk))
                    .await
            }
        }
    }
}

/// The email verification of the contacts a chunk updates, where it is not `unverified`:
/// what the journal keeps so a revert can restore it. The rows are locked (`FOR UPDATE`, in id
/// order) so nothing changes them between this read and the chunk's update; the filter on
/// `unverified` is applied here, not in SQL, so a row changed by a transaction this read waited
/// for is judged by its committed value.
async fn pg_email_verifications(
    conn: &mut sqlx::PgConnection,
    location: LocationId,
    chunk: &ChunkWrite,
) -> Result<HashMap<i64, String>> {
    let mut ids: Vec<i64> = chunk
        .contacts
        .iter()
        .filter(|c| c.before.is_some())
        .filter_map(|c| c.id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out = HashMap::new();
    for part in ids.chunks(500) {
        let sql = positional(&format!(
            "SELECT id, email_verification FROM contacts WHERE location_id = ? AND id IN ({}) \
             ORDER BY id FOR UPDATE",
            qmarks(part.len())
        ));
        let mut q = sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(sql)).bind(location.0);
        for id in part {
            q = q.bind(*id);
        }
        out.extend(
            q.fetch_all(&mut *conn)
                .await?
                .into_iter()
                .filter(|(_, v)| v != "unverified"),
        );
    }
    Ok(out)
}

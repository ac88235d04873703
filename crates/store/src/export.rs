//! The row source of a contact export (SPEC §10): a location's contacts — all of them, those
//! matching §13.1 filters (a Smart List's, or the admin's own), or explicit ids — read in
//! keyset-paged batches of [`BATCH_ROWS`] by ascending id, so an export of a million contacts
//! never holds more than one batch in memory.
//!
//! The store reads; it never formats. Each requested [`ExportField`] becomes one SQL
//! expression and one cell of text per row, in the stored form the import writes: DND flags
//! `true`/`false`, Contact Owner a user id, Created Date as stored plus the row's creation time
//! in milliseconds, custom values as their stored text. Tags and additional emails and phones
//! come joined with `", "` in their stored order, and the latest note whole; choosing labels,
//! truncating, neutralising and quoting is the caller's (`jobs::export`).
//!
//! On SQLite the batches are read through `rusqlite` on a blocking thread, on a read-only
//! connection of their own (WAL lets it read beside the pool's writers): sqlx's SQLite driver
//! copies every value of every row through a channel (`sqlite3_value_dup`), which measured
//! about four times slower than `sqlite3 -csv` on a million rows, while rusqlite reads the
//! values where SQLite holds them. PostgreSQL reads the same statement through sqlx.
//!
//! Every statement is scoped by location: the contacts by `c.location_id = $1`, and every
//! correlated subquery (tags, additional values, notes) by its own `location_id = $1`.

use std::path::PathBuf;

use sqlx::Row;

use crate::claims::{AfterChunk, Lease};
use crate::smart_lists::{Arg, Filter, where_sql};
use crate::{Backend, Db, LocationId, Result, Store, StoreError, now_ms, on_pool};

/// Contacts read per batch.
pub const BATCH_ROWS: usize = 1000;

/// Which contacts an export reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportScope {
    /// Those matching every filter (none: every contact of the location).
    Filters(Vec<Filter>),
    /// These ids (of the location; others are simply not found).
    Ids(Vec<i64>),
}

/// One value an export reads per contact, as text (NULL when the contact has none).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExportField {
    /// The contact's id.
    Id,
    /// A standard field kept in a text column, by field key (`first_name`, `created_at` for
    /// the imported Created Date, …).
    Text(&'static str),
    /// A per-channel DND flag (`dnd_sms`, …): `true` or `false`.
    Flag(&'static str),
    /// Contact Owner: the user id.
    Owner,
    /// When the row was created, in milliseconds since the epoch.
    CreatedMs,
    /// A custom field's stored value, by key.
    Custom(String),
    /// The tag names, joined with `", "` in the order they were added.
    Tags,
    /// The additional emails, joined with `", "` in their order.
    AdditionalEmails,
    /// The additional phones, joined with `", "` in their order.
    AdditionalPhones,
    /// The body of the contact's latest note, whole.
    LatestNote,
}

/// A batch of rows: one id and one cell per requested field each, the text kept in one
/// buffer (no allocation per cell).
#[derive(Debug, Clone, Default)]
pub struct ExportBatch {
    width: usize,
    ids: Vec<i64>,
    text: String,
    /// Per cell, its byte range in `text`; `(u32::MAX, 0)` is NULL.
    spans: Vec<(u32, u32)>,
}

const NULL: (u32, u32) = (u32::MAX, 0);

impl ExportBatch {
    fn new(width: usize) -> ExportBatch {
        ExportBatch {
            width,
            ids: Vec::with_capacity(BATCH_ROWS),
            text: String::with_capacity(BATCH_ROWS * width * 12),
            spans: Vec::with_capacity(BATCH_ROWS * width),
        }
    }

    fn push(&mut self, value: Option<&str>) {
        match value {
            Some(v) => {
                let start = self.text.len() as u32;
                self.text.push_str(v);
                self.spans.push((start, self.text.len() as u32));
            }
            None => self.spans.push(NULL),
        }
    }

    /// Rows in the batch.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The contact id of row `row`.
    pub fn id(&self, row: usize) -> i64 {
        self.ids[row]
    }

    /// The cell of row `row` for the `field`-th requested field.
    pub fn cell(&self, row: usize, field: usize) -> Option<&str> {
        let (start, end) = self.spans[row * self.width + field];
        (start != u32::MAX).then(|| &self.text[start as usize..end as usize])
    }
}

/// The SQL expression of a field, over `contacts c`; `$1` is the location.
fn expression(field: &ExportField, backend: Backend, args: &mut Vec<Arg>) -> String {
    let list = |inner: &str, table: &str, alias: &str, order: &str| match backend {
        Backend::Sqlite => format!(
            "(SELECT group_concat({inner}, ', ' ORDER BY {order}) FROM {table} {alias} \
             WHERE {alias}.contact_id = c.id AND {alias}.location_id = $1)"
        ),
        Backend::Postgres => format!(
            "(SELECT string_agg({inner}, ', ' ORDER BY {order}) FROM {table} {alias} \
             WHERE {alias}.contact_id = c.id AND {alias}.location_id = $1)"
        ),
    };
    match field {
        ExportField::Id => "CAST(c.id AS TEXT)".into(),
        ExportField::Text(key) => {
            let column = crate::import::TEXT_COLUMNS
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, c)| *c)
                .expect("ExportField::Text names a text column of contacts");
            format!("c.{column}")
        }
        ExportField::Flag(column) => {
            assert!(
                crate::import::BOOL_COLUMNS.contains(column),
                "ExportField::Flag names a DND column"
            );
            format!("CASE WHEN c.{column} THEN 'true' ELSE 'false' END")
        }
        ExportField::Owner => "CAST(c.owner_user_id AS TEXT)".into(),
        ExportField::CreatedMs => "CAST(c.created_at AS TEXT)".into(),
        ExportField::Custom(key) => match backend {
            Backend::Sqlite => {
                args.push(Arg::Text(format!("$.\"{key}\"")));
                format!("json_extract(c.custom_values, ${})", args.len() + 1)
            }
            Backend::Postgres => {
                args.push(Arg::Text(key.clone()));
                format!("(c.custom_values::jsonb ->> ${})", args.len() + 1)
            }
        },
        ExportField::Tags => match backend {
            Backend::Sqlite => "(SELECT group_concat(t.name, ', ' ORDER BY ct.created_at, t.id) \
                 FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id \
                 WHERE ct.contact_id = c.id AND ct.location_id = $1 AND t.location_id = $1)"
                .into(),
            Backend::Postgres => "(SELECT string_agg(t.name, ', ' ORDER BY ct.created_at, t.id) \
                 FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id \
                 WHERE ct.contact_id = c.id AND ct.location_id = $1 AND t.location_id = $1)"
                .into(),
        },
        ExportField::AdditionalEmails => list("e.email", "contact_emails", "e", "e.position"),
        ExportField::AdditionalPhones => list("ph.phone", "contact_phones", "ph", "ph.position"),
        ExportField::LatestNote => "(SELECT n.body FROM notes n WHERE n.contact_id = c.id \
             AND n.location_id = $1 ORDER BY n.id DESC LIMIT 1)"
            .into(),
    }
}

/// The next batch's statement: every field, the scope's condition, and the keyset. Returns
/// the SQL, its arguments after `$1` (the location) and the number of the first keyset
/// parameter.
fn batch_sql(
    fields: &[ExportField],
    condition: &str,
    condition_args: &[Arg],
    backend: Backend,
    ids: Option<usize>,
) -> (String, Vec<Arg>, usize) {
    let mut args = condition_args.to_vec();
    let columns: Vec<String> = fields
        .iter()
        .map(|f| expression(f, backend, &mut args))
        .collect();
    let first = args.len() + 2;
    let keyset = match ids {
        // An explicit selection: the next ids of the sorted list, each a parameter.
        Some(n) => format!(
            "c.id IN ({})",
            (first..first + n.max(1))
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => format!("c.id > ${first}"),
    };
    let select = if columns.is_empty() {
        String::new()
    } else {
        format!(", {}", columns.join(", "))
    };
    (
        format!(
            "SELECT c.id{select} FROM contacts c WHERE {condition} AND {keyset} ORDER BY c.id LIMIT {BATCH_ROWS}"
        ),
        args,
        first,
    )
}

/// Reads an export's contacts batch by batch: [`Store::export_reader`], then
/// [`ExportReader::next_batch`] until it returns `None`.
pub struct ExportReader {
    location: LocationId,
    width: usize,
    /// The statement's arguments after `$1`, before the keyset.
    args: Vec<Arg>,
    sql: String,
    /// Explicit ids still to read, ascending (an id selection only).
    ids: Option<std::vec::IntoIter<i64>>,
    /// The last id read (a filter selection).
    after: i64,
    done: bool,
    source: Source,
}

enum Source {
    /// A read-only connection, moved to a blocking thread for each batch.
    Sqlite(Option<rusqlite::Connection>),
    Postgres(sqlx::PgPool),
}

impl Store {
    /// The condition of a scope over `contacts c`, numbered from `$2`.
    async fn scope_condition(
        &self,
        location: LocationId,
        scope: &ExportScope,
    ) -> Result<(String, Vec<Arg>)> {
        match scope {
            ExportScope::Filters(filters) => {
                let tz = self.location_tz(location).await?;
                where_sql(filters, &tz, self.backend())
            }
            ExportScope::Ids(_) => Ok(("c.location_id = $1".into(), Vec::new())),
        }
    }

    /// How many of the location's contacts a scope selects (an export's total).
    pub async fn export_count(&self, location: LocationId, scope: &ExportScope) -> Result<i64> {
        match scope {
            ExportScope::Filters(filters) => self.count_matching(location, filters).await,
            ExportScope::Ids(ids) => {
                let mut ids = ids.clone();
                ids.sort_unstable();
                ids.dedup();
                let mut n = 0;
                for chunk in ids.chunks(BATCH_ROWS) {
                    n += self.contacts_by_ids(location, chunk).await?.len() as i64;
                }
                Ok(n)
            }
        }
    }

    /// Opens a reader over the contacts of `location` that `scope` selects, reading `fields`
    /// for each, by ascending id.
    pub async fn export_reader(
        &self,
        location: LocationId,
        scope: &ExportScope,
        fields: &[ExportField],
    ) -> Result<ExportReader> {
        let (condition, condition_args) = self.scope_condition(location, scope).await?;
        let ids = match scope {
            ExportScope::Ids(ids) => {
                let mut ids = ids.clone();
                ids.sort_unstable();
                ids.dedup();
                Some(ids)
            }
            ExportScope::Filters(_) => None,
        };
        let (sql, args, _) = batch_sql(
            fields,
            &condition,
            &condition_args,
            self.backend(),
            ids.as_ref().map(|_| BATCH_ROWS),
        );
        let source = match &self.db {
            Db::Sqlite(pool) => {
                let path: PathBuf = pool.connect_options().get_filename().to_path_buf();
                let conn = tokio::task::spawn_blocking(move || open_reader(&path))
                    .await
                    .map_err(|e| {
                        StoreError::Corrupt(format!("the export reader stopped: {e}"))
                    })??;
                Source::Sqlite(Some(conn))
            }
            Db::Postgres(pool) => Source::Postgres(pool.clone()),
        };
        Ok(ExportReader {
            location,
            width: fields.len(),
            args,
            sql,
            ids: ids.map(Vec::into_iter),
            after: 0,
            done: false,
            source,
        })
    }
}

/// A read-only connection to the SQLite file, for reading beside the pool's writers.
fn open_reader(path: &std::path::Path) -> Result<rusqlite::Connection> {
    use rusqlite::OpenFlags;
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.pragma_update(None, "cache_size", "-32768")?;
    Ok(conn)
}

impl ExportReader {
    /// The next batch of at most [`BATCH_ROWS`] contacts, or `None` after the last.
    pub async fn next_batch(&mut self) -> Result<Option<ExportBatch>> {
        if self.done {
            return Ok(None);
        }
        // The keyset: the next ids of an explicit selection, else "after the last id read".
        let keys: Vec<i64> = match &mut self.ids {
            Some(ids) => {
                let next: Vec<i64> = ids.by_ref().take(BATCH_ROWS).collect();
                if next.is_empty() {
                    self.done = true;
                    return Ok(None);
                }
                next
            }
            None => vec![self.after],
        };
        let explicit = self.ids.is_some();
        // An explicit batch shorter than BATCH_ROWS binds its last id again for the missing
        // parameters, which changes nothing in an IN list.
        let mut keyset = keys.clone();
        if explicit {
            let last = *keyset.last().expect("a non-empty batch");
            keyset.resize(BATCH_ROWS, last);
        }
        let batch = match &mut self.source {
            Source::Sqlite(slot) => {
                let conn = slot
                    .take()
                    .expect("the reader's connection is back after each batch");
                let sql = self.sql.clone();
                let args = self.args.clone();
                let (location, width) = (self.location, self.width);
                let (conn, batch) = tokio::task::spawn_blocking(move || {
                    let batch = read_sqlite(&conn, &sql, location, &args, &keyset, width);
                    (conn, batch)
                })
                .await
                .map_err(|e| StoreError::Corrupt(format!("the export reader stopped: {e}")))?;
                *slot = Some(conn);
                batch?
            }
            Source::Postgres(pool) => {
                read_postgres(
                    pool,
                    &self.sql,
                    self.location,
                    &self.args,
                    &keyset,
                    self.width,
                )
                .await?
            }
        };
        if explicit {
            // Ids of other locations (or deleted since) are simply absent; go on to the next.
            if self.ids.as_ref().is_some_and(|i| i.len() == 0) {
                self.done = true;
            }
        } else {
            match batch.ids.last() {
                Some(last) => self.after = *last,
                None => {
                    self.done = true;
                    return Ok(None);
                }
            }
            if batch.len() < BATCH_ROWS {
                self.done = true;
            }
        }
        Ok(Some(batch))
    }
}

impl Store {
    /// An export's heartbeat (SPEC §9.1, §9.7): records how many contacts it has written (and
    /// the total, once counted) and renews the lease, fenced on it — a process that lost its
    /// lease learns it here and stops. A pause or cancel requested meanwhile is settled in the
    /// same transaction: the job is paused or cancelled and its lease released.
    pub async fn export_progress(
        &self,
        lease: &Lease,
        processed: i64,
        total: Option<i64>,
    ) -> Result<AfterChunk> {
        let now = now_ms();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let requested: Option<Option<String>> = sqlx::query_scalar(
                "UPDATE jobs SET processed = $4, total = COALESCE($5, total), lease_expires_at = $6, status_reason = NULL \
                 WHERE id = $1 AND location_id = $2 AND status = 'running' AND lease_owner = $3 RETURNING requested",
            )
            .bind(lease.job_id)
            .bind(lease.location_id.0)
            .bind(&lease.owner)
            .bind(processed)
            .bind(total)
            .bind(now + self.lease_ms())
            .fetch_optional(&mut *tx)
            .await?;
            let Some(requested) = requested else {
                return Err(crate::claims::lease_lost(lease.job_id));
            };
            let after = match requested.as_deref() {
                Some("pause") => AfterChunk::Paused,
                Some("cancel") => AfterChunk::Cancelled,
                _ => AfterChunk::Running,
            };
            if after != AfterChunk::Running {
                let (status, finished) = if after == AfterChunk::Paused { ("paused", None) } else { ("cancelled", Some(now)) };
                sqlx::query("UPDATE jobs SET status = $3, requested = NULL, lease_owner = NULL, lease_expires_at = NULL, finished_at = $4 \
                             WHERE id = $1 AND location_id = $2")
                    .bind(lease.job_id)
                    .bind(lease.location_id.0)
                    .bind(status)
                    .bind(finished)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(after)
        })
    }
}

fn read_sqlite(
    conn: &rusqlite::Connection,
    sql: &str,
    location: LocationId,
    args: &[Arg],
    keyset: &[i64],
    width: usize,
) -> Result<ExportBatch> {
    use rusqlite::types::ValueRef;
    let mut stmt = conn.prepare_cached(sql)?;
    // `$N` are named parameters to SQLite; bind each by its name.
    let mut bind = |n: usize, value: &dyn rusqlite::ToSql| -> Result<()> {
        if let Some(i) = stmt.parameter_index(&format!("${n}"))? {
            stmt.raw_bind_parameter(i, value)?;
        }
        Ok(())
    };
    bind(1, &location.0)?;
    for (k, a) in args.iter().enumerate() {
        match a {
            Arg::Int(v) => bind(k + 2, v)?,
            Arg::Text(s) => bind(k + 2, s)?,
        }
    }
    let first = args.len() + 2;
    for (k, key) in keyset.iter().enumerate() {
        bind(first + k, key)?;
    }
    let mut batch = ExportBatch::new(width);
    let mut rows = stmt.raw_query();
    let mut number = String::new();
    while let Some(row) = rows.next()? {
        batch.ids.push(row.get(0)?);
        for i in 1..=width {
            match row.get_ref(i)? {
                ValueRef::Null => batch.push(None),
                ValueRef::Text(t) => batch.push(Some(std::str::from_utf8(t).map_err(|e| {
                    StoreError::Corrupt(format!("a contact value is not UTF-8: {e}"))
                })?)),
                // A JSON number or boolean of a custom value.
                ValueRef::Integer(v) => {
                    number.clear();
                    number.push_str(&v.to_string());
                    batch.push(Some(&number));
                }
                ValueRef::Real(v) => {
                    number.clear();
                    number.push_str(&v.to_string());
                    batch.push(Some(&number));
                }
                ValueRef::Blob(_) => batch.push(None),
            }
        }
    }
    Ok(batch)
}

async fn read_postgres(
    pool: &sqlx::PgPool,
    sql: &str,
    location: LocationId,
    args: &[Arg],
    keyset: &[i64],
    width: usize,
) -> Result<ExportBatch> {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).bind(location.0);
    for a in args {
        q = match a {
            Arg::Int(i) => q.bind(*i),
            Arg::Text(s) => q.bind(s.clone()),
        };
    }
    for key in keyset {
        q = q.bind(*key);
    }
    let rows = q.fetch_all(pool).await?;
    let mut batch = ExportBatch::new(width);
    for row in &rows {
        batch.ids.push(row.try_get(0)?);
        for i in 1..=width {
            batch.push(row.try_get::<Option<&str>, _>(i)?);
        }
    }
    Ok(batch)
}

#[cfg(test)]
mod tests;

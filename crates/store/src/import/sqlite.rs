//! An import's lookups and chunk writes on SQLite, through `rusqlite` on a connection of the
//! import's own.
//!
//! Why not sqlx here: its SQLite driver hands every statement to a worker thread through a
//! channel and copies every bound value, so an import wrote through multi-row statements of
//! varying length — each parsed afresh (hundreds of rows × 35 parameters) — and still spent
//! more time in that machinery than in SQLite. Here every statement is a single-row one,
//! prepared once per connection and kept (`prepare_cached`), bound from borrowed values and
//! stepped where it runs: the same work SQLite's own `.import` does per row. What is written,
//! in which transaction, fenced how, is the same as on PostgreSQL ([`super`]).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use domain::value::tag_key;
use rusqlite::types::ToSql;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use super::{
    BOOL_COLUMNS, CHECKPOINT_SQL, ChunkWrite, LEASE_HELD_SQL, OWNER, RecordRef, SETTLE_SQL,
    StoredContact, TAKEN_MEANWHILE, TEXT_COLUMNS, action_of, after_chunk, custom_json, json,
    search_text, select_columns, settled,
};
use crate::claims::{AfterChunk, Lease};
use crate::contacts::email_match_key;
use crate::sql::numbered;
use crate::{Result, StoreError, now_ms};

/// The settings every connection to the database file gets (see `Store::open_sqlite`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SqliteSettings {
    pub synchronous_normal: bool,
    pub busy_ms: i64,
    pub max_pages: Option<i64>,
}

/// Opens a read-write connection for an import, set up as the pool's connections are.
pub(crate) fn open_writer(path: &Path, s: SqliteSettings) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_millis(s.busy_ms as u64))?;
    conn.pragma_update(
        None,
        "synchronous",
        if s.synchronous_normal {
            "NORMAL"
        } else {
            "FULL"
        },
    )?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", "-32768")?;
    // Statement journals (a multi-statement transaction keeps one per statement that may fail
    // halfway) stay in memory instead of a temporary file.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    if let Some(pages) = s.max_pages {
        conn.pragma_update(None, "max_page_count", pages)?;
    }
    // Checkpoint the write-ahead log into the database every 40 MB of it instead of every
    // 4 MB: an import rewrites the same index pages chunk after chunk, and each checkpoint
    // copies them again (measured 10–15% of an import's time at the default).
    conn.pragma_update(None, "wal_autocheckpoint", 10_000)?;
    conn.set_prepared_statement_cache_capacity(48);
    Ok(conn)
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}

fn conflict_on_unique(e: rusqlite::Error) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Conflict(TAKEN_MEANWHILE.into())
    } else {
        StoreError::Sqlite(e)
    }
}

/// Binds a contact's columns from parameter `first` on, in the order of `insert_sql` /
/// `update_sql` after their leading parameters. Returns the next parameter's index.
fn bind_contact(
    stmt: &mut rusqlite::CachedStatement<'_>,
    mut i: usize,
    v: &BTreeMap<String, String>,
    now: i64,
    with_created: bool,
) -> rusqlite::Result<usize> {
    for (k, _) in TEXT_COLUMNS {
        stmt.raw_bind_parameter(i, v.get(*k).map(String::as_str))?;
        i += 1;
    }
    stmt.raw_bind_parameter(i, v.get(OWNER).and_then(|s| s.parse::<i64>().ok()))?;
    i += 1;
    for c in BOOL_COLUMNS {
        stmt.raw_bind_parameter(i, v.get(*c).is_some_and(|s| s == "true"))?;
        i += 1;
    }
    stmt.raw_bind_parameter(i, custom_json(v))?;
    stmt.raw_bind_parameter(i + 1, v.get("email").map(|e| email_match_key(e)))?;
    stmt.raw_bind_parameter(i + 2, search_text(v))?;
    i += 3;
    if with_created {
        stmt.raw_bind_parameter(i, now)?;
        i += 1;
    }
    stmt.raw_bind_parameter(i, now)?;
    Ok(i + 1)
}

/// The location's contacts with one of these ids, primary email match keys or primary phones,
/// by ascending id, with their tags and additional values: one indexed lookup per identifier.
pub(crate) fn contacts_for_matching(
    conn: &mut Connection,
    location: i64,
    ids: &[i64],
    email_keys: &[String],
    phones: &[String],
) -> Result<Vec<StoredContact>> {
    // One read transaction for the whole chunk: one snapshot, and one shared lock instead of
    // one per statement.
    let tx = conn.transaction()?;
    let conn: &Connection = &tx;
    let mut found: BTreeMap<i64, StoredContact> = BTreeMap::new();
    // The statement's text is built once per chunk, not once per identifier.
    let cols = select_columns();
    let by =
        |col: &str| format!("SELECT {cols} FROM contacts WHERE location_id = ?1 AND {col} = ?2");
    let (by_id, by_email, by_phone) = (by("id"), by("email_key"), by("phone"));
    let mut lookup = |sql: &str, value: &dyn ToSql| -> Result<()> {
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rows = stmt.query(rusqlite::params![location, value])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            if found.contains_key(&id) {
                continue;
            }
            let mut values = BTreeMap::new();
            let mut i = 1;
            for (key, _) in TEXT_COLUMNS {
                if let Some(v) = row.get::<_, Option<String>>(i)? {
                    values.insert(key.to_string(), v);
                }
                i += 1;
            }
            if let Some(v) = row.get::<_, Option<String>>(i)? {
                values.insert(OWNER.to_string(), v);
            }
            i += 1;
            for c in BOOL_COLUMNS {
                let on: bool = row.get::<_, i64>(i)? != 0;
                values.insert(c.to_string(), on.to_string());
                i += 1;
            }
            let custom: String = row.get(i)?;
            let custom: BTreeMap<String, String> = serde_json::from_str(&custom)
                .map_err(|e| StoreError::Corrupt(format!("custom_values: {e}")))?;
            values.extend(custom);
            found.insert(
                id,
                StoredContact {
                    id,
                    values,
                    ..StoredContact::default()
                },
            );
        }
        Ok(())
    };
    for id in ids {
        lookup(&by_id, id)?;
    }
    for e in email_keys {
        lookup(&by_email, e)?;
    }
    for p in phones {
        lookup(&by_phone, p)?;
    }
    // Side values per contact, in the order the PostgreSQL reading gives them.
    let mut tags = conn.prepare_cached(
        "SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id \
         WHERE ct.contact_id = ?1 AND +ct.location_id = ?2 ORDER BY ct.created_at, t.id",
    )?;
    let mut emails = conn.prepare_cached(
        "SELECT email FROM contact_emails WHERE contact_id = ?1 AND location_id = ?2 ORDER BY position",
    )?;
    let mut phones = conn.prepare_cached(
        "SELECT phone FROM contact_phones WHERE contact_id = ?1 AND location_id = ?2 ORDER BY position",
    )?;
    for c in found.values_mut() {
        let p = rusqlite::params![c.id, location];
        c.tags = tags
            .query_map(p, |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        c.additional_emails = emails
            .query_map(p, |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        c.additional_phones = phones
            .query_map(p, |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
    }
    drop((tags, emails, phones));
    tx.commit()?;
    Ok(found.into_values().collect())
}

/// Applies one chunk of an import in a single transaction, as
/// [`crate::Store::apply_import_chunk`] describes.
pub(crate) fn apply_import_chunk(
    conn: &mut Connection,
    lease: &Lease,
    lease_ms: i64,
    chunk: &ChunkWrite,
) -> Result<(Vec<i64>, AfterChunk)> {
    let now = now_ms();
    let location = lease.location_id.0;
    let job_id = lease.job_id;
    // The write lock at BEGIN: a read first and a write later would fail outright
    // (SQLITE_BUSY_SNAPSHOT) whenever another connection — this job's heartbeat — wrote in
    // between.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // The lease first, without locking the job's row: a process that lost it writes nothing.
    let held: Option<i64> = tx
        .prepare_cached(&numbered(LEASE_HELD_SQL))?
        .query_row(rusqlite::params![job_id, location, lease.owner], |r| {
            r.get(0)
        })
        .optional()?;
    if held.is_none() {
        return Err(crate::claims::lease_lost(job_id));
    }
    let n = chunk.contacts.len();
    let mut ids = vec![0i64; n];
    let mut versions = vec![1i64; n];
    // What an updated contact's email verification was (every update resets it, SPEC §6.5):
    // the journal keeps it.
    let mut verification: HashMap<usize, String> = HashMap::new();
    {
        let insert = super::insert_sql();
        let insert = numbered(insert.trim_end_matches(" RETURNING id"));
        let mut insert = tx.prepare_cached(&insert)?;
        let mut update = tx.prepare_cached(&numbered(&super::update_sql()))?;
        let mut verified = tx.prepare_cached(
            "SELECT email_verification FROM contacts WHERE id = ?1 AND location_id = ?2 \
             AND email_verification <> 'unverified'",
        )?;
        for (i, c) in chunk.contacts.iter().enumerate() {
            match c.id {
                None => {
                    insert.raw_bind_parameter(1, location)?;
                    bind_contact(&mut insert, 2, &c.values, now, true)?;
                    insert.raw_execute().map_err(conflict_on_unique)?;
                    ids[i] = tx.last_insert_rowid();
                }
                Some(id) => {
                    if c.before.is_some()
                        && let Some(v) = verified
                            .query_row(rusqlite::params![id, location], |r| r.get(0))
                            .optional()?
                    {
                        verification.insert(i, v);
                    }
                    update.raw_bind_parameter(1, id)?;
                    update.raw_bind_parameter(2, location)?;
                    bind_contact(&mut update, 3, &c.values, now, false)?;
                    let version: Option<i64> = {
                        let mut rows = update.raw_query();
                        match rows.next().map_err(conflict_on_unique)? {
                            Some(r) => Some(r.get(0)?),
                            None => None,
                        }
                    };
                    ids[i] = id;
                    versions[i] =
                        version.ok_or_else(|| StoreError::not_found(format!("contact {id}")))?;
                }
            }
        }
    }
    let action = |i: usize| action_of(&chunk.contacts[i]);

    // Tags: each new tag of the chunk created once, then linked.
    let mut tag_ids: HashMap<String, i64> = HashMap::new();
    {
        let mut add_tag = tx.prepare_cached(
            "INSERT INTO tags (location_id, name, name_key, created_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (location_id, name_key) DO NOTHING",
        )?;
        let mut tag_id =
            tx.prepare_cached("SELECT id FROM tags WHERE location_id = ?1 AND name_key = ?2")?;
        let mut link = tx.prepare_cached(
            "INSERT INTO contact_tags (contact_id, tag_id, location_id, added_by_job, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (contact_id, tag_id) DO NOTHING",
        )?;
        for (i, c) in chunk.contacts.iter().enumerate() {
            for t in &c.new_tags {
                let key = tag_key(t);
                let tag = match tag_ids.get(&key) {
                    Some(id) => *id,
                    None => {
                        add_tag.execute(rusqlite::params![location, t, key, now])?;
                        let id: i64 =
                            tag_id.query_row(rusqlite::params![location, key], |r| r.get(0))?;
                        tag_ids.insert(key, id);
                        id
                    }
                };
                link.execute(rusqlite::params![ids[i], tag, location, job_id, now])?;
            }
        }
    }

    // Additional emails and phones, appended after the contact's last.
    {
        let mut email = tx.prepare_cached(
            "INSERT INTO contact_emails (contact_id, location_id, email, position, job_id) \
             VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(position), -1) + 1 FROM contact_emails WHERE contact_id = ?1), ?4) \
             ON CONFLICT (contact_id, email) DO NOTHING",
        )?;
        let mut phone = tx.prepare_cached(
            "INSERT INTO contact_phones (contact_id, location_id, phone, position, job_id) \
             VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(position), -1) + 1 FROM contact_phones WHERE contact_id = ?1), ?4) \
             ON CONFLICT (contact_id, phone) DO NOTHING",
        )?;
        let mut note = tx.prepare_cached(
            "INSERT INTO notes (location_id, contact_id, body, job_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut provenance = tx.prepare_cached(
            "INSERT INTO contact_imports (contact_id, job_id, location_id, action) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (contact_id, job_id) DO NOTHING",
        )?;
        let mut journal = tx.prepare_cached(
            "INSERT INTO journal (location_id, job_id, line, entity, entity_id, action, before_values, \
             after_values, version_after, created_at, email_verification_before) \
             VALUES (?1, ?2, ?3, 'contact', ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        for (i, c) in chunk.contacts.iter().enumerate() {
            let id = ids[i];
            for e in &c.new_emails {
                email.execute(rusqlite::params![id, location, e, job_id])?;
            }
            for p in &c.new_phones {
                phone.execute(rusqlite::params![id, location, p, job_id])?;
            }
            for body in &c.notes {
                note.execute(rusqlite::params![location, id, body, job_id, now])?;
            }
            provenance.execute(rusqlite::params![id, job_id, location, action(i)])?;
            // A created contact's journal row needs no values: revert deletes it.
            let before = c.before.as_ref().map(json);
            let after = c.before.as_ref().map(|_| json(&c.values));
            journal.execute(rusqlite::params![
                location,
                job_id,
                c.line as i64,
                id,
                action(i),
                before,
                after,
                versions[i],
                now,
                verification.get(&i),
            ])?;
        }
    }
    for (workflow, written) in &chunk.enrollments {
        let contact_ids: Vec<i64> = written.iter().map(|i| ids[*i]).collect();
        for part in contact_ids.chunks(crate::workflows::ENROLL_CHUNK) {
            let mut stmt = tx.prepare(&numbered(&crate::workflows::enroll_sql(part.len())))?;
            stmt.raw_bind_parameter(1, location)?;
            stmt.raw_bind_parameter(2, *workflow)?;
            stmt.raw_bind_parameter(3, job_id)?;
            stmt.raw_bind_parameter(4, now)?;
            for (k, id) in part.iter().enumerate() {
                stmt.raw_bind_parameter(5 + k, *id)?;
            }
            stmt.raw_execute()?;
        }
    }
    let opportunity_ids =
        crate::opportunity_import::write_sqlite(&tx, location, job_id, now, chunk, &ids)?;
    let line_opportunities =
        crate::opportunity_import::line_opportunity_ids(chunk, &opportunity_ids);
    {
        let mut line = tx.prepare_cached(
            "INSERT INTO job_lines (job_id, line, status, action, record_id, primary_value, messages, cells, opportunity_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for (k, l) in chunk.lines.iter().enumerate() {
            let record = l.record.map(|r| match r {
                RecordRef::Id(id) => id,
                RecordRef::Written(i) => ids[i],
            });
            line.execute(rusqlite::params![
                job_id,
                l.line as i64,
                l.status.as_str(),
                l.action.as_str(),
                record,
                l.primary,
                l.messages,
                l.cells,
                line_opportunities[k],
            ])?;
        }
    }
    // The checkpoint last, fenced on the lease again: had the lease lapsed and another
    // process claimed the job meanwhile, it matches nothing and the whole chunk rolls back.
    let t = chunk.totals;
    let requested: Option<Option<String>> = tx
        .prepare_cached(&numbered(CHECKPOINT_SQL))?
        .query_row(
            rusqlite::params![
                job_id,
                location,
                t.processed,
                t.created,
                t.updated,
                t.skipped,
                t.errors,
                t.warnings,
                t.blank,
                chunk.checkpoint_line as i64,
                lease.owner,
                now_ms() + lease_ms,
            ],
            |r| r.get(0),
        )
        .optional()?;
    let Some(requested) = requested else {
        return Err(crate::claims::lease_lost(job_id));
    };
    let after = after_chunk(requested.as_deref());
    if after != AfterChunk::Running {
        let (status, finished) = settled(after, now);
        tx.execute(
            &numbered(SETTLE_SQL),
            rusqlite::params![job_id, status, finished],
        )?;
        // A pause or cancel settling: the process may die on either side of the commit.
        crate::failpoint::hit("settle_before_commit");
    }
    crate::failpoint::hit("chunk_before_commit");
    tx.commit()?;
    crate::failpoint::hit("chunk_after_commit");
    if after != AfterChunk::Running {
        crate::failpoint::hit("settle_after_commit");
    }
    ids.extend(opportunity_ids);
    Ok((ids, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> SqliteSettings {
        SqliteSettings {
            synchronous_normal: false,
            busy_ms: 50,
            max_pages: None,
        }
    }

    /// The rusqlite errors a job must tell apart (SPEC §9.6) are recognised as the pool's
    /// are: a locked file waits and retries, a full disk pauses the job, a unique index
    /// refusing a row is a conflict the chunk retries.
    #[test]
    fn errors_read_as_the_pools_do() {
        let dir = crate::testing::TempDir::new("rusqlite-errors");
        let path = dir.path().join("t.db");
        Connection::open(&path).unwrap();
        let a = open_writer(&path, settings()).unwrap();
        a.execute_batch(
            "PRAGMA journal_mode=WAL; CREATE TABLE t (k TEXT UNIQUE, v BLOB); INSERT INTO t (k) VALUES ('a');",
        )
        .unwrap();

        let e = StoreError::from(a.execute("INSERT INTO t (k) VALUES ('a')", []).unwrap_err());
        assert!(e.unavailable().is_none() && !e.is_disk_full());
        let e = conflict_on_unique(a.execute("INSERT INTO t (k) VALUES ('a')", []).unwrap_err());
        assert!(e.is_conflict(), "{e}");

        let mut b = open_writer(&path, settings()).unwrap();
        a.execute_batch("BEGIN IMMEDIATE").unwrap();
        let e = StoreError::from(
            b.transaction_with_behavior(TransactionBehavior::Immediate)
                .unwrap_err(),
        );
        assert_eq!(
            e.unavailable().as_deref(),
            Some("the database file is locked by another process")
        );
        a.execute_batch("ROLLBACK").unwrap();

        let full = open_writer(
            &path,
            SqliteSettings {
                max_pages: Some(4),
                ..settings()
            },
        )
        .unwrap();
        let e = StoreError::from(
            full.execute("INSERT INTO t (v) VALUES (zeroblob(100000))", [])
                .unwrap_err(),
        );
        assert!(e.is_disk_full(), "{e}");
        assert!(e.unavailable().is_none());
    }
}

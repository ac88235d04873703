//! What an opportunities import (SPEC §7) reads and writes beyond a contact import: the
//! chunk's opportunities looked up by id, and their writes — created or updated, linked to
//! the line's contact, journalled (entity `opportunity`) — inside the contact chunk's own
//! transaction (`ImportSession::apply_import_chunk`, either backend), so a line's contact,
//! its opportunity, its line result and the checkpoint commit together. Revert deletes the
//! opportunities a job created and puts back the ones it changed ([`revert_opportunities!`]).

use std::collections::BTreeMap;

use crate::import::{ChunkWrite, RecordRef};
use crate::sql::{positional, qmarks};
use crate::{LocationId, Result, Store, StoreError, on_pool};

/// An opportunity as an import sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredOpportunity {
    pub id: i64,
    pub pipeline_id: i64,
    pub stage_id: i64,
    pub name: String,
    /// The stored word: `open`, `won`, `lost`, `abandoned`.
    pub status: String,
    pub value: Option<String>,
    pub owner: Option<i64>,
    pub source: Option<String>,
    pub contact_id: Option<i64>,
    /// Custom fields by key.
    pub custom: BTreeMap<String, String>,
}

/// One opportunity a chunk writes: every column as it is after the chunk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpportunityWrite {
    /// `None` creates it.
    pub id: Option<i64>,
    pub pipeline_id: i64,
    pub stage_id: i64,
    pub name: String,
    pub status: String,
    pub value: Option<String>,
    pub owner: Option<i64>,
    pub source: Option<String>,
    pub custom: BTreeMap<String, String>,
    /// The linked contact: an id, or a contact of this chunk (`RecordRef::Written`); `None`
    /// leaves an updated opportunity's link as it is (a new one has none).
    pub contact: Option<RecordRef>,
    /// The first line of the chunk that touched it (the journal's line).
    pub line: u64,
}

const COLUMNS: &str = "id, pipeline_id, stage_id, name, status, monetary_value, owner_user_id, source, contact_id, custom_values";

type Row = (
    i64,
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    String,
);

fn parse(row: Row) -> Result<StoredOpportunity> {
    let (id, pipeline_id, stage_id, name, status, value, owner, source, contact_id, custom) = row;
    Ok(StoredOpportunity {
        id,
        pipeline_id,
        stage_id,
        name,
        status,
        value,
        owner,
        source,
        contact_id,
        custom: serde_json::from_str(&custom)
            .map_err(|e| StoreError::Corrupt(format!("opportunity {id}'s custom values: {e}")))?,
    })
}

/// An opportunity's columns as the journal keeps them (blank columns absent).
fn journal_values(o: &StoredOpportunity) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    m.insert("pipeline_id".into(), o.pipeline_id.to_string());
    m.insert("stage_id".into(), o.stage_id.to_string());
    m.insert("name".into(), o.name.clone());
    m.insert("status".into(), o.status.clone());
    let mut opt = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            m.insert(k.into(), v);
        }
    };
    opt("monetary_value", o.value.clone());
    opt("owner_user_id", o.owner.map(|v| v.to_string()));
    opt("source", o.source.clone());
    opt("contact_id", o.contact_id.map(|v| v.to_string()));
    m.insert(
        "custom_values".into(),
        serde_json::to_string(&o.custom).expect("strings serialise"),
    );
    m
}

fn from_journal(id: i64, m: &BTreeMap<String, String>) -> StoredOpportunity {
    let int = |k: &str| m.get(k).and_then(|v| v.parse::<i64>().ok());
    StoredOpportunity {
        id,
        pipeline_id: int("pipeline_id").unwrap_or_default(),
        stage_id: int("stage_id").unwrap_or_default(),
        name: m.get("name").cloned().unwrap_or_default(),
        status: m.get("status").cloned().unwrap_or_else(|| "open".into()),
        value: m.get("monetary_value").cloned(),
        owner: int("owner_user_id"),
        source: m.get("source").cloned(),
        contact_id: int("contact_id"),
        custom: m
            .get("custom_values")
            .and_then(|c| serde_json::from_str(c).ok())
            .unwrap_or_default(),
    }
}

fn json(values: &BTreeMap<String, String>) -> String {
    serde_json::to_string(values).expect("strings serialise")
}

/// `$1` location, `$2` pipeline, `$3` stage, `$4` name, `$5` status, `$6` value, `$7` owner,
/// `$8` source, `$9` contact, `$10` custom values, `$11` now.
pub(crate) const INSERT_SQL: &str = "INSERT INTO opportunities (location_id, pipeline_id, stage_id, name, status, monetary_value, owner_user_id, source, contact_id, custom_values, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id";

/// As [`INSERT_SQL`] with `$12` the id; the contact is kept when `$9` is NULL and `$13` false.
pub(crate) const UPDATE_SQL: &str = "UPDATE opportunities SET pipeline_id = $2, stage_id = $3, name = $4, status = $5, monetary_value = $6, \
     owner_user_id = $7, source = $8, contact_id = CASE WHEN $13 THEN $9 ELSE contact_id END, custom_values = $10, updated_at = $11, version = version + 1 \
     WHERE location_id = $1 AND id = $12 RETURNING version";

pub(crate) const SELECT_ONE_SQL: &str = "SELECT id, pipeline_id, stage_id, name, status, monetary_value, owner_user_id, source, contact_id, custom_values \
     FROM opportunities WHERE location_id = $1 AND id = $2";

pub(crate) const JOURNAL_SQL: &str = "INSERT INTO journal (location_id, job_id, line, entity, entity_id, action, before_values, after_values, version_after, created_at) \
     VALUES ($1, $2, $3, 'opportunity', $4, $5, $6, $7, $8, $9)";

/// What one opportunity write binds.
pub(crate) struct Bound<'a> {
    pub o: &'a OpportunityWrite,
    pub contact: Option<i64>,
    pub custom: String,
    /// Whether the write sets the link (`$13`).
    pub sets_contact: bool,
}

/// Each opportunity of the chunk with its link resolved against the chunk's contact ids.
pub(crate) fn bound<'a>(chunk: &'a ChunkWrite, contact_ids: &[i64]) -> Vec<Bound<'a>> {
    chunk
        .opportunities
        .iter()
        .map(|o| Bound {
            o,
            contact: o.contact.map(|r| match r {
                RecordRef::Id(id) => id,
                RecordRef::Written(i) => contact_ids[i],
            }),
            custom: serde_json::to_string(&o.custom).expect("strings serialise"),
            sets_contact: o.contact.is_some(),
        })
        .collect()
}

/// The values a journal row keeps for a write (after it).
pub(crate) fn after_values(b: &Bound<'_>, id: i64, before: &StoredOpportunity) -> String {
    let o = b.o;
    json(&journal_values(&StoredOpportunity {
        id,
        pipeline_id: o.pipeline_id,
        stage_id: o.stage_id,
        name: o.name.clone(),
        status: o.status.clone(),
        value: o.value.clone(),
        owner: o.owner,
        source: o.source.clone(),
        contact_id: if b.sets_contact {
            b.contact
        } else {
            before.contact_id
        },
        custom: o.custom.clone(),
    }))
}

pub(crate) fn before_values(o: &StoredOpportunity) -> String {
    json(&journal_values(o))
}

/// Writes the chunk's opportunities on SQLite, in the chunk's transaction: returns their ids.
pub(crate) fn write_sqlite(
    tx: &rusqlite::Transaction<'_>,
    location: i64,
    job_id: i64,
    now: i64,
    chunk: &ChunkWrite,
    contact_ids: &[i64],
) -> Result<Vec<i64>> {
    use crate::sql::numbered;
    use rusqlite::OptionalExtension;
    let mut ids = Vec::with_capacity(chunk.opportunities.len());
    if chunk.opportunities.is_empty() {
        return Ok(ids);
    }
    let mut insert = tx.prepare_cached(&numbered(INSERT_SQL))?;
    let mut update = tx.prepare_cached(&numbered(UPDATE_SQL))?;
    let mut select = tx.prepare_cached(&numbered(SELECT_ONE_SQL))?;
    let mut journal = tx.prepare_cached(&numbered(JOURNAL_SQL))?;
    for b in bound(chunk, contact_ids) {
        let o = b.o;
        match o.id {
            None => {
                let id: i64 = insert.query_row(
                    rusqlite::params![
                        location,
                        o.pipeline_id,
                        o.stage_id,
                        o.name,
                        o.status,
                        o.value,
                        o.owner,
                        o.source,
                        b.contact,
                        b.custom,
                        now
                    ],
                    |r| r.get(0),
                )?;
                journal.execute(rusqlite::params![
                    location,
                    job_id,
                    o.line as i64,
                    id,
                    "created",
                    None::<String>,
                    None::<String>,
                    1i64,
                    now
                ])?;
                ids.push(id);
            }
            Some(id) => {
                let row: Option<Row> = select
                    .query_row(rusqlite::params![location, id], |r| {
                        Ok((
                            r.get(0)?,
                            r.get(1)?,
                            r.get(2)?,
                            r.get(3)?,
                            r.get(4)?,
                            r.get(5)?,
                            r.get(6)?,
                            r.get(7)?,
                            r.get(8)?,
                            r.get(9)?,
                        ))
                    })
                    .optional()?;
                // Deleted since the lookup (a revert meanwhile): decided again.
                let before = parse(row.ok_or_else(|| {
                    StoreError::Conflict(format!("opportunity {id} was deleted meanwhile"))
                })?)?;
                let version: i64 = update.query_row(
                    rusqlite::params![
                        location,
                        o.pipeline_id,
                        o.stage_id,
                        o.name,
                        o.status,
                        o.value,
                        o.owner,
                        o.source,
                        b.contact,
                        b.custom,
                        now,
                        id,
                        b.sets_contact
                    ],
                    |r| r.get(0),
                )?;
                journal.execute(rusqlite::params![
                    location,
                    job_id,
                    o.line as i64,
                    id,
                    "updated",
                    before_values(&before),
                    after_values(&b, id, &before),
                    version,
                    now
                ])?;
                ids.push(id);
            }
        }
    }
    Ok(ids)
}

/// Writes the chunk's opportunities on PostgreSQL, in the chunk's transaction (one statement
/// per opportunity: an opportunities chunk is a contact chunk plus these).
pub(crate) async fn write_postgres(
    conn: &mut sqlx::PgConnection,
    location: LocationId,
    job_id: i64,
    now: i64,
    chunk: &ChunkWrite,
    contact_ids: &[i64],
) -> Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(chunk.opportunities.len());
    for b in bound(chunk, contact_ids) {
        let o = b.o;
        match o.id {
            None => {
                let id: i64 = sqlx::query_scalar(INSERT_SQL)
                    .bind(location.0)
                    .bind(o.pipeline_id)
                    .bind(o.stage_id)
                    .bind(&o.name)
                    .bind(&o.status)
                    .bind(&o.value)
                    .bind(o.owner)
                    .bind(&o.source)
                    .bind(b.contact)
                    .bind(&b.custom)
                    .bind(now)
                    .fetch_one(&mut *conn)
                    .await?;
                sqlx::query(JOURNAL_SQL)
                    .bind(location.0)
                    .bind(job_id)
                    .bind(o.line as i64)
                    .bind(id)
                    .bind("created")
                    .bind(None::<String>)
                    .bind(None::<String>)
                    .bind(1i64)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                ids.push(id);
            }
            Some(id) => {
                let row: Option<Row> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_ONE_SQL} FOR UPDATE")))
                        .bind(location.0)
                        .bind(id)
                        .fetch_optional(&mut *conn)
                        .await?;
                let before = parse(row.ok_or_else(|| {
                    StoreError::Conflict(format!("opportunity {id} was deleted meanwhile"))
                })?)?;
                let version: i64 = sqlx::query_scalar(UPDATE_SQL)
                    .bind(location.0)
                    .bind(o.pipeline_id)
                    .bind(o.stage_id)
                    .bind(&o.name)
                    .bind(&o.status)
                    .bind(&o.value)
                    .bind(o.owner)
                    .bind(&o.source)
                    .bind(b.contact)
                    .bind(&b.custom)
                    .bind(now)
                    .bind(id)
                    .bind(b.sets_contact)
                    .fetch_one(&mut *conn)
                    .await?;
                sqlx::query(JOURNAL_SQL)
                    .bind(location.0)
                    .bind(job_id)
                    .bind(o.line as i64)
                    .bind(id)
                    .bind("updated")
                    .bind(before_values(&before))
                    .bind(after_values(&b, id, &before))
                    .bind(version)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                ids.push(id);
            }
        }
    }
    Ok(ids)
}

/// Each line's opportunity id, `None` where the line wrote none.
pub(crate) fn line_opportunity_ids(
    chunk: &ChunkWrite,
    opportunity_ids: &[i64],
) -> Vec<Option<i64>> {
    (0..chunk.lines.len())
        .map(|k| {
            chunk
                .line_opportunities
                .get(k)
                .copied()
                .flatten()
                .map(|r| match r {
                    RecordRef::Id(id) => id,
                    RecordRef::Written(i) => opportunity_ids[i],
                })
        })
        .collect()
}

/// `UPDATE` putting an opportunity back to its journalled values, if the version is still
/// the one the job left; a contact or owner deleted since is restored as none.
pub(crate) const RESTORE_SQL: &str = "UPDATE opportunities SET pipeline_id = $4, stage_id = $5, name = $6, status = $7, monetary_value = $8, \
     owner_user_id = (SELECT id FROM users WHERE id = $9), source = $10, \
     contact_id = (SELECT id FROM contacts WHERE id = $11 AND location_id = $1), custom_values = $12, updated_at = $13, version = version + 1 \
     WHERE location_id = $1 AND id = $2 AND version = $3";

/// Per opportunity a job wrote: the first journal row (line, action, values before) and the
/// last one's version.
pub(crate) const TOUCHED_SQL: &str = "SELECT f.entity_id, f.line, f.action, f.before_values, l.version_after \
     FROM (SELECT entity_id, MIN(id) AS first_id, MAX(id) AS last_id FROM journal \
           WHERE location_id = $1 AND job_id = $2 AND entity = 'opportunity' GROUP BY entity_id) g \
     JOIN journal f ON f.id = g.first_id JOIN journal l ON l.id = g.last_id \
     ORDER BY g.last_id DESC";

/// The values an opportunity is restored to, from its journal row.
pub(crate) fn restored(id: i64, before: &str) -> Result<StoredOpportunity> {
    let m: BTreeMap<String, String> = serde_json::from_str(before)
        .map_err(|e| StoreError::Corrupt(format!("journal of opportunity {id}: {e}")))?;
    Ok(from_journal(id, &m))
}

/// Reverts the opportunities of an opportunities import inside the revert's transaction
/// (`$tx`, either backend): those it created are deleted, those it changed get back their
/// values before it; one changed since (its version moved) is left alone and reported.
macro_rules! revert_opportunities {
    ($tx:expr, $location:expr, $job_id:expr, $now:expr, $report:expr) => {{
        let rows: Vec<(i64, i64, String, Option<String>, i64)> =
            sqlx::query_as($crate::opportunity_import::TOUCHED_SQL)
                .bind($location.0)
                .bind($job_id)
                .fetch_all(&mut *$tx)
                .await?;
        for (id, line, action, before, version_after) in rows {
            let version_now: Option<i64> = sqlx::query_scalar(
                "SELECT version FROM opportunities WHERE location_id = $1 AND id = $2",
            )
            .bind($location.0)
            .bind(id)
            .fetch_optional(&mut *$tx)
            .await?;
            let why = domain::revert::conflict(domain::revert::Written {
                version_now,
                version_after,
                workflow_ran: None,
            });
            if let Some(why) = why {
                $report.conflicts.push($crate::RevertConflict {
                    contact_id: id,
                    line: line as u64,
                    reason: format!("opportunity {id}: {why}"),
                });
                continue;
            }
            if action == "created" {
                sqlx::query("DELETE FROM opportunities WHERE location_id = $1 AND id = $2")
                    .bind($location.0)
                    .bind(id)
                    .execute(&mut *$tx)
                    .await?;
                $report.opportunities_deleted.push(id);
                continue;
            }
            let raw = before.ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "journal of job {}: no values before the update of opportunity {id}",
                    $job_id
                ))
            })?;
            let o = $crate::opportunity_import::restored(id, &raw)?;
            sqlx::query($crate::opportunity_import::RESTORE_SQL)
                .bind($location.0)
                .bind(id)
                .bind(version_after)
                .bind(o.pipeline_id)
                .bind(o.stage_id)
                .bind(&o.name)
                .bind(&o.status)
                .bind(&o.value)
                .bind(o.owner)
                .bind(&o.source)
                .bind(o.contact_id)
                .bind(serde_json::to_string(&o.custom).expect("strings serialise"))
                .bind($now)
                .execute(&mut *$tx)
                .await?;
            $report.opportunities_restored.push(id);
        }
    }};
}
pub(crate) use revert_opportunities;

/// Ids per statement in a lookup.
const BATCH: usize = 500;

impl Store {
    /// The location's opportunities with one of these ids, by ascending id.
    pub async fn opportunities_for_matching(
        &self,
        location: LocationId,
        ids: &[i64],
    ) -> Result<Vec<StoredOpportunity>> {
        let mut wanted = ids.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        let mut out = Vec::with_capacity(wanted.len());
        for batch in wanted.chunks(BATCH) {
            let sql = positional(&format!(
                "SELECT {COLUMNS} FROM opportunities WHERE location_id = ? AND id IN ({}) ORDER BY id",
                qmarks(batch.len())
            ));
            let rows: Vec<Row> = on_pool!(self, p => {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(location.0);
                for id in batch {
                    q = q.bind(*id);
                }
                q.fetch_all(p).await
            })?;
            for row in rows {
                out.push(parse(row)?);
            }
        }
        Ok(out)
    }
}

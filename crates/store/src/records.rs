//! The records of companies and custom objects (SPEC §8): `object_records`, their unique
//! values in `record_unique_values`, and an import chunk's writes.
//!
//! A record is its fields by key as JSON text (every field of the object's schema but the id),
//! so one writer serves every object; the schema (`domain::ObjectSchema`) says what the
//! fields are. Record ids are the location's own integers per object, handed out from
//! `record_counters` and never reused, so a revert's journal names a record by its id.
//!
//! Uniqueness is the database's: a unique field's value key (`domain::object::
//! unique_value_key`) is a row of `record_unique_values`, whose primary key is (location,
//! object, field, value). A chunk that would give a value to a second record fails as a whole
//! with [`StoreError::Conflict`] and is decided again by the import (as contacts are), so two
//! imports at once never leave two records with one unique value.

use std::collections::{BTreeMap, HashSet};

use domain::ObjectKind;

use crate::claims::{AfterChunk, Lease};
use crate::error::conflict_on_unique;
use crate::import::{LineWrite, RecordRef, Totals};
use crate::sql::{positional, qmarks};
use crate::{LocationId, Result, Store, StoreError, now_ms, on_pool};

/// A record as stored: its id and fields by key (blank fields absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredRecord {
    pub id: i64,
    pub values: BTreeMap<String, String>,
    pub version: i64,
}

/// One record a chunk writes.
#[derive(Debug, Clone, Default)]
pub struct RecordWrite {
    /// `None` creates the record.
    pub id: Option<i64>,
    pub values: BTreeMap<String, String>,
    /// Values before the change (updates), for the journal and to move unique values.
    pub before: Option<BTreeMap<String, String>>,
    /// The primary field's value (listed on the object's page).
    pub primary: String,
    /// The unique values it holds after the chunk and held before: (field key, value key).
    pub unique_after: Vec<(String, String)>,
    pub unique_before: Vec<(String, String)>,
    /// The first line of the chunk that touched it (the journal's line).
    pub line: u64,
}

/// Everything one chunk of a records import writes.
#[derive(Debug, Clone, Default)]
pub struct RecordChunkWrite {
    pub object: Option<ObjectKind>,
    pub records: Vec<RecordWrite>,
    /// A line's record is an id, or an index into `records` for one this chunk creates.
    pub lines: Vec<LineWrite>,
    pub totals: Totals,
    pub checkpoint_line: u64,
}

fn json(values: &BTreeMap<String, String>) -> String {
    serde_json::to_string(values).expect("strings serialise")
}

fn parse(id: i64, values: &str, version: i64) -> Result<StoredRecord> {
    Ok(StoredRecord {
        id,
        values: serde_json::from_str(values)
            .map_err(|e| StoreError::Corrupt(format!("record {id}'s values: {e}")))?,
        version,
    })
}

/// Ids per statement in a lookup.
const BATCH: usize = 500;

impl Store {
    /// The object's records with one of these ids or unique values (`(field key, value key)`),
    /// by ascending id.
    pub async fn records_for_matching(
        &self,
        location: LocationId,
        object: &ObjectKind,
        ids: &[i64],
        unique: &[(String, String)],
    ) -> Result<Vec<StoredRecord>> {
        let object = object.as_stored();
        let mut wanted: Vec<i64> = ids.to_vec();
        let mut by_field: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (f, v) in unique {
            by_field.entry(f.as_str()).or_default().push(v.as_str());
        }
        for (field, values) in &by_field {
            for batch in values.chunks(BATCH) {
                let sql = positional(&format!(
                    "SELECT record_id FROM record_unique_values WHERE location_id = ? AND object = ? \
                     AND field_key = ? AND value_key IN ({})",
                    qmarks(batch.len())
                ));
                let found: Vec<i64> = on_pool!(self, p => {
                    let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
                        .bind(location.0)
                        .bind(&object)
                        .bind(*field);
                    for v in batch {
                        q = q.bind(*v);
                    }
                    q.fetch_all(p).await
                })?;
                wanted.extend(found);
            }
        }
        wanted.sort_unstable();
        wanted.dedup();
        let mut out = Vec::with_capacity(wanted.len());
        for batch in wanted.chunks(BATCH) {
            let sql = positional(&format!(
                "SELECT record_id, field_values, version FROM object_records \
                 WHERE location_id = ? AND object = ? AND record_id IN ({}) ORDER BY record_id",
                qmarks(batch.len())
            ));
            let rows: Vec<(i64, String, i64)> = on_pool!(self, p => {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(location.0)
                    .bind(&object);
                for id in batch {
                    q = q.bind(*id);
                }
                q.fetch_all(p).await
            })?;
            for (id, values, version) in rows {
                out.push(parse(id, &values, version)?);
            }
        }
        Ok(out)
    }

    /// A page of the object's records by ascending id, after `after_id`.
    pub async fn records_page(
        &self,
        location: LocationId,
        object: &ObjectKind,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<StoredRecord>> {
        let rows: Vec<(i64, String, i64)> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT record_id, field_values, version FROM object_records \
                 WHERE location_id = $1 AND object = $2 AND record_id > $3 ORDER BY record_id LIMIT $4",
            )
            .bind(location.0)
            .bind(object.as_stored())
            .bind(after_id)
            .bind(limit)
            .fetch_all(p)
            .await
        })?;
        rows.into_iter()
            .map(|(id, v, version)| parse(id, &v, version))
            .collect()
    }

    /// How many records the object has in the location.
    pub async fn record_count(&self, location: LocationId, object: &ObjectKind) -> Result<i64> {
        Ok(on_pool!(self, p => {
            sqlx::query_scalar("SELECT COUNT(*) FROM object_records WHERE location_id = $1 AND object = $2")
                .bind(location.0)
                .bind(object.as_stored())
                .fetch_one(p)
                .await
        })?)
    }

    /// Applies one chunk of a records import in a single transaction: records created (their
    /// ids handed out) and updated, their unique values moved, the journal, the line results
    /// and the job's totals and checkpoint, fenced on `lease` as a contact chunk is; a pause
    /// or cancel asked meanwhile is settled with it. Returns every written record's id, in
    /// `chunk.records` order.
    ///
    /// Every statement writes (none reads first), so SQLite's deferred transaction takes the
    /// write lock at its first statement and never fails to upgrade a read.
    pub async fn apply_record_chunk(
        &self,
        lease: &Lease,
        chunk: &RecordChunkWrite,
    ) -> Result<(Vec<i64>, AfterChunk)> {
        let location = lease.location_id;
        let job_id = lease.job_id;
        let object = chunk
            .object
            .as_ref()
            .ok_or_else(|| StoreError::Invalid("a records chunk names its object".into()))?
            .as_stored();
        let lease_ms = self.lease_ms;
        let now = now_ms();
        let t = chunk.totals;
        let taken = |e: sqlx::Error| {
            conflict_on_unique(e, || {
                "another record took one of these unique values at the same time".to_string()
            })
        };
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            // Ids for the records this chunk creates, from the object's counter.
            let creates = chunk.records.iter().filter(|r| r.id.is_none()).count() as i64;
            let mut next_new = 0i64;
            if creates > 0 {
                let next: i64 = sqlx::query_scalar(
                    "INSERT INTO record_counters (location_id, object, next_id) VALUES ($1, $2, $3 + 1) \
                     ON CONFLICT (location_id, object) DO UPDATE SET next_id = record_counters.next_id + $3 \
                     RETURNING next_id",
                )
                .bind(location.0)
                .bind(&object)
                .bind(creates)
                .fetch_one(&mut *tx)
                .await?;
                next_new = next - creates;
            }
            let mut ids = Vec::with_capacity(chunk.records.len());
            let mut versions = Vec::with_capacity(chunk.records.len());
            for r in &chunk.records {
                let values = json(&r.values);
                match r.id {
                    None => {
                        let id = next_new;
                        next_new += 1;
                        sqlx::query(
                            "INSERT INTO object_records (location_id, object, record_id, primary_value, field_values, created_at, updated_at, version) \
                             VALUES ($1, $2, $3, $4, $5, $6, $6, 1)",
                        )
                        .bind(location.0)
                        .bind(&object)
                        .bind(id)
                        .bind(&r.primary)
                        .bind(&values)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        ids.push(id);
                        versions.push(1i64);
                    }
                    Some(id) => {
                        let version: Option<i64> = sqlx::query_scalar(
                            "UPDATE object_records SET primary_value = $4, field_values = $5, updated_at = $6, version = version + 1 \
                             WHERE location_id = $1 AND object = $2 AND record_id = $3 RETURNING version",
                        )
                        .bind(location.0)
                        .bind(&object)
                        .bind(id)
                        .bind(&r.primary)
                        .bind(&values)
                        .bind(now)
                        .fetch_optional(&mut *tx)
                        .await?;
                        // Deleted since the lookup (a revert meanwhile): decided again.
                        let version = version.ok_or_else(|| {
                            StoreError::Conflict(format!("record {id} was deleted meanwhile"))
                        })?;
                        ids.push(id);
                        versions.push(version);
                    }
                }
            }
            // Unique values: those a record gave up go first, then those it takes; a value
            // another record holds refuses the whole chunk.
            for (i, r) in chunk.records.iter().enumerate() {
                let after: HashSet<&(String, String)> = r.unique_after.iter().collect();
                let before: HashSet<&(String, String)> = r.unique_before.iter().collect();
                for (field, key) in before.difference(&after) {
                    sqlx::query(
                        "DELETE FROM record_unique_values WHERE location_id = $1 AND object = $2 \
                         AND field_key = $3 AND value_key = $4 AND record_id = $5",
                    )
                    .bind(location.0)
                    .bind(&object)
                    .bind(field)
                    .bind(key)
                    .bind(ids[i])
                    .execute(&mut *tx)
                    .await?;
                }
            }
            for (i, r) in chunk.records.iter().enumerate() {
                let before: HashSet<&(String, String)> = r.unique_before.iter().collect();
                for (field, key) in r.unique_after.iter().filter(|u| !before.contains(u)) {
                    sqlx::query(
                        "INSERT INTO record_unique_values (location_id, object, field_key, value_key, record_id) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(location.0)
                    .bind(&object)
                    .bind(field)
                    .bind(key)
                    .bind(ids[i])
                    .execute(&mut *tx)
                    .await
                    .map_err(taken)?;
                }
            }
            for (i, r) in chunk.records.iter().enumerate() {
                let action = if r.id.is_none() { "created" } else { "updated" };
                sqlx::query(
                    "INSERT INTO journal (location_id, job_id, line, entity, entity_id, action, before_values, after_values, version_after, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(location.0)
                .bind(job_id)
                .bind(r.line as i64)
                .bind(&object)
                .bind(ids[i])
                .bind(action)
                .bind(r.before.as_ref().map(json))
                .bind(r.before.as_ref().map(|_| json(&r.values)))
                .bind(versions[i])
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            for l in &chunk.lines {
                let record = l.record.map(|r| match r {
                    RecordRef::Id(id) => id,
                    RecordRef::Written(i) => ids[i],
                });
                sqlx::query(
                    "INSERT INTO job_lines (job_id, line, status, action, record_id, primary_value, messages, cells) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(job_id)
                .bind(l.line as i64)
                .bind(l.status.as_str())
                .bind(l.action.as_str())
                .bind(record)
                .bind(l.primary.clone())
                .bind(l.messages.clone())
                .bind(l.cells.clone())
                .execute(&mut *tx)
                .await?;
            }
            // The checkpoint last, fenced on the lease, as a contact chunk's.
            let after = crate::import::checkpoint_chunk!(
                tx,
                job_id,
                location,
                t,
                chunk.checkpoint_line,
                lease,
                lease_ms,
                now
            );
            crate::failpoint::hit("chunk_before_commit");
            tx.commit().await?;
            crate::failpoint::hit("chunk_after_commit");
            if after != AfterChunk::Running {
                crate::failpoint::hit("settle_after_commit");
            }
            Ok((ids, after))
        })
    }
}

impl Store {
    /// What a records import already did, from its line log and journal: (record id, its latest
    /// line, whether the job created it) — what a resumed run starts from.
    pub async fn records_touched(
        &self,
        location: LocationId,
        job_id: i64,
        object: &ObjectKind,
    ) -> Result<Vec<(i64, i64, bool)>> {
        let rows: Vec<(i64, i64, i64)> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT l.record_id, MAX(l.line),                  (SELECT COUNT(*) FROM journal jn WHERE jn.location_id = $1 AND jn.job_id = $2                   AND jn.entity = $3 AND jn.entity_id = l.record_id AND jn.action = 'created')                  FROM job_lines l JOIN jobs jb ON jb.id = l.job_id                  WHERE jb.location_id = $1 AND l.job_id = $2 AND l.action IN ('created', 'updated')                  GROUP BY l.record_id",
            )
            .bind(location.0)
            .bind(job_id)
            .bind(object.as_stored())
            .fetch_all(p)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(id, line, created)| (id, line, created > 0))
            .collect())
    }

    /// Reverts a records import (SPEC §9.4, §8), in one transaction, at most once, as
    /// [`Store::revert_import`] reverts a contacts import (which calls this for a job of
    /// another object): records it created are deleted, records it updated get back their
    /// values before it with their unique values; a record changed since (its version moved)
    /// or whose earlier unique value another record holds now is left alone and reported.
    /// The report's `contact_id`s are record ids.
    pub(crate) async fn revert_records(
        &self,
        location: LocationId,
        job_id: i64,
        object: &ObjectKind,
    ) -> Result<crate::RevertReport> {
        let schema = self.object_schema(location, object).await?;
        let object = object.as_stored();
        let now = now_ms();
        let mut report = crate::RevertReport {
            job_id,
            ..crate::RevertReport::default()
        };
        let conflict = |id: i64, line: i64, reason: String| crate::RevertConflict {
            contact_id: id,
            line: line as u64,
            reason,
        };
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let claimed = sqlx::query(
                "UPDATE jobs SET reverted_at = $3 WHERE id = $1 AND location_id = $2 AND operation = 'import'                  AND status IN ('completed', 'cancelled') AND reverted_at IS NULL",
            )
            .bind(job_id)
            .bind(location.0)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed == 0 {
                let row: Option<(String, String, Option<i64>)> =
                    sqlx::query_as("SELECT operation, status, reverted_at FROM jobs WHERE id = $1 AND location_id = $2")
                        .bind(job_id)
                        .bind(location.0)
                        .fetch_optional(&mut *tx)
                        .await?;
                tx.rollback().await?;
                return Err(crate::revert::refusal(job_id, row));
            }
            // Per record: the first journal row (line, action, values before) and the last
            // one's version, most recently changed first.
            let rows: Vec<(i64, i64, String, Option<String>, i64)> = sqlx::query_as(
                "SELECT f.entity_id, f.line, f.action, f.before_values, l.version_after                  FROM (SELECT entity_id, MIN(id) AS first_id, MAX(id) AS last_id FROM journal                        WHERE location_id = $1 AND job_id = $2 AND entity = $3 GROUP BY entity_id) g                  JOIN journal f ON f.id = g.first_id JOIN journal l ON l.id = g.last_id                  ORDER BY g.last_id DESC",
            )
            .bind(location.0)
            .bind(job_id)
            .bind(&object)
            .fetch_all(&mut *tx)
            .await?;
            let mut restores = Vec::new();
            // Deleting first frees the unique values the job's new records hold.
            for (id, line, action, before, version_after) in rows {
                let version_now: Option<i64> = sqlx::query_scalar(
                    "SELECT version FROM object_records WHERE location_id = $1 AND object = $2 AND record_id = $3",
                )
                .bind(location.0)
                .bind(&object)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                let why = domain::revert::conflict(domain::revert::Written {
                    version_now,
                    version_after,
                    workflow_ran: None,
                });
                if let Some(why) = why {
                    report.conflicts.push(conflict(id, line, why));
                    continue;
                }
                if action != "created" {
                    restores.push((id, line, before, version_after));
                    continue;
                }
                sqlx::query("DELETE FROM object_records WHERE location_id = $1 AND object = $2 AND record_id = $3")
                    .bind(location.0)
                    .bind(&object)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM record_unique_values WHERE location_id = $1 AND object = $2 AND record_id = $3")
                    .bind(location.0)
                    .bind(&object)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                report.deleted.push(id);
            }
            for (id, line, before, version_after) in restores {
                let raw = before.ok_or_else(|| {
                    StoreError::Corrupt(format!("journal of job {job_id}: no values before the update of record {id}"))
                })?;
                let before: BTreeMap<String, String> = serde_json::from_str(&raw)
                    .map_err(|e| StoreError::Corrupt(format!("journal of job {job_id}, record {id}: {e}")))?;
                let keys: Vec<(String, String)> = schema
                    .unique()
                    .filter_map(|f| {
                        let v = before.get(&f.key)?;
                        Some((f.key.clone(), domain::object::unique_value_key(f.kind, v)))
                    })
                    .collect();
                let mut holder = None;
                for (field, key) in &keys {
                    let h: Option<i64> = sqlx::query_scalar(
                        "SELECT record_id FROM record_unique_values WHERE location_id = $1 AND object = $2                          AND field_key = $3 AND value_key = $4 AND record_id <> $5",
                    )
                    .bind(location.0)
                    .bind(&object)
                    .bind(field)
                    .bind(key)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if let Some(h) = h {
                        holder = Some((field.clone(), h));
                        break;
                    }
                }
                if let Some((field, h)) = holder {
                    let label = schema.label(&field).unwrap_or(&field).to_string();
                    report.conflicts.push(conflict(
                        id,
                        line,
                        format!("its {label} before the import now belongs to record {h}"),
                    ));
                    continue;
                }
                let primary = schema
                    .primary
                    .as_deref()
                    .and_then(|k| before.get(k))
                    .cloned()
                    .unwrap_or_default();
                sqlx::query(
                    "UPDATE object_records SET field_values = $5, primary_value = $6, updated_at = $7, version = version + 1                      WHERE location_id = $1 AND object = $2 AND record_id = $3 AND version = $4",
                )
                .bind(location.0)
                .bind(&object)
                .bind(id)
                .bind(version_after)
                .bind(json(&before))
                .bind(primary)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM record_unique_values WHERE location_id = $1 AND object = $2 AND record_id = $3")
                    .bind(location.0)
                    .bind(&object)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                for (field, key) in &keys {
                    sqlx::query(
                        "INSERT INTO record_unique_values (location_id, object, field_key, value_key, record_id)                          VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(location.0)
                    .bind(&object)
                    .bind(field)
                    .bind(key)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                }
                report.restored.push(id);
            }
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        report.deleted.sort_unstable();
        report.restored.sort_unstable();
        Ok(report)
    }
}

#[cfg(test)]
mod tests;

//! The import wizard's drafts (SPEC §6.1) and the stored files they point at.
//!
//! A file is kept in the file store under a generated name (`stored_name`); the name the user
//! gave it (`original_name`) is display data only and never becomes a path. A draft holds the
//! wizard's choices as JSON, which this module stores without reading: deciding is the `jobs`
//! crate's business. Submitting a draft creates its job in the same transaction that records
//! it on the draft, so a draft never has two jobs, and an `Idempotency-Key` (SPEC §9.6) — the
//! unique `(location_id, idempotency_key)` of `jobs` — names one job per location for good.

use std::collections::HashMap;

use crate::files::StoredFile;
use crate::jobs::NewJob;
use crate::{LocationId, Result, Store, StoreError, UserId, now_ms, on_pool};

/// An upload on its way to becoming an import job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportDraft {
    pub id: i64,
    pub location_id: LocationId,
    pub created_by: Option<UserId>,
    pub file: StoredFile,
    /// The wizard's choices so far, as JSON (see `jobs::wizard`).
    pub settings: String,
    /// The job submitting created, once submitted.
    pub job_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A job's details that the Bulk Actions pages show beside [`crate::Job`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobExtras {
    /// The name of the user who started it.
    pub created_by: Option<String>,
    /// When it was reverted (SPEC §9.4).
    pub reverted_at: Option<i64>,
}

/// A draft's own columns.
type DraftRow = (i64, Option<i64>, String, Option<i64>, i64, i64, i64);

/// How long an upload whose draft is never submitted is kept (SPEC §13.2).
pub const DRAFT_DAYS: i64 = 7;

impl Store {
    /// Records a file of the location kept in the file store under `stored_name`.
    pub async fn create_file(
        &self,
        location: LocationId,
        kind: &str,
        original_name: &str,
        stored_name: &str,
        size_bytes: i64,
    ) -> Result<StoredFile> {
        let now = now_ms();
        let id: i64 = on_pool!(self, p => {
            sqlx::query_scalar(
                "INSERT INTO files (location_id, kind, original_name, stored_name, size_bytes, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(location.0)
            .bind(kind)
            .bind(original_name)
            .bind(stored_name)
            .bind(size_bytes)
            .bind(now)
            .fetch_one(p)
            .await
        })?;
        Ok(StoredFile {
            id,
            location_id: location,
            job_id: None,
            kind: kind.to_string(),
            stored_name: stored_name.to_string(),
            download_name: original_name.to_string(),
            size_bytes,
            created_at: now,
            expires_at: None,
            deleted_at: None,
        })
    }

    /// A file of the location; another location's file is not found.
    pub async fn stored_file(&self, location: LocationId, id: i64) -> Result<StoredFile> {
        self.file_by_id(location, id)
            .await?
            .filter(|f| f.deleted_at.is_none())
            .ok_or_else(|| StoreError::not_found(format!("file {id}")))
    }

    /// Starts a draft over an uploaded file of the location.
    pub async fn create_import_draft(
        &self,
        location: LocationId,
        created_by: Option<UserId>,
        file_id: i64,
        settings: &str,
    ) -> Result<i64> {
        // The file must be the location's own.
        self.stored_file(location, file_id).await?;
        let now = now_ms();
        Ok(on_pool!(self, p => async {
            let mut tx = p.begin().await?;
            // Never submitted, the upload and its draft go after DRAFT_DAYS (SPEC §13.2);
            // submitting it takes the expiry off ([`Store::submit_import_draft`]).
            sqlx::query("UPDATE files SET expires_at = $3 WHERE id = $1 AND location_id = $2")
                .bind(file_id)
                .bind(location.0)
                .bind(now + DRAFT_DAYS * 24 * 3600 * 1000)
                .execute(&mut *tx)
                .await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO import_drafts (location_id, created_by, file_id, settings, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
            )
            .bind(location.0)
            .bind(created_by.map(|u| u.0))
            .bind(file_id)
            .bind(settings)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(id)
        }.await)?)
    }

    /// Deletes the drafts never submitted whose upload was swept (SPEC §13.2), across
    /// locations (the operator's sweep). Returns how many went.
    pub async fn delete_swept_drafts(&self) -> Result<u64> {
        Ok(on_pool!(self, p => {
            sqlx::query(
                "DELETE FROM import_drafts WHERE job_id IS NULL AND file_id IN \
                 (SELECT id FROM files WHERE deleted_at IS NOT NULL AND kind = 'upload')",
            )
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?)
    }

    /// A draft of the location, with its file; another location's draft is not found.
    pub async fn import_draft(&self, location: LocationId, id: i64) -> Result<ImportDraft> {
        let row: Option<DraftRow> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT id, created_by, settings, job_id, created_at, updated_at, file_id \
                 FROM import_drafts WHERE id = $1 AND location_id = $2",
            )
            .bind(id)
            .bind(location.0)
            .fetch_optional(p)
            .await
        })?;
        let (id, created_by, settings, job_id, created_at, updated_at, file_id) =
            row.ok_or_else(|| StoreError::not_found(format!("import draft {id}")))?;
        let file = self
            .file_by_id(location, file_id)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("file {file_id}")))?;
        Ok(ImportDraft {
            id,
            location_id: location,
            created_by: created_by.map(UserId),
            file,
            settings,
            job_id,
            created_at,
            updated_at,
        })
    }

    /// Saves a draft's choices. A submitted draft is a conflict: its job has started.
    pub async fn update_import_draft(
        &self,
        location: LocationId,
        id: i64,
        settings: &str,
    ) -> Result<()> {
        let done = on_pool!(self, p => {
            sqlx::query(
                "UPDATE import_drafts SET settings = $3, updated_at = $4 \
                 WHERE id = $1 AND location_id = $2 AND job_id IS NULL",
            )
            .bind(id)
            .bind(location.0)
            .bind(settings)
            .bind(now_ms())
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        if done == 0 {
            let draft = self.import_draft(location, id).await?;
            if let Some(job) = draft.job_id {
                return Err(StoreError::Conflict(format!(
                    "this import was submitted already (Bulk Action {job}); start a new import to change it"
                )));
            }
        }
        Ok(())
    }

    /// The job of the location that a submit with this `Idempotency-Key` created, if any.
    pub async fn job_by_idempotency_key(
        &self,
        location: LocationId,
        key: &str,
    ) -> Result<Option<i64>> {
        Ok(on_pool!(self, p => {
            sqlx::query_scalar("SELECT id FROM jobs WHERE location_id = $1 AND idempotency_key = $2")
                .bind(location.0)
                .bind(key)
                .fetch_optional(p)
                .await
        })?)
    }

    /// Submits a draft (SPEC §6.1, §9.6): creates its job, queued for a worker (`lease_owner`
    /// is ignored), and records it on the draft, in one transaction. Returns the job and
    /// whether this call created it: a draft submitted already, or an `idempotency_key` the
    /// location used already, returns the job made then.
    pub async fn submit_import_draft(
        &self,
        location: LocationId,
        draft_id: i64,
        job: &NewJob,
        idempotency_key: Option<&str>,
    ) -> Result<(i64, bool)> {
        let now = now_ms();
        // An async block, so that `?` ends the attempt (rolling the transaction back) rather
        // than the function: a unique violation is answered below.
        let outcome: std::result::Result<Option<(i64, bool)>, sqlx::Error> = on_pool!(self, p => async {
            let mut tx = p.begin().await?;
            // Writing the draft first takes its lock, so two submits of one draft run in turn.
            let file_id: Option<i64> = sqlx::query_scalar(
                "UPDATE import_drafts SET updated_at = $3 WHERE id = $1 AND location_id = $2 RETURNING file_id",
            )
            .bind(draft_id)
            .bind(location.0)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            match file_id {
                None => Ok(None),
                Some(file_id) => {
            let existing: Option<i64> = sqlx::query_scalar(
                "SELECT job_id FROM import_drafts WHERE id = $1 AND location_id = $2",
            )
            .bind(draft_id)
            .bind(location.0)
            .fetch_one(&mut *tx)
            .await?;
            let keyed: Option<i64> = match idempotency_key {
                Some(key) => {
                    sqlx::query_scalar("SELECT id FROM jobs WHERE location_id = $1 AND idempotency_key = $2")
                        .bind(location.0)
                        .bind(key)
                        .fetch_optional(&mut *tx)
                        .await?
                }
                None => None,
            };
            match keyed.or(existing) {
                Some(id) => {
                    tx.rollback().await?;
                    Ok(Some((id, false)))
                }
                None => {
                    let inserted: std::result::Result<i64, sqlx::Error> = sqlx::query_scalar(
                        "INSERT INTO jobs (location_id, operation, object, name, status, file_id, file_name, options, \
                         idempotency_key, total, created_by, created_at) \
                         VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                    )
                    .bind(location.0)
                    .bind(job.operation.as_str())
                    .bind(job.object.as_stored())
                    .bind(&job.name)
                    .bind(file_id)
                    .bind(&job.file_name)
                    .bind(&job.options)
                    .bind(idempotency_key)
                    .bind(job.total)
                    .bind(job.created_by.map(|u| u.0))
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await;
                    let id = inserted?;
                    sqlx::query("UPDATE import_drafts SET job_id = $3 WHERE id = $1 AND location_id = $2")
                        .bind(draft_id)
                        .bind(location.0)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    // The job reads its upload for as long as it may be resumed.
                    sqlx::query("UPDATE files SET expires_at = NULL WHERE id = $1 AND location_id = $2")
                        .bind(file_id)
                        .bind(location.0)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(Some((id, true)))
                }
            }
                }
            }
        }.await);
        match outcome {
            Ok(Some(done)) => Ok(done),
            Ok(None) => Err(StoreError::not_found(format!("import draft {draft_id}"))),
            // Another submit with the same key committed between our look-up and our insert.
            Err(e)
                if idempotency_key.is_some()
                    && e.as_database_error()
                        .is_some_and(|d| d.is_unique_violation()) =>
            {
                let key = idempotency_key.unwrap_or_default();
                match self.job_by_idempotency_key(location, key).await? {
                    Some(id) => Ok((id, false)),
                    None => Err(StoreError::Database(e)),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Who started each of the location's jobs, and when a job was reverted: what the Bulk
    /// Actions pages show beside each [`crate::Job`].
    pub async fn job_extras(&self, location: LocationId) -> Result<HashMap<i64, JobExtras>> {
        let rows: Vec<(i64, Option<String>, Option<i64>)> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT j.id, u.name, j.reverted_at FROM jobs j LEFT JOIN users u ON u.id = j.created_by \
                 WHERE j.location_id = $1",
            )
            .bind(location.0)
            .fetch_all(p)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(id, created_by, reverted_at)| {
                (
                    id,
                    JobExtras {
                        created_by,
                        reverted_at,
                    },
                )
            })
            .collect())
    }
}

#[cfg(test)]
mod tests;

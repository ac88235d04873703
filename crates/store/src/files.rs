//! Stored files (exports; later uploads and error logs): a row per file in the file store
//! `data-dir/files/`, under a generated `stored_name` — never a name a user gave — with the
//! name a download gives it, its size, the job that made it and when it expires (SPEC §10:
//! 30 days for an export). The row is written in the same transaction as the job's
//! completion, so a file without a row (a run killed between its rename and its commit) is
//! never downloadable.
//!
//! A download looks its file up by job and location ([`Store::job_file`]); the periodic sweep
//! ([`Store::expired_files`], then [`Store::mark_file_deleted`] once the file is gone from
//! disk) is the operator's, across locations.

use crate::claims::{Lease, lease_lost};
use crate::{LocationId, Result, Store, StoreError, UserId, now_ms, on_pool};

/// A file a job wrote, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    /// `export` (the only kind written so far; `upload` and `error_log` are allowed).
    pub kind: &'static str,
    /// The generated name in the file store.
    pub stored_name: String,
    /// The name a download gives it.
    pub download_name: String,
    pub size_bytes: i64,
    pub expires_at: Option<i64>,
}

/// A recorded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    pub id: i64,
    pub location_id: LocationId,
    pub job_id: Option<i64>,
    pub kind: String,
    pub stored_name: String,
    pub download_name: String,
    pub size_bytes: i64,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub deleted_at: Option<i64>,
}

impl StoredFile {
    /// Whether the file may still be downloaded at `now`: not deleted, not expired.
    pub fn is_available(&self, now: i64) -> bool {
        self.deleted_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

type FileRow = (
    i64,
    i64,
    Option<i64>,
    String,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
);

const SELECT: &str = "SELECT f.id, f.location_id, f.job_id, f.kind, f.stored_name, f.original_name, \
                      f.size_bytes, f.created_at, f.expires_at, f.deleted_at FROM files f";

fn from_row(r: FileRow) -> StoredFile {
    let (
        id,
        location,
        job_id,
        kind,
        stored_name,
        download_name,
        size_bytes,
        created_at,
        expires_at,
        deleted_at,
    ) = r;
    StoredFile {
        id,
        location_id: LocationId(location),
        job_id,
        kind,
        stored_name,
        download_name,
        size_bytes,
        created_at,
        expires_at,
        deleted_at,
    }
}

/// Whether a stored name is one the store generates: letters, digits, `-`, `_` and `.`, not
/// starting with a dot — so joining it to the file store's directory never leaves it.
pub fn is_generated_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl Store {
    /// A file of the location by id, deleted or not; another location's is `None`.
    pub(crate) async fn file_by_id(
        &self,
        location: LocationId,
        id: i64,
    ) -> Result<Option<StoredFile>> {
        let sql = format!("{SELECT} WHERE f.id = $1 AND f.location_id = $2");
        let row: Option<FileRow> = on_pool!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(id)
                .bind(location.0)
                .fetch_optional(p)
                .await
        })?;
        Ok(row.map(from_row))
    }

    /// The file a job of the location produced, if any. A job of another location (or none)
    /// is not found.
    pub async fn job_file(&self, location: LocationId, job: i64) -> Result<Option<StoredFile>> {
        let sql = format!(
            "{SELECT} JOIN jobs j ON j.id = f.job_id WHERE j.id = $1 AND j.location_id = $2 \
             AND f.location_id = $2 ORDER BY f.id DESC LIMIT 1"
        );
        let (exists, row): (Option<i64>, Option<FileRow>) = on_pool!(self, p => {
            let exists = sqlx::query_scalar("SELECT id FROM jobs WHERE id = $1 AND location_id = $2")
                .bind(job)
                .bind(location.0)
                .fetch_optional(p)
                .await?;
            let row = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(job)
                .bind(location.0)
                .fetch_optional(p)
                .await?;
            Ok::<_, StoreError>((exists, row))
        })?;
        if exists.is_none() {
            return Err(StoreError::not_found(format!("job {job}")));
        }
        Ok(row.map(from_row))
    }

    /// Files of every location that expired by `now` and are still on disk, oldest first, at
    /// most `limit`: for the operator's sweep.
    pub async fn expired_files(&self, now: i64, limit: i64) -> Result<Vec<StoredFile>> {
        let sql = format!(
            "{SELECT} WHERE f.deleted_at IS NULL AND f.expires_at <= $1 ORDER BY f.expires_at, f.id LIMIT $2"
        );
        let rows: Vec<FileRow> = on_pool!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(now).bind(limit).fetch_all(p).await
        })?;
        Ok(rows.into_iter().map(from_row).collect())
    }

    /// Records that a file of the location was deleted from disk (idempotent).
    pub async fn mark_file_deleted(&self, location: LocationId, file: i64, at: i64) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("UPDATE files SET deleted_at = $3 WHERE id = $1 AND location_id = $2 AND deleted_at IS NULL")
                .bind(file)
                .bind(location.0)
                .bind(at)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Every stored name recorded for a job of the location: what a restarted export must
    /// not delete when it clears what an interrupted run left.
    pub async fn job_stored_names(&self, location: LocationId, job: i64) -> Result<Vec<String>> {
        Ok(on_pool!(self, p => {
            sqlx::query_scalar("SELECT stored_name FROM files WHERE location_id = $1 AND job_id = $2")
                .bind(location.0)
                .bind(job)
                .fetch_all(p)
                .await
        })?)
    }

    /// Ends the export this lease runs (SPEC §10), in ONE transaction: the job completed with
    /// its count, the file recorded and linked to the job, and a notification ("your export
    /// is ready") for whoever started it — or, without one (the CLI, a schedule), for the
    /// location's admins. Fails, writing nothing, when the lease was lost. Returns the file's
    /// id.
    pub async fn complete_export(
        &self,
        lease: &Lease,
        file: &NewFile,
        rows: i64,
        notification: &str,
    ) -> Result<i64> {
        let now = now_ms();
        let (location, job) = (lease.location_id, lease.job_id);
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let created_by: Option<Option<i64>> = sqlx::query_scalar(
                "UPDATE jobs SET status = 'completed', status_reason = NULL, requested = NULL, processed = $4, total = $4, \
                 finished_at = $5, lease_owner = NULL, lease_expires_at = NULL \
                 WHERE id = $1 AND location_id = $2 AND status = 'running' AND lease_owner = $3 RETURNING created_by",
            )
            .bind(job)
            .bind(location.0)
            .bind(&lease.owner)
            .bind(rows)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(created_by) = created_by else {
                return Err(lease_lost(job));
            };
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO files (location_id, job_id, kind, original_name, stored_name, size_bytes, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(location.0)
            .bind(job)
            .bind(file.kind)
            .bind(&file.download_name)
            .bind(&file.stored_name)
            .bind(file.size_bytes)
            .bind(now)
            .bind(file.expires_at)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query("UPDATE jobs SET result_file_id = $3 WHERE id = $1 AND location_id = $2")
                .bind(job)
                .bind(location.0)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO notifications (location_id, user_id, kind, message, link, job_id, created_at) \
                 VALUES ($1, $2, 'export_ready', $3, $4, $5, $6)",
            )
            .bind(location.0)
            .bind(created_by)
            .bind(notification)
            .bind(format!("/bulk-actions/{job}"))
            .bind(job)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(id)
        })
    }
}

/// A notice for the people of a location (SPEC §10: "the user gets a notification when the
/// file is ready").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: i64,
    pub location_id: LocationId,
    /// `None`: for every admin of the location.
    pub user_id: Option<UserId>,
    /// `export_ready`, …
    pub kind: String,
    pub text: String,
    /// Where the notice leads (the job's Bulk Actions page).
    pub link: Option<String>,
    pub job_id: Option<i64>,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

type NotificationRow = (
    i64,
    i64,
    Option<i64>,
    String,
    String,
    Option<String>,
    Option<i64>,
    i64,
    Option<i64>,
);

impl Store {
    /// A user's notifications in a location, newest first, at most `limit`: their own and the
    /// location-wide ones. `unread_only` leaves out those marked read.
    pub async fn notifications(
        &self,
        location: LocationId,
        user: UserId,
        unread_only: bool,
        limit: i64,
    ) -> Result<Vec<Notification>> {
        let unread = if unread_only {
            " AND read_at IS NULL"
        } else {
            ""
        };
        let sql = format!(
            "SELECT id, location_id, user_id, kind, message, link, job_id, created_at, read_at FROM notifications \
             WHERE location_id = $1 AND (user_id = $2 OR user_id IS NULL){unread} ORDER BY id DESC LIMIT $3"
        );
        let rows: Vec<NotificationRow> = on_pool!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(location.0)
                .bind(user.0)
                .bind(limit)
                .fetch_all(p)
                .await
        })?;
        Ok(rows
            .into_iter()
            .map(
                |(id, loc, user_id, kind, text, link, job_id, created_at, read_at)| Notification {
                    id,
                    location_id: LocationId(loc),
                    user_id: user_id.map(UserId),
                    kind,
                    text,
                    link,
                    job_id,
                    created_at,
                    read_at,
                },
            )
            .collect())
    }

    /// Marks one of a user's notifications in a location read (a location-wide one is read
    /// for everyone). Another user's notice, or another location's, is not found.
    pub async fn mark_notification_read(
        &self,
        location: LocationId,
        user: UserId,
        id: i64,
    ) -> Result<()> {
        let n = on_pool!(self, p => {
            sqlx::query(
                "UPDATE notifications SET read_at = COALESCE(read_at, $4) \
                 WHERE id = $1 AND location_id = $2 AND (user_id = $3 OR user_id IS NULL)",
            )
            .bind(id)
            .bind(location.0)
            .bind(user.0)
            .bind(now_ms())
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        if n == 0 {
            return Err(StoreError::not_found(format!("notification {id}")));
        }
        Ok(())
    }
}

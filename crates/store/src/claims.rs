//! The claim protocol of SPEC §9.7, one on both backends: a job is run by the process that
//! holds its lease (`lease_owner`, `lease_expires_at`), renewed by a heartbeat and with every
//! chunk it commits; another process takes a job over only once the lease has lapsed. Every chunk's commit is
//! fenced on the lease, so a process that lost its lease can never write a line twice.
//! Pause and cancel are requests the runner settles at its next checkpoint, in the same
//! transaction, or transitions made at once when nobody runs the job.

use domain::job::{JobRequest, JobStatus};

use crate::{LocationId, Result, Store, StoreError, now_ms, on_pool};

/// How long a lease lasts without a heartbeat, unless `AESTHETIX_LEASE_MS` says otherwise
/// (see [`Store::lease_ms`]).
pub const DEFAULT_LEASE_MS: i64 = 30_000;

/// A lease on a job: who holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub job_id: i64,
    pub location_id: LocationId,
    pub owner: String,
}

/// What a pause or cancel request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requested {
    /// The job was not running: it is now in the new status.
    Done,
    /// The running process will stop at its next checkpoint.
    AtNextCheckpoint,
    /// It was in that state already.
    Already,
}

/// A job's state after a chunk: still running, or stopped by a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterChunk {
    Running,
    Paused,
    Cancelled,
}

/// Why a runner must stop writing.
pub fn lease_lost(job: i64) -> StoreError {
    StoreError::LeaseLost(job)
}

impl Store {
    /// Claims a job of the location for `owner` (SPEC §9.7): one that is queued, or running
    /// under a lapsed lease. `None` when it is not claimable (another live process runs it,
    /// or it is paused or finished).
    /// `dead_owner` names a holder known to have died (a process of this host that no longer
    /// runs): its lease is taken over at once.
    pub async fn claim_job(
        &self,
        location: LocationId,
        job_id: i64,
        owner: &str,
        dead_owner: Option<&str>,
    ) -> Result<Option<Lease>> {
        let now = now_ms();
        let lease_ms = self.lease_ms;
        let claimed: Option<i64> = on_pool!(self, p => {
            sqlx::query_scalar(
                "UPDATE jobs SET status = 'running', lease_owner = $3, lease_expires_at = $4, \
                 started_at = COALESCE(started_at, $5) \
                 WHERE id = $1 AND location_id = $2 AND operation IN ('import', 'export') AND (status = 'queued' \
                 OR (status = 'running' AND (lease_owner IS NULL OR lease_expires_at < $5 OR lease_owner = $3 OR lease_owner = $6))) \
                 RETURNING id",
            )
            .bind(job_id)
            .bind(location.0)
            .bind(owner)
            .bind(now + lease_ms)
            .bind(now)
            .bind(dead_owner)
            .fetch_optional(p)
            .await
        })?;
        Ok(claimed.map(|id| Lease {
            job_id: id,
            location_id: location,
            owner: owner.to_string(),
        }))
    }

    /// Claims the oldest claimable job (import or export) of any location, for a worker. On PostgreSQL the
    /// candidate row is locked with `FOR UPDATE SKIP LOCKED`, so workers never wait on each
    /// other; on SQLite the single write lock does the same.
    pub async fn claim_next_job(&self, owner: &str) -> Result<Option<Lease>> {
        let now = now_ms();
        const CLAIMABLE: &str = "operation IN ('import', 'export') AND (status = 'queued' OR (status = 'running' AND \
                                 (lease_owner IS NULL OR lease_expires_at < $3)))";
        let row: Option<(i64, i64)> = match &self.db {
            crate::Db::Sqlite(p) => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "UPDATE jobs SET status = 'running', lease_owner = $1, lease_expires_at = $2, started_at = COALESCE(started_at, $3) \
                     WHERE id = (SELECT id FROM jobs WHERE {CLAIMABLE} ORDER BY id LIMIT 1) RETURNING id, location_id"
                )))
                .bind(owner)
                .bind(now + self.lease_ms)
                .bind(now)
                .fetch_optional(p)
                .await?
            }
            crate::Db::Postgres(p) => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "UPDATE jobs SET status = 'running', lease_owner = $1, lease_expires_at = $2, started_at = COALESCE(started_at, $3) \
                     WHERE id = (SELECT id FROM jobs WHERE {CLAIMABLE} ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) \
                     RETURNING id, location_id"
                )))
                .bind(owner)
                .bind(now + self.lease_ms)
                .bind(now)
                .fetch_optional(p)
                .await?
            }
        };
        Ok(row.map(|(id, loc)| Lease {
            job_id: id,
            location_id: LocationId(loc),
            owner: owner.to_string(),
        }))
    }

    /// Every running job (import or export) with its location and lease holder: for a worker looking for
    /// jobs whose runner died (the operator's view, across locations).
    pub async fn running_jobs(&self) -> Result<Vec<(i64, LocationId, Option<String>)>> {
        let rows: Vec<(i64, i64, Option<String>)> = on_pool!(self, p => {
            sqlx::query_as("SELECT id, location_id, lease_owner FROM jobs WHERE status = 'running' AND operation IN ('import', 'export') ORDER BY id")
                .fetch_all(p)
                .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(id, loc, owner)| (id, LocationId(loc), owner))
            .collect())
    }

    /// Ends the job this lease runs with a final status, releasing the lease. Fails when the
    /// lease was lost.
    pub async fn finish_leased_job(
        &self,
        lease: &Lease,
        status: JobStatus,
        reason: Option<&str>,
    ) -> Result<()> {
        let done = on_pool!(self, p => {
            sqlx::query(
                "UPDATE jobs SET status = $4, status_reason = $5, finished_at = $6, lease_owner = NULL, lease_expires_at = NULL, \
                 requested = NULL WHERE id = $1 AND location_id = $2 AND lease_owner = $3",
            )
            .bind(lease.job_id)
            .bind(lease.location_id.0)
            .bind(&lease.owner)
            .bind(status.as_str())
            .bind(reason)
            .bind(now_ms())
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        if done == 0 {
            return Err(lease_lost(lease.job_id));
        }
        Ok(())
    }

    /// Renews this process's lease on a job: the heartbeat of SPEC §9.7, which keeps a live
    /// job's lease while a chunk, a slow read or a wait takes longer than the lease. `false`
    /// when the lease is no longer this process's (it lapsed and another took the job over, or
    /// the job was paused or cancelled while nobody held it).
    pub async fn renew_lease(&self, lease: &Lease) -> Result<bool> {
        let renewed = on_pool!(self, p => {
            sqlx::query("UPDATE jobs SET lease_expires_at = $4 WHERE id = $1 AND location_id = $2 AND lease_owner = $3 AND status = 'running'")
                .bind(lease.job_id)
                .bind(lease.location_id.0)
                .bind(&lease.owner)
                .bind(now_ms() + self.lease_ms)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(renewed > 0)
    }

    /// Pauses the job this lease runs, with why (SPEC §9.6: "disk full"), releasing the lease;
    /// `jobs resume` continues it from its checkpoint. Fails when the lease was lost.
    pub async fn pause_leased_job(&self, lease: &Lease, reason: &str) -> Result<()> {
        let done = on_pool!(self, p => {
            sqlx::query(
                "UPDATE jobs SET status = 'paused', status_reason = $4, requested = NULL, lease_owner = NULL, \
                 lease_expires_at = NULL WHERE id = $1 AND location_id = $2 AND lease_owner = $3 AND status = 'running'",
            )
            .bind(lease.job_id)
            .bind(lease.location_id.0)
            .bind(&lease.owner)
            .bind(reason)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        if done == 0 {
            return Err(lease_lost(lease.job_id));
        }
        Ok(())
    }

    /// Settles a pause or cancel that was requested of a job whose runner stopped before its
    /// next checkpoint (SPEC §9.4: a request is never lost): called right after claiming it,
    /// before anything runs. `Running` when nothing was requested and the job is this
    /// process's to run.
    pub async fn settle_request(&self, lease: &Lease) -> Result<AfterChunk> {
        let now = now_ms();
        let settled: Option<String> = on_pool!(self, p => {
            sqlx::query_scalar(
                "UPDATE jobs SET status = CASE requested WHEN 'pause' THEN 'paused' ELSE 'cancelled' END, \
                 finished_at = CASE requested WHEN 'pause' THEN NULL ELSE $4 END, requested = NULL, \
                 lease_owner = NULL, lease_expires_at = NULL \
                 WHERE id = $1 AND location_id = $2 AND lease_owner = $3 AND status = 'running' AND requested IS NOT NULL \
                 RETURNING status",
            )
            .bind(lease.job_id)
            .bind(lease.location_id.0)
            .bind(&lease.owner)
            .bind(now)
            .fetch_optional(p)
            .await
        })?;
        Ok(match settled.as_deref() {
            Some("paused") => AfterChunk::Paused,
            Some(_) => AfterChunk::Cancelled,
            None => AfterChunk::Running,
        })
    }

    /// Records why a leased job is waiting (e.g. the database went away), keeping the lease.
    pub async fn set_job_reason(&self, lease: &Lease, reason: Option<&str>) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("UPDATE jobs SET status_reason = $4, lease_expires_at = $5 WHERE id = $1 AND location_id = $2 AND lease_owner = $3")
                .bind(lease.job_id)
                .bind(lease.location_id.0)
                .bind(&lease.owner)
                .bind(reason)
                .bind(now_ms() + self.lease_ms)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Asks a job to pause (SPEC §9.4): a running job stops at its next checkpoint; a queued
    /// one, or one whose runner died, is paused at once. Idempotent.
    pub async fn request_pause(&self, location: LocationId, job_id: i64) -> Result<Requested> {
        self.request(location, job_id, JobRequest::Pause).await
    }

    /// Asks a job to stop for good, keeping what it wrote. Idempotent.
    pub async fn request_cancel(&self, location: LocationId, job_id: i64) -> Result<Requested> {
        self.request(location, job_id, JobRequest::Cancel).await
    }

    async fn request(
        &self,
        location: LocationId,
        job_id: i64,
        what: JobRequest,
    ) -> Result<Requested> {
        let now = now_ms();
        let job = self.job(location, job_id).await?;
        let target = what.settles_to();
        let live: Option<(Option<String>, Option<i64>)> = on_pool!(self, p => {
            sqlx::query_as("SELECT lease_owner, lease_expires_at FROM jobs WHERE id = $1 AND location_id = $2")
                .bind(job_id)
                .bind(location.0)
                .fetch_optional(p)
                .await
        })?;
        let leased = matches!(live, Some((Some(_), Some(exp))) if exp >= now);
        match job.status {
            s if s == target => Ok(Requested::Already),
            s if s.is_finished() => Err(StoreError::Conflict(format!(
                "job {job_id} is {} already; only a queued, running or paused job can be {target}",
                job.status
            ))),
            JobStatus::Paused if what == JobRequest::Pause => Ok(Requested::Already),
            JobStatus::Running if leased => {
                on_pool!(self, p => {
                    sqlx::query("UPDATE jobs SET requested = $3 WHERE id = $1 AND location_id = $2 AND status = 'running'")
                        .bind(job_id)
                        .bind(location.0)
                        .bind(what.as_str())
                        .execute(p)
                        .await
                        .map(|r| r.rows_affected())
                })?;
                Ok(Requested::AtNextCheckpoint)
            }
            _ => {
                let finished = (what == JobRequest::Cancel).then_some(now);
                on_pool!(self, p => {
                    sqlx::query(
                        "UPDATE jobs SET status = $3, requested = NULL, lease_owner = NULL, lease_expires_at = NULL, \
                         finished_at = $4 WHERE id = $1 AND location_id = $2",
                    )
                    .bind(job_id)
                    .bind(location.0)
                    .bind(target.as_str())
                    .bind(finished)
                    .execute(p)
                    .await
                    .map(|r| r.rows_affected())
                })?;
                Ok(Requested::Done)
            }
        }
    }

    /// Puts a paused job back in the queue (SPEC §9.4): it continues from its checkpoint.
    /// A queued or running job is left as it is — less a pause requested of it and not yet
    /// settled, which resuming withdraws; a finished one cannot be resumed.
    pub async fn resume_job(&self, location: LocationId, job_id: i64) -> Result<()> {
        let job = self.job(location, job_id).await?;
        match job.status {
            JobStatus::Running if job.requested == Some(JobRequest::Pause) => {
                on_pool!(self, p => {
                    sqlx::query("UPDATE jobs SET requested = NULL WHERE id = $1 AND location_id = $2 AND status = 'running' AND requested = 'pause'")
                        .bind(job_id)
                        .bind(location.0)
                        .execute(p)
                        .await
                        .map(|r| r.rows_affected())
                })?;
                Ok(())
            }
            JobStatus::Paused => {
                on_pool!(self, p => {
                    sqlx::query("UPDATE jobs SET status = 'queued', status_reason = NULL WHERE id = $1 AND location_id = $2 AND status = 'paused'")
                        .bind(job_id)
                        .bind(location.0)
                        .execute(p)
                        .await
                        .map(|r| r.rows_affected())
                })?;
                Ok(())
            }
            JobStatus::Queued | JobStatus::Running => Ok(()),
            other => Err(StoreError::Conflict(format!(
                "job {job_id} is {other}; only a paused or interrupted job can be resumed"
            ))),
        }
    }

    /// What a job already did to contacts, to resume it: (contact id, last line, created).
    pub async fn job_touched(
        &self,
        location: LocationId,
        job_id: i64,
    ) -> Result<Vec<(i64, i64, bool)>> {
        let rows: Vec<(i64, i64, String)> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT l.record_id, MAX(l.line), MAX(CASE WHEN ci.action = 'created' THEN 'created' ELSE 'updated' END) \
                 FROM job_lines l JOIN jobs jb ON jb.id = l.job_id \
                 JOIN contact_imports ci ON ci.job_id = l.job_id AND ci.contact_id = l.record_id \
                 WHERE jb.location_id = $1 AND l.job_id = $2 AND l.action IN ('created', 'updated') \
                 GROUP BY l.record_id",
            )
            .bind(location.0)
            .bind(job_id)
            .fetch_all(p)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(id, line, action)| (id, line, action == "created"))
            .collect())
    }
}

#[cfg(test)]
mod tests;

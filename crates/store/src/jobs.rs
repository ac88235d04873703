//! Bulk Actions rows (SPEC §9): one per import or export, with status, progress and totals.
//! The claim/lease protocol of §9.7 builds on the same rows.

use domain::job::{JobRequest, JobStatus, ObjectKind, Operation};

use crate::import::Totals;
use crate::{LocationId, Result, Store, StoreError, UserId, now_ms, on_pool};

/// What starts a job.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub operation: Operation,
    pub object: ObjectKind,
    pub name: String,
    pub file_name: Option<String>,
    /// The job's options as JSON.
    pub options: String,
    pub total: Option<i64>,
    pub created_by: Option<UserId>,
    /// The process that runs it from the start (it holds the lease); `None` queues it.
    pub lease_owner: Option<String>,
}

impl Default for NewJob {
    /// An import of contacts, queued, with no options.
    fn default() -> Self {
        NewJob {
            operation: Operation::Import,
            object: ObjectKind::Contact,
            name: String::new(),
            file_name: None,
            options: String::new(),
            total: None,
            created_by: None,
            lease_owner: None,
        }
    }
}

/// A job as the Bulk Actions list and `jobs show` present it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub location_id: LocationId,
    pub operation: Operation,
    pub object: ObjectKind,
    pub name: String,
    pub status: JobStatus,
    pub status_reason: Option<String>,
    pub file_name: Option<String>,
    pub total: Option<i64>,
    pub totals: Totals,
    pub checkpoint_line: i64,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    /// A pause or cancel asked of the running job and not yet settled.
    pub requested: Option<JobRequest>,
    /// When the runner's lease lapses unless renewed (ms since the epoch); `None` when nobody
    /// holds it.
    pub lease_expires_at: Option<i64>,
    /// When the import was reverted, if it was (SPEC §9.4).
    pub reverted_at: Option<i64>,
}

type JobRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    i64,
    (i64, i64, i64, i64, i64, i64),
    i64,
    i64,
    Option<i64>,
    (Option<String>, Option<i64>, Option<i64>),
);

const SELECT: &str = "SELECT id, location_id, operation, object, name, status, status_reason, file_name, total, \
     processed, created_count, updated_count, skipped_count, error_count, warning_count, blank_count, \
     checkpoint_line, created_at, finished_at, requested, lease_expires_at, reverted_at FROM jobs";

/// A stored word read back as the vocabulary's type; an unknown one is a corrupt row.
pub(crate) fn word<T: std::str::FromStr<Err = domain::job::UnknownWord>>(
    job: i64,
    s: &str,
) -> Result<T> {
    s.parse()
        .map_err(|e: domain::job::UnknownWord| StoreError::Corrupt(format!("job {job}: {e}")))
}

fn from_row(r: JobRow) -> Result<Job> {
    let (
        id,
        location,
        operation,
        object,
        name,
        status,
        status_reason,
        file_name,
        total,
        processed,
        counts,
        checkpoint_line,
        created_at,
        finished_at,
        (requested, lease_expires_at, reverted_at),
    ) = r;
    let (created, updated, skipped, errors, warnings, blank) = counts;
    Ok(Job {
        id,
        location_id: LocationId(location),
        operation: word(id, &operation)?,
        object: ObjectKind::from_stored(&object)
            .ok_or_else(|| StoreError::Corrupt(format!("job {id}: unknown object '{object}'")))?,
        name,
        status: word(id, &status)?,
        status_reason,
        file_name,
        total,
        totals: Totals {
            processed,
            created,
            updated,
            skipped,
            errors,
            warnings,
            blank,
        },
        checkpoint_line,
        created_at,
        finished_at,
        requested: requested.as_deref().map(|r| word(id, r)).transpose()?,
        lease_expires_at,
        reverted_at,
    })
}

/// Reads a job row column by column (tuples stop at 16 columns).
macro_rules! job_from {
    ($row:expr) => {{
        use sqlx::Row;
        let r = $row;
        from_row((
            r.try_get(0)?,
            r.try_get(1)?,
            r.try_get(2)?,
            r.try_get(3)?,
            r.try_get(4)?,
            r.try_get(5)?,
            r.try_get(6)?,
            r.try_get(7)?,
            r.try_get(8)?,
            r.try_get(9)?,
            (
                r.try_get(10)?,
                r.try_get(11)?,
                r.try_get(12)?,
                r.try_get(13)?,
                r.try_get(14)?,
                r.try_get(15)?,
            ),
            r.try_get(16)?,
            r.try_get(17)?,
            r.try_get(18)?,
            (r.try_get(19)?, r.try_get(20)?, r.try_get(21)?),
        ))?
    }};
}

impl Store {
    /// Records a new job of the location, `running` from the start (it is run by the process
    /// that created it).
    pub async fn create_job(&self, location: LocationId, job: &NewJob) -> Result<i64> {
        let now = now_ms();
        let (status, expires) = match &job.lease_owner {
            Some(_) => (JobStatus::Running, Some(now + self.lease_ms)),
            None => (JobStatus::Queued, None),
        };
        Ok(on_pool!(self, p => {
            sqlx::query_scalar(
                "INSERT INTO jobs (location_id, operation, object, name, status, file_name, options, total, created_by, created_at, \
                 started_at, lease_owner, lease_expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12) RETURNING id",
            )
            .bind(location.0)
            .bind(job.operation.as_str())
            .bind(job.object.as_stored())
            .bind(&job.name)
            .bind(status.as_str())
            .bind(&job.file_name)
            .bind(&job.options)
            .bind(job.total)
            .bind(job.created_by.map(|u| u.0))
            .bind(now)
            .bind(&job.lease_owner)
            .bind(expires)
            .fetch_one(p)
            .await
        })?)
    }

    /// The job's options (JSON), as it was created with.
    pub async fn job_options(&self, location: LocationId, id: i64) -> Result<String> {
        let o: Option<String> = on_pool!(self, p => {
            sqlx::query_scalar("SELECT options FROM jobs WHERE id = $1 AND location_id = $2").bind(id).bind(location.0).fetch_optional(p).await
        })?;
        o.ok_or_else(|| StoreError::not_found(format!("job {id}")))
    }

    /// Who holds the job's lease, if anyone.
    pub async fn job_lease_owner(&self, location: LocationId, id: i64) -> Result<Option<String>> {
        let o: Option<Option<String>> = on_pool!(self, p => {
            sqlx::query_scalar("SELECT lease_owner FROM jobs WHERE id = $1 AND location_id = $2").bind(id).bind(location.0).fetch_optional(p).await
        })?;
        o.ok_or_else(|| StoreError::not_found(format!("job {id}")))
    }

    /// Ends a job with a final status (completed, failed, cancelled) and why.
    pub async fn finish_job(
        &self,
        location: LocationId,
        id: i64,
        status: JobStatus,
        reason: Option<&str>,
    ) -> Result<()> {
        let done = on_pool!(self, p => {
            sqlx::query("UPDATE jobs SET status = $3, status_reason = $4, finished_at = $5 WHERE id = $1 AND location_id = $2")
                .bind(id)
                .bind(location.0)
                .bind(status.as_str())
                .bind(reason)
                .bind(now_ms())
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        if done == 0 {
            return Err(StoreError::not_found(format!("job {id}")));
        }
        Ok(())
    }

    pub async fn job(&self, location: LocationId, id: i64) -> Result<Job> {
        let sql = format!("{SELECT} WHERE id = $1 AND location_id = $2");
        let job = on_pool!(self, p => {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(id).bind(location.0).fetch_optional(p).await?;
            match row {
                Some(row) => Ok::<_, StoreError>(Some(job_from!(row))),
                None => Ok(None),
            }
        })?;
        job.ok_or_else(|| StoreError::not_found(format!("job {id}")))
    }

    /// The location's jobs, newest first.
    pub async fn jobs(&self, location: LocationId) -> Result<Vec<Job>> {
        let sql = format!("{SELECT} WHERE location_id = $1 ORDER BY id DESC");
        on_pool!(self, p => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(location.0).fetch_all(p).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(job_from!(row));
            }
            Ok(out)
        })
    }
}

/// The append-only effects a job left: what "nothing lost, nothing doubled" is checked on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobEffects {
    pub notes: i64,
    pub journal: i64,
    /// Contacts the job created or updated (provenance rows).
    pub contacts: i64,
    pub lines: i64,
}

impl Store {
    /// Counts what a job of this location wrote (SPEC §9.5).
    pub async fn job_effects(&self, location: LocationId, job: i64) -> Result<JobEffects> {
        let counts: Vec<i64> = on_pool!(self, p => {
            let mut out = Vec::new();
            for table in ["notes", "journal", "contact_imports"] {
                let sql = format!("SELECT COUNT(*) FROM {table} WHERE location_id = $1 AND job_id = $2");
                out.push(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(location.0).bind(job).fetch_one(p).await?);
            }
            out.push(
                sqlx::query_scalar("SELECT COUNT(*) FROM job_lines l JOIN jobs j ON j.id = l.job_id WHERE j.location_id = $1 AND l.job_id = $2")
                    .bind(location.0)
                    .bind(job)
                    .fetch_one(p)
                    .await?,
            );
            Ok::<_, StoreError>(out)
        })?;
        Ok(JobEffects {
            notes: counts[0],
            journal: counts[1],
            contacts: counts[2],
            lines: counts[3],
        })
    }
}

impl Store {
    /// The location a job belongs to: for the operator's CLI, which names jobs by id alone.
    pub async fn job_location(&self, id: i64) -> Result<LocationId> {
        let loc: Option<i64> = on_pool!(self, p => {
            sqlx::query_scalar("SELECT location_id FROM jobs WHERE id = $1").bind(id).fetch_optional(p).await
        })?;
        loc.map(LocationId)
            .ok_or_else(|| StoreError::not_found(format!("job {id}")))
    }
}

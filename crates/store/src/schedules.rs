//! Scheduled exports (SPEC §10, beyond the reference): a daily or weekly export of a Smart
//! List. A due schedule is started by whichever worker or `serve` process sees it first:
//! [`Store::start_scheduled_export`] moves `next_run_at` on by compare-and-set and queues the
//! run's export job in the same transaction, so each run starts exactly once however many
//! processes look (the unique index on `jobs (schedule_id, scheduled_for)` says the same).

use crate::error::conflict_on_unique;
use crate::{LocationId, Result, Store, StoreError, UserId, now_ms, on_pool};

/// A saved schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSchedule {
    pub id: i64,
    pub location_id: LocationId,
    pub smart_list_id: i64,
    /// `daily` or `weekly`.
    pub frequency: String,
    /// Column keys in order; empty for the default columns.
    pub columns: Vec<String>,
    pub next_run_at: i64,
    pub last_job_id: Option<i64>,
    pub created_by: Option<UserId>,
    pub created_at: i64,
}

/// What a new schedule is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewExportSchedule {
    pub smart_list_id: i64,
    /// `daily` or `weekly`.
    pub frequency: &'static str,
    pub columns: Vec<String>,
    /// The first run.
    pub next_run_at: i64,
    pub created_by: Option<UserId>,
}

/// The job a due run starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledJob {
    pub name: String,
    pub file_name: String,
    /// The job's options (JSON).
    pub options: String,
}

type ScheduleRow = (
    i64,
    i64,
    i64,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    i64,
);

const SELECT: &str = "SELECT id, location_id, smart_list_id, frequency, columns, next_run_at, last_job_id, \
                      created_by, created_at FROM export_schedules";

fn from_row(r: ScheduleRow) -> Result<ExportSchedule> {
    let (id, location, list, frequency, columns, next_run_at, last_job_id, created_by, created_at) =
        r;
    Ok(ExportSchedule {
        id,
        location_id: LocationId(location),
        smart_list_id: list,
        frequency,
        columns: serde_json::from_str(&columns)
            .map_err(|e| StoreError::Corrupt(format!("columns of export schedule {id}: {e}")))?,
        next_run_at,
        last_job_id,
        created_by: created_by.map(UserId),
        created_at,
    })
}

impl Store {
    /// Saves a schedule of the location. The Smart List must be the location's.
    pub async fn create_export_schedule(
        &self,
        location: LocationId,
        new: &NewExportSchedule,
    ) -> Result<ExportSchedule> {
        self.smart_list_by_id(location, new.smart_list_id).await?;
        let columns = serde_json::to_string(&new.columns).expect("strings serialise");
        let now = now_ms();
        let id: i64 = on_pool!(self, p => {
            sqlx::query_scalar(
                "INSERT INTO export_schedules (location_id, smart_list_id, frequency, columns, next_run_at, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(location.0)
            .bind(new.smart_list_id)
            .bind(new.frequency)
            .bind(&columns)
            .bind(new.next_run_at)
            .bind(new.created_by.map(|u| u.0))
            .bind(now)
            .fetch_one(p)
            .await
        })?;
        Ok(ExportSchedule {
            id,
            location_id: location,
            smart_list_id: new.smart_list_id,
            frequency: new.frequency.to_string(),
            columns: new.columns.clone(),
            next_run_at: new.next_run_at,
            last_job_id: None,
            created_by: new.created_by,
            created_at: now,
        })
    }

    /// The location's schedules, oldest first.
    pub async fn export_schedules(&self, location: LocationId) -> Result<Vec<ExportSchedule>> {
        let rows: Vec<ScheduleRow> = on_pool!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE location_id = $1 ORDER BY id")))
                .bind(location.0)
                .fetch_all(p)
                .await
        })?;
        rows.into_iter().map(from_row).collect()
    }

    /// Deletes a schedule of the location (its past runs stay in Bulk Actions).
    pub async fn delete_export_schedule(&self, location: LocationId, id: i64) -> Result<()> {
        let n = on_pool!(self, p => {
            sqlx::query("DELETE FROM export_schedules WHERE id = $1 AND location_id = $2")
                .bind(id)
                .bind(location.0)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        if n == 0 {
            return Err(StoreError::not_found(format!(
                "export schedule {id} of this location"
            )));
        }
        Ok(())
    }

    /// Schedules of every location due at `now`, for the operator's loop.
    pub async fn due_export_schedules(&self, now: i64) -> Result<Vec<ExportSchedule>> {
        let rows: Vec<ScheduleRow> = on_pool!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE next_run_at <= $1 ORDER BY next_run_at, id")))
                .bind(now)
                .fetch_all(p)
                .await
        })?;
        rows.into_iter().map(from_row).collect()
    }

    /// Starts the run of `schedule` due at its `next_run_at`, in one transaction: moves
    /// `next_run_at` to `next` only if it still holds the due time (compare-and-set), and
    /// queues the export job. `None` when another process started this run first.
    pub async fn start_scheduled_export(
        &self,
        schedule: &ExportSchedule,
        next: i64,
        job: &ScheduledJob,
    ) -> Result<Option<i64>> {
        let now = now_ms();
        let location = schedule.location_id;
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let moved = sqlx::query(
                "UPDATE export_schedules SET next_run_at = $4 WHERE id = $1 AND location_id = $2 AND next_run_at = $3",
            )
            .bind(schedule.id)
            .bind(location.0)
            .bind(schedule.next_run_at)
            .bind(next)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved == 0 {
                return Ok(None);
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO jobs (location_id, operation, object, name, status, file_name, options, created_by, created_at, \
                 schedule_id, scheduled_for) VALUES ($1, 'export', 'contact', $2, 'queued', $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(location.0)
            .bind(&job.name)
            .bind(&job.file_name)
            .bind(&job.options)
            .bind(schedule.created_by.map(|u| u.0))
            .bind(now)
            .bind(schedule.id)
            .bind(schedule.next_run_at)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| conflict_on_unique(e, || format!("export schedule {} already started its run due at {}", schedule.id, schedule.next_run_at)))?;
            sqlx::query("UPDATE export_schedules SET last_job_id = $3 WHERE id = $1 AND location_id = $2")
                .bind(schedule.id)
                .bind(location.0)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(Some(id))
        })
    }
}

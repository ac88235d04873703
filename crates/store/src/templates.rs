//! Saved import templates (SPEC §11): a location's named import choices, kept as the JSON the
//! `jobs` crate writes. Saving a name again replaces its choices.

use crate::{LocationId, Result, Store, StoreError, now_ms, on_pool};

/// A saved template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedTemplate {
    pub id: i64,
    pub name: String,
    /// The choices, as JSON.
    pub choices: String,
    /// The import it was saved from.
    pub from_job: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

type Row = (i64, String, String, Option<i64>, i64, i64);

fn from_row((id, name, choices, from_job, created_at, updated_at): Row) -> SavedTemplate {
    SavedTemplate {
        id,
        name,
        choices,
        from_job,
        created_at,
        updated_at,
    }
}

impl Store {
    /// Saves `choices` under `name` for the location, replacing a template of that name.
    /// Returns whether it replaced one.
    pub async fn save_template(
        &self,
        location: LocationId,
        name: &str,
        choices: &str,
        from_job: Option<i64>,
    ) -> Result<bool> {
        let now = now_ms();
        let replaced: Option<i64> = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let old: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM import_templates WHERE location_id = $1 AND name = $2",
            )
            .bind(location.0)
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
            match old {
                Some(id) => {
                    sqlx::query(
                        "UPDATE import_templates SET choices = $1, from_job = $2, updated_at = $3 \
                         WHERE id = $4 AND location_id = $5",
                    )
                    .bind(choices)
                    .bind(from_job)
                    .bind(now)
                    .bind(id)
                    .bind(location.0)
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
                    sqlx::query(
                        "INSERT INTO import_templates (location_id, name, choices, from_job, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $5)",
                    )
                    .bind(location.0)
                    .bind(name)
                    .bind(choices)
                    .bind(from_job)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
            Ok::<_, StoreError>(old)
        })?;
        Ok(replaced.is_some())
    }

    /// The location's template of that exact name.
    pub async fn template(&self, location: LocationId, name: &str) -> Result<SavedTemplate> {
        let row: Option<Row> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT id, name, choices, from_job, created_at, updated_at FROM import_templates \
                 WHERE location_id = $1 AND name = $2",
            )
            .bind(location.0)
            .bind(name)
            .fetch_optional(p)
            .await
        })?;
        row.map(from_row)
            .ok_or_else(|| StoreError::not_found(format!("template '{name}'")))
    }

    /// The location's templates, by name.
    pub async fn templates(&self, location: LocationId) -> Result<Vec<SavedTemplate>> {
        let rows: Vec<Row> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT id, name, choices, from_job, created_at, updated_at FROM import_templates \
                 WHERE location_id = $1 ORDER BY name",
            )
            .bind(location.0)
            .fetch_all(p)
            .await
        })?;
        Ok(rows.into_iter().map(from_row).collect())
    }

    /// Deletes the location's template of that name; false when there was none.
    pub async fn delete_template(&self, location: LocationId, name: &str) -> Result<bool> {
        let n: u64 = on_pool!(self, p => {
            sqlx::query("DELETE FROM import_templates WHERE location_id = $1 AND name = $2")
                .bind(location.0)
                .bind(name)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests;

/// A migration's file waiting for the job before it (SPEC §11): see `jobs::migration`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStep {
    pub id: i64,
    pub location_id: LocationId,
    pub after_job: i64,
    pub draft_id: i64,
    pub acknowledge_workflows: bool,
    pub status: String,
    pub job_id: Option<i64>,
    pub reason: Option<String>,
}

type StepRow = (
    i64,
    i64,
    i64,
    i64,
    bool,
    String,
    Option<i64>,
    Option<String>,
);

fn step(
    (id, location, after_job, draft_id, acknowledge_workflows, status, job_id, reason): StepRow,
) -> MigrationStep {
    MigrationStep {
        id,
        location_id: LocationId(location),
        after_job,
        draft_id,
        acknowledge_workflows,
        status,
        job_id,
        reason,
    }
}

const STEP: &str = "SELECT id, location_id, after_job, draft_id, acknowledge_workflows, status, job_id, reason FROM migration_steps";

impl Store {
    /// Records that the location's draft is to be submitted once `after_job` completed.
    pub async fn add_migration_step(
        &self,
        location: LocationId,
        after_job: i64,
        draft_id: i64,
        acknowledge_workflows: bool,
    ) -> Result<i64> {
        let now = now_ms();
        on_pool!(self, p => {
            sqlx::query_scalar(
                "INSERT INTO migration_steps (location_id, after_job, draft_id, acknowledge_workflows, status, created_at) \
                 VALUES ($1, $2, $3, $4, 'waiting', $5) RETURNING id",
            )
            .bind(location.0)
            .bind(after_job)
            .bind(draft_id)
            .bind(acknowledge_workflows)
            .bind(now)
            .fetch_one(p)
            .await
        })
        .map_err(Into::into)
    }

    /// Every waiting step, of every location (the worker loop acts on each under its own
    /// location).
    pub async fn waiting_migration_steps(&self) -> Result<Vec<MigrationStep>> {
        let rows: Vec<StepRow> = on_pool!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{STEP} WHERE status = 'waiting' ORDER BY id")))
                .fetch_all(p)
                .await
        })?;
        Ok(rows.into_iter().map(step).collect())
    }

    /// The location's step waiting for `after_job`, if any.
    pub async fn migration_step_after(
        &self,
        location: LocationId,
        after_job: i64,
    ) -> Result<Option<MigrationStep>> {
        let row: Option<StepRow> = on_pool!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{STEP} WHERE location_id = $1 AND after_job = $2 ORDER BY id DESC LIMIT 1"
            )))
            .bind(location.0)
            .bind(after_job)
            .fetch_optional(p)
            .await
        })?;
        Ok(row.map(step))
    }

    /// Ends a waiting step: `submitted` with its job, or `stopped` with why. False when it
    /// was not waiting any more (another worker ended it).
    pub async fn end_migration_step(
        &self,
        location: LocationId,
        id: i64,
        status: &str,
        job_id: Option<i64>,
        reason: Option<&str>,
    ) -> Result<bool> {
        let n: u64 = on_pool!(self, p => {
            sqlx::query(
                "UPDATE migration_steps SET status = $1, job_id = $2, reason = $3 \
                 WHERE id = $4 AND location_id = $5 AND status = 'waiting'",
            )
            .bind(status)
            .bind(job_id)
            .bind(reason)
            .bind(id)
            .bind(location.0)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n > 0)
    }
}

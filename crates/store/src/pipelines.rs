//! Pipelines and their stages (SPEC §3, §7), and the opportunities board: a location's
//! pipelines by name, stages in order, matched by name case-insensitively
//! ([`domain::pipeline::same_name`]); an opportunity moved to another stage of its pipeline.
//!
//! Names are compared in Rust, not by the database (SQLite's `lower` folds ASCII only), under
//! a lock on the location's row taken by the transaction's first statement — an `UPDATE`, so
//! SQLite takes its write lock there too — so two admins adding "Botox" and "botox" at once
//! cannot both succeed. Every statement filters on the location.

use domain::pipeline::{check_name, check_pipeline, same_name};

use crate::{LocationId, Result, Store, StoreError, now_ms, on_pool};

/// A pipeline with its stages in order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Pipeline {
    pub id: i64,
    pub name: String,
    pub stages: Vec<Stage>,
}

/// A stage of a pipeline. `position` orders the stages (0 first; gaps allowed).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Stage {
    pub id: i64,
    pub name: String,
    pub position: i64,
}

impl Pipeline {
    /// The stage of that name (case-insensitively).
    pub fn stage_named(&self, name: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| same_name(&s.name, name))
    }
}

/// The statement that takes the location's lock (see the module's comment).
const LOCK_LOCATION: &str = "UPDATE locations SET id = id WHERE id = $1";

/// A pipeline's stages in order: `$1` the location, `$2` the pipeline.
const SIBLINGS: &str = "SELECT id, name, position FROM stages WHERE location_id = $1 AND pipeline_id = $2 ORDER BY position, id";

type PipelineRow = (i64, String);
type StageRow = (i64, i64, String, i64);

fn assemble(pipelines: Vec<PipelineRow>, stages: Vec<StageRow>) -> Vec<Pipeline> {
    let mut out: Vec<Pipeline> = pipelines
        .into_iter()
        .map(|(id, name)| Pipeline {
            id,
            name,
            stages: Vec::new(),
        })
        .collect();
    for (pipeline, id, name, position) in stages {
        if let Some(p) = out.iter_mut().find(|p| p.id == pipeline) {
            p.stages.push(Stage { id, name, position });
        }
    }
    out
}

fn invalid(message: String) -> StoreError {
    StoreError::Invalid(message)
}

impl Store {
    /// Creates a pipeline with its stages in order. Refused (`Invalid`) for a blank or
    /// over-long name, no stage, or a stage given twice; `Conflict` when the location has a
    /// pipeline of that name already (case-insensitively).
    pub async fn create_pipeline(
        &self,
        location: LocationId,
        name: &str,
        stages: &[String],
    ) -> Result<Pipeline> {
        let (name, stages) = check_pipeline(name, stages).map_err(invalid)?;
        let now = now_ms();
        let id: i64 = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let locked = sqlx::query(LOCK_LOCATION).bind(location.0).execute(&mut *tx).await?;
            if locked.rows_affected() == 0 {
                return Err(StoreError::not_found(format!("location {}", location.0)));
            }
            let names: Vec<String> = sqlx::query_scalar("SELECT name FROM pipelines WHERE location_id = $1")
                .bind(location.0)
                .fetch_all(&mut *tx)
                .await?;
            if let Some(taken) = names.iter().find(|n| same_name(n, &name)) {
                return Err(StoreError::Conflict(format!(
                    "there is already a pipeline named '{taken}' in this location (names are compared ignoring case)"
                )));
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO pipelines (location_id, name, created_at) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(location.0)
            .bind(&name)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            for (position, stage) in stages.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO stages (location_id, pipeline_id, name, position) VALUES ($1, $2, $3, $4)",
                )
                .bind(location.0)
                .bind(id)
                .bind(stage)
                .bind(position as i64)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(id)
        })?;
        self.pipeline(location, id).await
    }

    /// The location's pipelines, oldest first, each with its stages in order.
    pub async fn pipelines(&self, location: LocationId) -> Result<Vec<Pipeline>> {
        let (pipelines, stages): (Vec<PipelineRow>, Vec<StageRow>) = on_pool!(self, p => {
            let pipelines = sqlx::query_as("SELECT id, name FROM pipelines WHERE location_id = $1 ORDER BY id")
                .bind(location.0)
                .fetch_all(p)
                .await?;
            let stages = sqlx::query_as(
                "SELECT pipeline_id, id, name, position FROM stages WHERE location_id = $1 ORDER BY pipeline_id, position, id",
            )
            .bind(location.0)
            .fetch_all(p)
            .await?;
            Ok::<_, StoreError>((pipelines, stages))
        })?;
        Ok(assemble(pipelines, stages))
    }

    /// One pipeline of the location, by id.
    pub async fn pipeline(&self, location: LocationId, id: i64) -> Result<Pipeline> {
        self.pipelines(location)
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| StoreError::not_found(format!("pipeline {id}")))
    }

    /// The location's pipeline of that name (case-insensitively). Not found: the error names
    /// the location's pipelines.
    pub async fn pipeline_by_name(&self, location: LocationId, name: &str) -> Result<Pipeline> {
        let all = self.pipelines(location).await?;
        let known: Vec<String> = all.iter().map(|p| format!("'{}'", p.name)).collect();
        all.into_iter()
            .find(|p| same_name(&p.name, name))
            .ok_or_else(|| {
                StoreError::not_found(if known.is_empty() {
                    format!(
                        "the pipeline '{}' (this location has no pipelines)",
                        name.trim()
                    )
                } else {
                    format!(
                        "the pipeline '{}' (this location's pipelines: {})",
                        name.trim(),
                        known.join(", ")
                    )
                })
            })
    }

    /// Renames a pipeline; `Conflict` when another pipeline of the location has that name.
    pub async fn rename_pipeline(&self, location: LocationId, id: i64, name: &str) -> Result<()> {
        let name = check_name(name, "the pipeline's name").map_err(invalid)?;
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(LOCK_LOCATION).bind(location.0).execute(&mut *tx).await?;
            let others: Vec<(i64, String)> = sqlx::query_as("SELECT id, name FROM pipelines WHERE location_id = $1")
                .bind(location.0)
                .fetch_all(&mut *tx)
                .await?;
            if !others.iter().any(|(i, _)| *i == id) {
                return Err(StoreError::not_found(format!("pipeline {id}")));
            }
            if let Some((_, taken)) = others.iter().find(|(i, n)| *i != id && same_name(n, &name)) {
                return Err(StoreError::Conflict(format!(
                    "there is already a pipeline named '{taken}' in this location (names are compared ignoring case)"
                )));
            }
            sqlx::query("UPDATE pipelines SET name = $3 WHERE location_id = $1 AND id = $2")
                .bind(location.0)
                .bind(id)
                .bind(&name)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }

    /// Adds a stage at the end of a pipeline; `Conflict` when the pipeline has a stage of that
    /// name.
    pub async fn add_stage(
        &self,
        location: LocationId,
        pipeline: i64,
        name: &str,
    ) -> Result<Stage> {
        let name = check_name(name, "the stage's name").map_err(invalid)?;
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(LOCK_LOCATION).bind(location.0).execute(&mut *tx).await?;
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM pipelines WHERE location_id = $1 AND id = $2")
                .bind(location.0)
                .bind(pipeline)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_none() {
                return Err(StoreError::not_found(format!("pipeline {pipeline}")));
            }
            let stages = sqlx::query_as::<_, (i64, String, i64)>(SIBLINGS)
                .bind(location.0)
                .bind(pipeline)
                .fetch_all(&mut *tx)
                .await?;
            if let Some((_, taken, _)) = stages.iter().find(|(_, n, _)| same_name(n, &name)) {
                return Err(StoreError::Conflict(format!(
                    "this pipeline has a stage named '{taken}' already (names are compared ignoring case)"
                )));
            }
            let position = stages.iter().map(|(_, _, p)| *p + 1).max().unwrap_or(0);
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO stages (location_id, pipeline_id, name, position) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(location.0)
            .bind(pipeline)
            .bind(&name)
            .bind(position)
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(Stage { id, name, position })
        })
    }

    /// The pipeline a stage of the location belongs to.
    async fn stage_pipeline(&self, location: LocationId, stage: i64) -> Result<i64> {
        let pipeline: Option<i64> = on_pool!(self, p => {
            sqlx::query_scalar("SELECT pipeline_id FROM stages WHERE location_id = $1 AND id = $2")
                .bind(location.0)
                .bind(stage)
                .fetch_optional(p)
                .await
        })?;
        pipeline.ok_or_else(|| StoreError::not_found(format!("stage {stage}")))
    }

    /// Renames a stage; `Conflict` when another stage of its pipeline has that name.
    pub async fn rename_stage(&self, location: LocationId, stage: i64, name: &str) -> Result<()> {
        let name = check_name(name, "the stage's name").map_err(invalid)?;
        let pipeline = self.stage_pipeline(location, stage).await?;
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(LOCK_LOCATION).bind(location.0).execute(&mut *tx).await?;
            let stages = sqlx::query_as::<_, (i64, String, i64)>(SIBLINGS)
                .bind(location.0)
                .bind(pipeline)
                .fetch_all(&mut *tx)
                .await?;
            if let Some((_, taken, _)) = stages.iter().find(|(i, n, _)| *i != stage && same_name(n, &name)) {
                return Err(StoreError::Conflict(format!(
                    "this pipeline has a stage named '{taken}' already (names are compared ignoring case)"
                )));
            }
            sqlx::query("UPDATE stages SET name = $3 WHERE location_id = $1 AND id = $2")
                .bind(location.0)
                .bind(stage)
                .bind(&name)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }

    /// Moves a stage one place earlier (`earlier`) or later in its pipeline; the first stage
    /// moved earlier, or the last later, stays. The stages are renumbered 0, 1, 2… in their new
    /// order.
    pub async fn move_stage(&self, location: LocationId, stage: i64, earlier: bool) -> Result<()> {
        let pipeline = self.stage_pipeline(location, stage).await?;
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(LOCK_LOCATION).bind(location.0).execute(&mut *tx).await?;
            let mut order: Vec<i64> = sqlx::query_as::<_, (i64, String, i64)>(SIBLINGS)
                .bind(location.0)
                .bind(pipeline)
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .map(|(id, _, _)| id)
                .collect();
            let Some(at) = order.iter().position(|id| *id == stage) else {
                return Err(StoreError::not_found(format!("stage {stage}")));
            };
            let to = if earlier { at.checked_sub(1) } else { Some(at + 1).filter(|t| *t < order.len()) };
            if let Some(to) = to {
                order.swap(at, to);
                for (position, id) in order.iter().enumerate() {
                    sqlx::query("UPDATE stages SET position = $3 WHERE location_id = $1 AND id = $2")
                        .bind(location.0)
                        .bind(*id)
                        .bind(position as i64)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }
}

#[cfg(test)]
mod tests;

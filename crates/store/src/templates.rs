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

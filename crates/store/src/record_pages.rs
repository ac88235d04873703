//! Reading the records of companies and custom objects for their pages (SPEC §8): a numbered
//! page of an object's records by Record ID, and one record with its times. Every query is
//! scoped by location and object.

use std::collections::BTreeMap;

use domain::ObjectKind;

use crate::{LocationId, Result, Store, StoreError, on_pool};

/// A record as its pages show it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShownRecord {
    pub id: i64,
    /// The primary field's value (Company Name, a custom object's primary field).
    pub primary: String,
    /// Its fields by key (blank fields absent).
    pub values: BTreeMap<String, String>,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    pub updated_at: i64,
}

type Row = (i64, String, String, i64, i64);

fn shown((id, primary, values, created_at, updated_at): Row) -> Result<ShownRecord> {
    Ok(ShownRecord {
        id,
        primary,
        values: serde_json::from_str(&values)
            .map_err(|e| StoreError::Corrupt(format!("record {id}'s values: {e}")))?,
        created_at,
        updated_at,
    })
}

impl Store {
    /// A numbered page of the object's records in the location, by ascending Record ID.
    pub async fn records_by_id(
        &self,
        location: LocationId,
        object: &ObjectKind,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<ShownRecord>> {
        let rows: Vec<Row> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT record_id, primary_value, field_values, created_at, updated_at FROM object_records \
                 WHERE location_id = $1 AND object = $2 ORDER BY record_id LIMIT $3 OFFSET $4",
            )
            .bind(location.0)
            .bind(object.as_stored())
            .bind(limit)
            .bind(offset)
            .fetch_all(p)
            .await
        })?;
        rows.into_iter().map(shown).collect()
    }

    /// One record of the object in the location; `None` when the location has no such record.
    pub async fn shown_record(
        &self,
        location: LocationId,
        object: &ObjectKind,
        id: i64,
    ) -> Result<Option<ShownRecord>> {
        let row: Option<Row> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT record_id, primary_value, field_values, created_at, updated_at FROM object_records \
                 WHERE location_id = $1 AND object = $2 AND record_id = $3",
            )
            .bind(location.0)
            .bind(object.as_stored())
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        row.map(shown).transpose()
    }
}

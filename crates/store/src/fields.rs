//! Custom field definitions per location and object (SPEC §3).

use domain::{CustomFieldType, ObjectKind};

use crate::error::conflict_on_unique;
use crate::{LocationId, Result, Store, StoreError, now_ms, on_pool};

/// A custom field as defined by a location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomField {
    pub id: i64,
    pub object: ObjectKind,
    pub key: String,
    pub label: String,
    pub field_type: CustomFieldType,
    pub options: Vec<String>,
    pub required: bool,
    pub unique: bool,
}

/// What defines a new custom field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCustomField {
    pub object: ObjectKind,
    pub key: String,
    pub label: String,
    pub field_type: CustomFieldType,
    pub options: Vec<String>,
    pub required: bool,
    pub unique: bool,
}

type FieldRow = (i64, String, String, String, String, String, bool, bool);

fn from_row(r: FieldRow) -> Result<CustomField> {
    let (id, object, key, label, ty, options, required, unique) = r;
    Ok(CustomField {
        id,
        object: ObjectKind::from_stored(&object)
            .ok_or_else(|| StoreError::Corrupt(format!("custom field object '{object}'")))?,
        key,
        label,
        field_type: ty
            .parse()
            .map_err(|e: domain::field::UnknownFieldType| StoreError::Corrupt(e.to_string()))?,
        options: serde_json::from_str(&options).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        required,
        unique,
    })
}

impl Store {
    /// Defines a custom field. Its key must be new for that object in the location.
    pub async fn create_custom_field(
        &self,
        location: LocationId,
        f: &NewCustomField,
    ) -> Result<CustomField> {
        let object = f.object.as_stored();
        let options = serde_json::to_string(&f.options).expect("strings serialise");
        let id: i64 = on_pool!(self, p => {
            let position: i64 = sqlx::query_scalar(
                "SELECT COALESCE(MAX(position) + 1, 0) FROM custom_fields WHERE location_id = $1 AND object = $2",
            )
            .bind(location.0)
            .bind(&object)
            .fetch_one(p)
            .await?;
            sqlx::query_scalar(
                "INSERT INTO custom_fields (location_id, object, field_key, label, field_type, options, required, \
                 is_unique, position, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(location.0)
            .bind(&object)
            .bind(&f.key)
            .bind(&f.label)
            .bind(f.field_type.token())
            .bind(&options)
            .bind(f.required)
            .bind(f.unique)
            .bind(position)
            .bind(now_ms())
            .fetch_one(p)
            .await
            .map_err(|e| conflict_on_unique(e, || format!("a field with key '{}' already exists on {}", f.key, object)))
        })?;
        Ok(CustomField {
            id,
            object: f.object.clone(),
            key: f.key.clone(),
            label: f.label.clone(),
            field_type: f.field_type,
            options: f.options.clone(),
            required: f.required,
            unique: f.unique,
        })
    }

    /// A location's custom fields of one object, in the order they were defined.
    pub async fn custom_fields(
        &self,
        location: LocationId,
        object: &ObjectKind,
    ) -> Result<Vec<CustomField>> {
        let rows: Vec<FieldRow> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT id, object, field_key, label, field_type, options, required, is_unique FROM custom_fields \
                 WHERE location_id = $1 AND object = $2 ORDER BY position, id",
            )
            .bind(location.0)
            .bind(object.as_stored())
            .fetch_all(p)
            .await
        })?;
        rows.into_iter().map(from_row).collect()
    }
}

impl Store {
    /// Whether the location defines a custom object with this key.
    pub async fn custom_object_exists(&self, location: LocationId, key: &str) -> Result<bool> {
        let n: i64 = on_pool!(self, p => {
            sqlx::query_scalar("SELECT COUNT(*) FROM custom_objects WHERE location_id = $1 AND object_key = $2")
                .bind(location.0)
                .bind(key)
                .fetch_one(p)
                .await
        })?;
        Ok(n > 0)
    }
}

//! Custom object definitions (SPEC §8) and each object's schema as a location defines it:
//! `domain::ObjectSchema` built from the standard fields, the custom object's definition and
//! the location's custom fields.

use domain::object::{CustomFieldDef, CustomObjectDef};
use domain::{ObjectKind, ObjectSchema};

use crate::error::conflict_on_unique;
use crate::fields::CustomField;
use crate::{LocationId, Result, Store, StoreError, now_ms, on_pool};

/// A location's custom object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomObject {
    pub id: i64,
    pub def: CustomObjectDef,
}

type Row = (i64, String, String, String, String);

fn from_row((id, key, name, primary_key, primary_label): Row) -> CustomObject {
    CustomObject {
        id,
        def: CustomObjectDef {
            key,
            name,
            // A definition of version 1 had no label: its key stands in.
            primary_label: if primary_label.is_empty() {
                primary_key.clone()
            } else {
                primary_label
            },
            primary_key,
        },
    }
}

impl CustomField {
    /// The definition as an object's schema takes it.
    pub fn def(&self) -> CustomFieldDef {
        CustomFieldDef {
            key: self.key.clone(),
            label: self.label.clone(),
            field_type: self.field_type,
            options: self.options.clone(),
            required: self.required,
            unique: self.unique,
        }
    }
}

impl Store {
    /// Defines a custom object; its key must be new in the location.
    pub async fn create_custom_object(
        &self,
        location: LocationId,
        def: &CustomObjectDef,
    ) -> Result<CustomObject> {
        let id: i64 = on_pool!(self, p => {
            sqlx::query_scalar(
                "INSERT INTO custom_objects (location_id, object_key, name, primary_field_key, primary_field_label, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(location.0)
            .bind(&def.key)
            .bind(&def.name)
            .bind(&def.primary_key)
            .bind(&def.primary_label)
            .bind(now_ms())
            .fetch_one(p)
            .await
            .map_err(|e| conflict_on_unique(e, || format!("a custom object with key '{}' already exists", def.key)))
        })?;
        Ok(CustomObject {
            id,
            def: def.clone(),
        })
    }

    /// A location's custom objects, in the order they were defined.
    pub async fn custom_objects(&self, location: LocationId) -> Result<Vec<CustomObject>> {
        let rows: Vec<Row> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT id, object_key, name, primary_field_key, primary_field_label FROM custom_objects \
                 WHERE location_id = $1 ORDER BY id",
            )
            .bind(location.0)
            .fetch_all(p)
            .await
        })?;
        Ok(rows.into_iter().map(from_row).collect())
    }

    /// A custom object by key; `NotFound` names the location's objects.
    pub async fn custom_object(&self, location: LocationId, key: &str) -> Result<CustomObject> {
        let row: Option<Row> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT id, object_key, name, primary_field_key, primary_field_label FROM custom_objects \
                 WHERE location_id = $1 AND object_key = $2",
            )
            .bind(location.0)
            .bind(key)
            .fetch_optional(p)
            .await
        })?;
        match row {
            Some(r) => Ok(from_row(r)),
            None => {
                let known: Vec<String> = self
                    .custom_objects(location)
                    .await?
                    .into_iter()
                    .map(|o| o.def.key)
                    .collect();
                Err(StoreError::NotFound(if known.is_empty() {
                    format!(
                        "'{key}' is not a custom object of this location (it has none; create one with `aesthetix object create`)"
                    )
                } else {
                    format!(
                        "'{key}' is not a custom object of this location; its objects are: {}",
                        known.join(", ")
                    )
                }))
            }
        }
    }

    /// The schema of one object of a location: standard fields, then its custom fields in
    /// the order they were created (SPEC §8).
    pub async fn object_schema(
        &self,
        location: LocationId,
        object: &ObjectKind,
    ) -> Result<ObjectSchema> {
        let custom: Vec<CustomFieldDef> = self
            .custom_fields(location, object)
            .await?
            .iter()
            .map(CustomField::def)
            .collect();
        Ok(match object {
            ObjectKind::Contact => ObjectSchema::contact(&custom),
            ObjectKind::Opportunity => ObjectSchema::opportunity(&custom),
            ObjectKind::Company => ObjectSchema::company(&custom),
            ObjectKind::Custom(key) => {
                let o = self.custom_object(location, key).await?;
                ObjectSchema::custom_object(&o.def, &custom)
            }
        })
    }
}

#[cfg(test)]
mod tests;

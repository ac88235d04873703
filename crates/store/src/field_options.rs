//! Adding an option to an option field from the Settings pages (issue 18: every
//! `option.unknown` fix says "add the option to the field", and only the CLI could).

use crate::{LocationId, Result, Store, StoreError, on_pool};

impl Store {
    /// Adds `option` to the options of the location's custom field `field_id` (case-insensitive
    /// duplicates refused as a conflict; another location's field is not found). Returns the
    /// field's options after the change.
    pub async fn add_custom_field_option(
        &self,
        location: LocationId,
        field_id: i64,
        option: &str,
    ) -> Result<Vec<String>> {
        let option = option.trim();
        if option.is_empty() {
            return Err(StoreError::Invalid("an option cannot be blank".into()));
        }
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            // The UPDATE first: it takes the write lock before the read (SQLite).
            let found = sqlx::query("UPDATE custom_fields SET options = options WHERE location_id = $1 AND id = $2")
                .bind(location.0)
                .bind(field_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if found == 0 {
                return Err(StoreError::not_found(format!("custom field {field_id}")));
            }
            let raw: String = sqlx::query_scalar("SELECT options FROM custom_fields WHERE location_id = $1 AND id = $2")
                .bind(location.0)
                .bind(field_id)
                .fetch_one(&mut *tx)
                .await?;
            let mut options: Vec<String> = serde_json::from_str(&raw)
                .map_err(|e| StoreError::Corrupt(format!("options of custom field {field_id}: {e}")))?;
            if options.iter().any(|o| o.to_lowercase() == option.to_lowercase()) {
                return Err(StoreError::Conflict(format!("the field already has the option “{option}”")));
            }
            options.push(option.to_string());
            sqlx::query("UPDATE custom_fields SET options = $3 WHERE location_id = $1 AND id = $2")
                .bind(location.0)
                .bind(field_id)
                .bind(serde_json::to_string(&options).expect("strings serialise"))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(options)
        })
    }
}

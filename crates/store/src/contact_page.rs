//! One contact as its page shows it (SPEC §13.2 `GET /contacts/{id}`): every field, tags,
//! additional values, notes, email verification and the imports that created or changed it;
//! and an admin's edit of its fields on that page (SPEC §12: the source included).
//!
//! An edit bumps the contact's `version` in the same transaction as the change, like every
//! other change: a later revert of an import that touched the contact sees it was changed
//! since and leaves it alone (see `revert.rs`). An edit names the version it was made
//! against, so two admins editing at once never silently overwrite each other.

use std::collections::BTreeMap;

use crate::contacts::email_match_key;
use crate::error::conflict_on_unique;
use crate::import::{BOOL_COLUMNS, StoredContact, TEXT_COLUMNS, search_text};
use crate::{LocationId, Result, Store, StoreError, now_ms, on_pool};

/// A contact, whole, for its page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactDetail {
    /// Every field by key in its stored text form, tags and additional values.
    pub contact: StoredContact,
    pub email_verification: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Notes, oldest first.
    pub notes: Vec<ContactNote>,
    /// The imports that created or updated the contact, newest first.
    pub imports: Vec<ContactImport>,
    /// The contact's opportunities, oldest first.
    pub opportunities: Vec<ContactOpportunity>,
}

/// An opportunity linked to a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactOpportunity {
    pub id: i64,
    pub name: String,
    pub pipeline: String,
    pub stage: String,
    /// `open`, `won`, `lost` or `abandoned`.
    pub status: String,
    /// An exact decimal, as stored.
    pub value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactNote {
    pub body: String,
    pub job_id: Option<i64>,
    pub created_at: i64,
}

/// An import that created or updated a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactImport {
    pub job_id: i64,
    pub job_name: String,
    pub file_name: Option<String>,
    /// `created` or `updated`.
    pub action: String,
    pub created_at: i64,
}

/// Whether `key` is a standard contact field the page may write (a text column or a DND
/// flag); any other key is a custom field's.
fn column_of(key: &str) -> Option<(&'static str, bool)> {
    if let Some((_, col)) = TEXT_COLUMNS.iter().find(|(k, _)| *k == key) {
        return Some((col, false));
    }
    BOOL_COLUMNS.iter().find(|c| **c == key).map(|c| (*c, true))
}

impl Store {
    /// The location's contact `id` with everything its page shows; not found for a contact of
    /// another location.
    pub async fn contact_detail(&self, location: LocationId, id: i64) -> Result<ContactDetail> {
        let contact = self
            .contacts_for_matching(location, &[id], &[], &[])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::not_found(format!("contact {id}")))?;
        let (head, notes, imports, opportunities) = on_pool!(self, p => {
            let head: Option<(String, i64, i64, i64)> = sqlx::query_as(
                "SELECT email_verification, version, created_at, updated_at FROM contacts \
                 WHERE location_id = $1 AND id = $2",
            )
            .bind(location.0)
            .bind(id)
            .fetch_optional(p)
            .await?;
            let notes: Vec<(String, Option<i64>, i64)> = sqlx::query_as(
                "SELECT body, job_id, created_at FROM notes WHERE location_id = $1 AND contact_id = $2 ORDER BY id",
            )
            .bind(location.0)
            .bind(id)
            .fetch_all(p)
            .await?;
            let imports: Vec<(i64, String, Option<String>, String, i64)> = sqlx::query_as(
                "SELECT j.id, j.name, j.file_name, ci.action, j.created_at FROM contact_imports ci \
                 JOIN jobs j ON j.id = ci.job_id AND j.location_id = ci.location_id \
                 WHERE ci.location_id = $1 AND ci.contact_id = $2 ORDER BY j.id DESC",
            )
            .bind(location.0)
            .bind(id)
            .fetch_all(p)
            .await?;
            let opportunities: Vec<(i64, String, String, String, String, Option<String>)> = sqlx::query_as(
                "SELECT o.id, o.name, p.name, s.name, o.status, o.monetary_value FROM opportunities o \
                 JOIN pipelines p ON p.id = o.pipeline_id JOIN stages s ON s.id = o.stage_id \
                 WHERE o.location_id = $1 AND o.contact_id = $2 ORDER BY o.id",
            )
            .bind(location.0)
            .bind(id)
            .fetch_all(p)
            .await?;
            Ok::<_, StoreError>((head, notes, imports, opportunities))
        })?;
        let (email_verification, version, created_at, updated_at) =
            head.ok_or_else(|| StoreError::not_found(format!("contact {id}")))?;
        Ok(ContactDetail {
            contact,
            email_verification,
            version,
            created_at,
            updated_at,
            notes: notes
                .into_iter()
                .map(|(body, job_id, created_at)| ContactNote {
                    body,
                    job_id,
                    created_at,
                })
                .collect(),
            imports: imports
                .into_iter()
                .map(
                    |(job_id, job_name, file_name, action, created_at)| ContactImport {
                        job_id,
                        job_name,
                        file_name,
                        action,
                        created_at,
                    },
                )
                .collect(),
            opportunities: opportunities
                .into_iter()
                .map(
                    |(id, name, pipeline, stage, status, value)| ContactOpportunity {
                        id,
                        name,
                        pipeline,
                        stage,
                        status,
                        value,
                    },
                )
                .collect(),
        })
    }

    /// Writes an admin's edit of one contact: each `Some(value)` is the field's new value in
    /// its stored form (already read by its type; DND flags `true`/`false`), each `None`
    /// clears it; keys that are not standard columns are custom fields. `version` is the one
    /// the edit was made against: when the contact changed since, nothing is written and the
    /// answer is a conflict. A primary email or phone another contact holds is a conflict
    /// too. The contact's `version` is bumped, so a revert leaves it alone.
    pub async fn update_contact_fields(
        &self,
        location: LocationId,
        id: i64,
        version: i64,
        changes: &BTreeMap<String, Option<String>>,
    ) -> Result<()> {
        let now = now_ms();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            // The UPDATE first: it takes the write lock before the reads (SQLite).
            let found = sqlx::query(
                "UPDATE contacts SET version = version + 1, updated_at = $4 \
                 WHERE location_id = $1 AND id = $2 AND version = $3",
            )
            .bind(location.0)
            .bind(id)
            .bind(version)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if found == 0 {
                let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM contacts WHERE location_id = $1 AND id = $2")
                    .bind(location.0)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                return Err(match exists {
                    Some(_) => StoreError::Conflict(
                        "someone changed this contact while you were editing it".into(),
                    ),
                    None => StoreError::not_found(format!("contact {id}")),
                });
            }
            let mut custom: serde_json::Map<String, serde_json::Value> = {
                let raw: String = sqlx::query_scalar("SELECT custom_values FROM contacts WHERE location_id = $1 AND id = $2")
                    .bind(location.0)
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                serde_json::from_str(&raw)
                    .map_err(|e| StoreError::Corrupt(format!("custom values of contact {id}: {e}")))?
            };
            for (key, value) in changes {
                match column_of(key) {
                    Some((column, false)) => {
                        let sql = format!("UPDATE contacts SET {column} = $3 WHERE location_id = $1 AND id = $2");
                        sqlx::query(sqlx::AssertSqlSafe(sql))
                            .bind(location.0)
                            .bind(id)
                            .bind(value.as_deref())
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| conflict_on_unique(e, || format!(
                                "another contact of this location already has the {} {}",
                                if key == "email" { "email" } else { "phone" },
                                value.as_deref().unwrap_or("")
                            )))?;
                    }
                    Some((column, true)) => {
                        let flag = value.as_deref() == Some("true");
                        let sql = format!("UPDATE contacts SET {column} = $3 WHERE location_id = $1 AND id = $2");
                        sqlx::query(sqlx::AssertSqlSafe(sql))
                            .bind(location.0)
                            .bind(id)
                            .bind(flag)
                            .execute(&mut *tx)
                            .await?;
                    }
                    None => {
                        match value {
                            Some(v) => custom.insert(key.clone(), serde_json::Value::String(v.clone())),
                            None => custom.remove(key),
                        };
                    }
                }
            }
            let (first, last, email, phone): (Option<String>, Option<String>, Option<String>, Option<String>) =
                sqlx::query_as("SELECT first_name, last_name, email, phone FROM contacts WHERE location_id = $1 AND id = $2")
                    .bind(location.0)
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
            let mut named = BTreeMap::new();
            for (k, v) in [("first_name", first), ("last_name", last), ("email", email.clone()), ("phone", phone)] {
                if let Some(v) = v {
                    named.insert(k.to_string(), v);
                }
            }
            sqlx::query(
                "UPDATE contacts SET custom_values = $3, email_key = $4, search_text = $5 \
                 WHERE location_id = $1 AND id = $2",
            )
            .bind(location.0)
            .bind(id)
            .bind(serde_json::Value::Object(custom).to_string())
            .bind(email.as_deref().map(email_match_key))
            .bind(search_text(&named))
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_on_unique(e, || "another contact of this location already has this email".to_string()))?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }
}

#[cfg(test)]
mod tests;

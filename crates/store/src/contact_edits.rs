//! Small edits to existing contacts outside an import: tags, consent flags (DND per channel,
//! Status), email verification and custom field values. The workflow runtime, the API and
//! tests use them; the import engine writes its chunks itself.
//!
//! These functions never enroll anyone in a workflow: a tag added here fires no tag-added
//! trigger (the runtime does that for tags its own steps add, in the step's transaction).
//! Every change bumps the contact's `version` and `updated_at`, as a revert expects.

use crate::smart_lists::DndChannel;
use crate::sql::params;
use crate::{LocationId, Result, Store, StoreError, now_ms, on_pool};

/// A contact's email verification status (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmailVerification {
    Unverified,
    Valid,
    Invalid,
}

impl EmailVerification {
    pub fn as_str(self) -> &'static str {
        match self {
            EmailVerification::Unverified => "unverified",
            EmailVerification::Valid => "valid",
            EmailVerification::Invalid => "invalid",
        }
    }
}

/// The flags [`Store::set_contact_flags`] changes: each `Some` is written, each `None` left
/// as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactFlags {
    pub dnd_sms: Option<bool>,
    pub dnd_email: Option<bool>,
    pub dnd_calls: Option<bool>,
    pub dnd_voicemail: Option<bool>,
    pub email_verification: Option<EmailVerification>,
    /// `Subscribed` or `Unsubscribed` (SPEC §3).
    pub status: Option<String>,
}

impl ContactFlags {
    /// Sets one channel's DND flag.
    pub fn with_dnd(mut self, channel: DndChannel, value: bool) -> Self {
        *match channel {
            DndChannel::Sms => &mut self.dnd_sms,
            DndChannel::Email => &mut self.dnd_email,
            DndChannel::Calls => &mut self.dnd_calls,
            DndChannel::Voicemail => &mut self.dnd_voicemail,
        } = Some(value);
        self
    }
}

/// How many ids go into one `IN (…)` list.
const ID_CHUNK: usize = 1000;

impl Store {
    /// Adds `tags` to each of the location's contacts in `contact_ids` (ids of other
    /// locations are ignored), creating a tag by name when the location has none with that
    /// key ([`domain::value::tag_key`]: case-insensitive), in one transaction. Returns how
    /// many (contact, tag) pairs are new. Fires no workflow trigger.
    pub async fn add_tags(
        &self,
        location: LocationId,
        contact_ids: &[i64],
        tags: &[String],
    ) -> Result<u64> {
        let now = now_ms();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut added = 0u64;
            for tag in tags {
                let key = domain::value::tag_key(tag);
                if key.is_empty() {
                    continue;
                }
                sqlx::query(
                    "INSERT INTO tags (location_id, name, name_key, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (location_id, name_key) DO NOTHING",
                )
                .bind(location.0)
                .bind(domain::value::trim(tag))
                .bind(&key)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let tag_id: i64 = sqlx::query_scalar("SELECT id FROM tags WHERE location_id = $1 AND name_key = $2")
                    .bind(location.0)
                    .bind(&key)
                    .fetch_one(&mut *tx)
                    .await?;
                for chunk in contact_ids.chunks(ID_CHUNK) {
                    let sql = format!(
                        "INSERT INTO contact_tags (contact_id, tag_id, location_id, added_by_job, created_at) \
                         SELECT c.id, $2, c.location_id, NULL, $3 FROM contacts c \
                         WHERE c.location_id = $1 AND c.id IN ({}) \
                         ON CONFLICT (contact_id, tag_id) DO NOTHING RETURNING contact_id",
                        params(4, chunk.len())
                    );
                    let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(location.0).bind(tag_id).bind(now);
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    let changed: Vec<i64> = q.fetch_all(&mut *tx).await?;
                    added += changed.len() as u64;
                    if !changed.is_empty() {
                        let sql = format!(
                            "UPDATE contacts SET version = version + 1, updated_at = $2 WHERE location_id = $1 AND id IN ({})",
                            params(3, changed.len())
                        );
                        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(location.0).bind(now);
                        for id in &changed {
                            q = q.bind(*id);
                        }
                        q.execute(&mut *tx).await?;
                    }
                }
            }
            tx.commit().await?;
            Ok::<_, StoreError>(added)
        })
    }

    /// The names of a contact's tags, by name key. A contact of another location has none.
    pub async fn contact_tags(&self, location: LocationId, contact_id: i64) -> Result<Vec<String>> {
        Ok(on_pool!(self, p => {
            sqlx::query_scalar(
                "SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id \
                 WHERE ct.location_id = $1 AND t.location_id = $1 AND ct.contact_id = $2 ORDER BY t.name_key",
            )
            .bind(location.0)
            .bind(contact_id)
            .fetch_all(p)
            .await
        })?)
    }

    /// Sets DND flags, Status and email verification on the location's contacts in
    /// `contact_ids` (the `Some` fields of `flags`; ids of other locations are ignored), in
    /// one transaction. Returns how many contacts were changed.
    pub async fn set_contact_flags(
        &self,
        location: LocationId,
        contact_ids: &[i64],
        flags: &ContactFlags,
    ) -> Result<u64> {
        let now = now_ms();
        let verification = flags.email_verification.map(EmailVerification::as_str);
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut changed = 0;
            for chunk in contact_ids.chunks(ID_CHUNK) {
                let sql = format!(
                    "UPDATE contacts SET dnd_sms = COALESCE($3, dnd_sms), dnd_email = COALESCE($4, dnd_email), \
                     dnd_calls = COALESCE($5, dnd_calls), dnd_voicemail = COALESCE($6, dnd_voicemail), \
                     email_verification = COALESCE($7, email_verification), status = COALESCE($8, status), \
                     version = version + 1, updated_at = $2 WHERE location_id = $1 AND id IN ({})",
                    params(9, chunk.len())
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(location.0)
                    .bind(now)
                    .bind(flags.dnd_sms)
                    .bind(flags.dnd_email)
                    .bind(flags.dnd_calls)
                    .bind(flags.dnd_voicemail)
                    .bind(verification)
                    .bind(flags.status.as_deref());
                for id in chunk {
                    q = q.bind(*id);
                }
                changed += q.execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
            Ok::<_, StoreError>(changed)
        })
    }

    /// Sets (or, with `None`, removes) one custom field value of a contact of the location.
    /// The value is stored as given; reading it by the field's type is the caller's job.
    pub async fn set_contact_custom_value(
        &self,
        location: LocationId,
        contact_id: i64,
        key: &str,
        value: Option<serde_json::Value>,
    ) -> Result<()> {
        let now = now_ms();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            // The UPDATE first: it takes the write lock before the read (SQLite).
            let found = sqlx::query("UPDATE contacts SET version = version + 1, updated_at = $3 WHERE location_id = $1 AND id = $2")
                .bind(location.0)
                .bind(contact_id)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if found == 0 {
                return Err(StoreError::not_found(format!("contact {contact_id}")));
            }
            let raw: String = sqlx::query_scalar("SELECT custom_values FROM contacts WHERE location_id = $1 AND id = $2")
                .bind(location.0)
                .bind(contact_id)
                .fetch_one(&mut *tx)
                .await?;
            let mut values: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&raw)
                .map_err(|e| StoreError::Corrupt(format!("custom values of contact {contact_id}: {e}")))?;
            match value {
                Some(v) => values.insert(key.to_string(), v),
                None => values.remove(key),
            };
            sqlx::query("UPDATE contacts SET custom_values = $3 WHERE location_id = $1 AND id = $2")
                .bind(location.0)
                .bind(contact_id)
                .bind(serde_json::Value::Object(values).to_string())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }
}

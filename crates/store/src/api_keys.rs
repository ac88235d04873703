//! API keys (SPEC §2): per location, for integrations. The store keeps a key's public prefix
//! and the SHA-256 of the whole key, never the key; making keys and hashing them is the web
//! crate's job (`web::api`). A revoked key stops working at once: every request looks its
//! key up.

use crate::error::conflict_on_unique;
use crate::{LocationId, Result, Store, StoreError, now_ms, on_pool};

/// A key as the store knows it (no secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyInfo {
    pub id: i64,
    pub location_id: LocationId,
    /// The public part that names the key (`ax_PREFIX_…`).
    pub prefix: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

type KeyRow = (i64, i64, String, i64, Option<i64>);

fn from_row((id, location, prefix, created_at, revoked_at): KeyRow) -> ApiKeyInfo {
    ApiKeyInfo {
        id,
        location_id: LocationId(location),
        prefix,
        created_at,
        revoked_at,
    }
}

impl Store {
    /// Stores a new key of the location by its prefix and hash. A prefix already used (by
    /// any location) is a conflict; the caller makes another key.
    pub async fn insert_api_key(
        &self,
        location: LocationId,
        prefix: &str,
        key_hash: &str,
    ) -> Result<ApiKeyInfo> {
        let now = now_ms();
        let id: i64 = on_pool!(self, p => {
            sqlx::query_scalar(
                "INSERT INTO api_keys (location_id, prefix, key_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(location.0)
            .bind(prefix)
            .bind(key_hash)
            .bind(now)
            .fetch_one(p)
            .await
            .map_err(|e| conflict_on_unique(e, || format!("an API key with prefix '{prefix}' already exists")))
        })?;
        Ok(ApiKeyInfo {
            id,
            location_id: location,
            prefix: prefix.to_string(),
            created_at: now,
            revoked_at: None,
        })
    }

    /// The live (not revoked) key with this prefix and its stored hash, for the caller to
    /// compare with the hash of the key presented. This is the one API-key lookup that takes
    /// no location: the key is what tells which location is asking.
    pub async fn live_api_key(&self, prefix: &str) -> Result<Option<(ApiKeyInfo, String)>> {
        let row: Option<(i64, i64, String, i64, Option<i64>, String)> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT id, location_id, prefix, created_at, revoked_at, key_hash FROM api_keys \
                 WHERE prefix = $1 AND revoked_at IS NULL",
            )
            .bind(prefix)
            .fetch_optional(p)
            .await
        })?;
        Ok(row.map(|(id, l, p, c, r, hash)| (from_row((id, l, p, c, r)), hash)))
    }

    /// Revokes the location's key with this prefix, at once. A prefix of another location,
    /// or none, is not found; revoking a revoked key changes nothing.
    pub async fn revoke_api_key(&self, location: LocationId, prefix: &str) -> Result<ApiKeyInfo> {
        let now = now_ms();
        let row: Option<KeyRow> = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("UPDATE api_keys SET revoked_at = $3 WHERE location_id = $1 AND prefix = $2 AND revoked_at IS NULL")
                .bind(location.0)
                .bind(prefix)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let row = sqlx::query_as(
                "SELECT id, location_id, prefix, created_at, revoked_at FROM api_keys WHERE location_id = $1 AND prefix = $2",
            )
            .bind(location.0)
            .bind(prefix)
            .fetch_optional(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(row)
        })?;
        row.map(from_row).ok_or_else(|| {
            StoreError::not_found(format!(
                "an API key with prefix '{prefix}' in this location"
            ))
        })
    }

    /// The location's keys, newest first.
    pub async fn api_keys(&self, location: LocationId) -> Result<Vec<ApiKeyInfo>> {
        let rows: Vec<KeyRow> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT id, location_id, prefix, created_at, revoked_at FROM api_keys WHERE location_id = $1 ORDER BY id DESC",
            )
            .bind(location.0)
            .fetch_all(p)
            .await
        })?;
        Ok(rows.into_iter().map(from_row).collect())
    }
}

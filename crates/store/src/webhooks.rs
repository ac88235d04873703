//! Inbound webhooks (SPEC §12): a location's secret URL `/hooks/{token}`, made with
//! `aesthetix webhook create`. Only the token's hash is stored; the token is shown once.

use crate::{LocationId, Result, Store, now_ms, on_pool};

/// A location's webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: i64,
    pub location_id: LocationId,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

type Row = (i64, i64, i64, Option<i64>);

fn webhook((id, location, created_at, revoked_at): Row) -> Webhook {
    Webhook {
        id,
        location_id: LocationId(location),
        created_at,
        revoked_at,
    }
}

impl Store {
    /// Stores a new webhook of the location by its token's hash.
    pub async fn create_webhook(&self, location: LocationId, token_hash: &str) -> Result<Webhook> {
        let now = now_ms();
        let id: i64 = on_pool!(self, p => {
            sqlx::query_scalar(
                "INSERT INTO webhooks (location_id, token_hash, created_at) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(location.0)
            .bind(token_hash)
            .bind(now)
            .fetch_one(p)
            .await
        })?;
        Ok(Webhook {
            id,
            location_id: location,
            created_at: now,
            revoked_at: None,
        })
    }

    /// The live webhook whose token hashes to `token_hash`, if any.
    pub async fn live_webhook(&self, token_hash: &str) -> Result<Option<Webhook>> {
        let row: Option<Row> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT id, location_id, created_at, revoked_at FROM webhooks \
                 WHERE token_hash = $1 AND revoked_at IS NULL",
            )
            .bind(token_hash)
            .fetch_optional(p)
            .await
        })?;
        Ok(row.map(webhook))
    }

    /// The location's webhooks, oldest first.
    pub async fn webhooks(&self, location: LocationId) -> Result<Vec<Webhook>> {
        let rows: Vec<Row> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT id, location_id, created_at, revoked_at FROM webhooks WHERE location_id = $1 ORDER BY id",
            )
            .bind(location.0)
            .fetch_all(p)
            .await
        })?;
        Ok(rows.into_iter().map(webhook).collect())
    }
}

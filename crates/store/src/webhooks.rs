//! Inbound webhooks (SPEC §12): a location's secret URL `/hooks/{token}`, made with
//! `aesthetix webhook create`. Only the token's hash is stored; the token is shown once.

use crate::{LocationId, Result, Store, StoreError, now_ms, on_pool};

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

    /// Revokes the location's live webhook `id`: its URL is refused from now on (the row stays,
    /// like a revoked API key's). Not found when the location has no such live webhook, so
    /// another location's webhook cannot be touched.
    pub async fn revoke_webhook(&self, location: LocationId, id: i64) -> Result<()> {
        let now = now_ms();
        let changed: u64 = on_pool!(self, p => {
            sqlx::query(
                "UPDATE webhooks SET revoked_at = $3 WHERE location_id = $1 AND id = $2 AND revoked_at IS NULL",
            )
            .bind(location.0)
            .bind(id)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        if changed == 0 {
            return Err(StoreError::not_found(format!(
                "a webhook {id} in use in this location"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use domain::LocationSettings;

    use crate::testing::each_backend;

    #[tokio::test]
    async fn a_webhook_is_revoked_only_by_its_own_location() {
        for db in each_backend().await {
            let s = &db.store;
            let spa = s
                .create_location("Spa", &LocationSettings::default())
                .await
                .unwrap();
            let other = s
                .create_location("Other", &LocationSettings::default())
                .await
                .unwrap();
            let hook = s.create_webhook(spa.id, "hash-a").await.unwrap();
            let theirs = s.create_webhook(other.id, "hash-b").await.unwrap();
            assert_eq!(s.webhooks(spa.id).await.unwrap(), vec![hook.clone()]);

            let refused = s.revoke_webhook(spa.id, theirs.id).await.unwrap_err();
            assert!(refused.is_not_found(), "{refused}");
            assert!(s.live_webhook("hash-b").await.unwrap().is_some());

            s.revoke_webhook(spa.id, hook.id).await.unwrap();
            assert!(s.live_webhook("hash-a").await.unwrap().is_none());
            let listed = s.webhooks(spa.id).await.unwrap();
            assert!(listed[0].revoked_at.is_some(), "{listed:?}");
            assert!(
                s.revoke_webhook(spa.id, hook.id)
                    .await
                    .unwrap_err()
                    .is_not_found(),
                "revoked once"
            );
        }
    }
}

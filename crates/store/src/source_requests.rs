//! The per-minute limit of the contact sources (SPEC §12: an API key or an inbound webhook
//! sending more than 60 requests a minute is refused with 429), counted in the database so
//! that every web process of a deployment sees the same minute (migration 20).

use crate::{Db, LocationId, Result, Store};

/// The window the limit counts over.
pub const WINDOW_MS: i64 = 60_000;

impl Store {
    /// Counts a request of `source` (an API key's prefix, a webhook's id: any stable name) in
    /// `location` at `now` (ms) when fewer than `limit` were accepted in the minute before it,
    /// and answers `Ok(())`; otherwise counts nothing and answers `Err(seconds)`, how long until
    /// the oldest request of the minute leaves the window (at least 1).
    ///
    /// The check and the count are one step for every process: on SQLite one statement (the
    /// write lock), on PostgreSQL a transaction holding an advisory lock named after the source.
    pub async fn take_source_request(
        &self,
        location: LocationId,
        source: &str,
        limit: u32,
        now: i64,
    ) -> Result<std::result::Result<(), u64>> {
        let since = now - WINDOW_MS;
        const FORGET: &str =
            "DELETE FROM source_requests WHERE location_id = $1 AND source = $2 AND at <= $3";
        const TAKE: &str = "INSERT INTO source_requests (location_id, source, at) \
             SELECT $1, $2, $3 WHERE (SELECT COUNT(*) FROM source_requests \
             WHERE location_id = $1 AND source = $2 AND at > $4) < $5";
        const OLDEST: &str = "SELECT MIN(at) FROM source_requests WHERE location_id = $1 AND source = $2 AND at > $3";
        let (taken, oldest): (u64, Option<i64>) = match &self.db {
            Db::Sqlite(p) => {
                sqlx::query(FORGET)
                    .bind(location.0)
                    .bind(source)
                    .bind(since)
                    .execute(p)
                    .await?;
                let taken = sqlx::query(TAKE)
                    .bind(location.0)
                    .bind(source)
                    .bind(now)
                    .bind(since)
                    .bind(i64::from(limit))
                    .execute(p)
                    .await?
                    .rows_affected();
                let oldest = if taken == 0 {
                    sqlx::query_scalar(OLDEST)
                        .bind(location.0)
                        .bind(source)
                        .bind(since)
                        .fetch_one(p)
                        .await?
                } else {
                    None
                };
                (taken, oldest)
            }
            Db::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(lock_key(location, source))
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(FORGET)
                    .bind(location.0)
                    .bind(source)
                    .bind(since)
                    .execute(&mut *tx)
                    .await?;
                let taken = sqlx::query(TAKE)
                    .bind(location.0)
                    .bind(source)
                    .bind(now)
                    .bind(since)
                    .bind(i64::from(limit))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let oldest = if taken == 0 {
                    sqlx::query_scalar(OLDEST)
                        .bind(location.0)
                        .bind(source)
                        .bind(since)
                        .fetch_one(&mut *tx)
                        .await?
                } else {
                    None
                };
                tx.commit().await?;
                (taken, oldest)
            }
        };
        if taken > 0 {
            return Ok(Ok(()));
        }
        let wait_ms = oldest.map_or(WINDOW_MS, |o| o + WINDOW_MS - now);
        Ok(Err((wait_ms.max(0) as u64).div_ceil(1000).max(1)))
    }
}

/// The advisory lock of one source: a 64-bit FNV-1a hash of the location and the source,
/// so two sources rarely share a lock (and only wait for each other when they do).
fn lock_key(location: LocationId, source: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in location.0.to_le_bytes().iter().chain(source.as_bytes()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h as i64
}

#[cfg(test)]
mod tests {
    use domain::LocationSettings;

    use super::*;
    use crate::testing::each_backend;

    async fn location(store: &Store, name: &str) -> LocationId {
        store
            .create_location(name, &LocationSettings::default())
            .await
            .unwrap()
            .id
    }

    #[tokio::test]
    async fn a_source_gets_its_limit_a_minute_and_is_told_when_to_retry() {
        for db in each_backend().await {
            let s = &db.store;
            let (a, b) = (location(s, "A").await, location(s, "B").await);
            let t0 = 1_000_000_000;
            for i in 0..3 {
                let taken = s.take_source_request(a, "key:x", 3, t0 + i * 1000).await;
                assert_eq!(taken.unwrap(), Ok(()));
            }
            // The fourth within the minute waits until the first leaves it, 57 s later.
            let refused = s.take_source_request(a, "key:x", 3, t0 + 3000).await;
            assert_eq!(refused.unwrap(), Err(57));
            // Another source, and the same name in another location, count apart.
            let other = s.take_source_request(a, "hook:1", 3, t0 + 3000).await;
            assert_eq!(other.unwrap(), Ok(()));
            let elsewhere = s.take_source_request(b, "key:x", 3, t0 + 3000).await;
            assert_eq!(elsewhere.unwrap(), Ok(()));
            // A minute after the first, one place is free again, and only one.
            let freed = s.take_source_request(a, "key:x", 3, t0 + WINDOW_MS).await;
            assert_eq!(freed.unwrap(), Ok(()));
            let full = s.take_source_request(a, "key:x", 3, t0 + WINDOW_MS).await;
            assert_eq!(full.unwrap(), Err(1));
        }
    }

    #[tokio::test]
    async fn concurrent_requests_never_pass_the_limit() {
        for db in each_backend().await {
            let a = location(&db.store, "A").await;
            let now = 2_000_000_000;
            let tries: Vec<_> = (0..40)
                .map(|_| {
                    let store = db.store.clone();
                    tokio::spawn(async move {
                        store
                            .take_source_request(a, "key:y", 25, now)
                            .await
                            .unwrap()
                    })
                })
                .collect();
            let mut accepted = 0;
            for t in tries {
                if t.await.unwrap().is_ok() {
                    accepted += 1;
                }
            }
            assert_eq!(accepted, 25, "on {:?}", db.database_url);
        }
    }
}

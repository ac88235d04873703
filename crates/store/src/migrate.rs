//! Schema migrations, embedded in the binary: one folder per backend (`migrations/sqlite`,
//! `migrations/postgres`), applied in order, each in its own transaction, recorded in
//! `schema_migrations`. Two processes starting at once on PostgreSQL serialise on an advisory
//! lock; on SQLite the write lock does the same.

use crate::{Db, Result, Store, StoreError, now_ms};

const SQLITE: &[(i64, &str)] = &[
    (1, include_str!("../../../migrations/sqlite/0001_init.sql")),
    (
        2,
        include_str!("../../../migrations/sqlite/0002_revert.sql"),
    ),
    (
        4,
        include_str!("../../../migrations/sqlite/0004_export.sql"),
    ),
    (
        5,
        include_str!("../../../migrations/sqlite/0005_import_drafts.sql"),
    ),
    (
        6,
        include_str!("../../../migrations/sqlite/0006_import_tables.sql"),
    ),
    (
        7,
        include_str!("../../../migrations/sqlite/0007_login_failures.sql"),
    ),
    (
        12,
        include_str!("../../../migrations/sqlite/0012_import_templates.sql"),
    ),
    (
        14,
        include_str!("../../../migrations/sqlite/0014_object_records.sql"),
    ),
    (
        16,
        include_str!("../../../migrations/sqlite/0016_revert_progress.sql"),
    ),
    (
        17,
        include_str!("../../../migrations/sqlite/0017_webhooks.sql"),
    ),
    (
        18,
        include_str!("../../../migrations/sqlite/0018_opportunities.sql"),
    ),
    (
        19,
        include_str!("../../../migrations/sqlite/0019_opportunity_import.sql"),
    ),
    (
        20,
        include_str!("../../../migrations/sqlite/0020_source_requests.sql"),
    ),
    (
        22,
        include_str!("../../../migrations/sqlite/0022_import_enrollments.sql"),
    ),
];
const POSTGRES: &[(i64, &str)] = &[
    (
        1,
        include_str!("../../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        include_str!("../../../migrations/postgres/0002_revert.sql"),
    ),
    (
        4,
        include_str!("../../../migrations/postgres/0004_export.sql"),
    ),
    (
        5,
        include_str!("../../../migrations/postgres/0005_import_drafts.sql"),
    ),
    (
        7,
        include_str!("../../../migrations/postgres/0007_login_failures.sql"),
    ),
    (
        12,
        include_str!("../../../migrations/postgres/0012_import_templates.sql"),
    ),
    (
        14,
        include_str!("../../../migrations/postgres/0014_object_records.sql"),
    ),
    (
        16,
        include_str!("../../../migrations/postgres/0016_revert_progress.sql"),
    ),
    (
        17,
        include_str!("../../../migrations/postgres/0017_webhooks.sql"),
    ),
    (
        18,
        include_str!("../../../migrations/postgres/0018_opportunities.sql"),
    ),
    (
        19,
        include_str!("../../../migrations/postgres/0019_opportunity_import.sql"),
    ),
    (
        20,
        include_str!("../../../migrations/postgres/0020_source_requests.sql"),
    ),
    (
        22,
        include_str!("../../../migrations/postgres/0022_import_enrollments.sql"),
    ),
];

/// An arbitrary constant naming our advisory lock.
const PG_LOCK: i64 = 0x4145_5354_4845_5458;

#[cfg(test)]
mod tests;

impl Store {
    pub(crate) async fn migrate(&self) -> Result<()> {
        self.migrate_to(i64::MAX).await
    }

    /// Applies the migrations up to `last` (tests build a database of an older version so).
    pub(crate) async fn migrate_to(&self, last: i64) -> Result<()> {
        match &self.db {
            Db::Sqlite(pool) => {
                let mut conn = pool.acquire().await?;
                // Foreign keys off while migrating, checked before each commit: SQLite's own
                // procedure for rebuilding a table (version 6), so dropping the old table does
                // not cascade. Off and on happen outside a transaction, where they take effect.
                sqlx::raw_sql("PRAGMA foreign_keys = OFF")
                    .execute(&mut *conn)
                    .await?;
                let result = sqlite_migrate(&mut conn, last).await;
                sqlx::raw_sql("PRAGMA foreign_keys = ON")
                    .execute(&mut *conn)
                    .await?;
                result?;
            }
            Db::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                sqlx::query("SELECT pg_advisory_lock($1)")
                    .bind(PG_LOCK)
                    .execute(&mut *conn)
                    .await?;
                let result = async {
                    sqlx::raw_sql("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
                        .execute(&mut *conn)
                        .await?;
                    for &(version, sql) in POSTGRES.iter().filter(|(v, _)| *v <= last) {
                        let done: Option<i64> =
                            sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                                .bind(version)
                                .fetch_optional(&mut *conn)
                                .await?;
                        if done.is_some() {
                            continue;
                        }
                        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                        sqlx::raw_sql(sql)
                            .execute(&mut *tx)
                            .await
                            .map_err(|source| StoreError::Migration { version, source })?;
                        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                            .bind(version)
                            .bind(now_ms())
                            .execute(&mut *tx)
                            .await?;
                        tx.commit().await?;
                    }
                    Ok::<_, StoreError>(())
                }
                .await;
                sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(PG_LOCK)
                    .execute(&mut *conn)
                    .await?;
                result?;
            }
        }
        Ok(())
    }
}

/// The SQLite migrations up to `last`, each in its own write transaction, on a connection whose
/// foreign keys are off: each is checked with `foreign_key_check` before it commits.
async fn sqlite_migrate(conn: &mut sqlx::SqliteConnection, last: i64) -> Result<()> {
    sqlx::raw_sql("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
        .execute(&mut *conn)
        .await?;
    for &(version, sql) in SQLITE.iter().filter(|(v, _)| *v <= last) {
        // BEGIN IMMEDIATE takes the write lock at once, so two processes migrate in turn.
        sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        let done: Option<i64> =
            sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(version)
                .fetch_optional(&mut *conn)
                .await?;
        if done.is_none() {
            let applied = async {
                sqlx::raw_sql(sql).execute(&mut *conn).await?;
                sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                    .bind(version)
                    .bind(now_ms())
                    .execute(&mut *conn)
                    .await?;
                sqlx::query_as::<_, (String, Option<i64>, String)>(
                    "SELECT \"table\", rowid, parent FROM pragma_foreign_key_check LIMIT 1",
                )
                .fetch_optional(&mut *conn)
                .await
            }
            .await;
            match applied {
                Ok(None) => {}
                Ok(Some((table, row, parent))) => {
                    sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await?;
                    return Err(StoreError::Corrupt(format!(
                        "schema version {version} was not applied: row {} of {table} refers to a \
                         missing row of {parent}",
                        row.map_or("?".to_string(), |r| r.to_string())
                    )));
                }
                Err(source) => {
                    sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await?;
                    return Err(StoreError::Migration { version, source });
                }
            }
        }
        sqlx::raw_sql("COMMIT").execute(&mut *conn).await?;
    }
    Ok(())
}

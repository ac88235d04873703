//! Databases for tests: a fresh SQLite file, and — when `AESTHETIX_TEST_DATABASE_URL` names a
//! PostgreSQL server — a fresh database of its own on that server for every test.
//!
//! Without the variable, PostgreSQL tests skip with a loud line (`say_skipped`); with
//! `AESTHETIX_REQUIRE_SERVICES=1` (as CI sets it) its absence fails the test instead.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::Connection;
use sqlx::postgres::PgConnection;

use crate::{Backend, Store};

/// A directory removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "{prefix}-{}-{nanos}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("create a temporary directory");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A database of a test's own.
pub struct TestDb {
    pub store: Store,
    /// For SQLite, the data directory holding the database; for PostgreSQL, an empty one.
    pub dir: TempDir,
    /// The PostgreSQL URL of this test's database (`None` on SQLite).
    pub database_url: Option<String>,
}

impl TestDb {
    pub fn backend(&self) -> Backend {
        self.store.backend()
    }
}

/// The admin URL of the test PostgreSQL server, or `None` (after a loud line, once per test
/// binary) when the environment names none. Panics when `AESTHETIX_REQUIRE_SERVICES=1` and none
/// is named.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("AESTHETIX_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var("AESTHETIX_REQUIRE_SERVICES").as_deref() == Ok("1") {
                panic!("AESTHETIX_REQUIRE_SERVICES=1 but AESTHETIX_TEST_DATABASE_URL is not set");
            }
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                say_skipped(
                    "the PostgreSQL halves of these tests: AESTHETIX_TEST_DATABASE_URL is not set \
                     (e.g. postgres://postgres@127.0.0.1:5432/test)",
                )
            });
            None
        }
    }
}

/// Says that a test skips `what`, where `cargo test` shows it: straight to the process's
/// stderr, which the test harness does not capture (an `eprintln!` from a passing test is
/// swallowed, and a skip nobody sees is not loud).
pub fn say_skipped(what: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "\n*** SKIPPING {what} ***\n");
}

/// A fresh SQLite database in its own data directory.
pub async fn sqlite() -> TestDb {
    let dir = TempDir::new("aesthetix-test");
    let store = Store::open_sqlite(&dir.path().join("aesthetix.db"))
        .await
        .expect("open sqlite");
    TestDb {
        store,
        dir,
        database_url: None,
    }
}

/// Creates an empty PostgreSQL database of this test's own and returns its URL.
pub async fn fresh_postgres_database(admin_url: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let name = format!(
        "aesthetix_t_{secs}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = PgConnection::connect(admin_url)
        .await
        .expect("connect to the test PostgreSQL server");
    drop_stale_databases(&mut admin, secs).await;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    let _ = admin.close().await;
    match admin_url.rsplit_once('/') {
        Some((server, _db)) => format!("{server}/{name}"),
        None => panic!("AESTHETIX_TEST_DATABASE_URL must end in /DATABASE"),
    }
}

/// Drops test databases left by runs more than an hour old (tests that panicked).
async fn drop_stale_databases(admin: &mut PgConnection, now_secs: u64) {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'aesthetix\\_t\\_%'",
    )
    .fetch_all(&mut *admin)
    .await
    .unwrap_or_default();
    for name in names {
        let born: u64 = name
            .split('_')
            .nth(2)
            .and_then(|s| s.parse().ok())
            .unwrap_or(u64::MAX);
        if born.saturating_add(3600) < now_secs {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut *admin)
            .await;
        }
    }
}

/// A fresh PostgreSQL database, or `None` when no server is configured (see
/// [`postgres_admin_url`]).
pub async fn postgres() -> Option<TestDb> {
    let admin = postgres_admin_url()?;
    let url = fresh_postgres_database(&admin).await;
    let store = Store::connect_postgres(&url)
        .await
        .expect("connect to the test database");
    Some(TestDb {
        store,
        dir: TempDir::new("aesthetix-test-pg"),
        database_url: Some(url),
    })
}

/// A fresh database on every backend this machine has: SQLite always, PostgreSQL when set.
pub async fn each_backend() -> Vec<TestDb> {
    let mut dbs = vec![sqlite().await];
    dbs.extend(postgres().await);
    dbs
}

/// Moves a stored file's expiry (tests of SPEC §10's 30 days, which cannot wait a month).
pub async fn set_file_expiry(store: &Store, file: i64, expires_at: i64) {
    crate::on_pool!(store, p => {
        sqlx::query("UPDATE files SET expires_at = $2 WHERE id = $1")
            .bind(file)
            .bind(expires_at)
            .execute(p)
            .await
            .expect("update the file's expiry")
            .rows_affected()
    });
}

/// An opportunity written straight to the table (tests of the board and exports; the product
/// makes them through workflows and, later, imports). Returns its id.
pub async fn insert_opportunity(
    store: &Store,
    location: crate::LocationId,
    stage: &crate::Stage,
    pipeline: i64,
    name: &str,
    value: Option<&str>,
    contact: Option<i64>,
) -> i64 {
    let now = crate::now_ms();
    crate::on_pool!(store, p => {
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO opportunities (location_id, pipeline_id, stage_id, name, status, monetary_value, contact_id, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $7) RETURNING id",
        )
        .bind(location.0)
        .bind(pipeline)
        .bind(stage.id)
        .bind(name)
        .bind(value)
        .bind(contact)
        .bind(now)
        .fetch_one(p)
        .await
        .expect("insert an opportunity")
    })
}

/// An opportunity's (stage id, version) (tests of a move).
pub async fn opportunity_stage_version(store: &Store, id: i64) -> (i64, i64) {
    crate::on_pool!(store, p => {
        sqlx::query_as::<_, (i64, i64)>("SELECT stage_id, version FROM opportunities WHERE id = $1")
            .bind(id)
            .fetch_one(p)
            .await
            .expect("read an opportunity")
    })
}

/// Sets an opportunity's status, owner, source and custom values (tests of exports).
pub async fn set_opportunity(
    store: &Store,
    id: i64,
    status: &str,
    owner: Option<i64>,
    source: Option<&str>,
    custom_values: &str,
) {
    crate::on_pool!(store, p => {
        sqlx::query(
            "UPDATE opportunities SET status = $2, owner_user_id = $3, source = $4, custom_values = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(owner)
        .bind(source)
        .bind(custom_values)
        .execute(p)
        .await
        .expect("update an opportunity")
        .rows_affected()
    });
}

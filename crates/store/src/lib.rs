//! Storage: the one place that talks to a database, on SQLite (the embedded default) and on
//! PostgreSQL (several processes sharing one database).
//!
//! Invariants:
//! - Every location-scoped function takes a [`LocationId`] and filters on it in its SQL, so no
//!   caller can read or write another location's rows by forgetting a `WHERE`.
//! - The store never decides anything about an import: it looks things up in batches and
//!   writes what it is told, in one transaction per call.
//! - SQL is written once wherever the two dialects agree (numbered `$1` parameters work on
//!   both); [`on_pool!`] compiles the same code for each backend. Where they differ (pragmas,
//!   `FOR UPDATE SKIP LOCKED`), each backend has its own statement, side by side.

mod api_keys;
mod claims;
mod contact_edits;
mod contact_page;
mod contacts;
mod error;
mod export;
pub mod failpoint;
mod field_options;
mod fields;
mod files;
mod import;
mod import_drafts;
mod job_line_pages;
mod job_lines;
mod job_names;
mod jobs;
mod locations;
mod migrate;
mod objects;
mod opportunities;
mod opportunity_import;
mod pipelines;
mod record_pages;
mod records;
mod revert;
mod revert_progress;
mod runtime;
mod schedules;
mod smart_lists;
mod source_requests;
mod sql;
mod templates;
mod users;
mod webhooks;
pub mod workflows;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

pub use claims::{AfterChunk, DEFAULT_LEASE_MS, Lease, Requested};
pub use contact_page::{ContactDetail, ContactImport, ContactNote, ContactOpportunity};
pub use contacts::{ContactPage, ContactSummary, NewContact};
pub use error::StoreError;
pub use export::{BATCH_ROWS, ExportBatch, ExportField, ExportReader, ExportScope};
pub use fields::{CustomField, NewCustomField};
pub use files::{NewFile, Notification, StoredFile, is_generated_name};
pub use import::{
    ChunkWrite, ContactWrite, ImportSession, LineWrite, RecordRef, StoredContact, Totals,
};
pub use import_drafts::{DRAFT_DAYS, ImportDraft, JobExtras};
pub use job_line_pages::LinePage;
pub use job_lines::{LineCounts, LineMessage, LineRecord, LineTab, MAX_PAGE};
pub use jobs::{Job, JobEffects, NewJob};
pub use locations::Location;
pub use objects::CustomObject;
pub use opportunities::{Board, BoardCard, BoardColumn};
pub use opportunity_import::{OpportunityWrite, StoredOpportunity};
pub use pipelines::{Pipeline, Stage};
pub use record_pages::ShownRecord;
pub use records::{RecordChunkWrite, RecordWrite, StoredRecord};
pub use revert::{ContactDump, RevertConflict, RevertReport};
pub use revert_progress::{REVERT_STALLED_MS, RevertState};
pub use schedules::{ExportSchedule, NewExportSchedule, ScheduledJob};
pub use source_requests::WINDOW_MS as SOURCE_WINDOW_MS;
pub use templates::{MigrationStep, SavedTemplate};
pub use users::{Membership, SessionInfo, User};
pub use webhooks::Webhook;

pub use api_keys::ApiKeyInfo;
pub use contact_edits::{ContactFlags, EmailVerification};
pub use runtime::{
    Delivery, DeliverySummary, OutboxMessage, RecordingTransport, RunSummary, Transport,
    run_due_enrollments,
};
pub use smart_lists::{
    Channel, Condition, DndChannel, FILTER_FORMS, Filter, FilterError, SmartList, parse_filter,
};
pub use workflows::{
    ACTION_FORMS, Action, Enrollment, NewWorkflow, SyntaxError, TRIGGER_FORMS, Trigger, Workflow,
    WorkflowStatus, WorkflowSummary, parse_action, parse_trigger,
};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A location's id. Every location-scoped store function takes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocationId(pub i64);

/// A user's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub i64);

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A handle on the database: cheap to clone, shared by every request and worker.
#[derive(Clone)]
pub struct Store {
    db: Db,
    /// How long a job's lease lasts without a heartbeat (SPEC §9.7), in milliseconds.
    lease_ms: i64,
}

/// A whole number from the environment, for the knobs and test hooks read at open.
fn env_number(name: &str) -> Option<i64> {
    let v = std::env::var(name).ok()?;
    match v.trim().parse::<i64>() {
        Ok(n) if n > 0 => Some(n),
        _ => {
            tracing::warn!("{name}={v:?} is not a positive whole number; ignored");
            None
        }
    }
}

/// The knobs and test hooks every SQLite connection is opened with (see
/// [`Store::open_sqlite`]), read from the environment.
pub(crate) fn sqlite_settings() -> import::SqliteSettings {
    import::SqliteSettings {
        synchronous_normal: std::env::var("AESTHETIX_SQLITE_SYNCHRONOUS")
            .is_ok_and(|v| v.eq_ignore_ascii_case("normal")),
        busy_ms: env_number("AESTHETIX_TEST_SQLITE_BUSY_MS").unwrap_or(30_000),
        max_pages: env_number("AESTHETIX_TEST_SQLITE_MAX_PAGES"),
    }
}

/// Runs the same code against whichever pool the store holds. The body is compiled once per
/// backend, so it may only use SQL both dialects accept.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.db {
            $crate::Db::Sqlite($pool) => $body,
            $crate::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

impl Store {
    /// Opens (creating when missing) the SQLite database at `path`, in WAL mode with
    /// `synchronous=FULL` (SPEC §1: a committed chunk survives a power cut), and migrates it.
    ///
    /// Read from the environment besides `AESTHETIX_LEASE_MS` (see [`Store::lease_ms`]):
    /// - `AESTHETIX_SQLITE_SYNCHRONOUS=normal` — for the import benchmark only, which measures
    ///   what `FULL` costs; anything but `normal` keeps `FULL`.
    /// - `AESTHETIX_TEST_SQLITE_MAX_PAGES=N` — test hook: `PRAGMA max_page_count` on every
    ///   connection, so a test meets a full disk (`SQLITE_FULL`) without filling one.
    /// - `AESTHETIX_TEST_SQLITE_BUSY_MS=N` — test hook: the busy timeout (30 s otherwise), so a
    ///   test meets `SQLITE_BUSY` without waiting 30 s.
    pub async fn open_sqlite(path: &Path) -> Result<Store> {
        Store::open_sqlite_at(path, i64::MAX).await
    }

    /// [`Store::open_sqlite`], migrated up to schema version `last` only (tests of a migration
    /// start from the version before it).
    pub(crate) async fn open_sqlite_at(path: &Path, last: i64) -> Result<Store> {
        let settings = sqlite_settings();
        let synchronous = if settings.synchronous_normal {
            SqliteSynchronous::Normal
        } else {
            SqliteSynchronous::Full
        };
        let busy = settings.busy_ms;
        let mut options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .foreign_keys(true)
            .busy_timeout(Duration::from_millis(busy as u64))
            .pragma("cache_size", "-32768")
            .pragma("temp_store", "memory")
            // Multi-row statements of every batch size would otherwise stay prepared.
            .statement_cache_capacity(24);
        if let Some(pages) = settings.max_pages {
            options = options.pragma("max_page_count", pages.to_string());
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        let store = Store {
            db: Db::Sqlite(pool),
            lease_ms: lease_ms_from_env(),
        };
        store.migrate_to(last).await?;
        Ok(store)
    }

    /// Connects to PostgreSQL at `url` (`postgres://…`) and migrates it.
    pub async fn connect_postgres(url: &str) -> Result<Store> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        let store = Store {
            db: Db::Postgres(pool),
            lease_ms: lease_ms_from_env(),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// How long a job's lease lasts without a heartbeat, in milliseconds: 30 s, or
    /// `AESTHETIX_LEASE_MS` when set (tests use a short lease to see a lapsed one quickly).
    /// A runner renews its lease every third of this (see `jobs`), and with every chunk.
    pub fn lease_ms(&self) -> i64 {
        self.lease_ms
    }

    /// The same store with another lease length (tests).
    pub fn with_lease_ms(mut self, ms: i64) -> Store {
        self.lease_ms = ms.max(1);
        self
    }

    pub fn backend(&self) -> Backend {
        match self.db {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Closes every connection (used before the process exits).
    pub async fn close(&self) {
        on_pool!(self, p => p.close().await)
    }

    /// Whether the database answers a connection opened now — not one from the pool, whose
    /// acquire waits up to 30 s while the server refuses connections. What a job waiting for
    /// the database polls between retries (SPEC §9.6); the error says why it does not answer.
    pub async fn probe(&self) -> Result<()> {
        match &self.db {
            Db::Sqlite(p) => {
                sqlx::query("SELECT 1").execute(p).await?;
            }
            Db::Postgres(p) => {
                use sqlx::Connection;
                let options = p.connect_options();
                let timed_out = || {
                    sqlx::Error::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "no answer within 10 s",
                    ))
                };
                let mut conn = tokio::time::timeout(
                    Duration::from_secs(10),
                    sqlx::PgConnection::connect_with(&options),
                )
                .await
                .map_err(|_| timed_out())??;
                sqlx::query("SELECT 1").execute(&mut conn).await?;
                let _ = conn.close().await;
            }
        }
        Ok(())
    }

    /// A cheap query that proves the database answers (`/healthz`).
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

fn lease_ms_from_env() -> i64 {
    env_number("AESTHETIX_LEASE_MS").unwrap_or(DEFAULT_LEASE_MS)
}

/// Milliseconds since the Unix epoch, the time unit of every stored timestamp.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

#[cfg(test)]
mod keys_tests;
#[cfg(test)]
mod schema_tests;
#[cfg(test)]
mod tests;

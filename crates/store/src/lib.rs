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
mod contacts;
mod error;
mod export;
pub mod failpoint;
mod fields;
mod files;
mod import;
mod import_drafts;
mod job_lines;
mod jobs;
mod locations;
mod migrate;
mod revert;
mod runtime;
mod schedules;
mod smart_lists;
mod users;
pub mod workflows;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

pub use claims::{AfterChunk, LEASE_MS, Lease, Requested};
pub use contacts::{ContactPage, ContactSummary, NewContact};
pub use error::StoreError;
pub use export::{BATCH_ROWS, ExportBatch, ExportField, ExportReader, ExportScope};
pub use fields::{CustomField, NewCustomField};
pub use files::{NewFile, Notification, StoredFile, is_generated_name};
pub use import::{ChunkWrite, ContactWrite, LineWrite, RecordRef, StoredContact, Totals};
pub use import_drafts::{ImportDraft, JobExtras};
pub use job_lines::{LineCounts, LineMessage, LineRecord, LineTab, MAX_PAGE};
pub use jobs::{Job, JobEffects, NewJob};
pub use locations::Location;
pub use revert::{ContactDump, RevertConflict, RevertReport};
pub use schedules::{ExportSchedule, NewExportSchedule, ScheduledJob};
pub use users::{Membership, SessionInfo, User};

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
    pub async fn open_sqlite(path: &Path) -> Result<Store> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30))
            .pragma("cache_size", "-32768")
            // Multi-row statements of every batch size would otherwise stay prepared.
            .statement_cache_capacity(24);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        let store = Store {
            db: Db::Sqlite(pool),
        };
        store.migrate().await?;
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
        };
        store.migrate().await?;
        Ok(store)
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

    /// A cheap query that proves the database answers (`/healthz`).
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// Milliseconds since the Unix epoch, the time unit of every stored timestamp.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

#[cfg(test)]
mod tests;

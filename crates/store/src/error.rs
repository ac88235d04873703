use std::fmt;

/// The store's one error type. `Conflict` is a broken uniqueness rule the caller can explain
/// to the user; everything else is the database failing.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} was not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// SQLite read through rusqlite (the export's row source).
    #[error("database error: {0}")]
    Sqlite(#[source] rusqlite::Error),
    #[error("migration {version} failed: {source}")]
    Migration {
        version: i64,
        #[source]
        source: sqlx::Error,
    },
    #[error("job {0} is run by another process now (its lease was lost); this process stopped")]
    LeaseLost(i64),
    #[error("stored data is malformed: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e)
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sqlite(e)
    }
}

impl StoreError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::NotFound(_))
    }

    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict(_))
    }

    pub(crate) fn not_found(what: impl fmt::Display) -> Self {
        StoreError::NotFound(what.to_string())
    }
}

/// Turns a unique-constraint violation into a [`StoreError::Conflict`] with `message`.
pub(crate) fn conflict_on_unique(e: sqlx::Error, message: impl FnOnce() -> String) -> StoreError {
    match e.as_database_error() {
        Some(db) if db.is_unique_violation() => StoreError::Conflict(message()),
        _ => StoreError::Database(e),
    }
}

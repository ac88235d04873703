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
    /// SQLite through rusqlite (an import's lookups and writes, the export's row source).
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
    /// A request the store refuses for what it asks, in the user's words (a Smart List whose
    /// saved filters can no longer run): the same request will fail the same way.
    #[error("{0}")]
    Invalid(String),
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

    /// The job's lease went to another process: this one must stop without writing.
    pub fn is_lease_lost(&self) -> bool {
        matches!(self, StoreError::LeaseLost(_))
    }

    /// The database ran out of space (SQLite `SQLITE_FULL`, PostgreSQL `53100 disk_full`):
    /// what was being written was rolled back, and writing again will fail the same way until
    /// someone frees space (SPEC §9.6).
    pub fn is_disk_full(&self) -> bool {
        if let StoreError::Sqlite(e) = self {
            return e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull);
        }
        let StoreError::Database(e) = self else {
            return false;
        };
        match e.as_database_error() {
            Some(db)
                if db
                    .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .is_some() =>
            {
                db.code().as_deref() == Some("53100")
            }
            Some(db) => sqlite_primary_code(db) == Some(SQLITE_FULL),
            None => false,
        }
    }

    /// Why the database cannot be used right now, in the user's words, when that passes by
    /// itself (SPEC §9.6): the server refuses or cut the connection, does not answer, is
    /// starting or stopping, has too many connections, or another transaction held the lock
    /// (SQLite busy, a PostgreSQL deadlock or serialisation failure). A job waits and tries
    /// again on these; `None` for every other error.
    pub fn unavailable(&self) -> Option<String> {
        if let StoreError::Sqlite(e) = self {
            return matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            )
            .then(|| "the database file is locked by another process".to_string());
        }
        let StoreError::Database(e) = self else {
            return None;
        };
        use std::io::ErrorKind as K;
        let words = match e {
            sqlx::Error::Io(io) => match io.kind() {
                K::ConnectionRefused => "connection refused".to_string(),
                K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
                    "the connection to it was cut".to_string()
                }
                K::TimedOut => "it did not answer in time".to_string(),
                K::HostUnreachable | K::NetworkUnreachable | K::NotConnected => {
                    "its server cannot be reached".to_string()
                }
                _ => format!("the connection to it failed ({io})"),
            },
            sqlx::Error::Tls(_) => "the secure connection to it failed".to_string(),
            sqlx::Error::PoolTimedOut => "no connection to it could be opened in time".to_string(),
            sqlx::Error::Database(db) => {
                if db
                    .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .is_some()
                {
                    let code = db.code().unwrap_or_default();
                    match code.as_ref() {
                        "57P01" => "its server is shutting down".to_string(),
                        "57P02" => "its server stopped after a crash".to_string(),
                        "57P03" => "its server is starting up".to_string(),
                        "53300" => "its server has too many connections".to_string(),
                        "40001" => "a concurrent change got in the way".to_string(),
                        "40P01" => "another transaction held a lock this one needed".to_string(),
                        c if c.starts_with("08") => {
                            format!("the connection to it failed ({})", db.message())
                        }
                        _ => return None,
                    }
                } else {
                    match sqlite_primary_code(db.as_ref()) {
                        Some(SQLITE_BUSY) | Some(SQLITE_LOCKED) => {
                            "the database file is locked by another process".to_string()
                        }
                        _ => return None,
                    }
                }
            }
            _ => return None,
        };
        Some(words)
    }

    pub(crate) fn not_found(what: impl fmt::Display) -> Self {
        StoreError::NotFound(what.to_string())
    }
}

const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_FULL: i64 = 13;

/// A SQLite error's primary result code (its extended code's low byte).
fn sqlite_primary_code(db: &dyn sqlx::error::DatabaseError) -> Option<i64> {
    db.try_downcast_ref::<sqlx::sqlite::SqliteError>()?;
    let extended: i64 = db.code()?.parse().ok()?;
    Some(extended & 0xff)
}

/// Turns a unique-constraint violation into a [`StoreError::Conflict`] with `message`.
pub(crate) fn conflict_on_unique(e: sqlx::Error, message: impl FnOnce() -> String) -> StoreError {
    match e.as_database_error() {
        Some(db) if db.is_unique_violation() => StoreError::Conflict(message()),
        _ => StoreError::Database(e),
    }
}

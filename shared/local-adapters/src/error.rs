//! The adapter's own errors. Setting a store up ([`OpenError`]) fails loudly and early, at start-up; once running,
//! every failure reaches callers as a [`domain::StoreError`], and the two error types below are what sits inside
//! `StoreError::Unavailable` so a log line shows the table, the operation and SQLite's own message.

use std::error::Error as StdError;
use std::path::PathBuf;

/// Why a database or a table could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The name breaks DynamoDB's table-name rule, which the local stack mirrors so that a name that works locally
    /// also deploys (and so that it can be spliced into SQL safely).
    #[error(
        "`{name}` is not a usable table name: {why} (3 to 255 characters of A-Z, a-z, 0-9, `_`, `-`, `.`, \
         not starting with `sqlite_`)"
    )]
    InvalidTableName { name: String, why: &'static str },
    /// SQLite refused: the file cannot be opened or created, WAL is unavailable there, the table exists with other
    /// columns, …
    #[error("{what} ({path}): {source}")]
    Sqlite {
        what: String,
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// The database file could not be created (private, before SQLite opens it): a missing directory, no rights.
    #[error("creating the database file {path}: {source}")]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is there but holds no database a previous run could have left (see `LocalStore::open`): the local
    /// stack refuses to start over it rather than begin an empty store and overwrite what may still be recovered.
    #[error(
        "{path} is not a usable database: {why}{}. The local stack will not start over it: restore it from a copy, \
         or move it (and its -wal and -shm files) away to start with an empty store",
        sqlite.as_ref().map(|s| format!(" (SQLite: {s})")).unwrap_or_default()
    )]
    Damaged { path: PathBuf, why: String, sqlite: Option<String> },
    /// The database file is there but could not be read to check it.
    #[error("{path} cannot be read: {source}")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A table's stream cannot be turned on as asked (the table ARN given is not the table's).
    #[error("the stream of table {table} cannot be turned on: {problem}")]
    Stream { table: String, problem: String },
    /// The database would not switch to write-ahead logging (some file systems cannot share memory between
    /// connections); without WAL, readers would block behind the writer.
    #[error("{path} could not be put in WAL mode; SQLite kept journal_mode `{mode}`")]
    NoWal { path: PathBuf, mode: String },
}

/// A SQLite call failed while serving a request.
#[derive(Debug, thiserror::Error)]
#[error("{op} on table {table} failed")]
pub struct QueryFailed {
    pub op: &'static str,
    pub table: String,
    #[source]
    pub source: rusqlite::Error,
}

/// A stored row holds a value the domain refuses (written by hand, or by an older or buggy writer). Reported as an
/// outage rather than skipped, so a damaged row is noticed instead of silently vanishing from lists.
#[derive(Debug, thiserror::Error)]
#[error("table {table} holds a bad `{column}` value")]
pub struct CorruptRow {
    pub table: String,
    pub column: &'static str,
    #[source]
    pub source: Box<dyn StdError + Send + Sync + 'static>,
}

/// A call an invoice port does not take: storing a record that is not `stored` or has no fields, refusing as
/// `stored`. The caller's mistake, not the store's; the ports have no error for it, so it travels inside
/// `StoreError::Unavailable` and nothing is written.
#[derive(Debug, thiserror::Error)]
#[error("invoice {id}: {why}")]
pub struct InvoiceMisuse {
    pub id: String,
    pub why: &'static str,
}

//! The idempotency table and [`Idempotency`] on it: one row per key, `(id)` its primary key.
//!
//! A row is `status` (`in_progress` or `done`), the `holder` of the claim, and `expires_at` (Unix seconds): the
//! claim's lapse time while in progress, the keep time once done. As on DynamoDB, where `expires_at` is the table's
//! TTL attribute, a row whose time has passed counts as absent. DynamoDB's TTL removes such items some time later;
//! here each claim removes rows expired for over an hour, by an index on `expires_at`, so the table does not grow
//! without bound and no claim scans it.
//!
//! Every operation is one short transaction on the writer, so a claim's read and write are atomic.

use crate::error::CorruptRow;
use crate::store::failed;
use crate::table::TableName;
use crate::{LocalStore, OpenError};
use domain::idempotency::{ClaimOutcome, Holder, Idempotency, IdempotencyKey};
use domain::{StoreError, Timestamp};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use std::sync::Arc;

/// How long past its time an expired row is kept before a claim sweeps it (it counts as absent meanwhile).
const SWEEP_AFTER_SECS: i64 = 3600;

const IN_PROGRESS: &str = "in_progress";
const DONE: &str = "done";

/// [`Idempotency`] on one table of a [`LocalStore`]. Cheap to clone.
#[derive(Clone)]
pub struct SqliteIdempotency {
    store: LocalStore,
    sql: Arc<IdempotencySql>,
}

impl std::fmt::Debug for SqliteIdempotency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteIdempotency").field("table", &self.sql.table.as_str()).finish_non_exhaustive()
    }
}

/// Suffix of the `expires_at` index's name.
const EXPIRY_INDEX: &str = "expires_at";

/// Statement texts for one table, built once (see `tasks.rs` for why).
struct IdempotencySql {
    table: TableName,
    sweep: String,
    get: String,
    put: String,
    complete: String,
    release: String,
}

impl IdempotencySql {
    fn new(table: TableName) -> Self {
        let t = table.quoted();
        let index = table.quoted_index(EXPIRY_INDEX);
        Self {
            sweep: format!("DELETE FROM {t} INDEXED BY {index} WHERE expires_at <= ?1"),
            get: format!("SELECT status, expires_at FROM {t} WHERE id = ?1"),
            put: format!(
                "INSERT OR REPLACE INTO {t} (id, status, holder, expires_at) VALUES (?1, '{IN_PROGRESS}', ?2, ?3)"
            ),
            complete: format!(
                "UPDATE {t} SET status = '{DONE}', expires_at = ?3 WHERE id = ?1 AND holder = ?2 AND status = '{IN_PROGRESS}'"
            ),
            release: format!("DELETE FROM {t} WHERE id = ?1 AND holder = ?2 AND status = '{IN_PROGRESS}'"),
            table,
        }
    }

    fn schema(&self) -> String {
        let t = self.table.quoted();
        let index = self.table.quoted_index(EXPIRY_INDEX);
        format!(
            "CREATE TABLE IF NOT EXISTS {t} (
                id TEXT NOT NULL PRIMARY KEY,
                status TEXT NOT NULL,
                holder TEXT NOT NULL,
                expires_at INTEGER NOT NULL
            ) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS {index} ON {t} (expires_at);"
        )
    }
}

impl LocalStore {
    /// [`Idempotency`] on table `table`, created with its index if missing. Refuses names DynamoDB would refuse,
    /// and fails here if an existing table of that name lacks the columns.
    pub fn idempotency(&self, table: &str) -> Result<SqliteIdempotency, OpenError> {
        let sql = IdempotencySql::new(TableName::parse(table)?);
        self.setup(|conn| conn.execute_batch(&sql.schema()), || format!("creating idempotency table {table}"))?;
        self.setup(
            |conn| {
                [&sql.sweep, &sql.get, &sql.put, &sql.complete, &sql.release]
                    .into_iter()
                    .try_for_each(|text| conn.prepare(text).map(drop))
            },
            || format!("checking idempotency table {table} against the statements"),
        )?;
        Ok(SqliteIdempotency { store: self.clone(), sql: Arc::new(sql) })
    }
}

impl SqliteIdempotency {
    /// The table's name as given.
    pub fn table(&self) -> &str {
        self.sql.table.as_str()
    }
}

/// An instant as the table keeps it: whole Unix seconds.
fn seconds(at: Timestamp) -> i64 {
    at.unix_timestamp()
}

impl Idempotency for SqliteIdempotency {
    async fn claim(
        &self,
        key: &IdempotencyKey,
        holder: &Holder,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<ClaimOutcome, StoreError> {
        let (sql, key, holder) = (self.sql.clone(), key.as_str().to_owned(), holder.as_str().to_owned());
        let (now, until) = (seconds(now), seconds(until));
        // Swept by the wall clock, not the caller's `now`, as DynamoDB's TTL runs on its own clock.
        let sweep_before = seconds(domain::now()) - SWEEP_AFTER_SECS;
        self.store
            .write(move |conn| {
                let table = sql.table.as_str();
                let tx =
                    conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(failed("claim", table))?;
                tx.prepare_cached(&sql.sweep)
                    .and_then(|mut stmt| stmt.execute(params![sweep_before]))
                    .map_err(failed("claim", table))?;
                let current = tx
                    .prepare_cached(&sql.get)
                    .and_then(|mut stmt| {
                        stmt.query_row(params![key], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))
                            .optional()
                    })
                    .map_err(failed("claim", table))?;
                let outcome = match current {
                    Some((status, expires_at)) if expires_at > now => match status.as_str() {
                        DONE => ClaimOutcome::AlreadyDone,
                        IN_PROGRESS => ClaimOutcome::InProgress {
                            until: Timestamp::from_unix_timestamp(expires_at)
                                .map_err(|e| corrupt(table, "expires_at", e))?,
                        },
                        other => return Err(corrupt(table, "status", format!("`{other}` is not a claim status"))),
                    },
                    // None, or lapsed: it counts as absent.
                    _ => {
                        tx.prepare_cached(&sql.put)
                            .and_then(|mut stmt| stmt.execute(params![key, holder, until]))
                            .map_err(failed("claim", table))?;
                        ClaimOutcome::Claimed
                    }
                };
                tx.commit().map_err(failed("claim", table))?;
                Ok(outcome)
            })
            .await
    }

    async fn complete(&self, key: &IdempotencyKey, holder: &Holder, keep_until: Timestamp) -> Result<(), StoreError> {
        let (sql, key, holder) = (self.sql.clone(), key.as_str().to_owned(), holder.as_str().to_owned());
        let keep_until = seconds(keep_until);
        self.store
            .write(move |conn| {
                let table = sql.table.as_str();
                let changed = conn
                    .prepare_cached(&sql.complete)
                    .and_then(|mut stmt| stmt.execute(params![key, holder, keep_until]))
                    .map_err(failed("complete", table))?;
                if changed == 0 { Err(StoreError::NotFound) } else { Ok(()) }
            })
            .await
    }

    async fn release(&self, key: &IdempotencyKey, holder: &Holder) -> Result<(), StoreError> {
        let (sql, key, holder) = (self.sql.clone(), key.as_str().to_owned(), holder.as_str().to_owned());
        self.store
            .write(move |conn| {
                let table = sql.table.as_str();
                conn.prepare_cached(&sql.release)
                    .and_then(|mut stmt| stmt.execute(params![key, holder]))
                    .map(drop)
                    .map_err(failed("release", table))
            })
            .await
    }
}

fn corrupt(
    table: &str,
    column: &'static str,
    source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> StoreError {
    StoreError::unavailable(CorruptRow { table: table.to_owned(), column, source: source.into() })
}

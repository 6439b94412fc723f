//! The activity table and the activity ports on it: one row per change of a task, in its owner's log of that task.
//!
//! Layout, chosen so both ports are one key-order read or write:
//! - `PRIMARY KEY (owner, task_id, seq)` in a `WITHOUT ROWID` table, `seq` being the change's [`Position`] as one
//!   integer (`version * 4 + step`) within one owner's log of one task. It is computed from the change id alone, so
//!   a second delivery of a change hits the same key and the plain INSERT refuses it ([`StoreError::AlreadyExists`]);
//! - a page is `WHERE owner = ? AND task_id = ? [AND seq < ?] ORDER BY seq DESC LIMIT ?`, a backwards walk over that
//!   one slice of the key, with no scan and no sort (checked by `EXPLAIN QUERY PLAN` in the tests). One column
//!   rather than `(version, step)`: SQLite bounds a row-value comparison by its first column only, and would walk
//!   the boundary version's other steps on every page.
//!
//! `changed` is kept as the JSON object the event carried (`{field: {"old", "new"}}`).

use crate::codec::{Columns, timestamp_text};
use crate::error::CorruptRow;
use crate::store::{Reader, VISIT_FN, failed, is_primary_key_violation};
use crate::table::TableName;
use crate::{LocalStore, OpenError};
use domain::activity::{Activity, ActivityAppend, ActivityList, ActivityQuery, Changes};
use domain::{ChangeId, Position, StoreError, TaskId, UserId};
use rusqlite::{Row, params};
use std::sync::Arc;

/// The activity ports on one table of a [`LocalStore`]. Cheap to clone.
#[derive(Clone)]
pub struct SqliteActivity {
    store: LocalStore,
    sql: Arc<ActivitySql>,
}

impl std::fmt::Debug for SqliteActivity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteActivity").field("table", &self.sql.table.as_str()).finish_non_exhaustive()
    }
}

/// Statement texts for one table, built once (see `tasks.rs` for why).
struct ActivitySql {
    table: TableName,
    insert: String,
    /// Indexed by `has_after as usize`.
    list: [String; 2],
}

/// The columns every read selects, in the order [`activity_from_row`] decodes them.
const COLUMNS: &str = "change_id, occurred_at, changed, seq";

impl ActivitySql {
    fn new(table: TableName) -> Self {
        let t = table.quoted();
        // Fixed parameter numbers in both texts (?1 owner, ?2 task, ?3 seq, ?4 limit); the visit call first, so a
        // plan that stopped using the key would have every row it walked counted.
        let list = |after: bool| {
            let after = if after { " AND seq < ?3" } else { "" };
            format!(
                "SELECT {COLUMNS} FROM {t} WHERE {VISIT_FN}(seq) AND owner = ?1 AND task_id = ?2{after} \
                 ORDER BY seq DESC LIMIT ?4"
            )
        };
        Self {
            insert: format!(
                "INSERT INTO {t} (owner, task_id, seq, change_id, occurred_at, changed) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
            ),
            list: [list(false), list(true)],
            table,
        }
    }

    fn schema(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (
                owner TEXT NOT NULL,
                task_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                change_id TEXT NOT NULL,
                occurred_at TEXT NOT NULL,
                changed TEXT NOT NULL,
                PRIMARY KEY (owner, task_id, seq)
            ) WITHOUT ROWID;",
            self.table.quoted()
        )
    }
}

impl LocalStore {
    /// The activity ports on table `table`, created if missing. Refuses names DynamoDB would refuse, and fails
    /// here if an existing table of that name lacks the activity columns.
    pub fn activity(&self, table: &str) -> Result<SqliteActivity, OpenError> {
        let sql = ActivitySql::new(TableName::parse(table)?);
        self.setup(|conn| conn.execute_batch(&sql.schema()), || format!("creating activity table {table}"))?;
        self.setup(
            |conn| {
                conn.prepare(&sql.insert)?;
                // The lists call the visit function, which only readers register.
                sql.list
                    .iter()
                    .try_for_each(|text| conn.prepare(&text.replace(&format!("{VISIT_FN}(seq)"), "1")).map(drop))
            },
            || format!("checking activity table {table} against the statements"),
        )?;
        Ok(SqliteActivity { store: self.clone(), sql: Arc::new(sql) })
    }
}

/// A position as one SQLite integer, `version * 4 + step` (steps are 0 to 3), refused rather than wrapped past
/// `i64::MAX`, which no version reaches by counting from 1.
fn seq(p: Position) -> Result<i64, StoreError> {
    i64::try_from(p.version())
        .ok()
        .and_then(|v| v.checked_mul(4))
        .and_then(|v| v.checked_add(i64::from(p.step())))
        .ok_or_else(|| StoreError::unavailable(OutOfRange(p.version())))
}

/// A version too large for the table's integer key.
#[derive(Debug, thiserror::Error)]
#[error("version {0} is past what the activity table's key can hold")]
struct OutOfRange(u64);

impl SqliteActivity {
    /// The table's name as given.
    pub fn table(&self) -> &str {
        self.sql.table.as_str()
    }

    /// [`ActivityList::list_activity`], also returning how many rows the statement examined (equal to the rows
    /// returned when the read walks the key).
    pub fn list_activity_counted(
        &self,
        owner: &UserId,
        task: TaskId,
        query: &ActivityQuery,
    ) -> Result<(Vec<Activity>, u64), StoreError> {
        let table = self.table();
        let after = query.after.map(seq).transpose()?;
        let fetch = i64::try_from(query.fetch).unwrap_or(i64::MAX);
        let task_text = task.to_string();
        self.store.read(|reader: &Reader| {
            let mut stmt = reader
                .conn
                .prepare_cached(&self.sql.list[usize::from(query.after.is_some())])
                .map_err(failed("list_activity", table))?;
            reader.reset_visits();
            let mut rows =
                stmt.query(params![owner.as_str(), task_text, after, fetch]).map_err(failed("list_activity", table))?;
            let mut out = Vec::with_capacity(query.fetch.min(1000));
            while let Some(row) = rows.next().map_err(failed("list_activity", table))? {
                out.push(activity_from_row(owner, task, row, table)?);
            }
            Ok((out, reader.visited()))
        })
    }

    /// The `EXPLAIN QUERY PLAN` lines of the statement [`ActivityList::list_activity`] runs, with or without a
    /// position to resume after.
    pub fn list_query_plan(&self, after: bool) -> Result<Vec<String>, StoreError> {
        let table = self.table();
        let sql = format!("EXPLAIN QUERY PLAN {}", self.sql.list[usize::from(after)]);
        self.store.read(|reader| {
            let mut stmt = reader.conn.prepare(&sql).map_err(failed("explain", table))?;
            let rows = stmt
                .query_map(params!["owner", "01ARZ3NDEKTSV4RRFFQ69G5FAV", 13, 26], |row| row.get::<_, String>(3))
                .map_err(failed("explain", table))?;
            rows.collect::<Result<_, _>>().map_err(failed("explain", table))
        })
    }
}

/// Reads one row of [`COLUMNS`] from `owner`'s log of `task`. The change id must name that task and the row's
/// position, or the row is corrupt (it would be listed out of place).
fn activity_from_row(owner: &UserId, task: TaskId, row: &Row<'_>, table: &str) -> Result<Activity, StoreError> {
    let c = Columns { row, table };
    let corrupt = |column: &'static str, why: String| {
        StoreError::unavailable(CorruptRow { table: table.to_owned(), column, source: why.into() })
    };
    let change = c.parse(0, "change_id", ChangeId::parse)?;
    let occurred_at = c.timestamp(1, "occurred_at")?;
    let changed: Changes = c.parse(2, "changed", |s| serde_json::from_str::<Changes>(s))?;
    let stored = row.get::<_, i64>(3).map_err(|e| corrupt("seq", e.to_string()))?;
    if seq(Position::of(&change))? != stored {
        return Err(corrupt("change_id", format!("`{change}` is not at the row's position {stored}")));
    }
    let entry = Activity::new(owner.clone(), change, occurred_at, changed);
    if entry.task_id() != task {
        return Err(corrupt("change_id", format!("`{}` is not a change of task {task}", entry.change_id())));
    }
    Ok(entry)
}

impl ActivityAppend for SqliteActivity {
    async fn append_activity(&self, entry: &Activity) -> Result<(), StoreError> {
        let seq = seq(entry.position())?;
        // Encoded before the hop to the writer thread, so only plain values travel.
        let values = (
            entry.owner().as_str().to_owned(),
            entry.task_id().to_string(),
            seq,
            entry.change_id().as_str().to_owned(),
            timestamp_text(entry.occurred_at())?,
            serde_json::to_string(entry.changed()).map_err(StoreError::unavailable)?,
        );
        let sql = self.sql.clone();
        self.store
            .write(move |conn| {
                let table = sql.table.as_str();
                let mut stmt = conn.prepare_cached(&sql.insert).map_err(failed("append_activity", table))?;
                let (owner, task, seq, change, occurred_at, changed) = values;
                // A plain INSERT: the key is the change's position, so a second delivery is refused by the key.
                match stmt.execute(params![owner, task, seq, change, occurred_at, changed]) {
                    Ok(_) => Ok(()),
                    Err(e) if is_primary_key_violation(&e) => Err(StoreError::AlreadyExists),
                    Err(e) => Err(failed("append_activity", table)(e)),
                }
            })
            .await
    }
}

impl ActivityList for SqliteActivity {
    async fn list_activity(
        &self,
        owner: &UserId,
        task: TaskId,
        query: &ActivityQuery,
    ) -> Result<Vec<Activity>, StoreError> {
        self.list_activity_counted(owner, task, query).map(|(entries, _)| entries)
    }
}

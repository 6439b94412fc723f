//! The tasks table and the task ports on it.
//!
//! Layout, chosen so every port is one key-order read:
//! - `PRIMARY KEY (owner, id)` in a `WITHOUT ROWID` table: the rows are stored in key order, so a get is one
//!   B-tree descent and "an owner's tasks, newest first" is a backwards walk over that owner's slice (ids are ULIDs,
//!   so key order is creation order);
//! - an index on `(owner, status, id)`: the same walk within one status. SQLite appends the primary key to the
//!   index, so moving a task between statuses moves exactly one index entry.
//!
//! Lists are `WHERE owner = ? [AND status = ?] [AND id < ?after] ORDER BY id DESC LIMIT ?fetch`, read straight
//! off the primary key or (pinned with `INDEXED BY`) the status index, with no scan and no sort (checked by
//! `EXPLAIN QUERY PLAN` in the tests), so a page costs `fetch` rows whatever the table holds.
//! [`SqliteTasks::list_tasks_counted`] shows the count.
//!
//! When the table's stream is on (see [`crate::stream`]), each write appends its stream record in its own
//! transaction; with the stream off a put stays a single INSERT, and reads are the same either way.

use crate::codec::{Columns, timestamp_text, version_int};
use crate::store::{Reader, VISIT_FN, failed, is_primary_key_violation};
use crate::stream::{EventName, task_keys, task_record};
use crate::table::TableName;
use crate::{LocalStore, OpenError};
use domain::ports::{ListQuery, TaskDelete, TaskGet, TaskList, TaskPut, TaskUpdate};
use domain::{Description, Status, StoreError, Task, TaskId, TaskPatch, Timestamp, Title, UserId, Version};
use rusqlite::{Connection, Row, StatementStatus, TransactionBehavior, params};
use std::sync::Arc;

/// The task ports on one table of a [`LocalStore`]. Cheap to clone.
#[derive(Clone)]
pub struct SqliteTasks {
    store: LocalStore,
    sql: Arc<TaskSql>,
}

impl std::fmt::Debug for SqliteTasks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteTasks").field("table", &self.sql.table.as_str()).finish_non_exhaustive()
    }
}

/// What a list statement cost, as SQLite counted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListCost {
    /// Tasks returned.
    pub rows_returned: usize,
    /// Rows the statement examined: the index entries its range walk landed on, before any other condition. Counted
    /// by a function that sits first in the WHERE clause, because the bundled SQLite is built without
    /// `SQLITE_ENABLE_STMT_SCANSTATUS` (which would count loops directly). A scan would show up here as rows of
    /// other owners and statuses; with the index it equals `rows_returned`.
    pub rows_visited: u64,
    /// Virtual-machine instructions run (`SQLITE_STMTSTATUS_VM_STEP`): grows with rows touched, so it is flat
    /// across table sizes when the plan is a bounded range read.
    pub vm_steps: u64,
    /// Forward steps of full table scans (`SQLITE_STMTSTATUS_FULLSCAN_STEP`); 0 for an index read.
    pub fullscan_steps: u64,
    /// Sorts run (`SQLITE_STMTSTATUS_SORT`); 0 when the index already yields newest first.
    pub sorts: u64,
    /// Indexes SQLite built on the fly (`SQLITE_STMTSTATUS_AUTOINDEX`); 0 when a real one fits.
    pub auto_indexes: u64,
}

/// The statement texts for one table, built once: identifiers cannot be bound, and a fixed text per statement is
/// what lets each connection's cache hand back an already prepared statement.
struct TaskSql {
    table: TableName,
    get: String,
    insert: String,
    update: String,
    delete: String,
    version: String,
    /// Indexed by `by_status as usize * 2 + has_after as usize`.
    list: [String; 4],
}

/// Suffix of the `(owner, status, id)` index's name.
const STATUS_INDEX: &str = "owner_status_id";

/// The columns every read selects, in the order [`task_from_row`] decodes them.
const COLUMNS: &str = "id, title, description, status, created_at, updated_at, version";

impl TaskSql {
    fn new(table: TableName) -> Self {
        let t = table.quoted();
        let index = table.quoted_index(STATUS_INDEX);
        let list = |by_status: bool, after: bool| {
            // Parameters keep fixed numbers (?1 owner, ?2 status, ?3 after, ?4 limit) in all four texts, so one
            // binding fits each; SQLite accepts values bound to numbers a text does not mention.
            // The visit call comes first so that, if the plan ever stopped using the index, every row a scan walked
            // would be counted before another condition could skip it.
            let status = if by_status { " AND status = ?2" } else { "" };
            let after = if after { " AND id < ?3" } else { "" };
            // With a status, the planner left to itself (no ANALYZE statistics) may prefer walking the primary key
            // and filtering by status, which also avoids a sort but reads every other status's rows on the way:
            // the row counter caught it visiting 76 rows for a page of 26. INDEXED BY pins the index, and turns
            // "the index cannot serve this" into a prepare error at start-up instead of a silent scan. Without a
            // status the primary key is the only order-preserving path and needs no pin.
            let from = if by_status { format!("{t} INDEXED BY {index}") } else { t.clone() };
            format!(
                "SELECT {COLUMNS} FROM {from} WHERE {VISIT_FN}(id) AND owner = ?1{status}{after} \
                 ORDER BY id DESC LIMIT ?4"
            )
        };
        Self {
            get: format!("SELECT {COLUMNS} FROM {t} WHERE owner = ?1 AND id = ?2"),
            insert: format!(
                "INSERT INTO {t} (owner, id, title, description, status, created_at, updated_at, version) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
            ),
            update: format!(
                "UPDATE {t} SET title = ?3, description = ?4, status = ?5, updated_at = ?6, version = ?7 \
                 WHERE owner = ?1 AND id = ?2"
            ),
            delete: format!("DELETE FROM {t} WHERE owner = ?1 AND id = ?2"),
            version: format!("SELECT version FROM {t} WHERE owner = ?1 AND id = ?2"),
            list: [list(false, false), list(false, true), list(true, false), list(true, true)],
            table,
        }
    }

    fn list_for(&self, query: &ListQuery) -> &str {
        &self.list[usize::from(query.status.is_some()) * 2 + usize::from(query.after.is_some())]
    }

    fn schema(&self) -> String {
        let t = self.table.quoted();
        let index = self.table.quoted_index(STATUS_INDEX);
        format!(
            "CREATE TABLE IF NOT EXISTS {t} (
                owner TEXT NOT NULL,
                id TEXT NOT NULL,
                title TEXT NOT NULL,
                description TEXT,
                status TEXT NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                version INTEGER NOT NULL,
                PRIMARY KEY (owner, id)
            ) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS {index} ON {t} (owner, status, id);"
        )
    }
}

impl LocalStore {
    /// The task ports on table `table`, created with its index if missing. Refuses names DynamoDB would refuse, and
    /// fails here, at start-up, if an existing table of that name lacks the task columns.
    pub fn tasks(&self, table: &str) -> Result<SqliteTasks, OpenError> {
        let sql = TaskSql::new(TableName::parse(table)?);
        let what = || format!("creating tasks table {table}");
        self.setup(|conn| conn.execute_batch(&sql.schema()), what)?;
        // Preparing every statement once checks an existing table's columns now rather than on the first request.
        self.setup(|conn| prepare_all(conn, &sql), || format!("checking tasks table {table} against the statements"))?;
        Ok(SqliteTasks { store: self.clone(), sql: Arc::new(sql) })
    }
}

fn prepare_all(conn: &Connection, sql: &TaskSql) -> rusqlite::Result<()> {
    for text in [&sql.get, &sql.insert, &sql.update, &sql.delete, &sql.version] {
        conn.prepare(text)?;
    }
    // The lists call the visit function, which only readers register; check them against the schema without it.
    for text in &sql.list {
        conn.prepare(&text.replace(&format!("{VISIT_FN}(id)"), "1"))?;
    }
    Ok(())
}

impl SqliteTasks {
    /// The table's name as given.
    pub fn table(&self) -> &str {
        self.sql.table.as_str()
    }

    /// [`TaskList::list_tasks`], also returning what the statement cost. Synchronous: it runs on the calling thread
    /// (as the port does, see `LocalStore::read`).
    pub fn list_tasks_counted(&self, owner: &UserId, query: &ListQuery) -> Result<(Vec<Task>, ListCost), StoreError> {
        let table = self.table();
        let sql = self.sql.list_for(query);
        let after = query.after.map(|id| id.to_string());
        // A fetch beyond i64 is "everything"; SQLite treats any LIMIT that large the same.
        let fetch = i64::try_from(query.fetch).unwrap_or(i64::MAX);
        self.store.read(|reader: &Reader| {
            let mut stmt = reader.conn.prepare_cached(sql).map_err(failed("list_tasks", table))?;
            // Counters accumulate over a cached statement's lifetime; start from zero for this call.
            for counter in [
                StatementStatus::VmStep,
                StatementStatus::FullscanStep,
                StatementStatus::Sort,
                StatementStatus::AutoIndex,
            ] {
                stmt.reset_status(counter);
            }
            reader.reset_visits();
            let mut tasks = Vec::with_capacity(query.fetch.min(1000));
            let mut rows = stmt
                .query(params![owner.as_str(), query.status.map(Status::as_str), after, fetch])
                .map_err(failed("list_tasks", table))?;
            while let Some(row) = rows.next().map_err(failed("list_tasks", table))? {
                tasks.push(task_from_row(owner, row, table)?);
            }
            drop(rows);
            let count = |s| u64::try_from(stmt.get_status(s)).unwrap_or(0);
            let cost = ListCost {
                rows_returned: tasks.len(),
                rows_visited: reader.visited(),
                vm_steps: count(StatementStatus::VmStep),
                fullscan_steps: count(StatementStatus::FullscanStep),
                sorts: count(StatementStatus::Sort),
                auto_indexes: count(StatementStatus::AutoIndex),
            };
            Ok((tasks, cost))
        })
    }

    /// The `EXPLAIN QUERY PLAN` lines of the statement [`TaskList::list_tasks`] runs for `query`, e.g.
    /// `SEARCH TasksTable USING INDEX TasksTable__owner_status_id (owner=? AND status=? AND id<?)`.
    pub fn list_query_plan(&self, query: &ListQuery) -> Result<Vec<String>, StoreError> {
        let after = query.after.map(|id| id.to_string());
        let fetch = i64::try_from(query.fetch).unwrap_or(i64::MAX);
        let status = query.status.map(Status::as_str);
        self.query_plan(self.sql.list_for(query), params!["owner", status, after, fetch])
    }

    /// The `EXPLAIN QUERY PLAN` lines of the statement [`TaskGet::get_task`] runs.
    pub fn get_query_plan(&self) -> Result<Vec<String>, StoreError> {
        self.query_plan(&self.sql.get, params!["owner", "01ARZ3NDEKTSV4RRFFQ69G5FAV"])
    }

    fn query_plan(&self, sql: &str, params: &[&dyn rusqlite::ToSql]) -> Result<Vec<String>, StoreError> {
        let table = self.table();
        self.store.read(|reader| {
            let mut stmt =
                reader.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).map_err(failed("explain", table))?;
            let rows = stmt.query_map(params, |row| row.get::<_, String>(3)).map_err(failed("explain", table))?;
            rows.collect::<Result<_, _>>().map_err(failed("explain", table))
        })
    }
}

/// Reads one row of [`COLUMNS`]. `owner` is the key the row was found under.
fn task_from_row(owner: &UserId, row: &Row<'_>, table: &str) -> Result<Task, StoreError> {
    let c = Columns { row, table };
    Ok(Task {
        owner: owner.clone(),
        id: c.parse(0, "id", TaskId::parse)?,
        title: c.parse(1, "title", Title::parse)?,
        description: c.parse_or_null(2, "description", Description::parse)?,
        status: c.parse(3, "status", Status::parse)?,
        created_at: c.timestamp(4, "created_at")?,
        updated_at: c.timestamp(5, "updated_at")?,
        version: Version(c.version(6)?),
    })
}

/// Reads the task at `(owner, id)` on `conn`, if any.
fn get(conn: &Connection, sql: &TaskSql, owner: &UserId, id: &str) -> Result<Option<Task>, StoreError> {
    let table = sql.table.as_str();
    let mut stmt = conn.prepare_cached(&sql.get).map_err(failed("get_task", table))?;
    let mut rows = stmt.query(params![owner.as_str(), id]).map_err(failed("get_task", table))?;
    match rows.next().map_err(failed("get_task", table))? {
        Some(row) => task_from_row(owner, row, table).map(Some),
        None => Ok(None),
    }
}

/// The version of the row at `(owner, id)`, read alone; `NotFound` when there is none.
fn version(conn: &Connection, sql: &TaskSql, owner: &UserId, id: &str) -> Result<u64, StoreError> {
    let table = sql.table.as_str();
    let mut stmt = conn.prepare_cached(&sql.version).map_err(failed("delete_task", table))?;
    let mut rows = stmt.query(params![owner.as_str(), id]).map_err(failed("delete_task", table))?;
    match rows.next().map_err(failed("delete_task", table))? {
        Some(row) => Columns { row, table }.version(0),
        None => Err(StoreError::NotFound),
    }
}

impl TaskGet for SqliteTasks {
    async fn get_task(&self, owner: &UserId, id: TaskId) -> Result<Option<Task>, StoreError> {
        let id = id.to_string();
        self.store.read(|reader| get(&reader.conn, &self.sql, owner, &id))
    }
}

impl TaskPut for SqliteTasks {
    async fn put_task(&self, task: &Task) -> Result<(), StoreError> {
        // Encoded before the hop to the writer thread, so only plain values travel.
        let values = (
            task.owner.as_str().to_owned(),
            task.id.to_string(),
            task.title.as_str().to_owned(),
            task.description.as_ref().map(|d| d.as_str().to_owned()),
            task.status.as_str(),
            timestamp_text(task.created_at)?,
            timestamp_text(task.updated_at)?,
            version_int(task.version.0)?,
        );
        let stream = match self.store.stream_of(self.table()) {
            Some(stream) => {
                let keys = task_keys(&values.0, &values.1);
                let record = task_record(stream.view_type, EventName::Insert, keys, None, Some(task))?;
                Some((stream, record))
            }
            None => None,
        };
        let sql = self.sql.clone();
        self.store
            .write(move |conn| {
                let table = sql.table.as_str();
                let insert = |conn: &Connection| {
                    let mut stmt = conn.prepare_cached(&sql.insert).map_err(failed("put_task", table))?;
                    let (owner, id, title, description, status, created_at, updated_at, version) = &values;
                    // The primary key refuses a taken id.
                    match stmt.execute(params![owner, id, title, description, status, created_at, updated_at, version])
                    {
                        Ok(_) => Ok(()),
                        Err(e) if is_primary_key_violation(&e) => Err(StoreError::AlreadyExists),
                        Err(e) => Err(failed("put_task", table)(e)),
                    }
                };
                let Some((stream, record)) = stream else {
                    // Without a stream a plain INSERT is its own transaction.
                    return insert(conn);
                };
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(failed("put_task", table))?;
                insert(&tx)?;
                let sequence = stream.append(&tx, &record)?;
                tx.commit().map_err(failed("put_task", table))?;
                stream.committed(sequence);
                Ok(())
            })
            .await
    }
}

impl TaskList for SqliteTasks {
    async fn list_tasks(&self, owner: &UserId, query: &ListQuery) -> Result<Vec<Task>, StoreError> {
        self.list_tasks_counted(owner, query).map(|(tasks, _)| tasks)
    }
}

impl TaskUpdate for SqliteTasks {
    async fn update_task(
        &self,
        owner: &UserId,
        id: TaskId,
        patch: &TaskPatch,
        expected: Option<Version>,
        now: Timestamp,
    ) -> Result<Task, StoreError> {
        let (sql, owner, patch, now_text) = (self.sql.clone(), owner.clone(), patch.clone(), timestamp_text(now)?);
        let stream = self.store.stream_of(self.table());
        self.store
            .write(move |conn| {
                let table = sql.table.as_str();
                // IMMEDIATE takes the write lock before the read, so the version compared is the version replaced,
                // also against another process on the same file (a deferred transaction could not upgrade then).
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(failed("update_task", table))?;
                let id = id.to_string();
                // Only an existing row is updated: a missing one is NotFound, never created.
                let current = get(&tx, &sql, &owner, &id)?.ok_or(StoreError::NotFound)?;
                if let Some(expected) = expected
                    && expected != current.version
                {
                    return Err(StoreError::VersionMismatch { current: current.version.0 });
                }
                // The domain decides what the patched task is; the store only writes it.
                let updated = patch.apply(&current, now);
                {
                    let mut stmt = tx.prepare_cached(&sql.update).map_err(failed("update_task", table))?;
                    stmt.execute(params![
                        owner.as_str(),
                        id,
                        updated.title.as_str(),
                        updated.description.as_ref().map(Description::as_str),
                        updated.status.as_str(),
                        now_text,
                        version_int(updated.version.0)?,
                    ])
                    .map_err(failed("update_task", table))?;
                }
                let appended = match &stream {
                    Some(stream) => {
                        let keys = task_keys(owner.as_str(), &id);
                        let record =
                            task_record(stream.view_type, EventName::Modify, keys, Some(&current), Some(&updated))?;
                        Some((stream, stream.append(&tx, &record)?))
                    }
                    None => None,
                };
                tx.commit().map_err(failed("update_task", table))?;
                if let Some((stream, sequence)) = appended {
                    stream.committed(sequence);
                }
                Ok(updated)
            })
            .await
    }
}

impl TaskDelete for SqliteTasks {
    async fn delete_task(&self, owner: &UserId, id: TaskId, expected: Option<Version>) -> Result<(), StoreError> {
        let (sql, owner) = (self.sql.clone(), owner.clone());
        let stream = self.store.stream_of(self.table());
        self.store
            .write(move |conn| {
                let table = sql.table.as_str();
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(failed("delete_task", table))?;
                let id = id.to_string();
                // Without a stream only the version is read, so a row too damaged to read back can still be deleted.
                // With one the whole row is its old image; a damaged row is still deleted, its keys standing in.
                let (current, old) = match &stream {
                    Some(_) => match get(&tx, &sql, &owner, &id) {
                        Ok(Some(task)) => (task.version.0, Some(task)),
                        Ok(None) => return Err(StoreError::NotFound),
                        Err(_) => (version(&tx, &sql, &owner, &id)?, None),
                    },
                    None => (version(&tx, &sql, &owner, &id)?, None),
                };
                if let Some(expected) = expected
                    && expected.0 != current
                {
                    return Err(StoreError::VersionMismatch { current });
                }
                tx.prepare_cached(&sql.delete)
                    .and_then(|mut stmt| stmt.execute(params![owner.as_str(), id]))
                    .map_err(failed("delete_task", table))?;
                let appended = match &stream {
                    Some(stream) => {
                        let keys = task_keys(owner.as_str(), &id);
                        let record = task_record(stream.view_type, EventName::Remove, keys, old.as_ref(), None)?;
                        Some((stream, stream.append(&tx, &record)?))
                    }
                    None => None,
                };
                tx.commit().map_err(failed("delete_task", table))?;
                if let Some((stream, sequence)) = appended {
                    stream.committed(sequence);
                }
                Ok(())
            })
            .await
    }
}

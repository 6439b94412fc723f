//! The invoices table, its number claims, and the five invoice ports on them.
//!
//! Layout, chosen so every port is one key-order read or one short transaction:
//! - the records: `PRIMARY KEY (owner, id)` in a `WITHOUT ROWID` table, so a get is one B-tree descent and "an
//!   owner's invoices, newest first" is a backwards walk over that owner's slice (ids are ULIDs of the upload
//!   time, so key order is upload order); an index on `(owner, status, id)` gives the same walk within one status.
//!   `object`, `invoice` and `problem` are JSON text in the domain's own serialisation, so amounts are decimal
//!   strings and read back exact, with their scale;
//! - the claims, in `<table>$numbers` (`$` is outside DynamoDB's table-name characters, so no table of the
//!   template can take that name): `PRIMARY KEY (owner, seller_key, number)` → `invoice_id`, the stored invoice
//!   holding that seller and number. Only a stored invoice holds one: refusing a stored invoice lets its claim go
//!   in the same transaction, so [`InvoiceNumberFind`] is one key lookup and never finds a refused invoice.
//!
//! Lists are `WHERE owner = ? [AND status = ?] [AND id < ?after] ORDER BY id DESC LIMIT ?limit+1`, read straight
//! off the primary key or (pinned with `INDEXED BY`) the status index, with no scan and no sort (checked by
//! `EXPLAIN QUERY PLAN` in the tests). The one row past the page says whether `next` is due, so a page that ends
//! exactly at the last invoice has none.
//!
//! `store_invoice` and `refuse_invoice` each run as one IMMEDIATE transaction on the writer: the checks they make
//! (is the id taken, who holds the number, is the record still stored) and the writes that follow see one state.

use crate::codec::{Columns, timestamp_text};
use crate::error::{CorruptRow, InvoiceMisuse};
use crate::store::{Reader, VISIT_FN, failed};
use crate::table::TableName;
use crate::{LocalStore, OpenError};
use domain::invoice::ports::{InvoiceGet, InvoiceList, InvoiceNumberFind, InvoiceRefuse, InvoiceStore};
use domain::invoice::validate::seller_key;
use domain::invoice::{InvoiceId, InvoicePage, InvoiceRecord, InvoiceStatus, Problem, StoreOutcome};
use domain::{Limit, StoreError, Timestamp, UserId};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use std::sync::Arc;

/// The invoice ports on one table (and its claims table) of a [`LocalStore`]. Cheap to clone.
#[derive(Clone)]
pub struct SqliteInvoices {
    store: LocalStore,
    sql: Arc<InvoiceSql>,
}

impl std::fmt::Debug for SqliteInvoices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteInvoices").field("table", &self.sql.table.as_str()).finish_non_exhaustive()
    }
}

/// Statement texts for one table, built once (see `tasks.rs` for why).
struct InvoiceSql {
    table: TableName,
    get: String,
    exists: String,
    insert: String,
    refuse: String,
    claim_get: String,
    claim_put: String,
    claim_release: String,
    /// Indexed by `by_status as usize * 2 + has_after as usize`.
    list: [String; 4],
}

/// Suffix of the `(owner, status, id)` index's name.
const STATUS_INDEX: &str = "owner_status_id";
/// Suffix of the claims table's name.
const CLAIMS: &str = "numbers";

/// The columns every read selects, in the order [`invoice_from_row`] decodes them.
const COLUMNS: &str = "id, status, object, received_at, updated_at, execution_arn, invoice, problem";

impl InvoiceSql {
    fn new(table: TableName) -> Self {
        let t = table.quoted();
        let index = table.quoted_index(STATUS_INDEX);
        let c = table.quoted_companion(CLAIMS);
        let list = |by_status: bool, after: bool| {
            // Fixed parameter numbers in all four texts (?1 owner, ?2 status, ?3 after, ?4 limit); the visit call
            // first, so a plan that stopped using the key would have every row it walked counted. INDEXED BY for
            // the reason given in `tasks.rs`: the planner may otherwise walk the primary key and filter by status.
            let status = if by_status { " AND status = ?2" } else { "" };
            let after = if after { " AND id < ?3" } else { "" };
            let from = if by_status { format!("{t} INDEXED BY {index}") } else { t.clone() };
            format!(
                "SELECT {COLUMNS} FROM {from} WHERE {VISIT_FN}(id) AND owner = ?1{status}{after} \
                 ORDER BY id DESC LIMIT ?4"
            )
        };
        Self {
            get: format!("SELECT {COLUMNS} FROM {t} WHERE owner = ?1 AND id = ?2"),
            exists: format!("SELECT 1 FROM {t} WHERE owner = ?1 AND id = ?2"),
            insert: format!(
                "INSERT INTO {t} (owner, id, status, object, received_at, updated_at, execution_arn, invoice, problem) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
            ),
            refuse: format!("UPDATE {t} SET status = ?3, problem = ?4, updated_at = ?5 WHERE owner = ?1 AND id = ?2"),
            claim_get: format!("SELECT invoice_id FROM {c} WHERE owner = ?1 AND seller_key = ?2 AND number = ?3"),
            claim_put: format!(
                "INSERT OR REPLACE INTO {c} (owner, seller_key, number, invoice_id) VALUES (?1, ?2, ?3, ?4)"
            ),
            claim_release: format!(
                "DELETE FROM {c} WHERE owner = ?1 AND seller_key = ?2 AND number = ?3 AND invoice_id = ?4"
            ),
            list: [list(false, false), list(false, true), list(true, false), list(true, true)],
            table,
        }
    }

    fn list_for(&self, status: bool, after: bool) -> &str {
        &self.list[usize::from(status) * 2 + usize::from(after)]
    }

    fn schema(&self) -> String {
        let t = self.table.quoted();
        let index = self.table.quoted_index(STATUS_INDEX);
        let c = self.table.quoted_companion(CLAIMS);
        format!(
            "CREATE TABLE IF NOT EXISTS {t} (
                owner TEXT NOT NULL,
                id TEXT NOT NULL,
                status TEXT NOT NULL,
                object TEXT NOT NULL,
                received_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                execution_arn TEXT,
                invoice TEXT,
                problem TEXT,
                PRIMARY KEY (owner, id)
            ) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS {index} ON {t} (owner, status, id);
            CREATE TABLE IF NOT EXISTS {c} (
                owner TEXT NOT NULL,
                seller_key TEXT NOT NULL,
                number TEXT NOT NULL,
                invoice_id TEXT NOT NULL,
                PRIMARY KEY (owner, seller_key, number)
            ) WITHOUT ROWID;"
        )
    }
}

impl LocalStore {
    /// The invoice ports on table `table` (and its claims table `<table>$numbers`), created with its index if
    /// missing. Refuses names DynamoDB would refuse, and fails here if an existing table of that name lacks the
    /// invoice columns.
    pub fn invoices(&self, table: &str) -> Result<SqliteInvoices, OpenError> {
        let sql = InvoiceSql::new(TableName::parse(table)?);
        self.setup(|conn| conn.execute_batch(&sql.schema()), || format!("creating invoices table {table}"))?;
        self.setup(
            |conn| {
                [&sql.get, &sql.exists, &sql.insert, &sql.refuse, &sql.claim_get, &sql.claim_put, &sql.claim_release]
                    .into_iter()
                    .try_for_each(|text| conn.prepare(text).map(drop))?;
                // The lists call the visit function, which only readers register.
                sql.list
                    .iter()
                    .try_for_each(|text| conn.prepare(&text.replace(&format!("{VISIT_FN}(id)"), "1")).map(drop))
            },
            || format!("checking invoices table {table} against the statements"),
        )?;
        Ok(SqliteInvoices { store: self.clone(), sql: Arc::new(sql) })
    }
}

/// The number as claims key it: trimmed, as [`seller_key`] trims it, so a number read with stray spaces is still
/// the same number.
fn claim_number(number: &str) -> &str {
    number.trim()
}

impl SqliteInvoices {
    /// The table's name as given.
    pub fn table(&self) -> &str {
        self.sql.table.as_str()
    }

    /// [`InvoiceList::list_invoices`], also returning how many rows the statement examined: the page's rows and
    /// the one look-ahead row, when the read walks the key.
    pub fn list_invoices_counted(
        &self,
        owner: &UserId,
        status: Option<InvoiceStatus>,
        limit: Limit,
        after: Option<InvoiceId>,
    ) -> Result<(InvoicePage, u64), StoreError> {
        let table = self.table();
        let sql = self.sql.list_for(status.is_some(), after.is_some());
        let after = after.map(|id| id.to_string());
        // One past the page: whether it comes back says whether another page follows.
        let fetch = i64::try_from(limit.get() + 1).unwrap_or(i64::MAX);
        self.store.read(|reader: &Reader| {
            let mut stmt = reader.conn.prepare_cached(sql).map_err(failed("list_invoices", table))?;
            reader.reset_visits();
            let mut rows = stmt
                .query(params![owner.as_str(), status.map(InvoiceStatus::as_str), after, fetch])
                .map_err(failed("list_invoices", table))?;
            let mut invoices = Vec::with_capacity(limit.get() + 1);
            while let Some(row) = rows.next().map_err(failed("list_invoices", table))? {
                invoices.push(invoice_from_row(owner, row, table)?);
            }
            let next = if invoices.len() > limit.get() {
                invoices.truncate(limit.get());
                invoices.last().map(|r| r.id)
            } else {
                None
            };
            Ok((InvoicePage { invoices, next }, reader.visited()))
        })
    }

    /// The `EXPLAIN QUERY PLAN` lines of the statement [`InvoiceList::list_invoices`] runs, with or without a
    /// status and a position to resume after.
    pub fn list_query_plan(&self, status: bool, after: bool) -> Result<Vec<String>, StoreError> {
        let table = self.table();
        let sql = format!("EXPLAIN QUERY PLAN {}", self.sql.list_for(status, after));
        self.store.read(|reader| {
            let mut stmt = reader.conn.prepare(&sql).map_err(failed("explain", table))?;
            let rows = stmt
                .query_map(params!["owner", "stored", "01ARZ3NDEKTSV4RRFFQ69G5FAV", 26], |row| row.get::<_, String>(3))
                .map_err(failed("explain", table))?;
            rows.collect::<Result<_, _>>().map_err(failed("explain", table))
        })
    }
}

/// Reads one row of [`COLUMNS`]. `owner` is the key the row was found under.
fn invoice_from_row(owner: &UserId, row: &Row<'_>, table: &str) -> Result<InvoiceRecord, StoreError> {
    let c = Columns { row, table };
    Ok(InvoiceRecord {
        id: c.parse(0, "id", InvoiceId::parse)?,
        owner: owner.clone(),
        status: c.parse(1, "status", InvoiceStatus::parse)?,
        object: c.parse(2, "object", |s| serde_json::from_str(s))?,
        received_at: c.timestamp(3, "received_at")?,
        updated_at: c.timestamp(4, "updated_at")?,
        execution_arn: c.text_or_null(5, "execution_arn")?.map(str::to_owned),
        invoice: c.parse_or_null(6, "invoice", |s| serde_json::from_str(s))?,
        problem: c.parse_or_null(7, "problem", |s| serde_json::from_str(s))?,
    })
}

/// The record at `(owner, id)` on `conn`, if any.
fn get(conn: &Connection, sql: &InvoiceSql, owner: &UserId, id: &str) -> Result<Option<InvoiceRecord>, StoreError> {
    let table = sql.table.as_str();
    let mut stmt = conn.prepare_cached(&sql.get).map_err(failed("get_invoice", table))?;
    let mut rows = stmt.query(params![owner.as_str(), id]).map_err(failed("get_invoice", table))?;
    match rows.next().map_err(failed("get_invoice", table))? {
        Some(row) => invoice_from_row(owner, row, table).map(Some),
        None => Ok(None),
    }
}

/// The id holding `owner`'s claim on `seller` and `number`, if any.
fn claim_holder(
    conn: &Connection,
    sql: &InvoiceSql,
    op: &'static str,
    owner: &str,
    seller: &str,
    number: &str,
) -> Result<Option<InvoiceId>, StoreError> {
    let table = sql.table.as_str();
    let raw: Option<String> = conn
        .prepare_cached(&sql.claim_get)
        .and_then(|mut stmt| stmt.query_row(params![owner, seller, number], |row| row.get(0)).optional())
        .map_err(failed(op, table))?;
    raw.map(|raw| {
        InvoiceId::parse(&raw).map_err(|e| {
            StoreError::unavailable(CorruptRow {
                table: format!("{table}$numbers"),
                column: "invoice_id",
                source: Box::new(e),
            })
        })
    })
    .transpose()
}

/// A record's columns, encoded before the hop to the writer thread so only plain values travel.
struct RecordValues {
    owner: String,
    id: String,
    status: &'static str,
    object: String,
    received_at: String,
    updated_at: String,
    execution_arn: Option<String>,
    invoice: Option<String>,
    problem: Option<String>,
}

impl RecordValues {
    fn of(record: &InvoiceRecord) -> Result<Self, StoreError> {
        Ok(Self {
            owner: record.owner.as_str().to_owned(),
            id: record.id.to_string(),
            status: record.status.as_str(),
            object: serde_json::to_string(&record.object).map_err(StoreError::unavailable)?,
            received_at: timestamp_text(record.received_at)?,
            updated_at: timestamp_text(record.updated_at)?,
            execution_arn: record.execution_arn.clone(),
            invoice: record.invoice.as_ref().map(serde_json::to_string).transpose().map_err(StoreError::unavailable)?,
            problem: record.problem.as_ref().map(serde_json::to_string).transpose().map_err(StoreError::unavailable)?,
        })
    }

    fn insert(&self, conn: &Connection, sql: &InvoiceSql, op: &'static str) -> Result<(), StoreError> {
        let v = self;
        conn.prepare_cached(&sql.insert)
            .and_then(|mut stmt| {
                stmt.execute(params![
                    v.owner,
                    v.id,
                    v.status,
                    v.object,
                    v.received_at,
                    v.updated_at,
                    v.execution_arn,
                    v.invoice,
                    v.problem
                ])
            })
            .map(drop)
            .map_err(failed(op, sql.table.as_str()))
    }
}

fn exists(conn: &Connection, sql: &InvoiceSql, op: &'static str, owner: &str, id: &str) -> Result<bool, StoreError> {
    conn.prepare_cached(&sql.exists)
        .and_then(|mut stmt| stmt.exists(params![owner, id]))
        .map_err(failed(op, sql.table.as_str()))
}

impl InvoiceStore for SqliteInvoices {
    async fn store_invoice(&self, record: &InvoiceRecord) -> Result<StoreOutcome, StoreError> {
        let misuse = |why| StoreError::unavailable(InvoiceMisuse { id: record.id.to_string(), why });
        if record.status != InvoiceStatus::Stored {
            return Err(misuse("store_invoice takes a record whose status is `stored`; refusals go to refuse_invoice"));
        }
        let invoice = record.invoice.as_ref().ok_or_else(|| misuse("a stored invoice needs its fields"))?;
        let seller = seller_key(invoice);
        let number = claim_number(&invoice.number).to_owned();
        let values = RecordValues::of(record)?;
        let sql = self.sql.clone();
        self.store
            .write(move |conn| {
                let op = "store_invoice";
                let table = sql.table.as_str();
                // IMMEDIATE takes the write lock before the reads, so what they saw is what the writes replace, also
                // against another process on the same file.
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(failed(op, table))?;
                // An id already there, stored or refused, is never overwritten (a retried step ends here).
                if exists(&tx, &sql, op, &values.owner, &values.id)? {
                    return Ok(StoreOutcome::AlreadyStored);
                }
                if let Some(holder) = claim_holder(&tx, &sql, op, &values.owner, &seller, &number)?
                    && holder.to_string() != values.id
                {
                    return Ok(StoreOutcome::Duplicate(holder));
                }
                values.insert(&tx, &sql, op)?;
                tx.prepare_cached(&sql.claim_put)
                    .and_then(|mut stmt| stmt.execute(params![values.owner, seller, number, values.id]))
                    .map_err(failed(op, table))?;
                tx.commit().map_err(failed(op, table))?;
                Ok(StoreOutcome::Stored)
            })
            .await
    }
}

impl InvoiceRefuse for SqliteInvoices {
    async fn refuse_invoice(
        &self,
        record: &InvoiceRecord,
        status: InvoiceStatus,
        problem: &Problem,
        at: Timestamp,
    ) -> Result<InvoiceRecord, StoreError> {
        if status == InvoiceStatus::Stored {
            let why = "refuse_invoice takes `rejected` or `failed`; a stored invoice goes to store_invoice";
            return Err(StoreError::unavailable(InvoiceMisuse { id: record.id.to_string(), why }));
        }
        let refused = InvoiceRecord { status, problem: Some(problem.clone()), updated_at: at, ..record.clone() };
        let values = RecordValues::of(&refused)?;
        let (sql, owner) = (self.sql.clone(), record.owner.clone());
        self.store
            .write(move |conn| {
                let op = "refuse_invoice";
                let table = sql.table.as_str();
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(failed(op, table))?;
                let outcome = match get(&tx, &sql, &owner, &values.id)? {
                    None => {
                        values.insert(&tx, &sql, op)?;
                        refused
                    }
                    // The first reason stays.
                    Some(current) if current.status != InvoiceStatus::Stored => return Ok(current),
                    Some(current) => {
                        let moved = InvoiceRecord {
                            status: refused.status,
                            problem: refused.problem,
                            updated_at: refused.updated_at,
                            ..current
                        };
                        tx.prepare_cached(&sql.refuse)
                            .and_then(|mut stmt| {
                                stmt.execute(params![
                                    values.owner,
                                    values.id,
                                    values.status,
                                    values.problem,
                                    values.updated_at
                                ])
                            })
                            .map_err(failed(op, table))?;
                        // Its claim goes with it: only stored invoices hold a number. Keyed by the stored fields
                        // (the caller's copy may lack them), and only if it is this invoice's.
                        if let Some(invoice) = &moved.invoice {
                            let (seller, number) = (seller_key(invoice), claim_number(&invoice.number));
                            tx.prepare_cached(&sql.claim_release)
                                .and_then(|mut stmt| stmt.execute(params![values.owner, seller, number, values.id]))
                                .map_err(failed(op, table))?;
                        }
                        moved
                    }
                };
                tx.commit().map_err(failed(op, table))?;
                Ok(outcome)
            })
            .await
    }
}

impl InvoiceGet for SqliteInvoices {
    async fn get_invoice(&self, owner: &UserId, id: InvoiceId) -> Result<Option<InvoiceRecord>, StoreError> {
        let id = id.to_string();
        self.store.read(|reader| get(&reader.conn, &self.sql, owner, &id))
    }
}

impl InvoiceList for SqliteInvoices {
    async fn list_invoices(
        &self,
        owner: &UserId,
        status: Option<InvoiceStatus>,
        limit: Limit,
        after: Option<InvoiceId>,
    ) -> Result<InvoicePage, StoreError> {
        self.list_invoices_counted(owner, status, limit, after).map(|(page, _)| page)
    }
}

impl InvoiceNumberFind for SqliteInvoices {
    async fn find_invoice_number(
        &self,
        owner: &UserId,
        seller_key: &str,
        number: &str,
    ) -> Result<Option<InvoiceId>, StoreError> {
        let number = claim_number(number);
        self.store.read(|reader| {
            claim_holder(&reader.conn, &self.sql, "find_invoice_number", owner.as_str(), seller_key, number)
        })
    }
}

//! The local stack's store: every port of [`domain::ports`] on one embedded SQLite database file, with the same
//! guarantees as the DynamoDB adapter (the shared `domain::contract` suite runs against both).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use domain::ports::TaskGet;
//! let db = local_adapters::LocalStore::open(std::path::Path::new("local.db"))?;
//! let tasks = db.tasks("TasksTable")?; // table names come from template.yaml's environment
//! let profiles = db.profiles("UsersTable")?;
//! # let (owner, id) = (domain::UserId::parse("u").unwrap(), domain::TaskId::generate(domain::now()));
//! let task = tasks.get_task(&owner, id).await?;
//! # Ok(()) }
//! ```
//!
//! Modules, from the file up:
//! - [`store`](LocalStore): opening the file (WAL, `synchronous=NORMAL`, busy timeout), the single writer
//!   connection and the pool of readers, and where each runs (reads inline, writes on the blocking pool). Its doc
//!   says what a crash or a power cut may lose.
//! - `table`: table names, checked against DynamoDB's rule before they are quoted into SQL.
//! - [`tasks`](SqliteTasks): the tasks table (`(owner, id)` key, `(owner, status, id)` index) and the five task
//!   ports; lists are bounded index range reads, and [`SqliteTasks::list_tasks_counted`] reports what one cost.
//! - [`profiles`](SqliteProfiles): the users table and the three profile ports.
//! - [`activity`](SqliteActivity), [`idempotency`](SqliteIdempotency): a task's activity log (keyed by the
//!   change's position, so a second delivery is refused by the key) and the claims of side effects done once.
//! - [`invoices`](SqliteInvoices): the invoices table (`(owner, id)` key, `(owner, status, id)` index) with its
//!   number claims beside it (`<table>$numbers`) and the five invoice ports; storing a record and claiming its
//!   seller and number is one transaction.
//! - [`stream`]: table streams (DynamoDB Streams): [`LocalStore::enable_stream`] turns one on, every write of the
//!   table then appends its record in its own transaction, and [`TableStream`] reads them, wakes waiting readers
//!   on commit and trims what is past retention.
//! - `codec`: domain values to columns and back; a row the domain refuses surfaces as `StoreError::Unavailable`
//!   with a [`CorruptRow`] inside, never as a panic.
//! - [`error`](OpenError): set-up errors, and the causes carried inside `StoreError::Unavailable`.

mod activity;
mod codec;
mod error;
mod idempotency;
mod invoices;
mod profiles;
mod store;
pub mod stream;
mod table;
mod tasks;

pub use activity::SqliteActivity;
pub use error::{CorruptRow, InvoiceMisuse, OpenError, QueryFailed};
pub use idempotency::SqliteIdempotency;
pub use invoices::SqliteInvoices;
pub use profiles::SqliteProfiles;
pub use store::LocalStore;
pub use stream::{StreamRecord, TableStream, ViewType};
pub use tasks::{ListCost, SqliteTasks};

/// Every port at once, on a tasks table and a profiles table of one database: what the contract tests take when
/// one value should serve all ports.
pub type SqliteStore = domain::ports::Stores<SqliteTasks, SqliteProfiles>;

impl LocalStore {
    /// Both tables' ports in one value (see [`LocalStore::tasks`] and [`LocalStore::profiles`]).
    pub fn ports(&self, tasks_table: &str, profiles_table: &str) -> Result<SqliteStore, OpenError> {
        Ok(SqliteStore { tasks: self.tasks(tasks_table)?, profiles: self.profiles(profiles_table)? })
    }
}

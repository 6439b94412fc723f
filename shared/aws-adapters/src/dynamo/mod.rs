//! DynamoDB stores for every port of [`domain::ports`]: [`DynamoTasks`] on the tasks table, [`DynamoProfiles`]
//! on the users table, and [`DynamoStore`] holding both for code that wants every port in one value (the store
//! contract tests). A Lambda function takes the one table its IAM policy grants.
//!
//! - [`schema`]: key, index and attribute names (fixed: `template.yaml` declares the same tables), from
//!   `dynamo_items`, which also lays out the items.
//! - `item`: domain values to the SDK's items and back through `dynamo_items`; corrupt items become [`CorruptItem`].
//! - `tasks`, `profiles`: the ports, one request per call (list may add one per 1 MB of response).
//! - `error`: SDK errors by meaning; the causes carried inside `StoreError::Unavailable`.
//! - [`activity`], [`idempotency`]: [`DynamoActivity`] (a task's activity log, keyed by owner and task, sorted by the
//!   change's position) and [`DynamoIdempotency`] (claims of side effects done once, with a TTL), each with its
//!   table's attribute names.
//! - [`invoices`]: [`DynamoInvoices`], the five invoice ports on the invoices table, whose records and number claims
//!   share the table so that storing one is one transaction.

pub mod activity;
mod error;
pub mod idempotency;
pub mod invoices;
mod item;
mod profiles;
mod tasks;
mod update;

pub use dynamo_items::schema;

pub use activity::DynamoActivity;
pub use error::{CallFailed, Contended, InvoiceMisuse, UnexplainedConditionFailure};
pub use idempotency::DynamoIdempotency;
pub use invoices::DynamoInvoices;
pub use item::{CorruptItem, EncodeFailed, profile_item, task_item};
pub use profiles::DynamoProfiles;
pub use tasks::{DynamoTasks, ListCost};

use aws_sdk_dynamodb::Client;

/// Every port at once, on the tasks and users tables: for the store contract tests and anything else that wants all
/// ports in one value (each function takes only its own).
pub type DynamoStore = domain::ports::Stores<DynamoTasks, DynamoProfiles>;

/// A [`DynamoStore`] on `tasks_table` and `users_table`.
pub fn store(client: Client, tasks_table: impl Into<String>, users_table: impl Into<String>) -> DynamoStore {
    DynamoStore {
        tasks: DynamoTasks::new(client.clone(), tasks_table),
        profiles: DynamoProfiles::new(client, users_table),
    }
}

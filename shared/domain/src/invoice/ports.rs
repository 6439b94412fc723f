//! The invoice store's ports, one per capability, so each function of the pipeline holds only what its IAM policy
//! allows. Two implementations keep the same contract: the embedded store (SQLite) and DynamoDB (`InvoicesTable`).

use super::record::{InvoiceId, InvoicePage, InvoiceRecord, InvoiceStatus, Problem, StoreOutcome};
use crate::{Limit, StoreError, Timestamp, UserId};
use std::future::Future;

/// Stores a valid invoice (status `stored`): the record and the owner's claim on its seller and number, together
/// or not at all. A record with this id already there is [`StoreOutcome::AlreadyStored`] (nothing is written);
/// the seller and number claimed by another id is [`StoreOutcome::Duplicate`] (nothing is written).
pub trait InvoiceStore: Send + Sync {
    fn store_invoice(&self, record: &InvoiceRecord) -> impl Future<Output = Result<StoreOutcome, StoreError>> + Send;
}

/// Records that an invoice was rejected or failed: creates the record if there is none (keeping `record`'s fields),
/// or moves an existing one to `status` with `problem` and `at` (its fields kept). A record already rejected or
/// failed is left as it is, so the first reason stays; returns the record as stored.
pub trait InvoiceRefuse: Send + Sync {
    fn refuse_invoice(
        &self,
        record: &InvoiceRecord,
        status: InvoiceStatus,
        problem: &Problem,
        at: Timestamp,
    ) -> impl Future<Output = Result<InvoiceRecord, StoreError>> + Send;
}

pub trait InvoiceGet: Send + Sync {
    fn get_invoice(
        &self,
        owner: &UserId,
        id: InvoiceId,
    ) -> impl Future<Output = Result<Option<InvoiceRecord>, StoreError>> + Send;
}

/// An owner's invoices newest first, optionally of one status, `limit` at a time, after `after` (exclusive).
pub trait InvoiceList: Send + Sync {
    fn list_invoices(
        &self,
        owner: &UserId,
        status: Option<InvoiceStatus>,
        limit: Limit,
        after: Option<InvoiceId>,
    ) -> impl Future<Output = Result<InvoicePage, StoreError>> + Send;
}

/// The id of the owner's stored invoice with this seller (its [`super::validate::seller_key`]) and number.
pub trait InvoiceNumberFind: Send + Sync {
    fn find_invoice_number(
        &self,
        owner: &UserId,
        seller_key: &str,
        number: &str,
    ) -> impl Future<Output = Result<Option<InvoiceId>, StoreError>> + Send;
}

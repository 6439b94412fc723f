//! The invoices' read side, for their owner: [`list_invoices`] (`GET /invoices?status=&limit=&next=`) and
//! [`get_invoice`] (`GET /invoices/{id}`).
//!
//! A list is newest first (ids sort by upload time), a page at a time, in the task list's page rules: `limit`
//! 1..=100 (25 by default), and `next` a token sealed by the [`PageKey`] over the owner and the status filter, so a
//! token that was made up, changed, or issued to someone else or for another filter is a `400`, never someone
//! else's invoices. Someone else's invoice is a `404`, as a missing one is.

use super::Invoice;
use super::model::Amount;
use super::ports::{InvoiceGet, InvoiceList};
use super::record::{InvoiceId, InvoiceRecord, InvoiceStatus, Problem};
use crate::{Caller, Error, Limit, PageKey, PageToken, StoreError, Timestamp};
use serde::Serialize;

/// The raw query string parameters of `GET /invoices`.
#[derive(Debug, Default, Clone, Copy)]
pub struct ListParams<'a> {
    pub status: Option<&'a str>,
    pub limit: Option<&'a str>,
    pub next: Option<&'a str>,
}

/// One invoice in a list: what a table of invoices shows. The fields read from the PDF are `null` when it could
/// not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceSummary {
    pub id: InvoiceId,
    pub status: InvoiceStatus,
    pub number: Option<String>,
    /// The seller's name.
    pub seller: Option<String>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub total: Option<Amount>,
    pub currency: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: Timestamp,
    pub problem: Option<Problem>,
}

impl From<InvoiceRecord> for InvoiceSummary {
    fn from(record: InvoiceRecord) -> Self {
        let invoice = record.invoice;
        Self {
            id: record.id,
            status: record.status,
            number: invoice.as_ref().map(|i| i.number.clone()),
            seller: invoice.as_ref().map(|i| i.seller.name.clone()),
            total: invoice.as_ref().map(|i| i.total),
            currency: invoice.map(|i| i.currency),
            received_at: record.received_at,
            problem: record.problem,
        }
    }
}

/// One page of the caller's invoices: `{"invoices": [...], "next": token|null}`.
#[derive(Debug, Clone, Serialize)]
pub struct InvoiceListPage {
    pub invoices: Vec<InvoiceSummary>,
    pub next: Option<PageToken>,
}

/// What a `next` token is sealed under, beside the owner: the list and its status filter.
fn token_scope(status: Option<InvoiceStatus>) -> String {
    format!("invoices/{}", status.map_or("*", InvoiceStatus::as_str))
}

fn store_error(e: StoreError) -> Error {
    match e {
        StoreError::Unavailable(source) => Error::Store(source),
        other => Error::Store(Box::new(other)),
    }
}

/// A page of the caller's invoices, newest first, of one status when `status` is given.
pub async fn list_invoices(
    store: &impl InvoiceList,
    key: &PageKey,
    caller: &Caller,
    params: ListParams<'_>,
) -> Result<InvoiceListPage, Error> {
    // An unknown status is a value that breaks a rule (422), as in the task list; a bad limit or token a 400.
    let status = params
        .status
        .map(|raw| InvoiceStatus::parse(raw).map_err(|e| Error::Invalid(format!("`status`: {e}"))))
        .transpose()?;
    let limit = Limit::parse(params.limit)?;
    let scope = token_scope(status);
    let after = match params.next {
        None => None,
        Some(token) => {
            let cursor = key.open_cursor(&caller.id, &scope, token)?;
            // Only this server seals tokens, so the cursor is one of its ids; still checked, being input.
            Some(
                InvoiceId::parse(&cursor)
                    .map_err(|_| Error::BadRequest("`next` is not a page token issued for this list".into()))?,
            )
        }
    };
    let page = store.list_invoices(&caller.id, status, limit, after).await.map_err(store_error)?;
    let next = page.next.map(|last| key.seal_cursor(&caller.id, &scope, &last.to_string()));
    Ok(InvoiceListPage { invoices: page.invoices.into_iter().map(InvoiceSummary::from).collect(), next })
}

/// One invoice as its owner sees it: everything stored but the owner and the object's bucket and version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceDetail {
    pub id: InvoiceId,
    pub status: InvoiceStatus,
    /// The fields read from the PDF (`null` when it could not be read).
    pub invoice: Option<Invoice>,
    /// The uploaded PDF's object key (as `POST /invoices/upload` answered it).
    pub key: String,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: Timestamp,
    pub execution_arn: Option<String>,
    /// Why it was rejected or failed, and in which state (`null` when stored).
    pub problem: Option<Problem>,
}

impl From<InvoiceRecord> for InvoiceDetail {
    fn from(record: InvoiceRecord) -> Self {
        Self {
            id: record.id,
            status: record.status,
            invoice: record.invoice,
            key: record.object.key,
            received_at: record.received_at,
            updated_at: record.updated_at,
            execution_arn: record.execution_arn,
            problem: record.problem,
        }
    }
}

/// The caller's invoice `id`; `400` for an id that is not one, `404` when the caller has no such invoice.
pub async fn get_invoice(store: &impl InvoiceGet, caller: &Caller, id: &str) -> Result<InvoiceDetail, Error> {
    let id = InvoiceId::parse(id)?;
    let record = store.get_invoice(&caller.id, id).await.map_err(store_error)?.ok_or(Error::NotFound("invoice"))?;
    Ok(record.into())
}

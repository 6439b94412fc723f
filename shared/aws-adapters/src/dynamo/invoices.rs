//! The invoices table (`InvoicesTable`) and the five invoice ports on it.
//!
//! Layout ([`schema::INVOICE_OWNER`](super::schema::INVOICE_OWNER) and the names beside it):
//! - a record: partition key `owner`, sort key `id` (the invoice's ULID, so key order is upload order), its status
//!   also spelt into `owner_status` = `{owner}#{status}`, the partition key of the `ByStatus` index (sort key `id`,
//!   projection ALL). An owner's invoices are one partition, one status of them one index partition;
//! - a number claim: partition `{owner}#numbers`, sort key `{seller key}#{number}`, holding `invoice_id`, the
//!   stored invoice that has that seller and number. In the same table as the records, so a record and its claim
//!   are one TransactWriteItems on one table (one IAM grant). A user id has no `#`, so no owner's records share a
//!   partition with anyone's claims; claims have no `owner_status`, so the index never holds them.
//!
//! Only a stored invoice holds a claim: [`InvoiceStore::store_invoice`] writes both or neither, and refusing a
//! stored invoice deletes its claim in the same transaction. [`InvoiceNumberFind`] is then one GetItem and never
//! finds a refused invoice.
//!
//! - store: TransactWriteItems of Put record (`attribute_not_exists(id)`) and Put claim (`attribute_not_exists(id)
//!   OR invoice_id = :id`). A cancelled transaction's reasons say which condition failed: the record's is
//!   `AlreadyStored`; the claim's is `Duplicate`, naming the holder from the claim DynamoDB returns with the reason
//!   (`ReturnValuesOnConditionCheckFailure = ALL_OLD`), so no second read can see a later state.
//! - refuse: a conditional loop rather than one UpdateItem. First a PutItem of the refused record if there is none
//!   (`attribute_not_exists(id)`, the old item returned on failure); a record already refused is returned as it
//!   is; a stored one is moved by a TransactWriteItems of Put (on `status = stored`) and Delete of its claim (on
//!   `attribute_not_exists(id) OR invoice_id = :id`, so another invoice's claim is never touched). One UpdateItem could not do it: the claim is
//!   another item, keyed by fields only the stored record has (the refusing step may not have read them), and an
//!   update that may also create must spell every attribute with `if_not_exists`. A condition that fails because
//!   the record moved on in between sends the loop round again, at most [`ATTEMPTS`] times.
//! - get: GetItem; list: Query of the owner's partition or its `ByStatus` partition, newest first
//!   (`ScanIndexForward = false`), `limit + 1` items so that a page that ends at the last invoice has no `next`;
//!   never a Scan.
//!
//! Reads of the table are strongly consistent (a step reads what the previous step wrote); the index offers only
//! eventually consistent reads, so a status list may lag a write by a moment.

use super::error::{Contended, InvoiceMisuse, call_failed};
use super::item::{Item, invoice_claim_from_item, invoice_claim_to_item, invoice_from_item, invoice_to_item, string};
use super::schema::*;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::AsyncSleep;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    CancellationReason, Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use domain::invoice::ports::{InvoiceGet, InvoiceList, InvoiceNumberFind, InvoiceRefuse, InvoiceStore};
use domain::invoice::validate::seller_key;
use domain::invoice::{InvoiceId, InvoicePage, InvoiceRecord, InvoiceStatus, Problem, StoreOutcome};
use domain::{Limit, StoreError, Timestamp, UserId};
use std::collections::HashMap;
use std::time::Duration;

/// How many times a write is tried against concurrent writes to the same items before it reports [`Contended`].
pub const ATTEMPTS: u32 = 5;

const CONDITION_FAILED: &str = "ConditionalCheckFailed";
const CONFLICT: &str = "TransactionConflict";

/// The invoices table (`INVOICES_TABLE`): records and number claims, index `ByStatus`.
#[derive(Debug, Clone)]
pub struct DynamoInvoices {
    client: Client,
    table: String,
}

/// What one cancelled transaction means for the write that sent it.
enum Cancelled {
    /// The condition of the item at this position (0 the record, 1 the claim) failed; the old item, when
    /// DynamoDB returned it.
    Condition(usize, Option<Item>),
    /// Another write to the same items was in progress: try again.
    Conflict,
}

impl DynamoInvoices {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn key(owner: &UserId, id: InvoiceId) -> Item {
        HashMap::from([
            (INVOICE_OWNER.to_owned(), string(owner.as_str())),
            (INVOICE_ID.to_owned(), string(id.to_string())),
        ])
    }

    fn misuse(id: InvoiceId, why: &'static str) -> StoreError {
        StoreError::unavailable(InvoiceMisuse { id: id.to_string(), why })
    }

    fn contended(&self, operation: &'static str) -> StoreError {
        StoreError::unavailable(Contended { operation, table: self.table.clone(), attempts: ATTEMPTS })
    }

    /// Waits a little before the next attempt, longer each time, with the SDK's own sleep (the runtime it was
    /// built for); without one, the next attempt follows at once.
    async fn back_off(&self, attempt: u32) {
        if let Some(sleep) = self.client.config().sleep_impl() {
            sleep.sleep(Duration::from_millis(10 << attempt.min(6))).await;
        }
    }

    /// [`InvoiceList::list_invoices`], also returning the sum of the queries' `ScannedCount` (items DynamoDB read
    /// and bills): the page and one look-ahead item, since the read is a key range.
    pub async fn list_invoices_counted(
        &self,
        owner: &UserId,
        status: Option<InvoiceStatus>,
        limit: Limit,
        after: Option<InvoiceId>,
    ) -> Result<(InvoicePage, u64), StoreError> {
        let index = status.map(|_| BY_STATUS_INDEX);
        let (partition_attr, partition) = match status {
            Some(status) => (INVOICE_OWNER_STATUS, invoice_owner_status(owner, status)),
            None => (INVOICE_OWNER, owner.as_str().to_owned()),
        };
        let mut key_condition = "#pk = :pk".to_owned();
        let mut values = HashMap::from([(":pk".to_owned(), string(partition))]);
        let mut names = HashMap::from([("#pk".to_owned(), partition_attr.to_owned())]);
        // Resuming is a key condition, as for tasks: it needs nothing but the id, and holds when the invoice
        // named has since changed status (left the index partition being read).
        if let Some(after) = after {
            key_condition.push_str(" AND #id < :after");
            values.insert(":after".to_owned(), string(after.to_string()));
            names.insert("#id".to_owned(), INVOICE_ID.to_owned());
        }
        // One past the page: whether it comes back says whether another page follows.
        let want = limit.get() + 1;
        let mut invoices = Vec::with_capacity(want);
        let mut scanned = 0;
        let mut start: Option<Item> = None;
        // More than one request only when a page of large invoices passes DynamoDB's 1 MB response limit; then the
        // rest is read from where it stopped, asking only for what is still missing.
        while invoices.len() < want {
            let remaining = i32::try_from(want - invoices.len()).unwrap_or(i32::MAX);
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(index.map(str::to_owned))
                .key_condition_expression(&key_condition)
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(false)
                .consistent_read(index.is_none())
                .limit(remaining)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| call_failed("Query", &self.table, e))?;
            scanned += u64::try_from(out.scanned_count()).unwrap_or(0);
            for raw in out.items.unwrap_or_default() {
                invoices.push(invoice_from_item(&self.table, raw)?);
            }
            match out.last_evaluated_key {
                Some(last) if !last.is_empty() => start = Some(last),
                _ => break,
            }
        }
        let next = if invoices.len() > limit.get() {
            invoices.truncate(limit.get());
            invoices.last().map(|r| r.id)
        } else {
            None
        };
        Ok((InvoicePage { invoices, next }, scanned))
    }

    async fn get(&self, operation: &'static str, key: Item) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            // A step reads what the step before it wrote.
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| call_failed(operation, &self.table, e))?;
        Ok(out.item)
    }

    /// Sends one TransactWriteItems; `Ok(None)` when it was written, `Ok(Some(_))` when it was cancelled by a
    /// condition or a conflict.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<Option<Cancelled>, StoreError> {
        let result = self.client.transact_write_items().set_transact_items(Some(items)).send().await;
        let e = match result {
            Ok(_) => return Ok(None),
            Err(e) => e,
        };
        let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = e.as_service_error() else {
            return Err(call_failed("TransactWriteItems", &self.table, e));
        };
        let reasons: &[CancellationReason] = cancelled.cancellation_reasons();
        if let Some((at, reason)) = reasons.iter().enumerate().find(|(_, r)| r.code() == Some(CONDITION_FAILED)) {
            return Ok(Some(Cancelled::Condition(at, reason.item().cloned())));
        }
        if reasons.iter().any(|r| r.code() == Some(CONFLICT)) {
            return Ok(Some(Cancelled::Conflict));
        }
        // Throttled, too large, invalid: the reasons are in the error's message, kept as the source.
        Err(call_failed("TransactWriteItems", &self.table, e))
    }
}

fn built<T>(result: Result<T, aws_sdk_dynamodb::error::BuildError>) -> Result<T, StoreError> {
    result.map_err(StoreError::unavailable)
}

/// Put `item` only if no item has its key.
fn put_new(table: &str, item: Item, return_old: bool) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(#id)")
        .expression_attribute_names("#id", INVOICE_ID)
        .set_return_values_on_condition_check_failure(
            return_old.then_some(ReturnValuesOnConditionCheckFailure::AllOld),
        );
    Ok(TransactWriteItem::builder().put(built(put.build())?).build())
}

impl InvoiceStore for DynamoInvoices {
    async fn store_invoice(&self, record: &InvoiceRecord) -> Result<StoreOutcome, StoreError> {
        if record.status != InvoiceStatus::Stored {
            return Err(Self::misuse(
                record.id,
                "store_invoice takes a record whose status is `stored`; refusals go to refuse_invoice",
            ));
        }
        let Some(invoice) = &record.invoice else {
            return Err(Self::misuse(record.id, "a stored invoice needs its fields"));
        };
        let item = invoice_to_item(record)?;
        let claim = invoice_claim_to_item(record)?;
        let claim_key: Item = dynamo_items::invoice_claim_key(&record.owner, &seller_key(invoice), &invoice.number);
        for attempt in 0..ATTEMPTS {
            let claim_put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(claim.clone()))
                .condition_expression("attribute_not_exists(#id) OR #invoice_id = :id")
                .expression_attribute_names("#id", INVOICE_ID)
                .expression_attribute_names("#invoice_id", INVOICE_CLAIM_INVOICE_ID)
                .expression_attribute_values(":id", string(record.id.to_string()))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
            let items = vec![
                put_new(&self.table, item.clone(), false)?,
                TransactWriteItem::builder().put(built(claim_put.build())?).build(),
            ];
            match self.transact(items).await? {
                None => return Ok(StoreOutcome::Stored),
                // The id is taken, stored or refused: never overwritten.
                Some(Cancelled::Condition(0, _)) => return Ok(StoreOutcome::AlreadyStored),
                Some(Cancelled::Condition(_, old)) => {
                    let old = match old {
                        Some(old) => Some(old),
                        None => self.get("GetItem", claim_key.clone()).await?,
                    };
                    match old.map(|old| invoice_claim_from_item(&self.table, old)).transpose()? {
                        Some(holder) if holder != record.id => return Ok(StoreOutcome::Duplicate(holder)),
                        // Let go between the write and the read (its invoice was refused): try again.
                        _ => {}
                    }
                }
                Some(Cancelled::Conflict) => self.back_off(attempt).await,
            }
        }
        Err(self.contended("store_invoice"))
    }
}

impl InvoiceRefuse for DynamoInvoices {
    async fn refuse_invoice(
        &self,
        record: &InvoiceRecord,
        status: InvoiceStatus,
        problem: &Problem,
        at: Timestamp,
    ) -> Result<InvoiceRecord, StoreError> {
        if status == InvoiceStatus::Stored {
            return Err(Self::misuse(
                record.id,
                "refuse_invoice takes `rejected` or `failed`; a stored invoice goes to store_invoice",
            ));
        }
        let refuse = |current: InvoiceRecord| InvoiceRecord {
            status,
            problem: Some(problem.clone()),
            updated_at: at,
            ..current
        };
        let created = refuse(record.clone());
        let created_item = invoice_to_item(&created)?;
        // Cleared when the stored invoice's claim turns out to be another's (a state no write of this adapter
        // leaves, but then the record still moves and the claim stays with its holder).
        let mut release_claim = true;
        for attempt in 0..ATTEMPTS {
            // 1. None there: create it refused.
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(created_item.clone()))
                .condition_expression("attribute_not_exists(#id)")
                .expression_attribute_names("#id", INVOICE_ID)
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .send()
                .await;
            let old = match result {
                Ok(_) => return Ok(created),
                Err(e) => match e.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(failed)) => failed.item().cloned(),
                    Some(PutItemError::TransactionConflictException(_)) => {
                        self.back_off(attempt).await;
                        continue;
                    }
                    _ => return Err(call_failed("PutItem", &self.table, e)),
                },
            };
            let old = match old {
                Some(old) => old,
                None => match self.get("GetItem", Self::key(&record.owner, record.id)).await? {
                    Some(old) => old,
                    None => continue,
                },
            };
            let current = invoice_from_item(&self.table, old)?;
            // 2. Already refused: the first reason stays.
            if current.status != InvoiceStatus::Stored {
                return Ok(current);
            }
            // 3. Stored: move it, and let its claim go, in one transaction.
            let moved = refuse(current);
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(invoice_to_item(&moved)?))
                .condition_expression("#status = :stored")
                .expression_attribute_names("#status", INVOICE_STATUS)
                .expression_attribute_values(":stored", string(InvoiceStatus::Stored.as_str()));
            let mut items = vec![TransactWriteItem::builder().put(built(put.build())?).build()];
            if let Some(invoice) = moved.invoice.as_ref().filter(|_| release_claim) {
                let key = dynamo_items::invoice_claim_key(&moved.owner, &seller_key(invoice), &invoice.number);
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key))
                    .condition_expression("attribute_not_exists(#id) OR #invoice_id = :id")
                    .expression_attribute_names("#id", INVOICE_ID)
                    .expression_attribute_names("#invoice_id", INVOICE_CLAIM_INVOICE_ID)
                    .expression_attribute_values(":id", string(moved.id.to_string()));
                items.push(TransactWriteItem::builder().delete(built(delete.build())?).build());
            }
            match self.transact(items).await? {
                None => return Ok(moved),
                // Refused by another step in between: read it again.
                Some(Cancelled::Condition(0, _)) => {}
                Some(Cancelled::Condition(_, _)) => release_claim = false,
                Some(Cancelled::Conflict) => self.back_off(attempt).await,
            }
        }
        Err(self.contended("refuse_invoice"))
    }
}

impl InvoiceGet for DynamoInvoices {
    async fn get_invoice(&self, owner: &UserId, id: InvoiceId) -> Result<Option<InvoiceRecord>, StoreError> {
        let item = self.get("GetItem", Self::key(owner, id)).await?;
        item.map(|raw| invoice_from_item(&self.table, raw)).transpose()
    }
}

impl InvoiceList for DynamoInvoices {
    async fn list_invoices(
        &self,
        owner: &UserId,
        status: Option<InvoiceStatus>,
        limit: Limit,
        after: Option<InvoiceId>,
    ) -> Result<InvoicePage, StoreError> {
        Ok(self.list_invoices_counted(owner, status, limit, after).await?.0)
    }
}

impl InvoiceNumberFind for DynamoInvoices {
    async fn find_invoice_number(
        &self,
        owner: &UserId,
        seller_key: &str,
        number: &str,
    ) -> Result<Option<InvoiceId>, StoreError> {
        let item = self.get("GetItem", dynamo_items::invoice_claim_key(owner, seller_key, number)).await?;
        item.map(|raw| invoice_claim_from_item(&self.table, raw)).transpose()
    }
}

//! The idempotency table and [`Idempotency`] on it: one item per key, every change one conditional write.
//!
//! Layout (`template.yaml`'s `IdempotencyTable`): partition key [`IDEMPOTENCY_ID`] (S); [`IDEMPOTENCY_STATUS`]
//! (`in_progress` or `done`); [`IDEMPOTENCY_HOLDER`], the attempt holding the claim; [`IDEMPOTENCY_EXPIRES_AT`] (N,
//! Unix seconds), the claim's lapse time and then the done record's keep time, and the table's TTL attribute, so
//! DynamoDB deletes old records by itself (some time after they expire; until then the conditions below treat an
//! expired item as absent).
//!
//! - claim: PutItem if `attribute_not_exists(id) OR expires_at <= :now`; when that fails, the old item (returned
//!   with the failure, `ReturnValuesOnConditionCheckFailure = ALL_OLD`) says done or in progress until when, from
//!   the same atomic call;
//! - complete: UpdateItem if `holder = :me AND status = in_progress`, else `NotFound`;
//! - release: DeleteItem on the same condition; a failed condition means there is nothing of ours to release.

use super::CorruptItem;
use super::error::call_failed;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use domain::idempotency::{ClaimOutcome, Holder, Idempotency, IdempotencyKey};
use domain::{StoreError, Timestamp};
use std::collections::HashMap;

/// Idempotency table, partition key (S): the [`IdempotencyKey`].
pub const IDEMPOTENCY_ID: &str = "id";
/// `in_progress` or `done`.
pub const IDEMPOTENCY_STATUS: &str = "status";
/// The attempt holding the claim ([`Holder`]).
pub const IDEMPOTENCY_HOLDER: &str = "holder";
/// N, Unix seconds: when the claim lapses, or the done record may go. The table's TTL attribute.
pub const IDEMPOTENCY_EXPIRES_AT: &str = "expires_at";

const IN_PROGRESS: &str = "in_progress";
const DONE: &str = "done";

type Item = HashMap<String, AttributeValue>;

/// The idempotency table (`IDEMPOTENCY_TABLE`).
#[derive(Debug, Clone)]
pub struct DynamoIdempotency {
    client: Client,
    table: String,
}

impl DynamoIdempotency {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn key(key: &IdempotencyKey) -> Item {
        HashMap::from([(IDEMPOTENCY_ID.to_owned(), AttributeValue::S(key.as_str().to_owned()))])
    }

    fn corrupt(&self, key: &IdempotencyKey, why: String) -> StoreError {
        StoreError::unavailable(CorruptItem {
            table: self.table.clone(),
            key: format!("{IDEMPOTENCY_ID}={key}"),
            what: "idempotency record",
            source: why.into(),
        })
    }

    /// What holds `key`, from the item a failed claim returned.
    fn outcome(&self, key: &IdempotencyKey, old: Option<&Item>) -> Result<ClaimOutcome, StoreError> {
        let old = old.ok_or_else(|| self.corrupt(key, "the claim's condition failed but no item came back".into()))?;
        let expires_at = match old.get(IDEMPOTENCY_EXPIRES_AT) {
            Some(AttributeValue::N(n)) => n.parse::<i64>().ok().and_then(|s| Timestamp::from_unix_timestamp(s).ok()),
            _ => None,
        }
        .ok_or_else(|| self.corrupt(key, format!("`{IDEMPOTENCY_EXPIRES_AT}` is not a time in Unix seconds")))?;
        match old.get(IDEMPOTENCY_STATUS).and_then(|s| s.as_s().ok()).map(String::as_str) {
            Some(DONE) => Ok(ClaimOutcome::AlreadyDone),
            Some(IN_PROGRESS) => Ok(ClaimOutcome::InProgress { until: expires_at }),
            other => Err(self.corrupt(key, format!("`{IDEMPOTENCY_STATUS}` is {other:?}"))),
        }
    }
}

fn seconds(at: Timestamp) -> AttributeValue {
    AttributeValue::N(at.unix_timestamp().to_string())
}

fn names(attrs: &[&str]) -> HashMap<String, String> {
    attrs.iter().map(|a| (format!("#{a}"), (*a).to_owned())).collect()
}

/// `holder = :holder AND status = :in_progress`: the claim is still this holder's.
const HELD: &str = "#holder = :holder AND #status = :in_progress";

impl Idempotency for DynamoIdempotency {
    async fn claim(
        &self,
        key: &IdempotencyKey,
        holder: &Holder,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<ClaimOutcome, StoreError> {
        let mut item = Self::key(key);
        item.insert(IDEMPOTENCY_STATUS.to_owned(), AttributeValue::S(IN_PROGRESS.to_owned()));
        item.insert(IDEMPOTENCY_HOLDER.to_owned(), AttributeValue::S(holder.as_str().to_owned()));
        item.insert(IDEMPOTENCY_EXPIRES_AT.to_owned(), seconds(until));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            // Absent, or expired: TTL deletion lags, so an expired item still there counts as absent.
            .condition_expression("attribute_not_exists(#id) OR #expires_at <= :now")
            .set_expression_attribute_names(Some(names(&[IDEMPOTENCY_ID, IDEMPOTENCY_EXPIRES_AT])))
            .expression_attribute_values(":now", seconds(now))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(ClaimOutcome::Claimed),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => self.outcome(key, failed.item()),
                _ => Err(call_failed("PutItem", &self.table, e)),
            },
        }
    }

    async fn complete(&self, key: &IdempotencyKey, holder: &Holder, keep_until: Timestamp) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(key)))
            .update_expression("SET #status = :done, #expires_at = :keep")
            // Also what keeps UpdateItem from creating a record that is not there.
            .condition_expression(HELD)
            .set_expression_attribute_names(Some(names(&[
                IDEMPOTENCY_STATUS,
                IDEMPOTENCY_HOLDER,
                IDEMPOTENCY_EXPIRES_AT,
            ])))
            .expression_attribute_values(":done", AttributeValue::S(DONE.to_owned()))
            .expression_attribute_values(":keep", seconds(keep_until))
            .expression_attribute_values(":holder", AttributeValue::S(holder.as_str().to_owned()))
            .expression_attribute_values(":in_progress", AttributeValue::S(IN_PROGRESS.to_owned()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_))) => {
                Err(StoreError::NotFound)
            }
            Err(e) => Err(call_failed("UpdateItem", &self.table, e)),
        }
    }

    async fn release(&self, key: &IdempotencyKey, holder: &Holder) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(key)))
            .condition_expression(HELD)
            .set_expression_attribute_names(Some(names(&[IDEMPOTENCY_STATUS, IDEMPOTENCY_HOLDER])))
            .expression_attribute_values(":holder", AttributeValue::S(holder.as_str().to_owned()))
            .expression_attribute_values(":in_progress", AttributeValue::S(IN_PROGRESS.to_owned()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Taken over, done or gone: nothing of this holder's to release.
            Err(e) if matches!(e.as_service_error(), Some(DeleteItemError::ConditionalCheckFailedException(_))) => {
                Ok(())
            }
            Err(e) => Err(call_failed("DeleteItem", &self.table, e)),
        }
    }
}

//! SDK failures by meaning. A failed condition is an answer (the item exists, does not, or moved on) and becomes
//! `AlreadyExists`, `NotFound` or `VersionMismatch`; anything else (throttling, a missing table, no network,
//! denied credentials) is `Unavailable`, carrying the SDK error as its source so logs keep the whole chain.

use super::item::{Item, version_of};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use domain::{StoreError, Version};
use std::error::Error as StdError;

/// A DynamoDB call that failed for a reason other than its condition. The source is the SDK's error.
#[derive(Debug, thiserror::Error)]
#[error("DynamoDB {operation} on table `{table}` failed")]
pub struct CallFailed {
    pub operation: &'static str,
    pub table: String,
    #[source]
    pub source: Box<dyn StdError + Send + Sync + 'static>,
}

/// A condition failed on an item that, by what DynamoDB returned, should have passed it: the item exists and
/// no expected version was given, or the version matches. Not expected to happen; reported rather than guessed.
#[derive(Debug, thiserror::Error)]
#[error("the condition on {operation} failed although the item exists at version {current} (expected {expected:?})")]
pub struct UnexplainedConditionFailure {
    pub operation: &'static str,
    pub current: u64,
    pub expected: Option<u64>,
}

pub(crate) fn call_failed(
    operation: &'static str,
    table: &str,
    source: impl StdError + Send + Sync + 'static,
) -> StoreError {
    StoreError::unavailable(CallFailed { operation, table: table.to_owned(), source: Box::new(source) })
}

/// PutItem that never overwrites: the item is written only if no item has its key (`attribute_not_exists` on the
/// key attribute `key`), and a taken key is [`StoreError::AlreadyExists`], not an outage.
pub(crate) async fn put_new(client: &Client, table: &str, item: Item, key: &str) -> Result<(), StoreError> {
    let result = client
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(#key)")
        .expression_attribute_names("#key", key)
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.as_service_error(), Some(PutItemError::ConditionalCheckFailedException(_))) => {
            Err(StoreError::AlreadyExists)
        }
        Err(e) => Err(call_failed("PutItem", table, e)),
    }
}

/// The kind of item a conditional write guards: which table, what it is called in errors, its key attributes and
/// the attribute holding its version.
pub(crate) struct Guarded<'a> {
    pub table: &'a str,
    pub what: &'static str,
    pub key_names: &'a [&'a str],
    pub version_attr: &'a str,
}

/// What a failed `attribute_exists(…) [AND version = :expected]` condition means, from the old item DynamoDB
/// hands back with `ReturnValuesOnConditionCheckFailure = ALL_OLD`: no item is `NotFound`; an item at another
/// version is `VersionMismatch` with that version.
pub(crate) fn condition_failed(
    operation: &'static str,
    guarded: &Guarded<'_>,
    old: Option<&Item>,
    expected: Option<Version>,
) -> StoreError {
    let Some(old) = old else { return StoreError::NotFound };
    match version_of(guarded.table, guarded.what, guarded.key_names, old, guarded.version_attr) {
        Ok(current) if expected.is_some_and(|v| v.0 != current) => StoreError::VersionMismatch { current },
        Ok(current) => {
            StoreError::unavailable(UnexplainedConditionFailure { operation, current, expected: expected.map(|v| v.0) })
        }
        Err(corrupt) => corrupt,
    }
}

/// A call an invoice port does not take: storing a record that is not `stored` or has no fields, refusing as
/// `stored`. The caller's mistake, not the store's; the ports have no error for it, so it travels inside
/// `StoreError::Unavailable` and nothing is written.
#[derive(Debug, thiserror::Error)]
#[error("invoice {id}: {why}")]
pub struct InvoiceMisuse {
    pub id: String,
    pub why: &'static str,
}

/// A write that kept meeting concurrent writes to the same items (DynamoDB's `TransactionConflict`, or a state
/// that moved between the read and the conditional write) and gave up after `attempts`. Worth retrying later.
#[derive(Debug, thiserror::Error)]
#[error("{operation} on table `{table}` met concurrent writes {attempts} times in a row")]
pub struct Contended {
    pub operation: &'static str,
    pub table: String,
    pub attempts: u32,
}

//! Domain values to DynamoDB items and back, on the SDK's item type. The layout itself (the item structs, the
//! domain's parsers on the way back) is `dynamo_items`, shared with the local stream and stream consumers; this
//! module puts it in the SDK's terms and gives its failures the store's meaning: an item the domain refuses is a
//! [`CorruptItem`] naming its table and key, carried inside [`StoreError::Unavailable`].

use aws_sdk_dynamodb::types::AttributeValue;
use domain::invoice::{InvoiceId, InvoiceRecord};
use domain::{Profile, StoreError, Task, Timestamp};
use dynamo_items::{Direction, ItemError};
use std::collections::HashMap;
use std::error::Error as StdError;

pub(crate) type Item = HashMap<String, AttributeValue>;
type Source = Box<dyn StdError + Send + Sync + 'static>;

/// A stored item that does not read back as a domain value. Carried inside [`StoreError::Unavailable`]: the
/// caller cannot fix it, and the key tells an operator which item to look at.
#[derive(Debug, thiserror::Error)]
#[error("the {what} item {key} in table `{table}` is corrupt")]
pub struct CorruptItem {
    pub table: String,
    /// The item's key attributes as stored (or `?` where they are missing or not strings).
    pub key: String,
    /// `task`, `profile`, `invoice` or `invoice number claim`.
    pub what: &'static str,
    #[source]
    pub source: Source,
}

/// A value that could not be written as an item (only a timestamp beyond year 9999 can cause it).
#[derive(Debug, thiserror::Error)]
#[error("a {what} cannot be encoded as a DynamoDB item")]
pub struct EncodeFailed {
    pub what: &'static str,
    #[source]
    pub source: Source,
}

/// What an [`ItemError`] means to a store on `table`.
fn store_error(table: &str, e: ItemError) -> StoreError {
    match e.direction {
        Direction::Read => {
            StoreError::unavailable(CorruptItem { table: table.to_owned(), key: e.key, what: e.what, source: e.source })
        }
        Direction::Write => StoreError::unavailable(EncodeFailed { what: e.what, source: e.source }),
    }
}

/// The item `task` is stored as (what PutItem writes), for batch loads and tests that write items directly.
pub fn task_item(task: &Task) -> Result<HashMap<String, AttributeValue>, StoreError> {
    task_to_item(task)
}

/// The item `profile` is stored as (what PutItem writes).
pub fn profile_item(profile: &Profile) -> Result<HashMap<String, AttributeValue>, StoreError> {
    profile_to_item(profile)
}

pub(crate) fn task_to_item(task: &Task) -> Result<Item, StoreError> {
    dynamo_items::task_to_item(task).map_err(|e| store_error("", e))
}

pub(crate) fn task_from_item(table: &str, item: Item) -> Result<Task, StoreError> {
    dynamo_items::task_from_item(item).map_err(|e| store_error(table, e))
}

pub(crate) fn profile_to_item(profile: &Profile) -> Result<Item, StoreError> {
    dynamo_items::profile_to_item(profile).map_err(|e| store_error("", e))
}

pub(crate) fn profile_from_item(table: &str, item: Item) -> Result<Profile, StoreError> {
    dynamo_items::profile_from_item(item).map_err(|e| store_error(table, e))
}

pub(crate) fn photo_to_value(state: &domain::photo::PhotoState) -> Result<AttributeValue, StoreError> {
    dynamo_items::photo_to_value(state).map_err(|e| store_error("", e))
}

pub(crate) fn photo_from_item(table: &str, item: Item) -> Result<domain::photo::PhotoRecord, StoreError> {
    dynamo_items::photo_from_item(item).map_err(|e| store_error(table, e))
}

pub(crate) fn invoice_to_item(record: &InvoiceRecord) -> Result<Item, StoreError> {
    dynamo_items::invoice_to_item(record).map_err(|e| store_error("", e))
}

pub(crate) fn invoice_from_item(table: &str, item: Item) -> Result<InvoiceRecord, StoreError> {
    dynamo_items::invoice_from_item(item).map_err(|e| store_error(table, e))
}

pub(crate) fn invoice_claim_to_item(record: &InvoiceRecord) -> Result<Item, StoreError> {
    dynamo_items::invoice_claim_to_item(record).map_err(|e| store_error("", e))
}

pub(crate) fn invoice_claim_from_item(table: &str, item: Item) -> Result<InvoiceId, StoreError> {
    dynamo_items::invoice_claim_from_item(item).map_err(|e| store_error(table, e))
}

/// A timestamp as an attribute value, formatted exactly as the item structs format it (`time`'s RFC 3339).
pub(crate) fn timestamp(ts: Timestamp) -> Result<AttributeValue, StoreError> {
    dynamo_items::timestamp_value(ts)
        .map_err(|e| StoreError::unavailable(EncodeFailed { what: "timestamp", source: Box::new(e) }))
}

pub(crate) fn string(s: impl Into<String>) -> AttributeValue {
    AttributeValue::S(s.into())
}

pub(crate) fn number(n: u64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

/// The `version` attribute of a stored item (e.g. the old item a failed condition returns).
pub(crate) fn version_of(
    table: &str,
    what: &'static str,
    key_names: &[&str],
    item: &Item,
    attr: &str,
) -> Result<u64, StoreError> {
    match item.get(attr) {
        Some(AttributeValue::N(n)) => n.parse::<u64>().map_err(|e| Box::new(e) as Source),
        Some(other) => Err(format!("`{attr}` is {other:?}, not a number").into()),
        None => Err(format!("`{attr}` is missing").into()),
    }
    .map_err(|source| {
        StoreError::unavailable(CorruptItem {
            table: table.to_owned(),
            key: describe_key(item, key_names),
            what,
            source,
        })
    })
}

/// `owner=u-1, id=01J…` from the key attributes, for error messages.
fn describe_key(item: &Item, names: &[&str]) -> String {
    names
        .iter()
        .map(|name| match item.get(*name) {
            Some(AttributeValue::S(s)) => format!("{name}={s}"),
            _ => format!("{name}=?"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamo::schema;
    use domain::{Description, DisplayName, Email, Status, TaskId, Title, UserId, Version};
    use std::collections::BTreeSet;

    fn full_task() -> Task {
        let at = domain::now();
        Task {
            owner: UserId::parse("u-1").unwrap(),
            id: TaskId::generate(at),
            title: Title::parse("a title").unwrap(),
            description: Some(Description::parse("words").unwrap()),
            status: Status::InProgress,
            created_at: at,
            updated_at: at,
            version: Version(7),
        }
    }

    fn full_profile() -> Profile {
        let at = domain::now();
        Profile {
            user_id: UserId::parse("u-1").unwrap(),
            display_name: DisplayName::parse("Ada").unwrap(),
            email: Some(Email::parse("ada@example.com").unwrap()),
            created_at: at,
            updated_at: at,
            version: 3,
        }
    }

    #[test]
    fn the_item_structs_write_exactly_the_attribute_names_of_the_schema() {
        let task: BTreeSet<_> = task_to_item(&full_task()).unwrap().into_keys().collect();
        assert_eq!(task, schema::TASK_ATTRIBUTES.iter().map(|s| s.to_string()).collect());
        let profile: BTreeSet<_> = profile_to_item(&full_profile()).unwrap().into_keys().collect();
        assert_eq!(profile, schema::USER_ATTRIBUTES.iter().map(|s| s.to_string()).collect());
    }

    #[test]
    fn a_task_round_trips_through_its_item_with_status_and_index_key_spelt_the_wire_way() {
        let t = full_task();
        let item = task_to_item(&t).unwrap();
        assert_eq!(item[schema::TASK_STATUS], AttributeValue::S("in_progress".into()));
        assert_eq!(item[schema::TASK_OWNER_STATUS], AttributeValue::S("u-1#in_progress".into()));
        assert_eq!(item[schema::TASK_VERSION], AttributeValue::N("7".into()));
        assert_eq!(item[schema::TASK_UPDATED_AT], timestamp(t.updated_at).unwrap());
        assert_eq!(task_from_item("T", item).unwrap(), t);
    }

    #[test]
    fn absent_options_are_absent_attributes_not_nulls() {
        let mut t = full_task();
        t.description = None;
        let item = task_to_item(&t).unwrap();
        assert!(!item.contains_key(schema::TASK_DESCRIPTION));
        assert_eq!(task_from_item("T", item).unwrap(), t);
        let mut p = full_profile();
        p.email = None;
        let item = profile_to_item(&p).unwrap();
        assert!(!item.contains_key(schema::USER_EMAIL));
        assert_eq!(profile_from_item("U", item).unwrap(), p);
    }

    #[test]
    fn an_item_the_domain_refuses_is_a_corrupt_item_naming_its_key() {
        let cases: [(&str, AttributeValue); 5] = [
            (schema::TASK_TITLE, string("   ")),
            (schema::TASK_STATUS, string("finished")),
            (schema::TASK_VERSION, string("seven")),
            (schema::TASK_CREATED_AT, string("yesterday")),
            (schema::TASK_OWNER_STATUS, string("u-1#done")),
        ];
        for (attr, value) in cases {
            let t = full_task();
            let mut item = task_to_item(&t).unwrap();
            item.insert(attr.to_owned(), value);
            let err = task_from_item("Tasks", item).unwrap_err();
            let StoreError::Unavailable(source) = &err else { panic!("{attr}: {err:?}") };
            let corrupt = source.downcast_ref::<CorruptItem>().expect("a CorruptItem");
            assert_eq!(corrupt.key, format!("owner=u-1, id={}", t.id), "{attr}");
            assert!(corrupt.source().is_some(), "{attr}: the cause is kept");
        }
    }
}

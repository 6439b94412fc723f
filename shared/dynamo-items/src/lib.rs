//! How tasks, profiles and invoices are laid out as DynamoDB items, in one place and without any AWS SDK.
//!
//! Three parties read or write these items: the AWS adapter (`aws-adapters`, through the SDK's item type), the
//! local store's stream (DynamoDB JSON images in its records) and the functions that consume the stream (images
//! arriving as `aws_lambda_events`' `serde_dynamo::Item`). They share this one definition, so an image a stream
//! carries reads back with exactly the rules the table is written with.
//!
//! - [`schema`]: key, index and attribute names, as `template.yaml` declares the tables.
//! - [`task_to_item`], [`task_from_item`], [`profile_to_item`], [`profile_from_item`]: domain values to items and
//!   back through serde_dynamo. A profile item also holds the profile's photo ([`photo_to_value`],
//!   [`photo_from_item`]), written and read by the photo ports alone. They are generic over the item type: anything that converts from and into
//!   [`serde_dynamo::Item`] (that type itself, or the SDK's `HashMap<String, AttributeValue>` when serde_dynamo's
//!   SDK feature is on).
//! - [`invoice_to_item`], [`invoice_from_item`]: invoice records (the invoices table); [`invoice_claim_to_item`],
//!   [`invoice_claim_key`], [`invoice_claim_from_item`]: the owner's claim on a seller and number, an item of the same
//!   table in the owner's `#numbers` partition.
//!
//! Reading goes through the domain's parsers, so an item the domain would refuse (an empty title, a status nobody
//! writes, a version that is not a number, an index key out of step with the status) is an [`ItemError`] naming
//! the item's key, never a panic or a half-valid [`Task`].

mod invoice;
pub mod schema;

pub use invoice::{
    invoice_claim_from_item, invoice_claim_key, invoice_claim_to_item, invoice_from_item, invoice_to_item,
};

use domain::photo::{PhotoRecord, PhotoState};
use domain::{Description, DisplayName, Email, Profile, Status, Task, TaskId, Timestamp, Title, UserId, Version};
use serde::{Deserialize, Serialize};
use serde_dynamo::AttributeValue;
use std::error::Error as StdError;
use std::fmt;

type Source = Box<dyn StdError + Send + Sync + 'static>;

/// An item that could not be read as a domain value, or a domain value that could not be written as an item.
/// Keeps the item's key (for an operator to find it) and the cause (serde_dynamo's or the domain parser's).
#[derive(Debug, thiserror::Error)]
#[error("the {what} item {key} {direction}")]
pub struct ItemError {
    /// `task`, `profile`, `photo`, `invoice` or `invoice number claim`.
    pub what: &'static str,
    /// The key attributes, `owner=u-1, id=01J…` (`?` for one that is missing or not a string).
    pub key: String,
    pub direction: Direction,
    #[source]
    pub source: Source,
}

/// Which way an [`ItemError`] went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// A domain value could not be encoded (only a timestamp beyond year 9999 can cause it).
    Write,
    /// A stored item is not a valid domain value: the item is corrupt.
    Read,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Write => "cannot be encoded as a DynamoDB item",
            Direction::Read => "is corrupt",
        })
    }
}

/// A task as stored. Field names are attribute names (a test checks they are exactly [`schema::TASK_ATTRIBUTES`]).
#[derive(Debug, Serialize, Deserialize)]
struct TaskItem {
    owner: String,
    id: String,
    title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    status: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: Timestamp,
    version: u64,
    owner_status: String,
}

/// A profile as stored. Field names are attribute names. The same item also carries the photo ([`PhotoItem`]),
/// which this struct neither writes nor reads: an item written before photos existed reads back unchanged, and a
/// profile's own writes can never clobber its photo.
#[derive(Debug, Serialize, Deserialize)]
struct ProfileItem {
    user_id: String,
    display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: Timestamp,
    version: u64,
}

/// The photo attributes of a profile item. Both are optional: a profile that never had a photo has neither.
#[derive(Debug, Deserialize)]
struct PhotoItem {
    #[serde(default)]
    photo: Option<PhotoState>,
    #[serde(default)]
    photo_revision: Option<u64>,
}

/// The item `task` is stored as: every attribute of [`schema::TASK_ATTRIBUTES`] (the description only when there
/// is one), `owner_status` in step with the status.
pub fn task_to_item<I: From<serde_dynamo::Item>>(task: &Task) -> Result<I, ItemError> {
    let item = TaskItem {
        owner: task.owner.as_str().to_owned(),
        id: task.id.to_string(),
        title: task.title.as_str().to_owned(),
        description: task.description.as_ref().map(|d| d.as_str().to_owned()),
        status: task.status.as_str().to_owned(),
        created_at: task.created_at,
        updated_at: task.updated_at,
        version: task.version.0,
        owner_status: schema::owner_status(&task.owner, task.status),
    };
    serde_dynamo::to_item(item).map_err(|e| ItemError {
        what: "task",
        key: format!("{}={}, {}={}", schema::TASK_OWNER, task.owner, schema::TASK_ID, task.id),
        direction: Direction::Write,
        source: Box::new(e),
    })
}

/// The task `item` holds, read through the domain's parsers; `owner_status` must agree with owner and status.
pub fn task_from_item<I: Into<serde_dynamo::Item>>(item: I) -> Result<Task, ItemError> {
    let item: serde_dynamo::Item = item.into();
    let key = describe_key(&item, &[schema::TASK_OWNER, schema::TASK_ID]);
    let corrupt = |source: Source| ItemError { what: "task", key: key.clone(), direction: Direction::Read, source };
    let raw: TaskItem = serde_dynamo::from_item(item).map_err(|e| corrupt(Box::new(e)))?;
    let parse = || -> Result<Task, Source> {
        let owner = UserId::parse(&raw.owner)?;
        let status = Status::parse(&raw.status)?;
        let expected_owner_status = schema::owner_status(&owner, status);
        if raw.owner_status != expected_owner_status {
            // The index would file this task under the wrong status; better to say so than to list it wrongly.
            return Err(format!(
                "`{}` is `{}` but owner and status make `{expected_owner_status}`",
                schema::TASK_OWNER_STATUS,
                raw.owner_status
            )
            .into());
        }
        Ok(Task {
            owner,
            id: TaskId::parse(&raw.id)?,
            title: Title::parse(&raw.title)?,
            description: raw.description.as_deref().map(Description::parse).transpose()?,
            status,
            created_at: raw.created_at,
            updated_at: raw.updated_at,
            version: Version(raw.version),
        })
    };
    parse().map_err(corrupt)
}

/// The item `profile` is stored as.
pub fn profile_to_item<I: From<serde_dynamo::Item>>(profile: &Profile) -> Result<I, ItemError> {
    let item = ProfileItem {
        user_id: profile.user_id.as_str().to_owned(),
        display_name: profile.display_name.as_str().to_owned(),
        email: profile.email.as_ref().map(|e| e.as_str().to_owned()),
        created_at: profile.created_at,
        updated_at: profile.updated_at,
        version: profile.version,
    };
    serde_dynamo::to_item(item).map_err(|e| ItemError {
        what: "profile",
        key: format!("{}={}", schema::USER_ID, profile.user_id),
        direction: Direction::Write,
        source: Box::new(e),
    })
}

/// The profile `item` holds, read through the domain's parsers.
pub fn profile_from_item<I: Into<serde_dynamo::Item>>(item: I) -> Result<Profile, ItemError> {
    let item: serde_dynamo::Item = item.into();
    let key = describe_key(&item, &[schema::USER_ID]);
    let corrupt = |source: Source| ItemError { what: "profile", key: key.clone(), direction: Direction::Read, source };
    let raw: ProfileItem = serde_dynamo::from_item(item).map_err(|e| corrupt(Box::new(e)))?;
    let parse = || -> Result<Profile, Source> {
        Ok(Profile {
            user_id: UserId::parse(&raw.user_id)?,
            display_name: DisplayName::parse(&raw.display_name)?,
            email: raw.email.as_deref().map(Email::parse).transpose()?,
            created_at: raw.created_at,
            updated_at: raw.updated_at,
            version: raw.version,
        })
    };
    parse().map_err(corrupt)
}

/// `state` as the value of the [`schema::USER_PHOTO`] attribute (a map).
pub fn photo_to_value<AV: From<AttributeValue>>(state: &PhotoState) -> Result<AV, ItemError> {
    serde_dynamo::to_attribute_value(state).map_err(|e| ItemError {
        what: "photo",
        key: String::new(),
        direction: Direction::Write,
        source: Box::new(e),
    })
}

/// The photo a profile item holds, with its revision: an empty state at revision 0 when it has none. The item
/// may be a whole profile item or only its key and photo attributes (a projection).
pub fn photo_from_item<I: Into<serde_dynamo::Item>>(item: I) -> Result<PhotoRecord, ItemError> {
    let item: serde_dynamo::Item = item.into();
    let key = describe_key(&item, &[schema::USER_ID]);
    let raw: PhotoItem = serde_dynamo::from_item(item).map_err(|e| ItemError {
        what: "profile",
        key,
        direction: Direction::Read,
        source: Box::new(e),
    })?;
    Ok(PhotoRecord { state: raw.photo.unwrap_or_default(), revision: raw.photo_revision.unwrap_or(0) })
}

/// A timestamp as an attribute value, formatted exactly as the item structs format it (`time`'s RFC 3339), for
/// update expressions that set one attribute.
pub fn timestamp_value<AV: From<AttributeValue>>(at: Timestamp) -> Result<AV, serde_dynamo::Error> {
    #[derive(Serialize)]
    struct Rfc3339(#[serde(with = "time::serde::rfc3339")] Timestamp);
    serde_dynamo::to_attribute_value(Rfc3339(at))
}

/// `owner=u-1, id=01J…` from an item's key attributes, for error messages: `?` where one is missing or not a
/// string.
pub fn describe_key(item: &serde_dynamo::Item, names: &[&str]) -> String {
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
    use serde_dynamo::Item;
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

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.to_owned())
    }

    #[test]
    fn the_item_structs_write_exactly_the_attribute_names_of_the_schema() {
        let task: BTreeSet<_> = task_to_item::<Item>(&full_task()).unwrap().into_inner().into_keys().collect();
        assert_eq!(task, schema::TASK_ATTRIBUTES.iter().map(|s| s.to_string()).collect());
        let profile: BTreeSet<_> = profile_to_item::<Item>(&full_profile()).unwrap().into_inner().into_keys().collect();
        assert_eq!(profile, schema::USER_ATTRIBUTES.iter().map(|s| s.to_string()).collect());
    }

    #[test]
    fn a_task_round_trips_through_its_item_with_status_and_index_key_spelt_the_wire_way() {
        let t = full_task();
        let item: Item = task_to_item(&t).unwrap();
        assert_eq!(item[schema::TASK_STATUS], s("in_progress"));
        assert_eq!(item[schema::TASK_OWNER_STATUS], s("u-1#in_progress"));
        assert_eq!(item[schema::TASK_VERSION], AttributeValue::N("7".into()));
        assert_eq!(item[schema::TASK_UPDATED_AT], timestamp_value::<AttributeValue>(t.updated_at).unwrap());
        assert_eq!(task_from_item(item).unwrap(), t);
    }

    #[test]
    fn an_item_is_dynamodb_json_in_attribute_value_form() {
        let t = full_task();
        let item: Item = task_to_item(&t).unwrap();
        let json = serde_json::to_value(&item).unwrap();
        assert_eq!(json["status"], serde_json::json!({"S": "in_progress"}));
        assert_eq!(json["version"], serde_json::json!({"N": "7"}));
        let back: Item = serde_json::from_value(json).unwrap();
        assert_eq!(task_from_item(back).unwrap(), t);
    }

    #[test]
    fn a_stream_records_images_as_lambda_events_deserialize_them_read_back_as_tasks() {
        use aws_lambda_events::event::dynamodb::Event;
        let t = full_task();
        let image = serde_json::to_value(task_to_item::<Item>(&t).unwrap()).unwrap();
        let event = serde_json::json!({"Records": [{
            "eventID": "1", "eventName": "MODIFY", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/Tasks/stream/2024-05-01T00:00:00.000",
            "dynamodb": {
                "ApproximateCreationDateTime": 1714521600,
                "Keys": {"owner": {"S": "u-1"}, "id": {"S": t.id.to_string()}},
                "NewImage": image, "OldImage": image,
                "SequenceNumber": "000000000000000000001", "SizeBytes": 100, "StreamViewType": "NEW_AND_OLD_IMAGES"
            }
        }]});
        let event: Event = serde_json::from_value(event).unwrap();
        let record = &event.records[0].change;
        assert_eq!(task_from_item(record.new_image.clone()).unwrap(), t);
        assert_eq!(task_from_item(record.old_image.clone()).unwrap(), t);
    }

    #[test]
    fn absent_options_are_absent_attributes_not_nulls() {
        let mut t = full_task();
        t.description = None;
        let item: Item = task_to_item(&t).unwrap();
        assert!(!item.contains_key(schema::TASK_DESCRIPTION));
        assert_eq!(task_from_item(item).unwrap(), t);
        let mut p = full_profile();
        p.email = None;
        let item: Item = profile_to_item(&p).unwrap();
        assert!(!item.contains_key(schema::USER_EMAIL));
        assert_eq!(profile_from_item(item).unwrap(), p);
    }

    #[test]
    fn an_item_the_domain_refuses_is_an_error_naming_its_key_and_keeping_the_cause() {
        let cases: [(&str, AttributeValue); 5] = [
            (schema::TASK_TITLE, s("   ")),
            (schema::TASK_STATUS, s("finished")),
            (schema::TASK_VERSION, s("seven")),
            (schema::TASK_CREATED_AT, s("yesterday")),
            (schema::TASK_OWNER_STATUS, s("u-1#done")),
        ];
        for (attr, value) in cases {
            let t = full_task();
            let mut item: Item = task_to_item(&t).unwrap();
            item.insert(attr.to_owned(), value);
            let err = task_from_item(item).unwrap_err();
            assert_eq!(err.key, format!("owner=u-1, id={}", t.id), "{attr}");
            assert_eq!(err.direction, Direction::Read);
            assert!(err.to_string().contains(&err.key), "{attr}: {err}");
            assert!(err.source().is_some(), "{attr}: the cause is kept");
        }
        let mut item: Item = profile_to_item(&full_profile()).unwrap();
        item.insert(schema::USER_DISPLAY_NAME.to_owned(), s(""));
        assert_eq!(profile_from_item(item).unwrap_err().key, "user_id=u-1");
    }

    fn photo() -> PhotoState {
        use domain::photo::{Failure, FailureCode, PhotoSet, RenditionName, RenditionSize, UploadId};
        let shown = UploadId::parse("01JDQ3V5R5T4Y2E7Q9M8N6B4C2").unwrap();
        let size = RenditionSize { width: 200, height: 150 };
        let set = PhotoSet {
            upload_id: shown,
            renditions: [(RenditionName::parse("thumbnail").unwrap(), size)].into_iter().collect(),
        };
        let newer = UploadId::parse("01JDQ3V5R5T4Y2E7Q9M8N6B4C3").unwrap();
        let state = PhotoState { current: Some(set), attempt: None };
        state.begin(newer).unwrap().fail(newer, Failure::new(FailureCode::Corrupt, "truncated")).unwrap()
    }

    #[test]
    fn a_photo_is_a_map_attribute_and_reads_back_with_its_revision() {
        let profile = full_profile();
        let mut item: Item = profile_to_item(&profile).unwrap();
        assert_eq!(photo_from_item(item.clone()).unwrap(), PhotoRecord::default(), "no photo: empty, revision 0");
        let value: AttributeValue = photo_to_value(&photo()).unwrap();
        let AttributeValue::M(map) = &value else { panic!("{value:?}") };
        let Some(AttributeValue::M(attempt)) = map.get("attempt") else { panic!("{map:?}") };
        assert_eq!(attempt["status"], s("failed"));
        item.insert(schema::USER_PHOTO.to_owned(), value);
        item.insert(schema::USER_PHOTO_REVISION.to_owned(), AttributeValue::N("4".into()));
        assert_eq!(photo_from_item(item.clone()).unwrap(), PhotoRecord { state: photo(), revision: 4 });
        assert_eq!(profile_from_item(item).unwrap(), profile, "the profile reads past its photo");
    }

    #[test]
    fn a_photo_the_domain_refuses_is_an_error_naming_the_profile() {
        let mut item: Item = profile_to_item(&full_profile()).unwrap();
        let bad = AttributeValue::M([("current".to_owned(), s("not a set"))].into_iter().collect());
        item.insert(schema::USER_PHOTO.to_owned(), bad);
        let err = photo_from_item(item).unwrap_err();
        assert_eq!((err.key.as_str(), err.direction), ("user_id=u-1", Direction::Read));
    }

    #[test]
    fn a_key_that_is_missing_or_not_a_string_is_described_as_unknown() {
        let mut item: Item = task_to_item(&full_task()).unwrap();
        item.remove(schema::TASK_OWNER);
        item.insert(schema::TASK_ID.to_owned(), AttributeValue::N("1".into()));
        assert_eq!(task_from_item(item).unwrap_err().key, "owner=?, id=?");
    }
}

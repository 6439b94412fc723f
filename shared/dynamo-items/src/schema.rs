//! The tables' shape, as `template.yaml` declares it: key names, the `ByStatus` index and every attribute name.
//! Everything that names an attribute (the item structs of this crate, the AWS adapter's update and condition
//! expressions, the `moto` harness that creates tables, stream consumers reading images) uses these constants, so
//! a write and the code that reads it back cannot disagree on a spelling.

/// Tasks table, partition key (S): the owner's user id.
pub const TASK_OWNER: &str = "owner";
/// Tasks table, sort key (S): the task's ULID, so key order is creation order.
pub const TASK_ID: &str = "id";
pub const TASK_TITLE: &str = "title";
/// Absent when the task has no description.
pub const TASK_DESCRIPTION: &str = "description";
/// The status's wire name (`pending`, `in_progress`, `done`).
pub const TASK_STATUS: &str = "status";
/// RFC 3339.
pub const TASK_CREATED_AT: &str = "created_at";
/// RFC 3339.
pub const TASK_UPDATED_AT: &str = "updated_at";
/// N: 1 on creation, +1 on every change.
pub const TASK_VERSION: &str = "version";
/// `"{owner}#{status}"`: the partition key of [`BY_STATUS_INDEX`], kept in step with `status` by every write.
pub const TASK_OWNER_STATUS: &str = "owner_status";
/// Global secondary index on the tasks table: partition key [`TASK_OWNER_STATUS`], sort key [`TASK_ID`],
/// projection ALL (a filtered page is read from the index alone, no fetch back to the table).
pub const BY_STATUS_INDEX: &str = "ByStatus";

/// Users table, partition key (S).
pub const USER_ID: &str = "user_id";
pub const USER_DISPLAY_NAME: &str = "display_name";
/// Absent when the profile has no email.
pub const USER_EMAIL: &str = "email";
pub const USER_CREATED_AT: &str = "created_at";
pub const USER_UPDATED_AT: &str = "updated_at";
pub const USER_VERSION: &str = "version";

/// The profile's photo state (M): `{"current": {"upload_id", "renditions": {name: {"width", "height"}}},
/// "attempt": {"status", "upload_id", "code", "reason"}}`, as `domain::photo::PhotoState` serialises. Written only
/// by the photo ports, never by `PutItem` of a profile nor by `PUT /me`'s update; absent until the first photo.
pub const USER_PHOTO: &str = "photo";
/// N: how many times [`USER_PHOTO`] was written, the photo ports' compare-and-set guard; absent counts as 0.
pub const USER_PHOTO_REVISION: &str = "photo_revision";

/// Every attribute a task item may carry.
pub const TASK_ATTRIBUTES: [&str; 9] = [
    TASK_OWNER,
    TASK_ID,
    TASK_TITLE,
    TASK_DESCRIPTION,
    TASK_STATUS,
    TASK_CREATED_AT,
    TASK_UPDATED_AT,
    TASK_VERSION,
    TASK_OWNER_STATUS,
];

/// Every attribute a profile item carries as a profile (what `PutItem` of a new profile writes); the photo ports
/// add [`PHOTO_ATTRIBUTES`] to the same item.
pub const USER_ATTRIBUTES: [&str; 6] =
    [USER_ID, USER_DISPLAY_NAME, USER_EMAIL, USER_CREATED_AT, USER_UPDATED_AT, USER_VERSION];

/// The attributes of a profile item that hold its photo.
pub const PHOTO_ATTRIBUTES: [&str; 2] = [USER_PHOTO, USER_PHOTO_REVISION];

/// The `ByStatus` partition a task of `owner` in `status` lives in. The one place this key is spelt: writes
/// (put, update) and the filtered query both call it.
pub fn owner_status(owner: &domain::UserId, status: domain::Status) -> String {
    format!("{}#{}", owner.as_str(), status.as_str())
}

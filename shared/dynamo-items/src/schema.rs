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

/// Invoices table, partition key (S): the owner's user id for an invoice record; [`number_claims`] (`{owner}#numbers`)
/// for the owner's number claims, which share the table so that a record and its claim are one transaction on one
/// table. A user id never contains `#`, so no owner's partition is another's claims.
pub const INVOICE_OWNER: &str = "owner";
/// Invoices table, sort key (S): the invoice's ULID, so key order is upload order; in a claims partition,
/// [`number_claim`] (`{seller key}#{number}`).
pub const INVOICE_ID: &str = "id";
/// The status's wire name (`stored`, `rejected`, `failed`).
pub const INVOICE_STATUS: &str = "status";
/// `"{owner}#{status}"`: the partition key of [`BY_STATUS_INDEX`] on the invoices table, kept in step with
/// `status` by every write. Claims have none, so the index never holds them.
pub const INVOICE_OWNER_STATUS: &str = "owner_status";
/// M: the object read, `{"bucket", "key", "etag", "version_id"?}`.
pub const INVOICE_OBJECT: &str = "object";
/// RFC 3339: when the PDF was uploaded.
pub const INVOICE_RECEIVED_AT: &str = "received_at";
/// RFC 3339: when the record was last written.
pub const INVOICE_UPDATED_AT: &str = "updated_at";
/// Absent when no execution is known.
pub const INVOICE_EXECUTION_ARN: &str = "execution_arn";
/// M: the fields read from the PDF, as `domain::invoice::Invoice` serialises (amounts as decimal strings, dates as
/// `YYYY-MM-DD`, unstated values NULL). Absent when the PDF could not be read.
pub const INVOICE_FIELDS: &str = "invoice";
/// M: `{"state", "code", "reason"}`. Absent unless the invoice was rejected or failed.
pub const INVOICE_PROBLEM: &str = "problem";
/// In a claim item (S): the id of the stored invoice holding the claim.
pub const INVOICE_CLAIM_INVOICE_ID: &str = "invoice_id";

/// Every attribute an invoice record item may carry.
pub const INVOICE_ATTRIBUTES: [&str; 10] = [
    INVOICE_OWNER,
    INVOICE_ID,
    INVOICE_STATUS,
    INVOICE_OWNER_STATUS,
    INVOICE_OBJECT,
    INVOICE_RECEIVED_AT,
    INVOICE_UPDATED_AT,
    INVOICE_EXECUTION_ARN,
    INVOICE_FIELDS,
    INVOICE_PROBLEM,
];

/// Every attribute a number claim item carries.
pub const INVOICE_CLAIM_ATTRIBUTES: [&str; 3] = [INVOICE_OWNER, INVOICE_ID, INVOICE_CLAIM_INVOICE_ID];

/// The `ByStatus` partition an invoice of `owner` in `status` lives in.
pub fn invoice_owner_status(owner: &domain::UserId, status: domain::invoice::InvoiceStatus) -> String {
    format!("{}#{}", owner.as_str(), status.as_str())
}

/// The partition holding `owner`'s number claims.
pub fn number_claims(owner: &domain::UserId) -> String {
    format!("{}#numbers", owner.as_str())
}

/// The sort key of the claim on `number` from the seller `seller_key` names (`domain::invoice::validate::seller_key`),
/// the number trimmed as the seller key trims it. A `#` in a seller's name or a number cannot make two invoices'
/// claims meet: a seller key starts with the length of its seller part, so where that part ends is known.
pub fn number_claim(seller_key: &str, number: &str) -> String {
    format!("{seller_key}#{}", number.trim())
}

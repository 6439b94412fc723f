//! Table streams: DynamoDB Streams for the store's tasks tables, so that what a write does on AWS (append a stream
//! record that Lambda then delivers) happens locally too.
//!
//! A stream is turned on per table ([`LocalStore::enable_stream`], from the template's `StreamSpecification`).
//! From then on every write of that table (put, update, delete) appends one record **in the same SQLite
//! transaction** as the row change, so a record exists exactly when its change committed: a failed condition writes
//! neither. Each record holds what DynamoDB Streams carries: a sequence number, the event name (`INSERT`, `MODIFY`,
//! `REMOVE`), the item's keys, its new and old images as the view type asks (DynamoDB JSON, laid out by
//! `dynamo_items`, the layout the AWS tables use), the time and the size.
//!
//! Layout: one records table per stream, `"<table>$stream"` (`$` cannot appear in a DynamoDB table name, so it can
//! never collide with a user's table), keyed by an `AUTOINCREMENT` integer: the sequence number, increasing in
//! commit order (writes go through the one writer connection) and never reused, even after trimming. A small
//! `"local$streams"` table keeps each stream's label, fixed when the stream is created, as DynamoDB fixes it: the
//! stream ARN (`<table ARN>/stream/<label>`) is the same on every start, and a stream created afresh (a new data
//! directory, a changed view type) gets a new one, so a reader's old checkpoint is recognisably for another stream.
//!
//! Readers ([`TableStream::read`]) run on the pooled read connections like a list does, by primary-key range. A
//! reader waiting for more ([`TableStream::wait_after`]) is woken by the commit that adds a record (a
//! `tokio::sync::watch` holding the newest sequence number), not by polling. Records older than DynamoDB's 24-hour
//! retention may be trimmed with [`TableStream::trim`].

use crate::error::CorruptRow;
use crate::store::failed;
use crate::table::TableName;
use crate::{LocalStore, OpenError};
use domain::{StoreError, Task, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};
use serde_dynamo::{AttributeValue, Item};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::watch;

/// How long DynamoDB Streams keeps a record.
pub const RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

/// The table that keeps each stream's label and view type (a name no DynamoDB table can have).
const STREAMS_TABLE: &str = "\"local$streams\"";

/// What a stream record holds of the item, as `StreamSpecification.StreamViewType` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewType {
    KeysOnly,
    NewImage,
    OldImage,
    NewAndOldImages,
}

impl ViewType {
    /// From its wire name (`NEW_AND_OLD_IMAGES`, …).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "KEYS_ONLY" => Self::KeysOnly,
            "NEW_IMAGE" => Self::NewImage,
            "OLD_IMAGE" => Self::OldImage,
            "NEW_AND_OLD_IMAGES" => Self::NewAndOldImages,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::KeysOnly => "KEYS_ONLY",
            Self::NewImage => "NEW_IMAGE",
            Self::OldImage => "OLD_IMAGE",
            Self::NewAndOldImages => "NEW_AND_OLD_IMAGES",
        }
    }

    fn new_image(self) -> bool {
        matches!(self, Self::NewImage | Self::NewAndOldImages)
    }

    fn old_image(self) -> bool {
        matches!(self, Self::OldImage | Self::NewAndOldImages)
    }
}

/// What a write did to the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventName {
    /// A new item (put).
    Insert,
    /// An existing item changed (update).
    Modify,
    /// An item was deleted.
    Remove,
}

impl EventName {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Insert => "INSERT",
            Self::Modify => "MODIFY",
            Self::Remove => "REMOVE",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "INSERT" => Self::Insert,
            "MODIFY" => Self::Modify,
            "REMOVE" => Self::Remove,
            _ => return None,
        })
    }
}

/// One record of a table's stream.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRecord {
    /// Increasing in commit order, never reused.
    pub sequence: u64,
    pub event_name: EventName,
    /// When the write committed, to the millisecond (DynamoDB reports it to the second:
    /// `ApproximateCreationDateTime`).
    pub created_at: Timestamp,
    /// The item's key attributes (`owner`, `id`).
    pub keys: Item,
    /// The item after the write (not for `REMOVE`, nor for views without new images).
    pub new_image: Option<Item>,
    /// The item before the write (not for `INSERT`, nor for views without old images). A row too damaged to read
    /// back as a task is deleted with its keys as its old image.
    pub old_image: Option<Item>,
    /// Keys and images measured as DynamoDB sizes items (attribute names plus values).
    pub size_bytes: u64,
}

impl StreamRecord {
    /// The sequence number as DynamoDB Streams writes it: decimal, zero-padded to 21 digits so that comparing two
    /// as strings agrees with comparing them as numbers.
    pub fn sequence_number(&self) -> String {
        sequence_number(self.sequence)
    }
}

/// `sequence` as a `SequenceNumber` string (see [`StreamRecord::sequence_number`]).
pub fn sequence_number(sequence: u64) -> String {
    format!("{sequence:021}")
}

/// A table's stream: read its records, wait for new ones, trim old ones. Cheap to clone.
#[derive(Clone)]
pub struct TableStream {
    store: LocalStore,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for TableStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableStream").field("arn", &self.shared.arn).finish_non_exhaustive()
    }
}

/// What the stream's handles and the table's writers share.
pub(crate) struct Shared {
    table: TableName,
    arn: String,
    label: String,
    region: String,
    /// The label's instant in milliseconds, the first half of every `eventID`.
    label_ms: u64,
    pub(crate) view_type: ViewType,
    sql: StreamSql,
    /// The newest sequence number committed (`None` while the stream has never had a record). Sent by the
    /// committing writer, watched by waiting readers.
    latest: watch::Sender<Option<u64>>,
}

struct StreamSql {
    records: String,
    insert: String,
    read: String,
    first_kept: String,
    trim: String,
}

impl StreamSql {
    fn new(table: &TableName) -> Self {
        let r = table.quoted_stream();
        Self {
            insert: format!(
                "INSERT INTO {r} (event_name, created_ms, keys, new_image, old_image, size_bytes) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
            ),
            read: format!(
                "SELECT seq, event_name, created_ms, keys, new_image, old_image, size_bytes FROM {r} \
                 WHERE seq > ?1 ORDER BY seq LIMIT ?2"
            ),
            // Records are in creation order, so the walk stops at the first one young enough to keep: it reads
            // the records it trims and one more, not the table.
            first_kept: format!("SELECT seq FROM {r} WHERE created_ms >= ?1 ORDER BY seq LIMIT 1"),
            trim: format!("DELETE FROM {r} WHERE seq < ?1 AND seq <= ?2"),
            records: r,
        }
    }

    fn schema(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {STREAMS_TABLE} (
                table_name TEXT NOT NULL PRIMARY KEY,
                label TEXT NOT NULL,
                view_type TEXT NOT NULL
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS {} (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                event_name TEXT NOT NULL,
                created_ms INTEGER NOT NULL,
                keys TEXT NOT NULL,
                new_image TEXT,
                old_image TEXT,
                size_bytes INTEGER NOT NULL
            );",
            self.records
        )
    }
}

impl LocalStore {
    /// Turns on the stream of tasks table `table`, whose ARN is `table_arn`
    /// (`arn:<partition>:dynamodb:<region>:<account>:table/<table>`), holding `view_type`. The stream is created
    /// (with its label) the first time; later calls, in this process or after a restart, find it again with the
    /// same label and records. A different view type than the stored one is a new stream, as on DynamoDB (which
    /// only changes a view type by disabling and re-enabling): a new label, the old records gone.
    ///
    /// Writes through any [`SqliteTasks`](crate::SqliteTasks) of this table, made before or after this call, append
    /// records from now on.
    pub fn enable_stream(&self, table: &str, table_arn: &str, view_type: ViewType) -> Result<TableStream, OpenError> {
        let name = TableName::parse(table)?;
        let refuse = |problem: String| OpenError::Stream { table: table.to_owned(), problem };
        let region = region_of(table_arn, table).map_err(refuse)?;
        let sql = StreamSql::new(&name);
        let what = || format!("creating the stream of table {table}");
        let (label, latest) = self.setup(|conn| open_stream(conn, &sql, table, view_type), what)?;
        let label_ms =
            label_millis(&label).ok_or_else(|| refuse(format!("the stored label `{label}` is not a time")))?;
        let mut streams = self.streams();
        if let Some(existing) = streams.get(table)
            && existing.label == label
            && existing.arn.starts_with(table_arn)
        {
            return Ok(TableStream { store: self.clone(), shared: existing.clone() });
        }
        let shared = Arc::new(Shared {
            arn: format!("{table_arn}/stream/{label}"),
            label,
            region,
            label_ms,
            view_type,
            table: name,
            sql,
            latest: watch::Sender::new(latest),
        });
        streams.insert(table.to_owned(), shared.clone());
        Ok(TableStream { store: self.clone(), shared })
    }
}

/// Creates the stream's tables and label if missing; returns the label and the newest sequence number ever given.
fn open_stream(
    conn: &Connection,
    sql: &StreamSql,
    table: &str,
    view_type: ViewType,
) -> rusqlite::Result<(String, Option<u64>)> {
    conn.execute_batch(&sql.schema())?;
    let stored: Option<(String, String)> = conn
        .query_row(
            &format!("SELECT label, view_type FROM {STREAMS_TABLE} WHERE table_name = ?1"),
            params![table],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let label = match stored {
        Some((label, stored_view)) if stored_view == view_type.as_str() => label,
        _ => {
            let label = new_label();
            let tx = conn.unchecked_transaction()?;
            tx.execute(&format!("DELETE FROM {}", sql.records), [])?;
            tx.execute(
                &format!("INSERT OR REPLACE INTO {STREAMS_TABLE} (table_name, label, view_type) VALUES (?1, ?2, ?3)"),
                params![table, label, view_type.as_str()],
            )?;
            tx.commit()?;
            label
        }
    };
    // The highest number AUTOINCREMENT ever gave, even if its record was trimmed since: where LATEST starts.
    let latest: Option<i64> = conn
        .query_row("SELECT seq FROM sqlite_sequence WHERE name = ?1", params![sql.records.trim_matches('"')], |row| {
            row.get(0)
        })
        .optional()?;
    for text in [&sql.insert, &sql.read, &sql.first_kept, &sql.trim] {
        conn.prepare(text)?;
    }
    Ok((label, latest.and_then(|n| u64::try_from(n).ok())))
}

/// A new stream's label: the current UTC time as DynamoDB writes it, `2024-05-01T12:34:56.789`.
fn new_label() -> String {
    let now = OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    )
}

fn label_millis(label: &str) -> Option<u64> {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]");
    let at = time::PrimitiveDateTime::parse(label, &format).ok()?.assume_utc();
    u64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

/// The region of a table ARN, checking that it is `table`'s.
fn region_of(table_arn: &str, table: &str) -> Result<String, String> {
    let parts: Vec<&str> = table_arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "dynamodb", region, _, resource] if *resource == format!("table/{table}") && !region.is_empty() => {
            Ok((*region).to_owned())
        }
        _ => Err(format!(
            "`{table_arn}` is not the ARN of table {table} (arn:<partition>:dynamodb:<region>:<account>:table/{table})"
        )),
    }
}

impl TableStream {
    /// `arn:<partition>:dynamodb:<region>:<account>:table/<table>/stream/<label>`.
    pub fn arn(&self) -> &str {
        &self.shared.arn
    }

    /// The ISO time the stream was created at, the last part of its ARN.
    pub fn label(&self) -> &str {
        &self.shared.label
    }

    pub fn table(&self) -> &str {
        self.shared.table.as_str()
    }

    pub fn view_type(&self) -> ViewType {
        self.shared.view_type
    }

    /// The newest sequence number the stream has given (`None` before its first record). Records trimmed since
    /// still count: a reader starting at `LATEST` starts after it.
    pub fn latest(&self) -> Option<u64> {
        *self.shared.latest.borrow()
    }

    /// Resolves once the stream holds a record after `after` (at once if it already does): woken by the commit
    /// that appends it.
    pub async fn wait_after(&self, after: Option<u64>) {
        let mut latest = self.shared.latest.subscribe();
        // The sender lives as long as `self`, so this cannot fail while we wait.
        let _ = latest.wait_for(|latest| *latest > after).await;
    }

    /// Up to `limit` records after `after` (from the oldest kept when `None`), oldest first. Synchronous, on a
    /// pooled reader, like a list.
    pub fn read(&self, after: Option<u64>, limit: usize) -> Result<Vec<StreamRecord>, StoreError> {
        let table = self.table();
        let after = after.map_or(0, |a| i64::try_from(a).unwrap_or(i64::MAX));
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.store.read(|reader| {
            let mut stmt = reader.conn.prepare_cached(&self.shared.sql.read).map_err(failed("read_stream", table))?;
            let mut rows = stmt.query(params![after, limit]).map_err(failed("read_stream", table))?;
            let mut records = Vec::new();
            while let Some(row) = rows.next().map_err(failed("read_stream", table))? {
                records.push(record_from_row(row, table)?);
            }
            Ok(records)
        })
    }

    /// Deletes the records older than [`RETENTION`] (24 hours, DynamoDB's) that are at or below `passed_by_all`,
    /// the lowest sequence number every reader has passed (`None`: whatever readers have read, as DynamoDB
    /// does). Returns how many went.
    pub async fn trim(&self, passed_by_all: Option<u64>) -> Result<usize, StoreError> {
        let cutoff = OffsetDateTime::now_utc() - RETENTION;
        let cutoff_ms = i64::try_from(cutoff.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        let through = passed_by_all.map_or(i64::MAX, |p| i64::try_from(p).unwrap_or(i64::MAX));
        let shared = self.shared.clone();
        self.store
            .write(move |conn| {
                let table = shared.table.as_str();
                let tx = conn.transaction().map_err(failed("trim_stream", table))?;
                let first_kept: Option<i64> = tx
                    .prepare_cached(&shared.sql.first_kept)
                    .and_then(|mut stmt| stmt.query_row(params![cutoff_ms], |row| row.get(0)).optional())
                    .map_err(failed("trim_stream", table))?;
                let deleted = tx
                    .prepare_cached(&shared.sql.trim)
                    .and_then(|mut stmt| stmt.execute(params![first_kept.unwrap_or(i64::MAX), through]))
                    .map_err(failed("trim_stream", table))?;
                tx.commit().map_err(failed("trim_stream", table))?;
                Ok(deleted)
            })
            .await
    }

    /// `record` as DynamoDB Streams' `GetRecords` returns it (and Lambda passes it on, adding `eventSourceARN`).
    pub fn record_json(&self, record: &StreamRecord) -> Value {
        let mut dynamodb = json!({
            "ApproximateCreationDateTime": record.created_at.unix_timestamp(),
            "Keys": record.keys,
            "SequenceNumber": record.sequence_number(),
            "SizeBytes": record.size_bytes,
            "StreamViewType": self.shared.view_type.as_str(),
        });
        if let Some(image) = &record.new_image {
            dynamodb["NewImage"] = json!(image);
        }
        if let Some(image) = &record.old_image {
            dynamodb["OldImage"] = json!(image);
        }
        json!({
            // 32 hex digits, as DynamoDB's: the stream's creation instant, then the sequence number, so ids are
            // unique across streams and stable across reads.
            "eventID": format!("{:016x}{:016x}", self.shared.label_ms, record.sequence),
            "eventName": record.event_name.as_str(),
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": self.shared.region,
            "dynamodb": dynamodb,
        })
    }
}

fn record_from_row(row: &rusqlite::Row<'_>, table: &str) -> Result<StreamRecord, StoreError> {
    let corrupt = |what: String| {
        StoreError::unavailable(CorruptRow {
            table: format!("{table} (stream)"),
            column: "record",
            source: what.into(),
        })
    };
    let get = |e: rusqlite::Error| failed("read_stream", table)(e);
    let sequence: i64 = row.get(0).map_err(get)?;
    let event: String = row.get(1).map_err(get)?;
    let created_ms: i64 = row.get(2).map_err(get)?;
    let image = |idx: usize| -> Result<Option<Item>, StoreError> {
        let text: Option<String> = row.get(idx).map_err(get)?;
        text.map(|t| serde_json::from_str(&t).map_err(|e| corrupt(format!("record {sequence}: an image: {e}"))))
            .transpose()
    };
    let size: i64 = row.get(6).map_err(get)?;
    Ok(StreamRecord {
        sequence: u64::try_from(sequence).map_err(|_| corrupt(format!("sequence number {sequence}")))?,
        event_name: EventName::parse(&event).ok_or_else(|| corrupt(format!("record {sequence}: event `{event}`")))?,
        created_at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(created_ms) * 1_000_000)
            .map_err(|e| corrupt(format!("record {sequence}: time {created_ms}: {e}")))?,
        keys: image(3)?.ok_or_else(|| corrupt(format!("record {sequence}: no keys")))?,
        new_image: image(4)?,
        old_image: image(5)?,
        size_bytes: u64::try_from(size).unwrap_or(0),
    })
}

/// A stream record ready to be appended: encoded before the writer commits, so the transaction only inserts.
pub(crate) struct PendingRecord {
    event_name: EventName,
    keys: String,
    new_image: Option<String>,
    old_image: Option<String>,
    size_bytes: i64,
}

/// What a write of a task appends, as `view_type` asks. A `REMOVE` without `old` is the delete of a row too damaged
/// to read back as a task: its keys stand in for its old image.
pub(crate) fn task_record(
    view_type: ViewType,
    event_name: EventName,
    keys: Item,
    old: Option<&Task>,
    new: Option<&Task>,
) -> Result<PendingRecord, StoreError> {
    let image = |task: Option<&Task>, wanted: bool| -> Result<Option<Item>, StoreError> {
        match task {
            Some(task) if wanted => dynamo_items::task_to_item(task).map(Some).map_err(StoreError::unavailable),
            _ => Ok(None),
        }
    };
    let new_image = image(new, view_type.new_image())?;
    let mut old_image = image(old, view_type.old_image())?;
    if old_image.is_none() && old.is_none() && event_name == EventName::Remove && view_type.old_image() {
        // A row that could not be read back: its keys are all that can be said of it.
        old_image = Some(keys.clone());
    }
    let size = item_size(&keys) + new_image.as_ref().map_or(0, item_size) + old_image.as_ref().map_or(0, item_size);
    let text = |item: &Item| serde_json::to_string(item).map_err(StoreError::unavailable);
    Ok(PendingRecord {
        event_name,
        keys: text(&keys)?,
        new_image: new_image.as_ref().map(text).transpose()?,
        old_image: old_image.as_ref().map(text).transpose()?,
        size_bytes: i64::try_from(size).unwrap_or(i64::MAX),
    })
}

/// A task's key attributes as an item.
pub(crate) fn task_keys(owner: &str, id: &str) -> Item {
    Item::from(HashMap::from([
        (dynamo_items::schema::TASK_OWNER.to_owned(), AttributeValue::S(owner.to_owned())),
        (dynamo_items::schema::TASK_ID.to_owned(), AttributeValue::S(id.to_owned())),
    ]))
}

impl Shared {
    /// Appends `record` inside the caller's transaction; returns its sequence number. The caller commits, then
    /// calls [`Self::committed`].
    pub(crate) fn append(&self, conn: &Connection, record: &PendingRecord) -> Result<u64, StoreError> {
        let table = self.table.as_str();
        let now_ms = i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        conn.prepare_cached(&self.sql.insert)
            .and_then(|mut stmt| {
                stmt.execute(params![
                    record.event_name.as_str(),
                    now_ms,
                    record.keys,
                    record.new_image,
                    record.old_image,
                    record.size_bytes
                ])
            })
            .map_err(failed("append_stream_record", table))?;
        u64::try_from(conn.last_insert_rowid()).map_err(StoreError::unavailable)
    }

    /// Wakes the readers after the transaction holding record `sequence` committed.
    pub(crate) fn committed(&self, sequence: u64) {
        self.latest.send_replace(Some(sequence));
    }
}

/// An item's size as DynamoDB counts it: each attribute's name plus its value (strings by their UTF-8 length,
/// numbers by about one byte per two significant digits plus one).
fn item_size(item: &Item) -> u64 {
    item.iter().map(|(name, value)| name.len() as u64 + value_size(value)).sum()
}

fn value_size(value: &AttributeValue) -> u64 {
    match value {
        AttributeValue::S(s) => s.len() as u64,
        AttributeValue::N(n) => {
            let digits = n.trim_start_matches(['-', '0']).replace('.', "").trim_end_matches('0').len() as u64;
            digits.div_ceil(2) + 1
        }
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::B(b) => b.len() as u64,
        AttributeValue::M(m) => 3 + m.iter().map(|(k, v)| k.len() as u64 + value_size(v) + 1).sum::<u64>(),
        AttributeValue::L(l) => 3 + l.iter().map(|v| value_size(v) + 1).sum::<u64>(),
        AttributeValue::Ss(s) => s.iter().map(|s| s.len() as u64).sum(),
        AttributeValue::Ns(n) => n.iter().map(|n| value_size(&AttributeValue::N(n.clone()))).sum(),
        AttributeValue::Bs(b) => b.iter().map(|b| b.len() as u64).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_iso_times_to_the_millisecond_and_read_back() {
        let label = new_label();
        assert_eq!(label.len(), "2024-05-01T12:34:56.789".len(), "{label}");
        assert!(label_millis(&label).is_some());
        assert_eq!(label_millis("1970-01-01T00:00:01.500"), Some(1500));
    }

    #[test]
    fn only_the_tables_own_arn_is_accepted() {
        assert_eq!(region_of("arn:aws:dynamodb:eu-west-1:1:table/Tasks", "Tasks").unwrap(), "eu-west-1");
        for bad in ["arn:aws:dynamodb:eu-west-1:1:table/Other", "arn:aws:sqs:eu-west-1:1:table/Tasks", "Tasks"] {
            assert!(region_of(bad, "Tasks").is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes_count_names_and_values_as_dynamodb_does() {
        let item = Item::from(HashMap::from([
            ("id".to_owned(), AttributeValue::S("abc".into())),
            ("version".to_owned(), AttributeValue::N("12".into())),
        ]));
        assert_eq!(item_size(&item), 2 + 3 + 7 + 2);
    }
}

//! Where queues and messages live: one SQLite database, `<data>/sqs/queues.sqlite3`, in WAL mode with
//! `synchronous = FULL`, readable by its owner only. Every change is one transaction, committed before the caller
//! is answered, so a `kill -9` (or a power cut) loses nothing SQS acknowledged: a sent message is on disk before
//! its `MessageId` is returned, a receive sets the message's visibility deadline in the same transaction that
//! selects it (two receivers never get the same message while it is in flight), and a delete removes the row.
//!
//! Visibility is one column, `visible_ms`: a message is visible when it is not after now. Sending sets it to now
//! plus the delay; receiving to now plus the visibility timeout. So a restart needs no recovery step: in-flight
//! messages simply become visible when their deadline passes. Retention is checked against `sent_ms` and the
//! queue's current `MessageRetentionPeriod`; expired messages are never handed out or counted, and are removed when
//! their queue is next received from and at start-up.
//!
//! The store is synchronous (rusqlite); [`crate::Sqs`] runs it on tokio's blocking pool behind one mutex, which
//! SQLite would impose on writers anyway.

use crate::{
    SqsError,
    message::{self, Attribute, Attributes, NewMessage, ReceivedMessage, SentMessage, WireAttribute},
    queue::{AttributeChanges, QueueConfig, QueueName},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use local_core::Identity;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::{collections::BTreeMap, path::Path};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS queues (
    name TEXT PRIMARY KEY NOT NULL,
    config TEXT NOT NULL,
    created_s INTEGER NOT NULL,
    modified_s INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    attributes TEXT NOT NULL,
    md5_body TEXT NOT NULL,
    md5_attributes TEXT,
    sender_id TEXT NOT NULL,
    sent_ms INTEGER NOT NULL,
    visible_ms INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    first_receive_ms INTEGER,
    receipt TEXT,
    dead_letter_source TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS messages_by_visibility ON messages(queue, visible_ms, seq);
CREATE UNIQUE INDEX IF NOT EXISTS messages_by_id ON messages(id);
";

/// A queue as stored.
#[derive(Debug, Clone)]
pub struct QueueRecord {
    pub name: String,
    pub config: QueueConfig,
    pub created_s: i64,
    pub modified_s: i64,
}

/// How many messages a queue holds, by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Visible: a receive could return them now.
    pub visible: u64,
    /// Received and not yet deleted, within their visibility timeout.
    pub in_flight: u64,
    /// Sent with a delay that has not yet passed.
    pub delayed: u64,
}

/// What one receive pass found.
#[derive(Debug, Default)]
pub struct Receipt {
    pub messages: Vec<ReceivedMessage>,
    /// When the next message of the queue becomes visible, if none was: a long poll sleeps until then at most.
    pub next_visible_ms: Option<i64>,
    /// Dead-letter queues that messages were moved to, whose waiting receivers should wake.
    pub moved_to: Vec<String>,
}

/// What a claim of one message by id found.
#[derive(Debug)]
pub enum Claimed {
    /// Received: the caller holds it (its receipt handle is set) until it deletes it or the visibility passes.
    Claimed(Box<ReceivedMessage>),
    /// Received by someone else and not yet visible again.
    InFlight,
    /// Not in the queue (deleted, expired, or never there).
    Missing,
}

/// Whether a CreateQueue made the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    New,
    AlreadyThere,
}

pub struct Store {
    conn: Connection,
    identity: Identity,
}

/// A receipt handle: which queue's message, and which receipt of it. Opaque to callers (URL-safe base64).
struct Handle {
    queue: String,
    message_id: String,
    nonce: String,
}

impl Handle {
    fn encode(queue: &str, message_id: &str, nonce: &str) -> String {
        URL_SAFE_NO_PAD.encode(format!("{queue}\n{message_id}\n{nonce}"))
    }

    fn parse(handle: &str, queue: &str) -> Result<Self, SqsError> {
        let invalid = || SqsError::ReceiptHandleIsInvalid(handle.chars().take(512).collect());
        let text = URL_SAFE_NO_PAD.decode(handle).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(invalid)?;
        let mut parts = text.split('\n');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(q), Some(id), Some(nonce), None) if q == queue && !id.is_empty() => {
                Ok(Self { queue: q.to_owned(), message_id: id.to_owned(), nonce: nonce.to_owned() })
            }
            _ => Err(invalid()),
        }
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Store {
    /// Opens (creating) the database in `dir`, which is created readable by its owner only.
    pub fn open(dir: &Path, identity: Identity) -> Result<Self, SqsError> {
        let io = |source| SqsError::Io { path: dir.to_owned(), source };
        local_core::files::create_private_dir(dir).map_err(io)?;
        let path = dir.join("queues.sqlite3");
        // Create the file private before SQLite does: its WAL and shared-memory files copy its permissions.
        local_core::files::create_private_file(&path).map_err(|source| SqsError::Io { path: path.clone(), source })?;
        let conn = Connection::open(&path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a commit is fsynced before SendMessage answers, so an acknowledged message survives even the
        // machine going down, not only the process.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self { conn, identity })
    }

    pub fn queue(&self, name: &str) -> Result<Option<QueueRecord>, SqsError> {
        queue_in(&self.conn, name)
    }

    pub fn require(&self, name: &str) -> Result<QueueRecord, SqsError> {
        require_in(&self.conn, name)
    }

    /// CreateQueue: a new queue, or the existing one when `changes` would change none of its attributes.
    pub fn create_queue(
        &mut self,
        name: &QueueName,
        changes: &AttributeChanges,
        now_s: i64,
    ) -> Result<Created, SqsError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let created = match queue_in(&tx, name.as_str())? {
            Some(existing) => match changes.first_difference(&existing.config) {
                Some(attribute) => return Err(SqsError::QueueNameExists(attribute.to_owned())),
                None => Created::AlreadyThere,
            },
            None => {
                check_dead_letter_target(&tx, name.as_str(), changes)?;
                write_queue(&tx, name.as_str(), &changes.apply_to(QueueConfig::default()), now_s, now_s)?;
                Created::New
            }
        };
        tx.commit()?;
        Ok(created)
    }

    /// Makes the queue `name` have exactly `config` (the template's queues at start-up).
    pub fn put_queue(&mut self, name: &str, config: &QueueConfig, now_s: i64) -> Result<bool, SqsError> {
        let existing = self.queue(name)?;
        match existing {
            Some(q) if q.config == *config => Ok(false),
            Some(q) => write_queue(&self.conn, name, config, q.created_s, now_s).map(|()| true),
            None => write_queue(&self.conn, name, config, now_s, now_s).map(|()| true),
        }
    }

    pub fn set_attributes(&mut self, name: &str, changes: &AttributeChanges, now_s: i64) -> Result<(), SqsError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let queue = require_in(&tx, name)?;
        check_dead_letter_target(&tx, name, changes)?;
        write_queue(&tx, name, &changes.apply_to(queue.config), queue.created_s, now_s)?;
        tx.commit()?;
        Ok(())
    }

    pub fn delete_queue(&mut self, name: &str) -> Result<(), SqsError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if tx.execute("DELETE FROM queues WHERE name = ?1", [name])? == 0 {
            return Err(SqsError::QueueDoesNotExist);
        }
        tx.execute("DELETE FROM messages WHERE queue = ?1", [name])?;
        tx.commit()?;
        Ok(())
    }

    pub fn queue_names(&self) -> Result<Vec<String>, SqsError> {
        let mut stmt = self.conn.prepare_cached("SELECT name FROM queues ORDER BY name")?;
        let names = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(names)
    }

    pub fn counts(&self, queue: &QueueRecord, now_ms: i64) -> Result<Counts, SqsError> {
        let oldest = now_ms - i64::from(queue.config.message_retention_period) * 1000;
        let mut stmt = self.conn.prepare_cached(
            "SELECT
                 COALESCE(SUM(visible_ms <= ?2), 0),
                 COALESCE(SUM(visible_ms > ?2 AND receive_count > 0), 0),
                 COALESCE(SUM(visible_ms > ?2 AND receive_count = 0), 0)
             FROM messages WHERE queue = ?1 AND sent_ms > ?3",
        )?;
        Ok(stmt.query_row(params![queue.name, now_ms, oldest], |r| {
            let n = |i: usize| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
            Ok(Counts { visible: n(0)?, in_flight: n(1)?, delayed: n(2)? })
        })?)
    }

    /// Sends `messages` to `queue` in one transaction; each is checked against the queue's size limit on its own,
    /// as a batch reports failures per entry.
    pub fn send(
        &mut self,
        queue: &str,
        messages: &[NewMessage],
        sender_id: &str,
        now_ms: i64,
    ) -> Result<Vec<Result<SentMessage, SqsError>>, SqsError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let config = require_in(&tx, queue)?.config;
        let mut results = Vec::with_capacity(messages.len());
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO messages (queue, id, body, attributes, md5_body, md5_attributes, sender_id, sent_ms, visible_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for m in messages {
                if let Err(e) = m.check_size(config.maximum_message_size) {
                    results.push(Err(e));
                    continue;
                }
                let sent = SentMessage {
                    message_id: new_id(),
                    md5_of_body: message::md5_hex(m.body.as_bytes()),
                    md5_of_attributes: message::md5_of_attributes(&m.attributes),
                };
                let attributes: BTreeMap<&str, WireAttribute> =
                    m.attributes.iter().map(|(k, v)| (k.as_str(), v.to_wire())).collect();
                let attributes = serde_json::to_string(&attributes).map_err(|e| SqsError::Internal(e.to_string()))?;
                let delay = i64::from(m.delay_seconds.unwrap_or(config.delay_seconds));
                insert.execute(params![
                    queue,
                    sent.message_id,
                    m.body,
                    attributes,
                    sent.md5_of_body,
                    sent.md5_of_attributes,
                    sender_id,
                    now_ms,
                    now_ms + delay * 1000,
                ])?;
                results.push(Ok(sent));
            }
        }
        tx.commit()?;
        Ok(results)
    }

    /// Receives up to `max` visible messages, making them invisible for `visibility` seconds (the queue's timeout
    /// when `None`). A message already received `maxReceiveCount` times goes to the dead-letter queue instead,
    /// in the same transaction, when that queue exists.
    pub fn receive(
        &mut self,
        queue: &str,
        max: u32,
        visibility: Option<u32>,
        now_ms: i64,
    ) -> Result<Receipt, SqsError> {
        let source_arn = self.identity.queue_arn(queue).to_string();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let record = require_in(&tx, queue)?;
        let config = &record.config;
        let oldest = now_ms - i64::from(config.message_retention_period) * 1000;
        tx.execute("DELETE FROM messages WHERE queue = ?1 AND sent_ms <= ?2", params![queue, oldest])?;
        let redrive = match &config.redrive_policy {
            Some(p) if queue_in(&tx, p.target())?.is_some() => Some(p.clone()),
            _ => None,
        };
        let visible_until = now_ms + i64::from(visibility.unwrap_or(config.visibility_timeout)) * 1000;
        let mut receipt = Receipt::default();
        loop {
            let wanted = max as usize - receipt.messages.len();
            if wanted == 0 {
                break;
            }
            let candidates = {
                let mut select = tx.prepare_cached(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages WHERE queue = ?1 AND visible_ms <= ?2 ORDER BY visible_ms, seq LIMIT ?3"
                ))?;
                select.query_map(params![queue, now_ms, wanted as i64], read_message)?.collect::<Result<Vec<_>, _>>()?
            };
            if candidates.is_empty() {
                break;
            }
            for (seq, mut m) in candidates {
                if let Some(policy) = redrive.as_ref().filter(|p| m.receive_count >= p.max_receive_count) {
                    tx.execute(
                        "UPDATE messages SET queue = ?2, receive_count = 0, first_receive_ms = NULL, visible_ms = ?3,
                             receipt = NULL, dead_letter_source = ?4 WHERE seq = ?1",
                        params![seq, policy.target(), now_ms, source_arn],
                    )?;
                    if !receipt.moved_to.iter().any(|q| q == policy.target()) {
                        receipt.moved_to.push(policy.target().to_owned());
                    }
                    continue;
                }
                let nonce = new_id();
                tx.execute(
                    "UPDATE messages SET receive_count = receive_count + 1,
                         first_receive_ms = COALESCE(first_receive_ms, ?2), visible_ms = ?3, receipt = ?4 WHERE seq = ?1",
                    params![seq, now_ms, visible_until, nonce],
                )?;
                m.receive_count += 1;
                m.first_receive_timestamp_ms.get_or_insert(now_ms);
                m.receipt_handle = Some(Handle::encode(queue, &m.message_id, &nonce));
                receipt.messages.push(m);
            }
        }
        if receipt.messages.is_empty() {
            receipt.next_visible_ms = tx.query_row(
                "SELECT MIN(visible_ms) FROM messages WHERE queue = ?1 AND visible_ms > ?2",
                params![queue, now_ms],
                |r| r.get(0),
            )?;
        }
        tx.commit()?;
        Ok(receipt)
    }

    /// Deletes the messages of `handles` from `queue`. A well-formed handle of a message already gone deletes
    /// nothing and succeeds, as on AWS; one not of this queue or not of SQS is `ReceiptHandleIsInvalid`. An older
    /// handle of a message received again still deletes it, as a standard queue on AWS does.
    pub fn delete_messages(&mut self, queue: &str, handles: &[String]) -> Result<Vec<Result<(), SqsError>>, SqsError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        require_in(&tx, queue)?;
        let mut results = Vec::with_capacity(handles.len());
        for handle in handles {
            results.push(match Handle::parse(handle, queue) {
                Ok(h) => {
                    tx.execute("DELETE FROM messages WHERE queue = ?1 AND id = ?2", params![h.queue, h.message_id])?;
                    Ok(())
                }
                Err(e) => Err(e),
            });
        }
        tx.commit()?;
        Ok(results)
    }

    /// Sets the visibility of in-flight messages to `timeout` seconds from now. The handle must be the message's
    /// latest: an older one has expired.
    pub fn change_visibility(
        &mut self,
        queue: &str,
        entries: &[(String, u32)],
        now_ms: i64,
    ) -> Result<Vec<Result<(), SqsError>>, SqsError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        require_in(&tx, queue)?;
        let mut results = Vec::with_capacity(entries.len());
        for (handle, timeout) in entries {
            let h = match Handle::parse(handle, queue) {
                Ok(h) => h,
                Err(e) => {
                    results.push(Err(e));
                    continue;
                }
            };
            let current: Option<(Option<String>, i64)> = tx
                .query_row(
                    "SELECT receipt, visible_ms FROM messages WHERE queue = ?1 AND id = ?2",
                    params![h.queue, h.message_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            results.push(match current {
                Some((Some(receipt), visible_ms)) if receipt == h.nonce && visible_ms > now_ms => {
                    tx.execute(
                        "UPDATE messages SET visible_ms = ?3 WHERE queue = ?1 AND id = ?2",
                        params![h.queue, h.message_id, now_ms + i64::from(*timeout) * 1000],
                    )?;
                    Ok(())
                }
                Some((Some(receipt), _)) if receipt != h.nonce => Err(SqsError::InvalidParameterValue(format!(
                    "Value {handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired."
                ))),
                _ => Err(SqsError::MessageNotInflight),
            });
        }
        tx.commit()?;
        Ok(results)
    }

    pub fn purge(&mut self, queue: &str) -> Result<(), SqsError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        require_in(&tx, queue)?;
        tx.execute("DELETE FROM messages WHERE queue = ?1", [queue])?;
        tx.commit()?;
        Ok(())
    }

    /// Up to `limit` unexpired messages of the queue in sending order, whatever their visibility, changing nothing.
    pub fn peek(&self, queue: &QueueRecord, limit: usize, now_ms: i64) -> Result<Vec<ReceivedMessage>, SqsError> {
        let oldest = now_ms - i64::from(queue.config.message_retention_period) * 1000;
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE queue = ?1 AND sent_ms > ?2 ORDER BY seq LIMIT ?3"
        ))?;
        let messages = stmt
            .query_map(params![queue.name, oldest, limit as i64], read_message)?
            .map(|r| r.map(|(_, m)| m))
            .collect::<Result<_, _>>()?;
        Ok(messages)
    }

    /// Receives the one message `message_id` of `queue`, as a receive would (a fresh receipt handle, invisible for
    /// `visibility` seconds, its receive count up by one), if it is visible now. One that a consumer holds in
    /// flight is [`Claimed::InFlight`] and stays as it is: whoever acts on a claimed message (the console's redrive)
    /// knows no consumer is processing it at the same time, and deletes it by the handle afterwards.
    pub fn claim(&mut self, queue: &str, message_id: &str, visibility: u32, now_ms: i64) -> Result<Claimed, SqsError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let record = require_in(&tx, queue)?;
        let oldest = now_ms - i64::from(record.config.message_retention_period) * 1000;
        let found = tx
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS}, visible_ms FROM messages WHERE queue = ?1 AND id = ?2 AND sent_ms > ?3"
            ))?
            .query_row(params![queue, message_id, oldest], |r| Ok((read_message(r)?, r.get::<_, i64>(11)?)))
            .optional()?;
        let claimed = match found {
            None => Claimed::Missing,
            Some((_, visible_ms)) if visible_ms > now_ms => Claimed::InFlight,
            Some(((seq, mut m), _)) => {
                let nonce = new_id();
                tx.execute(
                    "UPDATE messages SET receive_count = receive_count + 1,
                         first_receive_ms = COALESCE(first_receive_ms, ?2), visible_ms = ?3, receipt = ?4 WHERE seq = ?1",
                    params![seq, now_ms, now_ms + i64::from(visibility) * 1000, nonce],
                )?;
                m.receive_count += 1;
                m.first_receive_timestamp_ms.get_or_insert(now_ms);
                m.receipt_handle = Some(Handle::encode(queue, &m.message_id, &nonce));
                Claimed::Claimed(Box::new(m))
            }
        };
        tx.commit()?;
        Ok(claimed)
    }

    /// Removes every queue's expired messages (at start-up, so a long-idle queue does not keep them on disk).
    pub fn sweep_expired(&mut self, now_ms: i64) -> Result<usize, SqsError> {
        let mut removed = 0;
        for name in self.queue_names()? {
            if let Some(q) = self.queue(&name)? {
                let oldest = now_ms - i64::from(q.config.message_retention_period) * 1000;
                removed += self
                    .conn
                    .execute("DELETE FROM messages WHERE queue = ?1 AND sent_ms <= ?2", params![name, oldest])?;
            }
        }
        Ok(removed)
    }
}

fn queue_in(conn: &Connection, name: &str) -> Result<Option<QueueRecord>, SqsError> {
    let row = conn
        .prepare_cached("SELECT config, created_s, modified_s FROM queues WHERE name = ?1")?
        .query_row([name], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    row.map(|(config, created_s, modified_s)| {
        let config = serde_json::from_str(&config)
            .map_err(|e| SqsError::Internal(format!("queue {name}: stored settings unreadable: {e}")))?;
        Ok(QueueRecord { name: name.to_owned(), config, created_s, modified_s })
    })
    .transpose()
}

fn require_in(conn: &Connection, name: &str) -> Result<QueueRecord, SqsError> {
    queue_in(conn, name)?.ok_or(SqsError::QueueDoesNotExist)
}

fn write_queue(
    conn: &Connection,
    name: &str,
    config: &QueueConfig,
    created_s: i64,
    modified_s: i64,
) -> Result<(), SqsError> {
    let config = serde_json::to_string(config).map_err(|e| SqsError::Internal(e.to_string()))?;
    conn.execute(
        "INSERT INTO queues (name, config, created_s, modified_s) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(name) DO UPDATE SET config = excluded.config, modified_s = excluded.modified_s",
        params![name, config, created_s, modified_s],
    )?;
    Ok(())
}

/// A dead-letter target must be an existing queue (and not the queue itself).
fn check_dead_letter_target(conn: &Connection, name: &str, changes: &AttributeChanges) -> Result<(), SqsError> {
    if let Some(policy) = changes.dead_letter_target()
        && (policy.target() == name || queue_in(conn, policy.target())?.is_none())
    {
        return Err(SqsError::InvalidParameterValue(format!(
            "Value {} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.",
            policy.to_json()
        )));
    }
    Ok(())
}

const MESSAGE_COLUMNS: &str = "seq, id, body, attributes, md5_body, md5_attributes, sender_id, sent_ms, receive_count, first_receive_ms, dead_letter_source";

fn read_message(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, ReceivedMessage)> {
    let attributes: String = r.get(3)?;
    let wire: BTreeMap<String, WireAttribute> = serde_json::from_str(&attributes).unwrap_or_default();
    let attributes: Attributes = wire
        .into_iter()
        .map(|(name, w)| {
            let value = match (w.string_value, w.binary_value) {
                (Some(s), _) => message::AttributeValue::Text(s),
                (None, Some(b)) => message::AttributeValue::Binary(
                    base64::engine::general_purpose::STANDARD.decode(b).unwrap_or_default(),
                ),
                (None, None) => message::AttributeValue::Text(String::new()),
            };
            (name, Attribute { data_type: w.data_type, value })
        })
        .collect();
    Ok((
        r.get(0)?,
        ReceivedMessage {
            message_id: r.get(1)?,
            receipt_handle: None,
            body: r.get(2)?,
            md5_of_body: r.get(4)?,
            attributes,
            md5_of_attributes: r.get(5)?,
            sender_id: r.get(6)?,
            sent_timestamp_ms: r.get(7)?,
            receive_count: r.get(8)?,
            first_receive_timestamp_ms: r.get(9)?,
            dead_letter_source_arn: r.get(10)?,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Attributes;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Identity::default()).unwrap();
        (dir, store)
    }

    fn message(body: &str) -> NewMessage {
        NewMessage::parse(Some(body.into()), Attributes::new(), None).unwrap()
    }

    #[test]
    fn a_message_past_the_retention_period_is_never_received_nor_counted_and_is_removed() {
        let (_dir, mut store) = store();
        let name = QueueName::parse("q").unwrap();
        let changes =
            AttributeChanges::parse(&[("MessageRetentionPeriod".into(), "60".into())].into(), &Identity::default())
                .unwrap();
        store.create_queue(&name, &changes, 0).unwrap();
        let t0 = 1_000_000;
        store.send("q", &[message("old")], "me", t0).unwrap();
        store.send("q", &[message("new")], "me", t0 + 30_000).unwrap();
        let later = t0 + 60_000;
        let q = store.require("q").unwrap();
        assert_eq!(store.counts(&q, later).unwrap().visible, 1);
        let got = store.receive("q", 10, None, later).unwrap();
        assert_eq!(got.messages.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["new"]);
        assert_eq!(store.peek(&q, 10, t0).unwrap().len(), 1, "the expired message is gone from disk");
    }

    #[test]
    fn a_message_claimed_by_id_is_no_longer_received_and_one_in_flight_cannot_be_claimed() {
        let (_dir, mut store) = store();
        store.create_queue(&QueueName::parse("q").unwrap(), &AttributeChanges::default(), 0).unwrap();
        let sent = store.send("q", &[message("a"), message("b")], "me", 0).unwrap();
        let a = sent[0].as_ref().unwrap().message_id.clone();
        let b = sent[1].as_ref().unwrap().message_id.clone();
        let Claimed::Claimed(claimed) = store.claim("q", &a, 30, 10).unwrap() else { panic!("a is visible") };
        assert_eq!((claimed.body.as_str(), claimed.receive_count), ("a", 1));
        let got = store.receive("q", 10, None, 10).unwrap();
        assert_eq!(got.messages.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["b"], "a is claimed");
        assert!(matches!(store.claim("q", &b, 30, 10).unwrap(), Claimed::InFlight), "b is received");
        store.delete_messages("q", &[claimed.receipt_handle.unwrap()]).unwrap();
        assert!(matches!(store.claim("q", &a, 30, 40_000).unwrap(), Claimed::Missing), "a was deleted");
        assert!(matches!(store.claim("q", "no-such-id", 30, 10).unwrap(), Claimed::Missing));
    }

    #[test]
    fn two_receives_at_the_same_moment_never_get_the_same_message() {
        let (_dir, mut store) = store();
        store.create_queue(&QueueName::parse("q").unwrap(), &AttributeChanges::default(), 0).unwrap();
        let batch: Vec<_> = (0..5).map(|i| message(&format!("m{i}"))).collect();
        store.send("q", &batch, "me", 0).unwrap();
        let a = store.receive("q", 3, None, 10).unwrap();
        let b = store.receive("q", 3, None, 10).unwrap();
        assert_eq!((a.messages.len(), b.messages.len()), (3, 2));
        let ids: std::collections::HashSet<_> = a.messages.iter().chain(&b.messages).map(|m| &m.message_id).collect();
        assert_eq!(ids.len(), 5);
        // After the visibility timeout (30 s by default) they are all back.
        assert_eq!(store.receive("q", 10, None, 30_010).unwrap().messages.len(), 5);
    }
}

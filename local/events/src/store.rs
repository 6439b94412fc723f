//! Where deliveries wait: one SQLite database, `<data>/events/deliveries.sqlite3`, in WAL mode with
//! `synchronous = FULL`, readable by its owner only. PutEvents commits every delivery its entries matched (event ×
//! rule × target, with the target's input already rendered) in one transaction before it answers, so an accepted
//! event reaches its targets even if the process is killed the next instant. A delivery is removed only once
//! settled (delivered, dead-lettered or dropped); a crash in between delivers it again (at least once, as AWS).
//!
//! Each row carries what its delivery needs (destination, retry policy, dead-letter queue), copied from the rule
//! when the event matched: a delivery never depends on the template a later start reads. The event's text is kept
//! once, in `events`, however many targets it goes to.
//!
//! The store is synchronous (rusqlite); [`crate::EventBridge`] runs it on tokio's blocking pool behind one mutex.

use crate::{EventsError, catalog::Destination};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::Path;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    rule_arn TEXT NOT NULL,
    target_id TEXT NOT NULL,
    target_arn TEXT NOT NULL,
    destination TEXT NOT NULL,
    input TEXT,
    dead_letter TEXT,
    max_retries INTEGER NOT NULL,
    max_age_s INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    due_ms INTEGER NOT NULL,
    last_error_code TEXT,
    last_error_message TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS deliveries_by_due ON deliveries(due_ms, seq);
CREATE INDEX IF NOT EXISTS deliveries_by_event ON deliveries(event_id);
";

/// A delivery to queue.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub event_id: String,
    pub rule_arn: String,
    pub target_id: String,
    pub target_arn: String,
    pub destination: Destination,
    /// The rendered input; `None` sends the event itself.
    pub input: Option<String>,
    pub dead_letter: Option<String>,
    pub max_retries: u32,
    pub max_age_s: u32,
}

/// A queued delivery, with its event.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub seq: i64,
    pub event: String,
    pub rule_arn: String,
    pub target_id: String,
    pub target_arn: String,
    pub destination: Destination,
    pub input: Option<String>,
    pub dead_letter: Option<String>,
    pub max_retries: u32,
    pub max_age_s: u32,
    pub received_ms: i64,
    /// Attempts made so far.
    pub attempts: u32,
    /// The last attempt's error (`ERROR_CODE`, `ERROR_MESSAGE`).
    pub last_error: Option<(String, String)>,
}

/// What is due now, or when the next delivery is.
#[derive(Debug, Default)]
pub struct Due {
    pub deliveries: Vec<Delivery>,
    /// When the earliest delivery not yet due is, when none is due.
    pub next_ms: Option<i64>,
}

pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating) the database in `dir`, which is created readable by its owner only.
    pub fn open(dir: &Path) -> Result<Self, EventsError> {
        local_core::files::create_private_dir(dir)
            .map_err(|source| EventsError::Io { path: dir.to_owned(), source })?;
        let path = dir.join("deliveries.sqlite3");
        // Created private before SQLite creates it: its WAL and shared-memory files copy its permissions.
        local_core::files::create_private_file(&path)
            .map_err(|source| EventsError::Io { path: path.clone(), source })?;
        let opened = (|| {
            let conn = Connection::open(&path)?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            // FULL: a commit is fsynced before PutEvents answers, so an accepted event survives the machine going
            // down, not only the process.
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.execute_batch(SCHEMA)?;
            Ok::<_, rusqlite::Error>(conn)
        })();
        let conn = opened.map_err(|e| EventsError::Io { path, source: std::io::Error::other(e) })?;
        Ok(Self { conn })
    }

    /// Queues `deliveries` of `events` (id, text), due at `now_ms`, in one transaction.
    pub fn enqueue(
        &mut self,
        events: &[(String, String)],
        deliveries: &[NewDelivery],
        now_ms: i64,
    ) -> Result<(), EventsError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut event = tx.prepare_cached("INSERT OR IGNORE INTO events (id, body) VALUES (?1, ?2)")?;
            for (id, body) in events {
                event.execute(params![id, body])?;
            }
            let mut delivery = tx.prepare_cached(
                "INSERT INTO deliveries (event_id, rule_arn, target_id, target_arn, destination, input, dead_letter,
                     max_retries, max_age_s, received_ms, due_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
            )?;
            for d in deliveries {
                let destination =
                    serde_json::to_string(&d.destination).map_err(|e| EventsError::Internal(e.to_string()))?;
                delivery.execute(params![
                    d.event_id,
                    d.rule_arn,
                    d.target_id,
                    d.target_arn,
                    destination,
                    d.input,
                    d.dead_letter,
                    d.max_retries,
                    d.max_age_s,
                    now_ms,
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Up to `limit` deliveries due at `now_ms`, oldest first; or, when none is, when the next one is due.
    pub fn due(&self, now_ms: i64, limit: usize) -> Result<Due, EventsError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT d.seq, e.body, d.rule_arn, d.target_id, d.target_arn, d.destination, d.input, d.dead_letter,
                    d.max_retries, d.max_age_s, d.received_ms, d.attempts, d.last_error_code, d.last_error_message
             FROM deliveries d JOIN events e ON e.id = d.event_id
             WHERE d.due_ms <= ?1 ORDER BY d.due_ms, d.seq LIMIT ?2",
        )?;
        let rows = statement.query_map(params![now_ms, limit as i64], |row| {
            let destination: String = row.get(5)?;
            let code: Option<String> = row.get(12)?;
            let message: Option<String> = row.get(13)?;
            Ok((
                destination,
                Delivery {
                    seq: row.get(0)?,
                    event: row.get(1)?,
                    rule_arn: row.get(2)?,
                    target_id: row.get(3)?,
                    target_arn: row.get(4)?,
                    destination: Destination::Queue { arn: String::new() },
                    input: row.get(6)?,
                    dead_letter: row.get(7)?,
                    max_retries: row.get(8)?,
                    max_age_s: row.get(9)?,
                    received_ms: row.get(10)?,
                    attempts: row.get(11)?,
                    last_error: code.zip(message),
                },
            ))
        })?;
        let mut deliveries = Vec::new();
        for row in rows {
            let (destination, mut delivery) = row?;
            match serde_json::from_str(&destination) {
                Ok(d) => delivery.destination = d,
                Err(e) => {
                    tracing::error!(seq = delivery.seq, error = %e, "an unreadable queued delivery is dropped");
                    self.settle(delivery.seq)?;
                    continue;
                }
            }
            deliveries.push(delivery);
        }
        let next_ms = if deliveries.is_empty() {
            self.conn.query_row("SELECT MIN(due_ms) FROM deliveries", [], |r| r.get(0)).optional()?.flatten()
        } else {
            None
        };
        Ok(Due { deliveries, next_ms })
    }

    /// Records a failed attempt: `attempts` made, the next due at `due_ms`.
    pub fn reschedule(&mut self, seq: i64, attempts: u32, due_ms: i64, error: (&str, &str)) -> Result<(), EventsError> {
        self.conn.execute(
            "UPDATE deliveries SET attempts = ?2, due_ms = ?3, last_error_code = ?4, last_error_message = ?5
             WHERE seq = ?1",
            params![seq, attempts, due_ms, error.0, error.1],
        )?;
        Ok(())
    }

    /// Removes a settled delivery, and its event when no other delivery needs it.
    pub fn settle(&self, seq: i64) -> Result<(), EventsError> {
        let tx = self.conn.unchecked_transaction()?;
        let event: Option<String> =
            tx.query_row("SELECT event_id FROM deliveries WHERE seq = ?1", [seq], |r| r.get(0)).optional()?;
        tx.execute("DELETE FROM deliveries WHERE seq = ?1", [seq])?;
        if let Some(event) = event {
            tx.execute(
                "DELETE FROM events WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM deliveries WHERE event_id = ?1)",
                [event],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Makes every queued delivery due at `now_ms` (a restart tries each at once), and says how many there are.
    pub fn make_all_due(&mut self, now_ms: i64) -> Result<usize, EventsError> {
        Ok(self.conn.execute("UPDATE deliveries SET due_ms = MIN(due_ms, ?1)", [now_ms])?)
    }

    /// How many deliveries are queued.
    pub fn pending(&self) -> Result<u64, EventsError> {
        let count: i64 = self.conn.query_row("SELECT COUNT(*) FROM deliveries", [], |r| r.get(0))?;
        Ok(count.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(event: &str, target: &str) -> NewDelivery {
        NewDelivery {
            event_id: event.into(),
            rule_arn: "arn:r".into(),
            target_id: target.into(),
            target_arn: "arn:aws:sqs:us-east-1:123456789012:q".into(),
            destination: Destination::Queue { arn: "arn:aws:sqs:us-east-1:123456789012:q".into() },
            input: None,
            dead_letter: None,
            max_retries: 2,
            max_age_s: 60,
        }
    }

    #[test]
    fn a_queued_delivery_is_due_until_settled_and_its_event_goes_with_the_last_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store
            .enqueue(&[("e1".into(), "{\"id\":\"e1\"}".into())], &[delivery("e1", "a"), delivery("e1", "b")], 1000)
            .unwrap();
        let due = store.due(1000, 10).unwrap();
        assert_eq!(due.deliveries.len(), 2);
        assert_eq!(due.deliveries[0].event, "{\"id\":\"e1\"}");
        store.reschedule(due.deliveries[0].seq, 1, 5000, ("ERROR_FROM_TARGET", "boom")).unwrap();
        let later = store.due(1000, 10).unwrap();
        assert_eq!(later.deliveries.len(), 1);
        store.settle(later.deliveries[0].seq).unwrap();
        let none = store.due(1000, 10).unwrap();
        assert_eq!((none.deliveries.len(), none.next_ms), (0, Some(5000)));
        let retried = store.due(5000, 10).unwrap().deliveries.remove(0);
        assert_eq!(retried.attempts, 1);
        assert_eq!(retried.last_error, Some(("ERROR_FROM_TARGET".into(), "boom".into())));
        store.settle(retried.seq).unwrap();
        let events: i64 = store.conn.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0)).unwrap();
        assert_eq!((store.pending().unwrap(), events), (0, 0));
    }

    #[test]
    fn a_damaged_database_refuses_to_open() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("deliveries.sqlite3"), b"not a database, not at all, no").unwrap();
        assert!(matches!(Store::open(dir.path()), Err(EventsError::Io { .. })));
    }
}

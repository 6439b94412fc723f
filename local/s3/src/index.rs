//! The object index, SQLite in WAL mode at `<data>/s3/index.sqlite3`: which buckets exist, and for each (bucket, key)
//! the blob holding its bytes with its size, ETag, attributes and time; multipart uploads and their parts; and the
//! outbox of notifications. Keys are data here, never paths, and SQLite's `BINARY` collation compares them byte by
//! byte, which is S3's listing order for UTF-8. A write switches a row in one transaction (with its notifications),
//! so a reader or a crash sees the old object or the new one.

use crate::error::S3Error;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::{collections::BTreeMap, path::Path, sync::Mutex};
use time::OffsetDateTime;

/// The headers S3 keeps with an object and gives back on GET and HEAD.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attributes {
    pub content_type: Option<String>,
    pub content_disposition: Option<String>,
    pub content_encoding: Option<String>,
    pub content_language: Option<String>,
    pub cache_control: Option<String>,
    /// `Expires`, as the HTTP date it was given as.
    pub expires: Option<String>,
    /// User metadata (`x-amz-meta-<name>`), names in lower case.
    pub metadata: BTreeMap<String, String>,
}

/// The additional checksums of an object's bytes, base64, as the `x-amz-checksum-*` headers carry them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checksums {
    pub crc32: Option<String>,
    pub crc32c: Option<String>,
    pub crc64nvme: Option<String>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Meta {
    #[serde(default)]
    attributes: Attributes,
    #[serde(default)]
    checksums: Checksums,
    #[serde(default)]
    parts: Option<u32>,
}

/// An object as the index knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub bucket: String,
    pub key: String,
    pub size: u64,
    /// The ETag without quotes: the MD5 in hex, or `<md5 of part md5s>-<parts>` for a multipart upload.
    pub etag: String,
    pub last_modified: OffsetDateTime,
    pub attributes: Attributes,
    pub checksums: Checksums,
    /// The number of parts of an object made by a multipart upload.
    pub parts: Option<u32>,
    pub(crate) blob: String,
}

/// A multipart upload in progress.
#[derive(Debug, Clone)]
pub struct Upload {
    pub id: String,
    pub bucket: String,
    pub key: String,
    pub initiated: OffsetDateTime,
    pub attributes: Attributes,
}

/// A part of a multipart upload.
#[derive(Debug, Clone)]
pub struct PartInfo {
    pub number: u32,
    pub size: u64,
    /// The part's MD5 in hex (its ETag without quotes).
    pub etag: String,
    pub last_modified: OffsetDateTime,
    pub(crate) blob: String,
}

/// What a write requires of the object it replaces (`If-Match`, `If-None-Match: *`), checked in the transaction
/// that switches the row, so two writers cannot both pass.
#[derive(Debug, Clone, Default)]
pub struct WriteConditions {
    pub if_match: Option<String>,
    pub if_none_match_any: bool,
}

/// A notification to queue with a write: the function's logical id and the event.
pub type Outgoing = (String, Value);

pub(crate) struct Index {
    conn: Mutex<Connection>,
}

fn ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

fn from_ms(v: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(v) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The `meta` column of a row.
fn meta(r: &rusqlite::Row<'_>, column: usize) -> rusqlite::Result<Meta> {
    let meta: String = r.get(column)?;
    // A row this store wrote always parses; an unreadable one keeps its bytes readable without attributes.
    Ok(serde_json::from_str(&meta).unwrap_or_default())
}

const OBJECT_COLUMNS: &str = "bucket, key, blob, size, etag, modified_ms, meta";

fn object_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ObjectInfo> {
    let meta = meta(r, 6)?;
    Ok(ObjectInfo {
        bucket: r.get(0)?,
        key: r.get(1)?,
        blob: r.get(2)?,
        size: r.get::<_, i64>(3)?.max(0) as u64,
        etag: r.get(4)?,
        last_modified: from_ms(r.get(5)?),
        attributes: meta.attributes,
        checksums: meta.checksums,
        parts: meta.parts,
    })
}

pub(crate) fn etag_matches(condition: &str, etag: &str) -> bool {
    condition.split(',').map(|c| c.trim().trim_start_matches("W/").trim_matches('"')).any(|c| c == "*" || c == etag)
}

impl Index {
    pub fn open(path: &Path) -> Result<Self, S3Error> {
        // Private before SQLite creates it (with the umask's 0644): its -wal and -shm files copy its permissions.
        local_core::files::create_private_file(path)?;
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a committed write (and the notification queued with it) survives a power cut, as S3's 200 promises.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS buckets (name TEXT PRIMARY KEY, created_ms INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS objects (
                bucket TEXT NOT NULL, key TEXT NOT NULL, blob TEXT NOT NULL, size INTEGER NOT NULL,
                etag TEXT NOT NULL, modified_ms INTEGER NOT NULL, meta TEXT NOT NULL,
                PRIMARY KEY (bucket, key)) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS uploads (
                id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL, initiated_ms INTEGER NOT NULL,
                meta TEXT NOT NULL);
             CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads (bucket, key, id);
             CREATE TABLE IF NOT EXISTS parts (
                upload TEXT NOT NULL, number INTEGER NOT NULL, blob TEXT NOT NULL, size INTEGER NOT NULL,
                etag TEXT NOT NULL, modified_ms INTEGER NOT NULL, PRIMARY KEY (upload, number)) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS outbox (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, function TEXT NOT NULL, event TEXT NOT NULL);",
        )?;
        Ok(Self { conn: Mutex::new(conn) })
    }

    fn with<R>(&self, f: impl FnOnce(&mut Connection) -> Result<R, S3Error>) -> Result<R, S3Error> {
        // A panic while holding the lock cannot leave SQLite half-written (transactions roll back on drop), so a
        // poisoned lock is still a good connection.
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn)
    }

    // Buckets.

    /// Creates the bucket; `false` when it already existed.
    pub fn create_bucket(&self, name: &str, now: OffsetDateTime) -> Result<bool, S3Error> {
        self.with(|c| {
            Ok(c.execute("INSERT OR IGNORE INTO buckets (name, created_ms) VALUES (?1, ?2)", params![name, ms(now)])?
                == 1)
        })
    }

    /// Deletes an empty bucket; its unfinished uploads go with it, and their part blobs are returned for removal.
    pub fn delete_bucket(&self, name: &str) -> Result<Vec<String>, S3Error> {
        self.with(|c| {
            let tx = c.transaction()?;
            require_bucket(&tx, name)?;
            let has_objects: bool =
                tx.query_row("SELECT EXISTS (SELECT 1 FROM objects WHERE bucket = ?1)", [name], |r| r.get(0))?;
            if has_objects {
                return Err(S3Error::BucketNotEmpty(name.to_owned()));
            }
            let blobs =
                strings(&tx, "SELECT p.blob FROM parts p JOIN uploads u ON u.id = p.upload WHERE u.bucket = ?1", name)?;
            tx.execute("DELETE FROM parts WHERE upload IN (SELECT id FROM uploads WHERE bucket = ?1)", [name])?;
            tx.execute("DELETE FROM uploads WHERE bucket = ?1", [name])?;
            tx.execute("DELETE FROM buckets WHERE name = ?1", [name])?;
            tx.commit()?;
            Ok(blobs)
        })
    }

    pub fn buckets(&self) -> Result<Vec<(String, OffsetDateTime)>, S3Error> {
        self.with(|c| {
            let mut st = c.prepare("SELECT name, created_ms FROM buckets ORDER BY name")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, from_ms(r.get(1)?))))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    pub fn require_bucket(&self, name: &str) -> Result<(), S3Error> {
        self.with(|c| require_bucket(c, name))
    }

    // Objects.

    pub fn object(&self, bucket: &str, key: &str) -> Result<ObjectInfo, S3Error> {
        self.with(|c| {
            require_bucket(c, bucket)?;
            get_object(c, bucket, key)?.ok_or_else(|| S3Error::NoSuchKey(key.to_owned()))
        })
    }

    /// Switches (bucket, key) to `info` if `conditions` hold, queueing `events` in the same transaction; the blob
    /// of the object it replaced is returned for removal.
    pub fn put_object(
        &self,
        info: &ObjectInfo,
        conditions: &WriteConditions,
        events: &[Outgoing],
        finish_upload: Option<&str>,
    ) -> Result<Option<String>, S3Error> {
        self.with(|c| {
            let tx = c.transaction()?;
            require_bucket(&tx, &info.bucket)?;
            let old = get_object(&tx, &info.bucket, &info.key)?;
            if conditions.if_none_match_any && old.is_some() {
                return Err(S3Error::PreconditionFailed);
            }
            if let Some(cond) = &conditions.if_match {
                match &old {
                    None => return Err(S3Error::NoSuchKey(info.key.clone())),
                    Some(o) if !etag_matches(cond, &o.etag) => return Err(S3Error::PreconditionFailed),
                    Some(_) => {}
                }
            }
            if let Some(upload) = finish_upload {
                let n = tx.execute("DELETE FROM uploads WHERE id = ?1", [upload])?;
                if n == 0 {
                    return Err(S3Error::NoSuchUpload(upload.to_owned()));
                }
                tx.execute("DELETE FROM parts WHERE upload = ?1", [upload])?;
            }
            let meta =
                Meta { attributes: info.attributes.clone(), checksums: info.checksums.clone(), parts: info.parts };
            tx.execute(
                "INSERT OR REPLACE INTO objects (bucket, key, blob, size, etag, modified_ms, meta)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    info.bucket,
                    info.key,
                    info.blob,
                    info.size as i64,
                    info.etag,
                    ms(info.last_modified),
                    serde_json::to_string(&meta).unwrap_or_default()
                ],
            )?;
            queue(&tx, events)?;
            tx.commit()?;
            Ok(old.map(|o| o.blob).filter(|b| *b != info.blob))
        })
    }

    /// Deletes (bucket, key), queueing the events `make_events` builds for the object removed; the removed object
    /// (whose blob the caller removes) or `None` when there was none.
    pub fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        make_events: impl FnOnce(&ObjectInfo) -> Vec<Outgoing>,
    ) -> Result<Option<ObjectInfo>, S3Error> {
        self.with(|c| {
            let tx = c.transaction()?;
            require_bucket(&tx, bucket)?;
            let Some(old) = get_object(&tx, bucket, key)? else { return Ok(None) };
            tx.execute("DELETE FROM objects WHERE bucket = ?1 AND key = ?2", params![bucket, key])?;
            queue(&tx, &make_events(&old))?;
            tx.commit()?;
            Ok(Some(old))
        })
    }

    /// Up to `limit` objects of `bucket` whose keys are after `after` and at or after `from`, in key order.
    pub fn objects_after(
        &self,
        bucket: &str,
        after: &str,
        from: &str,
        limit: usize,
    ) -> Result<Vec<ObjectInfo>, S3Error> {
        self.with(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket = ?1 AND key > ?2 AND key >= ?3
                 ORDER BY key LIMIT ?4"
            ))?;
            let rows = st.query_map(params![bucket, after, from, limit as i64], object_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    // Multipart uploads.

    pub fn create_upload(&self, upload: &Upload) -> Result<(), S3Error> {
        self.with(|c| {
            require_bucket(c, &upload.bucket)?;
            let meta = Meta { attributes: upload.attributes.clone(), ..Meta::default() };
            c.execute(
                "INSERT INTO uploads (id, bucket, key, initiated_ms, meta) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    upload.id,
                    upload.bucket,
                    upload.key,
                    ms(upload.initiated),
                    serde_json::to_string(&meta).unwrap_or_default()
                ],
            )?;
            Ok(())
        })
    }

    pub fn upload(&self, bucket: &str, key: &str, id: &str) -> Result<Upload, S3Error> {
        self.with(|c| {
            require_bucket(c, bucket)?;
            require_upload(c, bucket, key, id)
        })
    }

    /// Records a part (replacing one of the same number, whose blob is returned for removal).
    pub fn put_part(&self, bucket: &str, key: &str, upload: &str, part: &PartInfo) -> Result<Option<String>, S3Error> {
        self.with(|c| {
            let tx = c.transaction()?;
            require_upload(&tx, bucket, key, upload)?;
            let old: Option<String> = tx
                .query_row(
                    "SELECT blob FROM parts WHERE upload = ?1 AND number = ?2",
                    params![upload, part.number],
                    |r| r.get(0),
                )
                .optional()?;
            tx.execute(
                "INSERT OR REPLACE INTO parts (upload, number, blob, size, etag, modified_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![upload, part.number, part.blob, part.size as i64, part.etag, ms(part.last_modified)],
            )?;
            tx.commit()?;
            Ok(old)
        })
    }

    /// The parts of an upload numbered above `after`, in order.
    pub fn parts(&self, upload: &str, after: u32, limit: usize) -> Result<Vec<PartInfo>, S3Error> {
        self.with(|c| {
            let mut st = c.prepare_cached(
                "SELECT number, size, etag, modified_ms, blob FROM parts WHERE upload = ?1 AND number > ?2
                 ORDER BY number LIMIT ?3",
            )?;
            let rows = st.query_map(params![upload, after, limit as i64], |r| {
                Ok(PartInfo {
                    number: r.get(0)?,
                    size: r.get::<_, i64>(1)?.max(0) as u64,
                    etag: r.get(2)?,
                    last_modified: from_ms(r.get(3)?),
                    blob: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Forgets an upload; its part blobs are returned for removal.
    pub fn abort_upload(&self, bucket: &str, key: &str, id: &str) -> Result<Vec<String>, S3Error> {
        self.with(|c| {
            let tx = c.transaction()?;
            require_upload(&tx, bucket, key, id)?;
            let blobs = strings(&tx, "SELECT blob FROM parts WHERE upload = ?1", id)?;
            tx.execute("DELETE FROM parts WHERE upload = ?1", [id])?;
            tx.execute("DELETE FROM uploads WHERE id = ?1", [id])?;
            tx.commit()?;
            Ok(blobs)
        })
    }

    /// The uploads of a bucket whose key starts with `prefix`, after (`key`, `upload id`), in that order.
    pub fn uploads(
        &self,
        bucket: &str,
        prefix: &str,
        after: (&str, &str),
        limit: usize,
    ) -> Result<Vec<Upload>, S3Error> {
        self.with(|c| {
            require_bucket(c, bucket)?;
            let mut st = c.prepare_cached(&format!(
                "SELECT {UPLOAD_COLUMNS} FROM uploads
                 WHERE bucket = ?1 AND key >= ?2 AND (key > ?3 OR (key = ?3 AND id > ?4))
                 ORDER BY key, id"
            ))?;
            let rows = st.query_map(params![bucket, prefix, after.0, after.1], upload_row)?;
            let mut out = Vec::new();
            for row in rows {
                let u = row?;
                if !u.key.starts_with(prefix) {
                    break;
                }
                out.push(u);
                if out.len() > limit {
                    break;
                }
            }
            Ok(out)
        })
    }

    // Notifications.

    /// The oldest queued notifications.
    pub fn pending(&self, limit: usize) -> Result<Vec<(i64, String, Value)>, S3Error> {
        self.with(|c| {
            let mut st = c.prepare_cached("SELECT seq, function, event FROM outbox ORDER BY seq LIMIT ?1")?;
            let rows = st.query_map([limit as i64], |r| {
                let event: String = r.get(2)?;
                Ok((r.get(0)?, r.get(1)?, serde_json::from_str(&event).unwrap_or(Value::Null)))
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    pub fn delivered(&self, seq: i64) -> Result<(), S3Error> {
        self.with(|c| {
            c.execute("DELETE FROM outbox WHERE seq = ?1", [seq])?;
            Ok(())
        })
    }

    /// Every blob a row refers to, for sweeping the orphans a crash left.
    pub fn referenced_blobs(&self) -> Result<std::collections::HashSet<String>, S3Error> {
        self.with(|c| {
            let mut st = c.prepare("SELECT blob FROM objects UNION SELECT blob FROM parts")?;
            let rows = st.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}

fn require_bucket(c: &Connection, name: &str) -> Result<(), S3Error> {
    let exists: bool =
        c.prepare_cached("SELECT EXISTS (SELECT 1 FROM buckets WHERE name = ?1)")?.query_row([name], |r| r.get(0))?;
    if exists { Ok(()) } else { Err(S3Error::NoSuchBucket(name.to_owned())) }
}

/// The first column of each row `sql` selects for `param`.
fn strings(c: &Connection, sql: &str, param: &str) -> rusqlite::Result<Vec<String>> {
    c.prepare(sql)?.query_map([param], |r| r.get(0))?.collect()
}

fn get_object(c: &Connection, bucket: &str, key: &str) -> rusqlite::Result<Option<ObjectInfo>> {
    c.prepare_cached(&format!("SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket = ?1 AND key = ?2"))?
        .query_row(params![bucket, key], object_row)
        .optional()
}

const UPLOAD_COLUMNS: &str = "id, bucket, key, initiated_ms, meta";

fn upload_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Upload> {
    let meta = meta(r, 4)?;
    Ok(Upload {
        id: r.get(0)?,
        bucket: r.get(1)?,
        key: r.get(2)?,
        initiated: from_ms(r.get(3)?),
        attributes: meta.attributes,
    })
}

/// The upload `id` of (bucket, key); an upload of another key is no such upload.
fn require_upload(c: &Connection, bucket: &str, key: &str, id: &str) -> Result<Upload, S3Error> {
    c.prepare_cached(&format!("SELECT {UPLOAD_COLUMNS} FROM uploads WHERE id = ?1 AND bucket = ?2 AND key = ?3"))?
        .query_row(params![id, bucket, key], upload_row)
        .optional()?
        .ok_or_else(|| S3Error::NoSuchUpload(id.to_owned()))
}

fn queue(tx: &Transaction<'_>, events: &[Outgoing]) -> rusqlite::Result<()> {
    let mut st = tx.prepare_cached("INSERT INTO outbox (function, event) VALUES (?1, ?2)")?;
    for (function, event) in events {
        st.execute(params![function, event.to_string()])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_etag_condition_matches_quoted_weak_and_listed_forms() {
        assert!(etag_matches("\"abc\"", "abc"));
        assert!(etag_matches("W/\"abc\"", "abc"));
        assert!(etag_matches("\"x\", \"abc\"", "abc"));
        assert!(etag_matches("*", "abc"));
        assert!(!etag_matches("\"abd\"", "abc"));
    }
}

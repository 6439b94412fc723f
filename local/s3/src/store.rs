//! The object store: S3's semantics over the index and the blobs, shared by the wire protocol and the in-process
//! API. Every write follows one order: stage the bytes into a new blob (synced), switch the index row in one
//! transaction that also queues its notifications, then remove the blob it replaced. Blocking work (SQLite, files)
//! runs on Tokio's blocking pool.

use crate::{
    blobs::{Blobs, Staged},
    error::S3Error,
    index::{Attributes, Checksums, Index, ObjectInfo, Outgoing, PartInfo, Upload, WriteConditions},
    notify::{self, NotificationConfig, Requester},
};
use local_core::{Identity, hex};
use md5::{Digest, Md5};
use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};
use time::OffsetDateTime;
use tokio::sync::Notify;

/// S3's limits.
pub const MAX_PUT: u64 = 5 * 1024 * 1024 * 1024;
pub const MIN_PART: u64 = 5 * 1024 * 1024;
pub const MAX_PARTS: u32 = 10_000;
pub const MAX_KEY: usize = 1024;

/// One page of a listing: objects and common prefixes, in key order.
#[derive(Debug, Default)]
pub struct Listing {
    pub objects: Vec<ObjectInfo>,
    pub common_prefixes: Vec<String>,
    pub truncated: bool,
    /// The last key or common prefix given, where the next page starts after.
    pub last: Option<String>,
}

pub(crate) struct Store {
    pub index: Arc<Index>,
    pub blobs: Blobs,
    pub identity: Identity,
    pub notifications: Vec<NotificationConfig>,
    pub wake: Arc<Notify>,
    sequencer: AtomicU64,
}

pub fn check_bucket_name(name: &str) -> Result<(), S3Error> {
    if s3s::path::check_bucket_name(name) { Ok(()) } else { Err(S3Error::InvalidBucketName(name.to_owned())) }
}

pub fn check_key(key: &str) -> Result<(), S3Error> {
    if key.is_empty() {
        Err(S3Error::InvalidArgument("A key must not be empty".into()))
    } else if key.len() > MAX_KEY {
        Err(S3Error::KeyTooLong)
    } else {
        Ok(())
    }
}

impl Store {
    pub fn new(
        index: Arc<Index>,
        blobs: Blobs,
        identity: Identity,
        notifications: Vec<NotificationConfig>,
        wake: Arc<Notify>,
    ) -> Self {
        let now = OffsetDateTime::now_utc().unix_timestamp_nanos() as u64;
        Self { index, blobs, identity, notifications, wake, sequencer: AtomicU64::new(now) }
    }

    /// Runs `f` on the index on the blocking pool.
    pub async fn db<R, F>(&self, f: F) -> Result<R, S3Error>
    where
        R: Send + 'static,
        F: FnOnce(&Index) -> Result<R, S3Error> + Send + 'static,
    {
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || f(&index)).await.map_err(|e| S3Error::Io(std::io::Error::other(e)))?
    }

    /// A sequencer above every one given before, in this process and (being clock-based) in earlier ones.
    fn next_sequencer(&self) -> u64 {
        let now = OffsetDateTime::now_utc().unix_timestamp_nanos() as u64;
        let prev = self.sequencer.fetch_max(now, Ordering::SeqCst).max(now);
        self.sequencer.fetch_add(1, Ordering::SeqCst).max(prev) + 1
    }

    fn events(&self, event_name: &str, object: &ObjectInfo, removed: bool, by: &Requester) -> Vec<Outgoing> {
        let wanted: Vec<&NotificationConfig> =
            self.notifications.iter().filter(|c| c.matches(&object.bucket, event_name, &object.key)).collect();
        if wanted.is_empty() {
            return Vec::new();
        }
        let sequencer = self.next_sequencer();
        let now = OffsetDateTime::now_utc();
        wanted
            .into_iter()
            .map(|c| {
                (c.function.clone(), notify::record(&self.identity, c, event_name, object, removed, sequencer, now, by))
            })
            .collect()
    }

    // Buckets.

    pub async fn create_bucket(&self, name: &str) -> Result<bool, S3Error> {
        check_bucket_name(name)?;
        let name = name.to_owned();
        self.db(move |i| i.create_bucket(&name, OffsetDateTime::now_utc())).await
    }

    pub async fn delete_bucket(&self, name: &str) -> Result<(), S3Error> {
        let n = name.to_owned();
        let blobs = self.db(move |i| i.delete_bucket(&n)).await?;
        for b in blobs {
            self.blobs.remove(&b);
        }
        Ok(())
    }

    pub async fn buckets(&self) -> Result<Vec<(String, OffsetDateTime)>, S3Error> {
        self.db(|i| i.buckets()).await
    }

    pub async fn require_bucket(&self, name: &str) -> Result<(), S3Error> {
        let n = name.to_owned();
        self.db(move |i| i.require_bucket(&n)).await
    }

    // Objects.

    pub async fn head(&self, bucket: &str, key: &str) -> Result<ObjectInfo, S3Error> {
        let (b, k) = (bucket.to_owned(), key.to_owned());
        self.db(move |i| i.object(&b, &k)).await
    }

    /// Makes `staged` the object at (bucket, key), if `conditions` hold; queues its notifications; removes what it
    /// replaced. `etag` defaults to the blob's MD5.
    #[allow(clippy::too_many_arguments)]
    pub async fn commit(
        &self,
        bucket: &str,
        key: &str,
        staged: Staged,
        attributes: Attributes,
        checksums: Checksums,
        multipart: Option<(String, u32, String)>,
        conditions: WriteConditions,
        event_name: &str,
        by: &Requester,
    ) -> Result<ObjectInfo, S3Error> {
        let (etag, parts, upload) = match multipart {
            Some((etag, parts, upload)) => (etag, Some(parts), Some(upload)),
            None => (hex(&staged.md5), None, None),
        };
        let mut info = ObjectInfo {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            size: staged.size,
            etag,
            last_modified: OffsetDateTime::now_utc(),
            attributes,
            checksums,
            parts,
            blob: staged.id.clone(),
        };
        let events = self.events(event_name, &info, false, by);
        let row = info.clone();
        let replaced = self.db(move |i| i.put_object(&row, &conditions, &events, upload.as_deref())).await?;
        info.blob = staged.keep();
        if let Some(old) = replaced {
            self.blobs.remove(&old);
        }
        self.wake.notify_one();
        Ok(info)
    }

    /// Deletes (bucket, key); `None` when there was no such object (which S3 does not treat as an error).
    pub async fn delete(&self, bucket: &str, key: &str, by: &Requester) -> Result<Option<ObjectInfo>, S3Error> {
        let (b, k) = (bucket.to_owned(), key.to_owned());
        // The events are built inside the transaction from the row it removes; the store is shared for that.
        let notifications = self.notifications.clone();
        let identity = self.identity.clone();
        let sequencer = if notifications.iter().any(|c| c.bucket == bucket) { self.next_sequencer() } else { 0 };
        let by = by.clone();
        let removed = self
            .db(move |i| {
                i.delete_object(&b, &k, |old| {
                    let now = OffsetDateTime::now_utc();
                    notifications
                        .iter()
                        .filter(|c| c.matches(&old.bucket, "ObjectRemoved:Delete", &old.key))
                        .map(|c| {
                            let event =
                                notify::record(&identity, c, "ObjectRemoved:Delete", old, true, sequencer, now, &by);
                            (c.function.clone(), event)
                        })
                        .collect()
                })
            })
            .await?;
        if let Some(old) = &removed {
            self.blobs.remove(&old.blob);
            self.wake.notify_one();
        }
        Ok(removed)
    }

    /// A page of `bucket`'s keys under `prefix` after `after`, rolled up at `delimiter` into common prefixes.
    pub async fn list(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        after: &str,
        max: usize,
    ) -> Result<Listing, S3Error> {
        self.require_bucket(bucket).await?;
        let (bucket, prefix, delimiter, after) = (
            bucket.to_owned(),
            prefix.to_owned(),
            delimiter.filter(|d| !d.is_empty()).map(str::to_owned),
            after.to_owned(),
        );
        self.db(move |index| {
            let mut out = Listing::default();
            if max == 0 {
                return Ok(out);
            }
            let mut cursor = after.clone();
            let mut given = 0usize;
            'scan: loop {
                let batch = index.objects_after(&bucket, &cursor, &prefix, 1000)?;
                if batch.is_empty() {
                    break;
                }
                for object in batch {
                    cursor.clone_from(&object.key);
                    if !object.key.starts_with(&prefix) {
                        break 'scan;
                    }
                    let rolled = delimiter.as_deref().and_then(|d| {
                        object.key[prefix.len()..]
                            .find(d)
                            .map(|at| object.key[..prefix.len() + at + d.len()].to_owned())
                    });
                    if let Some(cp) = &rolled
                        && (out.common_prefixes.last() == Some(cp) || *cp <= after)
                    {
                        continue;
                    }
                    if given == max {
                        out.truncated = true;
                        break 'scan;
                    }
                    given += 1;
                    match rolled {
                        Some(cp) => {
                            // Jump past every key under this prefix rather than reading them.
                            cursor = format!("{cp}\u{10FFFF}");
                            out.last = Some(cp.clone());
                            out.common_prefixes.push(cp);
                            continue 'scan;
                        }
                        None => {
                            out.last = Some(object.key.clone());
                            out.objects.push(object);
                        }
                    }
                }
            }
            Ok(out)
        })
        .await
    }

    // Multipart uploads.

    pub async fn create_upload(&self, bucket: &str, key: &str, attributes: Attributes) -> Result<Upload, S3Error> {
        check_key(key)?;
        let upload = Upload {
            id: ulid::Ulid::generate().to_string(),
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            initiated: OffsetDateTime::now_utc(),
            attributes,
        };
        let u = upload.clone();
        self.db(move |i| i.create_upload(&u)).await?;
        Ok(upload)
    }

    pub async fn upload(&self, bucket: &str, key: &str, id: &str) -> Result<Upload, S3Error> {
        let (b, k, u) = (bucket.to_owned(), key.to_owned(), id.to_owned());
        self.db(move |i| i.upload(&b, &k, &u)).await
    }

    pub async fn put_part(
        &self,
        bucket: &str,
        key: &str,
        upload: &str,
        number: u32,
        staged: Staged,
    ) -> Result<PartInfo, S3Error> {
        let mut part = PartInfo {
            number,
            size: staged.size,
            etag: hex(&staged.md5),
            last_modified: OffsetDateTime::now_utc(),
            blob: staged.id.clone(),
        };
        let (b, k, u, p) = (bucket.to_owned(), key.to_owned(), upload.to_owned(), part.clone());
        let replaced = self.db(move |i| i.put_part(&b, &k, &u, &p)).await?;
        part.blob = staged.keep();
        if let Some(old) = replaced {
            self.blobs.remove(&old);
        }
        Ok(part)
    }

    pub async fn parts(&self, upload: &str, after: u32, limit: usize) -> Result<Vec<PartInfo>, S3Error> {
        let u = upload.to_owned();
        self.db(move |i| i.parts(&u, after, limit)).await
    }

    /// Completes an upload from the parts the client lists (number and ETag), as S3 checks them: ascending
    /// numbers, each uploaded with that ETag, every part but the last at least 5 MiB.
    pub async fn complete(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        listed: &[(u32, String)],
        conditions: WriteConditions,
        by: &Requester,
    ) -> Result<ObjectInfo, S3Error> {
        let upload = self.upload(bucket, key, upload_id).await?;
        if listed.is_empty() {
            return Err(S3Error::MalformedXml);
        }
        if listed.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err(S3Error::InvalidPartOrder);
        }
        let uploaded = self.parts(upload_id, 0, MAX_PARTS as usize + 1).await?;
        let mut chosen = Vec::with_capacity(listed.len());
        for (i, (number, etag)) in listed.iter().enumerate() {
            let part = uploaded.iter().find(|p| p.number == *number).ok_or(S3Error::InvalidPart)?;
            if etag.trim_matches('"') != part.etag {
                return Err(S3Error::InvalidPart);
            }
            if i + 1 < listed.len() && part.size < MIN_PART {
                return Err(S3Error::EntityTooSmall);
            }
            chosen.push(part.clone());
        }
        // S3's multipart ETag: the MD5 of the parts' binary MD5s, then the part count.
        let mut md5 = Md5::new();
        for p in &chosen {
            for i in (0..p.etag.len()).step_by(2) {
                md5.update([u8::from_str_radix(&p.etag[i..i + 2], 16).unwrap_or(0)]);
            }
        }
        let etag = format!("{}-{}", hex(&md5.finalize()), chosen.len());
        let staged = self.blobs.concat(chosen.iter().map(|p| p.blob.clone()).collect()).await?;
        let info = self
            .commit(
                bucket,
                key,
                staged,
                upload.attributes,
                Checksums::default(),
                Some((etag, chosen.len() as u32, upload_id.to_owned())),
                conditions,
                "ObjectCreated:CompleteMultipartUpload",
                by,
            )
            .await?;
        // The transaction dropped the upload's rows; its parts (listed or not) are no longer needed.
        for p in uploaded {
            self.blobs.remove(&p.blob);
        }
        Ok(info)
    }

    pub async fn abort(&self, bucket: &str, key: &str, upload: &str) -> Result<(), S3Error> {
        let (b, k, u) = (bucket.to_owned(), key.to_owned(), upload.to_owned());
        for blob in self.db(move |i| i.abort_upload(&b, &k, &u)).await? {
            self.blobs.remove(&blob);
        }
        Ok(())
    }

    pub async fn uploads(
        &self,
        bucket: &str,
        prefix: &str,
        after: (String, String),
        limit: usize,
    ) -> Result<Vec<Upload>, S3Error> {
        let (b, p) = (bucket.to_owned(), prefix.to_owned());
        self.db(move |i| i.uploads(&b, &p, (&after.0, &after.1), limit)).await
    }
}

//! Object bytes on disk: each body is a file `<data>/s3/objects/<ulid>` named by an id this store generates, so no
//! key ever becomes a path. A body is streamed into a new blob (hashed on the way), synced, and only then may the
//! index point at it; a blob no row points at is removed, at once when a write fails or is replaced, and at start for
//! whatever a crash left. Files are written and read on blocking threads fed through small bounded channels, so a
//! 1 GiB body never sits in memory.

use crate::{error::S3Error, index::Checksums};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use md5::{Digest, Md5};
use s3s::checksum::ChecksumHasher;
use std::{
    fs,
    io::{self, Read, Seek, Write},
    ops::Range,
    path::{Path, PathBuf},
};

/// Chunks a blob is read in; also the writer's buffer.
const CHUNK: usize = 256 * 1024;
/// Chunks in flight between the network and a blob's thread.
const IN_FLIGHT: usize = 8;

/// Which additional checksums to compute while staging.
#[derive(Debug, Clone, Copy, Default)]
pub struct Algorithms {
    pub crc32: bool,
    pub crc32c: bool,
    pub crc64nvme: bool,
    pub sha1: bool,
    pub sha256: bool,
}

impl Algorithms {
    fn hasher(self) -> ChecksumHasher {
        let mut h = ChecksumHasher::default();
        if self.crc32 {
            h.crc32 = Some(Default::default());
        }
        if self.crc32c {
            h.crc32c = Some(Default::default());
        }
        if self.crc64nvme {
            h.crc64nvme = Some(Default::default());
        }
        if self.sha1 {
            h.sha1 = Some(Default::default());
        }
        if self.sha256 {
            h.sha256 = Some(Default::default());
        }
        h
    }
}

/// A blob written and synced but not yet in the index; removed when dropped uncommitted.
#[derive(Debug)]
pub struct Staged {
    pub id: String,
    pub size: u64,
    pub md5: [u8; 16],
    pub checksums: Checksums,
    path: PathBuf,
    kept: bool,
}

impl Staged {
    /// The index now points at the blob: it stays.
    pub fn keep(mut self) -> String {
        self.kept = true;
        std::mem::take(&mut self.id)
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.kept {
            let _ = fs::remove_file(&self.path);
        }
    }
}

pub(crate) struct Blobs {
    dir: PathBuf,
}

/// A new blob file, readable by its owner only; never an existing one.
fn private_file(path: &Path) -> io::Result<fs::File> {
    local_core::files::private_open_options().write(true).create_new(true).open(path)
}

fn is_blob_id(id: &str) -> bool {
    id.len() == 26 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl Blobs {
    pub fn create(dir: PathBuf) -> Result<Self, S3Error> {
        local_core::files::create_private_dir(&dir)?;
        Ok(Self { dir })
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    fn new_blob(&self) -> (String, PathBuf) {
        let id = ulid::Ulid::generate().to_string();
        let path = self.path(&id);
        (id, path)
    }

    /// Streams `body` into a new blob, computing its MD5 and the requested checksums. More than `limit` bytes is
    /// `EntityTooLarge`; a body that breaks off is `IncompleteBody`. Either way nothing is left on disk.
    pub async fn stage<S, E>(&self, mut body: S, algorithms: Algorithms, limit: u64) -> Result<Staged, S3Error>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let (id, path) = self.new_blob();
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(IN_FLIGHT);
        let dir = self.dir.clone();
        let file_path = path.clone();
        // The thread owns the file and the hashers, so hashing and writing run beside the network reads.
        let writer = tokio::task::spawn_blocking(move || -> io::Result<(u64, [u8; 16], ChecksumHasher)> {
            let file = private_file(&file_path)?;
            let mut out = io::BufWriter::with_capacity(CHUNK, file);
            let mut md5 = Md5::new();
            let mut hasher = algorithms.hasher();
            let mut size = 0u64;
            while let Some(chunk) = rx.blocking_recv() {
                md5.update(&chunk);
                hasher.update(&chunk);
                out.write_all(&chunk)?;
                size += chunk.len() as u64;
            }
            let file = out.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            local_core::files::sync_dir(&dir)?;
            Ok((size, md5.finalize().into(), hasher))
        });
        // From here on, a failure must remove whatever the writer created.
        let mut staged = Staged { id, size: 0, md5: [0; 16], checksums: Checksums::default(), path, kept: false };
        let mut received = 0u64;
        let mut failure = None;
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(chunk) => {
                    received += chunk.len() as u64;
                    if received > limit {
                        failure = Some(S3Error::EntityTooLarge);
                        break;
                    }
                    if tx.send(chunk).await.is_err() {
                        break; // The writer failed; its error is reported below.
                    }
                }
                Err(e) => {
                    failure = Some(S3Error::Body(e.to_string()));
                    break;
                }
            }
        }
        drop(tx);
        let written = writer.await.map_err(|e| S3Error::Io(io::Error::other(e)))?;
        if let Some(f) = failure {
            return Err(f);
        }
        let (size, md5, hasher) = written?;
        let sums = hasher.finalize();
        staged.size = size;
        staged.md5 = md5;
        staged.checksums = Checksums {
            crc32: sums.checksum_crc32,
            crc32c: sums.checksum_crc32c,
            crc64nvme: sums.checksum_crc64nvme,
            sha1: sums.checksum_sha1,
            sha256: sums.checksum_sha256,
        };
        Ok(staged)
    }

    /// A new blob holding `range` of blob `source` (all of it when `None`), with its MD5.
    pub async fn stage_copy(&self, source: &str, range: Option<Range<u64>>) -> Result<Staged, S3Error> {
        let src = self.path(source);
        let (id, path) = self.new_blob();
        let dir = self.dir.clone();
        let mut staged = Staged { id, size: 0, md5: [0; 16], checksums: Checksums::default(), path, kept: false };
        let dst = staged.path.clone();
        let (size, md5) = tokio::task::spawn_blocking(move || -> io::Result<(u64, [u8; 16])> {
            let mut input = fs::File::open(&src)?;
            let len = match &range {
                Some(r) => {
                    input.seek(io::SeekFrom::Start(r.start))?;
                    r.end - r.start
                }
                None => input.metadata()?.len(),
            };
            let mut input = input.take(len);
            let mut out = private_file(&dst)?;
            let mut md5 = Md5::new();
            let mut buf = vec![0u8; CHUNK];
            let mut size = 0u64;
            loop {
                let n = input.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                md5.update(&buf[..n]);
                out.write_all(&buf[..n])?;
                size += n as u64;
            }
            out.sync_all()?;
            local_core::files::sync_dir(&dir)?;
            Ok((size, md5.finalize().into()))
        })
        .await
        .map_err(|e| S3Error::Io(io::Error::other(e)))??;
        staged.size = size;
        staged.md5 = md5;
        Ok(staged)
    }

    /// A new blob holding the blobs `parts` end to end (a completed multipart upload). The kernel copies the bytes
    /// (`copy_file_range`), so they never pass through this process.
    pub async fn concat(&self, parts: Vec<String>) -> Result<Staged, S3Error> {
        let (id, path) = self.new_blob();
        let sources: Vec<PathBuf> = parts.iter().map(|p| self.path(p)).collect();
        let dir = self.dir.clone();
        let mut staged = Staged { id, size: 0, md5: [0; 16], checksums: Checksums::default(), path, kept: false };
        let dst = staged.path.clone();
        staged.size = tokio::task::spawn_blocking(move || -> io::Result<u64> {
            let mut out = private_file(&dst)?;
            let mut size = 0;
            for src in sources {
                size += io::copy(&mut fs::File::open(src)?, &mut out)?;
            }
            out.sync_all()?;
            local_core::files::sync_dir(&dir)?;
            Ok(size)
        })
        .await
        .map_err(|e| S3Error::Io(io::Error::other(e)))??;
        Ok(staged)
    }

    /// Opens a blob for reading; `NotFound` when a write replaced it since its row was read.
    pub async fn open(&self, id: &str) -> Result<fs::File, S3Error> {
        let path = self.path(id);
        Ok(tokio::task::spawn_blocking(move || fs::File::open(path))
            .await
            .map_err(|e| S3Error::Io(io::Error::other(e)))??)
    }

    /// `range` of an open blob as a stream of chunks, read ahead by a few chunks at most.
    pub fn stream(
        mut file: fs::File,
        range: Range<u64>,
    ) -> impl Stream<Item = Result<Bytes, io::Error>> + Send + Sync + 'static {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(4);
        tokio::task::spawn_blocking(move || {
            let send = |r| tx.blocking_send(r).is_ok();
            if let Err(e) = file.seek(io::SeekFrom::Start(range.start)) {
                send(Err(e));
                return;
            }
            let mut left = range.end.saturating_sub(range.start);
            while left > 0 {
                let mut buf = vec![0u8; CHUNK.min(left as usize)];
                match file.read(&mut buf) {
                    Ok(0) => {
                        send(Err(io::Error::new(io::ErrorKind::UnexpectedEof, "blob shorter than its index row")));
                        return;
                    }
                    Ok(n) => {
                        buf.truncate(n);
                        left -= n as u64;
                        if !send(Ok(Bytes::from(buf))) {
                            return; // The client went away.
                        }
                    }
                    Err(e) => {
                        send(Err(e));
                        return;
                    }
                }
            }
        });
        futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
    }

    /// The whole blob, for the in-process API.
    pub async fn read_all(&self, id: &str) -> Result<Vec<u8>, S3Error> {
        Ok(tokio::fs::read(self.path(id)).await?)
    }

    pub fn remove(&self, id: &str) {
        if is_blob_id(id)
            && let Err(e) = fs::remove_file(self.path(id))
            && e.kind() != io::ErrorKind::NotFound
        {
            // Left behind, it is swept at the next start.
            tracing::warn!(blob = id, error = %e, "could not remove a replaced blob");
        }
    }

    /// Removes every file no index row refers to: blobs of writes a crash interrupted, or whose replacement was
    /// committed just before one.
    pub fn sweep(&self, referenced: &std::collections::HashSet<String>) -> Result<usize, S3Error> {
        let mut removed = 0;
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if !referenced.contains(name.as_ref()) {
                fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

//! The database file and its connections: one writer behind a mutex and a small pool of readers, all in WAL mode.
//!
//! Why this shape: SQLite allows one writer at a time per database anyway, so a single writer connection loses no
//! parallelism and turns "database is locked" into an in-process queue; WAL lets any number of readers run beside
//! that writer without waiting, so `GET`s never queue behind `POST`s. Every connection caches its prepared
//! statements, so a request costs one B-tree lookup, not a parse and plan.
//!
//! Durability: `journal_mode=WAL` with `synchronous=NORMAL`. A commit is in the WAL file (the OS page cache) before
//! the call returns, so killing the process, even with `kill -9`, loses no committed transaction. The WAL is only
//! fsynced at checkpoints, so a power cut or kernel crash may lose the most recent commits; the database stays
//! consistent (it rolls back to an earlier commit, it does not corrupt). That trade is right for a local stack.
//!
//! A damaged store is refused, never silently started over. SQLite takes a 0-byte file for a new, empty database,
//! and reads only the pages a query touches, so a store truncated or overwritten on disk would otherwise come up
//! with no tasks and soon overwrite what its write-ahead log still held. [`check_existing`] states what counts as
//! damaged; the error names the file and gives SQLite's own reason where SQLite has one.

use crate::OpenError;
use crate::error::QueryFailed;
use crate::stream;
use domain::StoreError;
use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OpenFlags};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// How long a connection waits for another *process* holding the write lock (a second local stack, the sqlite3
/// shell) before reporting the store unavailable. In-process writers queue on the mutex instead.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Idle readers kept open. Readers run inline on the async workers (see [`LocalStore::read`]), so at most one per
/// worker thread is busy at a time; a few spare cover blocking threads and tests. Extra readers opened under a
/// burst are closed when returned.
const MAX_IDLE_READERS: usize = 8;
/// Prepared statements kept per connection: a tasks table has 8 and a profiles table 4, so a few tables fit.
const STATEMENT_CACHE: usize = 64;
/// The SQL function every list statement calls once per row it examines; see [`Reader::visited`].
pub(crate) const VISIT_FN: &str = "local_adapters_visit";

/// An open database. Cheap to clone: clones share the connections.
#[derive(Clone)]
pub struct LocalStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Reader>>,
    /// The tables whose stream is on, by name: each write looks its table up here, so a stream turned on after a
    /// table's ports were made still gets every later write.
    streams: Mutex<HashMap<String, Arc<stream::Shared>>>,
}

/// A read-only connection plus the counter its visit function bumps.
pub(crate) struct Reader {
    pub(crate) conn: Connection,
    visits: Arc<AtomicU64>,
}

impl Reader {
    /// Starts counting rows for one statement.
    pub(crate) fn reset_visits(&self) {
        self.visits.store(0, Ordering::Relaxed);
    }

    /// How many rows the list statement examined since [`Self::reset_visits`]: the visit function sits in its
    /// WHERE clause, so SQLite calls it for every row the index range yields, matched or not.
    pub(crate) fn visited(&self) -> u64 {
        self.visits.load(Ordering::Relaxed)
    }
}

impl std::fmt::Debug for LocalStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalStore").field("path", &self.inner.path).finish_non_exhaustive()
    }
}

impl LocalStore {
    /// Opens (creating if missing) the database file at `path` and puts it in WAL mode. The directory must exist.
    /// Tables are created by [`LocalStore::tasks`] and [`LocalStore::profiles`].
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        check_existing(path)?;
        create_private(path)?;
        let writer = open_connection(path, Role::Writer)?;
        // Open one reader now so that a file readers cannot use fails at start-up, not on the first GET.
        let reader = open_reader(path)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Mutex::new(writer),
                readers: Mutex::new(vec![reader]),
                streams: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs setup statements (CREATE TABLE, …) on the writer.
    pub(crate) fn setup<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
        what: impl FnOnce() -> String,
    ) -> Result<T, OpenError> {
        let conn = self.writer();
        f(&conn).map_err(|source| OpenError::Sqlite { what: what(), path: self.inner.path.clone(), source })
    }

    /// Runs a read on a pooled reader, on the calling thread.
    ///
    /// Inline rather than `spawn_blocking`: a read by key takes ~3 µs and a 26-row page ~30 µs, less than the
    /// hand-off to a blocking thread and back, and in WAL mode a reader does not wait for the writer or for other
    /// readers (only, briefly, for WAL recovery after a crash), so it cannot stall an async worker for long.
    /// Measured in `benches/list_cost.rs` on a 2-worker runtime with four writers running beside (2 shared cores,
    /// runs vary): inline gets ran at 180,000-240,000/s with p99 14-21 µs, the same gets through `spawn_blocking`
    /// at 35,000-67,000/s with p99 2-13 ms.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Reader) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let reader = match lock(&self.inner.readers).pop() {
            Some(reader) => reader,
            None => open_reader(&self.inner.path).map_err(StoreError::unavailable)?,
        };
        let out = f(&reader);
        let mut idle = lock(&self.inner.readers);
        if idle.len() < MAX_IDLE_READERS {
            idle.push(reader);
        }
        out
    }

    /// Runs a write transaction on the writer connection, on tokio's blocking pool when called inside a runtime.
    ///
    /// Off the async workers because a write can wait: for the writer mutex while other writes run, and for the
    /// fsyncs of a WAL checkpoint, which SQLite runs inside whichever commit crosses the threshold. Blocking a worker
    /// for that would stall the `GET`s queued on it (the local stack has two). Outside a runtime it runs inline.
    /// The mutex is taken inside the closure, so it is never held across an `.await`. Dropping the returned future
    /// does not cancel a write that has started: it commits or rolls back as a whole, as it should when an HTTP
    /// client goes away mid-request.
    pub(crate) async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.clone();
        let job = move || f(&mut store.writer());
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => runtime.spawn_blocking(job).await.map_err(StoreError::unavailable)?,
            Err(_) => job(),
        }
    }

    /// The streams turned on, by table name.
    pub(crate) fn streams(&self) -> MutexGuard<'_, HashMap<String, Arc<stream::Shared>>> {
        lock(&self.inner.streams)
    }

    /// The stream of `table`, if it is on.
    pub(crate) fn stream_of(&self, table: &str) -> Option<Arc<stream::Shared>> {
        self.streams().get(table).cloned()
    }

    fn writer(&self) -> MutexGuard<'_, Connection> {
        lock(&self.inner.writer)
    }
}

/// A poisoned lock only means a thread panicked while holding it; the connection itself is still sound, because
/// SQLite rolls back any transaction that was open (`rusqlite::Transaction` rolls back on drop, also on unwind).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Writer,
    Reader,
}

fn open_reader(path: &Path) -> Result<Reader, OpenError> {
    let conn = open_connection(path, Role::Reader)?;
    let visits = Arc::new(AtomicU64::new(0));
    let counter = visits.clone();
    // Not DETERMINISTIC, so SQLite calls it for every row rather than once; DIRECTONLY, so nothing stored in the
    // schema (a view, a trigger) can call it.
    conn.create_scalar_function(
        VISIT_FN,
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DIRECTONLY,
        move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
            Ok(true)
        },
    )
    .map_err(|source| OpenError::Sqlite {
        what: "registering the row counter".into(),
        path: path.to_owned(),
        source,
    })?;
    Ok(Reader { conn, visits })
}

/// Creates the database file readable by its owner only, if it is not there: it holds every user's data. SQLite
/// would create it with the umask (0644 as a rule), and gives an existing database's permissions to the `-wal` and
/// `-shm` files it makes beside it, so creating it first keeps all three private. An existing file is left as it is.
fn create_private(path: &Path) -> Result<(), OpenError> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop).map_err(|source| OpenError::Create { path: path.to_owned(), source })
}

/// The first 16 bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Refuses a store file that is there but holds no database a previous run could have left. What a user would
/// have lost decides what counts:
/// - a 0-byte file beside a non-empty `-wal`: the database was truncated (the local stack's writer puts a header
///   page in the file before anything reaches the WAL, so this never happens on its own), and SQLite would start
///   an empty database over the commits the WAL still holds. A 0-byte file alone is a store created and never
///   written: it opens as an empty one, as SQLite would;
/// - a non-empty file that does not begin with SQLite's 16-byte header: something else was written over it;
/// - a file shorter than its header says (page count × page size, when the header's count is valid): cut short,
///   its last pages, and whatever rows they held, gone.
///
/// A file that is not there at all is a new store.
fn check_existing(path: &Path) -> Result<(), OpenError> {
    use std::io::Read;
    let damaged = |why: String, sqlite: Option<String>| OpenError::Damaged { path: path.to_owned(), why, sqlite };
    let io = |source| OpenError::Unreadable { path: path.to_owned(), source };
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(e)),
    };
    let metadata = file.metadata().map_err(io)?;
    if !metadata.is_file() {
        return Ok(()); // SQLite refuses it, and says why
    }
    let len = metadata.len();
    if len == 0 {
        let wal = std::fs::metadata(wal_path(path)).map_or(0, |m| m.len());
        return match wal {
            0 => Ok(()),
            _ => Err(damaged(
                format!(
                    "the database file is empty but its write-ahead log beside it holds {wal} bytes: the database was \
                     truncated"
                ),
                None,
            )),
        };
    }
    let mut header = [0u8; 100];
    let read = file.read(&mut header).map_err(io)?;
    let header = &header[..read];
    if !header.starts_with(SQLITE_HEADER) {
        return Err(damaged("the file does not begin with SQLite's header".into(), sqlite_opinion(path)));
    }
    if let Some(expected) = header_size(header)
        && len < expected
    {
        return Err(damaged(
            format!("the file is {len} bytes but its header says the database is {expected}: it was cut short"),
            sqlite_opinion(path),
        ));
    }
    Ok(())
}

/// The database size a file's header gives (page count × page size), when the count is valid: SQLite 3.7.0 and
/// later keep it, and mark it valid by giving the "version-valid-for" number the change counter's value.
fn header_size(header: &[u8]) -> Option<u64> {
    let be32 = |at: usize| header.get(at..at + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    let page_size = match header.get(16..18).map(|b| u16::from_be_bytes([b[0], b[1]]))? {
        1 => 65_536,
        n => u64::from(n),
    };
    let (pages, changes, valid_for) = (be32(28)?, be32(24)?, be32(92)?);
    (pages > 0 && changes == valid_for).then(|| u64::from(pages) * page_size)
}

/// `<store>-wal`, where SQLite keeps the write-ahead log.
fn wal_path(path: &Path) -> PathBuf {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

/// What SQLite says of a damaged file: the error it gives opening it read-only and checking it, or the first
/// problem `quick_check` finds. Only asked once the file is known damaged: the check reads every page.
fn sqlite_opinion(path: &Path) -> Option<String> {
    // `immutable`: SQLite reads the file as it is and writes nothing beside it (no `-wal`, no `-shm`), so asking
    // changes nothing a user might still recover from.
    let mut uri = String::from("file:");
    for b in path.as_os_str().as_encoded_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => uri.push(char::from(*b)),
            _ => uri += &format!("%{b:02X}"),
        }
    }
    uri += "?immutable=1";
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let check = || -> rusqlite::Result<String> {
        let conn = Connection::open_with_flags(&uri, flags)?;
        conn.query_row("PRAGMA quick_check(1)", [], |row| row.get(0))
    };
    match check() {
        Ok(verdict) if verdict == "ok" => None,
        Ok(problem) => Some(problem),
        Err(e) => Some(e.to_string()),
    }
}

fn open_connection(path: &Path, role: Role) -> Result<Connection, OpenError> {
    let err = |what: &str| {
        let path = path.to_owned();
        let what = what.to_owned();
        move |source| OpenError::Sqlite { what, path, source }
    };
    // NO_MUTEX: each connection is used by one thread at a time (behind our own locks), so SQLite's own per-call
    // mutex would be pure overhead.
    // No URI flag: the path is a path, even if it starts with `file:`.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(err("opening the database"))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(err("setting the busy timeout"))?;
    if role == Role::Writer {
        // Persistent in the file, so the writer sets it once and readers inherit it.
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(err("switching to WAL mode"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(OpenError::NoWal { path: path.to_owned(), mode });
        }
    }
    // Per connection, not per file, so every connection sets it (see the module doc for what it means).
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(err("setting synchronous=NORMAL"))?;
    if role == Role::Reader {
        // A reader that tried to write would take the file's write lock behind the writer's back.
        conn.pragma_update(None, "query_only", true).map_err(err("making a reader read-only"))?;
    }
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// Wraps a SQLite failure during a request, naming the operation and table.
pub(crate) fn failed<'t>(op: &'static str, table: &'t str) -> impl FnOnce(rusqlite::Error) -> StoreError + 't {
    move |source| StoreError::unavailable(QueryFailed { op, table: table.to_owned(), source })
}

/// Whether an INSERT failed because the key is taken (as opposed to any other constraint or failure).
pub(crate) fn is_primary_key_violation(e: &rusqlite::Error) -> bool {
    e.sqlite_error().is_some_and(|e| e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

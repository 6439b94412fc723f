//! The stack's recent log lines, kept in memory for the console's log page: a bounded ring ([`LogBook`]) of the
//! JSON lines the stack's logger writes, which a [`LogTee`] (a `MakeWriter`) copies there on their way to stdout.
//! `local up` installs the tee; a test that runs a stack in-process can install it over `stack.logs()` too.
//!
//! A line belongs to a request when it carries `"requestId":"…"`: the invocation span's field (`span.requestId`,
//! every line a function logs) or a top-level field (the endpoint's request line, the asynchronous invoker's
//! retries). Writing is on every request's path, so it does only this: one copy of the line, and a byte search for
//! where its request ids are, kept as offsets into that copy. A lookup compares those slices over the whole ring
//! (20,000 entries, some tens of microseconds), which costs less than a map from id to lines would on the write
//! path (an allocation per new id, and its own eviction). Hand-written because no crate keeps a bounded, searchable
//! copy of a `tracing` writer's output.

use serde_json::Value;
use std::{
    collections::VecDeque,
    io::{self, Write},
    ops::Range,
    sync::{Arc, Mutex, PoisonError},
};

/// How many lines the ring keeps by default.
pub const DEFAULT_MAX_LINES: usize = 20_000;
/// How many bytes of lines the ring keeps by default.
pub const DEFAULT_MAX_BYTES: usize = 16 * 1024 * 1024;

/// The key whose string value names a line's request.
const REQUEST_ID_KEY: &str = "\"requestId\":\"";

/// The last lines the stack logged, at most `max_lines` of them and `max_bytes` in all, oldest dropped first.
pub struct LogBook {
    max_lines: usize,
    max_bytes: usize,
    /// A std mutex: held only to push or to copy matching lines out, never across an await.
    ring: Mutex<Ring>,
}

#[derive(Default)]
struct Ring {
    entries: VecDeque<Entry>,
    bytes: usize,
}

struct Entry {
    line: Box<str>,
    /// Where the line's request ids are in `line` (a line may carry a top-level one and its span's).
    ids: [Option<Range<u32>>; 2],
}

impl Entry {
    fn has_request(&self, id: &str) -> bool {
        self.ids.iter().flatten().any(|r| self.line.get(r.start as usize..r.end as usize) == Some(id))
    }
}

impl std::fmt::Debug for LogBook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogBook").field("max_lines", &self.max_lines).field("max_bytes", &self.max_bytes).finish()
    }
}

impl Default for LogBook {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_LINES, DEFAULT_MAX_BYTES)
    }
}

/// Where `"requestId":"<id>"` values are in `line`: at most two, each the id's byte range (ids with escapes are
/// skipped; request ids are UUIDs).
fn request_ids(line: &str) -> [Option<Range<u32>>; 2] {
    let mut found = [None, None];
    let mut from = 0;
    for slot in &mut found {
        let Some(at) = line[from..].find(REQUEST_ID_KEY) else { break };
        let start = from + at + REQUEST_ID_KEY.len();
        let Some(len) = line[start..].find('"') else { break };
        from = start + len;
        let id = &line[start..start + len];
        if !id.is_empty() && !id.contains('\\') {
            *slot = u32::try_from(start).ok().zip(u32::try_from(start + len).ok()).map(|(s, e)| s..e);
        }
    }
    found
}

impl LogBook {
    pub fn new(max_lines: usize, max_bytes: usize) -> Self {
        Self { max_lines: max_lines.max(1), max_bytes: max_bytes.max(1), ring: Mutex::default() }
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, Ring> {
        // A panic while pushing leaves at worst a line short: the ring stays usable.
        self.ring.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps one line (without its newline). Lines that are not JSON objects (a panic message on stdout) are not
    /// kept: the log page shows JSON lines only.
    pub fn push(&self, line: &str) {
        let line = line.trim_end_matches(['\n', '\r']);
        if !line.starts_with('{') || line.len() > self.max_bytes {
            return;
        }
        let ids = request_ids(line);
        let entry = Entry { line: line.into(), ids };
        let mut ring = self.ring();
        ring.bytes += entry.line.len();
        ring.entries.push_back(entry);
        while ring.entries.len() > self.max_lines || ring.bytes > self.max_bytes {
            match ring.entries.pop_front() {
                Some(old) => ring.bytes -= old.line.len(),
                None => break,
            }
        }
    }

    /// The lines carrying request id `id`, oldest first, parsed.
    pub fn lines_for(&self, id: &str) -> Vec<Value> {
        if id.is_empty() {
            return Vec::new();
        }
        let matching: Vec<Box<str>> = {
            let ring = self.ring();
            ring.entries.iter().filter(|e| e.has_request(id)).map(|e| e.line.clone()).collect()
        };
        // Parsed outside the lock, so writers are not held up by the reader.
        matching.iter().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    /// How many lines the ring holds now.
    pub fn len(&self) -> usize {
        self.ring().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The writer a `tracing` JSON subscriber writes through: each line to stdout and to this book.
    pub fn tee(self: &Arc<Self>) -> LogTee {
        LogTee { book: self.clone(), stdout: true }
    }

    /// A writer to this book only, for a program (or a test) that embeds the stack and logs elsewhere.
    pub fn ring_only(self: &Arc<Self>) -> LogTee {
        LogTee { book: self.clone(), stdout: false }
    }
}

/// Installs the JSON logger (as `telemetry::init` does) writing through `book`'s tee: stdout, and the ring. A bad
/// level falls back to the default with a warning naming `source`; a logger already installed stays.
pub fn install(level: Option<&str>, source: &str, book: &Arc<LogBook>) {
    let (filter, bad_level) = telemetry::filter_from(level);
    let installed = tracing::subscriber::set_global_default(telemetry::json_subscriber(filter, book.tee())).is_ok();
    if let (true, Some((value, err))) = (installed, bad_level) {
        tracing::warn!(%value, error = %err, "{source} is not a valid level or filter; logging at {}", telemetry::DEFAULT_LEVEL);
    }
}

/// A `MakeWriter` that writes each log line to stdout and keeps a copy in its [`LogBook`]:
/// `telemetry::json_subscriber(filter, stack.logs().tee())`.
#[derive(Clone, Debug)]
pub struct LogTee {
    book: Arc<LogBook>,
    stdout: bool,
}

/// One event's writer ([`LogTee`] makes one per event; the formatter writes the whole line at once).
pub struct TeeWriter<'a> {
    book: &'a LogBook,
    stdout: bool,
}

impl Write for TeeWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // stdout first: the ring is a convenience, the log is what stdout gets.
        if self.stdout {
            io::stdout().lock().write_all(buf)?;
        }
        match std::str::from_utf8(buf) {
            Ok(text) => text.split('\n').filter(|l| !l.is_empty()).for_each(|l| self.book.push(l)),
            Err(_) => {
                String::from_utf8_lossy(buf).split('\n').filter(|l| !l.is_empty()).for_each(|l| self.book.push(l))
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.stdout { io::stdout().flush() } else { Ok(()) }
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogTee {
    type Writer = TeeWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        TeeWriter { book: &self.book, stdout: self.stdout }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_found_by_the_request_id_of_their_span_or_their_own() {
        let book = LogBook::default();
        book.push(r#"{"message":"handled","span":{"function":"F","requestId":"r-1","name":"invoke"}}"#);
        book.push(r#"{"message":"http request","requestId":"r-2","service":"s3"}"#);
        book.push(r#"{"message":"other","span":{"requestId":"r-10"}}"#);
        book.push("not json: a panic message");
        let lines = book.lines_for("r-1");
        assert_eq!(lines.len(), 1, "r-10 is another request: {lines:?}");
        assert_eq!(lines[0]["message"], "handled");
        assert_eq!(book.lines_for("r-2")[0]["service"], "s3");
        assert!(book.lines_for("").is_empty());
        assert_eq!(book.len(), 3, "only JSON lines are kept");
    }

    #[test]
    fn the_ring_keeps_the_newest_lines_within_its_line_and_byte_bounds() {
        let book = LogBook::new(3, 1024);
        for i in 0..5 {
            book.push(&format!(r#"{{"n":{i},"requestId":"r"}}"#));
        }
        let kept: Vec<_> = book.lines_for("r").iter().map(|l| l["n"].as_u64().unwrap()).collect();
        assert_eq!(kept, [2, 3, 4]);

        let small = LogBook::new(100, 40);
        small.push(r#"{"requestId":"a","pad":"xxxxxxxx"}"#);
        small.push(r#"{"requestId":"b","pad":"yyyyyyyy"}"#);
        assert!(small.lines_for("a").is_empty(), "the older line made room");
        assert_eq!(small.lines_for("b").len(), 1);
    }

    #[test]
    fn the_tee_keeps_what_the_json_logger_writes() {
        let book = Arc::new(LogBook::default());
        let (filter, _) = telemetry::filter_from(Some("info"));
        tracing::subscriber::with_default(telemetry::json_subscriber(filter, book.ring_only()), || {
            let span = tracing::info_span!("invoke", function = "F", requestId = "req-42");
            span.in_scope(|| tracing::info!(task = "t1", "handled"));
            tracing::info!("outside");
        });
        let lines = book.lines_for("req-42");
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0]["task"], "t1");
        assert_eq!(book.len(), 2);
    }
}

//! The local stack's measurements for the cost page: every invocation's EMF line (the one `telemetry::metrics`
//! makes on AWS too), appended by [`metrics_sink`] to `<data-dir>/metrics/emf.jsonl`, and read back by
//! [`measurements`] through `local_console::cost::Aggregate`, with the state transitions of the executions'
//! histories and the requests the emulated services count.
//!
//! Reading stays cheap however long the stack runs: both kinds of file only grow, so what was read is remembered
//! per data directory (the aggregate and the offset of the EMF file; per history file its length and count) and
//! only the bytes appended since are read. The cache is process-wide, keyed by data directory, because the
//! function is called with the stack alone; it holds sums, one `f64` per invocation for the percentiles, and one
//! entry per history file.
//!
//! The EMF file is bounded: past [`MAX_FILE_BYTES`] it is renamed to `emf.1.jsonl` (replacing the one before) and
//! a new one begun, so at most twice that is kept. The measurements then cover what the two files hold.

use crate::Stack;
use local_console::cost::{Aggregate, FunctionInfo};
use local_console::source::Measurements;
use local_lambda::MetricsSink;
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The EMF file's directory under the data directory.
pub const METRICS_DIR: &str = "metrics";
pub const EMF_FILE: &str = "emf.jsonl";
/// The file before the last roll.
pub const ROLLED_FILE: &str = "emf.1.jsonl";
/// Where the EMF file is rolled.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The sink Lambda hands every invocation's EMF line to: appended, one line each, to `<data_dir>/metrics/emf.jsonl`
/// (created private). One writer per stack; a write that fails is logged and the line lost, never the invocation.
pub fn metrics_sink(data_dir: &Path) -> std::io::Result<MetricsSink> {
    let dir = data_dir.join(METRICS_DIR);
    local_core::files::create_private_dir(&dir)?;
    let writer = Mutex::new(EmfWriter::open(dir)?);
    Ok(Arc::new(move |line: &str| {
        let mut writer = writer.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = writer.append(line) {
            tracing::warn!(error = %e, "could not record an invocation's metrics line");
        }
    }))
}

struct EmfWriter {
    dir: PathBuf,
    file: File,
    len: u64,
}

impl EmfWriter {
    fn open(dir: PathBuf) -> std::io::Result<Self> {
        // Private, as everything in the data directory: the lines name functions and carry request ids.
        let file = local_core::files::private_open_options().create(true).append(true).open(dir.join(EMF_FILE))?;
        let len = file.metadata()?.len();
        Ok(Self { dir, file, len })
    }

    fn append(&mut self, line: &str) -> std::io::Result<()> {
        if self.len >= MAX_FILE_BYTES {
            fs::rename(self.dir.join(EMF_FILE), self.dir.join(ROLLED_FILE))?;
            *self = Self::open(std::mem::take(&mut self.dir))?;
        }
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        // One write of the whole line: a reader sees whole lines, or a tail it leaves for the next read.
        self.file.write_all(&bytes)?;
        self.len += bytes.len() as u64;
        Ok(())
    }
}

/// What was read of one data directory.
#[derive(Default)]
struct Cache {
    aggregate: Aggregate,
    /// The EMF file being read: its identity and how far it was read (whole lines only).
    emf: Option<(FileId, u64)>,
    /// Per history file: its length when counted, and its state transitions.
    histories: BTreeMap<PathBuf, (u64, u64)>,
}

static CACHES: Mutex<BTreeMap<PathBuf, Cache>> = Mutex::new(BTreeMap::new());

/// The stack's measurements since its data directory was made (within the two EMF files kept).
pub fn measurements(stack: &Stack) -> Result<Measurements, String> {
    let data_dir = stack.config().data_dir.clone();
    let mut caches = CACHES.lock().unwrap_or_else(|p| p.into_inner());
    let cache = caches.entry(data_dir.clone()).or_default();
    read_emf(&data_dir.join(METRICS_DIR), cache).map_err(|e| format!("reading the metrics lines: {e}"))?;

    let mut m = cache.aggregate.measurements(|name| describe(stack, name));
    for machine in stack.executions().machines() {
        let dir = data_dir.join("executions").join(&*local_sfn::executions::dir_name(&machine.name));
        let (transitions, executions) =
            count_transitions(&dir, &mut cache.histories).map_err(|e| format!("reading {}: {e}", dir.display()))?;
        m.state_transitions.push((machine.name.clone(), transitions, executions));
    }
    drop(caches);

    let outbox = stack.ses().outbox().dir();
    let mails = fs::read_dir(outbox)
        .map(|entries| entries.flatten().filter(|e| e.path().extension().is_some_and(|x| x == "eml")).count())
        .unwrap_or(0);
    m.requests.push(("sesv2:SendEmail".to_owned(), mails as u64));
    m.requests.push(("events:PutEvents".to_owned(), stack.events().counters().events_put));
    Ok(m)
}

fn describe(stack: &Stack, name: &str) -> FunctionInfo {
    let memory_mb = stack.lambda().function(name).map_or(0, |f| f.decl.memory_mb.min(u64::from(u32::MAX)) as u32);
    let template = stack.template();
    let own = template.resource(name).map(|r| r.properties["Architectures"][0].clone());
    let architecture = own
        .filter(|a| a.is_string())
        .unwrap_or_else(|| template.globals("Function")["Architectures"][0].clone())
        .as_str()
        // Lambda's default when the template names none.
        .unwrap_or("x86_64")
        .to_owned();
    FunctionInfo { logical_id: name.to_owned(), architecture, memory_mb }
}

/// A file's identity across renames: its inode where there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId(u64);

fn file_id(meta: &fs::Metadata) -> FileId {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        FileId(meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        FileId(0)
    }
}

/// Reads the EMF lines appended since the last read. A roll since then is seen by the file's identity: the rest
/// of the rolled file is read first. A file not seen before (a stack started on a new process reads from 0).
fn read_emf(dir: &Path, cache: &mut Cache) -> std::io::Result<()> {
    let current = dir.join(EMF_FILE);
    let rolled = dir.join(ROLLED_FILE);
    let current_id = fs::metadata(&current).ok().map(|m| file_id(&m));
    let rolled_id = fs::metadata(&rolled).ok().map(|m| file_id(&m));
    match cache.emf {
        Some((id, offset)) if Some(id) == current_id => {
            let offset = read_lines_from(&current, offset, &mut cache.aggregate)?;
            cache.emf = Some((id, offset));
        }
        Some((id, offset)) if Some(id) == rolled_id => {
            read_lines_from(&rolled, offset, &mut cache.aggregate)?;
            cache.emf = None;
            if let Some(id) = current_id {
                cache.emf = Some((id, read_lines_from(&current, 0, &mut cache.aggregate)?));
            }
        }
        _ => {
            // First read, or more than one roll since: what the two files hold, from the start.
            cache.aggregate = Aggregate::default();
            cache.emf = None;
            if rolled_id.is_some() {
                read_lines_from(&rolled, 0, &mut cache.aggregate)?;
            }
            if let Some(id) = current_id {
                cache.emf = Some((id, read_lines_from(&current, 0, &mut cache.aggregate)?));
            }
        }
    }
    Ok(())
}

/// Adds the whole lines of `path` after `offset`; the offset after the last whole line.
fn read_lines_from(path: &Path, offset: u64, aggregate: &mut Aggregate) -> std::io::Result<u64> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(offset),
        Err(e) => return Err(e),
    };
    let len = file.metadata()?.len();
    if len <= offset {
        return Ok(offset.min(len));
    }
    file.seek(SeekFrom::Start(offset))?;
    let mut bytes = Vec::with_capacity((len - offset) as usize);
    file.take(len - offset).read_to_end(&mut bytes)?;
    // A line still being written is left for the next read.
    let whole = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    for line in bytes[..whole].split(|b| *b == b'\n') {
        if let Ok(line) = std::str::from_utf8(line)
            && !line.trim().is_empty()
        {
            aggregate.add_line(line);
        }
    }
    Ok(offset + whole as u64)
}

/// Step Functions bills a state transition each time a state is entered: counts the `…StateEntered` events of
/// every execution of the machine stored in `dir`, and the executions. A history only grows, so a file of the
/// length it had is not read again, and a longer one is read from where it was counted.
fn count_transitions(dir: &Path, known: &mut BTreeMap<PathBuf, (u64, u64)>) -> std::io::Result<(u64, u64)> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
        Err(e) => return Err(e),
    };
    let (mut transitions, mut executions) = (0, 0);
    for entry in entries.flatten() {
        let path = entry.path().join("history.jsonl");
        let Ok(meta) = fs::metadata(&path) else { continue };
        executions += 1;
        let len = meta.len();
        let (counted_len, counted) = known.get(&path).copied().unwrap_or((0, 0));
        let (counted_len, counted) = if len < counted_len { (0, 0) } else { (counted_len, counted) };
        let total = if len == counted_len {
            counted
        } else {
            let mut file = File::open(&path)?;
            file.seek(SeekFrom::Start(counted_len))?;
            let mut bytes = Vec::with_capacity((len - counted_len) as usize);
            file.take(len - counted_len).read_to_end(&mut bytes)?;
            let whole = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            let added = bytes[..whole].split(|b| *b == b'\n').filter(|l| is_state_entered(l)).count() as u64;
            known.insert(path, (counted_len + whole as u64, counted + added));
            counted + added
        };
        transitions += total;
    }
    Ok((transitions, executions))
}

/// Whether a history line is a `…StateEntered` event: its `"type"` member, which comes before the details (whose
/// strings may quote anything).
fn is_state_entered(line: &[u8]) -> bool {
    let Ok(line) = std::str::from_utf8(line) else { return false };
    let Some(start) = line.find("\"type\":\"") else { return false };
    let rest = &line[start + 8..];
    rest.find('"').is_some_and(|end| rest[..end].ends_with("StateEntered"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn line(function: &str, cold: bool, ms: u64) -> String {
        let invocation = telemetry::metrics::Invocation::new(function, 1024, cold);
        invocation.emf_line(Duration::from_millis(ms), None)
    }

    #[test]
    fn a_history_line_is_a_transition_by_its_type_not_by_its_input() {
        assert!(is_state_entered(br#"{"timestamp":"2025-01-01T00:00:00Z","type":"TaskStateEntered","id":2}"#));
        assert!(is_state_entered(br#"{"timestamp":"2025-01-01T00:00:00Z","type":"ChoiceStateEntered","id":2}"#));
        let quoting =
            br#"{"timestamp":"2025-01-01T00:00:00Z","type":"TaskStateExited","d":"\"type\":\"XStateEntered\""}"#;
        assert!(!is_state_entered(quoting));
    }

    #[test]
    fn only_appended_lines_are_read_again_and_a_roll_loses_none() {
        let dir = tempfile::tempdir().unwrap();
        let metrics = dir.path().join(METRICS_DIR);
        let sink = metrics_sink(dir.path()).unwrap();
        let mut cache = Cache::default();
        sink(&line("F", true, 3));
        sink(&line("F", false, 4));
        read_emf(&metrics, &mut cache).unwrap();
        assert_eq!(cache.aggregate.lines(), 2);
        // A torn line is left for later.
        fs::OpenOptions::new().append(true).open(metrics.join(EMF_FILE)).unwrap().write_all(b"{\"_aws\"").unwrap();
        read_emf(&metrics, &mut cache).unwrap();
        assert_eq!(cache.aggregate.lines(), 2);
        // A roll: the writer renames the file and begins a new one.
        let mut writer = EmfWriter::open(metrics.clone()).unwrap();
        writer.append("").unwrap(); // ends the torn line: not EMF, skipped
        writer.append(&line("F", false, 5)).unwrap();
        writer.len = MAX_FILE_BYTES;
        writer.append(&line("G", true, 6)).unwrap();
        read_emf(&metrics, &mut cache).unwrap();
        assert_eq!(cache.aggregate.lines(), 4);
        let m = cache.aggregate.measurements(|n| FunctionInfo { logical_id: n.into(), ..Default::default() });
        assert_eq!(
            m.functions.iter().map(|f| (f.function.as_str(), f.invocations)).collect::<Vec<_>>(),
            [("F", 3), ("G", 1)]
        );
    }

    /// Reading 100,000 lines from scratch, then again with nothing new: the figure the report states.
    #[test]
    fn a_hundred_thousand_lines_are_aggregated_quickly_and_read_once() {
        let dir = tempfile::tempdir().unwrap();
        let metrics = dir.path().join(METRICS_DIR);
        let sink = metrics_sink(dir.path()).unwrap();
        let functions = ["ParseInvoiceFunction", "ResizePhotoFunction", "CreateTaskFunction"];
        for i in 0..100_000u64 {
            sink(&line(functions[(i % 3) as usize], i < 3, i % 50));
        }
        let mut cache = Cache::default();
        let started = Instant::now();
        read_emf(&metrics, &mut cache).unwrap();
        let m = cache.aggregate.measurements(|n| FunctionInfo { logical_id: n.into(), ..Default::default() });
        let first = started.elapsed();
        let started = Instant::now();
        read_emf(&metrics, &mut cache).unwrap();
        let again = started.elapsed();
        eprintln!("100,000 EMF lines: {first:?} from scratch, {again:?} with nothing new");
        assert_eq!(m.functions.iter().map(|f| f.invocations).sum::<u64>(), 100_000);
        assert_eq!(m.functions.iter().map(|f| f.cold_starts).sum::<u64>(), 3);
        assert!(again < Duration::from_millis(50), "{again:?}");
        // Unoptimised (the test profile), with headroom for a busy machine.
        assert!(first < Duration::from_secs(20), "{first:?}");
    }

    #[test]
    fn transitions_are_counted_once_per_history_and_then_only_what_was_appended() {
        let dir = tempfile::tempdir().unwrap();
        let entered = r#"{"timestamp":"2025-01-01T00:00:00Z","type":"TaskStateEntered","id":2}"#;
        let exited = r#"{"timestamp":"2025-01-01T00:00:00Z","type":"TaskStateExited","id":3}"#;
        for e in 0..3 {
            let d = dir.path().join(format!("run-{e}"));
            fs::create_dir_all(&d).unwrap();
            fs::write(d.join("history.jsonl"), format!("{entered}\n{exited}\n{entered}\n")).unwrap();
        }
        let mut known = BTreeMap::new();
        assert_eq!(count_transitions(dir.path(), &mut known).unwrap(), (6, 3));
        let mut f = fs::OpenOptions::new().append(true).open(dir.path().join("run-0/history.jsonl")).unwrap();
        f.write_all(format!("{entered}\n").as_bytes()).unwrap();
        assert_eq!(count_transitions(dir.path(), &mut known).unwrap(), (7, 3));
        assert_eq!(count_transitions(&dir.path().join("none"), &mut known).unwrap(), (0, 0));
    }
}

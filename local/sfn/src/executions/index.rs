//! The in-memory index of executions: one [`ExecutionSummary`] per execution, newest first, so ListExecutions and
//! the console's lists answer without reading a file per execution (reading and parsing 10,000 `record.json` files
//! took seconds; scanning 10,000 summaries takes well under a millisecond).
//!
//! It is built by one scan of the data directory, the first time it is needed (at start-up, by
//! [`super::Executions::recover`]), and kept up to date by every record this process writes (start, close,
//! resumption, redrive). Only the fields lists show are kept: never inputs or outputs, so 10,000 executions take a
//! few megabytes.
//!
//! Another process over the same data directory may write records this index never sees. Such an execution is
//! added the first time DescribeExecution reads its record (only when the index does not know it yet: a describe
//! that read a record just before this process rewrote it must not put an older status back). Changes that other
//! process makes later to an execution already indexed are not seen until the next start; two stacks over one data
//! directory are an edge case (the execution locks keep them safe, not in step).
//!
//! Hand-written over a `BTreeMap` rather than an embedded database: the lists need one order (start date,
//! descending) and a linear filter over at most tens of thousands of entries, which a sorted map does in
//! microseconds, and the records on disk stay the one source of truth.

use super::{ExecutionRecord, ExecutionStatus, is_missing, read_record};
use serde::Serialize;
use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
};
use time::OffsetDateTime;

/// An execution as lists show it: what ListExecutions returns per execution, plus why a closed one failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionSummary {
    pub execution_arn: String,
    pub state_machine_arn: String,
    pub name: String,
    pub status: ExecutionStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub start_date: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub stop_date: Option<OffsetDateTime>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub redrive_count: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub redrive_date: Option<OffsetDateTime>,
}

impl ExecutionSummary {
    /// The state machine's name, from its ARN (`arn:aws:states:…:stateMachine:NAME`).
    pub fn machine_name(&self) -> &str {
        self.state_machine_arn.rsplit(':').next().unwrap_or_default()
    }
}

impl From<&ExecutionRecord> for ExecutionSummary {
    fn from(r: &ExecutionRecord) -> Self {
        Self {
            execution_arn: r.execution_arn.clone(),
            state_machine_arn: r.state_machine_arn.clone(),
            name: r.name.clone(),
            status: r.status,
            start_date: r.start_date,
            stop_date: r.stop_date,
            error: r.error.clone(),
            cause: r.cause.clone(),
            redrive_count: r.redrive_count,
            redrive_date: r.redrive_date,
        }
    }
}

/// Where an execution sorts: by start date, then name, then machine (unique: a machine's names are).
pub(super) type Key = (i128, String, String);

pub(super) fn key_of(start_date: OffsetDateTime, name: &str, machine_arn: &str) -> Key {
    (start_date.unix_timestamp_nanos(), name.to_owned(), machine_arn.to_owned())
}

pub(super) struct Entry {
    pub summary: ExecutionSummary,
    /// The execution's directory (whatever name an earlier version gave it).
    pub dir: PathBuf,
    /// The name in lower case, for case-insensitive search.
    name_lower: String,
}

#[derive(Default)]
pub(super) struct Index {
    entries: BTreeMap<Key, Entry>,
}

impl Index {
    /// Every execution under `root` (`<root>/<machine>/<name>/record.json`). A directory without a record is an
    /// execution still being created (or whose creator died first): left out. An unreadable record is logged and
    /// left out, as ListExecutions always did.
    pub fn scan(root: &Path) -> Self {
        let mut index = Self::default();
        let machines = match fs::read_dir(root) {
            Ok(m) => m,
            Err(e) => {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::error!(path = %root.display(), error = %e, "cannot list executions");
                }
                return index;
            }
        };
        for machine_dir in machines.flatten() {
            for exec_dir in fs::read_dir(machine_dir.path()).into_iter().flatten().flatten() {
                let dir = exec_dir.path();
                match read_record(&dir) {
                    Ok(record) => index.upsert(dir, &record),
                    Err(e) if is_missing(&e) => {}
                    Err(e) => tracing::warn!(error = %e, "an unreadable execution record is left out of the index"),
                }
            }
        }
        index
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Puts `record` in, replacing what the index had for it.
    pub fn upsert(&mut self, dir: PathBuf, record: &ExecutionRecord) {
        let key = key_of(record.start_date, &record.name, &record.state_machine_arn);
        let entry = Entry { summary: record.into(), dir, name_lower: record.name.to_lowercase() };
        self.entries.insert(key, entry);
    }

    /// Puts `record` in unless the index has it already (see the module docs).
    pub fn insert_if_absent(&mut self, dir: PathBuf, record: &ExecutionRecord) {
        let key = key_of(record.start_date, &record.name, &record.state_machine_arn);
        if !self.entries.contains_key(&key) {
            self.upsert(dir, record);
        }
    }

    /// Every entry, newest first.
    pub fn newest_first(&self) -> impl Iterator<Item = (&Key, &Entry)> {
        self.entries.iter().rev()
    }

    /// Entries older than `after` (all of them without one), newest first.
    pub fn older_than(&self, after: Option<&Key>) -> Box<dyn Iterator<Item = (&Key, &Entry)> + '_> {
        match after {
            Some(after) => Box::new(self.entries.range(..after.clone()).rev()),
            None => Box::new(self.newest_first()),
        }
    }
}

impl Entry {
    /// Whether this entry's name contains `needle`, already in lower case.
    pub fn name_contains(&self, needle: &str) -> bool {
        self.name_lower.contains(needle)
    }
}

//! Event source mappings on DynamoDB streams (SAM `Events: {Type: DynamoDB}`), run as Lambda runs them: the
//! stream's records in order, in batches, each batch a synchronous invocation; a failed batch retried (split in two
//! first when `BisectBatchOnFunctionError`), or retried from the first record the function reports failed
//! (`ReportBatchItemFailures`); once the retries or the record age run out, the batch's description (Lambda's
//! invocation record with `DDBStreamBatchInfo`) goes to the `OnFailure` destination and the mapping moves on.
//!
//! Where a mapping is in its stream is a checkpoint file per mapping (`<data>/lambda/streams/<function>.<event>.json`,
//! replaced atomically), written after every batch that is done with (delivered, or discarded). A restart resumes
//! from it, so a record is delivered at least once and, outside a batch that was running when the stack stopped,
//! exactly once. A checkpoint names its stream ARN: one left by another stream (a store started afresh gets a new
//! stream label) is ignored, and the mapping starts at its `StartingPosition`.
//!
//! A mapping waits on the stream ([`StreamSource::wait_after`]), which the store wakes on every commit, so a record
//! is delivered as soon as it is written, not on a poll interval.
//!
//! Locally a stream has one shard, so `ParallelizationFactor` is accepted (1 to 10) and batches still run one at a
//! time: the order Lambda keeps per item (and more). `FilterCriteria` is supported with EventBridge patterns
//! matched against each record as the function would receive it; a record no filter matches is skipped, as on
//! Lambda. `TumblingWindowInSeconds` and `StartingPositionTimestamp` are refused as unsupported.
//!
//! Without `MaximumRecordAgeInSeconds` a failing record is retried until it is older than DynamoDB's 24-hour
//! retention, as on AWS, where it would have left the stream by then.

use crate::{Destination, FunctionDecl, FunctionError, FunctionInvoker};
use local_core::{
    Identity, files,
    invoke::{MessageSender, StreamRecord, StreamSource},
};
use local_template::{Template, TemplateError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::{
    collections::{BTreeMap, VecDeque},
    io,
    path::{Path, PathBuf},
    sync::{Arc, Weak},
    time::{Duration, SystemTime},
};
use time::OffsetDateTime;
use tokio::{sync::watch, task::JoinHandle, time::Instant};

/// The event source type this module reads.
pub const EVENT_TYPE: &str = "DynamoDB";

/// How long DynamoDB Streams keeps a record: the record age a mapping without `MaximumRecordAgeInSeconds` gives
/// up at.
pub const STREAM_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

/// The one shard of a local stream, as on-failure records name it.
pub const SHARD_ID: &str = "shardId-00000000000000000001-00000001";

/// Retries wait the retry delay, then twice it, and so on, doubling at most this many times.
const MAX_BACKOFF_DOUBLINGS: u32 = 6;

/// Where a new mapping starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartingPosition {
    /// The oldest record the stream still holds.
    TrimHorizon,
    /// After the newest record when the mapping is created.
    Latest,
}

/// A mapping as the template declares it, checked against Lambda's limits.
#[derive(Debug, Clone)]
pub struct MappingDecl {
    pub function: String,
    /// The event's name under the function's `Events`.
    pub event: String,
    /// `Stream`, resolved: the stream's ARN.
    pub stream: String,
    pub starting_position: StartingPosition,
    /// `BatchSize`: 1 to 10,000 records, 100 by default.
    pub batch_size: usize,
    /// `MaximumBatchingWindowInSeconds`: 0 to 300, 0 by default (invoke as soon as there is a record).
    pub batching_window: Duration,
    /// `MaximumRetryAttempts`: 0 to 10,000; `None` (-1, the default) retries until the record is too old.
    pub maximum_retry_attempts: Option<u32>,
    /// `MaximumRecordAgeInSeconds`: 60 to 604,800; `None` (-1, the default) until the stream's retention.
    pub maximum_record_age: Option<Duration>,
    /// `BisectBatchOnFunctionError`.
    pub bisect_on_error: bool,
    /// `FunctionResponseTypes: [ReportBatchItemFailures]`.
    pub report_batch_item_failures: bool,
    /// `DestinationConfig.OnFailure.Destination`.
    pub on_failure: Option<Destination>,
    /// `ParallelizationFactor`: 1 to 10 (accepted; locally batches run one at a time).
    pub parallelization_factor: u32,
    /// `Enabled`: a disabled mapping is checked but does not run.
    pub enabled: bool,
    /// `FilterCriteria.Filters[].Pattern`: a record is delivered when any matches (all are when there are none).
    pub filters: Vec<event_pattern::Pattern>,
}

/// Why the template's stream mappings cannot run; start-up fails with it.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("function {function}, event {event}: {property}: {problem}")]
    Invalid { function: String, event: String, property: String, problem: String },
    #[error("function {function}, event {event}: {property} is not supported by the local stack")]
    Unsupported { function: String, event: String, property: String },
    #[error("function {function}, event {event}: Stream `{arn}` is not a stream of the local stack (streams: {known})")]
    UnknownStream { function: String, event: String, arn: String, known: String },
    #[error("function {function}, event {event}: {source}")]
    Template {
        function: String,
        event: String,
        #[source]
        source: TemplateError,
    },
    #[error("function {function}, event {event}: the stream cannot be read")]
    Stream {
        function: String,
        event: String,
        #[source]
        source: local_core::invoke::StreamError,
    },
    #[error("stream mapping checkpoint {}: {source}", path.display())]
    Checkpoint {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl MappingDecl {
    /// Every `DynamoDB` event of `functions`, resolved with `template` (whose tables' stream labels must be set:
    /// see `Template::set_stream_label`).
    pub fn read_all(template: &Template, functions: &[FunctionDecl]) -> Result<Vec<Self>, MappingError> {
        let mut out = Vec::new();
        for f in functions {
            for (event, properties) in f.events_of(EVENT_TYPE) {
                out.push(Self::read(template, &f.logical_id, event, properties)?);
            }
        }
        Ok(out)
    }

    /// One mapping: `properties` is the event's `Properties`.
    pub fn read(template: &Template, function: &str, event: &str, properties: &Value) -> Result<Self, MappingError> {
        let p = Props { template, function, event, properties };
        const KNOWN: &[&str] = &[
            "Stream",
            "StartingPosition",
            "BatchSize",
            "MaximumBatchingWindowInSeconds",
            "MaximumRetryAttempts",
            "MaximumRecordAgeInSeconds",
            "BisectBatchOnFunctionError",
            "FunctionResponseTypes",
            "DestinationConfig",
            "ParallelizationFactor",
            "Enabled",
            "FilterCriteria",
            // Accepted and without effect locally: nothing is encrypted and no metrics are kept.
            "KmsKeyArn",
            "MetricsConfig",
        ];
        if let Some(props) = properties.as_object() {
            for name in props.keys() {
                if !KNOWN.contains(&name.as_str()) {
                    return Err(match name.as_str() {
                        "TumblingWindowInSeconds" | "StartingPositionTimestamp" => p.unsupported(name),
                        _ => p.invalid(name, "not a property of a DynamoDB event"),
                    });
                }
            }
        } else if !properties.is_null() {
            return Err(p.invalid("Properties", "must be a mapping"));
        }
        let stream = match &properties["Stream"] {
            Value::Null => return Err(p.invalid("Stream", "is required (the table's StreamArn)")),
            v => p.string(v, "Stream")?,
        };
        let starting_position = match p.optional_string("StartingPosition")?.as_deref() {
            Some("TRIM_HORIZON") => StartingPosition::TrimHorizon,
            Some("LATEST") => StartingPosition::Latest,
            Some("AT_TIMESTAMP") => return Err(p.invalid("StartingPosition", "AT_TIMESTAMP is for Kinesis only")),
            Some(other) => {
                return Err(p.invalid("StartingPosition", format!("`{other}` is not TRIM_HORIZON or LATEST")));
            }
            None => return Err(p.invalid("StartingPosition", "is required (TRIM_HORIZON or LATEST)")),
        };
        let batch_size = p.integer_in("BatchSize", 1, 10_000)?.unwrap_or(100);
        let batching_window = p.integer_in("MaximumBatchingWindowInSeconds", 0, 300)?.unwrap_or(0);
        let maximum_retry_attempts = match p.integer("MaximumRetryAttempts")? {
            None | Some(-1) => None,
            Some(n @ 0..=10_000) => Some(n as u32),
            Some(n) => return Err(p.invalid("MaximumRetryAttempts", format!("{n} is not -1 (infinite) or 0 to 10000"))),
        };
        let maximum_record_age = match p.integer("MaximumRecordAgeInSeconds")? {
            None | Some(-1) => None,
            Some(n @ 60..=604_800) => Some(Duration::from_secs(n as u64)),
            Some(n) => {
                return Err(p.invalid("MaximumRecordAgeInSeconds", format!("{n} is not -1 (infinite) or 60 to 604800")));
            }
        };
        let mut report_batch_item_failures = false;
        match &properties["FunctionResponseTypes"] {
            Value::Null => {}
            Value::Array(types) => {
                for (i, t) in types.iter().enumerate() {
                    match p.string(t, &format!("FunctionResponseTypes[{i}]"))?.as_str() {
                        "ReportBatchItemFailures" => report_batch_item_failures = true,
                        other => {
                            return Err(p.invalid(
                                "FunctionResponseTypes",
                                format!("`{other}` is not ReportBatchItemFailures"),
                            ));
                        }
                    }
                }
            }
            _ => return Err(p.invalid("FunctionResponseTypes", "must be a list")),
        }
        let on_failure = match &properties["DestinationConfig"]["OnFailure"] {
            Value::Null => None,
            on_failure => {
                let at = "DestinationConfig.OnFailure.Destination";
                let arn = match &on_failure["Destination"] {
                    Value::Null => return Err(p.invalid(at, "is required")),
                    v => p.string(v, at)?,
                };
                match arn.parse::<local_core::Arn>().map(|a| a.service) {
                    Ok(service) if service == "sqs" => Some(Destination::Sqs(arn)),
                    Ok(service) if service == "sns" => return Err(p.unsupported(&format!("{at} (an SNS topic)"))),
                    _ => return Err(p.invalid(at, format!("`{arn}` is not an SQS queue ARN"))),
                }
            }
        };
        let parallelization_factor = p.integer_in("ParallelizationFactor", 1, 10)?.unwrap_or(1) as u32;
        let filters = match &properties["FilterCriteria"] {
            Value::Null => Vec::new(),
            criteria => {
                let filters = match &criteria["Filters"] {
                    Value::Array(filters) => filters,
                    _ => return Err(p.invalid("FilterCriteria.Filters", "must be a list")),
                };
                if filters.len() > 5 {
                    return Err(p.invalid("FilterCriteria.Filters", format!("{} filters; at most 5", filters.len())));
                }
                let mut patterns = Vec::new();
                for (i, f) in filters.iter().enumerate() {
                    let at = format!("FilterCriteria.Filters[{i}].Pattern");
                    let text = p.string(&f["Pattern"], &at)?;
                    patterns.push(event_pattern::Pattern::parse(&text).map_err(|e| p.invalid(&at, e.to_string()))?);
                }
                patterns
            }
        };
        Ok(Self {
            function: function.to_owned(),
            event: event.to_owned(),
            stream,
            starting_position,
            batch_size: batch_size as usize,
            batching_window: Duration::from_secs(batching_window as u64),
            maximum_retry_attempts,
            maximum_record_age,
            bisect_on_error: p.boolean("BisectBatchOnFunctionError")?.unwrap_or(false),
            report_batch_item_failures,
            on_failure,
            parallelization_factor,
            enabled: p.boolean("Enabled")?.unwrap_or(true),
            filters,
        })
    }

    /// The record age at which a failing record is given up.
    fn record_age_limit(&self) -> Duration {
        self.maximum_record_age.unwrap_or(STREAM_RETENTION)
    }
}

/// Reads one event's properties, naming the function, event and property in every error.
struct Props<'a> {
    template: &'a Template,
    function: &'a str,
    event: &'a str,
    properties: &'a Value,
}

impl Props<'_> {
    fn invalid(&self, property: &str, problem: impl Into<String>) -> MappingError {
        MappingError::Invalid {
            function: self.function.to_owned(),
            event: self.event.to_owned(),
            property: property.to_owned(),
            problem: problem.into(),
        }
    }

    fn unsupported(&self, property: &str) -> MappingError {
        MappingError::Unsupported {
            function: self.function.to_owned(),
            event: self.event.to_owned(),
            property: property.to_owned(),
        }
    }

    fn template_error(&self, source: TemplateError) -> MappingError {
        MappingError::Template { function: self.function.to_owned(), event: self.event.to_owned(), source }
    }

    fn at(&self, property: &str) -> String {
        format!("{}.Events.{}.Properties.{property}", self.function, self.event)
    }

    fn string(&self, v: &Value, property: &str) -> Result<String, MappingError> {
        self.template.string(v, &self.at(property)).map_err(|e| self.template_error(e))
    }

    fn optional_string(&self, property: &str) -> Result<Option<String>, MappingError> {
        self.template
            .optional_string(&self.properties[property], &self.at(property))
            .map_err(|e| self.template_error(e))
    }

    fn integer(&self, property: &str) -> Result<Option<i64>, MappingError> {
        self.template.integer(&self.properties[property], &self.at(property)).map_err(|e| self.template_error(e))
    }

    fn integer_in(&self, property: &str, min: i64, max: i64) -> Result<Option<i64>, MappingError> {
        match self.integer(property)? {
            Some(n) if !(min..=max).contains(&n) => {
                Err(self.invalid(property, format!("{n} is not between {min} and {max}")))
            }
            n => Ok(n),
        }
    }

    fn boolean(&self, property: &str) -> Result<Option<bool>, MappingError> {
        match &self.properties[property] {
            Value::Null => Ok(None),
            Value::Bool(b) => Ok(Some(*b)),
            v => match self.string(v, property)?.to_ascii_lowercase().as_str() {
                "true" => Ok(Some(true)),
                "false" => Ok(Some(false)),
                other => Err(self.invalid(property, format!("`{other}` is not true or false"))),
            },
        }
    }
}

/// What the composition root hands [`StreamMappings::open`].
pub struct StreamMappingsConfig<'a> {
    /// The stack's data directory; checkpoints go under `lambda/streams/`.
    pub data_dir: &'a Path,
    /// Resolves each mapping's `Stream` (so the tables' stream labels must be set on it) and gives the identity
    /// function ARNs are made with.
    pub template: &'a Template,
    pub functions: &'a [FunctionDecl],
    /// The stack's streams; each mapping's `Stream` must be the ARN of one.
    pub sources: Vec<Arc<dyn StreamSource>>,
    /// Weak: the functions' handlers may hold what holds the mappings.
    pub invoker: Weak<dyn FunctionInvoker>,
    /// Where on-failure records go.
    pub sender: Arc<dyn MessageSender>,
    /// The wait before the first retry of a failed batch; later retries double it (up to 64 times).
    pub retry_delay: Duration,
}

/// The template's stream mappings, checked and positioned; [`Self::start`] runs them.
pub struct StreamMappings {
    mappings: Vec<Arc<Mapping>>,
}

/// Where a mapping is, for tests and the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingPosition {
    pub function: String,
    pub event: String,
    pub stream: String,
    pub enabled: bool,
    /// The last sequence number done with (delivered, filtered out or discarded); `None` before the first.
    pub checkpoint: Option<u64>,
    /// Records delivered to the function successfully.
    pub delivered: u64,
    /// Records given up on (retries or age exhausted) and described to the on-failure destination, if any.
    pub discarded: u64,
    /// Invocations that failed (function errors and reported item failures).
    pub failed_invocations: u64,
}

/// Stops the mappings' tasks when dropped. A batch cut off mid-invocation is delivered again by the next start.
pub struct StreamMappingsGuard {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for StreamMappingsGuard {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// A checkpoint as stored.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Checkpoint {
    stream_arn: String,
    sequence: Option<u64>,
}

struct Mapping {
    decl: MappingDecl,
    source: Arc<dyn StreamSource>,
    path: PathBuf,
    function_arn: String,
    invoker: Weak<dyn FunctionInvoker>,
    sender: Arc<dyn MessageSender>,
    retry_delay: Duration,
    position: watch::Sender<MappingPosition>,
}

impl StreamMappings {
    /// Reads and checks every `DynamoDB` event of `config.functions`, matches each to its stream and finds where it
    /// stands: its checkpoint, or, the first time (or after its stream was created afresh), its
    /// `StartingPosition`, written down at once so that `LATEST` means the newest record now, not at the next start.
    pub fn open(config: StreamMappingsConfig<'_>) -> Result<Self, MappingError> {
        let decls = MappingDecl::read_all(config.template, config.functions)?;
        let dir = config.data_dir.join("lambda").join("streams");
        if !decls.is_empty() {
            files::create_private_dir(&dir).map_err(|source| MappingError::Checkpoint { path: dir.clone(), source })?;
        }
        let identity: &Identity = config.template.identity();
        let mut mappings = Vec::new();
        for decl in decls {
            let source = config.sources.iter().find(|s| s.arn() == decl.stream).cloned().ok_or_else(|| {
                MappingError::UnknownStream {
                    function: decl.function.clone(),
                    event: decl.event.clone(),
                    arn: decl.stream.clone(),
                    known: match config.sources.iter().map(|s| s.arn()).collect::<Vec<_>>().join(", ") {
                        known if known.is_empty() => "none".to_owned(),
                        known => known,
                    },
                }
            })?;
            let path = dir.join(format!("{}.{}.json", file_safe(&decl.function), file_safe(&decl.event)));
            let checkpoint_error = |source| MappingError::Checkpoint { path: path.clone(), source };
            let stored = match std::fs::read(&path) {
                Ok(bytes) => serde_json::from_slice::<Checkpoint>(&bytes)
                    .map_err(|e| checkpoint_error(io::Error::new(io::ErrorKind::InvalidData, e)))
                    .map(Some)?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => None,
                Err(e) => return Err(checkpoint_error(e)),
            };
            let checkpoint = match stored {
                Some(c) if c.stream_arn == decl.stream => c.sequence,
                _ if !decl.enabled => None,
                stale => {
                    if stale.is_some() {
                        tracing::info!(function = %decl.function, event = %decl.event, stream = %decl.stream,
                            "the checkpoint is for an earlier stream of the table; starting at StartingPosition");
                    }
                    let start = match decl.starting_position {
                        StartingPosition::TrimHorizon => None,
                        StartingPosition::Latest => source.latest().map_err(|source| MappingError::Stream {
                            function: decl.function.clone(),
                            event: decl.event.clone(),
                            source,
                        })?,
                    };
                    write_checkpoint(&path, &decl.stream, start).map_err(checkpoint_error)?;
                    start
                }
            };
            let position = MappingPosition {
                function: decl.function.clone(),
                event: decl.event.clone(),
                stream: decl.stream.clone(),
                enabled: decl.enabled,
                checkpoint,
                delivered: 0,
                discarded: 0,
                failed_invocations: 0,
            };
            mappings.push(Arc::new(Mapping {
                function_arn: identity.function_arn(&decl.function).to_string(),
                decl,
                source,
                path,
                invoker: config.invoker.clone(),
                sender: config.sender.clone(),
                retry_delay: config.retry_delay,
                position: watch::Sender::new(position),
            }));
        }
        Ok(Self { mappings })
    }

    /// Runs every enabled mapping in its own task on the current tokio runtime, until the guard is dropped.
    pub fn start(&self) -> StreamMappingsGuard {
        let tasks = self.mappings.iter().filter(|m| m.decl.enabled).map(|m| tokio::spawn(m.clone().run())).collect();
        StreamMappingsGuard { tasks }
    }

    /// The mappings as declared.
    pub fn decls(&self) -> impl Iterator<Item = &MappingDecl> {
        self.mappings.iter().map(|m| &m.decl)
    }

    /// Where each mapping is.
    pub fn positions(&self) -> Vec<MappingPosition> {
        self.mappings.iter().map(|m| m.position.borrow().clone()).collect()
    }

    /// Changes of one mapping's position, to wait on (tests, the console).
    pub fn watch(&self, function: &str, event: &str) -> Option<watch::Receiver<MappingPosition>> {
        self.mappings
            .iter()
            .find(|m| m.decl.function == function && m.decl.event == event)
            .map(|m| m.position.subscribe())
    }
}

/// A logical id as a file name part (they are alphanumeric; anything else is replaced all the same).
fn file_safe(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

fn write_checkpoint(path: &Path, stream: &str, sequence: Option<u64>) -> io::Result<()> {
    let bytes =
        serde_json::to_vec(&Checkpoint { stream_arn: stream.to_owned(), sequence }).map_err(io::Error::other)?;
    files::write_atomic(path, &bytes)
}

/// A run of consecutive records being delivered, with what it has been through.
struct Part {
    records: Vec<StreamRecord>,
    /// Retries made (bisecting is not one, as on Lambda).
    retries: u32,
    /// Invocations that carried these records.
    invocations: u32,
    /// The last error, for the on-failure record.
    last_error: Option<FunctionError>,
}

/// What an invocation of a batch came to.
enum Outcome {
    Delivered,
    /// The function reported item failures; records from this index on are to be retried.
    FailedFrom(usize),
    Failed(FunctionError),
}

impl Mapping {
    async fn run(self: Arc<Self>) {
        loop {
            if self.invoker.strong_count() == 0 {
                return; // the stack stopped
            }
            let after = self.position.borrow().checkpoint;
            let mut records = match self.source.read(after, self.decl.batch_size).await {
                Ok(records) => records,
                Err(e) => {
                    tracing::error!(function = %self.decl.function, event = %self.decl.event, error = %e,
                        "a stream mapping could not read its stream; trying again");
                    tokio::time::sleep(self.retry_delay.max(Duration::from_millis(100))).await;
                    continue;
                }
            };
            if records.is_empty() {
                self.source.wait_after(after).await;
                continue;
            }
            if !self.decl.batching_window.is_zero() && records.len() < self.decl.batch_size {
                self.fill(&mut records).await;
            }
            if let (Some(first), Some(after)) = (records.first(), after)
                && first.sequence > after + 1
            {
                tracing::warn!(function = %self.decl.function, event = %self.decl.event, after,
                    next = first.sequence, "records were trimmed from the stream before this mapping read them");
            }
            self.deliver(records).await;
        }
    }

    /// Waits up to `MaximumBatchingWindowInSeconds` for the batch to fill.
    async fn fill(&self, records: &mut Vec<StreamRecord>) {
        let deadline = Instant::now() + self.decl.batching_window;
        while records.len() < self.decl.batch_size {
            let last = records.last().map(|r| r.sequence);
            if tokio::time::timeout_at(deadline, self.source.wait_after(last)).await.is_err() {
                return;
            }
            match self.source.read(last, self.decl.batch_size - records.len()).await {
                Ok(more) => records.extend(more),
                Err(_) => return, // deliver what there is; the next read reports the problem
            }
        }
    }

    /// Takes a batch to its end: every record delivered, filtered out, or given up on.
    async fn deliver(&self, records: Vec<StreamRecord>) {
        let mut queue = VecDeque::new();
        // Filtered records are done with as they are reached; the runs between them are delivered in order.
        let mut run = Vec::new();
        for record in records {
            if self.admits(&record) {
                run.push(record);
                continue;
            }
            if !run.is_empty() {
                queue.push_back(Ok(std::mem::take(&mut run)));
            }
            // Consecutive skipped records move the checkpoint once, past the last of them.
            match queue.back_mut() {
                Some(Err(skipped)) => *skipped = record.sequence,
                _ => queue.push_back(Err(record.sequence)),
            }
        }
        if !run.is_empty() {
            queue.push_back(Ok(run));
        }
        for item in queue {
            match item {
                Ok(records) => {
                    if !self.deliver_run(records).await {
                        return;
                    }
                }
                Err(sequence) => self.advance(sequence, 0, 0).await,
            }
        }
    }

    /// Delivers consecutive records with retries and bisection. `false` when the stack stopped meanwhile.
    async fn deliver_run(&self, records: Vec<StreamRecord>) -> bool {
        let mut parts = VecDeque::from([Part { records, retries: 0, invocations: 0, last_error: None }]);
        while let Some(mut part) = parts.pop_front() {
            let limit = self.decl.record_age_limit();
            let expired = part.records.iter().take_while(|r| age(r) > limit).count();
            if expired > 0 {
                let rest = part.records.split_off(expired);
                self.discard(&part, "MaximumRecordAgeExceeded").await;
                if rest.is_empty() {
                    continue;
                }
                part.records = rest;
            }
            let Some(invoker) = self.invoker.upgrade() else { return false };
            part.invocations += 1;
            let outcome = self.invoke(&*invoker, &part.records).await;
            drop(invoker);
            match outcome {
                Outcome::Delivered => {
                    let last = part.records.last().map_or(0, |r| r.sequence);
                    self.advance(last, part.records.len() as u64, 0).await;
                }
                Outcome::FailedFrom(index) => {
                    self.count_failure();
                    let rest = part.records.split_off(index);
                    if let Some(done) = part.records.last() {
                        self.advance(done.sequence, index as u64, 0).await;
                    }
                    // Bisected at the reported record: only what follows is retried, as a retry.
                    part.records = rest;
                    part.last_error = None;
                    self.retry_or_discard(part, &mut parts).await;
                }
                Outcome::Failed(error) => {
                    self.count_failure();
                    tracing::info!(function = %self.decl.function, event = %self.decl.event,
                        records = part.records.len(), error_type = %error.error_type, "a stream batch failed");
                    part.last_error = Some(error);
                    if self.decl.bisect_on_error && part.records.len() > 1 {
                        // Splitting is not a retry: both halves keep the count they had.
                        let second = part.records.split_off(part.records.len() / 2);
                        let (retries, invocations, last_error) =
                            (part.retries, part.invocations, part.last_error.clone());
                        parts.push_front(Part { records: second, retries, invocations, last_error });
                        parts.push_front(part);
                    } else {
                        self.retry_or_discard(part, &mut parts).await;
                    }
                }
            }
        }
        true
    }

    async fn retry_or_discard(&self, mut part: Part, parts: &mut VecDeque<Part>) {
        if self.decl.maximum_retry_attempts.is_some_and(|max| part.retries >= max) {
            self.discard(&part, "RetryAttemptsExhausted").await;
            return;
        }
        let wait = self.retry_delay * 2u32.pow(part.retries.min(MAX_BACKOFF_DOUBLINGS));
        part.retries += 1;
        tokio::time::sleep(wait).await;
        parts.push_front(part);
    }

    /// Gives up on `part`: its description to the on-failure destination, then the checkpoint past it.
    async fn discard(&self, part: &Part, condition: &str) {
        let (Some(first), Some(last)) = (part.records.first(), part.records.last()) else { return };
        tracing::warn!(function = %self.decl.function, event = %self.decl.event, condition,
            first = first.sequence, last = last.sequence, "stream records given up on");
        if let Some(Destination::Sqs(queue)) = &self.decl.on_failure {
            let record = self.failure_record(part, condition);
            if let Err(e) = self.sender.send_message(queue, record.to_string(), BTreeMap::new()).await {
                tracing::error!(queue = %queue, error = %e, "could not send a stream batch's on-failure record");
            }
        }
        self.advance(last.sequence, 0, part.records.len() as u64).await;
    }

    /// Lambda's invocation record for a discarded batch, with `DDBStreamBatchInfo`.
    fn failure_record(&self, part: &Part, condition: &str) -> Value {
        let first = part.records.first().expect("a part has records");
        let last = part.records.last().expect("a part has records");
        let mut record = json!({
            "requestContext": {
                "requestId": uuid::Uuid::new_v4().to_string(),
                "functionArn": self.function_arn,
                "condition": condition,
                "approximateInvokeCount": part.invocations,
            },
            "version": "1.0",
            "timestamp": rfc3339(SystemTime::now()),
            "DDBStreamBatchInfo": {
                "shardId": SHARD_ID,
                "startSequenceNumber": sequence_number(first),
                "endSequenceNumber": sequence_number(last),
                "approximateArrivalOfFirstRecord": rfc3339(first.created),
                "approximateArrivalOfLastRecord": rfc3339(last.created),
                "batchSize": part.records.len(),
                "streamArn": self.decl.stream,
            },
        });
        if part.invocations > 0 {
            let mut response = json!({"statusCode": 200, "executedVersion": "$LATEST"});
            if part.last_error.is_some() {
                response["functionError"] = json!("Unhandled");
            }
            record["responseContext"] = response;
        }
        record
    }

    /// Whether `record`, as the function would receive it, passes the filters.
    fn admits(&self, record: &StreamRecord) -> bool {
        let filters = &self.decl.filters;
        filters.is_empty() || {
            let record = self.event_record(record);
            filters.iter().any(|f| f.matches(&record))
        }
    }

    /// The record as the function receives it: the stream's record plus `eventSourceARN`.
    fn event_record(&self, record: &StreamRecord) -> Value {
        let mut r = record.record.clone();
        r["eventSourceARN"] = json!(self.decl.stream);
        r
    }

    async fn invoke(&self, invoker: &dyn FunctionInvoker, records: &[StreamRecord]) -> Outcome {
        let event = json!({"Records": records.iter().map(|r| self.event_record(r)).collect::<Vec<_>>()});
        let request_id = uuid::Uuid::new_v4().to_string();
        match invoker.invoke(&self.decl.function, &request_id, event).await {
            Err(e) => Outcome::Failed(e),
            Ok(_) if !self.decl.report_batch_item_failures => Outcome::Delivered,
            Ok(response) => match first_reported_failure(&response, records) {
                Ok(None) => Outcome::Delivered,
                Ok(Some(index)) => Outcome::FailedFrom(index),
                Err(problem) => {
                    // As on Lambda: a response that does not read as a batch response fails the whole batch.
                    Outcome::Failed(FunctionError::new("InvalidBatchItemFailures", problem))
                }
            },
        }
    }

    /// Moves the checkpoint to `sequence` (durably) and counts what happened.
    async fn advance(&self, sequence: u64, delivered: u64, discarded: u64) {
        let (path, stream) = (self.path.clone(), self.decl.stream.clone());
        let written = tokio::task::spawn_blocking(move || write_checkpoint(&path, &stream, Some(sequence))).await;
        if !matches!(written, Ok(Ok(()))) {
            tracing::error!(path = %self.path.display(),
                "could not write a stream mapping's checkpoint; records may be delivered again after a restart");
        }
        self.position.send_modify(|p| {
            p.checkpoint = Some(sequence);
            p.delivered += delivered;
            p.discarded += discarded;
        });
    }

    fn count_failure(&self) {
        self.position.send_modify(|p| p.failed_invocations += 1);
    }
}

/// The index of the first record a `ReportBatchItemFailures` response names, `None` when it names none (an empty
/// or null list, an empty or null response). A list naming a record not in the batch, or an item without a usable
/// `itemIdentifier`, or a response of another shape, is an error: the whole batch failed.
fn first_reported_failure(response: &Value, records: &[StreamRecord]) -> Result<Option<usize>, String> {
    let failures = match response {
        Value::Null => return Ok(None),
        Value::Object(o) => match o.get("batchItemFailures") {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Array(failures)) => failures,
            Some(other) => return Err(format!("batchItemFailures is {other}, not a list")),
        },
        other => return Err(format!("the response {other} is not a batch response")),
    };
    let mut first: Option<usize> = None;
    for failure in failures {
        let id = match &failure["itemIdentifier"] {
            Value::String(id) if !id.is_empty() => id,
            _ => return Err(format!("{failure} has no itemIdentifier")),
        };
        let index = id
            .parse::<u64>()
            .ok()
            .and_then(|seq| records.iter().position(|r| r.sequence == seq))
            .ok_or_else(|| format!("itemIdentifier `{id}` is not the SequenceNumber of a record of the batch"))?;
        first = Some(first.map_or(index, |f| f.min(index)));
    }
    Ok(first)
}

fn age(record: &StreamRecord) -> Duration {
    SystemTime::now().duration_since(record.created).unwrap_or_default()
}

/// A record's `SequenceNumber` as the stream wrote it.
fn sequence_number(record: &StreamRecord) -> String {
    record.record["dynamodb"]["SequenceNumber"].as_str().map_or_else(|| record.sequence.to_string(), str::to_owned)
}

fn rfc3339(at: SystemTime) -> String {
    OffsetDateTime::from(at).format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(sequence: u64) -> StreamRecord {
        StreamRecord { sequence, created: SystemTime::now(), record: json!({}) }
    }

    #[test]
    fn a_batch_response_names_the_lowest_failed_record_or_fails_the_batch() {
        let records: Vec<_> = (10..14).map(record).collect();
        for ok in [json!(null), json!({}), json!({"batchItemFailures": null}), json!({"batchItemFailures": []})] {
            assert_eq!(first_reported_failure(&ok, &records), Ok(None), "{ok}");
        }
        let two = json!({"batchItemFailures": [{"itemIdentifier": "000000000000000000013"}, {"itemIdentifier": "11"}]});
        assert_eq!(first_reported_failure(&two, &records), Ok(Some(1)));
        for bad in [
            json!({"batchItemFailures": [{"itemIdentifier": ""}]}),
            json!({"batchItemFailures": [{"itemIdentifier": null}]}),
            json!({"batchItemFailures": [{"itemIdentifer": "11"}]}),
            json!({"batchItemFailures": [{"itemIdentifier": "99"}]}),
            json!({"batchItemFailures": "11"}),
            json!("ok"),
        ] {
            assert!(first_reported_failure(&bad, &records).is_err(), "{bad}");
        }
    }
}

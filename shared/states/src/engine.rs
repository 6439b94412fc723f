//! The interpreter: runs a [`StateMachine`] against an input, calling Tasks
//! through a [`TaskInvoker`], waiting on a [`Clock`], recording history, and
//! honouring Retry/Catch, timeouts and aborts.
//!
//! # Quotas
//!
//! A definition may loop forever or fan out without bound, so the engine
//! enforces AWS's per-execution quotas itself, whether or not anyone records
//! the history:
//!
//! - 25,000 history events ([`AWS_MAX_HISTORY_EVENTS`]). AWS's guide ("Avoid
//!   reaching the history quota", `bp-history-limit.html`): when an execution
//!   has 24,999 events, event 25,000 is `ExecutionSucceeded` if that is what
//!   comes next, and otherwise an `ExecutionFailed` that ends the execution.
//!   AWS reports that failure as `States.Runtime` with the cause "The
//!   execution reached the maximum number of history events (25000)." (as
//!   quoted from the console in loads/ardere#86 and
//!   aws-samples/aws-organizations-tag-inventory#15). Every event counts:
//!   those of Map iterations, Parallel branches and each Retry attempt.
//! - 256 KiB ([`AWS_PAYLOAD_LIMIT_BYTES`]) for the execution input, each
//!   state's output and each task's input and result:
//!   `States.DataLimitExceeded`, which the guide lists as terminal (no
//!   Retry or Catch, not even `States.ALL`, handles it).
//! - Values nested deeper than [`MAX_PAYLOAD_NESTING`] are refused the same
//!   way, whatever the byte limit. AWS documents no such limit, but nothing
//!   deeper can arrive as JSON (parsers stop at 128 levels), and serialising,
//!   cloning, dropping and querying (`$..x`) a `serde_json::Value` recurse
//!   once per level on the runtime's small stack. An execution input or a
//!   task result that is too deep is checked before anything clones it and is
//!   taken apart without recursion.
//!
//! # Causes
//!
//! An error the interpreter raises while running a state (`States.Runtime`,
//! `States.QueryEvaluationError`, `States.IntrinsicFailure`) gets AWS's
//! prefix "An error occurred while executing the state 'X' (entered at the
//! event id #N). ", N being the id of that state's StateEntered event in the
//! history (counted whether or not the history is kept); see
//! [`ErrorInfo`]. It is added once, by the state
//! that raised the error, before its Retry and Catch see it.

use crate::choice::parse_timestamp;
use crate::clock::{Clock, format_time};
use crate::context::{ContextObject, Env, ExecutionInfo, Vars};
use crate::definition::{
    Catcher, Dyn, Kind, Machine, MapSpec, PathOpt, State, StateMachine, Text, Wait, error_matches,
};
use crate::error::{ErrorInfo, names};
use crate::history::{EventDetails, EventSink, HistoryEvent, PayloadDetails, Recorder, json_text, resource_parts};
use crate::jsonata;
use crate::path::Path;
use crate::resume::ResumePoint;
use crate::task::{Heartbeat, TaskContext, TaskInvoker};
use crate::template::{Lang, Template};
use futures::StreamExt;
use rand::Rng;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;
use time::OffsetDateTime;

/// Lets the embedder stop a running execution (`StopExecution`).
#[derive(Debug, Clone, Default)]
pub struct AbortHandle {
    inner: Arc<AbortInner>,
}

#[derive(Debug, Default)]
struct AbortInner {
    flag: AtomicBool,
    notify: tokio::sync::Notify,
}

impl AbortHandle {
    pub fn new() -> Self {
        Self::default()
    }
    /// Asks the execution to stop; it ends with status ABORTED at its next
    /// transition, or at once if it is waiting or running a task.
    pub fn abort(&self) {
        self.inner.flag.store(true, Ordering::SeqCst);
        self.inner.notify.notify_waiters();
    }
    pub fn is_aborted(&self) -> bool {
        self.inner.flag.load(Ordering::SeqCst)
    }
    async fn wait(&self) {
        loop {
            let notified = self.inner.notify.notified();
            if self.is_aborted() {
                return;
            }
            notified.await;
        }
    }
}

/// How to run an execution. `Default` gives a random name, no history and no sink.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// `$$.Execution.Name`; a UUID when absent.
    pub execution_name: Option<String>,
    /// `$$.StateMachine.Id`; a local ARN when absent.
    pub state_machine_arn: Option<String>,
    /// `$$.Execution.RoleArn`.
    pub role_arn: Option<String>,
    /// Keep the history and return it in [`Outcome::history`].
    pub record_history: bool,
    /// Receives each history event as it happens.
    pub sink: Option<Arc<dyn EventSink>>,
    /// Lets the embedder abort the execution.
    pub abort: Option<AbortHandle>,
    /// Fails the execution after this many state transitions (a guard against
    /// endless loops); 1,000,000 when absent.
    pub max_transitions: Option<u64>,
    /// The largest state input/output or task result, in bytes of JSON, before
    /// States.DataLimitExceeded; AWS's 256 KiB when absent (`Some(usize::MAX)`
    /// turns the byte check off; the bound on nesting stays).
    pub payload_limit_bytes: Option<usize>,
    /// The most history events an execution may have, counted whether or not
    /// the history is recorded; AWS's 25,000 when absent (`Some(u64::MAX)`
    /// turns the quota off).
    pub max_history_events: Option<u64>,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("execution_name", &self.execution_name)
            .field("state_machine_arn", &self.state_machine_arn)
            .field("record_history", &self.record_history)
            .field("sink", &self.sink.is_some())
            .finish_non_exhaustive()
    }
}

/// How an execution ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
}

/// The result of [`run`]: serialises as `{"status": "SUCCEEDED", "output": …}`
/// or `{"status": "FAILED", "error": …, "cause": …}`, plus `history` if kept.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryEvent>>,
    /// `$$.Execution.Id` of this run.
    #[serde(skip)]
    pub execution_arn: String,
}

/// Why a branch of execution stopped without an output.
enum Halt {
    Error(ErrorInfo),
    Aborted,
    TimedOut,
}

impl From<ErrorInfo> for Halt {
    fn from(e: ErrorInfo) -> Self {
        Halt::Error(e)
    }
}

type Flow<T> = Result<T, Halt>;
/// A state's output, its next state (`None` at the end) and the variables it
/// assigned, rendered for the StateExited event.
type Step = (Value, Option<usize>, Option<BTreeMap<String, String>>);
type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Per-branch state: the variable scope and the last event id, so each
/// Parallel branch / Map iteration chains its own `previousEventId`s.
struct Frame {
    vars: Vars,
    prev: u64,
}

/// When a state was entered: the time, the id of its StateEntered event,
/// and, for a resumed state, when it was first entered before the
/// interruption.
struct Entered {
    time: OffsetDateTime,
    id: u64,
    first: Option<OffsetDateTime>,
}

enum Guarded<T> {
    Done(T),
    Aborted,
    TaskTimedOut,
    HeartbeatTimedOut,
    ExecutionTimedOut,
}

struct Engine<'r, I, C> {
    invoker: &'r I,
    clock: &'r C,
    exec: ExecutionInfo,
    rec: Recorder,
    abort: AbortHandle,
    deadline: Option<OffsetDateTime>,
    /// When the resumed state was first entered; taken by the first state run.
    resumed_entered: Mutex<Option<OffsetDateTime>>,
    transitions: AtomicU64,
    max_transitions: u64,
    payload_limit: usize,
}

/// AWS's payload quota for state input, output and task results.
pub const AWS_PAYLOAD_LIMIT_BYTES: usize = 256 * 1024;

/// AWS's quota of history events per execution.
pub const AWS_MAX_HISTORY_EVENTS: u64 = 25_000;

/// The deepest nesting of arrays and objects a payload may have.
pub const MAX_PAYLOAD_NESTING: usize = 512;

/// Whether `v` nests arrays/objects more than `max` levels deep; iterative,
/// so it is safe on any value.
pub fn nested_deeper_than(v: &Value, max: usize) -> bool {
    let mut todo = vec![(v, 0usize)];
    while let Some((v, depth)) = todo.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(a) if !a.is_empty() => Box::new(a.iter()),
            Value::Object(m) if !m.is_empty() => Box::new(m.values()),
            _ => continue,
        };
        if depth + 1 > max {
            return true;
        }
        todo.extend(children.map(|c| (c, depth + 1)));
    }
    false
}

fn history_full() -> Halt {
    Halt::Error(ErrorInfo::new(
        names::RUNTIME,
        format!("The execution reached the maximum number of history events ({AWS_MAX_HISTORY_EVENTS})."),
    ))
}

/// Gives an error raised by the interpreter while running `st` AWS's prefix
/// naming the state and its StateEntered event.
fn place(h: Halt, st: &State, entered_id: u64) -> Halt {
    match h {
        Halt::Error(e) => Halt::Error(e.place(&st.name, entered_id)),
        other => other,
    }
}

/// Drops a value without recursing, however deep it is: serde_json drops
/// (and clones) nested arrays and objects by recursion, one frame per level.
pub(crate) fn dispose(v: Value) {
    let mut todo = vec![v];
    while let Some(v) = todo.pop() {
        match v {
            Value::Array(a) => todo.extend(a),
            Value::Object(m) => todo.extend(m.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

/// The failure for a value nested deeper than [`MAX_PAYLOAD_NESTING`].
fn too_deep(what: &str, state: &str) -> ErrorInfo {
    ErrorInfo::new(
        names::DATA_LIMIT_EXCEEDED,
        format!("The {what} of '{state}' is nested more than {MAX_PAYLOAD_NESTING} levels deep"),
    )
}

/// An Outcome for a run that cannot start.
fn refused(e: ErrorInfo) -> Outcome {
    Outcome {
        status: Status::Failed,
        output: None,
        error: Some(e.error),
        cause: Some(e.cause),
        history: None,
        execution_arn: String::new(),
    }
}

/// Counts serialised bytes without keeping them.
struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `machine` on `input` to completion (or abort/timeout).
pub async fn run<I: TaskInvoker, C: Clock>(
    machine: &StateMachine,
    input: Value,
    invoker: &I,
    clock: &C,
    options: RunOptions,
) -> Outcome {
    // Checked before anything clones the input: cloning and dropping a
    // value recurse once per level.
    if nested_deeper_than(&input, MAX_PAYLOAD_NESTING) {
        dispose(input);
        return refused(too_deep("input", "the execution"));
    }
    let start = Start {
        state: machine.root.start,
        input: input.clone(),
        execution_input: input,
        start_time: None,
        vars: Vars::new(),
        last_event_id: 0,
        entered_time: None,
        deadline_from: None,
    };
    run_from(machine, start, invoker, clock, options).await
}

/// Continues an interrupted execution from a [`ResumePoint`] (built from its
/// persisted history with [`ResumePoint::from_history`]): the state that was
/// running is entered again from its input, so its Task may run twice. A
/// Wait keeps the end it had when first entered ([`ResumePoint::entered_time`]
/// plus its seconds, or its timestamp), so it sleeps only what is left.
pub async fn resume<I: TaskInvoker, C: Clock>(
    machine: &StateMachine,
    point: ResumePoint,
    invoker: &I,
    clock: &C,
    options: RunOptions,
) -> Outcome {
    let Some(state) = machine.root.states.iter().position(|s| s.name == point.state) else {
        return refused(ErrorInfo::new(
            names::RUNTIME,
            format!("cannot resume: '{}' is not a top-level state of this state machine", point.state),
        ));
    };
    let deep = nested_deeper_than(&point.input, MAX_PAYLOAD_NESTING)
        || nested_deeper_than(&point.execution_input, MAX_PAYLOAD_NESTING)
        || point.variables.values().any(|v| nested_deeper_than(v, MAX_PAYLOAD_NESTING - 1));
    if deep {
        dispose(point.input);
        dispose(point.execution_input);
        dispose(Value::Object(point.variables));
        return refused(too_deep("input", "the execution"));
    }
    let start = Start {
        state,
        input: point.input,
        execution_input: point.execution_input,
        start_time: point.start_time,
        vars: point.variables,
        last_event_id: point.last_event_id,
        entered_time: point.entered_time,
        deadline_from: point.deadline_from,
    };
    run_from(machine, start, invoker, clock, options).await
}

/// Where a run begins: the start state for a new execution, or the state a
/// resumed one was in.
struct Start {
    state: usize,
    input: Value,
    execution_input: Value,
    start_time: Option<OffsetDateTime>,
    vars: Vars,
    last_event_id: u64,
    entered_time: Option<OffsetDateTime>,
    /// What `TimeoutSeconds` counts from when not the start ([`ResumePoint::deadline_from`]).
    deadline_from: Option<OffsetDateTime>,
}

async fn run_from<I: TaskInvoker, C: Clock>(
    machine: &StateMachine,
    from: Start,
    invoker: &I,
    clock: &C,
    options: RunOptions,
) -> Outcome {
    let resuming = from.last_event_id > 0;
    let start = from.start_time.unwrap_or_else(|| clock.now());
    let name = options.execution_name.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let sm_arn = options
        .state_machine_arn
        .clone()
        .unwrap_or_else(|| "arn:aws:states:us-east-1:123456789012:stateMachine:local".to_string());
    let exec_arn = format!("{}:{name}", sm_arn.replacen(":stateMachine:", ":execution:", 1));
    let sm_name = sm_arn.rsplit(':').next().unwrap_or("local").to_string();
    let role_arn = options.role_arn.clone().unwrap_or_else(|| "arn:aws:iam::123456789012:role/local".to_string());
    let exec = ExecutionInfo {
        id: exec_arn.clone(),
        name,
        input: from.execution_input,
        start_time: format_time(start),
        role_arn: role_arn.clone(),
        state_machine_id: sm_arn,
        state_machine_name: sm_name,
    };
    let engine = Engine {
        invoker,
        clock,
        exec,
        rec: Recorder::new(
            options.record_history,
            options.sink.clone(),
            from.last_event_id,
            options.max_history_events.unwrap_or(AWS_MAX_HISTORY_EVENTS),
        ),
        abort: options.abort.clone().unwrap_or_default(),
        deadline: machine.timeout_seconds.and_then(|s| {
            from.deadline_from.unwrap_or(start).checked_add(time::Duration::seconds(s.min(i64::MAX as u64) as i64))
        }),
        resumed_entered: Mutex::new(from.entered_time),
        transitions: AtomicU64::new(0),
        max_transitions: options.max_transitions.unwrap_or(1_000_000),
        payload_limit: options.payload_limit_bytes.unwrap_or(AWS_PAYLOAD_LIMIT_BYTES),
    };
    let input = from.input;
    let prev = if resuming {
        from.last_event_id
    } else {
        engine.rec.emit_final(
            0,
            start,
            || "ExecutionStarted".into(),
            || {
                Some(EventDetails::ExecutionStarted {
                    input: json_text(&input),
                    input_details: PayloadDetails::default(),
                    role_arn,
                })
            },
        )
    };
    let mut frame = Frame { vars: from.vars, prev };
    let result = match engine.check_size(&input, "input", "the execution") {
        Ok(()) => engine.run_machine(&machine.root, from.state, input, &mut frame).await,
        Err(e) => Err(Halt::Error(e)),
    };
    let now = clock.now();
    let mut outcome = Outcome {
        status: Status::Succeeded,
        output: None,
        error: None,
        cause: None,
        history: None,
        execution_arn: exec_arn,
    };
    match result {
        Ok(out) => {
            engine.rec.emit_final(
                frame.prev,
                now,
                || "ExecutionSucceeded".into(),
                || {
                    Some(EventDetails::ExecutionSucceeded {
                        output: json_text(&out),
                        output_details: PayloadDetails::default(),
                    })
                },
            );
            outcome.output = Some(out);
        }
        Err(Halt::Error(e)) => {
            engine.rec.emit_final(
                frame.prev,
                now,
                || "ExecutionFailed".into(),
                || Some(EventDetails::ExecutionFailed { error: e.error.clone(), cause: e.cause.clone() }),
            );
            outcome.status = Status::Failed;
            outcome.error = Some(e.error).filter(|s| !s.is_empty());
            outcome.cause = Some(e.cause).filter(|s| !s.is_empty());
        }
        Err(Halt::TimedOut) => {
            engine.rec.emit_final(
                frame.prev,
                now,
                || "ExecutionTimedOut".into(),
                || {
                    Some(EventDetails::ExecutionTimedOut {
                        error: names::TIMEOUT.into(),
                        cause: "The execution exceeded its TimeoutSeconds".into(),
                    })
                },
            );
            outcome.status = Status::TimedOut;
            outcome.error = Some(names::TIMEOUT.into());
            outcome.cause = Some("The execution exceeded its TimeoutSeconds".into());
        }
        Err(Halt::Aborted) => {
            engine.rec.emit_final(
                frame.prev,
                now,
                || "ExecutionAborted".into(),
                || {
                    Some(EventDetails::ExecutionAborted {
                        error: "States.Aborted".into(),
                        cause: "The execution was aborted".into(),
                    })
                },
            );
            outcome.status = Status::Aborted;
        }
    }
    if options.record_history {
        let mut h = engine.rec.take();
        h.sort_by_key(|e| e.id);
        outcome.history = Some(h);
    }
    outcome
}

fn lang_states(input: &Value, ctx: &ContextObject<'_>, result: Option<&Value>, error_output: Option<&Value>) -> Value {
    let mut m = Map::with_capacity(4);
    m.insert("input".into(), input.clone());
    m.insert("context".into(), ctx.value().clone());
    if let Some(r) = result {
        m.insert("result".into(), r.clone());
    }
    if let Some(e) = error_output {
        m.insert("errorOutput".into(), e.clone());
    }
    Value::Object(m)
}

fn apply_input_path(p: &PathOpt, env: &Env<'_>) -> Result<Value, ErrorInfo> {
    match p {
        PathOpt::Default => Ok(env.input.clone()),
        PathOpt::Null => Ok(Value::Object(Map::new())),
        PathOpt::Path(p) => env.resolve(p).map(|v| v.into_owned()),
    }
}

fn apply_result_path(p: &PathOpt, raw: &Value, result: Value) -> Result<Value, ErrorInfo> {
    match p {
        PathOpt::Default => Ok(result),
        PathOpt::Null => Ok(raw.clone()),
        PathOpt::Path(path) => {
            let mut out = raw.clone();
            path.assign(&mut out, result).map_err(|why| ErrorInfo::new(names::RESULT_PATH_MATCH_FAILURE, why))?;
            Ok(out)
        }
    }
}

fn apply_output_path(p: &PathOpt, value: Value, ctx: &ContextObject<'_>, vars: &Vars) -> Result<Value, ErrorInfo> {
    match p {
        PathOpt::Default => Ok(value),
        PathOpt::Null => Ok(Value::Object(Map::new())),
        PathOpt::Path(path) => {
            let env = Env { input: &value, context: ctx, vars };
            env.resolve(path).map(|v| v.into_owned())
        }
    }
}

fn as_seconds(v: &Value, what: &str) -> Result<u64, ErrorInfo> {
    v.as_u64().ok_or_else(|| ErrorInfo::runtime(format!("{what} must be a non-negative integer, got {v}")))
}

/// A value as AWS quotes it in a cause: a string bare, anything else as JSON.
fn bare(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

// The `…Path` readers below follow AWS's causes as LocalStack records them
// from AWS (its `wait_function/seconds_path.py` and Map's
// `max_concurrency.py` and `tolerated_failure.py`): each failure is a
// States.Runtime, which ends the execution.

/// `SecondsPath`: a non-negative JSON integer (0 waits not at all).
fn seconds_from_path(v: &Value, p: &Path) -> Result<u64, ErrorInfo> {
    match (v.as_u64(), v.as_i64()) {
        (Some(n), _) => Ok(n),
        (None, Some(_)) => Err(ErrorInfo::runtime(format!(
            "The SecondsPath parameter references a negative value: {p} == {}",
            bare(v)
        ))),
        _ => Err(ErrorInfo::runtime(format!(
            "The SecondsPath parameter cannot be parsed as a long value: {p} == {}",
            bare(v)
        ))),
    }
}

/// An integer, or a string holding one: AWS casts a numeric string read by
/// `MaxConcurrencyPath` or `ToleratedFailureCountPath` to its number.
fn path_integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_u64().map(|_| i64::MAX)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `MaxConcurrencyPath`: 0 (no limit) or more.
fn max_concurrency_from_path(v: &Value, p: &Path) -> Result<u64, ErrorInfo> {
    match path_integer(v) {
        Some(n) if n >= 0 => Ok(n as u64),
        Some(n) => {
            Err(ErrorInfo::runtime(format!("Expected non-negative integer for MaxConcurrency, got '{n}' instead.")))
        }
        None => Err(ErrorInfo::runtime(format!(
            "The MaxConcurrencyPath field refers to value \"{}\" which is not a valid integer: {p}",
            bare(v)
        ))),
    }
}

/// `ToleratedFailureCountPath`: 0 or more.
fn tolerated_count_from_path(v: &Value, p: &Path) -> Result<u64, ErrorInfo> {
    match path_integer(v) {
        Some(n) if n >= 0 => Ok(n as u64),
        Some(_) => Err(ErrorInfo::runtime("ToleratedFailureCount cannot be negative.")),
        None => Err(ErrorInfo::runtime(format!(
            "The ToleratedFailureCountPath field refers to value \"{}\" which is not a valid integer: {p}",
            bare(v)
        ))),
    }
}

const PERCENTAGE_RANGE: &str = "ToleratedFailurePercentage must be between 0 and 100.";

/// `ToleratedFailurePercentagePath`: a number, or a numeric string, from 0 to 100.
fn tolerated_percentage_from_path(v: &Value, p: &Path) -> Result<f64, ErrorInfo> {
    let n = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    };
    match n {
        Some(n) if (0.0..=100.0).contains(&n) => Ok(n),
        Some(_) => Err(ErrorInfo::runtime(PERCENTAGE_RANGE)),
        None => Err(ErrorInfo::runtime(format!(
            "The ToleratedFailurePercentagePath field refers to value \"{}\" which is not a valid float: {p}",
            bare(v)
        ))),
    }
}

impl<'r, I: TaskInvoker, C: Clock> Engine<'r, I, C> {
    /// States.DataLimitExceeded when `v` serialises to more than the limit.
    fn check_size(&self, v: &Value, what: &str, state: &str) -> Result<(), ErrorInfo> {
        // Checked first, and whatever the byte limit: serialising a value
        // (and querying it with `..`) recurses once per level.
        if nested_deeper_than(v, MAX_PAYLOAD_NESTING) {
            return Err(too_deep(what, state));
        }
        if self.payload_limit == usize::MAX {
            return Ok(());
        }
        let mut c = ByteCounter(0);
        // Writing to a counter cannot fail; a failure would only undercount.
        let _ = serde_json::to_writer(&mut c, v);
        if c.0 > self.payload_limit {
            // AWS's wording for a result over the quota; for an input, the
            // same sentence about the input.
            let cause = if what == "output" || what == "task result" {
                format!(
                    "The state/task '{state}' returned a result with a size exceeding the maximum number of bytes \
                     service limit."
                )
            } else {
                format!("The {what} of '{state}' has a size exceeding the maximum number of bytes service limit.")
            };
            return Err(ErrorInfo::new(names::DATA_LIMIT_EXCEEDED, cause));
        }
        Ok(())
    }

    /// Records an event, or fails the execution when the history quota is
    /// reached (terminal, so no Retry or Catch runs).
    fn emit(
        &self,
        frame: &mut Frame,
        ty: impl FnOnce() -> String,
        details: impl FnOnce() -> Option<EventDetails>,
    ) -> Flow<()> {
        frame.prev = self.rec.emit(frame.prev, self.clock.now(), ty, details).map_err(|_| history_full())?;
        Ok(())
    }

    /// Evaluates an `Assign` template with the values from before this state
    /// and then stores the results, so assignments never see each other.
    fn assign(
        &self,
        t: Option<&Template>,
        env: &Env<'_>,
        states: Option<&Value>,
    ) -> Result<Option<Map<String, Value>>, ErrorInfo> {
        let Some(t) = t else { return Ok(None) };
        match t.eval(env, states)? {
            Value::Object(m) => Ok(Some(m)),
            other => Err(ErrorInfo::runtime(format!("Assign must produce an object, got {other}"))),
        }
    }

    fn store(frame: &mut Frame, assigned: Option<Map<String, Value>>) -> Option<BTreeMap<String, String>> {
        let m = assigned?;
        let mut shown = BTreeMap::new();
        for (k, v) in m {
            shown.insert(k.clone(), v.to_string());
            frame.vars.insert(k, v);
        }
        Some(shown)
    }

    /// Runs a future, giving up if the execution is aborted, the task's own
    /// timeout passes, or the execution deadline passes. The timer is only
    /// started if the future is not ready at once, so a virtual clock does
    /// not jump forward for tasks that complete immediately.
    async fn guard<F: Future>(
        &self,
        fut: F,
        task_timeout: Option<Duration>,
        heartbeat: Option<(Duration, &Heartbeat)>,
    ) -> Guarded<F::Output> {
        let exec_left = self.deadline.map(|d| {
            let left = d - self.clock.now();
            if left.is_negative() { Duration::ZERO } else { left.unsigned_abs() }
        });
        let (limit, is_exec) = match (task_timeout, exec_left) {
            (Some(t), Some(e)) if e < t => (Some(e), true),
            (Some(t), _) => (Some(t), false),
            (None, Some(e)) => (Some(e), true),
            (None, None) => (None, false),
        };
        let mut fut = pin!(fut);
        let mut abort = pin!(self.abort.wait());
        let mut timer: Option<Pin<Box<dyn Future<Output = ()> + Send + '_>>> = None;
        let mut watch: Option<Pin<Box<dyn Future<Output = ()> + Send + '_>>> = None;
        std::future::poll_fn(|cx| {
            if let Poll::Ready(v) = fut.as_mut().poll(cx) {
                return Poll::Ready(Guarded::Done(v));
            }
            if abort.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Guarded::Aborted);
            }
            if let Some(l) = limit {
                let t = timer.get_or_insert_with(|| Box::pin(self.clock.sleep(l)));
                if t.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(if is_exec { Guarded::ExecutionTimedOut } else { Guarded::TaskTimedOut });
                }
            }
            if let Some((every, hb)) = heartbeat {
                let w = watch.get_or_insert_with(|| Box::pin(self.watch_heartbeat(every, hb)));
                if w.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Guarded::HeartbeatTimedOut);
                }
            }
            Poll::Pending
        })
        .await
    }

    /// Completes when `every` passes without a heartbeat.
    async fn watch_heartbeat(&self, every: Duration, hb: &Heartbeat) {
        loop {
            let before = hb.beats();
            let mut beat = pin!(hb.notified());
            let mut sleep = pin!(self.clock.sleep(every));
            let got_beat = std::future::poll_fn(|cx| {
                if beat.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(true);
                }
                if sleep.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(hb.beats() != before);
                }
                Poll::Pending
            })
            .await;
            if !got_beat {
                return;
            }
        }
    }

    /// Sleeps, ending early with TimedOut if the execution deadline comes
    /// first, or Aborted if the embedder aborts.
    async fn sleep(&self, d: Duration) -> Flow<()> {
        if self.abort.is_aborted() {
            return Err(Halt::Aborted);
        }
        if let Some(dl) = self.deadline {
            let left = dl - self.clock.now();
            let left = if left.is_negative() { Duration::ZERO } else { left.unsigned_abs() };
            if d > left {
                return match self.guard(self.clock.sleep(left), None, None).await {
                    Guarded::Aborted => Err(Halt::Aborted),
                    _ => Err(Halt::TimedOut),
                };
            }
        }
        match self.guard(self.clock.sleep(d), None, None).await {
            Guarded::Done(()) => Ok(()),
            Guarded::Aborted => Err(Halt::Aborted),
            Guarded::TaskTimedOut | Guarded::HeartbeatTimedOut | Guarded::ExecutionTimedOut => Err(Halt::TimedOut),
        }
    }

    fn run_machine<'a>(
        &'a self,
        m: &'a Machine,
        first: usize,
        input: Value,
        frame: &'a mut Frame,
    ) -> BoxFuture<'a, Flow<Value>> {
        Box::pin(async move {
            let mut i = first;
            let mut input = input;
            loop {
                if self.abort.is_aborted() {
                    return Err(Halt::Aborted);
                }
                if self.transitions.fetch_add(1, Ordering::Relaxed) >= self.max_transitions {
                    return Err(Halt::Error(ErrorInfo::new(
                        names::RUNTIME,
                        format!("The execution exceeded the maximum of {} state transitions", self.max_transitions),
                    )));
                }
                let st = &m.states[i];
                let entered = self.clock.now();
                let first_entered = self.resumed_entered.lock().ok().and_then(|mut t| t.take());
                let ty = st.type_name();
                self.emit(
                    frame,
                    || format!("{ty}StateEntered"),
                    || {
                        Some(EventDetails::StateEntered {
                            name: st.name.clone(),
                            input: json_text(&input),
                            input_details: PayloadDetails::default(),
                        })
                    },
                )?;
                // The id of the StateEntered event just recorded, which AWS
                // names in the causes of errors this state raises.
                let entered = Entered { time: entered, id: frame.prev, first: first_entered };
                let (output, next, assigned) =
                    self.run_state(st, input, &entered, frame).await.map_err(|h| place(h, st, entered.id))?;
                if let Err(e) = self.check_size(&output, "output", &st.name) {
                    dispose(output);
                    return Err(Halt::Error(e));
                }
                self.emit(
                    frame,
                    || format!("{ty}StateExited"),
                    || {
                        Some(EventDetails::StateExited {
                            name: st.name.clone(),
                            output: json_text(&output),
                            output_details: PayloadDetails::default(),
                            assigned_variables_details: assigned.as_ref().map(|_| PayloadDetails::default()),
                            assigned_variables: assigned,
                        })
                    },
                )?;
                match next {
                    Some(n) => {
                        i = n;
                        input = output;
                    }
                    None => return Ok(output),
                }
            }
        })
    }

    async fn run_state(&self, st: &State, raw: Value, entered: &Entered, frame: &mut Frame) -> Flow<Step> {
        let first_entered = entered.first;
        let ctx = ContextObject::new(&self.exec, &st.name, entered.time);
        let ata = st.lang == Lang::Jsonata;
        match &st.kind {
            Kind::Pass { result } => {
                let (out, assigned) = if ata {
                    let states = lang_states(&raw, &ctx, None, None);
                    let env = Env { input: &raw, context: &ctx, vars: &frame.vars };
                    let a = self.assign(st.assign.as_ref(), &env, Some(&states))?;
                    let out = match &st.output {
                        Some(t) => t.eval(&env, Some(&states))?,
                        None => raw.clone(),
                    };
                    (out, a)
                } else {
                    let env = Env { input: &raw, context: &ctx, vars: &frame.vars };
                    let effective = apply_input_path(&st.input_path, &env)?;
                    let env = Env { input: &effective, context: &ctx, vars: &frame.vars };
                    let res = match (result, &st.parameters) {
                        (Some(r), _) => r.clone(),
                        (None, Some(p)) => p.eval(&env, None)?,
                        (None, None) => effective.clone(),
                    };
                    let env = Env { input: &res, context: &ctx, vars: &frame.vars };
                    let a = self.assign(st.assign.as_ref(), &env, None)?;
                    let out = apply_result_path(&st.result_path, &raw, res)?;
                    (apply_output_path(&st.output_path, out, &ctx, &frame.vars)?, a)
                };
                let shown = Self::store(frame, assigned);
                Ok((out, st.next, shown))
            }
            Kind::Succeed => {
                let out = if ata {
                    match &st.output {
                        Some(t) => {
                            let states = lang_states(&raw, &ctx, None, None);
                            let env = Env { input: &raw, context: &ctx, vars: &frame.vars };
                            t.eval(&env, Some(&states))?
                        }
                        None => raw,
                    }
                } else {
                    let env = Env { input: &raw, context: &ctx, vars: &frame.vars };
                    let effective = apply_input_path(&st.input_path, &env)?;
                    apply_output_path(&st.output_path, effective, &ctx, &frame.vars)?
                };
                Ok((out, None, None))
            }
            Kind::Fail { error, cause } => {
                let states = if ata { Some(lang_states(&raw, &ctx, None, None)) } else { None };
                let env = Env { input: &raw, context: &ctx, vars: &frame.vars };
                let text = |t: &Option<Text>, what: &str| -> Result<String, ErrorInfo> {
                    Ok(match t {
                        None => String::new(),
                        Some(Text::Literal(s)) => s.clone(),
                        Some(Text::Dynamic(t)) => match t.eval(&env, states.as_ref())? {
                            Value::String(s) => s,
                            other => {
                                return Err(ErrorInfo::runtime(format!(
                                    "The {what} of a Fail state must be a string, got {other}"
                                )));
                            }
                        },
                    })
                };
                let e = text(error, "Error")?;
                let c = text(cause, "Cause")?;
                Err(Halt::Error(ErrorInfo::new(e, c)))
            }
            Kind::Choice { choices, default } => {
                let effective = if ata {
                    raw.clone()
                } else {
                    let env = Env { input: &raw, context: &ctx, vars: &frame.vars };
                    apply_input_path(&st.input_path, &env)?
                };
                let states = if ata { Some(lang_states(&raw, &ctx, None, None)) } else { None };
                let env = Env { input: &effective, context: &ctx, vars: &frame.vars };
                let mut chosen = None;
                for c in choices {
                    if c.rule.eval(&env, states.as_ref())? {
                        chosen = Some(c);
                        break;
                    }
                }
                let (next, assign_t, output_t) = match chosen {
                    Some(c) => {
                        (c.next, c.assign.as_ref().or(st.assign.as_ref()), c.output.as_ref().or(st.output.as_ref()))
                    }
                    None => match default {
                        Some(d) => (*d, st.assign.as_ref(), st.output.as_ref()),
                        None => {
                            // AWS reserves States.NoChoiceMatched and reports
                            // this case as States.Runtime.
                            return Err(Halt::Error(ErrorInfo::runtime(format!(
                                "No Choice rule matched and there is no Default in state '{}'",
                                st.name
                            ))));
                        }
                    },
                };
                let assigned = self.assign(assign_t, &env, states.as_ref())?;
                let out = if ata {
                    match output_t {
                        Some(t) => t.eval(&env, states.as_ref())?,
                        None => raw,
                    }
                } else {
                    apply_output_path(&st.output_path, effective.clone(), &ctx, &frame.vars)?
                };
                let shown = Self::store(frame, assigned);
                Ok((out, Some(next), shown))
            }
            Kind::Wait(w) => {
                let effective = if ata {
                    raw.clone()
                } else {
                    let env = Env { input: &raw, context: &ctx, vars: &frame.vars };
                    apply_input_path(&st.input_path, &env)?
                };
                let states = if ata { Some(lang_states(&raw, &ctx, None, None)) } else { None };
                let mut d = {
                    let env = Env { input: &effective, context: &ctx, vars: &frame.vars };
                    self.wait_duration(w, &env, states.as_ref())?
                };
                // Resumed: Seconds count from the first entry (a Timestamp is
                // absolute already), so only what is left is slept.
                if let (Wait::Seconds(_), Some(t0)) = (w, first_entered) {
                    let gone = self.clock.now() - t0;
                    if gone.is_positive() {
                        d = d.saturating_sub(gone.unsigned_abs());
                    }
                }
                self.sleep(d).await?;
                let env = Env { input: &effective, context: &ctx, vars: &frame.vars };
                let assigned = self.assign(st.assign.as_ref(), &env, states.as_ref())?;
                let out = if ata {
                    match &st.output {
                        Some(t) => t.eval(&env, states.as_ref())?,
                        None => raw,
                    }
                } else {
                    apply_output_path(&st.output_path, effective.clone(), &ctx, &frame.vars)?
                };
                let shown = Self::store(frame, assigned);
                Ok((out, st.next, shown))
            }
            Kind::Task { .. } | Kind::Parallel { .. } | Kind::Map(_) => {
                self.run_with_recovery(st, raw, entered, frame).await
            }
        }
    }

    fn wait_duration(&self, w: &Wait, env: &Env<'_>, states: Option<&Value>) -> Result<Duration, ErrorInfo> {
        let until_time = |t: OffsetDateTime| -> Result<Duration, ErrorInfo> {
            let d = t - self.clock.now();
            Ok(if d.is_negative() { Duration::ZERO } else { d.unsigned_abs() })
        };
        let until = |ts: &str| -> Result<Duration, ErrorInfo> {
            let t = parse_timestamp(ts)
                .ok_or_else(|| ErrorInfo::runtime(format!("'{ts}' is not an RFC 3339 timestamp")))?;
            until_time(t)
        };
        match w {
            Wait::Seconds(Dyn::Fixed(s)) => Ok(Duration::from_secs(*s)),
            Wait::Seconds(Dyn::Path(p)) => Ok(Duration::from_secs(seconds_from_path(&*env.resolve(p)?, p)?)),
            Wait::Seconds(Dyn::Jsonata(e)) => {
                let v = jsonata::eval(e, "Seconds", states.unwrap_or(&Value::Null), env.vars)?;
                Ok(Duration::from_secs(as_seconds(&v, "Seconds")?))
            }
            Wait::Timestamp(Dyn::Fixed(ts)) => until(ts),
            // AWS's causes for a timestamp that does not parse, as LocalStack
            // records them from AWS (test_base_scenarios.snapshot.json,
            // test_wait_timestamp_path and test_wait_timestamp_jsonata).
            Wait::Timestamp(Dyn::Path(p)) => {
                let v = env.resolve(p)?;
                match v.as_str().and_then(parse_timestamp) {
                    Some(t) => until_time(t),
                    None => Err(ErrorInfo::runtime(format!(
                        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time \
                         format string: {p} == {}",
                        bare(&v)
                    ))),
                }
            }
            Wait::Timestamp(Dyn::Jsonata(e)) => {
                match jsonata::eval(e, "Timestamp", states.unwrap_or(&Value::Null), env.vars)? {
                    Value::String(s) => match parse_timestamp(&s) {
                        Some(t) => until_time(t),
                        None => Err(ErrorInfo::query(format!(
                            "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format \
                             string: {s}"
                        ))),
                    },
                    other => {
                        Err(ErrorInfo::query(format!("Timestamp must evaluate to a timestamp string, got {other}")))
                    }
                }
            }
        }
    }

    fn dyn_u64(&self, d: &Dyn<u64>, env: &Env<'_>, states: Option<&Value>, what: &str) -> Result<u64, ErrorInfo> {
        match d {
            Dyn::Fixed(n) => Ok(*n),
            Dyn::Path(p) => as_seconds(&*env.resolve(p)?, what),
            Dyn::Jsonata(e) => as_seconds(&jsonata::eval(e, what, states.unwrap_or(&Value::Null), env.vars)?, what),
        }
    }

    /// Task, Parallel and Map: one attempt after another as the retriers
    /// allow, then the catchers, then failure.
    async fn run_with_recovery(&self, st: &State, raw: Value, entered: &Entered, frame: &mut Frame) -> Flow<Step> {
        let (entered_id, entered) = (entered.id, entered.time);
        let mut used = vec![0u32; st.retry.len()];
        let mut retry_count = 0u32;
        loop {
            let r = match &st.kind {
                Kind::Task { .. } => self.task_attempt(st, &raw, entered, retry_count, frame).await,
                Kind::Parallel { branches } => {
                    self.parallel_attempt(st, branches, &raw, entered, retry_count, frame).await
                }
                Kind::Map(spec) => self.map_attempt(st, spec, &raw, entered, retry_count, frame).await,
                _ => unreachable_kind(),
            };
            let e = match r {
                Ok((out, assigned)) => return Ok((out, st.next, assigned)),
                // Placed before Retry and Catch see it: a caught error's
                // Cause carries the prefix too.
                Err(Halt::Error(e)) => e.place(&st.name, entered_id),
                Err(other) => return Err(other),
            };
            if e.is_terminal() {
                return Err(Halt::Error(e));
            }
            if let Some(ri) = st.retry.iter().position(|r| error_matches(&r.error_equals, &e.error)) {
                let r = &st.retry[ri];
                if used[ri] < r.max_attempts {
                    let mut delay = r.interval_seconds * r.backoff_rate.powi(used[ri] as i32);
                    if let Some(max) = r.max_delay_seconds {
                        delay = delay.min(max);
                    }
                    if r.jitter_full {
                        delay = rand::rng().random_range(0.0..=delay);
                    }
                    used[ri] += 1;
                    retry_count += 1;
                    self.sleep(Duration::from_secs_f64(delay.clamp(0.0, 1.0e9))).await?;
                    continue;
                }
            }
            if let Some(c) = st.catch.iter().find(|c| error_matches(&c.error_equals, &e.error)) {
                return self.catch(st, c, &raw, &e, entered, frame);
            }
            return Err(Halt::Error(e));
        }
    }

    fn catch(
        &self,
        st: &State,
        c: &Catcher,
        raw: &Value,
        e: &ErrorInfo,
        entered: OffsetDateTime,
        frame: &mut Frame,
    ) -> Flow<Step> {
        let ctx = ContextObject::new(&self.exec, &st.name, entered);
        let err_out = e.to_output();
        let (out, assigned) = if st.lang == Lang::Jsonata {
            let states = lang_states(raw, &ctx, None, Some(&err_out));
            let env = Env { input: raw, context: &ctx, vars: &frame.vars };
            let a = self.assign(c.assign.as_ref(), &env, Some(&states))?;
            let out = match &c.output {
                Some(t) => t.eval(&env, Some(&states))?,
                None => err_out,
            };
            (out, a)
        } else {
            let env = Env { input: &err_out, context: &ctx, vars: &frame.vars };
            let a = self.assign(c.assign.as_ref(), &env, None)?;
            (apply_result_path(&c.result_path, raw, err_out)?, a)
        };
        let shown = Self::store(frame, assigned);
        Ok((out, Some(c.next), shown))
    }

    /// After a Task/Parallel/Map produced `result`: ResultSelector, Assign,
    /// ResultPath, OutputPath (JSONPath) or Assign, Output (JSONata).
    fn finish(
        &self,
        st: &State,
        raw: &Value,
        result: Value,
        ctx: &ContextObject<'_>,
        frame: &mut Frame,
    ) -> Flow<(Value, Option<BTreeMap<String, String>>)> {
        let (out, assigned) = if st.lang == Lang::Jsonata {
            let states = lang_states(raw, ctx, Some(&result), None);
            let env = Env { input: raw, context: ctx, vars: &frame.vars };
            let a = self.assign(st.assign.as_ref(), &env, Some(&states))?;
            let out = match &st.output {
                Some(t) => t.eval(&env, Some(&states))?,
                None => result,
            };
            (out, a)
        } else {
            let result = match &st.result_selector {
                Some(t) => t.eval(&Env { input: &result, context: ctx, vars: &frame.vars }, None)?,
                None => result,
            };
            let a = self.assign(st.assign.as_ref(), &Env { input: &result, context: ctx, vars: &frame.vars }, None)?;
            let out = apply_result_path(&st.result_path, raw, result)?;
            (apply_output_path(&st.output_path, out, ctx, &frame.vars)?, a)
        };
        Ok((out, Self::store(frame, assigned)))
    }

    /// The value a Task/Parallel passes on: Parameters/Arguments applied to
    /// the effective input.
    fn effective_parameters(
        &self,
        st: &State,
        raw: &Value,
        ctx: &ContextObject<'_>,
        vars: &Vars,
    ) -> Result<(Value, Value), ErrorInfo> {
        if st.lang == Lang::Jsonata {
            let states = lang_states(raw, ctx, None, None);
            let env = Env { input: raw, context: ctx, vars };
            let args = match &st.parameters {
                Some(t) => t.eval(&env, Some(&states))?,
                None => raw.clone(),
            };
            Ok((raw.clone(), args))
        } else {
            let env = Env { input: raw, context: ctx, vars };
            let effective = apply_input_path(&st.input_path, &env)?;
            let env = Env { input: &effective, context: ctx, vars };
            let params = match &st.parameters {
                Some(t) => t.eval(&env, None)?,
                None => effective.clone(),
            };
            Ok((effective, params))
        }
    }

    async fn task_attempt(
        &self,
        st: &State,
        raw: &Value,
        entered: OffsetDateTime,
        retry_count: u32,
        frame: &mut Frame,
    ) -> Flow<(Value, Option<BTreeMap<String, String>>)> {
        let Kind::Task { resource, timeout, heartbeat, credentials } = &st.kind else {
            return unreachable_kind();
        };
        let token = resource.ends_with(".waitForTaskToken").then(|| uuid::Uuid::new_v4().to_string());
        let mut ctx = ContextObject::new(&self.exec, &st.name, entered);
        ctx.retry_count = retry_count;
        ctx.task_token = token.as_deref();
        let (effective, params) = self.effective_parameters(st, raw, &ctx, &frame.vars)?;
        self.check_size(&params, "input", &st.name)?;
        let states = (st.lang == Lang::Jsonata).then(|| lang_states(raw, &ctx, None, None));
        let env = Env { input: &effective, context: &ctx, vars: &frame.vars };
        let timeout_s =
            timeout.as_ref().map(|t| self.dyn_u64(t, &env, states.as_ref(), "TimeoutSeconds")).transpose()?;
        let heartbeat_s =
            heartbeat.as_ref().map(|t| self.dyn_u64(t, &env, states.as_ref(), "HeartbeatSeconds")).transpose()?;
        let credentials = credentials.as_ref().map(|c| c.eval(&env, states.as_ref())).transpose()?;
        let kind = TaskEvents::for_resource(resource);
        self.emit(
            frame,
            || kind.name("Scheduled"),
            || Some(kind.scheduled(json_text(&params), timeout_s, heartbeat_s)),
        )?;
        self.emit(frame, || kind.name("Started"), || kind.started())?;
        let tctx = TaskContext {
            execution_id: self.exec.id.clone(),
            execution_name: self.exec.name.clone(),
            state_name: st.name.clone(),
            retry_count,
            task_token: token.clone(),
            timeout_seconds: timeout_s,
            heartbeat_seconds: heartbeat_s,
            credentials,
            heartbeat: Heartbeat::default(),
        };
        let call = self.invoker.invoke(resource, params, &tctx);
        let hb = heartbeat_s.map(|s| (Duration::from_secs(s), &tctx.heartbeat));
        let result = match self.guard(call, timeout_s.map(Duration::from_secs), hb).await {
            Guarded::Done(Ok(v)) => {
                if let Err(e) = self.check_size(&v, "task result", &st.name) {
                    dispose(v);
                    return Err(Halt::Error(e));
                }
                self.emit(frame, || kind.name("Succeeded"), || Some(kind.succeeded(json_text(&v))))?;
                v
            }
            Guarded::Done(Err(te)) => {
                let e = ErrorInfo::new(te.error, te.cause.unwrap_or_default());
                self.emit(frame, || kind.name("Failed"), || Some(kind.failed(&e, false)))?;
                return Err(Halt::Error(e));
            }
            g @ (Guarded::TaskTimedOut | Guarded::HeartbeatTimedOut) => {
                let e = if matches!(g, Guarded::HeartbeatTimedOut) {
                    ErrorInfo::new(
                        names::HEARTBEAT_TIMEOUT,
                        format!("The task in state '{}' sent no heartbeat for {}s", st.name, heartbeat_s.unwrap_or(0)),
                    )
                } else {
                    ErrorInfo::new(
                        names::TIMEOUT,
                        format!("The task in state '{}' timed out after {}s", st.name, timeout_s.unwrap_or(0)),
                    )
                };
                self.emit(frame, || kind.name("TimedOut"), || Some(kind.failed(&e, true)))?;
                return Err(Halt::Error(e));
            }
            Guarded::ExecutionTimedOut => return Err(Halt::TimedOut),
            Guarded::Aborted => return Err(Halt::Aborted),
        };
        self.finish(st, raw, result, &ctx, frame)
    }

    async fn parallel_attempt(
        &self,
        st: &State,
        branches: &[Machine],
        raw: &Value,
        entered: OffsetDateTime,
        retry_count: u32,
        frame: &mut Frame,
    ) -> Flow<(Value, Option<BTreeMap<String, String>>)> {
        let mut ctx = ContextObject::new(&self.exec, &st.name, entered);
        ctx.retry_count = retry_count;
        let (_, branch_input) = self.effective_parameters(st, raw, &ctx, &frame.vars)?;
        self.emit(frame, || "ParallelStateStarted".into(), || None)?;
        let start_id = frame.prev;
        let runs = branches.iter().map(|b| {
            let input = branch_input.clone();
            let vars = frame.vars.clone();
            async move {
                let mut f = Frame { vars, prev: start_id };
                self.run_machine(b, b.start, input, &mut f).await
            }
        });
        match futures::future::try_join_all(runs).await {
            Ok(outs) => {
                self.emit(frame, || "ParallelStateSucceeded".into(), || None)?;
                self.finish(st, raw, Value::Array(outs), &ctx, frame)
            }
            Err(h) => {
                let ty = if matches!(h, Halt::Error(_)) { "ParallelStateFailed" } else { "ParallelStateAborted" };
                self.emit(frame, || ty.into(), || None)?;
                Err(h)
            }
        }
    }

    async fn map_attempt(
        &self,
        st: &State,
        spec: &MapSpec,
        raw: &Value,
        entered: OffsetDateTime,
        retry_count: u32,
        frame: &mut Frame,
    ) -> Flow<(Value, Option<BTreeMap<String, String>>)> {
        let mut ctx = ContextObject::new(&self.exec, &st.name, entered);
        ctx.retry_count = retry_count;
        let ata = st.lang == Lang::Jsonata;
        let states = ata.then(|| lang_states(raw, &ctx, None, None));
        let effective = if ata {
            raw.clone()
        } else {
            apply_input_path(&st.input_path, &Env { input: raw, context: &ctx, vars: &frame.vars })?
        };
        let env = Env { input: &effective, context: &ctx, vars: &frame.vars };
        let items = if ata {
            match &spec.items {
                Some(t) => t.eval(&env, states.as_ref())?,
                None => raw.clone(),
            }
        } else {
            match &spec.items_path {
                PathOpt::Path(p) => env.resolve(p)?.into_owned(),
                PathOpt::Default => effective.clone(),
                PathOpt::Null => Value::Object(Map::new()),
            }
        };
        if let (Some(Template::Jsonata { expr, .. }), false) = (&spec.items, items.is_array()) {
            // AWS's wording, as seen in a real run's cause ("The JSONata
            // expression '$restorableJobs' specified for the field 'Items'
            // returned an unexpected result type. Expected 'array', but was
            // 'object'") and in LocalStack's AWS-recorded snapshots.
            let kind = match &items {
                Value::Null => "null",
                Value::Bool(_) => "boolean",
                Value::Number(_) => "number",
                Value::String(_) => "string",
                Value::Object(_) | Value::Array(_) => "object",
            };
            return Err(Halt::Error(ErrorInfo::query(format!(
                "The JSONata expression '{expr}' specified for the field 'Items' returned an unexpected result type. \
                 Expected 'array', but was '{kind}' for value: {items}"
            ))));
        }
        let Value::Array(items) = items else {
            // AWS's cause for this case is not on record (see the
            // conformance case); this follows the shape of AWS's causes for
            // the other `…Path` fields that name a value of the wrong type.
            let cause = match &spec.items_path {
                PathOpt::Path(p) => {
                    format!("The ItemsPath field refers to value \"{}\" which is not a valid array: {p}", bare(&items))
                }
                _ => format!("The Map state's input must be an array but was {}", type_word(&items)),
            };
            return Err(Halt::Error(ErrorInfo::runtime(cause)));
        };
        let max_conc = match &spec.max_concurrency {
            Dyn::Path(p) => max_concurrency_from_path(&*env.resolve(p)?, p)?,
            d => self.dyn_u64(d, &env, states.as_ref(), "MaxConcurrency")?,
        };
        let max_conc = usize::try_from(max_conc).unwrap_or(usize::MAX);
        let tol_count = match &spec.tolerated_count {
            Some(Dyn::Path(p)) => Some(tolerated_count_from_path(&*env.resolve(p)?, p)?),
            Some(d) => Some(self.dyn_u64(d, &env, states.as_ref(), "ToleratedFailureCount")?),
            None => None,
        };
        let tol_pct = match &spec.tolerated_percentage {
            Some(Dyn::Fixed(p)) => Some(*p),
            Some(Dyn::Path(p)) => Some(tolerated_percentage_from_path(&*env.resolve(p)?, p)?),
            Some(Dyn::Jsonata(e)) => {
                let v = jsonata::eval(
                    e,
                    "ToleratedFailurePercentage",
                    states.as_ref().unwrap_or(&Value::Null),
                    &frame.vars,
                )?;
                match v.as_f64() {
                    Some(p) if (0.0..=100.0).contains(&p) => Some(p),
                    Some(_) => return Err(Halt::Error(ErrorInfo::query(PERCENTAGE_RANGE))),
                    None => {
                        return Err(Halt::Error(ErrorInfo::query(format!(
                            "ToleratedFailurePercentage must evaluate to a number, got {v}"
                        ))));
                    }
                }
            }
            None => None,
        };
        // Each iteration's input: ItemSelector with $$.Map.Item, or the item.
        let mut inputs = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match &spec.item_selector {
                Some(t) => {
                    let mut ictx = ContextObject::new(&self.exec, &st.name, entered);
                    ictx.map_item = Some((i, item));
                    let ienv = Env { input: &effective, context: &ictx, vars: &frame.vars };
                    let istates = if ata {
                        let mut s = lang_states(raw, &ictx, None, None);
                        // JSONata ItemSelector reads the item from $states.context.Map.Item.Value.
                        s["context"] = ictx.value().clone();
                        Some(s)
                    } else {
                        None
                    };
                    inputs.push(t.eval(&ienv, istates.as_ref())?);
                }
                None => inputs.push(item.clone()),
            }
        }
        drop(items);
        let n = inputs.len();
        self.emit(frame, || "MapStateStarted".into(), || Some(EventDetails::MapStateStarted { length: n }))?;
        let start_id = frame.prev;
        let name = &st.name;
        let processor = &spec.processor;
        let tolerant = tol_count.is_some() || tol_pct.is_some();
        let base_vars = frame.vars.clone();
        let vars = &base_vars;
        let iterations = futures::stream::iter(inputs.into_iter().enumerate()).map(|(i, input)| {
            let vars = vars.clone();
            async move {
                let mut f = Frame { vars, prev: start_id };
                self.emit(
                    &mut f,
                    || "MapIterationStarted".into(),
                    || Some(EventDetails::MapIterationStarted { name: name.clone(), index: i }),
                )?;
                let r = self.run_machine(processor, processor.start, input, &mut f).await;
                match &r {
                    Ok(_) => self.emit(
                        &mut f,
                        || "MapIterationSucceeded".into(),
                        || Some(EventDetails::MapIterationSucceeded { name: name.clone(), index: i }),
                    ),
                    Err(Halt::Error(_)) => self.emit(
                        &mut f,
                        || "MapIterationFailed".into(),
                        || Some(EventDetails::MapIterationFailed { name: name.clone(), index: i }),
                    ),
                    Err(_) => self.emit(
                        &mut f,
                        || "MapIterationAborted".into(),
                        || Some(EventDetails::MapIterationAborted { name: name.clone(), index: i }),
                    ),
                }?;
                r
            }
        });
        let limit = if max_conc == 0 { n.max(1) } else { max_conc };
        let mut outs = Vec::with_capacity(n);
        let mut failed = 0usize;
        let mut failure: Option<Halt> = None;
        {
            // Leaving this block drops the stream, cancelling any iterations
            // still running after a failure.
            let mut stream = pin!(iterations.buffered(limit));
            while let Some(r) = stream.next().await {
                match r {
                    Ok(v) => outs.push(v),
                    Err(Halt::Error(e)) if tolerant && !e.is_terminal() => {
                        failed += 1;
                        outs.push(e.to_output());
                    }
                    Err(h) => {
                        failure = Some(h);
                        break;
                    }
                }
            }
        }
        if failure.is_none() && tolerant {
            let over_count = tol_count.is_some_and(|c| failed as u64 > c);
            let over_pct = tol_pct.is_some_and(|p| n > 0 && (failed as f64) * 100.0 / (n as f64) > p);
            let over = match (tol_count, tol_pct) {
                (Some(_), Some(_)) => over_count && over_pct,
                _ => over_count || over_pct,
            };
            if over {
                failure = Some(Halt::Error(ErrorInfo::new(
                    names::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                    format!("The Map state '{}' had {failed} failed item(s) of {n}, more than tolerated", st.name),
                )));
            }
        }
        if let Some(h) = failure {
            let ty = if matches!(h, Halt::Error(_)) { "MapStateFailed" } else { "MapStateAborted" };
            self.emit(frame, || ty.into(), || None)?;
            return Err(h);
        }
        self.emit(frame, || "MapStateSucceeded".into(), || None)?;
        self.finish(st, raw, Value::Array(outs), &ctx, frame)
    }
}

/// Which family of history events a Task records: AWS reports a plain Lambda
/// function ARN with `LambdaFunction…` events and everything else (service
/// integrations such as `arn:aws:states:::lambda:invoke`, activities) with
/// `Task…` events.
enum TaskEvents {
    Lambda { arn: String },
    Task { resource_type: String, resource: String },
}

impl TaskEvents {
    fn for_resource(resource: &str) -> Self {
        if resource.starts_with("arn:aws:lambda:") {
            TaskEvents::Lambda { arn: resource.to_string() }
        } else {
            let (resource_type, resource) = resource_parts(resource);
            TaskEvents::Task { resource_type, resource }
        }
    }

    fn name(&self, what: &str) -> String {
        match self {
            TaskEvents::Lambda { .. } => format!("LambdaFunction{what}"),
            TaskEvents::Task { .. } => format!("Task{what}"),
        }
    }

    fn scheduled(&self, input: String, timeout: Option<u64>, heartbeat: Option<u64>) -> EventDetails {
        match self {
            TaskEvents::Lambda { arn } => EventDetails::LambdaFunctionScheduled {
                resource: arn.clone(),
                input,
                input_details: PayloadDetails::default(),
                timeout_in_seconds: timeout,
            },
            TaskEvents::Task { resource_type, resource } => EventDetails::TaskScheduled {
                resource_type: resource_type.clone(),
                resource: resource.clone(),
                region: "us-east-1".into(),
                parameters: input,
                timeout_in_seconds: timeout,
                heartbeat_in_seconds: heartbeat,
            },
        }
    }

    fn started(&self) -> Option<EventDetails> {
        match self {
            TaskEvents::Lambda { .. } => None,
            TaskEvents::Task { resource_type, resource } => {
                Some(EventDetails::TaskStarted { resource_type: resource_type.clone(), resource: resource.clone() })
            }
        }
    }

    fn succeeded(&self, output: String) -> EventDetails {
        match self {
            TaskEvents::Lambda { .. } => {
                EventDetails::LambdaFunctionSucceeded { output, output_details: PayloadDetails::default() }
            }
            TaskEvents::Task { resource_type, resource } => EventDetails::TaskSucceeded {
                resource_type: resource_type.clone(),
                resource: resource.clone(),
                output,
                output_details: PayloadDetails::default(),
            },
        }
    }

    fn failed(&self, e: &ErrorInfo, timed_out: bool) -> EventDetails {
        let (error, cause) = (e.error.clone(), e.cause.clone());
        match (self, timed_out) {
            (TaskEvents::Lambda { .. }, false) => EventDetails::LambdaFunctionFailed { error, cause },
            (TaskEvents::Lambda { .. }, true) => EventDetails::LambdaFunctionTimedOut { error, cause },
            (TaskEvents::Task { resource_type, resource }, false) => EventDetails::TaskFailed {
                resource_type: resource_type.clone(),
                resource: resource.clone(),
                error,
                cause,
            },
            (TaskEvents::Task { resource_type, resource }, true) => EventDetails::TaskTimedOut {
                resource_type: resource_type.clone(),
                resource: resource.clone(),
                error,
                cause,
            },
        }
    }
}

fn type_word(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn unreachable_kind<T>() -> Flow<T> {
    Err(Halt::Error(ErrorInfo::runtime("internal error: state kind mismatch")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_100000_deep_is_disposed_of_on_a_small_stack() {
        let dropped = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let mut v = Value::Null;
                for _ in 0..100_000 {
                    v = Value::Array(vec![v, Value::from(1)]);
                }
                assert!(nested_deeper_than(&v, MAX_PAYLOAD_NESTING));
                dispose(v);
            })
            .expect("thread")
            .join();
        assert!(dropped.is_ok());
    }
}

//! Step Functions on the local stack: the template's state machines, loaded and validated at start-up, and their
//! executions — started, listed, described, stopped — run on the stack's tokio runtime, their Task states invoking
//! the stack's own functions ([`StackTasks`], through the [`FunctionInvoker`] the composition root hands over).
//!
//! [`Executions`] is a cheap handle's inner state behind an `Arc`; the tasks that run executions hold it `Weak`,
//! so dropping the stack stops them where they are, exactly as a process stopping would.
//!
//! Each execution lives in `<data>/executions/<machine>/<name>/` (names as [`dir_name`] stores them; the name
//! itself is in the record): `record.json` (what DescribeExecution answers,
//! replaced atomically), `history.jsonl` (the engine's events, appended as they happen) and `lock`, an exclusive
//! file lock held for as long as a process runs the execution. The lock is what makes a restart safe: whoever holds
//! it runs the execution, so two processes (or a stopping and a starting stack) never run it at once, and a
//! process that dies releases it. At start-up every execution still `RUNNING` is resumed from its history, or
//! failed with a cause saying why when that is impossible; none is left running forever or silently lost. A last
//! history line a crash cut short is repaired before anything more is appended, and an execution whose history
//! cannot be written is stopped and failed saying so, so its record and its history never silently disagree.
//! Every execution runs in a task of its own that a watcher awaits: one that panics (in the engine, or while
//! resuming) is failed saying so, never left `RUNNING` for the next start to resume and panic on again, and the
//! stack serves on. GetExecutionHistory reads one page of the history file, not all of it ([`history`]).
//!
//! A storage failure reaches API callers as an `InternalFailure` that names no server path; the path is in the log.

mod history;

pub use history::HistoryCost;

use crate::{FunctionInvoker, decl::StateMachineDecl};
use local_core::{
    Arn, Identity, files,
    page::{self, DEFAULT_PAGE, InvalidToken, Order, Page, paginate},
};
use local_template::TemplateError;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use states::{
    AbortHandle, EventDetails, HistoryEvent, Outcome, ResumePoint, RunOptions, TaskContext, TaskError, TaskInvoker,
    TokioClock,
};
use std::{
    borrow::Cow,
    collections::HashMap,
    fs,
    io::{self, Write},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, Weak},
    time::Duration,
};
use time::OffsetDateTime;
use tokio::sync::watch;

/// StartExecution's input limit, as on AWS.
pub const MAX_INPUT_BYTES: usize = 256 * 1024;
/// The error an execution fails with when a restart cannot pick it up again.
pub const INTERRUPTED_ERROR: &str = "States.Runtime";

/// A state machine of the template, ready to run.
pub struct Machine {
    pub logical_id: String,
    pub name: String,
    pub arn: String,
    /// The definition after `DefinitionSubstitutions`, as DescribeStateMachine returns it.
    pub definition: String,
    pub machine: states::StateMachine,
    /// When this stack loaded it (the local stand-in for `creationDate`).
    pub loaded_at: OffsetDateTime,
}

/// Why a state machine of the template cannot be loaded; start-up fails with it.
#[derive(Debug, thiserror::Error)]
pub enum MachineError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("state machine {machine}: DefinitionSubstitutions: {source}")]
    Substitution { machine: String, source: states::SubstitutionError },
    #[error("state machine {machine}: invalid definition: {}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid { machine: String, problems: Vec<states::Problem> },
    #[error("state machine {machine}: the name `{name}` is not a valid state machine name")]
    Name { machine: String, name: String },
}

impl Machine {
    pub fn load(decl: &StateMachineDecl, identity: &Identity) -> Result<Self, MachineError> {
        let machine = decl.logical_id.clone();
        if validate_name(&decl.name).is_err() {
            return Err(MachineError::Name { machine, name: decl.name.clone() });
        }
        let text = decl.definition_text()?;
        let values = decl.substitutions.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let definition = states::apply_substitutions(&text, &values)
            .map_err(|source| MachineError::Substitution { machine: machine.clone(), source })?;
        let parsed = states::validate(&definition).map_err(|problems| MachineError::Invalid { machine, problems })?;
        Ok(Self {
            logical_id: decl.logical_id.clone(),
            name: decl.name.clone(),
            arn: identity.state_machine_arn(&decl.name).to_string(),
            definition,
            machine: parsed,
            loaded_at: OffsetDateTime::now_utc(),
        })
    }

    fn start_at(&self) -> Option<String> {
        serde_json::from_str::<Value>(&self.definition).ok()?.get("StartAt")?.as_str().map(str::to_owned)
    }
}

/// What the Step Functions API reports, by meaning; `code` is the `__type` AWS answers with.
#[derive(Debug, thiserror::Error)]
pub enum ExecutionError {
    #[error("State Machine Does Not Exist: '{0}'")]
    StateMachineDoesNotExist(String),
    #[error("Execution Does Not Exist: '{0}'")]
    ExecutionDoesNotExist(String),
    #[error("Execution Already Exists: '{0}'")]
    ExecutionAlreadyExists(String),
    #[error("{0}")]
    InvalidName(String),
    #[error("{0}")]
    InvalidArn(String),
    #[error("{0}")]
    InvalidExecutionInput(String),
    #[error("Invalid Token: '{0}'")]
    InvalidToken(String),
    #[error("{0}")]
    Validation(String),
    /// The local stack's own files failed it. The message (which callers see) leaves out the path; [`storage`]
    /// logs it.
    #[error("the local stack could not read or write this execution's files: {source}")]
    Storage { path: PathBuf, source: io::Error },
}

impl ExecutionError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::StateMachineDoesNotExist(_) => "StateMachineDoesNotExist",
            Self::ExecutionDoesNotExist(_) => "ExecutionDoesNotExist",
            Self::ExecutionAlreadyExists(_) => "ExecutionAlreadyExists",
            Self::InvalidName(_) => "InvalidName",
            Self::InvalidArn(_) => "InvalidArn",
            Self::InvalidExecutionInput(_) => "InvalidExecutionInput",
            Self::InvalidToken(_) => "InvalidToken",
            Self::Validation(_) => "ValidationException",
            Self::Storage { .. } => "InternalFailure",
        }
    }

    /// Whether the caller's request was at fault (a 400) rather than the local stack (a 500).
    pub fn is_client_error(&self) -> bool {
        !matches!(self, Self::Storage { .. })
    }
}

impl From<InvalidToken> for ExecutionError {
    fn from(e: InvalidToken) -> Self {
        Self::InvalidToken(e.0)
    }
}

/// A storage error on `path`, logged with the path unless it is only a file not being there (which callers tell
/// apart with [`is_missing`], e.g. an execution that does not exist).
fn storage(path: &Path) -> impl FnOnce(io::Error) -> ExecutionError + '_ {
    move |source| {
        if source.kind() != io::ErrorKind::NotFound {
            tracing::error!(path = %path.display(), error = %source, "execution storage failed");
        }
        ExecutionError::Storage { path: path.to_owned(), source }
    }
}

/// The directory an execution or state machine name is stored under. A name of ASCII characters is its own directory
/// name, as it always was. Any other name is stored as `<its first ASCII letters and digits, at most 24>~<the first
/// 128 bits of its SHA-256, in hex>`: a name may have 80 characters of 4 bytes each, 320 bytes, over the 255 a file
/// name may have. `~` is not allowed in names, so an encoded name never equals a plain one.
///
/// Directories of earlier versions, which stored every name as it is, keep working: [`Executions::dir`] uses such a
/// directory when it exists, and listing and resuming read every directory's record, whatever its name.
pub fn dir_name(name: &str) -> Cow<'_, str> {
    use sha2::Digest;
    if name.is_ascii() {
        return Cow::Borrowed(name);
    }
    let readable: String = name.chars().filter(char::is_ascii_alphanumeric).take(24).collect();
    let digest = sha2::Sha256::digest(name.as_bytes());
    Cow::Owned(format!("{readable}~{}", local_core::hex(&digest[..16])))
}

/// `parent/<name>` as [`dir_name`] stores it, or as an earlier version did when that directory exists.
fn name_dir(parent: &Path, name: &str) -> PathBuf {
    let encoded = parent.join(&*dir_name(name));
    // Longer than a file name may be: no earlier version can have made it.
    if name.is_ascii() || name.len() > 255 {
        return encoded;
    }
    let legacy = parent.join(name);
    if legacy.is_dir() && !encoded.exists() { legacy } else { encoded }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
}

impl ExecutionStatus {
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(Value::String(s.to_owned())).ok()
    }
}

impl From<states::Status> for ExecutionStatus {
    fn from(s: states::Status) -> Self {
        match s {
            states::Status::Succeeded => Self::Succeeded,
            states::Status::Failed => Self::Failed,
            states::Status::TimedOut => Self::TimedOut,
            states::Status::Aborted => Self::Aborted,
        }
    }
}

/// An execution as persisted in `record.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionRecord {
    pub execution_arn: String,
    pub state_machine_arn: String,
    pub name: String,
    pub status: ExecutionStatus,
    /// The input as the caller sent it (JSON text).
    pub input: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub start_date: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub stop_date: Option<OffsetDateTime>,
    /// How many times a restarted stack picked this execution up again (its running state may have run twice).
    #[serde(default)]
    pub resumed: u32,
}

/// Names as AWS accepts them: 1–80 characters, no whitespace, brackets, wildcards, control characters or
/// ``" # % \ ^ | ~ ` $ & , ; : /``. `.` and `..` are refused too, as they name directories here.
pub fn validate_name(name: &str) -> Result<(), ExecutionError> {
    let len = name.chars().count();
    let bad = name.chars().find(|c| {
        c.is_whitespace() || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(*c) || matches!(*c as u32, 0..=0x1f | 0x7f..=0x9f)
    });
    match (len, bad) {
        (0, _) | (81.., _) => {
            Err(ExecutionError::InvalidName(format!("Invalid Name: '{name}' (a name has 1 to 80 characters)")))
        }
        (_, Some(c)) => Err(ExecutionError::InvalidName(format!("Invalid Name: '{name}' (it may not contain {c:?})"))),
        _ if name == "." || name == ".." => Err(ExecutionError::InvalidName(format!("Invalid Name: '{name}'"))),
        _ => Ok(()),
    }
}

/// `(machine name, execution name)` of `arn:aws:states:<region>:<account>:execution:<machine>:<name>`.
pub fn parse_execution_arn(arn: &str) -> Result<(String, String), ExecutionError> {
    let invalid =
        || ExecutionError::InvalidArn(format!("Invalid Arn: 'Resource type not valid in this context: {arn}'"));
    let parsed: Arn = arn.parse().map_err(|_| invalid())?;
    let (machine, name) = match parsed.resource_of("execution").filter(|_| parsed.service == "states") {
        Some(rest) => rest.split_once(':').ok_or_else(invalid)?,
        None => return Err(invalid()),
    };
    validate_name(machine).map_err(|_| invalid())?;
    validate_name(name).map_err(|_| invalid())?;
    Ok((machine.to_owned(), name.to_owned()))
}

/// What StartExecution asks for.
#[derive(Debug, Clone, Default)]
pub struct StartRequest {
    pub state_machine_arn: String,
    pub name: Option<String>,
    pub input: Option<String>,
}

/// What StopExecution records as the reason.
#[derive(Debug, Clone, Default)]
pub struct StopReason {
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// The handle on an execution this process runs: how to stop it, and when it has finished.
struct Control {
    abort: AbortHandle,
    stop: Mutex<Option<StopReason>>,
    done: watch::Sender<bool>,
}

/// An execution this process runs, by ARN: its control, and its task once spawned.
type Running = (Arc<Control>, Option<tokio::task::JoinHandle<()>>);

pub struct Executions {
    root: PathBuf,
    identity: Identity,
    machines: Vec<Arc<Machine>>,
    /// What Task states invoke.
    functions: Arc<dyn FunctionInvoker>,
    /// This, for the tasks that run executions: weak, so running executions do not keep a stopped stack alive.
    this: Weak<Executions>,
    running: Mutex<HashMap<String, Running>>,
    /// Makes "does this name exist? then create it, lock it, record it and register it" atomic within the process
    /// (across processes `create_dir` and the lock are). A tokio mutex, because it is held while the file work runs
    /// on the blocking pool: waiting starts then wait as tasks, not by blocking a runtime worker thread.
    starting: Arc<tokio::sync::Mutex<()>>,
}

/// What [`claim`] found under an execution's name.
enum Claim {
    /// A new execution, recorded and locked: this process runs it.
    New(ExecutionRecord, fs::File),
    /// The name's running execution with the same input, which StartExecution gives back.
    Existing(ExecutionRecord),
}

impl Executions {
    pub fn new(
        data_dir: &Path,
        identity: Identity,
        machines: Vec<Machine>,
        functions: Arc<dyn FunctionInvoker>,
    ) -> Arc<Self> {
        Arc::new_cyclic(|this| Self {
            root: data_dir.join("executions"),
            identity,
            machines: machines.into_iter().map(Arc::new).collect(),
            functions,
            this: this.clone(),
            running: Mutex::default(),
            starting: Arc::default(),
        })
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    pub fn machines(&self) -> &[Arc<Machine>] {
        &self.machines
    }

    /// A state machine by ARN.
    pub fn machine(&self, arn: &str) -> Result<&Arc<Machine>, ExecutionError> {
        let parsed = arn.parse::<Arn>().ok();
        if parsed.is_none_or(|a| a.service != "states" || a.resource_of("stateMachine").is_none()) {
            return Err(ExecutionError::InvalidArn(format!(
                "Invalid Arn: 'Resource type not valid in this context: {arn}'"
            )));
        }
        self.machines
            .iter()
            .find(|m| m.arn == arn)
            .ok_or_else(|| ExecutionError::StateMachineDoesNotExist(arn.to_owned()))
    }

    fn dir(&self, machine: &str, name: &str) -> PathBuf {
        name_dir(&name_dir(&self.root, machine), name)
    }

    /// StartExecution. Idempotent as on AWS: the same name and input as a running execution give that execution
    /// back (nothing new runs); a closed execution's name, or a different input, is `ExecutionAlreadyExists`.
    pub async fn start(&self, req: StartRequest) -> Result<ExecutionRecord, ExecutionError> {
        let machine = self.machine(&req.state_machine_arn)?.clone();
        let name = req.name.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        validate_name(&name)?;
        let input_text = req.input.unwrap_or_else(|| "{}".to_owned());
        if input_text.len() > MAX_INPUT_BYTES {
            return Err(ExecutionError::InvalidExecutionInput(format!("the input is over {MAX_INPUT_BYTES} bytes")));
        }
        let input: Value = serde_json::from_str(&input_text).map_err(|e| {
            ExecutionError::InvalidExecutionInput(format!("Invalid State Machine Execution Input: '{e}'"))
        })?;
        let dir = self.dir(&machine.name, &name);
        let record = ExecutionRecord {
            execution_arn: self.identity.execution_arn(&machine.name, &name).to_string(),
            state_machine_arn: machine.arn.clone(),
            name,
            status: ExecutionStatus::Running,
            input: input_text,
            output: None,
            error: None,
            cause: None,
            start_date: OffsetDateTime::now_utc(),
            stop_date: None,
            resumed: 0,
        };
        // The rest runs as a task of its own: were it part of this future, a caller going away (an HTTP client
        // disconnecting) could drop it after the execution is recorded RUNNING but before anything runs it.
        let (starting, stack, root) = (self.starting.clone(), self.this.clone(), self.root.clone());
        let started = tokio::spawn(async move {
            let _starting = starting.lock_owned().await;
            // Creating the directory, writing the history and the record (with its `sync_all`) block: they run on
            // the blocking pool, not on a runtime worker thread.
            let (claim_dir, fresh) = (dir.clone(), input.clone());
            let claimed = tokio::task::spawn_blocking(move || claim(&root, &claim_dir, record, &input))
                .await
                .map_err(|e| storage(&dir)(io::Error::other(e)))??;
            let (record, lock) = match claimed {
                Claim::Existing(record) => return Ok(record),
                Claim::New(record, lock) => (record, lock),
            };
            // Without the stack (it is being dropped) the execution stays RUNNING on disk, as every execution of a
            // stopping stack does, and the next stack over this data directory resumes it.
            if let Some(owner) = stack.upgrade() {
                let control = owner.register(&record.execution_arn);
                let watch = Watch {
                    stack: stack.clone(),
                    dir: dir.clone(),
                    arn: record.execution_arn.clone(),
                    control: control.clone(),
                    resuming: false,
                };
                let run =
                    Run { stack, machine, dir, record: record.clone(), begin: Begin::Fresh(fresh), lock, control };
                owner.attach(&record.execution_arn, tokio::spawn(watch.run(drive(run))));
            }
            Ok(record)
        });
        started.await.map_err(|e| storage(&self.root)(io::Error::other(e)))?
    }

    fn register(&self, arn: &str) -> Arc<Control> {
        let control =
            Arc::new(Control { abort: AbortHandle::new(), stop: Mutex::default(), done: watch::channel(false).0 });
        self.running.lock().unwrap_or_else(|p| p.into_inner()).insert(arn.to_owned(), (control.clone(), None));
        control
    }

    fn attach(&self, arn: &str, task: tokio::task::JoinHandle<()>) {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        match running.get_mut(arn) {
            Some(entry) => entry.1 = Some(task),
            None => drop(running), // it already finished
        }
    }

    /// How many executions this process is running now (for a stack waiting to come to rest).
    pub fn running_count(&self) -> usize {
        self.running.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    fn finished(&self, arn: &str) {
        self.running.lock().unwrap_or_else(|p| p.into_inner()).remove(arn);
    }

    /// DescribeExecution. Only a missing record means the execution does not exist; one that cannot be read is a
    /// storage error (a 500, logged where the API answers), never reported as a missing execution.
    pub fn describe(&self, arn: &str) -> Result<ExecutionRecord, ExecutionError> {
        let (machine, name) = parse_execution_arn(arn)?;
        read_record(&self.dir(&machine, &name))
            .map_err(|e| if is_missing(&e) { ExecutionError::ExecutionDoesNotExist(arn.to_owned()) } else { e })
    }

    /// ListExecutions: newest first, optionally only those with `status`. A page's token carries the last
    /// listed execution's start date and name, so executions started between pages shift nothing, and the request's
    /// machine and filter, so it continues no other listing.
    pub fn list(
        &self,
        machine_arn: &str,
        status: Option<ExecutionStatus>,
        max_results: usize,
        next_token: Option<&str>,
    ) -> Result<Page<ExecutionRecord>, ExecutionError> {
        let machine = self.machine(machine_arn)?;
        let dir = name_dir(&self.root, &machine.name);
        let mut records = Vec::new();
        match fs::read_dir(&dir) {
            Ok(entries) => {
                for entry in entries {
                    let entry = entry.map_err(storage(&dir))?;
                    // A directory whose record is not written yet is an execution still being created: not listed.
                    match read_record(&entry.path()) {
                        Ok(r) if status.is_none_or(|s| s == r.status) => records.push(r),
                        Ok(_) => {}
                        Err(e) if is_missing(&e) => {}
                        Err(e) => tracing::warn!(error = %e, "an unreadable execution record is left out of the list"),
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(storage(&dir)(e)),
        }
        let key = |r: &ExecutionRecord| (r.start_date.unix_timestamp_nanos(), r.name.clone());
        records.sort_by_key(|r| std::cmp::Reverse(key(r)));
        let request = json!({"stateMachineArn": machine.arn, "statusFilter": status});
        Ok(paginate(records, &request, key, Order::Descending, max_results, next_token)?)
    }

    /// GetExecutionHistory: events as the API shapes them (timestamps in epoch seconds), oldest first unless
    /// `reverse`. A page's token carries the last event's id (the history only grows) and the execution and order
    /// it was issued for. Only the page is read from the history file ([`history`]).
    pub fn history(
        &self,
        arn: &str,
        reverse: bool,
        max_results: usize,
        next_token: Option<&str>,
    ) -> Result<Page<Value>, ExecutionError> {
        self.history_counted(arn, reverse, max_results, next_token).map(|(page, _)| page)
    }

    /// [`Executions::history`], and what reading the page cost.
    pub fn history_counted(
        &self,
        arn: &str,
        reverse: bool,
        max_results: usize,
        next_token: Option<&str>,
    ) -> Result<(Page<Value>, HistoryCost), ExecutionError> {
        self.describe(arn)?; // a missing execution, or an unreadable record, as DescribeExecution answers
        let (machine, name) = parse_execution_arn(arn)?;
        let request = json!({"executionArn": arn, "reverseOrder": reverse});
        let after: Option<u64> = page::token_after(&request, next_token)?;
        let take = if max_results == 0 { DEFAULT_PAGE } else { max_results };
        let dir = self.dir(&machine, &name);
        let path = dir.join("history.jsonl");
        let mut cost = HistoryCost::default();
        let read = if reverse {
            history::backward(&path, after, take, &mut cost)
        } else {
            history::forward(&path, after, take, &mut cost)
        };
        let (events, more) = match read.map_err(storage(&path))? {
            Some(page) => page,
            None => {
                // Not laid out as expected: the whole history, as it always was read, which reports what is wrong.
                tracing::warn!(path = %path.display(), "execution history not in line order: reading all of it");
                let events = read_history(&dir)?;
                cost.bytes_read += fs::metadata(&path).map_or(0, |m| m.len());
                cost.events_parsed += events.len() as u64;
                let mut page: Vec<HistoryEvent> = if reverse {
                    events.into_iter().rev().filter(|e| after.is_none_or(|a| e.id < a)).take(take + 1).collect()
                } else {
                    events.into_iter().filter(|e| after.is_none_or(|a| e.id > a)).take(take + 1).collect()
                };
                let more = page.len() > take;
                page.truncate(take);
                (page, more)
            }
        };
        let next_token = events.last().filter(|_| more).map(|e| page::token(&request, e.id));
        let items = events
            .into_iter()
            .filter_map(|e| {
                let epoch = e.timestamp.unix_timestamp_nanos() as f64 / 1e9;
                let mut v = serde_json::to_value(&e).ok()?;
                v["timestamp"] = json!(epoch);
                Some(v)
            })
            .collect();
        Ok((Page { items, next_token }, cost))
    }

    /// StopExecution: aborts the execution and waits until its record says so. Stopping a closed execution
    /// changes nothing.
    pub async fn stop(&self, arn: &str, reason: StopReason) -> Result<ExecutionRecord, ExecutionError> {
        let record = self.describe(arn)?;
        if record.status != ExecutionStatus::Running {
            return Ok(record);
        }
        let control = self.running.lock().unwrap_or_else(|p| p.into_inner()).get(arn).map(|(c, _)| c.clone());
        let Some(control) = control else {
            return Err(ExecutionError::Validation(format!(
                "{arn} is run by another local stack process over this data directory; stop it there"
            )));
        };
        *control.stop.lock().unwrap_or_else(|p| p.into_inner()) = Some(reason);
        let mut done = control.done.subscribe();
        control.abort.abort();
        let _ = tokio::time::timeout(Duration::from_secs(30), done.wait_for(|d| *d)).await;
        self.describe(arn)
    }

    /// Picks up every execution a previous process left `RUNNING` (see the module docs). Needs a tokio runtime;
    /// without one (a stack loaded only to read the template) nothing is resumed.
    pub fn recover(&self) -> Result<usize, ExecutionError> {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return Ok(0);
        };
        let mut count = 0;
        let machines = match fs::read_dir(&self.root) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(storage(&self.root)(e)),
        };
        for machine_dir in machines.flatten() {
            for exec_dir in fs::read_dir(machine_dir.path()).into_iter().flatten().flatten() {
                let dir = exec_dir.path();
                let Ok(record) = read_record(&dir) else { continue };
                if record.status != ExecutionStatus::Running {
                    continue;
                }
                let machine = self.machines.iter().find(|m| m.arn == record.state_machine_arn).cloned();
                let control = self.register(&record.execution_arn);
                let arn = record.execution_arn.clone();
                let watch = Watch {
                    stack: self.this.clone(),
                    dir: dir.clone(),
                    arn: arn.clone(),
                    control: control.clone(),
                    resuming: true,
                };
                let resume = recover_one(self.this.clone(), machine, dir, arn.clone(), control);
                self.attach(&arn, runtime.spawn(watch.run(resume)));
                count += 1;
            }
        }
        Ok(count)
    }
}

impl Drop for Executions {
    /// The stack is going away: its executions stop where they are, exactly as if the process had stopped, and
    /// the next stack over this data directory resumes them.
    fn drop(&mut self) {
        for (_, (_, task)) in self.running.lock().unwrap_or_else(|p| p.into_inner()).drain() {
            if let Some(task) = task {
                task.abort();
            }
        }
    }
}

/// Claims `dir` for a new execution (`record`, with `input`) and records it, or finds the name taken. Blocking file
/// work: the caller runs it on the blocking pool, holding [`Executions::starting`].
fn claim(root: &Path, dir: &Path, record: ExecutionRecord, input: &Value) -> Result<Claim, ExecutionError> {
    let taken = || ExecutionError::ExecutionAlreadyExists(record.execution_arn.clone());
    let parent = dir.parent().unwrap_or(root);
    files::create_private_dir(parent).map_err(storage(parent))?;
    let lock = match files::create_new_private_dir(dir) {
        Ok(()) => lock_file(dir)?.ok_or_else(taken)?,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => match read_record(dir) {
            Ok(existing) => {
                let same_input = serde_json::from_str::<Value>(&existing.input).ok().as_ref() == Some(input);
                return if existing.status == ExecutionStatus::Running && same_input {
                    Ok(Claim::Existing(existing))
                } else {
                    Err(taken())
                };
            }
            // A directory without a record: its creator died before writing it, if its lock is free to take.
            Err(e) if is_missing(&e) => lock_file(dir)?.ok_or_else(taken)?,
            // A record that is there but unreadable is not overwritten: that would lose an execution.
            Err(e) => return Err(e),
        },
        Err(e) => return Err(storage(dir)(e)),
    };
    let history = dir.join("history.jsonl");
    files::private_open_options().write(true).create(true).truncate(true).open(&history).map_err(storage(&history))?;
    write_record(dir, &record)?;
    Ok(Claim::New(record, lock))
}

/// Takes the execution's lock: `None` when another holder (a live process) has it.
fn lock_file(dir: &Path) -> Result<Option<fs::File>, ExecutionError> {
    let path = dir.join("lock");
    let file =
        files::private_open_options().create(true).truncate(false).write(true).open(&path).map_err(storage(&path))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(fs::TryLockError::WouldBlock) => Ok(None),
        Err(fs::TryLockError::Error(e)) => Err(storage(&path)(e)),
    }
}

/// Whether a storage error is the file (or its directory) not being there, as opposed to being unreadable.
fn is_missing(e: &ExecutionError) -> bool {
    matches!(e, ExecutionError::Storage { source, .. } if source.kind() == io::ErrorKind::NotFound)
}

/// An execution's record. A missing one is a storage error too, which [`is_missing`] tells apart.
fn read_record(dir: &Path) -> Result<ExecutionRecord, ExecutionError> {
    let path = dir.join("record.json");
    let text = fs::read(&path).map_err(storage(&path))?;
    serde_json::from_slice(&text).map_err(|e| storage(&path)(io::Error::new(io::ErrorKind::InvalidData, e)))
}

/// Replaces `record.json` atomically, so a reader or a crash never sees half a record.
fn write_record(dir: &Path, record: &ExecutionRecord) -> Result<(), ExecutionError> {
    let path = dir.join("record.json");
    let bytes = serde_json::to_vec_pretty(record).map_err(|e| storage(&path)(io::Error::other(e)))?;
    files::write_atomic(&path, &bytes).map_err(storage(&path))
}

/// The persisted history. A last line cut short by a crash mid-write is dropped; any other unreadable line makes
/// the history unreadable.
fn read_history(dir: &Path) -> Result<Vec<HistoryEvent>, ExecutionError> {
    let path = dir.join("history.jsonl");
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(storage(&path)(e)),
    };
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut events = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        match serde_json::from_str::<HistoryEvent>(line) {
            Ok(e) => events.push(e),
            Err(_) if i + 1 == lines.len() && !text.ends_with('\n') => {}
            Err(e) => {
                return Err(storage(&path)(io::Error::new(io::ErrorKind::InvalidData, format!("line {}: {e}", i + 1))));
            }
        }
    }
    Ok(events)
}

/// Appends each event to `history.jsonl` as it happens, one JSON line each. When an append fails (a full disk),
/// nothing more is written and the execution is aborted: [`drive`] then fails it, saying why, rather than letting it
/// run on with a history that no longer says what it did.
struct HistoryFile {
    path: PathBuf,
    file: Mutex<fs::File>,
    /// What stops the execution when an append fails.
    abort: Option<AbortHandle>,
    /// Why an append failed, once one has.
    failure: Mutex<Option<String>>,
}

impl HistoryFile {
    /// Opens the history for appending, first repairing a last line a crash cut short: were the next event appended
    /// to it, the broken line would end up mid-file and the whole history would become unreadable. The repair
    /// agrees with [`read_history`]: a last line that is a whole event (only its newline is missing) is kept and
    /// ended, anything else after the last newline is cut off.
    fn open(dir: &Path, abort: Option<AbortHandle>) -> Result<Self, ExecutionError> {
        let path = dir.join("history.jsonl");
        let file =
            files::private_open_options().create(true).read(true).append(true).open(&path).map_err(storage(&path))?;
        let text = fs::read(&path).map_err(storage(&path))?;
        let whole = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        if whole < text.len() {
            let repair = || -> io::Result<()> {
                if serde_json::from_slice::<HistoryEvent>(&text[whole..]).is_ok() {
                    (&file).write_all(b"\n")?;
                } else {
                    file.set_len(whole as u64)?;
                }
                file.sync_all()
            };
            repair().map_err(storage(&path))?;
            tracing::warn!(path = %path.display(), "repaired the last line of an execution history cut short by a crash");
        }
        Ok(Self { path, file: Mutex::new(file), abort, failure: Mutex::default() })
    }

    fn append(&self, event: &HistoryEvent) -> Result<(), String> {
        let mut failure = self.failure.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(why) = &*failure {
            return Err(why.clone());
        }
        let line = match serde_json::to_string(event) {
            Ok(l) => l + "\n",
            Err(e) => return Err(format!("event {} is not serialisable: {e}", event.id)),
        };
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let before = f.metadata().map(|m| m.len());
        if let Err(e) = f.write_all(line.as_bytes()) {
            // Best effort: take back whatever part of the line was written, so the file still ends with a newline.
            if let Ok(len) = before {
                let _ = f.set_len(len);
            }
            // No path: this becomes the execution's cause, which callers read; the log line has it.
            let why = format!("could not append event {} to its history file: {e}", event.id);
            *failure = Some(why.clone());
            return Err(why);
        }
        Ok(())
    }

    /// Why an append failed, if one has.
    fn failure(&self) -> Option<String> {
        self.failure.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl states::EventSink for HistoryFile {
    fn on_event(&self, event: &HistoryEvent) {
        if let Err(why) = self.append(event) {
            tracing::error!(path = %self.path.display(), error = %why, "execution history not written: stopping the execution");
            if let Some(abort) = &self.abort {
                abort.abort();
            }
        }
    }
}

/// Task states on the local stack: a Lambda function ARN (`arn:aws:lambda:…:function:NAME[:qualifier]`, the
/// function named by its logical id) or `arn:aws:states:::lambda:invoke` with `FunctionName` and `Payload`, run by
/// the stack's [`FunctionInvoker`].
pub struct StackTasks {
    pub stack: Weak<Executions>,
}

/// The function named by an ARN (`arn:aws:lambda:<region>:<account>:function:NAME[:qualifier]`), a partial
/// `NAME:qualifier`, or a bare name.
fn function_name(reference: &str) -> String {
    match reference.parse::<Arn>() {
        Ok(arn) => arn.resource_of("function").unwrap_or("").split(':').next().unwrap_or("").to_owned(),
        Err(_) => reference.split(':').next().unwrap_or("").to_owned(),
    }
}

impl TaskInvoker for StackTasks {
    async fn invoke(&self, resource: &str, input: Value, ctx: &TaskContext) -> Result<Value, TaskError> {
        let Some(stack) = self.stack.upgrade() else {
            return Err(TaskError::new(states::error::names::RUNTIME, "the local stack stopped"));
        };
        let is_function_arn =
            resource.parse::<Arn>().is_ok_and(|a| a.service == "lambda" && a.resource_of("function").is_some());
        let (function, payload, wrapped) = if is_function_arn {
            (function_name(resource), input, false)
        } else if resource == "arn:aws:states:::lambda:invoke" {
            let Some(target) = input.get("FunctionName").and_then(Value::as_str) else {
                return Err(TaskError::new(
                    states::error::names::RUNTIME,
                    "lambda:invoke needs a FunctionName string in its Parameters",
                ));
            };
            (function_name(target), input.get("Payload").cloned().unwrap_or_else(|| json!({})), true)
        } else {
            return Err(TaskError::task_failed(format!(
                "the local stack runs Lambda functions only (a function ARN or arn:aws:states:::lambda:invoke); it cannot run '{resource}'"
            )));
        };
        let known = stack.functions.function_names();
        if !known.contains(&function) {
            return Err(TaskError::new(
                "Lambda.ResourceNotFoundException",
                format!(
                    "Function not found: {} (the template declares {})",
                    stack.identity.function_arn(&function),
                    known.join(", ")
                ),
            ));
        }
        let request_id = uuid::Uuid::new_v4().to_string();
        tracing::debug!(execution = %ctx.execution_name, state = %ctx.state_name, function = %function, "task");
        match stack.functions.invoke(&function, &request_id, payload).await {
            Ok(result) if wrapped => Ok(json!({"Payload": result, "StatusCode": 200, "ExecutedVersion": "$LATEST"})),
            Ok(result) => Ok(result),
            Err(e) => Err(TaskError::lambda_function_error(
                &json!({"errorType": e.error_type, "errorMessage": e.error_message}),
            )),
        }
    }
}

enum Begin {
    Fresh(Value),
    Resume(ResumePoint),
}

/// Everything [`drive`] needs to run one execution.
struct Run {
    stack: Weak<Executions>,
    machine: Arc<Machine>,
    /// The execution's directory.
    dir: PathBuf,
    record: ExecutionRecord,
    begin: Begin,
    /// The execution's lock, held until its record says how it ended.
    lock: fs::File,
    control: Arc<Control>,
}

/// Runs one execution to its end while holding its lock, then records how it ended.
async fn drive(run: Run) {
    let Run { stack, machine, dir, mut record, begin, lock, control } = run;
    let mut sink = None;
    let outcome = match HistoryFile::open(&dir, Some(control.abort.clone())) {
        Ok(history) => {
            let history = Arc::new(history);
            sink = Some(history.clone());
            let options = RunOptions {
                execution_name: Some(record.name.clone()),
                state_machine_arn: Some(machine.arn.clone()),
                sink: Some(history),
                abort: Some(control.abort.clone()),
                ..Default::default()
            };
            let tasks = StackTasks { stack: stack.clone() };
            match begin {
                Begin::Fresh(input) => states::run(&machine.machine, input, &tasks, &TokioClock, options).await,
                Begin::Resume(point) => states::resume(&machine.machine, point, &tasks, &TokioClock, options).await,
            }
        }
        Err(e) => Outcome {
            status: states::Status::Failed,
            output: None,
            error: Some(INTERRUPTED_ERROR.into()),
            cause: Some(format!("the local stack cannot write this execution's history: {e}")),
            history: None,
            execution_arn: record.execution_arn.clone(),
        },
    };
    record.status = outcome.status.into();
    record.stop_date = Some(OffsetDateTime::now_utc());
    record.output = outcome.output.as_ref().map(Value::to_string);
    (record.error, record.cause) = (outcome.error, outcome.cause);
    if record.status == ExecutionStatus::Aborted
        && let Some(reason) = control.stop.lock().unwrap_or_else(|p| p.into_inner()).take()
    {
        (record.error, record.cause) = (reason.error, reason.cause);
    }
    // The history stopped short of what ran: the record says so rather than an outcome the history cannot show.
    if let Some(why) = sink.and_then(|s| s.failure()) {
        record.status = ExecutionStatus::Failed;
        record.output = None;
        record.error = Some(INTERRUPTED_ERROR.into());
        record.cause = Some(format!(
            "The local stack stopped this execution because it could not write its history ({why}); the history ends \
             at the last event written."
        ));
    }
    finish(&stack, &dir, &record, &control);
    drop(lock);
}

/// Records how the execution ended.
fn finish(stack: &Weak<Executions>, dir: &Path, record: &ExecutionRecord, control: &Control) {
    if let Err(e) = write_record(dir, record) {
        tracing::error!(execution = %record.execution_arn, error = %e, "could not record how the execution ended");
    }
    tracing::info!(execution = %record.execution_arn, status = ?record.status, "execution ended");
    settle(stack, &record.execution_arn, control);
}

/// The execution is no longer this process's to run (it ended, or another holds it): whoever waits on it (a
/// StopExecution) is released.
fn settle(stack: &Weak<Executions>, arn: &str, control: &Control) {
    let _ = control.done.send(true);
    if let Some(stack) = stack.upgrade() {
        stack.finished(arn);
    }
}

/// Records `record` as failed with `cause`, in its history (as event `last + 1`) and in the record itself (which
/// the caller then writes).
fn fail_record(dir: &Path, record: &mut ExecutionRecord, cause: String, last: u64) {
    let now = OffsetDateTime::now_utc();
    let written = HistoryFile::open(dir, None).map_err(|e| e.to_string()).and_then(|sink| {
        sink.append(&HistoryEvent {
            timestamp: now,
            event_type: "ExecutionFailed".into(),
            id: last + 1,
            previous_event_id: last,
            details: Some(EventDetails::ExecutionFailed { error: INTERRUPTED_ERROR.into(), cause: cause.clone() }),
        })
    });
    if let Err(e) = written {
        tracing::error!(path = %dir.display(), error = %e, "could not record in the history why the execution failed");
    }
    record.status = ExecutionStatus::Failed;
    record.error = Some(INTERRUPTED_ERROR.into());
    record.cause = Some(cause);
    record.stop_date = Some(now);
}

/// The id of the last event of an execution's history (0 when there is none), read from the end of the file.
fn last_event_id(dir: &Path) -> u64 {
    let mut cost = HistoryCost::default();
    match history::backward(&dir.join("history.jsonl"), None, 1, &mut cost) {
        Ok(Some((events, _))) => events.first().map_or(0, |e| e.id),
        _ => read_history(dir).map_or(0, |events| events.iter().map(|e| e.id).max().unwrap_or(0)),
    }
}

/// Watches the task that runs (or resumes) one execution. A panic there, in the engine or in the local stack's
/// own code, is caught by tokio as that task's `JoinError`; without a watcher the execution would stay `RUNNING`
/// on disk, and every later start would resume it and panic again. The watcher fails it instead, saying why.
struct Watch {
    stack: Weak<Executions>,
    dir: PathBuf,
    arn: String,
    control: Arc<Control>,
    /// Whether the task resumes an execution a previous process left running (for the cause).
    resuming: bool,
}

/// Aborts the watched task when the watcher is aborted ([`Executions`]'s drop stops executions that way).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Watch {
    async fn run(self, work: impl std::future::Future<Output = ()> + Send + 'static) {
        let mut task = AbortOnDrop(tokio::spawn(work));
        let Err(e) = (&mut task.0).await else { return };
        // Cancelled: the stack is stopping, and the execution stays RUNNING for the next one to resume.
        if !e.is_panic() {
            return;
        }
        let payload = e.into_panic();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned());
        tracing::error!(execution = %self.arn, panic = %message, "running the execution panicked: failing it");
        let cause = if self.resuming {
            format!(
                "The local stack stopped while this execution was running, and it could not be resumed: resuming it \
                 panicked ({message})"
            )
        } else {
            format!("The local stack failed this execution: running it panicked ({message})")
        };
        // File work, like the rest of recording how an execution ended: off the runtime's workers.
        let _ = tokio::task::spawn_blocking(move || self.fail(cause)).await;
    }

    /// Fails the execution with `cause`, if it is still this process's to end: its lock is free again (the panic
    /// dropped it) and its record still says RUNNING.
    fn fail(self, cause: String) {
        let lock = match lock_file(&self.dir) {
            Ok(Some(lock)) => lock,
            Ok(None) => {
                tracing::error!(execution = %self.arn, "cannot fail the execution: another process holds it");
                return settle(&self.stack, &self.arn, &self.control);
            }
            Err(e) => {
                tracing::error!(execution = %self.arn, error = %e, "cannot fail the execution");
                return settle(&self.stack, &self.arn, &self.control);
            }
        };
        match read_record(&self.dir) {
            Ok(mut record) if record.status == ExecutionStatus::Running => {
                fail_record(&self.dir, &mut record, cause, last_event_id(&self.dir));
                finish(&self.stack, &self.dir, &record, &self.control);
            }
            _ => settle(&self.stack, &self.arn, &self.control),
        }
        drop(lock);
    }
}

/// Takes over an execution a previous process left `RUNNING`: waits for its lock (a live process may still hold
/// it), then resumes it from its history, or records how it ended, or fails it with a clear cause.
async fn recover_one(
    stack: Weak<Executions>,
    machine: Option<Arc<Machine>>,
    dir: PathBuf,
    arn: String,
    control: Arc<Control>,
) {
    // Poll quickly at first (a stack stopping in this process lets go within milliseconds), then every second.
    let mut pause = Duration::from_millis(20);
    let lock = loop {
        match lock_file(&dir) {
            Ok(Some(lock)) => break lock,
            Ok(None) if stack.strong_count() > 0 && !control.abort.is_aborted() => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(1));
            }
            Ok(None) => return settle(&stack, &arn, &control),
            Err(e) => {
                tracing::error!(execution = %arn, error = %e, "cannot lock the execution to resume it");
                return settle(&stack, &arn, &control);
            }
        }
    };
    // The previous holder may have finished it in the meantime.
    let mut record = match read_record(&dir) {
        Ok(r) if r.status == ExecutionStatus::Running => r,
        _ => return settle(&stack, &arn, &control),
    };
    let history = read_history(&dir);
    let fail = |record: &mut ExecutionRecord, why: String, events: &[HistoryEvent]| {
        let cause =
            format!("The local stack stopped while this execution was running, and it could not be resumed: {why}");
        fail_record(&dir, record, cause, events.iter().map(|e| e.id).max().unwrap_or(0));
    };
    let events = match history {
        Ok(events) => events,
        Err(e) => {
            fail(&mut record, format!("its history is unreadable ({e})"), &[]);
            return finish(&stack, &dir, &record, &control);
        }
    };
    let Some(machine) = machine else {
        let why = format!("the template no longer declares its state machine {}", record.state_machine_arn);
        fail(&mut record, why, &events);
        return finish(&stack, &dir, &record, &control);
    };
    // The history may already say how it ended (the process stopped between the last event and the record).
    if let Some(last) = events.last() {
        let ended = match &last.details {
            Some(EventDetails::ExecutionSucceeded { output, .. }) => {
                Some((ExecutionStatus::Succeeded, Some(output.clone()), None, None))
            }
            Some(EventDetails::ExecutionFailed { error, cause }) => {
                Some((ExecutionStatus::Failed, None, Some(error.clone()), Some(cause.clone())))
            }
            Some(EventDetails::ExecutionAborted { error, cause }) => {
                Some((ExecutionStatus::Aborted, None, Some(error.clone()), Some(cause.clone())))
            }
            Some(EventDetails::ExecutionTimedOut { error, cause }) => {
                Some((ExecutionStatus::TimedOut, None, Some(error.clone()), Some(cause.clone())))
            }
            _ => None,
        };
        if let Some((status, output, error, cause)) = ended {
            (record.status, record.output, record.error, record.cause) =
                (status, output, error.filter(|s| !s.is_empty()), cause.filter(|s| !s.is_empty()));
            record.stop_date = Some(last.timestamp);
            return finish(&stack, &dir, &record, &control);
        }
    }
    let input: Option<Value> = serde_json::from_str(&record.input).ok();
    let begin = if events.is_empty() {
        // Stopped before the first event was written: nothing ran yet, so it simply begins.
        input.map(Begin::Fresh)
    } else {
        ResumePoint::from_history(&events)
            .or_else(|| {
                // Started but no state entered yet: begin at StartAt with the execution's input.
                let started = events.iter().find(|e| e.event_type == "ExecutionStarted")?;
                let input = input?;
                Some(ResumePoint {
                    state: machine.start_at()?,
                    input: input.clone(),
                    variables: Default::default(),
                    execution_input: input,
                    start_time: Some(started.timestamp),
                    last_event_id: events.iter().map(|e| e.id).max().unwrap_or(0),
                    entered_time: None,
                })
            })
            .map(Begin::Resume)
    };
    let Some(begin) = begin else {
        fail(&mut record, "its history records no start".into(), &events);
        return finish(&stack, &dir, &record, &control);
    };
    record.resumed += 1;
    if let Err(e) = write_record(&dir, &record) {
        tracing::error!(execution = %arn, error = %e, "could not record the resumption");
    }
    let state = match &begin {
        Begin::Resume(point) => point.state.clone(),
        Begin::Fresh(_) => "(start)".to_owned(),
    };
    tracing::info!(execution = %arn, %state, "resuming an execution the previous process left running");
    drive(Run { stack, machine, dir, record, begin, lock, control }).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decl(definition: Value) -> StateMachineDecl {
        StateMachineDecl {
            logical_id: "BadMachine".into(),
            name: "BadMachine".into(),
            definition: crate::DefinitionSource::Inline(definition),
            substitutions: [("Fn".to_owned(), "arn:aws:lambda:us-east-1:123456789012:function:F".to_owned())].into(),
        }
    }

    impl Machine {
        fn load_for_test(decl: &StateMachineDecl) -> Result<Self, MachineError> {
            Self::load(decl, &Identity::default())
        }
    }

    #[test]
    fn a_bad_definition_or_a_missing_substitution_fails_loading_naming_the_machine() {
        let e = Machine::load_for_test(&decl(
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}),
        ))
        .err()
        .expect("invalid")
        .to_string();
        assert!(e.contains("BadMachine") && e.contains("Nowhere"), "{e}");
        let e = Machine::load_for_test(&decl(
            json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${Other}", "End": true}}}),
        ))
        .err()
        .expect("unsubstituted")
        .to_string();
        assert!(e.contains("BadMachine") && e.contains("Other"), "{e}");
        let ok = Machine::load_for_test(&decl(
            json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${Fn}", "End": true}}}),
        ))
        .expect("valid");
        assert!(ok.definition.contains("function:F") && ok.arn.ends_with(":stateMachine:BadMachine"));
    }

    #[test]
    fn names_follow_the_aws_rules() {
        for ok in ["a", "reminder-01", "ünïcode_ok", &"x".repeat(80)] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", &"x".repeat(81), "has space", "a/b", "a:b", "a$b", "tab\t", "ctl\u{7}", "..", "{x}"] {
            assert!(matches!(validate_name(bad), Err(ExecutionError::InvalidName(_))), "{bad:?}");
        }
    }

    #[test]
    fn an_execution_arn_names_its_machine_and_execution() {
        let arn = "arn:aws:states:us-east-1:123456789012:execution:M:run-1";
        assert_eq!(parse_execution_arn(arn).unwrap(), ("M".to_owned(), "run-1".to_owned()));
        for bad in [
            "",
            "arn:aws:states:us-east-1:123456789012:stateMachine:M",
            "arn:aws:states:us-east-1:1:execution:M:../x",
            "arn:aws:states:r:a:execution:M",
        ] {
            assert!(matches!(parse_execution_arn(bad), Err(ExecutionError::InvalidArn(_))), "{bad}");
        }
    }

    #[test]
    fn lambda_references_name_the_function() {
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:123456789012:function:CheckTaskFunction"),
            "CheckTaskFunction"
        );
        assert_eq!(function_name("arn:aws:lambda:us-east-1:123456789012:function:F:$LATEST"), "F");
        assert_eq!(function_name("F:prod"), "F");
        assert_eq!(function_name("F"), "F");
    }

    #[test]
    fn a_history_line_cut_short_by_a_crash_is_cut_off_before_the_next_event_is_appended() {
        let dir = tempfile::tempdir().unwrap();
        let event = |id: u64| HistoryEvent {
            timestamp: OffsetDateTime::now_utc(),
            event_type: "PassStateEntered".into(),
            id,
            previous_event_id: id - 1,
            details: None,
        };
        let line = |id: u64| serde_json::to_string(&event(id)).unwrap();
        let path = dir.path().join("history.jsonl");
        fs::write(&path, format!("{}\n{}", line(1), &line(2)[..20])).unwrap();
        HistoryFile::open(dir.path(), None).unwrap().append(&event(2)).unwrap();
        assert_eq!(read_history(dir.path()).unwrap().iter().map(|e| e.id).collect::<Vec<_>>(), [1, 2]);

        // A whole event missing only its newline is one `read_history` counts: it is kept.
        fs::write(&path, format!("{}\n{}", line(1), line(2))).unwrap();
        HistoryFile::open(dir.path(), None).unwrap().append(&event(3)).unwrap();
        assert_eq!(read_history(dir.path()).unwrap().iter().map(|e| e.id).collect::<Vec<_>>(), [1, 2, 3]);
    }

    /// A Task's function that panics: what a bug in the stack's own code looks like to the engine.
    struct Panics;

    impl FunctionInvoker for Panics {
        fn invoke<'a>(
            &'a self,
            _function: &'a str,
            _request_id: &'a str,
            _event: Value,
        ) -> local_core::BoxFuture<'a, Result<Value, local_core::invoke::FunctionError>> {
            Box::pin(async { panic!("the function runtime fell over") })
        }

        fn function_names(&self) -> Vec<String> {
            vec!["Boom".into()]
        }
    }

    fn machine(name: &str, definition: Value) -> Machine {
        let decl = StateMachineDecl {
            logical_id: name.into(),
            name: name.into(),
            definition: crate::DefinitionSource::Inline(definition),
            substitutions: Default::default(),
        };
        Machine::load_for_test(&decl).expect("a valid machine")
    }

    fn executions(data: &Path) -> Arc<Executions> {
        let boom = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "End": true,
            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Boom"}}});
        let pass = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
        let machines = vec![machine("Boom", boom), machine("Pass", pass)];
        Executions::new(data, Identity::default(), machines, Arc::new(Panics))
    }

    /// Writes an execution as a previous process left it: RUNNING, with `events` in its history.
    fn left_running(exec: &Executions, machine: &str, name: &str, history: &str) -> String {
        let arn = exec.identity.execution_arn(machine, name).to_string();
        let dir = exec.dir(machine, name);
        fs::create_dir_all(&dir).unwrap();
        let record = ExecutionRecord {
            execution_arn: arn.clone(),
            state_machine_arn: exec.identity.state_machine_arn(machine).to_string(),
            name: name.into(),
            status: ExecutionStatus::Running,
            input: "{}".into(),
            output: None,
            error: None,
            cause: None,
            start_date: OffsetDateTime::now_utc(),
            stop_date: None,
            resumed: 0,
        };
        write_record(&dir, &record).unwrap();
        fs::write(dir.join("history.jsonl"), history).unwrap();
        arn
    }

    async fn until_ended(exec: &Executions, arn: &str) -> ExecutionRecord {
        for _ in 0..200 {
            let record = exec.describe(arn).unwrap();
            if record.status != ExecutionStatus::Running {
                return record;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("{arn} is still RUNNING after 5 s");
    }

    #[tokio::test]
    async fn an_execution_whose_resumption_panics_ends_failed_saying_why_and_the_executions_serve_on() {
        let data = tempfile::tempdir().unwrap();
        let exec = executions(data.path());
        let arn = left_running(&exec, "Boom", "left-running", "");
        assert_eq!(exec.recover().unwrap(), 1);

        let record = until_ended(&exec, &arn).await;
        assert_eq!((record.status, record.error.as_deref()), (ExecutionStatus::Failed, Some(INTERRUPTED_ERROR)));
        let cause = record.cause.unwrap();
        assert!(cause.contains("could not be resumed") && cause.contains("the function runtime fell over"), "{cause}");
        let events = read_history(&exec.dir("Boom", "left-running")).unwrap();
        let last = events.last().unwrap();
        assert_eq!(last.event_type, "ExecutionFailed", "the history says how it ended: {events:?}");
        assert!(last.id == events.len() as u64, "ids stay consecutive: {events:?}");

        // The executions serve on: a new one runs to its end, and nothing is left for a restart to resume.
        let started = exec
            .start(StartRequest {
                state_machine_arn: exec.identity.state_machine_arn("Pass").to_string(),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(until_ended(&exec, &started.execution_arn).await.status, ExecutionStatus::Succeeded);
        drop(exec);
        assert_eq!(executions(data.path()).recover().unwrap(), 0, "the failed execution is not resumed again");
    }

    #[tokio::test]
    async fn an_execution_whose_run_panics_ends_failed_saying_why() {
        let data = tempfile::tempdir().unwrap();
        let exec = executions(data.path());
        let machine = exec.identity.state_machine_arn("Boom").to_string();
        let started = exec.start(StartRequest { state_machine_arn: machine, ..Default::default() }).await.unwrap();
        let record = until_ended(&exec, &started.execution_arn).await;
        assert_eq!(record.status, ExecutionStatus::Failed);
        assert!(record.cause.as_deref().is_some_and(|c| c.contains("running it panicked")), "{record:?}");
    }

    #[tokio::test]
    async fn an_execution_the_engine_cannot_resume_ends_failed_saying_why() {
        let data = tempfile::tempdir().unwrap();
        let exec = executions(data.path());
        // Its history stops in a state the definition no longer has.
        let event = |id: u64, event_type: &str, details| HistoryEvent {
            timestamp: OffsetDateTime::now_utc(),
            event_type: event_type.into(),
            id,
            previous_event_id: id - 1,
            details: Some(details),
        };
        let input = || ("{}".to_owned(), Default::default());
        let started = event(1, "ExecutionStarted", {
            let (input, input_details) = input();
            EventDetails::ExecutionStarted { input, input_details, role_arn: String::new() }
        });
        let entered = event(2, "PassStateEntered", {
            let (input, input_details) = input();
            EventDetails::StateEntered { name: "Gone".into(), input, input_details }
        });
        let (started, entered) = (serde_json::to_string(&started).unwrap(), serde_json::to_string(&entered).unwrap());
        let arn = left_running(&exec, "Pass", "renamed-state", &format!("{started}\n{entered}\n"));
        exec.recover().unwrap();
        let record = until_ended(&exec, &arn).await;
        assert_eq!(record.status, ExecutionStatus::Failed, "{record:?}");
        assert!(record.cause.as_deref().is_some_and(|c| c.contains("Gone")), "{record:?}");
    }

    /// `count` events of a Pass state, one a line, as a long execution leaves them.
    fn long_history(count: u64) -> String {
        let mut text = String::with_capacity(count as usize * 160);
        for id in 1..=count {
            let event = HistoryEvent {
                timestamp: OffsetDateTime::UNIX_EPOCH + Duration::from_secs(id),
                event_type: "PassStateEntered".into(),
                id,
                previous_event_id: id - 1,
                details: Some(EventDetails::StateEntered {
                    name: "P".into(),
                    input: "{\"step\":1}".into(),
                    input_details: Default::default(),
                }),
            };
            text += &serde_json::to_string(&event).unwrap();
            text.push('\n');
        }
        text
    }

    #[tokio::test]
    async fn a_page_of_a_long_history_reads_about_one_page_of_the_file_either_way() {
        let data = tempfile::tempdir().unwrap();
        let exec = executions(data.path());
        let text = long_history(200_000);
        let size = text.len() as u64;
        let arn = left_running(&exec, "Pass", "long", &text);
        // A line a crash cut short: dropped, as it always was.
        let mut f = fs::OpenOptions::new().append(true).open(exec.dir("Pass", "long").join("history.jsonl")).unwrap();
        f.write_all(br#"{"timestamp":"2024-01-01T00:00:00Z","type":"PassSt"#).unwrap();

        let ids = |page: &Page<Value>| page.items.iter().map(|e| e["id"].as_u64().unwrap()).collect::<Vec<_>>();
        let (first, cost) = exec.history_counted(&arn, false, 1, None).unwrap();
        assert_eq!(ids(&first), [1]);
        assert!(cost.bytes_read <= 128 * 1024 && cost.events_parsed <= 2, "{cost:?} of {size} bytes");
        let (second, _) = exec.history_counted(&arn, false, 1, first.next_token.as_deref()).unwrap();
        assert_eq!(ids(&second), [2]);

        let (newest, cost) = exec.history_counted(&arn, true, 1, None).unwrap();
        assert_eq!(ids(&newest), [200_000], "the torn line is not an event");
        assert!(cost.bytes_read <= 128 * 1024 && cost.events_parsed <= 3, "{cost:?} of {size} bytes");
        let (next, cost) = exec.history_counted(&arn, true, 2, newest.next_token.as_deref()).unwrap();
        assert_eq!(ids(&next), [199_999, 199_998]);
        assert!(cost.bytes_read <= 128 * 1024, "{cost:?}");

        // The last page: no token, and tokens stay bound to their request.
        let (tail, _) = exec
            .history_counted(
                &arn,
                false,
                1000,
                Some(&page::token(&json!({"executionArn": arn, "reverseOrder": false}), 199_990u64)),
            )
            .unwrap();
        assert_eq!((ids(&tail).len(), tail.next_token), (10, None));
        assert!(matches!(
            exec.history(&arn, false, 1, newest.next_token.as_deref()),
            Err(ExecutionError::InvalidToken(_))
        ));
    }

    #[test]
    fn a_history_read_page_by_page_either_way_gives_every_event_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        fs::write(
            &path,
            long_history(1000)
                .replace("\n{\"timestamp\":\"1970-01-01T00:08:", "\n\n{\"timestamp\":\"1970-01-01T00:08:"),
        )
        .unwrap();
        for (reverse, size) in [(false, 7), (true, 7), (false, 1000), (true, 1)] {
            let (mut seen, mut after, mut cost) = (Vec::new(), None, HistoryCost::default());
            loop {
                let read = if reverse {
                    history::backward(&path, after, size, &mut cost)
                } else {
                    history::forward(&path, after, size, &mut cost)
                };
                let (events, more) = read.unwrap().expect("laid out as expected");
                seen.extend(events.iter().map(|e| e.id));
                after = events.last().map(|e| e.id);
                if !more {
                    break;
                }
            }
            let mut expected: Vec<u64> = (1..=1000).collect();
            if reverse {
                expected.reverse();
            }
            assert_eq!(seen, expected, "reverse {reverse}, pages of {size}");
        }
        // Ids that do not follow their lines: the caller is told to read the whole history instead.
        fs::write(&path, long_history(3).replace("\"id\":2,", "\"id\":7,")).unwrap();
        let mut cost = HistoryCost::default();
        assert!(history::forward(&path, None, 10, &mut cost).unwrap().is_none());
        assert!(history::backward(&path, None, 10, &mut cost).unwrap().is_none());
    }

    #[test]
    fn names_of_any_allowed_characters_fit_in_a_directory_name_and_ascii_names_keep_theirs() {
        let long = "\u{1F600}".repeat(80);
        assert!(validate_name(&long).is_ok());
        let stored = dir_name(&long);
        assert!(stored.len() <= 64 && stored.is_ascii(), "{stored}");
        assert_ne!(dir_name(&"\u{1F600}".repeat(79)), stored, "another name, another directory");
        for plain in ["reminder-01", "a!'()+-.=@_z", &"x".repeat(80)] {
            assert_eq!(dir_name(plain), plain, "ASCII names are stored as they always were");
        }
        assert!(dir_name("ünïcode_ok").starts_with("ncodeok~"));
    }

    #[test]
    fn a_history_append_that_fails_stops_the_execution_and_nothing_more_is_written() {
        // `/dev/full` fails every write with "no space left on device".
        let Ok(file) = fs::OpenOptions::new().append(true).open("/dev/full") else { return };
        let abort = AbortHandle::new();
        let sink = HistoryFile {
            path: "/dev/full".into(),
            file: Mutex::new(file),
            abort: Some(abort.clone()),
            failure: Mutex::default(),
        };
        let event = HistoryEvent {
            timestamp: OffsetDateTime::now_utc(),
            event_type: "ExecutionStarted".into(),
            id: 1,
            previous_event_id: 0,
            details: None,
        };
        states::EventSink::on_event(&sink, &event);
        assert!(abort.is_aborted());
        let why = sink.failure().expect("the failure is kept for the record");
        assert!(why.contains("could not append event 1"), "{why}");
        assert_eq!(sink.append(&event), Err(why), "later events are not written after a gap");
    }
}

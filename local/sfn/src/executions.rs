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
//! Lists answer from an in-memory index of every execution's summary ([`index`]), built by one scan at start-up
//! and updated by every record this process writes; [`Executions::subscribe`] is a feed of executions as they
//! start, close and are redriven. [`Executions::redrive`] (RedriveExecution) runs a failed, timed-out or aborted
//! execution again from the top-level state it ended in: a resumption ([`ResumePoint::for_redrive`]) that goes on
//! in the same history after an `ExecutionRedriven` event.
//!
//! A storage failure reaches API callers as an `InternalFailure` that names no server path; the path is in the log.

mod history;
mod index;

pub use history::HistoryCost;
pub use index::ExecutionSummary;

use crate::{FunctionInvoker, decl::StateMachineDecl};
use local_core::{
    Arn, Identity, files,
    page::{self, DEFAULT_PAGE, InvalidToken, Page},
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
    collections::{BTreeMap, HashMap},
    fs,
    io::{self, Write},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, Weak},
    time::Duration,
};
use time::OffsetDateTime;
use tokio::sync::{broadcast, watch};

/// The largest page [`Executions::query`] gives.
pub const MAX_QUERY_PAGE: usize = 1000;
/// StartExecution's input limit, as on AWS.
pub const MAX_INPUT_BYTES: usize = 256 * 1024;
/// The error an execution fails with when a restart cannot pick it up again.
pub const INTERRUPTED_ERROR: &str = "States.Runtime";
/// How long after it closed an execution may be redriven, as on AWS.
pub const REDRIVABLE_FOR: time::Duration = time::Duration::days(14);
/// How many of the last redrives' client tokens an execution remembers (RedriveExecution's idempotency, as on AWS).
const REDRIVE_TOKENS_KEPT: usize = 10;
/// How many changes a subscriber may fall behind before it misses some ([`Executions::subscribe`]).
const CHANGE_FEED_CAPACITY: usize = 1024;

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
    /// RedriveExecution of an execution that is running, succeeded, closed too long ago, or whose machine is gone.
    #[error("{0}")]
    ExecutionNotRedrivable(String),
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
            Self::ExecutionNotRedrivable(_) => "ExecutionNotRedrivable",
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
}

impl ExecutionStatus {
    pub const ALL: [Self; 5] = [Self::Running, Self::Succeeded, Self::Failed, Self::TimedOut, Self::Aborted];

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
    /// How many times RedriveExecution ran it again (`redriveCount`).
    #[serde(default)]
    pub redrive_count: u32,
    /// When it was last redriven (`redriveDate`).
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub redrive_date: Option<OffsetDateTime>,
    /// The client tokens of the last redrives, newest last: a redrive repeated with one of them changes nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redrive_tokens: Vec<String>,
}

/// Whether RedriveExecution would take an execution (`redriveStatus`), and why not (`redriveStatusReason`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedriveStatus {
    Redrivable,
    NotRedrivable(String),
}

impl RedriveStatus {
    /// The API's spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Redrivable => "REDRIVABLE",
            Self::NotRedrivable(_) => "NOT_REDRIVABLE",
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Redrivable => None,
            Self::NotRedrivable(why) => Some(why),
        }
    }
}

/// What the console's executions lists ask for ([`Executions::query`]): newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// Only this state machine's executions; every machine's when `None`.
    pub machine_arn: Option<String>,
    pub status: Option<ExecutionStatus>,
    /// Only executions whose name contains this, ignoring case.
    pub name_contains: Option<String>,
    /// The page size: 0 is [`DEFAULT_PAGE`], more than 1000 is 1000.
    pub max_results: usize,
    /// The token the previous page of the same query gave.
    pub next_token: Option<String>,
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
    /// Every execution's summary, built by one scan when first needed ([`index`]). A std mutex: it is held for a
    /// map operation or one linear pass, never across an await.
    index: Mutex<Option<index::Index>>,
    /// Executions as they start, close and are redriven ([`Executions::subscribe`]).
    changes: broadcast::Sender<ExecutionSummary>,
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
            index: Mutex::default(),
            changes: broadcast::channel(CHANGE_FEED_CAPACITY).0,
        })
    }

    /// Runs `f` on the index, scanning the data directory first if nothing has yet.
    fn with_index<R>(&self, f: impl FnOnce(&mut index::Index) -> R) -> R {
        let mut guard = self.index.lock().unwrap_or_else(|p| p.into_inner());
        let index = guard.get_or_insert_with(|| {
            let started = std::time::Instant::now();
            let index = index::Index::scan(&self.root);
            tracing::debug!(executions = index.len(), elapsed = ?started.elapsed(), "indexed executions");
            index
        });
        f(index)
    }

    /// `record` was just written to `dir`: the index takes it, and subscribers hear of it when `announce`. An index
    /// not built yet is left alone: its scan, which holds the same lock, reads the record from disk.
    fn recorded(&self, dir: &Path, record: &ExecutionRecord, announce: bool) {
        if let Some(index) = self.index.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            index.upsert(dir.to_owned(), record);
        }
        if announce {
            // No receiver is not an error: nobody is watching.
            let _ = self.changes.send(record.into());
        }
    }

    /// Every execution as it starts, closes (succeeds, fails, aborts, times out) and is redriven, as a summary. A
    /// receiver that falls more than 1024 changes behind misses the oldest (`RecvError::Lagged`); executions never
    /// wait for receivers.
    pub fn subscribe(&self) -> broadcast::Receiver<ExecutionSummary> {
        self.changes.subscribe()
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
            redrive_count: 0,
            redrive_date: None,
            redrive_tokens: Vec::new(),
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
                owner.recorded(&dir, &record, true);
                owner.launch(machine, dir, record.clone(), Begin::Fresh(fresh), lock);
            }
            Ok(record)
        });
        started.await.map_err(|e| storage(&self.root)(io::Error::other(e)))?
    }

    /// Runs an execution this process has just claimed (its `lock` held) in a task of its own, watched.
    fn launch(&self, machine: Arc<Machine>, dir: PathBuf, record: ExecutionRecord, begin: Begin, lock: fs::File) {
        let control = self.register(&record.execution_arn);
        let arn = record.execution_arn.clone();
        let watch = Watch {
            stack: self.this.clone(),
            dir: dir.clone(),
            arn: arn.clone(),
            control: control.clone(),
            resuming: false,
        };
        let run = Run { stack: self.this.clone(), machine, dir, record, begin, lock, control };
        self.attach(&arn, tokio::spawn(watch.run(drive(run))));
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
    /// storage error (a 500, logged where the API answers), never reported as a missing execution. An execution the
    /// index does not know (another process over the same data directory started it) is added to it here.
    pub fn describe(&self, arn: &str) -> Result<ExecutionRecord, ExecutionError> {
        let (machine, name) = parse_execution_arn(arn)?;
        let dir = self.dir(&machine, &name);
        let record = read_record(&dir)
            .map_err(|e| if is_missing(&e) { ExecutionError::ExecutionDoesNotExist(arn.to_owned()) } else { e })?;
        if let Some(index) = self.index.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            index.insert_if_absent(dir, &record);
        }
        Ok(record)
    }

    /// ListExecutions: newest first, optionally only those with `status`. A page's token carries the last
    /// listed execution's start date and name, so executions started between pages shift nothing, and the request's
    /// machine and filter, so it continues no other listing. The index picks the page; only the page's records are
    /// read (ListExecutions' callers in this stack read inputs and outputs from it).
    pub fn list(
        &self,
        machine_arn: &str,
        status: Option<ExecutionStatus>,
        max_results: usize,
        next_token: Option<&str>,
    ) -> Result<Page<ExecutionRecord>, ExecutionError> {
        let machine = self.machine(machine_arn)?;
        let request = json!({"stateMachineArn": machine.arn, "statusFilter": status});
        let after: Option<(i128, String)> = page::token_after(&request, next_token)?;
        // Below every key of that date and name, whatever its machine: this listing has one machine.
        let after = after.map(|(date, name)| (date, name, String::new()));
        let take = if max_results == 0 { DEFAULT_PAGE } else { max_results };
        let mut found = self.with_index(|index| {
            index
                .older_than(after.as_ref())
                .filter(|(_, e)| {
                    e.summary.state_machine_arn == machine.arn && status.is_none_or(|s| s == e.summary.status)
                })
                .take(take + 1)
                .map(|((date, name, _), e)| (*date, name.clone(), e.dir.clone()))
                .collect::<Vec<_>>()
        });
        let more = found.len() > take;
        found.truncate(take);
        let next_token = found.last().filter(|_| more).map(|(date, name, _)| page::token(&request, (date, name)));
        let mut items = Vec::with_capacity(found.len());
        for (_, _, dir) in found {
            match read_record(&dir) {
                Ok(r) => items.push(r),
                // Gone since it was indexed (its directory deleted by hand): not listed.
                Err(e) if is_missing(&e) => {}
                Err(e) => tracing::warn!(error = %e, "an unreadable execution record is left out of the list"),
            }
        }
        Ok(Page { items, next_token })
    }

    /// The console's executions list: newest first, across every machine unless `q.machine_arn` names one, filtered
    /// by status and by a case-insensitive part of the name, in pages whose tokens work as ListExecutions' do (bound
    /// to the query; the next page begins after the last item given). Answers from the index alone, as summaries
    /// (no inputs or outputs: [`Executions::describe`] has those), with how many executions match in all.
    pub fn query(&self, q: &Query) -> Result<(Page<ExecutionSummary>, u64), ExecutionError> {
        if let Some(arn) = &q.machine_arn {
            self.machine(arn)?;
        }
        let needle = q.name_contains.as_deref().map(str::to_lowercase).filter(|n| !n.is_empty());
        let request =
            json!({"query": {"stateMachineArn": q.machine_arn, "statusFilter": q.status, "nameContains": needle}});
        let after: Option<index::Key> = page::token_after(&request, q.next_token.as_deref())?;
        let take = match q.max_results {
            0 => DEFAULT_PAGE,
            n => n.min(MAX_QUERY_PAGE),
        };
        let (items, last, more, total) = self.with_index(|index| {
            let (mut items, mut last, mut more, mut total) = (Vec::with_capacity(take), None, false, 0u64);
            for (key, entry) in index.newest_first() {
                let s = &entry.summary;
                let matches = q.machine_arn.as_ref().is_none_or(|m| *m == s.state_machine_arn)
                    && q.status.is_none_or(|st| st == s.status)
                    && needle.as_deref().is_none_or(|n| entry.name_contains(n));
                if !matches {
                    continue;
                }
                total += 1;
                if after.as_ref().is_some_and(|a| key >= a) {
                    continue;
                }
                if items.len() < take {
                    items.push(s.clone());
                    last = Some(key.clone());
                } else {
                    more = true;
                }
            }
            (items, last, more, total)
        });
        let next_token = last.filter(|_| more).map(|key| page::token(&request, key));
        Ok((Page { items, next_token }, total))
    }

    /// How many executions of a machine the index has in each status; every status is there, 0 when none.
    pub fn counts(&self, machine_arn: &str) -> Result<BTreeMap<ExecutionStatus, u64>, ExecutionError> {
        let machine = self.machine(machine_arn)?;
        let mut counts: BTreeMap<ExecutionStatus, u64> = ExecutionStatus::ALL.into_iter().map(|s| (s, 0)).collect();
        self.with_index(|index| {
            for (_, e) in index.newest_first().filter(|(_, e)| e.summary.state_machine_arn == machine.arn) {
                *counts.entry(e.summary.status).or_default() += 1;
            }
        });
        Ok(counts)
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

    /// The whole history of an execution, oldest first, in [`Executions::history`]'s shape: what the console shows
    /// for one execution. Read a page of 1000 events at a time, so memory holds the events, not the file twice.
    pub fn full_history(&self, arn: &str) -> Result<Vec<Value>, ExecutionError> {
        let (mut events, mut token) = (Vec::new(), None::<String>);
        loop {
            let page = self.history(arn, false, 1000, token.as_deref())?;
            events.extend(page.items);
            match page.next_token {
                Some(next) => token = Some(next),
                None => return Ok(events),
            }
        }
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

    /// Picks up every execution a previous process left `RUNNING` (see the module docs), and builds the index of
    /// executions (one scan of the data directory) if nothing has yet. Needs a tokio runtime; without one (a stack
    /// loaded only to read the template) nothing is resumed and the index waits for its first use.
    pub fn recover(&self) -> Result<usize, ExecutionError> {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return Ok(0);
        };
        match fs::read_dir(&self.root) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(storage(&self.root)(e)),
        }
        let left_running: Vec<(PathBuf, String, String)> = self.with_index(|index| {
            index
                .newest_first()
                .filter(|(_, e)| e.summary.status == ExecutionStatus::Running)
                .map(|(_, e)| (e.dir.clone(), e.summary.execution_arn.clone(), e.summary.state_machine_arn.clone()))
                .collect()
        });
        let count = left_running.len();
        for (dir, arn, machine_arn) in left_running {
            let machine = self.machines.iter().find(|m| m.arn == machine_arn).cloned();
            let control = self.register(&arn);
            let watch = Watch {
                stack: self.this.clone(),
                dir: dir.clone(),
                arn: arn.clone(),
                control: control.clone(),
                resuming: true,
            };
            let resume = recover_one(self.this.clone(), machine, dir, arn.clone(), control);
            self.attach(&arn, runtime.spawn(watch.run(resume)));
        }
        Ok(count)
    }

    /// Whether RedriveExecution would take this execution now (DescribeExecution's `redriveStatus`).
    pub fn redrive_status(&self, record: &ExecutionRecord) -> RedriveStatus {
        let declared = self.machines.iter().any(|m| m.arn == record.state_machine_arn);
        redrive_status(record, declared, OffsetDateTime::now_utc())
    }

    /// RedriveExecution: runs a FAILED, TIMED_OUT or ABORTED execution again from the top-level state it ended in,
    /// with the input and variables that state had; the states that succeeded before it are not run again. The
    /// history goes on in the same file, ids continuing, with an `ExecutionRedriven` event; the record is RUNNING
    /// again with `redriveCount` one more and `redriveDate` now. Anything else is `ExecutionNotRedrivable`.
    ///
    /// Simplification: a failure inside a Parallel or Map state redrives that whole state (AWS reruns only its
    /// unsuccessful branches and iterations). The machine's `TimeoutSeconds` counts from the redrive.
    pub async fn redrive(&self, arn: &str) -> Result<ExecutionRecord, ExecutionError> {
        self.redrive_with_token(arn, None).await
    }

    /// [`Executions::redrive`], idempotent for a client token: repeated with the token of one of the execution's
    /// last ten redrives, it gives the execution back and runs nothing.
    pub async fn redrive_with_token(
        &self,
        arn: &str,
        client_token: Option<&str>,
    ) -> Result<ExecutionRecord, ExecutionError> {
        let record = self.describe(arn)?;
        if client_token.is_some_and(|t| record.redrive_tokens.iter().any(|seen| seen == t)) {
            return Ok(record);
        }
        if let RedriveStatus::NotRedrivable(why) = self.redrive_status(&record) {
            return Err(ExecutionError::ExecutionNotRedrivable(why));
        }
        let machine = self.machine(&record.state_machine_arn)?.clone();
        let (machine_name, name) = parse_execution_arn(arn)?;
        let dir = self.dir(&machine_name, &name);
        let token = client_token.map(str::to_owned);
        // As in `start`, the rest is a task of its own, so a caller going away cannot leave the record RUNNING with
        // nothing running it.
        let (starting, stack) = (self.starting.clone(), self.this.clone());
        let redriven = tokio::spawn(async move {
            let _starting = starting.lock_owned().await;
            let (prepare_dir, prepare_machine) = (dir.clone(), machine.clone());
            let prepared = tokio::task::spawn_blocking(move || prepare_redrive(&prepare_dir, &prepare_machine, token))
                .await
                .map_err(|e| storage(&dir)(io::Error::other(e)))??;
            let (record, lock, point) = match prepared {
                Redrive::Done(record) => return Ok(record),
                Redrive::Ready(record, lock, point) => (record, lock, point),
            };
            if let Some(owner) = stack.upgrade() {
                owner.recorded(&dir, &record, true);
                owner.launch(machine, dir, record.clone(), Begin::Resume(point), lock);
            }
            Ok(record)
        });
        redriven.await.map_err(|e| storage(&self.root)(io::Error::other(e)))?
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

/// Whether a redrive would take `record` (of a machine the template still `declared`) at `now`. The reasons are
/// AWS's words where AWS has the case.
fn redrive_status(record: &ExecutionRecord, declared: bool, now: OffsetDateTime) -> RedriveStatus {
    let not = |why: &str| RedriveStatus::NotRedrivable(why.to_owned());
    match record.status {
        ExecutionStatus::Running => not("Execution is RUNNING and cannot be redriven."),
        ExecutionStatus::Succeeded => not("Execution is SUCCEEDED and cannot be redriven."),
        _ if !declared => not("The template no longer declares this execution's state machine."),
        _ if record.stop_date.is_some_and(|stopped| now - stopped > REDRIVABLE_FOR) => {
            not("Execution redrivable period exceeded.")
        }
        _ => RedriveStatus::Redrivable,
    }
}

/// What [`prepare_redrive`] did.
enum Redrive {
    /// A redrive with the same client token already ran it again: nothing more to do.
    Done(ExecutionRecord),
    /// Recorded as redriven (`ExecutionRedriven` in the history, the record RUNNING), locked, ready to run from
    /// the point.
    Ready(ExecutionRecord, fs::File, ResumePoint),
}

/// Takes the execution's lock, checks again under it that it may be redriven, appends `ExecutionRedriven` to its
/// history and records it RUNNING. Blocking file work, run on the blocking pool holding [`Executions::starting`].
fn prepare_redrive(dir: &Path, machine: &Machine, token: Option<String>) -> Result<Redrive, ExecutionError> {
    // The task that ran it writes its record a moment before letting go of the lock: wait that moment.
    let mut lock = None;
    for _ in 0..100 {
        lock = lock_file(dir)?;
        if lock.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let Some(lock) = lock else {
        return Err(ExecutionError::ExecutionNotRedrivable(
            "Another local stack process over this data directory holds this execution.".into(),
        ));
    };
    let mut record = read_record(dir)?;
    if token.as_ref().is_some_and(|t| record.redrive_tokens.contains(t)) {
        return Ok(Redrive::Done(record));
    }
    let now = OffsetDateTime::now_utc();
    if let RedriveStatus::NotRedrivable(why) = redrive_status(&record, true, now) {
        return Err(ExecutionError::ExecutionNotRedrivable(why));
    }
    let events = read_history(dir)?;
    let last = events.iter().map(|e| e.id).max().unwrap_or(0);
    let input: Option<Value> = serde_json::from_str(&record.input).ok();
    let point = ResumePoint::for_redrive(&events).or_else(|| {
        // It failed before entering any state (its input was refused): it begins again at StartAt.
        Some(ResumePoint::at_start(machine.start_at()?, input?, Some(record.start_date), last))
    });
    let Some(mut point) = point else {
        return Err(ExecutionError::ExecutionNotRedrivable("Its history records no state to run again.".into()));
    };
    record.redrive_count += 1;
    let history = HistoryFile::open(dir, None)?;
    history
        .append(&HistoryEvent {
            timestamp: now,
            event_type: "ExecutionRedriven".into(),
            id: last + 1,
            previous_event_id: last,
            details: Some(EventDetails::ExecutionRedriven { redrive_count: record.redrive_count }),
        })
        .map_err(|why| storage(&history.path)(io::Error::other(why)))?;
    point.last_event_id = last + 1;
    point.deadline_from = Some(now);
    point.start_time = point.start_time.or(Some(record.start_date));
    record.status = ExecutionStatus::Running;
    (record.output, record.error, record.cause, record.stop_date) = (None, None, None, None);
    record.redrive_date = Some(now);
    if let Some(token) = token {
        record.redrive_tokens.push(token);
        let excess = record.redrive_tokens.len().saturating_sub(REDRIVE_TOKENS_KEPT);
        record.redrive_tokens.drain(..excess);
    }
    write_record(dir, &record)?;
    Ok(Redrive::Ready(record, lock, point))
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
    match write_record(dir, record) {
        Ok(()) => {
            if let Some(stack) = stack.upgrade() {
                stack.recorded(dir, record, true);
            }
        }
        Err(e) => {
            tracing::error!(execution = %record.execution_arn, error = %e, "could not record how the execution ended")
        }
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
                let last = events.iter().map(|e| e.id).max().unwrap_or(0);
                Some(ResumePoint::at_start(machine.start_at()?, input?, Some(started.timestamp), last))
            })
            .map(Begin::Resume)
    };
    let Some(begin) = begin else {
        fail(&mut record, "its history records no start".into(), &events);
        return finish(&stack, &dir, &record, &control);
    };
    record.resumed += 1;
    match write_record(&dir, &record) {
        Ok(()) => {
            if let Some(stack) = stack.upgrade() {
                stack.recorded(&dir, &record, false);
            }
        }
        Err(e) => tracing::error!(execution = %arn, error = %e, "could not record the resumption"),
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
            redrive_count: 0,
            redrive_date: None,
            redrive_tokens: Vec::new(),
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

    /// Functions whose first `failures` calls fail (`Flaky`) and that count their calls by name.
    #[derive(Default)]
    struct Counting {
        failures: usize,
        calls: Mutex<HashMap<String, usize>>,
    }

    impl Counting {
        fn calls(&self, function: &str) -> usize {
            self.calls.lock().unwrap().get(function).copied().unwrap_or(0)
        }
    }

    impl FunctionInvoker for Counting {
        fn invoke<'a>(
            &'a self,
            function: &'a str,
            _request_id: &'a str,
            event: Value,
        ) -> local_core::BoxFuture<'a, Result<Value, local_core::invoke::FunctionError>> {
            Box::pin(async move {
                let n = {
                    let mut calls = self.calls.lock().unwrap();
                    let n = calls.entry(function.to_owned()).or_default();
                    *n += 1;
                    *n
                };
                if function == "Flaky" && n <= self.failures {
                    return Err(local_core::invoke::FunctionError::new("Unavailable", "the card processor is down"));
                }
                if function == "Slow" && n == 1 {
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                }
                Ok(json!({"charged": event}))
            })
        }

        fn function_names(&self) -> Vec<String> {
            vec!["Prepare".into(), "Flaky".into(), "Slow".into()]
        }
    }

    fn lambda(name: &str) -> String {
        format!("arn:aws:lambda:us-east-1:123456789012:function:{name}")
    }

    /// `Order`: Prepare (a Task; assigns `order`) → Charge (Flaky) → Done (a Pass reading the variable).
    fn order_machine() -> Machine {
        machine(
            "Order",
            json!({"StartAt": "Prepare", "States": {
                "Prepare": {"Type": "Task", "Resource": lambda("Prepare"), "Assign": {"order.$": "$.charged.id"},
                    "Next": "Charge"},
                "Charge": {"Type": "Task", "Resource": lambda("Flaky"), "Next": "Done"},
                "Done": {"Type": "Pass", "Parameters": {"order.$": "$order", "result.$": "$"}, "End": true}
            }}),
        )
    }

    fn order_executions(data: &Path, failures: usize) -> (Arc<Executions>, Arc<Counting>) {
        let functions = Arc::new(Counting { failures, ..Default::default() });
        let pass = machine("Pass", json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}));
        // Times out (after 1 s) the first time, its Task taking 1.5 s; quick after that.
        let slow = machine(
            "Slow",
            json!({"StartAt": "S", "TimeoutSeconds": 1,
                "States": {"S": {"Type": "Task", "Resource": lambda("Slow"), "End": true}}}),
        );
        let exec = Executions::new(data, Identity::default(), vec![order_machine(), pass, slow], functions.clone());
        (exec, functions)
    }

    async fn start_named(exec: &Executions, machine: &str, name: &str, input: Value) -> ExecutionRecord {
        let req = StartRequest {
            state_machine_arn: exec.identity.state_machine_arn(machine).to_string(),
            name: Some(name.into()),
            input: Some(input.to_string()),
        };
        exec.start(req).await.unwrap()
    }

    fn all_history(exec: &Executions, arn: &str) -> Vec<Value> {
        let (mut events, mut token) = (Vec::new(), None::<String>);
        loop {
            let page = exec.history(arn, false, 2, token.as_deref()).unwrap();
            events.extend(page.items);
            match page.next_token {
                Some(t) => token = Some(t),
                None => return events,
            }
        }
    }

    fn entered(events: &[Value], state: &str) -> usize {
        events.iter().filter(|e| e["stateEnteredEventDetails"]["name"] == state).count()
    }

    #[tokio::test]
    async fn a_redriven_execution_runs_again_from_the_failed_state_only_and_its_history_goes_on() {
        let data = tempfile::tempdir().unwrap();
        let (exec, functions) = order_executions(data.path(), 1);
        let mut feed = exec.subscribe();
        let started = start_named(&exec, "Order", "o-1", json!({"id": "A-7"})).await;
        let failed = until_ended(&exec, &started.execution_arn).await;
        assert_eq!((failed.status, failed.error.as_deref()), (ExecutionStatus::Failed, Some("Unavailable")));
        assert_eq!(exec.redrive_status(&failed), RedriveStatus::Redrivable);

        let redriven = exec.redrive(&started.execution_arn).await.unwrap();
        assert_eq!((redriven.status, redriven.redrive_count), (ExecutionStatus::Running, 1));
        assert!(redriven.redrive_date.is_some() && redriven.stop_date.is_none() && redriven.error.is_none());
        let done = until_ended(&exec, &started.execution_arn).await;
        assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
        let output: Value = serde_json::from_str(done.output.as_deref().unwrap()).unwrap();
        assert_eq!(output["order"], "A-7", "the variable Prepare assigned is there after the redrive: {output}");
        assert_eq!((functions.calls("Prepare"), functions.calls("Flaky")), (1, 2), "Prepare is not run again");

        let events = all_history(&exec, &started.execution_arn);
        let ids: Vec<u64> = events.iter().map(|e| e["id"].as_u64().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[1] == w[0] + 1) && ids[0] == 1, "one history, ids continuing: {ids:?}");
        let redriven_event = events.iter().find(|e| e["type"] == "ExecutionRedriven").expect("ExecutionRedriven");
        assert_eq!(redriven_event["executionRedrivenEventDetails"]["redriveCount"], 1);
        let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        let at = types.iter().position(|t| *t == "ExecutionRedriven").unwrap();
        assert_eq!(types[at - 1], "ExecutionFailed");
        assert_eq!(types[at + 1], "TaskStateEntered");
        assert_eq!((entered(&events, "Prepare"), entered(&events, "Charge")), (1, 2), "{types:?}");
        assert_eq!(*types.last().unwrap(), "ExecutionSucceeded");

        // Every change went out on the feed: started, failed, redriven, succeeded.
        let mut seen = Vec::new();
        while let Ok(change) = feed.try_recv() {
            seen.push((change.status, change.redrive_count));
        }
        use ExecutionStatus::*;
        assert_eq!(seen, [(Running, 0), (Failed, 0), (Running, 1), (Succeeded, 1)]);
    }

    #[tokio::test]
    async fn a_timed_out_execution_redriven_gets_its_whole_timeout_again() {
        let data = tempfile::tempdir().unwrap();
        let (exec, functions) = order_executions(data.path(), 0);
        let started = start_named(&exec, "Slow", "slow", json!({})).await;
        let timed_out = until_ended(&exec, &started.execution_arn).await;
        assert_eq!(timed_out.status, ExecutionStatus::TimedOut, "{timed_out:?}");
        exec.redrive(&started.execution_arn).await.unwrap();
        let done = until_ended(&exec, &started.execution_arn).await;
        assert_eq!(done.status, ExecutionStatus::Succeeded, "the timeout counts from the redrive: {done:?}");
        assert_eq!(functions.calls("Slow"), 2);
        let types: Vec<String> = exec
            .full_history(&started.execution_arn)
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_owned())
            .collect();
        assert!(types.contains(&"ExecutionTimedOut".to_owned()) && types.last().unwrap() == "ExecutionSucceeded");
    }

    #[tokio::test]
    async fn only_a_failed_timed_out_or_aborted_execution_is_redrivable() {
        let data = tempfile::tempdir().unwrap();
        let (exec, _) = order_executions(data.path(), 0);
        let ok = start_named(&exec, "Order", "fine", json!({"id": "B"})).await;
        let ok = until_ended(&exec, &ok.execution_arn).await;
        assert_eq!(ok.status, ExecutionStatus::Succeeded);
        let e = exec.redrive(&ok.execution_arn).await.unwrap_err();
        assert!(matches!(&e, ExecutionError::ExecutionNotRedrivable(why) if why.contains("SUCCEEDED")), "{e:?}");
        assert!(e.is_client_error() && e.code() == "ExecutionNotRedrivable");
        assert_eq!(exec.redrive_status(&ok).as_str(), "NOT_REDRIVABLE");
        assert!(matches!(
            exec.redrive(&exec.identity.execution_arn("Order", "nope").to_string()).await,
            Err(ExecutionError::ExecutionDoesNotExist(_))
        ));

        let mut old = ok.clone();
        old.status = ExecutionStatus::Failed;
        old.stop_date = Some(OffsetDateTime::now_utc() - REDRIVABLE_FOR - time::Duration::minutes(1));
        assert_eq!(exec.redrive_status(&old).reason(), Some("Execution redrivable period exceeded."));
        old.status = ExecutionStatus::Running;
        assert_eq!(exec.redrive_status(&old).reason(), Some("Execution is RUNNING and cannot be redriven."));
    }

    #[tokio::test]
    async fn a_redrive_repeated_with_its_client_token_runs_nothing_more() {
        let data = tempfile::tempdir().unwrap();
        let (exec, functions) = order_executions(data.path(), 5);
        let started = start_named(&exec, "Order", "retry", json!({"id": "C"})).await;
        until_ended(&exec, &started.execution_arn).await;
        let first = exec.redrive_with_token(&started.execution_arn, Some("t-1")).await.unwrap();
        let again = exec.redrive_with_token(&started.execution_arn, Some("t-1")).await.unwrap();
        assert_eq!((first.redrive_count, again.redrive_count), (1, 1));
        let ended = until_ended(&exec, &started.execution_arn).await;
        assert_eq!((ended.status, ended.redrive_count), (ExecutionStatus::Failed, 1));
        assert_eq!(functions.calls("Flaky"), 2, "one run, one redrive");
        // A redrive of a redriven execution that failed again continues the same history.
        let second = exec.redrive(&started.execution_arn).await.unwrap();
        assert_eq!(second.redrive_count, 2);
        until_ended(&exec, &started.execution_arn).await;
        let events = all_history(&exec, &started.execution_arn);
        assert_eq!(events.iter().filter(|e| e["type"] == "ExecutionRedriven").count(), 2);
        assert_eq!(entered(&events, "Prepare"), 1);
    }

    #[tokio::test]
    async fn a_redriven_execution_left_running_by_a_stopped_stack_resumes_after_its_redrive() {
        let data = tempfile::tempdir().unwrap();
        let (exec, _) = order_executions(data.path(), 1);
        let started = start_named(&exec, "Order", "cut", json!({"id": "D"})).await;
        until_ended(&exec, &started.execution_arn).await;
        // As a stack stopping right after the redrive was recorded leaves it: RUNNING, history ending in the
        // redrive.
        let dir = exec.dir("Order", "cut");
        let Redrive::Ready(record, lock, _) = prepare_redrive(&dir, &order_machine(), None).unwrap() else {
            panic!("not redriven")
        };
        assert_eq!(record.status, ExecutionStatus::Running);
        drop((lock, exec));

        let (exec, functions) = order_executions(data.path(), 0);
        assert_eq!(exec.recover().unwrap(), 1);
        let done = until_ended(&exec, &started.execution_arn).await;
        assert_eq!((done.status, done.redrive_count), (ExecutionStatus::Succeeded, 1), "{done:?}");
        assert_eq!((functions.calls("Prepare"), functions.calls("Flaky")), (0, 1), "only Charge ran again");
    }

    /// Writes the record of a closed execution straight to disk, as another process (or an earlier start) would.
    fn write_closed(exec: &Executions, machine: &str, name: &str, status: ExecutionStatus, seconds: i64) {
        let dir = exec.dir(machine, name);
        fs::create_dir_all(&dir).unwrap();
        let start_date = OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(1_700_000_000 + seconds);
        let record = ExecutionRecord {
            execution_arn: exec.identity.execution_arn(machine, name).to_string(),
            state_machine_arn: exec.identity.state_machine_arn(machine).to_string(),
            name: name.into(),
            status,
            input: "{}".into(),
            output: None,
            error: (status == ExecutionStatus::Failed).then(|| "Boom".into()),
            cause: None,
            start_date,
            stop_date: Some(start_date + time::Duration::seconds(1)),
            resumed: 0,
            redrive_count: 0,
            redrive_date: None,
            redrive_tokens: Vec::new(),
        };
        write_record(&dir, &record).unwrap();
    }

    #[tokio::test]
    async fn a_query_filters_by_machine_status_and_name_newest_first_across_machines_in_pages_with_a_total() {
        let data = tempfile::tempdir().unwrap();
        let (exec, _) = order_executions(data.path(), 0);
        use ExecutionStatus::*;
        for (i, (machine, name, status)) in [
            ("Order", "Nightly-1", Succeeded),
            ("Pass", "nightly-2", Failed),
            ("Order", "adhoc-3", Failed),
            ("Order", "NIGHTLY-4", Failed),
            ("Pass", "adhoc-5", Succeeded),
        ]
        .into_iter()
        .enumerate()
        {
            write_closed(&exec, machine, name, status, i as i64);
        }
        let names = |page: &Page<ExecutionSummary>| page.items.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
        let (all, total) = exec.query(&Query::default()).unwrap();
        assert_eq!(names(&all), ["adhoc-5", "NIGHTLY-4", "adhoc-3", "nightly-2", "Nightly-1"]);
        assert_eq!((total, all.next_token), (5, None));

        let nightly = Query { name_contains: Some("nIgHtLy".into()), max_results: 2, ..Default::default() };
        let (first, total) = exec.query(&nightly).unwrap();
        assert_eq!((names(&first), total), (vec!["NIGHTLY-4".to_owned(), "nightly-2".to_owned()], 3));
        // A new execution between pages shifts nothing.
        write_closed(&exec, "Order", "nightly-6", Succeeded, 10);
        exec.describe(&exec.identity.execution_arn("Order", "nightly-6").to_string()).unwrap();
        let next = Query { next_token: first.next_token.clone(), ..nightly.clone() };
        let (second, total) = exec.query(&next).unwrap();
        assert_eq!((names(&second), second.next_token, total), (vec!["Nightly-1".to_owned()], None, 4));
        let other = Query { status: Some(Failed), ..next };
        assert!(matches!(exec.query(&other), Err(ExecutionError::InvalidToken(_))), "a token serves its own query");

        let order = exec.identity.state_machine_arn("Order").to_string();
        let failed_orders = Query { machine_arn: Some(order.clone()), status: Some(Failed), ..Default::default() };
        let (page, total) = exec.query(&failed_orders).unwrap();
        assert_eq!((names(&page), total), (vec!["NIGHTLY-4".to_owned(), "adhoc-3".to_owned()], 2));
        assert_eq!(page.items[0].error.as_deref(), Some("Boom"));
        assert_eq!(page.items[0].machine_name(), "Order");

        let counts = exec.counts(&order).unwrap();
        assert_eq!(counts[&Succeeded], 2);
        assert_eq!(counts[&Failed], 2);
        assert_eq!((counts[&Running], counts.len()), (0, 5), "every status is counted");
        let missing = exec.identity.state_machine_arn("Nope").to_string();
        assert!(matches!(exec.counts(&missing), Err(ExecutionError::StateMachineDoesNotExist(_))));
        let listed = exec.list(&order, Some(Failed), 1, None).unwrap();
        assert_eq!(listed.items[0].name, "NIGHTLY-4");
        let rest = exec.list(&order, Some(Failed), 1, listed.next_token.as_deref()).unwrap();
        assert_eq!((rest.items[0].name.as_str(), rest.next_token), ("adhoc-3", None));
    }

    #[tokio::test]
    async fn an_execution_another_process_wrote_is_indexed_once_described_and_never_set_back() {
        let data = tempfile::tempdir().unwrap();
        let (exec, _) = order_executions(data.path(), 0);
        assert_eq!(exec.query(&Query::default()).unwrap().1, 0, "the index is built, empty");
        write_closed(&exec, "Order", "elsewhere", ExecutionStatus::Failed, 0);
        assert_eq!(exec.query(&Query::default()).unwrap().1, 0, "not seen until described");
        let arn = exec.identity.execution_arn("Order", "elsewhere").to_string();
        exec.describe(&arn).unwrap();
        let (page, total) = exec.query(&Query::default()).unwrap();
        assert_eq!((total, page.items[0].status), (1, ExecutionStatus::Failed));
        // An older read described again does not overwrite what the index has.
        write_closed(&exec, "Order", "elsewhere", ExecutionStatus::Succeeded, 0);
        exec.describe(&arn).unwrap();
        assert_eq!(exec.query(&Query::default()).unwrap().0.items[0].status, ExecutionStatus::Failed);
    }

    #[test]
    fn queries_over_ten_thousand_indexed_executions_filter_page_and_count_them() {
        let data = tempfile::tempdir().unwrap();
        let (exec, _) = order_executions(data.path(), 0);
        let (order, pass) =
            (exec.identity.state_machine_arn("Order").to_string(), exec.identity.state_machine_arn("Pass").to_string());
        let statuses = ExecutionStatus::ALL;
        exec.with_index(|index| {
            for i in 0..10_000 {
                let name = format!("run-{i:05}");
                let machine = if i % 2 == 0 { &order } else { &pass };
                let start_date = OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(1_700_000_000 + i);
                let record = ExecutionRecord {
                    execution_arn: format!("{machine}:{name}").replace(":stateMachine:", ":execution:"),
                    state_machine_arn: machine.clone(),
                    name: name.clone(),
                    status: statuses[i as usize % statuses.len()],
                    input: "{}".into(),
                    output: None,
                    error: None,
                    cause: None,
                    start_date,
                    stop_date: None,
                    resumed: 0,
                    redrive_count: 0,
                    redrive_date: None,
                    redrive_tokens: Vec::new(),
                };
                index.upsert(data.path().join(&name), &record);
            }
        });
        let queries = [
            Query { max_results: 50, ..Default::default() },
            Query {
                machine_arn: Some(order.clone()),
                status: Some(ExecutionStatus::Failed),
                max_results: 50,
                ..Default::default()
            },
            Query { name_contains: Some("RUN-09".into()), max_results: 50, ..Default::default() },
        ];
        let started = std::time::Instant::now();
        let mut token = None;
        for q in &queries {
            let (page, total) = exec.query(q).unwrap();
            assert!(!page.items.is_empty() && total >= 50, "{total}");
            token = page.next_token;
        }
        let (_, total) = exec.query(&Query { next_token: token, ..queries[2].clone() }).unwrap();
        assert_eq!(total, 1000);
        let per_query = started.elapsed() / 4;
        let counted = std::time::Instant::now();
        assert_eq!(exec.counts(&order).unwrap().values().sum::<u64>(), 5000);
        eprintln!("query over 10,000 indexed executions: {per_query:?} each; counts: {:?}", counted.elapsed());
    }

    /// Not run by default (it writes 10,000 records): `cargo test -p local-sfn -- --ignored ten_thousand`.
    #[test]
    #[ignore]
    fn ten_thousand_executions_on_disk_are_indexed_once_and_listed_from_the_index() {
        let data = tempfile::tempdir().unwrap();
        let (exec, _) = order_executions(data.path(), 0);
        for i in 0..10_000 {
            write_closed(&exec, "Order", &format!("run-{i:05}"), ExecutionStatus::ALL[i % 5], i as i64);
        }
        let scan = std::time::Instant::now();
        assert_eq!(exec.query(&Query::default()).unwrap().1, 10_000);
        let scanned = scan.elapsed();
        let order = exec.identity.state_machine_arn("Order").to_string();
        let list = std::time::Instant::now();
        assert_eq!(exec.list(&order, None, 100, None).unwrap().items.len(), 100);
        let listed = list.elapsed();
        let query = std::time::Instant::now();
        let q = Query { name_contains: Some("run-09".into()), max_results: 100, ..Default::default() };
        assert_eq!(exec.query(&q).unwrap().1, 1000);
        eprintln!(
            "scan of 10,000 records: {scanned:?}; ListExecutions page of 100: {listed:?}; query: {:?}",
            query.elapsed()
        );
    }
}

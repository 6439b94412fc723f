//! The console's port: what the pages need to know about a stack, and the few things they may do to it. Two
//! adapters implement it: the local stack (`local::console::LocalSource`, in-process) and a deployed stack on AWS
//! (`local_console_aws::AwsSource`, through aws-sdk-sfn, -sqs and -cloudwatch). The pages know nothing else, so
//! what they show locally and on AWS cannot differ in shape.
//!
//! Histories use the Step Functions API's shape (`GetExecutionHistory` events as JSON: `id`, `previousEventId`,
//! `type`, `timestamp` in epoch seconds, one `…EventDetails` object), because both adapters have exactly that.

use serde::Serialize;
use serde_json::Value;
use std::{future::Future, pin::Pin};
use time::OffsetDateTime;

pub type SourceFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, SourceError>> + Send + 'a>>;

/// Why the source could not answer, by meaning; the router maps each to one HTTP status (see `crate::error`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// No such execution, queue, message or mail (404).
    #[error("{0}")]
    NotFound(String),
    /// The request cannot be done as asked: bad ARN, stopping a closed execution, redriving one that succeeded (400).
    #[error("{0}")]
    Invalid(String),
    /// This source has no such thing (the SES outbox or pipelines of a deployed stack) (501).
    #[error("{0}")]
    Unsupported(String),
    /// The service behind the source failed or could not be reached (502).
    #[error("{0}")]
    Unavailable(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
    PendingRedrive,
}

impl Status {
    pub const ALL: [Status; 6] =
        [Self::Running, Self::Succeeded, Self::Failed, Self::TimedOut, Self::Aborted, Self::PendingRedrive];

    /// The API's spelling (`RUNNING`, `TIMED_OUT`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "RUNNING",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::TimedOut => "TIMED_OUT",
            Self::Aborted => "ABORTED",
            Self::PendingRedrive => "PENDING_REDRIVE",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A state machine with how many executions it has in each status.
#[derive(Debug, Clone, Serialize)]
pub struct MachineSummary {
    pub name: String,
    pub arn: String,
    /// Counts by status; a source that cannot count cheaply (AWS) leaves it empty.
    pub counts: Vec<(Status, u64)>,
}

/// One row of an executions list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExecutionSummary {
    pub arn: String,
    pub machine_name: String,
    pub machine_arn: String,
    pub name: String,
    pub status: Status,
    #[serde(with = "time::serde::rfc3339")]
    pub start_date: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub stop_date: Option<OffsetDateTime>,
    /// For a closed execution that failed: its error and cause (the list shows why without opening it).
    pub error: Option<String>,
    pub cause: Option<String>,
    pub redrive_count: u32,
}

/// What an executions list asks for: newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecutionQuery {
    /// Only this machine's executions (by ARN); all machines when `None`.
    pub machine_arn: Option<String>,
    pub status: Option<Status>,
    /// Only executions whose name contains this (case-insensitive).
    pub name_contains: Option<String>,
    /// The page size (1..=1000).
    pub page_size: usize,
    /// The opaque token a previous page gave.
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ExecutionPage {
    pub items: Vec<ExecutionSummary>,
    pub next_token: Option<String>,
    /// How many executions match the query in all, when the source knows it cheaply.
    pub total: Option<u64>,
}

/// One execution, everything its page shows.
#[derive(Debug, Clone, Serialize)]
pub struct ExecutionDetail {
    pub summary: ExecutionSummary,
    pub input: Option<String>,
    pub output: Option<String>,
    /// The state machine's definition (ASL JSON text) the execution ran.
    pub definition: String,
    /// The whole history, oldest first, in the API's shape (see the module docs).
    pub history: Vec<Value>,
}

/// A change the executions pages are told about live (server-sent events).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExecutionChange {
    pub summary: ExecutionSummary,
}

/// A dead-letter queue of the template, with what it holds.
#[derive(Debug, Clone, Serialize)]
pub struct DeadLetterQueue {
    /// The template's logical id (`DeadLetterQueue`), or the queue name on AWS without a template.
    pub logical_id: String,
    pub name: String,
    pub arn: String,
    /// What sends failures here, in words ("async invocations of ResizePhotoFunction, ...").
    pub fed_by: Vec<String>,
    /// How many messages it holds in all (the page shows at most `messages.len()` of them).
    pub approximate_count: u64,
    pub messages: Vec<DeadLetter>,
}

/// One message of a dead-letter queue, read without receiving it where the source can (locally).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadLetter {
    pub message_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub sent: OffsetDateTime,
    /// The body as sent (a Lambda invocation record, an EventBridge event, a stream batch's failure record).
    pub body: String,
    /// The original event, taken out of the body (`requestPayload` of an invocation record; the event itself).
    pub original_event: Option<Value>,
    /// The failure, as the body or the message attributes tell it (`errorType: errorMessage`, `ERROR_CODE`).
    pub error: Option<String>,
    /// What failed: the function or the rule target.
    pub failed_target: Option<String>,
    /// The request id of the failed invocation, which links to its log lines.
    pub request_id: Option<String>,
    /// Message attributes as strings.
    pub attributes: Vec<(String, String)>,
    pub receive_count: u32,
}

/// What redriving a dead letter did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RedriveOutcome {
    /// In words: "invoked ResizePhotoFunction again (request 1234)", "moved back to queue X".
    pub done: String,
}

/// One message of the SES outbox (list row).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MailSummary {
    pub id: String,
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    #[serde(with = "time::serde::rfc3339")]
    pub date: OffsetDateTime,
    pub size: u64,
}

/// Photos and invoices moving through the system, and the task-event flow.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Pipelines {
    pub photos: Vec<PipelineItem>,
    pub invoices: Vec<PipelineItem>,
    pub task_events: TaskEventFlow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    InFlight,
    Failed,
    Done,
}

/// A photo or an invoice: where it is, and why it failed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PipelineItem {
    /// The object key (`invoices/<user>/<id>.pdf`).
    pub key: String,
    pub stage: Stage,
    /// The state or function it is at or failed in.
    pub step: Option<String>,
    pub reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
    /// The execution's ARN (invoices), which the page links to.
    pub execution_arn: Option<String>,
    /// The request id of the function invocation that failed (photos), which links to its log lines.
    pub request_id: Option<String>,
}

/// EventBridge's counters for the task-event bus and its rules.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TaskEventFlow {
    pub events_put: u64,
    pub rules_matched: u64,
    pub targets_invoked: u64,
    pub retried: u64,
    pub failed: u64,
    pub dead_lettered: u64,
    /// Each rule: name, event pattern (JSON text), targets.
    pub rules: Vec<RuleFlow>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RuleFlow {
    pub name: String,
    pub pattern: String,
    pub targets: Vec<String>,
}

/// One log line (JSON, as the functions write them), for the log page of a request id.
pub type LogLine = Value;

/// The stack's own measurements of its functions, from their EMF lines (see `crate::cost`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Measurements {
    pub functions: Vec<FunctionUsage>,
    /// Business counts (`InvoicesStored`, `PhotosResized`, ...) summed over the lines, by metric name.
    pub counts: Vec<(String, f64)>,
    /// Step Functions state transitions, by state machine name, and how many executions they came from.
    pub state_transitions: Vec<(String, u64, u64)>,
    /// Requests the stack's emulated services served, by `service:Action` (`s3:PutObject`, `sesv2:SendEmail`,
    /// `events:PutEvents`), where the source counts them.
    pub requests: Vec<(String, u64)>,
    /// Distinct EMF metric series seen (namespace, metric, dimensions): each is a CloudWatch custom metric.
    pub metric_series: u64,
    /// The window the measurements cover.
    #[serde(with = "time::serde::rfc3339::option")]
    pub since: Option<OffsetDateTime>,
}

/// One function's invocations, as measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FunctionUsage {
    /// The template's logical id.
    pub function: String,
    pub memory_mb: u32,
    pub architecture: String,
    pub invocations: u64,
    pub cold_starts: u64,
    pub errors: u64,
    pub duration_p50_ms: f64,
    pub duration_p99_ms: f64,
    /// Σ billed duration (each rounded up to 1 ms) × memory, in GB-seconds.
    pub gb_seconds: f64,
}

/// The console's view of a stack. Every method answers from the stack; none caches beyond what it says.
pub trait ConsoleSource: Send + Sync + 'static {
    /// Shown in every page's header: "local stack, data in ./.local" or "AWS stack task-platform in eu-west-1".
    fn label(&self) -> String;

    /// Whether the stack has an SES outbox and pipelines to show (the local stack does; AWS does not).
    fn is_local(&self) -> bool;

    /// What the executions list cannot show from this source, said under it (AWS: the name search's reach, rows
    /// without causes). `None` when it shows everything.
    fn list_limits(&self) -> Option<String> {
        None
    }

    fn state_machines(&self) -> SourceFuture<'_, Vec<MachineSummary>>;

    fn executions(&self, query: ExecutionQuery) -> SourceFuture<'_, ExecutionPage>;

    fn execution(&self, arn: &str) -> SourceFuture<'_, ExecutionDetail>;

    /// StopExecution's semantics: a running execution is aborted with this error and cause; a closed one is
    /// `Invalid`.
    fn stop(&self, arn: &str, error: Option<String>, cause: Option<String>) -> SourceFuture<'_, ExecutionSummary>;

    /// RedriveExecution's semantics: a FAILED, TIMED_OUT or ABORTED execution runs again from the states that did
    /// not succeed, with their inputs; anything else is `Invalid`.
    fn redrive(&self, arn: &str) -> SourceFuture<'_, ExecutionSummary>;

    /// Live execution changes, for server-sent events. `None` when the source cannot push (the page polls).
    fn subscribe(&self) -> Option<tokio::sync::broadcast::Receiver<ExecutionChange>>;

    /// The template's dead-letter queues, each with up to `limit` messages.
    fn dead_letters(&self, limit: usize) -> SourceFuture<'_, Vec<DeadLetterQueue>>;

    /// Sends one dead letter back to where it failed (the function, or the queue it came from) and deletes it.
    fn redrive_dead_letter(&self, queue_arn: &str, message_id: &str) -> SourceFuture<'_, RedriveOutcome>;

    /// The SES outbox, newest first.
    fn mail(&self) -> SourceFuture<'_, Vec<MailSummary>>;

    /// One message as sent (RFC 5322 bytes).
    fn mail_raw(&self, id: &str) -> SourceFuture<'_, Vec<u8>>;

    fn pipelines(&self) -> SourceFuture<'_, Pipelines>;

    /// The log lines carrying this request id, oldest first.
    fn logs(&self, request_id: &str) -> SourceFuture<'_, Vec<LogLine>>;

    fn measurements(&self) -> SourceFuture<'_, Measurements>;
}

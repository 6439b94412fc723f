//! The operator console on the local stack: [`LocalSource`], the console's port
//! ([`local_console::source::ConsoleSource`]) answered in-process from the stack's own services, and [`Console`],
//! the pages mounted on the stack's endpoint under `/_console/` for loopback clients only.
//!
//! What the pages show comes from where the stack keeps it: executions from Step Functions' index, dead letters read
//! from the template's dead-letter queues without receiving them (`Sqs::peek`), mail from the SES outbox, pipelines
//! from the invoice state machine's executions and the photo uploads still in the bucket, the task-event flow from
//! EventBridge's counters, log lines from the stack's [`crate::logs::LogBook`].
//!
//! Which queues are dead-letter queues is read from the template, not guessed from names: every queue a function
//! names as `DeadLetterQueue` or `OnFailure` destination, an EventBridge target's `DeadLetterConfig`, a stream
//! mapping's `OnFailure`, and an SQS `RedrivePolicy` target. A dead letter is sent back the way it failed: an
//! asynchronous invocation is invoked again asynchronously (so it is retried, and dead-lettered again if it still
//! fails), an EventBridge dead letter is delivered to its target again, a message a queue gave up on goes back to
//! that queue. The message is claimed first (received by id) so no consumer acts on it at the same time, and deleted
//! only once it has been sent back.

use crate::stack::Stack;
use axum::{
    body::Body,
    extract::{ConnectInfo, Request},
    response::{IntoResponse, Response},
};
use local_console::source::{
    ConsoleSource, DeadLetter, DeadLetterQueue, ExecutionChange, ExecutionDetail, ExecutionPage, ExecutionQuery,
    ExecutionSummary, LogLine, MachineSummary, MailSummary, Measurements, PipelineItem, Pipelines, RedriveOutcome,
    RuleFlow, SourceError, SourceFuture, Stage, Status, TaskEventFlow,
};
use local_core::{Arn, endpoint, invoke::EventInvoker};
use local_sfn::executions::{
    ExecutionError, ExecutionRecord, ExecutionStatus, ExecutionSummary as Indexed, Query, StartRequest, StopReason,
};
use serde_json::Value;
use std::{
    collections::{BTreeMap, HashMap},
    net::SocketAddr,
    sync::Arc,
};
use time::OffsetDateTime;
use tokio::sync::broadcast;

/// How long a dead letter being sent back stays invisible to consumers of its queue.
const REDRIVE_CLAIM_SECONDS: u32 = 60;
/// How many invoices of each stage the pipelines page shows.
const PIPELINE_ROWS: usize = 50;
/// How many live changes a slow page may fall behind before it misses some (it then reloads).
const CHANGES_BUFFER: usize = 256;

/// The console's source on the local stack (see the module docs).
pub struct LocalSource {
    stack: Arc<Stack>,
    changes: broadcast::Sender<ExecutionChange>,
}

impl LocalSource {
    /// The source over `stack`, with the task that forwards execution changes to [`ConsoleSource::subscribe`]
    /// (it ends when the stack's executions are dropped).
    pub fn new(stack: Arc<Stack>) -> Arc<Self> {
        let (changes, _) = broadcast::channel(CHANGES_BUFFER);
        let source = Arc::new(Self { stack, changes });
        source.forward_changes();
        source
    }

    fn forward_changes(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let mut feed = self.stack.executions().subscribe();
        let machines: HashMap<String, String> =
            self.stack.executions().machines().iter().map(|m| (m.arn.clone(), m.name.clone())).collect();
        // Holds neither the stack nor the source: the feed closing (the executions dropped) ends it.
        let sender = self.changes.clone();
        runtime.spawn(async move {
            loop {
                match feed.recv().await {
                    Ok(change) => {
                        let summary = summary_of(&change, &machines);
                        let _ = sender.send(ExecutionChange { summary });
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
    }

    fn machine_names(&self) -> HashMap<String, String> {
        self.stack.executions().machines().iter().map(|m| (m.arn.clone(), m.name.clone())).collect()
    }

    fn summarize(&self, record: &ExecutionRecord) -> ExecutionSummary {
        summary_of(&Indexed::from(record), &self.machine_names())
    }
}

// ------------------------------------------------------------------------------------------------ errors

fn execution_error(e: ExecutionError) -> SourceError {
    match e {
        ExecutionError::ExecutionDoesNotExist(_) | ExecutionError::StateMachineDoesNotExist(_) => {
            SourceError::NotFound(e.to_string())
        }
        // The message names no path (the log line has it).
        ExecutionError::Storage { .. } => SourceError::Unavailable(e.to_string()),
        _ => SourceError::Invalid(e.to_string()),
    }
}

fn sqs_error(e: local_sqs::SqsError) -> SourceError {
    match e {
        local_sqs::SqsError::QueueDoesNotExist => SourceError::NotFound(e.to_string()),
        e if e.is_sender_fault() => SourceError::Invalid(e.to_string()),
        e => {
            // Storage errors may name files; the caller is told only what failed.
            tracing::error!(error = %e, "console: SQS failed");
            SourceError::Unavailable(format!("the local stack's SQS failed ({})", e.code()))
        }
    }
}

fn ses_error(e: local_ses::SesError) -> SourceError {
    match e {
        local_ses::SesError::NoSuchMessage(_) => SourceError::NotFound(e.to_string()),
        local_ses::SesError::InvalidMessageId(_) => SourceError::NotFound(e.to_string()),
        e => {
            tracing::error!(error = %e, "console: the SES outbox could not be read");
            SourceError::Unavailable("the local stack could not read the SES outbox".into())
        }
    }
}

fn joined(e: tokio::task::JoinError) -> SourceError {
    SourceError::Unavailable(format!("the local stack's worker failed: {e}"))
}

// ------------------------------------------------------------------------------------------------ executions

fn status_of(s: ExecutionStatus) -> Status {
    match s {
        ExecutionStatus::Running => Status::Running,
        ExecutionStatus::Succeeded => Status::Succeeded,
        ExecutionStatus::Failed => Status::Failed,
        ExecutionStatus::TimedOut => Status::TimedOut,
        ExecutionStatus::Aborted => Status::Aborted,
    }
}

fn sfn_status(s: Status) -> Option<ExecutionStatus> {
    match s {
        Status::Running => Some(ExecutionStatus::Running),
        Status::Succeeded => Some(ExecutionStatus::Succeeded),
        Status::Failed => Some(ExecutionStatus::Failed),
        Status::TimedOut => Some(ExecutionStatus::TimedOut),
        Status::Aborted => Some(ExecutionStatus::Aborted),
        // The local stack redrives at once: an execution is never left waiting for its redrive.
        Status::PendingRedrive => None,
    }
}

fn summary_of(record: &Indexed, machines: &HashMap<String, String>) -> ExecutionSummary {
    ExecutionSummary {
        arn: record.execution_arn.clone(),
        machine_name: machines
            .get(&record.state_machine_arn)
            .cloned()
            .unwrap_or_else(|| record.machine_name().to_owned()),
        machine_arn: record.state_machine_arn.clone(),
        name: record.name.clone(),
        status: status_of(record.status),
        start_date: record.start_date,
        stop_date: record.stop_date,
        error: record.error.clone(),
        cause: record.cause.clone(),
        redrive_count: record.redrive_count,
    }
}

/// The whole history of an execution, oldest first, read page by page.
fn whole_history(stack: &Stack, arn: &str) -> Result<Vec<Value>, ExecutionError> {
    let mut events = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = stack.executions().history(arn, false, 1000, token.as_deref())?;
        events.extend(page.items);
        match page.next_token {
            Some(t) => token = Some(t),
            None => return Ok(events),
        }
    }
}

/// The newest `count` events of an execution's history, newest first.
fn newest_events(stack: &Stack, arn: &str, count: usize) -> Vec<Value> {
    stack.executions().history(arn, true, count, None).map(|p| p.items).unwrap_or_default()
}

// ------------------------------------------------------------------------------------------------ dead letters

/// A dead-letter queue of the template, and what feeds it.
#[derive(Debug, Clone)]
struct Dlq {
    logical_id: String,
    name: String,
    arn: String,
    fed_by: Vec<String>,
}

/// What a dead letter is, read from its body and attributes.
#[derive(Debug, Clone, PartialEq)]
enum Letter {
    /// Lambda's invocation record (an `OnFailure` destination): the function, the request, the original event.
    Invocation {
        function: String,
        request_id: Option<String>,
        payload: Value,
        error: Option<String>,
    },
    /// Lambda's `DeadLetterQueue` message: the event itself, with `RequestID` / `ErrorMessage` attributes.
    LambdaEvent {
        request_id: Option<String>,
        event: Value,
        error: Option<String>,
    },
    /// EventBridge's dead letter: the event, with `RULE_ARN` / `TARGET_ARN` / `ERROR_CODE` / `ERROR_MESSAGE`.
    Event {
        rule_arn: String,
        target_arn: String,
        event: Value,
        error: Option<String>,
    },
    /// A stream mapping's failure record: which records of which stream were given up on.
    StreamBatch {
        function: String,
        request_id: Option<String>,
        batch: Value,
        error: Option<String>,
    },
    /// A message its source queue gave up on after `maxReceiveCount` receives.
    Moved {
        source_arn: String,
    },
    Unknown,
}

/// The function a Lambda ARN names (`…:function:NAME[:qualifier]`), or a bare name.
fn function_of(arn: &str) -> String {
    match arn.parse::<Arn>() {
        Ok(a) => a.resource_of("function").unwrap_or("").split(':').next().unwrap_or("").to_owned(),
        Err(_) => arn.split(':').next().unwrap_or("").to_owned(),
    }
}

fn string_attributes(m: &local_sqs::ReceivedMessage) -> Vec<(String, String)> {
    use base64::Engine;
    m.attributes
        .iter()
        .map(|(k, a)| {
            let v = match &a.value {
                local_sqs::AttributeValue::Text(s) => s.clone(),
                local_sqs::AttributeValue::Binary(b) => base64::engine::general_purpose::STANDARD.encode(b),
            };
            (k.clone(), v)
        })
        .collect()
}

fn read_letter(m: &local_sqs::ReceivedMessage) -> Letter {
    // Whatever it says, a message a queue gave up on goes back to that queue.
    if let Some(source_arn) = &m.dead_letter_source_arn {
        return Letter::Moved { source_arn: source_arn.clone() };
    }
    let attributes: BTreeMap<String, String> = string_attributes(m).into_iter().collect();
    let body: Option<Value> = serde_json::from_str(&m.body).ok();
    if let Some(b) = &body
        && let Some(function_arn) = b.pointer("/requestContext/functionArn").and_then(Value::as_str)
    {
        let function = function_of(function_arn);
        let request_id = b.pointer("/requestContext/requestId").and_then(Value::as_str).map(str::to_owned);
        let condition = b.pointer("/requestContext/condition").and_then(Value::as_str);
        if let Some(batch) = b.get("DDBStreamBatchInfo") {
            let error = condition.map(|c| format!("{c}: the batch was given up on"));
            return Letter::StreamBatch { function, request_id, batch: batch.clone(), error };
        }
        let response = b.get("responsePayload");
        let error = match (
            response.and_then(|r| r.get("errorType")).and_then(Value::as_str),
            response.and_then(|r| r.get("errorMessage")).and_then(Value::as_str),
        ) {
            (Some(t), Some(m)) => Some(format!("{t}: {m}")),
            (Some(t), None) => Some(t.to_owned()),
            (None, Some(m)) => Some(m.to_owned()),
            (None, None) => condition.map(str::to_owned),
        };
        let payload = b.get("requestPayload").cloned().unwrap_or(Value::Null);
        return Letter::Invocation { function, request_id, payload, error };
    }
    if let (Some(rule_arn), Some(target_arn)) = (attributes.get("RULE_ARN"), attributes.get("TARGET_ARN")) {
        let error = match (attributes.get("ERROR_CODE"), attributes.get("ERROR_MESSAGE")) {
            (Some(c), Some(m)) => Some(format!("{c}: {m}")),
            (c, m) => c.or(m).cloned(),
        };
        return Letter::Event {
            rule_arn: rule_arn.clone(),
            target_arn: target_arn.clone(),
            event: body.unwrap_or_else(|| Value::String(m.body.clone())),
            error,
        };
    }
    if attributes.contains_key("RequestID") {
        return Letter::LambdaEvent {
            request_id: attributes.get("RequestID").cloned(),
            event: body.unwrap_or_else(|| Value::String(m.body.clone())),
            error: attributes.get("ErrorMessage").cloned(),
        };
    }
    Letter::Unknown
}

fn epoch_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

// ------------------------------------------------------------------------------------------------ pipelines

/// An S3 key as an event carries it (URL-encoded, `+` for a space), decoded.
fn event_key(raw: &str) -> String {
    endpoint::percent_decode(&raw.replace('+', " "))
}

/// The object keys an S3 event names.
fn s3_keys(event: &Value) -> Vec<String> {
    event
        .get("Records")
        .and_then(Value::as_array)
        .map(|records| {
            records.iter().filter_map(|r| r.pointer("/s3/object/key").and_then(Value::as_str)).map(event_key).collect()
        })
        .unwrap_or_default()
}

/// The state an execution is in now: the newest state entered that has not exited.
fn current_state(newest_first: &[Value]) -> Option<String> {
    newest_first.iter().find_map(|e| {
        let kind = e.get("type").and_then(Value::as_str)?;
        kind.ends_with("StateEntered")
            .then(|| e.pointer("/stateEnteredEventDetails/name").and_then(Value::as_str).map(str::to_owned))
            .flatten()
    })
}

/// Where a failed invoice failed and why: the refusal the machine records (`refusal.state`, `.code`, `.reason`,
/// from the Catch's `failed_state`) in the Fail state's input, else the state it was in when it failed.
fn failure_of(newest_first: &[Value]) -> (Option<String>, Option<String>) {
    for e in newest_first {
        if e.get("type").and_then(Value::as_str).is_some_and(|t| t == "FailStateEntered")
            && let Some(input) = e.pointer("/stateEnteredEventDetails/input").and_then(Value::as_str)
            && let Ok(input) = serde_json::from_str::<Value>(input)
            && let Some(refusal) = input.get("refusal")
        {
            let state = refusal.get("state").and_then(Value::as_str).map(str::to_owned);
            let code = refusal.get("code").and_then(Value::as_str);
            let reason = refusal.get("reason").and_then(Value::as_str);
            let reason = match (code, reason) {
                (Some(c), Some(r)) => Some(format!("{c}: {r}")),
                (c, r) => c.or(r).map(str::to_owned),
            };
            return (state, reason);
        }
    }
    let state = newest_first.iter().filter(|e| {
        e.get("type").and_then(Value::as_str).is_some_and(|t| t != "FailStateEntered" && t.ends_with("StateEntered"))
    });
    (current_state(&state.cloned().collect::<Vec<_>>()), None)
}

// ------------------------------------------------------------------------------------------------ the port

impl LocalSource {
    /// The template's dead-letter queues with what feeds each (see the module docs), in the template's order.
    async fn dead_letter_queues(&self) -> Result<Vec<Dlq>, SourceError> {
        let stack = &self.stack;
        let mut fed: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut feed = |arn: &str, what: String| fed.entry(arn.to_owned()).or_default().push(what);
        for f in stack.lambda().functions() {
            let c = &f.decl.async_config;
            let id = &f.decl.logical_id;
            if let Some(local_lambda::Destination::Sqs(arn)) = &c.dead_letter {
                feed(
                    arn,
                    format!("asynchronous invocations of {id} that failed every retry (DeadLetterQueue: the event)"),
                );
            }
            if let Some(local_lambda::Destination::Sqs(arn)) = &c.on_failure {
                feed(
                    arn,
                    format!(
                        "asynchronous invocations of {id} that failed every retry (OnFailure: an invocation record)"
                    ),
                );
            }
        }
        for rule in stack.events().rules() {
            for t in &rule.targets {
                if let Some(arn) = &t.dead_letter_arn {
                    feed(
                        arn,
                        format!(
                            "events rule {} could not deliver to {} (DeadLetterConfig)",
                            rule.name,
                            function_of(&t.arn)
                        ),
                    );
                }
            }
        }
        for m in stack.mappings().decls() {
            if let Some(local_lambda::Destination::Sqs(arn)) = &m.on_failure {
                feed(
                    arn,
                    format!("stream batches {} gave up on ({}, OnFailure: a failure record)", m.function, m.event),
                );
            }
        }
        let queues = stack.sqs().queues().await.map_err(sqs_error)?;
        for q in &queues {
            if let Some(policy) = &q.config.redrive_policy {
                feed(
                    &policy.dead_letter_target_arn,
                    format!("messages of queue {} received {} times (RedrivePolicy)", q.name, policy.max_receive_count),
                );
            }
        }
        let template = stack.sqs().resources("");
        let mut out = Vec::new();
        for (arn, fed_by) in fed {
            let (logical_id, name) = match template.iter().find(|q| q.arn == arn) {
                Some(q) => (q.logical_id.clone(), q.name.clone()),
                None => (
                    arn.rsplit(':').next().unwrap_or(&arn).to_owned(),
                    arn.rsplit(':').next().unwrap_or(&arn).to_owned(),
                ),
            };
            out.push(Dlq { logical_id, name, arn, fed_by });
        }
        let order = |d: &Dlq| template.iter().position(|q| q.arn == d.arn).unwrap_or(usize::MAX);
        out.sort_by_key(|d| (order(d), d.name.clone()));
        Ok(out)
    }

    /// A message of a dead-letter queue as the page shows it, read as on AWS ([`local_console::dead_letter`]);
    /// `dlq_function` is the function whose `DeadLetterQueue` this is, when only one's is (Lambda's message does
    /// not name it).
    fn dead_letter(
        m: &local_sqs::ReceivedMessage,
        dlq_function: Option<&str>,
        identity: &local_core::Identity,
    ) -> DeadLetter {
        let attributes = string_attributes(m);
        let parsed = local_console::dead_letter::parse(&m.body, &attributes);
        let failed_target = parsed.failed_target.or_else(|| match read_letter(m) {
            Letter::LambdaEvent { .. } => dlq_function.map(|f| identity.function_arn(f).to_string()),
            Letter::Moved { source_arn } => Some(source_arn),
            _ => None,
        });
        DeadLetter {
            message_id: m.message_id.clone(),
            sent: epoch_ms(m.sent_timestamp_ms),
            body: m.body.clone(),
            original_event: parsed.original_event,
            error: parsed.error,
            failed_target,
            request_id: parsed.request_id,
            attributes,
            receive_count: m.receive_count,
        }
    }

    /// The functions whose `DeadLetterQueue` is `queue_arn`.
    fn functions_dead_lettering_to(&self, queue_arn: &str) -> Vec<String> {
        self.stack
            .lambda()
            .functions()
            .filter(|f| {
                matches!(&f.decl.async_config.dead_letter, Some(local_lambda::Destination::Sqs(a)) if a == queue_arn)
            })
            .map(|f| f.decl.logical_id.clone())
            .collect()
    }

    /// Invokes `function` asynchronously with `event` (Lambda's retries and dead-letter queue apply again).
    async fn invoke_again(&self, function: &str, event: Value) -> Result<String, SourceError> {
        if self.stack.lambda().function(function).is_none() {
            return Err(SourceError::Invalid(format!("the function {function} is not in the template any more")));
        }
        let request_id = self.stack.async_invoker().invoke_async(function, event).await.map_err(|e| {
            SourceError::Unavailable(format!("could not queue the invocation: {}: {}", e.error_type, e.error_message))
        })?;
        Ok(format!("invoked {function} again asynchronously (request {request_id})"))
    }

    /// Delivers an EventBridge dead letter to its target again.
    async fn deliver_again(&self, rule_arn: &str, target_arn: &str, event: Value) -> Result<String, SourceError> {
        let rule = self.stack.events().rules().into_iter().find(|r| r.arn == rule_arn);
        let Some(rule) = rule else {
            return Err(SourceError::Invalid(format!("the rule {rule_arn} is not in the template any more")));
        };
        if !rule.targets.iter().any(|t| t.arn == target_arn) {
            return Err(SourceError::Invalid(format!("the rule {} has no target {target_arn} any more", rule.name)));
        }
        let arn: Option<Arn> = target_arn.parse().ok();
        match arn.as_ref().map(|a| a.service.as_str()) {
            Some("lambda") => {
                let function = function_of(target_arn);
                if self.shapes_input(&function, &rule.logical_id) {
                    return Err(SourceError::Unsupported(format!(
                        "the rule {} shapes the event for {function} (Input, InputPath or InputTransformer), which the \
                         console does not apply; put the event on the bus again instead",
                        rule.name
                    )));
                }
                let done = self.invoke_again(&function, event).await?;
                Ok(format!("{done}, as rule {}'s target", rule.name))
            }
            Some("sqs") => {
                self.stack.sqs().send(target_arn, event.to_string(), BTreeMap::new()).await.map_err(sqs_error)?;
                Ok(format!("sent the event to {} again, as rule {}'s target", target_name(target_arn), rule.name))
            }
            Some("states") => {
                let started = self
                    .stack
                    .executions()
                    .start(StartRequest {
                        state_machine_arn: target_arn.to_owned(),
                        name: None,
                        input: Some(event.to_string()),
                    })
                    .await
                    .map_err(execution_error)?;
                Ok(format!("started {} again (execution {})", target_name(target_arn), started.name))
            }
            _ => Err(SourceError::Unsupported(format!("the console cannot deliver to {target_arn}"))),
        }
    }

    /// Whether the rule `rule_logical_id` shapes what its targets get (`Input`, `InputPath`, `InputTransformer`):
    /// a SAM function's `EventBridgeRule` event (the rule is `<function><event>`), or any target of an
    /// `AWS::Events::Rule` resource (conservatively: the target's `Arn` may be an intrinsic).
    fn shapes_input(&self, function: &str, rule_logical_id: &str) -> bool {
        let shaped = |target: &Value| ["Input", "InputPath", "InputTransformer"].iter().any(|k| !target[*k].is_null());
        if let Some(f) = self.stack.lambda().function(function)
            && let Some((_, event)) =
                f.decl.events.iter().find(|(name, _)| format!("{function}{name}") == rule_logical_id)
        {
            return shaped(&event["Properties"]);
        }
        self.stack
            .template()
            .resources()
            .filter(|r| r.id == rule_logical_id)
            .any(|r| r.properties["Targets"].as_array().is_some_and(|targets| targets.iter().any(shaped)))
    }

    /// Sends the claimed dead letter back; what was done, in words.
    async fn send_back(&self, queue: &Dlq, m: &local_sqs::ReceivedMessage) -> Result<String, SourceError> {
        match read_letter(m) {
            Letter::Invocation { function, payload, .. } => self.invoke_again(&function, payload).await,
            Letter::LambdaEvent { event, .. } => match self.functions_dead_lettering_to(&queue.arn).as_slice() {
                [function] => self.invoke_again(function, event).await,
                [] => Err(SourceError::Unsupported(
                    "no function of the template names this queue as its DeadLetterQueue any more".into(),
                )),
                several => Err(SourceError::Unsupported(format!(
                    "several functions dead-letter to this queue ({}) and the message does not say which failed",
                    several.join(", ")
                ))),
            },
            Letter::Event { rule_arn, target_arn, event, .. } => {
                self.deliver_again(&rule_arn, &target_arn, event).await
            }
            Letter::StreamBatch { function, batch, .. } => Err(SourceError::Unsupported(format!(
                "a stream batch cannot be replayed from the console: its records are still in the stream {} \
                 (shard {}, sequence numbers {} to {}); read them with DynamoDB Streams' GetRecords from that \
                 position and invoke {function} with them (`local invoke {function} <event.json>`), then delete this \
                 message",
                batch["streamArn"].as_str().unwrap_or("?"),
                batch["shardId"].as_str().unwrap_or("?"),
                batch["startSequenceNumber"].as_str().unwrap_or("?"),
                batch["endSequenceNumber"].as_str().unwrap_or("?"),
            ))),
            Letter::Moved { source_arn } => {
                let attributes = string_attributes(m).into_iter().collect();
                self.stack.sqs().send(&source_arn, m.body.clone(), attributes).await.map_err(sqs_error)?;
                Ok(format!("moved back to queue {}", target_name(&source_arn)))
            }
            Letter::Unknown => Err(SourceError::Unsupported(
                "this message is not a dead letter the console knows how to send back (not an invocation record, \
                 an EventBridge dead letter, or a message moved here by a redrive policy)"
                    .into(),
            )),
        }
    }

    async fn invoices(&self) -> Result<Vec<PipelineItem>, SourceError> {
        let Some(machine) = self.invoice_machine() else { return Ok(Vec::new()) };
        let stack = self.stack.clone();
        tokio::task::spawn_blocking(move || {
            let mut items = Vec::new();
            for (status, stage) in [
                (ExecutionStatus::Running, Stage::InFlight),
                (ExecutionStatus::Failed, Stage::Failed),
                (ExecutionStatus::TimedOut, Stage::Failed),
                (ExecutionStatus::Aborted, Stage::Failed),
                (ExecutionStatus::Succeeded, Stage::Done),
            ] {
                let query = Query {
                    machine_arn: Some(machine.clone()),
                    status: Some(status),
                    max_results: PIPELINE_ROWS,
                    ..Query::default()
                };
                let page = stack.executions().query(&query).map_err(execution_error)?.0;
                for summary in page.items {
                    let record = match stack.executions().describe(&summary.execution_arn) {
                        Ok(r) => r,
                        Err(ExecutionError::ExecutionDoesNotExist(_)) => continue,
                        Err(e) => return Err(execution_error(e)),
                    };
                    let input: Value = serde_json::from_str(&record.input).unwrap_or(Value::Null);
                    let key = input
                        .pointer("/object/key")
                        .and_then(Value::as_str)
                        .map_or_else(|| record.name.clone(), str::to_owned);
                    let (step, reason) = match stage {
                        Stage::InFlight => (current_state(&newest_events(&stack, &record.execution_arn, 20)), None),
                        Stage::Failed => {
                            let (state, reason) = failure_of(&newest_events(&stack, &record.execution_arn, 20));
                            let reason = reason.or_else(|| match (&record.error, &record.cause) {
                                (Some(e), Some(c)) => Some(format!("{e}: {c}")),
                                (e, c) => e.clone().or(c.clone()),
                            });
                            (state, reason)
                        }
                        Stage::Done => (None, None),
                    };
                    items.push(PipelineItem {
                        key,
                        stage,
                        step,
                        reason,
                        since: record.stop_date.unwrap_or(record.start_date),
                        execution_arn: Some(record.execution_arn.clone()),
                        request_id: None,
                    });
                }
            }
            Ok(items)
        })
        .await
        .map_err(joined)?
    }

    /// The template's invoice state machine: the one the function triggered by uploads starts
    /// (`STATE_MACHINE_ARN` of `start-invoice`).
    fn invoice_machine(&self) -> Option<String> {
        let machines = self.stack.executions().machines();
        let started_by_upload = self
            .stack
            .lambda()
            .functions()
            .filter(|f| self.stack.s3().notifications().iter().any(|n| n.function == f.decl.logical_id));
        for f in started_by_upload {
            if let Some(arn) = f.decl.env.get("STATE_MACHINE_ARN")
                && machines.iter().any(|m| &m.arn == arn)
            {
                return Some(arn.clone());
            }
        }
        None
    }

    async fn photos(&self, dead: &[DeadLetterQueue]) -> Result<Vec<PipelineItem>, SourceError> {
        let photo_functions: Vec<String> = self
            .stack
            .lambda()
            .functions()
            .filter(|f| matches!(f.decl.binary.as_str(), "resize-photo" | "record-photo"))
            .map(|f| f.decl.logical_id.clone())
            .collect();
        let mut items = Vec::new();
        // Failed: the photo functions' dead letters, with the error and the failed request.
        for q in dead {
            for d in &q.messages {
                let Some(function) =
                    d.failed_target.as_deref().map(function_of).filter(|f| photo_functions.contains(f))
                else {
                    continue;
                };
                for key in d.original_event.as_ref().map(s3_keys).unwrap_or_default() {
                    items.push(PipelineItem {
                        key,
                        stage: Stage::Failed,
                        step: Some(function.clone()),
                        reason: d.error.clone(),
                        since: d.sent,
                        execution_arn: None,
                        request_id: d.request_id.clone(),
                    });
                }
            }
        }
        // In flight: uploads still in the bucket. resize-photo deletes every upload it has read (rendered or
        // rejected), so one that is still there is waiting for it, or is the upload of a failed invocation above.
        for n in self.stack.s3().notifications() {
            let is_resizer = self.stack.lambda().function(&n.function).is_some_and(|f| f.decl.binary == "resize-photo");
            if !is_resizer {
                continue;
            }
            let objects = match self.stack.s3().list_objects(&n.bucket, n.prefix.as_deref().unwrap_or("")).await {
                Ok(objects) => objects,
                Err(e) => {
                    tracing::error!(error = %e, bucket = %n.bucket, "console: cannot list the photo uploads");
                    return Err(SourceError::Unavailable("the local stack could not list the photo uploads".into()));
                }
            };
            for o in objects {
                if items.iter().any(|i| i.key == o.key) {
                    continue;
                }
                items.push(PipelineItem {
                    key: o.key,
                    stage: Stage::InFlight,
                    step: Some(n.function.clone()),
                    reason: None,
                    since: o.last_modified,
                    execution_arn: None,
                    request_id: None,
                });
            }
        }
        Ok(items)
    }

    fn task_events(&self) -> TaskEventFlow {
        let events = self.stack.events();
        let c = events.counters();
        let rules = events
            .rules()
            .into_iter()
            .map(|r| RuleFlow {
                name: r.name,
                pattern: r.event_pattern.unwrap_or_default(),
                targets: r
                    .targets
                    .iter()
                    .map(|t| match &t.dead_letter_arn {
                        Some(dlq) => format!("{} (dead letters to {})", target_name(&t.arn), target_name(dlq)),
                        None => target_name(&t.arn),
                    })
                    .collect(),
            })
            .collect();
        TaskEventFlow {
            events_put: c.events_put,
            rules_matched: c.rules_matched,
            targets_invoked: c.deliveries_made,
            retried: c.deliveries_retried,
            failed: c.deliveries_failed,
            dead_lettered: c.dead_lettered,
            rules,
        }
    }
}

/// A resource's name from its ARN: a function's logical id, a queue's or state machine's name.
fn target_name(arn: &str) -> String {
    match arn.parse::<Arn>() {
        Ok(a) if a.service == "lambda" => function_of(arn),
        Ok(a) => a.resource.rsplit([':', '/']).next().unwrap_or(&a.resource).to_owned(),
        Err(_) => arn.to_owned(),
    }
}

impl ConsoleSource for LocalSource {
    fn label(&self) -> String {
        format!("local stack · data in {}", self.stack.config().data_dir.display())
    }

    fn is_local(&self) -> bool {
        true
    }

    fn state_machines(&self) -> SourceFuture<'_, Vec<MachineSummary>> {
        Box::pin(async move {
            let executions = self.stack.executions();
            executions
                .machines()
                .iter()
                .map(|m| {
                    let counts = executions.counts(&m.arn).map_err(execution_error)?;
                    Ok(MachineSummary {
                        name: m.name.clone(),
                        arn: m.arn.clone(),
                        counts: counts.into_iter().map(|(status, n)| (status_of(status), n)).collect(),
                    })
                })
                .collect()
        })
    }

    fn executions(&self, query: ExecutionQuery) -> SourceFuture<'_, ExecutionPage> {
        Box::pin(async move {
            let status = match query.status {
                Some(s) => match sfn_status(s) {
                    Some(s) => Some(s),
                    // None is ever pending a redrive here.
                    None => return Ok(ExecutionPage { items: Vec::new(), next_token: None, total: Some(0) }),
                },
                None => None,
            };
            let q = Query {
                machine_arn: query.machine_arn,
                status,
                name_contains: query.name_contains.filter(|n| !n.is_empty()),
                max_results: query.page_size.clamp(1, 1000),
                next_token: query.next_token,
            };
            // The index answers from memory (microseconds for 10,000 executions): no blocking pool needed.
            let (page, total) = self.stack.executions().query(&q).map_err(execution_error)?;
            let machines = self.machine_names();
            Ok(ExecutionPage {
                items: page.items.iter().map(|r| summary_of(r, &machines)).collect(),
                next_token: page.next_token,
                total: Some(total),
            })
        })
    }

    fn execution(&self, arn: &str) -> SourceFuture<'_, ExecutionDetail> {
        let arn = arn.to_owned();
        Box::pin(async move {
            let stack = self.stack.clone();
            let (record, history) = tokio::task::spawn_blocking(move || {
                let record = stack.executions().describe(&arn)?;
                let history = whole_history(&stack, &arn)?;
                Ok::<_, ExecutionError>((record, history))
            })
            .await
            .map_err(joined)?
            .map_err(execution_error)?;
            let definition = self
                .stack
                .executions()
                .machines()
                .iter()
                .find(|m| m.arn == record.state_machine_arn)
                .map(|m| m.definition.clone())
                .unwrap_or_default();
            Ok(ExecutionDetail {
                summary: self.summarize(&record),
                input: Some(record.input.clone()),
                output: record.output.clone(),
                definition,
                history,
            })
        })
    }

    fn stop(&self, arn: &str, error: Option<String>, cause: Option<String>) -> SourceFuture<'_, ExecutionSummary> {
        let arn = arn.to_owned();
        Box::pin(async move {
            let executions = self.stack.executions();
            let record = executions.describe(&arn).map_err(execution_error)?;
            if record.status != ExecutionStatus::Running {
                return Err(SourceError::Invalid(format!(
                    "the execution {} is {} and cannot be stopped",
                    record.name,
                    status_of(record.status).as_str()
                )));
            }
            let record = executions.stop(&arn, StopReason { error, cause }).await.map_err(execution_error)?;
            Ok(self.summarize(&record))
        })
    }

    fn redrive(&self, arn: &str) -> SourceFuture<'_, ExecutionSummary> {
        let arn = arn.to_owned();
        Box::pin(async move {
            let record = self.stack.executions().redrive(&arn).await.map_err(execution_error)?;
            Ok(self.summarize(&record))
        })
    }

    fn subscribe(&self) -> Option<broadcast::Receiver<ExecutionChange>> {
        Some(self.changes.subscribe())
    }

    fn dead_letters(&self, limit: usize) -> SourceFuture<'_, Vec<DeadLetterQueue>> {
        Box::pin(async move {
            let counts: HashMap<String, u64> = self
                .stack
                .sqs()
                .queues()
                .await
                .map_err(sqs_error)?
                .into_iter()
                .map(|q| (q.arn, q.counts.visible + q.counts.in_flight + q.counts.delayed))
                .collect();
            let mut out = Vec::new();
            for q in self.dead_letter_queues().await? {
                let messages = match self.stack.sqs().peek(&q.arn, limit).await {
                    Ok(messages) => messages,
                    // A queue a user deleted: shown empty.
                    Err(local_sqs::SqsError::QueueDoesNotExist) => Vec::new(),
                    Err(e) => return Err(sqs_error(e)),
                };
                let lambda_dlq = self.functions_dead_lettering_to(&q.arn);
                let dlq_function = match lambda_dlq.as_slice() {
                    [function] => Some(function.as_str()),
                    _ => None,
                };
                let identity = self.stack.identity();
                let letters = messages.iter().map(|m| Self::dead_letter(m, dlq_function, identity)).collect();
                out.push(DeadLetterQueue {
                    approximate_count: counts.get(&q.arn).copied().unwrap_or(0),
                    logical_id: q.logical_id,
                    name: q.name,
                    arn: q.arn,
                    fed_by: q.fed_by,
                    messages: letters,
                });
            }
            Ok(out)
        })
    }

    fn redrive_dead_letter(&self, queue_arn: &str, message_id: &str) -> SourceFuture<'_, RedriveOutcome> {
        let (queue_arn, message_id) = (queue_arn.to_owned(), message_id.to_owned());
        Box::pin(async move {
            let queues = self.dead_letter_queues().await?;
            let Some(queue) = queues.iter().find(|q| q.arn == queue_arn) else {
                return Err(SourceError::NotFound(format!("{queue_arn} is not a dead-letter queue of the template")));
            };
            let sqs = self.stack.sqs();
            let m = match sqs.claim(&queue.arn, &message_id, REDRIVE_CLAIM_SECONDS).await.map_err(sqs_error)? {
                local_sqs::Claimed::Claimed(m) => m,
                local_sqs::Claimed::Missing => {
                    return Err(SourceError::NotFound(format!("no message {message_id} in {}", queue.name)));
                }
                local_sqs::Claimed::InFlight => {
                    return Err(SourceError::Invalid(format!(
                        "message {message_id} of {} is being received by a consumer; try again once its visibility \
                         timeout has passed",
                        queue.name
                    )));
                }
            };
            let handle = m.receipt_handle.clone().unwrap_or_default();
            match self.send_back(queue, &m).await {
                Ok(done) => {
                    if let Err(e) = sqs.delete(&queue.arn, &handle).await {
                        // Sent back but still in the queue: it becomes visible again, and may be redriven twice.
                        tracing::error!(error = %e, queue = %queue.name, message_id, "console: redriven dead letter not deleted");
                        return Err(sqs_error(e));
                    }
                    tracing::info!(queue = %queue.name, message_id, done = %done, "console: dead letter redriven");
                    Ok(RedriveOutcome { done })
                }
                Err(e) => {
                    if let Err(release) = sqs.release(&queue.arn, &handle).await {
                        tracing::warn!(error = %release, "console: a dead letter not redriven stays invisible until its claim expires");
                    }
                    Err(e)
                }
            }
        })
    }

    fn mail(&self) -> SourceFuture<'_, Vec<MailSummary>> {
        Box::pin(async move {
            let outbox = self.stack.ses().outbox().clone();
            let envelopes =
                tokio::task::spawn_blocking(move || outbox.list()).await.map_err(joined)?.map_err(ses_error)?;
            Ok(envelopes
                .into_iter()
                .map(|e| MailSummary {
                    id: e.id.to_string(),
                    from: e.from,
                    to: e.to,
                    subject: e.subject,
                    date: e.date,
                    size: e.size,
                })
                .collect())
        })
    }

    fn mail_raw(&self, id: &str) -> SourceFuture<'_, Vec<u8>> {
        let id = id.to_owned();
        Box::pin(async move {
            let outbox = self.stack.ses().outbox().clone();
            tokio::task::spawn_blocking(move || outbox.show(&id)).await.map_err(joined)?.map_err(ses_error)
        })
    }

    fn pipelines(&self) -> SourceFuture<'_, Pipelines> {
        Box::pin(async move {
            let dead = self.dead_letters(100).await?;
            Ok(Pipelines {
                photos: self.photos(&dead).await?,
                invoices: self.invoices().await?,
                task_events: self.task_events(),
            })
        })
    }

    fn logs(&self, request_id: &str) -> SourceFuture<'_, Vec<LogLine>> {
        let request_id = request_id.to_owned();
        Box::pin(async move { Ok(self.stack.logs().lines_for(&request_id)) })
    }

    fn measurements(&self) -> SourceFuture<'_, Measurements> {
        Box::pin(async move {
            // Reads the EMF file and the histories appended since the last call: file work, off the runtime.
            let stack = self.stack.clone();
            tokio::task::spawn_blocking(move || crate::measure::measurements(&stack)).await.map_err(joined)?.map_err(
                |e| {
                    // The reason may name files: logged, not shown.
                    tracing::error!(error = %e, "console: the measurements could not be read");
                    SourceError::Unavailable("the local stack could not read its measurements".into())
                },
            )
        })
    }
}

// ------------------------------------------------------------------------------------------------ the mount

/// The console's pages on the stack's endpoint: `/_console` and everything under `/_console/`, for a loopback
/// client addressing the stack by a name DNS rebinding cannot point elsewhere. Built once, when the server starts.
#[derive(Clone)]
pub struct Console {
    router: axum::Router,
}

/// Where the console lives on the endpoint.
pub const PREFIX: &str = "/_console";

impl Console {
    pub fn new(stack: Arc<Stack>) -> Self {
        let source: Arc<dyn ConsoleSource> = LocalSource::new(stack);
        let router = local_console::router(source);
        Self { router }
    }

    /// Whether a request for `path` is the console's.
    pub fn claims(path: &str) -> bool {
        path == PREFIX || path.strip_prefix(PREFIX).is_some_and(|rest| rest.starts_with('/'))
    }

    /// Serves a request [`Self::claims`]: 403 unless it comes from this machine and is addressed to it.
    pub async fn serve(&self, peer: SocketAddr, req: Request) -> Response {
        let host_ok = endpoint::request_host(req.uri(), req.headers()).is_some_and(endpoint::is_rebinding_safe_host);
        if !peer.ip().is_loopback() || !host_ok {
            return (
                http::StatusCode::FORBIDDEN,
                "the console answers requests from this machine, addressed to localhost or an IP address, only\n",
            )
                .into_response();
        }
        if req.uri().path() == PREFIX {
            let location = match req.uri().query() {
                Some(q) => format!("{PREFIX}/?{q}"),
                None => format!("{PREFIX}/"),
            };
            return Response::builder()
                .status(http::StatusCode::PERMANENT_REDIRECT)
                .header(http::header::LOCATION, location)
                .body(Body::empty())
                .unwrap_or_default();
        }
        let mut req = req;
        req.extensions_mut().insert(ConnectInfo(peer));
        let mut router = self.router.clone();
        match tower_service::Service::call(&mut router, req).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}

/// The console over any source, as `local console --aws` serves it on its own port: the same pages, for requests
/// addressed to an IP address, localhost or `*.localhost` only. It acts with the operator's AWS credentials, so a
/// page whose domain DNS rebinding points at its port must not reach it (its POSTs' Origin would match its Host,
/// so the pages' cross-site check alone would not stop it). The stack's own mount checks the same in
/// [`Console::serve`].
pub fn guarded_router(source: Arc<dyn ConsoleSource>) -> axum::Router {
    local_console::router(source).layer(axum::middleware::from_fn(refuse_foreign_host))
}

async fn refuse_foreign_host(req: Request, next: axum::middleware::Next) -> Response {
    if endpoint::request_host(req.uri(), req.headers()).is_some_and(endpoint::is_rebinding_safe_host) {
        next.run(req).await
    } else {
        (http::StatusCode::FORBIDDEN, "the console answers requests addressed to localhost or an IP address only\n")
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(body: &str, attributes: &[(&str, &str)]) -> local_sqs::ReceivedMessage {
        local_sqs::ReceivedMessage {
            message_id: "m-1".into(),
            receipt_handle: None,
            body: body.into(),
            md5_of_body: String::new(),
            attributes: attributes.iter().map(|(k, v)| ((*k).to_owned(), local_sqs::Attribute::string(*v))).collect(),
            md5_of_attributes: None,
            sender_id: "me".into(),
            sent_timestamp_ms: 0,
            receive_count: 0,
            first_receive_timestamp_ms: None,
            dead_letter_source_arn: None,
        }
    }

    #[test]
    fn an_invocation_record_names_the_function_the_request_the_event_and_the_error() {
        let body = json!({
            "requestContext": {"requestId": "r-1", "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:ResizePhotoFunction:$LATEST", "condition": "RetriesExhausted"},
            "requestPayload": {"Records": [{"s3": {"object": {"key": "uploads/u/a+b%21"}}}]},
            "responsePayload": {"errorType": "Retryable", "errorMessage": "S3 is down"},
        });
        let Letter::Invocation { function, request_id, payload, error } = read_letter(&message(&body.to_string(), &[]))
        else {
            panic!("an invocation record");
        };
        assert_eq!((function.as_str(), request_id.as_deref()), ("ResizePhotoFunction", Some("r-1")));
        assert_eq!(error.as_deref(), Some("Retryable: S3 is down"));
        assert_eq!(s3_keys(&payload), ["uploads/u/a b!"]);
    }

    #[test]
    fn an_eventbridge_dead_letter_and_a_stream_failure_record_are_told_apart() {
        let event = json!({"source": "task-platform.tasks", "detail": {}});
        let letter = read_letter(&message(
            &event.to_string(),
            &[
                ("RULE_ARN", "arn:aws:events:us-east-1:123456789012:rule/bus/R"),
                ("TARGET_ARN", "arn:aws:lambda:us-east-1:123456789012:function:F"),
                ("ERROR_CODE", "NO_RESOURCE"),
                ("ERROR_MESSAGE", "gone"),
            ],
        ));
        assert!(
            matches!(&letter, Letter::Event { error: Some(e), event: ev, .. } if e == "NO_RESOURCE: gone" && *ev == event)
        );
        let record = json!({
            "requestContext": {"requestId": "r-2", "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:P", "condition": "RetryAttemptsExhausted"},
            "DDBStreamBatchInfo": {"shardId": "s", "startSequenceNumber": "1", "endSequenceNumber": "2", "streamArn": "arn:x"},
        });
        assert!(
            matches!(read_letter(&message(&record.to_string(), &[])), Letter::StreamBatch { function, .. } if function == "P")
        );
        assert_eq!(read_letter(&message("plain", &[])), Letter::Unknown);
    }

    #[test]
    fn a_failed_invoice_is_placed_at_the_state_its_refusal_names() {
        let input =
            json!({"refusal": {"state": "Parse", "code": "InvalidDocument", "reason": "the file is truncated"}});
        let newest_first = vec![
            json!({"type": "ExecutionFailed"}),
            json!({"type": "FailStateEntered", "stateEnteredEventDetails": {"name": "Refused", "input": input.to_string()}}),
            json!({"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "NotifyRefusal", "input": "{}"}}),
        ];
        let (state, reason) = failure_of(&newest_first);
        assert_eq!(state.as_deref(), Some("Parse"));
        assert_eq!(reason.as_deref(), Some("InvalidDocument: the file is truncated"));
        assert_eq!(current_state(&newest_first[2..]).as_deref(), Some("NotifyRefusal"));
    }

    #[test]
    fn the_console_claims_its_prefix_only() {
        for (path, claimed) in
            [("/_console", true), ("/_console/", true), ("/_console/x", true), ("/_consolex", false), ("/tasks", false)]
        {
            assert_eq!(Console::claims(path), claimed, "{path}");
        }
    }
}

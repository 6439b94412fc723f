//! An in-memory `ConsoleSource` and a server on a fresh port for each test.

use local_console::source::*;
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};
use time::{Duration, OffsetDateTime, macros::datetime};
use tokio::sync::broadcast;

pub const MACHINE: &str = "arn:aws:states:eu-west-1:123456789012:stateMachine:InvoiceStateMachine";
pub const PHOTO_MACHINE: &str = "arn:aws:states:eu-west-1:123456789012:stateMachine:PhotoStateMachine";
pub const DLQ: &str = "arn:aws:sqs:eu-west-1:123456789012:task-platform-dlq";

pub fn arn(name: &str) -> String {
    format!("arn:aws:states:eu-west-1:123456789012:execution:InvoiceStateMachine:{name}")
}

pub fn t0() -> OffsetDateTime {
    datetime!(2025-03-01 12:00:00 UTC)
}

pub fn summary(name: &str, status: Status, minutes_after: i64) -> ExecutionSummary {
    let start = t0() + Duration::minutes(minutes_after);
    let failed = matches!(status, Status::Failed);
    ExecutionSummary {
        arn: arn(name),
        machine_name: "InvoiceStateMachine".into(),
        machine_arn: MACHINE.into(),
        name: name.into(),
        status,
        start_date: start,
        stop_date: (status != Status::Running).then(|| start + Duration::milliseconds(1500)),
        error: failed.then(|| "InvalidInvoice".into()),
        cause: failed.then(|| "the total does not match the lines".into()),
        redrive_count: 0,
    }
}

/// What the test source holds; tests change it before spawning.
pub struct TestSource {
    pub executions: Vec<ExecutionSummary>,
    pub details: HashMap<String, ExecutionDetail>,
    pub mail: Vec<(MailSummary, Vec<u8>)>,
    pub dead_letters: Vec<DeadLetterQueue>,
    pub pipelines: Result<Pipelines, SourceError>,
    pub logs: Vec<LogLine>,
    pub measurements: Measurements,
    pub changes: Option<broadcast::Sender<ExecutionChange>>,
    pub local: bool,
    /// Calls that change things, in order: "stop <arn> <cause>", "redrive <arn>", "redrive-dl <queue> <id>".
    pub calls: Mutex<Vec<String>>,
    /// The queries the executions page made.
    pub queries: Mutex<Vec<ExecutionQuery>>,
}

impl Default for TestSource {
    fn default() -> Self {
        let mut executions: Vec<ExecutionSummary> = (0..120)
            .map(|i| {
                let status = match i % 4 {
                    0 => Status::Failed,
                    1 => Status::Running,
                    _ => Status::Succeeded,
                };
                summary(&format!("invoice-{i:03}"), status, i)
            })
            .collect();
        executions.reverse();
        let mut details = HashMap::new();
        let failed = summary("invoice-000", Status::Failed, 0);
        details.insert(failed.arn.clone(), detail(failed));
        let running = summary("invoice-001", Status::Running, 1);
        details.insert(running.arn.clone(), detail(running));
        Self {
            executions,
            details,
            mail: Vec::new(),
            dead_letters: vec![dead_letter_queue()],
            pipelines: Ok(pipelines()),
            logs: vec![
                json!({"timestamp": "2025-03-01T12:00:00Z", "level": "INFO", "message": "parsing", "request_id": "req-1"}),
                json!({"timestamp": "2025-03-01T12:00:01Z", "level": "ERROR", "message": "<b>boom</b>", "request_id": "req-1"}),
            ],
            measurements: measurements(),
            changes: Some(broadcast::channel(16).0),
            local: true,
            calls: Mutex::new(Vec::new()),
            queries: Mutex::new(Vec::new()),
        }
    }
}

pub fn definition() -> String {
    json!({
        "StartAt": "Parse",
        "States": {
            "Parse": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "Validate",
                "Retry": [{"ErrorEquals": ["Retryable"], "MaxAttempts": 2}]},
            "Validate": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "</script><b>",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Refuse"}]},
            "</script><b>": {"Type": "Succeed"},
            "Refuse": {"Type": "Fail", "Error": "InvalidInvoice"}
        }
    })
    .to_string()
}

pub fn history(start: OffsetDateTime) -> Vec<Value> {
    let ts = |s: f64| json!(start.unix_timestamp() as f64 + s);
    vec![
        json!({"id": 1, "previousEventId": 0, "type": "ExecutionStarted", "timestamp": ts(0.0),
               "executionStartedEventDetails": {"input": "{\"key\":\"invoices/u1/a.pdf\"}"}}),
        json!({"id": 2, "previousEventId": 1, "type": "TaskStateEntered", "timestamp": ts(0.01),
               "stateEnteredEventDetails": {"name": "Parse", "input": "{\"key\":\"invoices/u1/a.pdf\"}"}}),
        json!({"id": 3, "previousEventId": 2, "type": "TaskScheduled", "timestamp": ts(0.02),
               "taskScheduledEventDetails": {"resource": "invoke", "resourceType": "lambda", "parameters": "{}"}}),
        json!({"id": 4, "previousEventId": 3, "type": "TaskSucceeded", "timestamp": ts(0.2),
               "taskSucceededEventDetails": {"output": "{\"total\":\"12.00\"}"}}),
        json!({"id": 5, "previousEventId": 4, "type": "TaskStateExited", "timestamp": ts(0.21),
               "stateExitedEventDetails": {"name": "Parse", "output": "{\"total\":\"12.00\"}"}}),
        json!({"id": 6, "previousEventId": 5, "type": "TaskStateEntered", "timestamp": ts(0.22),
               "stateEnteredEventDetails": {"name": "</script><b>", "input": "{\"x\":\"</script><script>alert(1)</script>\"}"}}),
        json!({"id": 7, "previousEventId": 6, "type": "ExecutionFailed", "timestamp": ts(1.5),
               "executionFailedEventDetails": {"error": "InvalidInvoice", "cause": "the total does not match"}}),
    ]
}

pub fn detail(summary: ExecutionSummary) -> ExecutionDetail {
    let start = summary.start_date;
    ExecutionDetail {
        summary,
        input: Some("{\"key\":\"invoices/u1/a.pdf\"}".into()),
        output: None,
        definition: definition(),
        history: history(start),
    }
}

fn dead_letter_queue() -> DeadLetterQueue {
    DeadLetterQueue {
        logical_id: "DeadLetterQueue".into(),
        name: "task-platform-dlq".into(),
        arn: DLQ.into(),
        fed_by: vec!["async invocations of ResizePhotoFunction".into()],
        approximate_count: 1,
        messages: vec![DeadLetter {
            message_id: "msg-1".into(),
            sent: t0(),
            body: "{}".into(),
            original_event: Some(json!({"detail-type": "Object Created", "detail": {"key": "photos/u1/<p>.jpg"}})),
            error: Some("PhotoTooLarge: 9000x9000".into()),
            failed_target: Some("ResizePhotoFunction".into()),
            request_id: Some("req-9".into()),
            attributes: vec![("ERROR_CODE".into(), "PhotoTooLarge".into())],
            receive_count: 0,
        }],
    }
}

fn pipelines() -> Pipelines {
    Pipelines {
        photos: vec![PipelineItem {
            key: "photos/u1/p1.jpg".into(),
            stage: Stage::Failed,
            step: Some("ResizePhotoFunction".into()),
            reason: Some("PhotoTooLarge".into()),
            since: t0(),
            execution_arn: None,
            request_id: Some("req-9".into()),
        }],
        invoices: vec![PipelineItem {
            key: "invoices/u1/a.pdf".into(),
            stage: Stage::Failed,
            step: Some("Validate".into()),
            reason: Some("InvalidInvoice: the total does not match".into()),
            since: t0(),
            execution_arn: Some(arn("invoice-000")),
            request_id: None,
        }],
        task_events: TaskEventFlow {
            events_put: 12,
            rules_matched: 11,
            targets_invoked: 10,
            retried: 2,
            failed: 1,
            dead_lettered: 1,
            rules: vec![RuleFlow {
                name: "TaskDoneRule".into(),
                pattern: "{\"detail-type\":[\"TaskDone\"]}".into(),
                targets: vec!["NotifyTaskDoneFunction".into()],
            }],
        },
    }
}

fn measurements() -> Measurements {
    Measurements {
        functions: vec![FunctionUsage {
            function: "ParseInvoiceFunction".into(),
            memory_mb: 256,
            architecture: "arm64".into(),
            invocations: 40,
            cold_starts: 2,
            errors: 1,
            duration_p50_ms: 12.5,
            duration_p99_ms: 80.0,
            gb_seconds: 0.125,
        }],
        counts: vec![("InvoicesStored".into(), 39.0)],
        state_transitions: vec![("InvoiceStateMachine".into(), 200, 40)],
        requests: vec![("s3:PutObject".into(), 40)],
        metric_series: 7,
        since: Some(t0()),
    }
}

fn fut<'a, T: Send + 'a>(r: Result<T, SourceError>) -> SourceFuture<'a, T> {
    Box::pin(async move { r })
}

/// ARNs and ids that make the source fail, by kind, so tests can check each status.
fn failure(key: &str) -> Option<SourceError> {
    match key {
        k if k.ends_with("missing") => Some(SourceError::NotFound(format!("no {k}"))),
        k if k.ends_with("invalid") => Some(SourceError::Invalid(format!("bad {k}"))),
        k if k.ends_with("unsupported") => Some(SourceError::Unsupported("not on AWS".into())),
        k if k.ends_with("down") => Some(SourceError::Unavailable("the service is down".into())),
        _ => None,
    }
}

impl ConsoleSource for TestSource {
    fn label(&self) -> String {
        "test stack <in memory>".into()
    }

    fn is_local(&self) -> bool {
        self.local
    }

    fn state_machines(&self) -> SourceFuture<'_, Vec<MachineSummary>> {
        let count = |s: Status| self.executions.iter().filter(|e| e.status == s).count() as u64;
        fut(Ok(vec![
            MachineSummary {
                name: "InvoiceStateMachine".into(),
                arn: MACHINE.into(),
                counts: [Status::Running, Status::Succeeded, Status::Failed].map(|s| (s, count(s))).to_vec(),
            },
            MachineSummary { name: "PhotoStateMachine".into(), arn: PHOTO_MACHINE.into(), counts: Vec::new() },
        ]))
    }

    fn executions(&self, query: ExecutionQuery) -> SourceFuture<'_, ExecutionPage> {
        if let Some(e) = query.name_contains.as_deref().and_then(failure) {
            return fut(Err(e));
        }
        self.queries.lock().unwrap_or_else(|e| e.into_inner()).push(query.clone());
        let matching: Vec<&ExecutionSummary> = self
            .executions
            .iter()
            .filter(|e| query.machine_arn.as_ref().is_none_or(|m| &e.machine_arn == m))
            .filter(|e| query.status.is_none_or(|s| e.status == s))
            .filter(|e| query.name_contains.as_ref().is_none_or(|q| e.name.to_lowercase().contains(&q.to_lowercase())))
            .collect();
        let offset: usize = match query.next_token.as_deref().map(str::parse) {
            None => 0,
            Some(Ok(n)) => n,
            Some(Err(_)) => return fut(Err(SourceError::Invalid("bad token".into()))),
        };
        let end = (offset + query.page_size).min(matching.len());
        let items = matching.get(offset..end).unwrap_or_default().iter().map(|e| (*e).clone()).collect();
        fut(Ok(ExecutionPage {
            items,
            next_token: (end < matching.len()).then(|| end.to_string()),
            total: Some(matching.len() as u64),
        }))
    }

    fn execution(&self, arn: &str) -> SourceFuture<'_, ExecutionDetail> {
        if let Some(e) = failure(arn) {
            return fut(Err(e));
        }
        fut(self.details.get(arn).cloned().ok_or_else(|| SourceError::NotFound(format!("no execution {arn}"))))
    }

    fn stop(&self, arn: &str, _error: Option<String>, cause: Option<String>) -> SourceFuture<'_, ExecutionSummary> {
        if let Some(e) = failure(arn) {
            return fut(Err(e));
        }
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).push(format!("stop {arn} {}", cause.unwrap_or_default()));
        fut(self.details.get(arn).map(|d| d.summary.clone()).ok_or_else(|| SourceError::NotFound(arn.into())))
    }

    fn redrive(&self, arn: &str) -> SourceFuture<'_, ExecutionSummary> {
        if let Some(e) = failure(arn) {
            return fut(Err(e));
        }
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).push(format!("redrive {arn}"));
        fut(self.details.get(arn).map(|d| d.summary.clone()).ok_or_else(|| SourceError::NotFound(arn.into())))
    }

    fn subscribe(&self) -> Option<broadcast::Receiver<ExecutionChange>> {
        self.changes.as_ref().map(broadcast::Sender::subscribe)
    }

    fn dead_letters(&self, _limit: usize) -> SourceFuture<'_, Vec<DeadLetterQueue>> {
        fut(Ok(self.dead_letters.clone()))
    }

    fn redrive_dead_letter(&self, queue_arn: &str, message_id: &str) -> SourceFuture<'_, RedriveOutcome> {
        if let Some(e) = failure(message_id) {
            return fut(Err(e));
        }
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).push(format!("redrive-dl {queue_arn} {message_id}"));
        fut(Ok(RedriveOutcome { done: "invoked ResizePhotoFunction again (request r-2)".into() }))
    }

    fn mail(&self) -> SourceFuture<'_, Vec<MailSummary>> {
        if !self.local {
            return fut(Err(SourceError::Unsupported("a deployed stack has no outbox".into())));
        }
        fut(Ok(self.mail.iter().map(|(m, _)| m.clone()).collect()))
    }

    fn mail_raw(&self, id: &str) -> SourceFuture<'_, Vec<u8>> {
        fut(self
            .mail
            .iter()
            .find(|(m, _)| m.id == id)
            .map(|(_, raw)| raw.clone())
            .ok_or_else(|| SourceError::NotFound(format!("no mail {id}"))))
    }

    fn pipelines(&self) -> SourceFuture<'_, Pipelines> {
        fut(self.pipelines.clone())
    }

    fn logs(&self, request_id: &str) -> SourceFuture<'_, Vec<LogLine>> {
        let lines = self
            .logs
            .iter()
            .filter(|l| l.get("request_id").and_then(Value::as_str) == Some(request_id))
            .cloned()
            .collect();
        fut(Ok(lines))
    }

    fn measurements(&self) -> SourceFuture<'_, Measurements> {
        fut(Ok(self.measurements.clone()))
    }
}

/// The console on 127.0.0.1 and a fresh port.
pub struct Console {
    pub base: String,
    pub client: reqwest::Client,
    pub source: Arc<TestSource>,
}

impl Console {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).send().await.expect("GET")
    }

    pub async fn page(&self, path: &str) -> (u16, String) {
        let res = self.get(path).await;
        let status = res.status().as_u16();
        (status, res.text().await.expect("body"))
    }

    pub fn calls(&self) -> Vec<String> {
        self.source.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

pub async fn spawn(source: TestSource) -> Console {
    let source = Arc::new(source);
    let app = local_console::router(source.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    Console { base: format!("http://{addr}"), client, source }
}

/// The text between `start` and the next `end` after it.
pub fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html.find(start).map(|i| i + start.len()).unwrap_or_else(|| panic!("no {start:?} in the page"));
    let to = html[from..].find(end).map(|i| from + i).unwrap_or(html.len());
    &html[from..to]
}

/// A form POST as a browser sends it (reqwest's own `form` is behind a feature this workspace does not enable).
pub trait FormBody {
    fn form_pairs(self, pairs: &[(&str, &str)]) -> Self;
}

impl FormBody for reqwest::RequestBuilder {
    fn form_pairs(self, pairs: &[(&str, &str)]) -> Self {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        self.header("content-type", "application/x-www-form-urlencoded").body(body)
    }
}

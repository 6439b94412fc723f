//! The console's source on a real local stack (in-process, on port 0): invoices run through the real pipeline
//! (one failing on a truncated PDF) are listed, filtered, searched, opened with their definition and history, and
//! shown on the pipelines page with the failing state and reason; a photo function made to fail every retry lands
//! in the template's dead-letter queue, is shown there with its error, event and request id, and is redriven; the
//! outbox and the log lines of a request are read back; and the console is mounted on the endpoint for loopback
//! clients only.

use local::{
    Stack, StackConfig,
    console::LocalSource,
    local_core::BoxFuture,
    local_lambda::{FunctionError, Handler},
};
mod common;

use common::{InProcess, corpus, repo};
use local_console::source::{ConsoleSource, ExecutionQuery, SourceError, Stage, Status};
use serde_json::{Value, json};
use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

const SETTLE: Duration = Duration::from_secs(60);

/// The stack in-process, and the console's source on it.
struct App {
    running: InProcess,
    source: Arc<LocalSource>,
}

impl std::ops::Deref for App {
    type Target = InProcess;
    fn deref(&self) -> &InProcess {
        &self.running
    }
}

async fn spawn(configure: impl FnOnce(&mut StackConfig)) -> App {
    let running = InProcess::spawn(configure).await;
    let source = LocalSource::new(running.stack.clone());
    App { running, source }
}

impl App {
    /// `user`'s profile made (GET /me), so mail has an address to go to; returns the user's id.
    async fn user(&self, user: &str) -> String {
        let r = reqwest::Client::new().get(format!("{}/me", self.base)).bearer_auth(self.token(user)).send().await;
        assert_eq!(r.unwrap().status(), 200);
        local::auth::sub_for(user)
    }
}

fn query() -> ExecutionQuery {
    ExecutionQuery { page_size: 50, ..ExecutionQuery::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoices_are_listed_newest_first_filtered_searched_and_the_failed_one_shows_where_and_why() {
    let app = spawn(|_| {}).await;
    let mut changes = app.source.subscribe().expect("the local stack pushes changes");
    let owner = app.user("ada").await;
    let broken = format!("invoices/{owner}/broken.pdf");
    app.put(&broken, corpus("damaged-truncated.pdf")).await;
    assert!(app.stack.settle(SETTLE).await);
    app.put(&format!("invoices/{owner}/march.pdf"), corpus("facturx-en16931.pdf")).await;
    assert!(app.stack.settle(SETTLE).await);

    let all = app.source.executions(query()).await.unwrap();
    let statuses: Vec<Status> = all.items.iter().map(|e| e.status).collect();
    assert_eq!(statuses, [Status::Succeeded, Status::Failed], "newest first: {all:?}");
    assert_eq!(all.total, Some(2));
    let failed = &all.items[1];
    assert_eq!(failed.machine_name, "InvoiceStateMachine");
    assert_eq!(failed.error.as_deref(), Some("InvoiceFailed"));

    let only_failed = app.source.executions(ExecutionQuery { status: Some(Status::Failed), ..query() }).await.unwrap();
    assert_eq!(only_failed.items.iter().map(|e| &e.arn).collect::<Vec<_>>(), [&failed.arn]);
    let part = failed.name["invoice-".len()..][4..16].to_uppercase();
    let searched = app.source.executions(ExecutionQuery { name_contains: Some(part), ..query() }).await.unwrap();
    assert_eq!(searched.items.iter().map(|e| &e.arn).collect::<Vec<_>>(), [&failed.arn], "case-insensitive search");
    let paged = app.source.executions(ExecutionQuery { page_size: 1, ..query() }).await.unwrap();
    let rest = app.source.executions(ExecutionQuery { page_size: 1, next_token: paged.next_token, ..query() }).await;
    assert_eq!(rest.unwrap().items[0].arn, failed.arn, "the second page continues the first");

    let detail = app.source.execution(&failed.arn).await.unwrap();
    assert!(detail.definition.contains("\"RecordFailure\""), "the definition the execution ran");
    let types: Vec<&str> = detail.history.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types.first(), Some(&"ExecutionStarted"));
    assert_eq!(types.last(), Some(&"ExecutionFailed"));
    let ids: Vec<u64> = detail.history.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>(), "the whole history, in order");
    assert!(detail.input.unwrap().contains(&broken));
    let missing = app.source.execution(&failed.arn.replace("invoice-", "invoice-0")).await;
    assert!(matches!(missing, Err(SourceError::NotFound(_))), "{missing:?}");
    let stop = app.source.stop(&failed.arn, None, None).await;
    assert!(matches!(stop, Err(SourceError::Invalid(_))), "a closed execution cannot be stopped: {stop:?}");

    let done = app.source.redrive(&all.items[0].arn).await;
    assert!(matches!(done, Err(SourceError::Invalid(_))), "a succeeded execution is not redriven: {done:?}");

    let pipelines = app.source.pipelines().await.unwrap();
    let invoice = pipelines.invoices.iter().find(|i| i.key == broken).expect("the failed invoice is listed");
    assert_eq!(invoice.stage, Stage::Failed);
    assert_eq!(invoice.step.as_deref(), Some("Parse"), "{invoice:?}");
    assert!(invoice.reason.as_deref().is_some_and(|r| r.contains("truncated")), "{invoice:?}");
    assert_eq!(invoice.execution_arn.as_deref(), Some(failed.arn.as_str()));
    assert!(pipelines.invoices.iter().any(|i| i.stage == Stage::Done && i.key.ends_with("march.pdf")));
    assert!(!pipelines.task_events.rules.is_empty(), "the task-event rules are shown");

    let machines = app.source.state_machines().await.unwrap();
    let invoices = machines.iter().find(|m| m.name == "InvoiceStateMachine").unwrap();
    assert!(invoices.counts.contains(&(Status::Failed, 1)) && invoices.counts.contains(&(Status::Succeeded, 1)));

    let mut seen = Vec::new();
    while let Ok(change) = changes.try_recv() {
        seen.push((change.summary.name, change.summary.status));
    }
    assert!(seen.contains(&(failed.name.clone(), Status::Running)), "starts are pushed: {seen:?}");
    assert!(seen.contains(&(failed.name.clone(), Status::Failed)), "closes are pushed: {seen:?}");

    // Redriven, it runs again from the state it failed in (the refusal's Fail state: it fails again).
    let redriven = app.source.redrive(&failed.arn).await.unwrap();
    assert_eq!((redriven.status, redriven.redrive_count), (Status::Running, 1));
    assert!(app.stack.settle(SETTLE).await);
    let again = app.source.execution(&failed.arn).await.unwrap();
    assert_eq!((again.summary.status, again.summary.redrive_count), (Status::Failed, 1));
    assert!(again.history.iter().any(|e| e["type"] == "ExecutionRedriven"), "the history says so");

    let measured = app.source.measurements().await.expect("the cost page's measurements");
    assert!(measured.functions.iter().any(|f| f.invocations > 0 && f.gb_seconds > 0.0), "{measured:?}");

    // The mail the pipeline sent: the refusal and the stored invoice, newest first, readable as sent.
    let mail = app.source.mail().await.unwrap();
    assert!(mail.len() >= 2, "{mail:?}");
    assert!(mail.windows(2).all(|w| w[0].date >= w[1].date), "newest first");
    let raw = app.source.mail_raw(&mail[0].id).await.unwrap();
    assert!(String::from_utf8_lossy(&raw).contains("Subject:"), "the message as sent");
    assert!(matches!(app.source.mail_raw("no-such-mail").await, Err(SourceError::NotFound(_))));
}

/// resize-photo that fails its first `failures` calls (as S3 being down would), then succeeds.
struct Flaky {
    failures: u32,
    calls: AtomicU32,
}

impl Handler for Flaky {
    fn call(&self, event: Value) -> BoxFuture<'_, Result<Value, FunctionError>> {
        Box::pin(async move {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            tracing::info!(call = n, "resizing");
            if n < self.failures { Err(FunctionError::new("Retryable", "S3 is down")) } else { Ok(event) }
        })
    }
}

// On one thread, so the logger this test installs for itself sees every line the stack's tasks write.
#[tokio::test]
async fn a_photo_whose_every_retry_failed_is_a_dead_letter_with_its_error_event_and_logs_and_is_redriven() {
    let flaky = Arc::new(Flaky { failures: 3, calls: AtomicU32::new(0) });
    let app = spawn(|c| {
        c.extra_handlers.0.insert("resize-photo".into(), flaky.clone());
    })
    .await;
    let (filter, _) = telemetry::filter_from(Some("info"));
    let _logger = tracing::subscriber::set_default(telemetry::json_subscriber(filter, app.stack.logs().ring_only()));

    let key = "uploads/u-1/photo-1";
    app.put(key, b"not really a jpeg".to_vec()).await;
    assert!(app.stack.settle(SETTLE).await);
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 3, "one attempt and two retries");

    let queues = app.source.dead_letters(10).await.unwrap();
    let names: Vec<&str> = queues.iter().map(|q| q.logical_id.as_str()).collect();
    for expected in ["DeadLetterQueue", "TaskStreamFailureQueue", "TaskEventsDeadLetterQueue"] {
        assert!(names.contains(&expected), "{expected} is a dead-letter queue of the template: {names:?}");
    }
    let dlq = queues.iter().find(|q| q.logical_id == "DeadLetterQueue").unwrap();
    assert!(dlq.fed_by.iter().any(|f| f.contains("ResizePhotoFunction")), "{:?}", dlq.fed_by);
    assert_eq!((dlq.approximate_count, dlq.messages.len()), (1, 1));
    let letter = &dlq.messages[0];
    assert_eq!(letter.error.as_deref(), Some("Retryable: S3 is down"));
    assert!(letter.failed_target.as_deref().is_some_and(|t| t.ends_with(":function:ResizePhotoFunction")));
    let event = letter.original_event.as_ref().expect("the original event");
    assert_eq!(event["Records"][0]["s3"]["object"]["key"], key);
    let request_id = letter.request_id.clone().expect("the failed request");
    let streams = queues.iter().find(|q| q.logical_id == "TaskStreamFailureQueue").unwrap();
    assert!(streams.fed_by.iter().any(|f| f.contains("PublishTaskEventsFunction")), "{:?}", streams.fed_by);

    let photos = app.source.pipelines().await.unwrap().photos;
    let failed = photos.iter().find(|p| p.key == key).expect("the photo is listed");
    assert_eq!((failed.stage, failed.step.as_deref()), (Stage::Failed, Some("ResizePhotoFunction")));
    assert_eq!(failed.request_id.as_deref(), Some(request_id.as_str()));

    let lines = app.source.logs(&request_id).await.unwrap();
    assert!(lines.len() >= 3, "the three attempts' lines: {lines:?}");
    assert!(lines.iter().all(|l| l.to_string().contains(&request_id)));
    assert!(lines.iter().any(|l| l["message"] == "resizing"), "the function's own lines: {lines:?}");

    let outcome = app.source.redrive_dead_letter(&dlq.arn, &letter.message_id).await.unwrap();
    assert!(outcome.done.contains("ResizePhotoFunction"), "{outcome:?}");
    assert!(app.stack.settle(SETTLE).await);
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 4, "invoked again, and it succeeded");
    let after = app.source.dead_letters(10).await.unwrap();
    assert!(after.iter().find(|q| q.arn == dlq.arn).unwrap().messages.is_empty(), "the dead letter is gone");

    let again = app.source.redrive_dead_letter(&dlq.arn, &letter.message_id).await;
    assert!(matches!(again, Err(SourceError::NotFound(_))), "{again:?}");
    let elsewhere = app.source.redrive_dead_letter("arn:aws:sqs:us-east-1:123456789012:nope", "m").await;
    assert!(matches!(elsewhere, Err(SourceError::NotFound(_))), "{elsewhere:?}");
}

#[tokio::test]
async fn a_stream_failure_record_cannot_be_redriven_and_says_how_to_replay_it() {
    let app = spawn(|_| {}).await;
    let queue = app.stack.sqs().resources("").into_iter().find(|q| q.logical_id == "TaskStreamFailureQueue").unwrap();
    let record = json!({
        "requestContext": {"requestId": "r-9", "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:PublishTaskEventsFunction", "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 11},
        "version": "1.0",
        "DDBStreamBatchInfo": {"shardId": "shardId-1", "startSequenceNumber": "100", "endSequenceNumber": "104", "batchSize": 5, "streamArn": "arn:aws:dynamodb:us-east-1:123456789012:table/tasks/stream/x"},
    });
    let sent = app.stack.sqs().send(&queue.arn, record.to_string(), Default::default()).await.unwrap();
    let refused = app.source.redrive_dead_letter(&queue.arn, &sent.message_id).await;
    let Err(SourceError::Unsupported(why)) = refused else { panic!("{refused:?}") };
    assert!(why.contains("100") && why.contains("104") && why.contains("GetRecords"), "{why}");
    let queues = app.source.dead_letters(10).await.unwrap();
    let held = &queues.iter().find(|q| q.arn == queue.arn).unwrap().messages;
    assert_eq!(held.len(), 1, "the record stays in the queue");
    assert_eq!(held[0].request_id.as_deref(), Some("r-9"));
}

#[tokio::test]
async fn the_console_is_served_to_loopback_clients_addressing_the_stack_by_ip_or_localhost_only() {
    let app = spawn(|_| {}).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = client.get(format!("{}/_console/", app.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("InvoiceStateMachine"), "the executions page lists the machines");

    let bare = client.get(format!("{}/_console", app.base)).send().await.unwrap();
    assert!(bare.status().is_redirection());
    assert_eq!(bare.headers()["location"], "/_console/");

    let rebound = client.get(format!("{}/_console/", app.base)).header("host", "evil.example:3000").send().await;
    assert_eq!(rebound.unwrap().status(), 403, "a name DNS rebinding could point here is refused");
    let localhost = client.get(format!("{}/_console/mail", app.base)).header("host", "localhost:3000").send().await;
    assert_eq!(localhost.unwrap().status(), 200);

    // The HTTP API's own routes are unaffected.
    let api = client.get(format!("{}/tasks", app.base)).send().await.unwrap();
    assert_eq!(api.status(), 401, "the task API still answers (and wants a token)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_on_a_port_of_its_own_refuses_a_host_dns_rebinding_could_point_there() {
    let app = spawn(|_| {}).await;
    let router = local::console::guarded_router(LocalSource::new(app.stack.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let client = reqwest::Client::new();
    assert_eq!(client.get(format!("{base}/_console/")).send().await.unwrap().status(), 200);
    let rebound = client.get(format!("{base}/_console/")).header("host", "evil.example").send().await.unwrap();
    assert_eq!(rebound.status(), 403);
    let post = client
        .post(format!("{base}/_console/dead-letters/redrive"))
        .header("host", "evil.example")
        .header("origin", "http://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("queue_arn=x&message_id=y")
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 403, "a rebound page's same-origin POST is refused too");
}

/// record-task-activity that keeps the events it gets.
#[derive(Default)]
struct Keeps(std::sync::Mutex<Vec<Value>>);

impl Handler for Keeps {
    fn call(&self, event: Value) -> BoxFuture<'_, Result<Value, FunctionError>> {
        Box::pin(async move {
            self.0.lock().unwrap().push(event);
            Ok(Value::Null)
        })
    }
}

#[tokio::test]
async fn an_eventbridge_dead_letter_is_delivered_to_its_rules_target_again() {
    let keeps = Arc::new(Keeps::default());
    let app = spawn(|c| {
        c.extra_handlers.0.insert("record-task-activity".into(), keeps.clone());
    })
    .await;
    let rule = app.stack.events().rules().into_iter().find(|r| r.logical_id == "RecordTaskActivityFunctionTaskEvents");
    let rule = rule.expect("the activity rule");
    let target = &rule.targets[0];
    let queue = target.dead_letter_arn.clone().expect("the rule's target has a dead-letter queue");
    let event = json!({"source": "task-platform.tasks", "detail-type": "TaskCreated", "detail": {"task": "t-1"}});
    let attributes = [
        ("RULE_ARN", rule.arn.as_str()),
        ("TARGET_ARN", target.arn.as_str()),
        ("ERROR_CODE", "ERROR_FROM_TARGET"),
        ("ERROR_MESSAGE", "throttled"),
    ];
    let attributes = attributes.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let sent = app.stack.sqs().send(&queue, event.to_string(), attributes).await.unwrap();

    let queues = app.source.dead_letters(10).await.unwrap();
    let letter = &queues.iter().find(|q| q.arn == queue).unwrap().messages[0];
    assert_eq!(letter.error.as_deref(), Some("ERROR_FROM_TARGET: throttled"));
    assert_eq!(letter.original_event.as_ref(), Some(&event));

    let outcome = app.source.redrive_dead_letter(&queue, &sent.message_id).await.unwrap();
    assert!(outcome.done.contains("RecordTaskActivityFunction"), "{outcome:?}");
    assert!(app.stack.settle(SETTLE).await);
    assert_eq!(*keeps.0.lock().unwrap(), [event], "the target got the event again");
    assert!(app.stack.sqs().peek(&queue, 10).await.unwrap().is_empty(), "and the dead letter is gone");
}

#[tokio::test]
async fn a_message_a_queue_gave_up_on_is_sent_back_to_that_queue() {
    let app = spawn(|_| {}).await;
    let sqs = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .region(aws_sdk_sqs::config::Region::new("us-east-1"))
            .endpoint_url(&app.base)
            .credentials_provider(aws_sdk_sqs::config::Credentials::new("test", "test", None, None, "local"))
            .build(),
    );
    sqs.create_queue().queue_name("held").send().await.unwrap();
    let held_arn = "arn:aws:sqs:us-east-1:123456789012:held";
    let policy = json!({"deadLetterTargetArn": held_arn, "maxReceiveCount": 1}).to_string();
    let work = sqs
        .create_queue()
        .queue_name("work")
        .attributes(aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy, policy)
        .attributes(aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout, "0")
        .send()
        .await
        .unwrap();
    let work_url = work.queue_url().unwrap();
    sqs.send_message().queue_url(work_url).message_body("job 1").send().await.unwrap();
    // Received once (its one allowed receive), then moved to `held` by the next receive.
    for _ in 0..2 {
        sqs.receive_message().queue_url(work_url).send().await.unwrap();
    }

    let queues = app.source.dead_letters(10).await.unwrap();
    let held = queues.iter().find(|q| q.arn == held_arn).expect("a redrive policy's target is a dead-letter queue");
    assert!(held.fed_by.iter().any(|f| f.contains("work")), "{:?}", held.fed_by);
    let letter = &held.messages[0];
    assert_eq!(
        (letter.body.as_str(), letter.failed_target.as_deref()),
        ("job 1", Some("arn:aws:sqs:us-east-1:123456789012:work"))
    );

    let outcome = app.source.redrive_dead_letter(held_arn, &letter.message_id).await.unwrap();
    assert_eq!(outcome.done, "moved back to queue work");
    let back = sqs.receive_message().queue_url(work_url).send().await.unwrap();
    assert_eq!(back.messages()[0].body(), Some("job 1"));
    assert!(app.stack.sqs().peek(held_arn, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_change_feed_task_lets_the_stack_go_when_the_source_is_dropped() {
    let data = tempfile::tempdir().unwrap();
    let stack = Stack::load(StackConfig::new(repo().join("template.yaml"), data.path())).unwrap();
    let source = LocalSource::new(stack.clone());
    let mut changes = source.subscribe().unwrap();
    let executions = Arc::downgrade(stack.executions());
    drop((source, stack));
    let closed = tokio::time::timeout(Duration::from_secs(5), changes.recv()).await;
    assert!(
        matches!(closed, Ok(Err(tokio::sync::broadcast::error::RecvError::Closed))),
        "the forwarding task ended with the stack: {closed:?}"
    );
    assert!(executions.upgrade().is_none(), "nothing of the console keeps the executions alive");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executions_a_previous_process_left_on_disk_are_listed_filtered_searched_and_counted() {
    // How fast this is with 10,000 executions is measured by `cargo bench -p local --bench console`, not here.
    // In memory where the machine has it: thousands of directories cost seconds to make and remove on a slow disk.
    let shm = std::path::Path::new("/dev/shm");
    let data = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() }.unwrap();
    let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:TaskReminderStateMachine";
    let root = data.path().join("executions/TaskReminderStateMachine");
    // Written as a previous process would have left them, by several threads: the disk's latency, not the CPU,
    // is what takes the time.
    let write = |i: i64| {
        let name = format!("run-{i:05}");
        let dir = root.join(&name);
        std::fs::create_dir_all(&dir).unwrap();
        let start = time::OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(1_700_000_000 + i);
        let date = start.format(&time::format_description::well_known::Rfc3339).unwrap();
        let record = json!({
            "executionArn": format!("arn:aws:states:us-east-1:123456789012:execution:TaskReminderStateMachine:{name}"),
            "stateMachineArn": machine,
            "name": name,
            "status": if i % 10 == 0 { "FAILED" } else { "SUCCEEDED" },
            "input": "{}",
            "startDate": date,
            "stopDate": date,
        });
        std::fs::write(dir.join("record.json"), record.to_string()).unwrap();
    };
    std::thread::scope(|s| {
        for t in 0..16 {
            s.spawn(move || (t..1_000).step_by(16).for_each(write));
        }
    });
    let stack = Stack::load(StackConfig::new(repo().join("template.yaml"), data.path())).unwrap();
    let source = LocalSource::new(stack);

    for (what, query) in [
        ("all", query()),
        ("failed", ExecutionQuery { status: Some(Status::Failed), ..query() }),
        ("search", ExecutionQuery { name_contains: Some("RUN-0099".into()), ..query() }),
        ("machine", ExecutionQuery { machine_arn: Some(machine.into()), page_size: 1000, ..query() }),
    ] {
        let page = source.executions(query).await.unwrap();
        assert!(!page.items.is_empty(), "{what}");
        if what == "all" {
            assert_eq!((page.items[0].name.as_str(), page.total), ("run-00999", Some(1_000)));
        }
    }
    let machines = source.state_machines().await.unwrap();
    let reminders = machines.iter().find(|m| m.arn == machine).unwrap();
    assert!(reminders.counts.contains(&(Status::Failed, 100)), "{:?}", reminders.counts);
}

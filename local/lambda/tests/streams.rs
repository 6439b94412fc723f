//! Event source mappings on a table's stream, end to end: the real store writes the stream, the real `Lambda` runs
//! test handlers, the real SQS receives on-failure records. Each test builds the stack the way the composition root
//! does: open the store, turn on the template's streams and hand their labels to the template, then open the
//! mappings over the streams.

use aws_lambda_events::event::dynamodb::Event as DynamoDbEvent;
use domain::ports::{TaskDelete, TaskPut, TaskUpdate};
use domain::{Status, Task, TaskId, TaskPatch, Title, UserId, Version};
use local_adapters::{LocalStore, SqliteTasks, TableStream, ViewType};
use local_core::invoke::{FunctionInvoker, StreamError, StreamRecord, StreamSource};
use local_core::{BoxFuture, Identity};
use local_lambda::streams::{MappingError, MappingPosition, StreamMappings, StreamMappingsConfig, StreamMappingsGuard};
use local_lambda::{Function, FunctionDecl, FunctionError, Handler, Lambda};
use local_template::{NoSecrets, Template};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// The composition root's adapter: the store's stream as a [`StreamSource`].
struct StoreStream(TableStream);

impl StreamSource for StoreStream {
    fn arn(&self) -> &str {
        self.0.arn()
    }

    fn read(&self, after: Option<u64>, limit: usize) -> BoxFuture<'_, Result<Vec<StreamRecord>, StreamError>> {
        let read =
            self.0.read(after, limit).map_err(|e| StreamError { arn: self.0.arn().to_owned(), source: e.into() });
        let records = read.map(|records| {
            records
                .iter()
                .map(|r| StreamRecord {
                    sequence: r.sequence,
                    created: r.created_at.into(),
                    record: self.0.record_json(r),
                })
                .collect()
        });
        Box::pin(async move { records })
    }

    fn latest(&self) -> Result<Option<u64>, StreamError> {
        Ok(self.0.latest())
    }

    fn wait_after(&self, after: Option<u64>) -> BoxFuture<'_, ()> {
        Box::pin(self.0.wait_after(after))
    }
}

/// What a test handler does with each batch: its event and the call's number (from 0).
type Behaviour = dyn Fn(&Value, usize) -> Result<Value, FunctionError> + Send + Sync;

/// Records every event it is invoked with, then does what the test says.
struct Recorder {
    events: Mutex<Vec<Value>>,
    behaviour: Box<Behaviour>,
}

impl Handler for Recorder {
    fn call(&self, event: Value) -> BoxFuture<'_, Result<Value, FunctionError>> {
        let n = {
            let mut events = self.events.lock().unwrap();
            events.push(event.clone());
            events.len() - 1
        };
        let result = (self.behaviour)(&event, n);
        Box::pin(async move { result })
    }
}

impl Recorder {
    /// The titles of each batch's new images (`-` for a record without one).
    fn batches(&self) -> Vec<Vec<String>> {
        self.events.lock().unwrap().iter().map(titles).collect()
    }
}

fn titles(event: &Value) -> Vec<String> {
    event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["dynamodb"]["NewImage"]["title"]["S"].as_str().unwrap_or("-").to_owned())
        .collect()
}

fn ok(_: &Value, _: usize) -> Result<Value, FunctionError> {
    Ok(Value::Null)
}

const QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:failures";

/// The template: the tasks table with its stream, a queue for failures, and one function per `(name, properties)`,
/// each with one DynamoDB event `Stream` whose properties are `Stream: !GetAtt TasksTable.StreamArn` plus the YAML
/// flow-mapping entries given.
fn template_text(functions: &[(&str, &str)]) -> String {
    let mut text = String::from(
        "Resources:\n  TasksTable:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      TableName: TasksTable\n      \
         StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}\n  Failures:\n    Type: AWS::SQS::Queue\n    \
         Properties: {QueueName: failures}\n",
    );
    for (name, properties) in functions {
        text.push_str(&format!(
            "  {name}:\n    Type: AWS::Serverless::Function\n    Metadata: {{BuildProperties: {{Binary: {name}}}}}\n    \
             Properties:\n      Events:\n        Stream:\n          Type: DynamoDB\n          Properties: {{Stream: \
             !GetAtt TasksTable.StreamArn, {properties}}}\n"
        ));
    }
    text
}

/// The store and its stream over a data directory, as the composition root opens them.
struct Data {
    tasks: SqliteTasks,
    stream: TableStream,
    template: Template,
}

fn open_data(dir: &Path, text: &str) -> Data {
    let store = LocalStore::open(&dir.join("store.sqlite3")).unwrap();
    let tasks = store.tasks("TasksTable").unwrap();
    let mut template = Template::parse_in(text, dir, Identity::default(), Arc::new(NoSecrets)).unwrap();
    let mut streams = Vec::new();
    for t in template.stream_tables().unwrap() {
        let arn = template.identity().table_arn(&t.table).to_string();
        let stream = store.enable_stream(&t.table, &arn, ViewType::parse(&t.view_type).unwrap()).unwrap();
        template.set_stream_label(&t.logical_id, stream.label());
        streams.push(stream);
    }
    Data { tasks, stream: streams.pop().unwrap(), template }
}

/// A running stack of functions with mappings.
struct Stack {
    /// Held: the mappings reach the functions through a weak reference.
    _lambda: Arc<Lambda>,
    sqs: Arc<local_sqs::Sqs>,
    mappings: StreamMappings,
    _guard: StreamMappingsGuard,
}

fn open_mappings(dir: &Path, data: &Data, handlers: &[(&str, Arc<Recorder>)]) -> Result<Stack, MappingError> {
    let decls = FunctionDecl::read_all(&data.template).unwrap();
    let functions = decls.iter().map(|decl| {
        let handler = handlers.iter().find(|(n, _)| *n == decl.logical_id).map(|(_, h)| h.clone()).unwrap();
        Function { decl: decl.clone(), handler_name: "test", handler }
    });
    let lambda = Arc::new(Lambda::new(Identity::default(), functions));
    let sqs = local_sqs::Sqs::open(dir, &data.template, Identity::default()).unwrap();
    let invoker: Weak<dyn FunctionInvoker> = Arc::downgrade(&lambda) as Weak<dyn FunctionInvoker>;
    let mappings = StreamMappings::open(StreamMappingsConfig {
        data_dir: dir,
        template: &data.template,
        functions: &decls,
        sources: vec![Arc::new(StoreStream(data.stream.clone()))],
        invoker,
        sender: sqs.clone(),
        retry_delay: Duration::from_millis(5),
    })?;
    let guard = mappings.start();
    Ok(Stack { _lambda: lambda, sqs, mappings, _guard: guard })
}

fn recorder(
    behaviour: impl Fn(&Value, usize) -> Result<Value, FunctionError> + Send + Sync + 'static,
) -> Arc<Recorder> {
    Arc::new(Recorder { events: Mutex::new(Vec::new()), behaviour: Box::new(behaviour) })
}

fn task(title: &str) -> Task {
    let at = domain::now();
    Task {
        owner: UserId::parse("alice").unwrap(),
        id: TaskId::generate(at),
        title: Title::parse(title).unwrap(),
        description: None,
        status: Status::Pending,
        created_at: at,
        updated_at: at,
        version: Version::FIRST,
    }
}

async fn put(tasks: &SqliteTasks, titles: &[&str]) -> Vec<Task> {
    let mut out = Vec::new();
    for title in titles {
        let t = task(title);
        tasks.put_task(&t).await.unwrap();
        out.push(t);
    }
    out
}

/// Waits until function `f`'s mapping has its checkpoint at `sequence` or beyond.
async fn reaches(stack: &Stack, f: &str, sequence: u64) -> MappingPosition {
    let mut position = stack.mappings.watch(f, "Stream").expect("a mapping");
    let reached = tokio::time::timeout(Duration::from_secs(10), position.wait_for(|p| p.checkpoint >= Some(sequence)));
    match reached.await {
        Ok(Ok(p)) => p.clone(),
        _ => panic!("{f} never reached {sequence}: {:?}", stack.mappings.positions()),
    }
}

/// The on-failure records the failures queue holds.
async fn failure_records(stack: &Stack) -> Vec<Value> {
    let held = stack.sqs.peek(QUEUE_ARN, 10).await.unwrap();
    held.iter().map(|m| serde_json::from_str(&m.body).unwrap()).collect()
}

/// Whether a batch holds a record titled `poison`.
fn poisoned(event: &Value) -> bool {
    titles(event).iter().any(|t| t == "poison")
}

#[tokio::test]
async fn records_arrive_in_order_in_batches_of_the_batch_size_as_lambdas_dynamodb_event() {
    let dir = tempfile::tempdir().unwrap();
    let data = open_data(dir.path(), &template_text(&[("Publish", "StartingPosition: TRIM_HORIZON, BatchSize: 3")]));
    let written = put(&data.tasks, &["a", "b", "c", "d", "e", "f", "g"]).await;
    let publish = recorder(ok);
    let stack = open_mappings(dir.path(), &data, &[("Publish", publish.clone())]).unwrap();
    let position = reaches(&stack, "Publish", 7).await;
    assert_eq!(publish.batches(), [vec!["a", "b", "c"], vec!["d", "e", "f"], vec!["g"]]);
    assert_eq!((position.delivered, position.discarded), (7, 0));

    // Each event is what the function's Lambda event type reads, and its images read back as the tasks written.
    let events = publish.events.lock().unwrap().clone();
    let event: DynamoDbEvent = serde_json::from_value(events[0].clone()).unwrap();
    let record = &event.records[0];
    assert_eq!(record.event_name, "INSERT");
    assert_eq!(record.event_source.as_deref(), Some("aws:dynamodb"));
    assert_eq!(record.event_version.as_deref(), Some("1.1"));
    assert_eq!(record.event_source_arn.as_deref(), Some(data.stream.arn()));
    assert_eq!(record.aws_region, "us-east-1");
    assert_eq!(dynamo_items::task_from_item(record.change.new_image.clone()).unwrap(), written[0]);
    assert!(record.change.old_image.is_empty());
    assert_eq!(record.change.sequence_number.as_deref(), Some("000000000000000000001"));
    let sequences: Vec<_> = events
        .iter()
        .flat_map(|e| e["Records"].as_array().unwrap().clone())
        .map(|r| r["dynamodb"]["SequenceNumber"].as_str().unwrap().parse::<u64>().unwrap())
        .collect();
    assert_eq!(sequences, (1..=7).collect::<Vec<_>>());
    assert_eq!(
        stack.mappings.positions()[0].stream,
        format!("arn:aws:dynamodb:us-east-1:123456789012:table/TasksTable/stream/{}", data.stream.label())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_reaches_the_function_as_soon_as_it_commits_not_on_a_poll_interval() {
    let dir = tempfile::tempdir().unwrap();
    let data = open_data(dir.path(), &template_text(&[("Publish", "StartingPosition: LATEST")]));
    let publish = recorder(ok);
    let stack = open_mappings(dir.path(), &data, &[("Publish", publish.clone())]).unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await; // the mapping is idle, waiting on the stream
    let mut delays = Vec::new();
    for i in 0..5u64 {
        let t = task("now");
        let started = Instant::now();
        data.tasks.put_task(&t).await.unwrap();
        let patch = TaskPatch { status: Some(Status::Done), ..Default::default() };
        data.tasks.update_task(&t.owner, t.id, &patch, None, domain::now()).await.unwrap();
        data.tasks.delete_task(&t.owner, t.id, Some(Version(2))).await.unwrap();
        reaches(&stack, "Publish", 3 * (i + 1)).await;
        delays.push(started.elapsed());
    }
    delays.sort();
    // Three writes and their deliveries. A mapping that polled (Lambda polls four times a second) would take a
    // poll interval for most of them; woken by the commit, the median takes milliseconds. The bound is a whole
    // interval so a loaded machine cannot fail it; the benchmark (`local/benches/task_events.rs`) gives the figure.
    assert!(delays[2] < Duration::from_millis(250), "{delays:?}");
    let names: Vec<_> = publish
        .events
        .lock()
        .unwrap()
        .iter()
        .flat_map(|e| e["Records"].as_array().unwrap().clone())
        .map(|r| r["eventName"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names.len(), 15);
    assert_eq!(&names[..3], ["INSERT", "MODIFY", "REMOVE"]);
}

#[tokio::test]
async fn a_failing_batch_is_retried_then_described_to_the_on_failure_queue_and_the_mapping_moves_on() {
    let dir = tempfile::tempdir().unwrap();
    let properties = "StartingPosition: TRIM_HORIZON, BatchSize: 1, MaximumRetryAttempts: 2, \
                      DestinationConfig: {OnFailure: {Destination: !GetAtt Failures.Arn}}";
    let data = open_data(dir.path(), &template_text(&[("Publish", properties)]));
    put(&data.tasks, &["poison", "fine"]).await;
    let publish =
        recorder(
            |event, _| {
                if poisoned(event) { Err(FunctionError::new("Boom", "cannot publish")) } else { Ok(Value::Null) }
            },
        );
    let stack = open_mappings(dir.path(), &data, &[("Publish", publish.clone())]).unwrap();
    let position = reaches(&stack, "Publish", 2).await;
    assert_eq!(publish.batches(), [["poison"], ["poison"], ["poison"], ["fine"]], "one attempt and two retries");
    assert_eq!((position.delivered, position.discarded, position.failed_invocations), (1, 1, 3));

    let failures = failure_records(&stack).await;
    assert_eq!(failures.len(), 1);
    let f = &failures[0];
    assert_eq!(f["requestContext"]["condition"], "RetryAttemptsExhausted");
    assert_eq!(f["requestContext"]["approximateInvokeCount"], 3);
    assert_eq!(f["requestContext"]["functionArn"], "arn:aws:lambda:us-east-1:123456789012:function:Publish");
    assert_eq!(f["responseContext"]["functionError"], "Unhandled");
    assert_eq!(f["version"], "1.0");
    let info = &f["DDBStreamBatchInfo"];
    assert_eq!(info["startSequenceNumber"], "000000000000000000001");
    assert_eq!(info["endSequenceNumber"], "000000000000000000001");
    assert_eq!(info["batchSize"], 1);
    assert_eq!(info["streamArn"], data.stream.arn());
    assert!(info["shardId"].as_str().unwrap().starts_with("shardId-"));
    assert!(info["approximateArrivalOfFirstRecord"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn bisecting_a_failed_batch_isolates_the_bad_record_and_delivers_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let properties = "StartingPosition: TRIM_HORIZON, BatchSize: 4, BisectBatchOnFunctionError: true, \
                      MaximumRetryAttempts: 0, DestinationConfig: {OnFailure: {Destination: !GetAtt Failures.Arn}}";
    let data = open_data(dir.path(), &template_text(&[("Publish", properties)]));
    put(&data.tasks, &["a", "b", "poison", "d"]).await;
    let publish =
        recorder(|event, _| if poisoned(event) { Err(FunctionError::new("Boom", "no")) } else { Ok(Value::Null) });
    let stack = open_mappings(dir.path(), &data, &[("Publish", publish.clone())]).unwrap();
    let position = reaches(&stack, "Publish", 4).await;
    assert_eq!(
        publish.batches(),
        [vec!["a", "b", "poison", "d"], vec!["a", "b"], vec!["poison", "d"], vec!["poison"], vec!["d"]]
    );
    assert_eq!((position.delivered, position.discarded), (3, 1));
    let failures = failure_records(&stack).await;
    assert_eq!(failures.len(), 1);
    let info = &failures[0]["DDBStreamBatchInfo"];
    assert_eq!(
        (info["startSequenceNumber"].as_str(), info["batchSize"].as_u64()),
        (Some("000000000000000000003"), Some(1))
    );
}

#[tokio::test]
async fn reported_item_failures_retry_from_the_lowest_failed_record_and_a_malformed_report_fails_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let properties = "StartingPosition: TRIM_HORIZON, BatchSize: 5, FunctionResponseTypes: [ReportBatchItemFailures]";
    let data = open_data(dir.path(), &template_text(&[("Publish", properties)]));
    put(&data.tasks, &["a", "b", "c", "d", "e"]).await;
    let publish = recorder(|event, n| {
        let sequence = |i: usize| event["Records"][i]["dynamodb"]["SequenceNumber"].clone();
        Ok(match n {
            // "d" and "c" failed: the batch goes on from "c".
            0 => json!({"batchItemFailures": [{"itemIdentifier": sequence(3)}, {"itemIdentifier": sequence(2)}]}),
            // An empty identifier: not a report Lambda can act on, so the whole batch ("c" to "e") failed.
            1 => json!({"batchItemFailures": [{"itemIdentifier": ""}]}),
            _ => json!({"batchItemFailures": []}),
        })
    });
    let stack = open_mappings(dir.path(), &data, &[("Publish", publish.clone())]).unwrap();
    let position = reaches(&stack, "Publish", 5).await;
    assert_eq!(publish.batches(), [vec!["a", "b", "c", "d", "e"], vec!["c", "d", "e"], vec!["c", "d", "e"]]);
    assert_eq!((position.delivered, position.failed_invocations), (5, 2));
}

#[tokio::test]
async fn a_restart_resumes_from_the_checkpoint_losing_nothing_and_repeating_only_the_interrupted_batch() {
    let dir = tempfile::tempdir().unwrap();
    let text = template_text(&[("Publish", "StartingPosition: TRIM_HORIZON, BatchSize: 10")]);
    let data = open_data(dir.path(), &text);
    put(&data.tasks, &["a", "b"]).await;
    let first = recorder(ok);
    let stack = open_mappings(dir.path(), &data, &[("Publish", first.clone())]).unwrap();
    reaches(&stack, "Publish", 2).await;
    drop(stack);

    // Written while the mappings are stopped; the next stack hangs on its first batch and is stopped mid-way.
    put(&data.tasks, &["c", "d"]).await;
    let hung = Arc::new(tokio::sync::Notify::new());
    let (entered, hung_handler) = (hung.clone(), Arc::new(Hangs(hung.clone())));
    let stack = open_mappings_with(dir.path(), &data, "Publish", hung_handler);
    tokio::time::timeout(Duration::from_secs(10), entered.notified()).await.expect("the batch started");
    assert_eq!(stack.mappings.positions()[0].checkpoint, Some(2));
    drop(stack);

    let data = open_data(dir.path(), &text); // the store reopened too, as after a restart
    put(&data.tasks, &["e"]).await;
    let third = recorder(ok);
    let stack = open_mappings(dir.path(), &data, &[("Publish", third.clone())]).unwrap();
    reaches(&stack, "Publish", 5).await;
    assert_eq!(first.batches(), [["a", "b"]]);
    assert_eq!(third.batches(), [["c", "d", "e"]], "the interrupted batch again, then what followed");
}

/// A handler that signals it was called and never answers.
struct Hangs(Arc<tokio::sync::Notify>);

impl Handler for Hangs {
    fn call(&self, _: Value) -> BoxFuture<'_, Result<Value, FunctionError>> {
        self.0.notify_one();
        Box::pin(std::future::pending())
    }
}

fn open_mappings_with(dir: &Path, data: &Data, name: &str, handler: Arc<dyn Handler>) -> Stack {
    let decls = FunctionDecl::read_all(&data.template).unwrap();
    let functions = decls.iter().filter(|d| d.logical_id == name).map(|decl| Function {
        decl: decl.clone(),
        handler_name: "test",
        handler: handler.clone(),
    });
    let lambda = Arc::new(Lambda::new(Identity::default(), functions));
    let sqs = local_sqs::Sqs::open(dir, &data.template, Identity::default()).unwrap();
    let mappings = StreamMappings::open(StreamMappingsConfig {
        data_dir: dir,
        template: &data.template,
        functions: &decls,
        sources: vec![Arc::new(StoreStream(data.stream.clone()))],
        invoker: Arc::downgrade(&lambda) as Weak<dyn FunctionInvoker>,
        sender: sqs.clone(),
        retry_delay: Duration::from_millis(5),
    })
    .unwrap();
    let guard = mappings.start();
    Stack { _lambda: lambda, sqs, mappings, _guard: guard }
}

#[tokio::test]
async fn latest_starts_after_what_the_stream_held_when_the_mapping_was_made_and_trim_horizon_at_the_oldest() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        template_text(&[("FromLatest", "StartingPosition: LATEST"), ("FromHorizon", "StartingPosition: TRIM_HORIZON")]);
    let data = open_data(dir.path(), &text);
    put(&data.tasks, &["old-1", "old-2"]).await;
    let (latest, horizon) = (recorder(ok), recorder(ok));
    let handlers = [("FromLatest", latest.clone()), ("FromHorizon", horizon.clone())];
    let stack = open_mappings(dir.path(), &data, &handlers).unwrap();
    reaches(&stack, "FromHorizon", 2).await;
    drop(stack);
    // LATEST was fixed when the mapping was made: what is written while the stack is down is still delivered.
    put(&data.tasks, &["while-down"]).await;
    let stack = open_mappings(dir.path(), &data, &handlers).unwrap();
    put(&data.tasks, &["new"]).await;
    reaches(&stack, "FromLatest", 4).await;
    reaches(&stack, "FromHorizon", 4).await;
    assert_eq!(latest.batches().concat(), ["while-down", "new"]);
    assert_eq!(horizon.batches().concat(), ["old-1", "old-2", "while-down", "new"]);
}

#[tokio::test]
async fn filter_criteria_skip_the_records_no_pattern_matches() {
    let dir = tempfile::tempdir().unwrap();
    let properties = r#"StartingPosition: TRIM_HORIZON, FilterCriteria: {Filters: [{Pattern: '{"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"status": {"S": ["done"]}}}}'}]}"#;
    let data = open_data(dir.path(), &template_text(&[("Publish", properties)]));
    let [t] = <[Task; 1]>::try_from(put(&data.tasks, &["a"]).await).unwrap();
    let done = TaskPatch { status: Some(Status::Done), ..Default::default() };
    data.tasks.update_task(&t.owner, t.id, &done, None, domain::now()).await.unwrap();
    let publish = recorder(ok);
    let stack = open_mappings(dir.path(), &data, &[("Publish", publish.clone())]).unwrap();
    let position = reaches(&stack, "Publish", 2).await;
    assert_eq!(publish.batches(), [["a"]]);
    assert_eq!(publish.events.lock().unwrap()[0]["Records"][0]["eventName"], "MODIFY");
    assert_eq!(position.delivered, 1);
}

#[tokio::test]
async fn records_older_than_the_maximum_record_age_are_given_up_without_an_invocation() {
    let dir = tempfile::tempdir().unwrap();
    let properties = "StartingPosition: TRIM_HORIZON, MaximumRecordAgeInSeconds: 60, \
                      DestinationConfig: {OnFailure: {Destination: !GetAtt Failures.Arn}}";
    let data = open_data(dir.path(), &template_text(&[("Publish", properties)]));
    put(&data.tasks, &["stale", "fresh"]).await;
    let raw = rusqlite_connection(&dir.path().join("store.sqlite3"));
    let old_ms = (time::OffsetDateTime::now_utc().unix_timestamp() - 120) * 1000;
    raw.execute("UPDATE \"TasksTable$stream\" SET created_ms = ?1 WHERE seq = 1", [old_ms]).unwrap();
    let publish = recorder(ok);
    let stack = open_mappings(dir.path(), &data, &[("Publish", publish.clone())]).unwrap();
    reaches(&stack, "Publish", 2).await;
    assert_eq!(publish.batches(), [["fresh"]]);
    let failures = failure_records(&stack).await;
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0]["requestContext"]["condition"], "MaximumRecordAgeExceeded");
    assert_eq!(failures[0]["requestContext"]["approximateInvokeCount"], 0);
    assert!(failures[0].get("responseContext").is_none(), "never invoked");
}

fn rusqlite_connection(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

#[tokio::test]
async fn a_disabled_mapping_is_checked_but_does_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let data = open_data(dir.path(), &template_text(&[("Publish", "StartingPosition: TRIM_HORIZON, Enabled: false")]));
    put(&data.tasks, &["a"]).await;
    let publish = recorder(ok);
    let stack = open_mappings(dir.path(), &data, &[("Publish", publish.clone())]).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(publish.batches().is_empty());
    let position = &stack.mappings.positions()[0];
    assert_eq!((position.enabled, position.checkpoint), (false, None));
}

#[test]
fn mapping_properties_outside_lambdas_limits_are_refused_naming_the_function_and_the_property() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str)] = &[
        ("StartingPosition: TRIM_HORIZON, BatchSize: 0", "BatchSize"),
        ("StartingPosition: TRIM_HORIZON, BatchSize: 10001", "BatchSize"),
        ("StartingPosition: TRIM_HORIZON, MaximumRetryAttempts: -2", "MaximumRetryAttempts"),
        ("StartingPosition: TRIM_HORIZON, MaximumRetryAttempts: 10001", "MaximumRetryAttempts"),
        ("StartingPosition: TRIM_HORIZON, MaximumRecordAgeInSeconds: 59", "MaximumRecordAgeInSeconds"),
        ("StartingPosition: TRIM_HORIZON, MaximumRecordAgeInSeconds: 604801", "MaximumRecordAgeInSeconds"),
        ("StartingPosition: TRIM_HORIZON, MaximumBatchingWindowInSeconds: 301", "MaximumBatchingWindowInSeconds"),
        ("StartingPosition: TRIM_HORIZON, ParallelizationFactor: 11", "ParallelizationFactor"),
        ("StartingPosition: TRIM_HORIZON, ParallelizationFactor: 0", "ParallelizationFactor"),
        ("StartingPosition: AT_TIMESTAMP", "StartingPosition"),
        ("BatchSize: 10", "StartingPosition"),
        ("StartingPosition: TRIM_HORIZON, FunctionResponseTypes: [Everything]", "FunctionResponseTypes"),
        ("StartingPosition: TRIM_HORIZON, BisectBatchOnFunctionError: maybe", "BisectBatchOnFunctionError"),
        ("StartingPosition: TRIM_HORIZON, TumblingWindowInSeconds: 30", "TumblingWindowInSeconds"),
        ("StartingPosition: TRIM_HORIZON, Colour: blue", "Colour"),
        (
            "StartingPosition: TRIM_HORIZON, DestinationConfig: {OnFailure: {Destination: 'arn:aws:sns:us-east-1:1:t'}}",
            "DestinationConfig.OnFailure.Destination",
        ),
        (
            "StartingPosition: TRIM_HORIZON, FilterCriteria: {Filters: [{Pattern: '{\"eventName\": \"INSERT\"}'}]}",
            "FilterCriteria.Filters[0].Pattern",
        ),
    ];
    for (properties, property) in cases {
        let data = open_data(dir.path(), &template_text(&[("Publish", properties)]));
        let e = open_mappings(dir.path(), &data, &[("Publish", recorder(ok))]).err().expect(properties);
        let message = e.to_string();
        assert!(message.contains("function Publish, event Stream") && message.contains(property), "{properties}: {e}");
    }
}

#[test]
fn a_mapping_on_a_stream_the_stack_does_not_have_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = template_text(&[("Publish", "StartingPosition: LATEST")])
        .replace("!GetAtt TasksTable.StreamArn", "'arn:aws:dynamodb:us-east-1:123456789012:table/Other/stream/x'");
    let data = open_data(dir.path(), &text);
    let e = open_mappings(dir.path(), &data, &[("Publish", recorder(ok))]).err().expect("refused");
    assert!(matches!(&e, MappingError::UnknownStream { arn, .. } if arn.contains("table/Other")), "{e}");
    assert!(e.to_string().contains(data.stream.arn()), "names the streams there are: {e}");
}

#[test]
fn mappings_need_no_runtime_to_be_opened_and_checked() {
    // Guards against a regression where opening spawned work: `open` only reads and writes checkpoints.
    let dir = tempfile::tempdir().unwrap();
    let data = open_data(dir.path(), &template_text(&[("Publish", "StartingPosition: LATEST")]));
    let decls = FunctionDecl::read_all(&data.template).unwrap();
    let lambda = Arc::new(Lambda::new(Identity::default(), []));
    let sqs_dir: TempDir = tempfile::tempdir().unwrap();
    let sqs = local_sqs::Sqs::open(sqs_dir.path(), &data.template, Identity::default()).unwrap();
    let mappings = StreamMappings::open(StreamMappingsConfig {
        data_dir: dir.path(),
        template: &data.template,
        functions: &decls,
        sources: vec![Arc::new(StoreStream(data.stream.clone()))],
        invoker: Arc::downgrade(&lambda) as Weak<dyn FunctionInvoker>,
        sender: sqs,
        retry_delay: Duration::from_millis(5),
    })
    .unwrap();
    assert_eq!(mappings.decls().count(), 1);
    assert!(dir.path().join("lambda/streams/Publish.Stream.json").exists(), "LATEST is written down at once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batching_window_gathers_records_until_the_batch_is_full_or_the_window_closes() {
    let dir = tempfile::tempdir().unwrap();
    let properties = "StartingPosition: LATEST, BatchSize: 3, MaximumBatchingWindowInSeconds: 1";
    let data = open_data(dir.path(), &template_text(&[("Publish", properties)]));
    let publish = recorder(ok);
    let stack = open_mappings(dir.path(), &data, &[("Publish", publish.clone())]).unwrap();
    put(&data.tasks, &["a"]).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(publish.batches().is_empty(), "the window is open");
    put(&data.tasks, &["b", "c"]).await;
    reaches(&stack, "Publish", 3).await;
    let started = Instant::now();
    put(&data.tasks, &["d"]).await;
    reaches(&stack, "Publish", 4).await;
    assert!(started.elapsed() >= Duration::from_millis(900), "a lone record waits for the window to close");
    assert_eq!(publish.batches(), [vec!["a", "b", "c"], vec!["d"]]);
}

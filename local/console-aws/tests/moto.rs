//! `AwsSource` against `moto_server`: a CloudFormation stack with two state machines, three queues (two of them
//! dead-letter queues) and a function, its executions, dead letters and CloudWatch metrics, read through the port
//! exactly as the console's pages read them; and the console's pages served for it.
//!
//! What moto cannot do, and so is not exercised here: it runs no state machine (executions stay RUNNING until
//! stopped, and `GetExecutionHistory` answers a canned four-event history), it has no `RedriveExecution`, and it
//! does not route CloudWatch requests in the Smithy RPC v2 CBOR protocol that aws-sdk-cloudwatch now speaks (every
//! one is a 404), so the measurements test checks the failure is reported and runs its assertions only where
//! CloudWatch answers; the arithmetic is unit-tested in `measure`.

use aws_adapters::testing::MotoServer;
use aws_sdk_cloudwatch::primitives::DateTime as CwDateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
use aws_sdk_sqs::types::MessageAttributeValue;
use local_console::source::{ConsoleSource, ExecutionQuery, SourceError, Status};
use local_console_aws::AwsSource;
use serde_json::json;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

const DEFINITION: &str =
    r#"{"StartAt":"Parse","States":{"Parse":{"Type":"Pass","Next":"Store"},"Store":{"Type":"Pass","End":true}}}"#;

/// A fresh stack name per test: tests share one moto server.
fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

struct Stack {
    name: String,
    config: aws_config::SdkConfig,
}

/// Creates the test stack in moto and waits until it is complete.
async fn create_stack() -> Stack {
    let moto = MotoServer::shared();
    let config = moto.sdk_config();
    let name = unique("console");
    let machine = |logical: &str| {
        json!({"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "StateMachineName": format!("{name}-{logical}"),
            "DefinitionString": DEFINITION,
            "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]}}})
    };
    let template = json!({"Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
            "Action": "sts:AssumeRole"}]}}},
        "DeadLetterQueue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": format!("{name}-DeadLetterQueue")}},
        "TaskEventsDeadLetterQueue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": format!("{name}-TaskEventsDeadLetterQueue")}},
        "WorkQueue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": format!("{name}-WorkQueue")}},
        "InvoiceStateMachine": machine("InvoiceStateMachine"),
        "PhotoStateMachine": machine("PhotoStateMachine"),
        "ResizePhotoFunction": {"Type": "AWS::Lambda::Function", "Properties": {
            "FunctionName": format!("{name}-ResizePhotoFunction"),
            "Runtime": "provided.al2023", "Handler": "bootstrap", "MemorySize": 1024, "Architectures": ["arm64"],
            "Role": {"Fn::GetAtt": ["Role", "Arn"]}, "Code": {"ZipFile": "unused"},
            "DeadLetterConfig": {"TargetArn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}}}
    }});
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    cfn.create_stack()
        .stack_name(&name)
        .template_body(template.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("creating the stack: {}", aws_adapters::testing::error_chain(&e)));
    Stack { name, config }
}

async fn source(stack: &Stack) -> AwsSource {
    AwsSource::discover(&stack.config, Some(&stack.name))
        .await
        .unwrap_or_else(|e| panic!("discovering {}: {e}", stack.name))
}

/// Starts executions named `names` one after the other (so their start dates are ordered) and returns their ARNs.
async fn start(config: &aws_config::SdkConfig, machine_arn: &str, names: &[&str]) -> Vec<String> {
    let sfn = aws_sdk_sfn::Client::new(config);
    let mut arns = Vec::new();
    for name in names {
        let out = sfn
            .start_execution()
            .state_machine_arn(machine_arn)
            .name(*name)
            .input(r#"{"key":"invoices/u/1.pdf"}"#)
            .send()
            .await
            .unwrap_or_else(|e| panic!("starting {name}: {}", aws_adapters::testing::error_chain(&e)));
        arns.push(out.execution_arn().to_owned());
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    arns
}

fn query(machine: Option<&str>, status: Option<Status>, page_size: usize) -> ExecutionQuery {
    ExecutionQuery { machine_arn: machine.map(str::to_owned), status, page_size, ..ExecutionQuery::default() }
}

#[tokio::test]
async fn a_stack_is_discovered_by_its_resources_and_the_dead_letter_rule() {
    let stack = create_stack().await;
    let source = source(&stack).await;
    let found = source.discovered();
    let machines: Vec<_> = found.machines.iter().map(|m| m.name.clone()).collect();
    assert_eq!(machines, [format!("{}-InvoiceStateMachine", stack.name), format!("{}-PhotoStateMachine", stack.name)]);
    let queues: Vec<_> = found.queues.iter().map(|q| q.logical_id.as_str()).collect();
    assert_eq!(queues, ["DeadLetterQueue", "TaskEventsDeadLetterQueue"], "the work queue is not a dead-letter queue");
    assert_eq!(found.queues[0].fed_by, ["async invocations of ResizePhotoFunction"], "from the template");
    let function = &found.functions[0];
    assert_eq!(
        (function.logical_id.as_str(), function.memory_mb, function.architecture.as_str()),
        ("ResizePhotoFunction", 1024, "arm64"),
    );
    assert_eq!(source.label(), format!("AWS stack {} in us-east-1", stack.name));
    assert!(!source.is_local());
    let summaries = source.state_machines().await.expect("state machines");
    assert!(summaries.iter().all(|m| m.counts.is_empty()), "AWS cannot count cheaply");
}

#[tokio::test]
async fn an_unknown_stack_is_a_clear_error() {
    let config = MotoServer::shared().sdk_config();
    let err = AwsSource::discover(&config, Some("no-such-stack")).await.expect_err("no such stack");
    assert!(err.to_string().contains("no-such-stack") || err.to_string().contains("does not exist"), "{err}");
}

#[tokio::test]
async fn executions_list_newest_first_per_machine_and_across_machines_with_status_filter_paging_and_search() {
    let stack = create_stack().await;
    let source = source(&stack).await;
    let (invoices, photos) = (source.discovered().machines[0].arn.clone(), source.discovered().machines[1].arn.clone());
    let first = start(&stack.config, &invoices, &["inv-1", "inv-2"]).await;
    start(&stack.config, &photos, &["photo-1"]).await;
    start(&stack.config, &invoices, &["inv-3"]).await;
    source.stop(&first[0], Some("Operator".into()), Some("testing".into())).await.expect("stop inv-1");

    let names =
        |page: &local_console::source::ExecutionPage| page.items.iter().map(|e| e.name.clone()).collect::<Vec<_>>();
    let one = source.executions(query(Some(&invoices), None, 10)).await.expect("one machine");
    assert_eq!(names(&one), ["inv-3", "inv-2", "inv-1"]);
    assert!(one.items.iter().all(|e| e.machine_name.ends_with("InvoiceStateMachine")));

    let all = source.executions(query(None, None, 10)).await.expect("all machines");
    assert_eq!(names(&all), ["inv-3", "photo-1", "inv-2", "inv-1"], "merged newest first");
    let aborted = source.executions(query(None, Some(Status::Aborted), 10)).await.expect("aborted");
    assert_eq!(names(&aborted), ["inv-1"]);
    let running = source.executions(query(Some(&invoices), Some(Status::Running), 10)).await.expect("running");
    assert_eq!(names(&running), ["inv-3", "inv-2"]);

    let page1 = source.executions(query(None, None, 3)).await.expect("page 1");
    assert_eq!(names(&page1), ["inv-3", "photo-1", "inv-2"]);
    let page2 = source
        .executions(ExecutionQuery { next_token: page1.next_token.clone(), ..query(None, None, 3) })
        .await
        .expect("page 2");
    assert_eq!((names(&page2), page2.next_token), (vec!["inv-1".to_owned()], None));

    let searched = source
        .executions(ExecutionQuery { name_contains: Some("PHOTO".into()), ..query(None, None, 10) })
        .await
        .expect("search");
    assert_eq!(names(&searched), ["photo-1"], "case-insensitive, client-side");

    let bad = source.executions(ExecutionQuery { next_token: Some("garbage".into()), ..query(None, None, 3) }).await;
    assert!(matches!(bad, Err(SourceError::Invalid(_))), "{bad:?}");
}

#[tokio::test]
async fn an_execution_has_its_definition_and_history_in_the_apis_shape() {
    let stack = create_stack().await;
    let source = source(&stack).await;
    let machine = source.discovered().machines[0].arn.clone();
    let arn = start(&stack.config, &machine, &["detail"]).await.remove(0);
    let detail = source.execution(&arn).await.expect("execution");
    assert_eq!((detail.summary.name.as_str(), detail.summary.status), ("detail", Status::Running));
    assert_eq!(detail.input.as_deref(), Some(r#"{"key":"invoices/u/1.pdf"}"#));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&detail.definition).ok(),
        serde_json::from_str(DEFINITION).ok()
    );
    // moto answers a canned history; its shape is what the pages read.
    assert!(!detail.history.is_empty());
    for (i, event) in detail.history.iter().enumerate() {
        assert!(event["id"].is_i64() && event["previousEventId"].is_i64(), "{event}");
        assert!(event["type"].is_string() && event["timestamp"].is_f64(), "{event}");
        if i > 0 {
            assert!(event["id"].as_i64() > detail.history[i - 1]["id"].as_i64(), "oldest first");
        }
    }
    assert_eq!(detail.history[0]["type"], "ExecutionStarted");
    assert!(detail.history[0]["executionStartedEventDetails"]["input"].is_string());
    let entered = detail.history.iter().find(|e| e.get("stateEnteredEventDetails").is_some()).expect("a state entered");
    assert!(entered["stateEnteredEventDetails"]["name"].is_string());
    assert_eq!(entered["stateEnteredEventDetails"]["inputDetails"], json!({"truncated": false}));

    let missing = arn.replace(":detail", ":no-such-execution");
    assert!(matches!(source.execution(&missing).await, Err(SourceError::NotFound(_))));
}

#[tokio::test]
async fn stopping_aborts_a_running_execution_and_a_closed_one_cannot_be_stopped_again() {
    let stack = create_stack().await;
    let source = source(&stack).await;
    let machine = source.discovered().machines[1].arn.clone();
    let arn = start(&stack.config, &machine, &["to-stop"]).await.remove(0);
    let stopped = source.stop(&arn, Some("Operator".into()), Some("stuck".into())).await.expect("stop");
    assert_eq!(stopped.status, Status::Aborted);
    assert!(stopped.stop_date.is_some());
    let again = source.stop(&arn, None, None).await;
    assert!(matches!(again, Err(SourceError::Invalid(_))), "{again:?}");
    // A running execution cannot be redriven; moto has no RedriveExecution for the aborted one.
    let running = start(&stack.config, &machine, &["running"]).await.remove(0);
    assert!(matches!(source.redrive(&running).await, Err(SourceError::Invalid(_))));
}

#[tokio::test]
async fn dead_letters_show_the_original_event_the_error_and_what_failed() {
    let stack = create_stack().await;
    let source = source(&stack).await;
    let sqs = aws_sdk_sqs::Client::new(&stack.config);
    let url = |logical: &str| {
        source.discovered().queues.iter().find(|q| q.logical_id == logical).map(|q| q.url.clone()).expect("queue")
    };
    let photo_event = json!({"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "photos"},
        "object": {"key": "photos/u/cat.jpg", "size": 12}}}]});
    let record = json!({
        "version": "1.0", "timestamp": "2024-01-01T00:00:00Z",
        "requestContext": {"requestId": "req-42", "condition": "RetriesExhausted", "approximateInvokeCount": 3,
            "functionArn": format!("arn:aws:lambda:us-east-1:123456789012:function:{}-ResizePhotoFunction:$LATEST", stack.name)},
        "requestPayload": photo_event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorType": "CorruptImage", "errorMessage": "not a JPEG"}
    });
    sqs.send_message().queue_url(url("DeadLetterQueue")).message_body(record.to_string()).send().await.expect("send");
    let task_event = json!({"version": "0", "id": "e-1", "source": "task-platform", "detail-type": "TaskCompleted",
        "detail": {"task_id": "t-1"}});
    let string = |v: &str| MessageAttributeValue::builder().data_type("String").string_value(v).build().expect("attr");
    sqs.send_message()
        .queue_url(url("TaskEventsDeadLetterQueue"))
        .message_body(task_event.to_string())
        .message_attributes("RULE_ARN", string("arn:aws:events:us-east-1:123456789012:rule/bus/Done"))
        .message_attributes("TARGET_ARN", string("arn:aws:lambda:us-east-1:123456789012:function:Notify"))
        .message_attributes("ERROR_CODE", string("SDK_CLIENT_ERROR"))
        .message_attributes("ERROR_MESSAGE", string("Unable to invoke Lambda"))
        .send()
        .await
        .expect("send");

    let queues = source.dead_letters(20).await.expect("dead letters");
    assert_eq!(queues.len(), 2);
    let lambda = &queues[0];
    assert_eq!(
        (lambda.logical_id.as_str(), lambda.approximate_count, lambda.messages.len()),
        ("DeadLetterQueue", 1, 1)
    );
    assert!(lambda.arn.starts_with("arn:aws:sqs:us-east-1:") && lambda.arn.ends_with("-DeadLetterQueue"));
    let letter = &lambda.messages[0];
    assert_eq!(letter.original_event.as_ref(), Some(&photo_event));
    assert_eq!(letter.error.as_deref(), Some("CorruptImage: not a JPEG"));
    assert_eq!(letter.request_id.as_deref(), Some("req-42"));
    assert!(letter.failed_target.as_deref().is_some_and(|t| t.ends_with("-ResizePhotoFunction")), "{letter:?}");
    assert!(letter.receive_count >= 1, "reading is receiving: {letter:?}");
    assert!(letter.sent.year() >= 2024);

    let events = &queues[1];
    let letter = &events.messages[0];
    assert_eq!(letter.original_event.as_ref(), Some(&task_event));
    assert_eq!(letter.error.as_deref(), Some("SDK_CLIENT_ERROR: Unable to invoke Lambda"));
    assert_eq!(letter.failed_target.as_deref(), Some("arn:aws:lambda:us-east-1:123456789012:function:Notify"));
    assert!(letter.attributes.iter().any(|(k, v)| k == "RULE_ARN" && v.ends_with("rule/bus/Done")));

    let redrive = source.redrive_dead_letter(&lambda.arn, &lambda.messages[0].message_id).await;
    assert!(matches!(redrive, Err(SourceError::Unsupported(_))), "{redrive:?}");
    let unknown = source.redrive_dead_letter("arn:aws:sqs:us-east-1:1:not-ours", "m").await;
    assert!(matches!(unknown, Err(SourceError::NotFound(_))), "{unknown:?}");
}

#[tokio::test]
async fn measurements_come_from_cloudwatch_and_what_aws_lacks_is_unsupported() {
    let stack = create_stack().await;
    let source = source(&stack).await;
    let cw = aws_sdk_cloudwatch::Client::new(&stack.config);
    let function = format!("{}-ResizePhotoFunction", stack.name);
    let datum = |metric: &str, dimension: (&str, &str), values: &[f64]| {
        MetricDatum::builder()
            .metric_name(metric)
            .dimensions(Dimension::builder().name(dimension.0).value(dimension.1).build())
            .set_values(Some(values.to_vec()))
            .set_counts(Some(vec![1.0; values.len()]))
            .timestamp(CwDateTime::from(std::time::SystemTime::now()))
            .build()
    };
    let put = cw
        .put_metric_data()
        .namespace("AWS/Lambda")
        .metric_data(datum("Invocations", ("FunctionName", &function), &[1.0, 1.0, 1.0, 1.0]))
        .metric_data(datum("Errors", ("FunctionName", &function), &[1.0]))
        .metric_data(datum("Duration", ("FunctionName", &function), &[100.0, 200.0, 300.0, 400.0]))
        .send()
        .await;
    if put.is_err() {
        // aws-sdk-cloudwatch speaks Smithy RPC v2 CBOR, which moto_server (5.2) does not route: every CloudWatch
        // request gets a 404. Then the cost page must say CloudWatch failed, not show zeros as if nothing ran.
        let err = source.measurements().await.expect_err("CloudWatch is not there");
        assert!(matches!(&err, SourceError::Unavailable(m) if m.starts_with("cloudwatch")), "{err:?}");
        assert_unsupported_parts(&source).await;
        return;
    }
    cw.put_metric_data()
        .namespace("TaskPlatform")
        .metric_data(datum("InvoicesStored", ("service", "task-platform"), &[1.0, 2.0]))
        .metric_data(datum("ColdStart", ("service", "task-platform"), &[1.0]))
        .send()
        .await
        .expect("EMF metrics");

    let m = source.measurements().await.expect("measurements");
    let usage = m.functions.iter().find(|f| f.function == "ResizePhotoFunction").expect("the stack's function");
    assert_eq!((usage.invocations, usage.errors, usage.memory_mb), (4, 1, 1024));
    // 4 invocations × 250 ms average × 1 GB.
    assert!((usage.gb_seconds - 1.0).abs() < 1e-9, "{usage:?}");
    let count = |name: &str| m.counts.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
    assert_eq!((count("InvoicesStored"), count("ColdStart")), (Some(3.0), Some(1.0)));
    assert!(m.metric_series >= 2);
    assert!(m.state_transitions.is_empty(), "not a CloudWatch metric");
    assert!(m.since.is_some());

    assert_unsupported_parts(&source).await;
}

async fn assert_unsupported_parts(source: &AwsSource) {
    assert!(matches!(source.mail().await, Err(SourceError::Unsupported(_))));
    assert!(matches!(source.mail_raw("m").await, Err(SourceError::Unsupported(_))));
    assert!(matches!(source.pipelines().await, Err(SourceError::Unsupported(_))));
    assert!(matches!(source.logs("req-42").await, Err(SourceError::Unsupported(_))));
    assert!(source.subscribe().is_none());
}

#[tokio::test]
async fn without_a_stack_every_machine_and_dead_letter_named_queue_of_the_region_is_found() {
    let stack = create_stack().await;
    let source = AwsSource::discover(&stack.config, None).await.expect("region");
    let found = source.discovered();
    assert!(found.machines.iter().any(|m| m.name == format!("{}-PhotoStateMachine", stack.name)));
    let names: Vec<_> = found.queues.iter().map(|q| q.name.as_str()).collect();
    assert!(names.contains(&format!("{}-DeadLetterQueue", stack.name).as_str()), "{names:?}");
    assert!(!names.contains(&format!("{}-WorkQueue", stack.name).as_str()), "{names:?}");
    assert_eq!(source.label(), "AWS account 123456789012 in us-east-1");
}

#[tokio::test]
async fn the_console_serves_its_pages_for_a_deployed_stack() {
    let stack = create_stack().await;
    let source = source(&stack).await;
    let machine = source.discovered().machines[0].arn.clone();
    let execution = start(&stack.config, &machine, &["served"]).await.remove(0);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let addr = listener.local_addr().expect("address");
    let app = local_console::router(std::sync::Arc::new(source));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("http://{addr}{path}")).send();
    let home = get("/_console/").await.expect("executions page");
    assert_eq!(home.status(), 200);
    let html = home.text().await.expect("html");
    assert!(html.contains(&format!("AWS stack {}", stack.name)), "the label is in the header");
    assert!(html.contains("served"), "the execution is listed");
    assert!(html.contains("id=\"list-limits\"") && html.contains("newest 1000"), "the page says what AWS cannot list");
    let res = get(&format!("/_console/executions/{}", execution)).await.expect("execution page");
    assert_eq!(res.status(), 200);
    let res = get("/_console/dead-letters").await.expect("dead letters page");
    assert_eq!(res.status(), 200);
    // 200 where CloudWatch answers; against moto (no CloudWatch for this SDK's protocol) the error, as a page.
    let res = get("/_console/cost").await.expect("cost page");
    assert!(res.status() == 200 || res.status() == 502, "{}", res.status());
    assert!(res.text().await.expect("html").contains("AWS stack"), "rendered in the layout");
    server.abort();
}

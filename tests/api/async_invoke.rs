//! Lambda's asynchronous invocation on the stack: an event that fails every attempt is retried as the function's
//! `EventInvokeConfig` says, then lands in its dead-letter queue (the event, with Lambda's attributes) and its
//! on-failure destination (an invocation record), where the real SQS SDK reads them; and an event queued by a
//! stack that stopped is run by the next one.

use local::{
    StackConfig,
    local_core::{BoxFuture, invoke::EventInvoker},
    local_lambda::{FunctionError, Handler},
};
use serde_json::{Value, json};
use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};
use system_tests::{TestApp, repo_root, sdk_config, spawn_stack};

/// Records the events it gets; fails them all when `fail` is set.
#[derive(Default)]
pub struct Recorder {
    pub fail: bool,
    pub calls: AtomicU32,
    pub events: Mutex<Vec<Value>>,
}

impl Handler for Recorder {
    fn call(&self, event: Value) -> BoxFuture<'_, Result<Value, FunctionError>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.events.lock().unwrap().push(event);
            if self.fail { Err(FunctionError::new("Broken", "this function always fails")) } else { Ok(json!(null)) }
        })
    }
}

/// The stack of `tests/templates/async.yaml` with its two functions' handlers, retrying after 20 ms.
pub async fn async_app(dir: tempfile::TempDir) -> (TestApp, Arc<Recorder>, Arc<Recorder>) {
    async_app_retrying_after(dir, Duration::from_millis(20)).await
}

pub async fn async_app_retrying_after(
    dir: tempfile::TempDir,
    delay: Duration,
) -> (TestApp, Arc<Recorder>, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let failing = Arc::new(Recorder { fail: true, ..Default::default() });
    let mut config = StackConfig::new(repo_root().join("tests/templates/async.yaml"), dir.path());
    config.async_retry_delay = delay;
    config.extra_handlers.0.insert("test-recorder".into(), recorder.clone());
    config.extra_handlers.0.insert("test-always-fails".into(), failing.clone());
    (spawn_stack(config, dir).await, recorder, failing)
}

pub fn sqs(app: &TestApp) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::from_conf(sdk_config!(aws_sdk_sqs, app, "test"))
}

/// The first message of queue `name`, waiting up to 10 s.
pub async fn receive_one(app: &TestApp, name: &str) -> aws_sdk_sqs::types::Message {
    let sqs = sqs(app);
    let url = sqs.get_queue_url().queue_name(name).send().await.unwrap().queue_url().unwrap().to_owned();
    for _ in 0..10 {
        let r = sqs
            .receive_message()
            .queue_url(&url)
            .wait_time_seconds(1)
            .message_attribute_names("All")
            .send()
            .await
            .unwrap();
        if let Some(m) = r.messages().first() {
            return m.clone();
        }
    }
    panic!("nothing arrived in {name}");
}

#[tokio::test]
async fn an_event_that_always_fails_is_retried_then_dead_lettered_and_recorded_as_a_failure() {
    let (app, _, failing) = async_app(tempfile::tempdir().unwrap()).await;
    let event = json!({"source": "test", "n": 1});
    let request_id = app.stack.async_invoker().invoke_async("AlwaysFails", event.clone()).await.unwrap();

    let dead = receive_one(&app, "failures").await;
    assert_eq!(serde_json::from_str::<Value>(dead.body().unwrap()).unwrap(), event);
    let attributes = dead.message_attributes().unwrap();
    assert_eq!(attributes["RequestID"].string_value(), Some(request_id.as_str()));
    assert_eq!(attributes["ErrorMessage"].string_value(), Some("this function always fails"));
    assert_eq!(failing.calls.load(Ordering::SeqCst), 2, "one attempt and MaximumRetryAttempts: 1 retry");

    let record: Value = serde_json::from_str(receive_one(&app, "failure-records").await.body().unwrap()).unwrap();
    assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
    assert_eq!(
        record["requestContext"]["functionArn"],
        "arn:aws:lambda:us-east-1:123456789012:function:AlwaysFails:$LATEST"
    );
    assert_eq!(record["requestPayload"], event);
    assert_eq!(record["responsePayload"]["errorType"], "Broken");
}

#[tokio::test]
async fn an_event_waiting_for_its_retry_when_the_stack_stopped_is_retried_by_the_next_stack() {
    // The first stack would wait an hour before the retry: it stops while the event waits.
    let (app, _, failing) = async_app_retrying_after(tempfile::tempdir().unwrap(), Duration::from_secs(3600)).await;
    app.stack.async_invoker().invoke_async("AlwaysFails", json!({"k": "v"})).await.unwrap();
    while failing.calls.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let dir = app.stop().await;
    assert_eq!(std::fs::read_dir(dir.path().join("lambda/async")).unwrap().count(), 1, "the event is still queued");

    let (app, _, failing_again) = async_app(dir).await;
    let dead = receive_one(&app, "failures").await;
    assert_eq!(dead.body(), Some(r#"{"k":"v"}"#));
    assert_eq!(failing_again.calls.load(Ordering::SeqCst), 1, "the next stack made the one retry left");
}

//! Engine behaviour that the data-driven conformance files cannot express:
//! history shape, event sinks, aborts, real timeouts, concurrency, and the
//! embedder-facing API.

use serde_json::{Value, json};
use states::{
    AbortHandle, HistoryEvent, MockInvoker, NoTasks, RunOptions, StateMachine, Status, TaskContext, TaskError,
    TaskInvoker, TokioClock, VirtualClock, apply_substitutions, run, validate,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn machine(v: Value) -> StateMachine {
    StateMachine::from_value(&v).expect("valid definition")
}

fn history_opts() -> RunOptions {
    RunOptions { execution_name: Some("t".into()), record_history: true, ..Default::default() }
}

fn types(h: &[HistoryEvent]) -> Vec<&str> {
    h.iter().map(|e| e.event_type.as_str()).collect()
}

/// Sleeps for the number of seconds in the input's `sleep` field, then echoes it.
struct Sleeper {
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Sleeper {
    fn new() -> Self {
        Self { in_flight: AtomicUsize::new(0), max_in_flight: AtomicUsize::new(0) }
    }
}

impl TaskInvoker for Sleeper {
    async fn invoke(&self, _resource: &str, input: Value, _ctx: &TaskContext) -> Result<Value, TaskError> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let secs = input.get("sleep").and_then(Value::as_u64).unwrap_or(0);
        tokio::time::sleep(Duration::from_secs(secs)).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        Ok(input)
    }
}

const L: &str = "arn:aws:lambda:us-east-1:123456789012:function:f";

#[tokio::test]
async fn a_pass_chain_history_has_entered_and_exited_events_linked_by_previous_ids() {
    let m = machine(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": true}}}),
    );
    let out = run(&m, json!({"x": 1}), &NoTasks, &VirtualClock::fixed(), history_opts()).await;
    let h = out.history.expect("history kept");
    assert_eq!(
        types(&h),
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    for (i, e) in h.iter().enumerate() {
        assert_eq!(e.id, i as u64 + 1);
        assert_eq!(e.previous_event_id, i as u64);
    }
    let j = serde_json::to_value(&h).expect("serialise");
    assert_eq!(j[0]["executionStartedEventDetails"]["input"], "{\"x\":1}");
    assert_eq!(j[1]["stateEnteredEventDetails"]["name"], "A");
    assert_eq!(j[2]["stateExitedEventDetails"]["output"], "{\"x\":1}");
    assert_eq!(j[1]["previousEventId"], 1);
    assert_eq!(j[5]["executionSucceededEventDetails"]["output"], "{\"x\":1}");
    assert_eq!(j[0]["timestamp"], "2024-01-01T00:00:00Z");
}

#[tokio::test]
async fn a_task_history_reports_scheduled_started_and_failed_with_error_and_cause() {
    let m =
        machine(json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f", "Payload.$": "$"}, "End": true}}}));
    let mock = MockInvoker::from_value(&json!({"T": {"Throw": {"Error": "Oops", "Cause": "c"}}})).expect("mock");
    let out = run(&m, json!({}), &mock, &VirtualClock::fixed(), history_opts()).await;
    let h = out.history.expect("history kept");
    assert_eq!(
        types(&h),
        ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskFailed", "ExecutionFailed"]
    );
    let j = serde_json::to_value(&h).expect("serialise");
    assert_eq!(j[2]["taskScheduledEventDetails"]["resourceType"], "lambda");
    assert_eq!(j[2]["taskScheduledEventDetails"]["resource"], "invoke");
    assert_eq!(j[2]["taskScheduledEventDetails"]["parameters"], "{\"FunctionName\":\"f\",\"Payload\":{}}");
    assert_eq!(j[4]["taskFailedEventDetails"]["error"], "Oops");
    assert_eq!(j[5]["executionFailedEventDetails"]["cause"], "c");
}

#[tokio::test]
async fn map_and_parallel_histories_have_their_started_and_iteration_events() {
    let m = machine(json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Next": "M", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": [1, 2], "End": true}}}]},
        "M": {"Type": "Map", "ItemsPath": "$[0]", "End": true, "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}}}}));
    let out = run(&m, json!({}), &NoTasks, &VirtualClock::fixed(), history_opts()).await;
    assert_eq!(out.output, Some(json!([1, 2])));
    let h = out.history.expect("history kept");
    let t = types(&h);
    for want in [
        "ParallelStateEntered",
        "ParallelStateStarted",
        "ParallelStateSucceeded",
        "ParallelStateExited",
        "MapStateEntered",
        "MapStateStarted",
        "MapIterationStarted",
        "MapIterationSucceeded",
        "MapStateSucceeded",
        "MapStateExited",
    ] {
        assert!(t.contains(&want), "missing {want} in {t:?}");
    }
    let j = serde_json::to_value(&h).expect("serialise");
    let started = j.as_array().and_then(|a| a.iter().find(|e| e["type"] == "MapStateStarted")).expect("map started");
    assert_eq!(started["mapStateStartedEventDetails"]["length"], 2);
    let iter = j.as_array().and_then(|a| a.iter().find(|e| e["type"] == "MapIterationStarted")).expect("iteration");
    assert_eq!(iter["mapIterationStartedEventDetails"]["name"], "M");
}

#[tokio::test]
async fn a_sink_sees_every_event_as_it_happens() {
    let m = machine(
        json!({"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": 5, "Next": "B"}, "B": {"Type": "Pass", "End": true}}}),
    );
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let s2 = seen.clone();
    let sink = move |e: &HistoryEvent| s2.lock().expect("lock").push(e.event_type.clone());
    let opts = RunOptions { sink: Some(Arc::new(sink)), ..Default::default() };
    let out = run(&m, json!({}), &NoTasks, &VirtualClock::fixed(), opts).await;
    assert_eq!(out.status, Status::Succeeded);
    assert!(out.history.is_none());
    assert_eq!(seen.lock().expect("lock").len(), 6);
}

#[tokio::test]
async fn assigned_variables_appear_in_the_state_exited_event() {
    let m = machine(json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Assign": {"x": 1}, "End": true}}}));
    let out = run(&m, json!({}), &NoTasks, &VirtualClock::fixed(), history_opts()).await;
    let j = serde_json::to_value(out.history.expect("history")).expect("serialise");
    assert_eq!(j[2]["stateExitedEventDetails"]["assignedVariables"]["x"], "1");
    assert_eq!(j[2]["stateExitedEventDetails"]["assignedVariablesDetails"]["truncated"], false);
}

#[tokio::test(start_paused = true)]
async fn aborting_stops_a_waiting_execution_with_status_aborted() {
    let m = machine(json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}}));
    let abort = AbortHandle::new();
    let a2 = abort.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        a2.abort();
    });
    let opts = RunOptions { abort: Some(abort), record_history: true, ..Default::default() };
    let out = run(&m, json!({}), &NoTasks, &TokioClock, opts).await;
    assert_eq!(out.status, Status::Aborted);
    assert_eq!(out.history.expect("history").last().map(|e| e.event_type.clone()).as_deref(), Some("ExecutionAborted"));
}

#[tokio::test]
async fn an_execution_aborted_before_it_starts_runs_no_state() {
    let m = machine(json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": L, "End": true}}}));
    let mock = MockInvoker::from_value(&json!({"T": {"Return": 1}})).expect("mock");
    let abort = AbortHandle::new();
    abort.abort();
    let out =
        run(&m, json!({}), &mock, &VirtualClock::fixed(), RunOptions { abort: Some(abort), ..Default::default() })
            .await;
    assert_eq!(out.status, Status::Aborted);
    assert_eq!(mock.calls("T"), 0);
}

#[tokio::test(start_paused = true)]
async fn a_task_slower_than_its_timeout_fails_with_states_timeout() {
    let m = machine(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": L, "TimeoutSeconds": 2, "End": true}}}),
    );
    let out = run(&m, json!({"sleep": 10}), &Sleeper::new(), &TokioClock, history_opts()).await;
    assert_eq!(out.status, Status::Failed);
    assert_eq!(out.error.as_deref(), Some("States.Timeout"));
    assert!(types(&out.history.expect("history")).contains(&"LambdaFunctionTimedOut"));
}

#[tokio::test(start_paused = true)]
async fn states_task_failed_does_not_catch_a_timeout_but_states_timeout_does() {
    let m = machine(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": L, "TimeoutSeconds": 1, "End": true,
              "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Wrong"}, {"ErrorEquals": ["States.Timeout"], "Next": "Right"}]},
        "Wrong": {"Type": "Pass", "Result": "wrong", "End": true}, "Right": {"Type": "Pass", "Result": "right", "End": true}}}));
    let out = run(&m, json!({"sleep": 5}), &Sleeper::new(), &TokioClock, RunOptions::default()).await;
    assert_eq!(out.output, Some(json!("right")));
}

#[tokio::test(start_paused = true)]
async fn a_task_within_its_timeout_succeeds() {
    let m = machine(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": L, "TimeoutSeconds": 20, "End": true}}}),
    );
    let out = run(&m, json!({"sleep": 10}), &Sleeper::new(), &TokioClock, RunOptions::default()).await;
    assert_eq!(out.status, Status::Succeeded);
}

#[tokio::test(start_paused = true)]
async fn an_execution_timeout_stops_a_running_task_with_timed_out() {
    let m = machine(
        json!({"TimeoutSeconds": 3, "StartAt": "T", "States": {"T": {"Type": "Task", "Resource": L, "End": true}}}),
    );
    let out = run(&m, json!({"sleep": 100}), &Sleeper::new(), &TokioClock, RunOptions::default()).await;
    assert_eq!(out.status, Status::TimedOut);
    let j = serde_json::to_value(&out).expect("serialise");
    assert_eq!(j["status"], "TIMED_OUT");
}

#[tokio::test(start_paused = true)]
async fn map_max_concurrency_bounds_the_tasks_in_flight() {
    let m = machine(json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 2, "End": true,
        "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": L, "End": true}}}}}}));
    let s = Sleeper::new();
    let items: Vec<Value> = (0..6).map(|_| json!({"sleep": 1})).collect();
    let out = run(&m, Value::Array(items), &s, &TokioClock, RunOptions::default()).await;
    assert_eq!(out.status, Status::Succeeded);
    assert_eq!(s.max_in_flight.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn parallel_branches_run_concurrently() {
    let branch = |name: &str| json!({"StartAt": name, "States": {name: {"Type": "Task", "Resource": L, "End": true}}});
    let m = machine(
        json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [branch("T1"), branch("T2")]}}}),
    );
    let s = Sleeper::new();
    let start = tokio::time::Instant::now();
    let out = run(&m, json!({"sleep": 10}), &s, &TokioClock, RunOptions::default()).await;
    assert_eq!(out.status, Status::Succeeded);
    assert_eq!(s.max_in_flight.load(Ordering::SeqCst), 2);
    assert!(start.elapsed() < Duration::from_secs(15));
}

#[tokio::test]
async fn full_jitter_never_waits_longer_than_the_nominal_backoff() {
    let m = machine(json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": L, "End": true,
        "Retry": [{"ErrorEquals": ["B"], "IntervalSeconds": 4, "MaxAttempts": 3, "JitterStrategy": "FULL"}]}}}));
    let boom = json!({"Throw": {"Error": "B", "Cause": ""}});
    let mock = MockInvoker::from_value(&json!({"T": [boom.clone(), boom.clone(), boom, {"Return": 1}]})).expect("mock");
    let clock = VirtualClock::fixed();
    let out = run(&m, json!({}), &mock, &clock, RunOptions::default()).await;
    assert_eq!(out.status, Status::Succeeded);
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 3);
    for (s, max) in sleeps.iter().zip([4.0, 8.0, 16.0]) {
        assert!(s.as_secs_f64() <= max, "{s:?} > {max}");
    }
}

#[tokio::test]
async fn lambda_invoke_passes_function_name_and_payload_to_the_invoker() {
    let m = machine(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "create-task", "Payload.$": "$.body"}, "OutputPath": "$.Payload", "End": true}}}),
    );
    let mock =
        MockInvoker::from_value(&json!({"T": {"Return": {"StatusCode": 200, "Payload": {"id": 1}}}})).expect("mock");
    let out = run(&m, json!({"body": {"title": "x"}}), &mock, &VirtualClock::fixed(), RunOptions::default()).await;
    assert_eq!(out.output, Some(json!({"id": 1})));
    assert_eq!(
        mock.invocations(),
        vec![("T".to_string(), json!({"FunctionName": "create-task", "Payload": {"title": "x"}}))]
    );
}

/// Fails with whatever error name the "handler" picked.
struct Handler;
impl TaskInvoker for Handler {
    async fn invoke(&self, _r: &str, input: Value, ctx: &TaskContext) -> Result<Value, TaskError> {
        assert_eq!(ctx.state_name, "T");
        Err(TaskError::new(input["error"].as_str().unwrap_or("X"), "from handler"))
    }
}

#[tokio::test]
async fn a_function_error_surfaces_with_the_handlers_error_name_for_catch() {
    let m = machine(json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": L, "End": true,
        "Catch": [{"ErrorEquals": ["ValidationError"], "Next": "H"}]}, "H": {"Type": "Pass", "End": true}}}));
    let out =
        run(&m, json!({"error": "ValidationError"}), &Handler, &VirtualClock::fixed(), RunOptions::default()).await;
    assert_eq!(out.output, Some(json!({"Error": "ValidationError", "Cause": "from handler"})));
}

#[tokio::test]
async fn an_outcome_serialises_to_status_and_output_or_error_and_cause() {
    let ok = machine(json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": {"a": 1}, "End": true}}}));
    let out = run(&ok, json!({}), &NoTasks, &VirtualClock::fixed(), RunOptions::default()).await;
    assert_eq!(serde_json::to_value(&out).expect("json"), json!({"status": "SUCCEEDED", "output": {"a": 1}}));
    let bad = machine(json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}));
    let out = run(&bad, json!({}), &NoTasks, &VirtualClock::fixed(), RunOptions::default()).await;
    assert_eq!(serde_json::to_value(&out).expect("json"), json!({"status": "FAILED", "error": "E", "cause": "C"}));
}

#[tokio::test]
async fn an_endless_loop_is_stopped_by_the_transition_limit() {
    let m = machine(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}}}),
    );
    let opts = RunOptions { max_transitions: Some(100), ..Default::default() };
    let out = run(&m, json!({}), &NoTasks, &VirtualClock::fixed(), opts).await;
    assert_eq!(out.status, Status::Failed);
    assert_eq!(out.error.as_deref(), Some("States.Runtime"));
}

#[tokio::test]
async fn a_run_future_can_be_spawned_on_a_multithreaded_runtime() {
    let m = Arc::new(machine(json!({"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": 0, "End": true}}})));
    let handle = tokio::spawn(async move { run(&m, json!(1), &NoTasks, &TokioClock, RunOptions::default()).await });
    let out = handle.await.expect("join");
    assert_eq!(out.output, Some(json!(1)));
}

#[test]
fn validation_problems_name_the_state_and_the_field() {
    let problems =
        validate(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nope"}}}"#).expect_err("invalid");
    assert_eq!(problems.len(), 1);
    let text = problems[0].to_string();
    assert!(text.contains("state 'A'") && text.contains("field 'Next'") && text.contains("/States/A/Next"), "{text}");
}

#[test]
fn invalid_json_is_a_problem_not_a_panic() {
    let problems = validate("{not json").expect_err("invalid");
    assert!(problems[0].message.contains("not valid JSON"));
}

#[test]
fn definition_substitutions_replace_placeholders() {
    let vals = HashMap::from([("Fn".to_string(), "arn:aws:lambda:us-east-1:1:function:x".to_string())]);
    let def = apply_substitutions(r#"{"Resource": "${Fn}", "Other": "${Fn}"}"#, &vals).expect("substituted");
    assert_eq!(
        def,
        r#"{"Resource": "arn:aws:lambda:us-east-1:1:function:x", "Other": "arn:aws:lambda:us-east-1:1:function:x"}"#
    );
    assert!(apply_substitutions("${Missing}", &vals).is_err());
    assert!(apply_substitutions("${Unclosed", &vals).is_err());
}

#[test]
fn a_malformed_mock_config_is_an_error_value() {
    assert!(MockInvoker::from_json("[1]").is_err());
    assert!(MockInvoker::from_json(r#"{"S": {"Nope": 1}}"#).is_err());
    assert!(MockInvoker::from_json(r#"{"S": {"0": {"Return": 1}, "2": {"Return": 2}}}"#).is_err());
    assert!(MockInvoker::from_json("nope").is_err());
}

#[tokio::test]
async fn a_mock_sequence_repeats_its_last_response() {
    let mock = MockInvoker::from_value(&json!({"S": [{"Return": 1}, {"Return": 2}]})).expect("mock");
    let ctx = TaskContext { state_name: "S".into(), ..Default::default() };
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(mock.invoke("r", json!({}), &ctx).await.expect("ok"));
    }
    assert_eq!(got, [json!(1), json!(2), json!(2)]);
}

/// Works for `work` seconds, sending a heartbeat every `beat` seconds (0 = never).
struct Worker;
impl TaskInvoker for Worker {
    async fn invoke(&self, _r: &str, input: Value, ctx: &TaskContext) -> Result<Value, TaskError> {
        let work = input["work"].as_u64().unwrap_or(0);
        let beat = input["beat"].as_u64().unwrap_or(0);
        let mut done = 0;
        while done < work {
            let step = if beat == 0 { work } else { beat.min(work - done) };
            tokio::time::sleep(Duration::from_secs(step)).await;
            done += step;
            if beat != 0 {
                ctx.heartbeat.beat();
            }
        }
        Ok(json!("worked"))
    }
}

#[tokio::test(start_paused = true)]
async fn a_task_that_keeps_sending_heartbeats_may_run_longer_than_heartbeat_seconds() {
    let m = machine(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": L, "HeartbeatSeconds": 5, "End": true}}}),
    );
    let out = run(&m, json!({"work": 30, "beat": 2}), &Worker, &TokioClock, RunOptions::default()).await;
    assert_eq!(out.output, Some(json!("worked")), "{out:?}");
}

#[tokio::test(start_paused = true)]
async fn a_task_that_sends_no_heartbeat_fails_with_heartbeat_timeout_which_states_timeout_catches() {
    let m = machine(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": L, "HeartbeatSeconds": 5, "End": true,
              "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Wrong"}, {"ErrorEquals": ["States.Timeout"], "Next": "Right"}]},
        "Wrong": {"Type": "Pass", "End": true}, "Right": {"Type": "Pass", "End": true}}}));
    let out = run(&m, json!({"work": 30, "beat": 0}), &Worker, &TokioClock, RunOptions::default()).await;
    assert_eq!(out.output.as_ref().and_then(|o| o.get("Error")), Some(&json!("States.HeartbeatTimeout")), "{out:?}");
}

#[tokio::test]
async fn a_task_result_over_the_payload_limit_fails_with_data_limit_exceeded_that_states_all_cannot_catch() {
    let m = machine(json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": L, "End": true,
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}]}, "H": {"Type": "Pass", "End": true}}}));
    let big = "x".repeat(300 * 1024);
    let mock = MockInvoker::from_value(&json!({"T": {"Return": big}})).expect("mock");
    let out = run(&m, json!({}), &mock, &VirtualClock::fixed(), RunOptions::default()).await;
    assert_eq!(out.error.as_deref(), Some("States.DataLimitExceeded"));
    let unlimited = RunOptions { payload_limit_bytes: Some(usize::MAX), ..Default::default() };
    let out = run(&m, json!({}), &mock, &VirtualClock::fixed(), unlimited).await;
    assert_eq!(out.status, Status::Succeeded);
}

#[tokio::test(start_paused = true)]
async fn an_interrupted_execution_resumes_from_its_history_at_the_state_it_was_in() {
    let m = machine(json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Assign": {"who": "ann"}, "Result": {"sleep": 100}, "Next": "B"},
        "B": {"Type": "Task", "Resource": L, "Next": "C"},
        "C": {"Type": "Pass", "Parameters": {"who.$": "$who", "orig.$": "$$.Execution.Input"}, "End": true}}}));
    let events: Arc<Mutex<Vec<HistoryEvent>>> = Arc::default();
    let e2 = events.clone();
    let sink = move |e: &HistoryEvent| e2.lock().expect("lock").push(e.clone());
    let opts = RunOptions { execution_name: Some("r".into()), sink: Some(Arc::new(sink)), ..Default::default() };
    // The process "crashes" while B's task is running.
    let crashed =
        tokio::time::timeout(Duration::from_secs(10), run(&m, json!({"start": 1}), &Sleeper::new(), &TokioClock, opts))
            .await;
    assert!(crashed.is_err());
    let seen = events.lock().expect("lock").clone();
    let point = states::ResumePoint::from_history(&seen).expect("resumable");
    assert_eq!(point.state, "B");
    assert_eq!(point.input, json!({"sleep": 100}));
    assert_eq!(point.variables.get("who"), Some(&json!("ann")));
    let last = point.last_event_id;
    let mock = MockInvoker::from_value(&json!({"B": {"Return": 1}})).expect("mock");
    let opts = RunOptions { execution_name: Some("r".into()), record_history: true, ..Default::default() };
    let out = states::resume(&m, point, &mock, &VirtualClock::fixed(), opts).await;
    assert_eq!(out.output, Some(json!({"who": "ann", "orig": {"start": 1}})), "{out:?}");
    let h = out.history.expect("history");
    assert_eq!(h.first().map(|e| (e.id, e.event_type.as_str())), Some((last + 1, "TaskStateEntered")));
}

#[tokio::test(start_paused = true)]
async fn a_history_persisted_as_json_lines_reads_back_into_the_same_resume_point() {
    let m = machine(json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Assign": {"who": "ann"}, "Result": {"sleep": 100}, "Next": "B"},
        "B": {"Type": "Task", "Resource": L, "End": true}}}));
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let (events, l2) = (Arc::new(Mutex::new(Vec::<HistoryEvent>::new())), lines.clone());
    let e2 = events.clone();
    let sink = move |e: &HistoryEvent| {
        l2.lock().expect("lock").push(serde_json::to_string(e).expect("json"));
        e2.lock().expect("lock").push(e.clone());
    };
    let opts = RunOptions { execution_name: Some("p".into()), sink: Some(Arc::new(sink)), ..Default::default() };
    let crashed =
        tokio::time::timeout(Duration::from_secs(10), run(&m, json!({"start": 1}), &Sleeper::new(), &TokioClock, opts))
            .await;
    assert!(crashed.is_err());
    let read: Vec<HistoryEvent> = lines
        .lock()
        .expect("lock")
        .iter()
        .map(|l| serde_json::from_str(l).expect("a history line reads back"))
        .collect();
    assert_eq!(read, *events.lock().expect("lock"));
    let point = states::ResumePoint::from_history(&read).expect("resumable");
    assert_eq!((point.state.as_str(), point.variables.get("who")), ("B", Some(&json!("ann"))));
    assert_eq!(point.execution_input, json!({"start": 1}));
}

/// The persisted history of a run of `m` that stopped just after entering its
/// first Wait state, as the stack would have kept it, and when that was.
fn stopped_in_wait(m: &StateMachine, input: Value) -> (Vec<HistoryEvent>, time::OffsetDateTime) {
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("rt");
    let out = rt.block_on(run(m, input, &NoTasks, &VirtualClock::fixed(), history_opts()));
    let mut h = out.history.expect("history");
    let at = h.iter().position(|e| e.event_type == "WaitStateEntered").expect("the Wait was entered");
    h.truncate(at + 1);
    let entered = h[at].timestamp;
    (h, entered)
}

#[test]
fn a_wait_interrupted_by_a_restart_sleeps_only_the_time_it_had_left() {
    let m = machine(json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 86400, "End": true}}}));
    let (events, entered) = stopped_in_wait(&m, json!({"x": 1}));
    let point = states::ResumePoint::from_history(&events).expect("resumable");
    assert_eq!((point.state.as_str(), point.entered_time), ("W", Some(entered)));
    let last = point.last_event_id;
    // The stack comes back 23 hours into the day-long Wait.
    let clock = VirtualClock::new(entered + time::Duration::hours(23));
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("rt");
    let out = rt.block_on(states::resume(&m, point, &NoTasks, &clock, history_opts()));
    assert_eq!((out.status, out.output), (Status::Succeeded, Some(json!({"x": 1}))));
    assert_eq!(clock.sleeps(), [Duration::from_secs(3600)]);
    let h = out.history.expect("history");
    assert_eq!(types(&h), ["WaitStateEntered", "WaitStateExited", "ExecutionSucceeded"]);
    assert_eq!(h[0].id, last + 1);
}

#[test]
fn a_resumed_wait_whose_end_passed_while_the_stack_was_down_ends_without_sleeping() {
    let m = machine(json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "T"},
        "T": {"Type": "Wait", "Seconds": 5, "End": true}}}));
    let (events, entered) = stopped_in_wait(&m, json!({"delay": 60}));
    let point = states::ResumePoint::from_history(&events).expect("resumable");
    let clock = VirtualClock::new(entered + time::Duration::hours(2));
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("rt");
    let out = rt.block_on(states::resume(&m, point, &NoTasks, &clock, history_opts()));
    assert_eq!(out.status, Status::Succeeded, "{out:?}");
    // W's end is long past; the next Wait, entered after the restart, waits in full.
    assert_eq!(clock.sleeps(), [Duration::ZERO, Duration::from_secs(5)]);
}

#[test]
fn a_resumed_wait_for_a_timestamp_still_ends_at_that_timestamp() {
    let m = machine(json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Timestamp": "2024-01-02T00:00:00Z", "End": true}}}));
    let (events, entered) = stopped_in_wait(&m, json!({}));
    let point = states::ResumePoint::from_history(&events).expect("resumable");
    let clock = VirtualClock::new(entered + time::Duration::hours(20));
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("rt");
    let out = rt.block_on(states::resume(&m, point, &NoTasks, &clock, history_opts()));
    assert_eq!(out.status, Status::Succeeded, "{out:?}");
    assert_eq!(clock.elapsed(), Duration::from_secs(4 * 3600));
}

#[test]
fn a_finished_execution_has_no_resume_point() {
    let m = machine(json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}));
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("rt");
    let out = rt.block_on(run(&m, json!({}), &NoTasks, &VirtualClock::fixed(), history_opts()));
    assert_eq!(states::ResumePoint::from_history(&out.history.expect("history")), None);
}

#[test]
fn a_lambda_function_error_is_named_by_its_error_type_with_the_payload_as_cause() {
    let payload = json!({"errorType": "ValidationError", "errorMessage": "title is required"});
    let e = TaskError::lambda_function_error(&payload);
    assert_eq!(e.error, "ValidationError");
    assert_eq!(e.cause.as_deref().map(serde_json::from_str::<Value>).and_then(Result::ok), Some(payload));
}

#[tokio::test]
async fn a_lambda_function_arn_records_lambda_function_events() {
    let m = machine(json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": L, "End": true}}}));
    let mock = MockInvoker::from_value(&json!({"T": {"Return": {"ok": 1}}})).expect("mock");
    let out = run(&m, json!({"a": 1}), &mock, &VirtualClock::fixed(), history_opts()).await;
    let h = out.history.expect("history");
    assert_eq!(
        types(&h),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    let j = serde_json::to_value(&h).expect("serialise");
    assert_eq!(j[2]["lambdaFunctionScheduledEventDetails"]["resource"], L);
    assert_eq!(j[2]["lambdaFunctionScheduledEventDetails"]["input"], "{\"a\":1}");
    assert_eq!(j[4]["lambdaFunctionSucceededEventDetails"]["output"], "{\"ok\":1}");
}

#[tokio::test]
async fn a_closure_can_serve_as_the_task_invoker() {
    let m = machine(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:double", "End": true}}}),
    );
    let tasks = states::FnInvoker(|resource: String, input: Value, ctx: TaskContext| async move {
        assert!(resource.ends_with(":double"));
        assert_eq!(ctx.state_name, "T");
        Ok(json!(input["n"].as_i64().unwrap_or(0) * 2))
    });
    let out = run(&m, json!({"n": 21}), &tasks, &VirtualClock::fixed(), RunOptions::default()).await;
    assert_eq!(out.output, Some(json!(42)));
}

#[tokio::test]
async fn absurdly_long_waits_and_timeouts_do_not_overflow_the_clock() {
    let m = machine(
        json!({"TimeoutSeconds": 18446744073709551615u64, "StartAt": "W", "States": {"W": {"Type": "Wait", "SecondsPath": "$.s", "End": true}}}),
    );
    let out =
        run(&m, json!({"s": 18446744073709551615u64}), &NoTasks, &VirtualClock::fixed(), RunOptions::default()).await;
    assert_ne!(out.status, Status::Aborted);
}

#[tokio::test]
async fn a_cause_names_the_id_of_the_failing_states_entered_event_in_the_history() {
    // The failing state runs in the second branch of a Parallel after a
    // sibling branch has recorded events, so its id is not a simple count.
    let m = machine(json!({"StartAt": "Par", "States": {"Par": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "A1", "States": {"A1": {"Type": "Pass", "Next": "A2"}, "A2": {"Type": "Pass", "End": true}}},
        {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "Next": "Bad"},
                                     "Bad": {"Type": "Pass", "InputPath": "$.nope", "End": true}}}]}}}));
    let out = run(&m, json!({}), &NoTasks, &VirtualClock::fixed(), history_opts()).await;
    let h = out.history.expect("history");
    let entered = h
        .iter()
        .find(|e| matches!(&e.details, Some(states::EventDetails::StateEntered { name, .. }) if name == "Bad"))
        .expect("Bad was entered");
    assert_eq!(
        out.cause.as_deref(),
        Some(
            format!(
                "An error occurred while executing the state 'Bad' (entered at the event id #{}). \
                 Invalid path '$.nope' : No results for path: $['nope']",
                entered.id
            )
            .as_str()
        )
    );
}

#[tokio::test]
async fn a_task_error_and_a_fail_state_keep_their_cause_without_the_states_prefix() {
    let m = machine(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": true}}}));
    let mock = MockInvoker::from_value(&json!({"T": {"Throw": {"Error": "States.Runtime", "Cause": "from the task"}}}))
        .expect("mock");
    let out = run(&m, json!({}), &mock, &VirtualClock::fixed(), RunOptions::default()).await;
    assert_eq!(out.cause.as_deref(), Some("from the task"));
    let m = machine(
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "States.Runtime", "Cause": "as written"}}}),
    );
    let out = run(&m, json!({}), &NoTasks, &VirtualClock::fixed(), RunOptions::default()).await;
    assert_eq!(out.cause.as_deref(), Some("as written"));
}

#[tokio::test]
async fn a_caught_query_evaluation_error_carries_the_prefix_in_its_cause() {
    let m = machine(json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "Arguments": "{% $states.input.nope %}",
              "Catch": [{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "C"}], "End": true},
        "C": {"Type": "Pass", "End": true}}}));
    let out = run(&m, json!({}), &NoTasks, &VirtualClock::fixed(), RunOptions::default()).await;
    assert_eq!(
        out.output.as_ref().and_then(|o| o["Cause"].as_str()),
        Some(
            "An error occurred while executing the state 'T' (entered at the event id #2). The JSONata expression \
             '$states.input.nope' specified for the field 'Arguments' returned nothing (undefined)."
        )
    );
}

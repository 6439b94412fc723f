//! What one hostile definition may cost the process that runs it: AWS's
//! per-execution quotas (history events, payload size) end the execution, and
//! JSONata evaluation is bounded so that runaway recursion fails the state
//! instead of overflowing the stack and aborting the process; paths and
//! documents nested 100,000 deep fail cleanly the same way.

use serde_json::{Value, json};
use states::task::{FnInvoker, TaskContext};
use states::{MockInvoker, NoTasks, RunOptions, StateMachine, Status, VirtualClock, run};
use std::time::{Duration, Instant};

fn machine(v: Value) -> StateMachine {
    StateMachine::from_value(&v).expect("valid definition")
}

const HISTORY_CAUSE: &str = "The execution reached the maximum number of history events (25000).";

fn assert_history_quota(out: &states::Outcome) {
    assert_eq!(out.status, Status::Failed, "{out:?}");
    assert_eq!(out.error.as_deref(), Some("States.Runtime"));
    assert_eq!(out.cause.as_deref(), Some(HISTORY_CAUSE));
}

#[tokio::test]
async fn a_pass_loop_fails_quickly_at_the_history_quota_even_when_no_history_is_kept() {
    let m = machine(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}}}),
    );
    let started = Instant::now();
    let out = run(&m, json!({}), &NoTasks, &VirtualClock::fixed(), RunOptions::default()).await;
    assert_history_quota(&out);
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn the_history_quota_leaves_event_25000_for_execution_failed_and_catch_all_does_not_catch_it() {
    let m = machine(json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "T"},
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "Next": "A",
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "A"}]}}}));
    let mock = MockInvoker::from_value(&json!({"T": {"Return": 1}})).expect("mock");
    let opts = RunOptions { record_history: true, ..Default::default() };
    let out = run(&m, json!({}), &mock, &VirtualClock::fixed(), opts).await;
    assert_history_quota(&out);
    let h = out.history.expect("history");
    assert_eq!(h.len(), 25_000);
    let last = h.last().expect("an event");
    assert_eq!((last.id, last.event_type.as_str()), (25_000, "ExecutionFailed"));
}

#[tokio::test]
async fn a_map_of_a_million_iterations_fails_at_the_history_quota() {
    let inner = json!({"StartAt": "In", "States": {"In": {"Type": "Map", "ItemsPath": "$.row",
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}}});
    let m = machine(json!({"StartAt": "Out", "States": {"Out": {"Type": "Map", "ItemsPath": "$.rows",
        "ItemSelector": {"row.$": "$.rows[0]"}, "ItemProcessor": inner, "End": true}}}));
    let row: Vec<u32> = (0..1000).collect();
    let input = json!({"rows": vec![row; 1000]});
    // The 1000×1000 input is itself over 256 KiB; lift that quota to reach the history one.
    let opts = RunOptions { payload_limit_bytes: Some(usize::MAX), ..Default::default() };
    let started = Instant::now();
    let out = run(&m, input, &NoTasks, &VirtualClock::fixed(), opts).await;
    assert_history_quota(&out);
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn a_retry_with_a_huge_max_attempts_fails_at_the_history_quota() {
    let m = machine(json!({"StartAt": "T", "States": {"T": {"Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": true,
        "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 99_999_999, "IntervalSeconds": 1, "BackoffRate": 1.0}]}}}));
    let mock = MockInvoker::from_value(&json!({"T": {"Throw": {"Error": "Boom", "Cause": "always"}}})).expect("mock");
    let out = run(&m, json!({}), &mock, &VirtualClock::fixed(), RunOptions::default()).await;
    assert_history_quota(&out);
}

#[tokio::test]
async fn the_history_quota_can_be_lifted_by_the_embedder() {
    let m = machine(json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}}));
    let input = Value::Array((0..10_000).map(Value::from).collect());
    let limited = run(&m, input.clone(), &NoTasks, &VirtualClock::fixed(), RunOptions::default()).await;
    assert_history_quota(&limited);
    let opts = RunOptions { max_history_events: Some(u64::MAX), ..Default::default() };
    let out = run(&m, input, &NoTasks, &VirtualClock::fixed(), opts).await;
    assert_eq!(out.status, Status::Succeeded, "{out:?}");
}

#[tokio::test]
async fn a_state_output_over_256_kib_fails_with_data_limit_exceeded_that_states_all_cannot_catch() {
    let branch = |name: &str| json!({"StartAt": name, "States": {name: {"Type": "Pass", "End": true}}});
    let m = machine(json!({"StartAt": "Par", "States": {
        "Par": {"Type": "Parallel", "Branches": [branch("P1"), branch("P2")], "End": true,
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]},
        "Caught": {"Type": "Pass", "End": true}}}));
    // Each branch passes on 150 KB; the Parallel's output holds both.
    let out = run(&m, json!("x".repeat(150_000)), &NoTasks, &VirtualClock::fixed(), RunOptions::default()).await;
    assert_eq!(out.status, Status::Failed, "{out:?}");
    assert_eq!(out.error.as_deref(), Some("States.DataLimitExceeded"));
    assert_eq!(
        out.cause.as_deref(),
        Some("The state/task 'Par' returned a result with a size exceeding the maximum number of bytes service limit.")
    );
}

#[tokio::test]
async fn an_execution_input_over_256_kib_fails_with_data_limit_exceeded() {
    let m = machine(json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}));
    let out = run(&m, json!("x".repeat(262_144)), &NoTasks, &VirtualClock::fixed(), RunOptions::default()).await;
    assert_eq!(out.error.as_deref(), Some("States.DataLimitExceeded"), "{out:?}");
    let fits = json!("x".repeat(262_142)); // with its quotes, exactly 262,144 bytes
    let out = run(&m, fits, &NoTasks, &VirtualClock::fixed(), RunOptions::default()).await;
    assert_eq!(out.status, Status::Succeeded);
}

#[test]
fn a_value_nested_ever_deeper_by_a_loop_fails_instead_of_overflowing_the_stack() {
    // Each pass wraps the input one level deeper; serialising, cloning or
    // dropping a 10,000-deep value would overflow a small stack.
    let m = machine(json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "ResultPath": "$.a", "Next": "A"}}}));
    let small_stack = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024) // tokio's default for its worker threads
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
            rt.block_on(run(&m, json!({}), &NoTasks, &VirtualClock::fixed(), RunOptions::default()))
        })
        .expect("thread");
    let out = small_stack.join().expect("the run must not crash its thread");
    assert_eq!(out.error.as_deref(), Some("States.DataLimitExceeded"), "{out:?}");
}

fn recursive(n: u32) -> StateMachine {
    let expr = format!("{{% ($f := function($n){{ $n = 0 ? 0 : 1 + $f($n - 1) }}; $f({n})) %}}");
    machine(json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "Output": expr, "End": true}}}))
}

#[tokio::test]
async fn a_jsonata_recursion_5000_deep_fails_the_state_with_query_evaluation_error_and_the_process_survives() {
    let out = run(&recursive(5000), json!({}), &NoTasks, &VirtualClock::fixed(), RunOptions::default()).await;
    assert_eq!(out.status, Status::Failed, "{out:?}");
    assert_eq!(out.error.as_deref(), Some("States.QueryEvaluationError"));
    // And the same process goes on running executions.
    let out = run(&recursive(1000), json!({}), &NoTasks, &VirtualClock::fixed(), RunOptions::default()).await;
    assert_eq!(out.output, Some(json!(1000)), "a deep but legal recursion still works: {out:?}");
}

#[tokio::test]
async fn a_jsonata_recursion_failure_is_caught_like_any_query_evaluation_error() {
    let expr = "{% ($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000)) %}";
    let m = machine(json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "Arguments": expr, "End": true,
              "Catch": [{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "Caught"}]},
        "Caught": {"Type": "Pass", "Output": "{% $states.input.Error %}", "End": true}}}));
    let mock = MockInvoker::from_value(&json!({"T": {"Return": 1}})).expect("mock");
    let out = run(&m, json!({"k": 1}), &mock, &VirtualClock::fixed(), RunOptions::default()).await;
    assert_eq!(out.output, Some(json!("States.QueryEvaluationError")), "{out:?}");
}

#[tokio::test]
async fn a_jsonata_expression_that_builds_a_huge_value_fails_instead_of_exhausting_memory() {
    let m = machine(json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "Output": "{% $count([1..100000000]) %}", "End": true}}}));
    let started = Instant::now();
    let out = run(&m, json!({}), &NoTasks, &VirtualClock::fixed(), RunOptions::default()).await;
    assert_eq!(out.error.as_deref(), Some("States.QueryEvaluationError"), "{out:?}");
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn a_jsonata_expression_nested_past_the_parser_bound_is_rejected_at_load() {
    let expr = format!("{{% {}1 %}}", "-".repeat(200_000));
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {"Type": "Pass", "Output": expr, "End": true}}});
    assert!(StateMachine::from_value(&def).is_err());
}

/// Runs `f` on a thread with tokio's default worker stack (2 MiB), where a
/// recursion once per level of a 100,000-deep value or path would overflow
/// and abort the whole process.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(f)
        .expect("thread")
        .join()
        .expect("the run must not crash its thread")
}

/// `{"a": {"a": … 1 …}}`, built without recursion (`json!` would
/// serialise the inner value, recursively).
fn nested(depth: usize) -> Value {
    let mut v = json!(1);
    for _ in 0..depth {
        let mut m = serde_json::Map::new();
        m.insert("a".into(), v);
        v = Value::Object(m);
    }
    v
}

#[test]
fn paths_nested_100000_deep_are_rejected_at_load_without_overflowing_the_stack() {
    let filters = format!("${}{}", "[?(@".repeat(100_000), ")]".repeat(100_000));
    let parens = format!("$[?{}@.a{}]", "(".repeat(100_000), ")".repeat(100_000));
    let members = format!("${}", ".a".repeat(100_000));
    for (field, path) in [("InputPath", filters), ("OutputPath", parens), ("ResultPath", members)] {
        let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", field: path, "End": true}}});
        let problems = on_small_stack(move || StateMachine::from_value(&def).err().map(|e| e.to_string()));
        assert!(problems.is_some_and(|p| p.contains(field)), "{field}: a path 100,000 deep must be a load error");
    }
}

#[test]
fn an_execution_input_nested_100000_deep_fails_cleanly_even_without_a_payload_limit() {
    let m = machine(json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": "$..a", "End": true}}}));
    let out = on_small_stack(move || {
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let opts = RunOptions { payload_limit_bytes: Some(usize::MAX), ..Default::default() };
        rt.block_on(run(&m, nested(100_000), &NoTasks, &VirtualClock::fixed(), opts))
    });
    assert_eq!(out.error.as_deref(), Some("States.DataLimitExceeded"), "{out:?}");
}

#[test]
fn a_task_result_nested_100000_deep_fails_the_state_cleanly() {
    let m = machine(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "ResultSelector": {"r.$": "$..a"},
              "End": true}}}));
    let out = on_small_stack(move || {
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let deep = FnInvoker(|_: String, _: Value, _: TaskContext| async { Ok(nested(100_000)) });
        rt.block_on(run(&m, json!({}), &deep, &VirtualClock::fixed(), RunOptions::default()))
    });
    assert_eq!(out.error.as_deref(), Some("States.DataLimitExceeded"), "{out:?}");
}

#[test]
fn a_recursive_descent_over_the_deepest_allowed_document_fits_a_small_stack() {
    // 511 levels of objects under the input: the deepest a payload may be.
    let m = machine(json!({"StartAt": "P", "States": {"P": {"Type": "Pass",
        "Parameters": {"n.$": "States.ArrayLength($..a)", "f.$": "$..[?(@.a)]"}, "End": true}}}));
    let out = on_small_stack(move || {
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let opts = RunOptions { payload_limit_bytes: Some(usize::MAX), ..Default::default() };
        let out = rt.block_on(run(&m, nested(511), &NoTasks, &VirtualClock::fixed(), opts));
        out.output.map(|o| o["n"].clone())
    });
    assert_eq!(out, Some(json!(511)));
}

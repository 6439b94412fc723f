//! The graph over the repo's own state machines and histories recorded from the local engine (`testdata/`, made by
//! running the definitions with mocked Tasks and writing the events in `GetExecutionHistory`'s shape).

use super::*;
use serde_json::{Value, json};

fn history(jsonl: &str) -> Vec<Value> {
    jsonl.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).expect("test data")).collect()
}

fn machines() -> Vec<(String, Value)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../statemachines");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("statemachines/") {
        let path = entry.expect("entry").path();
        if path.to_string_lossy().ends_with(".asl.json") {
            let text = std::fs::read_to_string(&path).expect("read");
            out.push((path.display().to_string(), serde_json::from_str(&text).expect("json")));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 2, "the repo's state machines");
    out
}

fn invoice() -> Value {
    serde_json::from_str(include_str!("../../../../statemachines/invoice.asl.json")).expect("json")
}

fn overlap(a: Rect, b: Rect) -> bool {
    a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h
}

fn inside(l: &Layout, mut child: usize, ancestor: usize) -> bool {
    while let Some(p) = l.nodes[child].parent {
        if p == ancestor {
            return true;
        }
        child = p;
    }
    false
}

/// No two boxes overlap unless one contains the other; every edge starts at the bottom middle of its source and
/// ends on the top side of its target; everything lies inside the drawing.
fn check(l: &Layout) {
    for i in 0..l.nodes.len() {
        let a = &l.nodes[i];
        assert!(a.x >= 0.0 && a.y >= 0.0 && a.x + a.w <= l.width && a.y + a.h <= l.height, "{a:?} outside");
        for j in i + 1..l.nodes.len() {
            if inside(l, i, j) || inside(l, j, i) {
                let (outer, inner) = if inside(l, i, j) { (j, i) } else { (i, j) };
                let (o, n) = (l.nodes[outer].rect(), l.nodes[inner].rect());
                assert!(
                    n.x >= o.x && n.y >= o.y && n.x + n.w <= o.x + o.w && n.y + n.h <= o.y + o.h,
                    "{:?} not within its container {:?}",
                    l.nodes[inner],
                    l.nodes[outer]
                );
                continue;
            }
            assert!(!overlap(a.rect(), l.nodes[j].rect()), "{a:?} overlaps {:?}", l.nodes[j]);
        }
    }
    for e in &l.edges {
        let (s, t) = (&l.nodes[e.from], &l.nodes[e.to]);
        let first = e.points[0];
        let last = e.points[e.points.len() - 1];
        assert!((first.0 - (s.x + s.w / 2.0)).abs() < 0.01 && (first.1 - (s.y + s.h)).abs() < 0.01, "{e:?} from {s:?}");
        assert!(last.0 > t.x && last.0 < t.x + t.w && (last.1 - t.y).abs() < 0.01, "{e:?} to {t:?}");
        for &(x, y) in &e.points {
            assert!(x >= 0.0 && x <= l.width && y >= 0.0 && y <= l.height, "{e:?} leaves the drawing");
        }
    }
}

fn state<'a>(l: &'a Layout, name: &str) -> (usize, &'a NodeBox) {
    l.nodes.iter().enumerate().find(|(_, nb)| nb.name == name).unwrap_or_else(|| panic!("no node {name}"))
}

fn edges_from<'a>(l: &'a Layout, name: &str) -> Vec<&'a EdgeLine> {
    let (i, _) = state(l, name);
    l.edges.iter().filter(|e| e.from == i).collect()
}

#[test]
fn every_state_machine_in_the_repo_lays_out_without_overlaps_and_renders() {
    for (path, def) in machines() {
        let l = layout(&def).unwrap_or_else(|e| panic!("{path}: {e}"));
        check(&l);
        let states = def["States"].as_object().map_or(0, |s| s.len());
        assert_eq!(l.nodes.iter().filter(|n| matches!(n.kind, NodeKind::State { .. })).count(), states, "{path}");
        let svg = render(&def, &BTreeMap::new()).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{path}");
        assert!(svg.contains("viewBox=\"0 0 ") && svg.contains(" width=\"") && svg.contains(" height=\""));
        assert_eq!(svg.matches("class=\"state outcome-not-reached\"").count(), states, "{path}");
    }
}

#[test]
fn a_choice_draws_each_rule_and_the_default_with_labels() {
    let def = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [
            {"Variable": "$.kind", "StringEquals": "a", "Next": "A"},
            {"Variable": "$.n", "NumericGreaterThanPath": "$.limit", "Next": "B"},
            {"And": [{"Variable": "$.x", "IsPresent": true}, {"Variable": "$.y", "BooleanEquals": true}], "Next": "D"}
        ], "Default": "E"},
        "A": {"Type": "Succeed"}, "B": {"Type": "Succeed"}, "D": {"Type": "Succeed"}, "E": {"Type": "Fail", "Error": "X"}
    }});
    let l = layout(&def).expect("layout");
    check(&l);
    let out = edges_from(&l, "C");
    let labels: Vec<(EdgeKind, &str)> = out.iter().map(|e| (e.kind, e.label.as_deref().unwrap_or(""))).collect();
    assert_eq!(
        labels,
        vec![
            (EdgeKind::Rule, "$.kind == \"a\""),
            (EdgeKind::Rule, "$.n > $.limit"),
            (EdgeKind::Rule, "rule 3"),
            (EdgeKind::Default, "Default"),
        ]
    );
    for e in &out {
        let (_, c) = state(&l, "C");
        let at = e.label_at.expect("a label has a place");
        assert!(at.1 > c.y + c.h, "labels sit below the choice");
    }
    // Every end goes to the one end marker.
    let end = l.nodes.iter().position(|n| n.kind == NodeKind::End && n.depth == 0).expect("end");
    assert_eq!(l.edges.iter().filter(|e| e.to == end).count(), 4);
    let svg = render(&def, &BTreeMap::new()).expect("svg");
    assert!(svg.contains("$.kind == &quot;a&quot;"));
}

#[test]
fn a_parallel_is_a_container_with_its_branches_side_by_side() {
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Next": "After", "Branches": [
            {"StartAt": "A1", "States": {"A1": {"Type": "Pass", "Next": "A2"}, "A2": {"Type": "Pass", "End": true}}},
            {"StartAt": "B1", "States": {"B1": {"Type": "Wait", "Seconds": 1, "End": true}}}
        ]},
        "After": {"Type": "Succeed"}
    }});
    let l = layout(&def).expect("layout");
    check(&l);
    let (p, pn) = state(&l, "P");
    assert!(pn.is_container());
    assert_eq!(pn.frames.len(), 2);
    assert!(pn.frames[0].x + pn.frames[0].w <= pn.frames[1].x, "branches side by side");
    for name in ["A1", "A2", "B1"] {
        assert_eq!(state(&l, name).1.parent, Some(p), "{name} inside P");
        assert_eq!(state(&l, name).1.depth, 1);
    }
    let (_, a1) = state(&l, "A1");
    let (_, b1) = state(&l, "B1");
    assert!(a1.x + a1.w <= pn.frames[0].x + pn.frames[0].w && b1.x >= pn.frames[1].x);
    let svg = render(&def, &BTreeMap::new()).expect("svg");
    assert!(svg.contains("class=\"state container outcome-not-reached\" data-state=\"P\""));
    assert!(svg.contains("Parallel · P"));
}

#[test]
fn a_map_is_a_container_with_its_item_processor_inside_recursively() {
    let def = json!({"StartAt": "M", "States": {
        "M": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "Inner", "States": {
            "Inner": {"Type": "Map", "End": true, "Iterator": {"StartAt": "Leaf", "States": {
                "Leaf": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": true}}}}}}}
    }});
    let l = layout(&def).expect("layout");
    check(&l);
    let (m, _) = state(&l, "M");
    let (inner, inner_box) = state(&l, "Inner");
    assert_eq!(inner_box.parent, Some(m));
    assert_eq!(state(&l, "Leaf").1.parent, Some(inner));
    assert_eq!(state(&l, "Leaf").1.depth, 2);
    let svg = render(&def, &BTreeMap::new()).expect("svg");
    assert!(svg.contains("Map: each item · M") && svg.contains("Map: each item · Inner"));
}

#[test]
fn a_catch_is_a_dashed_edge_labelled_with_its_errors() {
    let l = layout(&invoice()).expect("layout");
    let catches: Vec<&EdgeLine> =
        edges_from(&l, "Validate").into_iter().filter(|e| e.kind == EdgeKind::Catch).collect();
    assert_eq!(catches.len(), 1);
    assert_eq!(catches[0].label.as_deref(), Some("States.ALL"));
    assert_eq!(l.nodes[catches[0].to].name, "RecordFailure");
    let svg = render(&invoice(), &BTreeMap::new()).expect("svg");
    assert!(svg.contains("class=\"edge catch\"") && svg.contains("stroke-dasharray=\"5 4\""));
}

#[test]
fn a_loop_back_to_a_wait_is_routed_on_the_side_and_layering_ends() {
    let def = json!({"StartAt": "Wait", "States": {
        "Wait": {"Type": "Wait", "Seconds": 5, "Next": "Poll"},
        "Poll": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "Done?",
                 "Retry": [{"ErrorEquals": ["States.ALL"]}]},
        "Done?": {"Type": "Choice", "Choices": [{"Variable": "$.done", "BooleanEquals": false, "Next": "Wait"}],
                  "Default": "Finished"},
        "Finished": {"Type": "Succeed"},
        "Self": {"Type": "Pass", "Next": "Self"}
    }});
    let l = layout(&def).expect("layout");
    check(&l);
    let back: Vec<&EdgeLine> = l.edges.iter().filter(|e| e.back).collect();
    assert_eq!(back.len(), 2, "Done? → Wait and Self → Self");
    let (_, wait) = state(&l, "Wait");
    let (_, choice) = state(&l, "Done?");
    assert!(wait.y < choice.y, "the loop does not push Wait below the Choice");
    let right = l.nodes.iter().map(|n| n.x + n.w).fold(0.0, f64::max);
    assert!(back.iter().all(|e| e.points.iter().any(|p| p.0 > right)), "routed right of every node");
}

#[test]
fn names_are_escaped_everywhere() {
    let name = "<b>&\"x'</b>";
    let def = json!({"StartAt": name, "States": {
        name: {"Type": "Choice", "Choices": [{"Variable": "$.a<", "StringEquals": "<&>", "Next": "ok"}], "Default": "ok"},
        "ok": {"Type": "Succeed"}
    }});
    let runs = runs(&[json!({"id": 1, "previousEventId": 0, "type": "ChoiceStateEntered", "timestamp": 1.0,
               "stateEnteredEventDetails": {"name": name, "input": "{}"}})]);
    let svg = render(&def, &runs).expect("svg");
    assert!(svg.contains("data-state=\"&lt;b&gt;&amp;&quot;x&#39;&lt;/b&gt;\""));
    assert!(!svg.contains("<b>") && !svg.contains("\"x'"));
    assert!(svg.contains("&lt;&amp;&gt;"));
    assert!(svg.contains("class=\"state outcome-running\""));
}

#[test]
fn bad_definitions_are_errors_not_panics() {
    let cases = [
        json!([1, 2]),
        json!({"States": {"A": {"Type": "Succeed"}}}),
        json!({"StartAt": "A"}),
        json!({"StartAt": "Nope", "States": {"A": {"Type": "Succeed"}}}),
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Ghost"}}}),
        json!({"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Next": 3}]}}}),
        json!({"StartAt": "A", "States": {"A": {"Type": "Teleport", "End": true}}}),
        json!({"StartAt": "A", "States": {"A": "Pass"}}),
        json!({"StartAt": "A", "States": {"A": {"Type": "Parallel", "End": true, "Branches": [{"StartAt": "X"}]}}}),
        json!({"StartAt": "A", "States": {"A": {"Type": "Map", "End": true}}}),
    ];
    for def in cases {
        let err = render(&def, &BTreeMap::new()).expect_err(&def.to_string());
        assert!(matches!(err, GraphError::Invalid(_)), "{def}: {err}");
    }
    let mut deep = json!({"StartAt": "L", "States": {"L": {"Type": "Pass", "End": true}}});
    for _ in 0..25 {
        deep = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ItemProcessor": deep}}});
    }
    assert_eq!(layout(&deep).expect_err("deep"), GraphError::TooDeep(MAX_DEPTH));
    let mut many = serde_json::Map::new();
    for i in 0..=MAX_STATES {
        many.insert(format!("S{i}"), json!({"Type": "Succeed"}));
    }
    let big = json!({"StartAt": "S0", "States": many});
    assert_eq!(layout(&big).expect_err("big"), GraphError::TooLarge(MAX_STATES));
}

fn linear(n: usize) -> Value {
    let mut states = serde_json::Map::new();
    for i in 0..n {
        let s = if i + 1 == n {
            json!({"Type": "Pass", "End": true})
        } else {
            json!({"Type": "Pass", "Next": format!("Step{}", i + 1)})
        };
        states.insert(format!("Step{i}"), s);
    }
    json!({"StartAt": "Step0", "States": states})
}

#[test]
fn a_200_state_machine_renders_every_state_on_one_column() {
    let def = linear(200);
    let svg = render(&def, &BTreeMap::new()).expect("svg");
    assert_eq!(svg.matches("<g class=\"state ").count(), 200);
    check(&layout(&def).expect("layout"));
    // Everything on one column, top to bottom.
    let l = layout(&def).expect("layout");
    let xs: Vec<f64> = l.nodes.iter().filter(|n| n.depth == 0 && !n.name.is_empty()).map(|n| n.x + n.w / 2.0).collect();
    assert!(xs.windows(2).all(|w| (w[0] - w[1]).abs() < 0.01));
}

#[test]
fn layout_is_deterministic() {
    let a = render(&invoice(), &BTreeMap::new()).expect("svg");
    let b = render(&invoice(), &BTreeMap::new()).expect("svg");
    assert_eq!(a, b);
}

// ---- Outcomes from histories ----

#[test]
fn a_task_that_failed_after_a_retry_and_was_caught_is_caught_and_the_fail_state_failed() {
    let r = runs(&history(include_str!("testdata/invoice-validate-caught.jsonl")));
    assert_eq!(outcome_of(&r, "Parse"), Outcome::Succeeded);
    let v = &r["Validate"];
    assert_eq!(v.outcome, Outcome::Caught);
    assert_eq!(v.error.as_deref(), Some("InvoiceBroken"));
    assert_eq!(v.cause.as_deref(), Some("bad <xml>"));
    assert_eq!(v.attempts.len(), 1, "the retried failure, not the caught one");
    assert_eq!(v.attempts[0].error, "Retryable");
    assert!(v.output.as_deref().is_some_and(|o| o.contains("InvoiceBroken")));
    assert_eq!(outcome_of(&r, "RecordFailure"), Outcome::Succeeded);
    assert_eq!(outcome_of(&r, "NotifyRefusal"), Outcome::Succeeded);
    let refused = &r["Refused"];
    assert_eq!(refused.outcome, Outcome::Failed);
    assert_eq!(refused.error.as_deref(), Some("InvoiceFailed"));
    for never in ["IsValid", "Store", "WasStored", "Email", "Done", "RecordRejection"] {
        assert_eq!(outcome_of(&r, never), Outcome::NotReached, "{never}");
    }
    assert_eq!(outcome_of(&r, "No such state"), Outcome::NotReached);
    assert_eq!(r["Parse"].entered, 1);
    assert!(r["Parse"].first_entered.is_some_and(|t| t > 1.7e9) && r["Parse"].last_exited.is_some());
}

#[test]
fn a_task_that_failed_then_succeeded_on_retry_is_retried_with_its_attempts() {
    let r = runs(&history(include_str!("testdata/invoice-parse-retried.jsonl")));
    let p = &r["Parse"];
    assert_eq!(p.outcome, Outcome::Retried);
    assert_eq!(p.attempts, vec![Attempt { error: "Retryable".into(), cause: "busy".into(), at: p.attempts[0].at }]);
    for ok in ["Validate", "IsValid", "Store", "WasStored", "Email", "Done"] {
        assert_eq!(outcome_of(&r, ok), Outcome::Succeeded, "{ok}");
    }
    assert_eq!(outcome_of(&r, "Refused"), Outcome::NotReached);
    let svg = render(&invoice(), &r).expect("svg");
    assert!(svg.contains("class=\"state outcome-retried\" data-state=\"Parse\""));
    assert!(svg.contains("↻ 1"));
}

#[test]
fn a_caught_task_then_a_fail_state_in_another_machine() {
    let r = runs(&history(include_str!("testdata/reminder-task-gone.jsonl")));
    assert_eq!(outcome_of(&r, "WaitForDelay"), Outcome::Succeeded);
    assert_eq!(r["CheckTask"].outcome, Outcome::Caught);
    assert_eq!(r["CheckTask"].attempts.len(), 1);
    assert_eq!(r["TaskGone"].outcome, Outcome::Failed);
    assert_eq!(r["TaskGone"].error.as_deref(), Some("TaskNotFound"));
    assert_eq!(outcome_of(&r, "IsDone"), Outcome::NotReached);
}

#[test]
fn parallel_and_map_states_fold_their_inner_states() {
    let def: Value = serde_json::from_str(include_str!("testdata/parallel-map.asl.json")).expect("json");
    let r = runs(&history(include_str!("testdata/parallel-map.jsonl")));
    // Branch A failed, so the Parallel failed, and its Catch moved on.
    assert_eq!(r["A"].outcome, Outcome::Failed);
    assert_eq!(r["A"].error.as_deref(), Some("Boom"));
    assert_eq!(r["P"].outcome, Outcome::Caught);
    assert_eq!(r["P"].error.as_deref(), Some("Boom"));
    assert_eq!(outcome_of(&r, "B"), Outcome::NotReached);
    // Three iterations: one retried, one failed (tolerated), one fine; the Map itself succeeded.
    assert_eq!(r["M"].outcome, Outcome::Succeeded);
    let i = &r["I"];
    assert_eq!(i.entered, 3);
    assert_eq!(i.outcome, Outcome::Failed);
    assert_eq!(i.error.as_deref(), Some("Z"));
    assert_eq!(i.attempts.len(), 1);
    let l = layout(&def).expect("layout");
    check(&l);
    let svg = render(&def, &r).expect("svg");
    assert!(svg.contains("class=\"state container outcome-caught\" data-state=\"P\""));
    assert!(svg.contains("class=\"state outcome-failed\" data-state=\"I\""));
}

#[test]
fn an_execution_cut_off_mid_task_is_running_there() {
    let all = history(include_str!("testdata/invoice-parse-retried.jsonl"));
    // Up to Validate's LambdaFunctionStarted.
    let cut: Vec<Value> = all
        .iter()
        .take_while(|e| !(e["type"] == "LambdaFunctionSucceeded" && e["previousEventId"].as_u64() > Some(8)))
        .cloned()
        .collect();
    let r = runs(&cut);
    assert_eq!(r["Parse"].outcome, Outcome::Retried);
    assert_eq!(r["Validate"].outcome, Outcome::Running);
    assert_eq!(outcome_of(&r, "Store"), Outcome::NotReached);
    // Aborted there: the state it was in is where it ended.
    let last = cut.last().expect("events");
    let id = last["id"].as_u64().unwrap_or(0);
    let mut aborted = cut.clone();
    aborted.push(json!({"id": id + 1, "previousEventId": id, "type": "ExecutionAborted", "timestamp": 1.7e9,
                        "executionAbortedEventDetails": {"error": "Stopped", "cause": "by an operator"}}));
    let r = runs(&aborted);
    assert_eq!(r["Validate"].outcome, Outcome::Failed);
    assert_eq!(r["Validate"].error.as_deref(), Some("Stopped"));
}

fn ev(id: u64, prev: u64, ty: &str, details: Value) -> Value {
    let mut e = json!({"id": id, "previousEventId": prev, "type": ty, "timestamp": 1_700_000_000.0 + id as f64});
    if let (Some(o), Some(d)) = (e.as_object_mut(), details.as_object()) {
        for (k, v) in d {
            o.insert(k.clone(), v.clone());
        }
    }
    e
}

fn entered(name: &str) -> Value {
    json!({"stateEnteredEventDetails": {"name": name, "input": "{}"}})
}

fn exited(name: &str) -> Value {
    json!({"stateExitedEventDetails": {"name": name, "output": "{}"}})
}

#[test]
fn a_branch_cancelled_by_its_sibling_failing_is_not_counted_as_failed() {
    let h = vec![
        ev(1, 0, "ExecutionStarted", json!({})),
        ev(2, 1, "ParallelStateEntered", entered("P")),
        ev(3, 2, "ParallelStateStarted", json!({})),
        ev(4, 3, "TaskStateEntered", entered("A")),
        ev(5, 3, "WaitStateEntered", entered("W")),
        ev(6, 4, "TaskScheduled", json!({})),
        ev(7, 6, "TaskFailed", json!({"taskFailedEventDetails": {"error": "Boom", "cause": "c"}})),
        ev(8, 3, "ParallelStateFailed", json!({})),
        ev(9, 8, "ExecutionFailed", json!({"executionFailedEventDetails": {"error": "Boom", "cause": "c"}})),
    ];
    let r = runs(&h);
    assert_eq!(r["A"].outcome, Outcome::Failed);
    assert_eq!(r["P"].outcome, Outcome::Failed);
    assert_eq!(r["P"].error.as_deref(), Some("Boom"));
    assert_eq!(r["W"].outcome, Outcome::NotReached);
    assert_eq!(r["W"].entered, 1);
    // While it runs, both branches run.
    let r = runs(&h[..6]);
    assert_eq!(
        (r["A"].outcome, r["W"].outcome, r["P"].outcome),
        (Outcome::Running, Outcome::Running, Outcome::Running)
    );
}

#[test]
fn a_choice_without_a_match_fails_and_a_redrive_that_passes_it_makes_it_retried() {
    let mut h = vec![
        ev(1, 0, "ExecutionStarted", json!({})),
        ev(2, 1, "ChoiceStateEntered", entered("C")),
        ev(
            3,
            2,
            "ExecutionFailed",
            json!({"executionFailedEventDetails": {"error": "States.NoChoiceMatched", "cause": "x"}}),
        ),
    ];
    let r = runs(&h);
    assert_eq!(r["C"].outcome, Outcome::Failed);
    assert_eq!(r["C"].error.as_deref(), Some("States.NoChoiceMatched"));
    h.extend([
        ev(4, 3, "ExecutionRedriven", json!({"executionRedrivenEventDetails": {"redriveCount": 1}})),
        ev(5, 4, "ChoiceStateEntered", entered("C")),
        ev(6, 5, "ChoiceStateExited", exited("C")),
        ev(7, 6, "SucceedStateEntered", entered("Ok")),
        ev(8, 7, "SucceedStateExited", exited("Ok")),
        ev(9, 8, "ExecutionSucceeded", json!({})),
    ]);
    let r = runs(&h);
    assert_eq!(r["C"].outcome, Outcome::Retried);
    assert_eq!(r["C"].entered, 2);
    assert_eq!(r["C"].attempts.len(), 1);
    assert_eq!(r["Ok"].outcome, Outcome::Succeeded);
}

#[test]
fn a_state_in_a_loop_is_judged_over_all_its_entries() {
    let h = vec![
        ev(1, 0, "ExecutionStarted", json!({})),
        ev(2, 1, "TaskStateEntered", entered("T")),
        ev(3, 2, "TaskFailed", json!({"taskFailedEventDetails": {"error": "E", "cause": ""}})),
        ev(4, 3, "TaskStateExited", exited("T")),
        ev(5, 4, "TaskStateEntered", entered("T")),
        ev(6, 5, "TaskSucceeded", json!({})),
        ev(7, 6, "TaskStateExited", exited("T")),
    ];
    let r = runs(&h);
    assert_eq!(r["T"].outcome, Outcome::Caught, "caught once is worth showing");
    assert_eq!(r["T"].entered, 2);
    assert_eq!(r["T"].error.as_deref(), Some("E"));
    // RFC 3339 timestamps (a raw engine history) read too, and events out of id order are put in order.
    let mut raw: Vec<Value> = h.into_iter().rev().collect();
    raw[0]["timestamp"] = json!("2024-01-01T00:00:00Z");
    let r = runs(&raw);
    assert_eq!(r["T"].last_exited, Some(1_704_067_200.0));
    assert!(runs(&[json!("junk"), json!({"type": 3})]).is_empty());
}

#[test]
fn writes_a_sample_of_the_invoice_machine_with_a_failing_validate() {
    let r = runs(&history(include_str!("testdata/invoice-validate-caught.jsonl")));
    let svg = render(&invoice(), &r).expect("svg");
    assert!(svg.contains("class=\"state outcome-caught\" data-state=\"Validate\""));
    assert!(svg.contains("class=\"state outcome-failed\" data-state=\"Refused\""));
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target");
    std::fs::create_dir_all(&target).expect("target/");
    let page = |svg: &str| format!("<!doctype html><meta charset=utf-8><style>{GRAPH_CSS}</style>{svg}");
    std::fs::write(target.join("console-graph-sample.svg"), &svg).expect("write sample");
    std::fs::write(target.join("console-graph-sample.html"), page(&svg)).expect("write sample");
    let def: Value = serde_json::from_str(include_str!("testdata/parallel-map.asl.json")).expect("json");
    let nested = render(&def, &runs(&history(include_str!("testdata/parallel-map.jsonl")))).expect("svg");
    std::fs::write(target.join("console-graph-sample-nested.svg"), nested).expect("write sample");
}

#[test]
fn the_largest_allowed_machine_with_long_catch_edges_stays_bounded() {
    let n = MAX_STATES;
    let mut states = serde_json::Map::new();
    for i in 0..n - 1 {
        states.insert(
            format!("S{i}"),
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": format!("S{}", i + 1),
                   "Catch": [{"ErrorEquals": ["States.ALL"], "Next": format!("S{}", n - 1)}]}),
        );
    }
    states.insert(format!("S{}", n - 1), json!({"Type": "Fail", "Error": "E"}));
    let def = json!({"StartAt": "S0", "States": states});
    let svg = render(&def, &BTreeMap::new()).expect("svg");
    // Long edges are routed through a bounded number of layers: without the cap this SVG was 62 MB (and took
    // seconds); with it, about 2.5 MB.
    assert!(svg.len() < 8 * 1024 * 1024, "{} bytes", svg.len());
}

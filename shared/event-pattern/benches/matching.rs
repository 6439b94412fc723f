//! Matching throughput on one thread: `cargo bench -p event-pattern`.
//!
//! Rules and events look like a task platform's bus: EventBridge envelopes of 400–800 bytes from a dozen
//! sources, and 100 rules mixing exact, prefix, numeric, anything-but and exists conditions.

use std::hint::black_box;
use std::time::{Duration, Instant};

use event_pattern::{Matcher, Pattern};
use serde_json::{Value, json};

const SOURCES: usize = 12;

fn source(i: usize) -> String {
    if i == 0 { "task-platform.tasks".into() } else { format!("task-platform.service-{i}") }
}

const DETAIL_TYPES: [&str; 5] = ["TaskStatusChanged", "TaskCreated", "TaskDeleted", "InvoicePaid", "ProfileUpdated"];
const STATUSES: [&str; 5] = ["todo", "doing", "done", "cancelled", "failed"];

fn rules() -> Vec<Value> {
    let mut rules = Vec::new();
    for i in 0..100 {
        let src = source(i % SOURCES);
        let dt = DETAIL_TYPES[i % DETAIL_TYPES.len()];
        let rule = match i % 6 {
            0 | 1 => json!({
                "source": [src], "detail-type": [dt],
                "detail": {"changed": {"status": {"new": [STATUSES[i % STATUSES.len()]]}}}
            }),
            2 => json!({"source": [src], "detail": {"taskId": [{"prefix": format!("t-{}", i % 10)}]}}),
            3 => json!({
                "source": [src], "detail-type": [dt],
                "detail": {"amount": [{"numeric": [">", i * 10, "<=", i * 10 + 500]}]}
            }),
            4 => json!({
                "source": [src],
                "detail": {"changed": {"status": {"new": [{"anything-but": ["cancelled", "failed"]}]}}}
            }),
            _ => json!({
                "source": [src], "detail-type": [dt],
                "detail": {"error": [{"exists": false}], "owner": [{"exists": true}]}
            }),
        };
        rules.push(rule);
    }
    // Two rules no exact field can index: evaluated for every event.
    rules[98] = json!({"detail-type": [{"prefix": "Invoice"}], "detail": {"amount": [{"numeric": [">=", 1000]}]}});
    rules[99] = json!({"account": [{"anything-but": "000000000000"}], "detail": {"priority": ["urgent"]}});
    rules
}

fn events() -> Vec<String> {
    (0..1024)
        .map(|i| {
            let event = json!({
                "version": "0",
                "id": format!("6a7e8feb-b491-4cf7-a9f1-{:012x}", i * 7919),
                "detail-type": DETAIL_TYPES[i % DETAIL_TYPES.len()],
                "source": source((i * 7) % (SOURCES + 3)),
                "account": "123456789012",
                "time": "2026-11-30T13:27:00Z",
                "region": "eu-west-1",
                "resources": [format!("arn:aws:dynamodb:eu-west-1:123456789012:table/tasks/{i}")],
                "detail": {
                    "taskId": format!("t-{}-{}", i % 13, i),
                    "owner": format!("user-{}", i % 97),
                    "title": "Write the quarterly report and send it to the team",
                    "amount": (i * 37) % 2000,
                    "priority": if i % 9 == 0 { "urgent" } else { "normal" },
                    "tags": ["work", "q4", format!("tag-{}", i % 5)],
                    "changed": {
                        "status": {"old": STATUSES[(i + 1) % 5], "new": STATUSES[i % 5]},
                        "updatedAt": "2026-11-30T13:26:59.123Z"
                    }
                }
            });
            serde_json::to_string(&event).expect("serialises")
        })
        .collect()
}

/// Runs `f` over all events in rounds for about two seconds. Returns events per second of the fastest round
/// and of the median one: the machine is shared, and the fastest round is the one least disturbed.
fn rate(events: usize, mut f: impl FnMut(usize) -> usize) -> (f64, f64, f64) {
    // One untimed round warms caches and counts the matches per event.
    let mut matched = 0;
    for i in 0..events {
        matched += f(i);
    }
    let per_event = matched as f64 / events as f64;
    let mut rounds = Vec::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        let round = Instant::now();
        for i in 0..events {
            black_box(f(i));
        }
        rounds.push(events as f64 / round.elapsed().as_secs_f64());
    }
    rounds.sort_by(f64::total_cmp);
    (rounds[rounds.len() - 1], rounds[rounds.len() / 2], per_event)
}

fn report(label: &str, (best, median, per_event): (f64, f64, f64)) {
    println!("{label:<52} {best:>10.0} events/s best round, {median:>10.0} median ({per_event:.2} matches/event)");
}

fn main() {
    let events = events();
    let parsed: Vec<Value> = events.iter().map(|e| serde_json::from_str(e).expect("valid")).collect();
    let sizes: Vec<usize> = events.iter().map(String::len).collect();
    println!(
        "{} events, {}..{} bytes (mean {}), single thread",
        events.len(),
        sizes.iter().min().unwrap_or(&0),
        sizes.iter().max().unwrap_or(&0),
        sizes.iter().sum::<usize>() / sizes.len().max(1)
    );

    let mut one = Matcher::new();
    one.add(0usize, Pattern::from_value(&rules()[0]).expect("valid rule"));
    let mut hundred = Matcher::new();
    for (i, rule) in rules().iter().enumerate() {
        hundred.add(i, Pattern::from_value(rule).expect("valid rule"));
    }

    report(
        "1 rule, bytes fast path (reads the JSON)",
        rate(events.len(), |i| black_box(one.matching_json(events[i].as_bytes()).expect("valid")).len()),
    );
    report(
        "100 rules, Matcher::matching on pre-parsed Values",
        rate(events.len(), |i| black_box(hundred.matching(&parsed[i])).len()),
    );
    report(
        "100 rules, bytes fast path (reads the JSON)",
        rate(events.len(), |i| black_box(hundred.matching_json(events[i].as_bytes()).expect("valid")).len()),
    );
    report(
        "100 rules, serde_json::from_slice + matching (ref.)",
        rate(events.len(), |i| {
            let value: Value = serde_json::from_slice(events[i].as_bytes()).expect("valid");
            black_box(hundred.matching(&value)).len()
        }),
    );
}

//! Overhead per state transition: a 1,000-state Pass chain and a
//! 10,000-item inline Map, run on the virtual clock with no task calls.
//! Run with `cargo bench -p states`; prints µs per transition.

use serde_json::{Map, Value, json};
use states::{NoTasks, RunOptions, StateMachine, Status, VirtualClock, run};
use std::time::{Duration, Instant};

fn pass_chain(n: usize) -> Value {
    let mut states = Map::new();
    for i in 0..n {
        let s = if i + 1 < n {
            json!({"Type": "Pass", "Next": format!("S{}", i + 1)})
        } else {
            json!({"Type": "Pass", "End": true})
        };
        states.insert(format!("S{i}"), s);
    }
    json!({"StartAt": "S0", "States": states})
}

fn map_def() -> Value {
    json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "End": true,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}})
}

fn measure(
    label: &str,
    machine: &StateMachine,
    input: &Value,
    transitions: usize,
    history: bool,
    rt: &tokio::runtime::Runtime,
) -> f64 {
    // The 10,000-item Map writes about 40,000 events, over AWS's history quota.
    let opts = RunOptions {
        record_history: history,
        max_transitions: Some(u64::MAX),
        max_history_events: Some(u64::MAX),
        ..Default::default()
    };
    // Warm up once, then run until at least a second has passed.
    let warm = rt.block_on(run(machine, input.clone(), &NoTasks, &VirtualClock::fixed(), opts.clone()));
    assert_eq!(warm.status, Status::Succeeded, "{label}: {warm:?}");
    let mut runs = 0u32;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(1) || runs < 3 {
        let out = rt.block_on(run(machine, input.clone(), &NoTasks, &VirtualClock::fixed(), opts.clone()));
        std::hint::black_box(&out);
        runs += 1;
    }
    let per = start.elapsed().as_secs_f64() * 1e6 / (runs as f64 * transitions as f64);
    println!("{label:<48} {per:>8.3} µs/transition  ({runs} runs, {transitions} transitions each)");
    per
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let chain = StateMachine::from_value(&pass_chain(1000)).expect("chain definition");
    let input = json!({"order": {"id": 42, "items": ["a", "b"]}});
    let map = StateMachine::from_value(&map_def()).expect("map definition");
    let items: Vec<Value> = (0..10_000).map(|i| json!({"i": i})).collect();
    let map_input = json!({ "items": items });
    // The Map state itself plus one Pass transition per item.
    let map_transitions = 1 + 10_000;
    let a = measure("1,000-state Pass chain, no history", &chain, &input, 1000, false, &rt);
    let b = measure("1,000-state Pass chain, with history", &chain, &input, 1000, true, &rt);
    let c = measure("10,000-item Map, no history", &map, &map_input, map_transitions, false, &rt);
    let d = measure("10,000-item Map, with history", &map, &map_input, map_transitions, true, &rt);
    let worst = a.max(b).max(c).max(d);
    println!(
        "worst case {worst:.3} µs/transition (target ≤ 20 µs): {}",
        if worst <= 20.0 { "OK" } else { "OVER TARGET" }
    );
}

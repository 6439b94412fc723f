//! Runs every case under tests/conformance/*.json. A file holds one case
//! object or an array of them:
//! `{"name", "definition", "input", "mock"?, "expected": {"status", "output"? , "error"?, "cause"?}}`
//! or, for invalid definitions, `"expected": {"invalid": [{"state"?, "field"?, "message_contains"?, "location"?}]}`.
//! Every failing case is reported by name before the test fails.

use serde_json::Value;
use states::{MockInvoker, RunOptions, StateMachine, VirtualClock, run, validate_value};
use std::path::Path;

fn check_case(case: &Value) -> Result<(), String> {
    let def = case.get("definition").ok_or("missing definition")?;
    let expected = case.get("expected").ok_or("missing expected")?;
    if let Some(invalid) = expected.get("invalid") {
        let problems = match validate_value(def) {
            Ok(_) => return Err("the definition was accepted but should be rejected".into()),
            Err(p) => p,
        };
        for want in invalid.as_array().ok_or("invalid must be an array")? {
            let found = problems.iter().any(|p| {
                want.get("state").and_then(Value::as_str).is_none_or(|s| p.state.as_deref() == Some(s))
                    && want.get("field").and_then(Value::as_str).is_none_or(|f| p.field.as_deref() == Some(f))
                    && want.get("message_contains").and_then(Value::as_str).is_none_or(|m| p.message.contains(m))
                    && want.get("location").and_then(Value::as_str).is_none_or(|l| p.location == l)
            });
            if !found {
                return Err(format!("no problem matching {want}; got: {problems:#?}"));
            }
        }
        return Ok(());
    }
    let machine = StateMachine::from_value(def).map_err(|e| e.to_string())?;
    let mock = match case.get("mock") {
        Some(m) => MockInvoker::from_value(m).map_err(|e| e.to_string())?,
        None => MockInvoker::new(),
    };
    let input = case.get("input").cloned().unwrap_or(Value::Object(Default::default()));
    let clock = VirtualClock::fixed();
    let opts = RunOptions { execution_name: Some("conformance".into()), ..Default::default() };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let outcome = rt.block_on(run(&machine, input, &mock, &clock, opts));
    let got = serde_json::to_value(&outcome).map_err(|e| e.to_string())?;
    for key in ["status", "output", "error", "cause"] {
        if let Some(want) = expected.get(key) {
            let g = got.get(key).unwrap_or(&Value::Null);
            if g != want {
                return Err(format!("{key}: expected {want}, got {g} (whole outcome: {got})"));
            }
        }
    }
    if let Some(prefix) = expected.get("cause_contains").and_then(Value::as_str) {
        let c = got.get("cause").and_then(Value::as_str).unwrap_or("");
        if !c.contains(prefix) {
            return Err(format!("cause {c:?} does not contain {prefix:?}"));
        }
    }
    if let Some(secs) = expected.get("virtual_seconds_slept").and_then(Value::as_f64) {
        let slept = clock.elapsed().as_secs_f64();
        if (slept - secs).abs() > 1e-6 {
            return Err(format!("expected {secs}s of virtual sleep, got {slept}s ({:?})", clock.sleeps()));
        }
    }
    Ok(())
}

#[test]
fn every_conformance_case_gives_the_expected_outcome() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("conformance dir").flatten().map(|e| e.path()).collect();
    files.sort();
    let (mut total, mut failures) = (0, Vec::new());
    for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "json")) {
        let text = std::fs::read_to_string(f).expect("read case file");
        let v: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{}: not JSON: {e}", f.display()));
                continue;
            }
        };
        let cases = match v {
            Value::Array(a) => a,
            other => vec![other],
        };
        let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or("?").to_string();
        for (i, c) in cases.iter().enumerate() {
            total += 1;
            let name = c.get("name").and_then(Value::as_str).map_or(format!("#{i}"), str::to_string);
            if let Err(e) = check_case(c) {
                failures.push(format!("{stem}/{name}: {e}"));
            }
        }
    }
    eprintln!("conformance: {} of {total} cases passed", total - failures.len());
    assert!(failures.is_empty(), "{} failing case(s):\n{}", failures.len(), failures.join("\n\n"));
}

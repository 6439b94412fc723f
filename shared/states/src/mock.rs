//! A [`TaskInvoker`] built from a mock config, so a definition can run with
//! no functions at all. It reads Step Functions Local's mock-config format
//! (`StateMachines` → `TestCases` → state name → response name, and
//! `MockedResponses` with `"0"`, `"1-2"` … attempt keys) and a shorter form
//! keyed directly by Task state name:
//!
//! ```json
//! { "Charge": { "Return": { "ok": true } },
//!   "Flaky":  [ { "Throw": { "Error": "Boom", "Cause": "first" } }, { "Return": 1 } ] }
//! ```
//!
//! Successive invocations of one state take successive responses; the last
//! response repeats once the sequence is used up.

use crate::task::{TaskContext, TaskError, TaskInvoker};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;

/// One canned response.
#[derive(Debug, Clone, PartialEq)]
pub enum MockResponse {
    Return(Value),
    Throw(TaskError),
}

/// Why a mock config was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MockConfigError {
    #[error("mock config is not valid JSON: {0}")]
    Json(String),
    #[error("mock config: {0}")]
    Shape(String),
    #[error("mock config has no state machine '{0}' (choose one with MockInvoker::from_sfn_local)")]
    UnknownStateMachine(String),
    #[error("mock config has no test case '{0}'")]
    UnknownTestCase(String),
}

/// Canned Task responses by state name.
#[derive(Debug, Default)]
pub struct MockInvoker {
    responses: HashMap<String, Vec<MockResponse>>,
    calls: Mutex<HashMap<String, usize>>,
    log: Mutex<Vec<(String, Value)>>,
}

fn shape(msg: impl Into<String>) -> MockConfigError {
    MockConfigError::Shape(msg.into())
}

fn response(v: &Value, at: &str) -> Result<MockResponse, MockConfigError> {
    let o = v.as_object().ok_or_else(|| shape(format!("{at}: a response must be an object with Return or Throw")))?;
    if let Some(r) = o.get("Return") {
        return Ok(MockResponse::Return(r.clone()));
    }
    if let Some(t) = o.get("Throw") {
        let error = t
            .get("Error")
            .and_then(Value::as_str)
            .ok_or_else(|| shape(format!("{at}: Throw needs an Error string")))?;
        let cause = t.get("Cause").and_then(Value::as_str).map(str::to_string);
        return Ok(MockResponse::Throw(TaskError { error: error.to_string(), cause }));
    }
    Err(shape(format!("{at}: a response needs Return or Throw")))
}

/// Parses a response list: an array, a single response, or SFN Local's
/// `{"0": …, "1-2": …}` attempt-numbered object.
fn sequence(v: &Value, at: &str) -> Result<Vec<MockResponse>, MockConfigError> {
    match v {
        Value::Array(a) => a.iter().enumerate().map(|(i, r)| response(r, &format!("{at}[{i}]"))).collect(),
        Value::Object(o) if o.contains_key("Return") || o.contains_key("Throw") => Ok(vec![response(v, at)?]),
        Value::Object(o) => {
            let mut slots: Vec<(usize, usize, MockResponse)> = Vec::new();
            for (k, r) in o {
                let (lo, hi) = match k.split_once('-') {
                    Some((a, b)) => (a.trim().parse::<usize>(), b.trim().parse::<usize>()),
                    None => (k.trim().parse::<usize>(), k.trim().parse::<usize>()),
                };
                let (Ok(lo), Ok(hi)) = (lo, hi) else {
                    return Err(shape(format!("{at}: '{k}' is not an attempt number or range like \"1-2\"")));
                };
                if hi < lo || hi > 10_000 {
                    return Err(shape(format!("{at}: bad attempt range '{k}'")));
                }
                slots.push((lo, hi, response(r, &format!("{at}.{k}"))?));
            }
            slots.sort_by_key(|s| s.0);
            let mut out = Vec::new();
            for (lo, hi, r) in slots {
                if lo != out.len() {
                    return Err(shape(format!(
                        "{at}: attempt numbers must be contiguous from 0 (missing {})",
                        out.len()
                    )));
                }
                for _ in lo..=hi {
                    out.push(r.clone());
                }
            }
            Ok(out)
        }
        _ => Err(shape(format!("{at}: expected a response, a list of responses or an attempt map"))),
    }
}

impl MockInvoker {
    /// An invoker with no responses; add some with [`MockInvoker::with`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds responses for a state.
    pub fn with(mut self, state: impl Into<String>, responses: Vec<MockResponse>) -> Self {
        self.responses.insert(state.into(), responses);
        self
    }

    /// Parses a mock config in either accepted form. An SFN Local config is
    /// accepted when it holds exactly one state machine with one test case.
    pub fn from_json(text: &str) -> Result<Self, MockConfigError> {
        let v: Value = serde_json::from_str(text).map_err(|e| MockConfigError::Json(e.to_string()))?;
        Self::from_value(&v)
    }

    pub fn from_value(v: &Value) -> Result<Self, MockConfigError> {
        if v.get("StateMachines").is_some() {
            return Self::from_sfn_local(v, None, None);
        }
        let o = v.as_object().ok_or_else(|| shape("the mock config must be an object keyed by Task state name"))?;
        let mut responses = HashMap::new();
        for (state, r) in o {
            responses.insert(state.clone(), sequence(r, state)?);
        }
        Ok(Self { responses, ..Default::default() })
    }

    /// Reads a Step Functions Local mock config, choosing a state machine and
    /// test case by name (either may be omitted when there is only one).
    pub fn from_sfn_local(v: &Value, machine: Option<&str>, case: Option<&str>) -> Result<Self, MockConfigError> {
        let machines = v
            .get("StateMachines")
            .and_then(Value::as_object)
            .ok_or_else(|| shape("StateMachines must be an object"))?;
        let m = match machine {
            Some(n) => machines.get(n).ok_or_else(|| MockConfigError::UnknownStateMachine(n.into()))?,
            None if machines.len() == 1 => machines.values().next().ok_or_else(|| shape("no state machines"))?,
            None => return Err(MockConfigError::UnknownStateMachine("(none chosen; the config has several)".into())),
        };
        let cases =
            m.get("TestCases").and_then(Value::as_object).ok_or_else(|| shape("TestCases must be an object"))?;
        let c = match case {
            Some(n) => cases.get(n).ok_or_else(|| MockConfigError::UnknownTestCase(n.into()))?,
            None if cases.len() == 1 => cases.values().next().ok_or_else(|| shape("no test cases"))?,
            None => return Err(MockConfigError::UnknownTestCase("(none chosen; the config has several)".into())),
        };
        let mocked = v
            .get("MockedResponses")
            .and_then(Value::as_object)
            .ok_or_else(|| shape("MockedResponses must be an object"))?;
        let mut responses = HashMap::new();
        for (state, name) in c.as_object().ok_or_else(|| shape("a test case must map state names to response names"))? {
            let name = name.as_str().ok_or_else(|| shape(format!("{state}: the response name must be a string")))?;
            let r = mocked.get(name).ok_or_else(|| shape(format!("{state}: no mocked response named '{name}'")))?;
            responses.insert(state.clone(), sequence(r, name)?);
        }
        Ok(Self { responses, ..Default::default() })
    }

    /// How many times a state's task was invoked.
    pub fn calls(&self, state: &str) -> usize {
        self.calls.lock().map(|c| c.get(state).copied().unwrap_or(0)).unwrap_or(0)
    }

    /// Every invocation so far: state name and the input it received.
    pub fn invocations(&self) -> Vec<(String, Value)> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    fn next_response(&self, state: &str) -> Option<MockResponse> {
        let seq = self.responses.get(state)?;
        let n = {
            let mut calls = self.calls.lock().ok()?;
            let c = calls.entry(state.to_string()).or_insert(0);
            let n = *c;
            *c += 1;
            n
        };
        seq.get(n).or_else(|| seq.last()).cloned()
    }
}

impl TaskInvoker for MockInvoker {
    async fn invoke(&self, _resource: &str, input: Value, ctx: &TaskContext) -> Result<Value, TaskError> {
        if let Ok(mut l) = self.log.lock() {
            l.push((ctx.state_name.clone(), input));
        }
        match self.next_response(&ctx.state_name) {
            Some(MockResponse::Return(v)) => Ok(v),
            Some(MockResponse::Throw(e)) => Err(e),
            None => Err(TaskError::task_failed(format!("no mocked response for Task state '{}'", ctx.state_name))),
        }
    }
}

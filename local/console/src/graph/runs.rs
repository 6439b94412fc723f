//! What happened to each state of an execution, read from its history (`GetExecutionHistory` events, oldest first).
//!
//! Events are attributed to states by following `previousEventId`, not by their order: the branches of a Parallel
//! and the iterations of a Map run at once and interleave in the history, but each event names the event before it
//! in its own branch. A branch's first event points at its `ParallelStateStarted` (or `MapIterationStarted`), so the
//! state that event opens is nested in the Parallel (or Map) state. Every state entry is an *instance*; instances of
//! one name (a loop, a Map's iterations) are then folded into one [`StateRun`].

use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// How a state fared over the whole execution (all its entries folded together).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// In the definition but never entered; also a state entered and then cancelled before it finished (another
    /// branch of its Parallel or iteration of its Map failed), since it came to no outcome of its own.
    NotReached,
    /// Exited normally, with no failed attempt.
    Succeeded,
    /// Failed at least once, was retried, and then succeeded.
    Retried,
    /// Failed and a Catch moved the execution on to another state.
    Caught,
    /// Entered and not yet exited; the execution is still running.
    Running,
    /// Its failure ended the execution or its branch: a failure no Retry or Catch recovered, a Fail state, or the
    /// state the execution was in when it was aborted or timed out.
    Failed,
}

impl Outcome {
    /// The CSS class suffix: `outcome-<this>`.
    pub fn class(self) -> &'static str {
        match self {
            Self::NotReached => "not-reached",
            Self::Succeeded => "succeeded",
            Self::Retried => "retried",
            Self::Caught => "caught",
            Self::Running => "running",
            Self::Failed => "failed",
        }
    }

    /// Words for people ("failed, error caught").
    pub fn label(self) -> &'static str {
        match self {
            Self::NotReached => "not reached",
            Self::Succeeded => "succeeded",
            Self::Retried => "succeeded after retries",
            Self::Caught => "failed, error caught",
            Self::Running => "running",
            Self::Failed => "failed",
        }
    }
}

/// One failed attempt of a Task (or of a Parallel's or Map's branches) that a Retry tried again.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attempt {
    pub error: String,
    pub cause: String,
    /// Epoch seconds of the failure event.
    pub at: f64,
}

/// Everything the history says about one state name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateRun {
    pub outcome: Outcome,
    /// Times entered (a loop or a Map's iterations enter a state more than once).
    pub entered: u32,
    /// The input of the last entry.
    pub input: Option<String>,
    /// The output of the last exit.
    pub output: Option<String>,
    /// The error that decided the outcome (Failed, Caught), else the last error seen.
    pub error: Option<String>,
    pub cause: Option<String>,
    /// Failed attempts that were retried (or, after a redrive, run again), oldest first: the "↻ n" badge.
    pub attempts: Vec<Attempt>,
    /// Epoch seconds of the first entry and the last exit.
    pub first_entered: Option<f64>,
    pub last_exited: Option<f64>,
}

/// The outcome of `name`, [`Outcome::NotReached`] when the history never mentions it.
pub fn outcome_of(runs: &BTreeMap<String, StateRun>, name: &str) -> Outcome {
    runs.get(name).map_or(Outcome::NotReached, |r| r.outcome)
}

/// An error name and its cause.
type Failure = (String, String);

/// One entry of a state.
#[derive(Debug, Default)]
struct Instance {
    name: String,
    parent: Option<usize>,
    /// Whether a StateEntered opened it (false for an exit whose entry the history does not hold).
    counted: bool,
    fail_state: bool,
    input: Option<String>,
    entered_at: Option<f64>,
    output: Option<String>,
    exited_at: Option<f64>,
    exited: bool,
    /// Every failed attempt, in order.
    failures: Vec<Attempt>,
    /// The last attempt failed (a success since clears it).
    last_failed: bool,
    /// The last error a nested state raised: what a Parallel/Map attempt failed with.
    child_error: Option<Failure>,
    /// Ended by an error without an event of its own saying so (a Choice with no match, an abort).
    died: Option<Failure>,
    /// Set once the instance is closed without exiting: Failed or cancelled.
    closed: Option<Closed>,
    open_children: Vec<usize>,
    /// Closed as Failed before a redrive ran the execution again.
    superseded: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Closed {
    Failed,
    Cancelled,
}

fn details(event: &Value) -> Option<&serde_json::Map<String, Value>> {
    event
        .as_object()?
        .iter()
        .find(|(k, v)| k.ends_with("EventDetails") && v.is_object())
        .and_then(|(_, v)| v.as_object())
}

fn text(d: Option<&serde_json::Map<String, Value>>, key: &str) -> Option<String> {
    d.and_then(|d| d.get(key)).and_then(Value::as_str).map(str::to_string)
}

/// Epoch seconds: the API's number, or an RFC 3339 string (a raw engine history).
fn timestamp(event: &Value) -> f64 {
    match event.get("timestamp") {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
        Some(Value::String(s)) => time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .map_or(0.0, |t| t.unix_timestamp_nanos() as f64 / 1e9),
        _ => 0.0,
    }
}

/// A Task's (Lambda's, activity's) attempt failed: `TaskFailed`, `LambdaFunctionTimedOut`, `TaskStartFailed`, ….
fn is_task_failure(ty: &str) -> bool {
    (ty.starts_with("Task") || ty.starts_with("LambdaFunction") || ty.starts_with("Activity"))
        && (ty.ends_with("Failed") || ty.ends_with("TimedOut"))
        && !ty.ends_with("StateFailed")
}

fn is_task_success(ty: &str) -> bool {
    (ty.starts_with("Task") || ty.starts_with("LambdaFunction") || ty.starts_with("Activity"))
        && ty.ends_with("Succeeded")
}

struct Reader {
    insts: Vec<Instance>,
    /// Innermost open instance after each event id.
    ctx: HashMap<u64, Option<usize>>,
}

impl Reader {
    /// Closes an instance that will not exit, and everything still open inside it.
    fn close(&mut self, i: usize, why_not_failed: Closed) {
        let mut stack = vec![i];
        while let Some(j) = stack.pop() {
            let inst = &mut self.insts[j];
            if inst.exited || inst.closed.is_some() {
                continue;
            }
            let failed = inst.last_failed || inst.fail_state || inst.died.is_some();
            inst.closed = Some(if failed { Closed::Failed } else { why_not_failed });
            stack.extend(std::mem::take(&mut inst.open_children));
        }
    }

    fn close_children(&mut self, i: usize) {
        for c in std::mem::take(&mut self.insts[i].open_children) {
            self.close(c, Closed::Cancelled);
        }
    }

    fn unlink(&mut self, i: usize) {
        if let Some(p) = self.insts[i].parent {
            self.insts[p].open_children.retain(|&c| c != i);
        }
    }

    /// Tells `i`'s enclosing states about an error raised inside them.
    fn raise(&mut self, i: usize, error: &Failure) {
        let mut p = self.insts[i].parent;
        while let Some(j) = p {
            self.insts[j].child_error = Some(error.clone());
            p = self.insts[j].parent;
        }
    }
}

/// Per-state runs from a history (events in any order; they are read in id order).
pub fn runs(history: &[Value]) -> BTreeMap<String, StateRun> {
    let mut events: Vec<&Value> = history.iter().filter(|e| e.get("type").is_some()).collect();
    events.sort_by_key(|e| e.get("id").and_then(Value::as_u64).unwrap_or(0));
    let mut r = Reader { insts: Vec::new(), ctx: HashMap::with_capacity(events.len()) };
    for e in events {
        let id = e.get("id").and_then(Value::as_u64).unwrap_or(0);
        let prev = e.get("previousEventId").and_then(Value::as_u64).unwrap_or(0);
        let ty = e.get("type").and_then(Value::as_str).unwrap_or("");
        let at = timestamp(e);
        let d = details(e);
        let cur = r.ctx.get(&prev).copied().flatten();
        let mut after = cur;
        if ty.ends_with("StateEntered") {
            let i = r.insts.len();
            r.insts.push(Instance {
                name: text(d, "name").unwrap_or_default(),
                parent: cur,
                counted: true,
                fail_state: ty == "FailStateEntered",
                input: text(d, "input"),
                entered_at: Some(at),
                ..Instance::default()
            });
            if let Some(p) = cur {
                r.insts[p].open_children.push(i);
            }
            after = Some(i);
        } else if ty.ends_with("StateExited") {
            let name = text(d, "name").unwrap_or_default();
            // The open instance of that name nearest the event (normally `cur` itself).
            let mut found = cur;
            while let Some(j) = found {
                if r.insts[j].name == name {
                    break;
                }
                found = r.insts[j].parent;
            }
            let i = match found {
                Some(i) => i,
                None => {
                    r.insts.push(Instance { name, parent: cur, ..Instance::default() });
                    r.insts.len() - 1
                }
            };
            r.close_children(i);
            r.unlink(i);
            let inst = &mut r.insts[i];
            inst.exited = true;
            inst.output = text(d, "output");
            inst.exited_at = Some(at);
            after = inst.parent;
        } else if is_task_failure(ty) {
            let error = text(d, "error").unwrap_or_default();
            let cause = text(d, "cause").unwrap_or_default();
            if let Some(i) = cur {
                r.raise(i, &(error.clone(), cause.clone()));
                let inst = &mut r.insts[i];
                inst.failures.push(Attempt { error, cause, at });
                inst.last_failed = true;
            }
        } else if is_task_success(ty) {
            if let Some(i) = cur {
                r.insts[i].last_failed = false;
            }
        } else {
            match ty {
                "ParallelStateFailed" | "MapStateFailed" => {
                    if let Some(i) = cur {
                        r.close_children(i);
                        let (error, cause) = r.insts[i].child_error.take().unwrap_or_else(|| {
                            let what = if ty == "MapStateFailed" { "An iteration" } else { "A branch" };
                            ("States.BranchFailed".into(), format!("{what} failed"))
                        });
                        r.raise(i, &(error.clone(), cause.clone()));
                        let inst = &mut r.insts[i];
                        inst.failures.push(Attempt { error, cause, at });
                        inst.last_failed = true;
                    }
                }
                "ParallelStateSucceeded" | "MapStateSucceeded" => {
                    if let Some(i) = cur {
                        r.close_children(i);
                        r.insts[i].last_failed = false;
                        r.insts[i].child_error = None;
                    }
                }
                "MapIterationFailed" | "MapIterationAborted" => {
                    let map = text(d, "name").unwrap_or_default();
                    // The iteration's innermost open state ended it, whether or not an event said why.
                    if ty == "MapIterationFailed"
                        && let Some(i) = cur
                        && r.insts[i].name != map
                        && !r.insts[i].last_failed
                        && !r.insts[i].fail_state
                    {
                        let e = r.insts[i]
                            .child_error
                            .clone()
                            .unwrap_or_else(|| ("States.Runtime".into(), "The iteration failed".into()));
                        r.insts[i].died = Some(e);
                    }
                    // Close the iteration: its outermost open state, just inside the Map.
                    let mut top = cur;
                    while let Some(i) = top {
                        match r.insts[i].parent {
                            Some(p) if r.insts[p].name != map => top = Some(p),
                            _ => break,
                        }
                    }
                    if let Some(i) = top
                        && r.insts[i].name != map
                    {
                        r.unlink(i);
                        r.close(i, Closed::Cancelled);
                    }
                }
                "ParallelStateAborted" | "MapStateAborted" => {
                    if let Some(i) = cur {
                        r.close_children(i);
                    }
                }
                _ if ty.ends_with("StateAborted") => {
                    if let Some(i) = cur {
                        r.close(i, Closed::Cancelled);
                    }
                }
                "ExecutionFailed" | "ExecutionTimedOut" | "ExecutionAborted" => {
                    let error = text(d, "error").unwrap_or_else(|| ty.trim_start_matches("Execution").to_string());
                    let cause = text(d, "cause").unwrap_or_default();
                    // The state the execution was in when it ended is where it failed.
                    if let Some(i) = cur
                        && !r.insts[i].exited
                        && r.insts[i].closed.is_none()
                        && !r.insts[i].last_failed
                    {
                        r.insts[i].died = Some((error, cause));
                    }
                    for i in 0..r.insts.len() {
                        if r.insts[i].parent.is_none() {
                            r.close(i, Closed::Cancelled);
                        }
                    }
                }
                "ExecutionSucceeded" => {
                    for i in 0..r.insts.len() {
                        if r.insts[i].parent.is_none() {
                            r.close(i, Closed::Cancelled);
                        }
                    }
                }
                "ExecutionRedriven" => {
                    for inst in &mut r.insts {
                        if inst.closed == Some(Closed::Failed) {
                            inst.superseded = true;
                        }
                    }
                }
                _ => {}
            }
        }
        r.ctx.insert(id, after);
    }
    fold(r.insts)
}

/// One instance's outcome, the error that decided it, and its retried failures.
fn judge(inst: &Instance) -> (Outcome, Option<Failure>, Vec<Attempt>) {
    let last = || inst.failures.last().map(|a| (a.error.clone(), a.cause.clone()));
    let but_last = || inst.failures[..inst.failures.len().saturating_sub(1)].to_vec();
    if inst.exited {
        if inst.last_failed {
            (Outcome::Caught, last(), but_last())
        } else if inst.failures.is_empty() {
            (Outcome::Succeeded, None, Vec::new())
        } else {
            (Outcome::Retried, None, inst.failures.clone())
        }
    } else {
        match inst.closed {
            Some(Closed::Failed) => {
                let (error, retried) =
                    if inst.last_failed { (last(), but_last()) } else { (inst.died.clone(), inst.failures.clone()) };
                if inst.superseded {
                    // A redrive ran the execution again from here: this failure was, in effect, retried.
                    let mut all = inst.failures.clone();
                    if !inst.last_failed
                        && let Some((e, c)) = &inst.died
                    {
                        all.push(Attempt { error: e.clone(), cause: c.clone(), at: inst.entered_at.unwrap_or(0.0) });
                    }
                    (Outcome::Retried, error, all)
                } else {
                    (Outcome::Failed, error, retried)
                }
            }
            Some(Closed::Cancelled) => (Outcome::NotReached, None, inst.failures.clone()),
            None => (Outcome::Running, last(), inst.failures.clone()),
        }
    }
}

fn fold(insts: Vec<Instance>) -> BTreeMap<String, StateRun> {
    let mut out: BTreeMap<String, StateRun> = BTreeMap::new();
    // Per name: the latest error of an instance with the winning outcome, and the latest error of any.
    let mut errors: HashMap<String, (Outcome, Option<Failure>, Option<Failure>)> = HashMap::new();
    for inst in &insts {
        let (outcome, error, attempts) = judge(inst);
        let run = out.entry(inst.name.clone()).or_insert_with(|| StateRun {
            outcome: Outcome::NotReached,
            entered: 0,
            input: None,
            output: None,
            error: None,
            cause: None,
            attempts: Vec::new(),
            first_entered: None,
            last_exited: None,
        });
        if inst.counted {
            run.entered += 1;
        }
        if inst.input.is_some() {
            run.input.clone_from(&inst.input);
        }
        if inst.output.is_some() {
            run.output.clone_from(&inst.output);
        }
        run.first_entered = match (run.first_entered, inst.entered_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        run.last_exited = match (run.last_exited, inst.exited_at) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        run.attempts.extend(attempts);
        let slot = errors.entry(inst.name.clone()).or_insert((Outcome::NotReached, None, None));
        if outcome > slot.0 {
            slot.0 = outcome;
            slot.1 = None;
        }
        if let Some(e) = error.or_else(|| inst.failures.last().map(|a| (a.error.clone(), a.cause.clone()))) {
            if outcome == slot.0 {
                slot.1 = Some(e.clone());
            }
            slot.2 = Some(e);
        }
        run.outcome = run.outcome.max(outcome);
    }
    for (name, (_, winning, any)) in errors {
        if let Some(run) = out.get_mut(&name)
            && let Some((e, c)) = winning.or(any)
        {
            run.error = Some(e);
            run.cause = Some(c);
        }
    }
    for run in out.values_mut() {
        run.attempts.sort_by(|a, b| a.at.total_cmp(&b.at));
    }
    out
}

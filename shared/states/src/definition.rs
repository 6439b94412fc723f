//! Loading a definition: parse the JSON into a typed, index-linked model and
//! validate it the way `ValidateStateMachineDefinition` does, collecting every
//! problem (with its location, state and field) instead of stopping at one.

use crate::choice::{self, Operand, Rule};
use crate::error::{InvalidDefinition, Problem, names};
use crate::jsonata;
use crate::path::Path;
use crate::template::{self, Lang, Template};
use serde_json::{Map, Value};
use std::collections::{HashMap, VecDeque};

/// A validated state machine, ready to run any number of times.
#[derive(Debug, Clone)]
pub struct StateMachine {
    pub(crate) root: Machine,
    pub(crate) timeout_seconds: Option<u64>,
    pub(crate) comment: Option<String>,
}

impl StateMachine {
    /// Parses and validates a definition given as JSON text.
    pub fn from_json(text: &str) -> Result<StateMachine, InvalidDefinition> {
        validate(text).map_err(InvalidDefinition)
    }

    /// Validates an already-parsed definition.
    pub fn from_value(v: &Value) -> Result<StateMachine, InvalidDefinition> {
        validate_value(v).map_err(InvalidDefinition)
    }

    pub fn start_at(&self) -> &str {
        &self.root.states[self.root.start].name
    }

    pub fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    /// The execution-level `TimeoutSeconds`, if any.
    pub fn timeout_seconds(&self) -> Option<u64> {
        self.timeout_seconds
    }

    /// Names of the top-level states, in definition order.
    pub fn state_names(&self) -> impl Iterator<Item = &str> {
        self.root.states.iter().map(|s| s.name.as_str())
    }
}

/// Validates a definition string: the machine, or every problem found.
pub fn validate(text: &str) -> Result<StateMachine, Vec<Problem>> {
    match serde_json::from_str::<Value>(text) {
        Ok(v) => validate_value(&v),
        Err(e) => Err(vec![Problem {
            location: "/".into(),
            state: None,
            field: None,
            message: format!("the definition is not valid JSON: {e}"),
        }]),
    }
}

/// Validates a parsed definition.
pub fn validate_value(v: &Value) -> Result<StateMachine, Vec<Problem>> {
    let mut p = Parser { problems: Vec::new(), names: HashMap::new() };
    let Some(obj) = v.as_object() else {
        return Err(vec![Problem {
            location: "/".into(),
            state: None,
            field: None,
            message: "the definition must be a JSON object".into(),
        }]);
    };
    let lang = match obj.get("QueryLanguage") {
        None => Lang::JsonPath,
        Some(Value::String(s)) if s == "JSONPath" => Lang::JsonPath,
        Some(Value::String(s)) if s == "JSONata" => Lang::Jsonata,
        Some(other) => {
            p.push(
                "/QueryLanguage",
                None,
                Some("QueryLanguage"),
                format!("must be \"JSONPath\" or \"JSONata\", got {other}"),
            );
            Lang::JsonPath
        }
    };
    for k in obj.keys() {
        if !["StartAt", "States", "Comment", "Version", "TimeoutSeconds", "QueryLanguage"].contains(&k.as_str()) {
            p.push(&format!("/{k}"), None, Some(k), "unknown top-level field".into());
        }
    }
    let comment = p.opt_str(obj, "", None, "Comment").map(str::to_string);
    p.opt_str(obj, "", None, "Version");
    let timeout_seconds = p.opt_uint(obj, "", None, "TimeoutSeconds", 1);
    let root = p.machine(obj, "", lang);
    match root {
        Some(root) if p.problems.is_empty() => Ok(StateMachine { root, timeout_seconds, comment }),
        _ => Err(p.problems),
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Machine {
    pub start: usize,
    pub states: Vec<State>,
}

#[derive(Debug, Clone)]
pub(crate) enum PathOpt {
    Default,
    Null,
    Path(Path),
}

#[derive(Debug, Clone)]
pub(crate) struct State {
    pub name: String,
    pub lang: Lang,
    pub kind: Kind,
    pub input_path: PathOpt,
    pub output_path: PathOpt,
    /// `Parameters` (JSONPath) or `Arguments` (JSONata).
    pub parameters: Option<Template>,
    pub result_selector: Option<Template>,
    pub result_path: PathOpt,
    pub output: Option<Template>,
    pub assign: Option<Template>,
    /// `None` means `End: true` (or a terminal state).
    pub next: Option<usize>,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
}

impl State {
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Pass { .. } => "Pass",
            Kind::Task { .. } => "Task",
            Kind::Choice { .. } => "Choice",
            Kind::Wait(_) => "Wait",
            Kind::Succeed => "Succeed",
            Kind::Fail { .. } => "Fail",
            Kind::Parallel { .. } => "Parallel",
            Kind::Map(_) => "Map",
        }
    }
}

/// A number fixed in the definition or read at run time.
#[derive(Debug, Clone)]
pub(crate) enum Dyn<T> {
    Fixed(T),
    Path(Path),
    Jsonata(String),
}

#[derive(Debug, Clone)]
pub(crate) enum Wait {
    Seconds(Dyn<u64>),
    Timestamp(Dyn<String>),
}

/// Fail's Error/Cause: literal, path/intrinsic, or JSONata.
#[derive(Debug, Clone)]
pub(crate) enum Text {
    Literal(String),
    Dynamic(Template),
}

#[derive(Debug, Clone)]
pub(crate) struct ChoiceBranch {
    pub rule: Rule,
    pub next: usize,
    pub assign: Option<Template>,
    pub output: Option<Template>,
}

#[derive(Debug, Clone)]
pub(crate) struct MapSpec {
    pub items_path: PathOpt,
    pub items: Option<Template>,
    pub item_selector: Option<Template>,
    pub processor: Machine,
    pub max_concurrency: Dyn<u64>,
    pub tolerated_percentage: Option<Dyn<f64>>,
    pub tolerated_count: Option<Dyn<u64>>,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Pass { result: Option<Value> },
    Task { resource: String, timeout: Option<Dyn<u64>>, heartbeat: Option<Dyn<u64>>, credentials: Option<Template> },
    Choice { choices: Vec<ChoiceBranch>, default: Option<usize> },
    Wait(Wait),
    Succeed,
    Fail { error: Option<Text>, cause: Option<Text> },
    Parallel { branches: Vec<Machine> },
    Map(Box<MapSpec>),
}

#[derive(Debug, Clone)]
pub(crate) struct Retrier {
    pub error_equals: Vec<String>,
    pub interval_seconds: f64,
    pub max_attempts: u32,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<f64>,
    pub jitter_full: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Catcher {
    pub error_equals: Vec<String>,
    pub next: usize,
    pub result_path: PathOpt,
    pub assign: Option<Template>,
    pub output: Option<Template>,
}

/// Whether an error name is matched by an `ErrorEquals` list.
/// `States.ALL` matches everything but the terminal errors; `States.TaskFailed`
/// is documented as a wildcard for every error except timeouts. Intrinsic
/// failures, which AWS reports as (uncatchable) runtime errors, are only
/// matched when named explicitly.
pub(crate) fn error_matches(list: &[String], error: &str) -> bool {
    let terminal = error == names::RUNTIME || error == names::DATA_LIMIT_EXCEEDED || error == names::INTRINSIC_FAILURE;
    let timeout = error == names::TIMEOUT || error == names::HEARTBEAT_TIMEOUT;
    list.iter().any(|e| {
        e == error
            || (e == names::ALL && !terminal)
            || (e == names::TASK_FAILED && !terminal && !timeout)
            // A missed heartbeat is a kind of timeout.
            || (e == names::TIMEOUT && error == names::HEARTBEAT_TIMEOUT)
    })
}

const COMMON: &[&str] = &["Type", "Comment", "QueryLanguage"];
const JSONPATH_ONLY: &[&str] = &[
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "ItemsPath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "SecondsPath",
    "TimestampPath",
    "ErrorPath",
    "CausePath",
    "MaxConcurrencyPath",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCountPath",
    "Iterator",
    "Result",
    "ResultSelector",
];
const JSONATA_ONLY: &[&str] = &["Arguments", "Output", "Items"];

fn allowed(ty: &str) -> &'static [&'static str] {
    match ty {
        "Pass" => &["InputPath", "OutputPath", "Parameters", "ResultPath", "Result", "Next", "End", "Assign", "Output"],
        "Task" => &[
            "InputPath",
            "OutputPath",
            "Parameters",
            "ResultSelector",
            "ResultPath",
            "Resource",
            "Next",
            "End",
            "Retry",
            "Catch",
            "TimeoutSeconds",
            "TimeoutSecondsPath",
            "HeartbeatSeconds",
            "HeartbeatSecondsPath",
            "Credentials",
            "Assign",
            "Arguments",
            "Output",
        ],
        "Choice" => &["InputPath", "OutputPath", "Choices", "Default", "Assign", "Output"],
        "Wait" => &[
            "InputPath",
            "OutputPath",
            "Seconds",
            "SecondsPath",
            "Timestamp",
            "TimestampPath",
            "Next",
            "End",
            "Assign",
            "Output",
        ],
        "Succeed" => &["InputPath", "OutputPath", "Output"],
        "Fail" => &["Error", "ErrorPath", "Cause", "CausePath"],
        "Parallel" => &[
            "InputPath",
            "OutputPath",
            "Parameters",
            "ResultSelector",
            "ResultPath",
            "Branches",
            "Next",
            "End",
            "Retry",
            "Catch",
            "Assign",
            "Arguments",
            "Output",
        ],
        "Map" => &[
            "InputPath",
            "OutputPath",
            "ItemsPath",
            "ItemSelector",
            "Parameters",
            "ItemProcessor",
            "Iterator",
            "MaxConcurrency",
            "MaxConcurrencyPath",
            "ToleratedFailurePercentage",
            "ToleratedFailurePercentagePath",
            "ToleratedFailureCount",
            "ToleratedFailureCountPath",
            "ResultSelector",
            "ResultPath",
            "Next",
            "End",
            "Retry",
            "Catch",
            "Label",
            "ItemReader",
            "ResultWriter",
            "ItemBatcher",
            "Assign",
            "Items",
            "Output",
        ],
        _ => &[],
    }
}

/// The state names a raw state object can transition to.
fn raw_edges(state: &Value) -> Vec<&str> {
    let mut targets: Vec<Option<&Value>> = vec![state.get("Next"), state.get("Default")];
    for list in ["Choices", "Catch"] {
        if let Some(Value::Array(a)) = state.get(list) {
            targets.extend(a.iter().map(|item| item.get("Next")));
        }
    }
    targets.into_iter().flatten().filter_map(Value::as_str).collect()
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

struct Parser {
    problems: Vec<Problem>,
    /// Every state name seen so far, with where: names must be unique across
    /// the whole state machine, branches and item processors included.
    names: HashMap<String, String>,
}

impl Parser {
    fn push(&mut self, location: &str, state: Option<&str>, field: Option<&str>, message: String) {
        self.problems.push(Problem {
            location: if location.is_empty() { "/".into() } else { location.into() },
            state: state.map(str::to_string),
            field: field.map(str::to_string),
            message,
        });
    }

    fn opt_str<'v>(&mut self, obj: &'v Map<String, Value>, loc: &str, st: Option<&str>, f: &str) -> Option<&'v str> {
        match obj.get(f)? {
            Value::String(s) => Some(s),
            other => {
                self.push(&format!("{loc}/{f}"), st, Some(f), format!("must be a string, got {}", type_name(other)));
                None
            }
        }
    }

    /// [`Self::opt_str`] for a field the definition must have: its absence is a problem too.
    fn req_str<'v>(&mut self, obj: &'v Map<String, Value>, loc: &str, st: Option<&str>, f: &str) -> Option<&'v str> {
        if !obj.contains_key(f) {
            self.push(&format!("{loc}/{f}"), st, Some(f), "is required".into());
            return None;
        }
        self.opt_str(obj, loc, st, f)
    }

    fn opt_uint(&mut self, obj: &Map<String, Value>, loc: &str, st: Option<&str>, f: &str, min: u64) -> Option<u64> {
        let v = obj.get(f)?;
        match v.as_u64() {
            Some(n) if n >= min => Some(n),
            _ => {
                self.push(&format!("{loc}/{f}"), st, Some(f), format!("must be an integer ≥ {min}, got {v}"));
                None
            }
        }
    }

    fn opt_number(&mut self, obj: &Map<String, Value>, loc: &str, st: Option<&str>, f: &str) -> Option<f64> {
        let v = obj.get(f)?;
        match v.as_f64() {
            Some(n) => Some(n),
            None => {
                self.push(&format!("{loc}/{f}"), st, Some(f), format!("must be a number, got {}", type_name(v)));
                None
            }
        }
    }

    fn opt_path(&mut self, obj: &Map<String, Value>, loc: &str, st: &str, f: &str, reference: bool) -> PathOpt {
        match obj.get(f) {
            None => PathOpt::Default,
            Some(Value::Null) => PathOpt::Null,
            Some(Value::String(s)) => {
                let r = if reference { Path::parse_reference(s) } else { Path::parse(s) };
                match r {
                    Ok(p) => PathOpt::Path(p),
                    Err(e) => {
                        self.push(&format!("{loc}/{f}"), Some(st), Some(f), e.to_string());
                        PathOpt::Default
                    }
                }
            }
            Some(other) => {
                self.push(
                    &format!("{loc}/{f}"),
                    Some(st),
                    Some(f),
                    format!("must be a path string or null, got {}", type_name(other)),
                );
                PathOpt::Default
            }
        }
    }

    fn req_path(&mut self, obj: &Map<String, Value>, loc: &str, st: &str, f: &str) -> Option<Path> {
        match self.opt_path(obj, loc, st, f, false) {
            PathOpt::Path(p) => Some(p),
            PathOpt::Null => {
                self.push(&format!("{loc}/{f}"), Some(st), Some(f), "must be a path, not null".into());
                None
            }
            PathOpt::Default => None,
        }
    }

    fn template(
        &mut self,
        obj: &Map<String, Value>,
        loc: &str,
        st: &str,
        f: &str,
        lang: Lang,
        need_object: bool,
    ) -> Option<Template> {
        let v = obj.get(f)?;
        if need_object && !v.is_object() && !(lang == Lang::Jsonata && v.is_string()) {
            self.push(&format!("{loc}/{f}"), Some(st), Some(f), format!("must be an object, got {}", type_name(v)));
            return None;
        }
        let mut tp = Vec::new();
        let t = Template::compile(v, lang, f, &mut tp);
        for (sub, msg) in tp {
            self.push(&format!("{loc}/{f}{sub}"), Some(st), Some(f), msg);
        }
        Some(t)
    }

    /// `Assign`: an object whose keys are variable names. `within` is the
    /// choice rule or catcher holding it (`Choices[0]`), if any.
    fn assign(&mut self, obj: &Map<String, Value>, loc: &str, st: &str, lang: Lang, within: &str) -> Option<Template> {
        let t = self.template(obj, loc, st, "Assign", lang, true)?.within(within);
        if let Some(Value::Object(m)) = obj.get("Assign") {
            for k in m.keys() {
                let name = k.strip_suffix(".$").unwrap_or(k);
                let ok = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !ok || name == "states" {
                    self.push(
                        &format!("{loc}/Assign/{k}"),
                        Some(st),
                        Some("Assign"),
                        format!("'{name}' is not a valid variable name"),
                    );
                }
            }
        }
        Some(t)
    }

    fn dyn_uint(
        &mut self,
        obj: &Map<String, Value>,
        loc: &str,
        st: &str,
        f: &str,
        min: u64,
        lang: Lang,
    ) -> Option<Dyn<u64>> {
        let pf = format!("{f}Path");
        let fixed = match obj.get(f) {
            Some(Value::String(s)) if lang == Lang::Jsonata => match jsonata::expression(s) {
                Some(e) => {
                    if let Err(err) = jsonata::check(e) {
                        self.push(
                            &format!("{loc}/{f}"),
                            Some(st),
                            Some(f),
                            format!("invalid JSONata expression: {err}"),
                        );
                    }
                    Some(Dyn::Jsonata(e.to_string()))
                }
                None => {
                    self.push(
                        &format!("{loc}/{f}"),
                        Some(st),
                        Some(f),
                        "must be an integer or a {% %} expression".into(),
                    );
                    None
                }
            },
            Some(_) => self.opt_uint(obj, loc, Some(st), f, min).map(Dyn::Fixed),
            None => None,
        };
        let path = if obj.contains_key(&pf) { self.req_path(obj, loc, st, &pf).map(Dyn::Path) } else { None };
        if obj.contains_key(f) && obj.contains_key(&pf) {
            self.push(&format!("{loc}/{pf}"), Some(st), Some(&pf), format!("'{f}' and '{pf}' are mutually exclusive"));
        }
        fixed.or(path)
    }

    fn next(
        &mut self,
        obj: &Map<String, Value>,
        loc: &str,
        st: &str,
        f: &str,
        index: &HashMap<String, usize>,
    ) -> Option<usize> {
        let n = self.opt_str(obj, loc, Some(st), f)?;
        match index.get(n) {
            Some(i) => Some(*i),
            None => {
                self.push(
                    &format!("{loc}/{f}"),
                    Some(st),
                    Some(f),
                    format!("names the state '{n}', which does not exist"),
                );
                None
            }
        }
    }

    fn machine(&mut self, obj: &Map<String, Value>, loc: &str, lang: Lang) -> Option<Machine> {
        let start_name = self.req_str(obj, loc, None, "StartAt");
        let states = match obj.get("States") {
            Some(Value::Object(m)) if !m.is_empty() => m,
            Some(Value::Object(_)) => {
                self.push(&format!("{loc}/States"), None, Some("States"), "must hold at least one state".into());
                return None;
            }
            Some(other) => {
                self.push(
                    &format!("{loc}/States"),
                    None,
                    Some("States"),
                    format!("must be an object, got {}", type_name(other)),
                );
                return None;
            }
            None => {
                self.push(&format!("{loc}/States"), None, Some("States"), "is required".into());
                return None;
            }
        };
        let index: HashMap<String, usize> = states.keys().enumerate().map(|(i, k)| (k.clone(), i)).collect();
        let start = match start_name {
            Some(s) => match index.get(s) {
                Some(i) => Some(*i),
                None => {
                    self.push(
                        &format!("{loc}/StartAt"),
                        None,
                        Some("StartAt"),
                        format!("names the state '{s}', which does not exist"),
                    );
                    None
                }
            },
            None => None,
        };
        let mut parsed = Vec::with_capacity(states.len());
        let mut ok = true;
        for (name, sv) in states {
            let sloc = format!("{loc}/States/{name}");
            if name.is_empty() || name.chars().count() > 80 {
                self.push(&sloc, Some(name), None, "state names must be 1 to 80 characters long".into());
            }
            if let Some(first) = self.names.get(name) {
                let msg = format!(
                    "the state name is already used at {first}; names must be unique in the whole state machine"
                );
                self.push(&sloc, Some(name), None, msg);
            } else {
                self.names.insert(name.clone(), sloc.clone());
            }
            match self.state(name, sv, &sloc, lang, &index) {
                Some(s) => parsed.push(s),
                None => ok = false,
            }
        }
        // Reachability from StartAt, read from the raw JSON so that it is
        // reported even when some states have other problems.
        if let Some(start) = start {
            let names: Vec<&String> = states.keys().collect();
            let mut seen = vec![false; names.len()];
            let mut queue = VecDeque::from([start]);
            seen[start] = true;
            while let Some(i) = queue.pop_front() {
                for target in raw_edges(&states[names[i].as_str()]) {
                    if let Some(&e) = index.get(target)
                        && !seen[e]
                    {
                        seen[e] = true;
                        queue.push_back(e);
                    }
                }
            }
            for (i, n) in names.iter().enumerate() {
                if !seen[i] {
                    self.push(
                        &format!("{loc}/States/{n}"),
                        Some(n),
                        None,
                        "the state is not reachable from StartAt".into(),
                    );
                }
            }
        }
        let start = start?;
        if !ok {
            return None;
        }
        Some(Machine { start, states: parsed })
    }

    fn state(
        &mut self,
        name: &str,
        sv: &Value,
        loc: &str,
        parent_lang: Lang,
        index: &HashMap<String, usize>,
    ) -> Option<State> {
        let st = Some(name);
        let Some(obj) = sv.as_object() else {
            self.push(loc, st, None, format!("a state must be an object, got {}", type_name(sv)));
            return None;
        };
        let before = self.problems.len();
        let ty = match self.req_str(obj, loc, st, "Type")? {
            t if !allowed(t).is_empty() => t,
            t => {
                self.push(
                    &format!("{loc}/Type"),
                    st,
                    Some("Type"),
                    format!(
                        "unknown state type '{t}' (expected Pass, Task, Choice, Wait, Succeed, Fail, Parallel or Map)"
                    ),
                );
                return None;
            }
        };
        let lang = match obj.get("QueryLanguage") {
            None => parent_lang,
            Some(Value::String(s)) if s == "JSONata" => Lang::Jsonata,
            Some(Value::String(s)) if s == "JSONPath" => {
                if parent_lang == Lang::Jsonata {
                    self.push(
                        &format!("{loc}/QueryLanguage"),
                        st,
                        Some("QueryLanguage"),
                        "a state may not use JSONPath when the state machine uses JSONata".into(),
                    );
                }
                Lang::JsonPath
            }
            Some(other) => {
                self.push(
                    &format!("{loc}/QueryLanguage"),
                    st,
                    Some("QueryLanguage"),
                    format!("must be \"JSONPath\" or \"JSONata\", got {other}"),
                );
                parent_lang
            }
        };
        let allow = allowed(ty);
        for k in obj.keys() {
            let k = k.as_str();
            if COMMON.contains(&k) {
                continue;
            }
            if !allow.contains(&k) {
                self.push(&format!("{loc}/{k}"), st, Some(k), format!("unknown field for a {ty} state"));
            } else if lang == Lang::Jsonata && JSONPATH_ONLY.contains(&k) {
                self.push(
                    &format!("{loc}/{k}"),
                    st,
                    Some(k),
                    "this field is not supported when QueryLanguage is JSONata".into(),
                );
            } else if lang == Lang::JsonPath && JSONATA_ONLY.contains(&k) {
                self.push(&format!("{loc}/{k}"), st, Some(k), "this field requires QueryLanguage JSONata".into());
            }
        }
        self.opt_str(obj, loc, st, "Comment");

        // Transition.
        let terminal = matches!(ty, "Choice" | "Succeed" | "Fail");
        let mut next = None;
        if !terminal {
            let end = match obj.get("End") {
                None => false,
                Some(Value::Bool(b)) => *b,
                Some(other) => {
                    self.push(
                        &format!("{loc}/End"),
                        st,
                        Some("End"),
                        format!("must be a boolean, got {}", type_name(other)),
                    );
                    false
                }
            };
            match (obj.contains_key("Next"), end) {
                (true, true) => self.push(
                    &format!("{loc}/Next"),
                    st,
                    Some("Next"),
                    "a state may not have both Next and End: true".into(),
                ),
                (false, false) => {
                    self.push(loc, st, Some("Next"), "the state must have either Next or End: true".into())
                }
                (true, false) => next = self.next(obj, loc, name, "Next", index),
                (false, true) => {}
            }
        }

        let (input_path, output_path, result_path) = if lang == Lang::JsonPath {
            (
                self.opt_path(obj, loc, name, "InputPath", false),
                self.opt_path(obj, loc, name, "OutputPath", false),
                self.opt_path(obj, loc, name, "ResultPath", true),
            )
        } else {
            (PathOpt::Default, PathOpt::Default, PathOpt::Default)
        };
        let params_field = if lang == Lang::Jsonata { "Arguments" } else { "Parameters" };
        let parameters = if ty == "Map" && lang == Lang::JsonPath {
            None // Map's Parameters is the legacy ItemSelector, handled below.
        } else {
            self.template(obj, loc, name, params_field, lang, lang == Lang::JsonPath)
        };
        let result_selector = self.template(obj, loc, name, "ResultSelector", lang, true);
        let output = if lang == Lang::Jsonata { self.template(obj, loc, name, "Output", lang, false) } else { None };
        let assign = if obj.contains_key("Assign") { self.assign(obj, loc, name, lang, "") } else { None };
        let retry = if obj.contains_key("Retry") { self.retriers(obj, loc, name) } else { Vec::new() };
        let catch = if obj.contains_key("Catch") { self.catchers(obj, loc, name, lang, index) } else { Vec::new() };

        let kind = match ty {
            "Pass" => Kind::Pass { result: obj.get("Result").cloned() },
            "Task" => {
                let resource = match obj.get("Resource") {
                    Some(Value::String(s)) if !s.is_empty() => s.clone(),
                    Some(other) => {
                        self.push(
                            &format!("{loc}/Resource"),
                            st,
                            Some("Resource"),
                            format!("must be a non-empty string, got {other}"),
                        );
                        String::new()
                    }
                    None => {
                        self.push(&format!("{loc}/Resource"), st, Some("Resource"), "is required".into());
                        String::new()
                    }
                };
                let timeout = self.dyn_uint(obj, loc, name, "TimeoutSeconds", 1, lang);
                let heartbeat = self.dyn_uint(obj, loc, name, "HeartbeatSeconds", 1, lang);
                if let (Some(Dyn::Fixed(t)), Some(Dyn::Fixed(h))) = (&timeout, &heartbeat)
                    && h >= t
                {
                    self.push(
                        &format!("{loc}/HeartbeatSeconds"),
                        st,
                        Some("HeartbeatSeconds"),
                        "must be smaller than TimeoutSeconds".into(),
                    );
                }
                let credentials = self.template(obj, loc, name, "Credentials", lang, true);
                Kind::Task { resource, timeout, heartbeat, credentials }
            }
            "Choice" => self.choice_state(obj, loc, name, lang, index),
            "Wait" => {
                let mut count = 0;
                let mut wait = None;
                for f in ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"] {
                    if obj.contains_key(f) {
                        count += 1;
                    }
                }
                if count != 1 {
                    self.push(
                        loc,
                        st,
                        Some("Seconds"),
                        "a Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath".into(),
                    );
                }
                if obj.contains_key("Seconds") || obj.contains_key("SecondsPath") {
                    wait = self.dyn_uint(obj, loc, name, "Seconds", 0, lang).map(Wait::Seconds);
                } else if let Some(v) = obj.get("Timestamp") {
                    match v {
                        Value::String(s) if lang == Lang::Jsonata && jsonata::expression(s).is_some() => {
                            let e = jsonata::expression(s).unwrap_or_default();
                            if let Err(err) = jsonata::check(e) {
                                self.push(
                                    &format!("{loc}/Timestamp"),
                                    st,
                                    Some("Timestamp"),
                                    format!("invalid JSONata expression: {err}"),
                                );
                            }
                            wait = Some(Wait::Timestamp(Dyn::Jsonata(e.to_string())));
                        }
                        Value::String(s) if choice::parse_timestamp(s).is_some() => {
                            wait = Some(Wait::Timestamp(Dyn::Fixed(s.clone())))
                        }
                        other => self.push(
                            &format!("{loc}/Timestamp"),
                            st,
                            Some("Timestamp"),
                            format!("must be an RFC 3339 timestamp, got {other}"),
                        ),
                    }
                } else if obj.contains_key("TimestampPath") {
                    wait = self.req_path(obj, loc, name, "TimestampPath").map(|p| Wait::Timestamp(Dyn::Path(p)));
                }
                Kind::Wait(wait.unwrap_or(Wait::Seconds(Dyn::Fixed(0))))
            }
            "Succeed" => Kind::Succeed,
            "Fail" => {
                let error = self.fail_text(obj, loc, name, "Error", lang);
                let cause = self.fail_text(obj, loc, name, "Cause", lang);
                Kind::Fail { error, cause }
            }
            "Parallel" => {
                let mut branches = Vec::new();
                match obj.get("Branches") {
                    Some(Value::Array(a)) if !a.is_empty() => {
                        for (i, b) in a.iter().enumerate() {
                            let bloc = format!("{loc}/Branches/{i}");
                            match b.as_object() {
                                Some(bo) => {
                                    self.sub_fields(bo, &bloc, name, &["StartAt", "States", "Comment"]);
                                    if let Some(m) = self.machine(bo, &bloc, lang) {
                                        branches.push(m);
                                    }
                                }
                                None => self.push(&bloc, st, Some("Branches"), "a branch must be an object".into()),
                            }
                        }
                    }
                    Some(_) => {
                        self.push(&format!("{loc}/Branches"), st, Some("Branches"), "must be a non-empty array".into())
                    }
                    None => self.push(&format!("{loc}/Branches"), st, Some("Branches"), "is required".into()),
                }
                Kind::Parallel { branches }
            }
            "Map" => match self.map_state(obj, loc, name, lang) {
                Some(m) => Kind::Map(Box::new(m)),
                None => return None,
            },
            _ => return None,
        };
        if self.problems.len() > before {
            return None;
        }
        Some(State {
            name: name.to_string(),
            lang,
            kind,
            input_path,
            output_path,
            parameters,
            result_selector,
            result_path,
            output,
            assign,
            next,
            retry,
            catch,
        })
    }

    fn sub_fields(&mut self, obj: &Map<String, Value>, loc: &str, st: &str, allowed: &[&str]) {
        for k in obj.keys() {
            if !allowed.contains(&k.as_str()) {
                self.push(&format!("{loc}/{k}"), Some(st), Some(k), "unknown field".into());
            }
        }
    }

    fn fail_text(&mut self, obj: &Map<String, Value>, loc: &str, st: &str, f: &str, lang: Lang) -> Option<Text> {
        let pf = format!("{f}Path");
        if obj.contains_key(f) && obj.contains_key(&pf) {
            self.push(&format!("{loc}/{pf}"), Some(st), Some(&pf), format!("'{f}' and '{pf}' are mutually exclusive"));
        }
        if let Some(v) = obj.get(&pf) {
            let Some(s) = v.as_str() else {
                self.push(
                    &format!("{loc}/{pf}"),
                    Some(st),
                    Some(&pf),
                    "must be a path or intrinsic function string".into(),
                );
                return None;
            };
            let mut tp = Vec::new();
            let t = template::compile_dynamic(s, "", &pf, &mut tp);
            for (_, msg) in tp {
                self.push(&format!("{loc}/{pf}"), Some(st), Some(&pf), msg);
            }
            return Some(Text::Dynamic(t));
        }
        let s = self.opt_str(obj, loc, Some(st), f)?;
        if lang == Lang::Jsonata && jsonata::expression(s).is_some() {
            return self.template(obj, loc, st, f, lang, false).map(Text::Dynamic);
        }
        Some(Text::Literal(s.to_string()))
    }

    fn error_equals(&mut self, o: &Map<String, Value>, loc: &str, st: &str, field: &str) -> Vec<String> {
        let mut out = Vec::new();
        match o.get("ErrorEquals") {
            Some(Value::Array(a)) if !a.is_empty() => {
                for (i, e) in a.iter().enumerate() {
                    match e.as_str() {
                        Some(s) => out.push(s.to_string()),
                        None => self.push(
                            &format!("{loc}/ErrorEquals/{i}"),
                            Some(st),
                            Some(field),
                            "error names must be strings".into(),
                        ),
                    }
                }
                if out.iter().any(|e| e == names::ALL) && out.len() > 1 {
                    self.push(
                        &format!("{loc}/ErrorEquals"),
                        Some(st),
                        Some(field),
                        "States.ALL must appear alone in ErrorEquals".into(),
                    );
                }
            }
            _ => self.push(
                &format!("{loc}/ErrorEquals"),
                Some(st),
                Some(field),
                "ErrorEquals must be a non-empty array of error names".into(),
            ),
        }
        out
    }

    fn retriers(&mut self, obj: &Map<String, Value>, loc: &str, st: &str) -> Vec<Retrier> {
        let Some(Value::Array(a)) = obj.get("Retry") else {
            self.push(&format!("{loc}/Retry"), Some(st), Some("Retry"), "must be an array of retriers".into());
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, r) in a.iter().enumerate() {
            let rloc = format!("{loc}/Retry/{i}");
            let Some(o) = r.as_object() else {
                self.push(&rloc, Some(st), Some("Retry"), "a retrier must be an object".into());
                continue;
            };
            self.sub_fields(
                o,
                &rloc,
                st,
                &[
                    "ErrorEquals",
                    "IntervalSeconds",
                    "MaxAttempts",
                    "BackoffRate",
                    "MaxDelaySeconds",
                    "JitterStrategy",
                    "Comment",
                ],
            );
            let error_equals = self.error_equals(o, &rloc, st, "Retry");
            if error_equals.iter().any(|e| e == names::ALL) && i + 1 != a.len() {
                self.push(
                    &format!("{rloc}/ErrorEquals"),
                    Some(st),
                    Some("Retry"),
                    "a retrier with States.ALL must be the last retrier".into(),
                );
            }
            let interval_seconds = self.opt_uint(o, &rloc, Some(st), "IntervalSeconds", 1).unwrap_or(1) as f64;
            let max_attempts = self.opt_uint(o, &rloc, Some(st), "MaxAttempts", 0).unwrap_or(3).min(99_999_999) as u32;
            let backoff_rate = match self.opt_number(o, &rloc, Some(st), "BackoffRate") {
                Some(b) if b < 1.0 => {
                    self.push(
                        &format!("{rloc}/BackoffRate"),
                        Some(st),
                        Some("BackoffRate"),
                        "must be at least 1.0".into(),
                    );
                    2.0
                }
                Some(b) => b,
                None => 2.0,
            };
            let max_delay_seconds = self.opt_uint(o, &rloc, Some(st), "MaxDelaySeconds", 1).map(|n| n as f64);
            let jitter_full = match self.opt_str(o, &rloc, Some(st), "JitterStrategy") {
                None | Some("NONE") => false,
                Some("FULL") => true,
                Some(other) => {
                    self.push(
                        &format!("{rloc}/JitterStrategy"),
                        Some(st),
                        Some("JitterStrategy"),
                        format!("must be FULL or NONE, got '{other}'"),
                    );
                    false
                }
            };
            out.push(Retrier {
                error_equals,
                interval_seconds,
                max_attempts,
                backoff_rate,
                max_delay_seconds,
                jitter_full,
            });
        }
        out
    }

    fn catchers(
        &mut self,
        obj: &Map<String, Value>,
        loc: &str,
        st: &str,
        lang: Lang,
        index: &HashMap<String, usize>,
    ) -> Vec<Catcher> {
        let Some(Value::Array(a)) = obj.get("Catch") else {
            self.push(&format!("{loc}/Catch"), Some(st), Some("Catch"), "must be an array of catchers".into());
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, c) in a.iter().enumerate() {
            let cloc = format!("{loc}/Catch/{i}");
            let Some(o) = c.as_object() else {
                self.push(&cloc, Some(st), Some("Catch"), "a catcher must be an object".into());
                continue;
            };
            let allowed: &[&str] = if lang == Lang::Jsonata {
                &["ErrorEquals", "Next", "Output", "Assign", "Comment"]
            } else {
                &["ErrorEquals", "Next", "ResultPath", "Assign", "Comment"]
            };
            self.sub_fields(o, &cloc, st, allowed);
            let error_equals = self.error_equals(o, &cloc, st, "Catch");
            if error_equals.iter().any(|e| e == names::ALL) && i + 1 != a.len() {
                self.push(
                    &format!("{cloc}/ErrorEquals"),
                    Some(st),
                    Some("Catch"),
                    "a catcher with States.ALL must be the last catcher".into(),
                );
            }
            let next = if o.contains_key("Next") {
                self.next(o, &cloc, st, "Next", index)
            } else {
                self.push(&format!("{cloc}/Next"), Some(st), Some("Catch"), "a catcher needs Next".into());
                None
            };
            let result_path =
                if lang == Lang::JsonPath { self.opt_path(o, &cloc, st, "ResultPath", true) } else { PathOpt::Default };
            let within = format!("Catch[{i}]");
            let assign = if o.contains_key("Assign") { self.assign(o, &cloc, st, lang, &within) } else { None };
            let output = if lang == Lang::Jsonata {
                self.template(o, &cloc, st, "Output", lang, false).map(|t| t.within(&within))
            } else {
                None
            };
            if let Some(next) = next {
                out.push(Catcher { error_equals, next, result_path, assign, output });
            }
        }
        out
    }

    fn choice_state(
        &mut self,
        obj: &Map<String, Value>,
        loc: &str,
        st: &str,
        lang: Lang,
        index: &HashMap<String, usize>,
    ) -> Kind {
        let mut choices = Vec::new();
        match obj.get("Choices") {
            Some(Value::Array(a)) if !a.is_empty() => {
                for (i, c) in a.iter().enumerate() {
                    let cloc = format!("{loc}/Choices/{i}");
                    let Some(o) = c.as_object() else {
                        self.push(&cloc, Some(st), Some("Choices"), "a choice rule must be an object".into());
                        continue;
                    };
                    let rule = self.rule(o, &cloc, st, lang, true);
                    let next = if o.contains_key("Next") {
                        self.next(o, &cloc, st, "Next", index)
                    } else {
                        self.push(
                            &format!("{cloc}/Next"),
                            Some(st),
                            Some("Choices"),
                            "a top-level choice rule needs Next".into(),
                        );
                        None
                    };
                    let within = format!("Choices[{i}]");
                    let assign = if o.contains_key("Assign") { self.assign(o, &cloc, st, lang, &within) } else { None };
                    let output = if lang == Lang::Jsonata {
                        self.template(o, &cloc, st, "Output", lang, false).map(|t| t.within(&within))
                    } else {
                        None
                    };
                    if let (Some(rule), Some(next)) = (rule, next) {
                        choices.push(ChoiceBranch { rule, next, assign, output });
                    }
                }
            }
            Some(_) => self.push(
                &format!("{loc}/Choices"),
                Some(st),
                Some("Choices"),
                "must be a non-empty array of choice rules".into(),
            ),
            None => self.push(&format!("{loc}/Choices"), Some(st), Some("Choices"), "is required".into()),
        }
        let default = if obj.contains_key("Default") { self.next(obj, loc, st, "Default", index) } else { None };
        Kind::Choice { choices, default }
    }

    fn rule(&mut self, o: &Map<String, Value>, loc: &str, st: &str, lang: Lang, top: bool) -> Option<Rule> {
        let st_o = Some(st);
        let extra: &[&str] = if top { &["Next", "Assign", "Output", "Comment"] } else { &["Comment"] };
        if lang == Lang::Jsonata {
            for k in o.keys() {
                if k != "Condition" && !extra.contains(&k.as_str()) {
                    self.push(
                        &format!("{loc}/{k}"),
                        st_o,
                        Some(k),
                        "unknown field in a JSONata choice rule (use Condition)".into(),
                    );
                }
            }
            return match o.get("Condition") {
                Some(Value::String(s)) => match jsonata::expression(s) {
                    Some(e) => {
                        if let Err(err) = jsonata::check(e) {
                            self.push(
                                &format!("{loc}/Condition"),
                                st_o,
                                Some("Condition"),
                                format!("invalid JSONata expression: {err}"),
                            );
                        }
                        Some(Rule::Condition { expr: e.to_string(), field: condition_field(loc) })
                    }
                    None => {
                        self.push(
                            &format!("{loc}/Condition"),
                            st_o,
                            Some("Condition"),
                            "must be a {% %} expression".into(),
                        );
                        None
                    }
                },
                Some(Value::Bool(b)) => Some(Rule::Condition { expr: b.to_string(), field: condition_field(loc) }),
                _ => {
                    self.push(
                        &format!("{loc}/Condition"),
                        st_o,
                        Some("Condition"),
                        "a JSONata choice rule needs a Condition".into(),
                    );
                    None
                }
            };
        }
        // JSONPath: exactly one of And / Or / Not / (Variable + one operator).
        let ops: Vec<&String> = o.keys().filter(|k| !extra.contains(&k.as_str()) && k.as_str() != "Variable").collect();
        if ops.len() != 1 {
            let msg = if ops.is_empty() {
                "a choice rule needs a comparison operator, And, Or or Not".to_string()
            } else {
                format!(
                    "a choice rule must have exactly one operator, found {}",
                    ops.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                )
            };
            self.push(loc, st_o, Some("Choices"), msg);
            return None;
        }
        let op = ops[0].as_str();
        let v = &o[op];
        let oloc = format!("{loc}/{op}");
        match op {
            "And" | "Or" => {
                if o.contains_key("Variable") {
                    self.push(
                        &format!("{loc}/Variable"),
                        st_o,
                        Some("Variable"),
                        format!("{op} rules may not have a Variable"),
                    );
                }
                let Some(a) = v.as_array().filter(|a| !a.is_empty()) else {
                    self.push(&oloc, st_o, Some(op), "must be a non-empty array of rules".into());
                    return None;
                };
                let mut rs = Vec::new();
                for (i, r) in a.iter().enumerate() {
                    match r.as_object() {
                        Some(ro) => rs.push(self.rule(ro, &format!("{oloc}/{i}"), st, lang, false)?),
                        None => {
                            self.push(&format!("{oloc}/{i}"), st_o, Some(op), "a rule must be an object".into());
                            return None;
                        }
                    }
                }
                Some(if op == "And" { Rule::And(rs) } else { Rule::Or(rs) })
            }
            "Not" => {
                let Some(ro) = v.as_object() else {
                    self.push(&oloc, st_o, Some(op), "must be a rule object".into());
                    return None;
                };
                Some(Rule::Not(Box::new(self.rule(ro, &oloc, st, lang, false)?)))
            }
            _ => {
                let variable = match o.get("Variable") {
                    Some(Value::String(s)) => match Path::parse(s) {
                        Ok(p) => p,
                        Err(e) => {
                            self.push(&format!("{loc}/Variable"), st_o, Some("Variable"), e.to_string());
                            return None;
                        }
                    },
                    Some(other) => {
                        self.push(
                            &format!("{loc}/Variable"),
                            st_o,
                            Some("Variable"),
                            format!("must be a path string, got {}", type_name(other)),
                        );
                        return None;
                    }
                    None => {
                        self.push(
                            &format!("{loc}/Variable"),
                            st_o,
                            Some("Variable"),
                            format!("a {op} rule needs a Variable"),
                        );
                        return None;
                    }
                };
                if let Some(test) = choice::type_test(op) {
                    let Some(b) = v.as_bool() else {
                        self.push(&oloc, st_o, Some(op), "must be a boolean".into());
                        return None;
                    };
                    return Some(Rule::Test { variable, test, expected: b });
                }
                if op == "StringMatches" {
                    let Some(s) = v.as_str() else {
                        self.push(&oloc, st_o, Some(op), "must be a string pattern".into());
                        return None;
                    };
                    return Some(Rule::Matches { variable, pattern: s.to_string() });
                }
                let Some((kind, cmp, is_path)) = choice::operator(op) else {
                    self.push(&oloc, st_o, Some(op), "unknown choice rule operator".into());
                    return None;
                };
                let operand = if is_path {
                    match v.as_str().map(Path::parse) {
                        Some(Ok(p)) => Operand::Path(p),
                        Some(Err(e)) => {
                            self.push(&oloc, st_o, Some(op), e.to_string());
                            return None;
                        }
                        None => {
                            self.push(&oloc, st_o, Some(op), "must be a path string".into());
                            return None;
                        }
                    }
                } else {
                    let ok = match kind {
                        choice::Kind::String => v.is_string(),
                        choice::Kind::Numeric => v.is_number(),
                        choice::Kind::Boolean => v.is_boolean(),
                        choice::Kind::Timestamp => v.as_str().and_then(choice::parse_timestamp).is_some(),
                    };
                    if !ok {
                        let want = match kind {
                            choice::Kind::String => "a string",
                            choice::Kind::Numeric => "a number",
                            choice::Kind::Boolean => "a boolean",
                            choice::Kind::Timestamp => "an RFC 3339 timestamp string",
                        };
                        self.push(&oloc, st_o, Some(op), format!("must be {want}, got {v}"));
                        return None;
                    }
                    Operand::Literal(v.clone())
                };
                Some(Rule::Compare { variable, kind, op: cmp, operand })
            }
        }
    }

    fn map_state(&mut self, obj: &Map<String, Value>, loc: &str, st: &str, lang: Lang) -> Option<MapSpec> {
        let stp = Some(st);
        let items_path =
            if lang == Lang::JsonPath { self.opt_path(obj, loc, st, "ItemsPath", false) } else { PathOpt::Default };
        let items = if lang == Lang::Jsonata { self.template(obj, loc, st, "Items", lang, false) } else { None };
        if obj.contains_key("ItemSelector") && obj.contains_key("Parameters") {
            self.push(
                &format!("{loc}/Parameters"),
                stp,
                Some("Parameters"),
                "ItemSelector and Parameters are mutually exclusive".into(),
            );
        }
        let item_selector = if obj.contains_key("ItemSelector") {
            self.template(obj, loc, st, "ItemSelector", lang, true)
        } else {
            self.template(obj, loc, st, "Parameters", lang, true)
        };
        let (pf, pv) = match (obj.get("ItemProcessor"), obj.get("Iterator")) {
            (Some(_), Some(_)) => {
                self.push(
                    &format!("{loc}/Iterator"),
                    stp,
                    Some("Iterator"),
                    "ItemProcessor and Iterator are mutually exclusive".into(),
                );
                return None;
            }
            (Some(p), None) => ("ItemProcessor", p),
            (None, Some(p)) => ("Iterator", p),
            (None, None) => {
                self.push(&format!("{loc}/ItemProcessor"), stp, Some("ItemProcessor"), "is required".into());
                return None;
            }
        };
        let ploc = format!("{loc}/{pf}");
        let Some(po) = pv.as_object() else {
            self.push(&ploc, stp, Some(pf), "must be an object".into());
            return None;
        };
        self.sub_fields(po, &ploc, st, &["StartAt", "States", "Comment", "ProcessorConfig"]);
        if let Some(cfg) = po.get("ProcessorConfig")
            && let Some(mode) = cfg.get("Mode").and_then(Value::as_str)
            && mode != "INLINE"
            && mode != "DISTRIBUTED"
        {
            self.push(
                &format!("{ploc}/ProcessorConfig/Mode"),
                stp,
                Some("ProcessorConfig"),
                format!("Mode must be INLINE or DISTRIBUTED, got '{mode}'"),
            );
        }
        for f in ["ItemReader", "ResultWriter", "ItemBatcher"] {
            if obj.contains_key(f) {
                self.push(
                    &format!("{loc}/{f}"),
                    stp,
                    Some(f),
                    "distributed Map item sources and writers are not supported by this interpreter".into(),
                );
            }
        }
        let processor = self.machine(po, &ploc, lang)?;
        let max_concurrency = self.dyn_uint(obj, loc, st, "MaxConcurrency", 0, lang).unwrap_or(Dyn::Fixed(0));
        let tolerated_count = self.dyn_uint(obj, loc, st, "ToleratedFailureCount", 0, lang);
        let tolerated_percentage = match obj.get("ToleratedFailurePercentage") {
            // AWS accepts a JSONata expression here as for the other numeric
            // Map fields; its value is checked when the state runs.
            Some(Value::String(s)) if lang == Lang::Jsonata && jsonata::expression(s).is_some() => {
                let e = jsonata::expression(s).unwrap_or_default();
                if let Err(err) = jsonata::check(e) {
                    self.push(
                        &format!("{loc}/ToleratedFailurePercentage"),
                        stp,
                        Some("ToleratedFailurePercentage"),
                        format!("invalid JSONata expression: {err}"),
                    );
                }
                Some(Dyn::Jsonata(e.to_string()))
            }
            Some(v) => match v.as_f64() {
                Some(p) if (0.0..=100.0).contains(&p) => Some(Dyn::Fixed(p)),
                _ => {
                    self.push(
                        &format!("{loc}/ToleratedFailurePercentage"),
                        stp,
                        Some("ToleratedFailurePercentage"),
                        "must be a number from 0 to 100".into(),
                    );
                    None
                }
            },
            None => match obj.contains_key("ToleratedFailurePercentagePath") {
                true => self.req_path(obj, loc, st, "ToleratedFailurePercentagePath").map(Dyn::Path),
                false => None,
            },
        };
        Some(MapSpec {
            items_path,
            items,
            item_selector,
            processor,
            max_concurrency,
            tolerated_percentage,
            tolerated_count,
        })
    }
}

/// `Choices[i]/Condition` for the rule at `…/Choices/i`.
fn condition_field(rule_loc: &str) -> String {
    match rule_loc.rsplit('/').next() {
        Some(i) if i.bytes().all(|b| b.is_ascii_digit()) => format!("Choices[{i}]/Condition"),
        _ => "Condition".to_string(),
    }
}

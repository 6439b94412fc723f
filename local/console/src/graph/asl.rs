//! The parts of an ASL definition a drawing needs: each scope's states, their transitions (with a short label for
//! Choice rules and Catchers), whether they end the scope, and the scopes nested in Parallel and Map states. Checks
//! only what drawing depends on (every transition names a state of its scope); the engine validates the rest.

use super::GraphError;
use serde_json::Value;
use std::collections::HashMap;

/// At most this many states in all scopes together.
pub const MAX_STATES: usize = 2_000;
/// At most this many Parallel/Map levels inside one another.
pub const MAX_DEPTH: usize = 20;
/// Labels longer than this many characters are shortened with "…".
const MAX_LABEL: usize = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// From the start marker to `StartAt`.
    Start,
    Next,
    /// A Choice rule; its label says which.
    Rule,
    Default,
    Catch,
    /// From a state that ends its scope (`End`, Succeed, Fail) to the end marker.
    End,
}

impl EdgeKind {
    pub fn class(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Next => "next",
            Self::Rule => "rule",
            Self::Default => "default",
            Self::Catch => "catch",
            Self::End => "end",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Transition {
    /// Index of the target state in its scope.
    pub to: usize,
    pub kind: EdgeKind,
    pub label: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Inner {
    None,
    Branches(Vec<Scope>),
    Processor(Box<Scope>),
}

#[derive(Debug, Clone)]
pub struct StateDef {
    pub name: String,
    pub ty: String,
    pub out: Vec<Transition>,
    pub ends: bool,
    pub inner: Inner,
}

/// A `StartAt` + `States` pair: the machine itself, a Parallel branch or a Map's ItemProcessor.
#[derive(Debug, Clone)]
pub struct Scope {
    pub states: Vec<StateDef>,
    pub start: usize,
}

pub fn parse(definition: &Value) -> Result<Scope, GraphError> {
    let mut count = 0;
    scope(definition, "the definition", 0, &mut count)
}

fn scope(v: &Value, at: &str, depth: usize, count: &mut usize) -> Result<Scope, GraphError> {
    if depth > MAX_DEPTH {
        return Err(GraphError::TooDeep(MAX_DEPTH));
    }
    let o = v.as_object().ok_or_else(|| GraphError::Invalid(format!("{at} is not a JSON object")))?;
    let start =
        o.get("StartAt").and_then(Value::as_str).ok_or_else(|| GraphError::Invalid(format!("{at} has no StartAt")))?;
    let states = o
        .get("States")
        .and_then(Value::as_object)
        .ok_or_else(|| GraphError::Invalid(format!("{at} has no States object")))?;
    *count += states.len();
    if *count > MAX_STATES {
        return Err(GraphError::TooLarge(MAX_STATES));
    }
    let index: HashMap<&str, usize> = states.keys().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
    let start = *index
        .get(start)
        .ok_or_else(|| GraphError::Invalid(format!("{at} starts at '{start}', which is not one of its states")))?;
    let find = |from: &str, to: &Value, field: &str| -> Result<usize, GraphError> {
        let to =
            to.as_str().ok_or_else(|| GraphError::Invalid(format!("state '{from}': {field} must be a state name")))?;
        index.get(to).copied().ok_or_else(|| {
            GraphError::Invalid(format!("state '{from}': {field} names '{to}', which is not a state here"))
        })
    };
    let mut out = Vec::with_capacity(states.len());
    for (name, s) in states {
        let s = s.as_object().ok_or_else(|| GraphError::Invalid(format!("state '{name}' is not an object")))?;
        let ty = s
            .get("Type")
            .and_then(Value::as_str)
            .ok_or_else(|| GraphError::Invalid(format!("state '{name}' has no Type")))?;
        if !matches!(ty, "Task" | "Pass" | "Choice" | "Wait" | "Succeed" | "Fail" | "Parallel" | "Map") {
            return Err(GraphError::Invalid(format!("state '{name}' has an unknown Type '{ty}'")));
        }
        let mut edges = Vec::new();
        if let Some(n) = s.get("Next") {
            edges.push(Transition { to: find(name, n, "Next")?, kind: EdgeKind::Next, label: None });
        }
        if let Some(rules) = s.get("Choices").and_then(Value::as_array) {
            for (i, rule) in rules.iter().enumerate() {
                if let Some(n) = rule.get("Next") {
                    let to = find(name, n, &format!("Choices[{i}].Next"))?;
                    edges.push(Transition { to, kind: EdgeKind::Rule, label: Some(rule_label(rule, i)) });
                }
            }
        }
        if let Some(n) = s.get("Default") {
            edges.push(Transition {
                to: find(name, n, "Default")?,
                kind: EdgeKind::Default,
                label: Some("Default".into()),
            });
        }
        if let Some(catchers) = s.get("Catch").and_then(Value::as_array) {
            for (i, c) in catchers.iter().enumerate() {
                if let Some(n) = c.get("Next") {
                    let to = find(name, n, &format!("Catch[{i}].Next"))?;
                    let errors: Vec<&str> = c
                        .get("ErrorEquals")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    let label = if errors.is_empty() { "Catch".to_string() } else { errors.join(", ") };
                    edges.push(Transition { to, kind: EdgeKind::Catch, label: Some(shorten(&label)) });
                }
            }
        }
        let ends = matches!(ty, "Succeed" | "Fail") || s.get("End").and_then(Value::as_bool) == Some(true);
        let inner = match ty {
            "Parallel" => {
                let branches = s
                    .get("Branches")
                    .and_then(Value::as_array)
                    .ok_or_else(|| GraphError::Invalid(format!("Parallel state '{name}' has no Branches array")))?;
                let mut scopes = Vec::with_capacity(branches.len());
                for (i, b) in branches.iter().enumerate() {
                    scopes.push(scope(b, &format!("branch {} of '{name}'", i + 1), depth + 1, count)?);
                }
                Inner::Branches(scopes)
            }
            "Map" => {
                let p = s
                    .get("ItemProcessor")
                    .or_else(|| s.get("Iterator"))
                    .ok_or_else(|| GraphError::Invalid(format!("Map state '{name}' has no ItemProcessor")))?;
                Inner::Processor(Box::new(scope(p, &format!("the ItemProcessor of '{name}'"), depth + 1, count)?))
            }
            _ => Inner::None,
        };
        out.push(StateDef { name: name.clone(), ty: ty.to_string(), out: edges, ends, inner });
    }
    Ok(Scope { states: out, start })
}

/// Shortens to [`MAX_LABEL`] characters.
pub fn shorten(s: &str) -> String {
    if s.chars().count() <= MAX_LABEL {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(MAX_LABEL - 1).collect();
        t.push('…');
        t
    }
}

/// A Choice rule in a few words: `$.a == "x"`, `$.n > 3`, `$.x is present`, or `rule N` for And/Or/Not.
fn rule_label(rule: &Value, i: usize) -> String {
    let fallback = || format!("rule {}", i + 1);
    if let Some(c) = rule.get("Condition").and_then(Value::as_str) {
        return shorten(c.trim().trim_start_matches("{%").trim_end_matches("%}").trim());
    }
    let Some(var) = rule.get("Variable").and_then(Value::as_str) else {
        return fallback();
    };
    let Some(o) = rule.as_object() else { return fallback() };
    for (k, v) in o {
        let (base, path) = match k.strip_suffix("Path") {
            Some(b) if k != "Variable" => (b, true),
            _ => (k.as_str(), false),
        };
        let op = match base {
            "StringEquals" | "NumericEquals" | "BooleanEquals" | "TimestampEquals" => "==",
            "NumericLessThan" | "StringLessThan" | "TimestampLessThan" => "<",
            "NumericGreaterThan" | "StringGreaterThan" | "TimestampGreaterThan" => ">",
            "NumericLessThanEquals" | "StringLessThanEquals" | "TimestampLessThanEquals" => "<=",
            "NumericGreaterThanEquals" | "StringGreaterThanEquals" | "TimestampGreaterThanEquals" => ">=",
            "StringMatches" => "matches",
            "IsPresent" | "IsNull" | "IsString" | "IsNumeric" | "IsBoolean" | "IsTimestamp" => {
                let what = base.trim_start_matches("Is").to_lowercase();
                return shorten(&match v.as_bool() {
                    Some(false) if what == "present" => format!("{var} absent"),
                    Some(false) => format!("{var} not {what}"),
                    _ => format!("{var} is {what}"),
                });
            }
            _ => continue,
        };
        let value = match v {
            Value::String(s) if !path => format!("\"{s}\""),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        return shorten(&format!("{var} {op} {value}"));
    }
    fallback()
}

//! The context object (`$$` in JSONPath, `$states.context` in JSONata) and the
//! evaluation environment paths and templates read from.

use crate::error::ErrorInfo;
use crate::path::{Path, Root};
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use std::sync::OnceLock;
use time::OffsetDateTime;

/// Facts about the running execution that never change while it runs.
#[derive(Debug, Clone)]
pub struct ExecutionInfo {
    pub id: String,
    pub name: String,
    pub input: Value,
    pub start_time: String,
    pub role_arn: String,
    pub state_machine_id: String,
    pub state_machine_name: String,
}

/// Workflow variables visible in a scope.
pub type Vars = Map<String, Value>;

/// The per-state context object, built only when something reads it, since
/// most states never do and building it costs allocations per transition.
pub struct ContextObject<'a> {
    pub exec: &'a ExecutionInfo,
    pub state_name: &'a str,
    pub entered_time: OffsetDateTime,
    pub retry_count: u32,
    pub map_item: Option<(usize, &'a Value)>,
    pub task_token: Option<&'a str>,
    cell: OnceLock<Value>,
}

impl<'a> ContextObject<'a> {
    pub fn new(exec: &'a ExecutionInfo, state_name: &'a str, entered_time: OffsetDateTime) -> Self {
        Self { exec, state_name, entered_time, retry_count: 0, map_item: None, task_token: None, cell: OnceLock::new() }
    }

    pub fn value(&self) -> &Value {
        self.cell.get_or_init(|| {
            let mut v = json!({
                "Execution": {
                    "Id": self.exec.id,
                    "Input": self.exec.input,
                    "Name": self.exec.name,
                    "RoleArn": self.exec.role_arn,
                    "StartTime": self.exec.start_time,
                    "RedriveCount": 0,
                },
                "State": {
                    "EnteredTime": crate::clock::format_time(self.entered_time),
                    "Name": self.state_name,
                    "RetryCount": self.retry_count,
                },
                "StateMachine": {
                    "Id": self.exec.state_machine_id,
                    "Name": self.exec.state_machine_name,
                },
            });
            if let Some(t) = self.task_token {
                v["Task"] = json!({ "Token": t });
            }
            if let Some((i, item)) = self.map_item {
                v["Map"] = json!({ "Item": { "Index": i, "Value": item } });
            }
            v
        })
    }
}

/// Everything a path, intrinsic or template may read.
pub struct Env<'a> {
    pub input: &'a Value,
    pub context: &'a ContextObject<'a>,
    pub vars: &'a Vars,
}

impl<'a> Env<'a> {
    /// Resolves a path read by a `…Path` field (InputPath, OutputPath,
    /// ItemsPath, SecondsPath, …): a missing definite node is a States.Runtime
    /// error worded as AWS words it for those fields (see [`Miss::invalid_path`]).
    pub fn resolve(&self, path: &Path) -> Result<Cow<'a, Value>, ErrorInfo> {
        self.lookup(path).map_err(|m| m.invalid_path())
    }

    /// Resolves a path, or says why it selected nothing so that the caller
    /// can word the error for the field that holds the path.
    pub fn lookup<'p>(&self, path: &'p Path) -> Result<Cow<'a, Value>, Miss<'p, 'a>> {
        let root: &'a Value = match &path.root {
            Root::Input => self.input,
            Root::Context => self.context.value(),
            Root::Variable(name) => match self.vars.get(name) {
                Some(v) => v,
                None => return Err(Miss { path, root: None }),
            },
        };
        path.select_ref(root).ok_or(Miss { path, root: Some(root) })
    }

    /// Like [`Env::resolve`] but `None` for a missing node (for IsPresent).
    pub fn try_resolve(&self, path: &Path) -> Option<Cow<'a, Value>> {
        let root: &'a Value = match &path.root {
            Root::Input => self.input,
            Root::Context => self.context.value(),
            Root::Variable(name) => self.vars.get(name)?,
        };
        path.select_ref(root)
    }
}

/// A path that selected nothing: the path, and the value it was applied to
/// (`None` when it names a variable that is not defined). Each method words
/// the error as AWS does for one kind of field; the texts are AWS's as seen
/// in real executions' causes, e.g. "Invalid path '$.Payload' : No results
/// for path: $['Payload']" (an OutputPath) and "The JSONPath
/// '$.application.address' specified for the field 'address.$' could not be
/// found in the input '{\"flagged\":false}'" (a Parameters field), both
/// quoted with AWS's state prefix in public write-ups of failed executions.
pub struct Miss<'p, 'a> {
    path: &'p Path,
    root: Option<&'a Value>,
}

impl Miss<'_, '_> {
    fn undefined_variable(&self) -> Option<ErrorInfo> {
        match (&self.path.root, self.root) {
            (Root::Variable(name), None) => {
                Some(ErrorInfo::runtime(format!("The variable '${name}' referenced by '{}' is not defined", self.path)))
            }
            _ => None,
        }
    }

    fn input(&self) -> String {
        self.root.map(Value::to_string).unwrap_or_default()
    }

    /// For a `…Path` field: `Invalid path '$.a.b' : No results for path:
    /// $['a']['b']`, the second path as AWS's JSONPath library writes it.
    pub fn invalid_path(&self) -> ErrorInfo {
        self.undefined_variable().unwrap_or_else(|| {
            ErrorInfo::runtime(format!(
                "Invalid path '{}' : No results for path: {}",
                self.path,
                self.path.normalized()
            ))
        })
    }

    /// For a field of a payload template (`"name.$"`), `ErrorPath` or
    /// `CausePath`: "The JSONPath '$.x' specified for the field 'name.$'
    /// could not be found in the input '{…}'".
    pub fn for_field(&self, field: &str) -> ErrorInfo {
        self.undefined_variable().unwrap_or_else(|| {
            ErrorInfo::runtime(format!(
                "The JSONPath '{}' specified for the field '{field}' could not be found in the input '{}'",
                self.path,
                self.input()
            ))
        })
    }

    /// For an argument of an intrinsic function: the text AWS puts after
    /// "The function '…' had the following error: ".
    pub fn argument(&self) -> String {
        match self.undefined_variable() {
            Some(e) => e.cause,
            None => format!(
                "The JsonPath argument for the field '{}' could not be found in the input '{}'",
                self.path,
                self.input()
            ),
        }
    }
}

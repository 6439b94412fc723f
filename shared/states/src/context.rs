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
    /// Resolves a path; a missing definite node is a States.Runtime error, as
    /// on AWS ("The JSONPath … could not be found in the input").
    pub fn resolve(&self, path: &Path) -> Result<Cow<'a, Value>, ErrorInfo> {
        let root: &'a Value = match &path.root {
            Root::Input => self.input,
            Root::Context => self.context.value(),
            Root::Variable(name) => self.vars.get(name).ok_or_else(|| {
                ErrorInfo::runtime(format!("The variable '${name}' referenced by '{path}' is not defined"))
            })?,
        };
        path.select_ref(root).ok_or_else(|| {
            ErrorInfo::runtime(format!(
                "The JSONPath '{path}' could not be found in the input '{}'",
                root_preview(root)
            ))
        })
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

fn root_preview(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 200 {
        let mut end = 200;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    } else {
        s
    }
}

//! The template's functions as Lambda reads them: `AWS::Serverless::Function` with `Globals.Function` merged in.

use local_template::{Template, TemplateError};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub const FUNCTION_TYPES: &[&str] = &["AWS::Serverless::Function"];

/// A function as the template declares it.
#[derive(Debug, Clone, Default)]
pub struct FunctionDecl {
    pub logical_id: String,
    /// The cargo binary `sam build` builds (`Metadata.BuildProperties.Binary`): what the local stack runs.
    pub binary: String,
    /// Globals merged with the function's own variables, intrinsics resolved.
    pub env: BTreeMap<String, String>,
    /// `Timeout` in seconds (function, else globals, else Lambda's default of 3).
    pub timeout_seconds: u64,
    /// `MemorySize` in MB (function, else globals, else 128).
    pub memory_mb: u64,
    /// `Events`, as written: each service reads the sources of its own type (`HttpApi`, `S3`, …).
    pub events: Map<String, Value>,
}

impl FunctionDecl {
    /// Every function of the template.
    pub fn read_all(template: &Template) -> Result<Vec<Self>, TemplateError> {
        let globals = template.globals("Function");
        template.of_type(FUNCTION_TYPES).map(|r| Self::read(template, globals, r.id, r.properties, r.raw)).collect()
    }

    fn read(template: &Template, globals: &Value, id: &str, p: &Value, raw: &Value) -> Result<Self, TemplateError> {
        let binary = raw
            .pointer("/Metadata/BuildProperties/Binary")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| TemplateError::invalid(id, "Metadata.BuildProperties.Binary is missing"))?;
        let mut env = BTreeMap::new();
        for vars in [&globals["Environment"]["Variables"], &p["Environment"]["Variables"]] {
            if let Value::Object(vars) = vars {
                for (k, v) in vars {
                    env.insert(k.clone(), template.string(v, &format!("{id}.Environment.Variables.{k}"))?);
                }
            }
        }
        let number = |name: &str, default: u64| -> Result<u64, TemplateError> {
            let at = format!("{id}.{name}");
            let v = match &p[name] {
                Value::Null => &globals[name],
                v => v,
            };
            match template.integer(v, &at)? {
                None => Ok(default),
                Some(n) if n > 0 => Ok(n as u64),
                Some(n) => Err(TemplateError::invalid(at, format!("{n} is not a positive number"))),
            }
        };
        Ok(Self {
            logical_id: id.to_owned(),
            binary,
            env,
            timeout_seconds: number("Timeout", 3)?,
            memory_mb: number("MemorySize", 128)?,
            events: p["Events"].as_object().cloned().unwrap_or_default(),
        })
    }

    /// The function's event sources of `kind` (`HttpApi`, `S3`, …): `(name, Properties)`.
    pub fn events_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = (&'a str, &'a Value)> + 'a {
        self.events.iter().filter(move |(_, e)| e["Type"] == kind).map(|(n, e)| (n.as_str(), &e["Properties"]))
    }

    /// The function's environment, for building its handler.
    pub fn env(&self) -> Env<'_> {
        Env { function: &self.logical_id, vars: &self.env }
    }
}

/// A function's resolved environment.
pub struct Env<'a> {
    pub function: &'a str,
    pub vars: &'a BTreeMap<String, String>,
}

/// Why a function's handler cannot be built from its environment.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("{function}: the template sets no `{name}` variable, which this function needs")]
    Missing { function: String, name: String },
    #[error("{function}: `{name}`: {problem}")]
    Invalid { function: String, name: String, problem: String },
}

impl Env<'_> {
    pub fn require(&self, name: &str) -> Result<&str, EnvError> {
        self.vars
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| EnvError::Missing { function: self.function.to_owned(), name: name.to_owned() })
    }

    /// An error about the variable `name`, for values that do not parse.
    pub fn invalid(&self, name: &str, problem: impl std::fmt::Display) -> EnvError {
        EnvError::Invalid { function: self.function.to_owned(), name: name.to_owned(), problem: problem.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use local_template::NoSecrets;
    use std::sync::Arc;

    #[test]
    fn globals_are_merged_under_the_functions_own_settings() {
        let text = "Globals:\n  Function:\n    Timeout: 10\n    Environment: {Variables: {A: g, B: g}}\nResources:\n  F:\n    Type: AWS::Serverless::Function\n    Metadata: {BuildProperties: {Binary: f}}\n    Properties:\n      MemorySize: 256\n      Environment: {Variables: {B: own}}\n      Events:\n        Api: {Type: HttpApi, Properties: {Path: /x, Method: get}}\n";
        let t = Template::parse(text, Arc::new(NoSecrets)).unwrap();
        let f = &FunctionDecl::read_all(&t).unwrap()[0];
        assert_eq!((f.env["A"].as_str(), f.env["B"].as_str()), ("g", "own"));
        assert_eq!((f.timeout_seconds, f.memory_mb), (10, 256));
        assert_eq!(f.events_of("HttpApi").map(|(n, _)| n).collect::<Vec<_>>(), ["Api"]);
    }

    #[test]
    fn a_function_without_a_binary_is_refused() {
        let text = "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {}\n";
        let t = Template::parse(text, Arc::new(NoSecrets)).unwrap();
        assert!(FunctionDecl::read_all(&t).unwrap_err().to_string().contains("Binary"));
    }
}

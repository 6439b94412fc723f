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
    /// How asynchronous invocations are retried and where the failed ones go.
    pub async_config: AsyncConfig,
}

/// Where an asynchronous invocation's outcome is sent. Only SQS queues are local destinations so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A queue, by ARN.
    Sqs(String),
}

/// A function's asynchronous-invocation settings: `EventInvokeConfig` and `DeadLetterQueue`, with Lambda's
/// defaults (2 retries, events kept 6 hours).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsyncConfig {
    pub maximum_retry_attempts: u32,
    pub maximum_event_age_seconds: u64,
    /// `DeadLetterQueue`: receives the event itself after the last failed attempt.
    pub dead_letter: Option<Destination>,
    /// `EventInvokeConfig.DestinationConfig.OnFailure`: receives an invocation record.
    pub on_failure: Option<Destination>,
    /// `EventInvokeConfig.DestinationConfig.OnSuccess`.
    pub on_success: Option<Destination>,
}

impl Default for AsyncConfig {
    fn default() -> Self {
        Self {
            maximum_retry_attempts: 2,
            maximum_event_age_seconds: 21_600,
            dead_letter: None,
            on_failure: None,
            on_success: None,
        }
    }
}

impl AsyncConfig {
    fn read(template: &Template, id: &str, p: &Value) -> Result<Self, TemplateError> {
        let mut config = Self::default();
        let destination = |v: &Value, at: &str, arn_key: &str| -> Result<Option<Destination>, TemplateError> {
            if v.is_null() {
                return Ok(None);
            }
            let kind = v["Type"].as_str().unwrap_or("SQS");
            let arn = template.string(&v[arn_key], &format!("{at}.{arn_key}"))?;
            match kind {
                "SQS" => Ok(Some(Destination::Sqs(arn))),
                other => Err(TemplateError::Unsupported { at: format!("{at}.Type"), what: other.to_owned() }),
            }
        };
        config.dead_letter = destination(&p["DeadLetterQueue"], &format!("{id}.DeadLetterQueue"), "TargetArn")?;
        let eic = &p["EventInvokeConfig"];
        let at = format!("{id}.EventInvokeConfig");
        if let Some(n) = template.integer(&eic["MaximumRetryAttempts"], &format!("{at}.MaximumRetryAttempts"))? {
            if !(0..=2).contains(&n) {
                return Err(TemplateError::invalid(
                    format!("{at}.MaximumRetryAttempts"),
                    format!("{n} is not 0, 1 or 2"),
                ));
            }
            config.maximum_retry_attempts = n as u32;
        }
        if let Some(n) =
            template.integer(&eic["MaximumEventAgeInSeconds"], &format!("{at}.MaximumEventAgeInSeconds"))?
        {
            if !(60..=21_600).contains(&n) {
                return Err(TemplateError::invalid(
                    format!("{at}.MaximumEventAgeInSeconds"),
                    format!("{n} is not between 60 and 21600"),
                ));
            }
            config.maximum_event_age_seconds = n as u64;
        }
        let destinations = &eic["DestinationConfig"];
        config.on_failure =
            destination(&destinations["OnFailure"], &format!("{at}.DestinationConfig.OnFailure"), "Destination")?;
        config.on_success =
            destination(&destinations["OnSuccess"], &format!("{at}.DestinationConfig.OnSuccess"), "Destination")?;
        Ok(config)
    }
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
            async_config: AsyncConfig::read(template, id, p)?,
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
    fn dead_letter_queues_and_event_invoke_config_are_read_with_lambdas_limits() {
        let text = "Resources:\n  Dlq: {Type: AWS::SQS::Queue, Properties: {QueueName: dlq}}\n  F:\n    Type: AWS::Serverless::Function\n    Metadata: {BuildProperties: {Binary: f}}\n    Properties:\n      DeadLetterQueue: {Type: SQS, TargetArn: !GetAtt Dlq.Arn}\n      EventInvokeConfig:\n        MaximumRetryAttempts: 1\n        DestinationConfig: {OnFailure: {Type: SQS, Destination: !GetAtt Dlq.Arn}}\n";
        let t = Template::parse(text, Arc::new(NoSecrets)).unwrap();
        let c = &FunctionDecl::read_all(&t).unwrap()[0].async_config;
        let dlq = Destination::Sqs("arn:aws:sqs:us-east-1:123456789012:dlq".into());
        assert_eq!(
            (c.maximum_retry_attempts, c.dead_letter.as_ref(), c.on_failure.as_ref()),
            (1, Some(&dlq), Some(&dlq))
        );
        let bad = text.replace("MaximumRetryAttempts: 1", "MaximumRetryAttempts: 3");
        let t = Template::parse(&bad, Arc::new(NoSecrets)).unwrap();
        assert!(FunctionDecl::read_all(&t).unwrap_err().to_string().contains("MaximumRetryAttempts"));
    }

    #[test]
    fn a_function_without_a_binary_is_refused() {
        let text = "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {}\n";
        let t = Template::parse(text, Arc::new(NoSecrets)).unwrap();
        assert!(FunctionDecl::read_all(&t).unwrap_err().to_string().contains("Binary"));
    }
}

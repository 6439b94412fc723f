//! The loaded stack: the template, the functions built from it, the state machines and their executions, the local
//! identity provider and the store. One `Stack` serves the HTTP API, `local invoke`, Step Functions tasks and
//! (later) S3 triggers alike, so every path into a function goes through [`Stack::invoke`].

use crate::{
    auth::LocalIdp,
    executions::{ExecutionError, Executions, Machine, MachineError},
    files,
    gateway::RouteTable,
    registry::{self, Env, FunctionError, Handler, Services},
    template::{SecretSource, Template, TemplateError},
};
use local_adapters::LocalStore;
use serde_json::Value;
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::Arc,
    time::Instant,
};
use tracing::Instrument;

#[derive(Debug, Clone)]
pub struct StackConfig {
    pub template: PathBuf,
    pub data_dir: PathBuf,
}

impl StackConfig {
    /// `template.yaml` in the working directory, else the repository's own.
    pub fn default_template() -> PathBuf {
        let here = PathBuf::from("template.yaml");
        if here.exists() { here } else { Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml") }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("{0}")]
    Function(String),
    #[error("data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error("store: {0}")]
    Store(#[from] local_adapters::OpenError),
    #[error(transparent)]
    StateMachine(#[from] MachineError),
    #[error("resuming executions: {0}")]
    Executions(#[from] ExecutionError),
}

/// Local secrets for `{{resolve:secretsmanager:…}}`: generated once per data directory.
struct LocalSecrets(PathBuf);

impl SecretSource for LocalSecrets {
    fn secret(&self, name: &str) -> Result<String, TemplateError> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c)) || name.contains("..") {
            return Err(TemplateError(format!("secret name `{name}` is not usable locally")));
        }
        files::load_or_create_text_secret(&self.0.join("secrets").join(name.replace('/', "_")), 48)
            .map_err(|e| TemplateError(format!("secret {name}: {e}")))
    }
}

pub struct LocalFunction {
    pub logical_id: String,
    pub binary: &'static registry::Binary,
    pub handler: Arc<dyn Handler>,
}

pub struct Stack {
    pub config: StackConfig,
    pub template: Template,
    pub functions: BTreeMap<String, LocalFunction>,
    pub routes: RouteTable,
    pub idp: Option<LocalIdp>,
    pub services: Services,
    pub executions: Executions,
}

impl Stack {
    /// The whole stack, with the executions a previous process left running picked up again (resumed on the
    /// current tokio runtime; see [`crate::executions`]).
    pub fn load(config: StackConfig) -> Result<Arc<Self>, StackError> {
        let stack = Self::load_idle(config)?;
        let resumed = stack.executions.recover()?;
        if resumed > 0 {
            tracing::info!(resumed, "picking up executions the previous process left running");
        }
        Ok(stack)
    }

    /// The stack without touching executions left running: for one-shot commands (`local invoke`) that must not
    /// pick up work they would abandon when they exit.
    pub fn load_idle(config: StackConfig) -> Result<Arc<Self>, StackError> {
        let data_err = |source| StackError::DataDir { path: config.data_dir.clone(), source };
        std::fs::create_dir_all(&config.data_dir).map_err(data_err)?;
        let template = Template::load(&config.template, &LocalSecrets(config.data_dir.clone()))?;
        let store = LocalStore::open(&config.data_dir.join("store.sqlite3"))?;
        let services = Services { store };
        let mut functions = BTreeMap::new();
        for f in &template.functions {
            let binary = registry::binary(&f.binary).ok_or_else(|| {
                StackError::Function(format!(
                    "{}: the local stack has no handler for binary `{}` (known: {})",
                    f.logical_id,
                    f.binary,
                    registry::BINARIES.iter().map(|b| b.name).collect::<Vec<_>>().join(", ")
                ))
            })?;
            let handler = (binary.build)(&Env { function: &f.logical_id, vars: &f.env }, &services).map_err(StackError::Function)?;
            functions.insert(f.logical_id.clone(), LocalFunction { logical_id: f.logical_id.clone(), binary, handler });
        }
        let routes = RouteTable::new(&template).map_err(StackError::Function)?;
        let idp = match &template.authorizer {
            Some(a) => Some(LocalIdp::open(&config.data_dir, a.clone()).map_err(data_err)?),
            None => None,
        };
        let machines = template.state_machines.iter().map(Machine::load).collect::<Result<Vec<_>, _>>()?;
        Ok(Arc::new_cyclic(|stack| {
            let executions = Executions::new(&config.data_dir, machines, stack.clone());
            Self { config, template, functions, routes, idp, services, executions }
        }))
    }

    /// Runs one function on one event, as Lambda would: in its own task (a panic is a function error, not a crash
    /// of the stack), inside a span carrying the request id, with a report line when it ends.
    pub async fn invoke(&self, logical_id: &str, request_id: &str, event: Value) -> Result<Value, FunctionError> {
        let function = self
            .functions
            .get(logical_id)
            .ok_or_else(|| FunctionError::new("ResourceNotFoundException", format!("no function {logical_id}")))?;
        let handler = function.handler.clone();
        let span = tracing::info_span!("invoke", function = logical_id, requestId = request_id);
        let started = Instant::now();
        let outcome = tokio::spawn(async move { handler.call(event).await }.instrument(span.clone())).await;
        let result = match outcome {
            Ok(r) => r,
            Err(e) if e.is_panic() => Err(FunctionError::new("Runtime.ExitError", "the handler panicked")),
            Err(e) => Err(FunctionError::new("Runtime.Unknown", e.to_string())),
        };
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        span.in_scope(|| match &result {
            Ok(_) => tracing::debug!(duration_ms, "REPORT"),
            Err(e) => tracing::warn!(duration_ms, error_type = %e.error_type, error = %e.error_message, "REPORT"),
        });
        result
    }
}

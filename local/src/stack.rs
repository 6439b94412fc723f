//! The composition root: every emulated service built from the template and the data directory, each handed the
//! others it needs as core traits. One `Stack` serves the endpoint, `local invoke`, Step Functions tasks and S3
//! triggers alike, so every path into a function goes through the one [`Lambda`].

use crate::adapters::StoreStream;
use crate::registry::{self, Adapters, BuildError};
use local_adapters::LocalStore;
use local_adapters::stream::ViewType;
use local_apigw::{HttpApi, LocalIdp, gateway::HttpApiError};
use local_core::invoke::StreamSource;
use local_core::{Credentials, Identity, endpoint::Service, files};
use local_lambda::streams::{StreamMappings, StreamMappingsConfig, StreamMappingsGuard};
use local_lambda::{
    AsyncInvoker, Destination, Function, FunctionDecl, FunctionError, FunctionInvoker, Handler, Lambda,
};
use local_sfn::{
    Executions, Machine, MachineError, StateMachineDecl, api::StepFunctionsApi, executions::ExecutionError,
};
use local_template::{SecretSource, Template, TemplateError};
use serde_json::Value;
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, OnceLock, Weak},
    time::Duration,
};

/// How often stream records past their retention are deleted.
const STREAM_TRIM_INTERVAL: Duration = Duration::from_secs(600);

#[derive(Debug, Clone)]
pub struct StackConfig {
    pub template: PathBuf,
    pub data_dir: PathBuf,
    /// The access key and secret the services accept (SigV4); `test` / `test` by default.
    pub credentials: Credentials,
    /// The wait before an asynchronous invocation's first retry (the second waits twice as long): a minute on
    /// Lambda, shortened for tests and demos.
    pub async_retry_delay: Duration,
    /// Handlers for binaries the registry does not know, by binary name: for a program (or a test) that embeds the
    /// stack with functions of its own.
    pub extra_handlers: ExtraHandlers,
    /// The recent log lines the console's log page reads: the logger must write through `logs.tee()` for them to
    /// be kept (`local up` installs it; a test may).
    pub logs: Arc<crate::logs::LogBook>,
}

impl StackConfig {
    /// A stack over `template` and `data_dir` with the default credentials and Lambda's retry delays.
    pub fn new(template: impl Into<PathBuf>, data_dir: impl Into<PathBuf>) -> Self {
        Self {
            template: template.into(),
            data_dir: data_dir.into(),
            credentials: Credentials::default(),
            async_retry_delay: Duration::from_secs(60),
            extra_handlers: ExtraHandlers::default(),
            logs: Arc::default(),
        }
    }
}

/// Handlers added to the registry by binary name.
#[derive(Clone, Default)]
pub struct ExtraHandlers(pub BTreeMap<String, Arc<dyn Handler>>);

impl std::fmt::Debug for ExtraHandlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
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
    #[error("{function}: the local stack has no handler for binary `{binary}` (known: {known})")]
    UnknownBinary { function: String, binary: String, known: String },
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error(transparent)]
    HttpApi(#[from] HttpApiError),
    #[error("data directory {}: {source}", path.display())]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error("store: {0}")]
    Store(#[from] local_adapters::OpenError),
    #[error(transparent)]
    StateMachine(#[from] MachineError),
    #[error("resuming executions: {0}")]
    Executions(#[from] ExecutionError),
    #[error("SES: {0}")]
    Ses(#[from] local_ses::SesError),
    #[error("SQS: {0}")]
    Sqs(#[from] local_sqs::SqsError),
    #[error("S3: {0}")]
    S3(#[from] local_s3::S3Error),
    #[error(transparent)]
    Mappings(#[from] local_lambda::streams::MappingError),
    #[error("EventBridge: {0}")]
    Events(#[from] local_events::EventsError),
    #[error(transparent)]
    AsyncQueue(#[from] local_lambda::events::QueueError),
    #[error("{function}: its {what} `{queue}` is not a queue of the template")]
    UnknownQueue { function: String, what: &'static str, queue: String },
}

/// Local secrets for `{{resolve:secretsmanager:…}}`: generated once per data directory.
struct LocalSecrets(PathBuf);

impl SecretSource for LocalSecrets {
    fn secret(&self, name: &str) -> Result<String, TemplateError> {
        let secret_error = |problem: String| TemplateError::Secret { name: name.to_owned(), problem };
        if name.is_empty()
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
            || name.contains("..")
        {
            return Err(secret_error("the name is not usable locally".into()));
        }
        files::load_or_create_text_secret(&self.0.join("secrets").join(name.replace('/', "_")), 48)
            .map_err(|e| secret_error(e.to_string()))
    }
}

/// The template alone, its secrets empty: for commands that run no function (`local routes`, `local resources`).
pub fn load_template(config: &StackConfig) -> Result<Template, TemplateError> {
    Template::load(&config.template, Identity::default(), Arc::new(local_template::NoSecrets))
}

pub struct Stack {
    config: StackConfig,
    template: Template,
    store: LocalStore,
    lambda: Arc<Lambda>,
    http_api: HttpApi,
    executions: Arc<Executions>,
    async_invoker: Arc<AsyncInvoker>,
    s3: Arc<local_s3::S3>,
    sqs: Arc<local_sqs::Sqs>,
    ses: local_ses::Ses,
    events: Arc<local_events::EventBridge>,
    /// The functions' event-source mappings (DynamoDB streams).
    mappings: StreamMappings,
    /// The tables' streams (DynamoDB Streams), read by the mappings.
    streams: Vec<Arc<StoreStream>>,
    /// Stops the mappings' pollers when the stack is dropped; set by [`Stack::load`] (one-shot commands run none).
    mapping_tasks: Mutex<Option<StreamMappingsGuard>>,
    /// `http://host:port` once the server listens: where presigned URLs point.
    endpoint: Arc<OnceLock<String>>,
    /// The domain's object ports on the local S3, as the functions have them.
    objects: crate::adapters::LocalObjects,
    /// The AWS services on the endpoint, each claiming its own requests.
    services: Vec<Arc<dyn Service>>,
}

impl Stack {
    /// The whole stack, with the executions a previous process left running picked up again (resumed on the
    /// current tokio runtime).
    pub fn load(config: StackConfig) -> Result<Arc<Self>, StackError> {
        let stack = Self::load_idle(config)?;
        let resumed = stack.executions.recover()?;
        if resumed > 0 {
            tracing::info!(resumed, "picking up executions the previous process left running");
        }
        let queued = stack.async_invoker.recover()?;
        if queued > 0 {
            tracing::info!(queued, "running asynchronous invocations the previous process left queued");
        }
        *stack.mapping_tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(stack.mappings.start());
        // Trim the streams now and then, for as long as the stack lives.
        let weak = Arc::downgrade(&stack);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(STREAM_TRIM_INTERVAL);
            loop {
                every.tick().await;
                let Some(stack) = weak.upgrade() else { return };
                let trimmed = stack.trim_streams().await;
                if trimmed > 0 {
                    tracing::debug!(trimmed, "stream records past their retention deleted");
                }
            }
        });
        let deliveries = stack.events.recover()?;
        if deliveries > 0 {
            tracing::info!(deliveries, "delivering the events the previous process left pending");
        }
        Ok(stack)
    }

    /// The stack without touching executions left running: for one-shot commands (`local invoke`) that must not
    /// pick up work they would abandon when they exit.
    pub fn load_idle(config: StackConfig) -> Result<Arc<Self>, StackError> {
        let data_err = |source| StackError::DataDir { path: config.data_dir.clone(), source };
        files::create_private_dir(&config.data_dir).map_err(data_err)?;
        let identity = Identity::default();
        let secrets = Arc::new(LocalSecrets(config.data_dir.clone()));
        let mut template = Template::load(&config.template, identity.clone(), secrets)?;
        let store = LocalStore::open(&config.data_dir.join("store.sqlite3"))?;
        // DynamoDB Streams: each table with a StreamSpecification gets its stream in the store (written in the same
        // transaction as the change), and the template learns its label, so `!GetAtt T.StreamArn` names it.
        let mut streams: Vec<Arc<StoreStream>> = Vec::new();
        for t in template.stream_tables()? {
            let arn = identity.table_arn(&t.table).to_string();
            let view = ViewType::parse(&t.view_type).ok_or_else(|| {
                TemplateError::invalid(
                    format!("{}.StreamSpecification.StreamViewType", t.logical_id),
                    "unknown view type",
                )
            })?;
            let stream = store.enable_stream(&t.table, &arn, view)?;
            template.set_stream_label(&t.logical_id, stream.label());
            streams.push(Arc::new(StoreStream(stream)));
        }
        let ses = local_ses::Ses::open(&config.data_dir, &template, identity.clone())?;
        let events_handle = crate::adapters::LocalEvents::default();
        let executions_handle = crate::adapters::LocalExecutions::default();
        let objects = crate::adapters::LocalObjects {
            s3: Arc::default(),
            endpoint: Arc::default(),
            credentials: config.credentials.clone(),
            region: identity.region.clone(),
        };
        let adapters = Adapters {
            store: store.clone(),
            events: events_handle.clone(),
            mail: crate::adapters::LocalMail(ses.clone()),
            objects: objects.clone(),
            executions: executions_handle.clone(),
        };

        let mut functions = Vec::new();
        let decls = FunctionDecl::read_all(&template)?;
        for decl in decls.iter().cloned() {
            if let Some(handler) = config.extra_handlers.0.get(&decl.binary) {
                functions.push(Function { decl, handler_name: "(embedded)", handler: handler.clone() });
                continue;
            }
            let binary = registry::binary(&decl.binary).ok_or_else(|| StackError::UnknownBinary {
                function: decl.logical_id.clone(),
                binary: decl.binary.clone(),
                known: registry::BINARIES.iter().map(|b| b.name).collect::<Vec<_>>().join(", "),
            })?;
            let handler = (binary.build)(&decl.env(), &adapters)?;
            functions.push(Function { decl, handler_name: binary.handler, handler });
        }
        // Every invocation's EMF line, for the console's cost page (`crate::measure`).
        let metrics = crate::measure::metrics_sink(&config.data_dir).map_err(data_err)?;
        let lambda = Arc::new(Lambda::new(identity.clone(), functions).with_metrics(metrics));

        let http_api = HttpApi::from_template(&template, &config.data_dir, lambda.clone())?;
        let machines = StateMachineDecl::read_all(&template)?
            .iter()
            .map(|decl| Machine::load(decl, &identity))
            .collect::<Result<Vec<_>, _>>()?;
        let executions = Executions::new(&config.data_dir, identity.clone(), machines, lambda.clone());
        let _ = executions_handle.0.set(Arc::downgrade(&executions));
        let sqs = local_sqs::Sqs::open(&config.data_dir, &template, identity.clone())?;
        check_destinations(&lambda, &sqs)?;
        let async_invoker =
            AsyncInvoker::open(&config.data_dir, Arc::downgrade(&lambda), sqs.clone(), config.async_retry_delay)?;
        let invoker: Weak<dyn FunctionInvoker> = Arc::downgrade(&lambda) as Weak<dyn FunctionInvoker>;
        let mappings = StreamMappings::open(StreamMappingsConfig {
            data_dir: &config.data_dir,
            template: &template,
            functions: &decls,
            sources: streams.iter().map(|s| s.clone() as Arc<dyn StreamSource>).collect(),
            invoker,
            sender: sqs.clone(),
            retry_delay: config.async_retry_delay,
        })?;
        let s3 = local_s3::S3::open(
            &config.data_dir,
            &template,
            identity.clone(),
            config.credentials.clone(),
            async_invoker.clone(),
        )?;
        let _ = objects.s3.set(s3.clone());
        let events = local_events::EventBridge::open(
            &config.data_dir,
            &template,
            identity,
            local_events::Targets {
                functions: async_invoker.clone(),
                state_machines: executions.clone(),
                queues: sqs.clone(),
            },
            config.async_retry_delay,
        )?;
        let _ = events_handle.0.set(Arc::downgrade(&events));
        let services: Vec<Arc<dyn Service>> = vec![
            Arc::new(StepFunctionsApi(executions.clone())),
            s3.clone(),
            sqs.clone(),
            Arc::new(ses.clone()),
            events.clone(),
        ];
        Ok(Arc::new(Self {
            config,
            template,
            store,
            lambda,
            http_api,
            executions,
            async_invoker,
            s3,
            sqs,
            ses,
            events,
            mappings,
            streams,
            mapping_tasks: Mutex::new(None),
            endpoint: objects.endpoint.clone(),
            objects,
            services,
        }))
    }

    pub fn config(&self) -> &StackConfig {
        &self.config
    }

    pub fn template(&self) -> &Template {
        &self.template
    }

    /// The recent log lines, by request id (see [`crate::logs`]).
    pub fn logs(&self) -> &Arc<crate::logs::LogBook> {
        &self.config.logs
    }

    pub fn credentials(&self) -> &Credentials {
        &self.config.credentials
    }

    pub fn identity(&self) -> &Identity {
        self.template.identity()
    }

    /// The embedded store the functions' local adapters write to.
    pub fn store(&self) -> &LocalStore {
        &self.store
    }

    pub fn lambda(&self) -> &Arc<Lambda> {
        &self.lambda
    }

    pub fn http_api(&self) -> &HttpApi {
        &self.http_api
    }

    /// The local identity provider, when the template's API has a JWT authorizer.
    pub fn idp(&self) -> Option<&LocalIdp> {
        self.http_api.idp()
    }

    pub fn executions(&self) -> &Arc<Executions> {
        &self.executions
    }

    /// Lambda's asynchronous invocations (what S3 notifications and EventBridge targets call).
    pub fn async_invoker(&self) -> &Arc<AsyncInvoker> {
        &self.async_invoker
    }

    pub fn s3(&self) -> &Arc<local_s3::S3> {
        &self.s3
    }

    pub fn sqs(&self) -> &Arc<local_sqs::Sqs> {
        &self.sqs
    }

    /// The event-source mappings and where each stands.
    pub fn mappings(&self) -> &StreamMappings {
        &self.mappings
    }

    /// The tables' streams, by ARN.
    pub fn stream(&self, arn: &str) -> Option<&Arc<StoreStream>> {
        self.streams.iter().find(|s| s.arn() == arn)
    }

    /// Deletes stream records past DynamoDB Streams' 24-hour retention that every mapping reading the stream has
    /// passed (a mapping that is behind keeps its records: locally nothing is lost to retention). Returns how many.
    pub async fn trim_streams(&self) -> usize {
        let positions = self.mappings.positions();
        let mut trimmed = 0;
        for stream in &self.streams {
            let readers: Vec<_> = positions.iter().filter(|p| p.stream == stream.arn()).collect();
            let passed_by_all = if readers.is_empty() {
                stream.latest().ok().flatten()
            } else if readers.iter().any(|p| p.checkpoint.is_none()) {
                continue;
            } else {
                readers.iter().filter_map(|p| p.checkpoint).min()
            };
            match stream.0.trim(passed_by_all).await {
                Ok(n) => trimmed += n,
                Err(e) => tracing::warn!(stream = stream.arn(), error = %e, "could not trim the stream"),
            }
        }
        trimmed
    }

    /// Whether every change written so far has gone all the way through the event pipelines: S3 has no
    /// notification queued, each stream mapping has read its stream to the end, EventBridge has no delivery pending,
    /// Lambda no asynchronous invocation and Step Functions no execution running (one waiting in a Wait state
    /// counts as running: a stack with a long wait does not settle before it ends). Each stage lets go of an event only once the next holds it, so an
    /// event moving forward is always seen; but a function can send work back to an earlier stage (a rendition
    /// written to S3, an event put on the bus) between two checks, so [`Self::settle`] asks for two clean passes.
    /// For tests and benchmarks that wait for the system to come to rest.
    pub async fn is_settled(&self) -> bool {
        if self.s3.has_pending_notifications().await.unwrap_or(true) {
            return false;
        }
        for position in self.mappings.positions().iter().filter(|p| p.enabled) {
            let latest = self.stream(&position.stream).and_then(|s| s.latest().ok().flatten());
            if latest.is_some() && position.checkpoint < latest {
                return false;
            }
        }
        self.events.pending_deliveries().await.is_ok_and(|n| n == 0)
            && self.async_invoker.pending() == 0
            && self.executions.running_count() == 0
    }

    /// Waits until [`Self::is_settled`], at most `timeout`; whether it did.
    pub async fn settle(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut clean = 0;
        while tokio::time::Instant::now() < deadline {
            clean = if self.is_settled().await { clean + 1 } else { 0 };
            if clean == 2 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        false
    }

    /// EventBridge: the template's buses and rules, and their deliveries.
    pub fn events(&self) -> &Arc<local_events::EventBridge> {
        &self.events
    }

    /// SES: verified identities and the outbox.
    pub fn ses(&self) -> &local_ses::Ses {
        &self.ses
    }

    /// The address the stack serves on, once it does (`http://127.0.0.1:3000`).
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.get().map(String::as_str)
    }

    /// Records where the stack listens (the server does, when it starts). A wildcard address is given as loopback,
    /// which is where a local client reaches it.
    pub fn set_listening(&self, addr: std::net::SocketAddr) {
        let host = if addr.ip().is_unspecified() { std::net::Ipv4Addr::LOCALHOST.into() } else { addr.ip() };
        let _ = self.endpoint.set(format!("http://{}", std::net::SocketAddr::new(host, addr.port())));
    }

    /// The domain's object ports on the local S3 (presigned URLs on this stack's endpoint).
    pub fn objects(&self) -> crate::adapters::LocalObjects {
        self.objects.clone()
    }

    pub fn services(&self) -> &[Arc<dyn Service>] {
        &self.services
    }

    /// Runs one function on one event, as Lambda would.
    pub async fn invoke(&self, logical_id: &str, request_id: &str, event: Value) -> Result<Value, FunctionError> {
        self.lambda.invoke(logical_id, request_id, event).await
    }
}

/// Every dead-letter queue and destination a function names must be a queue the stack has: a typo found at start-up,
/// not when the first event has failed three times.
fn check_destinations(lambda: &Lambda, sqs: &local_sqs::Sqs) -> Result<(), StackError> {
    let known: Vec<String> = sqs.resources("").into_iter().map(|q| q.arn).collect();
    for f in lambda.functions() {
        let c = &f.decl.async_config;
        for (what, d) in [
            ("DeadLetterQueue", &c.dead_letter),
            ("OnFailure destination", &c.on_failure),
            ("OnSuccess destination", &c.on_success),
        ] {
            if let Some(Destination::Sqs(arn)) = d
                && !known.contains(arn)
            {
                return Err(StackError::UnknownQueue { function: f.decl.logical_id.clone(), what, queue: arn.clone() });
            }
        }
    }
    Ok(())
}

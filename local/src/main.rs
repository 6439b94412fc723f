//! The `local` command: runs the stack (`local up`, the default), issues tokens, invokes one function, lists routes;
//! `local states validate|run` checks and runs a state machine definition on its own (no template, Task states
//! mocked); `local executions start|list|describe|history` drive the running stack's executions through its Step
//! Functions API, as `aws stepfunctions --endpoint-url` would; `local events test-pattern|put` mirror EventBridge's
//! TestEventPattern (offline) and PutEvents (on the running stack); `local photos render` is the photo resizer alone,
//! `local invoices parse` the invoice parser alone; `local console --aws` serves the operator console for a deployed
//! stack.

use clap::{Parser, Subcommand};
use local::{
    Stack, StackConfig,
    auth::LocalIdp,
    local_core::{Credentials, Identity},
    local_lambda::FunctionDecl,
    local_sfn::StateMachineDecl,
    local_template::Template,
};
use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

#[derive(Parser)]
#[command(name = "local", about = "The task platform on one machine, driven by template.yaml", version)]
struct Cli {
    /// Where the local stack keeps its data (store, keys, secrets).
    #[arg(long, global = true, default_value = ".local")]
    data_dir: PathBuf,
    /// The SAM template to run (default: ./template.yaml, else the repository's).
    #[arg(long, global = true)]
    template: Option<PathBuf>,
    /// Port of the HTTP API (`up`), or of the console (`console --aws`, where it defaults to 3001).
    #[arg(long, global = true, default_value_t = 3000)]
    port: u16,
    /// Address to listen on (`up`). Keep it loopback: the local stack is for one machine.
    #[arg(long, global = true, default_value = "127.0.0.1")]
    host: String,
    /// Log level (`info`, or per target: `warn,local=debug`; `off` for none); LOG_LEVEL works too.
    #[arg(long, global = true, env = "LOG_LEVEL", default_value = "info")]
    log_level: String,
    /// The access key id the emulated AWS services accept in SigV4 signatures (`up`).
    #[arg(long, global = true, default_value = "test")]
    access_key_id: String,
    /// The secret key the emulated AWS services check signatures with (`up`).
    #[arg(long, global = true, default_value = "test")]
    secret_access_key: String,
    /// Seconds before an asynchronous invocation's first retry; the second waits twice as long (`up`). Lambda
    /// waits a minute; shorten it to see retries and dead letters quickly.
    #[arg(long, global = true, default_value_t = 60.0, value_parser = parse_delay)]
    async_retry_delay_seconds: f64,
    /// Seconds a client may take to send a request's headers (also the longest a kept-alive connection waits for
    /// its next request) before the connection is closed (`up`).
    #[arg(long, global = true, default_value_t = local::server::Limits::HEADER_READ_TIMEOUT.as_secs_f64(), value_parser = parse_timeout)]
    header_read_timeout_seconds: f64,
    /// Seconds a connection with no request in flight may move no byte before it is closed (`up`).
    #[arg(long, global = true, default_value_t = local::server::Limits::IDLE_TIMEOUT.as_secs_f64(), value_parser = parse_timeout)]
    idle_timeout_seconds: f64,
    /// Connections served at once; over it a new connection gets a 503 and is closed, and the log says so (`up`).
    #[arg(long, global = true, default_value_t = local::server::Limits::MAX_CONNECTIONS as u64, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_connections: u64,
    #[command(subcommand)]
    command: Option<Command>,
    /// Whether `--port` was on the command line (`console` has its own default port, 3001).
    #[arg(skip)]
    port_given: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (the default).
    Up,
    /// Print a bearer token the local stack accepts, shaped like a Cognito ID token.
    Token {
        user: String,
        #[arg(long)]
        email: Option<String>,
        /// Hours until the token expires (at most a year; negative values make expired tokens, for tests).
        #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(i64).range(-8760..=8760))]
        ttl_hours: i64,
    },
    /// Run one function once on an event file and print its result.
    Invoke {
        /// The function's logical id in the template, e.g. CreateTaskFunction.
        function: String,
        #[arg(long)]
        event: PathBuf,
    },
    /// List the routes the template declares and the handler that serves each.
    Routes,
    /// Print every template resource as JSON: logical id, type, physical name, URL, ARN.
    Resources,
    /// Check or run a state machine definition on its own, with no template and no functions.
    #[command(subcommand)]
    States(StatesCommand),
    /// Start and inspect executions of the template's state machines on the running stack (`--host`/`--port`).
    #[command(subcommand)]
    Executions(ExecutionsCommand),
    /// The emails SES accepted, in the data directory's outbox.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// EventBridge: test an event pattern, put an event on a bus of the running stack.
    #[command(subcommand)]
    Events(EventsCommand),
    /// The photo pipeline's resizer on its own.
    #[command(subcommand)]
    Photos(PhotosCommand),
    /// The invoice pipeline's parser on its own.
    #[command(subcommand)]
    Invoices(InvoicesCommand),
    /// The operator console of a deployed stack (`--aws`), on loopback (`--port`, default 3001). The local stack's
    /// console is served by `local up` at /_console/.
    Console {
        /// Read a deployed stack through the AWS SDK (credentials and region from the default chain;
        /// AWS_ENDPOINT_URL is honoured).
        #[arg(long)]
        aws: bool,
        /// The AWS profile to use.
        #[arg(long, requires = "aws")]
        profile: Option<String>,
        /// The AWS region (default: the profile's or AWS_REGION).
        #[arg(long, requires = "aws")]
        region: Option<String>,
        /// The CloudFormation stack; without it, every state machine and dead-letter queue of the region.
        #[arg(long, requires = "aws")]
        stack: Option<String>,
        /// Address to listen on: loopback only (the console stops and redrives executions with your credentials).
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
    },
}

#[derive(Subcommand)]
enum InvoicesCommand {
    /// Parse a PDF invoice as `parse-invoice` does (the embedded Factur-X/ZUGFeRD/XRechnung XML, else the text
    /// layer) and print it as JSON: `{"number", "issue_date", "due_date", "currency", "seller": {"name", "vat_id"},
    /// "buyer": {"name", "email"}, "lines": [{"description", "quantity", "unit_price", "amount"}], "net", "tax",
    /// "total", "source", …}`, amounts as decimal strings. An unreadable or damaged PDF, or one that is not an
    /// invoice, prints the reason on stderr and exits 2.
    Parse { file: PathBuf },
}

#[derive(Subcommand)]
enum PhotosCommand {
    /// Render a photo (JPEG, PNG or WebP) as `resize-photo` does — the renditions of the template's `RENDITIONS`
    /// (thumbnail 200, medium 800, large 1600 px) — into `<dir>/<name>.jpg`, and print
    /// `{"renditions": [{"name", "width", "height", "bytes"}, …]}`. A corrupt, unsupported or oversized photo
    /// (a decompression bomb) prints the reason on stderr and exits 2.
    Render {
        file: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum EventsCommand {
    /// TestEventPattern, on its own (no stack needed): prints `{"result": true|false}`; an invalid pattern or event
    /// is reported on stderr with exit code 2.
    TestPattern {
        /// The event pattern: JSON, or @file.
        #[arg(long)]
        pattern: String,
        /// The event, with the fields TestEventPattern requires (id, account, source, time, region,
        /// detail-type): JSON, or @file.
        #[arg(long)]
        event: String,
    },
    /// PutEvents, one entry, on the running stack (`--host`/`--port`): prints the answer
    /// (`{"FailedEntryCount", "Entries"}`); exit code 1 when the entry was refused.
    Put {
        /// The bus: its name, its ARN, or its logical id in the template (e.g. TaskEventBus).
        #[arg(long, default_value = "default")]
        bus: String,
        #[arg(long)]
        source: String,
        #[arg(long)]
        detail_type: String,
        /// The event's detail, a JSON object: JSON, or @file.
        #[arg(long)]
        detail: String,
        /// A resource ARN the event is about (repeatable).
        #[arg(long)]
        resource: Vec<String>,
    },
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// One JSON object per message, newest first: id, from, to, subject, date (and cc, bcc, size, …).
    List,
    /// The message itself, as the RFC 5322 (.eml) text SES accepted.
    Show { id: String },
}

#[derive(Subcommand)]
enum StatesCommand {
    /// Print `{"valid": true}`, or the problems (and exit 1).
    Validate { file: PathBuf },
    /// Run the definition and print `{"status": …, "output": …}` or `{"status": "FAILED", "error": …, "cause": …}`.
    Run {
        file: PathBuf,
        /// The execution input: JSON, or @file.
        #[arg(long, default_value = "{}")]
        input: String,
        /// Canned Task results/errors: by Task state name, or a Step Functions Local mock config.
        #[arg(long)]
        mock: Option<PathBuf>,
        /// Add the execution's history events.
        #[arg(long)]
        history: bool,
        /// Run on a virtual clock starting at 2024-01-01T00:00:00Z: Waits and retry backoffs take no time.
        #[arg(long)]
        virtual_clock: bool,
        /// The execution's name (`$$.Execution.Name`); a UUID when not given.
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Subcommand)]
enum ExecutionsCommand {
    /// StartExecution; with --wait, until it ends (exit 1 unless it succeeded).
    Start {
        /// The state machine: its logical id in the template, its name or its ARN.
        state_machine: String,
        #[arg(long)]
        name: Option<String>,
        /// The execution input: JSON, or @file.
        #[arg(long)]
        input: Option<String>,
        #[arg(long)]
        wait: bool,
    },
    /// ListExecutions, newest first.
    List {
        state_machine: String,
        /// RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED.
        #[arg(long)]
        status: Option<String>,
    },
    /// DescribeExecution.
    Describe { execution_arn: String },
    /// GetExecutionHistory, every page.
    History { execution_arn: String },
}

fn main() -> ExitCode {
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    let mut cli = <Cli as clap::FromArgMatches>::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    cli.port_given = matches.value_source("port") == Some(clap::parser::ValueSource::CommandLine);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run(mut cli: Cli) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let config = StackConfig {
        template: cli.template.clone().unwrap_or_else(StackConfig::default_template),
        data_dir: cli.data_dir.clone(),
        credentials: Credentials {
            access_key_id: cli.access_key_id.clone(),
            secret_access_key: cli.secret_access_key.clone(),
        },
        async_retry_delay: std::time::Duration::from_secs_f64(cli.async_retry_delay_seconds),
        extra_handlers: Default::default(),
        logs: Default::default(),
    };
    match cli.command.take().unwrap_or(Command::Up) {
        Command::Up => {
            let (host, port) = (&cli.host, cli.port);
            // Stdout, and the ring the console's log page reads.
            local::logs::install(Some(&cli.log_level), "--log-level", &config.logs);
            let stack = Stack::load(config)?;
            let addr: SocketAddr = format!("{host}:{port}").parse()?;
            let listener = tokio::net::TcpListener::bind(addr).await?;
            tracing::info!(address = %listener.local_addr()?, functions = stack.lambda().len(), "local stack listening");
            let address = listener.local_addr()?;
            eprintln!(
                "local stack: http://{address} ({} functions, data in {})\n\
                 AWS services on the same endpoint: export AWS_ENDPOINT_URL=http://{address} \
                 AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={} AWS_DEFAULT_REGION={}",
                stack.lambda().len(),
                stack.config().data_dir.display(),
                stack.credentials().access_key_id,
                stack.credentials().secret_access_key,
                stack.identity().region,
            );
            let limits = local::server::Limits {
                header_read_timeout: std::time::Duration::from_secs_f64(cli.header_read_timeout_seconds),
                idle_timeout: std::time::Duration::from_secs_f64(cli.idle_timeout_seconds),
                max_connections: cli.max_connections as usize,
            };
            local::server::run_with_limits(listener, stack, limits, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Token { user, email, ttl_hours } => {
            let template = load_template(&config)?;
            let authorizer =
                local::local_apigw::routes::authorizer(&template)?.ok_or("the template declares no JWT authorizer")?;
            let idp = LocalIdp::open(&config.data_dir, authorizer)?;
            println!("{}", idp.issue(&user, email.as_deref(), time::Duration::hours(ttl_hours)));
            Ok(ExitCode::SUCCESS)
        }
        Command::Invoke { function, event } => {
            telemetry::init(Some(&cli.log_level), "--log-level");
            let text = std::fs::read_to_string(&event).map_err(|e| format!("{}: {e}", event.display()))?;
            let event: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", event.display()))?;
            let stack = Stack::load_idle(config)?;
            if stack.lambda().function(&function).is_none() {
                let known: Vec<_> = stack.lambda().functions().map(|f| f.decl.logical_id.clone()).collect();
                return Err(format!("no function `{function}` in the template (have: {})", known.join(", ")).into());
            }
            let request_id = uuid::Uuid::new_v4().to_string();
            match stack.invoke(&function, &request_id, event).await {
                Ok(result) => {
                    println!("{}", serde_json::to_string_pretty(&result)?);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    println!("{}", serde_json::to_string_pretty(&e)?);
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Routes => {
            let template = load_template(&config)?;
            let routes = local::local_apigw::routes::function_routes(&template)?;
            for f in FunctionDecl::read_all(&template)? {
                let handler = local::registry::binary(&f.binary).map_or("(no local handler)", |b| b.handler);
                for r in routes.get(&f.logical_id).into_iter().flatten() {
                    println!(
                        "{:<7} {:<16} {:<24} {:<16} {}{}",
                        r.method,
                        r.path,
                        f.logical_id,
                        f.binary,
                        handler,
                        if r.authorized { "  [jwt]" } else { "" }
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Resources => {
            let template = load_template(&config)?;
            let endpoint = format!("http://{}:{}", cli.host, cli.port);
            print_json(&serde_json::json!({"resources": local::resources::describe(&template, &endpoint)?}))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Events(command) => events_command(&config, &cli, command).await,
        Command::Photos(PhotosCommand::Render { file, out }) => {
            // The renditions `resize-photo` makes, from the template; its defaults when the template has none.
            let renditions = load_template(&config)
                .ok()
                .and_then(|t| FunctionDecl::read_all(&t).ok())
                .and_then(|fs| fs.into_iter().find(|f| f.binary == "resize-photo"))
                .and_then(|f| f.env.get("RENDITIONS").cloned())
                .unwrap_or_else(|| "thumbnail:200,medium:800,large:1600".to_owned());
            let specs = domain::photo::RenditionSpecs::parse(&renditions)
                .map_err(|e| format!("RENDITIONS `{renditions}`: {e}"))?
                .as_slice()
                .iter()
                .map(|s| photo::RenditionSpec::new(s.name.as_str(), s.long_edge))
                .collect::<Vec<_>>();
            match photo::render_file(&file, &out, &specs, &photo::Limits::default()) {
                Ok(renditions) => {
                    print_json(&serde_json::json!({ "renditions": renditions }))?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("{}: {e}", file.display());
                    Ok(ExitCode::from(e.exit_code() as u8))
                }
            }
        }
        Command::Invoices(InvoicesCommand::Parse { file }) => {
            match invoice_pdf::parse_file(&file, &invoice_pdf::Limits::default()) {
                Ok(invoice) => {
                    print_json(&serde_json::to_value(&invoice)?)?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("{}: {e}", file.display());
                    Ok(ExitCode::from(2))
                }
            }
        }
        Command::Outbox(command) => {
            let outbox = local::local_ses::Outbox::open(&config.data_dir)?;
            match command {
                OutboxCommand::List => {
                    for envelope in outbox.list()? {
                        println!("{}", serde_json::to_string(&envelope)?);
                    }
                }
                OutboxCommand::Show { id } => {
                    use std::io::Write;
                    std::io::stdout().write_all(&outbox.show(&id)?)?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::States(command) => states_command(command).await,
        Command::Console { aws, profile, region, stack, bind } => {
            console_command(&cli, ConsoleArgs { aws, profile, region, stack, bind }).await
        }
        Command::Executions(command) => {
            let client = SfnClient { base: format!("http://{}:{}", cli.host, cli.port), http: reqwest::Client::new() };
            executions_command(&client, &config, command).await
        }
    }
}

struct ConsoleArgs {
    aws: bool,
    profile: Option<String>,
    region: Option<String>,
    stack: Option<String>,
    bind: String,
}

/// `local console --aws`: discovers the deployed stack and serves the console's pages for it until Ctrl-C.
async fn console_command(cli: &Cli, args: ConsoleArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    if !args.aws {
        println!(
            "The local stack's console is served by `local up`: http://{}:{}/_console/\n\
             For a deployed stack: local console --aws [--profile P] [--region R] [--stack NAME]",
            cli.host, cli.port
        );
        return Ok(ExitCode::SUCCESS);
    }
    let port = if cli.port_given { cli.port } else { 3001 };
    let addr = loopback_address(&args.bind, port)?;
    telemetry::init(Some(&cli.log_level), "--log-level");
    let config = local_console_aws::AwsSource::load_config(args.profile.as_deref(), args.region.as_deref()).await;
    let source = local_console_aws::AwsSource::discover(&config, args.stack.as_deref())
        .await
        .map_err(|e| format!("reading the deployed stack: {e}"))?;
    let found = source.discovered();
    let summary = format!(
        "{} state machines, {} dead-letter queues, {} functions",
        found.machines.len(),
        found.queues.len(),
        found.functions.len()
    );
    let label = local_console::source::ConsoleSource::label(&source);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    eprintln!("console: http://{}/_console/ ({label}: {summary})", listener.local_addr()?);
    let app = local::console::guarded_router(std::sync::Arc::new(source));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(ExitCode::SUCCESS)
}

/// The console acts with the operator's AWS credentials, so it listens on a loopback address only.
fn loopback_address(bind: &str, port: u16) -> Result<SocketAddr, String> {
    let ip: std::net::IpAddr = match bind {
        "localhost" => std::net::Ipv4Addr::LOCALHOST.into(),
        other => other.parse().map_err(|_| format!("--bind {other}: not an IP address"))?,
    };
    if !ip.is_loopback() {
        return Err(format!(
            "--bind {bind}: the console serves only on a loopback address (127.0.0.1 or ::1), because it stops and \
             redrives executions with your AWS credentials; use an SSH tunnel to reach it from elsewhere"
        ));
    }
    Ok(SocketAddr::new(ip, port))
}

fn parse_delay(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=3600.0).contains(&v) => Ok(v),
        _ => Err(format!("`{s}` is not a number of seconds between 0 and 3600")),
    }
}

fn parse_timeout(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.001..=86_400.0).contains(&v) => Ok(v),
        _ => Err(format!("`{s}` is not a number of seconds between 0.001 and 86400")),
    }
}

/// `--input`/`--mock` values: JSON text, or `@path` for a file's.
/// The text of a `<json|@file>` argument, unparsed (the service parses it and words its own errors).
fn text_arg(what: &str, raw: &str) -> Result<String, Box<dyn std::error::Error>> {
    match raw.strip_prefix('@') {
        Some(path) => Ok(std::fs::read_to_string(path).map_err(|e| format!("{what} {path}: {e}"))?),
        None => Ok(raw.to_owned()),
    }
}

async fn events_command(
    config: &StackConfig,
    cli: &Cli,
    command: EventsCommand,
) -> Result<ExitCode, Box<dyn std::error::Error>> {
    match command {
        EventsCommand::TestPattern { pattern, event } => {
            let (pattern, event) = (text_arg("--pattern", &pattern)?, text_arg("--event", &event)?);
            match local::local_events::EventBridge::test_event_pattern(&pattern, &event) {
                Ok(result) => {
                    print_json(&serde_json::json!({ "result": result }))?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("{e}");
                    Ok(ExitCode::from(2))
                }
            }
        }
        EventsCommand::Put { bus, source, detail_type, detail, resource } => {
            let detail = text_arg("--detail", &detail)?;
            // A logical id of the template names the bus it declares; anything else is a name or an ARN already.
            let bus = load_template(config)
                .ok()
                .filter(|t| t.of_type(&["AWS::Events::EventBus"]).any(|r| r.id == bus))
                .and_then(|t| t.physical_name(&bus).ok())
                .unwrap_or(bus);
            let endpoint = format!("http://{}:{}", cli.host, cli.port);
            let sdk = aws_sdk_eventbridge::Config::builder()
                .behavior_version(aws_sdk_eventbridge::config::BehaviorVersion::latest())
                .region(aws_sdk_eventbridge::config::Region::new(local::local_core::Identity::default().region))
                .endpoint_url(&endpoint)
                .credentials_provider(aws_sdk_eventbridge::config::Credentials::new(
                    &cli.access_key_id,
                    &cli.secret_access_key,
                    None,
                    None,
                    "local",
                ))
                .build();
            let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                .event_bus_name(bus)
                .source(source)
                .detail_type(detail_type)
                .detail(detail)
                .set_resources((!resource.is_empty()).then_some(resource))
                .build();
            let answer =
                aws_sdk_eventbridge::Client::from_conf(sdk).put_events().entries(entry).send().await.map_err(|e| {
                    match e {
                        aws_sdk_eventbridge::error::SdkError::DispatchFailure(_) => {
                            format!("the local stack is not answering at {endpoint}; start it with `local up`")
                        }
                        e => format!("PutEvents: {}", aws_sdk_eventbridge::error::DisplayErrorContext(e)),
                    }
                })?;
            let entries: Vec<serde_json::Value> = answer
                .entries()
                .iter()
                .map(|e| match (e.event_id(), e.error_code()) {
                    (Some(id), None) => serde_json::json!({ "EventId": id }),
                    _ => serde_json::json!({ "ErrorCode": e.error_code(), "ErrorMessage": e.error_message() }),
                })
                .collect();
            print_json(&serde_json::json!({ "FailedEntryCount": answer.failed_entry_count(), "Entries": entries }))?;
            Ok(if answer.failed_entry_count() == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
    }
}

fn json_arg(what: &str, raw: &str) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    let text = match raw.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).map_err(|e| format!("{what} {path}: {e}"))?,
        None => raw.to_owned(),
    };
    Ok(serde_json::from_str(&text).map_err(|e| format!("{what} is not JSON: {e}"))?)
}

fn print_json(v: &impl serde::Serialize) -> Result<(), Box<dyn std::error::Error>> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

async fn states_command(command: StatesCommand) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let (file, run) = match &command {
        StatesCommand::Validate { file } => (file, None),
        StatesCommand::Run { file, input, mock, history, virtual_clock, name } => {
            (file, Some((input, mock, *history, *virtual_clock, name.clone())))
        }
    };
    let definition = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let machine = match states::validate(&definition) {
        Ok(m) => m,
        Err(problems) => {
            print_json(&serde_json::json!({"valid": false, "problems": problems}))?;
            return Ok(ExitCode::FAILURE);
        }
    };
    let Some((input, mock, history, virtual_clock, name)) = run else {
        print_json(&serde_json::json!({"valid": true}))?;
        return Ok(ExitCode::SUCCESS);
    };
    let input = json_arg("--input", input)?;
    let tasks = match mock {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("--mock {}: {e}", path.display()))?;
            states::MockInvoker::from_json(&text)?
        }
        // No mock: every Task fails with an error naming the state that has no response.
        None => states::MockInvoker::new(),
    };
    let options = states::RunOptions { record_history: history, execution_name: name, ..Default::default() };
    let outcome = if virtual_clock {
        states::run(&machine, input, &tasks, &states::VirtualClock::fixed(), options).await
    } else {
        states::run(&machine, input, &tasks, &states::TokioClock, options).await
    };
    print_json(&outcome)?;
    Ok(if outcome.status == states::Status::Succeeded { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// A client of the running stack's Step Functions API (AWS JSON 1.0).
struct SfnClient {
    base: String,
    http: reqwest::Client,
}

impl SfnClient {
    async fn call(
        &self,
        operation: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
        let response = self
            .http
            .post(&self.base)
            .header(
                local::local_core::endpoint::TARGET_HEADER,
                format!("{}{operation}", local::local_sfn::api::TARGET_PREFIX),
            )
            .header("content-type", local::local_sfn::api::CONTENT_TYPE)
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| {
                format!("the local stack is not answering at {} ({e}); start it with `local up`", self.base)
            })?;
        let status = response.status();
        let body: serde_json::Value =
            response.json().await.map_err(|e| format!("{operation}: the answer is not JSON: {e}"))?;
        if !status.is_success() {
            return Err(format!(
                "{operation}: {} ({status}): {}",
                body["__type"].as_str().unwrap_or("error"),
                body["message"].as_str().unwrap_or("")
            )
            .into());
        }
        Ok(body)
    }
}

/// A state machine's ARN from what the user typed: an ARN as it is, a logical id of the template, or a name.
fn state_machine_arn(config: &StackConfig, reference: &str) -> String {
    if reference.starts_with("arn:") {
        return reference.to_owned();
    }
    let name = load_template(config)
        .ok()
        .and_then(|t| StateMachineDecl::read_all(&t).ok())
        .and_then(|machines| machines.into_iter().find(|m| m.logical_id == reference).map(|m| m.name))
        .unwrap_or_else(|| reference.to_owned());
    Identity::default().state_machine_arn(&name).to_string()
}

async fn executions_command(
    client: &SfnClient,
    config: &StackConfig,
    command: ExecutionsCommand,
) -> Result<ExitCode, Box<dyn std::error::Error>> {
    use serde_json::json;
    match command {
        ExecutionsCommand::Start { state_machine, name, input, wait } => {
            let mut body = json!({"stateMachineArn": state_machine_arn(config, &state_machine)});
            if let Some(name) = name {
                body["name"] = json!(name);
            }
            if let Some(input) = input {
                body["input"] = json!(json_arg("--input", &input)?.to_string());
            }
            let started = client.call("StartExecution", body).await?;
            if !wait {
                print_json(&started)?;
                return Ok(ExitCode::SUCCESS);
            }
            let arn = json!({"executionArn": started["executionArn"]});
            loop {
                let described = client.call("DescribeExecution", arn.clone()).await?;
                if described["status"] != "RUNNING" {
                    print_json(&described)?;
                    return Ok(if described["status"] == "SUCCEEDED" { ExitCode::SUCCESS } else { ExitCode::FAILURE });
                }
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        }
        ExecutionsCommand::List { state_machine, status } => {
            let mut body = json!({"stateMachineArn": state_machine_arn(config, &state_machine)});
            if let Some(status) = status {
                body["statusFilter"] = json!(status.to_ascii_uppercase());
            }
            let mut all = Vec::new();
            loop {
                let page = client.call("ListExecutions", body.clone()).await?;
                all.extend(page["executions"].as_array().cloned().unwrap_or_default());
                match page["nextToken"].as_str() {
                    Some(t) => body["nextToken"] = json!(t),
                    None => break,
                }
            }
            print_json(&json!({"executions": all}))?;
            Ok(ExitCode::SUCCESS)
        }
        ExecutionsCommand::Describe { execution_arn } => {
            print_json(&client.call("DescribeExecution", json!({"executionArn": execution_arn})).await?)?;
            Ok(ExitCode::SUCCESS)
        }
        ExecutionsCommand::History { execution_arn } => {
            let mut body = json!({"executionArn": execution_arn});
            let mut all = Vec::new();
            loop {
                let page = client.call("GetExecutionHistory", body.clone()).await?;
                all.extend(page["events"].as_array().cloned().unwrap_or_default());
                match page["nextToken"].as_str() {
                    Some(t) => body["nextToken"] = json!(t),
                    None => break,
                }
            }
            print_json(&json!({"events": all}))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The template alone (for commands that need no store).
fn load_template(config: &StackConfig) -> Result<Template, Box<dyn std::error::Error>> {
    Ok(local::stack::load_template(config)?)
}

//! The `local` command: runs the stack (`local up`, the default), issues tokens, invokes one function, lists routes.

use clap::{Parser, Subcommand};
use local::{Stack, StackConfig, auth::LocalIdp, template::Template};
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
    /// Port of the HTTP API (`up`).
    #[arg(long, global = true, default_value_t = 3000)]
    port: u16,
    /// Address to listen on (`up`). Keep it loopback: the local stack is for one machine.
    #[arg(long, global = true, default_value = "127.0.0.1")]
    host: String,
    /// Log level (an EnvFilter directive); LOG_LEVEL works too.
    #[arg(long, global = true, env = "LOG_LEVEL", default_value = "info")]
    log_level: String,
    #[command(subcommand)]
    command: Option<Command>,
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
        /// Hours until the token expires.
        #[arg(long, default_value_t = 24)]
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let config = StackConfig { template: cli.template.clone().unwrap_or_else(StackConfig::default_template), data_dir: cli.data_dir.clone() };
    match cli.command.unwrap_or(Command::Up) {
        Command::Up => {
            let (host, port) = (&cli.host, cli.port);
            local::logging::init(&cli.log_level);
            let stack = Stack::load(config)?;
            let addr: SocketAddr = format!("{host}:{port}").parse()?;
            let listener = tokio::net::TcpListener::bind(addr).await?;
            tracing::info!(address = %listener.local_addr()?, functions = stack.functions.len(), "local stack listening");
            eprintln!("local stack: http://{} ({} functions, data in {})", listener.local_addr()?, stack.functions.len(), stack.config.data_dir.display());
            local::server::run(listener, stack, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Token { user, email, ttl_hours } => {
            let template = load_template(&config)?;
            let authorizer = template.authorizer.ok_or("the template declares no JWT authorizer")?;
            let idp = LocalIdp::open(&config.data_dir, authorizer)?;
            println!("{}", idp.issue(&user, email.as_deref(), time::Duration::hours(ttl_hours)));
            Ok(ExitCode::SUCCESS)
        }
        Command::Invoke { function, event } => {
            local::logging::init(&cli.log_level);
            let text = std::fs::read_to_string(&event).map_err(|e| format!("{}: {e}", event.display()))?;
            let event: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", event.display()))?;
            let stack = Stack::load(config)?;
            if !stack.functions.contains_key(&function) {
                return Err(format!("no function `{function}` in the template (have: {})", stack.functions.keys().cloned().collect::<Vec<_>>().join(", ")).into());
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
            for f in &template.functions {
                let handler = local::registry::binary(&f.binary).map_or("(no local handler)", |b| b.handler);
                for r in &f.routes {
                    println!("{:<7} {:<16} {:<24} {:<16} {}{}", r.method, r.path, f.logical_id, f.binary, handler, if r.authorized { "  [jwt]" } else { "" });
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The template alone (for commands that need no store).
fn load_template(config: &StackConfig) -> Result<Template, Box<dyn std::error::Error>> {
    struct NoSecrets;
    impl local::template::SecretSource for NoSecrets {
        fn secret(&self, _: &str) -> Result<String, local::template::TemplateError> {
            Ok(String::new())
        }
    }
    Ok(Template::load(&config.template, &NoSecrets)?)
}

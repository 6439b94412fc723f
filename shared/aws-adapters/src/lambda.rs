//! Hosting on AWS Lambda: what every function's `main` does before it hands its handler to `lambda_runtime`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), lambda_runtime::Error> {
//! aws_adapters::lambda::init_tracing();
//! let config = aws_adapters::lambda::sdk_config().await;
//! let tasks = aws_adapters::lambda::tasks_from_env(&config)?; // reads TASKS_TABLE
//! # let _ = tasks; Ok(()) }
//! ```
//!
//! Every function's `main` has the same shape: `#[tokio::main(flavor = "current_thread")]`, because a sandbox
//! handles one event at a time and a single-threaded runtime starts faster and uses less memory; and
//! `#![recursion_limit = "256"]`, because the handler's future nests the SDK's deeply enough that computing its
//! layout needs more query depth than rustc's default.
//!
//! Start-up stays cheap (a function must reach its first poll of the runtime API within ~12 ms): nothing here
//! makes a network call. Loading the SDK configuration reads environment variables only (Lambda sets
//! `AWS_REGION` and the credential variables); the HTTP client and credentials are resolved on first use.

use crate::dynamo::{DynamoProfiles, DynamoTasks};
#[cfg(feature = "s3")]
use crate::s3::{S3Addressing, S3Objects};
use aws_config::{BehaviorVersion, SdkConfig};

/// The log level (or a full `tracing` filter such as `info,aws_smithy_runtime=warn`); `info` when unset.
pub const LOG_LEVEL_ENV: &str = "LOG_LEVEL";
/// The tasks table's name, from `template.yaml`.
pub const TASKS_TABLE_ENV: &str = "TASKS_TABLE";
/// The users table's name, from `template.yaml`.
pub const USERS_TABLE_ENV: &str = "USERS_TABLE";
/// The activity table's name, from `template.yaml`.
pub const ACTIVITY_TABLE_ENV: &str = "ACTIVITY_TABLE";
/// The idempotency table's name, from `template.yaml`.
pub const IDEMPOTENCY_TABLE_ENV: &str = "IDEMPOTENCY_TABLE";
/// The invoices table's name, from `template.yaml`.
pub const INVOICES_TABLE_ENV: &str = "INVOICES_TABLE";
/// The address the platform's mail comes from (SES must have it verified).
pub const SENDER_EMAIL_ENV: &str = "SENDER_EMAIL";

/// `true` or `1` when S3 requests must name the bucket in the path rather than the host: for a local endpoint
/// (`AWS_ENDPOINT_URL_S3` at an IP address). Unset, empty, `false` or `0`: virtual-hosted, as on AWS.
pub const S3_FORCE_PATH_STYLE_ENV: &str = "S3_FORCE_PATH_STYLE";

/// The key that seals list page tokens (`list-tasks`).
pub const PAGE_TOKEN_SECRET_ENV: &str = "PAGE_TOKEN_SECRET";

/// The bucket photos are uploaded to and their renditions written to (`uploads/` and `renditions/`).
pub const UPLOADS_BUCKET_ENV: &str = "UPLOADS_BUCKET";

/// The renditions of every photo, `name:long edge` pairs (`thumbnail:200,medium:800,large:1600`); the resizer and
/// the recorder must be given the same list.
pub const RENDITIONS_ENV: &str = "RENDITIONS";

/// The event bus events are put on: its name, or its ARN (`!Ref` or `!GetAtt Bus.Arn` in `template.yaml`).
pub const EVENT_BUS_NAME_ENV: &str = "EVENT_BUS_NAME";

/// The state machine a function starts (`start-invoice`): its ARN (`!Ref` of an `AWS::Serverless::StateMachine`).
pub const STATE_MACHINE_ARN_ENV: &str = "STATE_MACHINE_ARN";

/// A required environment variable that is missing or not UTF-8.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("the environment variable `{0}` is not set; the function's configuration (template.yaml) must set it")]
    Missing(String),
    #[error("the environment variable `{0}` is not valid UTF-8")]
    NotUnicode(String),
    #[error("the environment variable `{name}` is `{value}`; expected {expected}")]
    Unexpected { name: String, value: String, expected: &'static str },
}

/// JSON log lines on stdout, one per event, with the level from [`LOG_LEVEL_ENV`]. Each line carries the current
/// span's fields: `lambda_runtime` runs every invocation inside a span with the `requestId`, so every line an
/// invocation logs can be found by its request id. Calling it twice is harmless (the first subscriber stays).
pub fn init_tracing() {
    telemetry::init(std::env::var(LOG_LEVEL_ENV).ok().as_deref(), LOG_LEVEL_ENV);
}

/// The SDK configuration from the Lambda environment (region, credentials chain). No network call: the
/// credentials Lambda provides are environment variables, read when the first request is signed.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// The value of environment variable `name`, or an error that names it.
pub fn required_env(name: &str) -> Result<String, lambda_runtime::Error> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value),
        Ok(_) | Err(std::env::VarError::NotPresent) => Err(EnvError::Missing(name.to_owned()).into()),
        Err(std::env::VarError::NotUnicode(_)) => Err(EnvError::NotUnicode(name.to_owned()).into()),
    }
}

/// Serves `handler` on the Lambda Runtime API until the sandbox is shut down. Handlers answer every event (their
/// failures are HTTP responses), so the runtime only reports events that do not deserialise. Each invocation runs
/// in a [`telemetry::metrics`] scope and ends with its EMF line on stdout (`ColdStart` on the first, the counts
/// the handler made, `durationMs`).
pub async fn serve<E, R, F, Fut>(handler: F) -> Result<(), lambda_runtime::Error>
where
    E: serde::de::DeserializeOwned + Send,
    R: serde::Serialize,
    F: Fn(E) -> Fut,
    Fut: std::future::Future<Output = R>,
{
    let handler = &handler;
    let meter = &Meter::from_env();
    lambda_runtime::run(lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<E>| async move {
        let (invocation, started) = meter.start();
        let response = invocation.scope(handler(event.payload)).await;
        meter.emit(&invocation, started, None);
        Ok::<R, std::convert::Infallible>(response)
    }))
    .await
}

/// Serves a handler that can fail, for functions invoked by Step Functions rather than over HTTP: its
/// `Err((error_type, message))` becomes the Lambda error (`errorType`, `errorMessage`), and `errorType` is what a
/// state machine's `Retry`/`Catch` `ErrorEquals` match — so name it for what the caller should do. Metered as
/// [`serve`] is, a failure's line carrying its `error` type.
pub async fn serve_fallible<E, R, T, M, F, Fut>(handler: F) -> Result<(), lambda_runtime::Error>
where
    E: serde::de::DeserializeOwned + Send,
    R: serde::Serialize,
    T: Into<String>,
    M: Into<String>,
    F: Fn(E) -> Fut,
    Fut: std::future::Future<Output = Result<R, (T, M)>>,
{
    let handler = &handler;
    let meter = &Meter::from_env();
    lambda_runtime::run(lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<E>| async move {
        let (invocation, started) = meter.start();
        let result = invocation.scope(handler(event.payload)).await.map_err(diagnostic);
        meter.emit(&invocation, started, result.as_ref().err().map(|d| d.error_type.as_str()));
        result
    }))
    .await
}

/// Each invocation's EMF line ([`telemetry::metrics`]), printed on stdout as a raw JSON line: CloudWatch Logs
/// extracts metrics only from a line that is the EMF object itself, not one nested in a log event.
struct Meter {
    function_name: String,
    memory_mb: u64,
    /// Whether the next invocation is the process's first: its cold start.
    cold: std::sync::atomic::AtomicBool,
}

impl Meter {
    /// The function's name and memory as Lambda sets them in every sandbox.
    fn from_env() -> Self {
        let function_name = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
        let memory_mb =
            std::env::var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").ok().and_then(|m| m.trim().parse().ok()).unwrap_or(0);
        Self { function_name, memory_mb, cold: std::sync::atomic::AtomicBool::new(true) }
    }

    fn start(&self) -> (telemetry::metrics::Invocation, std::time::Instant) {
        let cold = self.cold.swap(false, std::sync::atomic::Ordering::Relaxed);
        (
            telemetry::metrics::Invocation::new(self.function_name.clone(), self.memory_mb, cold),
            std::time::Instant::now(),
        )
    }

    fn emit(&self, invocation: &telemetry::metrics::Invocation, started: std::time::Instant, error: Option<&str>) {
        use std::io::Write;
        let line = invocation.emf_line(started.elapsed(), error);
        // One write of the whole line, so it never interleaves with a log line; a closed stdout loses the metrics,
        // never the response.
        let _ = writeln!(std::io::stdout().lock(), "{line}");
    }
}

fn diagnostic<T: Into<String>, M: Into<String>>((error_type, message): (T, M)) -> lambda_runtime::Diagnostic {
    lambda_runtime::Diagnostic { error_type: error_type.into(), error_message: message.into() }
}

/// The page-token key from `PAGE_TOKEN_SECRET` (a Secrets Manager value, through a dynamic reference).
pub fn page_key_from_env() -> Result<domain::PageKey, lambda_runtime::Error> {
    Ok(domain::PageKey::new(required_env(PAGE_TOKEN_SECRET_ENV)?.into_bytes())?)
}

/// The event bus named by [`EVENT_BUS_NAME_ENV`], refused at start-up when it is not a bus name or ARN.
pub fn event_bus_from_env() -> Result<domain::bus::EventBusName, lambda_runtime::Error> {
    let raw = required_env(EVENT_BUS_NAME_ENV)?;
    domain::bus::EventBusName::parse(raw.trim()).map_err(|_| {
        EnvError::Unexpected {
            name: EVENT_BUS_NAME_ENV.to_owned(),
            value: raw.clone(),
            expected: "an event bus name (1 to 256 of A-Z a-z 0-9 . - _ /) or an event bus ARN",
        }
        .into()
    })
}

/// The bucket named by environment variable `name`, refused at start-up when it is not a bucket name.
pub fn bucket_from_env(name: &str) -> Result<domain::object::BucketName, lambda_runtime::Error> {
    let raw = required_env(name)?;
    domain::object::BucketName::parse(raw.trim()).map_err(|_| {
        EnvError::Unexpected { name: name.to_owned(), value: raw.clone(), expected: "an S3 bucket name" }.into()
    })
}

/// The renditions named by [`RENDITIONS_ENV`], refused at start-up when they do not parse.
pub fn renditions_from_env() -> Result<domain::photo::RenditionSpecs, lambda_runtime::Error> {
    let raw = required_env(RENDITIONS_ENV)?;
    domain::photo::RenditionSpecs::parse(&raw).map_err(|_| {
        EnvError::Unexpected {
            name: RENDITIONS_ENV.to_owned(),
            value: raw.clone(),
            expected: "renditions as `name:long edge` pairs, comma-separated (thumbnail:200,medium:800,large:1600)",
        }
        .into()
    })
}

/// The tasks store on the table named by [`TASKS_TABLE_ENV`].
pub fn tasks_from_env(config: &SdkConfig) -> Result<DynamoTasks, lambda_runtime::Error> {
    Ok(DynamoTasks::new(aws_sdk_dynamodb::Client::new(config), required_env(TASKS_TABLE_ENV)?))
}

/// The profiles store on the table named by [`USERS_TABLE_ENV`].
pub fn profiles_from_env(config: &SdkConfig) -> Result<DynamoProfiles, lambda_runtime::Error> {
    Ok(DynamoProfiles::new(aws_sdk_dynamodb::Client::new(config), required_env(USERS_TABLE_ENV)?))
}

/// The activity log on the table named by [`ACTIVITY_TABLE_ENV`].
pub fn activity_from_env(config: &SdkConfig) -> Result<crate::DynamoActivity, lambda_runtime::Error> {
    Ok(crate::DynamoActivity::new(aws_sdk_dynamodb::Client::new(config), required_env(ACTIVITY_TABLE_ENV)?))
}

/// The idempotency records on the table named by [`IDEMPOTENCY_TABLE_ENV`].
pub fn idempotency_from_env(config: &SdkConfig) -> Result<crate::DynamoIdempotency, lambda_runtime::Error> {
    Ok(crate::DynamoIdempotency::new(aws_sdk_dynamodb::Client::new(config), required_env(IDEMPOTENCY_TABLE_ENV)?))
}

/// The invoice store on the table named by [`INVOICES_TABLE_ENV`].
pub fn invoices_from_env(config: &SdkConfig) -> Result<crate::DynamoInvoices, lambda_runtime::Error> {
    Ok(crate::DynamoInvoices::new(aws_sdk_dynamodb::Client::new(config), required_env(INVOICES_TABLE_ENV)?))
}

/// The sender named by [`SENDER_EMAIL_ENV`], refused at start-up when it is not a mail address.
pub fn sender_from_env() -> Result<domain::mail::MailAddress, lambda_runtime::Error> {
    let raw = required_env(SENDER_EMAIL_ENV)?;
    domain::mail::MailAddress::parse(&raw).map_err(|_| {
        EnvError::Unexpected { name: SENDER_EMAIL_ENV.to_owned(), value: raw.clone(), expected: "a mail address" }
            .into()
    })
}

/// Mail through SES v2.
#[cfg(feature = "ses")]
pub fn mail_from_env(config: &SdkConfig) -> crate::SesMail {
    crate::SesMail::new(config)
}

/// The state machine named by [`STATE_MACHINE_ARN_ENV`], refused at start-up when it is not a state machine's ARN
/// (`arn:<partition>:states:<region>:<account>:stateMachine:<name>`, optionally `:<version or alias>`).
pub fn state_machine_from_env() -> Result<String, lambda_runtime::Error> {
    Ok(state_machine_arn(&required_env(STATE_MACHINE_ARN_ENV)?)?)
}

fn state_machine_arn(raw: &str) -> Result<String, EnvError> {
    let arn = raw.trim();
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "states", region, account, "stateMachine", name]
            if [partition, region, account, name].iter().all(|p| !p.is_empty()) =>
        {
            Ok(arn.to_owned())
        }
        _ => Err(EnvError::Unexpected {
            name: STATE_MACHINE_ARN_ENV.to_owned(),
            value: raw.to_owned(),
            expected: "a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)",
        }),
    }
}

/// Executions on Step Functions.
#[cfg(feature = "sfn")]
pub fn executions_from_env(config: &SdkConfig) -> crate::SfnExecutions {
    crate::SfnExecutions::new(config)
}

/// Objects on S3, addressed as [`S3_FORCE_PATH_STYLE_ENV`] says.
#[cfg(feature = "s3")]
pub fn objects_from_env(config: &SdkConfig) -> Result<S3Objects, lambda_runtime::Error> {
    Ok(S3Objects::new(config, s3_addressing(std::env::var(S3_FORCE_PATH_STYLE_ENV).ok().as_deref())?))
}

#[cfg(feature = "s3")]
fn s3_addressing(value: Option<&str>) -> Result<S3Addressing, EnvError> {
    match value.map(str::trim) {
        None | Some("" | "false" | "0") => Ok(S3Addressing::VirtualHosted),
        Some("true" | "1") => Ok(S3Addressing::PathStyle),
        Some(other) => Err(EnvError::Unexpected {
            name: S3_FORCE_PATH_STYLE_ENV.to_owned(),
            value: other.to_owned(),
            expected: "`true`, `1`, `false`, `0` or nothing",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handler_error_becomes_a_diagnostic_with_its_error_type() {
        let d = diagnostic(("Retryable", "the store is unavailable".to_owned()));
        assert_eq!((d.error_type.as_str(), d.error_message.as_str()), ("Retryable", "the store is unavailable"));
    }

    #[cfg(feature = "s3")]
    #[test]
    fn s3_path_style_is_chosen_only_by_an_explicit_true() {
        assert_eq!(s3_addressing(None).unwrap(), S3Addressing::VirtualHosted);
        assert_eq!(s3_addressing(Some("false")).unwrap(), S3Addressing::VirtualHosted);
        assert_eq!(s3_addressing(Some("1")).unwrap(), S3Addressing::PathStyle);
        assert_eq!(s3_addressing(Some("true")).unwrap(), S3Addressing::PathStyle);
        let err = s3_addressing(Some("yes")).unwrap_err();
        assert!(err.to_string().contains("`S3_FORCE_PATH_STYLE` is `yes`"), "{err}");
    }

    #[test]
    fn only_a_state_machine_arn_is_taken_for_the_state_machine() {
        let arn = "arn:aws:states:eu-central-1:123456789012:stateMachine:InvoicePipeline";
        assert_eq!(state_machine_arn(&format!(" {arn}\n")).unwrap(), arn);
        // A version or alias ARN names the state machine too (StartExecution takes either).
        assert!(state_machine_arn(&format!("{arn}:live")).is_ok());
        for bad in [
            "InvoicePipeline",
            "arn:aws:lambda:eu-central-1:123456789012:function:start-invoice",
            "arn:aws:states:eu-central-1:123456789012:execution:InvoicePipeline:run-1",
            "arn:aws:states:eu-central-1:123456789012:stateMachine:",
        ] {
            let err = state_machine_arn(bad).unwrap_err();
            assert!(err.to_string().contains("`STATE_MACHINE_ARN`"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_missing_variable_is_an_error_naming_it() {
        let err = required_env("AWS_ADAPTERS_TEST_SURELY_UNSET").unwrap_err();
        assert!(err.to_string().contains("`AWS_ADAPTERS_TEST_SURELY_UNSET` is not set"), "{err}");
    }
}

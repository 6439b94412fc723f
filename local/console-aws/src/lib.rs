//! The operator console's source for a deployed stack: [`AwsSource`] implements the console's port
//! ([`local_console::source::ConsoleSource`]) through the AWS SDK, so `local console --aws` serves the same
//! executions, execution, dead-letter and cost pages as the local stack.
//!
//! - [`discover`]: which state machines, dead-letter queues and functions are the stack's (CloudFormation, or the
//!   whole region without a stack name), and the dead-letter rule;
//! - [`executions`]: lists (AWS's paging, or a bounded merge for all machines and name searches), one execution
//!   with its definition and history, stop and redrive;
//! - [`history`]: the SDK's typed history events back into the API's JSON;
//! - [`dead_letters`]: SQS messages read with a short visibility timeout (SQS cannot peek), parsed by the console's
//!   shared parser; no redrive on AWS;
//! - [`measure`]: CloudWatch metrics for the cost page;
//! - `error`: SDK errors by meaning.
//!
//! What a deployed stack does not have here — the SES outbox, the pipelines view, log lines (CloudWatch Logs is not
//! read), live pushes — is `Unsupported` or `None`, and the pages hide or poll accordingly.

pub mod dead_letters;
pub mod discover;
mod error;
pub mod executions;
pub mod history;
pub mod measure;

use discover::Discovered;
use local_console::source::{
    ConsoleSource, DeadLetterQueue, ExecutionChange, ExecutionDetail, ExecutionPage, ExecutionQuery, ExecutionSummary,
    LogLine, MachineSummary, MailSummary, Measurements, Pipelines, RedriveOutcome, SourceError, SourceFuture,
};

/// A deployed stack (or every state machine of a region), seen through the AWS SDK. Cheap to share: the SDK
/// clients are handles over one connection pool each.
#[derive(Debug, Clone)]
pub struct AwsSource {
    sfn: aws_sdk_sfn::Client,
    sqs: aws_sdk_sqs::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    found: Discovered,
    label: String,
}

impl AwsSource {
    /// Finds the stack's resources (see [`discover`]): with `stack`, through CloudFormation; without, every state
    /// machine and dead-letter-named queue of the configured region. Fails with the service's message when AWS
    /// cannot be reached or the stack does not exist.
    pub async fn discover(config: &aws_config::SdkConfig, stack: Option<&str>) -> Result<AwsSource, SourceError> {
        let sfn = aws_sdk_sfn::Client::new(config);
        let sqs = aws_sdk_sqs::Client::new(config);
        let cloudwatch = aws_sdk_cloudwatch::Client::new(config);
        let region = config.region().map_or_else(|| "the default region".to_owned(), |r| r.to_string());
        let (found, label) = match stack {
            Some(name) => {
                let cfn = aws_sdk_cloudformation::Client::new(config);
                (discover::stack(&cfn, name).await?, format!("AWS stack {name} in {region}"))
            }
            None => {
                let found = discover::region(&sfn, &sqs).await?;
                // The account is in every ARN; without one, the region alone.
                let account = found.machines.first().and_then(|m| m.arn.split(':').nth(4)).map(str::to_owned);
                let label = match account {
                    Some(a) => format!("AWS account {a} in {region}"),
                    None => format!("AWS account in {region}"),
                };
                (found, label)
            }
        };
        Ok(AwsSource { sfn, sqs, cloudwatch, found, label })
    }

    /// What discovery found (the page header's counts, and the CLI's start-up line).
    pub fn discovered(&self) -> &Discovered {
        &self.found
    }

    /// The SDK configuration `local console --aws` uses: the default chain (environment, profile files, SSO,
    /// instance roles) with an optional profile and region. `AWS_ENDPOINT_URL` is honoured by that chain, which is
    /// how the tests point it at moto.
    pub async fn load_config(profile: Option<&str>, region: Option<&str>) -> aws_config::SdkConfig {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(p) = profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = region {
            loader = loader.region(aws_config::Region::new(r.to_owned()));
        }
        loader.load().await
    }
}

fn unsupported<T>(what: &str) -> SourceFuture<'static, T> {
    let message = format!("{what} is shown for the local stack only");
    Box::pin(async move { Err(SourceError::Unsupported(message)) })
}

impl ConsoleSource for AwsSource {
    fn label(&self) -> String {
        self.label.clone()
    }

    fn is_local(&self) -> bool {
        false
    }

    fn list_limits(&self) -> Option<String> {
        Some(format!(
            "From AWS: a name search, or a list across state machines, covers the newest {} executions of each \
             state machine (ListExecutions cannot filter by name), and rows show no error or cause (ListExecutions \
             has none): open an execution for them.",
            executions::SCAN_LIMIT
        ))
    }

    fn state_machines(&self) -> SourceFuture<'_, Vec<MachineSummary>> {
        // Counts by status would need every execution listed: AWS cannot count cheaply, so none.
        let machines = self
            .found
            .machines
            .iter()
            .map(|m| MachineSummary { name: m.name.clone(), arn: m.arn.clone(), counts: Vec::new() })
            .collect();
        Box::pin(async move { Ok(machines) })
    }

    fn executions(&self, query: ExecutionQuery) -> SourceFuture<'_, ExecutionPage> {
        Box::pin(executions::list(&self.sfn, &self.found.machines, query))
    }

    fn execution(&self, arn: &str) -> SourceFuture<'_, ExecutionDetail> {
        let arn = arn.to_owned();
        Box::pin(async move { executions::detail(&self.sfn, &self.found.machines, &arn).await })
    }

    fn stop(&self, arn: &str, error: Option<String>, cause: Option<String>) -> SourceFuture<'_, ExecutionSummary> {
        let arn = arn.to_owned();
        Box::pin(async move { executions::stop(&self.sfn, &self.found.machines, &arn, error, cause).await })
    }

    fn redrive(&self, arn: &str) -> SourceFuture<'_, ExecutionSummary> {
        let arn = arn.to_owned();
        Box::pin(async move { executions::redrive(&self.sfn, &self.found.machines, &arn).await })
    }

    fn subscribe(&self) -> Option<tokio::sync::broadcast::Receiver<ExecutionChange>> {
        None // AWS pushes nothing to a console: the page polls.
    }

    fn dead_letters(&self, limit: usize) -> SourceFuture<'_, Vec<DeadLetterQueue>> {
        Box::pin(dead_letters::read(&self.sqs, &self.found.queues, limit))
    }

    fn redrive_dead_letter(&self, queue_arn: &str, _message_id: &str) -> SourceFuture<'_, RedriveOutcome> {
        let refused = dead_letters::redrive_unsupported(&self.found.queues, queue_arn);
        Box::pin(async move { Err(refused) })
    }

    fn mail(&self) -> SourceFuture<'_, Vec<MailSummary>> {
        unsupported("the SES outbox")
    }

    fn mail_raw(&self, _id: &str) -> SourceFuture<'_, Vec<u8>> {
        unsupported("the SES outbox")
    }

    fn pipelines(&self) -> SourceFuture<'_, Pipelines> {
        unsupported("the pipelines view")
    }

    fn logs(&self, _request_id: &str) -> SourceFuture<'_, Vec<LogLine>> {
        unsupported("log lines by request id (CloudWatch Logs is not read)")
    }

    fn measurements(&self) -> SourceFuture<'_, Measurements> {
        Box::pin(measure::measure(&self.cloudwatch, &self.found.functions))
    }
}

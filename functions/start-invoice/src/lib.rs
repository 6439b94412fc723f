//! `start-invoice`: the target of the uploads bucket's `s3:ObjectCreated:*` notification on the `invoices/` prefix.
//! Each uploaded `invoices/{owner}/{name}.pdf` becomes a [`Submission`] (the invoice id and the execution name are
//! derived from the object) and starts the invoice state machine (`STATE_MACHINE_ARN`) on it
//! ([`domain::invoice::service::start`]). The state machine does the rest: parse, validate, store, mail.
//!
//! S3 notifies at least once, so the same object may come twice: the execution's name is the object's, and Step
//! Functions starts nothing under a name it has (`already_started`). A record that is not an upload of a PDF under
//! an owner's prefix (another event, another prefix, a key that is not `.pdf` or names no user) is logged and
//! `ignored`: nothing will ever make it an invoice, so it is not an error.
//!
//! The function is invoked asynchronously (Lambda retries a failed invocation twice, then sends the event to the
//! dead-letter queue), so it fails only where a retry may succeed or an operator must look, with the error names
//! the pipeline's steps share ([`StepError::name`]): `Retryable` (Step Functions unavailable or throttled),
//! `Misconfigured` (the state machine does not exist, or the role may not start it).

use aws_lambda_events::event::s3::{S3Event, S3EventRecord};
use domain::error::chain;
use domain::invoice::InvoiceId;
use domain::invoice::service::{Started, StepError, Submission, start};
use domain::ports::ExecutionStart;
use domain::truncate_to_millis;
use serde::Serialize;

/// What the handler works with: the executions port and the state machine it starts (`STATE_MACHINE_ARN`).
#[derive(Debug, Clone)]
pub struct Starter<E> {
    pub executions: E,
    pub state_machine_arn: String,
}

/// What became of one record of the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// An execution started for this object now.
    Started,
    /// An execution of this object's name exists (a repeated notification): nothing new started.
    AlreadyStarted,
    /// Not an upload of an invoice PDF: logged, nothing done.
    Ignored,
}

/// One record's result: `{"outcome", "key", "invoice_id", "execution_name", "execution_arn", "reason"}` (the last
/// four when they apply).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordResult {
    pub outcome: Outcome,
    /// The key as decoded (as the event carried it when it is not a submission).
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_id: Option<InvoiceId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_arn: Option<String>,
    /// For `ignored`: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The invocation's result: every record's outcome in order (`{"outcomes": ["started"], "records": [...]}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Handled {
    pub outcomes: Vec<Outcome>,
    pub records: Vec<RecordResult>,
}

/// Why a record's execution could not be started now; its name ([`StepError::name`]) is the `errorType`.
#[derive(Debug, thiserror::Error)]
#[error("starting the invoice pipeline for `{key}` failed")]
pub struct StartFailed {
    pub key: String,
    #[source]
    pub error: StepError,
}

impl StartFailed {
    /// `(errorType, errorMessage)`, as the Lambda runtime reports a failed invocation ([`StepError::into_parts`]),
    /// logged here with the key, which the message does not carry.
    pub fn into_parts(self) -> (&'static str, String) {
        tracing::error!(error_type = self.error.name(), key = %self.key, error = %chain(&self.error), "no execution started; Lambda will retry");
        self.error.into_parts()
    }
}

fn ignored(key: String, why: &str) -> RecordResult {
    tracing::warn!(%key, "ignoring an S3 record: {why}");
    RecordResult {
        outcome: Outcome::Ignored,
        key,
        invoice_id: None,
        execution_name: None,
        execution_arn: None,
        reason: Some(why.to_owned()),
    }
}

/// Starts the state machine for every invoice upload the event reports, in order; stops at the first that fails
/// (the retry redoes the earlier ones, which then start nothing new).
pub async fn handle<E: ExecutionStart>(starter: &Starter<E>, event: S3Event) -> Result<Handled, StartFailed> {
    let mut records = Vec::with_capacity(event.records.len());
    for record in &event.records {
        records.push(handle_record(starter, record).await?);
    }
    Ok(Handled { outcomes: records.iter().map(|r| r.outcome).collect(), records })
}

async fn handle_record<E: ExecutionStart>(
    starter: &Starter<E>,
    record: &S3EventRecord,
) -> Result<RecordResult, StartFailed> {
    let object = &record.s3.object;
    let raw = object.key.clone().unwrap_or_default();
    if !record.event_name.as_deref().is_some_and(|n| n.starts_with("ObjectCreated:")) {
        return Ok(ignored(raw, "not an object creation"));
    }
    let (Some(bucket), Some(etag)) = (record.s3.bucket.name.as_deref(), object.e_tag.as_deref()) else {
        return Ok(ignored(raw, "the record names no bucket or no ETag"));
    };
    let at =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(record.event_time.timestamp_millis()) * 1_000_000)
            .map(truncate_to_millis)
            .unwrap_or_else(|_| domain::now());
    let submission = match Submission::from_notification(bucket, &raw, etag, object.version_id.as_deref(), at) {
        Ok(Some(submission)) => submission,
        Ok(None) => return Ok(ignored(raw, "not an invoice upload (invoices/{owner}/{name}.pdf)")),
        Err(e) => return Ok(ignored(raw, &e.to_string())),
    };
    let key = submission.object.key.clone();
    let started = start(&starter.executions, &starter.state_machine_arn, &submission)
        .await
        .map_err(|error| StartFailed { key: key.clone(), error })?;
    let mut result = RecordResult {
        outcome: Outcome::Started,
        key,
        invoice_id: Some(submission.invoice_id),
        execution_name: None,
        execution_arn: None,
        reason: None,
    };
    match started {
        Started::Started { execution_arn, execution_name } => {
            tracing::info!(key = %result.key, invoice_id = %submission.invoice_id, %execution_arn, "invoice pipeline started");
            result.execution_name = Some(execution_name);
            result.execution_arn = Some(execution_arn);
        }
        Started::AlreadyStarted { execution_name } => {
            tracing::info!(key = %result.key, %execution_name, "this upload's pipeline was started before");
            result.outcome = Outcome::AlreadyStarted;
            result.execution_name = Some(execution_name);
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests;

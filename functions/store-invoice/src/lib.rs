//! `store-invoice`: two states of the invoice state machine share it, told apart by the input.
//!
//! - `Store` (no `refusal`): the parsed, valid invoice is stored as `stored`, once however often the state runs
//!   ([`keep`]). It answers `{"outcome": "stored"}`, or `{"outcome": "duplicate", "rejection": …}` when another
//!   upload of the same seller's number was stored first (recorded as rejected here; the `WasStored` choice sends
//!   the execution down the refusal branch).
//! - `RecordRefusal` (a `refusal` built by the `RecordRejection` or `RecordFailure` Pass state): the invoice is
//!   recorded as `rejected` or `failed`, with the state, code and reason ([`refuse`]; a Lambda error document in
//!   the reason is read for its message). It answers `{"recorded": "<status>"}`; the first refusal recorded stays.
//!
//! Errors are named for the state machine's `Retry` and `Catch` ([`StepError::name`]): `Retryable` (the invoice
//! store unavailable) and `InvalidInput` (`Store` without a parsed invoice, a refusal whose status is `stored`).

use domain::invoice::InvoiceStatus;
use domain::invoice::ports::{InvoiceRefuse, InvoiceStore};
use domain::invoice::service::{Kept, StepError, StepInput, keep, refuse};
use serde::Serialize;
use serde_json::Value;

/// What the state did: the `Store` state's [`Kept`], or the status a refusal was recorded with.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Stored {
    Kept(Kept),
    Recorded { recorded: InvoiceStatus },
}

pub async fn handle<S: InvoiceStore + InvoiceRefuse>(invoices: &S, event: Value) -> Result<Stored, StepError> {
    let input = StepInput::parse(event)?;
    let now = domain::now();
    match &input.refusal {
        Some(refusal) => {
            let problem = refusal.problem();
            let submission = &input.submission;
            let record =
                refuse(invoices, submission, input.invoice, refusal.status, &problem, input.execution_arn, now).await?;
            // Every refusal, a duplicate's too, passes here once: the refusal branch of the execution.
            match record.status {
                InvoiceStatus::Rejected => telemetry::metrics::count("InvoicesRejected", 1.0),
                InvoiceStatus::Failed => telemetry::metrics::count("InvoicesFailed", 1.0),
                InvoiceStatus::Stored => {}
            }
            Ok(Stored::Recorded { recorded: record.status })
        }
        None => {
            let invoice = input.require_invoice()?.clone();
            let kept = keep(invoices, &input.submission, invoice, input.execution_arn, now).await?;
            if kept == Kept::Stored {
                telemetry::metrics::count("InvoicesStored", 1.0);
            }
            Ok(Stored::Kept(kept))
        }
    }
}

#[cfg(test)]
mod tests;

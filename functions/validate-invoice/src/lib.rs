//! `validate-invoice`: the invoice state machine's `Validate` state. It takes the step's input (the submission
//! and the parsed `invoice`) and answers the [`Verdict`] the `IsValid` choice reads: `{"valid": true}`, or
//! `{"valid": false, "rejection": {"rule", "message", "field"}}` for the first EN 16931 rule the invoice breaks, or
//! `duplicate` when its owner already stored this seller's number under another invoice
//! ([`domain::invoice::service::check`]). A rejection is an answer, not an error: the state machine records it.
//!
//! Errors are named for the state machine's `Retry` and `Catch` ([`StepError::name`]): `Retryable` (the invoice
//! store unavailable) and `InvalidInput` (an input without a parsed invoice: the definition and the function
//! disagree).

use domain::invoice::ports::InvoiceNumberFind;
use domain::invoice::service::{StepError, StepInput, Verdict, check};
use serde_json::Value;

pub async fn handle(numbers: &impl InvoiceNumberFind, event: Value) -> Result<Verdict, StepError> {
    let input = StepInput::parse(event)?;
    check(numbers, &input.submission, input.require_invoice()?).await
}

#[cfg(test)]
mod tests;

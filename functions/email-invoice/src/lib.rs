//! `email-invoice`: two states of the invoice state machine share it, told apart by the input.
//!
//! - `Email` (no `refusal`): the stored invoice goes to its buyer's email (else to the submitter's profile email),
//!   a summary with the uploaded PDF attached ([`Mailer::acknowledge`]).
//! - `NotifyRefusal` (a `refusal`): the submitter is told why the invoice was rejected or failed, and in which
//!   state ([`Mailer::tell_refused`]).
//!
//! Each mail goes once per invoice however often the state runs (claimed in the idempotency table before it is
//! sent). The answer is `{"outcome": "sent", "message_id", "to"}`, `{"outcome": "already_sent"}`, or
//! `{"outcome": "no_recipient"}` when nobody has an address to send to.
//!
//! The PDF is read from the submission's object, which must be in the bucket invoices are uploaded to
//! (`UPLOADS_BUCKET`): an input naming another bucket is refused as `InvalidInput` rather than read. Errors are
//! named for the state machine's `Retry` and `Catch` ([`StepError::name`]): `Retryable` (a store, S3 or SES
//! unavailable, or another attempt sending this mail right now), `Misconfigured` (SES refused the sender, a denied
//! call), `InvalidInput` (`Email` without a parsed invoice).

use domain::idempotency::Idempotency;
use domain::invoice::service::{Mailed, Mailer, StepError, StepInput};
use domain::mail::MailAddress;
use domain::object::BucketName;
use domain::ports::{MailSend, ObjectGet, ProfileGet};
use serde_json::Value;

/// What the handler works with: the PDF's bucket, the submitter's profile, the mail claims, SES and the sender.
#[derive(Debug, Clone)]
pub struct Emailer<O, M, P, I> {
    pub objects: O,
    pub mail: M,
    pub profiles: P,
    pub claims: I,
    /// `SENDER_EMAIL`: an identity SES has verified.
    pub sender: MailAddress,
    /// `UPLOADS_BUCKET`: the only bucket a submitted PDF is read from.
    pub bucket: BucketName,
}

pub async fn handle<O, M, P, I>(emailer: &Emailer<O, M, P, I>, event: Value) -> Result<Mailed, StepError>
where
    O: ObjectGet,
    M: MailSend,
    P: ProfileGet,
    I: Idempotency,
{
    let input = StepInput::parse(event)?;
    let Emailer { objects, mail, profiles, claims, sender, bucket } = emailer;
    let mailer = Mailer { objects, mail, profiles, claims, sender };
    let now = domain::now();
    let mailed = match &input.refusal {
        Some(refusal) => {
            let problem = refusal.problem();
            mailer.tell_refused(&input.submission, refusal.status, &problem, input.invoice.as_ref(), now).await
        }
        None => {
            let invoice = input.require_invoice()?;
            input.submission.check_bucket(bucket)?;
            mailer.acknowledge(&input.submission, invoice, now).await
        }
    };
    if let Ok(Mailed::Sent { .. }) = &mailed {
        telemetry::metrics::count("InvoiceMailsSent", 1.0);
    }
    mailed
}

#[cfg(test)]
mod tests;

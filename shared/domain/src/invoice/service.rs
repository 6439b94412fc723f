//! The invoice pipeline's operations, one per function, each taking only the ports its function's IAM policy grants:
//!
//! - [`Submission::from_notification`] and [`start`] (`start-invoice`, on `invoices/…​.pdf`): the upload becomes the
//!   state machine's input, and an execution named from the object starts, once per object.
//! - [`read`] (`parse-invoice`): the PDF read and parsed into an [`Invoice`], or refused as not one.
//! - [`check`] (`validate-invoice`): the EN 16931 rules and the owner's earlier invoices: a [`Verdict`].
//! - [`keep`] and [`refuse`] (`store-invoice`): the valid invoice stored, or the record of why it was not.
//! - [`Mailer::acknowledge`] and [`Mailer::tell_refused`] (`email-invoice`): the buyer (or the submitter) gets the invoice, the
//!   submitter gets the rejection; each mail once per invoice.
//!
//! Each step may run twice (S3 notifications are delivered at least once, the state machine retries a step that
//! timed out): the invoice id and the execution name are derived from the object, the store's writes are
//! conditional on that id, and the mails are claimed once per invoice, so a repeated step changes nothing.
//!
//! Errors are named for what the state machine should do with them ([`StepError::name`]): `Retryable` (a store or
//! service unavailable: retried with back-off), and the rest caught and recorded: `InvalidDocument` (the PDF cannot
//! be read as an invoice), `InvalidInput` (the step was handed something no retry can fix), `Misconfigured` (a
//! denied call, a missing bucket: an operator must look).

use super::Invoice;
use super::ports::{InvoiceNumberFind, InvoiceRefuse, InvoiceStore};
use super::record::{InvoiceId, InvoiceRecord, InvoiceStatus, ObjectFingerprint, Problem, StoreOutcome};
use super::validate::{self, Rejection};
use crate::idempotency::{Idempotency, IdempotencyKey, Once, OnceError, OncePolicy, run_once};
use crate::mail::{MailAddress, RawMail, Recipients};
use crate::object::{BucketName, ObjectKey};
use crate::ports::{ExecutionStart, MailSend, ObjectGet, ProfileGet, StartedExecution};
use crate::{Error, ServiceError, StoreError, Timestamp, UserId};
use serde::{Deserialize, Serialize};

/// Where submitted invoices are uploaded: `invoices/{owner}/{file name}.pdf`.
pub const SUBMISSION_PREFIX: &str = "invoices/";
/// The largest PDF read (as `POST /invoices/upload` allows): larger ones fail as `InvalidDocument`.
pub const MAX_PDF_BYTES: usize = 20 * 1024 * 1024;
/// The purpose part of the idempotency key of an invoice's mail (`{purpose}:{invoice id}`).
pub const INVOICE_MAIL: &str = "invoice-mail";
pub const REFUSAL_MAIL: &str = "invoice-refusal-mail";
/// As the task mails' ([`crate::notify::DONE_MAIL_POLICY`]): a claim outlives the function's timeout, a sent mail is
/// remembered past any retry of the execution.
pub const MAIL_POLICY: OncePolicy = crate::notify::DONE_MAIL_POLICY;

/// Why a step did not finish, named for the state machine's `Retry` and `Catch`.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// A store or service was unavailable or throttled: the same step later may succeed.
    #[error("{0}")]
    Retryable(String),
    /// The PDF is not an invoice this pipeline can read; `code` is stable (`damaged`, `encrypted`,
    /// `not_an_invoice`, `too_large`, `missing`, `superseded`, …).
    #[error("{reason}")]
    InvalidDocument { code: String, reason: String },
    /// The step's input is not what the state machine sends: a definition and a function out of step.
    #[error("{0}")]
    InvalidInput(String),
    /// A denied call, a missing bucket or table: a deployment's mistake.
    #[error("{0}")]
    Misconfigured(String),
}

impl StepError {
    /// The error name the state machine matches (`ErrorEquals`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Retryable(_) => "Retryable",
            Self::InvalidDocument { .. } => "InvalidDocument",
            Self::InvalidInput(_) => "InvalidInput",
            Self::Misconfigured(_) => "Misconfigured",
        }
    }

    /// `(error name, message)`, as a Lambda function reports a failure. An invalid document's message is
    /// `{code}: {reason}`, so the state machine's `Cause` keeps both.
    pub fn into_parts(self) -> (&'static str, String) {
        let name = self.name();
        let message = match self {
            Self::InvalidDocument { code, reason } => format!("{code}: {reason}"),
            other => other.to_string(),
        };
        (name, message)
    }

    fn store(e: StoreError) -> Self {
        Self::Retryable(format!("the invoice store failed: {}", crate::error::chain(&e)))
    }

    fn service(what: &str, e: ServiceError) -> Self {
        let message = format!("{what}: {}", crate::error::chain(&e));
        if e.is_retryable() { Self::Retryable(message) } else { Self::Misconfigured(message) }
    }
}

// ----------------------------------------------------------------------------------------------------------------
// start-invoice

/// The state machine's input: one uploaded PDF, as `start-invoice` read it from the S3 notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    pub invoice_id: InvoiceId,
    /// The uploader, from the key (`invoices/{owner}/…`): the invoice's owner.
    pub owner: UserId,
    pub object: ObjectFingerprint,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: Timestamp,
}

impl Submission {
    /// From an `ObjectCreated` record: `key` as the event carries it (URL-encoded), which must be
    /// `invoices/{owner}/{name}.pdf`. `Ok(None)` for a key outside that shape (the bucket's other prefixes, a
    /// file that is not a PDF by name): not an invoice submission, nothing to start.
    pub fn from_notification(
        bucket: &str,
        raw_key: &str,
        etag: &str,
        version_id: Option<&str>,
        event_time: Timestamp,
    ) -> Result<Option<Self>, Error> {
        let key = crate::photo::decode_event_key(raw_key)?;
        let Some(rest) = key.strip_prefix(SUBMISSION_PREFIX) else { return Ok(None) };
        let Some((owner, name)) = rest.split_once('/') else { return Ok(None) };
        if name.is_empty() || !name.to_ascii_lowercase().ends_with(".pdf") {
            return Ok(None);
        }
        let Ok(owner) = UserId::parse(owner) else { return Ok(None) };
        let object = ObjectFingerprint {
            bucket: bucket.to_owned(),
            key,
            etag: etag.trim_matches('"').to_owned(),
            version_id: version_id.filter(|v| !v.is_empty() && *v != "null").map(str::to_owned),
        };
        let received_at = crate::truncate_to_millis(event_time);
        Ok(Some(Self { invoice_id: InvoiceId::derive(received_at, &object), owner, object, received_at }))
    }

    /// That the submitted object is in `uploads`, the only bucket the pipeline reads: a step input naming another
    /// bucket is `InvalidInput`, never read.
    pub fn check_bucket(&self, uploads: &BucketName) -> Result<(), StepError> {
        if self.object.bucket == uploads.as_str() {
            return Ok(());
        }
        Err(StepError::InvalidInput(format!(
            "the submission's object is in `{}`, not in the uploads bucket `{uploads}`",
            self.object.bucket
        )))
    }

    /// The submitted object's bucket and key, as the object ports take them.
    fn location(&self) -> Result<(BucketName, ObjectKey), StepError> {
        let bucket = BucketName::parse(&self.object.bucket).map_err(|e| StepError::InvalidInput(e.to_string()))?;
        let key = ObjectKey::parse(&self.object.key).map_err(|e| StepError::InvalidInput(e.to_string()))?;
        Ok((bucket, key))
    }

    /// The record of this submission before anything is known of its content.
    fn record(&self, status: InvoiceStatus, now: Timestamp) -> InvoiceRecord {
        InvoiceRecord {
            id: self.invoice_id,
            owner: self.owner.clone(),
            status,
            object: self.object.clone(),
            received_at: self.received_at,
            updated_at: now,
            execution_arn: None,
            invoice: None,
            problem: None,
        }
    }
}

/// What the state machine hands each step: the submission, and what earlier states added to it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StepInput {
    #[serde(flatten)]
    pub submission: Submission,
    /// Set by Parse (null before, and when it failed).
    #[serde(default)]
    pub invoice: Option<Invoice>,
    /// `$$.Execution.Id`, for the record.
    #[serde(default)]
    pub execution_arn: Option<String>,
    /// Set on the refusal branch: what to record and tell.
    #[serde(default)]
    pub refusal: Option<Refusal>,
}

impl StepInput {
    /// `event` as a step's input; `InvalidInput` naming what is wrong when it is not one.
    pub fn parse(event: serde_json::Value) -> Result<Self, StepError> {
        serde_json::from_value(event).map_err(|e| StepError::InvalidInput(format!("not an invoice step input: {e}")))
    }

    /// The parsed invoice, which this step needs.
    pub fn require_invoice(&self) -> Result<&Invoice, StepError> {
        self.invoice.as_ref().ok_or_else(|| StepError::InvalidInput("the step input has no parsed `invoice`".into()))
    }
}

/// The refusal branch's record of what went wrong (built by the state machine's Pass states).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub status: InvoiceStatus,
    /// The execution's error name (`InvoiceRejected`, `InvoiceFailed`).
    #[serde(default)]
    pub error: Option<String>,
    pub state: String,
    pub code: String,
    pub reason: String,
}

impl Refusal {
    /// The problem to record. A Lambda function's failure reaches a Catch as `Cause` = the function's error
    /// document (`{"errorType", "errorMessage", …}` as JSON text): its message is the reason then.
    pub fn problem(&self) -> Problem {
        let message = serde_json::from_str::<serde_json::Value>(&self.reason)
            .ok()
            .and_then(|v| v.get("errorMessage").and_then(|m| m.as_str()).map(str::to_owned));
        let reason = message.unwrap_or_else(|| self.reason.clone());
        let reason = if reason.trim().is_empty() { format!("{} failed ({})", self.state, self.code) } else { reason };
        Problem { state: self.state.clone(), code: self.code.clone(), reason }
    }
}

/// What starting the state machine for a submission did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Started {
    Started {
        execution_arn: String,
        execution_name: String,
    },
    /// An execution of this name exists: this object was started before.
    AlreadyStarted {
        execution_name: String,
    },
}

/// Starts `state_machine_arn` on `submission`, named from the object, so a repeated notification starts nothing.
pub async fn start(
    executions: &impl ExecutionStart,
    state_machine_arn: &str,
    submission: &Submission,
) -> Result<Started, StepError> {
    let name = submission.object.execution_name();
    let mut input = serde_json::to_value(submission).map_err(|e| StepError::InvalidInput(e.to_string()))?;
    // `invoice` is there from the start (null until Parse sets it), so the refusal states can pass it on whether or
    // not parsing got that far.
    if let Some(fields) = input.as_object_mut() {
        fields.insert("invoice".into(), serde_json::Value::Null);
    }
    match executions.start_execution(state_machine_arn, &name, &input).await {
        Ok(StartedExecution::Started { execution_arn }) => Ok(Started::Started { execution_arn, execution_name: name }),
        Ok(StartedExecution::AlreadyExists) => Ok(Started::AlreadyStarted { execution_name: name }),
        Err(e) => Err(StepError::service("StartExecution failed", e)),
    }
}

// ----------------------------------------------------------------------------------------------------------------
// parse-invoice

/// Why a PDF is not an invoice, as the parser reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseFailure {
    pub code: String,
    pub reason: String,
}

/// Reading a PDF into an invoice (the `invoice-pdf` crate; CPU only, no AWS).
pub trait InvoiceParse: Send + Sync {
    fn parse(&self, pdf: Vec<u8>) -> impl std::future::Future<Output = Result<Invoice, ParseFailure>> + Send;
}

/// Reads the submitted PDF (the version the notification named) and parses it.
pub async fn read(
    objects: &impl ObjectGet,
    parser: &impl InvoiceParse,
    submission: &Submission,
) -> Result<Invoice, StepError> {
    let object = &submission.object;
    let (bucket, key) = submission.location()?;
    let invalid = |code: &str, reason: String| StepError::InvalidDocument { code: code.to_owned(), reason };
    let Some(pdf) = objects.get_object(&bucket, &key).await.map_err(|e| StepError::service("GetObject failed", e))?
    else {
        return Err(invalid("missing", format!("the object {} was deleted before it was read", object.key)));
    };
    if pdf.etag.as_str().trim_matches('"') != object.etag {
        return Err(invalid("superseded", format!("{} was replaced by a newer upload before it was read", object.key)));
    }
    if pdf.bytes.len() > MAX_PDF_BYTES {
        return Err(invalid(
            "too_large",
            format!("the PDF is {} bytes; invoices are read up to {MAX_PDF_BYTES} bytes", pdf.bytes.len()),
        ));
    }
    parser.parse(pdf.bytes).await.map_err(|f| invalid(&f.code, f.reason))
}

// ----------------------------------------------------------------------------------------------------------------
// validate-invoice

/// What validation decided: `{"valid": true}` or `{"valid": false, "rejection": {"rule", "message", "field"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub valid: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
}

/// The rules, then the owner's earlier invoices: a seller's number already stored under another id is a
/// duplicate, named with the original's id.
pub async fn check(
    numbers: &impl InvoiceNumberFind,
    submission: &Submission,
    invoice: &Invoice,
) -> Result<Verdict, StepError> {
    if let Err(rejection) = validate::validate(invoice) {
        return Ok(Verdict { valid: false, rejection: Some(rejection) });
    }
    let seller = validate::seller_key(invoice);
    let found = numbers.find_invoice_number(&submission.owner, &seller, &invoice.number).await;
    match found.map_err(StepError::store)? {
        Some(original) if original != submission.invoice_id => {
            Ok(Verdict { valid: false, rejection: Some(validate::duplicate(invoice, &original.to_string())) })
        }
        _ => Ok(Verdict { valid: true, rejection: None }),
    }
}

// ----------------------------------------------------------------------------------------------------------------
// store-invoice

/// What storing a valid invoice did: `{"outcome": "stored"}` (also when a retry finds it stored), or
/// `{"outcome": "duplicate", "rejection": …}` when another execution stored the same seller and number first
/// (recorded as rejected here).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Kept {
    Stored,
    Duplicate { rejection: Rejection },
}

/// Stores `invoice` as `stored`, once.
pub async fn keep<S: InvoiceStore + InvoiceRefuse>(
    invoices: &S,
    submission: &Submission,
    invoice: Invoice,
    execution_arn: Option<String>,
    now: Timestamp,
) -> Result<Kept, StepError> {
    let mut record = submission.record(InvoiceStatus::Stored, now);
    record.execution_arn = execution_arn;
    record.invoice = Some(invoice);
    match invoices.store_invoice(&record).await.map_err(StepError::store)? {
        StoreOutcome::Stored | StoreOutcome::AlreadyStored => Ok(Kept::Stored),
        StoreOutcome::Duplicate(original) => {
            let invoice = record.invoice.as_ref().expect("set above");
            let rejection = validate::duplicate(invoice, &original.to_string());
            let problem =
                Problem { state: "Store".into(), code: rejection.rule.to_string(), reason: rejection.message.clone() };
            record.status = InvoiceStatus::Rejected;
            invoices.refuse_invoice(&record, InvoiceStatus::Rejected, &problem, now).await.map_err(StepError::store)?;
            Ok(Kept::Duplicate { rejection })
        }
    }
}

/// Records that the submission was rejected or failed in `problem.state`; the first refusal recorded stays.
pub async fn refuse(
    invoices: &impl InvoiceRefuse,
    submission: &Submission,
    invoice: Option<Invoice>,
    status: InvoiceStatus,
    problem: &Problem,
    execution_arn: Option<String>,
    now: Timestamp,
) -> Result<InvoiceRecord, StepError> {
    if status == InvoiceStatus::Stored {
        return Err(StepError::InvalidInput("a refusal is `rejected` or `failed`, not `stored`".into()));
    }
    let mut record = submission.record(status, now);
    record.execution_arn = execution_arn;
    record.invoice = invoice;
    record.problem = Some(problem.clone());
    invoices.refuse_invoice(&record, status, problem, now).await.map_err(StepError::store)
}

// ----------------------------------------------------------------------------------------------------------------
// email-invoice

/// What an email step did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Mailed {
    Sent {
        message_id: String,
        to: String,
    },
    /// This invoice's mail was sent before.
    AlreadySent,
    /// Nobody to send it to: no buyer email and a submitter without a deliverable address.
    NoRecipient,
}

/// The mail step's ports.
pub struct Mailer<'a, O, M, P, I> {
    pub objects: &'a O,
    pub mail: &'a M,
    pub profiles: &'a P,
    pub claims: &'a I,
    pub sender: &'a MailAddress,
}

impl<O: ObjectGet, M: MailSend, P: ProfileGet, I: Idempotency> Mailer<'_, O, M, P, I> {
    /// The stored invoice to its buyer's email (else to the submitter's), a summary with the PDF attached.
    pub async fn acknowledge(
        &self,
        submission: &Submission,
        invoice: &Invoice,
        now: Timestamp,
    ) -> Result<Mailed, StepError> {
        let buyer = invoice.buyer.email.as_deref().and_then(|e| MailAddress::parse(e).ok());
        let to = match buyer {
            Some(to) => to,
            None => match self.submitter(&submission.owner).await? {
                Some(to) => to,
                None => return Ok(Mailed::NoRecipient),
            },
        };
        let pdf = self.pdf(submission).await?;
        let message = super::mail::acknowledgement(self.sender, &to, submission, invoice, pdf)
            .map_err(|e| StepError::InvalidInput(e.to_string()))?;
        self.send_once(INVOICE_MAIL, submission, to, message, now).await
    }

    /// The rejection or failure to the submitter, with the reason and the state that refused it.
    pub async fn tell_refused(
        &self,
        submission: &Submission,
        status: InvoiceStatus,
        problem: &Problem,
        invoice: Option<&Invoice>,
        now: Timestamp,
    ) -> Result<Mailed, StepError> {
        let Some(to) = self.submitter(&submission.owner).await? else { return Ok(Mailed::NoRecipient) };
        let message = super::mail::refusal(self.sender, &to, submission, status, problem, invoice)
            .map_err(|e| StepError::InvalidInput(e.to_string()))?;
        self.send_once(REFUSAL_MAIL, submission, to, message, now).await
    }

    async fn submitter(&self, owner: &UserId) -> Result<Option<MailAddress>, StepError> {
        let profile = self.profiles.get_profile(owner).await.map_err(StepError::store)?;
        Ok(profile.and_then(|p| p.email.as_ref().and_then(|e| MailAddress::try_from(e).ok())))
    }

    async fn pdf(&self, submission: &Submission) -> Result<Option<Vec<u8>>, StepError> {
        let object = &submission.object;
        let (bucket, key) = submission.location()?;
        let found =
            self.objects.get_object(&bucket, &key).await.map_err(|e| StepError::service("GetObject failed", e))?;
        // A PDF replaced since is not the one that was stored: the mail goes without an attachment then.
        Ok(found.filter(|o| o.etag.as_str().trim_matches('"') == object.etag).map(|o| o.bytes))
    }

    async fn send_once(
        &self,
        purpose: &'static str,
        submission: &Submission,
        to: MailAddress,
        message: Vec<u8>,
        now: Timestamp,
    ) -> Result<Mailed, StepError> {
        let raw = RawMail::new(self.sender.clone(), Recipients::one(to.clone()), message)
            .map_err(|e| StepError::InvalidInput(e.to_string()))?;
        let key =
            IdempotencyKey::parse(&format!("{purpose}:{}", submission.invoice_id)).expect("a ULID is visible ASCII");
        match run_once(self.claims, &key, MAIL_POLICY, now, || self.mail.send_raw(&raw)).await {
            Ok(Once::Ran(id) | Once::RanUnrecorded(id, _)) => {
                Ok(Mailed::Sent { message_id: id.as_str().to_owned(), to: to.as_str().to_owned() })
            }
            Ok(Once::AlreadyDone) => Ok(Mailed::AlreadySent),
            Err(OnceError::InProgress { until }) => {
                Err(StepError::Retryable(format!("another attempt is sending this mail (its claim lapses at {until})")))
            }
            Err(OnceError::Claim(e)) => Err(StepError::store(e)),
            Err(OnceError::Failed { error, .. }) => Err(StepError::service("SendEmail failed", error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const OWNER: &str = "4f9d2c1e-7b3a-4c8e-9a21-5d6e7f8a9b0c";

    fn submission(key: &str, etag: &str) -> Option<Submission> {
        Submission::from_notification("uploads", key, etag, None, datetime!(2026-11-30 12:00:00.123456 UTC)).unwrap()
    }

    #[test]
    fn a_pdf_under_invoices_owner_is_a_submission_of_that_owner_with_the_decoded_key() {
        let s = submission(&format!("invoices/{OWNER}/March+invoice%2B1.PDF"), "\"abc\"").unwrap();
        assert_eq!(s.owner.as_str(), OWNER);
        assert_eq!(s.object.key, format!("invoices/{OWNER}/March invoice+1.PDF"));
        assert_eq!(s.object.etag, "abc", "quotes are not part of the tag");
        assert_eq!(s.received_at, datetime!(2026-11-30 12:00:00.123 UTC), "milliseconds, as stored");
    }

    #[test]
    fn keys_outside_invoices_owner_name_pdf_are_not_submissions() {
        for key in [
            "uploads/x/y.pdf".to_owned(),
            format!("invoices/{OWNER}/notes.txt"),
            format!("invoices/{OWNER}/"),
            "invoices/only-an-owner.pdf".to_owned(),
            "invoices/bad owner!/a.pdf".to_owned(),
        ] {
            assert_eq!(submission(&key, "e"), None, "{key}");
        }
        let broken = Submission::from_notification("b", "invoices/%FF.pdf", "e", None, crate::now());
        assert!(broken.is_err(), "a key that is not UTF-8 is refused, not guessed");
    }

    #[test]
    fn one_object_always_gets_one_id_and_one_execution_name_and_another_upload_another() {
        let key = format!("invoices/{OWNER}/a.pdf");
        let (a, again) = (submission(&key, "e1").unwrap(), submission(&key, "e1").unwrap());
        assert_eq!((a.invoice_id, a.object.execution_name()), (again.invoice_id, again.object.execution_name()));
        let replaced = submission(&key, "e2").unwrap();
        assert_ne!(a.invoice_id, replaced.invoice_id);
        assert_ne!(a.object.execution_name(), replaced.object.execution_name());
        let name = a.object.execution_name();
        assert!(name.len() <= 80 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'), "{name}");
    }

    #[test]
    fn a_lambda_error_document_as_cause_is_recorded_by_its_message() {
        let refusal = Refusal {
            status: InvoiceStatus::Failed,
            error: Some("InvoiceFailed".into()),
            state: "Parse".into(),
            code: "InvalidDocument".into(),
            reason: r#"{"errorType":"InvalidDocument","errorMessage":"damaged: the xref table is missing"}"#.into(),
        };
        assert_eq!(refusal.problem().reason, "damaged: the xref table is missing");
        let plain = Refusal { reason: "timed out".into(), ..refusal.clone() };
        assert_eq!(plain.problem().reason, "timed out");
        let empty = Refusal { reason: " ".into(), ..refusal };
        assert_eq!(empty.problem().reason, "Parse failed (InvalidDocument)");
    }

    #[test]
    fn an_invalid_document_reports_its_code_in_the_message_for_the_execution_history() {
        let e = StepError::InvalidDocument { code: "encrypted".into(), reason: "the PDF needs a password".into() };
        assert_eq!(e.into_parts(), ("InvalidDocument", "encrypted: the PDF needs a password".to_owned()));
    }
}

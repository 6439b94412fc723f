//! `parse-invoice`: the invoice state machine's `Parse` state. It takes the submission (`{invoice_id, owner,
//! object, received_at}`), reads the uploaded PDF (the version the notification named, by its ETag) and answers
//! the [`Invoice`] the `invoice-pdf` crate reads from it: the embedded Factur-X, ZUGFeRD or XRechnung XML when
//! there is one, else the text layer ([`domain::invoice::service::read`]). The state machine puts the answer at
//! `$.invoice`, where the later states read it.
//!
//! Errors are named for the state machine's `Retry` and `Catch` ([`StepError::name`]): `InvalidDocument` when the
//! PDF is not an invoice this pipeline can read (its message is `{code}: {reason}`, the code one of the parser's,
//! `invalid_document`, `no_text`, `not_an_invoice`, `invalid_embedded_invoice`, or `missing`, `superseded`,
//! `too_large`); `Retryable` (S3 unavailable); `Misconfigured` (a denied read, a missing bucket); `InvalidInput`
//! (not a submission, or an object outside the uploads bucket `UPLOADS_BUCKET`, which is never read).

use domain::invoice::Invoice;
use domain::invoice::service::{InvoiceParse, ParseFailure, StepError, StepInput, read};
use domain::object::BucketName;
use domain::ports::ObjectGet;
use serde_json::Value;

/// The [`InvoiceParse`] port on the `invoice-pdf` crate, under `limits` (the bounds that make a hostile PDF end in
/// an error instead of a hang).
#[derive(Debug, Clone, Copy, Default)]
pub struct PdfParser {
    pub limits: invoice_pdf::Limits,
}

impl InvoiceParse for PdfParser {
    async fn parse(&self, pdf: Vec<u8>) -> Result<Invoice, ParseFailure> {
        let limits = self.limits;
        let job = move || invoice_pdf::parse(&pdf, &limits);
        // Up to seconds of CPU for a large PDF: on the blocking pool, so the runtime's workers keep serving (in the
        // local stack, every other function and the HTTP API share them).
        let parsed = match tokio::runtime::Handle::try_current() {
            Ok(runtime) => runtime.spawn_blocking(job).await.map_err(|e| {
                // The parser catches its own panics, so this is the pool shutting down or a bug of ours.
                tracing::error!(error = %e, "the PDF parser did not finish");
                ParseFailure {
                    code: "parser_failed".to_owned(),
                    reason: "the PDF reader stopped before it finished reading this file".to_owned(),
                }
            })?,
            Err(_) => job(),
        };
        parsed.map_err(|e| ParseFailure { code: e.code().to_owned(), reason: e.to_string() })
    }
}

/// What the handler works with: the uploads bucket's objects, the parser, and the bucket (`UPLOADS_BUCKET`).
#[derive(Debug, Clone)]
pub struct Reader<O, P> {
    pub objects: O,
    pub parser: P,
    /// The only bucket a submitted PDF is read from.
    pub bucket: BucketName,
}

pub async fn handle<O: ObjectGet, P: InvoiceParse>(reader: &Reader<O, P>, event: Value) -> Result<Invoice, StepError> {
    let input = StepInput::parse(event)?;
    input.submission.check_bucket(&reader.bucket)?;
    read(&reader.objects, &reader.parser, &input.submission).await
}

#[cfg(test)]
mod tests;

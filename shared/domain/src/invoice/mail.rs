//! The invoice pipeline's mails as MIME messages (`mail-builder`: RFC 5322 headers with RFC 2047 encoded words,
//! quoted-printable or base64 bodies, a multipart/mixed attachment; the kind of detail worth a well-kept crate).
//!
//! - [`acknowledgement`]: to the buyer (or the submitter), a short summary of what was read, the PDF attached.
//! - [`refusal`]: to the submitter, why the invoice was rejected or failed and in which step.

use super::Invoice;
use super::record::{InvoiceStatus, Problem};
use super::service::Submission;
use crate::mail::MailAddress;
use mail_builder::MessageBuilder;

/// The attachment's file name: the uploaded file's name when it is plain, else `invoice.pdf`.
fn file_name(submission: &Submission) -> String {
    let name = submission.object.key.rsplit('/').next().unwrap_or_default();
    let plain =
        !name.is_empty() && name.len() <= 100 && name.chars().all(|c| c.is_ascii_alphanumeric() || "._- ".contains(c));
    if plain { name.to_owned() } else { "invoice.pdf".to_owned() }
}

/// A header-safe, bounded copy of text read from a PDF (no line breaks or control characters).
fn clean(text: &str, max_chars: usize) -> String {
    let flat: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max_chars {
        format!("{}…", flat.chars().take(max_chars - 1).collect::<String>())
    } else {
        flat
    }
}

fn message(
    from: &MailAddress,
    to: &MailAddress,
    subject: String,
    text: String,
    now_unix: i64,
) -> MessageBuilder<'static> {
    MessageBuilder::new()
        .from(from.as_str().to_owned())
        .to(to.as_str().to_owned())
        .subject(subject)
        .date(now_unix)
        .text_body(text)
}

/// `Invoice <number> from <seller>: <total> <currency>`, the summary as text, and the PDF when there is one.
pub fn acknowledgement(
    from: &MailAddress,
    to: &MailAddress,
    submission: &Submission,
    invoice: &Invoice,
    pdf: Option<Vec<u8>>,
) -> std::io::Result<Vec<u8>> {
    let number = clean(&invoice.number, 60);
    let seller = clean(&invoice.seller.name, 80);
    let subject = format!("Invoice {number} from {seller}: {} {}", invoice.total, clean(&invoice.currency, 3));
    let mut text = format!(
        "Invoice {number} from {seller} was received and stored.\n\n\
         Issued:      {}\nDue:         {}\nNet:         {} {cur}\nVAT:         {} {cur}\nTotal:       {} {cur}\n",
        invoice.issue_date,
        invoice.due_date.map_or_else(|| "not stated".to_owned(), |d| d.to_string()),
        invoice.net,
        invoice.tax,
        invoice.total,
        cur = clean(&invoice.currency, 3),
    );
    if let Some(due) = invoice.amount_due {
        text.push_str(&format!("Amount due:  {due} {}\n", clean(&invoice.currency, 3)));
    }
    if !invoice.lines.is_empty() {
        text.push_str(&format!("\n{} line(s):\n", invoice.lines.len()));
        for line in invoice.lines.iter().take(50) {
            text.push_str(&format!(
                "  - {} — {} × {} = {}\n",
                clean(&line.description, 80),
                line.quantity,
                line.unit_price,
                line.amount
            ));
        }
    }
    text.push_str(&format!("\nReference: {}\n", submission.invoice_id));
    let mut builder = message(from, to, subject, text, submission.received_at.unix_timestamp());
    if let Some(pdf) = pdf {
        builder = builder.attachment("application/pdf", file_name(submission), pdf);
    }
    builder.write_to_vec()
}

/// `Invoice <file> rejected: <reason>` (or `failed`), with the rule or error, the step and the reference.
pub fn refusal(
    from: &MailAddress,
    to: &MailAddress,
    submission: &Submission,
    status: InvoiceStatus,
    problem: &Problem,
    invoice: Option<&Invoice>,
) -> std::io::Result<Vec<u8>> {
    let what = match invoice {
        Some(i) => format!("Invoice {} from {}", clean(&i.number, 60), clean(&i.seller.name, 80)),
        None => format!("The invoice {}", file_name(submission)),
    };
    let verb = match status {
        InvoiceStatus::Rejected => "was rejected",
        _ => "could not be processed",
    };
    let subject = format!("{what} {verb}");
    let text = format!(
        "{what} {verb}.\n\nReason: {}\nRule or error: {}\nStep: {}\n\nFile: {}\nReference: {}\n",
        clean(&problem.reason, 2000),
        clean(&problem.code, 80),
        clean(&problem.state, 40),
        submission.object.key,
        submission.invoice_id,
    );
    message(from, to, subject, text, submission.received_at.unix_timestamp()).write_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invoice::{Buyer, Seller, Source};
    use rust_decimal::Decimal;

    fn invoice() -> Invoice {
        Invoice {
            number: "RE-2026-0042\r\nBcc: victim@example.com".into(),
            issue_date: time::macros::date!(2026 - 11 - 02),
            due_date: None,
            currency: "EUR".into(),
            seller: Seller { name: "Müller GmbH".into(), vat_id: Some("DE123456789".into()) },
            buyer: Buyer { name: Some("Ada".into()), email: Some("ada@example.com".into()) },
            lines: vec![],
            net: Decimal::new(10000, 2),
            tax: Decimal::new(1900, 2),
            total: Decimal::new(11900, 2),
            line_total: None,
            allowances: None,
            charges: None,
            prepaid: None,
            amount_due: None,
            vat: vec![],
            source: Source::Text,
            profile: None,
        }
    }

    fn submission() -> Submission {
        Submission::from_notification(
            "uploads",
            "invoices/4f9d2c1e-7b3a-4c8e-9a21-5d6e7f8a9b0c/march.pdf",
            "etag",
            None,
            time::macros::datetime!(2026-11-30 12:00 UTC),
        )
        .unwrap()
        .unwrap()
    }

    #[test]
    fn the_acknowledgement_carries_the_summary_and_the_pdf_and_no_header_injected_from_the_pdf() {
        let from = MailAddress::parse("noreply@example.com").unwrap();
        let to = MailAddress::parse("ada@example.com").unwrap();
        let mime = acknowledgement(&from, &to, &submission(), &invoice(), Some(b"%PDF-1.7 test".to_vec())).unwrap();
        let text = String::from_utf8_lossy(&mime);
        assert!(text.contains("multipart/mixed"), "{text}");
        assert!(text.contains("application/pdf") && text.contains("march.pdf"), "{text}");
        assert!(!text.to_ascii_lowercase().contains("\nbcc:"), "a line break in the number made a header: {text}");
        assert!(text.contains("119.00"), "the total is in the summary: {text}");
    }

    #[test]
    fn the_refusal_names_the_reason_the_rule_and_the_state() {
        let from = MailAddress::parse("noreply@example.com").unwrap();
        let to = MailAddress::parse("ada@example.com").unwrap();
        let problem =
            Problem { state: "Validate".into(), code: "BR-CO-15".into(), reason: "total 119.01 ≠ 119.00".into() };
        let mime = refusal(&from, &to, &submission(), InvoiceStatus::Rejected, &problem, Some(&invoice())).unwrap();
        let text = String::from_utf8_lossy(&mime);
        assert!(text.contains("BR-CO-15") && text.contains("Validate"), "{text}");
        assert!(!text.contains("application/pdf"), "no attachment on a refusal");
    }
}

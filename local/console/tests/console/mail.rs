use crate::support::*;
use local_console::source::MailSummary;
use mail_builder::MessageBuilder;

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n\x00\x01\x02\xff binary tail\n%%EOF\n";

fn message() -> Vec<u8> {
    MessageBuilder::new()
        .from(("Billing", "billing@example.com"))
        .to(("Ada Lovelace", "ada@example.com"))
        .cc("accounts@example.com")
        .subject("Invoice <42> stored")
        .message_id("invoice-42@example.com")
        .text_body("Hello Ada,\nyour invoice 42 is stored.\n")
        .html_body("<p>Hello <b>Ada</b></p><script>alert('mail')</script>")
        .attachment("application/pdf", "invoice-42.pdf", PDF)
        .write_to_vec()
        .expect("a message")
}

fn source() -> TestSource {
    let raw = message();
    let summary = MailSummary {
        id: "mail-1".into(),
        from: "billing@example.com".into(),
        to: vec!["ada@example.com".into()],
        subject: "Invoice <42> stored".into(),
        date: t0(),
        size: raw.len() as u64,
    };
    TestSource { mail: vec![(summary, raw)], ..TestSource::default() }
}

#[tokio::test]
async fn the_outbox_lists_each_message_with_a_link() {
    let console = spawn(source()).await;
    let (status, html) = console.page("/_console/mail").await;
    assert_eq!(status, 200);
    let row = between(&html, "<tr data-id=\"mail-1\">", "</tr>");
    assert!(row.contains("href=\"/_console/mail/mail-1\">Invoice &lt;42&gt; stored</a>"), "{row}");
    assert!(row.contains("ada@example.com") && row.contains("billing@example.com"));
}

#[tokio::test]
async fn a_message_shows_its_headers_text_and_attachments_and_its_html_only_in_a_sandboxed_frame() {
    let console = spawn(source()).await;
    let (status, html) = console.page("/_console/mail/mail-1").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("id=\"mail-from\">Billing &lt;billing@example.com&gt;<"));
    assert!(html.contains("id=\"mail-to\">Ada Lovelace &lt;ada@example.com&gt;<"));
    assert!(html.contains("id=\"mail-cc\">accounts@example.com<"));
    assert!(html.contains("id=\"mail-subject\">Invoice &lt;42&gt; stored<"));
    assert!(html.contains("id=\"mail-message-id\">&lt;invoice-42@example.com&gt;<"));
    assert!(html.contains("id=\"mail-date\">"));
    let text = between(&html, "<pre id=\"mail-text\">", "</pre>");
    assert!(text.contains("your invoice 42 is stored."));
    let frame = between(&html, "<iframe id=\"mail-html\" ", ">");
    assert!(frame.starts_with("sandbox srcdoc=\""), "{frame}");
    assert!(frame.contains("&lt;p&gt;Hello &lt;b&gt;Ada&lt;/b&gt;&lt;/p&gt;"));
    assert!(!html.contains("<b>Ada</b>") && !html.contains("<script>alert"), "the mail's markup is not the page's");
    let row = between(&html, "<tr data-n=\"0\">", "</tr>");
    assert!(row.contains("href=\"/_console/mail/mail-1/attachments/0\""));
    assert!(row.contains(">invoice-42.pdf<") && row.contains(">application/pdf<"));
    assert!(html.contains("id=\"mail-raw\" href=\"/_console/mail/mail-1/raw\""));
}

#[tokio::test]
async fn an_attachment_downloads_with_its_bytes_type_and_name() {
    let console = spawn(source()).await;
    let res = console.get("/_console/mail/mail-1/attachments/0").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let disposition = res.headers()["content-disposition"].to_str().expect("ascii").to_owned();
    assert!(disposition.starts_with("attachment; filename=\"invoice-42.pdf\""), "{disposition}");
    assert_eq!(res.headers()["content-security-policy"], "sandbox");
    assert_eq!(res.bytes().await.expect("body").as_ref(), PDF);
}

#[tokio::test]
async fn the_raw_message_downloads_as_eml() {
    let console = spawn(source()).await;
    let res = console.get("/_console/mail/mail-1/raw").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "message/rfc822");
    assert!(res.headers()["content-disposition"].to_str().unwrap_or("").contains("mail-1.eml"));
    // mail-builder stamps a fresh date and boundary on each build: compare with what this source holds.
    assert_eq!(res.bytes().await.expect("body").as_ref(), console.source.mail[0].1.as_slice());
}

#[tokio::test]
async fn missing_mail_and_attachments_are_404_and_a_bad_index_is_400() {
    let console = spawn(source()).await;
    assert_eq!(console.page("/_console/mail/nope").await.0, 404);
    assert_eq!(console.page("/_console/mail/nope/raw").await.0, 404);
    assert_eq!(console.page("/_console/mail/mail-1/attachments/5").await.0, 404);
    let (status, html) = console.page("/_console/mail/mail-1/attachments/x").await;
    assert_eq!(status, 400);
    assert!(html.contains("attachment: expected a number"));
}

#[tokio::test]
async fn a_deployed_stack_has_no_mail_in_the_nav_and_its_outbox_is_501() {
    let console = spawn(TestSource { local: false, ..source() }).await;
    let (_, html) = console.page("/_console/").await;
    assert!(!html.contains("id=\"nav-mail\""));
    assert_eq!(console.page("/_console/mail").await.0, 501);
    let console = spawn(source()).await;
    let (_, html) = console.page("/_console/").await;
    assert!(html.contains("id=\"nav-mail\""));
}

//! The SES outbox: a list, and each message rendered from its MIME with `mail-parser` — the headers, the text part
//! in a `<pre>`, the HTML part only inside a sandboxed `<iframe srcdoc>` (a mail's markup never joins the page's),
//! the attachments downloadable with their own type, and the raw `.eml`.

use crate::{
    error::PageError,
    html::{BASE, Nav, bytes, encode_segment, esc, time_el},
    router::App,
};
use axum::{
    extract::{Path, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use mail_parser::{Address, MessageParser, MimeHeaders};
use std::fmt::Write as _;

fn mail_href(id: &str) -> String {
    format!("{BASE}/mail/{}", encode_segment(id))
}

pub async fn list(State(app): State<App>) -> Result<Response, PageError> {
    let mails = app.source.mail().await?;
    let mut body = String::with_capacity(8 * 1024);
    let _ = write!(
        body,
        "<p class=\"note\">{} messages sent through SES, newest first.</p><table id=\"mail\" class=\"list\"><thead><tr>\
         <th>Date</th><th>From</th><th>To</th><th>Subject</th><th>Size</th></tr></thead><tbody>",
        mails.len()
    );
    for m in &mails {
        let subject = if m.subject.is_empty() { "(no subject)" } else { m.subject.as_str() };
        let _ = write!(
            body,
            "<tr data-id=\"{id}\"><td>{date}</td><td class=\"from\">{from}</td><td class=\"to\">{to}</td>\
             <td class=\"subject\"><a class=\"mail-link\" href=\"{href}\">{subject}</a></td><td class=\"size\">{size}</td></tr>",
            id = esc(&m.id),
            date = time_el(m.date),
            from = esc(&m.from),
            to = esc(&m.to.join(", ")),
            href = esc(&mail_href(&m.id)),
            subject = esc(subject),
            size = bytes(m.size),
        );
    }
    body.push_str("</tbody></table>");
    if mails.is_empty() {
        body.push_str("<p class=\"empty\">No mail sent yet.</p>");
    }
    Ok(app.page(Nav::Mail, "Mail", &body))
}

fn addresses(a: Option<&Address<'_>>) -> String {
    let Some(a) = a else { return String::new() };
    a.iter()
        .map(|addr| match (addr.name(), addr.address()) {
            (Some(name), Some(address)) => format!("{name} <{address}>"),
            (None, Some(address)) => address.to_owned(),
            (Some(name), None) => name.to_owned(),
            (None, None) => String::new(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn message(State(app): State<App>, Path(id): Path<String>) -> Result<Response, PageError> {
    let raw = app.source.mail_raw(&id).await?;
    let href = mail_href(&id);
    let mut body = String::with_capacity(raw.len() * 2 + 4096);
    let Some(msg) = MessageParser::default().parse(&raw) else {
        let _ = write!(
            body,
            "<p id=\"mail-unparsed\" class=\"error-name\">This message cannot be read as MIME.</p>\
             <p><a id=\"mail-raw\" href=\"{}/raw\">Download the raw message (.eml)</a></p>",
            esc(&href)
        );
        return Ok(app.page(Nav::Mail, "Mail", &body));
    };
    let subject = msg.subject().unwrap_or("(no subject)").to_owned();
    body.push_str("<dl id=\"mail-headers\" class=\"facts\">");
    let date = msg.date().map(|d| d.to_rfc3339()).unwrap_or_default();
    for (id, label, value) in [
        ("mail-from", "From", addresses(msg.from())),
        ("mail-to", "To", addresses(msg.to())),
        ("mail-cc", "Cc", addresses(msg.cc())),
        ("mail-subject", "Subject", subject.clone()),
        ("mail-date", "Date", date),
        ("mail-message-id", "Message-ID", msg.message_id().map(|m| format!("<{m}>")).unwrap_or_default()),
    ] {
        if !value.is_empty() {
            let _ = write!(body, "<dt>{label}</dt><dd id=\"{id}\">{}</dd>", esc(&value));
        }
    }
    let _ =
        write!(body, "</dl><p><a id=\"mail-raw\" href=\"{}/raw\">Download the raw message (.eml)</a></p>", esc(&href));

    // mail-parser lists an HTML part among the text bodies too (converted) when there is no text one, and the
    // reverse: only parts that really are of each kind are shown as that kind.
    let text = msg.text_bodies().find(|p| p.is_text() && !p.is_text_html()).and_then(|p| p.text_contents());
    let html = msg.html_bodies().find(|p| p.is_text_html()).and_then(|p| p.text_contents());
    if let Some(text) = text {
        let _ = write!(
            body,
            "<section id=\"mail-text-section\"><h2>Text</h2><pre id=\"mail-text\">{}</pre></section>",
            esc(text)
        );
    }
    if let Some(html) = html {
        let _ = write!(
            body,
            "<section id=\"mail-html-section\"><h2>HTML</h2>\
             <iframe id=\"mail-html\" sandbox srcdoc=\"{}\" title=\"The message's HTML part\" referrerpolicy=\"no-referrer\"></iframe></section>",
            esc(html)
        );
    }
    if text.is_none() && html.is_none() {
        body.push_str("<p class=\"empty\">No text or HTML part.</p>");
    }

    body.push_str(
        "<section id=\"attachments-section\"><h2>Attachments</h2><table id=\"attachments\" class=\"list\">\
         <thead><tr><th>Name</th><th>Type</th><th>Size</th></tr></thead><tbody>",
    );
    let mut count = 0;
    for (n, part) in msg.attachments().enumerate() {
        count += 1;
        let name = part.attachment_name().map(str::to_owned).unwrap_or_else(|| format!("attachment-{n}"));
        let _ = write!(
            body,
            "<tr data-n=\"{n}\"><td><a class=\"attachment-link\" href=\"{href}/attachments/{n}\" download>{name}</a></td>\
             <td class=\"type\">{ctype}</td><td class=\"size\">{size}</td></tr>",
            href = esc(&href),
            name = esc(&name),
            ctype = esc(&content_type(part)),
            size = bytes(part.contents().len() as u64),
        );
    }
    body.push_str("</tbody></table>");
    if count == 0 {
        body.push_str("<p class=\"empty\">None.</p>");
    }
    body.push_str("</section>");
    Ok(app.page(Nav::Mail, &subject, &body))
}

/// `type/subtype` from the part's header, when it is a valid token pair; `application/octet-stream` otherwise.
fn content_type<'x>(part: &impl MimeHeaders<'x>) -> String {
    let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b));
    match part.content_type() {
        Some(ct) => {
            let sub = ct.subtype().unwrap_or("");
            if token(ct.ctype()) && token(sub) {
                format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase()
            } else {
                "application/octet-stream".to_owned()
            }
        }
        None => "application/octet-stream".to_owned(),
    }
}

/// `attachment; filename="…"; filename*=UTF-8''…`: an ASCII fallback without quotes, and the real name encoded.
fn disposition(name: &str) -> HeaderValue {
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let value = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{}", encode_segment(name));
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

pub async fn attachment(State(app): State<App>, Path((id, n)): Path<(String, String)>) -> Result<Response, PageError> {
    let n: usize =
        n.parse().map_err(|_| PageError::BadRequest(format!("attachment: expected a number, got {n:?}.")))?;
    let raw = app.source.mail_raw(&id).await?;
    let msg = MessageParser::default()
        .parse(&raw)
        .ok_or_else(|| PageError::NotFound("This message cannot be read as MIME, so it has no attachments.".into()))?;
    let part =
        msg.attachments().nth(n).ok_or_else(|| PageError::NotFound(format!("The message has no attachment {n}.")))?;
    let name = part.attachment_name().map(str::to_owned).unwrap_or_else(|| format!("attachment-{n}"));
    let ctype = HeaderValue::from_str(&content_type(part))
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    let mut res = part.contents().to_vec().into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, ctype);
    h.insert(header::CONTENT_DISPOSITION, disposition(&name));
    // Even if a browser opened it in place, it would run nothing from the console's origin.
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox"));
    Ok(res)
}

pub async fn raw(State(app): State<App>, Path(id): Path<String>) -> Result<Response, PageError> {
    let raw = app.source.mail_raw(&id).await?;
    let mut res = raw.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("message/rfc822"));
    h.insert(header::CONTENT_DISPOSITION, disposition(&format!("{id}.eml")));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox"));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quote_in_an_attachment_name_cannot_end_the_filename() {
        let v = disposition("a\"b\\c.pdf");
        let s = v.to_str().unwrap_or_default();
        assert!(s.starts_with("attachment; filename=\"a_b_c.pdf\";"), "{s}");
    }

    #[test]
    fn a_non_ascii_attachment_name_is_kept_in_the_encoded_filename() {
        let v = disposition("Rechnung Größe.pdf");
        let s = v.to_str().unwrap_or_default();
        assert!(s.contains("filename*=UTF-8''Rechnung%20Gr%C3%B6%C3%9Fe.pdf"), "{s}");
    }
}

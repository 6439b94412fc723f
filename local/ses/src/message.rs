//! The messages SES accepts, made ready for the outbox: a Simple message is built into RFC 5322 text with
//! `mail-builder` (multipart/alternative for text and HTML, RFC 2047 encoded-words for non-ASCII subjects and names,
//! a `Message-ID` and a `Date`); a Raw message is kept byte for byte and only read (`mail-parser`) for its sender,
//! recipients and subject. Either way the result is a [`Prepared`] message: the bytes to store and the envelope
//! (who sends, who receives) SES would deliver by.
//!
//! What the local stack adds to a Simple message is what SES adds: `Message-ID: <id@email.amazonses.com>`, `Date`
//! and `MIME-Version`. Bcc recipients are never written into the headers. Text is always encoded as UTF-8, whatever
//! `Charset` the request names (the request's JSON is Unicode, so UTF-8 can carry any of it). To a Raw message it
//! adds nothing: no `Message-ID`, no `Date`, no DKIM signature (SES adds the first two when missing).

use crate::{
    SesError,
    address::{EmailAddress, Mailbox},
    error::MAX_MESSAGE_BYTES,
};
use mail_builder::{
    MessageBuilder,
    headers::{address::Address, date::Date, raw::Raw},
};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;

/// The domain of the `Message-ID` SES gives the messages it builds.
pub const MESSAGE_ID_DOMAIN: &str = "email.amazonses.com";

/// An SES message id: `0100` and the acceptance time in milliseconds as 12 hex digits, a random UUID, and
/// `-000000` (`010001918a0b7c8d-3f5e4c2a-1b2c-4d5e-8f9a-0b1c2d3e4f5a-000000`). Ids sort by the time they were
/// given. Being parsed, an id is also safe as a file name: it can never name anything outside the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageId(String);

impl MessageId {
    pub fn new(at: OffsetDateTime) -> Self {
        let millis = (at.unix_timestamp_nanos() / 1_000_000).clamp(0, (1 << 48) - 1) as u64;
        Self(format!("{:016x}-{}-000000", 0x0100u64 << 48 | millis, uuid::Uuid::new_v4().hyphenated()))
    }

    pub fn parse(text: &str) -> Result<Self, SesError> {
        let lengths = [16, 8, 4, 4, 4, 12, 6];
        let parts: Vec<&str> = text.split('-').collect();
        let hex = |p: &str| p.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        let ok = parts.len() == lengths.len()
            && parts.iter().zip(lengths).all(|(p, n)| p.len() == n)
            && parts[..6].iter().all(|p| hex(p))
            && parts[6].bytes().all(|b| b.is_ascii_digit());
        if ok { Ok(Self(text.to_owned())) } else { Err(SesError::InvalidMessageId(text.chars().take(100).collect())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for MessageId {
    type Error = SesError;
    fn try_from(s: String) -> Result<Self, SesError> {
        Self::parse(&s)
    }
}

impl From<MessageId> for String {
    fn from(id: MessageId) -> Self {
        id.0
    }
}

/// A message SES assembles from parts (`Content.Simple`), as the API and the stack's functions hand it over.
/// Addresses are `addr@domain` or `Name <addr@domain>`.
#[derive(Debug, Clone, Default)]
pub struct SimpleEmail {
    pub from: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// Recipients who get the message without appearing in it.
    pub bcc: Vec<String>,
    pub reply_to: Vec<String>,
    pub subject: String,
    pub text: Option<String>,
    pub html: Option<String>,
    /// Extra headers (`Content.Simple.Headers`): at most 15, printable ASCII, none SES writes itself.
    pub headers: Vec<(String, String)>,
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Clone, Default)]
pub struct Attachment {
    pub file_name: String,
    /// `application/octet-stream` when absent.
    pub content_type: Option<String>,
    pub content: Vec<u8>,
    /// `ContentDisposition: INLINE` (with `content_id`, for `cid:` references in the HTML) rather than ATTACHMENT.
    pub inline: bool,
    pub content_id: Option<String>,
}

/// A whole RFC 5322 message (`Content.Raw`), and the envelope the caller gives for it, if any.
#[derive(Debug, Clone, Default)]
pub struct RawEmail {
    /// The sender checked against the identities; the message's `From` header when `None`.
    pub from: Option<String>,
    /// The recipients; when all three are empty, those of the message's `To`, `Cc` and `Bcc` headers.
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    Simple,
    Raw,
}

/// A message ready to be checked against the identities and stored.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub sender: EmailAddress,
    pub to: Vec<EmailAddress>,
    pub cc: Vec<EmailAddress>,
    pub bcc: Vec<EmailAddress>,
    pub reply_to: Vec<EmailAddress>,
    pub subject: String,
    pub kind: MessageKind,
    pub bytes: Vec<u8>,
    /// The size SES's limit is measured by: the message after base64 encoding, as it travels in the request.
    pub encoded_size: usize,
}

impl Prepared {
    pub fn recipient_count(&self) -> usize {
        self.to.len() + self.cc.len() + self.bcc.len()
    }
}

fn mailboxes(list: &[String]) -> Result<Vec<Mailbox>, SesError> {
    list.iter().map(|s| Mailbox::parse(s).map_err(|e| SesError::bad_request(e.to_string()))).collect()
}

fn addresses(list: &[Mailbox]) -> Vec<EmailAddress> {
    list.iter().map(|m| m.address.clone()).collect()
}

fn address_header(list: &[Mailbox]) -> Address<'_> {
    Address::new_list(list.iter().map(|m| Address::new_address(m.name.as_deref(), m.address.as_str())).collect())
}

/// Headers SES writes itself; a request may not add a second of any.
const RESERVED_HEADERS: &[&str] = &[
    "from",
    "sender",
    "to",
    "cc",
    "bcc",
    "reply-to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "content-disposition",
    "return-path",
];

/// `Content.Simple.Headers`, checked as SES documents them.
fn check_headers(headers: &[(String, String)]) -> Result<(), SesError> {
    if headers.len() > 15 {
        return Err(SesError::bad_request(format!("A message may have at most 15 headers, not {}.", headers.len())));
    }
    for (name, value) in headers {
        let name_ok = (1..=126).contains(&name.len()) && name.bytes().all(|b| (33..=126).contains(&b) && b != b':');
        if !name_ok {
            return Err(SesError::bad_request(format!(
                "Invalid header name '{name}': 1 to 126 printable ASCII characters other than ':'."
            )));
        }
        let value_ok = value.len() <= 995
            && name.len() + value.len() <= 996
            && value.bytes().all(|b| (32..=126).contains(&b) || b == b'\t');
        if !value_ok {
            return Err(SesError::bad_request(format!(
                "Invalid value for header '{name}': at most 995 printable ASCII characters."
            )));
        }
        if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(SesError::bad_request(format!(
                "Header '{name}' is set by SES from the request; it cannot be given in Headers."
            )));
        }
    }
    Ok(())
}

/// Builds a Simple message, as SES would send it.
pub(crate) fn prepare_simple(email: &SimpleEmail, id: &MessageId, date: OffsetDateTime) -> Result<Prepared, SesError> {
    let from = Mailbox::parse(&email.from).map_err(|e| SesError::bad_request(e.to_string()))?;
    let (to, cc, bcc, reply_to) =
        (mailboxes(&email.to)?, mailboxes(&email.cc)?, mailboxes(&email.bcc)?, mailboxes(&email.reply_to)?);
    check_headers(&email.headers)?;
    if email.text.is_none() && email.html.is_none() && email.attachments.is_empty() {
        return Err(SesError::bad_request("The message body is empty: give Body.Text, Body.Html or both."));
    }
    if email.subject.chars().any(|c| c == '\r' || c == '\n') {
        return Err(SesError::bad_request("The subject may not contain line breaks."));
    }

    let message_id = format!("{id}@{MESSAGE_ID_DOMAIN}");
    let mut builder = MessageBuilder::new()
        .from(Address::new_address(from.name.as_deref(), from.address.as_str()))
        .message_id(message_id.as_str())
        .date(Date::new(date.unix_timestamp()))
        .subject(email.subject.as_str());
    if !to.is_empty() {
        builder = builder.to(address_header(&to));
    }
    if !cc.is_empty() {
        builder = builder.cc(address_header(&cc));
    }
    // Bcc is deliberately not written: its recipients are in the envelope only.
    if !reply_to.is_empty() {
        builder = builder.reply_to(address_header(&reply_to));
    }
    for (name, value) in &email.headers {
        builder = builder.header(name.as_str(), Raw::new(value.as_str()));
    }
    if let Some(text) = &email.text {
        builder = builder.text_body(text.as_str());
    }
    if let Some(html) = &email.html {
        builder = builder.html_body(html.as_str());
    }
    for a in &email.attachments {
        let content_type = a.content_type.as_deref().unwrap_or("application/octet-stream");
        let content = a.content.as_slice();
        builder = match (&a.content_id, a.inline) {
            (Some(cid), true) => builder.inline(content_type, cid.as_str(), content),
            _ => builder.attachment(content_type, a.file_name.as_str(), content),
        };
    }
    // Writing into a Vec cannot fail; the io::Result is the writer trait's.
    let bytes = builder.write_to_vec().map_err(SesError::storage("<message being built>"))?;
    Ok(Prepared {
        sender: from.address,
        to: addresses(&to),
        cc: addresses(&cc),
        bcc: addresses(&bcc),
        reply_to: addresses(&reply_to),
        subject: email.subject.clone(),
        kind: MessageKind::Simple,
        encoded_size: bytes.len(),
        bytes,
    })
}

/// The length of `n` bytes in base64.
pub(crate) fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// Reads a Raw message for its envelope; the bytes are kept as they are.
pub(crate) fn prepare_raw(raw: RawEmail) -> Result<Prepared, SesError> {
    let encoded_size = base64_len(raw.data.len());
    if encoded_size > MAX_MESSAGE_BYTES {
        return Err(SesError::TooLarge(encoded_size));
    }
    let parsed = mail_parser::MessageParser::new()
        .parse_headers(&raw.data)
        .ok_or_else(|| SesError::bad_request("The raw message has no headers: it is not an RFC 5322 message."))?;
    let header_addresses = |header: Option<&mail_parser::Address<'_>>| -> Result<Vec<EmailAddress>, SesError> {
        header
            .map(|a| a.iter().filter_map(|a| a.address.as_deref()).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .map(|a| EmailAddress::parse(a).map_err(|e| SesError::bad_request(e.to_string())))
            .collect()
    };
    let header_from = header_addresses(parsed.from())?;
    if header_from.is_empty() {
        return Err(SesError::bad_request("Missing required header 'From'."));
    }
    let sender = match &raw.from {
        Some(from) => Mailbox::parse(from).map_err(|e| SesError::bad_request(e.to_string()))?.address,
        None => header_from[0].clone(),
    };
    let (to, cc, bcc) = if raw.to.is_empty() && raw.cc.is_empty() && raw.bcc.is_empty() {
        (header_addresses(parsed.to())?, header_addresses(parsed.cc())?, header_addresses(parsed.bcc())?)
    } else {
        (addresses(&mailboxes(&raw.to)?), addresses(&mailboxes(&raw.cc)?), addresses(&mailboxes(&raw.bcc)?))
    };
    let reply_to = header_addresses(parsed.reply_to())?;
    let subject = parsed.subject().unwrap_or_default().to_owned();
    drop(parsed);
    Ok(Prepared { sender, to, cc, bcc, reply_to, subject, kind: MessageKind::Raw, encoded_size, bytes: raw.data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_id_has_ses_shape_sorts_by_time_and_refuses_paths() {
        let early = MessageId::new(OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap());
        let late = MessageId::new(OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap());
        assert!(early < late);
        assert_eq!(early.as_str().len(), 60);
        assert!(early.as_str().starts_with("0100") && early.as_str().ends_with("-000000"));
        assert_eq!(MessageId::parse(early.as_str()).unwrap(), early);
        for bad in ["", "../../etc/passwd", "0100018c1c2b3d4e", &format!("{early}/x"), &early.as_str().to_uppercase()] {
            assert!(MessageId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn headers_ses_writes_itself_or_with_line_breaks_are_refused() {
        let email = |name: &str, value: &str| SimpleEmail {
            from: "a@example.com".into(),
            to: vec!["b@example.com".into()],
            subject: "s".into(),
            text: Some("t".into()),
            headers: vec![(name.into(), value.into())],
            ..Default::default()
        };
        let id = MessageId::new(OffsetDateTime::now_utc());
        let now = OffsetDateTime::now_utc();
        assert!(prepare_simple(&email("X-Campaign", "spring"), &id, now).is_ok());
        for (n, v) in [("bcc", "x@example.com"), ("X-A", "a\r\nBcc: x@example.com"), ("X:A", "v"), ("", "v")] {
            assert!(matches!(prepare_simple(&email(n, v), &id, now), Err(SesError::BadRequest(_))), "{n:?}");
        }
    }

    #[test]
    fn a_raw_message_over_40_mb_after_base64_is_too_large_and_one_at_the_limit_is_not() {
        let at_limit = MAX_MESSAGE_BYTES / 4 * 3;
        let mut data = b"From: a@example.com\r\nTo: b@example.com\r\n\r\n".to_vec();
        data.resize(at_limit, b'x');
        assert_eq!(base64_len(data.len()), MAX_MESSAGE_BYTES);
        assert!(prepare_raw(RawEmail { data: data.clone(), ..Default::default() }).is_ok());
        data.push(b'x');
        let refused = prepare_raw(RawEmail { data, ..Default::default() });
        assert!(matches!(refused, Err(SesError::TooLarge(n)) if n > MAX_MESSAGE_BYTES), "{refused:?}");
    }

    #[test]
    fn a_raw_message_takes_its_envelope_from_its_headers_unless_given_one() {
        let data =
            b"From: Ann <ann@example.com>\r\nTo: b@example.org\r\nBcc: c@example.net\r\nSubject: Hi\r\n\r\nbody\r\n";
        let p = prepare_raw(RawEmail { data: data.to_vec(), ..Default::default() }).unwrap();
        assert_eq!(p.sender.as_str(), "ann@example.com");
        assert_eq!((p.to.len(), p.bcc[0].as_str(), p.subject.as_str()), (1, "c@example.net", "Hi"));
        assert_eq!(p.bytes, data);
        let given = RawEmail { to: vec!["z@example.org".into()], data: data.to_vec(), ..Default::default() };
        let p = prepare_raw(given).unwrap();
        assert_eq!((p.to[0].as_str(), p.bcc.len()), ("z@example.org", 0));
        let no_from = RawEmail { data: b"To: b@example.org\r\n\r\nbody".to_vec(), ..Default::default() };
        assert!(matches!(prepare_raw(no_from), Err(SesError::BadRequest(_))));
    }
}

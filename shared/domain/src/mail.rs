//! Mail: addresses a mail service will take ([`MailAddress`]), and two ways to say what to send — a
//! [`SimpleMail`] (subject, text and/or HTML; the service builds the MIME) or a [`RawMail`] (a complete RFC 5322
//! message, for what the simple form cannot carry, such as an invoice's PDF attached: [`Letter::compose`] builds
//! one).
//!
//! [`MailAddress`] is not [`crate::Email`]: a profile's email is what a user typed, checked loosely so that odd but
//! real addresses are kept; a mail address goes into an SMTP envelope and a MIME header, so its grammar is strict
//! enough that no value can break a header (see [`MailAddress::parse`]). A profile email converts with
//! `MailAddress::try_from(&email)`, which fails for the odd ones.

use crate::object::ContentType;
use crate::{Email, Error, Timestamp};
use base64::{Engine, engine::general_purpose::STANDARD as B64};
use std::fmt;

/// An address mail can be sent to and from: `local@domain`, at most 254 bytes, ASCII only.
///
/// - `local` is an RFC 5322 dot-atom of at most 64 bytes: letters, digits and ``!#$%&'*+/=?^_`{|}~-``, in runs
///   separated by single dots (no leading, trailing or doubled dot).
/// - `domain` is at least two dot-separated labels of letters, digits and `-` (not at a label's edge), each 1–63
///   bytes, at most 253 in all, the last not all digits.
///
/// Not accepted, although RFC 5322 has them: quoted local parts, comments, display names (`Ada <ada@…>`), IP
/// literals, and non-ASCII (give an internationalised domain in its `xn--` form). Surrounding whitespace is
/// trimmed; case is kept (the local part may be case-sensitive at the receiving end).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MailAddress(String);

impl MailAddress {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let t = raw.trim();
        let bad = || Error::Invalid(format!("`{}` is not a mail address", t.chars().take(60).collect::<String>()));
        if t.len() > 254 {
            return Err(bad());
        }
        let (local, domain) = t.rsplit_once('@').ok_or_else(bad)?;
        let atext = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~-".contains(&b);
        let local_ok =
            (1..=64).contains(&local.len()) && local.split('.').all(|run| !run.is_empty() && run.bytes().all(atext));
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            (1..=63).contains(&l.len())
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        let domain_ok = domain.len() <= 253
            && labels.len() >= 2
            && labels.iter().all(label_ok)
            && !labels.last().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()));
        if local_ok && domain_ok { Ok(Self(t.to_owned())) } else { Err(bad()) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }
}

impl TryFrom<&Email> for MailAddress {
    type Error = Error;
    fn try_from(email: &Email) -> Result<Self, Error> {
        Self::parse(email.as_str())
    }
}

impl fmt::Display for MailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Most recipients of one message (SES's limit, To, Cc and Bcc together).
pub const RECIPIENTS_MAX: usize = 50;

/// Who a message goes to: 1 to [`RECIPIENTS_MAX`] addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipients(Vec<MailAddress>);

impl Recipients {
    pub fn new(to: Vec<MailAddress>) -> Result<Self, Error> {
        if to.is_empty() || to.len() > RECIPIENTS_MAX {
            return Err(Error::Invalid(format!(
                "a message goes to 1 to {RECIPIENTS_MAX} recipients, not {}",
                to.len()
            )));
        }
        Ok(Self(to))
    }

    pub fn one(to: MailAddress) -> Self {
        Self(vec![to])
    }

    pub fn as_slice(&self) -> &[MailAddress] {
        &self.0
    }
}

/// Longest subject, in characters: short enough that an encoded subject header stays far below 998 bytes a line.
pub const SUBJECT_MAX_CHARS: usize = 200;

/// A subject line: non-empty after trimming, at most [`SUBJECT_MAX_CHARS`] characters, no control characters (so
/// no line break can inject a header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject(String);

impl Subject {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let t = raw.trim();
        if t.is_empty() || t.chars().count() > SUBJECT_MAX_CHARS || t.chars().any(char::is_control) {
            return Err(Error::Invalid(format!(
                "a subject is 1 to {SUBJECT_MAX_CHARS} characters, no control characters"
            )));
        }
        Ok(Self(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// As a header value: itself when printable ASCII, else RFC 2047 encoded words (UTF-8, base64), one per line
    /// of the folded header, each under 76 characters and split between characters.
    fn header_value(&self) -> String {
        if self.0.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) && !self.0.contains("=?") {
            return self.0.clone();
        }
        let mut words = Vec::new();
        let mut chunk = String::new();
        for c in self.0.chars() {
            // 45 bytes encode to 60 base64 characters; with `=?UTF-8?B?` and `?=` a word is 72.
            if chunk.len() + c.len_utf8() > 45 {
                words.push(format!("=?UTF-8?B?{}?=", B64.encode(&chunk)));
                chunk.clear();
            }
            chunk.push(c);
        }
        words.push(format!("=?UTF-8?B?{}?=", B64.encode(&chunk)));
        words.join("\r\n ")
    }
}

/// The body of a [`SimpleMail`]: plain text, HTML, or both (clients show the HTML when they can).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailBody {
    Text(String),
    Html(String),
    Both { text: String, html: String },
}

impl MailBody {
    pub fn text(&self) -> Option<&str> {
        match self {
            Self::Text(text) | Self::Both { text, .. } => Some(text),
            Self::Html(_) => None,
        }
    }

    pub fn html(&self) -> Option<&str> {
        match self {
            Self::Html(html) | Self::Both { html, .. } => Some(html),
            Self::Text(_) => None,
        }
    }
}

/// A message the mail service builds the MIME of. Every field is valid by its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleMail {
    pub from: MailAddress,
    pub to: Recipients,
    pub subject: Subject,
    pub body: MailBody,
}

/// Largest raw message, in bytes (SES's limit for messages with attachments, after base64).
pub const RAW_MAIL_MAX_BYTES: usize = 10 * 1024 * 1024;

/// A complete RFC 5322 message (headers, blank line, body; MIME if it has parts) and its envelope: the sender
/// the service checks, and the recipients it delivers to (which need not match the `To:` header, as for Bcc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMail {
    from: MailAddress,
    to: Recipients,
    message: Vec<u8>,
}

impl RawMail {
    /// The message is taken as is; only its size is checked (1 to [`RAW_MAIL_MAX_BYTES`] bytes).
    pub fn new(from: MailAddress, to: Recipients, message: Vec<u8>) -> Result<Self, Error> {
        if message.is_empty() || message.len() > RAW_MAIL_MAX_BYTES {
            return Err(Error::Invalid(format!(
                "a raw message is 1 to {RAW_MAIL_MAX_BYTES} bytes, not {}",
                message.len()
            )));
        }
        Ok(Self { from, to, message })
    }

    pub fn from(&self) -> &MailAddress {
        &self.from
    }

    pub fn to(&self) -> &Recipients {
        &self.to
    }

    pub fn message(&self) -> &[u8] {
        &self.message
    }
}

/// A file to attach to a [`Letter`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    filename: String,
    content_type: ContentType,
    bytes: Vec<u8>,
}

impl Attachment {
    /// `filename` is what the recipient's client saves it as: 1–200 printable ASCII characters, none of `"`, `\`
    /// and `/` (it is written into a quoted MIME parameter, and a path would be meaningless or dangerous).
    pub fn new(filename: &str, content_type: ContentType, bytes: Vec<u8>) -> Result<Self, Error> {
        let ok = (1..=200).contains(&filename.len())
            && filename.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
            && !filename.contains(['"', '\\', '/'])
            && filename.trim() == filename;
        if !ok {
            return Err(Error::Invalid(format!(
                "`{}` is not an attachment file name",
                filename.chars().take(60).collect::<String>()
            )));
        }
        Ok(Self { filename: filename.to_owned(), content_type, bytes })
    }
}

/// A plain-text message with attachments, to be composed into a [`RawMail`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub from: MailAddress,
    pub to: Recipients,
    pub subject: Subject,
    pub text: String,
    pub attachments: Vec<Attachment>,
}

impl Letter {
    /// The letter as a MIME `multipart/mixed` message dated `date`: the text (UTF-8), then each attachment, every
    /// part base64 in 76-character lines and long headers folded, so that no byte or line length can trouble a
    /// mail relay. The boundary is
    /// random, and cannot occur in base64. Fails when the result exceeds [`RAW_MAIL_MAX_BYTES`] or `date` is before 1900.
    pub fn compose(&self, date: Timestamp) -> Result<RawMail, Error> {
        let boundary = format!("=_part_{:032x}", rand::random::<u128>());
        let to = self.to.as_slice().iter().map(MailAddress::as_str).collect::<Vec<_>>().join(",\r\n ");
        let date = date
            .format(&time::format_description::well_known::Rfc2822)
            .map_err(|e| Error::Invalid(format!("the date cannot be written as RFC 2822: {e}")))?;
        let mut m = format!(
            "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed;\r\n boundary=\"{boundary}\"\r\n\r\n\
             --{boundary}\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
            from = self.from,
            subject = self.subject.header_value(),
        );
        push_base64_lines(&mut m, self.text.as_bytes());
        for a in &self.attachments {
            m.push_str(&format!(
                "--{boundary}\r\nContent-Type: {ct};\r\n name=\"{name}\"\r\n\
                 Content-Disposition: attachment;\r\n filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
                ct = a.content_type,
                name = a.filename,
            ));
            push_base64_lines(&mut m, &a.bytes);
        }
        m.push_str(&format!("--{boundary}--\r\n"));
        RawMail::new(self.from.clone(), self.to.clone(), m.into_bytes())
    }
}

fn push_base64_lines(out: &mut String, bytes: &[u8]) {
    let encoded = B64.encode(bytes);
    // Base64 is ASCII, so every 76-byte chunk is valid UTF-8.
    for line in encoded.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push_str("\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn addr(s: &str) -> MailAddress {
        MailAddress::parse(s).unwrap()
    }

    #[test]
    fn mail_addresses_are_dot_atoms_at_ldh_domains() {
        for ok in ["ada@example.com", "a.b+tag@mail.example.co.uk", "o'brien@x-y.io", "  trimmed@example.org "] {
            assert!(MailAddress::parse(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            "ada",
            "@example.com",
            "ada@",
            "ada@localhost",
            "ada@example.123",
            ".ada@example.com",
            "ada.@example.com",
            "a..b@example.com",
            "a b@example.com",
            "\"quoted\"@example.com",
            "Ada <ada@example.com>",
            "ada@[127.0.0.1]",
            "ada@-example.com",
            "ada@exa_mple.com",
            "adé@example.com",
            "ada@exämple.com",
            "a,b@example.com",
            "a\r\nBcc: x@example.com",
        ] {
            assert!(MailAddress::parse(bad).is_err(), "{bad:?}");
        }
        assert!(MailAddress::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
        assert_eq!(addr("ada@Mail.Example.com").domain(), "Mail.Example.com");
    }

    #[test]
    fn a_profile_email_converts_when_it_is_a_mail_address() {
        assert!(MailAddress::try_from(&Email::parse("ada@example.com").unwrap()).is_ok());
        assert!(MailAddress::try_from(&Email::parse("adé@exämple.com").unwrap()).is_err());
    }

    #[test]
    fn recipients_are_one_to_fifty() {
        assert!(Recipients::new(vec![]).is_err());
        assert!(Recipients::new(vec![addr("a@example.com"); 50]).is_ok());
        assert!(Recipients::new(vec![addr("a@example.com"); 51]).is_err());
    }

    #[test]
    fn a_subject_cannot_break_a_header() {
        assert!(Subject::parse("Invoice\r\nBcc: x@example.com").is_err());
        assert!(Subject::parse("   ").is_err());
        assert_eq!(Subject::parse("Your invoice").unwrap().header_value(), "Your invoice");
        let encoded = Subject::parse(&"Facture réglée ".repeat(10)).unwrap().header_value();
        assert!(encoded.is_ascii());
        assert!(encoded.split("\r\n ").all(|w| w.starts_with("=?UTF-8?B?") && w.len() <= 75), "{encoded}");
    }

    #[test]
    fn a_raw_mail_is_one_byte_to_ten_mib() {
        let (from, to) = (addr("a@example.com"), Recipients::one(addr("b@example.com")));
        assert!(RawMail::new(from.clone(), to.clone(), vec![]).is_err());
        assert!(RawMail::new(from.clone(), to.clone(), vec![b'x'; RAW_MAIL_MAX_BYTES]).is_ok());
        assert!(RawMail::new(from, to, vec![b'x'; RAW_MAIL_MAX_BYTES + 1]).is_err());
    }

    #[test]
    fn attachment_names_cannot_escape_their_quotes_or_name_a_path() {
        for bad in ["", "a\"b.pdf", "a\\b.pdf", "../x.pdf", "tab\t.pdf", " lead.pdf", "né.pdf"] {
            assert!(Attachment::new(bad, ContentType::pdf(), vec![]).is_err(), "{bad:?}");
        }
        assert!(Attachment::new("invoice 2024-001.pdf", ContentType::pdf(), vec![]).is_ok());
    }

    #[test]
    fn a_composed_letter_carries_the_text_and_the_attachment_in_base64_lines() {
        let pdf: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let letter = Letter {
            from: addr("billing@example.com"),
            to: Recipients::new(vec![addr("ada@example.com"), addr("bob@example.org")]).unwrap(),
            subject: Subject::parse("Invoice 42").unwrap(),
            text: "Bonjour, voici la facture.".into(),
            attachments: vec![Attachment::new("invoice-42.pdf", ContentType::pdf(), pdf.clone()).unwrap()],
        };
        let raw = letter.compose(time::macros::datetime!(2030-01-02 03:04:05 UTC)).unwrap();
        assert_eq!((raw.from().as_str(), raw.to().as_slice().len()), ("billing@example.com", 2));
        let text = std::str::from_utf8(raw.message()).unwrap();
        assert!(
            text.starts_with("From: billing@example.com\r\nTo: ada@example.com,\r\n bob@example.org\r\n"),
            "{text}"
        );
        assert!(text.contains("Subject: Invoice 42\r\nDate: Wed, 02 Jan 2030 03:04:05 +0000\r\nMIME-Version: 1.0\r\n"));
        assert!(text.lines().all(|l| l.len() <= 78), "no line over 78 characters");
        let boundary = text.split("boundary=\"").nth(1).unwrap().split('"').next().unwrap();
        let parts: Vec<&str> = text.split(&format!("--{boundary}")).collect();
        assert_eq!(parts.len(), 4, "preamble, text, attachment, end");
        assert!(parts[3].starts_with("--"));
        let body_of = |part: &str| B64.decode(part.split("\r\n\r\n").nth(1).unwrap().replace("\r\n", "")).unwrap();
        assert_eq!(body_of(parts[1]), b"Bonjour, voici la facture.");
        assert!(parts[2].contains("Content-Type: application/pdf;\r\n name=\"invoice-42.pdf\"\r\n"));
        assert!(parts[2].contains("Content-Disposition: attachment;\r\n filename=\"invoice-42.pdf\"\r\n"));
        assert_eq!(body_of(parts[2]), pdf);
    }

    proptest! {
        #[test]
        fn every_parsed_address_is_header_safe(raw in "[a-z.@+\"<> ,\\r\\n-]{1,40}") {
            if let Ok(a) = MailAddress::parse(&raw) {
                prop_assert!(!a.as_str().contains(['"', '<', '>', ',', ' ', '\r', '\n']));
                prop_assert_eq!(a.as_str().matches('@').count(), 1);
            }
        }
    }
}

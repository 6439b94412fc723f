//! Messages for a queue: where they go ([`QueueUrl`]), what they say ([`MessageBody`], [`MessageAttributes`]) and
//! the id the queue gives them. The rules are SQS's, so a message that parses is one SQS (and the local stack,
//! which speaks SQS's protocol) accepts.

use crate::Error;
use std::collections::BTreeMap;
use std::fmt;

/// Where a queue takes messages: an `http(s)://host/…/name` URL, as SQS hands out (and as `template.yaml`'s
/// `!Ref` of a queue gives). The last path segment is the queue's name: 1–80 ASCII letters, digits, `-` and `_`,
/// with `.fifo` after them for a FIFO queue. A URL and not a bare name because sending needs nothing else: no
/// account or region lookup, and the local stack's queues have URLs on its own endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QueueUrl(String);

impl QueueUrl {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let bad = |why: &str| {
            Error::Invalid(format!("`{}` is not a queue URL: {why}", raw.chars().take(100).collect::<String>()))
        };
        let rest =
            raw.strip_prefix("https://").or_else(|| raw.strip_prefix("http://")).ok_or_else(|| bad("not http(s)"))?;
        let (host, path) = rest.split_once('/').ok_or_else(|| bad("no path"))?;
        if host.is_empty() || !host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b)) {
            return Err(bad("no valid host"));
        }
        if path.contains(['?', '#']) || !path.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad("the path must be plain printable ASCII"));
        }
        let name = path.rsplit('/').next().unwrap_or_default();
        let stem = name.strip_suffix(".fifo").unwrap_or(name);
        if !(1..=80).contains(&name.len())
            || stem.is_empty()
            || !stem.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(bad("the last path segment is not a queue name"));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The queue's name: the last path segment.
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or_default()
    }

    /// Whether this is a FIFO queue (its name ends in `.fifo`).
    pub fn is_fifo(&self) -> bool {
        self.name().ends_with(".fifo")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for QueueUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Largest message, body and attributes together, in bytes. SQS took 256 KiB for years and takes 1 MiB since
/// 2025; the old limit is what every emulator and older region still enforces, and a pipeline's notices are far
/// smaller (larger payloads belong in an object, with its key in the message).
pub const MESSAGE_MAX_BYTES: usize = 256 * 1024;

/// The characters SQS accepts in a body and in attribute values: `#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD |
/// #x10000-#x10FFFF` (XML 1.0's: no C0 control character but tab and the newlines).
fn sqs_text(s: &str) -> bool {
    s.chars().all(|c| matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && !matches!(c, '\u{FFFE}' | '\u{FFFF}')))
}

/// A message body: non-empty text of the characters SQS accepts, at most [`MESSAGE_MAX_BYTES`] bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        if raw.is_empty() || raw.len() > MESSAGE_MAX_BYTES {
            return Err(Error::Invalid(format!("a message body must be 1 to {MESSAGE_MAX_BYTES} bytes")));
        }
        if !sqs_text(raw) {
            return Err(Error::Invalid(
                "a message body must not contain control characters other than tab and newlines".into(),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The body of a JSON message: `value` serialised (always valid text).
    pub fn json(value: &impl serde::Serialize) -> Result<Self, Error> {
        let text = serde_json::to_string(value).map_err(|e| Error::Invalid(format!("the message is not JSON: {e}")))?;
        Self::parse(&text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Most attributes a message can carry (SQS's limit).
pub const MESSAGE_ATTRIBUTES_MAX: usize = 10;

/// String attributes sent beside the body, for consumers to route or filter on without parsing it. Names: 1–256
/// ASCII letters, digits, `_`, `-` and `.`; no leading, trailing or doubled `.`; not starting with `AWS.` or
/// `Amazon.` in any case (SQS reserves them). Values: non-empty, of the characters a body may hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageAttributes(BTreeMap<String, String>);

impl MessageAttributes {
    pub fn new() -> Self {
        Self::default()
    }

    /// These attributes with `name` set to `value`, or why the pair (or an eleventh attribute) is refused.
    pub fn with(mut self, name: &str, value: &str) -> Result<Self, Error> {
        let lower = name.to_ascii_lowercase();
        let name_ok = (1..=256).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
            && !name.starts_with('.')
            && !name.ends_with('.')
            && !name.contains("..")
            && !lower.starts_with("aws.")
            && !lower.starts_with("amazon.");
        if !name_ok {
            return Err(Error::Invalid(format!(
                "`{}` is not a message attribute name",
                name.chars().take(60).collect::<String>()
            )));
        }
        if value.is_empty() || !sqs_text(value) {
            return Err(Error::Invalid(format!("the message attribute `{name}` must be non-empty text")));
        }
        self.0.insert(name.to_owned(), value.to_owned());
        if self.0.len() > MESSAGE_ATTRIBUTES_MAX {
            return Err(Error::Invalid(format!("a message carries at most {MESSAGE_ATTRIBUTES_MAX} attributes")));
        }
        Ok(self)
    }

    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// Names and values together, in bytes (SQS counts them, with their type names, into the message size).
    pub fn size(&self) -> usize {
        self.0.iter().map(|(k, v)| k.len() + v.len() + "String".len()).sum()
    }
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    body: MessageBody,
    attributes: MessageAttributes,
}

impl Message {
    /// A message of `body` and `attributes`, refused when both together exceed [`MESSAGE_MAX_BYTES`].
    pub fn new(body: MessageBody, attributes: MessageAttributes) -> Result<Self, Error> {
        if body.0.len() + attributes.size() > MESSAGE_MAX_BYTES {
            return Err(Error::Invalid(format!(
                "a message with its attributes must be at most {MESSAGE_MAX_BYTES} bytes"
            )));
        }
        Ok(Self { body, attributes })
    }

    pub fn body(&self) -> &MessageBody {
        &self.body
    }

    pub fn attributes(&self) -> &MessageAttributes {
        &self.attributes
    }
}

/// The id a queue or a mail service gave a message it accepted, for the logs and for tracing it there.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessageId(String);

impl MessageId {
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_url_names_its_queue_in_the_last_path_segment() {
        let url = QueueUrl::parse("https://sqs.eu-west-1.amazonaws.com/123456789012/photo-dead-letters").unwrap();
        assert_eq!((url.name(), url.is_fifo()), ("photo-dead-letters", false));
        let local = QueueUrl::parse("http://127.0.0.1:4566/000000000000/jobs.fifo").unwrap();
        assert_eq!((local.name(), local.is_fifo()), ("jobs.fifo", true));
        for bad in [
            "sqs.amazonaws.com/1/q",
            "https://sqs.amazonaws.com",
            "https:///1/q",
            "https://h/1/",
            "https://h/1/.fifo",
            "https://h/1/bad name",
            "https://h/1/q?x=1",
            &format!("https://h/1/{}", "q".repeat(81)),
        ] {
            assert!(QueueUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_body_is_non_empty_text_sqs_accepts_within_256_kib() {
        assert!(MessageBody::parse("line 1\nline 2\ttab").is_ok());
        assert!(MessageBody::parse("").is_err());
        assert!(MessageBody::parse("nul\0").is_err());
        assert!(MessageBody::parse(&"x".repeat(MESSAGE_MAX_BYTES)).is_ok());
        assert!(MessageBody::parse(&"x".repeat(MESSAGE_MAX_BYTES + 1)).is_err());
        assert_eq!(MessageBody::json(&serde_json::json!({"a": 1})).unwrap().as_str(), r#"{"a":1}"#);
    }

    #[test]
    fn attribute_names_avoid_what_sqs_reserves_and_there_are_at_most_ten() {
        assert!(MessageAttributes::new().with("kind", "photo").unwrap().with("user.id", "u-1").is_ok());
        for bad in ["", "AWS.x", "amazon.y", ".a", "a.", "a..b", "sp ace", &"a".repeat(257)] {
            assert!(MessageAttributes::new().with(bad, "v").is_err(), "{bad:?}");
        }
        assert!(MessageAttributes::new().with("k", "").is_err());
        let ten = (0..10).try_fold(MessageAttributes::new(), |a, i| a.with(&format!("a{i}"), "v")).unwrap();
        assert!(ten.with("a10", "v").is_err());
    }

    #[test]
    fn a_message_with_its_attributes_stays_within_the_size_limit() {
        let body = MessageBody::parse(&"x".repeat(MESSAGE_MAX_BYTES - 10)).unwrap();
        assert!(Message::new(body.clone(), MessageAttributes::new()).is_ok());
        assert!(Message::new(body, MessageAttributes::new().with("kind", "photo").unwrap()).is_err());
    }
}

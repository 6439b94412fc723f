//! Messages as values: a [`NewMessage`] is a body and message attributes that passed AWS's checks (allowed XML
//! characters, attribute names and types, at most 10 attributes), with the MD5 digests AWS computes for them
//! (`MD5OfMessageBody`, and `MD5OfMessageAttributes` over AWS's length-prefixed encoding, which the Java and .NET
//! SDKs verify). What SQS hands out on receipt is a [`ReceivedMessage`]; which of its attributes a receive asks
//! for is a [`Selection`].

use crate::SqsError;
use base64::{Engine, engine::general_purpose::STANDARD};
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const MAX_ATTRIBUTES: usize = 10;

/// A message attribute's value as the JSON protocol carries it (`BinaryValue` base64).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireAttribute {
    pub data_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_list_values: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_list_values: Option<Vec<String>>,
}

/// A checked message attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub data_type: String,
    pub value: AttributeValue,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeValue {
    /// `String` and `Number` types (and their custom `.suffix` types).
    Text(String),
    Binary(Vec<u8>),
}

impl Attribute {
    pub fn string(value: impl Into<String>) -> Self {
        Self { data_type: "String".into(), value: AttributeValue::Text(value.into()) }
    }

    fn parse(name: &str, wire: &WireAttribute) -> Result<Self, SqsError> {
        let invalid = |why: String| SqsError::InvalidParameterValue(why);
        let base = wire.data_type.split('.').next().unwrap_or_default();
        if !matches!(base, "String" | "Number" | "Binary") || wire.data_type.len() > 256 {
            return Err(invalid(format!(
                "The type of message (user) attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
            )));
        }
        if wire.string_list_values.as_ref().is_some_and(|l| !l.is_empty())
            || wire.binary_list_values.as_ref().is_some_and(|l| !l.is_empty())
        {
            return Err(invalid(format!(
                "Message attribute '{name}': StringListValues and BinaryListValues are reserved for future use."
            )));
        }
        let empty = || {
            invalid(format!(
                "The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{base}'."
            ))
        };
        let value = if base == "Binary" {
            let text = wire.binary_value.as_deref().ok_or_else(empty)?;
            let bytes = STANDARD.decode(text).map_err(|_| {
                invalid(format!("The message attribute '{name}' has a BinaryValue that is not base64."))
            })?;
            if bytes.is_empty() {
                return Err(empty());
            }
            AttributeValue::Binary(bytes)
        } else {
            let text = wire.string_value.as_deref().filter(|s| !s.is_empty()).ok_or_else(empty)?;
            if !text.chars().all(allowed_char) {
                return Err(invalid(format!("Message (user) attribute '{name}' value contains invalid characters.")));
            }
            if base == "Number" && !is_number(text) {
                return Err(invalid(format!("Can't cast the value of message (user) attribute '{name}' to a number.")));
            }
            AttributeValue::Text(text.to_owned())
        };
        Ok(Self { data_type: wire.data_type.clone(), value })
    }

    pub fn to_wire(&self) -> WireAttribute {
        let (string_value, binary_value) = match &self.value {
            AttributeValue::Text(s) => (Some(s.clone()), None),
            AttributeValue::Binary(b) => (None, Some(STANDARD.encode(b))),
        };
        WireAttribute {
            data_type: self.data_type.clone(),
            string_value,
            binary_value,
            string_list_values: None,
            binary_list_values: None,
        }
    }

    /// What the attribute counts toward the message size: name, type and value.
    fn size(&self, name: &str) -> usize {
        name.len()
            + self.data_type.len()
            + match &self.value {
                AttributeValue::Text(s) => s.len(),
                AttributeValue::Binary(b) => b.len(),
            }
    }
}

/// A message's attributes, by name; sorted, as the MD5 of them is computed.
pub type Attributes = BTreeMap<String, Attribute>;

/// Parses the `MessageAttributes` of a send.
pub fn parse_attributes(wire: &BTreeMap<String, WireAttribute>) -> Result<Attributes, SqsError> {
    if wire.len() > MAX_ATTRIBUTES {
        return Err(SqsError::InvalidParameterValue(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [{MAX_ATTRIBUTES}].",
            wire.len()
        )));
    }
    wire.iter()
        .map(|(name, value)| {
            check_attribute_name(name)?;
            Ok((name.clone(), Attribute::parse(name, value)?))
        })
        .collect()
}

fn check_attribute_name(name: &str) -> Result<(), SqsError> {
    let lower = name.to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.len() <= 256
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !name.contains("..")
        && !lower.starts_with("aws.")
        && !lower.starts_with("amazon.");
    if valid {
        Ok(())
    } else {
        Err(SqsError::InvalidParameterValue(format!(
            "Message (user) attribute name '{name}' is invalid: names are 1 to 256 of A-Z, a-z, 0-9, '_', '-' and '.', without '..', not starting or ending with '.', and not starting with 'AWS.' or 'Amazon.'."
        )))
    }
}

/// A decimal number as SQS's `Number` type takes it: sign, digits, fraction, exponent.
fn is_number(s: &str) -> bool {
    let s = s.trim();
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (s, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = (!int.is_empty() || !frac.is_empty()) && digits(int) && digits(frac);
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

/// The characters SQS accepts in a message: those XML 1.0 allows (`#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD |
/// #x10000-#x10FFFF`; a Rust `char` is never a surrogate).
pub fn allowed_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

pub fn md5_hex(bytes: &[u8]) -> String {
    local_core::hex(&Md5::digest(bytes))
}

/// `MD5OfMessageAttributes` as AWS computes it: for each attribute in name order, the name, the data type (each
/// as a 4-byte big-endian length and UTF-8 bytes), a transport byte (1 text, 2 binary) and the value (length and
/// bytes). `None` for no attributes, as AWS then sends no digest.
pub fn md5_of_attributes(attributes: &Attributes) -> Option<String> {
    if attributes.is_empty() {
        return None;
    }
    let mut buf = Vec::new();
    let field = |buf: &mut Vec<u8>, bytes: &[u8]| {
        buf.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        buf.extend_from_slice(bytes);
    };
    for (name, attribute) in attributes {
        field(&mut buf, name.as_bytes());
        field(&mut buf, attribute.data_type.as_bytes());
        match &attribute.value {
            AttributeValue::Text(s) => {
                buf.push(1);
                field(&mut buf, s.as_bytes());
            }
            AttributeValue::Binary(b) => {
                buf.push(2);
                field(&mut buf, b);
            }
        }
    }
    Some(md5_hex(&buf))
}

/// A message to send, checked except for its size, which depends on the queue's `MaximumMessageSize`.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub body: String,
    pub attributes: Attributes,
    /// Overrides the queue's `DelaySeconds`.
    pub delay_seconds: Option<u32>,
}

impl NewMessage {
    pub fn parse(body: Option<String>, attributes: Attributes, delay_seconds: Option<i64>) -> Result<Self, SqsError> {
        let body = body.filter(|b| !b.is_empty()).ok_or(SqsError::MissingParameter("MessageBody"))?;
        if let Some(bad) = body.chars().find(|c| !allowed_char(*c)) {
            return Err(SqsError::InvalidMessageContents(format!(
                "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF. Found U+{:04X}.",
                bad as u32
            )));
        }
        let delay_seconds = match delay_seconds {
            None => None,
            Some(d @ 0..=900) => Some(d as u32),
            Some(d) => {
                return Err(SqsError::InvalidParameterValue(format!(
                    "Value {d} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
                )));
            }
        };
        Ok(Self { body, attributes, delay_seconds })
    }

    /// What the message counts toward size limits: its body and its attributes.
    pub fn size(&self) -> usize {
        self.body.len() + self.attributes.iter().map(|(name, a)| a.size(name)).sum::<usize>()
    }

    pub fn check_size(&self, max: u32) -> Result<(), SqsError> {
        if self.size() > max as usize {
            return Err(SqsError::InvalidParameterValue(format!(
                "One or more parameters are invalid. Reason: Message must be shorter than {max} bytes."
            )));
        }
        Ok(())
    }
}

/// What a send answers for one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    pub message_id: String,
    pub md5_of_body: String,
    pub md5_of_attributes: Option<String>,
}

/// A message as a receive (or a peek) hands it out.
#[derive(Debug, Clone)]
pub struct ReceivedMessage {
    pub message_id: String,
    /// `None` for a peek, which does not receive.
    pub receipt_handle: Option<String>,
    pub body: String,
    pub md5_of_body: String,
    pub attributes: Attributes,
    pub md5_of_attributes: Option<String>,
    pub sender_id: String,
    pub sent_timestamp_ms: i64,
    pub receive_count: u32,
    pub first_receive_timestamp_ms: Option<i64>,
    /// The queue it came from, when it was moved to this dead-letter queue.
    pub dead_letter_source_arn: Option<String>,
}

/// Which of a message's system and user attributes a receive returns.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub system: Vec<String>,
    /// Names, `All` or `.*`, and prefixes `name.*`.
    pub user: Vec<String>,
}

impl Selection {
    /// The system attributes asked for, by AWS's names.
    pub fn system_attributes(&self, m: &ReceivedMessage) -> BTreeMap<&'static str, String> {
        let all = self.system.iter().any(|n| n == "All");
        let wants = |n: &str| all || self.system.iter().any(|s| s == n);
        let mut out = BTreeMap::new();
        if wants("SenderId") {
            out.insert("SenderId", m.sender_id.clone());
        }
        if wants("SentTimestamp") {
            out.insert("SentTimestamp", m.sent_timestamp_ms.to_string());
        }
        if wants("ApproximateReceiveCount") {
            out.insert("ApproximateReceiveCount", m.receive_count.to_string());
        }
        if wants("ApproximateFirstReceiveTimestamp")
            && let Some(t) = m.first_receive_timestamp_ms
        {
            out.insert("ApproximateFirstReceiveTimestamp", t.to_string());
        }
        if wants("DeadLetterQueueSourceArn")
            && let Some(arn) = &m.dead_letter_source_arn
        {
            out.insert("DeadLetterQueueSourceArn", arn.clone());
        }
        out
    }

    /// The user attributes asked for. On receipt AWS's `MD5OfMessageAttributes` is the digest of these, the ones
    /// returned, which is what the Java SDK checks.
    pub fn user_attributes(&self, attributes: &Attributes) -> Attributes {
        attributes
            .iter()
            .filter(|(name, _)| {
                self.user.iter().any(|want| match want.as_str() {
                    "All" | ".*" => true,
                    w => match w.strip_suffix(".*") {
                        Some(prefix) => name.starts_with(prefix) && name[prefix.len()..].starts_with('.'),
                        None => *name == w,
                    },
                })
            })
            .map(|(n, a)| (n.clone(), a.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(data_type: &str, string: Option<&str>, binary: Option<&str>) -> WireAttribute {
        WireAttribute {
            data_type: data_type.into(),
            string_value: string.map(Into::into),
            binary_value: binary.map(Into::into),
            string_list_values: None,
            binary_list_values: None,
        }
    }

    #[test]
    fn the_md5_of_message_attributes_is_the_one_aws_answers() {
        // AWS's answer for this message, as moto's tests record it from the real service.
        let attrs: BTreeMap<_, _> = [("timestamp".to_owned(), wire("Number", Some("1493147359900"), None))].into();
        assert_eq!(md5_of_attributes(&parse_attributes(&attrs).unwrap()).unwrap(), "235c5c510d26fb653d073faed50ae77c");
        assert_eq!(md5_hex(b"derp"), "58fd9edd83341c29f1aebba81c31e257");
        // Binary values and custom types (an independent implementation of the same encoding gives this).
        let attrs: BTreeMap<_, _> = [
            ("bin".to_owned(), wire("Binary", None, Some(&STANDARD.encode([0u8, 1, 255])))),
            ("s".to_owned(), wire("String.custom", Some("héllo"), None)),
        ]
        .into();
        assert_eq!(md5_of_attributes(&parse_attributes(&attrs).unwrap()).unwrap(), "045c01172c6f8d948d72cafdae5de541");
        assert_eq!(md5_of_attributes(&Attributes::new()), None);
    }

    #[test]
    fn bodies_with_characters_xml_forbids_are_invalid_contents() {
        assert!(matches!(
            NewMessage::parse(Some("a\u{0}b".into()), Attributes::new(), None),
            Err(SqsError::InvalidMessageContents(_))
        ));
        assert!(matches!(
            NewMessage::parse(Some("\u{FFFF}".into()), Attributes::new(), None),
            Err(SqsError::InvalidMessageContents(_))
        ));
        assert!(NewMessage::parse(Some("tab\tnewline\n😀".into()), Attributes::new(), None).is_ok());
        assert!(matches!(
            NewMessage::parse(Some(String::new()), Attributes::new(), None),
            Err(SqsError::MissingParameter(_))
        ));
    }

    #[test]
    fn attributes_with_bad_names_types_or_values_are_refused() {
        for (name, w) in [
            ("AWS.x", wire("String", Some("v"), None)),
            ("a..b", wire("String", Some("v"), None)),
            ("n", wire("Number", Some("12a"), None)),
            ("n", wire("Integer", Some("1"), None)),
            ("s", wire("String", Some(""), None)),
            ("b", wire("Binary", None, None)),
        ] {
            let attrs: BTreeMap<_, _> = [(name.to_owned(), w)].into();
            assert!(parse_attributes(&attrs).is_err(), "{name}");
        }
        for n in ["1", "-1.5", "2e10", ".5", "+3E-2"] {
            assert!(is_number(n), "{n}");
        }
        let eleven: BTreeMap<_, _> = (0..11).map(|i| (format!("a{i}"), wire("String", Some("v"), None))).collect();
        assert!(parse_attributes(&eleven).is_err());
    }

    #[test]
    fn a_receive_selects_attributes_by_name_prefix_or_all() {
        let attrs: Attributes =
            ["a.x", "a.y", "ab", "b"].iter().map(|n| (n.to_string(), Attribute::string("v"))).collect();
        let pick = |user: &[&str]| {
            let s = Selection { system: vec![], user: user.iter().map(|s| s.to_string()).collect() };
            s.user_attributes(&attrs).keys().map(|k| k.to_string()).collect::<Vec<_>>()
        };
        assert_eq!(pick(&["All"]), ["a.x", "a.y", "ab", "b"]);
        assert_eq!(pick(&["a.*"]), ["a.x", "a.y"]);
        assert_eq!(pick(&["b"]), ["b"]);
        assert!(pick(&[]).is_empty());
    }
}

//! Queues as values: a [`QueueName`] that is valid once it exists, how a caller's queue URL, ARN or name is read
//! into the name it addresses ([`QueueAddress`]), and a queue's settings ([`QueueConfig`]) parsed from the string
//! map SQS's API (and the template) speaks, with AWS's ranges, so a bad value never reaches the store.
//!
//! FIFO queues are refused (`.fifo` names, `FifoQueue`): the local stack emulates standard queues only, and says so
//! rather than accepting a FIFO queue and delivering out of order or twice.

use crate::SqsError;
use local_core::{Arn, Identity};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The message size limit AWS applies by default, and the largest a queue may set.
pub const MAX_MESSAGE_SIZE: u32 = 262_144;

/// A standard queue's name: `[A-Za-z0-9_-]{1,80}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueueName(String);

impl QueueName {
    pub fn parse(name: &str) -> Result<Self, SqsError> {
        if name.ends_with(".fifo") {
            return Err(fifo_unsupported());
        }
        let valid = !name.is_empty()
            && name.len() <= 80
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(SqsError::InvalidParameterValue(format!(
                "Value {name} for parameter QueueName is invalid. Reason: Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length."
            )));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for QueueName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub(crate) fn fifo_unsupported() -> SqsError {
    SqsError::UnsupportedOperation(
        "FIFO queues are not supported by the local stack: it emulates standard queues only.".into(),
    )
}

/// The queue a caller names. Only whether it exists is left to find out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueAddress(pub String);

impl QueueAddress {
    /// A `QueueUrl` of the wire API: any URL (or bare path) whose path is `/<account>/<name>`, whatever its host,
    /// so the AWS-form URL of the template's `Ref` works as well as the one this endpoint hands out.
    pub fn from_url(url: &str, identity: &Identity) -> Result<Self, SqsError> {
        let path = match url.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
            None => url,
        };
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let mut parts = path.trim_start_matches('/').split('/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(account), Some(name), None) if !name.is_empty() => {
                if account == identity.account {
                    Ok(Self(name.to_owned()))
                } else {
                    // Another account's queue cannot be here.
                    Err(SqsError::QueueDoesNotExist)
                }
            }
            _ => Err(SqsError::InvalidAddress(url.chars().take(512).collect())),
        }
    }

    /// A queue as the in-process API and other services name it: its URL, its ARN or its bare name.
    pub fn any(queue: &str, identity: &Identity) -> Result<Self, SqsError> {
        if queue.starts_with("arn:") {
            let arn: Arn = queue.parse().map_err(|_| SqsError::InvalidAddress(queue.to_owned()))?;
            return Self::from_arn(&arn, identity).ok_or(SqsError::QueueDoesNotExist);
        }
        if queue.contains('/') {
            return Self::from_url(queue, identity);
        }
        Ok(Self(queue.to_owned()))
    }

    /// The queue of an SQS ARN in this account and region.
    pub fn from_arn(arn: &Arn, identity: &Identity) -> Option<Self> {
        (arn.service == "sqs" && arn.account == identity.account && arn.region == identity.region)
            .then(|| Self(arn.resource.clone()))
    }
}

/// A dead-letter queue and after how many receives a message goes there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RedrivePolicy {
    pub dead_letter_target_arn: String,
    pub max_receive_count: u32,
}

impl RedrivePolicy {
    /// The JSON of the `RedrivePolicy` attribute; `maxReceiveCount` may be a number or a numeric string, as the
    /// CLI and CloudFormation send either.
    fn parse(text: &str, identity: &Identity) -> Result<Self, SqsError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Raw {
            dead_letter_target_arn: String,
            max_receive_count: serde_json::Value,
        }
        let invalid = |why: &str| {
            SqsError::InvalidParameterValue(format!(
                "Value {text} for parameter RedrivePolicy is invalid. Reason: {why}"
            ))
        };
        let raw: Raw = serde_json::from_str(text)
            .map_err(|_| invalid("Redrive policy is not a dictionary with deadLetterTargetArn and maxReceiveCount."))?;
        let count = match &raw.max_receive_count {
            serde_json::Value::Number(n) => n.as_u64(),
            serde_json::Value::String(s) => s.parse().ok(),
            _ => None,
        };
        let max_receive_count = count
            .filter(|c| (1..=1000).contains(c))
            .ok_or_else(|| invalid("Invalid value for maxReceiveCount: must be an integer from 1 to 1000."))?
            as u32;
        let target: Arn =
            raw.dead_letter_target_arn.parse().map_err(|_| invalid("Invalid value for deadLetterTargetArn."))?;
        if QueueAddress::from_arn(&target, identity).is_none() {
            return Err(invalid("Dead letter target does not exist."));
        }
        Ok(Self { dead_letter_target_arn: raw.dead_letter_target_arn, max_receive_count })
    }

    /// The dead-letter queue's name.
    pub fn target(&self) -> &str {
        self.dead_letter_target_arn.rsplit(':').next().unwrap_or_default()
    }

    pub fn to_json(&self) -> String {
        serde_json::json!({"deadLetterTargetArn": self.dead_letter_target_arn, "maxReceiveCount": self.max_receive_count})
            .to_string()
    }
}

/// A queue's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueConfig {
    pub visibility_timeout: u32,
    pub message_retention_period: u32,
    pub delay_seconds: u32,
    pub receive_message_wait_time_seconds: u32,
    pub maximum_message_size: u32,
    pub redrive_policy: Option<RedrivePolicy>,
    /// Attributes kept and returned as given but with no local effect (`Policy`, `KmsMasterKeyId`, …).
    #[serde(default)]
    pub opaque: BTreeMap<String, String>,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            visibility_timeout: 30,
            message_retention_period: 345_600,
            delay_seconds: 0,
            receive_message_wait_time_seconds: 0,
            maximum_message_size: MAX_MESSAGE_SIZE,
            redrive_policy: None,
            opaque: BTreeMap::new(),
        }
    }
}

/// Attributes accepted and kept, but with no local effect.
const OPAQUE: &[&str] =
    &["Policy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled", "RedriveAllowPolicy"];
/// Attributes of FIFO queues only: on a standard queue AWS answers them as unknown.
const FIFO_ONLY: &[&str] = &["ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"];

/// One settable attribute with a checked value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    VisibilityTimeout(u32),
    MessageRetentionPeriod(u32),
    DelaySeconds(u32),
    ReceiveMessageWaitTimeSeconds(u32),
    MaximumMessageSize(u32),
    /// `None` removes the policy (an empty `RedrivePolicy`).
    RedrivePolicy(Option<RedrivePolicy>),
    Opaque(String, String),
}

/// The attributes of a CreateQueue or SetQueueAttributes, each checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttributeChanges(Vec<Change>);

impl AttributeChanges {
    pub fn parse(attributes: &HashMap<String, String>, identity: &Identity) -> Result<Self, SqsError> {
        let mut names: Vec<&String> = attributes.keys().collect();
        // A stable order, so the first bad attribute reported is the same on every call.
        names.sort();
        let mut changes = Vec::with_capacity(names.len());
        for name in names {
            let value = attributes[name].as_str();
            let seconds = |min: u32, max: u32| {
                value
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|v| (min..=max).contains(v))
                    .ok_or_else(|| SqsError::InvalidAttributeValue(name.clone()))
            };
            changes.push(match name.as_str() {
                "VisibilityTimeout" => Change::VisibilityTimeout(seconds(0, 43_200)?),
                "MessageRetentionPeriod" => Change::MessageRetentionPeriod(seconds(60, 1_209_600)?),
                "DelaySeconds" => Change::DelaySeconds(seconds(0, 900)?),
                "ReceiveMessageWaitTimeSeconds" => Change::ReceiveMessageWaitTimeSeconds(seconds(0, 20)?),
                "MaximumMessageSize" => Change::MaximumMessageSize(seconds(1024, MAX_MESSAGE_SIZE)?),
                "RedrivePolicy" if value.trim().is_empty() => Change::RedrivePolicy(None),
                "RedrivePolicy" => Change::RedrivePolicy(Some(RedrivePolicy::parse(value, identity)?)),
                "FifoQueue" if value.eq_ignore_ascii_case("false") => continue,
                "FifoQueue" => return Err(fifo_unsupported()),
                n if OPAQUE.contains(&n) => Change::Opaque(n.to_owned(), value.to_owned()),
                n if FIFO_ONLY.contains(&n) => {
                    return Err(SqsError::InvalidAttributeName(format!("Unknown Attribute {n}.")));
                }
                n => return Err(SqsError::InvalidAttributeName(format!("Unknown Attribute {n}."))),
            });
        }
        Ok(Self(changes))
    }

    /// `config` with these changes.
    pub fn apply_to(&self, mut config: QueueConfig) -> QueueConfig {
        for change in &self.0 {
            match change.clone() {
                Change::VisibilityTimeout(v) => config.visibility_timeout = v,
                Change::MessageRetentionPeriod(v) => config.message_retention_period = v,
                Change::DelaySeconds(v) => config.delay_seconds = v,
                Change::ReceiveMessageWaitTimeSeconds(v) => config.receive_message_wait_time_seconds = v,
                Change::MaximumMessageSize(v) => config.maximum_message_size = v,
                Change::RedrivePolicy(p) => config.redrive_policy = p,
                Change::Opaque(k, v) => {
                    config.opaque.insert(k, v);
                }
            }
        }
        config
    }

    /// The first attribute these changes would alter in `config`: a CreateQueue of an existing queue succeeds only
    /// when none would.
    pub fn first_difference(&self, config: &QueueConfig) -> Option<&'static str> {
        self.0.iter().find_map(|change| {
            let (name, same) = match change {
                Change::VisibilityTimeout(v) => ("VisibilityTimeout", *v == config.visibility_timeout),
                Change::MessageRetentionPeriod(v) => ("MessageRetentionPeriod", *v == config.message_retention_period),
                Change::DelaySeconds(v) => ("DelaySeconds", *v == config.delay_seconds),
                Change::ReceiveMessageWaitTimeSeconds(v) => {
                    ("ReceiveMessageWaitTimeSeconds", *v == config.receive_message_wait_time_seconds)
                }
                Change::MaximumMessageSize(v) => ("MaximumMessageSize", *v == config.maximum_message_size),
                Change::RedrivePolicy(p) => ("RedrivePolicy", *p == config.redrive_policy),
                Change::Opaque(k, v) => {
                    let name = OPAQUE.iter().find(|n| *n == k).copied().unwrap_or("Policy");
                    (name, config.opaque.get(k) == Some(v))
                }
            };
            (!same).then_some(name)
        })
    }

    /// The dead-letter queue these changes set, which must exist.
    pub fn dead_letter_target(&self) -> Option<&RedrivePolicy> {
        self.0.iter().find_map(|c| match c {
            Change::RedrivePolicy(Some(p)) => Some(p),
            _ => None,
        })
    }
}

/// What GetQueueAttributes may be asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AttributeName {
    ApproximateNumberOfMessages,
    ApproximateNumberOfMessagesNotVisible,
    ApproximateNumberOfMessagesDelayed,
    CreatedTimestamp,
    LastModifiedTimestamp,
    QueueArn,
    VisibilityTimeout,
    MessageRetentionPeriod,
    DelaySeconds,
    ReceiveMessageWaitTimeSeconds,
    MaximumMessageSize,
    RedrivePolicy,
    /// `Policy`, `KmsMasterKeyId`, …: answered when set.
    Opaque(&'static str),
    /// FIFO attributes: valid names with no value on a standard queue.
    FifoOnly,
}

impl AttributeName {
    const ALL: &[AttributeName] = &[
        Self::ApproximateNumberOfMessages,
        Self::ApproximateNumberOfMessagesNotVisible,
        Self::ApproximateNumberOfMessagesDelayed,
        Self::CreatedTimestamp,
        Self::LastModifiedTimestamp,
        Self::QueueArn,
        Self::VisibilityTimeout,
        Self::MessageRetentionPeriod,
        Self::DelaySeconds,
        Self::ReceiveMessageWaitTimeSeconds,
        Self::MaximumMessageSize,
        Self::RedrivePolicy,
    ];

    /// The names asked for; `All` is every one.
    pub fn parse_list(names: &[String]) -> Result<Vec<Self>, SqsError> {
        let mut out = Vec::new();
        for name in names {
            match name.as_str() {
                "All" => {
                    out.extend_from_slice(Self::ALL);
                    out.extend(OPAQUE.iter().map(|n| Self::Opaque(n)));
                }
                n => out.push(Self::parse(n)?),
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    fn parse(name: &str) -> Result<Self, SqsError> {
        if let Some(found) = Self::ALL.iter().find(|a| a.name() == Some(name)) {
            return Ok(*found);
        }
        if let Some(n) = OPAQUE.iter().find(|n| **n == name) {
            return Ok(Self::Opaque(n));
        }
        if FIFO_ONLY.contains(&name) || name == "FifoQueue" {
            return Ok(Self::FifoOnly);
        }
        Err(SqsError::InvalidAttributeName(format!("Unknown Attribute {name}.")))
    }

    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::ApproximateNumberOfMessages => "ApproximateNumberOfMessages",
            Self::ApproximateNumberOfMessagesNotVisible => "ApproximateNumberOfMessagesNotVisible",
            Self::ApproximateNumberOfMessagesDelayed => "ApproximateNumberOfMessagesDelayed",
            Self::CreatedTimestamp => "CreatedTimestamp",
            Self::LastModifiedTimestamp => "LastModifiedTimestamp",
            Self::QueueArn => "QueueArn",
            Self::VisibilityTimeout => "VisibilityTimeout",
            Self::MessageRetentionPeriod => "MessageRetentionPeriod",
            Self::DelaySeconds => "DelaySeconds",
            Self::ReceiveMessageWaitTimeSeconds => "ReceiveMessageWaitTimeSeconds",
            Self::MaximumMessageSize => "MaximumMessageSize",
            Self::RedrivePolicy => "RedrivePolicy",
            Self::Opaque(n) => n,
            Self::FifoOnly => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn queue_names_are_alphanumerics_hyphens_and_underscores_up_to_80_and_fifo_is_refused_as_unsupported() {
        assert!(QueueName::parse("orders_dlq-1").is_ok());
        assert!(QueueName::parse(&"a".repeat(80)).is_ok());
        for bad in ["", "a b", "a.b", "ü", &"a".repeat(81)] {
            assert!(matches!(QueueName::parse(bad), Err(SqsError::InvalidParameterValue(_))), "{bad}");
        }
        assert!(matches!(QueueName::parse("jobs.fifo"), Err(SqsError::UnsupportedOperation(_))));
    }

    #[test]
    fn a_queue_url_is_read_by_its_path_whatever_its_host() {
        let id = Identity::default();
        for url in [
            "http://localhost:4566/123456789012/q",
            "https://sqs.us-east-1.amazonaws.com/123456789012/q",
            "/123456789012/q",
        ] {
            assert_eq!(QueueAddress::from_url(url, &id).unwrap(), QueueAddress("q".into()), "{url}");
        }
        assert!(matches!(QueueAddress::from_url("http://h/999/q", &id), Err(SqsError::QueueDoesNotExist)));
        assert!(matches!(QueueAddress::from_url("nonsense", &id), Err(SqsError::InvalidAddress(_))));
        assert_eq!(QueueAddress::any("arn:aws:sqs:us-east-1:123456789012:q", &id).unwrap().0, "q");
        assert_eq!(QueueAddress::any("q", &id).unwrap().0, "q");
    }

    #[test]
    fn attribute_values_out_of_range_and_unknown_names_are_refused() {
        let id = Identity::default();
        assert!(matches!(
            AttributeChanges::parse(&attrs(&[("VisibilityTimeout", "43201")]), &id),
            Err(SqsError::InvalidAttributeValue(_))
        ));
        assert!(matches!(
            AttributeChanges::parse(&attrs(&[("Colour", "red")]), &id),
            Err(SqsError::InvalidAttributeName(_))
        ));
        assert!(AttributeChanges::parse(&attrs(&[("RedrivePolicy", "{\"deadLetterTargetArn\":\"x\"}")]), &id).is_err());
        let ok = AttributeChanges::parse(
            &attrs(&[
                ("VisibilityTimeout", "5"),
                (
                    "RedrivePolicy",
                    r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:d","maxReceiveCount":"3"}"#,
                ),
            ]),
            &id,
        )
        .unwrap();
        let config = ok.apply_to(QueueConfig::default());
        assert_eq!(config.visibility_timeout, 5);
        assert_eq!(config.redrive_policy.as_ref().unwrap().max_receive_count, 3);
        assert_eq!(config.redrive_policy.as_ref().unwrap().target(), "d");
        assert_eq!(ok.first_difference(&config), None);
        assert_eq!(ok.first_difference(&QueueConfig::default()), Some("RedrivePolicy"));
    }
}

//! Bucket notifications, as SAM wires them: a function's `Events` entry of `Type: S3` names a bucket of the template,
//! the event types it wants (`s3:ObjectCreated:*`) and an optional key filter (prefix, suffix). This module reads
//! those entries from the template, builds the event record S3 sends (shape, key encoding and sequencer as AWS), and
//! runs the dispatcher: events are queued in the index's outbox in the same transaction as the write they report,
//! so one is sent only for a write that is durable, and none is lost by a crash between the two.

use crate::index::{Index, ObjectInfo};
use local_core::{Identity, invoke::EventInvoker};
use local_template::{Template, TemplateError};
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::Arc;
use time::OffsetDateTime;
use tokio::sync::Notify;

/// One S3 trigger of a function in the template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationConfig {
    /// The function's logical id, which the invoker knows it by.
    pub function: String,
    /// The event's name under the function's `Events` (S3's `configurationId`).
    pub configuration_id: String,
    /// The bucket's physical name.
    pub bucket: String,
    /// Event types, as written (`s3:ObjectCreated:*`, `s3:ObjectRemoved:Delete`).
    pub events: Vec<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
}

impl NotificationConfig {
    /// Whether an event named `event_name` (`ObjectCreated:Put`) for `key` in `bucket` is one this trigger wants.
    pub fn matches(&self, bucket: &str, event_name: &str, key: &str) -> bool {
        bucket == self.bucket
            && self.events.iter().any(|pattern| {
                let pattern = pattern.strip_prefix("s3:").unwrap_or(pattern);
                match pattern.strip_suffix('*') {
                    Some(stem) => event_name.starts_with(stem),
                    None => pattern == event_name,
                }
            })
            && self.prefix.as_deref().is_none_or(|p| key.starts_with(p))
            && self.suffix.as_deref().is_none_or(|s| key.ends_with(s))
    }
}

/// The S3 triggers of the template's functions.
pub fn read_template(template: &Template) -> Result<Vec<NotificationConfig>, TemplateError> {
    let mut out = Vec::new();
    for function in template.of_type(&["AWS::Serverless::Function"]) {
        let Some(events) = function.properties["Events"].as_object() else { continue };
        for (name, event) in events {
            if event["Type"].as_str() != Some("S3") {
                continue;
            }
            let at = format!("{}.Events.{name}", function.id);
            let p = &event["Properties"];
            // SAM requires the bucket to be one of the template's, by `Ref`.
            let bucket = match p["Bucket"].get("Ref").and_then(Value::as_str) {
                Some(id) => template.physical_name(id)?,
                None => {
                    return Err(TemplateError::invalid(format!("{at}.Bucket"), "must be a !Ref to an AWS::S3::Bucket"));
                }
            };
            let events = match &p["Events"] {
                Value::String(s) => vec![s.clone()],
                Value::Array(a) => a
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| TemplateError::invalid(format!("{at}.Events"), "must be strings"))?,
                _ => return Err(TemplateError::invalid(format!("{at}.Events"), "is required: a string or a list")),
            };
            let (mut prefix, mut suffix) = (None, None);
            if let Some(rules) = p["Filter"]["S3Key"]["Rules"].as_array() {
                for (i, rule) in rules.iter().enumerate() {
                    let rule_at = format!("{at}.Filter.S3Key.Rules[{i}]");
                    let value = template.string(&rule["Value"], &rule_at)?;
                    match rule["Name"].as_str().map(str::to_ascii_lowercase).as_deref() {
                        Some("prefix") => prefix = Some(value),
                        Some("suffix") => suffix = Some(value),
                        _ => return Err(TemplateError::invalid(rule_at, "Name must be prefix or suffix")),
                    }
                }
            }
            out.push(NotificationConfig {
                function: function.id.to_owned(),
                configuration_id: name.clone(),
                bucket,
                events,
                prefix,
                suffix,
            });
        }
    }
    Ok(out)
}

/// Who caused an event, as the record reports it.
#[derive(Debug, Clone)]
pub struct Requester {
    pub principal: String,
    pub source_ip: String,
    pub request_id: String,
}

/// A key as S3 puts it in an event: form-encoded (a space is `+`), with `/` left as is.
pub fn event_key(key: &str) -> String {
    form_urlencoded::byte_serialize(key.as_bytes()).collect::<String>().replace("%2F", "/")
}

/// The time as S3 writes it in an event: UTC, always three digits of milliseconds, `Z` (RFC 3339 formatting would
/// drop trailing zeros: `.76Z` for 760 ms).
pub fn event_time(at: OffsetDateTime) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    at.to_offset(time::UtcOffset::UTC).format(&format).unwrap_or_default()
}

/// One event record, exactly as S3 sends it to Lambda.
#[allow(clippy::too_many_arguments)]
pub fn record(
    identity: &Identity,
    config: &NotificationConfig,
    event_name: &str,
    object: &ObjectInfo,
    removed: bool,
    sequencer: u64,
    at: OffsetDateTime,
    by: &Requester,
) -> Value {
    let mut object_json = json!({"key": event_key(&object.key), "sequencer": format!("{sequencer:016X}")});
    if !removed {
        object_json["size"] = json!(object.size);
        object_json["eTag"] = json!(object.etag);
    }
    let time = event_time(at);
    json!({"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": identity.region,
        "eventTime": time,
        "eventName": event_name,
        "userIdentity": {"principalId": by.principal},
        "requestParameters": {"sourceIPAddress": by.source_ip},
        "responseElements": {"x-amz-request-id": by.request_id, "x-amz-id-2": id_2(&by.request_id)},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": config.configuration_id,
            "bucket": {
                "name": object.bucket,
                "ownerIdentity": {"principalId": identity.account},
                "arn": identity.bucket_arn(&object.bucket).to_string(),
            },
            "object": object_json,
        }
    }]})
}

/// S3's second request id: opaque base64; derived from the first so one request has one pair.
pub fn id_2(request_id: &str) -> String {
    use base64::Engine;
    use md5::Digest;
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(request_id.as_bytes()))
}

/// Sends queued events to the invoker in order, removing each once the invoker has taken it (Lambda's 202). An
/// event the invoker refuses (the function is gone) is logged and dropped, as S3 drops an undeliverable event.
pub(crate) async fn dispatch(index: Arc<Index>, invoker: Arc<dyn EventInvoker>, wake: Arc<Notify>) {
    loop {
        let pending = {
            let index = index.clone();
            tokio::task::spawn_blocking(move || index.pending(64)).await
        };
        let pending = match pending {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "s3 notifications: cannot read the outbox");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
            Err(_) => return,
        };
        if pending.is_empty() {
            wake.notified().await;
            continue;
        }
        for (seq, function, event) in pending {
            if let Err(e) = invoker.invoke_async(&function, event).await {
                tracing::warn!(
                    function,
                    error_type = e.error_type,
                    error = e.error_message,
                    "s3 notification not delivered"
                );
            }
            let index = index.clone();
            match tokio::task::spawn_blocking(move || index.delivered(seq)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "s3 notifications: cannot update the outbox"),
                Err(_) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_key_is_form_encoded_with_slashes_kept() {
        assert_eq!(event_key("a dir/my file+1=ü.txt"), "a+dir/my+file%2B1%3D%C3%BC.txt");
    }

    #[test]
    fn event_times_always_have_three_digits_of_milliseconds() {
        let at = time::macros::datetime!(2026-11-30 11:54:26.760 UTC);
        assert_eq!(event_time(at), "2026-11-30T11:54:26.760Z");
        assert_eq!(event_time(time::macros::datetime!(2026-11-30 11:54:26 UTC)), "2026-11-30T11:54:26.000Z");
        assert_eq!(event_time(time::macros::datetime!(2026-11-30 12:54:26.5 +1)), "2026-11-30T11:54:26.500Z");
    }

    #[test]
    fn a_trigger_matches_by_event_type_prefix_and_suffix() {
        let c = NotificationConfig {
            function: "F".into(),
            configuration_id: "Upload".into(),
            bucket: "b".into(),
            events: vec!["s3:ObjectCreated:*".into()],
            prefix: Some("in/".into()),
            suffix: Some(".csv".into()),
        };
        assert!(c.matches("b", "ObjectCreated:Put", "in/x.csv"));
        assert!(c.matches("b", "ObjectCreated:CompleteMultipartUpload", "in/x.csv"));
        assert!(!c.matches("b", "ObjectRemoved:Delete", "in/x.csv"));
        assert!(!c.matches("b", "ObjectCreated:Put", "out/x.csv"));
        assert!(!c.matches("b", "ObjectCreated:Put", "in/x.json"));
        assert!(!c.matches("other", "ObjectCreated:Put", "in/x.csv"));
    }
}

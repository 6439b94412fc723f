//! What a dead letter says, read out of its body and message attributes: the original event, the error, what
//! failed and the request id. Pure, shared by both sources (the local stack's queues and SQS on AWS hold the same
//! bodies), so a dead letter reads the same on both.
//!
//! Four shapes are known, tried in this order:
//! - a Lambda invocation record (async invocation `OnFailure` destination): `requestContext.{requestId,
//!   functionArn, condition}`, `requestPayload` (the event), `responsePayload.{errorType, errorMessage}`;
//! - a Lambda stream failure record (event source mapping `OnFailure`): the same `requestContext`, and a
//!   `DDBStreamBatchInfo`/`KinesisBatchInfo`/`SQSBatchInfo` object telling which batch failed (the records
//!   themselves are not in it);
//! - an EventBridge dead letter: the event as the body, with message attributes `RULE_ARN`, `TARGET_ARN`,
//!   `ERROR_CODE`, `ERROR_MESSAGE`;
//! - a Lambda function `DeadLetterConfig` message: the event as the body, with attributes `RequestID`,
//!   `ErrorCode`, `ErrorMessage`.
//!
//! Anything else keeps its body as the original event when it is JSON, and no error.

use serde_json::Value;

/// What [`parse`] found; each field is `None` when the message does not say.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub original_event: Option<Value>,
    /// `errorType: errorMessage`, `ERROR_CODE: ERROR_MESSAGE`, or the record's condition (`RetriesExhausted`).
    pub error: Option<String>,
    /// The function (ARN, without the `$LATEST` qualifier) or the rule target that failed.
    pub failed_target: Option<String>,
    pub request_id: Option<String>,
}

/// Reads a dead letter. Never fails: an unknown or non-JSON body gives a `Parsed` with what could be found.
pub fn parse(body: &str, attributes: &[(String, String)]) -> Parsed {
    let json: Option<Value> = serde_json::from_str(body).ok();
    if let Some(record) = json.as_ref().filter(|v| v.get("requestContext").is_some_and(Value::is_object)) {
        return invocation_record(record);
    }
    let attribute = |name: &str| attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    if attribute("ERROR_CODE").is_some() || attribute("RULE_ARN").is_some() || attribute("TARGET_ARN").is_some() {
        return Parsed {
            original_event: json,
            error: error_text(attribute("ERROR_CODE"), attribute("ERROR_MESSAGE")),
            failed_target: attribute("TARGET_ARN").or_else(|| attribute("RULE_ARN")),
            request_id: None,
        };
    }
    if attribute("RequestID").is_some() || attribute("ErrorCode").is_some() {
        return Parsed {
            original_event: json,
            error: error_text(attribute("ErrorCode"), attribute("ErrorMessage")),
            failed_target: None,
            request_id: attribute("RequestID"),
        };
    }
    Parsed { original_event: json, ..Parsed::default() }
}

fn invocation_record(record: &Value) -> Parsed {
    let context = &record["requestContext"];
    let text = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    let response = &record["responsePayload"];
    let error = error_text(text(&response["errorType"]), text(&response["errorMessage"]))
        .or_else(|| text(&record["responseContext"]["functionError"]))
        .or_else(|| text(&context["condition"]));
    let original_event = match record.get("requestPayload") {
        Some(payload) => Some(payload.clone()),
        // A stream failure record names the batch, not its records: that is all there is to show.
        None => ["DDBStreamBatchInfo", "KinesisBatchInfo", "SQSBatchInfo"]
            .iter()
            .find_map(|k| record.get(*k).cloned().map(|info| serde_json::json!({ *k: info }))),
    };
    Parsed {
        original_event,
        error,
        failed_target: text(&context["functionArn"]).map(|arn| unqualified(&arn).to_owned()),
        request_id: text(&context["requestId"]),
    }
}

/// `arn:aws:lambda:r:a:function:name:$LATEST` → `arn:aws:lambda:r:a:function:name` (a version or alias qualifier
/// is the 8th field; the operator wants the function).
fn unqualified(arn: &str) -> &str {
    match arn.match_indices(':').nth(6) {
        Some((i, _)) if arn.starts_with("arn:") => &arn[..i],
        _ => arn,
    }
}

fn error_text(kind: Option<String>, message: Option<String>) -> Option<String> {
    match (kind, message) {
        (Some(k), Some(m)) => Some(format!("{k}: {m}")),
        (k, m) => k.or(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn an_invocation_record_gives_the_event_the_error_the_function_and_the_request_id() {
        let body = json!({
            "version": "1.0",
            "requestContext": {"requestId": "r-1", "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:Resize:$LATEST",
                "condition": "RetriesExhausted", "approximateInvokeCount": 3},
            "requestPayload": {"Records": [{"s3": {"object": {"key": "photos/a.jpg"}}}]},
            "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
            "responsePayload": {"errorType": "CorruptImage", "errorMessage": "not a JPEG"}
        })
        .to_string();
        let p = parse(&body, &[]);
        assert_eq!(
            p.original_event.as_ref().map(|e| &e["Records"][0]["s3"]["object"]["key"]),
            Some(&json!("photos/a.jpg"))
        );
        assert_eq!(p.error.as_deref(), Some("CorruptImage: not a JPEG"));
        assert_eq!(p.failed_target.as_deref(), Some("arn:aws:lambda:us-east-1:123456789012:function:Resize"));
        assert_eq!(p.request_id.as_deref(), Some("r-1"));
    }

    #[test]
    fn a_record_without_an_error_payload_falls_back_to_the_condition() {
        let body = json!({"requestContext": {"requestId": "r", "condition": "EventAgeExceeded"}, "requestPayload": {}});
        assert_eq!(parse(&body.to_string(), &[]).error.as_deref(), Some("EventAgeExceeded"));
    }

    #[test]
    fn a_stream_failure_record_shows_the_batch_it_names() {
        let body = json!({"requestContext": {"requestId": "r", "functionArn": "arn:aws:lambda:us-east-1:1:function:P",
            "condition": "RetryAttemptsExhausted"}, "DDBStreamBatchInfo": {"shardId": "s", "batchSize": 2}});
        let p = parse(&body.to_string(), &[]);
        assert_eq!(p.original_event, Some(json!({"DDBStreamBatchInfo": {"shardId": "s", "batchSize": 2}})));
        assert_eq!(p.error.as_deref(), Some("RetryAttemptsExhausted"));
    }

    #[test]
    fn an_eventbridge_dead_letter_takes_its_error_and_target_from_the_attributes() {
        let event = json!({"source": "task-platform", "detail-type": "TaskCompleted", "detail": {"id": "t"}});
        let a = attrs(&[
            ("RULE_ARN", "arn:aws:events:us-east-1:1:rule/bus/Done"),
            ("TARGET_ARN", "arn:aws:lambda:us-east-1:1:function:Notify"),
            ("ERROR_CODE", "SDK_CLIENT_ERROR"),
            ("ERROR_MESSAGE", "Unable to invoke"),
        ]);
        let p = parse(&event.to_string(), &a);
        assert_eq!(p.original_event, Some(event));
        assert_eq!(p.error.as_deref(), Some("SDK_CLIENT_ERROR: Unable to invoke"));
        assert_eq!(p.failed_target.as_deref(), Some("arn:aws:lambda:us-east-1:1:function:Notify"));
    }

    #[test]
    fn a_function_dead_letter_config_message_takes_the_request_id_from_its_attributes() {
        let a = attrs(&[("RequestID", "q-9"), ("ErrorCode", "200"), ("ErrorMessage", "boom")]);
        let p = parse("{\"a\":1}", &a);
        assert_eq!((p.request_id.as_deref(), p.error.as_deref()), (Some("q-9"), Some("200: boom")));
    }

    #[test]
    fn any_other_body_is_kept_as_is_and_never_panics() {
        assert_eq!(parse("not json", &[]), Parsed::default());
        assert_eq!(parse("[1]", &[]).original_event, Some(json!([1])));
        assert_eq!(parse("{\"requestContext\": 5}", &[]).original_event, Some(json!({"requestContext": 5})));
        assert_eq!(unqualified("arn:aws:lambda:r:a:function:f"), "arn:aws:lambda:r:a:function:f");
        assert_eq!(unqualified("nonsense:::::::"), "nonsense:::::::");
    }
}

//! Step Functions' own wire protocol, AWS JSON 1.0 (`POST /` with `X-Amz-Target: AWSStepFunctions.<Operation>`),
//! so `aws stepfunctions … --endpoint-url http://127.0.0.1:3000` and the SDKs drive the local stack's executions
//! unchanged. Errors answer as AWS does: HTTP 400 with `{"__type": "<Code>", "message": …}`; every kind of bad
//! request is a 400, never a 5xx.

use crate::{
    executions::{ExecutionError, ExecutionRecord, ExecutionStatus, StartRequest, StopReason},
    stack::Stack,
};
use axum::{body::Body, response::Response};
use http::{HeaderValue, StatusCode, header};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

pub const TARGET_HEADER: &str = "x-amz-target";
pub const TARGET_PREFIX: &str = "AWSStepFunctions.";
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";
/// The largest page a list operation returns, as on AWS.
const MAX_PAGE: i64 = 1000;

/// Why a request got no answer from an operation.
#[derive(Debug, thiserror::Error)]
enum ApiError {
    #[error(transparent)]
    Execution(#[from] ExecutionError),
    #[error("{0}")]
    Serialization(String),
    #[error("Unknown operation: {0}")]
    UnknownOperation(String),
}

impl ApiError {
    fn code(&self) -> &'static str {
        match self {
            Self::Execution(e) => e.code(),
            Self::Serialization(_) => "SerializationException",
            Self::UnknownOperation(_) => "UnknownOperationException",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::Execution(e) if !e.is_client_error() => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

fn respond(status: StatusCode, body: Value, request_id: &str) -> Response {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        r.headers_mut().insert("x-amzn-requestid", v);
    }
    r
}

/// Answers one Step Functions API call. `target` is the `X-Amz-Target` header's value.
pub async fn serve(stack: &Stack, method: &http::Method, target: &str, body: &[u8], request_id: &str) -> Response {
    let result = if method != http::Method::POST {
        Err(ApiError::Serialization(format!("the Step Functions API takes POST, not {method}")))
    } else {
        call(stack, target, body).await
    };
    match result {
        Ok(v) => respond(StatusCode::OK, v, request_id),
        Err(e) => {
            if e.status().is_server_error() {
                tracing::error!(requestId = %request_id, target, error = %e, "Step Functions API call failed");
            }
            respond(e.status(), json!({"__type": e.code(), "message": e.to_string()}), request_id)
        }
    }
}

fn parse<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, ApiError> {
    // An empty body is an empty request object, as botocore sends `{}` for operations without parameters.
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => {
            ApiError::Execution(ExecutionError::Validation(format!("1 validation error detected: {e}")))
        }
        _ => ApiError::Serialization(format!("the request body is not valid JSON: {e}")),
    })
}

fn epoch(t: OffsetDateTime) -> f64 {
    t.unix_timestamp_nanos() as f64 / 1e9
}

fn page_size(max_results: Option<i64>) -> Result<usize, ApiError> {
    match max_results.unwrap_or(0) {
        n @ 0..=MAX_PAGE => Ok(n as usize),
        n => Err(ExecutionError::Validation(format!(
            "1 validation error detected: maxResults {n} is not between 0 and {MAX_PAGE}"
        ))
        .into()),
    }
}

fn summary(r: &ExecutionRecord) -> Value {
    let mut v = json!({
        "executionArn": r.execution_arn,
        "stateMachineArn": r.state_machine_arn,
        "name": r.name,
        "status": r.status,
        "startDate": epoch(r.start_date),
    });
    if let Some(stop) = r.stop_date {
        v["stopDate"] = json!(epoch(stop));
    }
    v
}

fn description(r: &ExecutionRecord) -> Value {
    let mut v = summary(r);
    v["input"] = json!(r.input);
    v["inputDetails"] = json!({"included": true});
    if let Some(output) = &r.output {
        v["output"] = json!(output);
        v["outputDetails"] = json!({"included": true});
    }
    if let Some(error) = &r.error {
        v["error"] = json!(error);
    }
    if let Some(cause) = &r.cause {
        v["cause"] = json!(cause);
    }
    v
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartExecutionInput {
    state_machine_arn: String,
    name: Option<String>,
    input: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecutionArnInput {
    execution_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StopExecutionInput {
    execution_arn: String,
    error: Option<String>,
    cause: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListExecutionsInput {
    state_machine_arn: String,
    status_filter: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HistoryInput {
    execution_arn: String,
    #[serde(default)]
    reverse_order: bool,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StateMachineArnInput {
    state_machine_arn: String,
}

async fn call(stack: &Stack, target: &str, body: &[u8]) -> Result<Value, ApiError> {
    let executions = &stack.executions;
    let operation = target.strip_prefix(TARGET_PREFIX).ok_or_else(|| ApiError::UnknownOperation(target.to_owned()))?;
    Ok(match operation {
        "StartExecution" => {
            let i: StartExecutionInput = parse(body)?;
            let r = executions
                .start(StartRequest { state_machine_arn: i.state_machine_arn, name: i.name, input: i.input })
                .await?;
            json!({"executionArn": r.execution_arn, "startDate": epoch(r.start_date)})
        }
        "DescribeExecution" => description(&executions.describe(&parse::<ExecutionArnInput>(body)?.execution_arn)?),
        "StopExecution" => {
            let i: StopExecutionInput = parse(body)?;
            let r = executions.stop(&i.execution_arn, StopReason { error: i.error, cause: i.cause }).await?;
            json!({"stopDate": epoch(r.stop_date.unwrap_or_else(OffsetDateTime::now_utc))})
        }
        "ListExecutions" => {
            let i: ListExecutionsInput = parse(body)?;
            let status = match i.status_filter.as_deref() {
                None => None,
                Some(s) => Some(ExecutionStatus::parse(s).ok_or_else(|| {
                    ExecutionError::Validation(format!(
                        "1 validation error detected: statusFilter '{s}' is not one of RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED"
                    ))
                })?),
            };
            let page =
                executions.list(&i.state_machine_arn, status, page_size(i.max_results)?, i.next_token.as_deref())?;
            let mut v = json!({"executions": page.items.iter().map(summary).collect::<Vec<_>>()});
            if let Some(t) = page.next_token {
                v["nextToken"] = json!(t);
            }
            v
        }
        "GetExecutionHistory" => {
            let i: HistoryInput = parse(body)?;
            let page = executions.history(
                &i.execution_arn,
                i.reverse_order,
                page_size(i.max_results)?,
                i.next_token.as_deref(),
            )?;
            let mut v = json!({"events": page.items});
            if let Some(t) = page.next_token {
                v["nextToken"] = json!(t);
            }
            v
        }
        "ListStateMachines" => json!({
            "stateMachines": executions.machines().iter().map(|m| json!({
                "stateMachineArn": m.arn,
                "name": m.name,
                "type": "STANDARD",
                "creationDate": epoch(m.loaded_at),
            })).collect::<Vec<_>>()
        }),
        "DescribeStateMachine" => {
            let m = executions.machine(&parse::<StateMachineArnInput>(body)?.state_machine_arn)?;
            json!({
                "stateMachineArn": m.arn,
                "name": m.name,
                "status": "ACTIVE",
                "definition": m.definition,
                "roleArn": format!("arn:aws:iam::{}:role/local", crate::template::ACCOUNT),
                "type": "STANDARD",
                "creationDate": epoch(m.loaded_at),
                "loggingConfiguration": {"level": "OFF", "includeExecutionData": false},
            })
        }
        other => return Err(ApiError::UnknownOperation(other.to_owned())),
    })
}

//! Step Functions' own wire protocol, AWS JSON 1.0 (`POST /` with `X-Amz-Target: AWSStepFunctions.<Operation>`),
//! so `aws stepfunctions … --endpoint-url http://127.0.0.1:3000` and the SDKs drive the local stack's executions
//! unchanged. Errors answer as AWS does: HTTP 400 with `{"__type": "<Code>", "message": …}`; every kind of bad
//! request is a 400, never a 5xx. Errors are turned into AWS's answer in one place, [`ApiError`]'s [`AwsError`].

use crate::executions::{
    ExecutionError, ExecutionRecord, ExecutionStatus, Executions, RedriveStatus, StartRequest, StopReason,
};
use axum::{body::Body, extract::Request, response::Response};
use http::StatusCode;
use local_core::{
    BoxFuture,
    endpoint::{CallContext, Service, Signatures},
    protocol::{
        AwsError,
        json::{self, BodyError, JSON_1_0},
    },
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use time::OffsetDateTime;

pub const TARGET_PREFIX: &str = "AWSStepFunctions.";
pub const CONTENT_TYPE: &str = JSON_1_0;
/// The largest page a list operation returns, as on AWS.
const MAX_PAGE: i64 = 1000;
/// The largest request body read (StartExecution's input is at most 256 KiB; its JSON escaping can double it).
const MAX_BODY: usize = 1024 * 1024;

/// Why a request got no answer from an operation.
#[derive(Debug, thiserror::Error)]
enum ApiError {
    #[error(transparent)]
    Execution(#[from] ExecutionError),
    #[error(transparent)]
    Body(#[from] BodyError),
    #[error("Unknown operation: {0}")]
    UnknownOperation(String),
    #[error("the Step Functions API answers loopback callers only")]
    NotLoopback,
    #[error(
        "the Step Functions API answers requests addressed to localhost, 127.0.0.1 or [::1] only, not {}",
        .0.as_deref().map_or("a request without a Host".to_owned(), |h| format!("`{h}`"))
    )]
    ForeignHost(Option<String>),
    #[error("the Step Functions API takes POST, not {0}")]
    Method(String),
    #[error("the request body is over {MAX_BODY} bytes")]
    TooLarge,
}

impl AwsError for ApiError {
    fn code(&self) -> &str {
        match self {
            Self::Execution(e) => e.code(),
            Self::Body(e) => e.code(),
            Self::UnknownOperation(_) => "UnknownOperationException",
            Self::NotLoopback | Self::ForeignHost(_) => "AccessDeniedException",
            Self::Method(_) => "SerializationException",
            Self::TooLarge => "ValidationException",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::Execution(e) if !e.is_client_error() => StatusCode::INTERNAL_SERVER_ERROR,
            Self::NotLoopback | Self::ForeignHost(_) => StatusCode::FORBIDDEN,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// Step Functions' API over the stack's executions, as one service of the stack's endpoint.
pub struct StepFunctionsApi(pub Arc<Executions>);

impl Service for StepFunctionsApi {
    fn name(&self) -> &'static str {
        "states"
    }

    fn target_prefixes(&self) -> &'static [&'static str] {
        &[TARGET_PREFIX]
    }

    fn signing_names(&self) -> &'static [&'static str] {
        &["states"]
    }

    /// Unsigned calls are taken (from loopback only, see [`StepFunctionsApi::answer`]): `local executions` and
    /// scripts with plain HTTP drive executions; a signed call must carry a valid signature.
    fn signatures(&self) -> Signatures {
        Signatures::IfPresent
    }

    fn serve(&self, request: Request<Body>, ctx: CallContext) -> BoxFuture<'_, Response> {
        Box::pin(async move {
            let result = self.answer(request, &ctx).await;
            match result {
                Ok(v) => json::ok(CONTENT_TYPE, &v, &ctx.request_id),
                Err(e) => json::error(CONTENT_TYPE, None, &e, &ctx.request_id),
            }
        })
    }
}

impl StepFunctionsApi {
    async fn answer(&self, request: Request<Body>, ctx: &CallContext) -> Result<Value, ApiError> {
        // The Step Functions API has no authorizer (on AWS, IAM guards it): it may start executions whose Tasks
        // take a user id as input. So it answers this machine only, even when `--host` opens the task API wider.
        if !ctx.peer.ip().is_loopback() {
            return Err(ApiError::NotLoopback);
        }
        let (parts, body) = request.into_parts();
        // A loopback peer is not enough: a web page whose domain an attacker re-points at 127.0.0.1 (DNS
        // rebinding) makes the browser call here from loopback, but with the attacker's name as the Host.
        let host = local_core::endpoint::request_host(&parts.uri, &parts.headers);
        if !host.is_some_and(local_core::endpoint::is_loopback_host) {
            return Err(ApiError::ForeignHost(host.map(|h| h.chars().take(255).collect())));
        }
        if parts.method != http::Method::POST {
            return Err(ApiError::Method(parts.method.to_string()));
        }
        let target = local_core::endpoint::target(&parts.headers).unwrap_or_default().to_owned();
        let body = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| ApiError::TooLarge)?;
        call(&self.0, &target, &body).await
    }
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    Ok(json::parse(body)?)
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
    v["redriveCount"] = json!(r.redrive_count);
    if let Some(redriven) = r.redrive_date {
        v["redriveDate"] = json!(epoch(redriven));
    }
    v
}

fn description(r: &ExecutionRecord, redrive: &RedriveStatus) -> Value {
    let mut v = summary(r);
    v["redriveStatus"] = json!(redrive.as_str());
    if let Some(reason) = redrive.reason() {
        v["redriveStatusReason"] = json!(reason);
    }
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
struct RedriveExecutionInput {
    execution_arn: String,
    client_token: Option<String>,
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

async fn call(executions: &Executions, target: &str, body: &[u8]) -> Result<Value, ApiError> {
    let operation = target.strip_prefix(TARGET_PREFIX).ok_or_else(|| ApiError::UnknownOperation(target.to_owned()))?;
    Ok(match operation {
        "StartExecution" => {
            let i: StartExecutionInput = parse(body)?;
            let r = executions
                .start(StartRequest { state_machine_arn: i.state_machine_arn, name: i.name, input: i.input })
                .await?;
            json!({"executionArn": r.execution_arn, "startDate": epoch(r.start_date)})
        }
        "DescribeExecution" => {
            let r = executions.describe(&parse::<ExecutionArnInput>(body)?.execution_arn)?;
            description(&r, &executions.redrive_status(&r))
        }
        "StopExecution" => {
            let i: StopExecutionInput = parse(body)?;
            let r = executions.stop(&i.execution_arn, StopReason { error: i.error, cause: i.cause }).await?;
            json!({"stopDate": epoch(r.stop_date.unwrap_or_else(OffsetDateTime::now_utc))})
        }
        "RedriveExecution" => {
            let i: RedriveExecutionInput = parse(body)?;
            if i.client_token.as_ref().is_some_and(|t| t.is_empty() || t.len() > 64) {
                return Err(ExecutionError::Validation(
                    "1 validation error detected: clientToken must have 1 to 64 characters".into(),
                )
                .into());
            }
            let r = executions.redrive_with_token(&i.execution_arn, i.client_token.as_deref()).await?;
            json!({"redriveDate": epoch(r.redrive_date.unwrap_or_else(OffsetDateTime::now_utc))})
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
                "roleArn": executions.identity().role_arn("local").to_string(),
                "type": "STANDARD",
                "creationDate": epoch(m.loaded_at),
                "loggingConfiguration": {"level": "OFF", "includeExecutionData": false},
            })
        }
        other => return Err(ApiError::UnknownOperation(other.to_owned())),
    })
}

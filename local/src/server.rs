//! The one endpoint: every emulated service and the template's HTTP API on one port, as LocalStack serves its
//! services. A request goes to the service whose `X-Amz-Target` prefix it carries, else to the service named in its
//! SigV4 credential scope, else to the HTTP API's routes; so `AWS_ENDPOINT_URL=http://127.0.0.1:3000` is all a
//! client needs. Takes a bound listener and a shutdown future (as mini-redis does), so tests start the real server
//! in-process on port 0 and stop it cleanly.

use crate::stack::Stack;
use axum::{
    body::Body,
    extract::{ConnectInfo, Request, State},
    response::Response,
};
use local_core::{
    Credentials,
    endpoint::{self, CallContext, Service, Signatures},
    protocol::{AwsError, json},
    sigv4::{self, SigV4Error},
};
use std::{future::Future, net::SocketAddr, sync::Arc, time::Instant};
use tokio::net::TcpListener;

pub async fn run(
    listener: TcpListener,
    stack: Arc<Stack>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        stack.set_listening(addr);
    }
    let app = axum::Router::new().fallback(serve).with_state(stack);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

/// The service a request is for: by `X-Amz-Target`, else by the SigV4 credential scope; `None` for the HTTP API.
pub fn service_for<'a>(services: &'a [Arc<dyn Service>], request: &Request) -> Option<&'a Arc<dyn Service>> {
    if let Some(target) = endpoint::target(request.headers()) {
        return services.iter().find(|s| s.target_prefixes().iter().any(|p| target.starts_with(p)));
    }
    let scope = endpoint::signing_service(request.headers(), request.uri().query())?;
    services.iter().find(|s| s.signing_names().contains(&scope.as_str()))
}

async fn serve(State(stack): State<Arc<Stack>>, ConnectInfo(peer): ConnectInfo<SocketAddr>, req: Request) -> Response {
    let started = Instant::now();
    let ctx = CallContext { peer, request_id: uuid::Uuid::new_v4().to_string() };
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let (service, response) = match service_for(stack.services(), &req) {
        Some(service) => match authenticate(service.signatures(), stack.credentials(), req).await {
            Ok(req) => (service.name(), service.serve(req, ctx.clone()).await),
            Err(e) => (service.name(), json::error(json::JSON_1_0, None, &e, &ctx.request_id)),
        },
        None if endpoint::target(req.headers()).is_some() => {
            ("unknown", unknown_target(&ctx, endpoint::target(req.headers()).unwrap_or_default()))
        }
        None => ("http-api", stack.http_api().serve(req, &ctx).await),
    };
    tracing::info!(
        requestId = %ctx.request_id,
        service,
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        "http request"
    );
    response
}

/// A target no service of the stack answers: an AWS JSON error naming it, never the HTTP API's 404.
fn unknown_target(ctx: &CallContext, target: &str) -> Response {
    #[derive(Debug, thiserror::Error)]
    #[error("the local stack has no service for X-Amz-Target `{0}`")]
    struct UnknownTarget(String);
    impl local_core::protocol::AwsError for UnknownTarget {
        fn code(&self) -> &str {
            "UnknownOperationException"
        }
    }
    let e = UnknownTarget(target.chars().take(128).collect());
    local_core::protocol::json::error(local_core::protocol::json::JSON_1_0, None, &e, &ctx.request_id)
}

/// The most the front door reads of a body it must hash to check a signature (SES v2 raw messages are at most
/// 40 MB, base64 in JSON).
const MAX_SIGNED_BODY: usize = 64 * 1024 * 1024;

/// Why the front door refused a request before its service saw it.
#[derive(Debug, thiserror::Error)]
enum FrontDoorError {
    #[error(transparent)]
    Signature(#[from] SigV4Error),
    #[error("the request body is over {MAX_SIGNED_BODY} bytes")]
    TooLarge,
}

impl AwsError for FrontDoorError {
    fn code(&self) -> &str {
        match self {
            Self::Signature(e) => e.code(),
            Self::TooLarge => "RequestEntityTooLarge",
        }
    }

    fn status(&self) -> http::StatusCode {
        match self {
            Self::Signature(e) => e.status(),
            Self::TooLarge => http::StatusCode::PAYLOAD_TOO_LARGE,
        }
    }
}

/// Checks a request's SigV4 signature as the service's policy asks, handing the request on unchanged (its body
/// read into memory when it had to be hashed).
async fn authenticate(policy: Signatures, credentials: &Credentials, req: Request) -> Result<Request, FrontDoorError> {
    let signed = req.headers().contains_key(http::header::AUTHORIZATION);
    match policy {
        Signatures::ByService => return Ok(req),
        Signatures::IfPresent if !signed => return Ok(req),
        _ => {}
    }
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, MAX_SIGNED_BODY).await.map_err(|_| FrontDoorError::TooLarge)?;
    sigv4::verify(
        parts.method.as_str(),
        parts.uri.path(),
        parts.uri.query().unwrap_or(""),
        &parts.headers,
        &body,
        credentials,
        std::time::SystemTime::now(),
    )?;
    Ok(Request::from_parts(parts, Body::from(body)))
}

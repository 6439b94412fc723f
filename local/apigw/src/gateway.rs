//! The HTTP API, as API Gateway runs it: match the request to a route of the template, verify the JWT when the
//! route is guarded, turn the request into the payload-2.0 event AWS would send (claims included), invoke the
//! route's function, and turn its answer back into HTTP. Gateway-level failures answer as API Gateway does
//! (`{"message": "Not Found"}`, `{"message": "Unauthorized"}`, …).

use crate::{
    FunctionInvoker,
    auth::LocalIdp,
    openapi::{OpenApiDocument, OpenApiError},
    routes::{self, Matched, RouteError, RouteTable},
};
use axum::{
    body::{Body, Bytes},
    extract::Request,
    response::Response,
};
use base64::{Engine, engine::general_purpose::STANDARD};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use local_core::{Identity, endpoint::CallContext};
use local_template::Template;
use serde_json::{Map, Value, json};
use std::{collections::HashMap, net::SocketAddr, path::Path, sync::Arc};

/// API Gateway's own payload limit; the functions apply their tighter ones.
pub const MAX_PAYLOAD_BYTES: usize = 10 * 1024 * 1024;

pub fn gateway_error(status: StatusCode, message: &str, request_id: &str) -> Response {
    let mut r = Response::new(Body::from(json!({"message": message}).to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        r.headers_mut().insert("apigw-requestid", v);
    }
    r
}

/// Why the HTTP API cannot start.
#[derive(Debug, thiserror::Error)]
pub enum HttpApiError {
    #[error(transparent)]
    Routes(#[from] RouteError),
    #[error("the token-signing key under {}: {source}", path.display())]
    Key { path: std::path::PathBuf, source: std::io::Error },
    #[error("the API's OpenAPI document {0}")]
    OpenApi(#[from] OpenApiError),
}

/// The template's HTTP API: its routes, its authorizer, and the functions behind them.
pub struct HttpApi {
    routes: RouteTable,
    idp: Option<LocalIdp>,
    identity: Identity,
    functions: Arc<dyn FunctionInvoker>,
    /// `openapi.yaml` beside the template, as JSON (see [`crate::openapi`]).
    openapi: Option<OpenApiDocument>,
}

impl HttpApi {
    /// The API the template declares, with the identity provider's key kept under `data_dir`.
    pub fn from_template(
        template: &Template,
        data_dir: &Path,
        functions: Arc<dyn FunctionInvoker>,
    ) -> Result<Self, HttpApiError> {
        let routes = RouteTable::new(&routes::function_routes(template).map_err(RouteError::from)?)?;
        let idp = match routes::authorizer(template).map_err(RouteError::from)? {
            Some(a) => Some(
                LocalIdp::open(data_dir, a)
                    .map_err(|source| HttpApiError::Key { path: data_dir.to_owned(), source })?,
            ),
            None => None,
        };
        let openapi = OpenApiDocument::beside(template.dir())?;
        Ok(Self { routes, idp, identity: template.identity().clone(), functions, openapi })
    }

    pub fn routes(&self) -> &RouteTable {
        &self.routes
    }

    /// The local identity provider, when the API has a JWT authorizer.
    pub fn idp(&self) -> Option<&LocalIdp> {
        self.idp.as_ref()
    }

    /// Answers one request as API Gateway would.
    pub async fn serve(&self, req: Request, ctx: &CallContext) -> Response {
        let request_id = ctx.request_id.as_str();
        let (parts, body) = req.into_parts();
        let Some(matched) = self.routes.find(parts.method.as_str(), parts.uri.path()) else {
            // Only where no template route matches, so the document can never shadow one.
            if let Some(doc) = &self.openapi
                && OpenApiDocument::is_request_for(&parts.method, parts.uri.path())
            {
                return doc.response(request_id);
            }
            return gateway_error(StatusCode::NOT_FOUND, "Not Found", request_id);
        };
        if let Some(name) = unreadable_gateway_header(&parts.headers) {
            tracing::info!(requestId = %request_id, header = %name, "a header the gateway reads is not text");
            return gateway_error(StatusCode::BAD_REQUEST, "Bad Request", request_id);
        }
        let claims = if matched.entry.route.authorized {
            let Some(idp) = &self.idp else {
                return gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error", request_id);
            };
            let auth = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
            match idp.verify(auth) {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::info!(requestId = %request_id, reason = %e, "authorizer refused the request");
                    return gateway_error(StatusCode::UNAUTHORIZED, "Unauthorized", request_id);
                }
            }
        } else {
            None
        };
        let body = match axum::body::to_bytes(body, MAX_PAYLOAD_BYTES).await {
            Ok(b) => b,
            Err(_) => return gateway_error(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large", request_id),
        };
        let event = http_event(&self.identity, &parts, &body, &matched, claims, ctx.peer, request_id);
        match self.functions.invoke(&matched.entry.function, request_id, event).await {
            Ok(result) => into_response(result, request_id),
            Err(_) => gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error", request_id),
        }
    }
}

/// The first header the gateway itself relies on (`Authorization` for the authorizer, `Content-Type` for whether
/// the body goes to the function as text or base64) that is present but not visible ASCII. Taking such a header
/// for absent would make the gateway decide on something the client did not send, so the request is refused.
fn unreadable_gateway_header(headers: &HeaderMap) -> Option<http::HeaderName> {
    [header::AUTHORIZATION, header::CONTENT_TYPE]
        .into_iter()
        .find(|name| headers.get_all(name).iter().any(|v| v.to_str().is_err()))
}

/// The payload-2.0 event API Gateway sends for this request.
pub fn http_event(
    identity: &Identity,
    parts: &http::request::Parts,
    body: &Bytes,
    matched: &Matched<'_>,
    claims: Option<HashMap<String, String>>,
    peer: SocketAddr,
    request_id: &str,
) -> Value {
    let mut headers = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in &parts.headers {
        // Bytes outside visible ASCII are passed on, as API Gateway passes them, not dropped: a handler must see
        // that an `If-Match` it cannot read was sent (and refuse it), not take the write for unconditional.
        let value = String::from_utf8_lossy(value.as_bytes());
        let value = value.as_ref();
        if name == header::COOKIE {
            cookies.extend(value.split(';').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()));
            continue;
        }
        match headers.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(value);
            }
            _ => {
                headers.insert(name.as_str().to_owned(), Value::String(value.to_owned()));
            }
        }
    }
    let raw_query = parts.uri.query().unwrap_or("");
    let mut query: Map<String, Value> = Map::new();
    for (k, v) in form_urlencoded::parse(raw_query.as_bytes()) {
        match query.get_mut(k.as_ref()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                query.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        }
    }
    let now = time::OffsetDateTime::now_utc();
    let route_key = matched.entry.route.key();
    let route_key = if matched.entry.route.path == "$default" { "$default".to_owned() } else { route_key };
    let host = parts.headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost").to_owned();
    let textual = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_none_or(|ct| {
        ct.starts_with("text/") || ct.contains("json") || ct.contains("xml") || ct.contains("x-www-form-urlencoded")
    });
    let (body_value, base64) = match std::str::from_utf8(body) {
        _ if body.is_empty() => (Value::Null, false),
        Ok(text) if textual => (Value::String(text.to_owned()), false),
        _ => (Value::String(STANDARD.encode(body)), true),
    };
    let mut context = json!({
        "accountId": identity.account,
        "apiId": "local",
        "domainName": host,
        "domainPrefix": host.split('.').next().unwrap_or(&host),
        "http": {
            "method": parts.method.as_str(),
            "path": parts.uri.path(),
            "protocol": format!("{:?}", parts.version),
            "sourceIp": peer.ip().to_string(),
            "userAgent": parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or(""),
        },
        "requestId": request_id,
        "routeKey": route_key,
        "stage": "$default",
        "time": now.format(time::macros::format_description!("[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000")).unwrap_or_default(),
        "timeEpoch": now.unix_timestamp_nanos() / 1_000_000,
    });
    if let Some(claims) = claims {
        context["authorizer"] = json!({"jwt": {"claims": claims, "scopes": null}});
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": parts.uri.path(),
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": base64,
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !query.is_empty() {
        event["queryStringParameters"] = Value::Object(query);
    }
    if !matched.params.is_empty() {
        event["pathParameters"] = Value::Object(matched.params.iter().map(|(k, v)| (k.clone(), json!(v))).collect());
    }
    if !body_value.is_null() {
        event["body"] = body_value;
    }
    event
}

/// A function's answer as HTTP. A structured answer (`statusCode`, …) is used as it is; anything else is, as on
/// AWS, a `200` JSON body.
pub fn into_response(result: Value, request_id: &str) -> Response {
    let structured = result.as_object().filter(|o| o.contains_key("statusCode"));
    let Some(o) = structured else {
        let mut r = Response::new(Body::from(result.to_string()));
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        return r;
    };
    let Some(status) = o["statusCode"].as_u64().and_then(|s| StatusCode::from_u16(s as u16).ok()) else {
        return gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error", request_id);
    };
    let body = match o.get("body") {
        Some(Value::String(b)) if o.get("isBase64Encoded") == Some(&Value::Bool(true)) => match STANDARD.decode(b) {
            Ok(bytes) => Body::from(bytes),
            Err(_) => return gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error", request_id),
        },
        Some(Value::String(b)) => Body::from(b.clone()),
        _ => Body::empty(),
    };
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let h: &mut HeaderMap = r.headers_mut();
    if let Some(Value::Object(headers)) = o.get("headers") {
        for (k, v) in headers {
            if let (Ok(name), Some(Ok(value))) =
                (http::HeaderName::from_bytes(k.as_bytes()), v.as_str().map(HeaderValue::from_str))
            {
                h.insert(name, value);
            }
        }
    }
    if let Some(Value::Object(headers)) = o.get("multiValueHeaders") {
        for (k, vs) in headers {
            let Ok(name) = http::HeaderName::from_bytes(k.as_bytes()) else { continue };
            for v in vs.as_array().into_iter().flatten().filter_map(Value::as_str) {
                if let Ok(value) = HeaderValue::from_str(v) {
                    h.append(name.clone(), value);
                }
            }
        }
    }
    for c in o.get("cookies").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        if let Ok(value) = HeaderValue::from_str(c) {
            h.append(header::SET_COOKIE, value);
        }
    }
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("apigw-requestid", v);
    }
    r
}

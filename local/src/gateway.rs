//! The HTTP API, as API Gateway runs it: match the request to a route of the template, verify the JWT when the
//! route is guarded, turn the request into the payload-2.0 event AWS would send (claims included), invoke the
//! route's function, and turn its answer back into HTTP. Gateway-level failures answer as API Gateway does
//! (`{"message": "Not Found"}`, `{"message": "Unauthorized"}`, …). Requests with an `X-Amz-Target` header are Step
//! Functions API calls and go to [`crate::sfn_api`] before any route is matched.

use crate::{sfn_api, stack::Stack, template::{Route, Template}};
use axum::{
    body::{Body, Bytes},
    extract::{ConnectInfo, Request, State},
    response::Response,
};
use base64::{Engine, engine::general_purpose::STANDARD};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::{Map, Value, json};
use std::{collections::HashMap, net::SocketAddr, sync::Arc, time::Instant};

/// API Gateway's own payload limit; the functions apply their tighter ones.
pub const MAX_PAYLOAD_BYTES: usize = 10 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    Greedy(String),
}

#[derive(Debug, Clone)]
pub struct RouteEntry {
    pub route: Route,
    pub function: String,
    segments: Option<Vec<Segment>>, // None for `$default`
}

/// The template's routes, matched the way API Gateway does: literal segments beat `{param}`, `{param}` beats
/// `{proxy+}`, an exact method beats `ANY`, and `$default` catches what nothing else does.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    pub entries: Vec<RouteEntry>,
}

pub struct Matched<'a> {
    pub entry: &'a RouteEntry,
    pub params: Vec<(String, String)>,
}

impl RouteTable {
    pub fn new(template: &Template) -> Result<Self, String> {
        let mut entries: Vec<RouteEntry> = Vec::new();
        for f in &template.functions {
            for r in &f.routes {
                if let Some(other) = entries.iter().find(|e| e.route.key() == r.key()) {
                    return Err(format!("route `{}` is declared by both {} and {}", r.key(), other.function, f.logical_id));
                }
                let segments = if r.path == "$default" {
                    None
                } else {
                    Some(
                        r.path
                            .trim_start_matches('/')
                            .split('/')
                            .filter(|s| !s.is_empty())
                            .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                                Some(p) if p.ends_with('+') => Segment::Greedy(p.trim_end_matches('+').to_owned()),
                                Some(p) => Segment::Param(p.to_owned()),
                                None => Segment::Literal(s.to_owned()),
                            })
                            .collect(),
                    )
                };
                entries.push(RouteEntry { route: r.clone(), function: f.logical_id.clone(), segments });
            }
        }
        Ok(Self { entries })
    }

    pub fn find(&self, method: &str, path: &str) -> Option<Matched<'_>> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').filter(|s| !s.is_empty()).collect();
        let mut best: Option<((u8, usize, usize, u8), Matched<'_>)> = None;
        for e in &self.entries {
            let method_score = if e.route.method == method {
                1
            } else if e.route.method == "ANY" {
                0
            } else {
                continue;
            };
            let (score, params) = match &e.segments {
                None => ((0, 0, 0, method_score), Vec::new()),
                Some(segs) => match match_segments(segs, &parts) {
                    Some(SegmentMatch { literals, greedy, params }) => {
                        ((if greedy { 1 } else { 2 }, literals, segs.len(), method_score), params)
                    }
                    None => continue,
                },
            };
            if best.as_ref().is_none_or(|(s, _)| score > *s) {
                best = Some((score, Matched { entry: e, params }));
            }
        }
        best.map(|(_, m)| m)
    }
}

/// How a path matched a route's segments: what the route's specificity is judged by, and the parameters.
struct SegmentMatch {
    literals: usize,
    greedy: bool,
    params: Vec<(String, String)>,
}

fn match_segments(segs: &[Segment], parts: &[&str]) -> Option<SegmentMatch> {
    let mut params = Vec::new();
    let mut literals = 0;
    for (i, seg) in segs.iter().enumerate() {
        match seg {
            Segment::Greedy(name) => {
                if i >= parts.len() {
                    return None;
                }
                params.push((name.clone(), parts[i..].join("/")));
                return Some(SegmentMatch { literals, greedy: true, params });
            }
            _ if i >= parts.len() => return None,
            Segment::Literal(l) if l == parts[i] => literals += 1,
            Segment::Literal(_) => return None,
            Segment::Param(name) => params.push((name.clone(), percent_decode(parts[i]))),
        }
    }
    (segs.len() == parts.len()).then_some(SegmentMatch { literals, greedy: false, params })
}

fn percent_decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

pub fn router(stack: Arc<Stack>) -> axum::Router {
    axum::Router::new().fallback(serve).with_state(stack)
}

fn gateway_error(status: StatusCode, message: &str, request_id: &str) -> Response {
    let mut r = Response::new(Body::from(json!({"message": message}).to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        r.headers_mut().insert("apigw-requestid", v);
    }
    r
}

async fn serve(State(stack): State<Arc<Stack>>, ConnectInfo(peer): ConnectInfo<SocketAddr>, req: Request) -> Response {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let response = route(&stack, peer, req, &request_id).await;
    tracing::info!(
        requestId = %request_id,
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        "http request"
    );
    response
}

async fn route(stack: &Stack, peer: SocketAddr, req: Request, request_id: &str) -> Response {
    let (parts, body) = req.into_parts();
    // Step Functions' API shares the port; its calls carry a target header the task API never sends.
    if let Some(target) = parts.headers.get(sfn_api::TARGET_HEADER) {
        // The Step Functions API has no authorizer (on AWS, IAM guards it): it may start executions whose Tasks
        // take a user id as input. So it answers this machine only, even when `--host` opens the task API wider.
        if !peer.ip().is_loopback() {
            let mut r = Response::new(Body::from(
                json!({"__type": "AccessDeniedException", "message": "the Step Functions API answers loopback callers only"}).to_string(),
            ));
            *r.status_mut() = StatusCode::FORBIDDEN;
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-amz-json-1.0"));
            return r;
        }
        let target = target.to_str().unwrap_or_default().to_owned();
        return match axum::body::to_bytes(body, MAX_PAYLOAD_BYTES).await {
            Ok(body) => sfn_api::serve(stack, &parts.method, &target, &body, request_id).await,
            Err(_) => gateway_error(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large", request_id),
        };
    }
    let Some(matched) = stack.routes.find(parts.method.as_str(), parts.uri.path()) else {
        return gateway_error(StatusCode::NOT_FOUND, "Not Found", request_id);
    };
    let claims = if matched.entry.route.authorized {
        let Some(idp) = &stack.idp else {
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
    let event = http_event(&parts, &body, &matched, claims, peer, request_id);
    match stack.invoke(&matched.entry.function, request_id, event).await {
        Ok(result) => into_response(result, request_id),
        Err(_) => gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error", request_id),
    }
}

/// The payload-2.0 event API Gateway sends for this request.
pub fn http_event(
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
        let Ok(value) = value.to_str() else { continue };
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
    let textual = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|ct| ct.starts_with("text/") || ct.contains("json") || ct.contains("xml") || ct.contains("x-www-form-urlencoded"));
    let (body_value, base64) = match std::str::from_utf8(body) {
        _ if body.is_empty() => (Value::Null, false),
        Ok(text) if textual => (Value::String(text.to_owned()), false),
        _ => (Value::String(STANDARD.encode(body)), true),
    };
    let mut context = json!({
        "accountId": crate::template::ACCOUNT,
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
            if let (Ok(name), Some(Ok(value))) = (http::HeaderName::from_bytes(k.as_bytes()), v.as_str().map(HeaderValue::from_str)) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{Function, Template};

    fn table(routes: &[(&str, &str)]) -> RouteTable {
        let functions = routes
            .iter()
            .enumerate()
            .map(|(i, (m, p))| Function {
                logical_id: format!("F{i}"),
                binary: "x".into(),
                env: Default::default(),
                routes: vec![Route { method: (*m).into(), path: (*p).into(), authorized: true }],
            })
            .collect();
        let t = Template { functions, authorizer: None, tables: Default::default(), state_machines: Vec::new(), resources: Default::default() };
        RouteTable::new(&t).unwrap()
    }

    #[test]
    fn literal_segments_beat_parameters_and_parameters_beat_greedy_paths() {
        let t = table(&[("GET", "/tasks/{id}"), ("GET", "/tasks/stats"), ("ANY", "/{proxy+}"), ("GET", "/tasks")]);
        assert_eq!(t.find("GET", "/tasks/stats").unwrap().entry.function, "F1");
        let m = t.find("GET", "/tasks/01ABC").unwrap();
        assert_eq!((m.entry.function.as_str(), m.params.clone()), ("F0", vec![("id".to_owned(), "01ABC".to_owned())]));
        assert_eq!(t.find("GET", "/tasks").unwrap().entry.function, "F3");
        assert_eq!(t.find("DELETE", "/tasks/1").unwrap().entry.function, "F2");
        assert_eq!(t.find("GET", "/other/a/b").unwrap().params, vec![("proxy".to_owned(), "other/a/b".to_owned())]);
    }

    #[test]
    fn a_method_the_route_does_not_declare_does_not_match() {
        let t = table(&[("GET", "/tasks")]);
        assert!(t.find("POST", "/tasks").is_none());
        assert!(t.find("GET", "/tasks/x/y").is_none());
    }
}

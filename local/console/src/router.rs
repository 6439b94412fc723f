//! The console's routes, all under `/_console`, and the layers every page shares: the error page rendered in the
//! layout, the security headers (a CSP that allows no external resource and no inline script), and the
//! same-origin check on POSTs. Handlers live in [`crate::pages`]; this file only says which path goes where.

use crate::{
    error::{ErrorPage, PageError},
    html::{self, Nav},
    pages,
    source::{ConsoleSource, ExecutionChange},
};
use axum::{
    Router,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{
        Html, IntoResponse, Redirect, Response,
        sse::{Event, KeepAlive, Sse},
    },
    routing::{any, get, post},
};
use futures::Stream;
use std::{convert::Infallible, sync::Arc, time::Duration};
use tokio::sync::broadcast::{self, error::RecvError};

/// What every handler gets: the port.
#[derive(Clone)]
pub struct App {
    pub source: Arc<dyn ConsoleSource>,
}

impl App {
    pub fn page(&self, nav: Nav, title: &str, body: &str) -> Response {
        Html(html::layout(&*self.source, nav, title, body)).into_response()
    }
}

pub const CSP: &str =
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-src 'self'; script-src 'self'";

const CONSOLE_CSS: &str = include_str!("assets/console.css");
const CONSOLE_JS: &str = include_str!("assets/console.js");

/// The console's pages, to be merged into a stack's router (it adds no fallback of its own: unknown paths under
/// `/_console/` are answered by a catch-all route, so merging cannot clash with the host's fallback).
pub fn router(source: Arc<dyn ConsoleSource>) -> Router {
    let app = App { source };
    let posts = Router::new()
        .route("/_console/executions/{arn}/stop", post(pages::execution::stop))
        .route("/_console/executions/{arn}/redrive", post(pages::execution::redrive))
        .route("/_console/dead-letters/redrive", post(pages::dead_letters::redrive))
        .route_layer(middleware::from_fn(same_origin));
    Router::new()
        .route("/_console", get(|| async { Redirect::permanent("/_console/") }))
        .route("/_console/", get(pages::executions::page))
        .route("/_console/events", get(events))
        .route("/_console/executions/{arn}", get(pages::execution::page))
        .route("/_console/pipelines", get(pages::pipelines::page))
        .route("/_console/dead-letters", get(pages::dead_letters::page))
        .route("/_console/mail", get(pages::mail::list))
        .route("/_console/mail/{id}", get(pages::mail::message))
        .route("/_console/mail/{id}/raw", get(pages::mail::raw))
        .route("/_console/mail/{id}/attachments/{n}", get(pages::mail::attachment))
        .route("/_console/cost", get(pages::cost::page))
        .route("/_console/logs/{request_id}", get(pages::logs::page))
        .route("/_console/assets/console.css", get(css))
        .route("/_console/assets/console.js", get(js))
        .route("/_console/{*rest}", any(not_found))
        .merge(posts)
        .layer(middleware::from_fn_with_state(app.clone(), finish))
        .with_state(app)
}

async fn not_found() -> PageError {
    PageError::NotFound("There is no such page in the console.".to_owned())
}

/// Renders error pages inside the layout, and sets the headers every response of the console carries.
async fn finish(State(app): State<App>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    if let Some(page) = res.extensions_mut().remove::<ErrorPage>() {
        let headers = std::mem::take(res.headers_mut());
        res = (page.status, app.page(Nav::None, &page.title(), &page.body())).into_response();
        for name in [header::ALLOW, header::LOCATION] {
            if let Some(v) = headers.get(&name) {
                res.headers_mut().insert(name, v.clone());
            }
        }
    }
    let h = res.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

/// Refuses POSTs from other sites: the browser says where a request comes from (`Sec-Fetch-Site`, `Origin`), and
/// only the console's own pages (or a tool that sends neither, like curl) may stop or redrive.
async fn same_origin(req: Request, next: Next) -> Response {
    match check_same_origin(req.headers()) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

fn check_same_origin(headers: &HeaderMap) -> Result<(), PageError> {
    let refuse = |why: &str| Err(PageError::Forbidden(format!("Cross-site request refused: {why}.")));
    if let Some(site) = headers.get("sec-fetch-site") {
        match site.to_str() {
            Ok("same-origin" | "none") => {}
            _ => return refuse("the browser says it comes from another site"),
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let origin = origin.to_str().ok();
        let matches = match (origin, host) {
            (Some(origin), Some(host)) => origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
                .is_some_and(|o| o.eq_ignore_ascii_case(host)),
            _ => false,
        };
        if !matches {
            return refuse("its Origin is not this console");
        }
    }
    Ok(())
}

async fn css() -> Response {
    static CSS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let css = CSS.get_or_init(|| format!("{CONSOLE_CSS}\n/* graph */\n{}", crate::graph::GRAPH_CSS));
    asset("text/css; charset=utf-8", css.as_str())
}

async fn js() -> Response {
    asset("text/javascript; charset=utf-8", CONSOLE_JS)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=300, must-revalidate")], body)
        .into_response()
}

/// Server-sent events: each execution that starts or ends, as `event: execution` with the change as JSON. A
/// source that cannot push answers 204, which tells `EventSource` not to reconnect (the page polls instead).
async fn events(State(app): State<App>) -> Response {
    match app.source.subscribe() {
        Some(rx) => {
            Sse::new(changes(rx)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response()
        }
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

fn changes(rx: broadcast::Receiver<ExecutionChange>) -> impl Stream<Item = Result<Event, Infallible>> {
    futures::stream::unfold(rx, |mut rx| async move {
        match rx.recv().await {
            Ok(change) => {
                let data = serde_json::to_string(&change).unwrap_or_default();
                Some((Ok(Event::default().event("execution").data(data)), rx))
            }
            // Missed changes: the page reloads its rows rather than show a partial list.
            Err(RecvError::Lagged(n)) => Some((Ok(Event::default().event("lagged").data(n.to_string())), rx)),
            Err(RecvError::Closed) => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn posts_without_browser_headers_are_allowed() {
        assert!(check_same_origin(&headers(&[("host", "127.0.0.1:3000")])).is_ok());
    }

    #[test]
    fn same_origin_posts_are_allowed() {
        let h = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3000"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert!(check_same_origin(&h).is_ok());
    }

    #[test]
    fn cross_site_posts_are_refused_by_fetch_metadata_or_origin() {
        assert!(check_same_origin(&headers(&[("host", "a:1"), ("sec-fetch-site", "cross-site")])).is_err());
        assert!(check_same_origin(&headers(&[("host", "a:1"), ("sec-fetch-site", "same-site")])).is_err());
        assert!(check_same_origin(&headers(&[("host", "a:1"), ("origin", "http://evil.example")])).is_err());
        assert!(check_same_origin(&headers(&[("host", "a:1"), ("origin", "null")])).is_err());
        assert!(check_same_origin(&headers(&[("origin", "http://a:1")])).is_err());
    }
}

//! The log lines of one request id, oldest first: time, level (coloured), function and message, with the whole
//! JSON line in a `<details>`. Lines come as the functions write them (Powertools-style or `tracing` JSON), so the
//! usual fields are looked up under both spellings.

use crate::{
    error::PageError,
    html::{Nav, esc, pretty_json},
    router::App,
};
use axum::{
    extract::{Path, State},
    response::Response,
};
use serde_json::Value;
use std::fmt::Write as _;

fn text<'a>(line: &'a Value, paths: &[&[&str]]) -> Option<&'a str> {
    paths.iter().find_map(|path| path.iter().try_fold(line, |v, k| v.get(*k)).and_then(Value::as_str))
}

fn display(line: &Value, paths: &[&[&str]]) -> String {
    paths
        .iter()
        .find_map(|path| path.iter().try_fold(line, |v, k| v.get(*k)))
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .unwrap_or_default()
}

pub async fn page(State(app): State<App>, Path(request_id): Path<String>) -> Result<Response, PageError> {
    let lines = app.source.logs(&request_id).await?;
    let mut body = String::with_capacity(lines.len() * 512 + 1024);
    let _ = write!(
        body,
        "<p class=\"note\">Request <code id=\"request-id\">{}</code>: {} log lines.</p><table id=\"logs\" class=\"list\">\
         <thead><tr><th>Time</th><th>Level</th><th>Function</th><th>Message</th><th>Line</th></tr></thead><tbody>",
        esc(&request_id),
        lines.len()
    );
    for line in &lines {
        let level = text(line, &[&["level"], &["levelname"], &["severity"]]).unwrap_or("").to_ascii_uppercase();
        let level_class = match level.as_str() {
            "ERROR" | "FATAL" | "CRITICAL" => "error",
            "WARN" | "WARNING" => "warn",
            "DEBUG" | "TRACE" => "debug",
            _ => "info",
        };
        let _ = write!(
            body,
            "<tr class=\"log level-{level_class}\"><td class=\"time\">{time}</td><td><span class=\"level\">{level}</span></td>\
             <td class=\"function\">{function}</td><td class=\"message\">{message}</td>\
             <td><details><summary>json</summary><pre class=\"json\">{json}</pre></details></td></tr>",
            time = esc(&display(line, &[&["timestamp"], &["time"]])),
            level = esc(&level),
            // The invocation span's `function` (the local stack's lines carry it there) before the line's own target.
            function = esc(&display(
                line,
                &[&["function_name"], &["function"], &["span", "function"], &["service"], &["target"]],
            )),
            message = esc(&display(line, &[&["message"], &["fields", "message"], &["msg"]])),
            json = esc(&pretty_json(line)),
        );
    }
    body.push_str("</tbody></table>");
    if lines.is_empty() {
        body.push_str("<p class=\"empty\">No lines for this request id (the local stack keeps only recent lines).</p>");
    }
    Ok(app.page(Nav::None, "Logs", &body))
}

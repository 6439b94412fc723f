//! One execution's page: its header, the state machine drawn with what happened in each state (`crate::graph`), a
//! side panel that `console.js` fills from the runs embedded as JSON, the event history, and the Stop and Redrive
//! forms, whose POST handlers answer 303 back to the page with a flash message.

use super::Params;
use crate::{
    error::PageError,
    graph::{self, Outcome},
    html::{
        self, BASE, Nav, esc, execution_duration, execution_href, fmt_duration, pretty_json, pretty_json_text,
        script_json, status_badge, time_el,
    },
    router::App,
    source::{ExecutionDetail, Status},
};
use axum::{
    Form,
    extract::{Path, RawQuery, State, rejection::FormRejection},
    response::{Redirect, Response},
};
use serde::Deserialize;
use serde_json::Value;
use std::{collections::HashMap, fmt::Write as _};

/// The outcomes the graph colours states by, in the legend's order.
const LEGEND: [Outcome; 6] =
    [Outcome::Succeeded, Outcome::Retried, Outcome::Caught, Outcome::Failed, Outcome::Running, Outcome::NotReached];

pub async fn page(
    State(app): State<App>,
    Path(arn): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let params = Params::parse(raw.as_deref());
    let detail = app.source.execution(&arn).await?;
    let body = render(&detail, params.get("done"));
    Ok(app.page(Nav::Executions, &format!("Execution {}", detail.summary.name), &body))
}

fn render(detail: &ExecutionDetail, done: Option<&str>) -> String {
    let s = &detail.summary;
    let mut body = String::with_capacity(32 * 1024);
    body.push_str(&html::flash(match done {
        Some("stopped") => Some("Execution stopped."),
        Some("redriven") => Some("Execution redriven: it runs again from the states that did not succeed."),
        _ => None,
    }));

    let _ = write!(
        body,
        "<section id=\"execution-header\" data-arn=\"{arn}\" data-status=\"{status}\"><dl class=\"facts\">\
         <dt>Status</dt><dd id=\"execution-status\">{badge}</dd>\
         <dt>State machine</dt><dd id=\"execution-machine\"><a href=\"{machine_href}\">{machine}</a></dd>\
         <dt>ARN</dt><dd id=\"execution-arn\"><code>{arn}</code></dd>\
         <dt>Started</dt><dd id=\"execution-start\">{start}</dd>\
         <dt>Stopped</dt><dd id=\"execution-stop\">{stop}</dd>\
         <dt>Duration</dt><dd id=\"execution-duration\">{duration}</dd>\
         <dt>Redrives</dt><dd id=\"redrive-count\">{redrives}</dd>",
        arn = esc(&s.arn),
        status = s.status.as_str(),
        badge = status_badge(s.status),
        machine_href = esc(&format!("{BASE}/{}", html::query([("machine", s.machine_arn.as_str())]))),
        machine = esc(&s.machine_name),
        start = time_el(s.start_date),
        stop = s.stop_date.map(time_el).unwrap_or_else(|| "—".to_owned()),
        duration = esc(&execution_duration(s.start_date, s.stop_date)),
        redrives = s.redrive_count,
    );
    if let Some(error) = &s.error {
        let _ = write!(body, "<dt>Error</dt><dd id=\"execution-error\" class=\"error-name\">{}</dd>", esc(error));
    }
    if let Some(cause) = &s.cause {
        let _ = write!(body, "<dt>Cause</dt><dd><pre id=\"execution-cause\" class=\"cause\">{}</pre></dd>", esc(cause));
    }
    body.push_str("</dl>");

    body.push_str("<div id=\"actions\" class=\"actions\">");
    let target = esc(&execution_href(&s.arn)).to_string();
    if s.status == Status::Running {
        let _ = write!(
            body,
            "<form id=\"stop-form\" method=\"post\" action=\"{target}/stop\">\
             <input type=\"hidden\" name=\"cause\" value=\"Stopped from the console\">\
             <button id=\"stop\" class=\"danger\" type=\"submit\">Stop</button></form>"
        );
    }
    if matches!(s.status, Status::Failed | Status::TimedOut | Status::Aborted) {
        let _ = write!(
            body,
            "<form id=\"redrive-form\" method=\"post\" action=\"{target}/redrive\">\
             <button id=\"redrive\" type=\"submit\">Redrive</button></form>"
        );
    }
    body.push_str("</div></section>");

    graph_section(&mut body, detail);

    body.push_str("<section id=\"io\"><h2>Input and output</h2>");
    for (id, label, text) in
        [("execution-input", "Input", &detail.input), ("execution-output", "Output", &detail.output)]
    {
        match text {
            Some(text) => {
                let _ = write!(
                    body,
                    "<details id=\"{id}\" open><summary>{label}</summary><pre class=\"json\">{}</pre></details>",
                    esc(&pretty_json_text(text))
                );
            }
            None => {
                let _ = write!(body, "<p id=\"{id}\" class=\"muted\">{label}: none</p>");
            }
        }
    }
    body.push_str("</section>");

    history_section(&mut body, &detail.history);
    body
}

fn graph_section(body: &mut String, detail: &ExecutionDetail) {
    body.push_str("<section id=\"graph-section\"><h2>Graph</h2><ul id=\"legend\" class=\"legend\">");
    for outcome in LEGEND {
        let _ = write!(
            body,
            "<li data-outcome=\"{0}\"><span class=\"swatch outcome-{0}\"></span>{1}</li>",
            outcome.class(),
            outcome.label()
        );
    }
    body.push_str("</ul><div class=\"graph-and-panel\"><div id=\"graph\" class=\"graph\">");
    let runs = graph::runs(&detail.history);
    let drawn = serde_json::from_str::<Value>(&detail.definition)
        .map_err(|e| format!("The definition is not JSON: {e}"))
        .and_then(|definition| graph::render(&definition, &runs).map_err(|e| e.to_string()));
    match drawn {
        Ok(svg) => body.push_str(&svg),
        Err(why) => {
            let _ = write!(body, "<p id=\"graph-error\" class=\"error-name\">Cannot draw the graph: {}</p>", esc(&why));
        }
    }
    body.push_str(
        "</div><aside id=\"state-panel\" class=\"panel\" hidden aria-live=\"polite\">\
         <button id=\"state-panel-close\" type=\"button\" aria-label=\"Close\">×</button>\
         <h3 id=\"state-panel-name\"></h3><p id=\"state-outcome\"></p>\
         <h4>Input</h4><pre id=\"state-input\" class=\"json\"></pre>\
         <h4>Output</h4><pre id=\"state-output\" class=\"json\"></pre>\
         <h4>Error</h4><p id=\"state-error\" class=\"error-name\"></p>\
         <h4>Cause</h4><pre id=\"state-cause\" class=\"cause\"></pre>\
         <h4>Retries</h4><table id=\"state-attempts\" class=\"list\"><thead><tr><th>#</th><th>At</th><th>Error</th>\
         <th>Cause</th></tr></thead><tbody></tbody></table></aside></div>",
    );
    let _ = write!(
        body,
        "<p class=\"note\">Click a state (or focus it and press Enter) to see its input, output, error and retries.</p>\
         <script type=\"application/json\" id=\"runs-data\">{}</script></section>",
        script_json(&runs)
    );
}

/// A timestamp of the history: epoch seconds (a number), or RFC 3339 text.
fn seconds(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .ok()
            .map(|t| t.unix_timestamp_nanos() as f64 / 1e9),
        _ => None,
    }
}

fn history_section(body: &mut String, history: &[Value]) {
    let _ = write!(
        body,
        "<section id=\"history-section\"><h2>Event history <span class=\"muted\">({} events)</span></h2>\
         <table id=\"history\" class=\"list\"><thead><tr><th>Id</th><th>Type</th><th>Since start</th>\
         <th>State</th><th>Details</th></tr></thead><tbody>",
        history.len()
    );
    let start = history.first().and_then(|e| e.get("timestamp")).and_then(seconds);
    // Events of a state carry its name only on entry and exit; the others point at it through previousEventId.
    let mut state_of: HashMap<i64, String> = HashMap::new();
    for event in history {
        let id = event.get("id").and_then(Value::as_i64).unwrap_or(0);
        let kind = event.get("type").and_then(Value::as_str).unwrap_or("");
        let details =
            event.as_object().and_then(|o| o.iter().find(|(k, _)| k.ends_with("EventDetails"))).map(|(_, v)| v);
        let named = details.and_then(|d| d.get("name")).and_then(Value::as_str).map(str::to_owned);
        let state = named.or_else(|| {
            let prev = event.get("previousEventId").and_then(Value::as_i64)?;
            state_of.get(&prev).cloned()
        });
        // A state's chain ends when it exits; later events belong to the next state.
        if let Some(name) = &state
            && !kind.ends_with("StateExited")
        {
            state_of.insert(id, name.clone());
        }
        let since = match (start, event.get("timestamp").and_then(seconds)) {
            (Some(a), Some(b)) => fmt_duration(time::Duration::seconds_f64((b - a).max(0.0))),
            _ => String::new(),
        };
        let failed = ["Failed", "TimedOut", "Aborted"].iter().any(|w| kind.contains(w));
        let class = if failed { " class=\"event-failed\"" } else { "" };
        let details = match details {
            Some(d) => {
                let summary = d
                    .get("error")
                    .and_then(Value::as_str)
                    .map(|e| format!("<span class=\"error-name\">{}</span>", esc(e)))
                    .unwrap_or_else(|| "details".to_owned());
                format!(
                    "<details><summary>{summary}</summary><pre class=\"json\">{}</pre></details>",
                    esc(&pretty_json(d))
                )
            }
            None => String::new(),
        };
        let _ = write!(
            body,
            "<tr data-event-id=\"{id}\" data-type=\"{kind}\"{class}><td class=\"event-id\">{id}</td>\
             <td class=\"event-type\">{kind}</td><td class=\"since\">{since}</td><td class=\"state-name\">{state}</td>\
             <td class=\"details\">{details}</td></tr>",
            kind = esc(kind),
            state = esc(state.as_deref().unwrap_or("")),
        );
    }
    body.push_str("</tbody></table></section>");
}

#[derive(Debug, Default, Deserialize)]
pub struct StopForm {
    error: Option<String>,
    cause: Option<String>,
}

pub async fn stop(
    State(app): State<App>,
    Path(arn): Path<String>,
    form: Result<Form<StopForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    // A POST without a form (curl -X POST) stops with no error or cause.
    let form = match form {
        Ok(Form(form)) => form,
        Err(FormRejection::InvalidFormContentType(_)) => StopForm::default(),
        Err(e) => return Err(PageError::BadRequest(format!("The stop form is malformed: {e}"))),
    };
    let nonempty = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
    app.source.stop(&arn, nonempty(form.error), nonempty(form.cause)).await?;
    Ok(Redirect::to(&format!("{}?done=stopped", execution_href(&arn))))
}

pub async fn redrive(State(app): State<App>, Path(arn): Path<String>) -> Result<Redirect, PageError> {
    app.source.redrive(&arn).await?;
    Ok(Redirect::to(&format!("{}?done=redriven", execution_href(&arn))))
}

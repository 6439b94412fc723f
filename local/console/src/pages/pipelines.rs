//! The pipelines page: photos and invoices in flight and failed, each linked to its execution or its log lines,
//! and the task-event flow through EventBridge (events put → rules matched → targets invoked, and what failed).

use crate::{
    error::PageError,
    html::{BASE, Nav, esc, execution_href, logs_href, pretty_json_text, thousands, time_el},
    router::App,
    source::{PipelineItem, Stage, TaskEventFlow},
};
use axum::{extract::State, response::Response};
use std::fmt::Write as _;

pub async fn page(State(app): State<App>) -> Result<Response, PageError> {
    let p = app.source.pipelines().await?;
    let mut body = String::with_capacity(16 * 1024);
    items(&mut body, "photos", "Photos", &p.photos);
    items(&mut body, "invoices", "Invoices", &p.invoices);
    flow(&mut body, &p.task_events);
    Ok(app.page(Nav::Pipelines, "Pipelines", &body))
}

fn stage(s: Stage) -> (&'static str, &'static str) {
    match s {
        Stage::InFlight => ("in-flight", "in flight"),
        Stage::Failed => ("failed", "failed"),
        Stage::Done => ("done", "done"),
    }
}

fn items(body: &mut String, id: &str, title: &str, items: &[PipelineItem]) {
    let failed = items.iter().filter(|i| i.stage == Stage::Failed).count();
    let in_flight = items.iter().filter(|i| i.stage == Stage::InFlight).count();
    let _ = write!(
        body,
        "<section id=\"{id}-section\"><h2>{title} <span class=\"muted\">({in_flight} in flight, {failed} failed)</span></h2>\
         <table id=\"{id}\" class=\"list\"><thead><tr><th>Object</th><th>Stage</th><th>Step</th><th>Reason</th>\
         <th>Since</th><th>Details</th></tr></thead><tbody>"
    );
    for item in items {
        let (class, text) = stage(item.stage);
        let mut links = String::new();
        if let Some(arn) = &item.execution_arn {
            let _ = write!(links, "<a class=\"execution-link\" href=\"{}\">execution</a> ", esc(&execution_href(arn)));
        }
        if let Some(rid) = &item.request_id {
            let _ = write!(links, "<a class=\"logs-link\" href=\"{}\">logs</a>", esc(&logs_href(rid)));
        }
        let _ = write!(
            body,
            "<tr class=\"stage-{class}\" data-key=\"{key}\" data-stage=\"{class}\"><td class=\"key\"><code>{key}</code></td>\
             <td><span class=\"badge stage-{class}\">{text}</span></td><td class=\"step\">{step}</td>\
             <td class=\"reason\">{reason}</td><td>{since}</td><td class=\"links\">{links}</td></tr>",
            key = esc(&item.key),
            step = esc(item.step.as_deref().unwrap_or("")),
            reason = esc(item.reason.as_deref().unwrap_or("")),
            since = time_el(item.since),
        );
    }
    body.push_str("</tbody></table>");
    if items.is_empty() {
        body.push_str("<p class=\"empty\">Nothing in flight or failed.</p>");
    }
    body.push_str("</section>");
}

fn flow(body: &mut String, f: &TaskEventFlow) {
    body.push_str("<section id=\"task-flow-section\"><h2>Task events</h2><ol id=\"task-flow\" class=\"flow\">");
    for (id, label, n, bad) in [
        ("flow-events-put", "events put", f.events_put, false),
        ("flow-rules-matched", "rules matched", f.rules_matched, false),
        ("flow-targets-invoked", "targets invoked", f.targets_invoked, false),
    ] {
        let _ = write!(
            body,
            "<li id=\"{id}\" class=\"flow-step{}\"><b>{}</b> {label}</li>",
            if bad { " bad" } else { "" },
            thousands(n)
        );
    }
    body.push_str("</ol><ul id=\"task-flow-failures\" class=\"flow failures\">");
    for (id, label, n) in [
        ("flow-retried", "retried", f.retried),
        ("flow-failed", "failed", f.failed),
        ("flow-dead-lettered", "dead-lettered", f.dead_lettered),
    ] {
        let bad = if n > 0 { " bad" } else { "" };
        let _ = write!(body, "<li id=\"{id}\" class=\"flow-step{bad}\"><b>{}</b> {label}</li>", thousands(n));
    }
    if f.dead_lettered > 0 {
        let _ = write!(body, "<li><a href=\"{BASE}/dead-letters\">see the dead letters</a></li>");
    }
    body.push_str(
        "</ul><table id=\"rules\" class=\"list\"><thead><tr><th>Rule</th><th>Pattern</th><th>Targets</th></tr></thead><tbody>",
    );
    for r in &f.rules {
        let targets: Vec<String> = r.targets.iter().map(|t| format!("<li>{}</li>", esc(t))).collect();
        let _ = write!(
            body,
            "<tr data-rule=\"{name}\"><td class=\"rule-name\">{name}</td><td><pre class=\"json pattern\">{pattern}</pre></td>\
             <td><ul class=\"targets\">{targets}</ul></td></tr>",
            name = esc(&r.name),
            pattern = esc(&pretty_json_text(&r.pattern)),
            targets = targets.concat(),
        );
    }
    body.push_str("</tbody></table></section>");
}

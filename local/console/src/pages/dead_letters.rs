//! The dead-letters page: each of the template's dead-letter queues, what feeds it, and its messages with the
//! failed target, the error and the original event; each can be redriven (POST, 303 back with what was done).

use super::Params;
use crate::{
    error::PageError,
    html::{self, BASE, Nav, esc, logs_href, pretty_json, thousands, time_el},
    router::App,
    source::DeadLetterQueue,
};
use axum::{
    Form,
    extract::{RawQuery, State, rejection::FormRejection},
    response::{Redirect, Response},
};
use serde::Deserialize;
use std::fmt::Write as _;

/// How many messages of each queue the page shows.
pub const LIMIT: usize = 50;

pub async fn page(State(app): State<App>, RawQuery(raw): RawQuery) -> Result<Response, PageError> {
    let params = Params::parse(raw.as_deref());
    let queues = app.source.dead_letters(LIMIT).await?;
    let mut body = html::flash(params.get("done"));
    if queues.is_empty() {
        body.push_str("<p class=\"empty\">The template has no dead-letter queues.</p>");
    }
    for q in &queues {
        queue(&mut body, q);
    }
    Ok(app.page(Nav::DeadLetters, "Dead letters", &body))
}

fn queue(body: &mut String, q: &DeadLetterQueue) {
    let fed_by: Vec<String> = q.fed_by.iter().map(|f| format!("<li>{}</li>", esc(f))).collect();
    let _ = write!(
        body,
        "<section class=\"dlq\" id=\"dlq-{id}\" data-arn=\"{arn}\" data-logical-id=\"{id}\"><h2>{id} \
         <span class=\"muted\">{name}</span> <span class=\"badge dlq-count{busy}\">{count}</span></h2>\
         <p>Fed by:</p><ul class=\"fed-by\">{fed_by}</ul>\
         <table class=\"list dead-letters\"><thead><tr><th>Sent</th><th>Failed target</th><th>Error</th>\
         <th>Original event</th><th>Receives</th><th></th></tr></thead><tbody>",
        id = esc(&q.logical_id),
        name = esc(&q.name),
        arn = esc(&q.arn),
        busy = if q.approximate_count > 0 { " busy" } else { "" },
        count = thousands(q.approximate_count),
        fed_by = fed_by.concat(),
    );
    for m in &q.messages {
        let event = match &m.original_event {
            Some(event) => pretty_json(event),
            None => html::pretty_json_text(&m.body),
        };
        let attributes: Vec<String> =
            m.attributes.iter().map(|(k, v)| format!("<dt>{}</dt><dd>{}</dd>", esc(k), esc(v))).collect();
        let logs = match &m.request_id {
            Some(rid) => format!("<a class=\"logs-link\" href=\"{}\">logs</a>", esc(&logs_href(rid))),
            None => String::new(),
        };
        let _ = write!(
            body,
            "<tr data-message-id=\"{mid}\"><td>{sent}</td><td class=\"failed-target\">{target}</td>\
             <td class=\"dl-error error-name\">{error}</td>\
             <td><details class=\"original-event\"><summary>event</summary><pre class=\"json\">{event}</pre>\
             <dl class=\"attributes\">{attributes}</dl></details></td><td class=\"receive-count\">{receives}</td>\
             <td>{logs} <form class=\"redrive-dead-letter\" method=\"post\" action=\"{BASE}/dead-letters/redrive\">\
             <input type=\"hidden\" name=\"queue_arn\" value=\"{arn}\"><input type=\"hidden\" name=\"message_id\" value=\"{mid}\">\
             <button type=\"submit\">Redrive</button></form></td></tr>",
            mid = esc(&m.message_id),
            sent = time_el(m.sent),
            target = esc(m.failed_target.as_deref().unwrap_or("")),
            error = esc(m.error.as_deref().unwrap_or("")),
            event = esc(&event),
            attributes = attributes.concat(),
            receives = m.receive_count,
            arn = esc(&q.arn),
        );
    }
    body.push_str("</tbody></table>");
    if q.messages.is_empty() {
        body.push_str("<p class=\"empty\">Empty.</p>");
    } else if (q.messages.len() as u64) < q.approximate_count {
        let _ = write!(body, "<p class=\"note\">Showing {} of about {}.</p>", q.messages.len(), q.approximate_count);
    }
    body.push_str("</section>");
}

#[derive(Debug, Deserialize)]
pub struct RedriveForm {
    queue_arn: String,
    message_id: String,
}

pub async fn redrive(
    State(app): State<App>,
    form: Result<Form<RedriveForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    let Form(form) =
        form.map_err(|e| PageError::BadRequest(format!("The redrive form needs queue_arn and message_id: {e}")))?;
    let outcome = app.source.redrive_dead_letter(&form.queue_arn, &form.message_id).await?;
    Ok(Redirect::to(&format!("{BASE}/dead-letters{}", html::query([("done", outcome.done.as_str())]))))
}

//! The executions page (`/_console/`): the state machines with their counts by status, and one page of executions,
//! newest first, filtered by machine, status and name. Paging keeps the trail of earlier pages' tokens in the query
//! (`prev`), since the source's tokens only go forward. Live rows come from `console.js` over `/_console/events`.

use super::Params;
use crate::{
    error::PageError,
    html::{self, BASE, Nav, esc, execution_duration, execution_href, query, shorten, status_badge, time_el},
    router::App,
    source::{ExecutionQuery, ExecutionSummary, MachineSummary, Status},
};
use axum::{
    extract::{RawQuery, State},
    response::Response,
};
use std::fmt::Write as _;

pub const PAGE_SIZE: usize = 50;

/// The filters, as given in the query.
#[derive(Debug, Default)]
struct Filter {
    machine: Option<String>,
    status: Option<Status>,
    q: Option<String>,
}

impl Filter {
    fn pairs(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("machine", self.machine.as_deref().unwrap_or("")),
            ("status", self.status.map(Status::as_str).unwrap_or("")),
            ("q", self.q.as_deref().unwrap_or("")),
        ]
    }
}

pub async fn page(State(app): State<App>, RawQuery(raw): RawQuery) -> Result<Response, PageError> {
    let params = Params::parse(raw.as_deref());
    let status = match params.get("status") {
        None => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            PageError::BadRequest(format!(
                "status: expected one of {}, got {s:?}.",
                Status::ALL.map(Status::as_str).join(", ")
            ))
        })?),
    };
    let filter =
        Filter { machine: params.get("machine").map(str::to_owned), status, q: params.get("q").map(str::to_owned) };
    let next = params.get("next").map(str::to_owned);
    let prev: Vec<&str> = params.all("prev");
    let query = ExecutionQuery {
        machine_arn: filter.machine.clone(),
        status: filter.status,
        name_contains: filter.q.clone(),
        page_size: PAGE_SIZE,
        next_token: next.clone(),
    };
    let (machines, page) = futures::join!(app.source.state_machines(), app.source.executions(query));
    let (machines, page) = (machines?, page?);
    let live = app.source.subscribe().is_some();

    let mut body = String::with_capacity(16 * 1024);
    machines_section(&mut body, &machines, &filter);
    filter_form(&mut body, &machines, &filter);

    let first_page = next.is_none();
    let (mode, note) = match (first_page, live) {
        (false, _) => ("off", "Live updates show on the first page only."),
        (true, true) => ("sse", "Live: new and finished executions appear as they happen."),
        (true, false) => ("poll", "This source cannot push changes: the page polls for them every 5 seconds."),
    };
    let total = match page.total {
        Some(n) => format!("<span id=\"executions-total\">{} matching</span>", html::thousands(n)),
        None => String::new(),
    };
    let _ = write!(
        body,
        "<section id=\"executions-section\"><h2>Executions {total} \
         <span id=\"live\" class=\"live live-{mode}\" data-mode=\"{mode}\" hidden>live</span></h2>\
         <p id=\"live-note\" class=\"note\">{note}</p>\
         <table id=\"executions\" class=\"list\" data-live=\"{mode}\" data-machine=\"{}\" data-status=\"{}\" \
         data-q=\"{}\" data-page-size=\"{PAGE_SIZE}\"><thead><tr><th>Name</th><th>State machine</th><th>Status</th>\
         <th>Started</th><th>Duration</th><th>Error</th></tr></thead><tbody>",
        esc(filter.machine.as_deref().unwrap_or("")),
        filter.status.map(Status::as_str).unwrap_or(""),
        esc(filter.q.as_deref().unwrap_or("")),
    );
    for e in &page.items {
        row(&mut body, e);
    }
    body.push_str("</tbody></table>");
    if let Some(limits) = app.source.list_limits() {
        let _ = write!(body, "<p id=\"list-limits\" class=\"note\">{}</p>", esc(&limits));
    }
    if page.items.is_empty() {
        body.push_str("<p id=\"no-executions\" class=\"empty\">No executions match.</p>");
    }

    // Paging: Older carries this page's token onto the trail; Newer takes the last one off.
    body.push_str("<nav id=\"paging\" class=\"paging\">");
    if first_page {
        body.push_str("<span class=\"disabled\">← Newer</span>");
    } else {
        let (back, trail) = prev.split_last().map(|(b, t)| (*b, t.to_vec())).unwrap_or(("", Vec::new()));
        let mut pairs = filter.pairs();
        pairs.push(("next", back));
        let href = link_with_trail(&pairs, &trail);
        let _ = write!(body, "<a id=\"newer\" href=\"{}\">← Newer</a>", esc(&href));
    }
    match &page.next_token {
        Some(token) => {
            let mut trail = prev.clone();
            trail.push(next.as_deref().unwrap_or(""));
            let mut pairs = filter.pairs();
            pairs.push(("next", token));
            let href = link_with_trail(&pairs, &trail);
            let _ = write!(body, "<a id=\"older\" href=\"{}\">Older →</a>", esc(&href));
        }
        None => body.push_str("<span class=\"disabled\">Older →</span>"),
    }
    body.push_str("</nav></section>");
    Ok(app.page(Nav::Executions, "Executions", &body))
}

/// `/_console/?…` with the filters, the token and the trail (`prev` repeated, empty values kept).
fn link_with_trail(pairs: &[(&str, &str)], trail: &[&str]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if !v.is_empty() {
            ser.append_pair(k, v);
        }
    }
    for t in trail {
        ser.append_pair("prev", t);
    }
    let q = ser.finish();
    if q.is_empty() { format!("{BASE}/") } else { format!("{BASE}/?{q}") }
}

fn machines_section(body: &mut String, machines: &[MachineSummary], filter: &Filter) {
    body.push_str(
        "<section id=\"machines-section\"><h2>State machines</h2><table id=\"machines\" class=\"list\">\
         <thead><tr><th>Name</th><th>Executions by status</th></tr></thead><tbody>",
    );
    for m in machines {
        let current = if filter.machine.as_deref() == Some(m.arn.as_str()) { " class=\"current\"" } else { "" };
        let href = format!("{BASE}/{}", query([("machine", m.arn.as_str())]));
        let _ = write!(
            body,
            "<tr data-machine=\"{}\"{current}><td><a class=\"machine-link\" href=\"{}\">{}</a></td><td class=\"counts\">",
            esc(&m.arn),
            esc(&href),
            esc(&m.name)
        );
        if m.counts.is_empty() {
            body.push_str("<span class=\"muted\">—</span>");
        }
        for (status, n) in &m.counts {
            let href = format!("{BASE}/{}", query([("machine", m.arn.as_str()), ("status", status.as_str())]));
            let _ = write!(
                body,
                "<a class=\"count\" data-status=\"{}\" href=\"{}\">{} {}</a> ",
                status.as_str(),
                esc(&href),
                status_badge(*status),
                html::thousands(*n)
            );
        }
        body.push_str("</td></tr>");
    }
    body.push_str("</tbody></table>");
    if machines.is_empty() {
        body.push_str("<p class=\"empty\">No state machines.</p>");
    }
    body.push_str("</section>");
}

fn filter_form(body: &mut String, machines: &[MachineSummary], filter: &Filter) {
    let _ = write!(
        body,
        "<form id=\"filters\" class=\"filters\" method=\"get\" action=\"{BASE}/\">\
         <label>State machine <select name=\"machine\" id=\"filter-machine\"><option value=\"\">All</option>"
    );
    for m in machines {
        let sel = if filter.machine.as_deref() == Some(m.arn.as_str()) { " selected" } else { "" };
        let _ = write!(body, "<option value=\"{}\"{sel}>{}</option>", esc(&m.arn), esc(&m.name));
    }
    // A machine in the query that the list does not have still shows as selected.
    if let Some(arn) = &filter.machine
        && !machines.iter().any(|m| &m.arn == arn)
    {
        let _ = write!(body, "<option value=\"{0}\" selected>{0}</option>", esc(arn));
    }
    body.push_str(
        "</select></label> <label>Status <select name=\"status\" id=\"filter-status\"><option value=\"\">Any</option>",
    );
    for s in Status::ALL {
        let sel = if filter.status == Some(s) { " selected" } else { "" };
        let _ = write!(body, "<option value=\"{0}\"{sel}>{0}</option>", s.as_str());
    }
    let _ = write!(
        body,
        "</select></label> <label>Name contains <input type=\"search\" name=\"q\" id=\"filter-q\" value=\"{}\"></label> \
         <button type=\"submit\">Filter</button> <a href=\"{BASE}/\">Clear</a></form>",
        esc(filter.q.as_deref().unwrap_or(""))
    );
}

/// One row; `console.js` builds the same cells for live rows (keep them in step).
pub fn row(body: &mut String, e: &ExecutionSummary) {
    let error = match (&e.error, &e.cause) {
        (None, None) => String::new(),
        (error, cause) => {
            let error = error.as_deref().unwrap_or("");
            let cause = crate::html::readable_cause(cause.as_deref().unwrap_or(""));
            format!(
                "<span class=\"error-name\">{}</span> <span class=\"cause\" title=\"{}\">{}</span>",
                esc(error),
                esc(&cause),
                esc(&shorten(&cause, 120))
            )
        }
    };
    let _ = write!(
        body,
        "<tr data-arn=\"{arn}\" data-status=\"{status}\"><td class=\"name\"><a class=\"execution-link\" href=\"{href}\">{name}</a></td>\
         <td class=\"machine\">{machine}</td><td class=\"status\">{badge}</td><td class=\"started\">{started}</td>\
         <td class=\"duration\">{duration}</td><td class=\"error\">{error}</td></tr>",
        arn = esc(&e.arn),
        status = e.status.as_str(),
        href = esc(&execution_href(&e.arn)),
        name = esc(&e.name),
        machine = esc(&e.machine_name),
        badge = status_badge(e.status),
        started = time_el(e.start_date),
        duration = esc(&execution_duration(e.start_date, e.stop_date)),
    );
}

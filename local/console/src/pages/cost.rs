//! The cost page: what the stack measured of its functions (from their EMF lines), and a monthly estimate at AWS
//! prices for a volume the operator types in (`?invoices=500&photos=10000&requests=100000`).

use super::Params;
use crate::{
    cost::{self, Volume},
    error::PageError,
    html::{BASE, Nav, esc, thousands},
    router::App,
    source::Measurements,
};
use axum::{
    extract::{RawQuery, State},
    response::Response,
};
use std::fmt::Write as _;

pub const DEFAULT_INVOICES: u64 = 500;
pub const DEFAULT_PHOTOS: u64 = 10_000;
pub const DEFAULT_REQUESTS: u64 = 100_000;
/// A trillion a month is beyond any estimate worth making here, and keeps the arithmetic far from overflow.
const MAX_VOLUME: u64 = 1_000_000_000_000;

/// A whole number a month, with `,`, `_` or spaces between digit groups allowed (as people type them).
fn volume(params: &Params, key: &str, what: &str, default: u64) -> Result<u64, PageError> {
    let Some(text) = params.get(key) else { return Ok(default) };
    let digits: String = text.chars().filter(|c| !matches!(c, ',' | '_' | ' ')).collect();
    match digits.parse::<u64>() {
        Ok(n) if n <= MAX_VOLUME => Ok(n),
        _ => Err(PageError::BadRequest(format!(
            "{key}: expected a whole number of {what} a month between 0 and {}, got {text:?}.",
            thousands(MAX_VOLUME)
        ))),
    }
}

pub fn usd(x: f64) -> String {
    // `+ 0.0` turns -0.0 (what summing no floats gives) into 0: never "$-0.00".
    let x = x + 0.0;
    if x != 0.0 && x.abs() < 0.01 { format!("${x:.4}") } else { format!("${x:.2}") }
}

/// A unit price as AWS's pricing pages write it: per million or per thousand units when a unit costs under a
/// cent (`$0.20 per 1M`, `$0.10 per 1K`), never a float's 25 digits.
pub fn unit_price(x: f64) -> String {
    let trimmed = |v: f64| {
        let s = format!("{v:.6}");
        let s = s.trim_end_matches('0');
        let s = s.strip_suffix('.').unwrap_or(s);
        if s.contains('.') && s.split('.').nth(1).is_some_and(|d| d.len() == 1) {
            format!("{s}0")
        } else {
            s.to_owned()
        }
    };
    if x == 0.0 || !x.is_finite() {
        "$0".to_owned()
    } else if x < 0.000_1 {
        format!("${} per 1M", trimmed(x * 1e6))
    } else if x < 0.01 {
        format!("${} per 1K", trimmed(x * 1e3))
    } else {
        format!("${}", trimmed(x))
    }
}

fn number(x: f64) -> String {
    let x = x + 0.0;
    if x.fract() == 0.0 && x.abs() < 1e15 {
        thousands(x as u64)
    } else if x.abs() >= 100.0 && x.abs() < 1e15 {
        thousands(x.round() as u64)
    } else {
        format!("{x:.2}")
    }
}

pub async fn page(State(app): State<App>, RawQuery(raw): RawQuery) -> Result<Response, PageError> {
    let params = Params::parse(raw.as_deref());
    let volume = Volume {
        invoices_per_month: volume(&params, "invoices", "invoices", DEFAULT_INVOICES)?,
        photos_per_month: volume(&params, "photos", "photos", DEFAULT_PHOTOS)?,
        api_requests_per_month: volume(&params, "requests", "API requests", DEFAULT_REQUESTS)?,
    };
    let m = app.source.measurements().await?;
    let estimate = cost::estimate(&m, &volume, &cost::Prices::default());

    let mut body = String::with_capacity(16 * 1024);
    let _ = write!(
        body,
        "<form id=\"volume-form\" class=\"filters\" method=\"get\" action=\"{BASE}/cost\">\
         <label>Invoices a month <input id=\"volume-invoices\" name=\"invoices\" inputmode=\"numeric\" value=\"{}\"></label> \
         <label>Photos a month <input id=\"volume-photos\" name=\"photos\" inputmode=\"numeric\" value=\"{}\"></label> \
         <label>API requests a month <input id=\"volume-requests\" name=\"requests\" inputmode=\"numeric\" value=\"{}\"></label> \
         <button type=\"submit\">Estimate</button></form>",
        volume.invoices_per_month, volume.photos_per_month, volume.api_requests_per_month
    );

    body.push_str(
        "<section id=\"estimate-section\"><h2>Monthly estimate</h2><table id=\"estimate\" class=\"list numbers\">\
         <thead><tr><th>Service</th><th>Item</th><th>Quantity</th><th>Unit</th><th>Unit price</th><th>Per month</th>\
         <th>Basis</th></tr></thead><tbody>",
    );
    for line in &estimate.lines {
        let _ = write!(
            body,
            "<tr><td class=\"service\">{}</td><td class=\"item\">{}</td><td class=\"quantity num\">{}</td>\
             <td class=\"unit\">{}</td><td class=\"unit-price num\">{}</td><td class=\"monthly num\">{}</td>\
             <td class=\"basis\">{}</td></tr>",
            esc(&line.service),
            esc(&line.item),
            number(line.quantity),
            esc(&line.unit),
            unit_price(line.unit_price),
            usd(line.monthly_usd),
            esc(&line.basis),
        );
    }
    let _ = write!(
        body,
        "</tbody><tfoot><tr><th colspan=\"5\">Total per month</th><td id=\"cost-total\" class=\"num\">{}</td><td></td></tr>\
         </tfoot></table></section>",
        usd(estimate.total_usd)
    );

    measured(&mut body, &m);
    Ok(app.page(Nav::Cost, "Cost", &body))
}

fn measured(body: &mut String, m: &Measurements) {
    let since = m.since.map(crate::html::time_el).unwrap_or_else(|| "the start".to_owned());
    let _ = write!(
        body,
        "<section id=\"functions-section\"><h2>Functions, as measured</h2><p class=\"note\">From the functions' EMF \
         lines since {since}; {} distinct metric series.</p>\
         <table id=\"functions\" class=\"list numbers\"><thead><tr><th>Function</th><th>Invocations</th>\
         <th>Cold starts</th><th>Errors</th><th>p50</th><th>p99</th><th>Memory</th><th>Architecture</th>\
         <th>GB-seconds</th></tr></thead><tbody>",
        m.metric_series
    );
    let mut total_gbs = 0.0;
    for f in &m.functions {
        total_gbs += f.gb_seconds;
        let _ = write!(
            body,
            "<tr data-function=\"{name}\"><td class=\"function\">{name}</td><td class=\"invocations num\">{}</td>\
             <td class=\"cold-starts num\">{}</td><td class=\"errors num\">{}</td><td class=\"p50 num\">{:.1} ms</td>\
             <td class=\"p99 num\">{:.1} ms</td><td class=\"memory num\">{} MB</td><td class=\"architecture\">{}</td>\
             <td class=\"gb-seconds num\">{:.3}</td></tr>",
            thousands(f.invocations),
            thousands(f.cold_starts),
            thousands(f.errors),
            f.duration_p50_ms,
            f.duration_p99_ms,
            f.memory_mb,
            esc(&f.architecture),
            f.gb_seconds,
            name = esc(&f.function),
        );
    }
    let _ = write!(
        body,
        "</tbody><tfoot><tr><th colspan=\"8\">Total</th><td id=\"gb-seconds-total\" class=\"num\">{total_gbs:.3}</td></tr>\
         </tfoot></table>"
    );
    if m.functions.is_empty() {
        body.push_str("<p class=\"empty\">No function has run yet.</p>");
    }
    body.push_str("</section>");

    let pairs = |id: &str, title: &str, head: &str, rows: Vec<(String, String)>, body: &mut String| {
        let _ = write!(
            body,
            "<section id=\"{id}-section\"><h2>{title}</h2><table id=\"{id}\" class=\"list numbers\"><thead><tr><th>{head}</th>\
             <th>Count</th></tr></thead><tbody>"
        );
        for (k, v) in &rows {
            let _ = write!(body, "<tr><td class=\"name\">{}</td><td class=\"count num\">{v}</td></tr>", esc(k));
        }
        body.push_str("</tbody></table>");
        if rows.is_empty() {
            body.push_str("<p class=\"empty\">None yet.</p>");
        }
        body.push_str("</section>");
    };
    pairs("counts", "Business counts", "Metric", m.counts.iter().map(|(k, v)| (k.clone(), number(*v))).collect(), body);
    pairs(
        "state-transitions",
        "State transitions",
        "State machine",
        m.state_transitions
            .iter()
            .map(|(k, t, e)| (k.clone(), format!("{} in {} executions", thousands(*t), thousands(*e))))
            .collect(),
        body,
    );
    pairs(
        "requests",
        "Requests to the services",
        "Action",
        m.requests.iter().map(|(k, v)| (k.clone(), thousands(*v))).collect(),
        body,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volumes_accept_digit_group_separators_and_refuse_words() {
        let p = Params::parse(Some("invoices=1%2C500&photos=abc&requests=-1"));
        assert_eq!(volume(&p, "invoices", "invoices", 1).ok(), Some(1500));
        assert!(volume(&p, "photos", "photos", 1).is_err());
        assert!(volume(&p, "requests", "requests", 1).is_err());
        assert_eq!(volume(&p, "missing", "x", 7).ok(), Some(7));
    }

    #[test]
    fn unit_prices_read_as_on_the_pricing_pages_not_as_float_digits() {
        assert_eq!(unit_price(0.20 / 1e6), "$0.20 per 1M");
        assert_eq!(unit_price(0.000_013_333_4), "$13.3334 per 1M");
        assert_eq!(unit_price(0.025 / 1e3), "$25 per 1M");
        assert_eq!(unit_price(0.0004 / 1e3), "$0.40 per 1M");
        assert_eq!(unit_price(0.005 / 1e3), "$5 per 1M");
        assert_eq!(unit_price(0.10 / 1e3), "$0.10 per 1K");
        assert_eq!(unit_price(0.5), "$0.50");
        assert_eq!(unit_price(0.3), "$0.30");
        assert_eq!(unit_price(0.0), "$0");
        assert_eq!(usd(-0.0), "$0.00");
        assert_eq!(usd(std::iter::empty::<f64>().sum()), "$0.00");
    }
}

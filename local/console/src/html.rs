//! The pages' HTML, written by hand: an escaping wrapper, the shared layout, and the few formats every page uses
//! (times, durations, status badges, links). Hand-written `write!` with [`Esc`] rather than a template engine:
//! the pages are a handful of tables, an escape function is five characters, and the crate stays quick to build.
//! Every value from the source goes through [`Esc`] (text and attributes alike, since it escapes quotes too), and
//! data for the page's script goes through [`script_json`], so nothing from a stack can become markup.

use crate::source::{ConsoleSource, Status};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use std::fmt::{self, Display, Write as _};
use time::{Duration, OffsetDateTime, UtcOffset, macros::format_description};

/// Where every page lives; the paths are promises to users.
pub const BASE: &str = "/_console";

/// Text made safe for HTML text and quoted attribute values.
pub struct Esc<'a>(pub &'a str);

impl Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..at])?;
            f.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[at + 1..];
        }
        f.write_str(rest)
    }
}

pub fn esc(s: &str) -> Esc<'_> {
    Esc(s)
}

/// JSON for a `<script type="application/json">` block: `<`, `>` and `&` become `\u003c`-style escapes, so no value
/// (a state named `</script>`, an output with `<!--`) can end the block; `JSON.parse` reads them back unchanged.
pub fn script_json(value: &impl Serialize) -> String {
    let text = serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned());
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// A path segment or query value: everything but unreserved characters is percent-encoded (an ARN's `:` too).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

pub fn encode_segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

pub fn execution_href(arn: &str) -> String {
    format!("{BASE}/executions/{}", encode_segment(arn))
}

pub fn logs_href(request_id: &str) -> String {
    format!("{BASE}/logs/{}", encode_segment(request_id))
}

/// A query string (`?a=1&b=2`, or empty) from pairs, skipping empty values.
pub fn query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    let mut any = false;
    for (k, v) in pairs {
        if !v.is_empty() {
            ser.append_pair(k, v);
            any = true;
        }
    }
    if any { format!("?{}", ser.finish()) } else { String::new() }
}

/// UTC, to the second: the same text the page's script writes for live rows.
pub fn fmt_time(t: OffsetDateTime) -> String {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    t.to_offset(UtcOffset::UTC).format(&fmt).unwrap_or_default()
}

/// A `<time>` element carrying the machine-readable instant (the script reads it for live durations).
pub fn time_el(t: OffsetDateTime) -> String {
    let iso = t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    format!("<time datetime=\"{}\">{} UTC</time>", esc(&iso), fmt_time(t))
}

/// "850 ms", "12.4 s", "3 min 05 s", "2 h 07 min", "3 d 4 h".
pub fn fmt_duration(d: Duration) -> String {
    let ms = d.whole_milliseconds().max(0);
    if ms < 1_000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        format!("{} min {:02} s", ms / 60_000, (ms / 1000) % 60)
    } else if ms < 86_400_000 {
        format!("{} h {:02} min", ms / 3_600_000, (ms / 60_000) % 60)
    } else {
        format!("{} d {} h", ms / 86_400_000, (ms / 3_600_000) % 24)
    }
}

/// How long an execution ran, or has been running.
pub fn execution_duration(start: OffsetDateTime, stop: Option<OffsetDateTime>) -> String {
    match stop {
        Some(stop) => fmt_duration(stop - start),
        None => format!("running {}", fmt_duration(OffsetDateTime::now_utc() - start)),
    }
}

/// At most `max` characters, with an ellipsis when cut (the whole text goes in a `title`).
/// A cause as a person reads it: a Lambda error's JSON (`{"errorMessage": m, "errorType": t}`, which Step Functions
/// passes on as the cause) becomes `t: m`; any other cause is shown as it is. `console.js` does the same for live
/// rows (`readableCause`).
pub fn readable_cause(cause: &str) -> std::borrow::Cow<'_, str> {
    #[derive(serde::Deserialize)]
    struct LambdaError {
        #[serde(rename = "errorMessage")]
        message: String,
        #[serde(rename = "errorType", default)]
        kind: Option<String>,
    }
    match serde_json::from_str::<LambdaError>(cause) {
        Ok(LambdaError { message, kind: Some(kind) }) if !kind.is_empty() => format!("{kind}: {message}").into(),
        Ok(LambdaError { message, .. }) => message.into(),
        Err(_) => cause.into(),
    }
}

pub fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_owned(),
    }
}

/// `status-timed-out`: the class that colours a status like the graph colours its states.
pub fn status_class(status: Status) -> String {
    format!("status-{}", status.as_str().to_ascii_lowercase().replace('_', "-"))
}

pub fn status_badge(status: Status) -> String {
    format!("<span class=\"badge {}\">{}</span>", status_class(status), status.as_str())
}

/// JSON text pretty-printed when it parses, as given when not.
pub fn pretty_json_text(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_owned())
}

pub fn pretty_json(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// 1,234,567
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// 1.5 KiB
pub fn bytes(n: u64) -> String {
    if n < 1024 {
        format!("{n} B")
    } else if n < 1024 * 1024 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0))
    }
}

/// Which nav entry a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Executions,
    Pipelines,
    DeadLetters,
    Mail,
    Cost,
    /// Pages outside the nav (logs, errors).
    None,
}

/// The one layout: header with the nav and the source's label, then the page.
pub fn layout(source: &dyn ConsoleSource, nav: Nav, title: &str, body: &str) -> String {
    layout_with(&source.label(), source.is_local(), nav, title, body)
}

pub fn layout_with(label: &str, local: bool, nav: Nav, title: &str, body: &str) -> String {
    let mut links = String::new();
    let entries = [
        (Nav::Executions, "/", "Executions", "nav-executions", true),
        (Nav::Pipelines, "/pipelines", "Pipelines", "nav-pipelines", true),
        (Nav::DeadLetters, "/dead-letters", "Dead letters", "nav-dead-letters", true),
        (Nav::Mail, "/mail", "Mail", "nav-mail", local),
        (Nav::Cost, "/cost", "Cost", "nav-cost", true),
    ];
    for (entry, path, text, id, shown) in entries {
        if shown {
            let current = if entry == nav { " aria-current=\"page\" class=\"current\"" } else { "" };
            let _ = write!(links, "<a id=\"{id}\" href=\"{BASE}{path}\"{current}>{text}</a>");
        }
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · console</title>\
         <link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"{BASE}/assets/console.css\">\
         <script src=\"{BASE}/assets/console.js\" defer></script></head>\
         <body><header id=\"top\"><a class=\"brand\" href=\"{BASE}/\">console</a><nav id=\"nav\">{links}</nav>\
         <span id=\"source-label\">{label}</span></header>\
         <main id=\"content\"><h1 id=\"page-title\">{title}</h1>{body}</main></body></html>\n",
        title = esc(title),
        label = esc(label),
    )
}

/// A flash message (`?done=…` after a POST), shown once at the top of the page.
pub fn flash(done: Option<&str>) -> String {
    match done {
        Some(text) if !text.is_empty() => format!("<p id=\"flash\" class=\"flash\" role=\"status\">{}</p>", esc(text)),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::readable_cause;

    #[test]
    fn a_lambda_error_cause_reads_as_its_type_and_message_and_any_other_cause_as_it_is() {
        let lambda = r#"{"errorMessage":"invalid_document: the PDF is truncated","errorType":"InvalidDocument"}"#;
        assert_eq!(readable_cause(lambda), "InvalidDocument: invalid_document: the PDF is truncated");
        assert_eq!(readable_cause(r#"{"errorMessage":"boom"}"#), "boom");
        let plain = "BR-CO-15: the total with VAT should be 867.16";
        assert_eq!(readable_cause(plain), plain);
        assert_eq!(readable_cause(r#"{"other": 1}"#), r#"{"other": 1}"#);
    }
}

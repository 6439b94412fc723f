//! Structured logs, the same on AWS and in the local stack: JSON lines on stdout, one per event, with the current
//! span's fields at the top (`lambda_runtime` and the local stack both run each invocation in a span carrying its
//! `requestId`), filtered by a level or per-target directives (`info`, `warn,local=debug`, `off`).
//!
//! `Targets`, not `EnvFilter`: the same directives without a regex engine in every Lambda package (smaller zip,
//! faster start).
//!
//! [`metrics`]: each invocation's cold start, duration and business counts as one CloudWatch Embedded Metric Format
//! line, which the local stack reads back for its cost page.

pub mod metrics;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// The level when none (or a bad one) is given.
pub const DEFAULT_LEVEL: &str = "info";

/// Installs the JSON logger on stdout with `level` (see the module doc). A bad level falls back to
/// [`DEFAULT_LEVEL`] with a warning naming `source` (where the level came from). Calling it twice is harmless: the
/// first logger stays.
pub fn init(level: Option<&str>, source: &str) {
    let (filter, bad_level) = filter_from(level);
    let installed = tracing::subscriber::set_global_default(json_subscriber(filter, std::io::stdout)).is_ok();
    if let (true, Some((value, err))) = (installed, bad_level) {
        tracing::warn!(%value, error = %err, "{source} is not a valid level or filter; logging at {DEFAULT_LEVEL}");
    }
}

/// The filter for `value`, or the default with the reason `value` was refused.
pub fn filter_from(value: Option<&str>) -> (Targets, Option<(String, tracing_subscriber::filter::ParseError)>) {
    let value = value.map(str::trim).filter(|v| !v.is_empty()).unwrap_or(DEFAULT_LEVEL);
    match value.parse::<Targets>() {
        Ok(filter) => (filter, None),
        Err(err) => (DEFAULT_LEVEL.parse().unwrap_or_default(), Some((value.to_owned(), err))),
    }
}

pub fn json_subscriber<W>(filter: Targets, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        // Fields at the top level (`"message"`, `"requestId"` in `"span"`), not nested under `"fields"`.
        .flatten_event(true)
        .with_current_span(true)
        // The current span is enough (the invocation's); the whole list would repeat it on every line.
        .with_span_list(false)
        .with_ansi(false)
        .with_writer(writer)
        // The builder's own default cap is INFO; `filter` decides.
        .with_max_level(tracing::level_filters::LevelFilter::TRACE)
        .finish()
        .with(filter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    fn lines(buffer: &Buffer) -> Vec<serde_json::Value> {
        let bytes = buffer.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    #[test]
    fn log_lines_are_json_and_carry_the_invocation_request_id() {
        let buffer = Buffer::default();
        let (filter, bad) = filter_from(None);
        assert!(bad.is_none());
        tracing::subscriber::with_default(json_subscriber(filter, buffer.clone()), || {
            // The span lambda_runtime opens around each invocation (lambda_runtime::layers::trace::request_span).
            let span = tracing::info_span!("Lambda runtime invoke", requestId = "req-123");
            let _entered = span.enter();
            tracing::info!(task = "t1", "handled");
            tracing::debug!("not at info");
        });
        let lines = lines(&buffer);
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["message"], "handled");
        assert_eq!(line["task"], "t1");
        assert_eq!(line["span"]["requestId"], "req-123", "{line}");
        let raw = line.to_string();
        assert!(!raw.contains('\u{1b}'), "no ANSI escapes: {raw}");
    }

    #[test]
    fn the_level_comes_from_the_variable_and_a_bad_value_falls_back_to_info() {
        let buffer = Buffer::default();
        let (filter, bad) = filter_from(Some("debug"));
        assert!(bad.is_none());
        tracing::subscriber::with_default(json_subscriber(filter, buffer.clone()), || tracing::debug!("shown"));
        assert_eq!(lines(&buffer).len(), 1);
        let (_, bad) = filter_from(Some("telemetry=extremely"));
        assert!(bad.is_some());
    }
}

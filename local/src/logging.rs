//! Structured JSON logs, one object per line, as the functions log on AWS (`LoggingConfig: LogFormat: JSON`): the
//! level, the message, the fields, and the span that carries `requestId`.

use tracing_subscriber::{filter::Targets, fmt, layer::SubscriberExt, util::SubscriberInitExt};

/// Installs the JSON logger at `level` (a directive such as `info` or `info,local=debug`). Safe to call
/// twice: a second call leaves the first logger in place.
pub fn init(level: &str) {
    let filter: Targets = level.parse().unwrap_or_else(|_| Targets::new().with_default(tracing::Level::INFO));
    let _ = fmt()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_target(true)
        .flatten_event(true)
        .with_ansi(false)
        // The builder's own default cap is INFO; `filter` decides.
        .with_max_level(tracing::level_filters::LevelFilter::TRACE)
        .finish()
        .with(filter)
        .try_init();
}

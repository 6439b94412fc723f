//! Structured JSON logs, one object per line, as the functions log on AWS (`LoggingConfig: LogFormat: JSON`): the
//! level, the message, the fields, and the span that carries `requestId`.

use tracing_subscriber::{EnvFilter, fmt};

/// Installs the JSON logger at `level` (an `EnvFilter` directive such as `info` or `local=debug`). Safe to call
/// twice: a second call leaves the first logger in place.
pub fn init(level: &str) {
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(true)
        .flatten_event(true)
        .with_ansi(false)
        .try_init();
}

//! The operator console (`/_console/`) in a real browser: the local stack starts in-process on port 0, a photo and
//! invoices (one stored, one rejected at Validate, one that fails at Parse) go through it, a function's event ends
//! in the dead-letter queue, and headless Chromium opens each page and checks what a person would look at. Each
//! page is also saved as a PNG in `target/console-screenshots/` (and in `$CONSOLE_SCREENSHOTS_DIR` when set: the
//! README's images come from `CONSOLE_SCREENSHOTS_DIR=docs/console cargo test -p system-tests --test console`).
//!
//! Chromium is the distribution's (`./run-tests` installs it with apt when missing); without it the tests fail,
//! saying so, rather than pass without having looked.

mod browser;
mod scenario;

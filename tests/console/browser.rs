//! The distribution's Chromium, headless, driven over the DevTools protocol by `headless_chrome`: one browser and
//! one tab per test, with the few things the console tests do to a page (open it, read it with a JavaScript
//! expression, wait until an expression holds, click, take a full-page screenshot).
//!
//! `headless_chrome` is synchronous (it blocks on its WebSocket), while the stack under test runs on tokio in the
//! same process; so every call goes to tokio's blocking pool (`spawn_blocking`) and the stack keeps serving.

use headless_chrome::protocol::cdp::Page;
use headless_chrome::{Browser, LaunchOptions, Tab};
use serde_json::Value;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use system_tests::repo_root;

/// The window every page is seen (and screenshotted) in.
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 900;
/// Full-page screenshots stop here by default, so a long table does not make a PNG the README cannot carry
/// (about 300 KB at most).
const MAX_SCREENSHOT_HEIGHT: u32 = 2000;

/// Where Chromium is: `$CHROME`, else `chromium` (Debian's package) or `chromium-browser` on `PATH`. Panics (never
/// skips) when there is none, saying how to get it.
pub fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("CHROME").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(path.is_file(), "CHROME={} is not a file", path.display());
        return path;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "no Chromium: the console tests drive headless Chromium. `./run-tests` installs the distribution's package \
         (`apt-get install chromium`); or set CHROME to a Chrome or Chromium binary"
    );
}

/// A headless Chromium with one tab. Cheap to clone (the tab is shared).
#[derive(Clone)]
pub struct Console {
    // Kept so the browser process lives as long as the tab; dropped with the last clone.
    _browser: Arc<Browser>,
    tab: Arc<Tab>,
}

impl Console {
    pub async fn launch() -> Console {
        blocking(|| {
            let path = chromium();
            let options = LaunchOptions {
                path: Some(path.clone()),
                headless: true,
                // The tests may run as root, where Chromium refuses to start sandboxed.
                sandbox: false,
                window_size: Some((WIDTH, HEIGHT)),
                // A slow CI machine: a page with a long-lived SSE connection keeps the browser busy but quiet.
                idle_browser_timeout: Duration::from_secs(300),
                args: vec![OsStr::new("--disable-dev-shm-usage"), OsStr::new("--hide-scrollbars")],
                ..LaunchOptions::default()
            };
            let browser =
                Browser::new(options).unwrap_or_else(|e| panic!("starting {} headless: {e:#}", path.display()));
            let tab = browser.new_tab().expect("a tab");
            tab.set_default_timeout(Duration::from_secs(20));
            Console { _browser: Arc::new(browser), tab }
        })
        .await
    }

    /// Navigates to `url` and waits for the load event. Panics on a non-2xx main response.
    pub async fn open(&self, url: &str) {
        let target = url.to_owned();
        self.with_tab(move |tab| {
            let url = target;
            tab.navigate_to(&url).unwrap_or_else(|e| panic!("navigating to {url}: {e:#}"));
            tab.wait_until_navigated().unwrap_or_else(|e| panic!("loading {url}: {e:#}"));
        })
        .await;
        // Navigation errors (a 500 page) still "navigate": check what the server said.
        let status = self.eval("performance.getEntriesByType('navigation')[0]?.responseStatus ?? 0").await;
        let status = status.as_u64().unwrap_or(0);
        assert!(
            status == 0 || (200..300).contains(&status),
            "{url} answered {status}: {}",
            self.text("body").await.chars().take(2000).collect::<String>()
        );
    }

    /// The value of a JavaScript expression, as JSON (the expression's value goes through `JSON.stringify`).
    pub async fn eval(&self, expression: &str) -> Value {
        let js = format!("JSON.stringify((() => {{ return ({expression}); }})() ?? null)");
        self.with_tab(move |tab| {
            let result = tab.evaluate(&js, false).unwrap_or_else(|e| panic!("evaluating {js}: {e:#}"));
            match result.value {
                Some(Value::String(json)) => serde_json::from_str(&json).unwrap_or(Value::Null),
                other => panic!("{js} gave {other:?} ({:?})", result.description),
            }
        })
        .await
    }

    /// `innerText` of the first element matching `selector` ("" when none).
    pub async fn text(&self, selector: &str) -> String {
        let q = serde_json::to_string(selector).unwrap();
        self.eval(&format!("document.querySelector({q})?.innerText ?? ''")).await.as_str().unwrap_or("").to_owned()
    }

    /// How many elements match `selector`.
    pub async fn count(&self, selector: &str) -> usize {
        let q = serde_json::to_string(selector).unwrap();
        self.eval(&format!("document.querySelectorAll({q}).length")).await.as_u64().unwrap_or(0) as usize
    }

    /// Waits until `expression` is truthy, polling every 50 ms; panics with `what` after `timeout`.
    pub async fn wait_until(&self, expression: &str, timeout: Duration, what: &str) {
        let started = Instant::now();
        loop {
            let v = self.eval(&format!("!!({expression})")).await;
            if v == Value::Bool(true) {
                return;
            }
            assert!(started.elapsed() < timeout, "waited {timeout:?} for {what} ({expression})");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks the first element matching `selector` (a real mouse click at its centre, as a person would).
    pub async fn click(&self, selector: &str) {
        let selector = selector.to_owned();
        self.with_tab(move |tab| {
            let element = tab.wait_for_element(&selector).unwrap_or_else(|e| panic!("no {selector}: {e:#}"));
            element.scroll_into_view().unwrap_or_else(|e| panic!("scrolling to {selector}: {e:#}"));
            element.click().unwrap_or_else(|e| panic!("clicking {selector}: {e:#}"));
        })
        .await;
    }

    /// A PNG of the whole page (up to [`MAX_SCREENSHOT_HEIGHT`]), written as `<name>.png` into
    /// `target/console-screenshots/` and, when `CONSOLE_SCREENSHOTS_DIR` is set, there too (a relative path is
    /// taken from the repository root, where the README's `docs/console/` is).
    pub async fn screenshot(&self, name: &str) -> Vec<PathBuf> {
        self.screenshot_up_to(name, MAX_SCREENSHOT_HEIGHT).await
    }

    /// [`Self::screenshot`], of at most `max_height` pixels of the page (for a page whose text makes big PNGs).
    pub async fn screenshot_up_to(&self, name: &str, max_height: u32) -> Vec<PathBuf> {
        let height =
            self.eval("Math.max(document.documentElement.scrollHeight, document.body?.scrollHeight ?? 0)").await;
        let height = height.as_f64().unwrap_or(f64::from(HEIGHT)).clamp(f64::from(HEIGHT), f64::from(max_height));
        let png = self
            .with_tab(move |tab| {
                let shot = tab.call_method(Page::CaptureScreenshot {
                    format: Some(Page::CaptureScreenshotFormatOption::Png),
                    quality: None,
                    clip: Some(Page::Viewport { x: 0.0, y: 0.0, width: f64::from(WIDTH), height, scale: 1.0 }),
                    from_surface: Some(true),
                    capture_beyond_viewport: Some(true),
                    optimize_for_speed: None,
                });
                let data = shot.unwrap_or_else(|e| panic!("a screenshot: {e:#}")).data;
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, data).expect("base64 PNG")
            })
            .await;
        let mut written = Vec::new();
        for dir in screenshot_dirs() {
            std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
            let path = dir.join(format!("{name}.png"));
            std::fs::write(&path, &png).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
            written.push(path);
        }
        written
    }

    /// Runs `f` on the tab in tokio's blocking pool.
    pub async fn with_tab<R: Send + 'static>(&self, f: impl FnOnce(&Tab) -> R + Send + 'static) -> R {
        let tab = self.tab.clone();
        blocking(move || f(&tab)).await
    }
}

async fn blocking<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("the browser call was cancelled: {e}"),
    }
}

/// `target/console-screenshots/`, and `$CONSOLE_SCREENSHOTS_DIR` when set.
pub fn screenshot_dirs() -> Vec<PathBuf> {
    let root = repo_root();
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let mut dirs = vec![target.join("console-screenshots")];
    if let Some(extra) = std::env::var_os("CONSOLE_SCREENSHOTS_DIR").filter(|d| !d.is_empty()) {
        let extra = Path::new(&extra);
        dirs.push(if extra.is_absolute() { extra.to_owned() } else { root.join(extra) });
    }
    dirs
}

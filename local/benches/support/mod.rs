//! What the end-to-end benchmarks share: the release `local` binary serving the template over a fresh data
//! directory, as a user runs it, with its normal JSON logs drained to nowhere; and the percentiles they report.

#![allow(dead_code)] // each bench uses its own part

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

/// A running `local up`, killed and its data directory removed on drop.
pub struct ReleaseStack {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    pub data: PathBuf,
    root: PathBuf,
    binary: PathBuf,
    server: Child,
}

impl ReleaseStack {
    /// Builds the release binary (a no-op when it is current) and starts it on a free port; `name` names the
    /// temporary data directory. `extra` are more `local up` flags.
    pub fn start(name: &str, extra: &[&str]) -> ReleaseStack {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let built = Command::new(env!("CARGO"))
            .current_dir(&root)
            .args(["build", "--release", "-p", "local", "--bin", "local"])
            .status()
            .expect("cargo runs");
        assert!(built.success(), "the release build failed");
        let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
        let binary = target.join("release/local");
        let data = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
        let mut server = Command::new(&binary)
            .current_dir(&root)
            .args(["up", "--port", "0", "--data-dir"])
            .arg(&data)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start local up");
        // `local up` announces its address on stderr once it listens; the rest of stderr is drained.
        let mut stderr = BufReader::new(server.stderr.take().expect("piped stderr"));
        let mut line = String::new();
        let base = loop {
            line.clear();
            assert!(stderr.read_line(&mut line).expect("read stderr") > 0, "local exited before listening");
            if let Some(rest) = line.strip_prefix("local stack: ") {
                break rest.split_whitespace().next().expect("an address").to_owned();
            }
        };
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        ReleaseStack { base, data, root, binary, server }
    }

    /// A bearer token for `user` (`local token`).
    pub fn token(&self, user: &str) -> String {
        let out = Command::new(&self.binary)
            .current_dir(&self.root)
            .args(["token", user, "--data-dir"])
            .arg(&self.data)
            .output()
            .expect("local token");
        String::from_utf8(out.stdout).expect("UTF-8").trim().to_owned()
    }
}

impl Drop for ReleaseStack {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// Sorted latencies and their nearest-rank percentiles.
pub struct Percentiles(Vec<Duration>);

impl Percentiles {
    pub fn new(mut latencies: Vec<Duration>) -> Percentiles {
        assert!(!latencies.is_empty(), "no samples");
        latencies.sort();
        Percentiles(latencies)
    }

    /// The `q` quantile (0 < q ≤ 1) in milliseconds.
    pub fn ms(&self, q: f64) -> f64 {
        let rank = ((self.0.len() as f64 * q).ceil() as usize).clamp(1, self.0.len());
        self.0[rank - 1].as_secs_f64() * 1000.0
    }

    /// `p50 … p90 … p99 … max …`, in milliseconds.
    pub fn summary(&self) -> String {
        format!(
            "p50 {:.1} ms  p90 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
            self.ms(0.50),
            self.ms(0.90),
            self.ms(0.99),
            self.ms(1.0)
        )
    }
}

/// The machine's core count, for the printed context.
pub fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
}

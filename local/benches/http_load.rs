//! The local stack under concurrent load, measured with `wrk` (Debian package `wrk`): the release `local` binary
//! serves the template's API over a fresh data directory, with its normal JSON logging (to /dev/null), and wrk
//! drives it with 32 connections — first `POST /tasks`, then `GET /tasks/{id}`.
//!
//! Run: `cargo bench -p local --bench http_load`. `LOAD_SECONDS` (default 10), `LOAD_CONNECTIONS` (default 32).

mod support;

use std::{path::Path, process::Command};

use support::ReleaseStack;

fn main() {
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!("wrk is not installed: `apt-get install wrk`");
        std::process::exit(2);
    }
    let seconds = std::env::var("LOAD_SECONDS").unwrap_or_else(|_| "10".into());
    let connections = std::env::var("LOAD_CONNECTIONS").unwrap_or_else(|_| "32".into());
    let stack = ReleaseStack::start("http-load", &[]);
    let (base, token, data) = (stack.base.clone(), stack.token("loadtest"), stack.data.clone());
    let auth = format!("Authorization: Bearer {}", token.trim());

    let script = data.join("post.lua");
    std::fs::write(&script, "wrk.method = \"POST\"\nwrk.body = '{\"title\":\"load test task\",\"description\":\"created by wrk\"}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n").unwrap();
    let post = wrk(&connections, &seconds, &auth, Some(&script), &format!("{base}/tasks"));

    let list =
        Command::new("curl").args(["-s", "-H", &auth, &format!("{base}/tasks?limit=1")]).output().unwrap().stdout;
    let list: serde_json::Value = serde_json::from_slice(&list).unwrap();
    let id = list["tasks"][0]["id"].as_str().expect("a task to read").to_owned();
    let get = wrk(&connections, &seconds, &auth, None, &format!("{base}/tasks/{id}"));

    drop(stack);
    println!(
        "\nconnections={connections} duration={seconds}s, one machine ({} cores) running both wrk and the stack",
        support::cores()
    );
    for (name, r) in [("POST /tasks", post), ("GET /tasks/{id}", get)] {
        println!("{name:<16} {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  non-2xx {}", r.rps, r.p50, r.p99, r.errors);
    }
}

struct Result {
    rps: f64,
    p50: f64,
    p99: f64,
    errors: u64,
}

fn wrk(connections: &str, seconds: &str, auth: &str, script: Option<&Path>, url: &str) -> Result {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", "-c", connections, "-d", &format!("{seconds}s"), "--latency", "-H", auth]);
    if let Some(s) = script {
        cmd.arg("-s").arg(s);
    }
    let out = String::from_utf8(cmd.arg(url).output().unwrap().stdout).unwrap();
    println!("{url}\n{out}");
    let ms = |s: &str| -> f64 {
        let s = s.trim();
        if let Some(v) = s.strip_suffix("us") {
            v.parse::<f64>().unwrap() / 1000.0
        } else if let Some(v) = s.strip_suffix("ms") {
            v.parse().unwrap()
        } else if let Some(v) = s.strip_suffix('s') {
            v.parse::<f64>().unwrap() * 1000.0
        } else {
            f64::NAN
        }
    };
    let find = |prefix: &str| out.lines().find_map(|l| l.trim().strip_prefix(prefix).map(str::to_owned));
    Result {
        rps: find("Requests/sec:").map(|v| v.trim().parse().unwrap()).unwrap_or(0.0),
        p50: find("50%").map(|v| ms(&v)).unwrap_or(f64::NAN),
        p99: find("99%").map(|v| ms(&v)).unwrap_or(f64::NAN),
        errors: find("Non-2xx or 3xx responses:").map(|v| v.trim().parse().unwrap()).unwrap_or(0),
    }
}

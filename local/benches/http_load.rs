//! The local stack under concurrent load, measured with `wrk` (Debian package `wrk`): the release `local` binary
//! serves the template's API over a fresh data directory, with its normal JSON logging (to /dev/null), and wrk
//! drives it with 32 connections — first `POST /tasks`, then `GET /tasks/{id}`.
//!
//! Run: `cargo bench -p local --bench http_load`. `LOAD_SECONDS` (default 10), `LOAD_CONNECTIONS` (default 32).

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

fn main() {
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!("wrk is not installed: `apt-get install wrk`");
        std::process::exit(2);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    assert!(
        Command::new(env!("CARGO"))
            .current_dir(&root)
            .args(["build", "--release", "-p", "local", "--bin", "local"])
            .status()
            .unwrap()
            .success()
    );
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let local = target.join("release/local");
    let seconds = std::env::var("LOAD_SECONDS").unwrap_or_else(|_| "10".into());
    let connections = std::env::var("LOAD_CONNECTIONS").unwrap_or_else(|_| "32".into());
    let data = std::env::temp_dir().join(format!("http-load-{}", std::process::id()));

    let mut server = Command::new(&local)
        .current_dir(&root)
        .args(["up", "--port", "0", "--data-dir"])
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `local up` announces its address on stderr once it listens.
    let mut stderr = BufReader::new(server.stderr.take().unwrap());
    let mut line = String::new();
    let base = loop {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "local exited before listening");
        if let Some(rest) = line.strip_prefix("local stack: ") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    let token = String::from_utf8(
        Command::new(&local)
            .current_dir(&root)
            .args(["token", "loadtest", "--data-dir"])
            .arg(&data)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let auth = format!("Authorization: Bearer {}", token.trim());

    let script = data.join("post.lua");
    std::fs::write(&script, "wrk.method = \"POST\"\nwrk.body = '{\"title\":\"load test task\",\"description\":\"created by wrk\"}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n").unwrap();
    let post = wrk(&connections, &seconds, &auth, Some(&script), &format!("{base}/tasks"));

    let list =
        Command::new("curl").args(["-s", "-H", &auth, &format!("{base}/tasks?limit=1")]).output().unwrap().stdout;
    let list: serde_json::Value = serde_json::from_slice(&list).unwrap();
    let id = list["tasks"][0]["id"].as_str().expect("a task to read").to_owned();
    let get = wrk(&connections, &seconds, &auth, None, &format!("{base}/tasks/{id}"));

    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&data);
    println!(
        "\nconnections={connections} duration={seconds}s, one machine ({} cores) running both wrk and the stack",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
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

//! The `local` command as a user runs it: `token`, `routes`, `invoke`, and `up` — including a `kill -9` in the
//! middle of writes, after which every acknowledged write is still there.

use serde_json::Value;
use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
};

fn local() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_local"));
    c.current_dir(repo());
    c
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn token(data: &Path, user: &str) -> String {
    let out = local().args(["token", user, "--email", "u@example.com", "--data-dir"]).arg(data).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Starts `local up --port 0` and returns the child and its address.
fn up(data: &Path) -> (Child, String) {
    let mut child = local().args(["up", "--port", "0", "--data-dir"]).arg(data).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "local up exited before listening");
        if let Some(rest) = line.strip_prefix("local stack: http://") {
            let addr = rest.split_whitespace().next().unwrap().to_owned();
            std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
            return (child, addr);
        }
    }
}

/// A minimal HTTP/1.1 exchange, so this test needs no client library: returns (status, body).
fn http(addr: &str, method: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

#[test]
fn token_prints_a_jwt_and_routes_lists_every_route_with_its_handler() {
    let dir = tempfile::tempdir().unwrap();
    let t = token(dir.path(), "alice");
    assert_eq!(t.split('.').count(), 3, "{t}");
    let out = local().arg("routes").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for want in ["POST    /tasks", "GET     /tasks/{id}", "create_task::handle", "list_tasks::handle", "[jwt]"] {
        assert!(text.contains(want), "`{want}` missing from:\n{text}");
    }
}

#[test]
fn invoke_runs_one_function_on_an_event_file_and_prints_its_response() {
    let dir = tempfile::tempdir().unwrap();
    let out = local()
        .args(["invoke", "CreateTaskFunction", "--event", "events/create-task/valid.json", "--log-level", "off", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["statusCode"], 201);
    let body: Value = serde_json::from_str(v["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["title"], "Write the quarterly report");

    let missing = local().args(["invoke", "NoSuchFunction", "--event", "events/create-task/valid.json", "--data-dir"]).arg(dir.path()).output().unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("CreateTaskFunction"), "the error lists the functions there are");
}

#[test]
fn a_kill_9_during_writes_loses_no_acknowledged_task() {
    let dir = tempfile::tempdir().unwrap();
    let t = token(dir.path(), "alice");
    let (mut child, addr) = up(dir.path());
    // A writer keeps creating tasks on 4 connections' worth of threads while the stack is killed under it.
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (addr, t, acked) = (addr.clone(), t.clone(), acknowledged.clone());
            std::thread::spawn(move || {
                for i in 0.. {
                    let Ok(mut s) = TcpStream::connect(&addr) else { return };
                    let body = format!("{{\"title\":\"writer {w} task {i}\"}}");
                    let req = format!("POST /tasks HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {t}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
                    let mut out = String::new();
                    if s.write_all(req.as_bytes()).is_err() || s.read_to_string(&mut out).is_err() {
                        return;
                    }
                    let Some((_, json)) = out.split_once("\r\n\r\n") else { return };
                    if !out.starts_with("HTTP/1.1 201") {
                        return;
                    }
                    let v: Value = serde_json::from_str(json).unwrap();
                    acked.lock().unwrap().push(v["id"].as_str().unwrap().to_owned());
                }
            })
        })
        .collect();
    while acknowledged.lock().unwrap().len() < 300 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL, with writes in flight: no shutdown hook runs
    child.wait().unwrap();
    for w in writers {
        w.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    let (mut child, addr) = up(dir.path());
    for id in &acknowledged {
        let (status, body) = http(&addr, "GET", &format!("/tasks/{id}"), &t, "");
        assert_eq!(status, 200, "task {id} was acknowledged before the kill but is gone: {body}");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

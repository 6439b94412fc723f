//! What the command-line tests share: the `local` binary, the repository, and `local up` on a free port.

#![allow(dead_code, reason = "each test binary uses its own subset")]

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
};

pub fn local() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_local"));
    c.current_dir(repo());
    c
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Starts `local up --port 0` and returns the child and its address.
#[allow(clippy::zombie_processes, reason = "the caller owns the child: every test kills and waits for it")]
pub fn up(data: &Path) -> (Child, String) {
    up_with(data, &[])
}

/// [`up`] with more flags (`--async-retry-delay-seconds 1`, …).
#[allow(clippy::zombie_processes, reason = "the caller owns the child: every test kills and waits for it")]
pub fn up_with(data: &Path, flags: &[&str]) -> (Child, String) {
    let mut child = local()
        .args(["up", "--port", "0", "--data-dir"])
        .arg(data)
        .args(flags)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        if stderr.read_line(&mut line).unwrap_or(0) == 0 {
            let status = child.wait();
            panic!("local up exited before listening: {status:?}");
        }
        if let Some(rest) = line.strip_prefix("local stack: http://") {
            let addr = rest.split_whitespace().next().unwrap().to_owned();
            std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
            return (child, addr);
        }
    }
}

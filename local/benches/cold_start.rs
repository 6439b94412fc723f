//! Cold start of every function's release `bootstrap`: the time from exec to its first poll of the Lambda Runtime
//! API (`GET …/invocation/next`, i.e. init done), and its peak RSS at that moment (`VmHWM`), against the emulator
//! in `local_lambda::runtime_api`; plus each binary's size, raw and zipped as Lambda receives it.
//!
//! Run: `cargo bench -p local --bench cold_start` (it builds the release binaries first). `COLD_START_RUNS` sets
//! the runs per function (default 40).

use local::{
    local_lambda::{FunctionDecl, runtime_api::RuntimeApi},
    local_template::{SecretSource, Template, TemplateError},
};
use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

struct DummySecrets;
impl SecretSource for DummySecrets {
    fn secret(&self, _: &str) -> Result<String, TemplateError> {
        Ok("cold-start-benchmark-secret-0123456789abcdef".into())
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

fn zipped_size(binary: &Path) -> u64 {
    let dir = tempfile_dir();
    let zip = dir.join("bootstrap.zip");
    // Lambda takes a zip with `bootstrap` at its root, deflated; Python's zipfile is on every machine here.
    let script = "import sys,zipfile\nwith zipfile.ZipFile(sys.argv[2],'w',zipfile.ZIP_DEFLATED,compresslevel=9) as z: z.write(sys.argv[1],'bootstrap')";
    let ok = Command::new("python3")
        .args(["-c", script])
        .arg(binary)
        .arg(&zip)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let size = if ok { std::fs::metadata(&zip).map(|m| m.len()).unwrap_or(0) } else { 0 };
    let _ = std::fs::remove_dir_all(&dir);
    size
}

fn tempfile_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("cold-start-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&d);
    d
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let template = Template::load(&root.join("template.yaml"), Default::default(), std::sync::Arc::new(DummySecrets))
        .expect("template.yaml loads");
    let functions = FunctionDecl::read_all(&template).expect("the functions load");
    let runs: usize = std::env::var("COLD_START_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(40);

    let mut build = Command::new(env!("CARGO"));
    build.current_dir(&root).args(["build", "--release", "--bins"]);
    for f in &functions {
        build.args(["-p", &f.binary]);
    }
    assert!(build.status().expect("cargo runs").success(), "release build failed");
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    println!(
        "{:<16} {:>9} {:>9} {:>9} {:>10} {:>10} {:>9} {:>9}",
        "function", "median", "p90", "max", "RSS med", "RSS max", "binary", "zipped"
    );
    for f in &functions {
        let binary = target.join("release").join(&f.binary);
        let mut times = Vec::with_capacity(runs);
        let mut rss = Vec::with_capacity(runs);
        for _ in 0..runs {
            rt.block_on(async {
                let api = RuntimeApi::start().await.unwrap();
                let mut cmd = Command::new(&binary);
                cmd.env_clear()
                    .envs(&f.env)
                    .env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
                    .env("AWS_LAMBDA_FUNCTION_NAME", &f.logical_id)
                    .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
                    .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
                    .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{}", f.logical_id))
                    .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/27/[$LATEST]0123456789abcdef")
                    .env("AWS_REGION", "us-east-1")
                    .env("AWS_DEFAULT_REGION", "us-east-1")
                    .env("AWS_ACCESS_KEY_ID", "ASIAEXAMPLEEXAMPLE00")
                    .env("AWS_SECRET_ACCESS_KEY", "bench/secret/key/not/real/0000000000000000")
                    .env("AWS_SESSION_TOKEN", "bench-session-token")
                    .env("LAMBDA_TASK_ROOT", "/var/task")
                    .env("TZ", ":UTC")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null());
                let started = std::time::Instant::now();
                let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
                let polled = tokio::time::timeout(Duration::from_secs(10), api.first_poll()).await;
                let peak = peak_rss_kib(child.id());
                let _ = child.kill();
                let _ = child.wait();
                let polled = polled.unwrap_or_else(|_| {
                    panic!("{} never polled the Runtime API (init error: {:?})", f.binary, api.init_error())
                });
                times.push(polled.duration_since(started).as_secs_f64() * 1000.0);
                rss.push(peak.unwrap_or(0) as f64 / 1024.0);
            });
        }
        times.sort_by(f64::total_cmp);
        rss.sort_by(f64::total_cmp);
        let size = std::fs::metadata(&binary).map(|m| m.len()).unwrap_or(0);
        println!(
            "{:<16} {:>7.2}ms {:>7.2}ms {:>7.2}ms {:>7.2}MiB {:>7.2}MiB {:>7.2}MB {:>7.2}MB",
            f.binary,
            percentile(&times, 0.5),
            percentile(&times, 0.9),
            times[times.len() - 1],
            percentile(&rss, 0.5),
            rss[rss.len() - 1],
            size as f64 / 1e6,
            zipped_size(&binary) as f64 / 1e6
        );
    }
}

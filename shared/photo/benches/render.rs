//! `cargo bench -p photo`: the three renditions of a 12 MP EXIF-rotated phone JPEG, Rust against Pillow, on the
//! same machine in the same run.
//!
//! - Time: the median of [`ROUNDS`] × [`RUNS_PER_ROUND`] renders on each side, the rounds interleaved (Rust,
//!   Pillow, Pillow, Rust, …) so that a build started on a shared machine slows both sides alike.
//! - Peak RSS: `VmHWM` of a fresh process doing one render (this binary re-run as a child, and
//!   `compare_pillow.py once`), the way a Lambda invocation would.
//! - Quality: PSNR of both sides' renditions against a floating-point Lanczos3 of the full-resolution photo.
//!
//! The photo is made by `compare_pillow.py generate` (procedural, deterministic) into the temp directory on first
//! use. Needs `python3` with Pillow and numpy (`pip install pillow numpy`).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use photo::{Limits, RenditionSpec, render};

const ROUNDS: usize = 8;
const RUNS_PER_ROUND: usize = 4;
/// Set in the child process that measures peak RSS: the photo to render and the directory for its renditions.
const CHILD_ENV: &str = "PHOTO_BENCH_CHILD";

fn specs() -> Vec<RenditionSpec> {
    vec![RenditionSpec::new("thumbnail", 200), RenditionSpec::new("medium", 800), RenditionSpec::new("large", 1600)]
}

fn main() {
    if let Ok(job) = std::env::var(CHILD_ENV) {
        return child(&job);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/compare_pillow.py");
    let work = std::env::temp_dir().join("photo-bench");
    let photo = work.join("photo-12mp-orientation-6.jpg");
    if !photo.exists() {
        std::fs::create_dir_all(&work).expect("create the bench directory");
        python(&script, &["generate", path(&photo)]);
    }
    let input = std::fs::read(&photo).expect("read the test photo");
    let specs = specs();
    let limits = Limits::default();
    println!("photo: {} ({:.1} MiB, 4000 × 3000 stored, EXIF orientation 6)", photo.display(), mib(input.len()));

    for _ in 0..2 {
        black_box(render(&input, &specs, &limits).expect("render the test photo"));
    }
    let (mut rust, mut pillow) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let time_rust = |rust: &mut Vec<f64>| {
            for _ in 0..RUNS_PER_ROUND {
                let start = Instant::now();
                black_box(render(black_box(&input), &specs, &limits).expect("render"));
                rust.push(start.elapsed().as_secs_f64() * 1e3);
            }
        };
        let time_pillow = |pillow: &mut Vec<f64>| {
            let out = python(&script, &["time", path(&photo), &RUNS_PER_ROUND.to_string()]);
            pillow.extend(serde_json::from_str::<Vec<f64>>(&out).expect("a JSON list of times"));
        };
        if round % 2 == 0 {
            time_rust(&mut rust);
            time_pillow(&mut pillow);
        } else {
            time_pillow(&mut pillow);
            time_rust(&mut rust);
        }
    }

    let rust_dir = work.join("rust");
    let pillow_dir = work.join("pillow");
    let exe = std::env::current_exe().expect("the bench binary");
    let child_out = Command::new(exe)
        .env(CHILD_ENV, format!("{}\n{}", path(&photo), path(&rust_dir)))
        .output()
        .expect("run the RSS child");
    assert!(child_out.status.success(), "the RSS child failed: {}", String::from_utf8_lossy(&child_out.stderr));
    let rust_rss: u64 = String::from_utf8_lossy(&child_out.stdout).trim().parse().expect("VmHWM in KiB");
    let once = python(&script, &["once", path(&photo), path(&pillow_dir)]);
    let pillow_rss =
        serde_json::from_str::<serde_json::Value>(&once).expect("JSON")["peak_rss_kib"].as_u64().expect("peak_rss_kib");
    let psnr: serde_json::Value =
        serde_json::from_str(&python(&script, &["psnr", path(&photo), path(&rust_dir), path(&pillow_dir)]))
            .expect("JSON");

    let (rust_median, pillow_median) = (median(&mut rust), median(&mut pillow));
    println!("\nthree renditions (200, 800, 1600 px), {} runs each, interleaved", rust.len());
    println!("{:<8} {:>12} {:>12} {:>14}", "", "median ms", "min ms", "peak RSS MiB");
    println!("{:<8} {:>12.1} {:>12.1} {:>14.1}", "Rust", rust_median, min(&rust), rust_rss as f64 / 1024.0);
    println!("{:<8} {:>12.1} {:>12.1} {:>14.1}", "Pillow", pillow_median, min(&pillow), pillow_rss as f64 / 1024.0);
    println!(
        "ratio Rust / Pillow: {:.2}× median, {:.2}× min; peak RSS {:.2}×",
        rust_median / pillow_median,
        min(&rust) / min(&pillow),
        rust_rss as f64 / pillow_rss as f64
    );
    println!("\nPSNR against a float Lanczos3 of the full-resolution photo (dB, JPEG quality 85 on both sides)");
    println!("{:<10} {:>8} {:>8} {:>8}", "", "Rust", "Pillow", "Δ");
    for spec in &specs {
        let scores = &psnr[&spec.name];
        let (r, p) = (scores["rust"].as_f64().unwrap_or(f64::NAN), scores["pillow"].as_f64().unwrap_or(f64::NAN));
        println!("{:<10} {:>8.2} {:>8.2} {:>+8.2}", spec.name, r, p, r - p);
    }
}

/// One render in a fresh process, its renditions written out; prints the peak RSS in KiB.
fn child(job: &str) {
    let (photo, out_dir) = job.split_once('\n').expect("photo and output directory");
    let input = std::fs::read(photo).expect("read the test photo");
    let renditions = render(&input, &specs(), &Limits::default()).expect("render");
    std::fs::create_dir_all(out_dir).expect("create the output directory");
    for r in &renditions {
        std::fs::write(PathBuf::from(out_dir).join(format!("{}.jpg", r.name)), &r.jpeg).expect("write");
    }
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let hwm = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).expect("VmHWM");
    println!("{}", hwm.trim().trim_end_matches("kB").trim());
}

fn python(script: &Path, args: &[&str]) -> String {
    let out = Command::new("python3").arg(script).args(args).output().expect("run python3");
    assert!(
        out.status.success(),
        "compare_pillow.py {} failed (needs `pip install pillow numpy`):\n{}",
        args[0],
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn min(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}

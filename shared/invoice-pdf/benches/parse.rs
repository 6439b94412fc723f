//! `cargo bench -p invoice-pdf`: [`parse`] on every invoice of the test corpus, against pypdf's `extract_text`
//! on the same PDFs, on the same machine in the same run.
//!
//! - Time: per document, the median of [`ROUNDS`] × [`RUNS_PER_ROUND`] runs on each side, the rounds interleaved
//!   (Rust, pypdf, pypdf, Rust, …) so that load from other work on a shared machine slows both sides alike. The
//!   Rust side does all of `parse` (load, embedded XML or text layer, field finding); the pypdf side only
//!   extracts the text, so the comparison favours pypdf.
//! - Peak RSS: `VmHWM` of a fresh process parsing every document once (this binary re-run as a child, and
//!   `compare_pypdf.py once`), the way a Lambda invocation would.
//!
//! Needs `python3` with pypdf (`pip install pypdf`).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use invoice_pdf::{Limits, parse};

const ROUNDS: usize = 6;
const RUNS_PER_ROUND: usize = 10;
/// Set in the child process that measures peak RSS: the PDFs to parse, one path per line.
const CHILD_ENV: &str = "INVOICE_PDF_BENCH_CHILD";

fn main() {
    if let Ok(paths) = std::env::var(CHILD_ENV) {
        return child(&paths);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/compare_pypdf.py");
    let documents = corpus();
    let limits = Limits::default();
    let inputs: Vec<Vec<u8>> = documents.iter().map(|(_, path)| std::fs::read(path).expect("read a PDF")).collect();
    let paths: Vec<&str> = documents.iter().map(|(_, p)| path(p)).collect();
    println!("{} corpus invoices from {}", documents.len(), corpus_dir().display());
    println!("python3: {}", python(&script, &["version".to_owned()]).trim());

    for input in &inputs {
        black_box(parse(input, &limits).expect("a corpus invoice parses"));
    }
    let mut rust: Vec<Vec<f64>> = vec![Vec::new(); documents.len()];
    let mut pypdf: Vec<Vec<f64>> = vec![Vec::new(); documents.len()];
    for round in 0..ROUNDS {
        let time_rust = |rust: &mut Vec<Vec<f64>>| {
            for (i, input) in inputs.iter().enumerate() {
                for _ in 0..RUNS_PER_ROUND {
                    let start = Instant::now();
                    black_box(parse(black_box(input), &limits).expect("parse"));
                    rust[i].push(start.elapsed().as_secs_f64() * 1e3);
                }
            }
        };
        let time_pypdf = |pypdf: &mut Vec<Vec<f64>>| {
            let mut args = vec!["time".to_owned(), RUNS_PER_ROUND.to_string()];
            args.extend(paths.iter().map(|p| (*p).to_owned()));
            let out: serde_json::Value = serde_json::from_str(&python(&script, &args)).expect("a JSON object of times");
            for (i, (name, _)) in documents.iter().enumerate() {
                let times = out[name].as_array().expect("times for every document");
                pypdf[i].extend(times.iter().map(|t| t.as_f64().expect("a time")));
            }
        };
        if round % 2 == 0 {
            time_rust(&mut rust);
            time_pypdf(&mut pypdf);
        } else {
            time_pypdf(&mut pypdf);
            time_rust(&mut rust);
        }
    }

    let exe = std::env::current_exe().expect("the bench binary");
    let child_out = Command::new(exe).env(CHILD_ENV, paths.join("\n")).output().expect("run the RSS child");
    assert!(child_out.status.success(), "the RSS child failed: {}", String::from_utf8_lossy(&child_out.stderr));
    let rust_rss: f64 = String::from_utf8_lossy(&child_out.stdout).trim().parse().expect("VmHWM in KiB");
    let mut args = vec!["once".to_owned()];
    args.extend(paths.iter().map(|p| (*p).to_owned()));
    let once: serde_json::Value = serde_json::from_str(&python(&script, &args)).expect("JSON");
    let pypdf_rss = once["peak_rss_kib"].as_f64().expect("peak_rss_kib");

    println!("\nper document, {} runs each side, interleaved (median, and the fastest run)", ROUNDS * RUNS_PER_ROUND);
    println!(
        "{:<30} {:>6} {:>9} {:>10} {:>8} {:>9} {:>10} {:>8}",
        "document", "KiB", "Rust µs", "pypdf µs", "speed-up", "Rust min", "pypdf min", "min/min"
    );
    let (mut ratios, mut min_ratios) = (Vec::new(), Vec::new());
    let (mut rust_sum, mut pypdf_sum) = (0.0, 0.0);
    for (i, (name, _)) in documents.iter().enumerate() {
        let (r, p) = (median(&mut rust[i]), median(&mut pypdf[i]));
        let (rm, pm) = (min(&rust[i]), min(&pypdf[i]));
        ratios.push(p / r);
        min_ratios.push(pm / rm);
        rust_sum += r;
        pypdf_sum += p;
        println!(
            "{name:<30} {:>6.1} {:>9.0} {:>10.0} {:>7.1}× {:>9.0} {:>10.0} {:>7.1}×",
            inputs[i].len() as f64 / 1024.0,
            r * 1e3,
            p * 1e3,
            p / r,
            rm * 1e3,
            pm * 1e3,
            pm / rm
        );
    }
    let geometric = (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp();
    println!(
        "\nspeed-up, pypdf time / Rust time, per document: median {:.1}× (of the fastest runs: {:.1}×), geometric \
         mean {:.1}×, lowest {:.1}×; whole corpus {:.1}×",
        median(&mut ratios.clone()),
        median(&mut min_ratios),
        geometric,
        ratios.iter().copied().fold(f64::INFINITY, f64::min),
        pypdf_sum / rust_sum
    );
    println!(
        "peak RSS parsing every document once in a fresh process: Rust {:.1} MiB, pypdf {:.1} MiB ({:.2}×)",
        rust_rss / 1024.0,
        pypdf_rss / 1024.0,
        rust_rss / pypdf_rss
    );
}

/// The corpus invoices (the PDFs whose expected JSON is an invoice, not an error), sorted by name; not the
/// hostile, repaired or encrypted ones, which pypdf refuses or needs extra packages for.
fn corpus() -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(corpus_dir().join("expected"))
        .expect("the expected directory")
        .filter_map(|entry| {
            let path = entry.expect("a directory entry").path();
            let json: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).ok()?).expect("expected JSON");
            let name = path.file_stem()?.to_string_lossy().into_owned();
            let clean = !["hostile-", "repaired-", "encrypted-"].iter().any(|p| name.starts_with(p));
            (clean && json.get("error").is_none()).then(|| (name.clone(), corpus_dir().join(format!("{name}.pdf"))))
        })
        .collect();
    out.sort();
    out
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// Parses every PDF once in this fresh process; prints the peak RSS in KiB.
fn child(paths: &str) {
    let limits = Limits::default();
    for path in paths.lines() {
        let input = std::fs::read(path).expect("read a PDF");
        black_box(parse(&input, &limits).expect("parse"));
    }
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let hwm = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).expect("VmHWM");
    println!("{}", hwm.trim().trim_end_matches("kB").trim());
}

fn python(script: &Path, args: &[String]) -> String {
    let out = Command::new("python3").arg(script).args(args).output().expect("run python3");
    assert!(
        out.status.success(),
        "compare_pypdf.py {} failed (needs `pip install pypdf`):\n{}",
        args[0],
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

fn min(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

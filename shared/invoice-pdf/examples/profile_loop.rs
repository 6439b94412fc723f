//! `cargo run --release -p invoice-pdf --example profile_loop -- N FILE.pdf…`: parses the files N times, for a
//! profiler (`perf record`) to watch.

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|n| n.parse().ok()).expect("a count");
    let files: Vec<Vec<u8>> = args.map(|p| std::fs::read(p).expect("read")).collect();
    let limits = invoice_pdf::Limits::default();
    for _ in 0..n {
        for f in &files {
            let _ = std::hint::black_box(invoice_pdf::parse(f, &limits));
        }
    }
}

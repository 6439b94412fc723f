//! What `local states run <file> --input <json|@file> [--mock <file>]` does,
//! in a few lines: `cargo run -p states --example run -- def.json '{"a":1}' mock.json`.

use states::{MockInvoker, RunOptions, TokioClock, run, validate};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(file) = args.first() else {
        eprintln!("usage: run <definition.json> [input-json|@file] [mock.json]");
        std::process::exit(2);
    };
    let definition = std::fs::read_to_string(file)?;
    let machine = match validate(&definition) {
        Ok(m) => m,
        Err(problems) => {
            for p in problems {
                eprintln!("{p}");
            }
            std::process::exit(1);
        }
    };
    let input = match args.get(1).map(String::as_str) {
        Some(s) if s.starts_with('@') => serde_json::from_str(&std::fs::read_to_string(&s[1..])?)?,
        Some(s) => serde_json::from_str(s)?,
        None => serde_json::json!({}),
    };
    let tasks = match args.get(2) {
        Some(m) => MockInvoker::from_json(&std::fs::read_to_string(m)?)?,
        None => MockInvoker::new(),
    };
    let options = RunOptions { record_history: std::env::var_os("HISTORY").is_some(), ..Default::default() };
    let outcome = run(&machine, input, &tasks, &TokioClock, options).await;
    println!("{}", serde_json::to_string_pretty(&outcome)?);
    Ok(())
}

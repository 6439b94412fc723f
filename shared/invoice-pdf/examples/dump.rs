//! `cargo run -p invoice-pdf --example dump -- FILE.pdf…`: the text layer as the parser reads it (cells
//! separated by tabs), then the parsed invoice as JSON or the reason it was refused. For looking into a PDF
//! whose fields come out wrong.

fn main() {
    let limits = invoice_pdf::Limits::default();
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        println!("==== {path}");
        match invoice_pdf::read_text(&bytes, &limits) {
            Ok(text) => print!("{text}"),
            Err(e) => println!("(no text: {e})"),
        }
        println!("----");
        match invoice_pdf::parse(&bytes, &limits) {
            Ok(invoice) => println!("{}", serde_json::to_string_pretty(&invoice).expect("JSON")),
            Err(e) => println!("{}: {e}", e.code()),
        }
    }
}

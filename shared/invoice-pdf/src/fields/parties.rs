//! Seller and buyer: names, the buyer's email and the seller's VAT identifier.
//!
//! - Seller: the value of a "From"/"Seller"/"Lieferant" label; else the first text at the top of the first page
//!   that is not a title or a label (letterheads start with the company), cut at the separators of a one-line
//!   sender address ("Müller GmbH · Hauptstr. 5 · Berlin").
//! - Buyer: the value of a "Bill to"/"Customer"/"Rechnungsempfänger" label; else, in a letter, the line under the
//!   one-line sender address above the address window (DIN 5008).
//! - Buyer email: the first email in the buyer's block (the lines under the buyer's name, aligned with it).
//! - VAT identifier: an EU (or UK, Swiss, Norwegian) VAT number in its country's format, after a VAT label or
//!   written without spaces; not one after "IBAN", and not one labelled or placed as the buyer's.

use super::labels::{self, Label};
use super::{At, Doc, is_bare_label};

pub(crate) struct Parties {
    pub seller_name: Option<String>,
    pub seller_vat_id: Option<String>,
    pub buyer_name: Option<String>,
    pub buyer_email: Option<String>,
}

/// Separators of a one-line address.
const SEPARATORS: [&str; 5] = [" · ", " | ", " • ", " – ", " - "];

pub(crate) fn find(doc: &Doc<'_>) -> Parties {
    let seller = seller(doc);
    let buyer = buyer(doc, seller.as_deref());
    let buyer_at = buyer.as_ref().map(|(_, at)| *at);
    let buyer_email = buyer_at.and_then(|at| block_email(doc, at));
    let seller_vat_id = vat_id(doc, buyer_at);
    let buyer_name = buyer.map(|(name, _)| name);
    Parties { seller_name: seller, seller_vat_id, buyer_name, buyer_email }
}

fn party_name(text: &str) -> Option<String> {
    let name = SEPARATORS.iter().fold(text, |t, sep| t.split(sep).next().unwrap_or(t)).trim();
    let ok = name.chars().filter(|c| c.is_alphabetic()).count() >= 2
        && !is_bare_label(name)
        && !labels::is_title(name)
        && !name.contains('@');
    ok.then(|| name.to_owned())
}

fn seller(doc: &Doc<'_>) -> Option<String> {
    if let Some((name, _)) = doc.labelled(Label::Seller).find_map(|(at, rest)| doc.value(at, rest, party_name)) {
        return Some(name);
    }
    let first_page = doc.lines.first()?.page;
    doc.lines
        .iter()
        .take_while(|line| line.page == first_page)
        .take(12)
        .enumerate()
        .flat_map(|(l, line)| line.cells.iter().enumerate().map(move |(c, cell)| (At { line: l, cell: c }, cell)))
        .find(|(at, cell)| {
            doc.label(*at).is_none()
                && !labels::is_title(&cell.text)
                && doc.amount(&cell.text).is_none()
                && doc.date(&cell.text).is_none()
        })
        .and_then(|(_, cell)| party_name(&cell.text))
}

/// The buyer's name and where it is.
fn buyer(doc: &Doc<'_>, seller: Option<&str>) -> Option<(String, At)> {
    let labelled = doc.labelled(Label::Buyer).find_map(|(at, rest)| doc.value(at, rest, party_name));
    if labelled.is_some() {
        return labelled;
    }
    // A DIN 5008 letter: the sender's one-line address, then the recipient under it.
    let seller = seller?.to_lowercase();
    let sender = doc.lines.iter().enumerate().find_map(|(l, line)| {
        line.cells
            .iter()
            .position(|cell| {
                let text = cell.text.to_lowercase();
                text.starts_with(&seller)
                    && SEPARATORS.iter().filter(|sep| text.contains(*sep)).count() >= 1
                    && text.len() > seller.len() + 3
            })
            .map(|c| At { line: l, cell: c })
    })?;
    let x0 = doc.cell(sender).x0;
    let line = &doc.lines[sender.line];
    doc.lines.iter().enumerate().skip(sender.line + 1).take(3).take_while(|(_, next)| next.page == line.page).find_map(
        |(l, next)| {
            let c = next.cells.iter().position(|cell| (cell.x0 - x0).abs() < cell.size)?;
            party_name(&next.cells[c].text).map(|name| (name, At { line: l, cell: c }))
        },
    )
}

/// The first email address in the block of lines under `at` aligned with it.
fn block_email(doc: &Doc<'_>, at: At) -> Option<String> {
    let anchor = doc.cell(at);
    let line = &doc.lines[at.line];
    let mut previous_y = line.y;
    for next in doc.lines.iter().skip(at.line).take(9) {
        if next.page != line.page || previous_y - next.y > 2.5 * next.size.max(anchor.size) {
            break;
        }
        previous_y = next.y;
        let aligned = next.cells.iter().filter(|cell| (cell.x0 - anchor.x0).abs() < 1.5 * cell.size);
        if let Some(email) = aligned.filter_map(|cell| email(&cell.text)).next() {
            return Some(email);
        }
    }
    None
}

/// An email address in `text`.
pub(crate) fn email(text: &str) -> Option<String> {
    let at = text.find('@')?;
    let local = |c: char| c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-');
    let domain = |c: char| c.is_alphanumeric() || matches!(c, '.' | '-');
    let start =
        text[..at].rfind(|c: char| !local(c)).map_or(0, |i| i + text[i..].chars().next().map_or(1, char::len_utf8));
    let end = text[at + 1..].find(|c: char| !domain(c)).map_or(text.len(), |i| at + 1 + i);
    let address = text[start..end].trim_end_matches('.');
    let (user, host) = address.split_once('@')?;
    (!user.is_empty() && host.contains('.') && !host.starts_with('.')).then(|| address.to_owned())
}

/// A VAT identifier's shape after its country prefix: `d` a digit, `L` a letter, `A` either; other characters
/// stand for themselves.
const VAT_FORMATS: &[(&str, &[&str])] = &[
    ("AT", &["Udddddddd"]),
    ("BE", &["dddddddddd"]),
    ("BG", &["ddddddddd", "dddddddddd"]),
    ("CY", &["ddddddddL"]),
    ("CZ", &["dddddddd", "ddddddddd", "dddddddddd"]),
    ("DE", &["ddddddddd"]),
    ("DK", &["dddddddd"]),
    ("EE", &["ddddddddd"]),
    ("EL", &["ddddddddd"]),
    ("ES", &["AdddddddA"]),
    ("FI", &["dddddddd"]),
    ("FR", &["AAddddddddd"]),
    ("HR", &["ddddddddddd"]),
    ("HU", &["dddddddd"]),
    ("IE", &["dAdddddL", "dddddddLL", "ddddddddL"]),
    ("IT", &["ddddddddddd"]),
    ("LT", &["ddddddddd", "dddddddddddd"]),
    ("LU", &["dddddddd"]),
    ("LV", &["ddddddddddd"]),
    ("MT", &["dddddddd"]),
    ("NL", &["dddddddddBdd"]),
    ("PL", &["dddddddddd"]),
    ("PT", &["ddddddddd"]),
    ("RO", &["dd", "ddd", "dddd", "ddddd", "dddddd", "ddddddd", "dddddddd", "ddddddddd", "dddddddddd"]),
    ("SE", &["dddddddddddd"]),
    ("SI", &["dddddddd"]),
    ("SK", &["dddddddddd"]),
    ("GB", &["ddddddddd", "dddddddddddd", "GDddd", "HAddd"]),
    ("XI", &["ddddddddd", "dddddddddddd"]),
    ("CHE", &["ddddddddd"]),
    ("NO", &["ddddddddd", "dddddddddMVA"]),
];

fn matches_format(body: &str, format: &str) -> bool {
    body.len() == format.len()
        && body.chars().zip(format.chars()).all(|(c, f)| match f {
            'd' => c.is_ascii_digit(),
            'L' => c.is_ascii_uppercase(),
            'A' => c.is_ascii_alphanumeric(),
            f => c == f,
        })
}

/// A VAT identifier starting at `words[0]`, spread over as many words as it takes ("GB 123 4567 89").
fn vat_at(words: &[&str]) -> Option<String> {
    let first = words.first()?.trim_start_matches(['(', ':']);
    let (country, formats) = VAT_FORMATS.iter().find(|(country, _)| first.starts_with(country))?;
    let mut body = String::new();
    let mut best = None;
    for (i, word) in words.iter().enumerate().take(6) {
        let word = if i == 0 { &first[country.len()..] } else { word };
        let word = word.trim_end_matches([',', ';', ')']);
        // Only the parts of a number: digits, letters, and the separators people put between groups.
        if !word.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '/')) || word.len() > 14 {
            break;
        }
        let word = if *country == "CHE" {
            word.trim_end_matches("MWST").trim_end_matches("TVA").trim_end_matches("IVA")
        } else {
            word
        };
        body.extend(word.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()));
        if formats.iter().any(|f| matches_format(&body, f)) {
            best = Some(format!("{country}{body}"));
        }
        if body.len() > 12 {
            break;
        }
    }
    best
}

/// The seller's VAT identifier (see the module doc). `buyer` is where the buyer's name is.
fn vat_id(doc: &Doc<'_>, buyer: Option<At>) -> Option<String> {
    let buyer_hint = ["your", "customer", "client", "buyer", "kunde", "ihre", "acheteur", "du client"];
    let in_buyer_block = |l: usize, x0: f64| {
        buyer.is_some_and(|b| {
            let anchor = doc.cell(b);
            l >= b.line
                && l <= b.line + 6
                && doc.lines[l].page == doc.lines[b.line].page
                && (x0 - anchor.x0).abs() < 2.0 * anchor.size
        })
    };
    for (l, line) in doc.lines.iter().enumerate() {
        for (c, cell) in line.cells.iter().enumerate() {
            let words: Vec<&str> = cell.text.split_whitespace().collect();
            for i in 0..words.len() {
                let Some(id) = vat_at(&words[i..]) else { continue };
                let before = words[..i].join(" ");
                let previous = if c > 0 { line.cells[c - 1].text.as_str() } else { "" };
                let context = labels::normalise(&format!("{previous} {before}"));
                if context.split_whitespace().last().is_some_and(|w| w.starts_with("iban") || w.starts_with("bic")) {
                    continue;
                }
                let labelled = vat_labelled(&before) || (i == 0 && vat_labelled(previous));
                let attached = words[i].len() > 3 && words[i].chars().nth(2).is_some_and(|c| c.is_ascii_alphanumeric());
                if !(labelled || attached) {
                    continue;
                }
                if buyer_hint.iter().any(|h| context.contains(h)) || in_buyer_block(l, cell.x0) {
                    continue;
                }
                return Some(id);
            }
        }
    }
    None
}

/// Whether `text` ends with (or is) a VAT label: "VAT Reg No:", "USt-IdNr.", "TVA :".
fn vat_labelled(text: &str) -> bool {
    let normal = labels::normalise(text);
    let last_words: Vec<&str> = normal.split_whitespace().collect();
    // The label is one of the last few words ("VAT Reg No:" is three).
    (0..last_words.len().min(4)).any(|k| {
        let tail = last_words[last_words.len() - 1 - k..].join(" ");
        matches!(labels::classify(&tail), Some((Label::VatId | Label::Tax, rest)) if rest.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vat_numbers_are_read_across_spaces_in_their_country_format() {
        let read = |text: &str| vat_at(&text.split_whitespace().collect::<Vec<_>>());
        assert_eq!(read("GB 123 4567 89").as_deref(), Some("GB123456789"));
        assert_eq!(read("DE 811 234 567 · IBAN").as_deref(), Some("DE811234567"));
        assert_eq!(read("FR 83 404833048").as_deref(), Some("FR83404833048"));
        assert_eq!(read("CHE-123.456.789 MWST").as_deref(), Some("CHE123456789"));
        assert_eq!(read("DE89 3704 0044 0532 0130 00"), None);
        assert_eq!(read("DE12345"), None);
    }

    #[test]
    fn emails_are_cut_out_of_their_cell() {
        assert_eq!(
            email("E-Mail: buchhaltung@baeckerei-schroeder.de").as_deref(),
            Some("buchhaltung@baeckerei-schroeder.de")
        );
        assert_eq!(email("(ap@northwind.example)").as_deref(), Some("ap@northwind.example"));
        assert_eq!(email("@ home"), None);
    }
}

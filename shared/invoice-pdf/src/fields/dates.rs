//! Dates as invoices print them: `2026-03-31`, `31.03.2026`, `31/03/2026` or `03/31/2026`, `March 31, 2026`,
//! `31 Mar 2026`, `31. März 2026`, `31 mars 2026`, `31-Mar-2026`.
//!
//! Slashed dates are day first unless the document shows otherwise: one date whose first number is over 12
//! settles it for the whole document, as does one whose second is; with neither, US dollars mean month first.

use time::{Date, Month};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DayOrder {
    DayFirst,
    MonthFirst,
}

impl DayOrder {
    /// The order of slashed dates in `texts`, or `None` when none of them tells.
    pub(crate) fn of<'a>(texts: impl Iterator<Item = &'a str>) -> Option<DayOrder> {
        for text in texts.filter(|t| t.contains('/')) {
            for token in text.split(|c: char| c.is_whitespace() || c == ',') {
                let parts: Vec<&str> = token.split('/').collect();
                if let [a, b, y] = parts[..]
                    && let (Ok(a), Ok(b)) = (a.parse::<u8>(), b.parse::<u8>())
                    && y.len() >= 2
                    && y.bytes().take(4).all(|c| c.is_ascii_digit())
                {
                    if a > 12 && b <= 12 {
                        return Some(DayOrder::DayFirst);
                    }
                    if b > 12 && a <= 12 {
                        return Some(DayOrder::MonthFirst);
                    }
                }
            }
        }
        None
    }
}

const MONTHS: &[(&str, u8)] = &[
    ("january", 1),
    ("jan", 1),
    ("januar", 1),
    ("jänner", 1),
    ("janvier", 1),
    ("janv", 1),
    ("february", 2),
    ("feb", 2),
    ("februar", 2),
    ("février", 2),
    ("fevrier", 2),
    ("févr", 2),
    ("fevr", 2),
    ("march", 3),
    ("mar", 3),
    ("märz", 3),
    ("maerz", 3),
    ("mär", 3),
    ("mrz", 3),
    ("mars", 3),
    ("april", 4),
    ("apr", 4),
    ("avril", 4),
    ("avr", 4),
    ("may", 5),
    ("mai", 5),
    ("june", 6),
    ("jun", 6),
    ("juni", 6),
    ("juin", 6),
    ("july", 7),
    ("jul", 7),
    ("juli", 7),
    ("juillet", 7),
    ("juil", 7),
    ("august", 8),
    ("aug", 8),
    ("août", 8),
    ("aout", 8),
    ("september", 9),
    ("sep", 9),
    ("sept", 9),
    ("septembre", 9),
    ("october", 10),
    ("oct", 10),
    ("oktober", 10),
    ("okt", 10),
    ("octobre", 10),
    ("november", 11),
    ("nov", 11),
    ("novembre", 11),
    ("december", 12),
    ("dec", 12),
    ("dezember", 12),
    ("dez", 12),
    ("décembre", 12),
    ("decembre", 12),
    ("déc", 12),
    ("sept.", 9),
    ("janv.", 1),
    ("févr.", 2),
    ("juil.", 7),
];

fn month(word: &str) -> Option<u8> {
    let word = word.trim_end_matches(['.', ',']).to_lowercase();
    MONTHS.iter().find(|(name, _)| *name == word).map(|(_, m)| *m)
}

fn day(word: &str) -> Option<u8> {
    let word = word.trim_end_matches([',', '.']);
    let word = ["st", "nd", "rd", "th", "er"].iter().find_map(|s| word.strip_suffix(s)).unwrap_or(word);
    (1..=2).contains(&word.len()).then(|| word.parse().ok()).flatten()
}

fn year(word: &str) -> Option<i32> {
    let word = word.trim_end_matches([',', '.', ')']);
    match word.len() {
        4 => word.parse().ok().filter(|y| (1900..=2199).contains(y)),
        _ => None,
    }
}

fn make(y: i32, m: u8, d: u8) -> Option<Date> {
    Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()
}

/// The first date in `text`.
pub(crate) fn find(text: &str, order: DayOrder) -> Option<Date> {
    let words: Vec<&str> = text.split_whitespace().collect();
    for (i, word) in words.iter().enumerate() {
        let word = word.trim_start_matches(['(', ':']);
        if let Some(date) = numeric(word, order) {
            return Some(date);
        }
        // "31 March 2026", "31. März 2026"
        if let (Some(d), Some(m), Some(y)) =
            (day(word), words.get(i + 1).and_then(|w| month(w)), words.get(i + 2).and_then(|w| year(w)))
            && let Some(date) = make(y, m, d)
        {
            return Some(date);
        }
        // "March 31, 2026", "Mar 31 2026"
        if let (Some(m), Some(d), Some(y)) =
            (month(word), words.get(i + 1).and_then(|w| day(w)), words.get(i + 2).and_then(|w| year(w)))
            && let Some(date) = make(y, m, d)
        {
            return Some(date);
        }
        // "31-Mar-2026"
        let parts: Vec<&str> = word.trim_end_matches([',', '.']).split('-').collect();
        if let [d, m, y] = parts[..]
            && let (Some(d), Some(m), Some(y)) = (day(d), month(m), year(y))
            && let Some(date) = make(y, m, d)
        {
            return Some(date);
        }
    }
    None
}

/// `2026-03-31`, `2026/03/31`, `31.03.2026`, `31.03.26`, `31/03/2026`, `03/31/2026`, `31-03-2026`.
fn numeric(word: &str, order: DayOrder) -> Option<Date> {
    let word = word.trim_end_matches([',', ';', ')']);
    let word = word.strip_suffix('.').filter(|w| w.matches('.').count() == 2).unwrap_or(word);
    let separator = word.chars().find(|c| matches!(c, '-' | '/' | '.'))?;
    let parts: Vec<&str> = word.split(separator).collect();
    let [a, b, c] = parts[..] else { return None };
    if !parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    if a.len() == 4 {
        return make(a.parse().ok()?, b.parse().ok()?, c.parse().ok()?).filter(|_| b.len() <= 2 && c.len() <= 2);
    }
    if a.len() > 2 || b.len() > 2 {
        return None;
    }
    let y: i32 = match c.len() {
        4 => c.parse().ok()?,
        2 if separator == '.' => 2000 + c.parse::<i32>().ok()?,
        _ => return None,
    };
    let (a, b): (u8, u8) = (a.parse().ok()?, b.parse().ok()?);
    let (d, m) = match (separator, order) {
        ('/', DayOrder::MonthFirst) => (b, a),
        _ => (a, b),
    };
    make(y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use DayOrder::{DayFirst, MonthFirst};

    fn iso(text: &str, order: DayOrder) -> Option<String> {
        find(text, order).map(|d| d.to_string())
    }

    #[test]
    fn every_common_format_reads_as_the_same_day() {
        for text in [
            "2026-03-31",
            "31.03.2026",
            "31/03/2026",
            "March 31, 2026",
            "31 Mar 2026",
            "Date: 31. März 2026",
            "31 mars 2026",
            "31-Mar-2026",
            "31st March 2026",
            "31.03.26",
        ] {
            assert_eq!(iso(text, DayFirst).as_deref(), Some("2026-03-31"), "{text}");
        }
        assert_eq!(iso("03/31/2026", MonthFirst).as_deref(), Some("2026-03-31"));
    }

    #[test]
    fn amounts_and_impossible_dates_are_not_dates() {
        for text in ["1.234,56", "31.02.2026", "2026/0099", "Invoice 12/2026", "13/13/2026"] {
            assert_eq!(iso(text, DayFirst), None, "{text}");
        }
    }

    #[test]
    fn the_document_decides_the_slash_order() {
        assert_eq!(DayOrder::of(["03/31/2026", "04/01/2026"].into_iter()), Some(MonthFirst));
        assert_eq!(DayOrder::of(["31/03/2026"].into_iter()), Some(DayFirst));
        assert_eq!(DayOrder::of(["01/02/2026"].into_iter()), None);
    }
}

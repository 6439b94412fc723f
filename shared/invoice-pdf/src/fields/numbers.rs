//! Amounts and currencies as invoices print them: `1,234.56`, `1.234,56 €`, `€ 1 234,56`, `CHF 4'350.00`,
//! `(12.00)`, `12,00-`.
//!
//! Which mark is the decimal one is decided once per document ([`DecimalMark::of`]) from the amounts that say it
//! unambiguously (`1.234,56`, `18,90`), because `1.234` alone could be either. A cell is an amount only when
//! all of it is: a date (`31.03.2026`), a phone number or a percentage never parses, because thousands groups
//! must have three digits and nothing else may be left over.

use std::str::FromStr;

use rust_decimal::Decimal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecimalMark {
    Dot,
    Comma,
}

impl DecimalMark {
    /// The document's decimal mark, by a vote of the numbers in `texts` that show it.
    pub(crate) fn of<'a>(texts: impl Iterator<Item = &'a str>) -> DecimalMark {
        let (mut dot, mut comma) = (0, 0);
        for text in texts {
            for token in text.split(|c: char| c.is_whitespace() || c == '€' || c == '$' || c == '£') {
                let token = token.trim_matches(|c: char| !c.is_ascii_digit());
                let Some(at) = token.rfind(['.', ',']) else { continue };
                let after = &token[at + 1..];
                if !after.bytes().all(|b| b.is_ascii_digit()) {
                    continue;
                }
                // "18,90" or "1.234,56" shows its mark; "1.234" or "31.03.2026" does not.
                if after.len() == 2 || token.contains('.') && token.contains(',') {
                    if token[at..].starts_with('.') {
                        dot += 1;
                    } else {
                        comma += 1;
                    }
                }
            }
        }
        if comma > dot { DecimalMark::Comma } else { DecimalMark::Dot }
    }

    fn char(self) -> char {
        match self {
            DecimalMark::Dot => '.',
            DecimalMark::Comma => ',',
        }
    }
}

/// ISO 4217 codes looked for in text (the currencies invoices in Europe and North America use, and a few more).
const CODES: [&str; 30] = [
    "EUR", "USD", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "RON", "BGN", "ISK", "JPY", "CNY", "CAD",
    "AUD", "NZD", "INR", "SGD", "HKD", "ZAR", "TRY", "MXN", "BRL", "AED", "ILS", "KRW", "RUB", "UAH",
];

/// Symbols and the code each stands for (`$` is taken as US dollars; `kr` is ambiguous and left out).
const SYMBOLS: [(&str, &str); 9] = [
    ("€", "EUR"),
    ("£", "GBP"),
    ("$", "USD"),
    ("¥", "JPY"),
    ("₹", "INR"),
    ("zł", "PLN"),
    ("Fr.", "CHF"),
    ("₺", "TRY"),
    ("₩", "KRW"),
];

/// The ISO code a text names, as a code (a whole word) or a symbol.
pub(crate) fn currency_code(text: &str) -> Option<&'static str> {
    currency_by_code(text).or_else(|| currency_by_symbol(text))
}

pub(crate) fn currency_by_code(text: &str) -> Option<&'static str> {
    // Words of exactly three capital letters, compared with the list only when one is found.
    let bytes = text.as_bytes();
    let mut start = 0;
    for end in 0..=bytes.len() {
        if end < bytes.len() && bytes[end].is_ascii_alphabetic() {
            continue;
        }
        let word = &bytes[start..end];
        if word.len() == 3
            && word.iter().all(u8::is_ascii_uppercase)
            && let Some(code) = CODES.iter().find(|code| code.as_bytes() == word)
        {
            return Some(code);
        }
        start = end + 1;
    }
    None
}

pub(crate) fn currency_by_symbol(text: &str) -> Option<&'static str> {
    // Every symbol is non-ASCII or contains '$' or 'F': most cells are ruled out at a glance.
    if text.is_ascii() && !text.contains(['$', 'F']) {
        return None;
    }
    SYMBOLS.iter().find(|(symbol, _)| text.contains(symbol)).map(|(_, code)| *code)
}

/// The amount a whole cell states, with any currency code or symbol around it.
pub(crate) fn amount(text: &str, mark: DecimalMark) -> Option<Decimal> {
    let mut s = text.trim();
    if s.contains('%') || s.is_empty() {
        return None;
    }
    // A currency before or after, as a code or a symbol: the text up to the first digit (and after the last)
    // must be one, or nothing.
    let is_number_char = |c: char| c.is_ascii_digit() || matches!(c, '-' | '−' | '–' | '(' | '+');
    let start = s.find(is_number_char)?;
    let end = s.rfind(|c: char| c.is_ascii_digit() || c == ')' || c == '-').map_or(s.len(), |i| i + 1);
    let is_currency = |t: &str| {
        let t = t.trim();
        t.is_empty() || CODES.contains(&t) || SYMBOLS.iter().any(|(symbol, _)| *symbol == t)
    };
    if start > end || !is_currency(&s[..start]) || !is_currency(&s[end..]) {
        return None;
    }
    s = s[start..end].trim();
    let mut negative = false;
    if let Some(inner) = s.strip_prefix('(').and_then(|i| i.strip_suffix(')')) {
        negative = true;
        s = inner.trim();
    }
    if let Some(rest) = s.strip_prefix(['-', '−', '–']) {
        negative = !negative;
        s = rest.trim_start();
    } else if let Some(rest) = s.strip_suffix('-') {
        // German accounting writes credits as "12,00-".
        negative = !negative;
        s = rest.trim_end();
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    number(s, mark).map(|n| if negative { -n } else { n })
}

/// A quantity: the number a cell starts with ("2,5", "10 pcs", "3 h").
pub(crate) fn quantity(text: &str, mark: DecimalMark) -> Option<Decimal> {
    let text = text.trim();
    if let Some(n) = amount(text, mark) {
        return Some(n);
    }
    let end = text.find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | ',' | '\'' | '-'))).unwrap_or(text.len());
    let rest = text[end..].trim_start();
    // The rest must be a unit ("pcs", "h", "Stk."), without more numbers.
    if end == 0 || rest.contains(|c: char| c.is_ascii_digit()) {
        return None;
    }
    number(&text[..end], mark)
}

/// Digits with grouping and one decimal mark; every group after the first exactly three digits.
fn number(s: &str, mark: DecimalMark) -> Option<Decimal> {
    if s.is_empty() || !s.starts_with(|c: char| c.is_ascii_digit()) || !s.ends_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let separators: Vec<(usize, char)> = s.char_indices().filter(|(_, c)| !c.is_ascii_digit()).collect();
    if separators.iter().any(|(_, c)| !matches!(c, '.' | ',' | '\'' | '’' | ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}'))
    {
        return None;
    }
    // The decimal mark: the last '.' or ',' if it is the document's mark, or if it cannot be a thousands
    // separator (it is followed by other than three digits, or it differs from an earlier separator).
    let decimal_at = separators.iter().rev().find(|(_, c)| matches!(c, '.' | ',')).and_then(|&(at, c)| {
        let digits_after = s[at + c.len_utf8()..].len();
        let others: Vec<char> = separators.iter().filter(|(i, _)| *i != at).map(|(_, c)| *c).collect();
        let is_decimal = c == mark.char() && !others.contains(&c)
            || digits_after != 3 && !others.contains(&c)
            || others.iter().any(|&o| o != c && matches!(o, '.' | ','));
        is_decimal.then_some(at)
    });
    let (integer, fraction) = match decimal_at {
        Some(at) => (&s[..at], &s[at + 1..]),
        None => (s, ""),
    };
    if fraction.contains(|c: char| !c.is_ascii_digit()) {
        return None;
    }
    let groups: Vec<&str> = integer.split(|c: char| !c.is_ascii_digit()).collect();
    if groups.len() > 1 && (groups[0].is_empty() || groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3)) {
        return None;
    }
    let digits: String = groups.concat();
    let normalised = if fraction.is_empty() { digits } else { format!("{digits}.{fraction}") };
    Decimal::from_str(&normalised).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use DecimalMark::{Comma, Dot};

    fn d(s: &str) -> Option<Decimal> {
        Decimal::from_str(s).ok()
    }

    #[test]
    fn amounts_parse_in_both_conventions_and_with_currencies() {
        assert_eq!(amount("1,234.56", Dot), d("1234.56"));
        assert_eq!(amount("1.234,56 €", Comma), d("1234.56"));
        assert_eq!(amount("€ 1 234,56", Comma), d("1234.56"));
        assert_eq!(amount("CHF 4'350.00", Dot), d("4350.00"));
        assert_eq!(amount("USD 7,910.00", Dot), d("7910.00"));
        assert_eq!(amount("£12.50", Dot), d("12.50"));
        assert_eq!(amount("(12.00)", Dot), d("-12.00"));
        assert_eq!(amount("12,00-", Comma), d("-12.00"));
        assert_eq!(amount("18,90 €", Dot), d("18.90"));
    }

    #[test]
    fn three_digits_after_a_single_mark_follow_the_document() {
        assert_eq!(amount("1.234", Comma), d("1234"));
        assert_eq!(amount("1.234", Dot), d("1.234"));
        assert_eq!(amount("1,234", Dot), d("1234"));
    }

    #[test]
    fn dates_percentages_and_phone_numbers_are_not_amounts() {
        for text in ["31.03.2026", "2026-03-31", "20%", "+49 30 1234567", "DE 811 234 567", "INV-42", "12 345,6,7"] {
            assert_eq!(amount(text, Comma), None, "{text}");
            assert_eq!(amount(text, Dot), None, "{text}");
        }
    }

    #[test]
    fn quantities_may_carry_a_unit() {
        assert_eq!(quantity("2,5", Comma), d("2.5"));
        assert_eq!(quantity("10 pcs", Dot), d("10"));
        assert_eq!(quantity("24.5", Dot), d("24.5"));
        assert_eq!(quantity("3 x 4", Dot), None);
    }

    #[test]
    fn the_decimal_mark_is_voted_by_unambiguous_amounts() {
        assert_eq!(DecimalMark::of(["1.082,30 €", "18,90 €", "31.03.2026"].into_iter()), Comma);
        assert_eq!(DecimalMark::of(["2,940.00", "120.00", "24.5"].into_iter()), Dot);
    }

    #[test]
    fn currencies_are_found_by_code_or_symbol() {
        assert_eq!(currency_code("Total CHF"), Some("CHF"));
        assert_eq!(currency_code("756,00 €"), Some("EUR"));
        assert_eq!(currency_code("EURO"), None);
    }
}

//! Invoice fields found in the text layer's lines of cells: what a person does reading an invoice, written down.
//!
//! A field is found by its label ([`labels`]) and read from the rest of the label's cell, the next cell on the
//! line, or the cell under it (for labels above values); amounts, dates and currencies are parsed by
//! [`numbers`] and [`dates`] with the document's own conventions; the line-item table by its header row
//! ([`items`]); the parties and the VAT identifier by position and pattern ([`parties`]). Totals are read from
//! the summary block after the items, and one of net, tax and total that is missing is derived from the other
//! two (the sum is arithmetic, not a guess). What cannot be found stays empty, and without an invoice number,
//! an issue date, a total, a currency or a seller the PDF is not taken for an invoice.

pub(crate) mod dates;
pub(crate) mod items;
pub(crate) mod labels;
pub(crate) mod numbers;
pub(crate) mod parties;

use domain::invoice::{Amount, Buyer, Invoice, Seller, Source};
use rust_decimal::Decimal;
use time::Date;

use crate::error::ParseError;
use crate::text::{Cell, Line};
use dates::DayOrder;
use labels::Label;
use numbers::DecimalMark;

/// The lines and the conventions read from them.
pub(crate) struct Doc<'a> {
    pub lines: &'a [Line],
    pub mark: DecimalMark,
    pub order: DayOrder,
    /// Each cell's label and where the rest of its text starts, classified once (finding a field looks at every
    /// cell for every kind of label).
    labels: Vec<Vec<Option<(Label, usize)>>>,
}

/// Where a cell is: line and cell index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct At {
    pub line: usize,
    pub cell: usize,
}

impl<'a> Doc<'a> {
    pub(crate) fn new(lines: &'a [Line], mark: DecimalMark, order: DayOrder) -> Self {
        let labels = lines
            .iter()
            .map(|line| {
                line.cells
                    .iter()
                    .map(|cell| labels::classify(&cell.text).map(|(kind, rest)| (kind, cell.text.len() - rest.len())))
                    .collect()
            })
            .collect();
        Doc { lines, mark, order, labels }
    }

    /// The label the cell at `at` starts with, and the rest of its text.
    pub(crate) fn label(&self, at: At) -> Option<(Label, &'a str)> {
        let (kind, rest) = self.labels[at.line][at.cell]?;
        Some((kind, &self.cell(at).text[rest..]))
    }

    pub(crate) fn cell(&self, at: At) -> &'a Cell {
        &self.lines[at.line].cells[at.cell]
    }

    fn cells(&self) -> impl Iterator<Item = (At, &'a Cell)> + '_ {
        self.lines
            .iter()
            .enumerate()
            .flat_map(|(l, line)| line.cells.iter().enumerate().map(move |(c, cell)| (At { line: l, cell: c }, cell)))
    }

    /// Cells starting with a label of `kind`, with the rest of the cell after the label.
    pub(crate) fn labelled(&self, kind: Label) -> impl Iterator<Item = (At, &'a str)> + '_ {
        self.cells().filter_map(move |(at, _)| match self.label(at) {
            Some((k, rest)) if k == kind => Some((at, rest)),
            _ => None,
        })
    }

    /// The value of the label at `at`: the rest of its cell, else the next cell on its line (when near and not
    /// itself a label), else the cell under it. `read` decides what is a value.
    pub(crate) fn value<T>(&self, at: At, rest: &str, read: impl Fn(&str) -> Option<T>) -> Option<(T, At)> {
        if !rest.is_empty() {
            return read(rest).map(|v| (v, at));
        }
        let line = &self.lines[at.line];
        let label = &line.cells[at.cell];
        if let Some(next) = line.cells.get(at.cell + 1)
            && next.x0 - label.x1 < 15.0 * label.size
            && !matches!(self.label(At { line: at.line, cell: at.cell + 1 }), Some((_, "")))
            && let Some(v) = read(&next.text)
        {
            return Some((v, At { line: at.line, cell: at.cell + 1 }));
        }
        let below = self.below(at)?;
        read(&self.cell(below).text).map(|v| (v, below))
    }

    /// The first cell under the cell at `at` that overlaps it horizontally, within a few lines of the same page.
    pub(crate) fn below(&self, at: At) -> Option<At> {
        let cell = self.cell(at);
        let line = &self.lines[at.line];
        for (l, next) in self.lines.iter().enumerate().skip(at.line + 1).take(4) {
            if next.page != line.page || line.y - next.y > 4.0 * line.size.max(next.size) {
                return None;
            }
            let margin = 0.5 * cell.size;
            if let Some(c) = next.cells.iter().position(|c| c.x0 < cell.x1 + margin && c.x1 > cell.x0 - margin) {
                return Some(At { line: l, cell: c });
            }
        }
        None
    }

    fn amount(&self, text: &str) -> Option<Amount> {
        numbers::amount(text, self.mark)
    }

    fn date(&self, text: &str) -> Option<Date> {
        dates::find(text, self.order)
    }
}

/// A cell that is only a label ("Invoice No:", "BILL TO"), so not the value of the label before it.
pub(crate) fn is_bare_label(text: &str) -> bool {
    matches!(labels::classify(text), Some((_, rest)) if rest.is_empty())
}

/// The invoice the lines show, or what is missing for them to be one.
pub(crate) fn extract(lines: &[Line]) -> Result<Invoice, ParseError> {
    let texts = || lines.iter().flat_map(|l| l.cells.iter().map(|c| c.text.as_str()));
    let mark = DecimalMark::of(texts());
    let currency_hint = texts().find_map(numbers::currency_code);
    let order = DayOrder::of(texts()).unwrap_or(if currency_hint == Some("USD") {
        DayOrder::MonthFirst
    } else {
        DayOrder::DayFirst
    });
    let doc = Doc::new(lines, mark, order);

    let number = doc.labelled(Label::Number).find_map(|(at, rest)| doc.value(at, rest, invoice_number)).map(|v| v.0);
    let issue_date =
        doc.labelled(Label::IssueDate).find_map(|(at, rest)| doc.value(at, rest, |t| doc.date(t))).map(|v| v.0);
    let due_date =
        doc.labelled(Label::DueDate).find_map(|(at, rest)| doc.value(at, rest, |t| doc.date(t))).map(|v| v.0);

    let table = items::find(&doc);
    let totals = totals(&doc, table.as_ref().map(|t| t.end_line));
    let currency = currency(&doc, &totals, table.as_ref());
    let parties = parties::find(&doc);

    let net = totals.net;
    let tax = totals.tax;
    let total = totals.total.or(totals.amount_due);
    // One of the three missing: the other two give it. Only a total: nothing states VAT, so none is charged.
    // All three stated but the "net" does not add up: it was the sum of the lines (BT-106) before charges such as
    // shipping, and the tax basis is the total less the VAT (BT-109 = BT-112 − BT-110).
    let mut line_total = None;
    let (net, tax, total) = match (net, tax, total) {
        (Some(n), Some(t), Some(g)) if n + t != g => {
            line_total = Some(n);
            (Some(g - t), Some(t), Some(g))
        }
        (Some(n), Some(t), Some(g)) => (Some(n), Some(t), Some(g)),
        (None, Some(t), Some(g)) => (Some(g - t), Some(t), Some(g)),
        (Some(n), None, Some(g)) => (Some(n), Some(g - n), Some(g)),
        (Some(n), Some(t), None) => (Some(n), Some(t), Some(n + t)),
        (None, None, Some(g)) => (Some(g), Some(Decimal::ZERO), Some(g)),
        other => other,
    };

    let mut missing = Vec::new();
    if number.is_none() {
        missing.push("invoice number");
    }
    if issue_date.is_none() {
        missing.push("issue date");
    }
    if total.is_none() {
        missing.push("total");
    }
    if missing.is_empty() {
        if currency.is_none() {
            missing.push("currency");
        }
        if parties.seller_name.is_none() {
            missing.push("seller name");
        }
    }
    let (Some(number), Some(issue_date), Some(total), Some(currency), Some(seller_name), Some(net), Some(tax)) =
        (number, issue_date, total, currency, parties.seller_name, net, tax)
    else {
        return Err(ParseError::NotAnInvoice { missing });
    };
    Ok(Invoice {
        number,
        issue_date,
        due_date,
        currency: currency.to_owned(),
        seller: Seller { name: seller_name, vat_id: parties.seller_vat_id },
        buyer: Buyer { name: parties.buyer_name, email: parties.buyer_email },
        lines: table.map(|t| t.lines).unwrap_or_default(),
        net,
        tax,
        total,
        line_total,
        allowances: None,
        charges: None,
        prepaid: None,
        amount_due: totals.amount_due,
        vat: Vec::new(),
        source: Source::Text,
        profile: None,
    })
}

/// An invoice number: one token with a digit, of the characters numbers are made of, and not a date.
fn invoice_number(text: &str) -> Option<String> {
    let token = text.split_whitespace().next()?.trim_end_matches([',', ';']);
    let ok = (1..=40).contains(&token.len())
        && token.chars().any(|c| c.is_ascii_digit())
        && token.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '/' | '.' | '_' | '#'))
        && dates::find(token, DayOrder::DayFirst).is_none();
    ok.then(|| token.trim_start_matches('#').to_owned())
}

#[derive(Debug, Default)]
struct Totals {
    net: Option<Amount>,
    tax: Option<Amount>,
    total: Option<Amount>,
    amount_due: Option<Amount>,
    /// The lines the totals were read from, for the currency.
    lines: Vec<usize>,
}

/// The summary block: labelled amounts after the line items (or anywhere, without a table). The total is the
/// last one labelled so; VAT lines between the net total and the total are added up (one per rate).
fn totals(doc: &Doc<'_>, after: Option<usize>) -> Totals {
    let start = after.map_or(0, |end| end + 1);
    let mut found: Vec<(usize, Label, Amount)> = Vec::new();
    for (l, line) in doc.lines.iter().enumerate().skip(start) {
        for c in 0..line.cells.len() {
            let Some((kind @ (Label::Net | Label::Tax | Label::Total | Label::AmountDue), rest)) =
                doc.label(At { line: l, cell: c })
            else {
                continue;
            };
            // The amount: the rest of the label's cell, else the last cell of the line that is an amount.
            let amount =
                doc.amount(rest).or_else(|| line.cells[c + 1..].iter().rev().find_map(|cell| doc.amount(&cell.text)));
            if let Some(amount) = amount {
                found.push((l, kind, amount));
                break;
            }
        }
    }
    let last = |kind: Label| found.iter().rev().find(|(_, k, _)| *k == kind);
    let mut totals = Totals::default();
    let total = last(Label::Total);
    let end = total.map_or(usize::MAX, |t| t.0);
    let net = found.iter().rev().find(|(l, k, _)| *k == Label::Net && *l < end).or_else(|| last(Label::Net));
    let from = net.map_or(0, |n| n.0);
    let taxes: Vec<_> = found.iter().filter(|(l, k, _)| *k == Label::Tax && *l > from && *l < end).collect();
    totals.tax = if taxes.is_empty() { last(Label::Tax).map(|t| t.2) } else { Some(taxes.iter().map(|t| t.2).sum()) };
    totals.net = net.map(|n| n.2);
    totals.total = total.map(|t| t.2);
    totals.amount_due = last(Label::AmountDue).map(|t| t.2);
    totals.lines = found.iter().map(|(l, _, _)| *l).collect();
    totals
}

/// The currency: a "Currency" label, else a code or symbol on the totals lines, in the items, or anywhere with
/// an amount; codes before symbols (`$` is many dollars).
fn currency(doc: &Doc<'_>, totals: &Totals, table: Option<&items::Table>) -> Option<&'static str> {
    let labelled = doc.labelled(Label::Currency).find_map(|(at, rest)| doc.value(at, rest, numbers::currency_by_code));
    if let Some((code, _)) = labelled {
        return Some(code);
    }
    let on_lines = |lines: &[usize], find: fn(&str) -> Option<&'static str>| {
        lines.iter().find_map(|&l| doc.lines[l].cells.iter().find_map(|c| find(&c.text)))
    };
    let table_lines: Vec<usize> = table.map_or(0..0, |t| t.start_line..t.end_line + 1).collect();
    for find in [numbers::currency_by_code as fn(&str) -> Option<&'static str>, numbers::currency_by_symbol] {
        if let Some(code) = on_lines(&totals.lines, find).or_else(|| on_lines(&table_lines, find)) {
            return Some(code);
        }
    }
    doc.cells().find_map(|(_, cell)| doc.amount(&cell.text).and_then(|_| numbers::currency_code(&cell.text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invoice_numbers_are_tokens_with_digits_that_are_not_dates() {
        assert_eq!(invoice_number("INV-2026-0042").as_deref(), Some("INV-2026-0042"));
        assert_eq!(invoice_number("2026/0099 (copy)").as_deref(), Some("2026/0099"));
        assert_eq!(invoice_number("#A-1001").as_deref(), Some("A-1001"));
        assert_eq!(invoice_number("31.03.2026"), None);
        assert_eq!(invoice_number("Invoice"), None);
    }
}

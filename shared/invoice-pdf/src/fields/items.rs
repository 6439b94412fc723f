//! The line-item table: found by its header row, read by columns.
//!
//! A header is a line whose cells name a description column and an amount column (and usually quantity and
//! price). Each following line is a row when its amount column holds an amount; cells are assigned to the
//! header cell they overlap most (numbers are right-aligned under right-aligned headers, text left-aligned, so
//! overlap works for both), else to the nearest. A line with only description text right under a row continues
//! that row's description (a wrapped line). The table ends at the first line that is neither, or at a totals
//! label. A table may continue after a page break under a repeated header.
//!
//! Without a quantity column the quantity is 1; without a price column the price is the amount divided by the
//! quantity. Both are stated by the document in effect (a line "Consulting … 500.00" is one of them at 500.00).

use domain::invoice::{Amount, Line as InvoiceLine};
use rust_decimal::Decimal;

use super::labels::{self, Column, Label};
use super::{At, Doc, numbers};
use crate::text::Cell;

pub(crate) struct Table {
    pub lines: Vec<InvoiceLine>,
    /// The header line.
    pub start_line: usize,
    /// The last line read as part of the table.
    pub end_line: usize,
}

struct Header {
    columns: Vec<(f64, f64, Column)>,
}

impl Header {
    fn of(cells: &[Cell]) -> Option<Header> {
        let mut columns = Vec::with_capacity(cells.len());
        let mut seen_description = false;
        let mut unknown = 0;
        for cell in cells {
            // One header cell this reader does not know ("Colour", "Batch") is read past; two make it unlikely
            // the line is a header at all.
            let mut column = match labels::column(&cell.text) {
                Some(column) => column,
                None if unknown == 0 && cells.len() >= 4 => {
                    unknown += 1;
                    Column::Other
                }
                None => return None,
            };
            // Two description columns ("Item", "Description"): the first names the item (BT-153).
            if column == Column::Description {
                if seen_description {
                    column = Column::Other;
                }
                seen_description = true;
            }
            columns.push((cell.x0, cell.x1, column));
        }
        let has = |k: Column| columns.iter().any(|c| c.2 == k);
        (has(Column::Description) && has(Column::Amount) && columns.len() >= 2).then_some(Header { columns })
    }

    /// The column a cell belongs to: most overlap, else nearest.
    fn column_of(&self, cell: &Cell) -> Column {
        let margin = 0.5 * cell.size;
        let overlap =
            |&(x0, x1, _): &(f64, f64, Column)| (cell.x1.min(x1 + margin) - cell.x0.max(x0 - margin)).max(0.0);
        let distance = |&(x0, x1, _): &(f64, f64, Column)| {
            if cell.x1 < x0 {
                x0 - cell.x1
            } else if cell.x0 > x1 {
                cell.x0 - x1
            } else {
                0.0
            }
        };
        let best = self.columns.iter().max_by(|a, b| overlap(a).total_cmp(&overlap(b)));
        match best {
            Some(c) if overlap(c) > 0.0 => c.2,
            _ => self.columns.iter().min_by(|a, b| distance(a).total_cmp(&distance(b))).map_or(Column::Other, |c| c.2),
        }
    }
}

/// The first line-item table in the document.
pub(crate) fn find(doc: &Doc<'_>) -> Option<Table> {
    let start = doc.lines.iter().position(|line| Header::of(&line.cells).is_some())?;
    let mut header = Header::of(&doc.lines[start].cells)?;
    let mut lines: Vec<InvoiceLine> = Vec::new();
    let mut end = start;
    let mut previous_y = doc.lines[start].y;
    let mut l = start + 1;
    while l < doc.lines.len() {
        let line = &doc.lines[l];
        // A repeated header on a new page: carry on under it.
        if line.page != doc.lines[end].page
            && let Some(repeated) = Header::of(&line.cells)
        {
            header = repeated;
            end = l;
            previous_y = line.y;
            l += 1;
            continue;
        }
        let totals_label = (0..line.cells.len()).any(|c| {
            matches!(
                doc.label(At { line: l, cell: c }),
                Some((Label::Net | Label::Tax | Label::Total | Label::AmountDue, _))
            )
        });
        if totals_label {
            break;
        }
        let mut description = Vec::new();
        let (mut quantity, mut price, mut amount) = (None, None, None);
        let mut other_numbers = false;
        for cell in &line.cells {
            match header.column_of(cell) {
                Column::Description => description.push(cell.text.as_str()),
                Column::Quantity => quantity = numbers::quantity(&cell.text, doc.mark),
                Column::UnitPrice => price = numbers::amount(&cell.text, doc.mark),
                Column::Amount => amount = numbers::amount(&cell.text, doc.mark),
                Column::Other => other_numbers |= cell.text.chars().any(|c| c.is_ascii_digit()),
            }
        }
        let description = description.join(" ");
        match amount {
            Some(amount) if !description.is_empty() => {
                lines.push(row(description, quantity, price, amount));
            }
            // A wrapped description: only description text, just under the previous row.
            None if !description.is_empty()
                && quantity.is_none()
                && price.is_none()
                && !other_numbers
                && !lines.is_empty()
                && previous_y - line.y < 1.8 * line.size.max(doc.lines[end].size) =>
            {
                if let Some(last) = lines.last_mut() {
                    last.description.push(' ');
                    last.description.push_str(&description);
                }
            }
            _ => break,
        }
        end = l;
        previous_y = line.y;
        l += 1;
    }
    (!lines.is_empty()).then_some(Table { lines, start_line: start, end_line: end })
}

fn row(description: String, quantity: Option<Amount>, price: Option<Amount>, amount: Amount) -> InvoiceLine {
    let quantity = quantity.unwrap_or(Decimal::ONE);
    let unit_price =
        price.unwrap_or_else(|| if quantity.is_zero() { amount } else { (amount / quantity).round_dp(4).normalize() });
    InvoiceLine { description, quantity, unit_price, amount, base_quantity: None, vat_category: None, vat_rate: None }
}

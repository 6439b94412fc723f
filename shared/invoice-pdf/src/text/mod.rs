//! The text layer: what a person reading the pages would see, as lines of cells.
//!
//! - [`lexer`]: content-stream tokens.
//! - [`interpreter`]: runs the operators, following Form XObjects, and places every glyph.
//! - [`font`], [`cmap`], [`encoding`], [`truetype`], [`tables`]: codes to text and widths.
//! - [`layout`]: glyph runs to lines and cells.

pub(crate) mod cmap;
pub(crate) mod encoding;
pub(crate) mod font;
pub(crate) mod interpreter;
pub(crate) mod layout;
pub(crate) mod lexer;
pub(crate) mod tables;
pub(crate) mod truetype;

use crate::document::Pdf;
use crate::error::ParseError;
use crate::limits::{DecodeBudget, Limits};
pub(crate) use layout::{Cell, Line};

/// Every page's lines, in page order.
pub(crate) fn lines(pdf: &Pdf, limits: &Limits, budget: &mut DecodeBudget) -> Result<Vec<Line>, ParseError> {
    let pages = pdf.pages(limits)?;
    let mut walker = interpreter::Walker::new(pdf, limits, budget);
    let mut lines = Vec::new();
    for (number, page) in pages.iter().enumerate() {
        let runs = walker.page(&page.contents, page.resources)?;
        lines.extend(layout::lines(number, runs, page.rotate));
    }
    Ok(lines)
}

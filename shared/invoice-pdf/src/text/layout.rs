//! From glyph runs to lines of cells: what a person sees when reading the page.
//!
//! Runs on one baseline (within a fraction of the font size) make a line, read left to right. Within a line a
//! small gap between runs is a space and a wide one (more than [`COLUMN_GAP`] ems) separates cells, so that
//! "Qty" and "10", or a label and its value, stay apart: the field finder works on cells, never on text glued
//! across columns. The page's main direction is the one most glyphs are written in (which also undoes a page's
//! `/Rotate`); text in other directions (a sideways margin note) is left out.

use std::fmt;

use super::interpreter::Run;

/// A gap wider than this many ems between two runs separates columns.
pub(crate) const COLUMN_GAP: f64 = 1.2;
/// A gap narrower than this many ems is no gap at all (kerning, or a run split by a font change).
const NO_GAP: f64 = 0.15;

/// A piece of a line that stands apart from its neighbours: a table cell, a label, a value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cell {
    pub x0: f64,
    pub x1: f64,
    pub size: f64,
    pub text: String,
}

/// One line of a page, top to bottom, with its cells left to right.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Line {
    pub page: usize,
    /// The baseline, growing upwards.
    pub y: f64,
    /// The largest font size on the line.
    pub size: f64,
    pub cells: Vec<Cell>,
}

impl fmt::Display for Line {
    /// The cells separated by a tab, as in a spreadsheet's copy.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, cell) in self.cells.iter().enumerate() {
            if i > 0 {
                f.write_str("\t")?;
            }
            f.write_str(&cell.text)?;
        }
        Ok(())
    }
}

/// The lines of one page from its runs.
pub(crate) fn lines(page: usize, mut runs: Vec<Run>, rotate: i64) -> Vec<Line> {
    // The main direction: most glyphs; on a tie, the one the page's /Rotate turns upright.
    let mut counts = [0_usize; 4];
    for run in &runs {
        counts[usize::from(run.quadrant)] += run.glyphs;
    }
    let preferred = ((rotate / 90).rem_euclid(4)) as usize;
    let main = (0..4).max_by_key(|&q| (counts[q], q == preferred)).unwrap_or(0) as u8;
    runs.retain(|run| run.quadrant == main && !run.text.trim().is_empty());
    runs.sort_by(|a, b| b.y.total_cmp(&a.y).then(a.x0.total_cmp(&b.x0)));

    let mut lines: Vec<(f64, f64, Vec<Run>)> = Vec::new();
    for run in runs {
        match lines.last_mut() {
            Some((y, size, members)) if (*y - run.y).abs() <= 0.4 * size.min(run.size) => {
                *size = size.max(run.size);
                members.push(run);
            }
            _ => lines.push((run.y, run.size, vec![run])),
        }
    }
    lines.into_iter().map(|(y, size, members)| Line { page, y, size, cells: cells(members) }).collect()
}

fn cells(mut runs: Vec<Run>) -> Vec<Cell> {
    runs.sort_by(|a, b| a.x0.total_cmp(&b.x0));
    let mut cells: Vec<Cell> = Vec::new();
    let mut previous: Option<Run> = None;
    for run in runs {
        // The same text drawn twice at the same place (a poor man's bold) is read once.
        if let Some(p) = &previous
            && p.text == run.text
            && (p.x0 - run.x0).abs() < 0.2 * run.size
        {
            continue;
        }
        let size = run.size;
        match cells.last_mut() {
            Some(cell) if run.x0 - cell.x1 < COLUMN_GAP * (size + cell.size) / 2.0 => {
                let gap = run.x0 - cell.x1;
                let spaced = cell.text.ends_with(' ') || run.text.starts_with(' ');
                if gap >= NO_GAP * size && !spaced {
                    cell.text.push(' ');
                }
                cell.text.push_str(&run.text);
                cell.x1 = cell.x1.max(run.x1);
                cell.size = cell.size.max(size);
            }
            _ => cells.push(Cell { x0: run.x0, x1: run.x1, size, text: run.text.clone() }),
        }
        previous = Some(run);
    }
    for cell in &mut cells {
        cell.text = normalise_spaces(&cell.text);
    }
    cells.retain(|cell| !cell.text.is_empty());
    cells
}

/// Trims, turns no-break and other spaces into plain ones and collapses runs of them.
fn normalise_spaces(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = if c.is_whitespace() || c == '\u{a0}' || c == '\u{202f}' { ' ' } else { c };
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        if !c.is_control() {
            out.push(c);
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(x0: f64, x1: f64, y: f64, text: &str) -> Run {
        Run { x0, x1, y, size: 10.0, text: text.into(), quadrant: 0, glyphs: text.len() }
    }

    #[test]
    fn a_wide_gap_separates_cells_and_a_narrow_one_is_a_space() {
        let lines = lines(
            0,
            vec![run(100.0, 130.0, 700.0, "Qty"), run(10.0, 40.0, 700.5, "Unit"), run(43.0, 60.0, 700.0, "price")],
            0,
        );
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].to_string(), "Unit price\tQty");
    }

    #[test]
    fn lines_are_read_top_down() {
        let lines = lines(0, vec![run(10.0, 40.0, 600.0, "second"), run(10.0, 40.0, 700.0, "first")], 0);
        let texts: Vec<_> = lines.iter().map(ToString::to_string).collect();
        assert_eq!(texts, ["first", "second"]);
    }

    #[test]
    fn text_drawn_twice_in_place_is_read_once() {
        let lines = lines(0, vec![run(10.0, 40.0, 700.0, "Total"), run(10.3, 40.3, 700.0, "Total")], 0);
        assert_eq!(lines[0].to_string(), "Total");
    }
}

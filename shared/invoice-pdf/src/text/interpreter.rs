//! The content-stream walk: runs the text and graphics-state operators of each page (and of the Form XObjects
//! it draws) and records where each glyph lands, as runs of adjacent glyphs on one baseline.
//!
//! Positions are what make columns: a table cell is text at an x, not text after some spaces. So every glyph is
//! placed through the full matrix chain (text matrix × CTM, font size, horizontal scaling, rise), advanced by its
//! width plus character and word spacing, and `TJ` adjustments move the pen like any other positioning. Glyphs
//! continue a run while each starts where the previous one ended; a jump starts a new run, and
//! [`layout`](super::layout) decides later whether a jump was a space or a column.
//!
//! Every cost is bounded: operators and glyphs are counted against the [`Limits`], Form XObjects are followed
//! to a depth limit and never into one already being drawn (a form that draws itself), and the `q` stack is
//! capped.

use std::collections::HashMap;
use std::rc::Rc;

use lopdf::{Dictionary, Object, ObjectId};

use super::font::{Font, Glyph};
use super::lexer::{Lexer, Operand};
use crate::document::Pdf;
use crate::error::{Exceeded, ParseError};
use crate::limits::{DecodeBudget, Limits};

/// Saved graphics states kept; deeper `q`s are counted so that their `Q`s still match.
const MAX_STATE_STACK: usize = 256;

/// A 2-D affine matrix `[a b c d e f]`, as PDF writes them (row vector times matrix).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Matrix([f64; 6]);

impl Matrix {
    const IDENTITY: Matrix = Matrix([1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);

    /// `self` then `other`: the matrix that maps a point through `self` first.
    fn then(&self, other: &Matrix) -> Matrix {
        let [a, b, c, d, e, f] = self.0;
        let [a2, b2, c2, d2, e2, f2] = other.0;
        Matrix([
            a * a2 + b * c2,
            a * b2 + b * d2,
            c * a2 + d * c2,
            c * b2 + d * d2,
            e * a2 + f * c2 + e2,
            e * b2 + f * d2 + f2,
        ])
    }

    fn translate(tx: f64, ty: f64) -> Matrix {
        Matrix([1.0, 0.0, 0.0, 1.0, tx, ty])
    }

    fn from_operands(operands: &[Operand]) -> Option<Matrix> {
        let mut m = [0.0; 6];
        if operands.len() < 6 {
            return None;
        }
        for (slot, operand) in m.iter_mut().zip(&operands[operands.len() - 6..]) {
            *slot = number(operand)?;
        }
        Some(Matrix(m))
    }

    fn from_array(pdf: &Pdf, array: &[Object]) -> Option<Matrix> {
        let mut m = [0.0; 6];
        if array.len() != 6 {
            return None;
        }
        for (slot, item) in m.iter_mut().zip(array) {
            *slot = pdf.number(item)?;
        }
        Some(Matrix(m))
    }
}

fn number(operand: &Operand) -> Option<f64> {
    match operand {
        Operand::Number(n) => Some(*n),
        _ => None,
    }
}

/// Adjacent glyphs on one baseline, in the reading frame of their direction (see [`Run::quadrant`]).
#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub x0: f64,
    pub x1: f64,
    /// The baseline.
    pub y: f64,
    /// The font's em height on the page.
    pub size: f64,
    pub text: String,
    /// The text direction in quarter turns counter-clockwise (0: left to right). Coordinates are rotated so
    /// that this direction reads left to right.
    pub quadrant: u8,
    /// Glyphs in the run (for choosing the page's main direction).
    pub glyphs: usize,
}

#[derive(Clone)]
struct GraphicsState {
    ctm: Matrix,
    font: Option<Rc<Font>>,
    font_size: f64,
    char_spacing: f64,
    word_spacing: f64,
    horizontal_scale: f64,
    leading: f64,
    rise: f64,
}

impl GraphicsState {
    fn new(ctm: Matrix) -> Self {
        GraphicsState {
            ctm,
            font: None,
            font_size: 0.0,
            char_spacing: 0.0,
            word_spacing: 0.0,
            horizontal_scale: 1.0,
            leading: 0.0,
            rise: 0.0,
        }
    }
}

/// Walks the content of one document's pages; fonts are shared between pages.
pub(crate) struct Walker<'p> {
    pdf: &'p Pdf,
    limits: &'p Limits,
    budget: &'p mut DecodeBudget,
    fonts: HashMap<ObjectId, Rc<Font>>,
    operations: usize,
    glyph_count: usize,
    runs: Vec<Run>,
    text: String,
    glyphs: Vec<Glyph>,
}

impl<'p> Walker<'p> {
    pub(crate) fn new(pdf: &'p Pdf, limits: &'p Limits, budget: &'p mut DecodeBudget) -> Self {
        Walker {
            pdf,
            limits,
            budget,
            fonts: HashMap::new(),
            operations: 0,
            glyph_count: 0,
            runs: Vec::new(),
            text: String::new(),
            glyphs: Vec::new(),
        }
    }

    /// The runs of a page whose content streams are `contents` (concatenated, as the format defines).
    pub(crate) fn page(
        &mut self,
        contents: &[&lopdf::Stream],
        resources: Option<&'p Dictionary>,
    ) -> Result<Vec<Run>, ParseError> {
        self.runs.clear();
        let mut data = Vec::new();
        for stream in contents {
            if let Some(decoded) = self.pdf.decode(stream, self.budget)? {
                data.extend_from_slice(&decoded);
                // Streams are split at token boundaries, but a separator keeps "...Tj" + "ET" apart.
                data.push(b'\n');
            }
        }
        let mut state = GraphicsState::new(Matrix::IDENTITY);
        self.run(&data, resources, &mut state, &mut Vec::new())?;
        Ok(std::mem::take(&mut self.runs))
    }

    fn run(
        &mut self,
        data: &[u8],
        resources: Option<&'p Dictionary>,
        state: &mut GraphicsState,
        forms: &mut Vec<ObjectId>,
    ) -> Result<(), ParseError> {
        let mut lexer = Lexer::new(data);
        let mut operands = Vec::new();
        let mut stack: Vec<GraphicsState> = Vec::new();
        let mut overflow = 0_usize;
        let (mut tm, mut tlm) = (Matrix::IDENTITY, Matrix::IDENTITY);
        while let Some(op) = lexer.next_operation(&mut operands) {
            self.operations += 1;
            if self.operations > self.limits.max_operations {
                return Err(ParseError::exceeded(Exceeded::Operations { max: self.limits.max_operations }));
            }
            let n = |i: usize| operands.get(i).and_then(number);
            match op {
                b"q" => {
                    if stack.len() < MAX_STATE_STACK {
                        stack.push(state.clone());
                    } else {
                        overflow += 1;
                    }
                }
                b"Q" => {
                    if overflow > 0 {
                        overflow -= 1;
                    } else if let Some(saved) = stack.pop() {
                        *state = saved;
                    }
                }
                b"cm" => {
                    if let Some(m) = Matrix::from_operands(&operands) {
                        state.ctm = m.then(&state.ctm);
                    }
                }
                b"BT" => {
                    tm = Matrix::IDENTITY;
                    tlm = Matrix::IDENTITY;
                }
                b"Tf" => {
                    if let (Some(Operand::Name(name)), Some(size)) = (operands.first(), n(1)) {
                        state.font = self.font(resources, name)?;
                        state.font_size = size;
                    }
                }
                b"Tc" => state.char_spacing = n(0).unwrap_or(state.char_spacing),
                b"Tw" => state.word_spacing = n(0).unwrap_or(state.word_spacing),
                b"Tz" => state.horizontal_scale = n(0).map_or(state.horizontal_scale, |s| s / 100.0),
                b"TL" => state.leading = n(0).unwrap_or(state.leading),
                b"Ts" => state.rise = n(0).unwrap_or(state.rise),
                b"Td" | b"TD" => {
                    if let (Some(tx), Some(ty)) = (n(0), n(1)) {
                        if op == b"TD" {
                            state.leading = -ty;
                        }
                        tlm = Matrix::translate(tx, ty).then(&tlm);
                        tm = tlm;
                    }
                }
                b"Tm" => {
                    if let Some(m) = Matrix::from_operands(&operands) {
                        tlm = m;
                        tm = m;
                    }
                }
                b"T*" => {
                    tlm = Matrix::translate(0.0, -state.leading).then(&tlm);
                    tm = tlm;
                }
                b"Tj" | b"'" | b"\"" => {
                    if op == b"\"" {
                        state.word_spacing = n(0).unwrap_or(state.word_spacing);
                        state.char_spacing = n(1).unwrap_or(state.char_spacing);
                    }
                    if op != b"Tj" {
                        tlm = Matrix::translate(0.0, -state.leading).then(&tlm);
                        tm = tlm;
                    }
                    if let Some(Operand::String(bytes)) = operands.last() {
                        self.show(bytes, state, &mut tm)?;
                    }
                }
                b"TJ" => {
                    if let Some(Operand::Array(items)) = operands.first() {
                        for item in items {
                            match item {
                                Operand::String(bytes) => self.show(bytes, state, &mut tm)?,
                                Operand::Number(adjust) => {
                                    let tx = -adjust / 1000.0 * state.font_size * state.horizontal_scale;
                                    tm = Matrix::translate(tx, 0.0).then(&tm);
                                }
                                _ => {}
                            }
                        }
                    }
                }
                b"Do" => {
                    if let Some(Operand::Name(name)) = operands.first() {
                        self.form(resources, name, state, forms)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn font(&mut self, resources: Option<&Dictionary>, name: &[u8]) -> Result<Option<Rc<Font>>, ParseError> {
        let pdf = self.pdf;
        let Some(entry) = resources.and_then(|r| pdf.get_dict(r, b"Font")).and_then(|fonts| fonts.get(name).ok())
        else {
            return Ok(None);
        };
        let id = Pdf::id_of(entry);
        if let Some(font) = id.and_then(|id| self.fonts.get(&id)) {
            return Ok(Some(Rc::clone(font)));
        }
        let Some(dict) = pdf.dict(entry) else { return Ok(None) };
        let font = Rc::new(Font::load(pdf, dict, self.budget)?);
        if let Some(id) = id {
            self.fonts.insert(id, Rc::clone(&font));
        }
        Ok(Some(font))
    }

    fn form(
        &mut self,
        resources: Option<&'p Dictionary>,
        name: &[u8],
        state: &GraphicsState,
        forms: &mut Vec<ObjectId>,
    ) -> Result<(), ParseError> {
        let pdf = self.pdf;
        let Some(entry) = resources.and_then(|r| pdf.get_dict(r, b"XObject")).and_then(|x| x.get(name).ok()) else {
            return Ok(());
        };
        let Some(stream) = pdf.stream(entry) else { return Ok(()) };
        if stream.dict.get(b"Subtype").ok().and_then(|s| pdf.name(s)) != Some(b"Form") {
            return Ok(()); // images have no text
        }
        // A form being drawn is never drawn again inside itself; without an id (a direct object, which the
        // format does not allow for streams) the depth limit still ends the recursion.
        let id = Pdf::id_of(entry);
        if forms.len() >= self.limits.max_xobject_depth || id.is_some_and(|id| forms.contains(&id)) {
            return Ok(());
        }
        let Some(data) = pdf.decode(stream, self.budget)? else { return Ok(()) };
        let matrix = stream
            .dict
            .get(b"Matrix")
            .ok()
            .and_then(|m| pdf.array(m))
            .and_then(|m| Matrix::from_array(pdf, m))
            .unwrap_or(Matrix::IDENTITY);
        // A form without resources uses its parent's (old files rely on it).
        let form_resources = pdf.get_dict(&stream.dict, b"Resources").or(resources);
        let mut inner = state.clone();
        inner.ctm = matrix.then(&state.ctm);
        forms.push(id.unwrap_or((0, 0)));
        let result = self.run(&data, form_resources, &mut inner, forms);
        forms.pop();
        result
    }

    fn show(&mut self, bytes: &[u8], state: &GraphicsState, tm: &mut Matrix) -> Result<(), ParseError> {
        let Some(font) = state.font.clone() else { return Ok(()) };
        // The scratch buffers are taken out of `self` for the loop, which adds runs to `self`.
        let (mut text, mut glyphs) = (std::mem::take(&mut self.text), std::mem::take(&mut self.glyphs));
        font.decode(bytes, &mut text, &mut glyphs);
        self.glyph_count += glyphs.len();
        if self.glyph_count > self.limits.max_glyphs {
            return Err(ParseError::exceeded(Exceeded::Glyphs { max: self.limits.max_glyphs }));
        }
        let (fs, hs, rise) = (state.font_size, state.horizontal_scale, state.rise);
        // Each glyph only moves the text matrix along its x axis, so the device matrix of the glyph at advance x
        // is [fs·hs 0 0 fs x rise] × (Tm × CTM): one matrix product per string, a few multiplications per glyph.
        let [ba, bb, bc, bd, be, bf] = tm.then(&state.ctm).0;
        let (a, b, c, d) = (fs * hs * ba, fs * hs * bb, fs * bc, fs * bd);
        let size = (c * c + d * d).sqrt();
        let quadrant = quadrant(a, b);
        let visible = size.is_finite() && size > 1e-3;
        let mut x = 0.0_f64;
        for glyph in &glyphs {
            let (e, f) = (x * ba + rise * bc + be, x * bb + rise * bd + bf);
            if visible && e.is_finite() && f.is_finite() {
                let (x0, y) = to_frame(quadrant, e, f);
                let (x1, _) = to_frame(quadrant, e + a * glyph.width, f + b * glyph.width);
                self.place(quadrant, x0, x1, y, size, &text[glyph.start..glyph.end]);
            }
            let spacing = state.char_spacing + if glyph.word_space { state.word_spacing } else { 0.0 };
            x += (glyph.width * fs + spacing) * hs;
        }
        *tm = Matrix::translate(x, 0.0).then(tm);
        self.text = text;
        self.glyphs = glyphs;
        Ok(())
    }

    /// Adds a glyph to the current run when it starts where that run ends, else starts a new run.
    fn place(&mut self, quadrant: u8, x0: f64, x1: f64, y: f64, size: f64, text: &str) {
        if let Some(run) = self.runs.last_mut()
            && run.quadrant == quadrant
            && (y - run.y).abs() < 0.2 * run.size.min(size)
            && (x0 - run.x1) > -0.5 * size
            && (x0 - run.x1) < 0.15 * size
        {
            run.text.push_str(text);
            run.x1 = run.x1.max(x1);
            run.size = run.size.max(size);
            run.glyphs += 1;
            return;
        }
        self.runs.push(Run { x0, x1: x1.max(x0), y, size, text: text.to_owned(), quadrant, glyphs: 1 });
    }
}

/// The direction of the baseline `(a, b)` in quarter turns counter-clockwise.
fn quadrant(a: f64, b: f64) -> u8 {
    let turns = (b.atan2(a) / std::f64::consts::FRAC_PI_2).round() as i64;
    turns.rem_euclid(4) as u8
}

/// A device point in the frame where text of `quadrant` reads left to right, top line first at the largest y.
fn to_frame(quadrant: u8, x: f64, y: f64) -> (f64, f64) {
    match quadrant {
        1 => (y, -x),
        2 => (-x, -y),
        3 => (-y, x),
        _ => (x, y),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrices_compose_in_pdf_order() {
        let scale = Matrix([2.0, 0.0, 0.0, 2.0, 0.0, 0.0]);
        let shift = Matrix::translate(10.0, 5.0);
        // Scale first, then shift: (1,1) → (2,2) → (12,7).
        let m = scale.then(&shift);
        assert_eq!((m.0[0] + m.0[4], m.0[3] + m.0[5]), (12.0, 7.0));
    }

    #[test]
    fn rotated_text_is_read_in_its_own_direction() {
        assert_eq!(quadrant(0.0, 1.0), 1);
        assert_eq!(quadrant(-1.0, 0.0), 2);
        assert_eq!(quadrant(1.0, 0.01), 0);
        // Text going up the page: later glyphs (larger y) are further right in its frame.
        assert!(to_frame(1, 100.0, 20.0).0 < to_frame(1, 100.0, 30.0).0);
    }
}

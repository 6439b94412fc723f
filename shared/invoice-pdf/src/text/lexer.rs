//! The tokens of a content stream: operands and operators, read straight from the decoded bytes.
//!
//! Our own, rather than lopdf's `Content::decode`, because it lets the interpreter see one operation at a time
//! (so the operation limit stops a hostile stream before it is all parsed), reuses one operand buffer, skips
//! inline image data, and never fails: a malformed token is skipped and reading goes on, as viewers do.

/// An operand. Only what text extraction looks at is kept; dictionaries and keywords become [`Operand::Other`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    Number(f64),
    String(Vec<u8>),
    Name(Vec<u8>),
    Array(Vec<Operand>),
    Other,
}

/// Operands kept before an operator; more are dropped (no operator takes more than a handful; a long run of
/// numbers without an operator is junk or hostile).
const MAX_OPERANDS: usize = 64;
/// Elements kept in one array (a `TJ` array has one per kerning pair; a long line has a few hundred).
const MAX_ARRAY: usize = 1 << 16;
/// Arrays and dictionaries nested deeper than this are skipped.
const MAX_NESTING: usize = 8;

pub(crate) struct Lexer<'a> {
    data: &'a [u8],
    pos: usize,
    max_operands: usize,
}

fn is_white(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t' | b'\x0c' | b'\0')
}

fn is_delimiter(b: u8) -> bool {
    matches!(b, b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%')
}

fn is_regular(b: u8) -> bool {
    !is_white(b) && !is_delimiter(b)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// A token: an operand, the end of an array or dictionary, or an operator.
enum Token<'a> {
    Operand(Operand),
    ArrayEnd,
    DictEnd,
    Operator(&'a [u8]),
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Lexer::with_max_operands(data, MAX_OPERANDS)
    }

    /// A lexer keeping up to `max_operands` per operation (CMaps put hundreds before their `end…` keywords).
    pub(crate) fn with_max_operands(data: &'a [u8], max_operands: usize) -> Self {
        Lexer { data, pos: 0, max_operands }
    }

    /// A lexer at `pos` in `data`, for reading single tokens (the object parser borrows the string and name
    /// syntax, which is the same in objects as in content streams).
    pub(crate) fn at(data: &'a [u8], pos: usize) -> Self {
        Lexer { data, pos, max_operands: MAX_OPERANDS }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Skips white space and comments; the next byte, if any.
    pub(crate) fn peek(&mut self) -> Option<u8> {
        self.skip_white_and_comments();
        self.data.get(self.pos).copied()
    }

    /// A literal string, the lexer on its `(`.
    pub(crate) fn read_literal_string(&mut self) -> Vec<u8> {
        self.literal_string()
    }

    /// A hexadecimal string, the lexer on its `<`.
    pub(crate) fn read_hex_string(&mut self) -> Vec<u8> {
        self.hex_string()
    }

    /// A name, the lexer on its `/`.
    pub(crate) fn read_name(&mut self) -> Vec<u8> {
        self.name()
    }

    /// The regular characters from here (a number or a keyword), advancing past them.
    pub(crate) fn read_regular(&mut self) -> &'a [u8] {
        let start = self.pos;
        while self.data.get(self.pos).is_some_and(|&c| is_regular(c)) {
            self.pos += 1;
        }
        &self.data[start..self.pos]
    }

    pub(crate) fn advance(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.data.len());
    }

    /// Reads the next operation: fills `operands` (cleared first) and returns its operator, or `None` at the end.
    pub(crate) fn next_operation(&mut self, operands: &mut Vec<Operand>) -> Option<&'a [u8]> {
        operands.clear();
        loop {
            match self.token(0)? {
                Token::Operand(operand) => {
                    if operands.len() < self.max_operands {
                        operands.push(operand);
                    }
                }
                Token::ArrayEnd | Token::DictEnd => {}
                Token::Operator(b"ID") => {
                    // Inline image data: binary, ends at the first "EI" between white space.
                    self.skip_inline_image();
                    return Some(b"EI");
                }
                Token::Operator(op) => return Some(op),
            }
        }
    }

    fn skip_white_and_comments(&mut self) {
        while let Some(&b) = self.data.get(self.pos) {
            if is_white(b) {
                self.pos += 1;
            } else if b == b'%' {
                self.pos =
                    memchr::memchr2(b'\n', b'\r', &self.data[self.pos..]).map_or(self.data.len(), |i| self.pos + i);
            } else {
                break;
            }
        }
    }

    fn token(&mut self, depth: usize) -> Option<Token<'a>> {
        self.skip_white_and_comments();
        let &b = self.data.get(self.pos)?;
        Some(match b {
            b'(' => Token::Operand(Operand::String(self.literal_string())),
            b'<' if self.data.get(self.pos + 1) == Some(&b'<') => {
                self.pos += 2;
                self.skip_container(depth, true);
                Token::Operand(Operand::Other)
            }
            b'<' => Token::Operand(Operand::String(self.hex_string())),
            b'>' if self.data.get(self.pos + 1) == Some(&b'>') => {
                self.pos += 2;
                Token::DictEnd
            }
            b'[' => {
                self.pos += 1;
                if depth >= MAX_NESTING {
                    self.skip_container(depth, false);
                    Token::Operand(Operand::Other)
                } else {
                    Token::Operand(Operand::Array(self.array(depth + 1)))
                }
            }
            b']' => {
                self.pos += 1;
                Token::ArrayEnd
            }
            b'/' => Token::Operand(Operand::Name(self.name())),
            b'+' | b'-' | b'.' | b'0'..=b'9' => match self.number() {
                Some(n) => Token::Operand(Operand::Number(n)),
                None => Token::Operand(Operand::Other),
            },
            _ if is_regular(b) => {
                let start = self.pos;
                while self.data.get(self.pos).is_some_and(|&c| is_regular(c)) {
                    self.pos += 1;
                }
                match &self.data[start..self.pos] {
                    b"true" | b"false" | b"null" => Token::Operand(Operand::Other),
                    op => Token::Operator(op),
                }
            }
            _ => {
                // A stray delimiter (`)`, `>`, `{`, `}`): skip it.
                self.pos += 1;
                Token::Operand(Operand::Other)
            }
        })
    }

    fn array(&mut self, depth: usize) -> Vec<Operand> {
        let mut items = Vec::new();
        loop {
            match self.token(depth) {
                None | Some(Token::ArrayEnd) => return items,
                Some(Token::Operand(operand)) => {
                    if items.len() < MAX_ARRAY {
                        items.push(operand);
                    }
                }
                // An operator inside an array is malformed; viewers end the array there.
                Some(Token::Operator(_)) | Some(Token::DictEnd) => return items,
            }
        }
    }

    /// Skips to the end of a dictionary (`dict`) or array, nested ones included, without keeping anything.
    fn skip_container(&mut self, depth: usize, dict: bool) {
        let mut open = vec![dict];
        while let Some(&inner_is_dict) = open.last() {
            self.skip_white_and_comments();
            let Some(&b) = self.data.get(self.pos) else { return };
            match b {
                b'(' => drop(self.literal_string()),
                b'<' if self.data.get(self.pos + 1) == Some(&b'<') => {
                    self.pos += 2;
                    open.push(true);
                }
                b'<' => drop(self.hex_string()),
                b'>' if self.data.get(self.pos + 1) == Some(&b'>') => {
                    self.pos += 2;
                    if inner_is_dict {
                        open.pop();
                    }
                }
                b'[' => {
                    self.pos += 1;
                    open.push(false);
                }
                b']' => {
                    self.pos += 1;
                    if !inner_is_dict {
                        open.pop();
                    }
                }
                _ => self.pos += 1,
            }
            // Nesting is tracked in a Vec, not by recursion, so depth only bounds memory; keep it modest anyway.
            if open.len() > MAX_NESTING * 64 + depth {
                open.truncate(1);
            }
        }
    }

    fn literal_string(&mut self) -> Vec<u8> {
        self.pos += 1; // (
        let mut out = Vec::new();
        let mut depth = 1_usize;
        while let Some(&b) = self.data.get(self.pos) {
            self.pos += 1;
            match b {
                b'(' => {
                    depth += 1;
                    out.push(b);
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                    out.push(b);
                }
                b'\\' => {
                    let Some(&e) = self.data.get(self.pos) else { break };
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'0'..=b'7' => {
                            let mut value = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.data.get(self.pos) {
                                    Some(&d @ b'0'..=b'7') => {
                                        value = value * 8 + u32::from(d - b'0');
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push(value as u8);
                        }
                        b'\r' => {
                            // A line continuation; \r\n counts as one end of line.
                            if self.data.get(self.pos) == Some(&b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        other => out.push(other),
                    }
                }
                _ => out.push(b),
            }
        }
        out
    }

    fn hex_string(&mut self) -> Vec<u8> {
        self.pos += 1; // <
        let mut out = Vec::new();
        let mut high: Option<u8> = None;
        while let Some(&b) = self.data.get(self.pos) {
            self.pos += 1;
            if b == b'>' {
                break;
            }
            if let Some(v) = hex_value(b) {
                match high.take() {
                    Some(h) => out.push(h << 4 | v),
                    None => high = Some(v),
                }
            }
        }
        if let Some(h) = high {
            out.push(h << 4);
        }
        out
    }

    fn name(&mut self) -> Vec<u8> {
        self.pos += 1; // /
        let mut out = Vec::new();
        while let Some(&b) = self.data.get(self.pos) {
            if !is_regular(b) {
                break;
            }
            self.pos += 1;
            if b == b'#'
                && let (Some(h), Some(l)) = (
                    self.data.get(self.pos).copied().and_then(hex_value),
                    self.data.get(self.pos + 1).copied().and_then(hex_value),
                )
            {
                out.push(h << 4 | l);
                self.pos += 2;
            } else {
                out.push(b);
            }
        }
        out
    }

    fn number(&mut self) -> Option<f64> {
        let start = self.pos;
        let mut negative = false;
        if let Some(&sign @ (b'+' | b'-')) = self.data.get(self.pos) {
            negative = sign == b'-';
            self.pos += 1;
            // Some producers write "--5"; viewers read it as -5.
            while self.data.get(self.pos).is_some_and(|&c| c == b'-' || c == b'+') {
                self.pos += 1;
            }
        }
        let mut value = 0.0_f64;
        let mut digits = 0;
        while let Some(&d @ b'0'..=b'9') = self.data.get(self.pos) {
            value = value * 10.0 + f64::from(d - b'0');
            digits += 1;
            self.pos += 1;
        }
        if self.data.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            let mut scale = 0.1;
            while let Some(&d @ b'0'..=b'9') = self.data.get(self.pos) {
                value += f64::from(d - b'0') * scale;
                scale *= 0.1;
                digits += 1;
                self.pos += 1;
            }
        }
        // Whatever regular characters follow ("12abc") belong to the malformed token.
        while self.data.get(self.pos).is_some_and(|&c| is_regular(c) && !matches!(c, b'+' | b'-')) {
            self.pos += 1;
        }
        if self.pos == start {
            self.pos += 1;
        }
        (digits > 0 && value.is_finite()).then_some(if negative { -value } else { value })
    }

    fn skip_inline_image(&mut self) {
        // One white-space byte follows ID; then the data, which ends at white space + "EI" + white space or end.
        self.pos += 1;
        let data = &self.data[self.pos.min(self.data.len())..];
        let mut from = 0;
        while let Some(i) = memchr::memmem::find(&data[from..], b"EI") {
            let at = from + i;
            let before = at == 0 || is_white(data[at - 1]);
            let after = data.get(at + 2).is_none_or(|&c| is_white(c));
            if before && after {
                self.pos += at + 2;
                return;
            }
            from = at + 2;
        }
        self.pos = self.data.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operations(data: &[u8]) -> Vec<(String, Vec<Operand>)> {
        let mut lexer = Lexer::new(data);
        let mut operands = Vec::new();
        let mut out = Vec::new();
        while let Some(op) = lexer.next_operation(&mut operands) {
            out.push((String::from_utf8_lossy(op).into_owned(), operands.clone()));
        }
        out
    }

    #[test]
    fn strings_keep_escapes_nested_parentheses_and_octal_codes() {
        let ops = operations(b"(a\\(b\\) (c) \\101\\\nd) Tj");
        assert_eq!(ops, vec![("Tj".into(), vec![Operand::String(b"a(b) (c) Ad".to_vec())])]);
    }

    #[test]
    fn tj_arrays_mix_strings_and_numbers() {
        let ops = operations(b"[(F) 60 <4143> -1.5e] TJ");
        assert_eq!(
            ops[0].1,
            vec![Operand::Array(vec![
                Operand::String(b"F".to_vec()),
                Operand::Number(60.0),
                Operand::String(b"AC".to_vec()),
                // A malformed number ("-1.5e") keeps the number it starts with.
                Operand::Number(-1.5)
            ])]
        );
    }

    #[test]
    fn inline_images_and_dictionaries_are_skipped() {
        let ops = operations(b"BI /W 2 /H 1 ID \x01EIx\x02 EI Q /P <</MCID 0>> BDC (x) Tj");
        let names: Vec<_> = ops.iter().map(|(op, _)| op.as_str()).collect();
        assert_eq!(names, ["BI", "EI", "Q", "BDC", "Tj"]);
    }

    #[test]
    fn names_decode_hex_escapes() {
        assert_eq!(operations(b"/F#31 12 Tf")[0].1[0], Operand::Name(b"F1".to_vec()));
    }
}

//! ASL paths: reference paths (read and write) and general JSONPath queries.
//!
//! ASL's *reference paths* (`$.a.b[0]['c d']`) are a restricted JSONPath that
//! names exactly one node. `ResultPath` must *write* at such a node, creating
//! missing objects on the way, which `serde_json_path` cannot do (it only
//! queries), so definite paths are parsed and walked by hand here. Anything
//! with wildcards, filters, slices, unions or recursive descent is handed to
//! `serde_json_path` (RFC 9535, which also accepts the Jayway `[?(@.x)]`
//! form AWS documents) and, as on AWS, yields an array of all matches.
//!
//! A path may also start at the context object (`$$.Execution.Id`) or at a
//! workflow variable (`$name.field`).
//!
//! Member names in brackets take the escapes AWS's JSONPath (Jayway) takes:
//! `\'`, `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t` and `\uXXXX`, in either
//! kind of quotes (RFC 9535 allows `\"` only in double quotes; such a path is
//! rewritten before `serde_json_path` sees it).
//!
//! # Bounds
//!
//! A path comes from a definition, so it may be hostile. `serde_json_path`
//! parses and evaluates nested filters and parentheses by recursion (in a
//! debug build a 2 MiB stack overflows at about 50 nested filters), so
//! [`Path::parse`] refuses a path that nests brackets or parentheses more
//! than [`MAX_PATH_NESTING`] levels, or has more than [`MAX_PATH_SEGMENTS`]
//! segments (no payload is deeper than that, so a longer path can never
//! match, and writing one would build a value too deep to keep). Documents
//! are bounded by the engine (see [`crate::engine::MAX_PAYLOAD_NESTING`]),
//! which keeps recursive descent (`..`) shallow too.

use serde_json::Value;
use std::fmt;

/// One step of a definite path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Field(String),
    Index(usize),
}

/// A JSONPath query, relative to some root value.
#[derive(Debug, Clone)]
pub enum Query {
    /// Names at most one node; missing nodes are an error for the caller.
    Definite(Vec<Segment>),
    /// Any other JSONPath; the result is the array of matches.
    General(Box<serde_json_path::JsonPath>, String),
}

/// Where a path starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    Input,
    Context,
    Variable(String),
}

/// A parsed path expression such as `$.a`, `$$.State.Name` or `$var.x`.
#[derive(Debug, Clone)]
pub struct Path {
    pub root: Root,
    pub query: Query,
    text: String,
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Why a path string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid path '{path}': {reason}")]
pub struct PathError {
    pub path: String,
    pub reason: String,
}

/// The deepest nesting of brackets and parentheses a path may have.
pub const MAX_PATH_NESTING: usize = 16;
/// The most segments (`.name`, `[…]`, `..`) a path may have.
pub const MAX_PATH_SEGMENTS: usize = 512;

fn perr(path: &str, reason: impl Into<String>) -> PathError {
    PathError { path: path.to_string(), reason: reason.into() }
}

/// Parses the part after `$` of a definite path; `None` when the text uses
/// features only a general JSONPath has.
fn parse_definite(rest: &str) -> Option<Vec<Segment>> {
    let b = rest.as_bytes();
    let mut i = 0;
    let mut segs = Vec::new();
    while i < b.len() {
        match b[i] {
            b'.' => {
                i += 1;
                let start = i;
                while i < b.len() && b[i] != b'.' && b[i] != b'[' {
                    i += 1;
                }
                let name = &rest[start..i];
                if name.is_empty() || name == "*" || name.contains(['(', ')', '?', '@', ' ', '\'', '"', '*']) {
                    return None;
                }
                segs.push(Segment::Field(name.to_string()));
            }
            b'[' => {
                i += 1;
                if i < b.len() && (b[i] == b'\'' || b[i] == b'"') {
                    let q = b[i];
                    i += 1;
                    let mut name = String::new();
                    loop {
                        if i >= b.len() {
                            return None;
                        }
                        if b[i] == b'\\' && i + 1 < b.len() {
                            let (ch, len) = unescape(&rest[i + 1..])?;
                            name.push(ch);
                            i += 1 + len;
                            continue;
                        }
                        if b[i] == q {
                            break;
                        }
                        // Multi-byte UTF-8: copy the whole char.
                        let ch = rest[i..].chars().next()?;
                        name.push(ch);
                        i += ch.len_utf8();
                    }
                    i += 1;
                    if i >= b.len() || b[i] != b']' {
                        return None;
                    }
                    i += 1;
                    segs.push(Segment::Field(name));
                } else {
                    let start = i;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                    if start == i || i >= b.len() || b[i] != b']' {
                        return None;
                    }
                    let n: usize = rest[start..i].parse().ok()?;
                    i += 1;
                    segs.push(Segment::Index(n));
                }
            }
            _ => return None,
        }
    }
    Some(segs)
}

/// Decodes the escape after a backslash in a quoted member name, as Jayway
/// does: the character and how many bytes the escape took.
fn unescape(after: &str) -> Option<(char, usize)> {
    let c = after.chars().next()?;
    let decoded = match c {
        'b' => '\u{8}',
        'f' => '\u{c}',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'u' => {
            let hex = after.get(1..5)?;
            let n = u32::from_str_radix(hex, 16).ok()?;
            return Some((char::from_u32(n)?, 5));
        }
        // `\'`, `\"`, `\\`, `\/` and anything else: the character itself.
        other => other,
    };
    Some((decoded, c.len_utf8()))
}

/// Checks the shape of a path before anything parses it recursively: how
/// deep brackets and parentheses nest, and how many segments there are.
fn check_shape(rest: &str) -> Result<(), String> {
    let (mut depth, mut segments) = (0usize, 0usize);
    let (mut quote, mut escaped) = (None, false);
    let mut prev = None;
    for c in rest.chars() {
        if let Some(q) = quote {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                _ if c == q => quote = None,
                _ => {}
            }
            prev = Some(c);
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '[' | '(' => {
                depth += 1;
                if depth > MAX_PATH_NESTING {
                    return Err(format!("brackets and parentheses may nest at most {MAX_PATH_NESTING} levels deep"));
                }
            }
            ']' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        // Counted generously (names inside filters too); `..` counts once.
        if c == '[' || (c == '.' && prev != Some('.')) {
            segments += 1;
            if segments > MAX_PATH_SEGMENTS {
                return Err(format!("a path may have at most {MAX_PATH_SEGMENTS} segments"));
            }
        }
        prev = Some(c);
    }
    Ok(())
}

/// Rewrites Jayway escapes that RFC 9535 does not allow in a quoted name
/// (`\"` in single quotes, `\'` in double quotes, and any other escaped
/// character that is not an RFC escape) into what RFC 9535 means by them.
fn to_rfc9535(q: &str) -> std::borrow::Cow<'_, str> {
    if !q.contains('\\') {
        return std::borrow::Cow::Borrowed(q);
    }
    let mut out = String::with_capacity(q.len());
    let mut quote = None;
    let mut chars = q.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(qc), _) if c == qc => quote = None,
            (Some(qc), '\\') => {
                let Some(n) = chars.next() else {
                    out.push(c);
                    break;
                };
                match n {
                    // The other kind of quote needs no escape at all.
                    '\'' | '"' if n != qc => out.push(n),
                    '\'' | '"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't' | 'u' => {
                        out.push('\\');
                        out.push(n);
                    }
                    other => out.push(other),
                }
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    std::borrow::Cow::Owned(out)
}

fn is_var_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl Path {
    /// Parses any ASL path: `$…`, `$$…` or `$variable…`.
    pub fn parse(text: &str) -> Result<Path, PathError> {
        let Some(after) = text.strip_prefix('$') else {
            return Err(perr(text, "a path must start with '$'"));
        };
        let (root, rest) = if let Some(r) = after.strip_prefix('$') {
            (Root::Context, r)
        } else if after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            let end = after.find(|c: char| !is_var_char(c)).unwrap_or(after.len());
            (Root::Variable(after[..end].to_string()), &after[end..])
        } else {
            (Root::Input, after)
        };
        let query = Self::parse_query(text, rest)?;
        Ok(Path { root, query, text: text.to_string() })
    }

    /// Parses a reference path (`ResultPath`): rooted at the input, definite.
    pub fn parse_reference(text: &str) -> Result<Path, PathError> {
        let p = Self::parse(text)?;
        if p.root != Root::Input {
            return Err(perr(text, "a reference path must start with '$.' or be '$'"));
        }
        if !matches!(p.query, Query::Definite(_)) {
            return Err(perr(text, "a reference path may not use wildcards, filters, slices or '..'"));
        }
        Ok(p)
    }

    fn parse_query(text: &str, rest: &str) -> Result<Query, PathError> {
        check_shape(rest).map_err(|why| perr(text, why))?;
        if let Some(segs) = parse_definite(rest) {
            return Ok(Query::Definite(segs));
        }
        let q = format!("${rest}");
        match serde_json_path::JsonPath::parse(&to_rfc9535(&q)) {
            Ok(p) => Ok(Query::General(Box::new(p), q)),
            Err(e) => Err(perr(text, e.to_string())),
        }
    }

    /// The path as AWS's JSONPath library writes it in a cause: a definite
    /// path in bracket notation (`$.a.b[0]` is `$['a']['b'][0]`), anything
    /// else as written.
    pub fn normalized(&self) -> String {
        match &self.query {
            Query::Definite(segs) => {
                let mut out = String::from("$");
                for s in segs {
                    match s {
                        Segment::Field(f) => {
                            out.push_str("['");
                            out.push_str(f);
                            out.push_str("']");
                        }
                        Segment::Index(i) => out.push_str(&format!("[{i}]")),
                    }
                }
                out
            }
            Query::General(_, q) => q.clone(),
        }
    }

    pub fn is_definite(&self) -> bool {
        matches!(self.query, Query::Definite(_))
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Applies the query part to `root`: `None` when a definite path misses.
    pub fn select(&self, root: &Value) -> Option<Value> {
        match &self.query {
            Query::Definite(segs) => get(root, segs).cloned(),
            Query::General(p, _) => Some(Value::Array(p.query(root).all().into_iter().cloned().collect())),
        }
    }

    /// Like [`Path::select`] but borrowing when the path is definite.
    pub fn select_ref<'v>(&self, root: &'v Value) -> Option<std::borrow::Cow<'v, Value>> {
        match &self.query {
            Query::Definite(segs) => get(root, segs).map(std::borrow::Cow::Borrowed),
            Query::General(..) => self.select(root).map(std::borrow::Cow::Owned),
        }
    }

    /// Writes `value` at this (reference) path inside `target`, creating
    /// missing objects; fails where an existing node is not an object/array.
    pub fn assign(&self, target: &mut Value, value: Value) -> Result<(), String> {
        let Query::Definite(segs) = &self.query else {
            return Err(format!("'{}' is not a reference path", self.text));
        };
        set(target, segs, value)
            .map_err(|why| format!("Unable to apply ResultPath '{}' to input '{}': {why}", self.text, target))
    }
}

/// Reads a definite path.
pub fn get<'v>(mut v: &'v Value, segs: &[Segment]) -> Option<&'v Value> {
    for s in segs {
        v = match (s, v) {
            (Segment::Field(f), Value::Object(m)) => m.get(f)?,
            (Segment::Index(i), Value::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(v)
}

fn set(target: &mut Value, segs: &[Segment], value: Value) -> Result<(), String> {
    let Some((first, rest)) = segs.split_first() else {
        *target = value;
        return Ok(());
    };
    match first {
        Segment::Field(f) => {
            let Value::Object(m) = target else {
                return Err(format!("cannot set field '{f}' on a non-object value"));
            };
            if rest.is_empty() {
                m.insert(f.clone(), value);
                return Ok(());
            }
            let child = m.entry(f.clone()).or_insert_with(|| Value::Object(Default::default()));
            set(child, rest, value)
        }
        Segment::Index(i) => {
            let Value::Array(a) = target else {
                return Err(format!("cannot set index [{i}] on a non-array value"));
            };
            let Some(child) = a.get_mut(*i) else {
                return Err(format!("index [{i}] is out of bounds"));
            };
            set(child, rest, value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_definite_path_is_normalized_to_bracket_notation() {
        let p = Path::parse("$.a.b[0]['c d']").expect("path");
        assert_eq!(p.normalized(), "$['a']['b'][0]['c d']");
        assert_eq!(Path::parse("$").expect("root").normalized(), "$");
        assert_eq!(Path::parse("$..a").expect("general").normalized(), "$..a");
    }

    #[test]
    fn quoted_names_decode_jaywayss_escapes() {
        let field = |text: &str| match Path::parse(text).expect("path").query {
            Query::Definite(segs) => segs,
            Query::General(..) => panic!("{text} should be definite"),
        };
        assert_eq!(field(r#"$['a\nb']"#), vec![Segment::Field("a\nb".into())]);
        assert_eq!(field(r#"$['a\"b\'c\\d\/e']"#), vec![Segment::Field("a\"b'c\\d/e".into())]);
        assert_eq!(field(r#"$["caf\u00e9"]"#), vec![Segment::Field("café".into())]);
        assert!(Path::parse(r#"$['\u00zz']"#).is_err(), "a bad unicode escape is not a path");
    }

    #[test]
    fn jayway_escapes_are_rewritten_into_rfc_9535_ones() {
        assert_eq!(to_rfc9535(r#"$['a\"b'][*]"#), r#"$['a"b'][*]"#);
        assert_eq!(to_rfc9535(r#"$["a\'b"][*]"#), r#"$["a'b"][*]"#);
        assert_eq!(to_rfc9535(r#"$['a\'b\nc'][*]"#), r#"$['a\'b\nc'][*]"#);
        assert_eq!(to_rfc9535(r#"$['a\qb'][*]"#), r#"$['aqb'][*]"#);
        assert_eq!(to_rfc9535("$..a"), "$..a");
    }

    #[test]
    fn paths_past_the_nesting_and_segment_bounds_are_refused_before_parsing() {
        // Each filter level opens a bracket and a parenthesis.
        let nested = |n: usize| format!("${}.a{}", "[?(@".repeat(n), ")]".repeat(n));
        assert!(Path::parse(&nested(MAX_PATH_NESTING / 2)).is_ok());
        assert!(Path::parse(&nested(MAX_PATH_NESTING / 2 + 1)).is_err());
        assert!(Path::parse(&format!("${}", ".a".repeat(MAX_PATH_SEGMENTS))).is_ok());
        assert!(Path::parse(&format!("${}", ".a".repeat(MAX_PATH_SEGMENTS + 1))).is_err());
        // Brackets inside quotes do not count.
        assert!(Path::parse(&format!("$['{}']", "[".repeat(100))).is_ok());
    }
}

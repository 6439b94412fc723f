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
                            // The escaped character may be several bytes long.
                            let ch = rest[i + 1..].chars().next()?;
                            name.push(ch);
                            i += 1 + ch.len_utf8();
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
        if let Some(segs) = parse_definite(rest) {
            return Ok(Query::Definite(segs));
        }
        let q = format!("${rest}");
        match serde_json_path::JsonPath::parse(&q) {
            Ok(p) => Ok(Query::General(Box::new(p), q)),
            Err(e) => Err(perr(text, e.to_string())),
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

//! Choice rules: every comparison operator (and its `…Path` twin), the
//! boolean combinators, the type tests, and JSONata `Condition`s.

use crate::context::Env;
use crate::error::ErrorInfo;
use crate::jsonata;
use crate::path::Path;
use serde_json::Value;
use std::cmp::Ordering;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Numeric,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeTest {
    Null,
    Present,
    Numeric,
    String,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone)]
pub enum Operand {
    Literal(Value),
    Path(Path),
}

/// A choice rule. A JSONata `Condition` keeps the name AWS gives its field
/// in causes (`Choices[0]/Condition`).
#[derive(Debug, Clone)]
pub enum Rule {
    And(Vec<Rule>),
    Or(Vec<Rule>),
    Not(Box<Rule>),
    Compare { variable: Path, kind: Kind, op: CmpOp, operand: Operand },
    Matches { variable: Path, pattern: String },
    Test { variable: Path, test: TypeTest, expected: bool },
    Condition { expr: String, field: String },
}

/// The comparison operators, by field name.
pub fn operator(name: &str) -> Option<(Kind, CmpOp, bool)> {
    let (base, is_path) = match name.strip_suffix("Path") {
        Some(b) => (b, true),
        None => (name, false),
    };
    let (kind, rest) = ["String", "Numeric", "Boolean", "Timestamp"]
        .iter()
        .zip([Kind::String, Kind::Numeric, Kind::Boolean, Kind::Timestamp])
        .find_map(|(p, k)| base.strip_prefix(p).map(|r| (k, r)))?;
    let op = match rest {
        "Equals" => CmpOp::Eq,
        "LessThan" => CmpOp::Lt,
        "GreaterThan" => CmpOp::Gt,
        "LessThanEquals" => CmpOp::Le,
        "GreaterThanEquals" => CmpOp::Ge,
        _ => return None,
    };
    if kind == Kind::Boolean && op != CmpOp::Eq {
        return None;
    }
    Some((kind, op, is_path))
}

pub fn type_test(name: &str) -> Option<TypeTest> {
    Some(match name {
        "IsNull" => TypeTest::Null,
        "IsPresent" => TypeTest::Present,
        "IsNumeric" => TypeTest::Numeric,
        "IsString" => TypeTest::String,
        "IsBoolean" => TypeTest::Boolean,
        "IsTimestamp" => TypeTest::Timestamp,
        _ => return None,
    })
}

/// An RFC 3339 timestamp with a `T` between date and time: AWS parses
/// timestamps as ISO-8601 extended offset date-times, which, unlike RFC 3339,
/// do not allow a space there (LocalStack's AWS-recorded
/// `test_wait_timestamp_path[NO_T]` fails "2016-12-05 21:29:29Z").
pub fn parse_timestamp(s: &str) -> Option<OffsetDateTime> {
    if !matches!(s.as_bytes().get(10), Some(b'T' | b't')) {
        return None;
    }
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// `StringMatches`: `*` matches any run of characters; `\*` and `\\` are a
/// literal star and backslash.
pub fn string_matches(s: &str, pattern: &str) -> bool {
    #[derive(PartialEq)]
    enum Tok {
        Star,
        Ch(char),
    }
    let mut toks = Vec::new();
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => match it.next() {
                Some(n) => toks.push(Tok::Ch(n)),
                None => toks.push(Tok::Ch('\\')),
            },
            '*' => toks.push(Tok::Star),
            c => toks.push(Tok::Ch(c)),
        }
    }
    let chars: Vec<char> = s.chars().collect();
    // Iterative wildcard match with backtracking to the last star.
    let (mut si, mut pi) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while si < chars.len() {
        if pi < toks.len() && toks[pi] == Tok::Ch(chars[si]) {
            si += 1;
            pi += 1;
        } else if pi < toks.len() && toks[pi] == Tok::Star {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(sp) = star {
            pi = sp + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < toks.len() && toks[pi] == Tok::Star {
        pi += 1;
    }
    pi == toks.len()
}

fn ord_ok(o: Ordering, op: CmpOp) -> bool {
    match op {
        CmpOp::Eq => o == Ordering::Equal,
        CmpOp::Lt => o == Ordering::Less,
        CmpOp::Gt => o == Ordering::Greater,
        CmpOp::Le => o != Ordering::Greater,
        CmpOp::Ge => o != Ordering::Less,
    }
}

fn compare(kind: Kind, op: CmpOp, a: &Value, b: &Value) -> bool {
    // A value of the wrong type makes a comparison false, not an error.
    match kind {
        Kind::String => match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => ord_ok(x.cmp(y), op),
            _ => false,
        },
        Kind::Numeric => match (a, b) {
            (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
                (Some(p), Some(q)) => ord_ok(p.cmp(&q), op),
                _ => match (x.as_f64(), y.as_f64()) {
                    (Some(p), Some(q)) => p.partial_cmp(&q).is_some_and(|o| ord_ok(o, op)),
                    _ => false,
                },
            },
            _ => false,
        },
        Kind::Boolean => match (a.as_bool(), b.as_bool()) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
        Kind::Timestamp => match (a.as_str().and_then(parse_timestamp), b.as_str().and_then(parse_timestamp)) {
            (Some(x), Some(y)) => ord_ok(x.cmp(&y), op),
            _ => false,
        },
    }
}

impl Rule {
    /// Evaluates the rule. `states` is the `$states` value for JSONata rules.
    pub fn eval(&self, env: &Env<'_>, states: Option<&Value>) -> Result<bool, ErrorInfo> {
        match self {
            Rule::And(rs) => {
                for r in rs {
                    if !r.eval(env, states)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Rule::Or(rs) => {
                for r in rs {
                    if r.eval(env, states)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Rule::Not(r) => Ok(!r.eval(env, states)?),
            Rule::Compare { variable, kind, op, operand } => {
                let a = resolve_variable(env, variable)?;
                let b = match operand {
                    Operand::Literal(v) => std::borrow::Cow::Borrowed(v),
                    Operand::Path(p) => resolve_variable(env, p)?,
                };
                Ok(compare(*kind, *op, &a, &b))
            }
            Rule::Matches { variable, pattern } => {
                let a = resolve_variable(env, variable)?;
                Ok(a.as_str().is_some_and(|s| string_matches(s, pattern)))
            }
            Rule::Test { variable, test, expected } => {
                if *test == TypeTest::Present {
                    return Ok(env.try_resolve(variable).is_some() == *expected);
                }
                let a = resolve_variable(env, variable)?;
                let is = match test {
                    TypeTest::Null => a.is_null(),
                    TypeTest::Numeric => a.is_number(),
                    TypeTest::String => a.is_string(),
                    TypeTest::Boolean => a.is_boolean(),
                    TypeTest::Timestamp => a.as_str().and_then(parse_timestamp).is_some(),
                    TypeTest::Present => true,
                };
                Ok(is == *expected)
            }
            Rule::Condition { expr, field } => {
                let null = Value::Null;
                match jsonata::eval(expr, field, states.unwrap_or(&null), env.vars)? {
                    Value::Bool(b) => Ok(b),
                    other => Err(ErrorInfo::query(format!(
                        "The Condition '{{% {expr} %}}' returned {other}, which is not a boolean"
                    ))),
                }
            }
        }
    }
}

fn resolve_variable<'a>(env: &Env<'a>, p: &Path) -> Result<std::borrow::Cow<'a, Value>, ErrorInfo> {
    env.resolve(p).map_err(|_| {
        ErrorInfo::runtime(format!(
            "Invalid path '{p}': The choice state's condition path references an invalid value."
        ))
    })
}

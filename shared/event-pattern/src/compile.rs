//! Pattern JSON → [`Compiled`]: validation with event-ruler's checks and messages, `$or` expanded the way
//! event-ruler's `JsonRuleCompiler` expands it, and each field's value list compiled once into a
//! [`FieldMatcher`].
//!
//! The result is in disjunctive normal form: a list of branches, each a conjunction of (field path, matcher).
//! A field named again in the same branch replaces the earlier one (AWS: "the last reference will be the one
//! used"), in the order the JSON object iterates its keys.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::cidr::{IpRange, parse_cidr, parse_ip};
use crate::condition::{AnythingBut, FieldMatcher, StrSet, fold};
use crate::error::PatternError;
use crate::numeric::{Interval, NumberLiteral, OUT_OF_RANGE, comparable};
use crate::wildcard::{MAX_WILDCARDS_PER_VALUE, TOO_COMPLEX, Wildcard};

/// Objects nested deeper than this in a pattern are refused (event-ruler has no bound; a service must).
pub const MAX_PATTERN_DEPTH: usize = 64;

/// At most this many alternatives after expanding every `$or` (each `$or` multiplies the alternatives around it).
pub const MAX_OR_COMBINATIONS: usize = 1000;

/// At most this many (alternative, field) pairs after expansion, so a pattern's compiled size stays bounded.
const MAX_EXPANDED_FIELDS: usize = 100_000;

/// Field names event-ruler reserves: they may not name a field inside `$or`.
const RESERVED_IN_OR: &[&str] = &[
    "exactly",
    "equals-ignore-case",
    "prefix",
    "suffix",
    "anything-but",
    "exists",
    "wildcard",
    "numeric",
    "cidr",
    "=",
    "<",
    "<=",
    ">",
    ">=",
    "regex",
    "not-wildcard",
    "not-equals-ignore-case",
    "date-after",
    "date-on-or-after",
    "date-before",
    "date-on-or-before",
    "in-date-range",
    "ip-address-in-range",
    "ip-address-not-in-range",
];

const ONE_KEY: &str = "Only one key allowed in match expression";
const TOO_MANY_NUMERIC: &str = "Too many elements in numeric expression";

#[derive(Debug)]
pub(crate) struct Compiled {
    /// Field paths, indexed by the `field` of [`FieldCondition`].
    pub(crate) fields: Vec<Box<str>>,
    pub(crate) branches: Vec<Branch>,
}

/// One alternative: every condition must hold.
#[derive(Debug)]
pub(crate) struct Branch {
    /// Cheapest and most selective first.
    pub(crate) conditions: Vec<FieldCondition>,
}

#[derive(Debug)]
pub(crate) struct FieldCondition {
    pub(crate) field: u32,
    pub(crate) matcher: Arc<FieldMatcher>,
}

/// One alternative while compiling: field path → matcher.
type Alternative = BTreeMap<Arc<str>, Arc<FieldMatcher>>;

pub(crate) fn compile(pattern: &Value) -> Result<Compiled, PatternError> {
    let Value::Object(root) = pattern else { return Err(PatternError::invalid("Filter is not an object", None)) };
    let mut alternatives = Vec::new();
    object(&mut alternatives, root, None, false, 1)?;
    Ok(finish(alternatives))
}

fn join(parent: Option<&str>, key: &str) -> String {
    match parent {
        Some(p) => format!("{p}.{key}"),
        None => key.to_owned(),
    }
}

fn object(
    alternatives: &mut Vec<Alternative>,
    fields: &Map<String, Value>,
    parent: Option<&str>,
    in_or: bool,
    depth: usize,
) -> Result<(), PatternError> {
    if depth > MAX_PATTERN_DEPTH {
        return Err(PatternError::too_complex(
            format!("Event pattern is nested deeper than {MAX_PATTERN_DEPTH} levels"),
            parent,
        ));
    }
    if fields.is_empty() {
        return Err(PatternError::invalid("Empty objects are not allowed", parent));
    }
    for (key, value) in fields {
        if key == "$or" {
            or(alternatives, value, parent, depth)?;
            continue;
        }
        let path = join(parent, key);
        if in_or && RESERVED_IN_OR.contains(&key.as_str()) {
            return Err(PatternError::invalid(
                format!("{key} is Ruler reserved fieldName which cannot be used inside $or."),
                Some(&path),
            ));
        }
        match value {
            Value::Object(inner) => object(alternatives, inner, Some(&path), in_or, depth + 1)?,
            Value::Array(values) => {
                let matcher = Arc::new(field_matcher(values, &path)?);
                let path: Arc<str> = path.into();
                if alternatives.is_empty() {
                    alternatives.push(Alternative::new());
                }
                for alternative in alternatives.iter_mut() {
                    alternative.insert(path.clone(), matcher.clone());
                }
                check_size(alternatives, &path)?;
            }
            _ => return Err(PatternError::invalid(format!("\"{key}\" must be an object or an array"), Some(&path))),
        }
    }
    Ok(())
}

fn or(
    alternatives: &mut Vec<Alternative>,
    value: &Value,
    parent: Option<&str>,
    depth: usize,
) -> Result<(), PatternError> {
    let here = join(parent, "$or");
    let Value::Array(items) = value else {
        return Err(PatternError::invalid("It must be an Array followed with $or.", Some(&here)));
    };
    let current = std::mem::take(alternatives);
    for item in items {
        let Value::Object(object) = item else {
            return Err(PatternError::invalid(
                "Only JSON object is allowed in array of $or relationship.",
                Some(&here),
            ));
        };
        let mut forked = if current.is_empty() { vec![Alternative::new()] } else { current.clone() };
        self::object(&mut forked, object, parent, true, depth + 1)?;
        alternatives.append(&mut forked);
        check_size(alternatives, &here)?;
    }
    if items.len() < 2 {
        return Err(PatternError::invalid("There must have at least 2 Objects in $or relationship.", Some(&here)));
    }
    Ok(())
}

fn finish(alternatives: Vec<Alternative>) -> Compiled {
    let mut fields: Vec<Box<str>> = Vec::new();
    let mut slot_of = HashMap::<Arc<str>, u32>::new();
    let branches = alternatives
        .into_iter()
        .map(|alternative| {
            let mut conditions: Vec<FieldCondition> = alternative
                .into_iter()
                .map(|(path, matcher)| {
                    let field = *slot_of.entry(path.clone()).or_insert_with(|| {
                        fields.push((*path).into());
                        (fields.len() - 1) as u32
                    });
                    FieldCondition { field, matcher }
                })
                .collect();
            conditions.sort_by_key(|c| c.matcher.cost());
            Branch { conditions }
        })
        .collect();
    Compiled { fields, branches }
}

fn check_size(alternatives: &[Alternative], path: &str) -> Result<(), PatternError> {
    if alternatives.len() > MAX_OR_COMBINATIONS {
        return Err(PatternError::too_complex(
            format!("Rule is too complex - its $or alternatives combine into more than {MAX_OR_COMBINATIONS} patterns"),
            Some(path),
        ));
    }
    if alternatives.iter().map(BTreeMap::len).sum::<usize>() > MAX_EXPANDED_FIELDS {
        return Err(PatternError::too_complex(
            "Rule is too complex - try using fewer fields or $or alternatives",
            Some(path),
        ));
    }
    Ok(())
}

/// The text event-ruler quotes for an unexpected token (Jackson's `getText`).
fn token_text(value: Option<&Value>) -> String {
    match value {
        None => "]".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Null) => "null".into(),
        Some(Value::Array(_)) => "[".into(),
        Some(Value::Object(_)) => "{".into(),
    }
}

fn field_matcher(values: &[Value], path: &str) -> Result<FieldMatcher, PatternError> {
    let invalid = |reason: &str| PatternError::invalid(reason, Some(path));
    if values.is_empty() {
        return Err(invalid("Empty arrays are not allowed"));
    }
    let mut m = FieldMatcher::default();
    for value in values {
        match value {
            Value::String(s) => match parse_ip(s) {
                Ok(ip) => m.addresses.push(IpRange::single(ip)),
                Err(_) => m.exact.insert(s),
            },
            Value::Number(n) => m.numbers.push(NumberLiteral::new(n.as_f64().unwrap_or(f64::NAN))),
            Value::Bool(true) => m.true_ = true,
            Value::Bool(false) => m.false_ = true,
            Value::Null => m.null = true,
            Value::Object(expression) => match_expression(&mut m, expression).map_err(|e| invalid(&e))?,
            Value::Array(_) => return Err(invalid("Match value must be String, number, true, false, or null")),
        }
    }
    let stars: usize = m.wildcards.iter().map(Wildcard::stars).sum();
    if m.wildcards.iter().any(|w| w.stars() > MAX_WILDCARDS_PER_VALUE) || stars > 20 * MAX_WILDCARDS_PER_VALUE {
        return Err(PatternError::too_complex(TOO_COMPLEX, Some(path)));
    }
    Ok(m)
}

fn string<'v>(value: &'v Value, reason: &str) -> Result<&'v str, String> {
    value.as_str().ok_or_else(|| reason.to_owned())
}

fn only_key(expression: &Map<String, Value>, reason: &str) -> Result<(), String> {
    if expression.len() > 1 { Err(reason.to_owned()) } else { Ok(()) }
}

/// One `{"operator": operand}` object of a value list.
fn match_expression(m: &mut FieldMatcher, expression: &Map<String, Value>) -> Result<(), String> {
    let Some((operator, operand)) = expression.iter().next() else {
        return Err("Match expression name not found".into());
    };
    match operator.as_str() {
        "exactly" => {
            m.exact.insert(string(operand, "exact match pattern must be a string")?);
            only_key(expression, ONE_KEY)
        }
        "prefix" => {
            match operand {
                Value::Object(inner) => {
                    let value = ignore_case_operand(inner, "Prefix", "prefix")?;
                    m.prefixes_ignore_case.push(fold(value).into());
                }
                _ => m.prefixes.push(string(operand, "prefix match pattern must be a string")?.into()),
            }
            only_key(expression, ONE_KEY)
        }
        "suffix" => {
            match operand {
                Value::Object(inner) => {
                    let value = ignore_case_operand(inner, "Suffix", "suffix")?;
                    m.suffixes_ignore_case.push(fold(value).into());
                }
                _ => m.suffixes.push(string(operand, "suffix match pattern must be a string")?.into()),
            }
            only_key(expression, ONE_KEY)
        }
        "equals-ignore-case" => {
            m.equals_ignore_case.insert(&fold(string(operand, "equals-ignore-case match pattern must be a string")?));
            only_key(expression, ONE_KEY)
        }
        "wildcard" => {
            m.wildcards.push(Wildcard::parse(string(operand, "wildcard match pattern must be a string")?)?);
            only_key(expression, ONE_KEY)
        }
        "numeric" => {
            let Value::Array(terms) = operand else { return Err("Value of numeric must be an array.".into()) };
            m.intervals.push(numeric(terms)?);
            only_key(expression, TOO_MANY_NUMERIC)
        }
        "anything-but" => {
            m.anything_but.push(anything_but(operand)?);
            only_key(expression, TOO_MANY_NUMERIC)
        }
        "exists" => {
            match operand {
                Value::Bool(true) => m.exists = true,
                Value::Bool(false) => m.absent = true,
                _ => return Err("exists match pattern must be either true or false.".into()),
            }
            only_key(expression, ONE_KEY)
        }
        "cidr" => {
            // event-ruler reports a non-string cidr with the prefix message.
            m.cidrs.push(parse_cidr(string(operand, "prefix match pattern must be a string")?)?);
            only_key(expression, ONE_KEY)
        }
        other => Err(format!("Unrecognized match type {other}")),
    }
}

/// `{"prefix": {"equals-ignore-case": "x"}}` and the suffix form.
fn ignore_case_operand<'v>(inner: &'v Map<String, Value>, title: &str, lower: &str) -> Result<&'v str, String> {
    let Some((operator, value)) = inner.iter().next() else {
        return Err(format!("{title} expression name not found"));
    };
    if operator != "equals-ignore-case" {
        return Err(format!("Unsupported {lower} pattern: {operator}"));
    }
    let value = string(value, "equals-ignore-case match pattern must be a string")?;
    only_key(inner, ONE_KEY)?;
    Ok(value)
}

fn comparable_or_err(value: &Value) -> Result<i64, String> {
    value.as_f64().and_then(comparable).ok_or_else(|| OUT_OF_RANGE.to_owned())
}

fn numeric(terms: &[Value]) -> Result<Interval, String> {
    let operator = match terms.first() {
        Some(Value::String(op)) => op.as_str(),
        other => return Err(format!("Invalid member in numeric match: {}", token_text(other))),
    };
    let number = |index: usize, name: &str| match terms.get(index) {
        Some(v @ Value::Number(_)) => Ok(v),
        _ => Err(format!("Value of {name} must be numeric")),
    };
    let (min, max) = (Interval::MIN, Interval::MAX);
    match operator {
        "=" => {
            let v = number(1, "equals")?;
            if terms.len() > 2 {
                return Err(TOO_MANY_NUMERIC.into());
            }
            let v = comparable_or_err(v)?;
            Ok(Interval { low: v, low_open: false, high: v, high_open: false })
        }
        "<" | "<=" => {
            let v = number(1, operator)?;
            if terms.len() > 2 {
                return Err(TOO_MANY_NUMERIC.into());
            }
            Ok(Interval { low: min, low_open: false, high: comparable_or_err(v)?, high_open: operator == "<" })
        }
        ">" | ">=" => {
            let bottom = number(1, operator)?;
            let low_open = operator == ">";
            if terms.len() == 2 {
                return Ok(Interval { low: comparable_or_err(bottom)?, low_open, high: max, high_open: false });
            }
            let top_operator = match terms.get(2) {
                Some(Value::String(op)) => op.as_str(),
                other => return Err(format!("Bad value in numeric range: {}", token_text(other))),
            };
            if top_operator != "<" && top_operator != "<=" {
                return Err(format!("Bad numeric range operator: {top_operator}"));
            }
            let top = number(3, top_operator)?;
            if terms.len() > 4 {
                return Err("Too many terms in numeric range expression".into());
            }
            let (low, high) = (comparable_or_err(bottom)?, comparable_or_err(top)?);
            if low >= high {
                return Err("Bottom must be less than top".into());
            }
            Ok(Interval { low, low_open, high, high_open: top_operator == "<" })
        }
        other => Err(format!("Unrecognized numeric range operator: {other}")),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum AnythingButOf {
    IgnoreCase,
    Prefix,
    Suffix,
    Wildcard,
}

fn anything_but(operand: &Value) -> Result<AnythingBut, String> {
    const BAD_OPERAND: &str = "Value of anything-but must be an array or single string/number value.";
    match operand {
        Value::Object(inner) => {
            let Some((operator, value)) = inner.iter().next() else {
                return Err("Anything-But expression name not found".into());
            };
            let of = match operator.as_str() {
                "equals-ignore-case" => AnythingButOf::IgnoreCase,
                "prefix" => AnythingButOf::Prefix,
                "suffix" => AnythingButOf::Suffix,
                "wildcard" => AnythingButOf::Wildcard,
                other => return Err(format!("Unsupported anything-but pattern: {other}")),
            };
            let texts: Vec<&str> = match value {
                Value::Array(items) => items.iter().map(|v| anything_but_text(of, v)).collect::<Result<_, _>>()?,
                Value::String(_) | Value::Number(_) => vec![anything_but_text(of, value)?],
                _ => return Err(BAD_OPERAND.into()),
            };
            only_key(inner, TOO_MANY_NUMERIC)?;
            Ok(match of {
                AnythingButOf::IgnoreCase => {
                    let mut set = StrSet::default();
                    texts.iter().for_each(|t| set.insert(&fold(t)));
                    AnythingBut::IgnoreCase(set)
                }
                AnythingButOf::Prefix => AnythingBut::Prefixes(texts.iter().map(|&t| t.into()).collect()),
                AnythingButOf::Suffix => AnythingBut::Suffixes(texts.iter().map(|&t| t.into()).collect()),
                AnythingButOf::Wildcard => {
                    AnythingBut::Wildcards(texts.iter().map(|t| Wildcard::parse(t)).collect::<Result<_, _>>()?)
                }
            })
        }
        Value::Array(items) => {
            let mut strings = StrSet::default();
            let mut numbers = Vec::new();
            for item in items {
                match item {
                    Value::String(s) => strings.insert(s),
                    Value::Number(_) => numbers.push(comparable_or_err(item)?),
                    _ => return Err("Inside anything but list, start|null|boolean is not supported.".into()),
                }
            }
            match (strings.is_empty(), numbers.is_empty()) {
                (false, true) => Ok(AnythingBut::Strings(strings)),
                (true, false) => Ok(AnythingBut::Numbers(numbers)),
                _ => {
                    Err("Inside anything but list, either all values are number or string, mixed type is not supported"
                        .into())
                }
            }
        }
        Value::String(s) => {
            let mut strings = StrSet::default();
            strings.insert(s);
            Ok(AnythingBut::Strings(strings))
        }
        Value::Number(_) => Ok(AnythingBut::Numbers(vec![comparable_or_err(operand)?])),
        _ => Err(BAD_OPERAND.into()),
    }
}

fn anything_but_text(of: AnythingButOf, value: &Value) -> Result<&str, String> {
    let Value::String(text) = value else {
        return Err(match of {
            AnythingButOf::IgnoreCase => {
                "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
            }
            AnythingButOf::Wildcard => "wildcard match pattern must be a string",
            AnythingButOf::Prefix | AnythingButOf::Suffix => "prefix/suffix match pattern must be a string",
        }
        .into());
    };
    if text.is_empty() && matches!(of, AnythingButOf::Prefix | AnythingButOf::Suffix) {
        return Err("Null prefix/suffix not allowed".into());
    }
    Ok(text)
}

//! What a target receives, as EventBridge builds it: the whole event by default, a constant (`Input`), part of the
//! event (`InputPath`), or a text made from a template (`InputTransformer`). Each is parsed and checked once, when
//! the template is read, so delivering an event only renders it.
//!
//! JSONPaths are AWS's subset (dotted names with dashes or slashes, array indices, wildcards), rewritten into
//! RFC 9535 bracket notation for `serde_json_path` (`$.detail-type` → `$['detail-type']`).
//!
//! An `InputTemplate` is plain text with `<name>` placeholders, and AWS's quoting rule decides how a value goes in:
//! inside a JSON string (`"state: <state>"`) a string value is inserted as its raw text, outside one (`{"s": <state>}`)
//! every value is inserted as JSON, so a string gets its quotes. A path that matches nothing inserts nothing inside
//! quotes and `null` outside them, so a JSON template stays JSON.

use serde_json::Value;
use serde_json_path::JsonPath;
use std::collections::BTreeMap;

/// The reserved variables of an `InputTemplate`, which `InputPathsMap` may not define.
pub const RESERVED: &[&str] = &[
    "aws.events.rule-arn",
    "aws.events.rule-name",
    "aws.events.event",
    "aws.events.event.json",
    "aws.events.event.ingestion-time",
];

/// The most variables one `InputPathsMap` may define, as on AWS.
pub const MAX_VARIABLES: usize = 100;

/// What a target is sent for an event.
#[derive(Debug, Clone)]
pub enum TargetInput {
    /// The event itself.
    Event,
    /// `Input`: this JSON text, whatever the event.
    Constant(String),
    /// `InputPath`: the part of the event the path selects.
    Path(EventPath),
    /// `InputTransformer`.
    Transformer(Transformer),
}

/// A JSONPath into the event, as written and compiled.
#[derive(Debug, Clone)]
pub struct EventPath {
    pub text: String,
    path: JsonPath,
}

impl EventPath {
    pub fn parse(text: &str) -> Result<Self, String> {
        let rewritten = rfc9535(text)?;
        let path =
            JsonPath::parse(&rewritten).map_err(|e| format!("`{text}` is not a JSONPath EventBridge reads: {e}"))?;
        Ok(Self { text: text.to_owned(), path })
    }

    /// The value the path selects: the one node it matches, an array of the nodes when it matches several (a
    /// wildcard), `None` when it matches none.
    pub fn select(&self, event: &Value) -> Option<Value> {
        let nodes = self.path.query(event).all();
        match nodes.as_slice() {
            [] => None,
            [one] if !self.matches_many() => Some((*one).clone()),
            many => Some(Value::Array(many.iter().map(|v| (*v).clone()).collect())),
        }
    }

    fn matches_many(&self) -> bool {
        self.text.contains('*')
    }
}

/// AWS's JSONPath subset (`$`, `.name` with dashes, slashes and the like, `[0]`, `.*`, `[*]`) in RFC 9535 form:
/// every name in brackets, since RFC 9535's dotted names may not have a dash.
fn rfc9535(path: &str) -> Result<String, String> {
    let rest = path.strip_prefix('$').ok_or_else(|| format!("`{path}` is not a JSONPath: it must start with `$`"))?;
    let mut out = String::from("$");
    let mut rest = rest;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let name = &after[..end];
            match name {
                "" => return Err(format!("`{path}` has an empty name (`..` is not supported by EventBridge)")),
                "*" => out.push_str("[*]"),
                name => {
                    out.push_str("['");
                    out.push_str(&name.replace('\\', "\\\\").replace('\'', "\\'"));
                    out.push_str("']");
                }
            }
            rest = &after[end..];
        } else if rest.starts_with('[') {
            let end = rest.find(']').ok_or_else(|| format!("`{path}` has an unclosed `[`"))?;
            out.push_str(&rest[..=end]);
            rest = &rest[end + 1..];
        } else {
            return Err(format!("`{path}` is not a JSONPath EventBridge reads (at `{rest}`)"));
        }
    }
    Ok(out)
}

/// An `InputTransformer`: variables from paths, and the template they fill.
#[derive(Debug, Clone)]
pub struct Transformer {
    /// `InputPathsMap`, by variable name.
    pub paths: BTreeMap<String, EventPath>,
    /// `InputTemplate`, as written.
    pub template: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Text(String),
    /// A placeholder, and whether it stands inside a JSON string of the template.
    Variable {
        name: String,
        quoted: bool,
    },
}

/// What the reserved variables stand for, for one event and rule.
pub struct Context<'a> {
    pub event: &'a Value,
    pub rule_arn: &'a str,
    pub rule_name: &'a str,
    /// When EventBridge received the event (ISO 8601).
    pub ingestion_time: &'a str,
}

impl Transformer {
    /// Checks the variables' names and paths, and that the template uses only variables there are.
    pub fn parse(paths: BTreeMap<String, String>, template: String) -> Result<Self, String> {
        if paths.len() > MAX_VARIABLES {
            return Err(format!("InputPathsMap has {} variables; at most {MAX_VARIABLES} are allowed", paths.len()));
        }
        let mut compiled = BTreeMap::new();
        for (name, path) in paths {
            if RESERVED.contains(&name.as_str()) || name.starts_with("aws.events.") {
                return Err(format!("InputPathsMap: `{name}` is a reserved variable name"));
            }
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
                return Err(format!(
                    "InputPathsMap: `{name}` is not a valid variable name (letters, digits, `_` and `-`)"
                ));
            }
            let parsed = EventPath::parse(&path).map_err(|e| format!("InputPathsMap.{name}: {e}"))?;
            compiled.insert(name, parsed);
        }
        if template.is_empty() {
            return Err("InputTemplate must not be empty".to_owned());
        }
        let segments = segments(&template);
        for segment in &segments {
            if let Segment::Variable { name, .. } = segment
                && !compiled.contains_key(name)
                && !RESERVED.contains(&name.as_str())
            {
                return Err(format!(
                    "InputTemplate uses the placeholder <{name}>, which InputPathsMap does not define and is not a reserved variable"
                ));
            }
        }
        Ok(Self { paths: compiled, template, segments })
    }

    /// The template filled in for one event.
    pub fn render(&self, ctx: &Context<'_>) -> String {
        let mut out = String::with_capacity(self.template.len());
        for segment in &self.segments {
            match segment {
                Segment::Text(t) => out.push_str(t),
                Segment::Variable { name, quoted } => match (self.value(name, ctx), quoted) {
                    (Some(Value::String(s)), true) => out.push_str(&s),
                    (Some(v), _) => out.push_str(&v.to_string()),
                    (None, true) => {}
                    (None, false) => out.push_str("null"),
                },
            }
        }
        out
    }

    fn value(&self, name: &str, ctx: &Context<'_>) -> Option<Value> {
        match name {
            "aws.events.rule-arn" => Some(Value::String(ctx.rule_arn.to_owned())),
            "aws.events.rule-name" => Some(Value::String(ctx.rule_name.to_owned())),
            "aws.events.event.ingestion-time" => Some(Value::String(ctx.ingestion_time.to_owned())),
            "aws.events.event.json" => Some(ctx.event.clone()),
            "aws.events.event" => {
                let mut event = ctx.event.clone();
                if let Some(fields) = event.as_object_mut() {
                    fields.remove("detail");
                }
                Some(event)
            }
            name => self.paths.get(name).and_then(|p| p.select(ctx.event)),
        }
    }
}

/// The template cut into text and placeholders (`<name>`: letters, digits, `_`, `-` and `.`), each placeholder
/// knowing whether it is inside a JSON string: a `"` not escaped by a backslash opens or closes one.
fn segments(template: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut quoted = false;
    let mut escaped = false;
    let mut rest = template;
    while let Some(c) = rest.chars().next() {
        if c == '<'
            && let Some(end) = rest[1..].find('>')
            && end > 0
            && rest[1..=end].bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
        {
            if !text.is_empty() {
                out.push(Segment::Text(std::mem::take(&mut text)));
            }
            out.push(Segment::Variable { name: rest[1..=end].to_owned(), quoted });
            rest = &rest[end + 2..];
            continue;
        }
        if escaped {
            escaped = false;
        } else if c == '\\' && quoted {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        }
        text.push(c);
        rest = &rest[c.len_utf8()..];
    }
    if !text.is_empty() {
        out.push(Segment::Text(text));
    }
    out
}

impl TargetInput {
    /// The text the target is sent for `ctx.event`, or `None` for the event itself (which the caller has as text).
    pub fn render(&self, ctx: &Context<'_>) -> Option<String> {
        match self {
            Self::Event => None,
            Self::Constant(text) => Some(text.clone()),
            Self::Path(path) => Some(path.select(ctx.event).unwrap_or(Value::Null).to_string()),
            Self::Transformer(t) => Some(t.render(ctx)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Value {
        json!({
            "version": "0", "id": "e-1", "detail-type": "EC2 Instance State-change Notification",
            "source": "aws.ec2", "account": "123456789012", "time": "2015-11-11T21:29:54Z",
            "region": "us-east-1", "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
            "detail": {"instance-id": "i-0123456789", "state": "RUNNING", "n": 3, "tags": ["a", "b"]}
        })
    }

    fn render(paths: &[(&str, &str)], template: &str) -> String {
        let paths = paths.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let t = Transformer::parse(paths, template.to_owned()).unwrap();
        let event = event();
        t.render(&Context { event: &event, rule_arn: "arn:r", rule_name: "r", ingestion_time: "2026-01-01T00:00:00Z" })
    }

    #[test]
    fn aws_paths_with_dashes_wildcards_and_indices_select_what_aws_selects() {
        let e = event();
        let select = |p: &str| EventPath::parse(p).unwrap().select(&e);
        assert_eq!(select("$.detail-type"), Some(json!("EC2 Instance State-change Notification")));
        assert_eq!(select("$.detail.instance-id"), Some(json!("i-0123456789")));
        assert_eq!(select("$.resources[0]"), Some(json!("arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111")));
        assert_eq!(select("$.detail.tags[*]"), Some(json!(["a", "b"])));
        assert_eq!(select("$"), Some(e.clone()));
        assert_eq!(select("$.detail.missing"), None);
        for bad in ["detail", "$..detail", "$.detail[0", "$ .x"] {
            assert!(EventPath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_string_goes_in_raw_inside_quotes_and_as_json_outside_them() {
        let paths = [("instance", "$.detail.instance-id"), ("state", "$.detail.state")];
        assert_eq!(render(&paths, "\"instance <instance> is in <state>\""), "\"instance i-0123456789 is in RUNNING\"");
        assert_eq!(
            render(&paths, r#"{"instance": <instance>, "state": [9, <state>, true], "s": "<state>"}"#),
            r#"{"instance": "i-0123456789", "state": [9, "RUNNING", true], "s": "RUNNING"}"#
        );
        assert_eq!(
            render(&paths, r#"{"status": "instance \"<instance>\" is in <state>"}"#),
            r#"{"status": "instance \"i-0123456789\" is in RUNNING"}"#
        );
    }

    #[test]
    fn numbers_objects_and_missing_values_keep_a_json_template_json() {
        let paths = [("n", "$.detail.n"), ("d", "$.detail"), ("gone", "$.detail.nope")];
        let out = render(&paths, r#"{"n": <n>, "quoted": "<n>", "gone": <gone>, "gone2": "<gone>", "d": <d>}"#);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["n"], 3);
        assert_eq!(v["quoted"], "3");
        assert_eq!(v["gone"], Value::Null);
        assert_eq!(v["gone2"], "");
        assert_eq!(v["d"]["state"], "RUNNING");
    }

    #[test]
    fn reserved_variables_name_the_rule_and_carry_the_event() {
        let out = render(
            &[],
            r#"{"arn": <aws.events.rule-arn>, "name": "<aws.events.rule-name>", "at": <aws.events.event.ingestion-time>, "e": <aws.events.event>, "j": <aws.events.event.json>}"#,
        );
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!((v["arn"].as_str(), v["name"].as_str()), (Some("arn:r"), Some("r")));
        assert_eq!(v["at"], "2026-01-01T00:00:00Z");
        assert_eq!(v["e"]["id"], "e-1");
        assert!(v["e"].get("detail").is_none(), "aws.events.event leaves the detail out");
        assert_eq!(v["j"], event());
    }

    #[test]
    fn undefined_or_reserved_variables_are_refused_when_the_template_is_read() {
        let refuse = |paths: &[(&str, &str)], template: &str| {
            let paths = paths.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            Transformer::parse(paths, template.to_owned()).unwrap_err()
        };
        assert!(refuse(&[], "<nope>").contains("<nope>"));
        assert!(refuse(&[("aws.events.rule-arn", "$.id")], "x").contains("reserved"));
        assert!(refuse(&[("x", "nope")], "<x>").contains("InputPathsMap.x"));
        assert!(refuse(&[("a b", "$.id")], "x").contains("not a valid variable name"));
        // A `<` that does not make a placeholder is text.
        assert_eq!(render(&[], "a < b > c"), "a < b > c");
    }
}

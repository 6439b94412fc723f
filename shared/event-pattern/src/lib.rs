//! PLACEHOLDER — being replaced by the real engine (exact values only for now). API is fixed:
//! `Pattern::parse(&str)`, `Pattern::from_value(&Value)`, `Pattern::matches(&Value)`, `PatternError: Display`,
//! `Matcher<K>::{new, add, matching}`.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PatternError(String);

#[derive(Debug, Clone)]
pub struct Pattern(Value);

impl Pattern {
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let v: Value = serde_json::from_str(text).map_err(|e| PatternError(e.to_string()))?;
        Self::from_value(&v)
    }

    pub fn from_value(v: &Value) -> Result<Self, PatternError> {
        if !v.is_object() {
            return Err(PatternError("Event pattern is not a JSON object".into()));
        }
        Ok(Self(v.clone()))
    }

    pub fn matches(&self, event: &Value) -> bool {
        fn m(p: &Value, e: &Value) -> bool {
            match p {
                Value::Object(fields) => fields.iter().all(|(k, p)| m(p, &e[k])),
                Value::Array(values) => values.iter().any(|v| match e {
                    Value::Array(es) => es.contains(v),
                    e => e == v,
                }),
                _ => false,
            }
        }
        m(&self.0, event)
    }
}

/// Many patterns, each under a key (a rule), matched together.
#[derive(Debug, Clone, Default)]
pub struct Matcher<K> {
    rules: Vec<(K, Pattern)>,
}

impl<K> Matcher<K> {
    pub fn new() -> Self {
        Self { rules: Vec::new() }
    }

    pub fn add(&mut self, key: K, pattern: Pattern) {
        self.rules.push((key, pattern));
    }

    pub fn matching(&self, event: &Value) -> Vec<&K> {
        self.rules.iter().filter(|(_, p)| p.matches(event)).map(|(k, _)| k).collect()
    }
}

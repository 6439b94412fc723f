//! The event-pattern engine against the EventBridge user guide, event-ruler's README, AWS's recorded refusals,
//! and properties. One test binary; every match is decided three ways (parsed `Value`, JSON bytes, a `Matcher`)
//! and the three must agree.

mod event_ruler;
mod invalid_patterns;
mod matcher;
mod properties;
mod robustness;
mod user_guide;

use event_pattern::{ErrorKind, Matcher, Pattern};
use serde_json::Value;

/// Whether `pattern` matches `event`, asserting that every way of asking agrees.
pub fn matches(pattern: &str, event: &str) -> bool {
    let compiled = Pattern::parse(pattern).unwrap_or_else(|e| panic!("pattern {pattern} refused: {e}"));
    let value: Value = serde_json::from_str(event).unwrap_or_else(|e| panic!("event {event} is not JSON: {e}"));
    let by_value = compiled.matches(&value);
    let by_bytes = compiled.matches_json(event.as_bytes()).expect("event bytes read");
    assert_eq!(by_value, by_bytes, "Value and bytes disagree for {pattern} on {event}");
    let mut rules = Matcher::new();
    rules.add("rule", compiled);
    let by_matcher = rules.matching(&value) == [&"rule"];
    let by_matcher_bytes = rules.matching_json(event.as_bytes()).expect("event bytes read") == [&"rule"];
    assert_eq!(by_value, by_matcher, "Matcher disagrees for {pattern} on {event}");
    assert_eq!(by_value, by_matcher_bytes, "Matcher on bytes disagrees for {pattern} on {event}");
    by_value
}

/// The reason AWS would give for refusing `pattern` (the part after "Reason: ", without our field path).
pub fn refusal(pattern: &str) -> String {
    match Pattern::parse(pattern) {
        Ok(_) => panic!("pattern {pattern} was accepted"),
        Err(e) => {
            assert!(e.aws_message().starts_with("Event pattern is not valid. Reason: "));
            assert_ne!(e.kind(), ErrorKind::Syntax, "{pattern} should be JSON");
            e.reason().to_owned()
        }
    }
}

//! Bad input is an error or a non-match, never a panic: deep nesting, truncated and mangled JSON, odd bytes.

use event_pattern::{EventError, MAX_EVENT_DEPTH, Matcher, Pattern};

const EVENT: &str = r#"{"version": "0", "id": "1", "detail-type": "T", "source": "s", "account": "1",
  "resources": ["a", {"b": [1, 2.5e-3, true, null]}],
  "detail": {"a": {"b": "c\u00e9\n"}, "list": [{"x": 1}, {"x": "\"q\""}], "n": -0.5, "e": [], "o": {}}}"#;

fn everything() -> Pattern {
    Pattern::parse(
        r#"{"source": [{"prefix": "s"}], "resources": [{"exists": true}],
            "detail": {"a": {"b": [{"anything-but": "x"}]}, "list": {"x": [1, "\"q\""]}, "n": [{"numeric": ["<", 0]}]}}"#,
    )
    .unwrap()
}

fn nested(open: &str, close: &str, depth: usize, inner: &str) -> String {
    format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
}

#[test]
fn the_reference_event_matches_by_value_and_by_bytes() {
    let value: serde_json::Value = serde_json::from_str(EVENT).unwrap();
    assert!(everything().matches(&value));
    assert!(everything().matches_json(EVENT.as_bytes()).unwrap());
}

#[test]
fn every_truncation_of_an_event_is_an_error_not_a_panic() {
    let pattern = everything();
    for end in 0..EVENT.len() {
        let prefix = &EVENT.as_bytes()[..end];
        if serde_json::from_slice::<serde_json::Value>(prefix).is_err() {
            assert!(pattern.matches_json(prefix).is_err(), "prefix of {end} bytes was read");
        }
    }
}

#[test]
fn mangled_events_never_panic() {
    let pattern = everything();
    let bytes = EVENT.as_bytes();
    for at in 0..bytes.len() {
        for replacement in [b'{', b'}', b'[', b']', b'"', b'\\', b',', b':', b'x', 0xff, b'0'] {
            let mut mangled = bytes.to_vec();
            mangled[at] = replacement;
            let _ = pattern.matches_json(&mangled);
        }
    }
}

#[test]
fn events_nested_past_the_limit_are_an_error() {
    let pattern = Pattern::parse(r#"{"a": [{"exists": true}]}"#).unwrap();
    let deep_object = format!(r#"{{"a": {}}}"#, nested(r#"{"a": "#, "}", MAX_EVENT_DEPTH, "1"));
    assert_eq!(pattern.matches_json(deep_object.as_bytes()), Err(EventError::TooDeep { limit: MAX_EVENT_DEPTH }));
    let deep_array = format!(r#"{{"a": {}}}"#, nested("[", "]", MAX_EVENT_DEPTH, "1"));
    assert_eq!(pattern.matches_json(deep_array.as_bytes()), Err(EventError::TooDeep { limit: MAX_EVENT_DEPTH }));
    let skipped = format!(r#"{{"b": {}}}"#, nested("[", "]", MAX_EVENT_DEPTH, "1"));
    assert_eq!(pattern.matches_json(skipped.as_bytes()), Err(EventError::TooDeep { limit: MAX_EVENT_DEPTH }));
    assert!(serde_json::from_str::<serde_json::Value>(&deep_array).is_err(), "serde_json refuses it too");
}

#[test]
fn events_just_inside_the_limit_are_read() {
    let pattern = Pattern::parse(r#"{"a": [1]}"#).unwrap();
    let deep = format!(r#"{{"a": {}}}"#, nested("[", "]", MAX_EVENT_DEPTH - 2, "1"));
    assert!(serde_json::from_str::<serde_json::Value>(&deep).is_ok());
    assert!(pattern.matches_json(deep.as_bytes()).unwrap());
    let skipped = format!(r#"{{"b": {}, "a": 1}}"#, nested("[", "]", MAX_EVENT_DEPTH - 2, "1"));
    assert!(pattern.matches_json(skipped.as_bytes()).unwrap());
}

#[test]
fn a_deeply_nested_value_built_in_code_does_not_overflow_the_matcher() {
    let mut value = serde_json::json!(1);
    for _ in 0..10_000 {
        value = serde_json::Value::Array(vec![value]);
    }
    // Not `json!`: it would serialise the value, recursively.
    let event = serde_json::Value::Object([("a".to_string(), value)].into_iter().collect());
    let pattern = Pattern::parse(r#"{"a": [1]}"#).unwrap();
    assert!(!pattern.matches(&event), "leaves beyond the depth bound are not read");
    // Dropping a 10 000-deep Value recurses in serde_json itself; unwrap it iteratively.
    let mut current = event;
    while let Some(inner) = match &mut current {
        serde_json::Value::Object(map) => map.remove("a"),
        serde_json::Value::Array(items) => items.pop(),
        _ => None,
    } {
        current = inner;
    }
}

#[test]
fn deeply_nested_pattern_text_is_refused_without_overflow() {
    let text = nested(r#"{"a": "#, "}", 100_000, "[1]");
    assert!(Pattern::parse(&text).is_err());
    let arrays = format!(r#"{{"a": {}}}"#, nested("[", "]", 100_000, "1"));
    assert!(Pattern::parse(&arrays).is_err());
}

#[test]
fn root_values_other_than_objects_have_no_fields() {
    let absent = Pattern::parse(r#"{"a": [{"exists": false}]}"#).unwrap();
    let present = Pattern::parse(r#"{"a": [{"exists": true}]}"#).unwrap();
    for root in ["[]", "1", "\"a\"", "null", "[{\"a\": 1}]"] {
        assert!(absent.matches_json(root.as_bytes()).unwrap(), "{root}");
        assert!(!present.matches_json(root.as_bytes()).unwrap(), "{root}");
        let value: serde_json::Value = serde_json::from_str(root).unwrap();
        assert!(absent.matches(&value) && !present.matches(&value));
    }
}

#[test]
fn invalid_utf8_in_a_read_string_is_an_error_and_in_a_skipped_one_is_not_looked_at() {
    let pattern = Pattern::parse(r#"{"a": ["x"]}"#).unwrap();
    assert!(pattern.matches_json(b"{\"a\": \"\xff\"}").is_err());
    assert!(pattern.matches_json(b"{\"b\": \"\xff\", \"a\": \"x\"}").unwrap());
}

#[test]
fn a_matcher_with_many_rules_survives_garbage() {
    let mut rules = Matcher::new();
    for i in 0..50 {
        rules.add(
            i,
            Pattern::parse(&format!(r#"{{"source": ["s{i}"], "detail": {{"n": [{{"numeric": [">", {i}]}}]}}}}"#))
                .unwrap(),
        );
    }
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..2000 {
        let len = (seed % 64) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let alphabet = b"{}[]\":,0123456789.eE-+ tfnulrsa\\";
                alphabet[(seed % alphabet.len() as u64) as usize]
            })
            .collect();
        let _ = rules.matching_json(&bytes);
    }
}

#[test]
fn a_pattern_with_thousands_of_fields_compiles_and_matches() {
    let fields: serde_json::Map<String, serde_json::Value> =
        (0..20_000).map(|i| (format!("f{i}"), serde_json::json!([i]))).collect();
    let pattern = Pattern::from_value(&serde_json::json!({ "detail": fields.clone() })).unwrap();
    assert_eq!(pattern.field_paths().count(), 20_000);
    assert!(pattern.matches(&serde_json::json!({ "detail": fields.iter().map(|(k, v)| (k.clone(), v[0].clone())).collect::<serde_json::Map<_, _>>() })));
}

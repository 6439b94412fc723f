//! Many rules at once: which keys come back, in which order, and that the index never hides a match.

use event_pattern::{EventError, Matcher, Pattern};
use serde_json::{Value, json};

fn rule(text: &str) -> Pattern {
    Pattern::parse(text).expect("valid pattern")
}

fn event(text: &str) -> Value {
    serde_json::from_str(text).expect("valid event")
}

#[test]
fn keys_come_back_in_insertion_order() {
    let mut rules = Matcher::new();
    rules.add("z", rule(r#"{"source": ["a"]}"#));
    rules.add("y", rule(r#"{"detail": {"n": [{"numeric": [">", 1]}]}}"#));
    rules.add("x", rule(r#"{"source": [{"prefix": ""}]}"#));
    rules.add("w", rule(r#"{"source": ["b"]}"#));
    let e = r#"{"source": "a", "detail": {"n": 2}}"#;
    assert_eq!(rules.matching(&event(e)), [&"z", &"y", &"x"]);
    assert_eq!(rules.matching_json(e.as_bytes()).unwrap(), [&"z", &"y", &"x"]);
}

#[test]
fn a_key_added_twice_is_returned_for_each_matching_pattern() {
    let mut rules = Matcher::new();
    rules.add(1, rule(r#"{"source": ["a"]}"#));
    rules.add(1, rule(r#"{"source": [{"prefix": "a"}]}"#));
    rules.add(2, rule(r#"{"source": ["b"]}"#));
    assert_eq!(rules.matching(&event(r#"{"source": "a"}"#)), [&1, &1]);
    assert_eq!(rules.len(), 3);
}

#[test]
fn an_or_pattern_is_returned_once_even_when_several_alternatives_match() {
    let mut rules = Matcher::new();
    rules.add("or", rule(r#"{"$or": [{"source": ["a"]}, {"detail-type": ["t"]}]}"#));
    assert_eq!(rules.matching(&event(r#"{"source": "a", "detail-type": "t"}"#)), [&"or"]);
    assert_eq!(
        rules.matching(&event(r#"{"source": ["a", "a"], "detail-type": ["t", "t"]}"#)),
        [&"or"],
        "repeated index hits count once"
    );
}

#[test]
fn rules_no_field_can_index_are_still_evaluated_for_every_event() {
    let mut rules = Matcher::new();
    rules.add("absent", rule(r#"{"error": [{"exists": false}]}"#));
    rules.add("but", rule(r#"{"source": [{"anything-but": "x"}]}"#));
    rules.add("exact", rule(r#"{"source": ["x"]}"#));
    assert_eq!(rules.matching(&event(r#"{"source": "y"}"#)), [&"absent", &"but"]);
    assert_eq!(rules.matching(&event(r#"{"source": "x"}"#)), [&"absent", &"exact"]);
    assert_eq!(rules.matching(&event(r#"{"error": 1}"#)), Vec::<&&str>::new());
}

#[test]
fn removing_a_key_removes_all_its_patterns() {
    let mut rules = Matcher::new();
    rules.add("a", rule(r#"{"source": ["s"]}"#));
    rules.add("b", rule(r#"{"source": ["s"]}"#));
    rules.add("a", rule(r#"{"detail-type": ["t"]}"#));
    assert_eq!(rules.remove(&"a"), 2);
    assert_eq!(rules.remove(&"a"), 0);
    assert_eq!(rules.matching(&event(r#"{"source": "s", "detail-type": "t"}"#)), [&"b"]);
    assert_eq!(rules.iter().map(|(k, _)| *k).collect::<Vec<_>>(), ["b"]);
    assert!(!rules.is_empty());
}

#[test]
fn an_empty_matcher_matches_nothing_but_still_reads_the_json() {
    let rules: Matcher<u8> = Matcher::default();
    assert!(rules.is_empty());
    assert!(rules.matching(&json!({"source": "a"})).is_empty());
    assert!(rules.matching_json(br#"{"source": "a"}"#).unwrap().is_empty());
    assert!(rules.matching_json(br#"{"source": "a""#).is_err());
}

#[test]
fn the_bytes_fast_path_reports_malformed_json() {
    let mut rules = Matcher::new();
    rules.add((), rule(r#"{"source": ["a"]}"#));
    for bad in [&b"{"[..], b"", b"{\"source\": }", b"{\"source\": \"a\"} x", b"[1,]", b"{\"a\" 1}", b"nul", b"\"\\x\""]
    {
        assert!(
            matches!(rules.matching_json(bad), Err(EventError::InvalidJson { .. })),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn indexed_rules_over_many_sources_each_match_their_own_events() {
    let mut rules = Matcher::new();
    for i in 0..200 {
        rules.add(i, Pattern::from_value(&json!({"source": [format!("s{i}")], "detail-type": ["t"]})).unwrap());
    }
    rules.add(200, rule(r#"{"detail-type": ["t"]}"#));
    for i in [0, 63, 64, 127, 199] {
        let e = json!({"source": format!("s{i}"), "detail-type": "t"});
        assert_eq!(rules.matching(&e), [&i, &200]);
        assert_eq!(rules.matching_json(e.to_string().as_bytes()).unwrap(), [&i, &200]);
    }
}

#[test]
fn patterns_and_matchers_can_be_shared_between_threads() {
    fn shared<T: Send + Sync + Clone>() {}
    shared::<Pattern>();
    shared::<Matcher<String>>();
    let mut rules = Matcher::new();
    rules.add("a".to_string(), rule(r#"{"source": ["a"]}"#));
    let rules = std::sync::Arc::new(rules);
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let rules = rules.clone();
            std::thread::spawn(move || rules.matching_json(br#"{"source": "a"}"#).unwrap().len())
        })
        .collect();
    assert!(handles.into_iter().all(|h| h.join().unwrap() == 1));
}

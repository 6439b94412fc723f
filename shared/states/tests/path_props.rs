//! Property tests for the path language: reference paths round-trip through
//! write-then-read, definite paths agree with serde_json_path, and
//! StringMatches agrees with a literal or all-star pattern.

use proptest::prelude::*;
use serde_json::{Value, json};
use states::choice::string_matches;
use states::path::{Path, Query, Segment};

fn key() -> impl Strategy<Value = String> {
    "[A-Za-z_][A-Za-z0-9_-]{0,8}"
}

fn any_key() -> impl Strategy<Value = String> {
    "[ -~]{1,10}"
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[a-z]{0,6}".prop_map(Value::String),
    ]
}

fn bracket(k: &str) -> String {
    format!("['{}']", k.replace('\\', "\\\\").replace('\'', "\\'"))
}

proptest! {
    #[test]
    fn writing_at_a_reference_path_then_reading_it_gives_the_value(keys in prop::collection::vec(key(), 1..5), v in leaf()) {
        let text = format!("${}", keys.iter().map(|k| format!(".{k}")).collect::<String>());
        let p = Path::parse_reference(&text).expect("reference path");
        let mut doc = json!({"other": 1});
        p.assign(&mut doc, v.clone()).expect("assign into objects");
        prop_assert_eq!(p.select(&doc), Some(v));
        prop_assert_eq!(&doc["other"], &json!(1));
    }

    #[test]
    fn bracket_notation_accepts_any_printable_key(k in any_key(), v in leaf()) {
        let p = Path::parse(&format!("${}", bracket(&k))).expect("bracket path");
        match &p.query {
            Query::Definite(segs) => prop_assert_eq!(segs.clone(), vec![Segment::Field(k.clone())]),
            Query::General(..) => prop_assert!(false, "bracket path should be definite"),
        }
        let mut doc = json!({});
        doc[k.as_str()] = v.clone();
        prop_assert_eq!(p.select(&doc), Some(v));
    }

    #[test]
    fn definite_paths_agree_with_serde_json_path(keys in prop::collection::vec("[a-z]{1,4}", 1..4), idx in 0usize..3, v in leaf()) {
        let mut doc = v.clone();
        doc = json!([doc, doc.clone(), doc.clone()]);
        for k in keys.iter().rev() {
            doc = json!({ k.as_str(): doc });
        }
        let text = format!("${}[{idx}]", keys.iter().map(|k| format!(".{k}")).collect::<String>());
        let ours = Path::parse(&text).expect("path").select(&doc);
        let theirs = serde_json_path::JsonPath::parse(&text).expect("rfc path").query(&doc).exactly_one().ok().cloned();
        prop_assert_eq!(ours.clone(), theirs);
        prop_assert_eq!(ours, Some(v));
    }

    #[test]
    fn parsing_never_panics(s in "\\PC{0,20}") {
        let _ = Path::parse(&s);
        let _ = Path::parse(&format!("${s}"));
        let _ = states::intrinsics::parse(&format!("States.Format({s})"));
    }

    #[test]
    fn a_missing_definite_path_selects_nothing(k in key()) {
        let p = Path::parse(&format!("$.{k}.deeper")).expect("path");
        prop_assert_eq!(p.select(&json!({"unrelated": 1})), None);
    }

    #[test]
    fn a_pattern_with_stars_escaped_matches_the_literal_string(s in "[ -~]{0,12}") {
        let pattern = s.replace('\\', "\\\\").replace('*', "\\*");
        prop_assert!(string_matches(&s, &pattern));
        prop_assert!(string_matches(&s, "*"));
        let wrapped = format!("*{pattern}*");
        let longer = format!("ab{s}cd");
        prop_assert!(string_matches(&longer, &wrapped));
    }
}

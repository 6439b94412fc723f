//! Properties over generated events and patterns:
//! - a pattern built from an event's own leaves matches it, and stops matching when one chosen leaf changes;
//! - reading an event as a `Value` and as JSON bytes always gives the same answer, whatever the spelling;
//! - a `Matcher` (with its index) returns exactly the rules whose patterns match one by one;
//! - parsing never panics, whatever the JSON or text.

use event_pattern::{Matcher, Pattern};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

// ---------- events ----------

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[a-z]{0,6}".prop_map(Value::from),
        (-1_000_000i64..1_000_000).prop_map(Value::from),
        (-1_000_000i64..1_000_000, 1i32..4).prop_map(|(n, places)| json!(n as f64 / 10f64.powi(places))),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ]
}

/// Objects of objects and scalars, keys `a`..`e`: every leaf has a distinct path.
fn plain_event() -> impl Strategy<Value = Value> {
    let leaf = scalar();
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop::collection::btree_map("[a-e]", inner, 1..5).prop_map(|m| Value::Object(m.into_iter().collect()))
    })
    .prop_map(|v| if v.is_object() { v } else { json!({ "a": v }) })
}

fn leaves(value: &Value, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, Value)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                path.push(k.clone());
                leaves(v, path, out);
                path.pop();
            }
        }
        leaf => out.push((path.clone(), leaf.clone())),
    }
}

fn insert(target: &mut Value, path: &[String], leaf: Option<Value>) {
    let Value::Object(map) = target else { unreachable!("paths run through objects") };
    if path.len() == 1 {
        match leaf {
            Some(v) => map.insert(path[0].clone(), v),
            None => map.remove(&path[0]),
        };
    } else {
        insert(map.entry(path[0].clone()).or_insert_with(|| Value::Object(Map::new())), &path[1..], leaf);
    }
}

/// A condition the leaf satisfies, and a replacement for the leaf (`None`: remove it) that does not.
fn condition(leaf: &Value, choice: u8) -> (Value, Option<Value>) {
    match leaf {
        Value::String(s) => {
            let k = 1 + choice as usize / 8 % s.len().max(1);
            match (choice % 8, s.is_empty()) {
                (1, false) => (json!({"prefix": &s[..k]}), Some(json!(format!("#{s}")))),
                (2, false) => (json!({"suffix": &s[s.len() - k..]}), Some(json!(format!("{s}#")))),
                (3, _) => (json!({"equals-ignore-case": s.to_uppercase()}), Some(json!(format!("{s}#")))),
                (4, false) => (json!({"wildcard": format!("{}*", &s[..k])}), Some(json!(format!("#{s}")))),
                (4, true) => (json!({"wildcard": ""}), Some(json!("#"))),
                (5, _) => (json!({"anything-but": [format!("{s}z"), "other"]}), Some(json!(format!("{s}z")))),
                (6, _) => (json!({"exists": true}), None),
                (7, false) => {
                    (json!({"prefix": {"equals-ignore-case": s[..k].to_uppercase()}}), Some(json!(format!("#{s}"))))
                }
                _ => (json!(s), Some(json!(format!("{s}#")))),
            }
        }
        Value::Number(n) => {
            let x = n.as_f64().expect("finite");
            match choice % 6 {
                1 => (json!({"numeric": [">=", x - 0.5, "<=", x + 0.5]}), Some(json!(x + 10.0))),
                2 => (json!({"numeric": ["=", x]}), Some(json!(x + 1.0))),
                3 => (json!({"anything-but": x + 1.0}), Some(json!(x + 1.0))),
                4 => (json!({"numeric": [">", x - 1.0, "<", x + 1.0]}), Some(json!(x - 2.0))),
                5 => (json!({"exists": true}), None),
                _ => (leaf.clone(), Some(json!(x + 1.0))),
            }
        }
        Value::Bool(b) => match choice % 2 {
            1 => (json!({"exists": true}), None),
            _ => (leaf.clone(), Some(json!(!b))),
        },
        Value::Null => match choice % 3 {
            1 => (json!({"anything-but": "x"}), Some(json!("x"))),
            2 => (json!({"exists": true}), None),
            _ => (Value::Null, Some(json!("null"))),
        },
        _ => unreachable!("leaves are scalars"),
    }
}

// ---------- random patterns over a shared vocabulary ----------

fn word() -> impl Strategy<Value = String> {
    prop_oneof!["[ab]{0,2}", Just("a\"b".to_string()), Just("é\\".to_string()), Just("10.0.0.1".to_string())]
}

fn rich_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        word().prop_map(Value::from),
        (-3i64..4).prop_map(Value::from),
        (-30i64..40).prop_map(|n| json!(n as f64 / 10.0)),
        Just(json!(1e20)),
        Just(json!(123456789012u64)),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ]
}

/// Events with arrays (of objects too), strings with escapes, and keys patterns use.
fn rich_event() -> impl Strategy<Value = Value> {
    rich_scalar()
        .prop_recursive(4, 40, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(prop_oneof!["[abc]", Just("a.b".to_string())], inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
        .prop_map(|v| if v.is_object() { v } else { json!({ "a": v }) })
}

fn operator() -> impl Strategy<Value = Value> {
    prop_oneof![
        rich_scalar(),
        word().prop_map(|w| json!({"prefix": w})),
        word().prop_map(|w| json!({"suffix": w})),
        word().prop_map(|w| json!({"equals-ignore-case": w.to_uppercase()})),
        word().prop_map(|w| json!({"prefix": {"equals-ignore-case": w}})),
        word().prop_map(|w| json!({"suffix": {"equals-ignore-case": w}})),
        word().prop_map(|w| json!({"wildcard": format!("*{w}*")})),
        word().prop_map(|w| json!({"anything-but": w})),
        (-3i64..4).prop_map(|n| json!({"anything-but": [n, n + 1]})),
        word().prop_map(|w| json!({"anything-but": {"prefix": format!("{w}x")}})),
        word().prop_map(|w| json!({"anything-but": {"suffix": [format!("x{w}")]}})),
        word().prop_map(|w| json!({"anything-but": {"wildcard": format!("{w}*")}})),
        word().prop_map(|w| json!({"anything-but": {"equals-ignore-case": [w]}})),
        (-3i64..3).prop_map(|n| json!({"numeric": [">", n]})),
        (-3i64..3).prop_map(|n| json!({"numeric": [">=", n, "<", n + 2]})),
        (-3i64..3).prop_map(|n| json!({"numeric": ["=", n as f64 / 2.0]})),
        any::<bool>().prop_map(|b| json!({"exists": b})),
        Just(json!({"cidr": "10.0.0.0/8"})),
    ]
}

fn pattern_body(depth: u32) -> BoxedStrategy<Value> {
    let leaf = prop::collection::vec(operator(), 1..4).prop_map(Value::Array);
    let field = if depth == 0 { leaf.boxed() } else { prop_oneof![3 => leaf, 1 => pattern_body(depth - 1)].boxed() };
    let object = prop::collection::btree_map(prop_oneof!["[abc]", Just("a.b".to_string())], field, 1..3)
        .prop_map(|m| Value::Object(m.into_iter().collect()));
    if depth == 0 {
        object.boxed()
    } else {
        let inner = pattern_body(depth - 1);
        prop_oneof![
            4 => object,
            1 => (inner.clone(), inner).prop_map(|(x, y)| json!({"$or": [x, y]})),
        ]
        .boxed()
    }
}

fn random_pattern() -> impl Strategy<Value = Value> {
    pattern_body(2)
}

/// Writes JSON with varied spellings the parsed `Value` cannot show: whitespace, `\u` escapes for `a`, and
/// integers as `3`, `3.0` or `3e0`.
fn render(value: &Value, style: u8, out: &mut String) {
    let string = |s: &str, out: &mut String| {
        let quoted = serde_json::to_string(s).expect("string");
        out.push_str(&if style & 1 == 1 { quoted.replace('a', "\\u0061") } else { quoted });
    };
    let space = if style & 2 == 2 { " \n\t" } else { "" };
    match value {
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(space);
                string(k, out);
                out.push_str(space);
                out.push(':');
                render(v, style, out);
            }
            out.push_str(space);
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(space);
                render(v, style, out);
            }
            out.push(']');
        }
        Value::String(s) => string(s, out),
        Value::Number(n) if n.is_i64() && style & 4 == 4 => out.push_str(&format!("{n}.0")),
        Value::Number(n) if n.is_i64() && style & 8 == 8 => out.push_str(&format!("{n}e0")),
        other => out.push_str(&other.to_string()),
    }
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("$or".to_string()),
        Just("prefix".to_string()),
        Just("numeric".to_string()),
        Just("anything-but".to_string()),
        Just("exists".to_string()),
        Just("cidr".to_string()),
        Just("wildcard".to_string()),
        Just("suffix".to_string()),
        Just("equals-ignore-case".to_string()),
        Just("exactly".to_string()),
        "[a-z<>=*\\\\]{0,3}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        prop_oneof![Just("<".to_string()), Just(">=".to_string()), Just("=".to_string()), ".{0,8}"]
            .prop_map(Value::from),
        "[0-9.:/a-f]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..5).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_pattern_built_from_an_events_leaves_matches_it_until_one_leaf_changes(
        event in plain_event(),
        picks in prop::collection::vec((any::<usize>(), any::<u8>()), 1..4),
    ) {
        let mut all = Vec::new();
        leaves(&event, &mut Vec::new(), &mut all);
        let mut pattern = json!({});
        let mut chosen: Vec<(Vec<String>, Option<Value>)> = Vec::new();
        for (index, choice) in picks {
            let (path, leaf) = &all[index % all.len()];
            if chosen.iter().any(|(p, _)| p == path) {
                continue;
            }
            let (condition, breaking) = condition(leaf, choice);
            insert(&mut pattern, path, Some(json!([condition])));
            chosen.push((path.clone(), breaking));
        }
        let compiled = Pattern::from_value(&pattern).map_err(|e| TestCaseError::fail(format!("{pattern}: {e}")))?;
        prop_assert!(compiled.matches(&event), "{} should match {}", pattern, event);
        prop_assert!(compiled.matches_json(event.to_string().as_bytes()).unwrap());

        let (path, breaking) = chosen.swap_remove(0);
        let mut broken = event.clone();
        insert(&mut broken, &path, breaking);
        prop_assert!(!compiled.matches(&broken), "{} should not match {}", pattern, broken);
        prop_assert!(!compiled.matches_json(broken.to_string().as_bytes()).unwrap());
    }

    #[test]
    fn value_and_bytes_readers_agree_on_random_events_and_patterns(
        pattern in random_pattern(),
        event in rich_event(),
        style in any::<u8>(),
    ) {
        let Ok(compiled) = Pattern::from_value(&pattern) else { return Ok(()) };
        let mut text = String::new();
        render(&event, style, &mut text);
        let parsed: Value = serde_json::from_str(&text).expect("rendered JSON parses");
        let by_value = compiled.matches(&parsed);
        let by_bytes = compiled.matches_json(text.as_bytes()).expect("rendered JSON reads");
        prop_assert_eq!(by_value, by_bytes, "pattern {} event {}", pattern, text);
    }

    #[test]
    fn a_matcher_returns_exactly_the_rules_that_match_one_by_one(
        patterns in prop::collection::vec(random_pattern(), 1..12),
        exact_rules in prop::collection::vec(("[ab]{0,2}", "[abc]"), 0..8),
        events in prop::collection::vec(rich_event(), 1..6),
    ) {
        let mut compiled: Vec<Pattern> = patterns.iter().filter_map(|p| Pattern::from_value(p).ok()).collect();
        compiled.extend(exact_rules.iter().map(|(v, k)| Pattern::from_value(&json!({ k: [v] })).expect("valid")));
        let mut rules = Matcher::new();
        for (i, p) in compiled.iter().enumerate() {
            rules.add(i, p.clone());
        }
        for event in &events {
            let expected: Vec<usize> = (0..compiled.len()).filter(|&i| compiled[i].matches(event)).collect();
            let got: Vec<usize> = rules.matching(event).into_iter().copied().collect();
            prop_assert_eq!(&got, &expected, "event {}", event);
            let by_bytes: Vec<usize> = rules.matching_json(event.to_string().as_bytes()).unwrap().into_iter().copied().collect();
            prop_assert_eq!(&by_bytes, &expected);
        }
    }

    #[test]
    fn parsing_arbitrary_json_never_panics(value in arbitrary_json()) {
        let from_value = Pattern::from_value(&value);
        let from_text = Pattern::parse(&value.to_string());
        prop_assert_eq!(from_value.is_ok(), from_text.is_ok());
        if let Ok(pattern) = from_value {
            let _ = pattern.matches(&value);
            let _ = pattern.matches_json(value.to_string().as_bytes());
        }
    }

    #[test]
    fn parsing_arbitrary_text_never_panics(text in ".{0,64}") {
        let _ = Pattern::parse(&text);
        let pattern = Pattern::parse(r#"{"a": [{"prefix": "x"}], "b": {"c": [{"exists": false}]}}"#).unwrap();
        let _ = pattern.matches_json(text.as_bytes());
    }
}

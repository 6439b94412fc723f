//! Patterns AWS refuses, with the reason AWS gives. Reasons marked "recorded" were answered by EventBridge itself
//! (as recorded in LocalStack's AWS-validated snapshots); the others are event-ruler's, which EventBridge runs.

use event_pattern::{ErrorKind, MAX_OR_COMBINATIONS, MAX_PATTERN_DEPTH, Pattern};
use serde_json::json;

use crate::refusal;

#[test]
fn a_pattern_must_be_a_json_object() {
    // recorded
    assert_eq!(refusal(r#"["not", "a", "dict", "but valid json"]"#), "Filter is not an object");
    assert_eq!(refusal("42"), "Filter is not an object");
    assert_eq!(refusal("null"), "Filter is not an object");
}

#[test]
fn text_that_is_not_json_is_a_syntax_error() {
    for text in ["this is valid json but not a dict", "{'bad': 'quotation'}", r#"{"not": closed mark""#, ""] {
        let error = Pattern::parse(text).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Syntax, "{text}");
        assert!(error.aws_message().starts_with("Event pattern is not valid. Reason: "));
    }
}

#[test]
fn a_leaf_must_be_an_array_of_values() {
    // recorded
    assert_eq!(refusal(r#"{"int": 42}"#), r#""int" must be an object or an array"#);
    assert_eq!(refusal(r#"{"string": "my-value"}"#), r#""string" must be an object or an array"#);
    assert_eq!(refusal(r#"{"detail": {"ok": true}}"#), r#""ok" must be an object or an array"#);
    assert_eq!(refusal(r#"{"detail": {"n": null}}"#), r#""n" must be an object or an array"#);
}

#[test]
fn empty_arrays_and_empty_objects_are_refused() {
    // recorded
    assert_eq!(refusal(r#"{"resources": []}"#), "Empty arrays are not allowed");
    // recorded (cloud-custodian issue 6507)
    assert_eq!(refusal(r#"{"source": ["aws.health"], "detail": {}}"#), "Empty objects are not allowed");
    assert_eq!(refusal("{}"), "Empty objects are not allowed");
}

#[test]
fn a_value_list_holds_only_scalars_and_match_expressions() {
    assert_eq!(refusal(r#"{"a": [["nested"]]}"#), "Match value must be String, number, true, false, or null");
    assert_eq!(refusal(r#"{"a": [{}]}"#), "Match expression name not found");
}

#[test]
fn unknown_operators_are_refused_and_operator_names_are_case_sensitive() {
    // recorded
    assert_eq!(refusal(r#"{"my_key": [{"EXISTS": true}]}"#), "Unrecognized match type EXISTS");
    assert_eq!(refusal(r#"{"detail": {"equal": [{"NUMERIC": ["=", 5]}]}}"#), "Unrecognized match type NUMERIC");
    assert_eq!(refusal(r#"{"a": [{"contains": "x"}]}"#), "Unrecognized match type contains");
    assert_eq!(refusal(r#"{"a": [{"regexp": "x.*"}]}"#), "Unrecognized match type regexp");
}

#[test]
fn a_match_expression_has_exactly_one_operator() {
    assert_eq!(refusal(r#"{"a": [{"prefix": "x", "suffix": "y"}]}"#), "Only one key allowed in match expression");
    assert_eq!(refusal(r#"{"a": [{"exists": true, "prefix": "y"}]}"#), "Only one key allowed in match expression");
    assert_eq!(refusal(r#"{"a": [{"numeric": [">", 1], "prefix": "y"}]}"#), "Too many elements in numeric expression");
}

#[test]
fn string_operators_need_string_operands() {
    // recorded
    assert_eq!(refusal(r#"{"time": [{"prefix": 123}]}"#), "prefix match pattern must be a string");
    assert_eq!(refusal(r#"{"time": [{"prefix": ["2022-07-13"]}]}"#), "prefix match pattern must be a string");
    assert_eq!(refusal(r#"{"FileName": [{"suffix": 123}]}"#), "suffix match pattern must be a string");
    assert_eq!(refusal(r#"{"FileName": [{"suffix": [".png"]}]}"#), "suffix match pattern must be a string");
    assert_eq!(
        refusal(r#"{"detail-type": [{"equals-ignore-case": ["ec2 instance state-change notification"]}]}"#),
        "equals-ignore-case match pattern must be a string"
    );
    assert_eq!(
        refusal(r#"{"detail-type": [{"equals-ignore-case": {"prefix": "ec2"}}]}"#),
        "equals-ignore-case match pattern must be a string"
    );
    assert_eq!(refusal(r#"{"EventBusArn": [{"wildcard": 123}]}"#), "wildcard match pattern must be a string");
    assert_eq!(refusal(r#"{"EventBusArn": [{"wildcard": ["arn:*"]}]}"#), "wildcard match pattern must be a string");
    assert_eq!(refusal(r#"{"a": [{"exactly": 1}]}"#), "exact match pattern must be a string");
}

#[test]
fn prefix_and_suffix_objects_accept_only_equals_ignore_case() {
    assert_eq!(refusal(r#"{"a": [{"prefix": {}}]}"#), "Prefix expression name not found");
    assert_eq!(refusal(r#"{"a": [{"prefix": {"wildcard": "x"}}]}"#), "Unsupported prefix pattern: wildcard");
    assert_eq!(refusal(r#"{"a": [{"suffix": {"prefix": "x"}}]}"#), "Unsupported suffix pattern: prefix");
    assert_eq!(
        refusal(r#"{"a": [{"prefix": {"equals-ignore-case": 5}}]}"#),
        "equals-ignore-case match pattern must be a string"
    );
}

#[test]
fn exists_needs_a_boolean() {
    for operand in ["\"true\"", "1", "null", "[true]"] {
        assert_eq!(
            refusal(&format!(r#"{{"a": [{{"exists": {operand}}}]}}"#)),
            "exists match pattern must be either true or false."
        );
    }
}

#[test]
fn numeric_expressions_are_checked_term_by_term() {
    let r = |terms: &str| refusal(&format!(r#"{{"detail": {{"c-count": [{{"numeric": {terms}}}]}}}}"#));
    // recorded
    assert_eq!(r(r#"[">", 0, ">", 0]"#), "Bad numeric range operator: >");
    // recorded
    assert_eq!(r(r#"[">", 0, "<"]"#), "Value of < must be numeric");
    assert_eq!(r(r#"">""#), "Value of numeric must be an array.");
    assert_eq!(r("[]"), "Invalid member in numeric match: ]");
    assert_eq!(r("[5]"), "Invalid member in numeric match: 5");
    assert_eq!(r(r#"["!=", 5]"#), "Unrecognized numeric range operator: !=");
    assert_eq!(r(r#"["=", "5"]"#), "Value of equals must be numeric");
    assert_eq!(r(r#"["<", null]"#), "Value of < must be numeric");
    assert_eq!(r(r#"["=", 5, 6]"#), "Too many elements in numeric expression");
    assert_eq!(r(r#"["<", 1, "<", 2]"#), "Too many elements in numeric expression");
    assert_eq!(r(r#"[">", 1, 2]"#), "Bad value in numeric range: 2");
    assert_eq!(r(r#"[">", 1, "<", 2, "<", 3]"#), "Too many terms in numeric range expression");
    assert_eq!(r(r#"[">", 5, "<", 1]"#), "Bottom must be less than top");
    assert_eq!(r(r#"[">=", 5, "<=", 5]"#), "Bottom must be less than top");
}

#[test]
fn numeric_operands_must_lie_within_five_billion() {
    let r = |terms: &str| refusal(&format!(r#"{{"n": [{{"numeric": {terms}}}]}}"#));
    assert_eq!(r(r#"[">", 5000000001]"#), "Value must be between -5.0E9 and 5.0E9, inclusive");
    assert_eq!(r(r#"["=", -6e9]"#), "Value must be between -5.0E9 and 5.0E9, inclusive");
    assert_eq!(r(r#"[">", 0, "<", 1e10]"#), "Value must be between -5.0E9 and 5.0E9, inclusive");
    assert!(Pattern::parse(r#"{"n": [{"numeric": [">=", -5e9, "<=", 5e9]}]}"#).is_ok());
    assert_eq!(refusal(r#"{"n": [{"anything-but": [1, 6e9]}]}"#), "Value must be between -5.0E9 and 5.0E9, inclusive");
    assert!(Pattern::parse(r#"{"account": [123456789012]}"#).is_ok(), "plain numbers have no range");
}

#[test]
fn anything_but_lists_hold_only_strings_or_only_numbers() {
    // recorded
    assert_eq!(
        refusal(r#"{"detail": {"state": [{"anything-but": ["stopped", null]}]}}"#),
        "Inside anything but list, start|null|boolean is not supported."
    );
    assert_eq!(
        refusal(r#"{"a": [{"anything-but": ["x", 1]}]}"#),
        "Inside anything but list, either all values are number or string, mixed type is not supported"
    );
    assert_eq!(
        refusal(r#"{"a": [{"anything-but": []}]}"#),
        "Inside anything but list, either all values are number or string, mixed type is not supported"
    );
    assert_eq!(
        refusal(r#"{"a": [{"anything-but": null}]}"#),
        "Value of anything-but must be an array or single string/number value."
    );
    assert_eq!(
        refusal(r#"{"a": [{"anything-but": true}]}"#),
        "Value of anything-but must be an array or single string/number value."
    );
}

#[test]
fn anything_but_objects_accept_only_their_four_operators() {
    assert_eq!(refusal(r#"{"a": [{"anything-but": {}}]}"#), "Anything-But expression name not found");
    assert_eq!(
        refusal(r#"{"a": [{"anything-but": {"numeric": [">", 1]}}]}"#),
        "Unsupported anything-but pattern: numeric"
    );
    assert_eq!(refusal(r#"{"a": [{"anything-but": {"exists": false}}]}"#), "Unsupported anything-but pattern: exists");
    // recorded
    assert_eq!(
        refusal(r#"{"detail": {"FileName": [{"anything-but": {"prefix": {"equals-ignore-case": "file"}}}]}}"#),
        "Value of anything-but must be an array or single string/number value."
    );
    // recorded
    assert_eq!(
        refusal(r#"{"detail": {"FileName": [{"anything-but": {"suffix": {"equals-ignore-case": ".png"}}}]}}"#),
        "Value of anything-but must be an array or single string/number value."
    );
}

#[test]
fn anything_but_operators_need_strings() {
    // All recorded.
    assert_eq!(
        refusal(r#"{"detail": {"state": [{"anything-but": {"equals-ignore-case": 123}}]}}"#),
        "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
    );
    assert_eq!(
        refusal(r#"{"detail": {"state": [{"anything-but": {"equals-ignore-case": [123, 456]}}]}}"#),
        "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
    );
    assert_eq!(
        refusal(r#"{"detail": {"state": [{"anything-but": {"prefix": 123}}]}}"#),
        "prefix/suffix match pattern must be a string"
    );
    assert_eq!(
        refusal(r#"{"detail": {"state": [{"anything-but": {"prefix": [123, "test"]}}]}}"#),
        "prefix/suffix match pattern must be a string"
    );
    assert_eq!(
        refusal(r#"{"detail": {"FileName": [{"anything-but": {"suffix": 123}}]}}"#),
        "prefix/suffix match pattern must be a string"
    );
    assert_eq!(
        refusal(r#"{"detail": {"FileName": [{"anything-but": {"suffix": [123, ".txt"]}}]}}"#),
        "prefix/suffix match pattern must be a string"
    );
    assert_eq!(
        refusal(r#"{"detail": {"FilePath": [{"anything-but": {"wildcard": 123}}]}}"#),
        "wildcard match pattern must be a string"
    );
    assert_eq!(
        refusal(r#"{"detail": {"state": [{"anything-but": {"wildcard": [123, "*/dir/*"]}}]}}"#),
        "wildcard match pattern must be a string"
    );
}

#[test]
fn anything_but_prefix_and_suffix_refuse_the_empty_string() {
    assert_eq!(refusal(r#"{"a": [{"anything-but": {"prefix": ""}}]}"#), "Null prefix/suffix not allowed");
    assert_eq!(refusal(r#"{"a": [{"anything-but": {"suffix": ["x", ""]}}]}"#), "Null prefix/suffix not allowed");
    assert!(Pattern::parse(r#"{"a": [{"prefix": ""}]}"#).is_ok(), "a plain empty prefix is fine");
}

#[test]
fn malformed_cidr_blocks_are_refused() {
    // recorded
    assert_eq!(
        refusal(r#"{"detail": {"sourceIPAddress": [{"cidr": "bad-value"}]}}"#),
        "Malformed CIDR, one '/' required"
    );
    // recorded
    assert_eq!(
        refusal(r#"{"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/xx"}]}}"#),
        "Malformed CIDR, mask bits must be an integer"
    );
    // recorded
    assert_eq!(
        refusal(r#"{"detail": {"sourceIPAddress": [{"cidr": "xx.11.xx/24"}]}}"#),
        "Nonstandard IP address: xx.11.xx"
    );
    // recorded
    assert_eq!(
        refusal(r#"{"detail": {"sourceIPAddress": [{"cidr": "xxxx:db8:1234:1a00::/64"}]}}"#),
        "Nonstandard IP address: xxxx:db8:1234:1a00::"
    );
    // recorded: a non-string cidr gets the prefix message
    assert_eq!(
        refusal(r#"{"detail": {"sourceIPAddress": [{"cidr": ["bad-type"]}]}}"#),
        "prefix match pattern must be a string"
    );
    assert_eq!(refusal(r#"{"ip": [{"cidr": "300.0.0.0/8"}]}"#), "Invalid IP address: 300.0.0.0");
    assert_eq!(refusal(r#"{"ip": [{"cidr": "10.0.0.0/33"}]}"#), "IPv4 mask bits must be < 32");
    assert_eq!(refusal(r#"{"ip": [{"cidr": "::/128"}]}"#), "IPv6 mask bits must be < 128");
    assert_eq!(refusal(r#"{"ip": [{"cidr": "10.0.0.0/-8"}]}"#), "Malformed CIDR, mask bits must not be negative");
}

#[test]
fn wildcards_refuse_consecutive_stars_and_stray_escapes() {
    // recorded
    assert_eq!(
        refusal(r#"{"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:**:event-bus/*"}]}"#),
        "Consecutive wildcard characters at pos 26"
    );
    assert_eq!(refusal(r#"{"a": [{"wildcard": "a\\b"}]}"#), "Invalid escape character at pos 2");
    assert_eq!(
        refusal(r#"{"a": [{"anything-but": {"wildcard": ["ok*", "x**"]}}]}"#),
        "Consecutive wildcard characters at pos 2"
    );
}

#[test]
fn wildcards_with_too_many_stars_are_too_complex() {
    // recorded
    let error = Pattern::parse(r#"{"EventBusArn": [{"wildcard": "*:*:*:*:*:event-bus/*"}]}"#).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::TooComplex);
    assert_eq!(
        error.reason(),
        "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character"
    );
    assert!(Pattern::parse(r#"{"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]}"#).is_ok());
    assert!(Pattern::parse(r#"{"a": [{"wildcard": "*a*b*c*d*"}]}"#).is_ok(), "five stars are allowed");
}

#[test]
fn or_must_be_an_array_of_at_least_two_objects() {
    assert_eq!(refusal(r#"{"$or": {"a": ["x"]}}"#), "It must be an Array followed with $or.");
    assert_eq!(refusal(r#"{"$or": "a"}"#), "It must be an Array followed with $or.");
    assert_eq!(refusal(r#"{"$or": [{"a": ["x"]}]}"#), "There must have at least 2 Objects in $or relationship.");
    assert_eq!(refusal(r#"{"$or": []}"#), "There must have at least 2 Objects in $or relationship.");
    assert_eq!(
        refusal(r#"{"$or": [{"a": ["x"]}, ["b"]]}"#),
        "Only JSON object is allowed in array of $or relationship."
    );
    assert_eq!(refusal(r#"{"$or": [{"a": ["x"]}, {}]}"#), "Empty objects are not allowed");
}

#[test]
fn or_alternatives_may_not_use_operator_names_as_fields() {
    assert_eq!(
        refusal(r#"{"$or": [{"numeric": [123]}, {"prefix": ["abc"]}]}"#),
        "numeric is Ruler reserved fieldName which cannot be used inside $or."
    );
    assert_eq!(
        refusal(r#"{"$or": [{"a": {"exists": [true]}}, {"b": ["x"]}]}"#),
        "exists is Ruler reserved fieldName which cannot be used inside $or."
    );
    assert!(Pattern::parse(r#"{"prefix": ["abc"]}"#).is_ok(), "outside $or they are ordinary field names");
}

#[test]
fn or_combinations_are_bounded() {
    let alternatives: Vec<_> = (0..40).map(|i| json!({ format!("f{i}"): ["x"] })).collect();
    let pattern = json!({"$or": alternatives, "detail": {"$or": alternatives}});
    let error = Pattern::from_value(&pattern).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::TooComplex);
    assert!(error.reason().starts_with("Rule is too complex"), "{error}");
    assert!(error.reason().contains(&MAX_OR_COMBINATIONS.to_string()));
    let smaller = json!({"$or": alternatives[..20], "detail": {"$or": alternatives[..20]}});
    assert_eq!(Pattern::from_value(&smaller).expect("400 alternatives").alternatives(), 400);
}

#[test]
fn deeply_nested_patterns_are_refused() {
    let mut pattern = json!({"leaf": ["x"]});
    for i in 0..MAX_PATTERN_DEPTH {
        pattern = json!({ format!("k{i}"): pattern });
    }
    let error = Pattern::from_value(&pattern).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::TooComplex);
    assert!(error.reason().contains("nested deeper"), "{error}");
    let mut allowed = json!({"leaf": ["x"]});
    for i in 0..MAX_PATTERN_DEPTH - 1 {
        allowed = json!({ format!("k{i}"): allowed });
    }
    assert!(Pattern::from_value(&allowed).is_ok());
}

#[test]
fn errors_name_the_field_they_are_about() {
    let error = Pattern::parse(r#"{"detail": {"state": [{"prefix": 1}]}}"#).unwrap_err();
    assert_eq!(error.path(), Some("detail.state"));
    assert_eq!(error.to_string(), r#"prefix match pattern must be a string at field "detail.state""#);
    assert_eq!(
        error.aws_message(),
        r#"Event pattern is not valid. Reason: prefix match pattern must be a string at field "detail.state""#
    );
    let error = Pattern::parse(r#"{"detail": {"$or": [{"a": ["x"]}]}}"#).unwrap_err();
    assert_eq!(error.path(), Some("detail.$or"));
    assert_eq!(Pattern::parse("[]").unwrap_err().path(), None);
}

//! Every example pattern of the EventBridge user guide's "Event patterns", "Comparison operators / content
//! filtering", "Arrays" and "Null values and empty strings" pages, with events that match and events that do not.

use crate::matches;

const EC2_TERMINATED: &str = r#"{
  "version": "0",
  "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": "EC2 Instance State-change Notification",
  "source": "aws.ec2",
  "account": "111122223333",
  "time": "2017-12-22T18:43:48Z",
  "region": "us-west-1",
  "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
  "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"}
}"#;

fn with_state(state: &str) -> String {
    EC2_TERMINATED.replace(r#""state": "terminated""#, &format!(r#""state": "{state}""#))
}

#[test]
fn the_ec2_termination_pattern_matches_only_terminated_instances() {
    let pattern = r#"{
      "source": ["aws.ec2"],
      "detail-type": ["EC2 Instance State-change Notification"],
      "detail": {"state": ["terminated"]}
    }"#;
    assert!(matches(pattern, EC2_TERMINATED));
    assert!(!matches(pattern, &with_state("running")));
    assert!(!matches(pattern, &EC2_TERMINATED.replace("aws.ec2", "aws.s3")));
}

#[test]
fn a_value_list_matches_any_of_its_values() {
    let pattern = r#"{"source": ["aws.ec2", "aws.fargate"]}"#;
    assert!(matches(pattern, r#"{"source": "aws.ec2"}"#));
    assert!(matches(pattern, r#"{"source": "aws.fargate"}"#));
    assert!(!matches(pattern, r#"{"source": "aws.s3"}"#));
}

#[test]
fn string_matching_is_exact_and_case_sensitive() {
    assert!(!matches(r#"{"source": ["aws.ec2"]}"#, r#"{"source": "AWS.EC2"}"#));
    assert!(!matches(r#"{"source": ["aws.ec2"]}"#, r#"{"source": "aws.ec2 "}"#));
}

#[test]
fn fields_not_named_in_the_pattern_are_ignored_but_named_ones_must_exist() {
    assert!(matches(r#"{"detail": {"state": ["terminated"]}}"#, EC2_TERMINATED));
    assert!(!matches(r#"{"detail": {"status": ["terminated"]}}"#, EC2_TERMINATED));
    assert!(!matches(r#"{"state": ["terminated"]}"#, EC2_TERMINATED), "nesting must be the same");
}

const AUTOSCALING: &str = r#"{
  "version": "0",
  "id": "3e3c153a-8339-4e30-8c35-687ebef853fe",
  "detail-type": "EC2 Instance Launch Successful",
  "source": "aws.autoscaling",
  "account": "123456789012",
  "time": "2015-11-11T21:31:47Z",
  "region": "us-east-1",
  "resources": [],
  "detail": {"eventVersion": "", "responseElements": null}
}"#;

#[test]
fn null_matches_a_null_field_and_the_empty_string_matches_an_empty_one() {
    assert!(matches(
        r#"{"source": ["aws.autoscaling"], "detail-type": ["EC2 Instance Launch Successful"], "detail": {"responseElements": [null]}}"#,
        AUTOSCALING
    ));
    assert!(matches(r#"{"detail": {"eventVersion": [""]}}"#, AUTOSCALING));
}

#[test]
fn null_and_the_empty_string_are_not_interchangeable() {
    assert!(!matches(r#"{"detail": {"eventVersion": [null]}}"#, AUTOSCALING));
    assert!(!matches(r#"{"detail": {"responseElements": [""]}}"#, AUTOSCALING));
    assert!(!matches(r#"{"detail": {"missing": [null]}}"#, AUTOSCALING), "null is a value, not absence");
}

#[test]
fn an_empty_event_array_matches_no_value_not_even_null() {
    assert!(!matches(r#"{"resources": [null]}"#, AUTOSCALING));
    assert!(!matches(r#"{"resources": [""]}"#, AUTOSCALING));
}

const MACIE: &str = r#"{
  "version": "0",
  "id": "3e355723-fca9-4de3-9fd7-154c289d6b59",
  "detail-type": "Macie Alert",
  "source": "aws.macie",
  "account": "123456789012",
  "time": "2017-04-24T22:28:49Z",
  "region": "us-east-1",
  "resources": [
    "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id/alert/alert_id",
    "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id"
  ],
  "detail": {
    "notification-type": "ALERT_CREATED",
    "name": "Scanning bucket policies",
    "tags": ["Custom_Alert", "Insider"],
    "url": "https://lb00.us-east-1.macie.aws.amazon.com/111122223333/posts/alert_id",
    "alert-arn": "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id/alert/alert_",
    "risk-score": 80,
    "trigger": {
      "rule-arn": "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id",
      "alert-type": "basic",
      "created-at": "2017-01-02 19:54:00.644000",
      "description": "Alerting on failed enumeration of large number of bucket policies",
      "risk": 8
    },
    "created-at": "2017-04-18T00:21:12.059000"
  }
}"#;

#[test]
fn numbers_and_nested_fields_match_the_macie_alert() {
    let pattern = r#"{
      "source": ["aws.macie"],
      "detail-type": ["Macie Alert"],
      "detail": {"risk-score": [80], "trigger": {"risk": [8]}}
    }"#;
    assert!(matches(pattern, MACIE));
    assert!(!matches(&pattern.replace("[8]", "[9]"), MACIE));
    assert!(!matches(&pattern.replace("[80]", r#"["80"]"#), MACIE), "a string never equals a number");
}

#[test]
fn an_event_array_matches_when_it_shares_a_value_with_the_pattern() {
    let pattern = r#"{"resources": [
      "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
      "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
      "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f"
    ]}"#;
    let event = r#"{"resources": [
      "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate",
      "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"
    ]}"#;
    assert!(matches(pattern, event));
    assert!(!matches(pattern, r#"{"resources": ["arn:aws:ec2:us-east-1:999999999999:instance/i-b188560f"]}"#));
    assert!(matches(r#"{"detail": {"tags": ["Insider"]}}"#, MACIE));
}

#[test]
fn numbers_are_equal_whatever_their_spelling() {
    // The guide says 300, 300.0 and 3.0e2 are different; AWS (and event-ruler) match them.
    for event in ["300", "300.0", "3.0e2", "3e2", "300.0000"] {
        assert!(matches(r#"{"number": [300]}"#, &format!(r#"{{"number": {event}}}"#)), "{event}");
        assert!(matches(r#"{"number": [3.0e2]}"#, &format!(r#"{{"number": {event}}}"#)), "{event}");
    }
    assert!(!matches(r#"{"number": [300]}"#, r#"{"number": 300.5}"#));
    assert!(!matches(r#"{"number": [300]}"#, r#"{"number": "300"}"#));
}

#[test]
fn dotted_keys_in_patterns_and_events_stand_for_nesting() {
    let nested = r#"{"detail": {"state": {"status": "running"}}}"#;
    let dotted = r#"{"detail": {"state.status": "running"}}"#;
    assert!(matches(r#"{"detail": {"state.status": ["running"]}}"#, nested));
    assert!(matches(r#"{"detail": {"state": {"status": ["running"]}}}"#, dotted));
    assert!(matches(r#"{"detail.state.status": ["running"]}"#, nested));
    assert!(!matches(r#"{"detail": {"state.status": {"status": ["running"]}}}"#, nested));
    assert!(!matches(
        r#"{"detail": {"state": {"status": ["running"]}}}"#,
        r#"{"detail": {"state.status": {"status": "running"}}}"#
    ));
}

#[test]
fn a_field_given_twice_keeps_its_last_value_list() {
    let pattern = r#"{"detail": {"location": [{"prefix": "us-"}], "location": [{"anything-but": "us-east"}]}}"#;
    assert!(matches(pattern, r#"{"detail": {"location": "eu-west"}}"#));
    assert!(!matches(pattern, r#"{"detail": {"location": "us-east"}}"#));
}

// --- Comparison operators ---

#[test]
fn prefix_matches_the_start_of_a_string() {
    let pattern = r#"{"time": [{"prefix": "2017-10-02"}]}"#;
    assert!(matches(pattern, r#"{"time": "2017-10-02T18:43:48Z"}"#));
    assert!(matches(pattern, r#"{"time": "2017-10-02"}"#));
    assert!(!matches(pattern, r#"{"time": "2017-10-03T18:43:48Z"}"#));
    assert!(!matches(pattern, r#"{"time": " 2017-10-02"}"#));
}

#[test]
fn prefix_matches_strings_only() {
    assert!(!matches(r#"{"n": [{"prefix": "12"}]}"#, r#"{"n": 123}"#));
    assert!(!matches(r#"{"n": [{"prefix": "tr"}]}"#, r#"{"n": true}"#));
    assert!(!matches(r#"{"n": [{"prefix": "nu"}]}"#, r#"{"n": null}"#));
    assert!(matches(r#"{"n": [{"prefix": ""}]}"#, r#"{"n": ""}"#));
    assert!(!matches(r#"{"n": [{"prefix": ""}]}"#, r#"{"n": 1}"#));
}

#[test]
fn prefix_with_equals_ignore_case_ignores_the_case_of_the_start() {
    let pattern = r#"{"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}}"#;
    for service in ["EventBridge", "EVENTBRIDGE", "eventbridge", "eventB"] {
        assert!(matches(pattern, &format!(r#"{{"detail": {{"service": "{service}"}}}}"#)), "{service}");
    }
    assert!(!matches(pattern, r#"{"detail": {"service": "Amazon EventBridge"}}"#));
}

#[test]
fn suffix_matches_the_end_of_a_string() {
    let pattern = r#"{"FileName": [{"suffix": ".png"}]}"#;
    assert!(matches(pattern, r#"{"FileName": "image.png"}"#));
    assert!(!matches(pattern, r#"{"FileName": "image.PNG"}"#));
    assert!(!matches(pattern, r#"{"FileName": "image.png.txt"}"#));
}

#[test]
fn suffix_with_equals_ignore_case_ignores_the_case_of_the_end() {
    let pattern = r#"{"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}}"#;
    assert!(matches(pattern, r#"{"detail": {"FileName": "image.PNG"}}"#));
    assert!(matches(pattern, r#"{"detail": {"FileName": "image.pNg"}}"#));
    assert!(!matches(pattern, r#"{"detail": {"FileName": "image.jpg"}}"#));
    let service = r#"{"service": [{"suffix": {"equals-ignore-case": "tBridge"}}]}"#;
    assert!(matches(service, r#"{"service": "EVENTBRIDGE"}"#));
}

#[test]
fn equals_ignore_case_matches_whole_strings_in_any_case() {
    let pattern = r#"{"detail-type": [{"equals-ignore-case": "ec2 instance state-change notification"}]}"#;
    assert!(matches(pattern, EC2_TERMINATED));
    assert!(!matches(pattern, r#"{"detail-type": "EC2 Instance State-change Notification!"}"#));
    assert!(matches(r#"{"Name": [{"equals-ignore-case": "alice"}]}"#, r#"{"Name": "ALICE"}"#));
    assert!(matches(r#"{"Name": [{"equals-ignore-case": "ÉCOLE"}]}"#, r#"{"Name": "école"}"#));
    assert!(matches(r#"{"Name": [{"equals-ignore-case": ""}]}"#, r#"{"Name": ""}"#));
    assert!(!matches(r#"{"Name": [{"equals-ignore-case": "1"}]}"#, r#"{"Name": 1}"#));
}

#[test]
fn anything_but_a_string_matches_every_other_value() {
    let pattern = r#"{"detail": {"state": [{"anything-but": "initializing"}]}}"#;
    assert!(matches(pattern, r#"{"detail": {"state": "running"}}"#));
    assert!(!matches(pattern, r#"{"detail": {"state": "initializing"}}"#));
    assert!(matches(pattern, r#"{"detail": {"state": null}}"#), "AWS: anything-but accepts null");
    assert!(matches(pattern, r#"{"detail": {"state": 12}}"#));
    assert!(!matches(pattern, r#"{"detail": {"other": "running"}}"#), "the field must be present");
}

#[test]
fn anything_but_a_number_matches_every_other_number() {
    let pattern = r#"{"detail": {"x-limit": [{"anything-but": 123}]}}"#;
    assert!(matches(pattern, r#"{"detail": {"x-limit": 124}}"#));
    assert!(!matches(pattern, r#"{"detail": {"x-limit": 123}}"#));
    assert!(!matches(pattern, r#"{"detail": {"x-limit": 1.23e2}}"#));
    assert!(matches(pattern, r#"{"detail": {"x-limit": "123"}}"#), "a string is not the number 123");
}

#[test]
fn anything_but_a_list_of_strings_excludes_each_of_them() {
    let pattern = r#"{"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}}"#;
    assert!(matches(pattern, r#"{"detail": {"state": "running"}}"#));
    assert!(!matches(pattern, r#"{"detail": {"state": "stopped"}}"#));
    assert!(!matches(pattern, r#"{"detail": {"state": "overloaded"}}"#));
}

#[test]
fn anything_but_a_list_of_numbers_excludes_each_of_them() {
    let pattern = r#"{"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}}"#;
    assert!(matches(pattern, r#"{"detail": {"x-limit": 301.8}}"#));
    assert!(!matches(pattern, r#"{"detail": {"x-limit": 200}}"#));
    assert!(!matches(pattern, r#"{"detail": {"x-limit": 300.0}}"#));
}

#[test]
fn anything_but_matches_an_event_array_with_one_value_outside_the_list() {
    let pattern = r#"{"price": [{"anything-but": [100, 500]}]}"#;
    assert!(matches(pattern, r#"{"price": [100, 50]}"#));
    assert!(!matches(pattern, r#"{"price": [100, 500]}"#));
}

#[test]
fn anything_but_prefix_excludes_strings_with_that_prefix() {
    let pattern = r#"{"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}"#;
    assert!(matches(pattern, r#"{"detail": {"state": "running"}}"#));
    assert!(!matches(pattern, r#"{"detail": {"state": "initializing"}}"#));
    assert!(matches(pattern, r#"{"detail": {"state": 12}}"#), "AWS: a number has no prefix to exclude");
    assert!(matches(pattern, r#"{"detail": {"state": null}}"#));
    assert!(!matches(pattern, r#"{"detail": {}}"#));
    let regions = r#"{"Region": [{"anything-but": {"prefix": ["us-", "eu-"]}}]}"#;
    assert!(matches(regions, r#"{"Region": "ap-south-1"}"#));
    assert!(!matches(regions, r#"{"Region": "eu-west-1"}"#));
}

#[test]
fn anything_but_suffix_excludes_strings_with_that_suffix() {
    let pattern = r#"{"detail": {"FileName": [{"anything-but": {"suffix": ".txt"}}]}}"#;
    assert!(matches(pattern, r#"{"detail": {"FileName": "notes.md"}}"#));
    assert!(!matches(pattern, r#"{"detail": {"FileName": "notes.txt"}}"#));
    assert!(matches(pattern, r#"{"detail": {"FileName": "notes.TXT"}}"#));
}

#[test]
fn anything_but_equals_ignore_case_excludes_any_casing() {
    let pattern = r#"{"detail": {"state": [{"anything-but": {"equals-ignore-case": ["Stopped", "OverLoaded"]}}]}}"#;
    assert!(matches(pattern, r#"{"detail": {"state": "running"}}"#));
    assert!(!matches(pattern, r#"{"detail": {"state": "STOPPED"}}"#));
    assert!(!matches(pattern, r#"{"detail": {"state": "overloaded"}}"#));
    let single = r#"{"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]}"#;
    assert!(!matches(single, r#"{"state": "INITIALIZING"}"#));
    assert!(matches(single, r#"{"state": null}"#));
}

#[test]
fn anything_but_wildcard_excludes_strings_the_wildcard_matches() {
    let pattern = r#"{"detail": {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}}"#;
    assert!(matches(pattern, r#"{"detail": {"FilePath": "/usr/bin/env"}}"#));
    assert!(!matches(pattern, r#"{"detail": {"FilePath": "/usr/lib/libc.so"}}"#));
    assert!(matches(pattern, r#"{"detail": {"FilePath": 123}}"#));
    let list = r#"{"detail": {"FilePath": [{"anything-but": {"wildcard": ["*/lib/*", "*/bin/*"]}}]}}"#;
    assert!(matches(list, r#"{"detail": {"FilePath": "/home/me/notes"}}"#));
    assert!(!matches(list, r#"{"detail": {"FilePath": "/usr/bin/env"}}"#));
    let empty = r#"{"detail": {"FilePath": [{"anything-but": {"wildcard": ""}}]}}"#;
    assert!(matches(empty, r#"{"detail": {"FilePath": "dir/init/file"}}"#));
    assert!(!matches(empty, r#"{"detail": {"FilePath": ""}}"#));
}

const RULER_EVENT: &str = r#"{
  "version": "0",
  "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
  "detail-type": "EC2 Instance State-change Notification",
  "source": "aws.ec2",
  "account": "012345679012",
  "time": "2017-10-02T16:24:49Z",
  "region": "us-east-1",
  "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
  "detail": {
    "c-count": 5,
    "d-count": 3,
    "x-limit": 301.8,
    "source-ip": "10.0.0.33",
    "instance-id": "i-000000aaaaaa00000",
    "state": "running"
  }
}"#;

#[test]
fn numeric_matching_holds_for_every_field_of_the_example() {
    let pattern = r#"{"detail": {
      "c-count": [{"numeric": [">", 0, "<=", 5]}],
      "d-count": [{"numeric": ["<", 10]}],
      "x-limit": [{"numeric": ["=", 3.018e2]}]
    }}"#;
    assert!(matches(pattern, RULER_EVENT));
    assert!(!matches(pattern, &RULER_EVENT.replace(r#""c-count": 5"#, r#""c-count": 6"#)));
    assert!(!matches(pattern, &RULER_EVENT.replace(r#""c-count": 5"#, r#""c-count": 0"#)));
    assert!(!matches(pattern, &RULER_EVENT.replace(r#""d-count": 3"#, r#""d-count": 10"#)));
    assert!(!matches(pattern, &RULER_EVENT.replace(r#""x-limit": 301.8"#, r#""x-limit": 301.9"#)));
}

#[test]
fn numeric_bounds_are_open_or_closed_as_written() {
    let event = |n: &str| format!(r#"{{"n": {n}}}"#);
    assert!(matches(r#"{"n": [{"numeric": [">=", 10]}]}"#, &event("10")));
    assert!(!matches(r#"{"n": [{"numeric": [">", 10]}]}"#, &event("10")));
    assert!(matches(r#"{"n": [{"numeric": ["<=", 10]}]}"#, &event("10")));
    assert!(!matches(r#"{"n": [{"numeric": ["<", 10]}]}"#, &event("10")));
    assert!(matches(r#"{"n": [{"numeric": [">", 10, "<", 20]}]}"#, &event("19.999999")));
    assert!(!matches(r#"{"n": [{"numeric": [">", 10, "<", 20]}]}"#, &event("20")));
    assert!(matches(r#"{"n": [{"numeric": [">=", -5.0e9, "<=", 5.0e9]}]}"#, &event("-5000000000")));
    assert!(matches(r#"{"n": [{"numeric": ["<", 0]}]}"#, &event("-0.000001")));
}

#[test]
fn numeric_matching_compares_to_six_decimal_places() {
    assert!(matches(r#"{"n": [{"numeric": ["=", 1.5]}]}"#, r#"{"n": 1.5000001}"#));
    assert!(!matches(r#"{"n": [{"numeric": ["=", 1.5]}]}"#, r#"{"n": 1.500001}"#));
}

#[test]
fn numeric_matching_ignores_strings_null_and_numbers_out_of_range() {
    let pattern = r#"{"number": [{"numeric": [">", 100]}]}"#;
    assert!(matches(pattern, r#"{"number": 101.0}"#));
    assert!(!matches(pattern, r#"{"number": "101"}"#));
    assert!(!matches(pattern, r#"{"number": null}"#));
    assert!(!matches(pattern, r#"{"number": 6e9}"#), "beyond 5e9 a number is not comparable");
}

#[test]
fn large_numbers_like_account_ids_still_match_exactly() {
    assert!(matches(r#"{"account": [123456789012]}"#, r#"{"account": 123456789012}"#));
    assert!(!matches(r#"{"account": [123456789012]}"#, r#"{"account": 123456789013}"#));
}

#[test]
fn ipv4_cidr_matches_addresses_in_the_block() {
    let pattern = r#"{"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}}"#;
    for ip in ["10.0.0.0", "10.0.0.1", "10.0.0.255"] {
        assert!(matches(pattern, &format!(r#"{{"detail": {{"sourceIPAddress": "{ip}"}}}}"#)), "{ip}");
    }
    for ip in ["10.0.1.0", "9.255.255.255", "not an ip", "10.0.0"] {
        assert!(!matches(pattern, &format!(r#"{{"detail": {{"sourceIPAddress": "{ip}"}}}}"#)), "{ip}");
    }
    assert!(!matches(pattern, r#"{"detail": {"sourceIPAddress": 123}}"#));
    assert!(matches(r#"{"detail": {"source-ip": [{"cidr": "10.0.0.0/8"}]}}"#, RULER_EVENT));
}

#[test]
fn ipv6_cidr_matches_addresses_in_the_block() {
    let pattern = r#"{"detail": {"sourceIPAddress": [{"cidr": "2001:db8:1234:1a00::/64"}]}}"#;
    assert!(matches(pattern, r#"{"detail": {"sourceIPAddress": "2001:db8:1234:1a00:9691:9503:25ad:1761"}}"#));
    assert!(matches(pattern, r#"{"detail": {"sourceIPAddress": "2001:0db8:1234:1a00:0000:0000:0000:0001"}}"#));
    assert!(!matches(pattern, r#"{"detail": {"sourceIPAddress": "2001:db8:1234:1a01::1"}}"#));
    assert!(!matches(pattern, r#"{"detail": {"sourceIPAddress": "10.0.0.1"}}"#));
}

#[test]
fn an_address_as_a_plain_value_matches_the_same_address_however_written() {
    assert!(matches(r#"{"ip": ["2001:db8::1"]}"#, r#"{"ip": "2001:0db8:0:0:0:0:0:1"}"#));
    assert!(matches(r#"{"ip": ["10.0.0.1"]}"#, r#"{"ip": "10.0.0.1"}"#));
    assert!(!matches(r#"{"ip": ["10.0.0.1"]}"#, r#"{"ip": "10.0.0.2"}"#));
}

#[test]
fn exists_true_matches_an_event_that_has_the_field() {
    let pattern = r#"{"detail": {"state": [{"exists": true}]}}"#;
    let event = r#"{
      "version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602",
      "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
      "account": "123456789012", "time": "2015-11-11T21:29:54Z", "region": "us-east-1",
      "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
      "detail": {"instance-id": "i-abcd1111", "state": "pending"}
    }"#;
    assert!(matches(pattern, event));
    assert!(!matches(pattern, r#"{"detail": {"c-count": {"c1": 100}}}"#));
    assert!(matches(pattern, r#"{"detail": {"state": null}}"#), "null is a value");
    assert!(matches(pattern, r#"{"detail": {"state": ""}}"#));
}

#[test]
fn exists_false_matches_an_event_without_the_field() {
    let pattern = r#"{"detail": {"c-count": [{"exists": false}]}}"#;
    assert!(matches(pattern, r#"{"detail": {"state": "initializing"}}"#));
    assert!(matches(pattern, r#"{"source": "aws.ec2"}"#), "no detail at all");
    assert!(!matches(pattern, r#"{"detail": {"c-count": 3}}"#));
    assert!(!matches(pattern, r#"{"detail": {"c-count": null}}"#));
}

#[test]
fn exists_only_sees_leaves_so_an_object_or_empty_array_does_not_exist() {
    // The guide: `c-count` holding an object is not a leaf, so exists:false matches.
    let object = r#"{"detail": {"state": "initializing", "c-count": {"c1": 100}}}"#;
    assert!(matches(r#"{"detail": {"c-count": [{"exists": false}]}}"#, object));
    assert!(!matches(r#"{"detail": {"c-count": [{"exists": true}]}}"#, object));
    assert!(!matches(r#"{"resources": [{"exists": true}]}"#, AUTOSCALING), "an empty array has no leaf");
    assert!(matches(r#"{"resources": [{"exists": false}]}"#, AUTOSCALING));
    assert!(matches(r#"{"resources": [{"exists": true}]}"#, MACIE));
    assert!(matches(
        r#"{"detail": {"level1": {"level2": [{"exists": false}]}}}"#,
        r#"{"detail": {"level1": {"level2": {"level3": "x"}}}}"#
    ));
}

#[test]
fn exists_inside_an_array_of_objects_needs_one_element_with_the_field() {
    let event = r#"{"detail": {"automations": [{"key1": "value1"}, {"id": "match-does-exist"}, {"key2": "value2"}]}}"#;
    assert!(matches(r#"{"detail": {"automations": {"id": [{"exists": true}]}}}"#, event));
    assert!(!matches(r#"{"detail": {"automations": {"id": [{"exists": false}]}}}"#, event));
    assert!(matches(r#"{"detail": {"automations": {"name": [{"exists": false}]}}}"#, event));
}

#[test]
fn wildcard_matches_any_run_of_characters() {
    let pattern = r#"{"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]}"#;
    assert!(matches(pattern, r#"{"EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/myEventBus"}"#));
    assert!(!matches(pattern, r#"{"EventBusArn": "arn:aws:events:us-west-2:123456789012:event-bus/myEventBus"}"#));
    let png = r#"{"FilePath": [{"wildcard": "dir/*.png"}]}"#;
    assert!(matches(png, r#"{"FilePath": "dir/image.png"}"#));
    assert!(matches(png, r#"{"FilePath": "dir/sub/image.png"}"#));
    assert!(!matches(png, r#"{"FilePath": "dir/image.jpg"}"#));
    assert!(matches(r#"{"source": [{"wildcard": "Simple*Service"}]}"#, r#"{"source": "Simple Notification Service"}"#));
    assert!(!matches(r#"{"source": [{"wildcard": "*"}]}"#, r#"{"source": 1}"#), "wildcards match strings only");
    assert!(matches(r#"{"source": [{"wildcard": "*"}]}"#, r#"{"source": ""}"#));
}

#[test]
fn wildcard_escapes_match_a_literal_star_and_backslash() {
    assert!(matches(r#"{"v": [{"wildcard": "a\\*b"}]}"#, r#"{"v": "a*b"}"#));
    assert!(!matches(r#"{"v": [{"wildcard": "a\\*b"}]}"#, r#"{"v": "axb"}"#));
    assert!(matches(r#"{"v": [{"wildcard": "a\\\\*"}]}"#, r#"{"v": "a\\bc"}"#));
    assert!(!matches(r#"{"v": [{"wildcard": "a\\\\*"}]}"#, r#"{"v": "abc"}"#));
}

#[test]
fn or_matches_when_any_alternative_matches() {
    let pattern = r#"{"$or": [
      {"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}},
      {"detail": {"d-count": [{"numeric": ["<", 10]}]}},
      {"detail": {"x-limit": [{"numeric": ["=", 3.018e2]}]}}
    ]}"#;
    assert!(matches(pattern, RULER_EVENT));
    assert!(matches(pattern, r#"{"detail": {"c-count": 100, "d-count": 3}}"#));
    assert!(matches(pattern, r#"{"detail": {"x-limit": 301.8}}"#));
    assert!(!matches(pattern, r#"{"detail": {"c-count": 100, "d-count": 30, "x-limit": 1}}"#));
}

#[test]
fn or_combines_with_the_fields_around_it() {
    let pattern = r#"{"source": ["aws.payments"], "$or": [
      {"detail": {"paymentType": ["Credit"]}},
      {"detail": {"paymentType": ["Debit"]}}
    ]}"#;
    assert!(matches(pattern, r#"{"source": "aws.payments", "detail": {"paymentType": "Debit"}}"#));
    assert!(!matches(pattern, r#"{"source": "aws.shop", "detail": {"paymentType": "Debit"}}"#));
    assert!(!matches(pattern, r#"{"source": "aws.payments", "detail": {"paymentType": "Cash"}}"#));
    let either = r#"{"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}"#;
    assert!(matches(either, r#"{"Location": "Paris", "Day": "Monday"}"#));
    assert!(!matches(either, r#"{"Location": "Paris", "Day": "Sunday"}"#));
}

#[test]
fn the_complex_example_combines_prefix_anything_but_numeric_and_cidr() {
    let pattern = r#"{
      "time": [{"prefix": "2017-10-02"}],
      "detail": {
        "state": [{"anything-but": "initializing"}],
        "c-count": [{"numeric": [">", 0, "<=", 5]}],
        "d-count": [{"numeric": ["<", 10]}],
        "x-limit": [{"anything-but": [100, 200, 300]}],
        "source-ip": [{"cidr": "10.0.0.0/8"}]
      }
    }"#;
    assert!(matches(pattern, RULER_EVENT));
    assert!(!matches(pattern, &RULER_EVENT.replace("running", "initializing")));
    assert!(!matches(pattern, &RULER_EVENT.replace("2017-10-02", "2017-10-03")));
    assert!(!matches(pattern, &RULER_EVENT.replace("10.0.0.33", "11.0.0.33")));
    assert!(!matches(pattern, &RULER_EVENT.replace("301.8", "300")));
}

#[test]
fn a_field_with_several_operators_matches_when_any_of_them_does() {
    let pattern = r#"{"state": ["stopped", {"prefix": "run"}, {"numeric": ["=", 3]}, {"exists": false}]}"#;
    assert!(matches(pattern, r#"{"state": "stopped"}"#));
    assert!(matches(pattern, r#"{"state": "running"}"#));
    assert!(matches(pattern, r#"{"state": 3}"#));
    assert!(matches(pattern, r#"{"other": 1}"#));
    assert!(!matches(pattern, r#"{"state": "pending"}"#));
}

#[test]
fn booleans_match_booleans_only() {
    assert!(matches(r#"{"enabled": [true]}"#, r#"{"enabled": true}"#));
    assert!(!matches(r#"{"enabled": [true]}"#, r#"{"enabled": false}"#));
    assert!(!matches(r#"{"enabled": [true]}"#, r#"{"enabled": "true"}"#));
    assert!(matches(r#"{"enabled": [false, null]}"#, r#"{"enabled": null}"#));
}

#[test]
fn a_nested_json_string_is_a_string_not_an_object() {
    let event = r#"{"detail": "{\"my-key\": \"my-value\"}"}"#;
    assert!(!matches(r#"{"detail": {"my-key": ["my-value"]}}"#, event));
    assert!(matches(r#"{"detail": [{"prefix": "{\"my-key\""}]}"#, event));
}

#[test]
fn escaped_characters_compare_by_their_meaning() {
    assert!(matches(r#"{"name": ["café \"x\""]}"#, r#"{"name": "caf\u00e9 \"x\""}"#));
    assert!(matches(r#"{"na\u006de": ["é"]}"#, r#"{"name": "\u00e9"}"#));
}

//! Cases from event-ruler's README (AWS's reference implementation) and from AWS-recorded behaviour where the
//! user guide is silent: arrays of objects, `$or` forms, and how operators treat values of other types.

use crate::matches;

const EMPLOYEES: &str = r#"{"employees": [
  {"firstName": "John", "lastName": "Doe"},
  {"firstName": "Anna", "lastName": "Smith"},
  {"firstName": "Peter", "lastName": "Jones"}
]}"#;

#[test]
fn a_field_inside_an_array_of_objects_matches_any_element() {
    assert!(matches(r#"{"employees": {"firstName": ["Anna"]}}"#, EMPLOYEES));
    assert!(!matches(r#"{"employees": {"firstName": ["Mary"]}}"#, EMPLOYEES));
}

#[test]
fn fields_of_different_elements_of_one_array_do_not_combine() {
    assert!(!matches(r#"{"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}"#, EMPLOYEES));
    assert!(matches(r#"{"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}"#, EMPLOYEES));
    assert!(matches(r#"{"employees": {"firstName": ["Anna", "Peter"], "lastName": ["Jones"]}}"#, EMPLOYEES));
}

#[test]
fn arrays_of_arrays_are_flattened_and_stay_consistent() {
    let event = r#"{"employees": [
      [{"firstName": "John", "lastName": "Doe"}, {"firstName": "Anna", "lastName": "Smith"}],
      [{"firstName": "Peter", "lastName": "Jones"}]
    ]}"#;
    assert!(matches(r#"{"employees": {"firstName": ["Peter"]}}"#, event));
    assert!(matches(r#"{"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}"#, event));
    assert!(!matches(r#"{"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}"#, event));
    assert!(matches(r#"{"n": [3]}"#, r#"{"n": [[1, 2], [[3]]]}"#));
}

#[test]
fn a_field_outside_the_array_combines_with_any_element() {
    let event = r#"{"team": "blue", "members": [{"name": "a", "role": "dev"}, {"name": "b", "role": "ops"}]}"#;
    assert!(matches(r#"{"team": ["blue"], "members": {"role": ["ops"]}}"#, event));
    assert!(!matches(r#"{"team": ["red"], "members": {"role": ["ops"]}}"#, event));
}

#[test]
fn consistency_holds_through_nested_arrays_of_objects() {
    let event = r#"{"orders": [
      {"id": 1, "lines": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 5}]},
      {"id": 2, "lines": [{"sku": "a", "qty": 5}]}
    ]}"#;
    assert!(matches(r#"{"orders": {"id": [2], "lines": {"sku": ["a"], "qty": [5]}}}"#, event));
    assert!(matches(r#"{"orders": {"id": [1], "lines": {"sku": ["b"], "qty": [5]}}}"#, event));
    assert!(!matches(r#"{"orders": {"id": [1], "lines": {"sku": ["a"], "qty": [5]}}}"#, event));
    assert!(!matches(r#"{"orders": {"id": [2], "lines": {"sku": ["b"]}}}"#, event));
}

#[test]
fn the_readme_example_rules_match_its_example_event() {
    let event = r#"{
      "version": "0", "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
      "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
      "account": "012345679012", "time": "2017-10-02T16:24:49Z", "region": "us-east-1",
      "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
      "detail": {"c-count": 5, "d-count": 3, "x-limit": 301.8, "source-ip": "10.0.0.33",
                 "instance-id": "i-000000aaaaaa00000", "state": "running"}
    }"#;
    for rule in [
        r#"{"detail-type": ["EC2 Instance State-change Notification"],
            "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
            "detail": {"state": ["initializing", "running"]}}"#,
        r#"{"time": [{"prefix": "2017-10-02"}]}"#,
        r#"{"source": [{"suffix": "ec2"}]}"#,
        r#"{"source": [{"equals-ignore-case": "AWS.EC2"}]}"#,
        r#"{"detail": {"state": [{"anything-but": "initializing"}]}}"#,
        r#"{"detail": {"x-limit": [{"anything-but": 123}]}}"#,
        r#"{"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}}"#,
        r#"{"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}}"#,
        r#"{"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}"#,
        r#"{"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}"#,
        r#"{"detail": {"c-count": [{"exists": true}]}}"#,
        r#"{"detail": {"state": [{"anything-but": {"wildcard": "*/bin/*.jar"}}]}}"#,
    ] {
        assert!(matches(rule, event), "{rule}");
    }
    assert!(!matches(r#"{"detail": {"c-count": [{"exists": false}]}}"#, event));
}

const CLOUDWATCH: &str = r#"{"source": "aws.cloudwatch", "metricName": "CPUUtilization", "namespace": "AWS/EC2",
  "metricType": "MetricType", "scope": "Service", "metricId": 1234, "spaceId": 1000,
  "detail": {"source": "aws.cloudwatch", "detail-type": "CloudWatch Alarm State Change"}}"#;

#[test]
fn or_next_to_a_field_requires_the_field_and_one_alternative() {
    let rule = r#"{"source": ["aws.cloudwatch"], "$or": [
      {"metricName": ["CPUUtilization", "ReadLatency"]},
      {"namespace": ["AWS/EC2", "AWS/ES"]}
    ]}"#;
    assert!(matches(rule, CLOUDWATCH));
    assert!(matches(rule, r#"{"source": "aws.cloudwatch", "namespace": "AWS/ES"}"#));
    assert!(!matches(rule, r#"{"source": "aws.cloudwatch", "namespace": "AWS/S3"}"#));
    assert!(!matches(rule, r#"{"source": "aws.ec2", "metricName": "ReadLatency"}"#));
}

#[test]
fn parallel_ors_each_need_one_alternative() {
    let rule = r#"{
      "$or": [{"metricName": ["CPUUtilization", "ReadLatency"]}, {"namespace": ["AWS/EC2", "AWS/ES"]}],
      "detail": {"$or": [{"source": ["aws.cloudwatch"]}, {"detail-type": ["CloudWatch Alarm State Change"]}]}
    }"#;
    assert!(matches(rule, CLOUDWATCH));
    assert!(matches(rule, r#"{"namespace": "AWS/ES", "detail": {"detail-type": "CloudWatch Alarm State Change"}}"#));
    assert!(!matches(rule, r#"{"namespace": "AWS/ES", "detail": {"detail-type": "Other"}}"#));
    assert!(!matches(rule, r#"{"namespace": "AWS/S3", "detail": {"source": "aws.cloudwatch"}}"#));
}

#[test]
fn an_or_alternative_may_hold_several_fields_and_nested_ors() {
    let rule = r#"{"source": ["aws.cloudwatch"], "$or": [
      {"metricName": ["CPUUtilization", "ReadLatency"]},
      {"metricType": ["MetricType"], "namespace": ["AWS/EC2", "AWS/ES"],
       "$or": [{"metricId": [1234]}, {"spaceId": [1000]}]},
      {"scope": ["Service"]}
    ]}"#;
    assert!(matches(rule, CLOUDWATCH));
    let second = r#"{"source": "aws.cloudwatch", "metricType": "MetricType", "namespace": "AWS/EC2", "spaceId": 1000}"#;
    assert!(matches(rule, second));
    assert!(!matches(rule, &second.replace("1000", "1001")));
    assert!(!matches(rule, r#"{"source": "aws.cloudwatch", "metricType": "MetricType", "metricId": 1234}"#));
    assert!(matches(rule, r#"{"source": "aws.cloudwatch", "scope": "Service"}"#));
}

#[test]
fn exists_false_and_anything_but_can_share_a_field_inside_or() {
    let rule = r#"{"dynamodb": {"NewImage": {"homemade": {"S": [{"anything-but": ["roses"]}, {"exists": false}]}}}}"#;
    assert!(matches(rule, r#"{"dynamodb": {"NewImage": {"purchased": {"N": "789"}}}}"#));
    assert!(matches(rule, r#"{"dynamodb": {"NewImage": {"homemade": {"S": "tulips"}}}}"#));
    assert!(!matches(rule, r#"{"dynamodb": {"NewImage": {"homemade": {"S": "roses"}}}}"#));
    let or = r#"{"$or": [{"detail": {"a": [{"exists": false}]}}, {"detail": {"a": [{"anything-but": "x"}]}}]}"#;
    assert!(matches(or, r#"{"detail": {}}"#));
    assert!(matches(or, r#"{"detail": {"a": "y"}}"#));
    assert!(!matches(or, r#"{"detail": {"a": "x"}}"#));
}

#[test]
fn exists_true_reaches_through_nested_objects_to_the_leaf() {
    let event = r#"{"dynamodb": {"id": {"S": "test1234"}, "presentKey": {"S": "test123"}}}"#;
    assert!(matches(r#"{"dynamodb": {"presentKey": {"S": [{"exists": true}]}}}"#, event));
    assert!(!matches(r#"{"dynamodb": {"absentKey": {"S": [{"exists": true}]}}}"#, event));
}

#[test]
fn the_exactly_operator_matches_a_string_as_text() {
    assert!(matches(r#"{"ip": [{"exactly": "10.0.0.1"}]}"#, r#"{"ip": "10.0.0.1"}"#));
    assert!(!matches(r#"{"ip": [{"exactly": "10.0.0.1"}]}"#, r#"{"ip": "010.0.0.1"}"#));
    assert!(matches(r#"{"ip": ["10.0.0.1"]}"#, r#"{"ip": "010.0.0.1"}"#), "a plain value is an address");
}

#[test]
fn a_cidr_block_starts_at_the_address_as_written() {
    // event-ruler does not mask the base address: 10.0.0.5/24 covers 10.0.0.5 to 10.0.0.255.
    let rule = r#"{"ip": [{"cidr": "10.0.0.5/24"}]}"#;
    assert!(matches(rule, r#"{"ip": "10.0.0.200"}"#));
    assert!(!matches(rule, r#"{"ip": "10.0.0.1"}"#));
}

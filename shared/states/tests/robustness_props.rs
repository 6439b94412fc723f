//! Property tests that bad definitions and bad inputs are error values, never
//! panics: arbitrary JSON as a definition, arbitrary fields spliced into a
//! valid one, arbitrary inputs to a machine using every feature, and
//! arbitrary arguments to every intrinsic.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use states::{MockInvoker, RunOptions, StateMachine, VirtualClock, run, validate_value};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::from),
        (-1.0e6f64..1.0e6).prop_map(Value::from),
        prop_oneof!["[ -~]{0,12}", "\\$[.a-z\\[\\]0-9*?@()'=<> ]{0,12}", Just("States.Format('{}', $.a)".to_string())]
            .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[A-Za-z.$]{1,10}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn base_definition() -> Value {
    json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Parameters": {"a.$": "$.a", "f.$": "States.Format('{}', $.a)"}, "ResultPath": "$.p", "Next": "C"},
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "NumericGreaterThan": 1, "Next": "M"}], "Default": "T"},
        "M": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.m", "Next": "T",
              "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}},
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "ResultPath": "$.t", "Next": "W",
              "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}], "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F"}]},
        "W": {"Type": "Wait", "SecondsPath": "$.w", "Next": "S"},
        "S": {"Type": "Succeed"},
        "F": {"Type": "Fail", "Error": "E"}}})
}

const STATES: [&str; 7] = ["P", "C", "M", "T", "W", "S", "F"];
const FIELDS: [&str; 12] = [
    "Next",
    "End",
    "InputPath",
    "OutputPath",
    "ResultPath",
    "Parameters",
    "Choices",
    "ItemsPath",
    "Retry",
    "Catch",
    "SecondsPath",
    "Type",
];

fn run_it(m: &StateMachine, input: Value) {
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let mock =
        MockInvoker::from_value(&json!({"T": [{"Throw": {"Error": "X", "Cause": "y"}}, {"Return": {"ok": true}}]}))
            .expect("mock");
    let opts = RunOptions { max_transitions: Some(10_000), ..Default::default() };
    let _ = rt.block_on(run(m, input, &mock, &VirtualClock::fixed(), opts));
}

proptest! {
    #[test]
    fn arbitrary_json_as_a_definition_is_rejected_without_panicking(v in arb_json()) {
        let _ = validate_value(&v);
    }

    #[test]
    fn splicing_an_arbitrary_field_into_a_valid_definition_never_panics(
        s in 0..STATES.len(), f in 0..FIELDS.len(), v in arb_json(), input in arb_json()
    ) {
        let mut def = base_definition();
        def["States"][STATES[s]][FIELDS[f]] = v;
        if let Ok(m) = StateMachine::from_value(&def) {
            run_it(&m, input);
        }
    }

    #[test]
    fn arbitrary_input_to_a_valid_machine_never_panics(input in arb_json()) {
        let m = StateMachine::from_value(&base_definition()).expect("valid base definition");
        run_it(&m, input);
    }

    #[test]
    fn every_intrinsic_with_arbitrary_arguments_returns_a_value_or_an_error(
        f in 0..18usize, args in prop::collection::vec(arb_json(), 0..4)
    ) {
        let names = ["Format", "StringToJson", "JsonToString", "Array", "ArrayPartition", "ArrayContains", "ArrayRange",
            "ArrayGetItem", "ArrayLength", "ArrayUnique", "Base64Encode", "Base64Decode", "Hash", "JsonMerge", "MathRandom",
            "MathAdd", "StringSplit", "UUID"];
        let arg_paths: Vec<String> = (0..args.len()).map(|i| format!("$.a{i}")).collect();
        let call = format!("States.{}({})", names[f], arg_paths.join(", "));
        let mut input = Map::new();
        for (i, a) in args.into_iter().enumerate() {
            input.insert(format!("a{i}"), a);
        }
        let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"r.$": call}, "End": true}}});
        if let Ok(m) = StateMachine::from_value(&def) {
            run_it(&m, Value::Object(input));
        }
    }
}

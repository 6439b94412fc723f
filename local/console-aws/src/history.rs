//! The SDK's typed `HistoryEvent` back into the Step Functions API's JSON (the shape the port documents and the
//! graph reads): `{id, previousEventId, type, timestamp (epoch seconds), <x>EventDetails: {...}}` with AWS's field
//! names. Hand-written because the SDK's types do not implement `Serialize`; each details type is one line below,
//! so an event type the SDK adds later shows as an event without details rather than failing the page.

use aws_sdk_sfn::types::{HistoryEvent, HistoryEventExecutionDataDetails};
use serde_json::{Map, Value, json};

/// One event as the API sends it.
pub fn event_json(e: &HistoryEvent) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), json!(e.id()));
    out.insert("previousEventId".into(), json!(e.previous_event_id()));
    out.insert("type".into(), json!(e.r#type().as_str()));
    out.insert("timestamp".into(), json!(e.timestamp().as_secs_f64()));
    for (key, details) in details(e) {
        out.insert(key.into(), Value::Object(details.0));
    }
    Value::Object(out)
}

/// A details object, built field by field; `None` fields are left out as the API leaves them out.
#[derive(Default)]
struct D(Map<String, Value>);

impl D {
    fn s(mut self, key: &str, v: Option<&str>) -> Self {
        if let Some(v) = v {
            self.0.insert(key.into(), json!(v));
        }
        self
    }
    fn n(mut self, key: &str, v: Option<i64>) -> Self {
        if let Some(v) = v {
            self.0.insert(key.into(), json!(v));
        }
        self
    }
    fn data(mut self, key: &str, v: Option<&HistoryEventExecutionDataDetails>) -> Self {
        if let Some(v) = v {
            self.0.insert(key.into(), json!({"truncated": v.truncated()}));
        }
        self
    }
    fn error_cause(self, error: Option<&str>, cause: Option<&str>) -> Self {
        self.s("error", error).s("cause", cause)
    }
}

/// `{error, cause}` details, the most common kind.
macro_rules! ec {
    ($d:expr) => {
        D::default().error_cause($d.error(), $d.cause())
    };
}

/// `{resourceType, resource, error, cause}`.
macro_rules! task_ec {
    ($d:expr) => {
        D::default()
            .s("resourceType", Some($d.resource_type()))
            .s("resource", Some($d.resource()))
            .error_cause($d.error(), $d.cause())
    };
}

fn details(e: &HistoryEvent) -> Vec<(&'static str, D)> {
    let mut v: Vec<(&'static str, D)> = Vec::new();
    let mut add = |key: &'static str, d: Option<D>| {
        if let Some(d) = d {
            v.push((key, d));
        }
    };
    add("activityFailedEventDetails", e.activity_failed_event_details().map(|d| ec!(d)));
    add("activityScheduleFailedEventDetails", e.activity_schedule_failed_event_details().map(|d| ec!(d)));
    add(
        "activityScheduledEventDetails",
        e.activity_scheduled_event_details().map(|d| {
            D::default()
                .s("resource", Some(d.resource()))
                .s("input", d.input())
                .data("inputDetails", d.input_details())
                .n("timeoutInSeconds", d.timeout_in_seconds())
                .n("heartbeatInSeconds", d.heartbeat_in_seconds())
        }),
    );
    add(
        "activityStartedEventDetails",
        e.activity_started_event_details().map(|d| D::default().s("workerName", d.worker_name())),
    );
    add(
        "activitySucceededEventDetails",
        e.activity_succeeded_event_details()
            .map(|d| D::default().s("output", d.output()).data("outputDetails", d.output_details())),
    );
    add("activityTimedOutEventDetails", e.activity_timed_out_event_details().map(|d| ec!(d)));
    add("taskFailedEventDetails", e.task_failed_event_details().map(|d| task_ec!(d)));
    add(
        "taskScheduledEventDetails",
        e.task_scheduled_event_details().map(|d| {
            D::default()
                .s("resourceType", Some(d.resource_type()))
                .s("resource", Some(d.resource()))
                .s("region", Some(d.region()))
                .s("parameters", Some(d.parameters()))
                .n("timeoutInSeconds", d.timeout_in_seconds())
                .n("heartbeatInSeconds", d.heartbeat_in_seconds())
        }),
    );
    add("taskStartFailedEventDetails", e.task_start_failed_event_details().map(|d| task_ec!(d)));
    add(
        "taskStartedEventDetails",
        e.task_started_event_details()
            .map(|d| D::default().s("resourceType", Some(d.resource_type())).s("resource", Some(d.resource()))),
    );
    add("taskSubmitFailedEventDetails", e.task_submit_failed_event_details().map(|d| task_ec!(d)));
    add(
        "taskSubmittedEventDetails",
        e.task_submitted_event_details().map(|d| {
            D::default()
                .s("resourceType", Some(d.resource_type()))
                .s("resource", Some(d.resource()))
                .s("output", d.output())
                .data("outputDetails", d.output_details())
        }),
    );
    add(
        "taskSucceededEventDetails",
        e.task_succeeded_event_details().map(|d| {
            D::default()
                .s("resourceType", Some(d.resource_type()))
                .s("resource", Some(d.resource()))
                .s("output", d.output())
                .data("outputDetails", d.output_details())
        }),
    );
    add("taskTimedOutEventDetails", e.task_timed_out_event_details().map(|d| task_ec!(d)));
    add("executionFailedEventDetails", e.execution_failed_event_details().map(|d| ec!(d)));
    add(
        "executionStartedEventDetails",
        e.execution_started_event_details().map(|d| {
            D::default()
                .s("input", d.input())
                .data("inputDetails", d.input_details())
                .s("roleArn", d.role_arn())
                .s("stateMachineAliasArn", d.state_machine_alias_arn())
                .s("stateMachineVersionArn", d.state_machine_version_arn())
        }),
    );
    add(
        "executionSucceededEventDetails",
        e.execution_succeeded_event_details()
            .map(|d| D::default().s("output", d.output()).data("outputDetails", d.output_details())),
    );
    add("executionAbortedEventDetails", e.execution_aborted_event_details().map(|d| ec!(d)));
    add("executionTimedOutEventDetails", e.execution_timed_out_event_details().map(|d| ec!(d)));
    add(
        "executionRedrivenEventDetails",
        e.execution_redriven_event_details().map(|d| D::default().n("redriveCount", d.redrive_count().map(i64::from))),
    );
    add(
        "mapStateStartedEventDetails",
        e.map_state_started_event_details().map(|d| D::default().n("length", Some(i64::from(d.length())))),
    );
    let iteration = |d: &aws_sdk_sfn::types::MapIterationEventDetails| {
        D::default().s("name", d.name()).n("index", Some(i64::from(d.index())))
    };
    add("mapIterationStartedEventDetails", e.map_iteration_started_event_details().map(iteration));
    add("mapIterationSucceededEventDetails", e.map_iteration_succeeded_event_details().map(iteration));
    add("mapIterationFailedEventDetails", e.map_iteration_failed_event_details().map(iteration));
    add("mapIterationAbortedEventDetails", e.map_iteration_aborted_event_details().map(iteration));
    add("lambdaFunctionFailedEventDetails", e.lambda_function_failed_event_details().map(|d| ec!(d)));
    add("lambdaFunctionScheduleFailedEventDetails", e.lambda_function_schedule_failed_event_details().map(|d| ec!(d)));
    add(
        "lambdaFunctionScheduledEventDetails",
        e.lambda_function_scheduled_event_details().map(|d| {
            D::default()
                .s("resource", Some(d.resource()))
                .s("input", d.input())
                .data("inputDetails", d.input_details())
                .n("timeoutInSeconds", d.timeout_in_seconds())
        }),
    );
    add("lambdaFunctionStartFailedEventDetails", e.lambda_function_start_failed_event_details().map(|d| ec!(d)));
    add(
        "lambdaFunctionSucceededEventDetails",
        e.lambda_function_succeeded_event_details()
            .map(|d| D::default().s("output", d.output()).data("outputDetails", d.output_details())),
    );
    add("lambdaFunctionTimedOutEventDetails", e.lambda_function_timed_out_event_details().map(|d| ec!(d)));
    add(
        "stateEnteredEventDetails",
        e.state_entered_event_details().map(|d| {
            D::default().s("name", Some(d.name())).s("input", d.input()).data("inputDetails", d.input_details())
        }),
    );
    add(
        "stateExitedEventDetails",
        e.state_exited_event_details().map(|d| {
            let mut out = D::default()
                .s("name", Some(d.name()))
                .s("output", d.output())
                .data("outputDetails", d.output_details());
            if let Some(vars) = d.assigned_variables() {
                out.0.insert("assignedVariables".into(), json!(vars));
            }
            out
        }),
    );
    add(
        "mapRunStartedEventDetails",
        e.map_run_started_event_details().map(|d| D::default().s("mapRunArn", d.map_run_arn())),
    );
    add("mapRunFailedEventDetails", e.map_run_failed_event_details().map(|d| ec!(d)));
    add(
        "mapRunRedrivenEventDetails",
        e.map_run_redriven_event_details()
            .map(|d| D::default().s("mapRunArn", d.map_run_arn()).n("redriveCount", d.redrive_count().map(i64::from))),
    );
    add(
        "evaluationFailedEventDetails",
        e.evaluation_failed_event_details().map(|d| {
            D::default().error_cause(d.error(), d.cause()).s("location", d.location()).s("state", Some(d.state()))
        }),
    );
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sfn::primitives::DateTime;
    use aws_sdk_sfn::types::{HistoryEventType, StateEnteredEventDetails, TaskFailedEventDetails};

    #[test]
    fn an_event_reads_as_the_api_sends_it() {
        let entered = HistoryEvent::builder()
            .id(2)
            .previous_event_id(1)
            .r#type(HistoryEventType::TaskStateEntered)
            .timestamp(DateTime::from_secs(1_700_000_000))
            .state_entered_event_details(
                StateEnteredEventDetails::builder()
                    .name("Parse")
                    .input("{\"a\":1}")
                    .input_details(HistoryEventExecutionDataDetails::builder().truncated(false).build())
                    .build()
                    .expect("name is set"),
            )
            .build()
            .expect("required fields are set");
        assert_eq!(
            event_json(&entered),
            json!({"id": 2, "previousEventId": 1, "type": "TaskStateEntered", "timestamp": 1_700_000_000.0,
                   "stateEnteredEventDetails": {"name": "Parse", "input": "{\"a\":1}", "inputDetails": {"truncated": false}}})
        );
        let failed = HistoryEvent::builder()
            .id(3)
            .previous_event_id(2)
            .r#type(HistoryEventType::TaskFailed)
            .timestamp(DateTime::from_secs(1_700_000_001))
            .task_failed_event_details(
                TaskFailedEventDetails::builder()
                    .resource_type("lambda")
                    .resource("invoke")
                    .error("InvalidInvoice")
                    .cause("no total")
                    .build()
                    .expect("required fields are set"),
            )
            .build()
            .expect("required fields are set");
        assert_eq!(
            event_json(&failed)["taskFailedEventDetails"],
            json!({"resourceType": "lambda", "resource": "invoke", "error": "InvalidInvoice", "cause": "no total"})
        );
    }
}

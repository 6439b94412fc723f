//! Finding the stack's state machines, dead-letter queues and functions on AWS.
//!
//! With a stack name: CloudFormation `ListStackResources` (every page) gives each resource's physical id, and
//! `GetTemplate` (stage `Processed`, i.e. after the SAM transform) gives what the resources do not: each function's
//! `MemorySize` and `Architectures` (Lambda's defaults, 128 MB and x86_64, when the template leaves them out) and
//! which resources send failures to each queue. Reading memory from the template costs no extra SDK crate
//! (aws-sdk-lambda) and no extra permission; a template that cannot be read (YAML, or no permission) only loses
//! those two things.
//!
//! Without a stack: every state machine of the region (`ListStateMachines`) and every queue whose name passes the
//! dead-letter rule below; functions are then found at measurement time, from CloudWatch's `AWS/Lambda` metrics
//! (their memory is unknown, 0).
//!
//! **The dead-letter rule**: a queue is a dead-letter queue when its logical id (with a stack) or its name contains,
//! case-insensitively, `deadletter`, `dead-letter`, `dead_letter`, `dlq` or `failure`. The template's three queues
//! (`DeadLetterQueue`, `TaskEventsDeadLetterQueue`, `TaskStreamFailureQueue`) pass it; work queues do not.

use crate::error::from_sdk;
use local_console::source::SourceError;
use serde_json::Value;

/// A state machine of the stack.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    pub name: String,
    pub arn: String,
}

/// A dead-letter queue of the stack.
#[derive(Debug, Clone, PartialEq)]
pub struct Queue {
    /// The template's logical id, or the queue's name without a stack.
    pub logical_id: String,
    pub url: String,
    pub name: String,
    /// What sends failures to it, in words (from the template; empty without one).
    pub fed_by: Vec<String>,
}

/// A Lambda function of the stack.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub logical_id: String,
    /// The physical name, which CloudWatch's `FunctionName` dimension carries.
    pub name: String,
    /// 0 when unknown.
    pub memory_mb: u32,
    pub architecture: String,
}

/// What discovery found.
#[derive(Debug, Clone, Default)]
pub struct Discovered {
    pub machines: Vec<Machine>,
    pub queues: Vec<Queue>,
    /// Empty without a stack: found from CloudWatch when measuring.
    pub functions: Vec<Function>,
}

/// The dead-letter rule (see the module docs).
pub fn is_dead_letter_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["deadletter", "dead-letter", "dead_letter", "dlq", "failure"].iter().any(|w| lower.contains(w))
}

/// The last `/`-separated segment of a queue URL: its name.
pub fn queue_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

/// The last `:`-separated segment of an ARN (a state machine's or an execution's name).
pub fn arn_name(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

pub(crate) async fn stack(cfn: &aws_sdk_cloudformation::Client, stack: &str) -> Result<Discovered, SourceError> {
    let mut resources = Vec::new();
    let mut pages = cfn.list_stack_resources().stack_name(stack).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| from_sdk("cloudformation", e))?;
        for r in page.stack_resource_summaries() {
            let (Some(logical), Some(physical), Some(kind)) =
                (r.logical_resource_id(), r.physical_resource_id(), r.resource_type())
            else {
                continue; // A resource still being created has no physical id yet: nothing to show.
            };
            resources.push((logical.to_owned(), physical.to_owned(), kind.to_owned()));
        }
    }
    let template = match cfn
        .get_template()
        .stack_name(stack)
        .template_stage(aws_sdk_cloudformation::types::TemplateStage::Processed)
        .send()
        .await
    {
        Ok(out) => out.template_body().and_then(|t| serde_json::from_str::<Value>(t).ok()),
        Err(e) => {
            tracing::warn!(error = %from_sdk("cloudformation", e), "no template: function memory and queue sources unknown");
            None
        }
    };
    Ok(from_resources(&resources, template.as_ref()))
}

/// Discovery from a stack's resources (logical id, physical id, type) and, when readable, its processed template.
pub fn from_resources(resources: &[(String, String, String)], template: Option<&Value>) -> Discovered {
    let mut found = Discovered::default();
    for (logical, physical, kind) in resources {
        match kind.as_str() {
            "AWS::StepFunctions::StateMachine" => {
                found.machines.push(Machine { name: arn_name(physical).to_owned(), arn: physical.clone() })
            }
            "AWS::SQS::Queue" if is_dead_letter_name(logical) => found.queues.push(Queue {
                logical_id: logical.clone(),
                url: physical.clone(),
                name: queue_name(physical).to_owned(),
                fed_by: template.map(|t| fed_by(t, logical)).unwrap_or_default(),
            }),
            "AWS::Lambda::Function" => {
                let properties = template.map(|t| &t["Resources"][logical.as_str()]["Properties"]);
                let memory = properties.and_then(|p| p["MemorySize"].as_u64()).unwrap_or(128);
                let architecture =
                    properties.and_then(|p| p["Architectures"][0].as_str()).unwrap_or("x86_64").to_owned();
                found.functions.push(Function {
                    logical_id: logical.clone(),
                    name: physical.clone(),
                    memory_mb: u32::try_from(memory).unwrap_or(u32::MAX),
                    architecture,
                })
            }
            _ => {}
        }
    }
    found.machines.sort_by(|a, b| a.name.cmp(&b.name));
    found.queues.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
    found.functions.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
    found
}

/// The template's resources that reference `queue` (by `Ref` or `Fn::GetAtt`), in words. Queue policies are not
/// senders and are left out.
pub fn fed_by(template: &Value, queue: &str) -> Vec<String> {
    let Some(resources) = template["Resources"].as_object() else { return Vec::new() };
    let mut out: Vec<String> = resources
        .iter()
        .filter(|(logical, r)| logical.as_str() != queue && references(&r["Properties"], queue))
        .filter_map(|(logical, r)| {
            let function = || target_name(&r["Properties"]["FunctionName"]).unwrap_or_else(|| logical.clone());
            Some(match r["Type"].as_str().unwrap_or_default() {
                "AWS::SQS::QueuePolicy" | "AWS::IAM::Role" | "AWS::IAM::Policy" => return None,
                "AWS::Lambda::Function" => format!("async invocations of {logical}"),
                "AWS::Lambda::EventInvokeConfig" => format!("async invocations of {}", function()),
                "AWS::Lambda::EventSourceMapping" => format!("failed batches of {}", function()),
                "AWS::Events::Rule" => format!("targets of rule {logical}"),
                "AWS::Pipes::Pipe" => format!("pipe {logical}"),
                "AWS::SQS::Queue" => format!("messages of queue {logical}"),
                other => format!("{logical} ({other})"),
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// `{"Ref": "X"}` → `X`, a plain string as is (the logical id a function name refers to).
fn target_name(v: &Value) -> Option<String> {
    v.get("Ref").and_then(Value::as_str).or_else(|| v.as_str()).map(str::to_owned)
}

fn references(v: &Value, logical: &str) -> bool {
    match v {
        Value::Object(map) => {
            map.get("Ref").and_then(Value::as_str) == Some(logical)
                || map.get("Fn::GetAtt").is_some_and(|a| {
                    a[0].as_str() == Some(logical) || a.as_str().is_some_and(|s| s.split('.').next() == Some(logical))
                })
                || map.values().any(|x| references(x, logical))
        }
        Value::Array(items) => items.iter().any(|x| references(x, logical)),
        _ => false,
    }
}

pub(crate) async fn region(sfn: &aws_sdk_sfn::Client, sqs: &aws_sdk_sqs::Client) -> Result<Discovered, SourceError> {
    let mut found = Discovered::default();
    let mut pages = sfn.list_state_machines().into_paginator().send();
    while let Some(page) = pages.next().await {
        for m in page.map_err(|e| from_sdk("states", e))?.state_machines() {
            found.machines.push(Machine { name: m.name().to_owned(), arn: m.state_machine_arn().to_owned() });
        }
    }
    let mut pages = sqs.list_queues().into_paginator().send();
    while let Some(page) = pages.next().await {
        for url in page.map_err(|e| from_sdk("sqs", e))?.queue_urls() {
            let name = queue_name(url);
            if is_dead_letter_name(name) {
                found.queues.push(Queue {
                    logical_id: name.to_owned(),
                    url: url.clone(),
                    name: name.to_owned(),
                    fed_by: Vec::new(),
                });
            }
        }
    }
    found.machines.sort_by(|a, b| a.name.cmp(&b.name));
    found.queues.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_templates_three_failure_queues_are_dead_letter_queues_and_work_queues_are_not() {
        for name in ["DeadLetterQueue", "TaskEventsDeadLetterQueue", "TaskStreamFailureQueue", "orders-dlq"] {
            assert!(is_dead_letter_name(name), "{name}");
        }
        for name in ["PhotoQueue", "InvoiceWork", "tasks"] {
            assert!(!is_dead_letter_name(name), "{name}");
        }
    }

    #[test]
    fn the_template_tells_what_feeds_a_queue_and_how_big_each_function_is() {
        let template = json!({"Resources": {
            "DeadLetterQueue": {"Type": "AWS::SQS::Queue"},
            "ResizeFn": {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 1024, "Architectures": ["arm64"]}},
            "ResizeFnEventInvokeConfig": {"Type": "AWS::Lambda::EventInvokeConfig", "Properties": {
                "FunctionName": {"Ref": "ResizeFn"},
                "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}}}},
            "Done": {"Type": "AWS::Events::Rule", "Properties": {"Targets": [{"DeadLetterConfig": {"Arn": {"Fn::GetAtt": "DeadLetterQueue.Arn"}}}]}},
            "Policy": {"Type": "AWS::SQS::QueuePolicy", "Properties": {"Queues": [{"Ref": "DeadLetterQueue"}]}},
            "Other": {"Type": "AWS::Lambda::Function", "Properties": {}}
        }});
        let resources = [
            ("DeadLetterQueue", "https://sqs/1/s-DeadLetterQueue-X", "AWS::SQS::Queue"),
            ("ResizeFn", "s-ResizeFn-Y", "AWS::Lambda::Function"),
            ("Other", "s-Other-Z", "AWS::Lambda::Function"),
            ("Work", "https://sqs/1/s-Work", "AWS::SQS::Queue"),
            ("Invoices", "arn:aws:states:us-east-1:1:stateMachine:s-Invoices", "AWS::StepFunctions::StateMachine"),
        ]
        .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()));
        let found = from_resources(&resources, Some(&template));
        assert_eq!(found.machines, [Machine { name: "s-Invoices".into(), arn: resources[4].1.clone() }]);
        assert_eq!(found.queues.len(), 1, "the work queue is not a dead-letter queue");
        assert_eq!(found.queues[0].name, "s-DeadLetterQueue-X");
        assert_eq!(found.queues[0].fed_by, ["async invocations of ResizeFn", "targets of rule Done"]);
        let sizes: Vec<_> =
            found.functions.iter().map(|f| (f.name.as_str(), f.memory_mb, f.architecture.as_str())).collect();
        assert_eq!(sizes, [("s-Other-Z", 128, "x86_64"), ("s-ResizeFn-Y", 1024, "arm64")]);
    }
}

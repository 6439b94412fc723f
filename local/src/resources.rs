//! `local resources`: every resource of the template as the local stack runs it — logical id, type, physical name
//! (what `Ref` gives), URL where it has one (the HTTP API, queues), ARN — so scripts find the generated bucket and
//! queue names without reading YAML.

use local_template::{Template, TemplateError};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceInfo {
    pub logical_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The physical name or id (`Ref`), when the resource has one locally.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub physical_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// How the local stack serves it: `emulated` by one of its services, or `not emulated`.
    pub local: &'static str,
}

/// The resources of `template`, with URLs on `endpoint` (e.g. `http://127.0.0.1:3000`).
pub fn describe(template: &Template, endpoint: &str) -> Result<Vec<ResourceInfo>, TemplateError> {
    let identity = template.identity();
    let mut out = Vec::new();
    for r in template.resources() {
        let (physical, url, arn, local) = match r.kind {
            "AWS::Serverless::Function" | "AWS::Lambda::Function" => {
                (Some(template.reference(r.id)?), None, Some(template.attribute(r.id, "Arn")?), "lambda")
            }
            "AWS::Serverless::HttpApi" => (Some("local".to_owned()), Some(endpoint.to_owned()), None, "apigateway"),
            "AWS::DynamoDB::Table" => {
                (Some(template.reference(r.id)?), None, Some(template.attribute(r.id, "Arn")?), "embedded store")
            }
            "AWS::S3::Bucket" => {
                let name = template.reference(r.id)?;
                (Some(name.clone()), Some(format!("{endpoint}/{name}")), Some(template.attribute(r.id, "Arn")?), "s3")
            }
            "AWS::SQS::Queue" => {
                let name = template.physical_name(r.id)?;
                let url = format!("{endpoint}/{}/{name}", identity.account);
                (Some(name), Some(url), Some(template.attribute(r.id, "Arn")?), "sqs")
            }
            "AWS::SES::EmailIdentity" => {
                let id = template.reference(r.id)?;
                let arn = identity.email_identity_arn(&id).to_string();
                (Some(id), None, Some(arn), "ses")
            }
            "AWS::Serverless::StateMachine" | "AWS::StepFunctions::StateMachine" => {
                (Some(template.physical_name(r.id)?), None, Some(template.reference(r.id)?), "stepfunctions")
            }
            "AWS::Events::EventBus" | "AWS::Events::Rule" => {
                (Some(template.physical_name(r.id)?), None, Some(template.attribute(r.id, "Arn")?), "eventbridge")
            }
            "AWS::SecretsManager::Secret" => (None, None, Some(template.reference(r.id)?), "data-dir secret"),
            "AWS::Cognito::UserPool" | "AWS::Cognito::UserPoolClient" => {
                (Some(template.reference(r.id)?), None, None, "local identity provider (`local token`)")
            }
            _ => (None, None, None, "not emulated"),
        };
        out.push(ResourceInfo {
            logical_id: r.id.to_owned(),
            kind: r.kind.to_owned(),
            physical_id: physical,
            url,
            arn,
            local,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use local_template::NoSecrets;
    use std::sync::Arc;

    #[test]
    fn the_repository_template_lists_the_pipelines_bucket_queue_and_sender() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
        let t = Template::load(&path, Default::default(), Arc::new(NoSecrets)).unwrap();
        let all = describe(&t, "http://127.0.0.1:3000").unwrap();
        let find = |id: &str| all.iter().find(|r| r.logical_id == id).unwrap_or_else(|| panic!("{id} missing"));
        let bucket = find("UploadsBucket");
        let name = bucket.physical_id.clone().unwrap();
        assert_eq!(name, "local-uploads-123456789012");
        assert_eq!(bucket.arn.as_deref(), Some(format!("arn:aws:s3:::{name}").as_str()));
        let queue = find("DeadLetterQueue");
        let qname = queue.physical_id.clone().unwrap();
        assert_eq!(queue.url.as_deref(), Some(format!("http://127.0.0.1:3000/123456789012/{qname}").as_str()));
        assert_eq!(queue.arn.as_deref(), Some(format!("arn:aws:sqs:us-east-1:123456789012:{qname}").as_str()));
        let sender = find("SenderIdentity");
        assert_eq!(sender.physical_id.as_deref(), Some("noreply@example.com"));
        assert_eq!(
            find("TaskReminderStateMachine").arn.as_deref(),
            Some("arn:aws:states:us-east-1:123456789012:stateMachine:TaskReminderStateMachine")
        );
        let bus = find("TaskEventBus");
        let bus_name = bus.physical_id.clone().unwrap();
        assert_eq!(
            bus.arn.as_deref(),
            Some(format!("arn:aws:events:us-east-1:123456789012:event-bus/{bus_name}").as_str())
        );
        assert_eq!(all.len(), t.resources().count());
    }
}

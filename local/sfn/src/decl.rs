//! The template's state machines as Step Functions reads them.

use local_template::{Template, TemplateError};
use serde_json::Value;
use std::{collections::BTreeMap, path::PathBuf};

pub const STATE_MACHINE_TYPES: &[&str] = &["AWS::Serverless::StateMachine"];

/// Where a state machine's definition is: a file (`DefinitionUri`, relative to the template) or the template itself
/// (`Definition`).
#[derive(Debug, Clone)]
pub enum DefinitionSource {
    File(PathBuf),
    Inline(Value),
}

/// An `AWS::Serverless::StateMachine`.
#[derive(Debug, Clone)]
pub struct StateMachineDecl {
    pub logical_id: String,
    /// `Name`, else the logical id (AWS would generate one; locally the logical id is easier to type).
    pub name: String,
    pub definition: DefinitionSource,
    /// `DefinitionSubstitutions`, intrinsics resolved (a function's `Arn` is its local Lambda ARN).
    pub substitutions: BTreeMap<String, String>,
}

impl StateMachineDecl {
    pub fn read_all(template: &Template) -> Result<Vec<Self>, TemplateError> {
        let mut all = Vec::new();
        for r in template.of_type(STATE_MACHINE_TYPES) {
            let (id, p) = (r.id, r.properties);
            let name = template.physical_name(id)?;
            let definition = match (&p["DefinitionUri"], &p["Definition"]) {
                (Value::String(uri), Value::Null) => DefinitionSource::File(template.dir().join(uri)),
                (Value::Null, v @ Value::Object(_)) => DefinitionSource::Inline(v.clone()),
                (Value::Null, Value::Null) => {
                    return Err(TemplateError::invalid(id, "a state machine needs DefinitionUri or Definition"));
                }
                (Value::String(_), _) => {
                    return Err(TemplateError::invalid(id, "DefinitionUri and Definition are exclusive"));
                }
                _ => {
                    return Err(TemplateError::invalid(
                        format!("{id}.DefinitionUri"),
                        "only a local file path is supported by the local stack",
                    ));
                }
            };
            let mut substitutions = BTreeMap::new();
            for (k, v) in p["DefinitionSubstitutions"].as_object().into_iter().flatten() {
                substitutions.insert(k.clone(), template.string(v, &format!("{id}.DefinitionSubstitutions.{k}"))?);
            }
            all.push(Self { logical_id: id.to_owned(), name, definition, substitutions });
        }
        Ok(all)
    }

    /// The definition as text, before substitutions.
    pub fn definition_text(&self) -> Result<String, TemplateError> {
        match &self.definition {
            DefinitionSource::File(path) => std::fs::read_to_string(path).map_err(|e| {
                TemplateError::invalid(
                    format!("{}.DefinitionUri", self.logical_id),
                    format!("cannot read {}: {e}", path.display()),
                )
            }),
            DefinitionSource::Inline(v) => Ok(v.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use local_template::NoSecrets;
    use std::{path::Path, sync::Arc};

    #[test]
    fn state_machines_are_read_with_their_definition_file_and_resolved_substitutions() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
        let t = Template::load(&path, Default::default(), Arc::new(NoSecrets)).unwrap();
        let all = StateMachineDecl::read_all(&t).unwrap();
        let m = all.iter().find(|m| m.logical_id == "TaskReminderStateMachine").unwrap();
        assert_eq!(m.name, "TaskReminderStateMachine");
        assert_eq!(
            m.substitutions["CheckTaskFunctionArn"],
            "arn:aws:lambda:us-east-1:123456789012:function:CheckTaskFunction"
        );
        assert!(m.definition_text().unwrap().contains("${CheckTaskFunctionArn}"));
    }

    #[test]
    fn an_inline_definition_and_a_name_are_taken_as_written() {
        let text = "Resources:\n  M:\n    Type: AWS::Serverless::StateMachine\n    Properties:\n      Name: !Sub '${AWS::StackName}-m'\n      Definition: {StartAt: A, States: {A: {Type: Succeed}}}\n";
        let t = Template::parse(text, Arc::new(NoSecrets)).unwrap();
        let m = &StateMachineDecl::read_all(&t).unwrap()[0];
        assert_eq!(m.name, "local-m");
        assert!(matches!(&m.definition, DefinitionSource::Inline(v) if v["StartAt"] == "A"));
        let neither = "Resources:\n  M:\n    Type: AWS::Serverless::StateMachine\n    Properties: {}\n";
        let t = Template::parse(neither, Arc::new(NoSecrets)).unwrap();
        assert!(StateMachineDecl::read_all(&t).unwrap_err().to_string().contains("DefinitionUri or Definition"));
    }
}

//! Reading the template's buses and rules, as CloudFormation and SAM declare them:
//!
//! - the `default` bus, always there, and each `AWS::Events::EventBus` (`Name`, `Description`);
//! - each `AWS::Events::Rule` (`Name`, `EventBusName` as a name or an ARN, `EventPattern` as a mapping or JSON
//!   text, `State`, `Description`, `ScheduleExpression`, `RoleArn`, `Targets`);
//! - the rule SAM generates for a function's (or a state machine's) `Events` entry of `Type: EventBridgeRule` (or
//!   its older name `CloudWatchEvent`): logical id `<resource><event>`, named `RuleName` or that id, its one target
//!   the resource itself (`Target.Id`, else `<resource><event>LambdaTarget` / `StepFunctionsTarget`, as SAM names
//!   it).
//!
//! Every value is checked here, once, with AWS's rules: names, each pattern (by the `event-pattern` engine),
//! target ARNs (a function or state machine of the template, an SQS queue of this account and region), input
//! transformers, retry ranges, dead-letter queues. A problem is a [`TemplateError`] naming the resource and the
//! property, and the stack does not start with it.

use crate::{
    catalog::{self, Bus, BusNameError, Catalog, DEFAULT_BUS, Destination, RetryPolicy, Rule, RuleState, Target},
    input::{EventPath, TargetInput, Transformer},
};
use event_pattern::Pattern;
use local_core::{Arn, Identity};
use local_template::{Template, TemplateError};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The most targets a rule may have, as on AWS.
pub const MAX_TARGETS: usize = 5;

const FUNCTION_TYPES: &[&str] = &["AWS::Serverless::Function"];
const STATE_MACHINE_TYPES: &[&str] = &["AWS::Serverless::StateMachine"];
const RULE_PROPERTIES: &[&str] =
    &["Name", "EventBusName", "EventPattern", "ScheduleExpression", "State", "Description", "RoleArn", "Targets"];
const TARGET_PROPERTIES: &[&str] =
    &["Id", "Arn", "Input", "InputPath", "InputTransformer", "RetryPolicy", "DeadLetterConfig", "RoleArn"];
const SAM_EVENT_PROPERTIES: &[&str] = &[
    "EventBusName",
    "Pattern",
    "RuleName",
    "State",
    "Input",
    "InputPath",
    "InputTransformer",
    "RetryPolicy",
    "DeadLetterConfig",
    "Target",
];

/// The template's buses and rules, checked and compiled.
pub fn read(template: &Template, identity: &Identity) -> Result<Catalog, TemplateError> {
    let reader = Reader::new(template, identity)?;
    let mut rules = Vec::new();
    for r in template.of_type(&["AWS::Events::Rule"]) {
        rules.push(reader.rule(r.id, r.properties)?);
    }
    for (types, kind) in [(FUNCTION_TYPES, SamTarget::Function), (STATE_MACHINE_TYPES, SamTarget::StateMachine)] {
        for r in template.of_type(types) {
            let Some(events) = r.properties["Events"].as_object() else { continue };
            for (event, declaration) in events {
                if matches!(declaration["Type"].as_str(), Some("EventBridgeRule" | "CloudWatchEvent")) {
                    rules.push(reader.sam_rule(r.id, kind, event, &declaration["Properties"])?);
                }
            }
        }
    }
    let mut seen: HashMap<(&str, &str), &str> = HashMap::new();
    for (rule, _) in &rules {
        if let Some(other) = seen.insert((&rule.bus, &rule.name), &rule.logical_id) {
            return Err(TemplateError::invalid(
                &rule.logical_id,
                format!("the rule name `{}` on bus `{}` is also the name of {other}", rule.name, rule.bus),
            ));
        }
    }
    for (rule, _) in &rules {
        if rule.schedule_expression.is_some() {
            tracing::warn!(rule = %rule.name, "scheduled rules are listed but never fire in the local stack");
        }
    }
    Ok(Catalog::new(reader.buses, rules))
}

/// What declares a SAM `EventBridgeRule` event, and so is its rule's one target.
#[derive(Debug, Clone, Copy)]
enum SamTarget {
    Function,
    StateMachine,
}

struct Reader<'a> {
    template: &'a Template,
    identity: &'a Identity,
    buses: Vec<Bus>,
    /// The template's functions: physical name → logical id.
    functions: HashMap<String, String>,
    /// The template's state machines, by physical name.
    machines: HashSet<String>,
}

fn invalid(at: impl Into<String>, problem: impl Into<String>) -> TemplateError {
    TemplateError::invalid(at, problem)
}

/// Whether `v` is a CloudFormation intrinsic (`{"Ref": …}`, `{"Fn::Sub": …}`).
fn is_intrinsic(v: &Value) -> bool {
    v.as_object().is_some_and(|o| o.len() == 1 && o.keys().all(|k| k == "Ref" || k.starts_with("Fn::")))
}

/// Refuses properties the local stack does not know, naming each.
fn known_properties(properties: &Value, known: &[&str], at: &str) -> Result<(), TemplateError> {
    for key in properties.as_object().into_iter().flat_map(Map::keys) {
        if !known.contains(&key.as_str()) {
            return Err(TemplateError::Unsupported { at: format!("{at}.{key}"), what: key.clone() });
        }
    }
    Ok(())
}

fn name_ok(name: &str, max: usize) -> bool {
    (1..=max).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

impl<'a> Reader<'a> {
    fn new(template: &'a Template, identity: &'a Identity) -> Result<Self, TemplateError> {
        let mut buses = vec![Bus {
            name: DEFAULT_BUS.to_owned(),
            arn: catalog::bus_arn(identity, DEFAULT_BUS),
            logical_id: None,
            description: None,
        }];
        for r in template.of_type(&["AWS::Events::EventBus"]) {
            if !r.properties["EventSourceName"].is_null() {
                return Err(TemplateError::Unsupported {
                    at: format!("{}.EventSourceName", r.id),
                    what: "partner event buses".into(),
                });
            }
            let name = template.physical_name(r.id)?;
            if !name_ok(&name, 256) {
                return Err(invalid(
                    format!("{}.Name", r.id),
                    format!("`{name}` is not a bus name (1 to 256 letters, digits, `.`, `-` and `_`)"),
                ));
            }
            if buses.iter().any(|b| b.name == name) {
                return Err(invalid(format!("{}.Name", r.id), format!("a bus named `{name}` exists already")));
            }
            let description =
                template.optional_string(&r.properties["Description"], &format!("{}.Description", r.id))?;
            buses.push(Bus {
                arn: catalog::bus_arn(identity, &name),
                name,
                logical_id: Some(r.id.to_owned()),
                description,
            });
        }
        let mut functions = HashMap::new();
        for r in template.of_type(FUNCTION_TYPES) {
            functions.insert(template.physical_name(r.id)?, r.id.to_owned());
        }
        let machines =
            template.of_type(STATE_MACHINE_TYPES).map(|r| template.physical_name(r.id)).collect::<Result<_, _>>()?;
        Ok(Self { template, identity, buses, functions, machines })
    }

    /// An `AWS::Events::Rule`.
    fn rule(&self, id: &str, p: &Value) -> Result<(Rule, Option<Pattern>), TemplateError> {
        let at = |property: &str| format!("{id}.{property}");
        known_properties(p, RULE_PROPERTIES, id)?;
        let name = self.template.physical_name(id)?;
        self.check_rule_name(&name, &at("Name"))?;
        let bus = self.bus(&p["EventBusName"], &at("EventBusName"))?;
        let pattern = self.pattern(&p["EventPattern"], &at("EventPattern"))?;
        let schedule_expression = self.template.optional_string(&p["ScheduleExpression"], &at("ScheduleExpression"))?;
        if pattern.is_none() && schedule_expression.is_none() {
            return Err(invalid(id, "a rule needs an EventPattern or a ScheduleExpression"));
        }
        let targets = match &p["Targets"] {
            Value::Null => Vec::new(),
            Value::Array(targets) => targets
                .iter()
                .enumerate()
                .map(|(i, t)| self.target(t, &format!("{id}.Targets[{i}]")))
                .collect::<Result<Vec<_>, _>>()?,
            _ => return Err(invalid(at("Targets"), "must be a list")),
        };
        self.check_targets(&targets, &at("Targets"))?;
        let (event_pattern, compiled) = pattern.unzip();
        let rule = Rule {
            logical_id: id.to_owned(),
            arn: catalog::rule_arn(self.identity, &bus, &name),
            name,
            bus,
            state: self.state(&p["State"], &at("State"))?,
            description: self.template.optional_string(&p["Description"], &at("Description"))?,
            event_pattern,
            schedule_expression,
            role_arn: self.template.optional_string(&p["RoleArn"], &at("RoleArn"))?,
            targets,
        };
        Ok((rule, compiled))
    }

    /// The rule SAM generates for `resource`'s event `event` of `Type: EventBridgeRule`.
    fn sam_rule(
        &self,
        resource: &str,
        kind: SamTarget,
        event: &str,
        p: &Value,
    ) -> Result<(Rule, Option<Pattern>), TemplateError> {
        let base = format!("{resource}.Events.{event}.Properties");
        let at = |property: &str| format!("{base}.{property}");
        known_properties(p, SAM_EVENT_PROPERTIES, &base)?;
        let logical_id = format!("{resource}{event}");
        let name = match self.template.optional_string(&p["RuleName"], &at("RuleName"))? {
            Some(name) => name,
            // CloudFormation would generate a name; the logical id (cut to the 64 characters a name may have) is
            // easier to type.
            None => logical_id.chars().take(64).collect(),
        };
        self.check_rule_name(&name, &at("RuleName"))?;
        let bus = self.bus(&p["EventBusName"], &at("EventBusName"))?;
        let Some((event_pattern, compiled)) = self.pattern(&p["Pattern"], &at("Pattern"))? else {
            return Err(invalid(at("Pattern"), "is required"));
        };
        let physical = self.template.physical_name(resource)?;
        let (arn, destination, target_suffix) = match kind {
            SamTarget::Function => {
                let arn = self.identity.function_arn(&physical).to_string();
                (arn, Destination::Function { function: resource.to_owned() }, "LambdaTarget")
            }
            SamTarget::StateMachine => {
                let arn = self.identity.state_machine_arn(&physical).to_string();
                (arn.clone(), Destination::StateMachine { arn }, "StepFunctionsTarget")
            }
        };
        known_properties(&p["Target"], &["Id"], &at("Target"))?;
        let id = match self.template.optional_string(&p["Target"]["Id"], &at("Target.Id"))? {
            Some(id) => id,
            None => format!("{logical_id}{target_suffix}"),
        };
        self.check_target_id(&id, &at("Target.Id"))?;
        let target = Target {
            id,
            arn,
            destination,
            input: self.input(p, &base)?,
            retry_policy: self.retry_policy(&p["RetryPolicy"], &at("RetryPolicy"))?,
            dead_letter_arn: self.dead_letter(&p["DeadLetterConfig"], &at("DeadLetterConfig"))?,
            role_arn: None,
        };
        let rule = Rule {
            arn: catalog::rule_arn(self.identity, &bus, &name),
            logical_id,
            name,
            bus,
            state: self.state(&p["State"], &at("State"))?,
            description: None,
            event_pattern: Some(event_pattern),
            schedule_expression: None,
            role_arn: None,
            targets: vec![target],
        };
        Ok((rule, Some(compiled)))
    }

    fn check_rule_name(&self, name: &str, at: &str) -> Result<(), TemplateError> {
        if name_ok(name, 64) {
            Ok(())
        } else {
            Err(invalid(at, format!("`{name}` is not a rule name (1 to 64 letters, digits, `.`, `-` and `_`)")))
        }
    }

    fn check_target_id(&self, id: &str, at: &str) -> Result<(), TemplateError> {
        if name_ok(id, 64) {
            Ok(())
        } else {
            Err(invalid(at, format!("`{id}` is not a target id (1 to 64 letters, digits, `.`, `-` and `_`)")))
        }
    }

    fn check_targets(&self, targets: &[Target], at: &str) -> Result<(), TemplateError> {
        if targets.len() > MAX_TARGETS {
            return Err(invalid(at, format!("a rule has at most {MAX_TARGETS} targets, not {}", targets.len())));
        }
        let mut ids = HashSet::new();
        for t in targets {
            if !ids.insert(&t.id) {
                return Err(invalid(at, format!("the target id `{}` is used twice", t.id)));
            }
        }
        Ok(())
    }

    /// `EventBusName`: a bus of the template (or `default`), by name or ARN.
    fn bus(&self, v: &Value, at: &str) -> Result<String, TemplateError> {
        let Some(given) = self.template.optional_string(v, at)? else { return Ok(DEFAULT_BUS.to_owned()) };
        let name = catalog::bus_name(&given, self.identity).map_err(|e| match e {
            BusNameError::Malformed(why) => invalid(at, why),
            BusNameError::Elsewhere(name) => invalid(
                at,
                format!(
                    "the bus `{name}` is in another account or region; the local stack is account {} in {}",
                    self.identity.account, self.identity.region
                ),
            ),
        })?;
        if self.buses.iter().all(|b| b.name != name) {
            let known: Vec<&str> = self.buses.iter().map(|b| b.name.as_str()).collect();
            return Err(invalid(
                at,
                format!("there is no event bus `{name}` (the template's buses: {})", known.join(", ")),
            ));
        }
        Ok(name)
    }

    fn state(&self, v: &Value, at: &str) -> Result<RuleState, TemplateError> {
        match self.template.optional_string(v, at)? {
            None => Ok(RuleState::Enabled),
            Some(s) => RuleState::parse(&s).ok_or_else(|| {
                invalid(at, format!("`{s}` is not ENABLED, DISABLED or ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"))
            }),
        }
    }

    /// An event pattern, as a mapping (intrinsics inside resolved) or as JSON text: its text and compiled form.
    fn pattern(&self, v: &Value, at: &str) -> Result<Option<(String, Pattern)>, TemplateError> {
        let refused = |e: event_pattern::PatternError| invalid(at, format!("the event pattern is not valid: {e}"));
        match v {
            Value::Null => Ok(None),
            Value::Object(_) if !is_intrinsic(v) => {
                let resolved = self.resolve(v, at)?;
                let pattern = Pattern::from_value(&resolved).map_err(refused)?;
                Ok(Some((resolved.to_string(), pattern)))
            }
            v => {
                let text = self.template.string(v, at)?;
                let pattern = Pattern::parse(&text).map_err(refused)?;
                Ok(Some((text, pattern)))
            }
        }
    }

    /// A value with the intrinsics inside it resolved (each to a string, as CloudFormation does).
    fn resolve(&self, v: &Value, at: &str) -> Result<Value, TemplateError> {
        Ok(match v {
            v if is_intrinsic(v) => Value::String(self.template.string(v, at)?),
            Value::Object(o) => {
                Value::Object(o.iter().map(|(k, v)| Ok((k.clone(), self.resolve(v, at)?))).collect::<Result<_, _>>()?)
            }
            Value::Array(a) => Value::Array(a.iter().map(|v| self.resolve(v, at)).collect::<Result<_, _>>()?),
            v => v.clone(),
        })
    }

    /// One entry of a rule's `Targets`.
    fn target(&self, v: &Value, at: &str) -> Result<Target, TemplateError> {
        let property = |p: &str| format!("{at}.{p}");
        if !v.is_object() {
            return Err(invalid(at, "a target must be a mapping"));
        }
        known_properties(v, TARGET_PROPERTIES, at)?;
        let required = |p: &str| match self.template.optional_string(&v[p], &property(p))? {
            Some(s) => Ok(s),
            None => Err(invalid(property(p), "is required")),
        };
        let id = required("Id")?;
        self.check_target_id(&id, &property("Id"))?;
        let arn = required("Arn")?;
        let destination = self.destination(&arn, &property("Arn"))?;
        Ok(Target {
            id,
            arn,
            destination,
            input: self.input(v, at)?,
            retry_policy: self.retry_policy(&v["RetryPolicy"], &property("RetryPolicy"))?,
            dead_letter_arn: self.dead_letter(&v["DeadLetterConfig"], &property("DeadLetterConfig"))?,
            role_arn: self.template.optional_string(&v["RoleArn"], &property("RoleArn"))?,
        })
    }

    /// An ARN of this account and region, parsed.
    fn local_arn(&self, arn: &str, at: &str) -> Result<Arn, TemplateError> {
        let parsed: Arn = arn.parse().map_err(|e| invalid(at, format!("{e}")))?;
        if parsed.account != self.identity.account || parsed.region != self.identity.region {
            return Err(invalid(
                at,
                format!(
                    "`{arn}` is in another account or region; the local stack is account {} in {}",
                    self.identity.account, self.identity.region
                ),
            ));
        }
        Ok(parsed)
    }

    /// Where a target's ARN points: a function or state machine of the template, or an SQS queue.
    fn destination(&self, arn: &str, at: &str) -> Result<Destination, TemplateError> {
        let parsed = self.local_arn(arn, at)?;
        match parsed.service.as_str() {
            "lambda" => {
                // A qualifier (`:$LATEST`, an alias) names the one version the local stack has.
                let name = parsed.resource_of("function").map(|r| r.split(':').next().unwrap_or(r));
                let function = name.and_then(|n| self.functions.get(n));
                match function {
                    Some(logical_id) => Ok(Destination::Function { function: logical_id.clone() }),
                    None => Err(invalid(
                        at,
                        format!("`{arn}` is not a function of the template (AWS::Serverless::Function)"),
                    )),
                }
            }
            "states" => match parsed.resource_of("stateMachine") {
                Some(name) if self.machines.contains(name) => {
                    Ok(Destination::StateMachine { arn: self.identity.state_machine_arn(name).to_string() })
                }
                _ => Err(invalid(
                    at,
                    format!("`{arn}` is not a state machine of the template (AWS::Serverless::StateMachine)"),
                )),
            },
            "sqs" if !parsed.resource.contains([':', '/']) => Ok(Destination::Queue { arn: parsed.to_string() }),
            "sqs" => Err(invalid(at, format!("`{arn}` is not an SQS queue ARN"))),
            other => Err(TemplateError::Unsupported {
                at: at.to_owned(),
                what: format!(
                    "a target of service `{other}` (the local stack delivers to Lambda functions, Step Functions state machines and SQS queues)"
                ),
            }),
        }
    }

    /// `Input`, `InputPath` or `InputTransformer` of a target (`at` is the target), at most one of them.
    fn input(&self, v: &Value, at: &str) -> Result<TargetInput, TemplateError> {
        let property = |p: &str| format!("{at}.{p}");
        let given: Vec<&str> =
            ["Input", "InputPath", "InputTransformer"].into_iter().filter(|p| !v[*p].is_null()).collect();
        if given.len() > 1 {
            return Err(invalid(
                at,
                format!("only one of Input, InputPath and InputTransformer may be set, not {}", given.join(" and ")),
            ));
        }
        match given.first().copied() {
            None => Ok(TargetInput::Event),
            Some("Input") => {
                if v["Input"].is_object() && !is_intrinsic(&v["Input"]) {
                    return Err(invalid(property("Input"), "must be JSON text (a string), not a mapping"));
                }
                let text = self.template.string(&v["Input"], &property("Input"))?;
                serde_json::from_str::<Value>(&text)
                    .map_err(|e| invalid(property("Input"), format!("must be valid JSON text: {e}")))?;
                Ok(TargetInput::Constant(text))
            }
            Some("InputPath") => {
                let text = self.template.string(&v["InputPath"], &property("InputPath"))?;
                Ok(TargetInput::Path(EventPath::parse(&text).map_err(|e| invalid(property("InputPath"), e))?))
            }
            Some(_) => {
                let at = property("InputTransformer");
                let t = &v["InputTransformer"];
                known_properties(t, &["InputPathsMap", "InputTemplate"], &at)?;
                let template =
                    match self.template.optional_string(&t["InputTemplate"], &format!("{at}.InputTemplate"))? {
                        Some(s) => s,
                        None => return Err(invalid(format!("{at}.InputTemplate"), "is required")),
                    };
                let mut paths = BTreeMap::new();
                match &t["InputPathsMap"] {
                    Value::Null => {}
                    Value::Object(map) => {
                        for (name, path) in map {
                            let path = self.template.string(path, &format!("{at}.InputPathsMap.{name}"))?;
                            paths.insert(name.clone(), path);
                        }
                    }
                    _ => return Err(invalid(format!("{at}.InputPathsMap"), "must be a mapping")),
                }
                Ok(TargetInput::Transformer(Transformer::parse(paths, template).map_err(|e| invalid(at, e))?))
            }
        }
    }

    fn retry_policy(&self, v: &Value, at: &str) -> Result<Option<RetryPolicy>, TemplateError> {
        if v.is_null() {
            return Ok(None);
        }
        known_properties(v, &["MaximumRetryAttempts", "MaximumEventAgeInSeconds"], at)?;
        let mut policy = RetryPolicy::default();
        let attempts_at = format!("{at}.MaximumRetryAttempts");
        if let Some(n) = self.template.integer(&v["MaximumRetryAttempts"], &attempts_at)? {
            policy.maximum_retry_attempts = u32::try_from(n)
                .ok()
                .filter(|n| *n <= RetryPolicy::MAX_RETRY_ATTEMPTS)
                .ok_or_else(|| invalid(&attempts_at, format!("{n} is not between 0 and 185")))?;
        }
        let age_at = format!("{at}.MaximumEventAgeInSeconds");
        if let Some(n) = self.template.integer(&v["MaximumEventAgeInSeconds"], &age_at)? {
            policy.maximum_event_age_seconds = u32::try_from(n)
                .ok()
                .filter(|n| RetryPolicy::EVENT_AGE_SECONDS.contains(n))
                .ok_or_else(|| invalid(&age_at, format!("{n} is not between 60 and 86400")))?;
        }
        Ok(Some(policy))
    }

    /// `DeadLetterConfig`: the ARN of an SQS queue of this account and region.
    fn dead_letter(&self, v: &Value, at: &str) -> Result<Option<String>, TemplateError> {
        if v.is_null() {
            return Ok(None);
        }
        if !v["Type"].is_null() {
            return Err(invalid(
                format!("{at}.Type"),
                "SAM would generate the dead-letter queue, which the local stack cannot create: declare an \
                 AWS::SQS::Queue in the template and set DeadLetterConfig.Arn to its !GetAtt <Queue>.Arn instead",
            ));
        }
        known_properties(v, &["Arn", "QueueLogicalId"], at)?;
        let arn_at = format!("{at}.Arn");
        let Some(arn) = self.template.optional_string(&v["Arn"], &arn_at)? else {
            return Err(invalid(arn_at, "is required"));
        };
        let parsed = self.local_arn(&arn, &arn_at)?;
        if parsed.service != "sqs" || parsed.resource.contains([':', '/']) {
            return Err(invalid(arn_at, format!("`{arn}` is not an SQS queue ARN (a dead-letter queue is one)")));
        }
        Ok(Some(arn))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use local_template::NoSecrets;
    use std::sync::Arc;

    fn read_text(text: &str) -> Result<Catalog, TemplateError> {
        let template = Template::parse(text, Arc::new(NoSecrets)).unwrap();
        read(&template, &Identity::default())
    }

    fn error(text: &str) -> String {
        read_text(text).unwrap_err().to_string()
    }

    const HEAD: &str = "Resources:\n  F:\n    Type: AWS::Serverless::Function\n  Q:\n    Type: AWS::SQS::Queue\n";

    #[test]
    fn rules_come_from_events_rule_resources_and_sam_eventbridge_rule_events() {
        let text = format!(
            "{HEAD}  Bus:\n    Type: AWS::Events::EventBus\n    Properties: {{Name: orders}}\n  R:\n    Type: AWS::Events::Rule\n    Properties:\n      EventBusName: !GetAtt Bus.Arn\n      EventPattern: {{source: [!Ref Bus]}}\n      Targets:\n        - {{Id: q, Arn: !GetAtt Q.Arn, InputPath: $.detail}}\n        - {{Id: f, Arn: !GetAtt F.Arn, RetryPolicy: {{MaximumRetryAttempts: 3}}}}\n  G:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        OnOrder:\n          Type: EventBridgeRule\n          Properties:\n            Pattern: {{detail-type: [placed]}}\n"
        );
        let catalog = read_text(&text).unwrap();
        let r = catalog.rule("orders", "R").unwrap();
        assert_eq!(r.arn, "arn:aws:events:us-east-1:123456789012:rule/orders/R");
        assert_eq!(r.event_pattern.as_deref(), Some(r#"{"source":["orders"]}"#));
        assert!(matches!(&r.targets[0].destination, Destination::Queue { arn } if arn.contains(":local-Q-")));
        assert_eq!(r.targets[1].destination, Destination::Function { function: "F".into() });
        assert_eq!(r.targets[1].retries().maximum_retry_attempts, 3);
        assert_eq!(r.targets[1].retries().maximum_event_age_seconds, 86_400);
        let sam = catalog.rule("default", "GOnOrder").unwrap();
        assert_eq!(sam.targets[0].id, "GOnOrderLambdaTarget");
        assert_eq!(sam.targets[0].destination, Destination::Function { function: "G".into() });
        assert_eq!(sam.targets[0].arn, "arn:aws:lambda:us-east-1:123456789012:function:G");
    }

    #[test]
    fn bad_content_is_an_error_naming_the_resource_and_property() {
        let rule = |props: &str| format!("{HEAD}  R:\n    Type: AWS::Events::Rule\n    Properties: {props}\n");
        let cases = [
            (rule("{EventPattern: {source: x}}"), "R.EventPattern"),
            (rule("{EventPattern: '{\"source\": [\"a\"]'}"), "R.EventPattern"),
            (rule("{Description: nothing}"), "needs an EventPattern"),
            (rule("{EventBusName: nope, EventPattern: {source: [a]}}"), "R.EventBusName"),
            (rule("{EventPattern: {source: [a]}, State: ON}"), "R.State"),
            (
                rule("{EventPattern: {source: [a]}, Targets: [{Id: t, Arn: 'arn:aws:sns:us-east-1:123456789012:t'}]}"),
                "R.Targets[0].Arn",
            ),
            (
                rule(
                    "{EventPattern: {source: [a]}, Targets: [{Id: t, Arn: 'arn:aws:lambda:us-east-1:123456789012:function:Nope'}]}",
                ),
                "R.Targets[0].Arn",
            ),
            (
                rule("{EventPattern: {source: [a]}, Targets: [{Id: t, Arn: 'arn:aws:sqs:eu-west-1:123456789012:q'}]}"),
                "another account or region",
            ),
            (rule("{EventPattern: {source: [a]}, Targets: [{Id: 'bad id', Arn: !GetAtt Q.Arn}]}"), "R.Targets[0].Id"),
            (
                rule("{EventPattern: {source: [a]}, Targets: [{Id: t, Arn: !GetAtt Q.Arn, Input: 'not json'}]}"),
                "R.Targets[0].Input",
            ),
            (
                rule(
                    "{EventPattern: {source: [a]}, Targets: [{Id: t, Arn: !GetAtt Q.Arn, Input: '{}', InputPath: $.detail}]}",
                ),
                "only one of",
            ),
            (
                rule(
                    "{EventPattern: {source: [a]}, Targets: [{Id: t, Arn: !GetAtt Q.Arn, InputTransformer: {InputTemplate: '<x>'}}]}",
                ),
                "R.Targets[0].InputTransformer",
            ),
            (
                rule(
                    "{EventPattern: {source: [a]}, Targets: [{Id: t, Arn: !GetAtt Q.Arn, RetryPolicy: {MaximumRetryAttempts: 186}}]}",
                ),
                "R.Targets[0].RetryPolicy.MaximumRetryAttempts",
            ),
            (
                rule(
                    "{EventPattern: {source: [a]}, Targets: [{Id: t, Arn: !GetAtt Q.Arn, RetryPolicy: {MaximumEventAgeInSeconds: 59}}]}",
                ),
                "R.Targets[0].RetryPolicy.MaximumEventAgeInSeconds",
            ),
            (
                rule(
                    "{EventPattern: {source: [a]}, Targets: [{Id: t, Arn: !GetAtt Q.Arn, DeadLetterConfig: {Arn: !GetAtt F.Arn}}]}",
                ),
                "R.Targets[0].DeadLetterConfig.Arn",
            ),
            (
                rule(
                    "{EventPattern: {source: [a]}, Targets: [{Id: t, Arn: !GetAtt Q.Arn, SqsParameters: {MessageGroupId: g}}]}",
                ),
                "R.Targets[0].SqsParameters",
            ),
        ];
        for (text, expected) in cases {
            let e = error(&text);
            assert!(e.contains(expected), "{expected:?} not in {e:?}");
        }
    }

    #[test]
    fn a_sam_dead_letter_queue_of_type_sqs_asks_for_a_declared_queue() {
        let text = format!(
            "{HEAD}  G:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        E:\n          Type: EventBridgeRule\n          Properties:\n            Pattern: {{source: [a]}}\n            DeadLetterConfig: {{Type: SQS}}\n"
        );
        let e = error(&text);
        assert!(e.contains("G.Events.E.Properties.DeadLetterConfig.Type") && e.contains("AWS::SQS::Queue"), "{e}");
    }

    #[test]
    fn a_state_machines_eventbridge_rule_event_targets_the_machine_with_sams_names() {
        let text = "Resources:\n  Flow:\n    Type: AWS::Serverless::StateMachine\n    Properties:\n      Name: flow\n      Events:\n        Tick:\n          Type: CloudWatchEvent\n          Properties:\n            RuleName: ticks\n            State: DISABLED\n            Pattern: '{\"source\": [\"clock\"]}'\n            Input: '{\"k\": 1}'\n";
        let catalog = read_text(text).unwrap();
        let rule = catalog.rule("default", "ticks").unwrap();
        assert_eq!((rule.logical_id.as_str(), rule.state), ("FlowTick", RuleState::Disabled));
        let target = &rule.targets[0];
        assert_eq!(target.id, "FlowTickStepFunctionsTarget");
        let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:flow";
        assert_eq!(target.destination, Destination::StateMachine { arn: arn.into() });
        assert!(matches!(&target.input, TargetInput::Constant(c) if c == "{\"k\": 1}"));
        // A disabled rule is listed but matches nothing.
        let event = serde_json::json!({"source": "clock"});
        assert!(catalog.matching("default", &event).is_empty());
    }

    #[test]
    fn two_rules_of_one_name_on_one_bus_are_refused() {
        let text = format!(
            "{HEAD}  A:\n    Type: AWS::Events::Rule\n    Properties: {{Name: same, EventPattern: {{source: [a]}}}}\n  B:\n    Type: AWS::Events::Rule\n    Properties: {{Name: same, EventPattern: {{source: [b]}}}}\n"
        );
        assert!(error(&text).contains("also the name of A"));
    }
}

//! The rule operations: ListRules, DescribeRule, ListTargetsByRule. Lists are by name (targets in the template's
//! order), paged with the core's tokens, which are honoured only for the listing that handed them out.

use super::{input, limit, required};
use crate::{EventBridge, EventsError, Rule, Target, input::TargetInput};
use local_core::page::{Order, paginate};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// A rule as ListRules and DescribeRule give it.
fn rule_json(rule: &Rule) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("Name".into(), json!(rule.name));
    out.insert("Arn".into(), json!(rule.arn));
    if let Some(p) = &rule.event_pattern {
        out.insert("EventPattern".into(), json!(p));
    }
    if let Some(s) = &rule.schedule_expression {
        out.insert("ScheduleExpression".into(), json!(s));
    }
    out.insert("State".into(), json!(rule.state.as_str()));
    if let Some(d) = &rule.description {
        out.insert("Description".into(), json!(d));
    }
    if let Some(r) = &rule.role_arn {
        out.insert("RoleArn".into(), json!(r));
    }
    out.insert("EventBusName".into(), json!(rule.bus));
    out
}

/// A target as ListTargetsByRule gives it.
fn target_json(target: &Target) -> Value {
    let mut out = Map::new();
    out.insert("Id".into(), json!(target.id));
    out.insert("Arn".into(), json!(target.arn));
    if let Some(r) = &target.role_arn {
        out.insert("RoleArn".into(), json!(r));
    }
    match &target.input {
        TargetInput::Event => {}
        TargetInput::Constant(text) => {
            out.insert("Input".into(), json!(text));
        }
        TargetInput::Path(path) => {
            out.insert("InputPath".into(), json!(path.text));
        }
        TargetInput::Transformer(t) => {
            let mut transformer = Map::new();
            if !t.paths.is_empty() {
                let paths: Map<String, Value> = t.paths.iter().map(|(k, p)| (k.clone(), json!(p.text))).collect();
                transformer.insert("InputPathsMap".into(), Value::Object(paths));
            }
            transformer.insert("InputTemplate".into(), json!(t.template));
            out.insert("InputTransformer".into(), Value::Object(transformer));
        }
    }
    if let Some(p) = &target.retry_policy {
        out.insert(
            "RetryPolicy".into(),
            json!({"MaximumRetryAttempts": p.maximum_retry_attempts, "MaximumEventAgeInSeconds": p.maximum_event_age_seconds}),
        );
    }
    if let Some(dlq) = &target.dead_letter_arn {
        out.insert("DeadLetterConfig".into(), json!({"Arn": dlq}));
    }
    Value::Object(out)
}

pub(super) struct ListRules {
    bus: Option<String>,
    prefix: Option<String>,
    limit: usize,
    next_token: Option<String>,
}

impl ListRules {
    pub(super) fn parse(body: &[u8]) -> Result<Self, EventsError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Input {
            event_bus_name: Option<String>,
            name_prefix: Option<String>,
            limit: Option<i64>,
            next_token: Option<String>,
        }
        let i: Input = input(body)?;
        Ok(Self { bus: i.event_bus_name, prefix: i.name_prefix, limit: limit(i.limit)?, next_token: i.next_token })
    }

    pub(super) fn apply(self, service: &EventBridge) -> Result<Value, EventsError> {
        let bus = service.bus_named(self.bus.as_deref())?;
        let prefix = self.prefix.unwrap_or_default();
        let rules: Vec<&Rule> =
            service.catalog().rules_of(&bus.name).into_iter().filter(|r| r.name.starts_with(&prefix)).collect();
        let request = json!({"op": "ListRules", "bus": bus.name, "prefix": prefix});
        let page =
            paginate(rules, &request, |r| r.name.clone(), Order::Ascending, self.limit, self.next_token.as_deref())?;
        let mut out = json!({"Rules": page.items.iter().map(|r| Value::Object(rule_json(r))).collect::<Vec<_>>()});
        if let Some(token) = page.next_token {
            out["NextToken"] = json!(token);
        }
        Ok(out)
    }
}

/// The rule a request names on its bus.
fn rule<'a>(service: &'a EventBridge, bus: Option<&str>, name: &str) -> Result<&'a Rule, EventsError> {
    let bus = service.bus_named(bus)?;
    service
        .catalog()
        .rule(&bus.name, name)
        .ok_or_else(|| EventsError::ResourceNotFound(format!("Rule {name} does not exist on EventBus {}.", bus.name)))
}

pub(super) struct DescribeRule {
    name: String,
    bus: Option<String>,
}

impl DescribeRule {
    pub(super) fn parse(body: &[u8]) -> Result<Self, EventsError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Input {
            name: Option<String>,
            event_bus_name: Option<String>,
        }
        let i: Input = input(body)?;
        Ok(Self { name: required(i.name, "name")?, bus: i.event_bus_name })
    }

    pub(super) fn apply(self, service: &EventBridge) -> Result<Value, EventsError> {
        let rule = rule(service, self.bus.as_deref(), &self.name)?;
        let mut out = rule_json(rule);
        out.insert("CreatedBy".into(), json!(service.identity().account));
        Ok(Value::Object(out))
    }
}

pub(super) struct ListTargetsByRule {
    rule: String,
    bus: Option<String>,
    limit: usize,
    next_token: Option<String>,
}

impl ListTargetsByRule {
    pub(super) fn parse(body: &[u8]) -> Result<Self, EventsError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Input {
            rule: Option<String>,
            event_bus_name: Option<String>,
            limit: Option<i64>,
            next_token: Option<String>,
        }
        let i: Input = input(body)?;
        Ok(Self {
            rule: required(i.rule, "rule")?,
            bus: i.event_bus_name,
            limit: limit(i.limit)?,
            next_token: i.next_token,
        })
    }

    pub(super) fn apply(self, service: &EventBridge) -> Result<Value, EventsError> {
        let rule = rule(service, self.bus.as_deref(), &self.rule)?;
        let targets: Vec<(usize, &Target)> = rule.targets.iter().enumerate().collect();
        let request = json!({"op": "ListTargetsByRule", "rule": rule.arn});
        let page = paginate(targets, &request, |(i, _)| *i, Order::Ascending, self.limit, self.next_token.as_deref())?;
        let mut out = json!({"Targets": page.items.iter().map(|(_, t)| target_json(t)).collect::<Vec<_>>()});
        if let Some(token) = page.next_token {
            out["NextToken"] = json!(token);
        }
        Ok(out)
    }
}

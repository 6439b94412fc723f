//! The buses and rules the template declares, as values: a [`Rule`] knows its bus, pattern, state and [`Target`]s,
//! each target where it sends ([`Destination`]), what it sends ([`TargetInput`]) and how it retries
//! ([`RetryPolicy`]). The [`Catalog`] holds them all, with each bus's enabled rules compiled into one
//! [`Matcher`] when the template is read, so a PutEvents entry is matched against its bus in one pass.

use crate::input::TargetInput;
use event_pattern::{Matcher, Pattern};
use local_core::{Arn, Identity};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;

/// The bus every account has.
pub const DEFAULT_BUS: &str = "default";

/// An event bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bus {
    pub name: String,
    pub arn: String,
    /// The template resource (`AWS::Events::EventBus`); `None` for the default bus.
    pub logical_id: Option<String>,
    pub description: Option<String>,
}

/// Whether a rule matches events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleState {
    Enabled,
    Disabled,
    /// Enabled, and also matching CloudTrail's read-only management events (which the local stack has none of).
    EnabledWithAllCloudtrailManagementEvents,
}

impl RuleState {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "ENABLED" => Self::Enabled,
            "DISABLED" => Self::Disabled,
            "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" => Self::EnabledWithAllCloudtrailManagementEvents,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "ENABLED",
            Self::Disabled => "DISABLED",
            Self::EnabledWithAllCloudtrailManagementEvents => "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
        }
    }

    pub fn is_enabled(self) -> bool {
        self != Self::Disabled
    }
}

/// A rule of a bus.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The template resource that declares it: an `AWS::Events::Rule`, or the rule SAM generates for a function's
    /// `EventBridgeRule` event (`<function><event>`).
    pub logical_id: String,
    pub name: String,
    pub arn: String,
    /// The bus's name.
    pub bus: String,
    pub state: RuleState,
    pub description: Option<String>,
    /// The event pattern as JSON text (as DescribeRule gives it back).
    pub event_pattern: Option<String>,
    /// A schedule (`rate(…)`, `cron(…)`): listed, but it never fires locally.
    pub schedule_expression: Option<String>,
    pub role_arn: Option<String>,
    pub targets: Vec<Target>,
}

/// A target of a rule.
#[derive(Debug, Clone)]
pub struct Target {
    pub id: String,
    pub arn: String,
    pub destination: Destination,
    pub input: TargetInput,
    /// `RetryPolicy` as declared (`None`: EventBridge's defaults).
    pub retry_policy: Option<RetryPolicy>,
    /// `DeadLetterConfig.Arn`: an SQS queue.
    pub dead_letter_arn: Option<String>,
    pub role_arn: Option<String>,
}

impl Target {
    pub fn retries(&self) -> RetryPolicy {
        self.retry_policy.unwrap_or_default()
    }
}

/// Where a target delivers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Destination {
    /// A function of the template, by logical id (what the `EventInvoker` knows it by).
    Function { function: String },
    /// A state machine, by ARN.
    StateMachine { arn: String },
    /// An SQS queue, by ARN.
    Queue { arn: String },
}

/// How long and how often delivery to a target is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0–185).
    pub maximum_retry_attempts: u32,
    /// How old an event may grow while it is retried (60–86,400 seconds).
    pub maximum_event_age_seconds: u32,
}

impl RetryPolicy {
    pub const MAX_RETRY_ATTEMPTS: u32 = 185;
    pub const EVENT_AGE_SECONDS: std::ops::RangeInclusive<u32> = 60..=86_400;
}

impl Default for RetryPolicy {
    /// EventBridge's: 185 retries over at most 24 hours.
    fn default() -> Self {
        Self { maximum_retry_attempts: 185, maximum_event_age_seconds: 86_400 }
    }
}

/// A bus's ARN.
pub fn bus_arn(identity: &Identity, bus: &str) -> String {
    identity.arn("events", format!("event-bus/{bus}")).to_string()
}

/// A rule's ARN: `rule/<name>` on the default bus, `rule/<bus>/<name>` on another.
pub fn rule_arn(identity: &Identity, bus: &str, rule: &str) -> String {
    let resource = if bus == DEFAULT_BUS { format!("rule/{rule}") } else { format!("rule/{bus}/{rule}") };
    identity.arn("events", resource).to_string()
}

/// Why an `EventBusName` (a name or an ARN) names no bus here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusNameError {
    /// Not an event bus ARN at all.
    Malformed(String),
    /// A bus of another account or region, which cannot be on this stack.
    Elsewhere(String),
}

/// The bus name an `EventBusName` parameter gives: the name itself, or the name in an event bus ARN of this
/// account and region.
pub fn bus_name(name_or_arn: &str, identity: &Identity) -> Result<String, BusNameError> {
    if !name_or_arn.starts_with("arn:") {
        return Ok(name_or_arn.to_owned());
    }
    let malformed = || BusNameError::Malformed(format!("`{name_or_arn}` is not an event bus ARN"));
    let arn: Arn = name_or_arn.parse().map_err(|_| malformed())?;
    let name = match arn.resource_parts() {
        ("event-bus", name) if arn.service == "events" && !name.is_empty() => name.to_owned(),
        _ => return Err(malformed()),
    };
    if arn.account != identity.account || arn.region != identity.region || arn.partition != identity.partition {
        return Err(BusNameError::Elsewhere(name));
    }
    Ok(name)
}

/// Every bus and rule, and each bus's enabled rules compiled into one matcher.
pub struct Catalog {
    buses: Vec<Bus>,
    rules: Vec<Rule>,
    /// Per bus: the indices (into `rules`) of its enabled rules with a pattern.
    matchers: HashMap<String, Matcher<usize>>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").field("buses", &self.buses).field("rules", &self.rules).finish_non_exhaustive()
    }
}

impl Catalog {
    /// `rules` with the compiled pattern of each (`None` for a rule with only a schedule).
    pub fn new(mut buses: Vec<Bus>, rules: Vec<(Rule, Option<Pattern>)>) -> Self {
        buses.sort_by(|a, b| a.name.cmp(&b.name));
        let mut matchers: HashMap<String, Matcher<usize>> = HashMap::new();
        let mut kept = Vec::with_capacity(rules.len());
        for (i, (rule, pattern)) in rules.into_iter().enumerate() {
            if let Some(pattern) = pattern
                && rule.state.is_enabled()
            {
                matchers.entry(rule.bus.clone()).or_default().add(i, pattern);
            }
            kept.push(rule);
        }
        Self { buses, rules: kept, matchers }
    }

    /// Every bus, by name.
    pub fn buses(&self) -> &[Bus] {
        &self.buses
    }

    pub fn bus(&self, name: &str) -> Option<&Bus> {
        self.buses.iter().find(|b| b.name == name)
    }

    /// Every rule, in the template's order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rules of `bus`, by name.
    pub fn rules_of(&self, bus: &str) -> Vec<&Rule> {
        let mut rules: Vec<&Rule> = self.rules.iter().filter(|r| r.bus == bus).collect();
        rules.sort_by(|a, b| a.name.cmp(&b.name));
        rules
    }

    pub fn rule(&self, bus: &str, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.bus == bus && r.name == name)
    }

    /// The enabled rules of `bus` whose pattern `event` matches.
    pub fn matching(&self, bus: &str, event: &Value) -> Vec<&Rule> {
        let Some(matcher) = self.matchers.get(bus) else { return Vec::new() };
        let mut indices: Vec<usize> = matcher.matching(event).into_iter().copied().collect();
        indices.sort_unstable();
        indices.dedup();
        indices.into_iter().map(|i| &self.rules[i]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bus_is_named_by_its_name_or_its_arn_in_this_account_and_region() {
        let id = Identity::default();
        assert_eq!(bus_name("orders", &id).unwrap(), "orders");
        assert_eq!(bus_name("arn:aws:events:us-east-1:123456789012:event-bus/orders", &id).unwrap(), "orders");
        assert_eq!(
            bus_name("arn:aws:events:eu-west-1:123456789012:event-bus/orders", &id),
            Err(BusNameError::Elsewhere("orders".into()))
        );
        assert!(matches!(bus_name("arn:aws:sqs:us-east-1:123456789012:q", &id), Err(BusNameError::Malformed(_))));
        assert!(matches!(bus_name("arn:nope", &id), Err(BusNameError::Malformed(_))));
    }

    #[test]
    fn rule_arns_name_the_bus_unless_it_is_the_default_one() {
        let id = Identity::default();
        assert_eq!(rule_arn(&id, "default", "r"), "arn:aws:events:us-east-1:123456789012:rule/r");
        assert_eq!(rule_arn(&id, "orders", "r"), "arn:aws:events:us-east-1:123456789012:rule/orders/r");
    }
}

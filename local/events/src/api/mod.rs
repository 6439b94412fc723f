//! EventBridge's wire protocol, AWS JSON 1.1: `POST /` with `X-Amz-Target: AWSEvents.<Operation>` and a JSON body,
//! signed with SigV4 for the service `events` (the front door checks the signature). A request is parsed into a
//! typed [`Command`] (events operations in [`events`], rules in [`rules`], buses in [`buses`]), which is then applied
//! to [`EventBridge`] and builds its answer. Errors are `{"__type": <Code>, "message": …}`; every bad request is a
//! 400.

mod buses;
mod events;
mod rules;

use crate::{EventBridge, EventsError, catalog};
use axum::{body::Body, extract::Request, response::Response};
use local_core::{
    BoxFuture,
    endpoint::{CallContext, Service},
    protocol::json::{self, JSON_1_1},
};
use serde_json::Value;

pub const TARGET_PREFIX: &str = "AWSEvents.";
/// The largest request body read: ten entries of 256 KB in all, with room for JSON's escaping.
const MAX_BODY: usize = 4 * 1024 * 1024;
/// The largest page of a list, as on AWS.
const MAX_LIMIT: i64 = 100;

/// EventBridge operations the local stack does not offer: the template is where rules, targets and buses come
/// from, and archives, replays, connections, API destinations, endpoints and partner sources are not emulated.
const DISABLED: &[&str] = &[
    "ActivateEventSource",
    "CancelReplay",
    "CreateApiDestination",
    "CreateArchive",
    "CreateConnection",
    "CreateEndpoint",
    "CreateEventBus",
    "CreatePartnerEventSource",
    "DeactivateEventSource",
    "DeauthorizeConnection",
    "DeleteApiDestination",
    "DeleteArchive",
    "DeleteConnection",
    "DeleteEndpoint",
    "DeleteEventBus",
    "DeletePartnerEventSource",
    "DeleteRule",
    "DescribeApiDestination",
    "DescribeArchive",
    "DescribeConnection",
    "DescribeEndpoint",
    "DescribeEventSource",
    "DescribePartnerEventSource",
    "DescribeReplay",
    "DisableRule",
    "EnableRule",
    "ListApiDestinations",
    "ListArchives",
    "ListConnections",
    "ListEndpoints",
    "ListEventSources",
    "ListPartnerEventSourceAccounts",
    "ListPartnerEventSources",
    "ListReplays",
    "ListRuleNamesByTarget",
    "ListTagsForResource",
    "PutPartnerEvents",
    "PutPermission",
    "PutRule",
    "PutTargets",
    "RemovePermission",
    "RemoveTargets",
    "StartReplay",
    "TagResource",
    "UntagResource",
    "UpdateApiDestination",
    "UpdateArchive",
    "UpdateConnection",
    "UpdateEndpoint",
    "UpdateEventBus",
];

/// One request, parsed.
enum Command {
    PutEvents(events::PutEvents),
    TestEventPattern(events::TestEventPattern),
    ListRules(rules::ListRules),
    DescribeRule(rules::DescribeRule),
    ListTargetsByRule(rules::ListTargetsByRule),
    ListEventBuses(buses::ListEventBuses),
    DescribeEventBus(buses::DescribeEventBus),
}

impl Command {
    fn parse(operation: &str, body: &[u8]) -> Result<Self, EventsError> {
        Ok(match operation {
            "PutEvents" => Self::PutEvents(events::PutEvents::parse(body)?),
            "TestEventPattern" => Self::TestEventPattern(events::TestEventPattern::parse(body)?),
            "ListRules" => Self::ListRules(rules::ListRules::parse(body)?),
            "DescribeRule" => Self::DescribeRule(rules::DescribeRule::parse(body)?),
            "ListTargetsByRule" => Self::ListTargetsByRule(rules::ListTargetsByRule::parse(body)?),
            "ListEventBuses" => Self::ListEventBuses(buses::ListEventBuses::parse(body)?),
            "DescribeEventBus" => Self::DescribeEventBus(buses::DescribeEventBus::parse(body)?),
            op if DISABLED.contains(&op) => {
                return Err(EventsError::OperationDisabled(format!(
                    "{op} is not supported by the local stack: its buses, rules and targets come from the template \
                     (AWS::Events::EventBus, AWS::Events::Rule, a function's EventBridgeRule events)."
                )));
            }
            op => return Err(EventsError::UnknownOperation(format!("Unknown operation: {op}"))),
        })
    }

    async fn apply(self, service: &EventBridge) -> Result<Value, EventsError> {
        match self {
            Self::PutEvents(c) => c.apply(service).await,
            Self::TestEventPattern(c) => c.apply(),
            Self::ListRules(c) => c.apply(service),
            Self::DescribeRule(c) => c.apply(service),
            Self::ListTargetsByRule(c) => c.apply(service),
            Self::ListEventBuses(c) => c.apply(service),
            Self::DescribeEventBus(c) => c.apply(service),
        }
    }
}

impl Service for EventBridge {
    fn name(&self) -> &'static str {
        "events"
    }

    fn target_prefixes(&self) -> &'static [&'static str] {
        &[TARGET_PREFIX]
    }

    fn signing_names(&self) -> &'static [&'static str] {
        &["events"]
    }

    fn serve(&self, request: Request<Body>, ctx: CallContext) -> BoxFuture<'_, Response> {
        Box::pin(async move {
            match self.answer(request).await {
                Ok(v) => json::ok(JSON_1_1, &v, &ctx.request_id),
                Err(e) => json::error(JSON_1_1, None, &e, &ctx.request_id),
            }
        })
    }
}

impl EventBridge {
    async fn answer(&self, request: Request<Body>) -> Result<Value, EventsError> {
        let (parts, body) = request.into_parts();
        if parts.method != http::Method::POST {
            return Err(EventsError::Serialization(format!(
                "EventBridge's JSON protocol takes POST, not {}",
                parts.method
            )));
        }
        let target = local_core::endpoint::target(&parts.headers).unwrap_or_default();
        let operation = target
            .strip_prefix(TARGET_PREFIX)
            .ok_or_else(|| EventsError::UnknownOperation(format!("Unknown operation: {target}")))?
            .to_owned();
        let body = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
            EventsError::Validation("Total size of the entries in the request is over the limit.".into())
        })?;
        Command::parse(&operation, &body)?.apply(self).await
    }

    /// The bus an `EventBusName` parameter names (the default bus when absent).
    fn bus_named(&self, name_or_arn: Option<&str>) -> Result<&catalog::Bus, EventsError> {
        let given = name_or_arn.unwrap_or(catalog::DEFAULT_BUS);
        let not_found = |name: &str| EventsError::ResourceNotFound(format!("Event bus {name} does not exist."));
        match catalog::bus_name(given, self.identity()) {
            Ok(name) => self.catalog().bus(&name).ok_or_else(|| not_found(&name)),
            Err(catalog::BusNameError::Elsewhere(name)) => Err(not_found(&name)),
            Err(catalog::BusNameError::Malformed(why)) => {
                Err(EventsError::Validation(format!("Parameter EventBusName is not valid. Reason: {why}")))
            }
        }
    }
}

/// The body of a request, as the operation's input.
fn input<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, EventsError> {
    Ok(json::parse(body)?)
}

/// A required parameter (AWS's message names it in camel case).
fn required<T>(value: Option<T>, name: &str) -> Result<T, EventsError> {
    value.ok_or_else(|| {
        EventsError::Validation(format!(
            "1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

/// A list's `Limit`: 1 to 100; absent, the default page.
fn limit(value: Option<i64>) -> Result<usize, EventsError> {
    match value {
        None => Ok(0),
        Some(n @ 1..=MAX_LIMIT) => Ok(n as usize),
        Some(n) if n < 1 => Err(EventsError::Validation(format!(
            "1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
        ))),
        Some(n) => Err(EventsError::Validation(format!(
            "1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to {MAX_LIMIT}"
        ))),
    }
}

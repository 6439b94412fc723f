//! The bus operations: ListEventBuses and DescribeEventBus.

use super::{input, limit};
use crate::{EventBridge, EventsError, catalog::Bus};
use local_core::page::{Order, paginate};
use serde::Deserialize;
use serde_json::{Value, json};

fn bus_json(bus: &Bus) -> Value {
    let mut out = json!({"Name": bus.name, "Arn": bus.arn});
    if let Some(d) = &bus.description {
        out["Description"] = json!(d);
    }
    out
}

pub(super) struct ListEventBuses {
    prefix: Option<String>,
    limit: usize,
    next_token: Option<String>,
}

impl ListEventBuses {
    pub(super) fn parse(body: &[u8]) -> Result<Self, EventsError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Input {
            name_prefix: Option<String>,
            limit: Option<i64>,
            next_token: Option<String>,
        }
        let i: Input = input(body)?;
        Ok(Self { prefix: i.name_prefix, limit: limit(i.limit)?, next_token: i.next_token })
    }

    pub(super) fn apply(self, service: &EventBridge) -> Result<Value, EventsError> {
        let prefix = self.prefix.unwrap_or_default();
        let buses: Vec<&Bus> = service.catalog().buses().iter().filter(|b| b.name.starts_with(&prefix)).collect();
        let request = json!({"op": "ListEventBuses", "prefix": prefix});
        let page =
            paginate(buses, &request, |b| b.name.clone(), Order::Ascending, self.limit, self.next_token.as_deref())?;
        let mut out = json!({"EventBuses": page.items.iter().map(|b| bus_json(b)).collect::<Vec<_>>()});
        if let Some(token) = page.next_token {
            out["NextToken"] = json!(token);
        }
        Ok(out)
    }
}

pub(super) struct DescribeEventBus {
    name: Option<String>,
}

impl DescribeEventBus {
    pub(super) fn parse(body: &[u8]) -> Result<Self, EventsError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Input {
            name: Option<String>,
        }
        Ok(Self { name: input::<Input>(body)?.name })
    }

    pub(super) fn apply(self, service: &EventBridge) -> Result<Value, EventsError> {
        Ok(bus_json(service.bus_named(self.name.as_deref())?))
    }
}

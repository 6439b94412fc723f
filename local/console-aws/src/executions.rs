//! Executions through the Step Functions API: lists, one execution with its definition and history, stop and
//! redrive.
//!
//! Listing has two modes, and the page token says which one made it (`a.<AWS token>` or `o.<offset>`):
//! - **one machine, no name search**: `ListExecutions` itself, page by page, AWS's own token wrapped;
//! - **all machines, or a name search**: AWS can neither merge machines nor search names, so each machine's newest
//!   executions (at most [`SCAN_LIMIT`], fewer when the page asked for needs fewer) are fetched with the status
//!   filter applied by AWS, merged newest first, filtered by name here, and paged by offset. Older executions are
//!   reached by choosing a machine. Each page fetches again (no cache), so a page is never stale.
//!
//! Rows of a list carry no error and cause (`ListExecutions` has none; a `DescribeExecution` per row would cost a
//! request each); the execution's page has them.

use crate::discover::{Machine, arn_name};
use crate::error::{from_sdk, malformed};
use aws_sdk_sfn::Client;
use aws_sdk_sfn::primitives::DateTime;
use aws_sdk_sfn::types::{ExecutionListItem, ExecutionStatus};
use local_console::source::{ExecutionDetail, ExecutionPage, ExecutionQuery, ExecutionSummary, SourceError, Status};
use time::OffsetDateTime;

/// How many of each machine's newest executions the all-machines list and the name search look at.
pub const SCAN_LIMIT: usize = 1000;

/// A page token, parsed.
#[derive(Debug, Clone, PartialEq)]
enum Cursor {
    Aws(String),
    Offset(usize),
}

impl Cursor {
    fn parse(token: &str) -> Result<Self, SourceError> {
        let bad = || SourceError::Invalid(format!("not a page token of this console: {token:?}"));
        match token.split_once('.') {
            Some(("a", rest)) if !rest.is_empty() => Ok(Cursor::Aws(rest.to_owned())),
            Some(("o", n)) => n.parse().map(Cursor::Offset).map_err(|_| bad()),
            _ => Err(bad()),
        }
    }

    fn format(&self) -> String {
        match self {
            Cursor::Aws(t) => format!("a.{t}"),
            Cursor::Offset(n) => format!("o.{n}"),
        }
    }
}

pub(crate) async fn list(
    sfn: &Client,
    machines: &[Machine],
    query: ExecutionQuery,
) -> Result<ExecutionPage, SourceError> {
    let page_size = query.page_size.clamp(1, 1000);
    let cursor = query.next_token.as_deref().map(Cursor::parse).transpose()?;
    let needle = query.name_contains.as_deref().map(str::to_lowercase).filter(|s| !s.is_empty());
    if let (Some(machine), None) = (&query.machine_arn, &needle) {
        let token = match cursor {
            None => None,
            Some(Cursor::Aws(t)) => Some(t),
            Some(Cursor::Offset(_)) => return Err(SourceError::Invalid("page token of another list".into())),
        };
        let out = sfn
            .list_executions()
            .state_machine_arn(machine)
            .set_status_filter(query.status.map(status_filter))
            .max_results(i32::try_from(page_size).unwrap_or(1000))
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| from_sdk("states", e))?;
        let items = out.executions().iter().filter_map(|e| summary_of_item(e, machines)).collect();
        return Ok(ExecutionPage {
            items,
            next_token: out.next_token().map(|t| Cursor::Aws(t.to_owned()).format()),
            total: None,
        });
    }
    let offset = match cursor {
        None => 0,
        Some(Cursor::Offset(n)) => n,
        Some(Cursor::Aws(_)) => return Err(SourceError::Invalid("page token of another list".into())),
    };
    // Without a name search, the page needs only the newest offset + page_size (+1, to know there is more).
    let wanted = if needle.is_some() { SCAN_LIMIT } else { (offset + page_size + 1).min(SCAN_LIMIT) };
    let arns: Vec<String> = match &query.machine_arn {
        Some(arn) => vec![arn.clone()],
        None => machines.iter().map(|m| m.arn.clone()).collect(),
    };
    let lists = futures::future::try_join_all(arns.iter().map(|arn| newest(sfn, arn, query.status, wanted))).await?;
    let mut all: Vec<ExecutionSummary> = lists
        .into_iter()
        .flatten()
        .filter_map(|e| summary_of_item(&e, machines))
        .filter(|e| needle.as_ref().is_none_or(|n| e.name.to_lowercase().contains(n.as_str())))
        .collect();
    all.sort_by(|a, b| b.start_date.cmp(&a.start_date).then_with(|| b.arn.cmp(&a.arn)));
    let more = all.len() > offset + page_size;
    let items: Vec<_> = all.into_iter().skip(offset).take(page_size).collect();
    Ok(ExecutionPage { items, next_token: more.then(|| Cursor::Offset(offset + page_size).format()), total: None })
}

/// One machine's newest `wanted` executions, newest first, in as few requests as AWS allows.
async fn newest(
    sfn: &Client,
    machine: &str,
    status: Option<Status>,
    wanted: usize,
) -> Result<Vec<ExecutionListItem>, SourceError> {
    let mut out = Vec::new();
    let mut token = None;
    while out.len() < wanted {
        let page = sfn
            .list_executions()
            .state_machine_arn(machine)
            .set_status_filter(status.map(status_filter))
            .max_results(i32::try_from((wanted - out.len()).min(1000)).unwrap_or(1000))
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| from_sdk("states", e))?;
        out.extend(page.executions().iter().cloned());
        token = page.next_token().map(str::to_owned);
        if token.is_none() || page.executions().is_empty() {
            break;
        }
    }
    out.truncate(wanted);
    Ok(out)
}

pub(crate) async fn detail(sfn: &Client, machines: &[Machine], arn: &str) -> Result<ExecutionDetail, SourceError> {
    let described = sfn.describe_execution().execution_arn(arn).send().await.map_err(|e| from_sdk("states", e))?;
    let summary = summary_of_description(&described, machines)?;
    // The definition the execution ran (a later update of the machine must not redraw an old execution); an
    // endpoint without DescribeStateMachineForExecution falls back to the machine's current definition.
    let definition = match sfn.describe_state_machine_for_execution().execution_arn(arn).send().await {
        Ok(out) => out.definition().to_owned(),
        Err(e) => {
            tracing::debug!(error = %from_sdk("states", e), "DescribeStateMachineForExecution failed; using DescribeStateMachine");
            sfn.describe_state_machine()
                .state_machine_arn(described.state_machine_arn())
                .send()
                .await
                .map_err(|e| from_sdk("states", e))?
                .definition()
                .to_owned()
        }
    };
    let mut history = Vec::new();
    let mut pages = sfn
        .get_execution_history()
        .execution_arn(arn)
        .include_execution_data(true)
        .max_results(1000)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        history.extend(page.map_err(|e| from_sdk("states", e))?.events().iter().map(crate::history::event_json));
    }
    Ok(ExecutionDetail {
        summary,
        input: described.input().map(str::to_owned),
        output: described.output().map(str::to_owned),
        definition,
        history,
    })
}

pub(crate) async fn describe(sfn: &Client, machines: &[Machine], arn: &str) -> Result<ExecutionSummary, SourceError> {
    let described = sfn.describe_execution().execution_arn(arn).send().await.map_err(|e| from_sdk("states", e))?;
    summary_of_description(&described, machines)
}

/// StopExecution, refused for a closed execution as the port says (AWS itself would accept it silently).
pub(crate) async fn stop(
    sfn: &Client,
    machines: &[Machine],
    arn: &str,
    error: Option<String>,
    cause: Option<String>,
) -> Result<ExecutionSummary, SourceError> {
    let before = describe(sfn, machines, arn).await?;
    if before.status != Status::Running {
        return Err(SourceError::Invalid(format!("{} is {}, not running", before.name, before.status.as_str())));
    }
    sfn.stop_execution()
        .execution_arn(arn)
        .set_error(error)
        .set_cause(cause)
        .send()
        .await
        .map_err(|e| from_sdk("states", e))?;
    describe(sfn, machines, arn).await
}

pub(crate) async fn redrive(sfn: &Client, machines: &[Machine], arn: &str) -> Result<ExecutionSummary, SourceError> {
    let before = describe(sfn, machines, arn).await?;
    if !matches!(before.status, Status::Failed | Status::TimedOut | Status::Aborted) {
        return Err(SourceError::Invalid(format!(
            "{} is {}: only a failed, timed-out or aborted execution can be redriven",
            before.name,
            before.status.as_str()
        )));
    }
    sfn.redrive_execution().execution_arn(arn).send().await.map_err(|e| from_sdk("states", e))?;
    describe(sfn, machines, arn).await
}

fn status_filter(status: Status) -> ExecutionStatus {
    ExecutionStatus::from(status.as_str())
}

fn status_of(status: &ExecutionStatus) -> Option<Status> {
    Status::parse(status.as_str())
}

pub(crate) fn date(d: &DateTime) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(d.as_nanos()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn machine_name(machines: &[Machine], arn: &str) -> String {
    machines.iter().find(|m| m.arn == arn).map_or_else(|| arn_name(arn).to_owned(), |m| m.name.clone())
}

/// A list row; `None` for a status this console does not know (a row is skipped rather than failing the page).
fn summary_of_item(e: &ExecutionListItem, machines: &[Machine]) -> Option<ExecutionSummary> {
    Some(ExecutionSummary {
        arn: e.execution_arn().to_owned(),
        machine_name: machine_name(machines, e.state_machine_arn()),
        machine_arn: e.state_machine_arn().to_owned(),
        name: e.name().to_owned(),
        status: status_of(e.status())?,
        start_date: date(e.start_date()),
        stop_date: e.stop_date().map(date),
        error: None,
        cause: None,
        redrive_count: e.redrive_count().and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
    })
}

fn summary_of_description(
    d: &aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput,
    machines: &[Machine],
) -> Result<ExecutionSummary, SourceError> {
    Ok(ExecutionSummary {
        arn: d.execution_arn().to_owned(),
        machine_name: machine_name(machines, d.state_machine_arn()),
        machine_arn: d.state_machine_arn().to_owned(),
        name: d.name().map_or_else(|| arn_name(d.execution_arn()).to_owned(), str::to_owned),
        status: status_of(d.status()).ok_or_else(|| malformed(format!("execution status {}", d.status().as_str())))?,
        start_date: date(d.start_date()),
        stop_date: d.stop_date().map(date),
        error: d.error().map(str::to_owned),
        cause: d.cause().map(str::to_owned),
        redrive_count: d.redrive_count().and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_foreign_ones_are_refused() {
        for c in [Cursor::Aws("abc.def".into()), Cursor::Offset(40)] {
            assert_eq!(Cursor::parse(&c.format()), Ok(c));
        }
        for bad in ["", "x", "a.", "o.-1", "o.x", "z.1"] {
            assert!(matches!(Cursor::parse(bad), Err(SourceError::Invalid(_))), "{bad}");
        }
    }

    #[test]
    fn every_status_maps_to_the_apis_filter_and_back() {
        for s in Status::ALL {
            assert_eq!(status_of(&status_filter(s)), Some(s));
        }
    }
}

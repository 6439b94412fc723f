//! The cost page's measurements from CloudWatch, over the last [`WINDOW_DAYS`] days.
//!
//! - Per function, from `AWS/Lambda` (dimension `FunctionName`): `Invocations` and `Errors` (Sum), `Duration`
//!   (Average, and p50/p99 in a second request: an endpoint without extended statistics, such as moto, then only
//!   loses the percentiles, which stay 0). GB-seconds ≈ invocations × average duration (rounded up to the ms, as
//!   Lambda bills) × memory; the memory comes from the template (see `discover`), 0 when unknown.
//! - Business counts from the functions' EMF metrics: every metric `ListMetrics` finds in namespace `TaskPlatform`
//!   with the one dimension `service=task-platform` (`ColdStart`, `InvoicesStored`, `PhotosResized`, …), summed.
//!   `ColdStart` has no function dimension (one series per function would cost a custom metric each), so cold
//!   starts are a stack-wide count here and 0 per function.
//! - `metric_series`: how many metrics `ListMetrics` finds in the namespace, each a billed custom metric.
//! - State transitions are not a CloudWatch metric (`AWS/States` counts executions, not transitions): left empty.

use crate::discover::Function;
use crate::error::from_sdk;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use local_console::source::{FunctionUsage, Measurements, SourceError};
use std::time::{Duration, SystemTime};

pub const WINDOW_DAYS: u64 = 30;
/// The EMF namespace and dimension the functions write (`telemetry::metrics`).
pub const NAMESPACE: &str = "TaskPlatform";
pub const SERVICE_DIMENSION: (&str, &str) = ("service", "task-platform");
/// GetMetricData takes at most 500 queries a request.
const QUERIES_PER_REQUEST: usize = 500;

struct Query {
    namespace: &'static str,
    metric: String,
    dimension: (String, String),
    stat: &'static str,
}

pub(crate) async fn measure(cw: &Client, known: &[Function]) -> Result<Measurements, SourceError> {
    let end = SystemTime::now() + Duration::from_secs(60);
    let start = end - Duration::from_secs(WINDOW_DAYS * 86_400 + 60);
    let window = (start, end);
    let functions = if known.is_empty() { lambda_functions(cw).await? } else { known.to_vec() };

    let per_function = |stat: &'static str, metric: &str| -> Vec<Query> {
        functions
            .iter()
            .map(|f| Query {
                namespace: "AWS/Lambda",
                metric: metric.to_owned(),
                dimension: ("FunctionName".into(), f.name.clone()),
                stat,
            })
            .collect()
    };
    let invocations = fetch(cw, &per_function("Sum", "Invocations"), window).await?;
    let errors = fetch(cw, &per_function("Sum", "Errors"), window).await?;
    let averages = fetch(cw, &per_function("Average", "Duration"), window).await?;
    let percentiles = async {
        Ok::<_, SourceError>((
            fetch(cw, &per_function("p50", "Duration"), window).await?,
            fetch(cw, &per_function("p99", "Duration"), window).await?,
        ))
    }
    .await
    .unwrap_or_else(|e| {
        tracing::warn!(error = %e, "no duration percentiles from CloudWatch");
        (Vec::new(), Vec::new())
    });

    let usages = functions
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let values = |v: &Vec<Vec<f64>>| v.get(i).cloned().unwrap_or_default();
            usage(
                f,
                &Stats {
                    invocations: values(&invocations),
                    errors: values(&errors),
                    average_ms: values(&averages),
                    p50_ms: values(&percentiles.0),
                    p99_ms: values(&percentiles.1),
                },
            )
        })
        .collect();

    let (series, business) = business_metrics(cw).await?;
    let queries: Vec<Query> = business
        .iter()
        .map(|name| Query {
            namespace: NAMESPACE,
            metric: name.clone(),
            dimension: (SERVICE_DIMENSION.0.into(), SERVICE_DIMENSION.1.into()),
            stat: "Sum",
        })
        .collect();
    let sums = fetch(cw, &queries, window).await?;
    let counts = business.into_iter().zip(sums).map(|(name, v)| (name, v.iter().sum())).collect();

    Ok(Measurements {
        functions: usages,
        counts,
        state_transitions: Vec::new(),
        requests: Vec::new(),
        metric_series: series,
        since: Some(time::OffsetDateTime::from(start)),
    })
}

/// One function's datapoints over the window (one per period, usually one).
#[derive(Debug, Default)]
struct Stats {
    invocations: Vec<f64>,
    errors: Vec<f64>,
    average_ms: Vec<f64>,
    p50_ms: Vec<f64>,
    p99_ms: Vec<f64>,
}

fn usage(f: &Function, s: &Stats) -> FunctionUsage {
    let mean = |v: &[f64]| if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 };
    let invocations: f64 = s.invocations.iter().sum();
    FunctionUsage {
        function: f.logical_id.clone(),
        memory_mb: f.memory_mb,
        architecture: f.architecture.clone(),
        invocations: invocations.round() as u64,
        cold_starts: 0,
        errors: s.errors.iter().sum::<f64>().round() as u64,
        duration_p50_ms: mean(&s.p50_ms),
        duration_p99_ms: mean(&s.p99_ms),
        // Lambda bills each invocation's duration rounded up to the ms; the average rounded up approximates it.
        gb_seconds: invocations * mean(&s.average_ms).ceil() / 1000.0 * f64::from(f.memory_mb) / 1024.0,
    }
}

/// Without a stack: the functions that have `Invocations` metrics in the region (memory unknown).
async fn lambda_functions(cw: &Client) -> Result<Vec<Function>, SourceError> {
    let mut names = Vec::new();
    let mut pages = cw.list_metrics().namespace("AWS/Lambda").metric_name("Invocations").into_paginator().send();
    while let Some(page) = pages.next().await {
        for m in page.map_err(|e| from_sdk("cloudwatch", e))?.metrics() {
            if let [d] = m.dimensions()
                && d.name() == Some("FunctionName")
                && let Some(v) = d.value()
            {
                names.push(v.to_owned());
            }
        }
    }
    names.sort();
    names.dedup();
    Ok(names
        .into_iter()
        .map(|name| Function { logical_id: name.clone(), name, memory_mb: 0, architecture: "unknown".into() })
        .collect())
}

/// (every metric in the namespace, the names of those with exactly the service dimension).
async fn business_metrics(cw: &Client) -> Result<(u64, Vec<String>), SourceError> {
    let (mut series, mut names) = (0u64, Vec::new());
    let mut pages = cw.list_metrics().namespace(NAMESPACE).into_paginator().send();
    while let Some(page) = pages.next().await {
        for m in page.map_err(|e| from_sdk("cloudwatch", e))?.metrics() {
            series += 1;
            if let ([d], Some(name)) = (m.dimensions(), m.metric_name())
                && d.name() == Some(SERVICE_DIMENSION.0)
                && d.value() == Some(SERVICE_DIMENSION.1)
            {
                names.push(name.to_owned());
            }
        }
    }
    names.sort();
    names.dedup();
    Ok((series, names))
}

/// Each query's values over the window (one per period; the period is the whole window, so usually one).
async fn fetch(
    cw: &Client,
    queries: &[Query],
    (start, end): (SystemTime, SystemTime),
) -> Result<Vec<Vec<f64>>, SourceError> {
    let period = i32::try_from(WINDOW_DAYS * 86_400).unwrap_or(i32::MAX);
    let mut results = vec![Vec::new(); queries.len()];
    for (chunk_index, chunk) in queries.chunks(QUERIES_PER_REQUEST).enumerate() {
        let base = chunk_index * QUERIES_PER_REQUEST;
        let mut request = cw.get_metric_data().start_time(DateTime::from(start)).end_time(DateTime::from(end));
        for (i, q) in chunk.iter().enumerate() {
            let metric = Metric::builder()
                .namespace(q.namespace)
                .metric_name(&q.metric)
                .dimensions(Dimension::builder().name(&q.dimension.0).value(&q.dimension.1).build())
                .build();
            let stat = MetricStat::builder().metric(metric).period(period).stat(q.stat).build();
            request = request
                .metric_data_queries(MetricDataQuery::builder().id(format!("q{}", base + i)).metric_stat(stat).build());
        }
        let mut pages = request.into_paginator().send();
        while let Some(page) = pages.next().await {
            for r in page.map_err(|e| from_sdk("cloudwatch", e))?.metric_data_results() {
                let index = r.id().and_then(|id| id.strip_prefix('q')).and_then(|n| n.parse::<usize>().ok());
                if let Some(slot) = index.and_then(|i| results.get_mut(i)) {
                    slot.extend_from_slice(r.values());
                }
            }
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gb_seconds_are_invocations_times_the_billed_average_times_memory() {
        let f = Function {
            logical_id: "Resize".into(),
            name: "s-Resize".into(),
            memory_mb: 512,
            architecture: "arm64".into(),
        };
        let stats = Stats {
            invocations: vec![1000.0, 1000.0],
            errors: vec![3.0],
            average_ms: vec![99.2],
            p50_ms: vec![80.0],
            p99_ms: vec![400.0],
        };
        let u = usage(&f, &stats);
        assert_eq!((u.function.as_str(), u.invocations, u.errors, u.memory_mb), ("Resize", 2000, 3, 512));
        assert!((u.gb_seconds - 2000.0 * 0.1 * 0.5).abs() < 1e-9, "{u:?}");
        assert_eq!((u.duration_p50_ms, u.duration_p99_ms), (80.0, 400.0));
        let unknown = Function { memory_mb: 0, ..f };
        assert_eq!(usage(&unknown, &stats).gb_seconds, 0.0, "unknown memory gives no GB-seconds, not a guess");
        assert_eq!(usage(&unknown, &Stats::default()).invocations, 0);
    }
}

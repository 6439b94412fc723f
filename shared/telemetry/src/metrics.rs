//! Business and invocation metrics as CloudWatch Embedded Metric Format (EMF): one JSON line per invocation,
//! which CloudWatch Logs turns into metrics when it finds it on a raw log line (no `PutMetricData` call, no
//! latency), and which the local stack reads back for its cost page (`local_console::cost`).
//!
//! A handler calls [`count`] where an outcome is decided (`metrics::count("InvoicesStored", 1.0)`); the hosting
//! code runs each invocation inside an [`Invocation::scope`] and writes [`Invocation::emf_line`] when it ends.
//! Outside a scope (unit tests of a handler) a count is a no-op.
//!
//! The line is what Powertools for AWS Lambda writes:
//! `{"_aws": {"Timestamp": <ms>, "CloudWatchMetrics": [{"Namespace": "TaskPlatform", "Dimensions": [["service"]],
//! "Metrics": [{"Name": "ColdStart", "Unit": "Count"}, …]}]}, "service": "task-platform", "ColdStart": 1,
//! "function_name": …, "function_memory_size": …, "durationMs": …}`.
//!
//! Cost decides the shape. Every distinct (namespace, metric name, dimension values) is a CloudWatch custom
//! metric at $0.30 a month, so there is ONE dimension set, `[["service"]]`, with one value: the function's name is
//! a property (searchable in Logs Insights, free), not a dimension (which would multiply every metric by the 24
//! functions). `ColdStart` is a metric emitted as 1 only on a cold start, as Powertools does, and each business
//! count is a metric; the invocation's duration is the property `durationMs`, not a metric: Lambda already
//! publishes `Duration` per function in `AWS/Lambda` for free, and a custom one would cost $0.30 per function.
//! The local stack reads the duration from the same lines.
//!
//! Written by hand (≈150 lines) rather than with `metrics_cloudwatch_embedded`: that crate is a global recorder
//! for the `metrics` facade, flushed per invocation. The local stack runs every function in one process, many
//! invocations at once, so a process-wide recorder would mix their counts; a task-local scope per invocation does
//! not. It also brings the `metrics` facade and its own Lambda service wrapper for what is one `serde_json` line.
//!
//! Counts made in a task the handler spawns (`tokio::spawn`, `spawn_blocking`) are outside the scope: count in
//! the handler's own task, where the outcome is known.

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The metrics' namespace.
pub const NAMESPACE: &str = "TaskPlatform";
/// The one dimension (see the module doc for why only one).
pub const SERVICE_DIMENSION: &str = "service";
/// The `service` dimension's one value.
pub const SERVICE: &str = "task-platform";
/// The metric emitted as 1 on a cold start.
pub const COLD_START: &str = "ColdStart";
/// EMF: a metric name is 1 to 255 characters.
pub const MAX_NAME_LEN: usize = 255;
/// EMF: at most 100 metrics per directive.
pub const MAX_METRICS: usize = 100;

/// Properties of every line (top-level members that are not metrics).
pub const FUNCTION_NAME: &str = "function_name";
pub const FUNCTION_MEMORY_SIZE: &str = "function_memory_size";
pub const DURATION_MS: &str = "durationMs";
/// The error type of a failed invocation (absent when it succeeded).
pub const ERROR: &str = "error";

/// Names a count may not take: the line's own members.
const RESERVED: &[&str] = &["_aws", SERVICE_DIMENSION, FUNCTION_NAME, FUNCTION_MEMORY_SIZE, DURATION_MS, ERROR];

type Counts = Arc<Mutex<BTreeMap<String, f64>>>;

tokio::task_local! {
    static CURRENT: Counts;
}

/// Adds `value` to the metric `name` of the current invocation (Unit `Count`). A no-op outside an
/// [`Invocation::scope`], for a name EMF refuses (empty, longer than [`MAX_NAME_LEN`], a control character, a
/// member of the line itself), and for a value that is not finite.
pub fn count(name: &str, value: f64) {
    if !value.is_finite() || !valid_name(name) {
        return;
    }
    let _ = CURRENT.try_with(|counts| {
        // A poisoned lock means a panic while adding: the invocation failed anyway; its counts may be off.
        let mut counts = counts.lock().unwrap_or_else(|p| p.into_inner());
        if counts.contains_key(name) || counts.len() < MAX_METRICS - 1 {
            let sum = counts.entry(name.to_owned()).or_insert(0.0);
            if (*sum + value).is_finite() {
                *sum += value;
            }
        }
    });
}

/// Whether EMF takes `name` as a metric name of ours.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && !name.chars().any(char::is_control)
        && name != COLD_START
        && !RESERVED.contains(&name)
}

/// One invocation's metrics: made before the handler runs, its scope around the handler, its line after.
#[derive(Debug, Clone)]
pub struct Invocation {
    function_name: String,
    memory_mb: u64,
    cold: bool,
    counts: Counts,
}

impl Invocation {
    /// `cold`: the first invocation of this function's process (on AWS) or of this function in the stack (locally).
    pub fn new(function_name: impl Into<String>, memory_mb: u64, cold: bool) -> Self {
        Self { function_name: function_name.into(), memory_mb, cold, counts: Counts::default() }
    }

    /// Runs `fut` with this invocation as the one [`count`] adds to. The future owns what it needs (it can be
    /// spawned); the counts stay readable here.
    pub fn scope<F: Future>(&self, fut: F) -> impl Future<Output = F::Output> + use<F> {
        CURRENT.scope(self.counts.clone(), fut)
    }

    /// The counts so far, by name.
    pub fn counts(&self) -> Vec<(String, f64)> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    /// The EMF line (one JSON object, no newline) for the invocation that took `duration` and failed with
    /// `error` (its error type) or succeeded.
    pub fn emf_line(&self, duration: Duration, error: Option<&str>) -> String {
        let mut root = Map::new();
        let mut definitions = Vec::new();
        root.insert(SERVICE_DIMENSION.into(), SERVICE.into());
        if self.cold {
            definitions.push(json!({"Name": COLD_START, "Unit": "Count"}));
            root.insert(COLD_START.into(), json!(1));
        }
        for (name, value) in self.counts() {
            definitions.push(json!({"Name": name, "Unit": "Count"}));
            root.insert(name, json!(value));
        }
        root.insert(FUNCTION_NAME.into(), self.function_name.clone().into());
        root.insert(FUNCTION_MEMORY_SIZE.into(), self.memory_mb.into());
        // Microseconds are enough, and keep the line short.
        let ms = (duration.as_secs_f64() * 1_000_000.0).round() / 1000.0;
        root.insert(DURATION_MS.into(), json!(ms));
        if let Some(error) = error {
            root.insert(ERROR.into(), error.into());
        }
        let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
        root.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [[SERVICE_DIMENSION]],
                    "Metrics": definitions,
                }],
            }),
        );
        Value::Object(root).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Value {
        assert!(!line.contains('\n'), "one line: {line}");
        serde_json::from_str(line).unwrap()
    }

    /// What CloudWatch checks of a line: the directive's shape, and every metric and dimension it names present at
    /// the top level with the right type.
    fn assert_valid_emf(v: &Value) {
        let aws = &v["_aws"];
        assert!(aws["Timestamp"].as_u64().unwrap() > 1_600_000_000_000, "ms since the epoch");
        let directives = aws["CloudWatchMetrics"].as_array().unwrap();
        assert_eq!(directives.len(), 1);
        let d = &directives[0];
        assert_eq!(d["Namespace"], NAMESPACE);
        assert_eq!(d["Dimensions"], json!([["service"]]));
        assert_eq!(v["service"], SERVICE, "a dimension is a top-level string");
        let metrics = d["Metrics"].as_array().unwrap();
        assert!(metrics.len() <= MAX_METRICS);
        for m in metrics {
            let name = m["Name"].as_str().unwrap();
            assert!(!name.is_empty() && name.len() <= MAX_NAME_LEN);
            assert_eq!(m["Unit"], "Count");
            assert!(v[name].as_f64().is_some_and(f64::is_finite), "{name} is a number at the top: {v}");
        }
    }

    #[tokio::test]
    async fn a_line_is_valid_emf_with_the_counts_of_its_own_invocation() {
        let invocation = Invocation::new("StoreInvoiceFunction", 256, true);
        let other = Invocation::new("ResizePhotoFunction", 1024, false);
        invocation
            .scope(async {
                count("InvoicesStored", 1.0);
                other.scope(async { count("PhotosResized", 1.0) }).await;
                count("InvoicesStored", 2.0);
            })
            .await;
        let v = parse(&invocation.emf_line(Duration::from_micros(12_345), None));
        assert_valid_emf(&v);
        assert_eq!(v["ColdStart"], 1.0);
        assert_eq!(v["InvoicesStored"], 3.0);
        assert!(v.get("PhotosResized").is_none(), "the inner scope's count is its own: {v}");
        assert_eq!(
            (v["function_name"].as_str(), v["function_memory_size"].as_u64()),
            (Some("StoreInvoiceFunction"), Some(256))
        );
        assert_eq!(v["durationMs"], 12.345);
        assert!(v.get("error").is_none());

        let w = parse(&other.emf_line(Duration::from_millis(3), Some("Retryable")));
        assert_valid_emf(&w);
        assert!(w.get("ColdStart").is_none(), "ColdStart only on a cold start: {w}");
        assert_eq!((w["PhotosResized"].as_f64(), w["error"].as_str()), (Some(1.0), Some("Retryable")));
    }

    #[test]
    fn counts_outside_a_scope_are_no_ops() {
        count("InvoicesStored", 1.0);
        let invocation = Invocation::new("F", 128, false);
        assert!(invocation.counts().is_empty());
        let v = parse(&invocation.emf_line(Duration::ZERO, None));
        assert_valid_emf(&v);
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Metrics"], json!([]));
    }

    #[tokio::test]
    async fn names_emf_refuses_and_values_that_are_not_finite_are_dropped() {
        let invocation = Invocation::new("F", 128, false);
        invocation
            .scope(async {
                for bad in ["", "_aws", "service", "durationMs", "ColdStart", "a\nb", &"x".repeat(256)] {
                    count(bad, 1.0);
                }
                count("Nan", f64::NAN);
                count("Inf", f64::INFINITY);
                count(&"x".repeat(255), 1.0);
                for i in 0..150 {
                    count(&format!("M{i}"), 1.0);
                }
            })
            .await;
        let v = parse(&invocation.emf_line(Duration::ZERO, None));
        assert_valid_emf(&v);
        let names: Vec<&str> = v["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["Name"].as_str())
            .collect();
        assert_eq!(names.len(), MAX_METRICS - 1, "room is kept for ColdStart");
        assert!(names.contains(&"x".repeat(255).as_str()));
        assert!(!names.iter().any(|n| ["", "Nan", "Inf", "_aws", "service"].contains(n)));
        assert_eq!(v["service"], SERVICE);
    }

    #[tokio::test]
    async fn a_cold_line_with_a_hundred_metrics_stays_within_the_limit() {
        let invocation = Invocation::new("F", 128, true);
        invocation.scope(async { (0..200).for_each(|i| count(&format!("M{i}"), 1.0)) }).await;
        let v = parse(&invocation.emf_line(Duration::ZERO, None));
        assert_valid_emf(&v);
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().unwrap().len(), MAX_METRICS);
    }
}

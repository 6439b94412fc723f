//! What the system costs: the functions' EMF lines (`telemetry::metrics`) aggregated into [`Measurements`], and a
//! monthly estimate at AWS's prices for a volume the operator types ([`estimate`]). Nothing here knows where the
//! lines come from: the local stack reads them from its file (`local::measure`), a deployed stack could read them
//! from CloudWatch Logs.
//!
//! The estimate is per unit of work, measured: each function belongs to a pipeline ([`pipeline_of`]); a pipeline's
//! invocations and GB-seconds are divided by the units it processed (invoices = executions of the invoice state
//! machine; photos = `PhotosResized` + `PhotosRejected`; API requests = invocations of the API's functions) and
//! multiplied by the volume. Request units of DynamoDB and S3, which the stack does not count per action, are
//! assumptions read from the code paths, and every line says which it is in its `basis`. A pipeline with nothing
//! measured yet gives a line at $0 that says so, never a NaN.
//!
//! Free tiers are left out: the estimate is what the volume costs on its own.

use crate::source::{FunctionUsage, Measurements};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;

// ------------------------------------------------------------------------------------------------ EMF lines

/// The members `telemetry::metrics` writes (kept in step with it by `local`'s tests, which read its lines here).
const COLD_START: &str = "ColdStart";
const FUNCTION_NAME: &str = "function_name";
const FUNCTION_MEMORY_SIZE: &str = "function_memory_size";
const DURATION_MS: &str = "durationMs";
const ERROR: &str = "error";

/// A CloudWatch metric an EMF line defines: each distinct one is a billed custom metric.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MetricSeries {
    pub namespace: String,
    pub metric: String,
    /// (dimension name, value) of one dimension set.
    pub dimensions: Vec<(String, String)>,
}

/// One invocation's EMF line, read back.
#[derive(Debug, Clone, PartialEq)]
pub struct EmfRecord {
    /// `function_name`: the template's logical id locally, the deployed function's name on AWS.
    pub function: String,
    pub memory_mb: u32,
    pub duration_ms: f64,
    pub cold_start: bool,
    /// The error type of a failed invocation.
    pub error: Option<String>,
    /// The metrics other than `ColdStart`, with their values.
    pub counts: Vec<(String, f64)>,
    pub series: Vec<MetricSeries>,
    pub timestamp: Option<OffsetDateTime>,
}

/// Reads one line; `None` for a line that is not an EMF document of an invocation (a log line, a torn write).
pub fn parse_emf(line: &str) -> Option<EmfRecord> {
    let v: Value = serde_json::from_str(line.trim()).ok()?;
    let aws = v.get("_aws")?;
    let directives = aws.get("CloudWatchMetrics")?.as_array()?;
    let mut record = EmfRecord {
        function: v.get(FUNCTION_NAME)?.as_str()?.to_owned(),
        memory_mb: v.get(FUNCTION_MEMORY_SIZE).and_then(Value::as_u64).map_or(0, |m| m.min(u32::MAX as u64) as u32),
        duration_ms: v.get(DURATION_MS).and_then(Value::as_f64).filter(|d| d.is_finite() && *d >= 0.0).unwrap_or(0.0),
        cold_start: false,
        error: v.get(ERROR).and_then(Value::as_str).map(str::to_owned),
        counts: Vec::new(),
        series: Vec::new(),
        timestamp: aws
            .get("Timestamp")
            .and_then(Value::as_i64)
            .and_then(|ms| OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()),
    };
    for directive in directives {
        let namespace = directive.get("Namespace").and_then(Value::as_str).unwrap_or_default();
        let sets: Vec<Vec<(String, String)>> = directive
            .get("Dimensions")
            .and_then(Value::as_array)
            .map(|sets| {
                sets.iter()
                    .filter_map(Value::as_array)
                    .map(|set| {
                        set.iter()
                            .filter_map(Value::as_str)
                            .map(|d| (d.to_owned(), v.get(d).and_then(Value::as_str).unwrap_or_default().to_owned()))
                            .collect()
                    })
                    .collect()
            })
            .unwrap_or_default();
        for definition in directive.get("Metrics").and_then(Value::as_array).into_iter().flatten() {
            let Some(name) = definition.get("Name").and_then(Value::as_str) else { continue };
            let Some(value) = v.get(name).and_then(Value::as_f64).filter(|x| x.is_finite()) else { continue };
            if name == COLD_START {
                record.cold_start = value > 0.0;
            } else {
                record.counts.push((name.to_owned(), value));
            }
            // A directive without dimension sets still makes one metric, without dimensions.
            let sets = if sets.is_empty() { vec![Vec::new()] } else { sets.clone() };
            for dimensions in sets {
                record.series.push(MetricSeries {
                    namespace: namespace.to_owned(),
                    metric: name.to_owned(),
                    dimensions,
                });
            }
        }
    }
    Some(record)
}

/// What a function is, for its row: the caller knows it from the template (`function` is the EMF name).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunctionInfo {
    /// The template's logical id.
    pub logical_id: String,
    pub architecture: String,
    /// The memory the template gives it, when the lines do not say (0: unknown).
    pub memory_mb: u32,
}

#[derive(Debug, Clone, Default)]
struct FunctionAggregate {
    memory_mb: u32,
    invocations: u64,
    cold_starts: u64,
    errors: u64,
    durations_ms: Vec<f64>,
    gb_seconds: f64,
}

/// EMF records summed as they are read: feed it lines (only the new ones, when a file grows), ask it for
/// [`Measurements`] when the page wants them. Durations are kept (8 bytes an invocation) for the percentiles.
#[derive(Debug, Clone, Default)]
pub struct Aggregate {
    functions: BTreeMap<String, FunctionAggregate>,
    counts: BTreeMap<String, f64>,
    series: BTreeSet<MetricSeries>,
    since: Option<OffsetDateTime>,
    lines: u64,
}

impl Aggregate {
    /// Adds one line; whether it was an EMF line of an invocation.
    pub fn add_line(&mut self, line: &str) -> bool {
        match parse_emf(line) {
            Some(record) => {
                self.add(record);
                true
            }
            None => false,
        }
    }

    pub fn add(&mut self, r: EmfRecord) {
        self.lines += 1;
        if let Some(t) = r.timestamp {
            self.since = Some(self.since.map_or(t, |s| s.min(t)));
        }
        let f = self.functions.entry(r.function).or_default();
        f.memory_mb = r.memory_mb;
        f.invocations += 1;
        f.cold_starts += u64::from(r.cold_start);
        f.errors += u64::from(r.error.is_some());
        f.durations_ms.push(r.duration_ms);
        f.gb_seconds += gb_seconds(r.duration_ms, r.memory_mb);
        for (name, value) in r.counts {
            *self.counts.entry(name).or_default() += value;
        }
        self.series.extend(r.series);
    }

    /// How many invocation lines were added.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// The measurements, each function described by `describe(function name)` (its logical id, architecture, and
    /// memory when the lines carry none); `state_transitions` and `requests` are the caller's to fill.
    pub fn measurements(&self, describe: impl Fn(&str) -> FunctionInfo) -> Measurements {
        let functions = self
            .functions
            .iter()
            .map(|(name, f)| {
                let info = describe(name);
                let memory_mb = if f.memory_mb > 0 { f.memory_mb } else { info.memory_mb };
                let mut sorted = f.durations_ms.clone();
                sorted.sort_by(f64::total_cmp);
                FunctionUsage {
                    function: if info.logical_id.is_empty() { name.clone() } else { info.logical_id },
                    memory_mb,
                    architecture: info.architecture,
                    invocations: f.invocations,
                    cold_starts: f.cold_starts,
                    errors: f.errors,
                    duration_p50_ms: percentile(&sorted, 50.0),
                    duration_p99_ms: percentile(&sorted, 99.0),
                    gb_seconds: if f.memory_mb > 0 {
                        f.gb_seconds
                    } else {
                        sorted.iter().map(|d| gb_seconds(*d, memory_mb)).sum()
                    },
                }
            })
            .collect();
        Measurements {
            functions,
            counts: self.counts.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            state_transitions: Vec::new(),
            requests: Vec::new(),
            metric_series: self.series.len() as u64,
            since: self.since,
        }
    }
}

/// Lambda's billed GB-seconds of one invocation: the duration rounded up to the millisecond, × memory in GB.
pub fn gb_seconds(duration_ms: f64, memory_mb: u32) -> f64 {
    let billed_ms = duration_ms.ceil().max(1.0);
    billed_ms / 1000.0 * f64::from(memory_mb) / 1024.0
}

/// The nearest-rank percentile of sorted values (0 for none).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

// ------------------------------------------------------------------------------------------------ pipelines

pub const INVOICES: &str = "invoices";
pub const PHOTOS: &str = "photos";
/// The HTTP API's other functions (tasks, profiles, invoice lists): one invocation per request.
pub const API: &str = "api";
/// What task writes set off (the stream, the bus's targets, the reminder machine): scaled per API request.
pub const TASK_EVENTS: &str = "task-events";

/// The pipeline a function's work is counted in, by its logical id: the invoice state machine's steps,
/// `StartInvoiceFunction` and the upload URL are per invoice (`ListInvoices`/`GetInvoice` are API requests); the
/// photo functions per photo; the stream and bus functions per API request (task events); the rest are the API.
pub fn pipeline_of(logical_id: &str) -> &'static str {
    let id = logical_id;
    if id.starts_with("ListInvoice") || id.starts_with("GetInvoice") {
        API
    } else if id.contains("Invoice") {
        INVOICES
    } else if id.contains("Photo") {
        PHOTOS
    } else if ["PublishTaskEvents", "RecordTaskActivity", "NotifyTaskDone", "CheckTask"]
        .iter()
        .any(|p| id.starts_with(p))
    {
        TASK_EVENTS
    } else {
        API
    }
}

// ------------------------------------------------------------------------------------------------ prices

/// AWS's published on-demand prices, us-east-1, in USD, first tier, free tiers not applied. Sources: the AWS
/// pricing pages (aws.amazon.com/lambda/pricing, /step-functions/pricing, /dynamodb/pricing/on-demand, /s3/pricing,
/// /ses/pricing, /eventbridge/pricing, /sqs/pricing, /api-gateway/pricing, /cloudwatch/pricing). Lambda's three
/// prices were checked on [`Prices::DATE_CHECKED`] against stored pages quoting aws.amazon.com/lambda/pricing (no
/// web access from here); the others are the figures of the console's design brief, not re-checked.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Prices {
    pub lambda_gb_second_arm64: f64,
    pub lambda_gb_second_x86_64: f64,
    pub lambda_request: f64,
    pub sfn_state_transition: f64,
    pub dynamodb_write_request_unit: f64,
    pub dynamodb_read_request_unit: f64,
    pub s3_put_request: f64,
    pub s3_get_request: f64,
    pub ses_email: f64,
    pub eventbridge_custom_event: f64,
    pub sqs_request: f64,
    pub http_api_request: f64,
    pub logs_ingestion_gb: f64,
    pub custom_metric_month: f64,
}

impl Prices {
    /// When the prices were last compared with their sources.
    pub const DATE_CHECKED: &str = "2026-11-30";
    /// Lambda, arm64: $0.0000133334 per GB-second.
    pub const LAMBDA_GB_SECOND_ARM64: f64 = 0.000_013_333_4;
    /// Lambda, x86_64: $0.0000166667 per GB-second.
    pub const LAMBDA_GB_SECOND_X86_64: f64 = 0.000_016_666_7;
    /// Lambda: $0.20 per million requests.
    pub const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
    /// Step Functions Standard: $0.025 per 1,000 state transitions.
    pub const SFN_STATE_TRANSITION: f64 = 0.025 / 1e3;
    /// DynamoDB on-demand: $0.625 per million write request units.
    pub const DYNAMODB_WRU: f64 = 0.625 / 1e6;
    /// DynamoDB on-demand: $0.125 per million read request units.
    pub const DYNAMODB_RRU: f64 = 0.125 / 1e6;
    /// S3 Standard: $0.005 per 1,000 PUT/COPY/POST/LIST requests.
    pub const S3_PUT: f64 = 0.005 / 1e3;
    /// S3 Standard: $0.0004 per 1,000 GET requests.
    pub const S3_GET: f64 = 0.0004 / 1e3;
    /// SES: $0.10 per 1,000 emails.
    pub const SES_EMAIL: f64 = 0.10 / 1e3;
    /// EventBridge: $1.00 per million custom events put.
    pub const EVENTBRIDGE_EVENT: f64 = 1.0 / 1e6;
    /// SQS standard: $0.40 per million requests.
    pub const SQS_REQUEST: f64 = 0.40 / 1e6;
    /// API Gateway HTTP API: $1.00 per million requests.
    pub const HTTP_API_REQUEST: f64 = 1.0 / 1e6;
    /// CloudWatch Logs: $0.50 per GB ingested.
    pub const LOGS_INGESTION_GB: f64 = 0.50;
    /// CloudWatch: $0.30 per custom metric per month.
    pub const CUSTOM_METRIC_MONTH: f64 = 0.30;

    pub const US_EAST_1: Prices = Prices {
        lambda_gb_second_arm64: Self::LAMBDA_GB_SECOND_ARM64,
        lambda_gb_second_x86_64: Self::LAMBDA_GB_SECOND_X86_64,
        lambda_request: Self::LAMBDA_REQUEST,
        sfn_state_transition: Self::SFN_STATE_TRANSITION,
        dynamodb_write_request_unit: Self::DYNAMODB_WRU,
        dynamodb_read_request_unit: Self::DYNAMODB_RRU,
        s3_put_request: Self::S3_PUT,
        s3_get_request: Self::S3_GET,
        ses_email: Self::SES_EMAIL,
        eventbridge_custom_event: Self::EVENTBRIDGE_EVENT,
        sqs_request: Self::SQS_REQUEST,
        http_api_request: Self::HTTP_API_REQUEST,
        logs_ingestion_gb: Self::LOGS_INGESTION_GB,
        custom_metric_month: Self::CUSTOM_METRIC_MONTH,
    };

    fn gb_second(&self, architecture: &str) -> f64 {
        if architecture == "x86_64" { self.lambda_gb_second_x86_64 } else { self.lambda_gb_second_arm64 }
    }
}

impl Default for Prices {
    fn default() -> Self {
        Self::US_EAST_1
    }
}

// ------------------------------------------------------------------------------------------------ estimate

/// The work a month brings, as the operator types it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Volume {
    pub invoices_per_month: u64,
    pub photos_per_month: u64,
    /// Requests to the HTTP API other than the upload URLs (tasks, profiles, invoice lists).
    pub api_requests_per_month: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostLine {
    pub service: String,
    pub item: String,
    /// Per month.
    pub quantity: f64,
    pub unit: String,
    /// USD per unit.
    pub unit_price: f64,
    pub monthly_usd: f64,
    /// Where the quantity comes from: "measured: …", "assumed: …", or "no measurements yet".
    pub basis: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    pub lines: Vec<CostLine>,
    pub total_usd: f64,
}

pub const NO_MEASUREMENTS: &str = "no measurements yet";

/// Assumed request units per unit of work, from the code paths (the local stack does not count them per action).
/// DynamoDB, per invoice: `validate-invoice` reads the number claim (1 RRU), `store-invoice` is one
/// TransactWriteItems of 2 items (4 WRU: a transactional write costs 2 per item), `email-invoice` reads the profile
/// (1 RRU) and claims then completes its idempotency record (2 WRU).
const INVOICE_WRU: f64 = 6.0;
const INVOICE_RRU: f64 = 2.0;
/// Per photo: `resize-photo` reads and updates the photo state (1 RRU, 1 WRU), `record-photo` updates it (1 WRU),
/// `notify-photo-processed` reads the profile (1 RRU) and claims then completes its record (2 WRU).
const PHOTO_WRU: f64 = 4.0;
const PHOTO_RRU: f64 = 2.0;
/// Per API request: one item of ≤ 1 KB written or one strongly consistent read (counted as both, an upper bound).
const API_WRU: f64 = 1.0;
const API_RRU: f64 = 1.0;
/// S3, per invoice: the upload (PUT), read by `parse-invoice` and again by `email-invoice` to attach it (2 GET).
const INVOICE_S3_PUT: f64 = 1.0;
const INVOICE_S3_GET: f64 = 2.0;
/// Per photo: the upload and its three renditions (4 PUT), the upload read by `resize-photo` (1 GET).
const PHOTO_S3_PUT: f64 = 4.0;
const PHOTO_S3_GET: f64 = 1.0;
/// Log volume per invocation: the EMF line (~300 bytes), Lambda's START/END/REPORT (~300) and a few JSON lines.
const LOG_BYTES_PER_INVOCATION: f64 = 1024.0;

/// What was measured of one pipeline.
#[derive(Debug, Default)]
struct Pipeline {
    invocations: u64,
    /// By architecture.
    gb_seconds: BTreeMap<String, f64>,
}

/// The monthly cost of `v` at `p`, scaled from `m` (see the module doc).
pub fn estimate(m: &Measurements, v: &Volume, p: &Prices) -> Estimate {
    let count = |name: &str| m.counts.iter().filter(|(n, _)| n == name).map(|(_, x)| *x).sum::<f64>() + 0.0; // -0.0 for none: 0
    let invocations_of = |prefix: &str| {
        m.functions.iter().filter(|f| f.function.starts_with(prefix)).map(|f| f.invocations).sum::<u64>()
    };

    let mut pipelines: BTreeMap<&str, Pipeline> = BTreeMap::new();
    for f in &m.functions {
        let pipeline = pipelines.entry(pipeline_of(&f.function)).or_default();
        pipeline.invocations += f.invocations;
        let arch = if f.architecture.is_empty() { "arm64" } else { f.architecture.as_str() };
        *pipeline.gb_seconds.entry(arch.to_owned()).or_default() += f.gb_seconds;
    }

    // Units of work measured, and the volume each pipeline is scaled to.
    let invoice_machine: Vec<&(String, u64, u64)> =
        m.state_transitions.iter().filter(|(name, _, _)| name.contains("Invoice")).collect();
    let invoice_executions: u64 = invoice_machine.iter().map(|(_, _, e)| *e).sum();
    let (invoices, invoice_unit) = if invoice_executions > 0 {
        (invoice_executions as f64, "executions of the invoice state machine")
    } else {
        (count("InvoicesStored") + count("InvoicesRejected"), "invoices stored or rejected")
    };
    let resized = count("PhotosResized") + count("PhotosRejected");
    let (photos, photo_unit) = if resized > 0.0 {
        (resized, "photos resized or rejected")
    } else {
        (invocations_of("ResizePhoto") as f64, "ResizePhoto invocations")
    };
    let api_requests = pipelines.get(API).map_or(0, |x| x.invocations) as f64;
    let units = |pipeline: &str| -> (f64, &str, &str, f64) {
        match pipeline {
            INVOICES => (invoices, "invoice", invoice_unit, v.invoices_per_month as f64),
            PHOTOS => (photos, "photo", photo_unit, v.photos_per_month as f64),
            _ => (api_requests, "API request", "API requests", v.api_requests_per_month as f64),
        }
    };

    let mut lines = Vec::new();
    let mut lambda_requests_month = 0.0;

    // Lambda, per pipeline: requests and compute.
    for (name, pipeline) in &pipelines {
        let (measured, per, unit_name, volume) = units(name);
        let requests = scaled(pipeline.invocations as f64, measured, volume);
        lambda_requests_month += requests.unwrap_or(0.0);
        lines.push(line("Lambda", &format!("requests ({name})"), requests, "requests", p.lambda_request, || {
            format!(
                "measured: {} invocations per {per} over {} {unit_name}",
                per_unit(pipeline.invocations as f64, measured),
                fmt(measured)
            )
        }));
        for (arch, gb_s) in &pipeline.gb_seconds {
            lines.push(line(
                "Lambda",
                &format!("compute {arch} ({name})"),
                scaled(*gb_s, measured, volume),
                "GB-seconds",
                p.gb_second(arch),
                || format!("measured: {} GB-s per {per} over {} {unit_name}", per_unit(*gb_s, measured), fmt(measured)),
            ));
        }
    }
    for pipeline in [INVOICES, PHOTOS, API] {
        if !pipelines.contains_key(pipeline) {
            let (_, _, _, volume) = units(pipeline);
            lines.push(line(
                "Lambda",
                &format!("requests ({pipeline})"),
                scaled(0.0, 0.0, volume),
                "requests",
                p.lambda_request,
                String::new,
            ));
        }
    }

    // Step Functions: each machine's transitions per execution; the invoice machine per invoice, any other per
    // API request (the reminders are started by task writes).
    if invoice_machine.is_empty() {
        let volume = v.invoices_per_month as f64;
        lines.push(line(
            "Step Functions",
            "state transitions (invoices)",
            scaled(0.0, 0.0, volume),
            "transitions",
            p.sfn_state_transition,
            String::new,
        ));
    }
    for (machine, transitions, executions) in &m.state_transitions {
        let (measured, per, unit_name, volume) = if machine.contains("Invoice") {
            (*executions as f64, "invoice", "executions", v.invoices_per_month as f64)
        } else {
            (api_requests, "API request", "API requests", v.api_requests_per_month as f64)
        };
        lines.push(line(
            "Step Functions",
            &format!("state transitions ({machine})"),
            scaled(*transitions as f64, measured, volume),
            "transitions",
            p.sfn_state_transition,
            || {
                format!(
                    "measured: {} transitions per {per} over {} {unit_name}",
                    per_unit(*transitions as f64, measured),
                    fmt(measured)
                )
            },
        ));
    }

    // DynamoDB and S3: assumed per unit from the code paths.
    let (vi, vp, va) = (v.invoices_per_month as f64, v.photos_per_month as f64, v.api_requests_per_month as f64);
    lines.push(assumed(
        "DynamoDB",
        "write request units",
        vi * INVOICE_WRU + vp * PHOTO_WRU + va * API_WRU,
        "WRU",
        p.dynamodb_write_request_unit,
        format!(
            "assumed: {INVOICE_WRU} per invoice (TransactWriteItems of 2 items = 4, mail claim 2), \
             {PHOTO_WRU} per photo, {API_WRU} per API request"
        ),
    ));
    lines.push(assumed(
        "DynamoDB",
        "read request units",
        vi * INVOICE_RRU + vp * PHOTO_RRU + va * API_RRU,
        "RRU",
        p.dynamodb_read_request_unit,
        format!(
            "assumed: {INVOICE_RRU} per invoice (number claim, profile), {PHOTO_RRU} per photo, \
             {API_RRU} per API request"
        ),
    ));
    lines.push(assumed(
        "S3",
        "PUT requests",
        vi * INVOICE_S3_PUT + vp * PHOTO_S3_PUT,
        "requests",
        p.s3_put_request,
        format!(
            "assumed: {INVOICE_S3_PUT} per invoice (the upload), {PHOTO_S3_PUT} per photo (the upload and 3 renditions)"
        ),
    ));
    lines.push(assumed(
        "S3",
        "GET requests",
        vi * INVOICE_S3_GET + vp * PHOTO_S3_GET,
        "requests",
        p.s3_get_request,
        format!("assumed: {INVOICE_S3_GET} per invoice (parse, attach), {PHOTO_S3_GET} per photo (resize)"),
    ));

    // SES: mails per unit, measured by the business counts.
    let mails = count("InvoiceMailsSent");
    lines.push(line("SES", "emails (invoices)", scaled(mails, invoices, vi), "emails", p.ses_email, || {
        format!(
            "measured: {} InvoiceMailsSent per invoice over {} {invoice_unit}",
            per_unit(mails, invoices),
            fmt(invoices)
        )
    }));
    let mails = count("PhotoNotificationsSent");
    lines.push(line("SES", "emails (photos)", scaled(mails, photos, vp), "emails", p.ses_email, || {
        format!(
            "measured: {} PhotoNotificationsSent per photo over {} {photo_unit}",
            per_unit(mails, photos),
            fmt(photos)
        )
    }));

    // EventBridge: the task events put, per API request.
    let put = m.requests.iter().filter(|(r, _)| r == "events:PutEvents").map(|(_, n)| *n as f64).sum::<f64>();
    let (events, source) =
        if put > 0.0 { (put, "events:PutEvents") } else { (count("TaskEventsPublished"), "TaskEventsPublished") };
    lines.push(line(
        "EventBridge",
        "custom events",
        scaled(events, api_requests, va),
        "events",
        p.eventbridge_custom_event,
        || {
            format!(
                "measured: {} events per API request ({source}) over {} API requests",
                per_unit(events, api_requests),
                fmt(api_requests)
            )
        },
    ));

    // SQS: the queues only take dead letters.
    lines.push(assumed(
        "SQS",
        "requests",
        0.0,
        "requests",
        p.sqs_request,
        "assumed: 0 — the queues only take dead letters".to_owned(),
    ));

    // API Gateway: the typed API requests, and the upload-URL requests each invoice and photo starts with.
    let upload_per_invoice = per_unit_or(invocations_of("RequestInvoiceUpload") as f64, invoices, 1.0);
    let upload_per_photo = per_unit_or(invocations_of("RequestPhotoUpload") as f64, photos, 1.0);
    lines.push(assumed(
        "API Gateway",
        "HTTP API requests",
        va + vi * upload_per_invoice + vp * upload_per_photo,
        "requests",
        p.http_api_request,
        format!(
            "the typed API requests, plus {} upload-URL requests per invoice and {} per photo ({})",
            fmt(upload_per_invoice),
            fmt(upload_per_photo),
            if invoices > 0.0 || photos > 0.0 { "measured" } else { "assumed: 1 each" }
        ),
    ));

    // CloudWatch: log ingestion, and the custom metrics the EMF lines define.
    lines.push(assumed(
        "CloudWatch",
        "log ingestion",
        lambda_requests_month * LOG_BYTES_PER_INVOCATION / 1e9,
        "GB",
        p.logs_ingestion_gb,
        format!("assumed: ~{LOG_BYTES_PER_INVOCATION} bytes of log lines per invocation, × the invocations above"),
    ));
    lines.push(if m.metric_series == 0 {
        line("CloudWatch", "custom metrics", None, "metrics", p.custom_metric_month, String::new)
    } else {
        assumed(
            "CloudWatch",
            "custom metrics",
            m.metric_series as f64,
            "metrics",
            p.custom_metric_month,
            format!("measured: {} distinct metric series in the EMF lines", m.metric_series),
        )
    });

    let total_usd = lines.iter().map(|l| l.monthly_usd).sum();
    Estimate { lines, total_usd }
}

/// `total / measured × volume`; `None` when nothing was measured to scale from (and the volume asks for some).
fn scaled(total: f64, measured: f64, volume: f64) -> Option<f64> {
    if volume == 0.0 {
        Some(0.0)
    } else if measured > 0.0 && total.is_finite() {
        Some(total / measured * volume)
    } else {
        None
    }
}

fn per_unit(total: f64, measured: f64) -> String {
    if measured > 0.0 { fmt(total / measured) } else { "0".to_owned() }
}

fn per_unit_or(total: f64, measured: f64, default: f64) -> f64 {
    if measured > 0.0 && total > 0.0 { total / measured } else { default }
}

/// A number as a person reads it: up to 3 decimals, no trailing zeros.
fn fmt(x: f64) -> String {
    // `+ 0.0` turns -0.0 (what summing no floats gives) into 0.
    let x = x + 0.0;
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" { "0".to_owned() } else { s.to_owned() }
}

fn line(
    service: &str,
    item: &str,
    quantity: Option<f64>,
    unit: &str,
    unit_price: f64,
    basis: impl FnOnce() -> String,
) -> CostLine {
    let (quantity, basis) = match quantity {
        Some(q) if q.is_finite() => (q, basis()),
        _ => (0.0, NO_MEASUREMENTS.to_owned()),
    };
    let basis = if basis.is_empty() { NO_MEASUREMENTS.to_owned() } else { basis };
    CostLine {
        service: service.to_owned(),
        item: item.to_owned(),
        quantity,
        unit: unit.to_owned(),
        unit_price,
        monthly_usd: quantity * unit_price,
        basis,
    }
}

fn assumed(service: &str, item: &str, quantity: f64, unit: &str, unit_price: f64, basis: String) -> CostLine {
    line(service, item, Some(quantity), unit, unit_price, || basis)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(function: &str, memory_mb: u32, invocations: u64, gb_seconds: f64) -> FunctionUsage {
        FunctionUsage {
            function: function.into(),
            memory_mb,
            architecture: "arm64".into(),
            invocations,
            gb_seconds,
            ..Default::default()
        }
    }

    fn find<'a>(e: &'a Estimate, service: &str, item: &str) -> &'a CostLine {
        e.lines
            .iter()
            .find(|l| l.service == service && l.item == item)
            .unwrap_or_else(|| panic!("{service} {item}: {e:#?}"))
    }

    fn assert_close(a: f64, b: f64) {
        assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{a} != {b}");
    }

    /// 10 invoices measured: 4 steps each of 256 MB, parse at 512 MB; 60 transitions.
    fn invoices_measured() -> Measurements {
        Measurements {
            functions: vec![
                usage("RequestInvoiceUploadFunction", 256, 10, 0.25),
                usage("StartInvoiceFunction", 256, 10, 0.25),
                usage("ParseInvoiceFunction", 512, 10, 2.0),
                usage("ValidateInvoiceFunction", 256, 10, 0.25),
                usage("StoreInvoiceFunction", 256, 10, 0.25),
                usage("EmailInvoiceFunction", 256, 10, 1.0),
            ],
            counts: vec![
                ("InvoicesStored".into(), 9.0),
                ("InvoicesRejected".into(), 1.0),
                ("InvoiceMailsSent".into(), 10.0),
            ],
            state_transitions: vec![("InvoiceStateMachine".into(), 60, 10)],
            requests: Vec::new(),
            metric_series: 4,
            since: None,
        }
    }

    #[test]
    fn five_hundred_invoices_a_month_cost_what_the_hand_computation_says() {
        let v = Volume { invoices_per_month: 500, photos_per_month: 0, api_requests_per_month: 0 };
        let e = estimate(&invoices_measured(), &v, &Prices::US_EAST_1);
        // 60 invocations per 10 invoices → 6 per invoice → 3,000 requests × $0.20/M = $0.0006.
        let requests = find(&e, "Lambda", "requests (invoices)");
        assert_close(requests.quantity, 3000.0);
        assert_close(requests.monthly_usd, 0.0006);
        assert!(
            requests.basis.starts_with("measured: 6 invocations per invoice over 10 executions"),
            "{}",
            requests.basis
        );
        // 4 GB-s per 10 invoices → 0.4 per invoice → 200 GB-s × $0.0000133334 = $0.00266668.
        let compute = find(&e, "Lambda", "compute arm64 (invoices)");
        assert_close(compute.quantity, 200.0);
        assert_close(compute.monthly_usd, 0.002_666_68);
        // 6 transitions per invoice → 3,000 × $0.025/1000 = $0.075.
        let sfn = find(&e, "Step Functions", "state transitions (InvoiceStateMachine)");
        assert_close(sfn.quantity, 3000.0);
        assert_close(sfn.monthly_usd, 0.075);
        // DynamoDB: 500 × 6 WRU = 3,000 × $0.625/M; 500 × 2 RRU = 1,000 × $0.125/M.
        assert_close(find(&e, "DynamoDB", "write request units").monthly_usd, 0.001_875);
        assert_close(find(&e, "DynamoDB", "read request units").monthly_usd, 0.000_125);
        // S3: 500 PUT × $0.005/1000; 1,000 GET × $0.0004/1000.
        assert_close(find(&e, "S3", "PUT requests").monthly_usd, 0.0025);
        assert_close(find(&e, "S3", "GET requests").monthly_usd, 0.0004);
        // SES: 1 mail per invoice → 500 × $0.10/1000.
        assert_close(find(&e, "SES", "emails (invoices)").monthly_usd, 0.05);
        // API Gateway: 1 upload URL per invoice → 500 × $1/M.
        assert_close(find(&e, "API Gateway", "HTTP API requests").monthly_usd, 0.0005);
        // Logs: 3,000 invocations × 1 KiB = 0.003072 GB × $0.50.
        assert_close(find(&e, "CloudWatch", "log ingestion").monthly_usd, 0.001_536);
        // Metrics: 4 series × $0.30.
        assert_close(find(&e, "CloudWatch", "custom metrics").monthly_usd, 1.2);
        let total =
            0.0006 + 0.002_666_68 + 0.075 + 0.001_875 + 0.000_125 + 0.0025 + 0.0004 + 0.05 + 0.0005 + 0.001_536 + 1.2;
        assert_close(e.total_usd, total);
    }

    #[test]
    fn nothing_measured_gives_lines_that_say_so_and_no_nan() {
        let v = Volume { invoices_per_month: 500, photos_per_month: 10_000, api_requests_per_month: 100_000 };
        let e = estimate(&Measurements::default(), &v, &Prices::default());
        assert!(e.total_usd.is_finite());
        for l in &e.lines {
            assert!(l.quantity.is_finite() && l.monthly_usd.is_finite(), "{l:?}");
        }
        for (service, item) in [
            ("Lambda", "requests (invoices)"),
            ("Lambda", "requests (photos)"),
            ("SES", "emails (photos)"),
            ("CloudWatch", "custom metrics"),
        ] {
            let l = find(&e, service, item);
            assert_eq!((l.basis.as_str(), l.monthly_usd), (NO_MEASUREMENTS, 0.0), "{l:?}");
        }
        assert!(find(&e, "DynamoDB", "write request units").basis.starts_with("assumed"));
    }

    #[test]
    fn an_estimate_of_synthetic_measurements_scales_each_pipeline_by_its_own_units() {
        let mut m = invoices_measured();
        m.functions.push(usage("ResizePhotoFunction", 1024, 4, 8.0));
        m.functions.push(usage("CreateTaskFunction", 256, 20, 0.5));
        m.functions.push(usage("PublishTaskEventsFunction", 256, 10, 0.25));
        m.counts.push(("PhotosResized".into(), 3.0));
        m.counts.push(("PhotosRejected".into(), 1.0));
        m.counts.push(("TaskEventsPublished".into(), 20.0));
        let v = Volume { invoices_per_month: 0, photos_per_month: 10_000, api_requests_per_month: 1_000 };
        let e = estimate(&m, &v, &Prices::US_EAST_1);
        assert_close(find(&e, "Lambda", "compute arm64 (photos)").quantity, 20_000.0);
        assert_close(find(&e, "Lambda", "requests (task-events)").quantity, 500.0);
        assert_close(find(&e, "EventBridge", "custom events").quantity, 1_000.0);
        assert_eq!(find(&e, "Lambda", "requests (invoices)").quantity, 0.0, "no invoices asked for");
    }

    #[test]
    fn emf_lines_aggregate_into_billed_gb_seconds_and_percentiles() {
        let line = |f: &str, cold: bool, ms: f64, extra: &str| {
            let cold_def = if cold { r#"{"Name":"ColdStart","Unit":"Count"},"# } else { "" };
            let cold_val = if cold { r#""ColdStart":1,"# } else { "" };
            format!(
                concat!(
                    r#"{{"_aws":{{"Timestamp":1700000000000,"CloudWatchMetrics":[{{"Namespace":"TaskPlatform","#,
                    r#""Dimensions":[["service"]],"Metrics":[{cold_def}{{"Name":"InvoicesStored","Unit":"Count"}}]}}]}},"#,
                    r#""service":"task-platform",{cold_val}"InvoicesStored":1,"function_name":"{f}","#,
                    r#""function_memory_size":1024,"durationMs":{ms}{extra}}}"#
                ),
                cold_def = cold_def,
                cold_val = cold_val,
                f = f,
                ms = ms,
                extra = extra,
            )
        };
        let mut a = Aggregate::default();
        assert!(a.add_line(&line("StoreInvoiceFunction", true, 10.2, "")));
        assert!(a.add_line(&line("StoreInvoiceFunction", false, 0.3, r#","error":"Retryable""#)));
        assert!(!a.add_line(r#"{"level":"INFO","message":"not EMF"}"#));
        assert!(!a.add_line("{torn"));
        let m =
            a.measurements(|name| FunctionInfo { logical_id: name.into(), architecture: "arm64".into(), memory_mb: 0 });
        let f = &m.functions[0];
        assert_eq!((f.invocations, f.cold_starts, f.errors, f.memory_mb), (2, 1, 1, 1024));
        // 11 ms + 1 ms billed at 1 GB.
        assert_close(f.gb_seconds, 0.012);
        assert_eq!((f.duration_p50_ms, f.duration_p99_ms), (0.3, 10.2));
        assert_eq!(m.counts, vec![("InvoicesStored".to_owned(), 2.0)]);
        assert_eq!(m.metric_series, 2, "ColdStart and InvoicesStored, one dimension set");
        assert!(m.since.is_some());
    }

    #[test]
    fn functions_belong_to_the_pipeline_of_their_unit_of_work() {
        for (id, p) in [
            ("ParseInvoiceFunction", INVOICES),
            ("StartInvoiceFunction", INVOICES),
            ("RequestInvoiceUploadFunction", INVOICES),
            ("ListInvoicesFunction", API),
            ("GetInvoiceFunction", API),
            ("ResizePhotoFunction", PHOTOS),
            ("RequestPhotoUploadFunction", PHOTOS),
            ("NotifyPhotoProcessedFunction", PHOTOS),
            ("PublishTaskEventsFunction", TASK_EVENTS),
            ("CreateTaskFunction", API),
            ("GetProfileFunction", API),
        ] {
            assert_eq!(pipeline_of(id), p, "{id}");
        }
    }
}

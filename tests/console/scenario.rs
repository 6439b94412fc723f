//! What an operator checks on each page after a photo and three invoices went through the stack: the failed
//! invoices are listed with their reasons, the failed execution's graph marks the failing state red and tells its
//! error when clicked, the mail is readable with its PDF, the cost page has measured GB-seconds and a total, the
//! dead letter is there with its error and log lines. And the executions page shows a new execution live.

use crate::browser::Console;
use local::local_core::invoke::EventInvoker;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;
use system_tests::gradient_jpeg as jpeg;
use system_tests::{TestApp, repo_root, sdk_config, spawn_stack};

const SETTLE: Duration = Duration::from_secs(90);
/// How long a page may take to show something that is already true on the server (generous: a debug build).
const SHOW: Duration = Duration::from_secs(20);
/// The buyer of the corpus's Factur-X invoice, who is mailed the stored invoice.
const BUYER: &str = "einkauf@roesterei-nord.de";

/// The template's stack, retrying failed asynchronous invocations after 100 ms instead of Lambda's minute (so an
/// event that always fails reaches the dead-letter queue within the test).
async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = local::StackConfig::new(repo_root().join("template.yaml"), dir.path());
    config.async_retry_delay = Duration::from_millis(100);
    spawn_stack(config, dir).await
}

/// The stack's JSON log lines kept in its ring, as `local up` installs its logger, so the log page has lines to
/// show. The logger is process-wide: the first test to install it wins (only one test reads the log page).
fn keep_log_lines(app: &TestApp) {
    let (filter, _) = telemetry::filter_from(Some("info"));
    let _ = tracing::subscriber::set_global_default(telemetry::json_subscriber(filter, app.stack.logs().ring_only()));
}

/// `ada`'s profile exists (with ada@example.com from the token); returns her owner id.
async fn ada(app: &TestApp) -> String {
    let r = app.request(Method::GET, "/me", "ada").send().await.unwrap();
    assert_eq!(r.status(), 200);
    local::auth::sub_for("ada")
}

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(repo_root().join("shared/invoice-pdf/tests/corpus").join(name)).unwrap()
}

fn uploads_bucket(app: &TestApp) -> String {
    app.stack.template().physical_name("UploadsBucket").unwrap()
}

/// PutObject into the uploads bucket with the Rust SDK, as any S3 client would drop an invoice there.
async fn put_invoice(app: &TestApp, key: &str, pdf: Vec<u8>) {
    let s3 =
        aws_sdk_s3::Client::from_conf(sdk_config!(aws_sdk_s3, app, "test").to_builder().force_path_style(true).build());
    s3.put_object()
        .bucket(uploads_bucket(app))
        .key(key)
        .content_type("application/pdf")
        .body(pdf.into())
        .send()
        .await
        .expect("PutObject");
}

/// `POST /me/photo`, then the presigned PUT as a browser would send it.
async fn upload_photo(app: &TestApp, bytes: Vec<u8>) {
    let r = app
        .request(Method::POST, "/me/photo", "ada")
        .json(&json!({"content_type": "image/jpeg", "size": bytes.len()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ticket: Value = r.json().await.unwrap();
    let mut put = app.client.put(ticket["upload_url"].as_str().unwrap()).body(bytes);
    for (name, value) in ticket["headers"].as_object().unwrap() {
        if name != "content-length" {
            put = put.header(name, value.as_str().unwrap());
        }
    }
    let r = put.send().await.unwrap();
    assert!(r.status().is_success(), "the presigned PUT: {}", r.status());
}

/// Ada's one invoice in `status` (`stored`, `rejected`, `failed`), in full.
async fn invoice(app: &TestApp, status: &str) -> Value {
    let r = app.request(Method::GET, &format!("/invoices?status={status}"), "ada").send().await.unwrap();
    let page: Value = r.json().await.unwrap();
    let id = page["invoices"][0]["id"].as_str().unwrap_or_else(|| panic!("no {status} invoice: {page}")).to_owned();
    let r = app.request(Method::GET, &format!("/invoices/{id}"), "ada").send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn arn_of(invoice: &Value) -> String {
    invoice["execution_arn"].as_str().unwrap_or_else(|| panic!("no execution ARN: {invoice}")).to_owned()
}

/// A JavaScript string literal of `s`.
fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// What went through the stack, as its own API tells it.
struct World {
    stored: Value,
    rejected: Value,
    broken: Value,
}

async fn run_the_pipelines(app: &TestApp) -> World {
    let owner = ada(app).await;
    upload_photo(app, jpeg(1200, 800)).await;
    put_invoice(app, &format!("invoices/{owner}/march.pdf"), corpus("facturx-en16931.pdf")).await;
    let totals_off = std::fs::read(repo_root().join("tests/fixtures/invoices/facturx-totals-off.pdf")).unwrap();
    put_invoice(app, &format!("invoices/{owner}/totals-off.pdf"), totals_off).await;
    put_invoice(app, &format!("invoices/{owner}/broken.pdf"), corpus("damaged-truncated.pdf")).await;
    // An event resize-photo cannot read: tried three times (MaximumRetryAttempts: 2), then dead-lettered.
    app.stack
        .async_invoker()
        .invoke_async("ResizePhotoFunction", json!({"Records": [{"s3": "not an S3 record"}]}))
        .await
        .expect("an asynchronous invocation");
    assert!(app.stack.settle(SETTLE).await, "the pipelines did not come to rest");

    let world = World {
        stored: invoice(app, "stored").await,
        rejected: invoice(app, "rejected").await,
        broken: invoice(app, "failed").await,
    };
    // What the pages are checked against, as the invoices API says it.
    assert_eq!(world.rejected["problem"]["state"], "Validate", "{}", world.rejected);
    assert_eq!(world.broken["problem"]["state"], "Parse", "{}", world.broken);
    world
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_sees_failed_invoices_with_their_reasons_the_failing_state_in_red_the_mail_and_the_cost() {
    let app = spawn_app().await;
    keep_log_lines(&app);
    // Chromium first: a missing browser fails the test at once, saying how to install it.
    let console = Console::launch().await;
    let world = run_the_pipelines(&app).await;

    executions_page_lists_the_failed_invoices_with_their_reasons(&app, &console, &world).await;
    the_parse_failure_is_red_on_its_graph_and_its_state_tells_why(&app, &console, &world).await;
    the_rejection_is_red_on_its_graph_and_the_stored_invoice_green(&app, &console, &world).await;
    pipelines_page_shows_the_failed_invoices_with_their_step_and_reason(&app, &console, &world).await;
    dead_letters_page_shows_the_failed_event_with_its_error_and_log_lines(&app, &console).await;
    mail_page_shows_the_invoice_mail_readable_with_its_pdf(&app, &console, &world).await;
    cost_page_shows_measured_gb_seconds_and_a_monthly_total(&app, &console).await;
}

async fn executions_page_lists_the_failed_invoices_with_their_reasons(app: &TestApp, console: &Console, world: &World) {
    console.open(&app.url("/_console/")).await;
    for (invoice, status, because) in [
        (&world.rejected, "FAILED", "876.16"),
        (&world.broken, "FAILED", "truncated"),
        (&world.stored, "SUCCEEDED", ""),
    ] {
        let arn = arn_of(invoice);
        let row = format!("#executions tbody tr[data-arn={}]", js(&arn));
        assert_eq!(console.count(&row).await, 1, "the executions page lists {arn}");
        let shown = console.eval(&format!("document.querySelector({}).dataset.status", js(&row))).await;
        assert_eq!(shown, json!(status), "{arn}");
        if !because.is_empty() {
            // The reason in the row, shortened, with the whole cause on hover.
            let cause = console
                .eval(&format!(
                    "(() => {{ const c = document.querySelector({} + ' .cause'); return c ? c.title + ' ' + c.innerText : ''; }})()",
                    js(&row)
                ))
                .await;
            let cause = cause.as_str().unwrap_or("");
            let reason = invoice["problem"]["reason"].as_str().unwrap();
            assert!(cause.contains(because) && cause.contains(reason), "{arn}'s row says why ({reason}): {cause:?}");
        }
    }
    console.screenshot("executions").await;

    // Filtered by status: the two failures only.
    console.open(&app.url("/_console/?status=FAILED")).await;
    let statuses =
        console.eval("[...document.querySelectorAll('#executions tbody tr')].map(r => r.dataset.status)").await;
    assert_eq!(statuses, json!(["FAILED", "FAILED"]), "status=FAILED");

    // Searched by name: a part of one execution's name finds it alone.
    let arn = arn_of(&world.broken);
    let name = arn.rsplit(':').next().unwrap();
    let part = &name[name.len() - 12..];
    console.open(&app.url(&format!("/_console/?q={part}"))).await;
    let arns = console.eval("[...document.querySelectorAll('#executions tbody tr')].map(r => r.dataset.arn)").await;
    assert_eq!(arns, json!([arn]), "q={part}");
}

/// The computed colours of a state's box in the graph: `(stroke, fill)`, each `[r, g, b]` (empty when absent).
async fn colours_of(console: &Console, state: &str) -> (Vec<u64>, Vec<u64>) {
    let v = console
        .eval(&format!(
            "(() => {{
                const g = document.querySelector('#graph [data-state=' + CSS.escape({}) + ']');
                const box = g && (g.querySelector(':scope > rect.box') || g.querySelector('rect, path, ellipse, polygon'));
                if (!box) return null;
                const rgb = c => (c.match(/rgba?\\((\\d+), (\\d+), (\\d+)/) || []).slice(1).map(Number);
                const style = getComputedStyle(box);
                return [rgb(style.stroke), rgb(style.fill)];
            }})()",
            js(state)
        ))
        .await;
    serde_json::from_value(v).unwrap_or_default()
}

/// A strong red, as the graph's "failed" (#d13212).
fn is_red(rgb: &[u64]) -> bool {
    matches!(rgb, [r, g, b] if *r >= 150 && *r >= g + 100 && *r >= b + 100)
}

/// Red or orange: a failure (the graph draws a failure that a Catch handled orange, "failed, caught").
fn is_failure_colour(rgb: &[u64]) -> bool {
    matches!(rgb, [r, g, b] if *r >= 150 && *r >= g + 60 && *r >= b + 100)
}

fn is_green(rgb: &[u64]) -> bool {
    matches!(rgb, [r, g, b] if *g >= r + 30 && *g >= *b)
}

/// The `outcome-…` class of a state in the graph.
async fn outcome_of(console: &Console, state: &str) -> String {
    let v = console
        .eval(&format!(
            "(() => {{ const g = document.querySelector('#graph [data-state=' + CSS.escape({}) + ']'); \
             return g ? [...g.classList].find(c => c.startsWith('outcome-')) ?? 'none' : 'absent'; }})()",
            js(state)
        ))
        .await;
    v.as_str().unwrap_or("").to_owned()
}

/// Opens an execution's page from its row on the executions page (the link a person would click).
async fn open_execution_from_its_row(app: &TestApp, console: &Console, arn: &str) {
    console.open(&app.url("/_console/")).await;
    let href = console
        .eval(&format!(
            "document.querySelector('#executions tbody tr[data-arn=' + CSS.escape({}) + '] a.execution-link')?.getAttribute('href')",
            js(arn)
        ))
        .await;
    let href = href.as_str().unwrap_or_else(|| panic!("no link to {arn} on the executions page")).to_owned();
    console.open(&app.url(&href)).await;
    let shown = console.eval("document.getElementById('execution-header')?.dataset.arn").await;
    assert_eq!(shown, json!(arn), "{href} is the execution's page");
}

async fn the_parse_failure_is_red_on_its_graph_and_its_state_tells_why(
    app: &TestApp,
    console: &Console,
    world: &World,
) {
    let arn = arn_of(&world.broken);
    open_execution_from_its_row(app, console, &arn).await;
    assert_eq!(console.eval("document.getElementById('execution-header').dataset.status").await, json!("FAILED"));
    let reason = world.broken["problem"]["reason"].as_str().unwrap();
    assert!(console.text("#execution-cause").await.contains(reason), "the execution's cause is the reason");

    // The graph: Parse failed (its error caught into RecordFailure), the execution ended in the Fail state, and
    // what comes after Parse never ran.
    let parse = outcome_of(console, "Parse").await;
    assert!(matches!(parse.as_str(), "outcome-failed" | "outcome-caught"), "Parse is drawn as {parse}");
    let (stroke, _) = colours_of(console, "Parse").await;
    assert!(is_failure_colour(&stroke), "the failing state Parse is drawn as a failure: stroke {stroke:?}");
    assert_eq!(outcome_of(console, "Refused").await, "outcome-failed", "the Fail state ended it");
    let (stroke, _) = colours_of(console, "Refused").await;
    assert!(is_red(&stroke), "the state the execution failed in is red: stroke {stroke:?}");
    assert_eq!(outcome_of(console, "RecordFailure").await, "outcome-succeeded");
    for not_reached in ["Validate", "Store", "Email", "Done"] {
        assert_eq!(outcome_of(console, not_reached).await, "outcome-not-reached", "{not_reached}");
    }

    // Clicking the failing state opens the side panel with its error and cause.
    assert_eq!(console.eval("document.getElementById('state-panel').hidden").await, json!(true));
    console.click("#graph [data-state=\"Parse\"]").await;
    console
        .wait_until("!document.getElementById('state-panel').hidden", SHOW, "the state panel to open on a click")
        .await;
    assert_eq!(console.text("#state-panel-name").await, "Parse");
    let error = console.text("#state-error").await;
    let cause = console.text("#state-cause").await;
    assert!(error.contains("InvalidDocument"), "the panel names the error: {error:?}");
    assert!(cause.contains("truncated"), "the panel gives the cause: {cause:?}");
    assert!(console.text("#state-input").await.contains("broken.pdf"), "the panel shows the state's input");

    // The history, with the Lambda failure in it.
    assert!(console.count("#history tbody tr").await >= 8, "the event history is a table of the events");
    assert!(console.count("#history tbody tr.event-failed").await >= 1, "failed events are marked");
    assert_eq!(console.count("#redrive").await, 1, "a failed execution can be redriven");
    console.screenshot("execution").await;
}

async fn the_rejection_is_red_on_its_graph_and_the_stored_invoice_green(
    app: &TestApp,
    console: &Console,
    world: &World,
) {
    let arn = arn_of(&world.rejected);
    open_execution_from_its_row(app, console, &arn).await;
    // Validate judged the invoice (it returned a verdict); the rejection path ran and the Fail state ended it.
    for reached in ["Parse", "Validate", "IsValid", "RecordRejection", "RecordRefusal", "NotifyRefusal"] {
        assert_eq!(outcome_of(console, reached).await, "outcome-succeeded", "{reached}");
    }
    assert_eq!(outcome_of(console, "Refused").await, "outcome-failed");
    let (stroke, _) = colours_of(console, "Refused").await;
    assert!(is_red(&stroke), "Refused is red: {stroke:?}");
    console.click("#graph [data-state=\"Refused\"]").await;
    console.wait_until("!document.getElementById('state-panel').hidden", SHOW, "the state panel").await;
    assert_eq!(console.text("#state-error").await, "InvoiceRejected");
    let cause = console.text("#state-cause").await;
    assert!(cause.contains("876.16") && cause.contains("867.16"), "the rejection's numbers: {cause:?}");

    let arn = arn_of(&world.stored);
    open_execution_from_its_row(app, console, &arn).await;
    for state in ["Parse", "Validate", "Store", "Email", "Done"] {
        assert_eq!(outcome_of(console, state).await, "outcome-succeeded", "{state}");
    }
    let (stroke, _) = colours_of(console, "Store").await;
    assert!(is_green(&stroke), "succeeded states are green: {stroke:?}");
    assert_eq!(outcome_of(console, "Refused").await, "outcome-not-reached");
    assert_eq!(console.count("#redrive").await, 0, "a succeeded execution has no redrive");
    console.screenshot("execution-succeeded").await;
}

async fn pipelines_page_shows_the_failed_invoices_with_their_step_and_reason(
    app: &TestApp,
    console: &Console,
    world: &World,
) {
    console.open(&app.url("/_console/pipelines")).await;
    let rows = console
        .eval(
            "[...document.querySelectorAll('#invoices tbody tr')].map(r => ({key: r.dataset.key, stage: r.dataset.stage, \
             step: r.querySelector('.step')?.innerText ?? '', reason: r.querySelector('.reason')?.innerText ?? '', \
             execution: r.querySelector('a.execution-link')?.getAttribute('href') ?? ''}))",
        )
        .await;
    let rows = rows.as_array().cloned().unwrap_or_default();
    for (invoice, step, because) in [(&world.rejected, "Validate", "BR-CO-15"), (&world.broken, "Parse", "truncated")] {
        let key = invoice["key"].as_str().unwrap();
        let row =
            rows.iter().find(|r| r["key"] == key).unwrap_or_else(|| panic!("{key} on the pipelines page: {rows:?}"));
        assert_eq!(row["stage"], "failed", "{row}");
        assert_eq!(row["step"], step, "{row}");
        assert!(row["reason"].as_str().unwrap_or("").contains(because), "{row}");
        let href = row["execution"].as_str().unwrap_or("");
        let arn = arn_of(invoice);
        let r = app.client.get(app.url(href)).send().await.unwrap();
        assert_eq!(r.status(), 200, "the execution link {href:?}");
        assert!(r.text().await.unwrap().contains(&arn), "{href} is {arn}'s page");
    }
    assert!(console.count("#task-flow").await == 1, "the task-event flow");
    console.screenshot("pipelines").await;
}

async fn dead_letters_page_shows_the_failed_event_with_its_error_and_log_lines(app: &TestApp, console: &Console) {
    console.open(&app.url("/_console/dead-letters")).await;
    assert!(console.count("section.dlq").await >= 1, "the template's dead-letter queues");
    let rows = console
        .eval(
            "[...document.querySelectorAll('#dlq-DeadLetterQueue table.dead-letters tbody tr[data-message-id]')].map(r => ({\
             target: r.querySelector('.failed-target')?.innerText ?? '', error: r.querySelector('.dl-error')?.innerText ?? '', \
             event: r.querySelector('.original-event pre')?.textContent ?? '', \
             logs: r.querySelector('a.logs-link')?.getAttribute('href') ?? ''}))",
        )
        .await;
    let rows = rows.as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 1, "the event resize-photo could not read is in DeadLetterQueue: {rows:?}");
    let row = &rows[0];
    assert!(row["target"].as_str().unwrap_or("").contains("ResizePhoto"), "the failed target: {row}");
    assert!(!row["error"].as_str().unwrap_or("").trim().is_empty(), "the error: {row}");
    assert!(row["event"].as_str().unwrap_or("").contains("not an S3 record"), "the original event: {row}");
    console.screenshot("dead-letters").await;

    // Its log lines, by the request id of the failed invocation.
    let logs = row["logs"].as_str().unwrap_or("").to_owned();
    assert!(logs.starts_with("/_console/logs/"), "a link to the failed invocation's log lines: {row}");
    console.open(&app.url(&logs)).await;
    let request_id = logs.rsplit('/').next().unwrap();
    assert_eq!(console.text("#request-id").await, request_id, "the logs page is the request's");
    let lines = console.eval("[...document.querySelectorAll('#logs tbody tr.log')].map(r => r.innerText)").await;
    let lines = lines.as_array().cloned().unwrap_or_default();
    assert!(!lines.is_empty(), "the failed invocation's log lines");
    assert!(
        lines.iter().any(|l| l.as_str().is_some_and(|l| l.contains("ResizePhoto") || l.contains("resize-photo"))),
        "lines of resize-photo: {lines:?}"
    );
    console.screenshot("logs").await;
}

async fn mail_page_shows_the_invoice_mail_readable_with_its_pdf(app: &TestApp, console: &Console, world: &World) {
    console.open(&app.url("/_console/mail")).await;
    let number = world.stored["invoice"]["number"].as_str().unwrap();
    let rows = console
        .eval(
            "[...document.querySelectorAll('#mail tbody tr')].map(r => ({to: r.querySelector('.to')?.innerText ?? '', \
             subject: r.querySelector('.subject')?.innerText ?? '', href: r.querySelector('a.mail-link')?.getAttribute('href') ?? ''}))",
        )
        .await;
    let rows = rows.as_array().cloned().unwrap_or_default();
    assert!(rows.iter().any(|r| r["to"].as_str().unwrap_or("").contains("ada@example.com")), "ada's mails: {rows:?}");
    let mail = rows
        .iter()
        .find(|r| r["to"].as_str().unwrap_or("").contains(BUYER))
        .unwrap_or_else(|| panic!("the invoice mail to {BUYER}: {rows:?}"));
    assert!(mail["subject"].as_str().unwrap_or("").contains(number), "{mail}");
    console.screenshot("mail").await;

    console.open(&app.url(mail["href"].as_str().unwrap())).await;
    assert!(console.text("#mail-to").await.contains(BUYER));
    assert!(console.text("#mail-subject").await.contains(number));
    // The text part, decoded: words a person reads, not quoted-printable or base64.
    let text = console.text("#mail-text").await;
    assert!(text.contains(number), "the text part names the invoice: {text:?}");
    assert!(!text.contains("=20") && !text.contains("=\n") && text.contains(' '), "decoded text: {text:?}");
    let attachment = console
        .eval(
            "(() => { const a = document.querySelector('#attachments a.attachment-link'); \
             return a ? {name: a.innerText, href: a.getAttribute('href'), type: a.closest('tr').querySelector('.type')?.innerText ?? ''} : null; })()",
        )
        .await;
    assert!(attachment["name"].as_str().is_some_and(|n| n.ends_with(".pdf")), "the PDF attachment: {attachment}");
    assert!(attachment["type"].as_str().is_some_and(|t| t.contains("application/pdf")), "{attachment}");
    let r = app.client.get(app.url(attachment["href"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(r.status(), 200, "the attachment downloads");
    let ctype = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(ctype.starts_with("application/pdf"), "as a PDF: {ctype}");
    assert!(r.bytes().await.unwrap().starts_with(b"%PDF"), "the PDF itself");
    console.screenshot("mail-message").await;
}

/// The first number in `s` (`"$1,234.56"` → 1234.56).
fn number_in(s: &str) -> Option<f64> {
    let start = s.find(|c: char| c.is_ascii_digit())?;
    let digits: String = s[start..].chars().take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ',').collect();
    digits.replace(',', "").trim_end_matches('.').parse().ok()
}

async fn cost_page_shows_measured_gb_seconds_and_a_monthly_total(app: &TestApp, console: &Console) {
    console.open(&app.url("/_console/cost?invoices=500&photos=10000&requests=100000")).await;
    let functions = console
        .eval(
            "Object.fromEntries([...document.querySelectorAll('#functions tbody tr[data-function]')].map(r => \
             [r.dataset.function, {gbs: r.querySelector('.gb-seconds')?.innerText ?? '', \
             invocations: r.querySelector('.invocations')?.innerText ?? ''}]))",
        )
        .await;
    for function in [
        "ParseInvoiceFunction",
        "ValidateInvoiceFunction",
        "StoreInvoiceFunction",
        "EmailInvoiceFunction",
        "ResizePhotoFunction",
    ] {
        let row = &functions[function];
        let gbs = row["gbs"].as_str().and_then(number_in).unwrap_or(0.0);
        assert!(gbs > 0.0, "{function} has measured GB-seconds: {row} (all: {functions})");
        let invocations = row["invocations"].as_str().and_then(number_in).unwrap_or(0.0);
        assert!(invocations >= 1.0, "{function} was invoked: {row}");
    }
    let total = console.text("#cost-total").await;
    assert!(total.contains('$') && number_in(&total).is_some_and(|t| t > 0.0), "a monthly total: {total:?}");
    assert_eq!(console.eval("document.getElementById('volume-invoices').value").await, json!("500"));
    // The estimate for the volume asked, for the test's output (the README's closing note quotes it).
    println!(
        "cost estimate for 500 invoices, 10,000 photos, 100,000 requests a month:\n{}",
        console.text("#estimate").await
    );
    console.screenshot_up_to("cost", 1500).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_executions_page_shows_a_new_execution_and_its_end_without_reloading() {
    let app = spawn_app().await;
    let console = Console::launch().await;
    let owner = ada(&app).await;
    console.open(&app.url("/_console/")).await;
    console
        .wait_until(
            "document.getElementById('live')?.classList.contains('live-on')",
            SHOW,
            "the live updates to connect",
        )
        .await;
    assert_eq!(console.count("#executions tbody tr").await, 0, "nothing has run yet");
    console.eval("(window.__notReloaded = true)").await;

    put_invoice(&app, &format!("invoices/{owner}/live.pdf"), corpus("facturx-en16931.pdf")).await;
    console.wait_until("document.querySelectorAll('#executions tbody tr').length === 1", SHOW, "the new row").await;
    assert!(app.stack.settle(SETTLE).await);
    let arn = arn_of(&invoice(&app, "stored").await);
    let row = format!("#executions tbody tr[data-arn={}]", js(&arn));
    console
        .wait_until(
            &format!("document.querySelector({})?.dataset.status === 'SUCCEEDED'", js(&row)),
            SHOW,
            "the row to show the execution succeeded",
        )
        .await;
    assert_eq!(console.eval("window.__notReloaded === true").await, json!(true), "the page was not reloaded");
}

//! Every sample event in `events/` is run through the function it belongs to, exactly as `local invoke` runs it,
//! and must give the answer listed here: an HTTP status for the API's functions, a result or a named error for the
//! functions state machines invoke. A file without an expectation, or an expectation without a file, fails.

use domain::invoice::service::{self, StepInput};
use domain::{Description, Status, Task, TaskId, Title, UserId, Version, ports::TaskPut};
use local::{Stack, StackConfig};
use serde_json::Value;
use std::collections::BTreeSet;
use system_tests::repo_root;

/// The owner of the fixture task (the `sub` in most events) and the fixture task itself.
const ALICE: &str = "4f9d2c1e-7b3a-4c8e-9a21-5d6e7f8a9b0c";
const TASK: &str = "01JD5Q8X3N7V2K4M6P9R0S1T2W";

/// What a function must answer to a sample event.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// An HTTP API function's response, with this status.
    Http(u16),
    /// A directly invoked function's result (checked per case below).
    Returns,
    /// A directly invoked function's error, with this `errorType` (what a state machine's Retry/Catch match).
    Fails(&'static str),
    /// An event-triggered function's result, holding these fields with these values (a JSON object).
    Gives(&'static str),
}
use Expect::{Fails, Gives, Http, Returns};

/// (function binary, case, expectation)
const EXPECTED: &[(&str, &str, Expect)] = &[
    ("create-task", "valid", Http(201)),
    ("create-task", "title-only", Http(201)),
    ("create-task", "base64-body", Http(201)),
    ("create-task", "no-body", Http(400)),
    ("create-task", "malformed-json", Http(400)),
    ("create-task", "title-not-a-string", Http(422)),
    ("create-task", "unknown-status", Http(422)),
    ("create-task", "empty-title", Http(422)),
    ("create-task", "title-too-long", Http(422)),
    ("create-task", "body-over-64-kib", Http(400)),
    ("create-task", "no-claims", Http(401)),
    ("get-task", "existing", Http(200)),
    ("get-task", "missing", Http(404)),
    ("get-task", "someone-elses", Http(404)),
    ("get-task", "not-a-task-id", Http(400)),
    ("list-tasks", "first-page", Http(200)),
    ("list-tasks", "by-status", Http(200)),
    ("list-tasks", "limit-too-large", Http(400)),
    ("list-tasks", "forged-next", Http(400)),
    ("list-tasks", "unknown-status", Http(422)),
    ("update-task", "valid", Http(200)),
    ("update-task", "missing", Http(404)),
    ("update-task", "stale-if-match", Http(412)),
    ("update-task", "malformed-json", Http(400)),
    ("update-task", "empty-patch", Http(422)),
    ("update-task", "someone-elses", Http(404)),
    ("delete-task", "existing", Http(204)),
    ("delete-task", "missing", Http(404)),
    ("delete-task", "someone-elses", Http(404)),
    ("get-profile", "first-use", Http(200)),
    ("get-profile", "no-claims", Http(401)),
    ("update-profile", "valid", Http(200)),
    ("update-profile", "bad-email", Http(422)),
    ("update-profile", "no-body", Http(400)),
    ("check-task", "found", Returns),
    ("check-task", "missing", Fails("TaskNotFound")),
    ("check-task", "someone-elses", Fails("TaskNotFound")),
    ("check-task", "not-a-task-id", Fails("InvalidInput")),
    ("check-task", "no-owner", Fails("InvalidInput")),
    ("publish-task-events", "insert", Gives(r#"{"batchItemFailures": []}"#)),
    ("publish-task-events", "modify-status-done", Gives(r#"{"batchItemFailures": []}"#)),
    ("publish-task-events", "remove", Gives(r#"{"batchItemFailures": []}"#)),
    ("publish-task-events", "corrupt-image", Gives(r#"{"batchItemFailures": []}"#)),
    ("record-task-activity", "task-created", Gives(r#"{"outcome": "recorded"}"#)),
    ("record-task-activity", "status-changed-to-done", Gives(r#"{"outcome": "recorded"}"#)),
    ("record-task-activity", "not-a-task-event", Gives(r#"{"outcome": "ignored"}"#)),
    ("notify-task-done", "status-changed-to-done", Gives(r#"{"outcome": "skipped", "reason": "no_profile"}"#)),
    ("notify-task-done", "status-changed-to-in-progress", Gives(r#"{"outcome": "skipped", "reason": "not_done"}"#)),
    ("notify-task-done", "not-a-task-event", Gives(r#"{"outcome": "skipped", "reason": "not_a_task_event"}"#)),
    ("get-task-activity", "fixture-task", Http(200)),
    ("get-task-activity", "missing", Http(404)),
    ("get-task-activity", "someone-elses", Http(404)),
    ("get-task-activity", "not-a-task-id", Http(400)),
    ("get-task-activity", "limit-too-large", Http(400)),
    ("get-task-activity", "forged-next", Http(400)),
    ("get-task-activity", "no-claims", Http(401)),
    ("request-photo-upload", "valid-jpeg", Http(200)),
    ("request-photo-upload", "too-large", Http(422)),
    ("request-photo-upload", "wrong-type", Http(422)),
    ("request-photo-upload", "malformed-json", Http(400)),
    ("request-photo-upload", "no-claims", Http(401)),
    ("resize-photo", "photo-upload", Gives(r#"{"outcomes": ["no_profile"]}"#)),
    ("resize-photo", "bomb-upload", Gives(r#"{"outcomes": ["no_profile"]}"#)),
    ("resize-photo", "bad-shape-upload", Gives(r#"{"outcomes": ["ignored"]}"#)),
    ("resize-photo", "rendition-key", Gives(r#"{"outcomes": ["ignored"]}"#)),
    ("record-photo", "rendition-created", Gives(r#"{"outcomes": ["incomplete"]}"#)),
    ("record-photo", "bad-shape-rendition", Gives(r#"{"outcomes": ["ignored"]}"#)),
    ("record-photo", "upload-key", Gives(r#"{"outcomes": ["ignored"]}"#)),
    ("notify-photo-processed", "photo-processed", Gives(r#"{"outcome": "skipped", "reason": "no_profile"}"#)),
    ("notify-photo-processed", "not-a-photo-event", Gives(r#"{"outcome": "skipped", "reason": "not_a_photo_event"}"#)),
    ("start-invoice", "invoice-upload", Gives(r#"{"outcomes": ["started"]}"#)),
    ("start-invoice", "encoded-name", Gives(r#"{"outcomes": ["started"]}"#)),
    ("start-invoice", "not-a-pdf", Gives(r#"{"outcomes": ["ignored"]}"#)),
    ("start-invoice", "object-removed", Gives(r#"{"outcomes": ["ignored"]}"#)),
    ("parse-invoice", "uploaded-pdf", Fails("InvalidDocument")),
    ("parse-invoice", "other-bucket", Fails("InvalidInput")),
    ("parse-invoice", "not-a-step-input", Fails("InvalidInput")),
    ("validate-invoice", "valid", Gives(r#"{"valid": true}"#)),
    ("validate-invoice", "totals-off", Gives(r#"{"valid": false}"#)),
    ("validate-invoice", "no-invoice", Fails("InvalidInput")),
    ("store-invoice", "valid", Gives(r#"{"outcome": "stored"}"#)),
    ("store-invoice", "rejected", Gives(r#"{"recorded": "rejected"}"#)),
    ("store-invoice", "failed-to-parse", Gives(r#"{"recorded": "failed"}"#)),
    ("store-invoice", "no-invoice", Fails("InvalidInput")),
    ("email-invoice", "stored", Gives(r#"{"outcome": "sent", "to": "ap@example.fr"}"#)),
    ("email-invoice", "rejected", Gives(r#"{"outcome": "no_recipient"}"#)),
    ("email-invoice", "failed-to-parse", Gives(r#"{"outcome": "no_recipient"}"#)),
    ("email-invoice", "no-invoice", Fails("InvalidInput")),
    ("request-invoice-upload", "valid", Http(200)),
    ("request-invoice-upload", "no-file-name", Http(200)),
    ("request-invoice-upload", "too-large", Http(422)),
    ("request-invoice-upload", "not-a-pdf-name", Http(422)),
    ("request-invoice-upload", "malformed-json", Http(400)),
    ("request-invoice-upload", "no-claims", Http(401)),
    ("list-invoices", "first-page", Http(200)),
    ("list-invoices", "by-status", Http(200)),
    ("list-invoices", "limit-too-large", Http(400)),
    ("list-invoices", "forged-next", Http(400)),
    ("list-invoices", "unknown-status", Http(422)),
    ("list-invoices", "no-claims", Http(401)),
    ("get-invoice", "stored", Http(200)),
    ("get-invoice", "missing", Http(404)),
    ("get-invoice", "someone-elses", Http(404)),
    ("get-invoice", "not-an-invoice-id", Http(400)),
    ("get-invoice", "no-claims", Http(401)),
];

async fn fresh_stack() -> (std::sync::Arc<Stack>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    // Idle: no stream mappings running. Seeding the task below writes a stream record; a running mapping would
    // publish it and have RecordTaskActivity record its TaskCreated change before (or after) the sample event for
    // the same change is invoked, so `record-task-activity/task-created` would race it. Each sample is its
    // function's answer to that event alone.
    let stack = Stack::load_idle(StackConfig::new(repo_root().join("template.yaml"), dir.path())).unwrap();
    // Where presigned URLs point (POST /me/photo answers one); nothing needs to listen there for these events.
    stack.set_listening(([127, 0, 0, 1], 3000).into());
    let table = &stack.lambda().function("CreateTaskFunction").unwrap().decl.env["TASKS_TABLE"];
    let at = time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let task = Task {
        owner: UserId::parse(ALICE).unwrap(),
        id: TaskId::parse(TASK).unwrap(),
        title: Title::parse("Fixture task").unwrap(),
        description: Some(Description::parse("seeded by the test").unwrap()),
        status: Status::Pending,
        created_at: at,
        updated_at: at,
        version: Version::FIRST,
    };
    stack.store().tasks(table).unwrap().put_task(&task).await.unwrap();
    // The invoice `events/get-invoice/stored.json` asks for: the one `events/store-invoice/valid.json` stores.
    let table = &stack.lambda().function("StoreInvoiceFunction").unwrap().decl.env["INVOICES_TABLE"];
    let sample = std::fs::read_to_string(repo_root().join("events/store-invoice/valid.json")).unwrap();
    let step = StepInput::parse(serde_json::from_str(&sample).unwrap()).unwrap();
    let invoice = step.invoice.clone().expect("the sample has an invoice");
    service::keep(&stack.store().invoices(table).unwrap(), &step.submission, invoice, None, at).await.unwrap();
    (stack, dir)
}

fn files() -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for dir in std::fs::read_dir(repo_root().join("events")).unwrap() {
        let dir = dir.unwrap().path();
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            assert_eq!(f.extension().and_then(|e| e.to_str()), Some("json"), "{} is not a .json event", f.display());
            out.insert((
                dir.file_name().unwrap().to_string_lossy().into_owned(),
                f.file_stem().unwrap().to_string_lossy().into_owned(),
            ));
        }
    }
    out
}

#[test]
fn every_event_file_has_an_expectation_and_every_expectation_a_file() {
    let on_disk = files();
    let listed: BTreeSet<_> = EXPECTED.iter().map(|(f, c, _)| (f.to_string(), c.to_string())).collect();
    assert_eq!(
        on_disk.difference(&listed).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "files with no expectation"
    );
    assert_eq!(
        listed.difference(&on_disk).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "expectations with no file"
    );
}

#[tokio::test]
async fn every_sample_event_gives_its_expected_answer_through_its_function() {
    let mut failures = Vec::new();
    for (binary, case, want) in EXPECTED {
        let (stack, _dir) = fresh_stack().await;
        let function = stack
            .lambda()
            .functions()
            .find(|f| f.decl.binary == *binary)
            .unwrap_or_else(|| panic!("events/{binary} has no function in template.yaml"))
            .decl
            .logical_id
            .clone();
        let path = repo_root().join("events").join(binary).join(format!("{case}.json"));
        let event: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let result = stack.invoke(&function, "test-request", event).await;
        // Direct functions are settled here; HTTP responses go on to the checks below.
        let (want, result) = match (want, result) {
            (Http(want), Ok(result)) => (*want, result),
            (Returns, Ok(result)) => {
                if (*binary, *case) == ("check-task", "found")
                    && (result["id"] != TASK || result["status"] != "pending")
                {
                    failures.push(format!("{binary}/{case}: expected the fixture task, got {result}"));
                }
                continue;
            }
            (Gives(fields), Ok(result)) => {
                let fields: serde_json::Map<String, Value> = serde_json::from_str(fields).unwrap();
                for (name, value) in fields {
                    if result[&name] != value {
                        failures
                            .push(format!("{binary}/{case}: `{name}` is {} (want {value}) in {result}", result[&name]));
                    }
                }
                continue;
            }
            (Fails(want), Err(e)) => {
                if e.error_type != *want || e.error_message.is_empty() {
                    failures.push(format!("{binary}/{case}: failed with {e:?} (want errorType {want} and a message)"));
                }
                continue;
            }
            (want, got) => {
                failures.push(format!("{binary}/{case}: {got:?} (want {want:?})"));
                continue;
            }
        };
        let status = result["statusCode"].as_u64().unwrap_or(0) as u16;
        let body: Value =
            result["body"].as_str().map(|b| serde_json::from_str(b).unwrap_or(Value::Null)).unwrap_or(Value::Null);
        if status != want {
            failures.push(format!("{binary}/{case}: {status} (want {want}) {body}"));
            continue;
        }
        if status >= 400 && !(body["error"].is_string() && body["message"].is_string()) {
            failures.push(format!("{binary}/{case}: error body is not {{error, message}}: {body}"));
        }
        if status == 204 && result.get("body").is_some_and(|b| !b.is_null()) {
            failures.push(format!("{binary}/{case}: a 204 with a body"));
        }
        match (*binary, *case) {
            ("list-tasks", "by-status") | ("list-tasks", "first-page")
                if body["count"] != 1 || body["tasks"][0]["id"] != TASK =>
            {
                failures.push(format!("{binary}/{case}: expected the fixture task, got {body}"))
            }
            ("update-task", "valid") if body["status"] != "done" || body["version"] != 2 => {
                failures.push(format!("{binary}/{case}: {body}"))
            }
            ("create-task", "base64-body") if body["title"] != "Sent as base64" => {
                failures.push(format!("{binary}/{case}: {body}"))
            }
            _ => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

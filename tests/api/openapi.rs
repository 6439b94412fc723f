//! The API's contract, `openapi.yaml`, against the API: the document the stack serves at `GET /openapi.json` names
//! exactly the template's routes, and schemathesis, fuzzing every route with a valid token against that document,
//! finds no server error and no answer the document does not allow.

use local::local_apigw::routes;
use serde_json::Value;
use std::{collections::BTreeSet, path::Path, process::Output, time::Duration};
use system_tests::{TestApp, repo_root, spawn_app};
use tokio::process::Command;

const HTTP_METHODS: [&str; 8] = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

/// The document as the stack serves it, with no token.
async fn served_document(app: &TestApp) -> Value {
    let r = app.client.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    r.json().await.unwrap()
}

/// `(METHOD, path)` of every operation in the document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("the document has paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            HTTP_METHODS.iter().filter(|m| item.get(**m).is_some()).map(move |m| (m.to_ascii_uppercase(), path.clone()))
        })
        .collect()
}

#[tokio::test]
async fn the_served_document_names_exactly_the_templates_routes_no_more_no_fewer() {
    let app = spawn_app().await;
    let documented = operations(&served_document(&app).await);
    let declared: BTreeSet<(String, String)> = routes::function_routes(app.stack.template())
        .unwrap()
        .into_values()
        .flatten()
        .map(|r| (r.method, r.path))
        .collect();
    assert!(!declared.is_empty(), "the template declares routes");
    let undocumented: Vec<_> = declared.difference(&documented).collect();
    let undeclared: Vec<_> = documented.difference(&declared).collect();
    assert!(
        undocumented.is_empty() && undeclared.is_empty(),
        "routes the template declares but openapi.yaml does not: {undocumented:?}; \
         operations openapi.yaml documents but the template does not declare: {undeclared:?}"
    );
}

#[tokio::test]
async fn every_route_the_authorizer_guards_is_documented_as_needing_the_bearer_token() {
    let app = spawn_app().await;
    let doc = served_document(&app).await;
    assert_eq!(doc["components"]["securitySchemes"]["bearerAuth"]["scheme"], "bearer");
    let default = &doc["security"];
    for r in routes::function_routes(app.stack.template()).unwrap().into_values().flatten() {
        let op = &doc["paths"][&r.path][r.method.to_ascii_lowercase()];
        // An operation's own `security` replaces the document's; `[]` would say "no token needed".
        let security = op.get("security").unwrap_or(default);
        let needs_bearer = security.as_array().is_some_and(|alternatives| {
            !alternatives.is_empty() && alternatives.iter().all(|a| a.get("bearerAuth").is_some())
        });
        assert_eq!(needs_bearer, r.authorized, "{r}: documented security {security}");
    }
}

#[tokio::test]
async fn the_document_needs_no_token_and_is_served_for_get_only() {
    let app = spawn_app().await;
    served_document(&app).await;
    let r = app.client.post(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["message"], "Not Found");
}

/// `schemathesis --version`, or `None` when it is not installed (`run-tests` installs it).
async fn schemathesis_version() -> Option<String> {
    let out = Command::new("schemathesis").arg("--version").output().await.ok()?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// `schemathesis run` of `schema` against `app` as user `alice`, with our settings and `extra` arguments.
async fn schemathesis(app: &TestApp, schema: &str, extra: &[&str]) -> Output {
    let config = repo_root().join("tests/schemathesis.toml");
    let authorization = format!("Authorization: Bearer {}", app.token("alice"));
    let mut cmd = Command::new("schemathesis");
    cmd.arg("--config-file").arg(&config).arg("--no-color").arg("run").arg(schema);
    cmd.args(["--url", &app.base, "--header", &authorization]);
    // Bounded and reproducible: a fixed seed, no example database carried between runs, two workers for two cores.
    cmd.args(["--seed", "20261130", "--generation-database", "none", "--workers", "2", "--request-timeout", "10"]);
    cmd.args(extra);
    // Whatever schemathesis writes (reports, caches) goes to the test's own directory, not the repository.
    cmd.current_dir(app.data_dir.path()).env("NO_COLOR", "1").kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(170), cmd.output())
        .await
        .expect("schemathesis finished within its time budget")
        .expect("schemathesis runs")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Skips (with a note) only when schemathesis is not installed; a 3.x, whose flags differ, is a failure.
async fn schemathesis_4_or_skip() -> bool {
    let Some(version) = schemathesis_version().await else {
        eprintln!("NOTE: schemathesis is not installed, so the API was not fuzzed; `./run-tests` installs it");
        return false;
    };
    assert!(version.contains("version 4."), "these tests drive schemathesis 4.x's CLI; found `{version}`");
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_answer_that_contradicts_the_document() {
    if !schemathesis_4_or_skip().await {
        return;
    }
    let app = spawn_app().await;
    let schema = app.url("/openapi.json");
    // Every check (see tests/schemathesis.toml for the two that do not apply and why), every phase: the examples,
    // coverage of each constraint's edges, fuzzing, and stateful sequences that follow the document's links
    // (create → get/update/delete with the `ETag`, a page → its `next` page).
    let out = schemathesis(&app, &schema, &["--max-examples", "25"]).await;
    let report = text(&out);
    let summary: Vec<&str> = report.lines().filter(|l| l.contains("generated") || l.contains("Selected:")).collect();
    eprintln!("schemathesis: {}", summary.join(" / "));
    assert!(out.status.success(), "schemathesis found problems:\n{report}");
    let document: serde_json::Value = app.client.get(&schema).send().await.unwrap().json().await.unwrap();
    let operations: usize = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().keys().filter(|k| *k != "parameters").count())
        .sum();
    assert!(
        report.contains(&format!("Selected: {operations}/{operations}"))
            && report.contains(&format!("Tested: {operations}")),
        "not every one of the {operations} operations was fuzzed:\n{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fuzzing_fails_a_document_that_contradicts_the_api() {
    if !schemathesis_4_or_skip().await {
        return;
    }
    let app = spawn_app().await;
    // The served document, but claiming a profile's version is never above 0: every real profile contradicts it.
    let mut doc = served_document(&app).await;
    doc["components"]["schemas"]["Version"]["maximum"] = 0.into();
    let wrong = Path::new(app.data_dir.path()).join("wrong.json");
    std::fs::write(&wrong, doc.to_string()).unwrap();
    let out = schemathesis(
        &app,
        wrong.to_str().unwrap(),
        &["--include-operation-id", "getProfile", "--phases", "fuzzing", "--max-examples", "1"],
    )
    .await;
    let report = text(&out);
    assert!(!out.status.success(), "schemathesis passed an API that contradicts its document:\n{report}");
    assert!(report.contains("Response violates schema"), "{report}");
}

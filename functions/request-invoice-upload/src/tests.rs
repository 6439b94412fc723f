//! The handler with presigning by the S3 adapter against moto (in a fresh bucket per test) and the profiles in
//! SQLite, as the local stack keeps them; the presigned PUT made by a plain HTTP client, as a browser would.

use super::*;
use aws_adapters::testing::MotoServer;
use aws_adapters::{S3Addressing, S3Objects};
use aws_lambda_events::encodings::Body;
use domain::UserId;
use domain::invoice::service::Submission;
use domain::object::ObjectKey;
use domain::ports::ObjectGet;
use local_adapters::{LocalStore, SqliteProfiles};
use serde_json::{Value, json};

const ALICE: &str = "4f9d2c1e-7b3a-4c8e-9a21-5d6e7f8a9b0c";

struct World {
    uploads: Uploads<SqliteProfiles, S3Objects>,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let profiles = LocalStore::open(&dir.path().join("local.db")).unwrap().profiles("UsersTable").unwrap();
    let objects = S3Objects::new(&MotoServer::shared().sdk_config(), S3Addressing::PathStyle);
    // A fresh bucket per test, so tests run concurrently on the one moto.
    let bucket = BucketName::parse(&format!("uploads-{:016x}", rand::random::<u64>())).unwrap();
    objects.client().create_bucket().bucket(bucket.as_str()).send().await.expect("moto creates the bucket");
    World { uploads: Uploads { profiles, objects, bucket }, _dir: dir }
}

/// `events/request-invoice-upload/<case>.json`.
fn sample(case: &str) -> HttpEvent {
    let path = format!("{}/../../events/request-invoice-upload/{case}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn with_body(body: &Value) -> HttpEvent {
    let mut event = sample("valid");
    event.body = Some(body.to_string());
    event
}

fn body(response: &HttpResponse) -> Value {
    let Some(Body::Text(text)) = &response.body else { panic!("no body: {response:?}") };
    serde_json::from_str(text).unwrap()
}

#[tokio::test]
async fn every_sample_event_gives_its_documented_status() {
    let world = world().await;
    for (case, status) in [
        ("valid", 200),
        ("no-file-name", 200),
        ("too-large", 422),
        ("not-a-pdf-name", 422),
        ("malformed-json", 400),
        ("no-claims", 401),
    ] {
        let response = handle(&world.uploads, sample(case)).await;
        assert_eq!(response.status_code, status, "{case}: {:?}", response.body);
    }
}

#[tokio::test]
async fn the_presigned_put_uploads_exactly_the_declared_pdf_to_a_key_that_starts_the_callers_pipeline() {
    let world = world().await;
    let pdf = b"%PDF-1.7\n".repeat(1000);
    let response =
        handle(&world.uploads, with_body(&json!({"size": pdf.len(), "file_name": "Rechnung März.pdf"}))).await;
    assert_eq!(response.status_code, 200, "{:?}", response.body);
    let ticket = body(&response);
    assert_eq!(ticket["method"], "PUT");
    assert_eq!(ticket["headers"]["content-type"], "application/pdf");
    assert_eq!(ticket["headers"]["content-length"], pdf.len().to_string());
    let key = ticket["key"].as_str().unwrap().to_owned();
    let prefix = format!("invoices/{ALICE}/");
    assert!(key.starts_with(&prefix) && key.ends_with("-Rechnung_M_rz.pdf"), "{key}");
    assert_eq!(key.len(), prefix.len() + 26 + "-Rechnung_M_rz.pdf".len(), "a ULID in front: {key}");
    assert!(ticket["upload_url"].as_str().unwrap().contains(&key), "{ticket}");
    let expires_at = time::OffsetDateTime::parse(
        ticket["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let left = expires_at - domain::now();
    assert!(left > time::Duration::seconds(290) && left <= time::Duration::seconds(301), "{left}");

    // What a browser does with the ticket.
    let mut put = reqwest::Client::new().put(ticket["upload_url"].as_str().unwrap()).body(pdf.clone());
    for (name, value) in ticket["headers"].as_object().unwrap() {
        put = put.header(name, value.as_str().unwrap());
    }
    let uploaded = put.send().await.unwrap();
    assert!(uploaded.status().is_success(), "{}", uploaded.status());
    let stored = world.uploads.objects.get_object(&world.uploads.bucket, &ObjectKey::parse(&key).unwrap()).await;
    assert_eq!(stored.unwrap().expect("uploaded").bytes, pdf);

    // The notification of that upload is a submission of Alice's.
    let submission = Submission::from_notification(world.uploads.bucket.as_str(), &key, "etag", None, domain::now());
    assert_eq!(submission.unwrap().expect("an invoice submission").owner.as_str(), ALICE);

    let again = body(&handle(&world.uploads, with_body(&json!({"size": 1, "file_name": "Rechnung März.pdf"}))).await);
    assert_ne!(again["key"], ticket["key"], "every request gets its own key");
}

#[tokio::test]
async fn without_a_file_name_the_key_is_the_ulid_as_a_pdf() {
    let world = world().await;
    let ticket = body(&handle(&world.uploads, sample("no-file-name")).await);
    let key = ticket["key"].as_str().unwrap();
    let name = key.strip_prefix(&format!("invoices/{ALICE}/")).unwrap();
    assert!(name.len() == 30 && name.ends_with(".pdf") && !name.contains('-'), "{key}");
}

#[tokio::test]
async fn the_first_request_creates_the_callers_profile_so_a_refusal_has_an_address_to_go_to() {
    let world = world().await;
    let alice = UserId::parse(ALICE).unwrap();
    assert_eq!(world.uploads.profiles.get_profile(&alice).await.unwrap(), None);
    assert_eq!(handle(&world.uploads, sample("valid")).await.status_code, 200);
    let profile = world.uploads.profiles.get_profile(&alice).await.unwrap().expect("created");
    assert_eq!(profile.email.unwrap().as_str(), "alice@example.com");
}

#[tokio::test]
async fn a_body_of_the_wrong_shape_is_refused_naming_what_is_wrong_and_creates_nothing() {
    let world = world().await;
    for (bad, says) in [
        (json!({}), "`size` is required"),
        (json!({"size": "10"}), "`size` must be a number"),
        (json!({"size": 1.5}), "whole number"),
        (json!({"size": 0}), "at least 1 byte"),
        (json!({"size": 20_971_521}), "at most 20971520 bytes"),
        (json!({"size": 10, "file_name": "invoice.docx"}), "ending in `.pdf`"),
        (json!({"size": 10, "file_name": ""}), "must not be empty"),
        (json!({"size": 10, "file_name": ["a.pdf"]}), "`file_name` must be a string"),
        (json!({"size": 10, "content_type": "application/pdf"}), "unknown field `content_type`"),
        (json!([10]), "JSON object"),
    ] {
        let response = handle(&world.uploads, with_body(&bad)).await;
        assert_eq!(response.status_code, 422, "{bad}");
        let message = body(&response)["message"].as_str().unwrap().to_owned();
        assert!(message.contains(says), "{bad}: {message}");
    }
    assert_eq!(world.uploads.profiles.get_profile(&UserId::parse(ALICE).unwrap()).await.unwrap(), None);
    let at_the_limit = json!({"size": 20 * 1024 * 1024});
    assert_eq!(handle(&world.uploads, with_body(&at_the_limit)).await.status_code, 200);
}

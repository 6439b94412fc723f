//! S3 on the one endpoint, judged by the real AWS SDK for Rust (`aws-sdk-s3`, path-style): the template's bucket,
//! objects round trip, notifications reach the template's functions through Lambda's asynchronous invocation
//! (filters honoured, failures dead-lettered), and presigned URLs made by the stack's object port work for a plain
//! HTTP client.

use crate::async_invoke::{async_app, receive_one};
use aws_sdk_s3::{Client, error::ProvideErrorMetadata, primitives::ByteStream};
use domain::{
    object::{BucketName, ContentType, Expiry, ObjectKey},
    ports::{ObjectGet, ObjectPresign},
};
use serde_json::Value;
use std::{sync::atomic::Ordering, time::Duration};
use system_tests::{TestApp, sdk_config, spawn_app};

/// Path-style, as a local endpoint needs (`http://127.0.0.1:port/bucket/key`).
pub fn client(app: &TestApp, secret: &str) -> Client {
    Client::from_conf(sdk_config!(aws_sdk_s3, app, secret).to_builder().force_path_style(true).build())
}

async fn put(s3: &Client, bucket: &str, key: &str, body: &'static [u8]) {
    s3.put_object().bucket(bucket).key(key).body(ByteStream::from_static(body)).send().await.expect("PutObject");
}

#[tokio::test]
async fn the_templates_uploads_bucket_exists_and_objects_round_trip_through_the_sdk() {
    let app = spawn_app().await;
    let s3 = client(&app, "test");
    let bucket = app.stack.template().physical_name("UploadsBucket").unwrap();
    let buckets = s3.list_buckets().send().await.expect("ListBuckets");
    assert!(buckets.buckets().iter().any(|b| b.name() == Some(bucket.as_str())), "{buckets:?}");
    s3.put_object()
        .bucket(&bucket)
        .key("invoices/2026/a b+c.pdf")
        .content_type("application/pdf")
        .metadata("submitter", "alice")
        .body(ByteStream::from_static(b"%PDF-1.7 ..."))
        .send()
        .await
        .expect("PutObject");
    let got = s3.get_object().bucket(&bucket).key("invoices/2026/a b+c.pdf").send().await.expect("GetObject");
    assert_eq!(got.content_type(), Some("application/pdf"));
    assert_eq!(got.metadata().unwrap()["submitter"], "alice");
    assert_eq!(got.body.collect().await.unwrap().into_bytes().as_ref(), b"%PDF-1.7 ...");
    let listed = s3.list_objects_v2().bucket(&bucket).prefix("invoices/").send().await.unwrap();
    assert_eq!(listed.key_count(), Some(1));
}

#[tokio::test]
async fn a_put_that_matches_a_functions_s3_filter_invokes_it_with_the_s3_event_and_others_do_not() {
    let (app, recorder, _) = async_app(tempfile::tempdir().unwrap()).await;
    let s3 = client(&app, "test");
    put(&s3, "test-uploads", "uploads/a b.jpg", b"jpeg bytes").await;
    put(&s3, "test-uploads", "uploads/not-a-photo.png", b"png").await;
    put(&s3, "test-uploads", "elsewhere/c.jpg", b"jpeg").await;
    for _ in 0..200 {
        if recorder.calls.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await; // time for a wrong extra notification to show up
    let events = recorder.events.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "only uploads/*.jpg: {events:?}");
    let record = &events[0]["Records"][0];
    assert_eq!(record["eventSource"], "aws:s3");
    assert_eq!(record["eventName"], "ObjectCreated:Put");
    assert_eq!(record["s3"]["bucket"]["name"], "test-uploads");
    assert_eq!(record["s3"]["bucket"]["arn"], "arn:aws:s3:::test-uploads");
    assert_eq!(record["s3"]["object"]["key"], "uploads/a+b.jpg", "URL-encoded as AWS sends it");
    assert_eq!(record["s3"]["object"]["size"], 10);
    assert_eq!(record["s3"]["object"]["eTag"], md5_hex(b"jpeg bytes"));
    assert_eq!(record["s3"]["configurationId"], "Photos");
}

fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn an_upload_whose_function_always_fails_ends_in_the_functions_dead_letter_queue() {
    let (app, _, failing) = async_app(tempfile::tempdir().unwrap()).await;
    put(&client(&app, "test"), "test-uploads", "broken/report.csv", b"a,b").await;
    let dead = receive_one(&app, "failures").await;
    let event: Value = serde_json::from_str(dead.body().unwrap()).unwrap();
    assert_eq!(event["Records"][0]["s3"]["object"]["key"], "broken/report.csv");
    assert_eq!(failing.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_presigned_put_from_the_object_port_works_for_a_plain_http_client_and_only_as_signed() {
    let (app, recorder, _) = async_app(tempfile::tempdir().unwrap()).await;
    let objects = app.stack.objects();
    let (bucket, key) = (BucketName::parse("test-uploads").unwrap(), ObjectKey::parse("uploads/me.jpg").unwrap());
    let body = b"\xff\xd8\xff\xe0 a tiny jpeg".to_vec();
    let jpeg = ContentType::parse("image/jpeg").unwrap();
    let presigned =
        objects.presign_put(&bucket, &key, &jpeg, body.len() as u64, Expiry::from_secs(300).unwrap()).await.unwrap();
    assert!(presigned.url.starts_with(&app.base), "{}", presigned.url);

    let http = reqwest::Client::new();
    let wrong_type = http
        .put(&presigned.url)
        .header("content-type", "image/png")
        .header("content-length", body.len())
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), 403, "a content type other than the signed one is refused");
    let mut request = http.put(&presigned.url).body(body.clone());
    for (k, v) in &presigned.headers {
        request = request.header(k, v);
    }
    let uploaded = request.send().await.unwrap();
    assert_eq!(uploaded.status(), 200, "{}", uploaded.text().await.unwrap());

    let stored = objects.get_object(&bucket, &key).await.unwrap().expect("the upload is stored");
    assert_eq!((&stored.bytes, stored.content_type), (&body, Some(jpeg)));
    let get = objects.presign_get(&bucket, &key, Expiry::from_secs(60).unwrap()).await.unwrap();
    assert_eq!(http.get(&get.url).send().await.unwrap().bytes().await.unwrap().as_ref(), body.as_slice());
    for _ in 0..200 {
        if recorder.calls.load(Ordering::SeqCst) > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the presigned upload notified no function");
}

#[tokio::test]
async fn an_s3_request_signed_with_the_wrong_secret_is_refused_and_stores_nothing() {
    let app = spawn_app().await;
    let bucket = app.stack.template().physical_name("UploadsBucket").unwrap();
    let e = client(&app, "wrong")
        .put_object()
        .bucket(&bucket)
        .key("x")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("SignatureDoesNotMatch"), "{e:?}");
    let listed = client(&app, "test").list_objects_v2().bucket(&bucket).send().await.unwrap();
    assert_eq!(listed.key_count(), Some(0));
}

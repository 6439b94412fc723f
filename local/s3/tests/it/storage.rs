//! What the store keeps: keys as data, objects across restarts, nothing outside the data directory, no blob
//! without an index row.

use crate::{code, files, spawn_app, spawn_in};
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use std::collections::BTreeMap;

#[tokio::test]
async fn hostile_keys_round_trip_exactly_and_stay_inside_the_data_directory() {
    let outside = tempfile::tempdir().unwrap();
    let app = spawn_app().await;
    let c = &app.client;
    let escape = format!("../../../../{}/escaped", outside.path().display());
    let long = "k".repeat(1024);
    let keys = [
        escape.as_str(),
        "../x",
        "a//b",
        "%2F",
        "a%2Fb",
        "/leading",
        "ünïcødé/名前 ✓",
        "sp ace+plus",
        long.as_str(),
        ".",
        "..",
        "a/./b/../c",
    ];
    for (i, key) in keys.iter().enumerate() {
        let body = format!("body {i}");
        c.put_object().bucket("uploads").key(*key).body(ByteStream::from(body.into_bytes())).send().await.unwrap();
    }
    for (i, key) in keys.iter().enumerate() {
        let got = c.get_object().bucket("uploads").key(*key).send().await.unwrap();
        assert_eq!(got.body.collect().await.unwrap().into_bytes().as_ref(), format!("body {i}").as_bytes(), "{key}");
    }
    let listed: Vec<String> = c
        .list_objects_v2()
        .bucket("uploads")
        .send()
        .await
        .unwrap()
        .contents()
        .iter()
        .map(|o| o.key().unwrap().to_owned())
        .collect();
    let mut expected: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    expected.sort(); // Rust's String order is byte order, S3's listing order.
    assert_eq!(listed, expected);

    let too_long = "k".repeat(1025);
    let e =
        c.put_object().bucket("uploads").key(too_long).body(ByteStream::from_static(b"x")).send().await.unwrap_err();
    assert_eq!(code(&e), "KeyTooLongError");

    assert!(files(outside.path()).is_empty());
    let root = app.dir.path().canonicalize().unwrap();
    for f in files(app.dir.path()) {
        let f = f.canonicalize().unwrap();
        assert!(f.starts_with(&root), "{f:?}");
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(!name.contains("escaped") && !name.contains("body"), "{name}");
    }
}

#[tokio::test]
async fn objects_survive_a_restart_and_orphaned_blobs_are_swept() {
    let first = spawn_app().await;
    first.client.create_bucket().bucket("kept").send().await.unwrap();
    first.client.put_object().bucket("kept").key("a/b").body(ByteStream::from_static(b"durable")).send().await.unwrap();
    let dir = first.dir.clone();
    // A blob a crash left between staging and committing.
    let orphan = dir.path().join("s3/objects/01ARZ3NDEKTSV4RRFFQ69G5FAV");
    std::fs::write(&orphan, b"torn").unwrap();
    drop(first);

    let second = spawn_in(dir).await;
    let got = second.client.get_object().bucket("kept").key("a/b").send().await.unwrap();
    assert_eq!(got.body.collect().await.unwrap().into_bytes().as_ref(), b"durable");
    assert!(!orphan.exists());
    let objects = std::fs::read_dir(second.dir.path().join("s3/objects")).unwrap().count();
    assert_eq!(objects, 1);
}

#[tokio::test]
async fn replacing_an_object_leaves_one_blob_and_the_in_process_api_sees_http_writes() {
    let app = spawn_app().await;
    for v in ["one", "two", "three"] {
        app.client
            .put_object()
            .bucket("uploads")
            .key("same")
            .body(ByteStream::from_static(v.as_bytes()))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(std::fs::read_dir(app.dir.path().join("s3/objects")).unwrap().count(), 1);
    let got = app.s3.get_object("uploads", "same").await.unwrap();
    assert_eq!(got.body.as_ref(), b"three");

    let meta = BTreeMap::from([("Source".to_owned(), "job".to_owned())]);
    let info =
        app.s3.put_object("uploads", "inproc/x", Bytes::from_static(b"abc"), Some("text/csv"), meta).await.unwrap();
    assert_eq!(info.etag, "900150983cd24fb0d6963f7d28e17f72");
    let head = app.client.head_object().bucket("uploads").key("inproc/x").send().await.unwrap();
    assert_eq!(head.content_type(), Some("text/csv"));
    assert_eq!(head.metadata().unwrap().get("source").map(String::as_str), Some("job"));
    let listed = app.s3.list_objects("uploads", "inproc/").await.unwrap();
    assert_eq!(listed.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(), ["inproc/x"]);
    assert!(app.s3.delete_object("uploads", "inproc/x").await.unwrap());
    assert!(!app.s3.delete_object("uploads", "inproc/x").await.unwrap());
    assert!(app.s3.list_buckets().await.unwrap().iter().any(|b| b.name == "uploads"));
    assert!(matches!(app.s3.get_object("nope", "k").await, Err(local_s3::S3Error::NoSuchBucket(_))));
}

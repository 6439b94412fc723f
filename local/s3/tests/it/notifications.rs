//! Bucket notifications: the template's S3 triggers, the event S3 sends, its filters.

use crate::spawn_app;
use aws_sdk_s3::{
    primitives::ByteStream,
    types::{CompletedMultipartUpload, CompletedPart},
};
use serde_json::json;

#[tokio::test]
async fn the_template_s_s3_triggers_are_exposed_with_their_filters() {
    let app = spawn_app().await;
    let mut configs = app.s3.notifications().to_vec();
    configs.sort_by(|a, b| a.function.cmp(&b.function));
    assert_eq!(configs.len(), 2);
    assert_eq!(configs[0].function, "OnCsv");
    assert_eq!(configs[0].configuration_id, "CsvArrived");
    assert_eq!(configs[0].bucket, "uploads");
    assert_eq!(configs[0].events, ["s3:ObjectCreated:*"]);
    assert_eq!((configs[0].prefix.as_deref(), configs[0].suffix.as_deref()), (Some("in/"), Some(".csv")));
    assert_eq!(configs[1].events, ["s3:ObjectRemoved:*"]);
}

#[tokio::test]
async fn a_matching_put_sends_the_event_exactly_as_s3_does_and_filters_are_honoured() {
    let app = spawn_app().await;
    let c = &app.client;
    for key in ["out/skip.csv", "in/skip.json", "in/my report.csv"] {
        c.put_object().bucket("uploads").key(key).body(ByteStream::from_static(b"a,b\n")).send().await.unwrap();
    }
    let events = app.recorder.wait_for(1).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let (function, event) = &events[0];
    assert_eq!(function, "OnCsv");
    let record = &event["Records"][0];
    let time = record["eventTime"].as_str().unwrap();
    assert!(time.len() == 24 && time.ends_with('Z') && time.as_bytes()[19] == b'.', "{time}");
    let sequencer = record["s3"]["object"]["sequencer"].as_str().unwrap();
    assert!(sequencer.chars().all(|c| c.is_ascii_hexdigit()));
    let request_id = record["responseElements"]["x-amz-request-id"].as_str().unwrap();
    assert!(!request_id.is_empty());
    let mut shape = event.clone();
    shape["Records"][0]["eventTime"] = json!("T");
    shape["Records"][0]["s3"]["object"]["sequencer"] = json!("S");
    shape["Records"][0]["responseElements"] = json!("R");
    assert_eq!(
        shape,
        json!({"Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "us-east-1",
            "eventTime": "T",
            "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "AWS:test"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": "R",
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "CsvArrived",
                "bucket": {"name": "uploads", "ownerIdentity": {"principalId": "123456789012"}, "arn": "arn:aws:s3:::uploads"},
                "object": {"key": "in/my+report.csv", "size": 4, "eTag": crate::objects::hex(&crate::objects::md5_of(b"a,b\n")), "sequencer": "S"}
            }
        }]})
    );

    // A failed write sends nothing; later writes to the key get larger sequencers.
    let refused = c.put_object().bucket("uploads").key("in/my report.csv").if_none_match("*");
    assert!(refused.body(ByteStream::from_static(b"x")).send().await.is_err());
    c.copy_object().bucket("uploads").key("in/my report.csv").copy_source("uploads/in/skip.json").send().await.unwrap();
    c.delete_object().bucket("uploads").key("in/my report.csv").send().await.unwrap();
    let events = app.recorder.wait_for(3).await;
    assert_eq!(events.len(), 3, "{events:?}");
    let names: Vec<_> =
        events.iter().map(|(f, e)| (f.as_str(), e["Records"][0]["eventName"].as_str().unwrap())).collect();
    assert_eq!(
        names,
        [("OnCsv", "ObjectCreated:Put"), ("OnCsv", "ObjectCreated:Copy"), ("OnDelete", "ObjectRemoved:Delete")]
    );
    let seqs: Vec<_> =
        events.iter().map(|(_, e)| e["Records"][0]["s3"]["object"]["sequencer"].as_str().unwrap().to_owned()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert_eq!(events[2].1["Records"][0]["s3"]["object"], json!({"key": "in/my+report.csv", "sequencer": seqs[2]}));
}

#[tokio::test]
async fn completing_a_multipart_upload_and_an_in_process_put_notify_as_http_puts_do() {
    let app = spawn_app().await;
    let c = &app.client;
    let up = c.create_multipart_upload().bucket("uploads").key("in/big.csv").send().await.unwrap();
    let id = up.upload_id().unwrap();
    let part = c.upload_part().bucket("uploads").key("in/big.csv").upload_id(id).part_number(1);
    let part = part.body(ByteStream::from_static(b"x,y\n")).send().await.unwrap();
    c.complete_multipart_upload()
        .bucket("uploads")
        .key("in/big.csv")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(CompletedPart::builder().part_number(1).e_tag(part.e_tag().unwrap()).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    app.s3
        .put_object("uploads", "in/direct.csv", bytes::Bytes::from_static(b"1"), None, Default::default())
        .await
        .unwrap();
    let events = app.recorder.wait_for(2).await;
    let names: Vec<_> = events.iter().map(|(_, e)| e["Records"][0]["eventName"].as_str().unwrap()).collect();
    assert_eq!(names, ["ObjectCreated:CompleteMultipartUpload", "ObjectCreated:Put"]);
    assert!(events[0].1["Records"][0]["s3"]["object"]["eTag"].as_str().unwrap().ends_with("-1"));
}

//! Object and bucket operations through the Rust SDK.

use crate::{client, code, spawn_app, status};
use aws_sdk_s3::{
    presigning::PresigningConfig,
    primitives::{ByteStream, DateTime},
    types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier},
};
use std::time::{Duration, SystemTime};

#[tokio::test]
async fn an_object_round_trips_with_its_metadata_content_type_and_md5_etag() {
    let app = spawn_app().await;
    let c = &app.client;
    let put = c
        .put_object()
        .bucket("uploads")
        .key("docs/a.txt")
        .body(ByteStream::from_static(b"hello world"))
        .content_type("text/plain")
        .content_disposition("attachment; filename=\"a.txt\"")
        .cache_control("max-age=60")
        .metadata("Owner", "alice")
        .send()
        .await
        .unwrap();
    assert_eq!(put.e_tag(), Some("\"5eb63bbbe01eeed093cb22bb8f5acdc3\""));

    let got = c.get_object().bucket("uploads").key("docs/a.txt").send().await.unwrap();
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(got.content_disposition(), Some("attachment; filename=\"a.txt\""));
    assert_eq!(got.cache_control(), Some("max-age=60"));
    assert_eq!(got.metadata().unwrap().get("owner").map(String::as_str), Some("alice"));
    assert_eq!(got.e_tag(), put.e_tag());
    assert_eq!(got.body.collect().await.unwrap().into_bytes().as_ref(), b"hello world");

    let overridden = c
        .get_object()
        .bucket("uploads")
        .key("docs/a.txt")
        .response_content_type("application/octet-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(overridden.content_type(), Some("application/octet-stream"));

    let head = c.head_object().bucket("uploads").key("docs/a.txt").send().await.unwrap();
    assert_eq!(head.content_length(), Some(11));

    let copy =
        c.copy_object().bucket("uploads").key("docs/b.txt").copy_source("uploads/docs/a.txt").send().await.unwrap();
    assert_eq!(copy.copy_object_result().unwrap().e_tag(), put.e_tag());
    let copied = c.head_object().bucket("uploads").key("docs/b.txt").send().await.unwrap();
    assert_eq!(copied.metadata().unwrap().get("owner").map(String::as_str), Some("alice"));

    c.delete_object().bucket("uploads").key("docs/a.txt").send().await.unwrap();
    let gone = c.get_object().bucket("uploads").key("docs/a.txt").send().await.unwrap_err();
    assert_eq!(code(&gone), "NoSuchKey");
    // Deleting what is not there is not an error, as on S3.
    c.delete_object().bucket("uploads").key("docs/a.txt").send().await.unwrap();

    let batch = c
        .delete_objects()
        .bucket("uploads")
        .delete(
            Delete::builder()
                .objects(ObjectIdentifier::builder().key("docs/b.txt").build().unwrap())
                .objects(ObjectIdentifier::builder().key("never").build().unwrap())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(batch.deleted().len(), 2);
    assert!(c.list_objects_v2().bucket("uploads").send().await.unwrap().contents().is_empty());
}

#[tokio::test]
async fn buckets_are_created_listed_checked_and_deleted_as_on_aws() {
    let app = spawn_app().await;
    let c = &app.client;
    let names = |l: aws_sdk_s3::operation::list_buckets::ListBucketsOutput| {
        l.buckets().iter().filter_map(|b| b.name().map(str::to_owned)).collect::<Vec<_>>()
    };
    let start = names(c.list_buckets().send().await.unwrap());
    assert!(start.contains(&"uploads".to_owned()));
    assert!(start.iter().any(|n| n.starts_with("local-generated-")), "{start:?}");

    c.create_bucket().bucket("mine").send().await.unwrap();
    c.head_bucket().bucket("mine").send().await.unwrap();
    c.put_object().bucket("mine").key("k").body(ByteStream::from_static(b"x")).send().await.unwrap();
    let not_empty = c.delete_bucket().bucket("mine").send().await.unwrap_err();
    assert_eq!(code(&not_empty), "BucketNotEmpty");
    c.delete_object().bucket("mine").key("k").send().await.unwrap();
    c.delete_bucket().bucket("mine").send().await.unwrap();
    let missing = c.head_bucket().bucket("mine").send().await.unwrap_err();
    assert_eq!(status(&missing), 404);
    let no_bucket = c.put_object().bucket("mine").key("k").body(ByteStream::from_static(b"x")).send().await;
    assert_eq!(code(&no_bucket.unwrap_err()), "NoSuchBucket");
    let bad = c.create_bucket().bucket("Bad_Name").send().await.unwrap_err();
    assert_eq!(code(&bad), "InvalidBucketName");
}

#[tokio::test]
async fn listing_v2_pages_2500_keys_by_prefix_delimiter_start_after_and_continuation() {
    let app = spawn_app().await;
    let c = &app.client;
    let mut expected = Vec::new();
    let mut puts = Vec::new();
    for i in 0..2500 {
        let key = format!("logs/{}/{i:05}", i % 5);
        expected.push(key.clone());
        let c = c.clone();
        puts.push(tokio::spawn(async move {
            c.put_object().bucket("uploads").key(key).body(ByteStream::from_static(b"x")).send().await.unwrap();
        }));
        if puts.len() == 32 {
            for p in puts.drain(..) {
                p.await.unwrap();
            }
        }
    }
    for p in puts {
        p.await.unwrap();
    }
    c.put_object().bucket("uploads").key("other").body(ByteStream::from_static(b"x")).send().await.unwrap();
    expected.sort();

    let mut seen = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let page = c
            .list_objects_v2()
            .bucket("uploads")
            .prefix("logs/")
            .max_keys(1000)
            .set_continuation_token(token)
            .send()
            .await
            .unwrap();
        pages += 1;
        seen.extend(page.contents().iter().map(|o| o.key().unwrap().to_owned()));
        token = page.next_continuation_token().map(str::to_owned);
        if !page.is_truncated().unwrap() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, expected);

    let rolled = c.list_objects_v2().bucket("uploads").prefix("logs/").delimiter("/").send().await.unwrap();
    let prefixes: Vec<_> = rolled.common_prefixes().iter().map(|p| p.prefix().unwrap()).collect();
    assert_eq!(prefixes, ["logs/0/", "logs/1/", "logs/2/", "logs/3/", "logs/4/"]);
    assert!(rolled.contents().is_empty());

    let two = c.list_objects_v2().bucket("uploads").delimiter("/").max_keys(1).send().await.unwrap();
    assert_eq!(two.common_prefixes().len(), 1);
    let rest = c
        .list_objects_v2()
        .bucket("uploads")
        .delimiter("/")
        .continuation_token(two.next_continuation_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.contents().iter().map(|o| o.key().unwrap()).collect::<Vec<_>>(), ["other"]);

    let after = c.list_objects_v2().bucket("uploads").start_after("logs/4/02495").send().await.unwrap();
    let keys: Vec<_> = after.contents().iter().map(|o| o.key().unwrap()).collect();
    assert_eq!(keys, ["logs/4/02499", "other"]);

    let v1 = c.list_objects().bucket("uploads").prefix("logs/0/").marker("logs/0/02480").send().await.unwrap();
    let keys: Vec<_> = v1.contents().iter().map(|o| o.key().unwrap()).collect();
    assert_eq!(keys, ["logs/0/02485", "logs/0/02490", "logs/0/02495"]);
}

#[tokio::test]
async fn a_range_get_answers_206_with_content_range_and_an_unsatisfiable_range_416() {
    let app = spawn_app().await;
    let c = &app.client;
    c.put_object().bucket("uploads").key("r").body(ByteStream::from_static(b"0123456789")).send().await.unwrap();
    let part = c.get_object().bucket("uploads").key("r").range("bytes=2-5").send().await.unwrap();
    assert_eq!(part.content_range(), Some("bytes 2-5/10"));
    assert_eq!(part.body.collect().await.unwrap().into_bytes().as_ref(), b"2345");
    let tail = c.get_object().bucket("uploads").key("r").range("bytes=-3").send().await.unwrap();
    assert_eq!(tail.body.collect().await.unwrap().into_bytes().as_ref(), b"789");
    let bad = c.get_object().bucket("uploads").key("r").range("bytes=20-30").send().await.unwrap_err();
    assert_eq!((status(&bad), code(&bad).as_str()), (416, "InvalidRange"));
}

#[tokio::test]
async fn a_multipart_upload_assembles_its_parts_under_the_aws_etag_and_refuses_bad_part_lists() {
    let app = spawn_app().await;
    let c = &app.client;
    let part_size = 5 * 1024 * 1024;
    let bodies: Vec<Vec<u8>> = (0..3u8).map(|i| vec![b'a' + i; part_size]).chain([b"tail".to_vec()]).collect();
    let create =
        c.create_multipart_upload().bucket("uploads").key("big.bin").content_type("application/x-big").send().await;
    let upload = create.unwrap().upload_id().unwrap().to_owned();
    let mut parts = Vec::new();
    let mut md5s = Vec::new();
    for (i, body) in bodies.iter().enumerate() {
        let n = i as i32 + 1;
        let out = c
            .upload_part()
            .bucket("uploads")
            .key("big.bin")
            .upload_id(&upload)
            .part_number(n)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .unwrap();
        md5s.extend_from_slice(&md5_of(body));
        parts.push(CompletedPart::builder().part_number(n).e_tag(out.e_tag().unwrap()).build());
    }
    let listed = c.list_parts().bucket("uploads").key("big.bin").upload_id(&upload).send().await.unwrap();
    assert_eq!(listed.parts().len(), 4);
    let uploads = c.list_multipart_uploads().bucket("uploads").send().await.unwrap();
    assert_eq!(uploads.uploads().len(), 1);

    let reversed = CompletedMultipartUpload::builder().set_parts(Some(parts.iter().rev().cloned().collect())).build();
    let bad_order =
        c.complete_multipart_upload().bucket("uploads").key("big.bin").upload_id(&upload).multipart_upload(reversed);
    assert_eq!(code(&bad_order.send().await.unwrap_err()), "InvalidPartOrder");
    let wrong = CompletedMultipartUpload::builder()
        .parts(CompletedPart::builder().part_number(1).e_tag("\"00000000000000000000000000000000\"").build())
        .build();
    let bad_part =
        c.complete_multipart_upload().bucket("uploads").key("big.bin").upload_id(&upload).multipart_upload(wrong);
    assert_eq!(code(&bad_part.send().await.unwrap_err()), "InvalidPart");

    let done = c
        .complete_multipart_upload()
        .bucket("uploads")
        .key("big.bin")
        .upload_id(&upload)
        .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
        .send()
        .await
        .unwrap();
    let want = format!("\"{}-4\"", hex(&md5_of(&md5s)));
    assert_eq!(done.e_tag(), Some(want.as_str()));
    let got = c.get_object().bucket("uploads").key("big.bin").send().await.unwrap();
    assert_eq!(got.content_type(), Some("application/x-big"));
    assert_eq!(got.e_tag(), Some(want.as_str()));
    assert_eq!(got.body.collect().await.unwrap().into_bytes().to_vec(), bodies.concat());
    let gone = c.list_parts().bucket("uploads").key("big.bin").upload_id(&upload).send().await.unwrap_err();
    assert_eq!(code(&gone), "NoSuchUpload");

    // A non-last part under 5 MiB is refused at completion.
    let small = c.create_multipart_upload().bucket("uploads").key("small").send().await.unwrap();
    let id = small.upload_id().unwrap();
    let mut parts = Vec::new();
    for n in 1..=2 {
        let out = c.upload_part().bucket("uploads").key("small").upload_id(id).part_number(n);
        let out = out.body(ByteStream::from_static(b"tiny")).send().await.unwrap();
        parts.push(CompletedPart::builder().part_number(n).e_tag(out.e_tag().unwrap()).build());
    }
    let complete = c.complete_multipart_upload().bucket("uploads").key("small").upload_id(id);
    let err =
        complete.multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build()).send().await;
    assert_eq!(code(&err.unwrap_err()), "EntityTooSmall");
    c.abort_multipart_upload().bucket("uploads").key("small").upload_id(id).send().await.unwrap();
    let aborted = c.abort_multipart_upload().bucket("uploads").key("small").upload_id(id).send().await;
    assert_eq!(code(&aborted.unwrap_err()), "NoSuchUpload");
}

#[tokio::test]
async fn conditional_requests_answer_412_and_304_as_s3_does() {
    let app = spawn_app().await;
    let c = &app.client;
    let put = c.put_object().bucket("uploads").key("c").body(ByteStream::from_static(b"v1")).send().await.unwrap();
    let etag = put.e_tag().unwrap();
    c.get_object().bucket("uploads").key("c").if_match(etag).send().await.unwrap();
    let failed = c.get_object().bucket("uploads").key("c").if_match("\"nope\"").send().await.unwrap_err();
    assert_eq!(status(&failed), 412);
    let cached = c.get_object().bucket("uploads").key("c").if_none_match(etag).send().await.unwrap_err();
    assert_eq!(status(&cached), 304);
    let later = DateTime::from(SystemTime::now() + Duration::from_secs(3600));
    let earlier = DateTime::from(SystemTime::now() - Duration::from_secs(3600));
    let not_modified = c.head_object().bucket("uploads").key("c").if_modified_since(later).send().await.unwrap_err();
    assert_eq!(status(&not_modified), 304);
    let too_new = c.get_object().bucket("uploads").key("c").if_unmodified_since(earlier).send().await.unwrap_err();
    assert_eq!(status(&too_new), 412);

    let exists = c.put_object().bucket("uploads").key("c").if_none_match("*").body(ByteStream::from_static(b"v2"));
    assert_eq!(status(&exists.send().await.unwrap_err()), 412);
    let stale = c.put_object().bucket("uploads").key("c").if_match("\"stale\"").body(ByteStream::from_static(b"v2"));
    assert_eq!(status(&stale.send().await.unwrap_err()), 412);
    c.put_object().bucket("uploads").key("c").if_match(etag).body(ByteStream::from_static(b"v2")).send().await.unwrap();

    let copy = c.copy_object().bucket("uploads").key("d").copy_source("uploads/c").copy_source_if_match("\"stale\"");
    assert_eq!(status(&copy.send().await.unwrap_err()), 412);
    let copy = c.copy_object().bucket("uploads").key("d").copy_source("uploads/c").copy_source_if_modified_since(later);
    assert_eq!(status(&copy.send().await.unwrap_err()), 412);
}

#[tokio::test]
async fn a_body_that_does_not_match_its_content_md5_or_checksum_is_refused_and_not_stored() {
    let app = spawn_app().await;
    let c = &app.client;
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let md5_put = c
        .put_object()
        .bucket("uploads")
        .key("m")
        .content_md5(b64(&md5_of(b"other")))
        .body(ByteStream::from_static(b"body"));
    assert_eq!(code(&md5_put.send().await.unwrap_err()), "BadDigest");
    let invalid =
        c.put_object().bucket("uploads").key("m").content_md5("not-md5").body(ByteStream::from_static(b"body"));
    assert_eq!(code(&invalid.send().await.unwrap_err()), "InvalidDigest");
    let crc_put = c
        .put_object()
        .bucket("uploads")
        .key("m")
        .checksum_crc32(b64(&crc32fast::hash(b"other").to_be_bytes()))
        .body(ByteStream::from_static(b"body"));
    assert_eq!(code(&crc_put.send().await.unwrap_err()), "BadDigest");
    assert_eq!(code(&c.head_object().bucket("uploads").key("m").send().await.unwrap_err()), "NotFound");

    let good = c
        .put_object()
        .bucket("uploads")
        .key("m")
        .content_md5(b64(&md5_of(b"body")))
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .body(ByteStream::from_static(b"body"))
        .send()
        .await
        .unwrap();
    assert_eq!(good.checksum_crc32(), Some(b64(&crc32fast::hash(b"body").to_be_bytes())).as_deref());
    let sha = c.put_object().bucket("uploads").key("s").checksum_algorithm(ChecksumAlgorithm::Sha256);
    sha.body(ByteStream::from_static(b"body")).send().await.unwrap();
}

#[tokio::test]
async fn presigned_urls_work_until_they_expire_and_bad_credentials_are_refused() {
    let app = spawn_app().await;
    let c = &app.client;
    let http = reqwest::Client::new();
    let hour = PresigningConfig::expires_in(Duration::from_secs(3600)).unwrap();
    let put = c.put_object().bucket("uploads").key("p q.txt").presigned(hour.clone()).await.unwrap();
    let sent = http.put(put.uri()).body("presigned body").send().await.unwrap();
    assert_eq!(sent.status(), 200, "{}", sent.text().await.unwrap());
    let get = c.get_object().bucket("uploads").key("p q.txt").presigned(hour).await.unwrap();
    let got = http.get(get.uri()).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.text().await.unwrap(), "presigned body");

    let old = PresigningConfig::builder()
        .start_time(SystemTime::now() - Duration::from_secs(7200))
        .expires_in(Duration::from_secs(60))
        .build()
        .unwrap();
    let expired = c.get_object().bucket("uploads").key("p q.txt").presigned(old).await.unwrap();
    let refused = http.get(expired.uri()).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    let text = refused.text().await.unwrap();
    assert!(text.contains("<Code>AccessDenied</Code>") && text.contains("Request has expired"), "{text}");

    let forever = get_with_expires(c, 604_801).await;
    let too_long = http.get(forever).send().await.unwrap();
    assert_eq!(too_long.status(), 400);
    assert!(too_long.text().await.unwrap().contains("AuthorizationQueryParametersError"));

    let anonymous = http.get(format!("http://{}/uploads/p%20q.txt", app.addr)).send().await.unwrap();
    assert_eq!(anonymous.status(), 403);

    let wrong_secret = client(app.addr, "test", "wrong");
    let e = wrong_secret.get_object().bucket("uploads").key("p q.txt").send().await.unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (403, "SignatureDoesNotMatch"));
    let unknown = client(app.addr, "someone", "test");
    let e = unknown.list_buckets().send().await.unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (403, "InvalidAccessKeyId"));
}

/// A presigned GET URL whose `X-Amz-Expires` is rewritten (the SDK refuses to sign more than a week).
async fn get_with_expires(c: &aws_sdk_s3::Client, seconds: u64) -> String {
    let week = PresigningConfig::expires_in(Duration::from_secs(600)).unwrap();
    let url = c.get_object().bucket("uploads").key("x").presigned(week).await.unwrap().uri().to_owned();
    url.replace("X-Amz-Expires=600", &format!("X-Amz-Expires={seconds}"))
}

pub fn md5_of(b: &[u8]) -> [u8; 16] {
    use md5::Digest;
    md5::Md5::digest(b).into()
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

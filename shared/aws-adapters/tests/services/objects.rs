//! `S3Objects`: put, get and delete with content type and metadata; missing keys and buckets; presigned PUT and
//! GET used by a plain HTTP client.
//!
//! What moto does not check, so these tests cannot: the signature of a presigned request (moto 5 accepts a
//! presigned PUT with another content type or length, or after expiry). That the content type and length are
//! signed is shown instead by the URL itself: both are in `X-Amz-SignedHeaders`, and another value gives another
//! signature.

use super::{sdk_config, unique};
use aws_adapters::{S3Addressing, S3Objects};
use domain::ServiceError;
use domain::object::*;
use domain::ports::{ObjectDelete, ObjectGet, ObjectHead, ObjectPresign, ObjectPut};
use std::collections::BTreeMap;

async fn objects_and_bucket() -> (S3Objects, BucketName) {
    let objects = S3Objects::new(&sdk_config(), S3Addressing::PathStyle);
    let bucket = BucketName::parse(&format!("objects-{}", unique())).unwrap();
    objects.client().create_bucket().bucket(bucket.as_str()).send().await.expect("moto creates the bucket");
    (objects, bucket)
}

fn key(raw: &str) -> ObjectKey {
    ObjectKey::parse(raw).unwrap()
}

fn query(url: &str) -> BTreeMap<String, String> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.replace("%3B", ";").replace("%3b", ";")))
        .collect()
}

fn jpeg_bytes() -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend((0..5000u32).map(|i| (i % 251) as u8));
    bytes
}

#[tokio::test]
async fn an_object_put_is_read_back_with_its_bytes_content_type_metadata_and_etag() {
    let (objects, bucket) = objects_and_bucket().await;
    let key = key("renditions/user-1/01J0Z/large.jpg");
    let metadata = Metadata::new().with("upload-id", "01J0Z").unwrap().with("width", "1024").unwrap();
    let object = NewObject { bytes: jpeg_bytes(), content_type: ContentType::jpeg(), metadata: metadata.clone() };

    let etag = objects.put_object(&bucket, &key, object).await.expect("put");
    let read = objects.get_object(&bucket, &key).await.expect("get").expect("the object exists");

    assert_eq!(read.bytes, jpeg_bytes());
    assert_eq!(read.size(), jpeg_bytes().len() as u64);
    assert_eq!(read.content_type, Some(ContentType::jpeg()));
    assert_eq!(&read.metadata, metadata.as_map());
    assert_eq!(read.etag, etag);
    assert!(!etag.as_str().is_empty());
}

#[tokio::test]
async fn a_second_put_replaces_the_object_and_changes_its_etag() {
    let (objects, bucket) = objects_and_bucket().await;
    let key = key("invoices/42.pdf");
    let put =
        |bytes: &[u8]| NewObject { bytes: bytes.to_vec(), content_type: ContentType::pdf(), metadata: Metadata::new() };
    let first = objects.put_object(&bucket, &key, put(b"%PDF-1.7 one")).await.unwrap();
    let second = objects.put_object(&bucket, &key, put(b"%PDF-1.7 two")).await.unwrap();
    let read = objects.get_object(&bucket, &key).await.unwrap().unwrap();
    assert_ne!(first, second);
    assert_eq!((read.bytes.as_slice(), &read.etag), (&b"%PDF-1.7 two"[..], &second));
}

#[tokio::test]
async fn a_missing_key_reads_as_none_but_a_missing_bucket_is_not_found() {
    let (objects, bucket) = objects_and_bucket().await;
    assert!(
        objects.get_object(&bucket, &key("uploads/nobody/none")).await.expect("a missing key is no error").is_none()
    );

    let missing = BucketName::parse(&format!("missing-{}", unique())).unwrap();
    let err = objects.get_object(&missing, &key("k")).await.unwrap_err();
    assert!(matches!(err, ServiceError::NotFound(_)), "{err:?}");
    assert!(!err.is_retryable());
    let put = NewObject { bytes: b"x".to_vec(), content_type: ContentType::octet_stream(), metadata: Metadata::new() };
    let err = objects.put_object(&missing, &key("k"), put).await.unwrap_err();
    assert!(matches!(err, ServiceError::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn the_cause_of_a_failure_names_the_call_and_keeps_the_sdk_error() {
    let (objects, _) = objects_and_bucket().await;
    let missing = BucketName::parse(&format!("missing-{}", unique())).unwrap();
    let err = objects.get_object(&missing, &key("a/b")).await.unwrap_err();
    let chain = aws_adapters::testing::error_chain(&err);
    assert!(chain.starts_with(&format!("not found: S3 GetObject on `{missing}/a/b` failed: ")), "{chain}");
    let ServiceError::NotFound(cause) = err else { unreachable!() };
    let call = cause.downcast_ref::<aws_adapters::call::CallFailed>().expect("a CallFailed");
    assert!(call.source.to_string().contains("service error"), "{}", call.source);
}

#[tokio::test]
async fn a_deleted_object_is_gone_and_deleting_it_again_succeeds() {
    let (objects, bucket) = objects_and_bucket().await;
    let key = key("uploads/user-1/gone");
    let put =
        NewObject { bytes: b"bytes".to_vec(), content_type: ContentType::octet_stream(), metadata: Metadata::new() };
    objects.put_object(&bucket, &key, put).await.unwrap();

    objects.delete_object(&bucket, &key).await.expect("delete");
    assert!(objects.get_object(&bucket, &key).await.unwrap().is_none());
    objects.delete_object(&bucket, &key).await.expect("deleting an absent object succeeds");
}

#[tokio::test]
async fn a_presigned_put_signs_content_type_and_length_and_expires_when_it_says() {
    let (objects, bucket) = objects_and_bucket().await;
    let key = key("uploads/user-1/01J0Z");
    let expiry = Expiry::from_secs(300).unwrap();
    let req = objects.presign_put(&bucket, &key, &ContentType::jpeg(), 5004, expiry).await.expect("presign");

    assert_eq!(req.method, PresignedMethod::Put);
    assert!(
        req.url.starts_with(&format!("{}/{bucket}/uploads/user-1/01J0Z?", super::MotoServer::shared().endpoint())),
        "{}",
        req.url
    );
    assert_eq!(req.headers.get("content-type").map(String::as_str), Some("image/jpeg"));
    assert_eq!(req.headers.get("content-length").map(String::as_str), Some("5004"));
    let q = query(&req.url);
    let signed: Vec<&str> = q["X-Amz-SignedHeaders"].split(';').collect();
    assert!(signed.contains(&"content-type") && signed.contains(&"content-length"), "{signed:?}");
    assert_eq!(q["X-Amz-Expires"], "300");
    let date = time::PrimitiveDateTime::parse(
        &q["X-Amz-Date"],
        time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"),
    )
    .unwrap()
    .assume_utc();
    assert_eq!(req.expires_at, date + time::Duration::seconds(300));
    let now = domain::now();
    assert!(
        req.expires_at > now + time::Duration::seconds(290) && req.expires_at <= now + time::Duration::seconds(301)
    );
}

#[tokio::test]
async fn another_content_type_or_length_gives_another_signature() {
    let (objects, bucket) = objects_and_bucket().await;
    let key = key("uploads/user-1/01J0Z");
    let expiry = Expiry::from_secs(60).unwrap();
    let png = ContentType::parse("image/png").unwrap();
    let signature =
        |req: PresignedRequest| (query(&req.url)["X-Amz-Date"].clone(), query(&req.url)["X-Amz-Signature"].clone());
    // Signed in the same second (retried if the clock ticks between them), so only the header differs.
    for _ in 0..3 {
        let jpeg = signature(objects.presign_put(&bucket, &key, &ContentType::jpeg(), 100, expiry).await.unwrap());
        let png = signature(objects.presign_put(&bucket, &key, &png, 100, expiry).await.unwrap());
        let longer = signature(objects.presign_put(&bucket, &key, &ContentType::jpeg(), 101, expiry).await.unwrap());
        if jpeg.0 != png.0 || jpeg.0 != longer.0 {
            continue;
        }
        assert_ne!(jpeg.1, png.1);
        assert_ne!(jpeg.1, longer.1);
        return;
    }
    panic!("could not sign three requests within one second");
}

#[tokio::test]
async fn a_presigned_put_used_by_a_plain_http_client_stores_the_object() {
    let (objects, bucket) = objects_and_bucket().await;
    let key = key("uploads/user-1/01J10");
    let bytes = jpeg_bytes();
    let expiry = Expiry::from_secs(60).unwrap();
    let req = objects.presign_put(&bucket, &key, &ContentType::jpeg(), bytes.len() as u64, expiry).await.unwrap();

    let http = reqwest::Client::new();
    let mut put = http.put(&req.url).body(bytes.clone());
    for (name, value) in &req.headers {
        put = put.header(name, value);
    }
    let response = put.send().await.expect("moto answers");
    assert!(response.status().is_success(), "{}: {}", response.status(), response.text().await.unwrap_or_default());

    let read = objects.get_object(&bucket, &key).await.unwrap().expect("uploaded");
    assert_eq!(read.bytes, bytes);
    assert_eq!(read.content_type, Some(ContentType::jpeg()));
}

#[tokio::test]
async fn a_presigned_get_used_by_a_plain_http_client_downloads_the_object() {
    let (objects, bucket) = objects_and_bucket().await;
    let key = key("renditions/user-1/01J11/small.jpg");
    let put = NewObject { bytes: jpeg_bytes(), content_type: ContentType::jpeg(), metadata: Metadata::new() };
    objects.put_object(&bucket, &key, put).await.unwrap();

    let req = objects.presign_get(&bucket, &key, Expiry::from_secs(900).unwrap()).await.unwrap();
    assert_eq!(req.method, PresignedMethod::Get);
    assert!(req.headers.is_empty(), "a GET needs no headers: {:?}", req.headers);
    assert_eq!(query(&req.url)["X-Amz-Expires"], "900");

    let response = reqwest::get(&req.url).await.expect("moto answers");
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    assert_eq!(response.bytes().await.unwrap().as_ref(), jpeg_bytes().as_slice());
}

#[tokio::test]
async fn a_head_reads_size_content_type_metadata_and_etag_without_the_bytes_and_a_missing_key_is_none() {
    let (objects, bucket) = objects_and_bucket().await;
    let (key, other) = (key("renditions/user-1/01J12/medium.jpg"), key("renditions/user-1/01J12/large.jpg"));
    let metadata = Metadata::new().with("width", "800").unwrap().with("height", "600").unwrap();
    let put = NewObject { bytes: jpeg_bytes(), content_type: ContentType::jpeg(), metadata: metadata.clone() };
    let etag = objects.put_object(&bucket, &key, put).await.unwrap();

    let info = objects.head_object(&bucket, &key).await.expect("head").expect("the object exists");
    assert_eq!(
        info,
        ObjectInfo {
            size: jpeg_bytes().len() as u64,
            content_type: Some(ContentType::jpeg()),
            metadata: metadata.as_map().clone(),
            etag
        }
    );
    assert_eq!(objects.head_object(&bucket, &other).await.unwrap(), None);
    objects.delete_object(&bucket, &key).await.unwrap();
    assert_eq!(objects.head_object(&bucket, &key).await.unwrap(), None, "a deleted object is gone");
}

#[tokio::test]
async fn a_head_in_a_missing_bucket_reads_as_a_missing_object() {
    let (objects, _) = objects_and_bucket().await;
    let missing = BucketName::parse(&format!("missing-{}", unique())).unwrap();
    // S3 answers HEAD without a body, so it cannot say which of the two is missing (documented on the port).
    assert_eq!(objects.head_object(&missing, &key("k")).await.unwrap(), None);
}

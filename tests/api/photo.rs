//! The photo pipeline end to end on the local stack, with the real S3 SDK's presigned-URL shape and a plain HTTP
//! client as the uploader: `POST /me/photo` → PUT the photo to the presigned URL → S3 notifies `resize-photo` →
//! three renditions → S3 notifies `record-photo` → `GET /me` shows them → `PhotoProcessed` on the bus →
//! `notify-photo-processed` mails the user. Then the same notifications again (nothing changes), and a bomb.

use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;
use system_tests::gradient_jpeg as jpeg;
use system_tests::{TestApp, repo_root, spawn_stack};

/// The stack of `template.yaml`, retrying failed asynchronous invocations after 100 ms instead of Lambda's minute:
/// the three renditions' notifications may each put `PhotoProcessed`, and a second copy arriving while the first
/// is being mailed is retried (after the first has sent, it is recognised and dropped).
async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = local::StackConfig::new(repo_root().join("template.yaml"), dir.path());
    config.async_retry_delay = Duration::from_millis(100);
    spawn_stack(config, dir).await
}

const SETTLE: Duration = Duration::from_secs(30);

/// `jpeg` with an EXIF APP1 segment saying `orientation` (1–8) inserted after SOI, as a phone camera writes it.
fn with_exif_orientation(jpeg: Vec<u8>, orientation: u16) -> Vec<u8> {
    // TIFF header (big-endian), one IFD entry: tag 0x0112 Orientation, type SHORT, count 1, the value.
    let mut tiff = b"MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01".to_vec();
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xff, 0xe1]);
    out.extend_from_slice(&(app1.len() as u16 + 2).to_be_bytes());
    out.extend(app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A PNG whose header declares 100,000 × 100,000 pixels (and whose data is a few bytes): a decompression bomb.
fn png_bomb() -> Vec<u8> {
    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        let mut crc_input = kind.to_vec();
        crc_input.extend_from_slice(data);
        c.extend_from_slice(&crc32(&crc_input).to_be_bytes());
        c
    }
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    let mut ihdr = 100_000u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));
    png.extend(chunk(b"IEND", &[]));
    png
}

async fn me(app: &TestApp) -> Value {
    let r = app.request(Method::GET, "/me", "ada").send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// `POST /me/photo`, then the upload itself as a browser would send it. Returns the upload id.
async fn upload(app: &TestApp, content_type: &str, bytes: Vec<u8>) -> String {
    let r = app
        .request(Method::POST, "/me/photo", "ada")
        .json(&json!({"content_type": content_type, "size": bytes.len()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ticket: Value = r.json().await.unwrap();
    assert_eq!(ticket["method"], "PUT");
    let mut put = app.client.put(ticket["upload_url"].as_str().unwrap()).body(bytes);
    for (name, value) in ticket["headers"].as_object().unwrap() {
        if name != "content-length" {
            put = put.header(name, value.as_str().unwrap());
        }
    }
    let r = put.send().await.unwrap();
    assert!(r.status().is_success(), "the presigned PUT: {} {}", r.status(), r.text().await.unwrap_or_default());
    ticket["upload_id"].as_str().unwrap().to_owned()
}

/// Mails in the outbox addressed to ada.
fn mails(app: &TestApp) -> usize {
    let outbox = app.stack.ses().outbox().list().unwrap();
    outbox.iter().filter(|e| serde_json::to_string(e).unwrap().contains("ada@example.com")).count()
}

/// The keys of the bucket's objects under `prefix`.
async fn keys(app: &TestApp, bucket: &str, prefix: &str) -> Vec<String> {
    let s3 = crate::sdk_s3::client(app, "test");
    let out = s3.list_objects_v2().bucket(bucket).prefix(prefix).send().await.unwrap();
    out.contents().iter().filter_map(|o| o.key().map(str::to_owned)).collect()
}

/// The S3 notification for `key`, as `events/resize-photo/photo-upload.json` has it.
fn notification(bucket: &str, key: &str) -> Value {
    let path = repo_root().join("events/resize-photo/photo-upload.json");
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["Records"][0]["s3"]["bucket"]["name"] = json!(bucket);
    event["Records"][0]["s3"]["object"]["key"] = json!(key);
    event
}

#[tokio::test]
async fn an_uploaded_photo_becomes_three_renditions_on_the_profile_and_one_email_even_when_notified_twice() {
    let app = spawn_app().await;
    me(&app).await; // the profile, with ada@example.com from the token
    let upload_id = upload(&app, "image/jpeg", jpeg(3000, 2000)).await;
    assert!(app.stack.settle(SETTLE).await, "the pipeline did not come to rest");

    let photo = me(&app).await["photo"].clone();
    assert_eq!(photo["status"], "ready", "{photo}");
    assert_eq!(photo["upload_id"], upload_id);
    for (name, width, height) in [("large", 1600, 1067), ("medium", 800, 533), ("thumbnail", 200, 133)] {
        assert_eq!(
            (photo[name]["width"].as_u64(), photo[name]["height"].as_u64()),
            (Some(width), Some(height)),
            "{name}"
        );
        let r = app.client.get(photo[name]["url"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(r.status(), 200, "{name}'s presigned URL");
        let body = r.bytes().await.unwrap();
        assert_eq!(&body[..2], &[0xff, 0xd8], "{name} is a JPEG");
    }
    assert_eq!(mails(&app), 1, "one email");

    // The same notifications again: the upload's (it is gone: resize-photo deleted it) and a rendition's.
    let bucket = app.stack.template().physical_name("UploadsBucket").unwrap();
    let owner = local::auth::sub_for("ada");
    let rendered = keys(&app, &bucket, &format!("renditions/{owner}/")).await;
    assert_eq!(rendered.len(), 3, "{rendered:?}");
    assert!(keys(&app, &bucket, "uploads/").await.is_empty(), "the original is deleted once rendered");
    let again = notification(&bucket, &format!("uploads/{owner}/{upload_id}"));
    app.stack.invoke("ResizePhotoFunction", "again", again).await.unwrap();
    let again = notification(&bucket, &rendered[0]);
    app.stack.invoke("RecordPhotoFunction", "again", again).await.unwrap();
    assert!(app.stack.settle(SETTLE).await);
    assert_eq!(keys(&app, &bucket, &format!("renditions/{owner}/")).await, rendered, "one set of renditions");
    let after = me(&app).await["photo"].clone();
    assert_eq!((&after["status"], &after["upload_id"]), (&photo["status"], &photo["upload_id"]));
    assert_eq!(mails(&app), 1, "still one email");
}

#[tokio::test]
async fn a_decompression_bomb_is_recorded_as_failed_with_its_reason_and_the_photo_shown_stays() {
    let app = spawn_app().await;
    me(&app).await;
    let first = upload(&app, "image/jpeg", jpeg(400, 300)).await;
    assert!(app.stack.settle(SETTLE).await);
    assert_eq!(me(&app).await["photo"]["status"], "ready");

    upload(&app, "image/png", png_bomb()).await;
    assert!(app.stack.settle(SETTLE).await, "no retry storm: the failure is recorded, not retried");
    let photo = me(&app).await["photo"].clone();
    assert_eq!(photo["status"], "failed", "{photo}");
    assert_eq!(photo["code"], "too_large");
    assert!(photo["reason"].as_str().is_some_and(|r| r.contains("100000") || r.contains("100,000")), "{photo}");
    assert_eq!(photo["large"]["width"], 400, "the photo shown before stays: {photo}");
    assert_ne!(photo["upload_id"], first, "the failure is the new upload's");
    let bucket = app.stack.template().physical_name("UploadsBucket").unwrap();
    assert!(keys(&app, &bucket, "uploads/").await.is_empty(), "the bomb is deleted");
    assert_eq!(mails(&app), 1, "only the first photo was mailed about");
}

#[tokio::test]
async fn a_photo_request_over_20_mib_or_of_another_type_is_a_422() {
    let app = spawn_app().await;
    for body in [
        json!({"content_type": "image/jpeg", "size": 20 * 1024 * 1024 + 1}),
        json!({"content_type": "image/gif", "size": 10}),
    ] {
        let r = app.request(Method::POST, "/me/photo", "ada").json(&body).send().await.unwrap();
        assert_eq!(r.status(), 422, "{body}");
    }
}

#[tokio::test]
async fn a_12_mp_phone_photo_put_with_the_rust_sdk_comes_out_upright_on_the_profile() {
    let app = spawn_app().await;
    me(&app).await;
    // A 4000 × 3000 sensor image the camera tagged "rotate 90° clockwise" (orientation 6): a portrait photo.
    let photo = with_exif_orientation(jpeg(4000, 3000), 6);
    let r = app
        .request(Method::POST, "/me/photo", "ada")
        .json(&json!({"content_type": "image/jpeg", "size": photo.len()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ticket: Value = r.json().await.unwrap();
    let upload_id = ticket["upload_id"].as_str().unwrap();
    // The key the ticket's URL names, written by the SDK's PutObject (an S3 client, not the presigned URL).
    let bucket = app.stack.template().physical_name("UploadsBucket").unwrap();
    let key = format!("uploads/{}/{upload_id}", local::auth::sub_for("ada"));
    assert!(ticket["upload_url"].as_str().unwrap().contains(&key), "{ticket}");
    crate::sdk_s3::client(&app, "test")
        .put_object()
        .bucket(&bucket)
        .key(&key)
        .content_type("image/jpeg")
        .body(photo.into())
        .send()
        .await
        .expect("PutObject");
    assert!(app.stack.settle(SETTLE).await, "the pipeline did not come to rest");

    let photo = me(&app).await["photo"].clone();
    assert_eq!((&photo["status"], &photo["upload_id"]), (&json!("ready"), &json!(upload_id)), "{photo}");
    for (name, width, height) in [("large", 1200, 1600), ("medium", 600, 800), ("thumbnail", 150, 200)] {
        assert_eq!(
            (photo[name]["width"].as_u64(), photo[name]["height"].as_u64()),
            (Some(width), Some(height)),
            "{name} is portrait: {photo}"
        );
    }
    assert_eq!(mails(&app), 1, "one email");
}

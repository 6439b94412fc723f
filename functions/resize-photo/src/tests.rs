//! The handler against real local parts: the local stack's S3 in-process (its notifications recorded, so a test
//! feeds the handler the very event S3 sends, and sees which function the renditions' writes would start), the
//! SQLite profiles, and the `photo` crate rendering real images.

use super::*;
use domain::ServiceError;
use domain::object::{BucketName, ContentType, ETag, NewObject, Object, ObjectKey};
use domain::photo::{Attempt, PhotoSet, PhotoState, UploadId};
use domain::ports::{ProfileGet, ProfilePut};
use domain::{Caller, Profile, StoreError, UserId};
use local_adapters::{LocalStore, SqliteProfiles};
use local_core::BoxFuture;
use local_core::invoke::{EventInvoker, FunctionError};
use local_s3::{S3, S3Error};
use serde_json::Value;
use std::sync::{Arc, Mutex};

const ALICE: &str = "4f9d2c1e-7b3a-4c8e-9a21-5d6e7f8a9b0c";
const BUCKET: &str = "task-platform-uploads";

/// The two S3 triggers of the pipeline, as `template.yaml` declares them.
const TEMPLATE: &str = r#"
Resources:
  UploadsBucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: task-platform-uploads
  ResizePhotoFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: bootstrap
      Events:
        Uploaded:
          Type: S3
          Properties:
            Bucket: !Ref UploadsBucket
            Events: s3:ObjectCreated:*
            Filter: {S3Key: {Rules: [{Name: prefix, Value: uploads/}]}}
  RecordPhotoFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: bootstrap
      Events:
        Rendered:
          Type: S3
          Properties:
            Bucket: !Ref UploadsBucket
            Events: s3:ObjectCreated:*
            Filter: {S3Key: {Rules: [{Name: prefix, Value: renditions/}]}}
"#;

/// The function each S3 event went to, as Lambda's asynchronous invoke would be asked.
#[derive(Default)]
struct Invocations(Mutex<Vec<(String, Value)>>);

impl EventInvoker for Invocations {
    fn invoke_async<'a>(&'a self, function: &'a str, event: Value) -> BoxFuture<'a, Result<String, FunctionError>> {
        Box::pin(async move {
            self.0.lock().unwrap().push((function.to_owned(), event));
            Ok("request".to_owned())
        })
    }
}

/// The object ports on the local S3, called in-process as the local stack's `LocalObjects` does.
#[derive(Clone)]
struct LocalObjects(Arc<S3>);

fn service_error(e: S3Error) -> ServiceError {
    match e {
        S3Error::NoSuchBucket(_) => ServiceError::NotFound(Box::new(e)),
        S3Error::Io(_) | S3Error::Index(_) => ServiceError::Unavailable(Box::new(e)),
        other => ServiceError::InvalidInput(Box::new(other)),
    }
}

impl ObjectGet for LocalObjects {
    async fn get_object(&self, bucket: &BucketName, key: &ObjectKey) -> Result<Option<Object>, ServiceError> {
        match self.0.get_object(bucket.as_str(), key.as_str()).await {
            Ok(o) => Ok(Some(Object {
                content_type: o.info.attributes.content_type.as_deref().and_then(|c| ContentType::parse(c).ok()),
                metadata: o.info.attributes.metadata.clone(),
                etag: ETag::new(format!("\"{}\"", o.info.etag)),
                bytes: o.body.to_vec(),
            })),
            Err(S3Error::NoSuchKey(_)) => Ok(None),
            Err(e) => Err(service_error(e)),
        }
    }
}

impl ObjectPut for LocalObjects {
    async fn put_object(&self, bucket: &BucketName, key: &ObjectKey, object: NewObject) -> Result<ETag, ServiceError> {
        let info = self
            .0
            .put_object(
                bucket.as_str(),
                key.as_str(),
                object.bytes.into(),
                Some(object.content_type.as_str()),
                object.metadata.as_map().clone(),
            )
            .await
            .map_err(service_error)?;
        Ok(ETag::new(format!("\"{}\"", info.etag)))
    }
}

impl ObjectDelete for LocalObjects {
    async fn delete_object(&self, bucket: &BucketName, key: &ObjectKey) -> Result<(), ServiceError> {
        self.0.delete_object(bucket.as_str(), key.as_str()).await.map(drop).map_err(service_error)
    }
}

struct World {
    resizer: Resizer<SqliteProfiles, LocalObjects, PhotoRenderer>,
    invocations: Arc<Invocations>,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let profiles = LocalStore::open(&dir.path().join("local.db")).unwrap().profiles("UsersTable").unwrap();
    let template = local_template::Template::parse(TEMPLATE, Arc::new(local_template::NoSecrets)).unwrap();
    let invocations = Arc::new(Invocations::default());
    let s3 = S3::open(dir.path(), &template, Default::default(), Default::default(), invocations.clone()).unwrap();
    let resizer = Resizer {
        photos: profiles,
        objects: LocalObjects(s3),
        render: PhotoRenderer::default(),
        bucket: BucketName::parse(BUCKET).unwrap(),
        specs: RenditionSpecs::standard(),
    };
    World { resizer, invocations, _dir: dir }
}

impl World {
    async fn profile(&self, user: &str) {
        let caller = Caller { id: UserId::parse(user).unwrap(), email: None, name: Some("Ada".into()) };
        self.resizer.photos.put_profile(&Profile::from_claims(&caller, domain::now())).await.unwrap();
    }

    /// Uploads `bytes` to `key` as the presigned PUT would, and returns the event S3 sent for it.
    async fn upload(&self, key: &str, bytes: Vec<u8>) -> S3Event {
        self.resizer
            .objects
            .0
            .put_object(BUCKET, key, bytes.into(), Some("image/jpeg"), Default::default())
            .await
            .unwrap();
        let sent = self.wait_for(|function, event| {
            function == "ResizePhotoFunction"
                && event["Records"][0]["s3"]["object"]["key"] == local_s3::notify::event_key(key)
        });
        serde_json::from_value(sent.await).unwrap()
    }

    /// The first invocation matching `pred`, waiting for S3's dispatcher to send it.
    async fn wait_for(&self, pred: impl Fn(&str, &Value) -> bool) -> Value {
        for _ in 0..500 {
            if let Some((_, event)) = self.invocations.0.lock().unwrap().iter().find(|(f, e)| pred(f, e)) {
                return event.clone();
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("no such notification: {:?}", self.invocations.0.lock().unwrap());
    }

    /// The functions S3 notified so far, with the key of each event.
    async fn notified(&self) -> Vec<(String, String)> {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let sent = self.invocations.0.lock().unwrap();
        sent.iter()
            .map(|(f, e)| (f.clone(), e["Records"][0]["s3"]["object"]["key"].as_str().unwrap().to_owned()))
            .collect()
    }

    async fn exists(&self, key: &str) -> bool {
        self.resizer.objects.0.head_object(BUCKET, key).await.is_ok()
    }

    async fn photo(&self, user: &str) -> PhotoState {
        self.resizer.photos.get_photo(&UserId::parse(user).unwrap()).await.unwrap().unwrap().state
    }
}

fn upload_key(user: &str, upload: UploadId) -> String {
    format!("uploads/{user}/{upload}")
}

/// A photo-like RGB gradient of `width` × `height`, as PNG.
fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// The same as JPEG.
fn jpeg(width: u16, height: u16) -> Vec<u8> {
    let pixels: Vec<u8> = (0..u32::from(height))
        .flat_map(|y| (0..u32::from(width)).flat_map(move |x| [(x % 256) as u8, (y % 256) as u8, 128]))
        .collect();
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 85).encode(&pixels, width, height, jpeg_encoder::ColorType::Rgb).unwrap();
    out
}

/// A decompression bomb: a valid PNG header declaring 100,000 × 100,000 pixels (40 GB decoded) in 58 bytes.
fn bomb() -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend(100_000u32.to_be_bytes());
    ihdr.extend(100_000u32.to_be_bytes());
    ihdr.extend([8, 6, 0, 0, 0]); // 8-bit RGBA
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(13u32.to_be_bytes());
    png.extend(&ihdr);
    png.extend(crc32(&ihdr).to_be_bytes());
    let idat = b"IDAT\x78\x9c\x03\x00\x00\x00\x00\x01";
    png.extend(((idat.len() - 4) as u32).to_be_bytes());
    png.extend(idat);
    png.extend(crc32(idat).to_be_bytes());
    png
}

/// CRC-32 (IEEE), as PNG chunks carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn rendition_keys(user: &str, upload: UploadId) -> Vec<String> {
    ["thumbnail", "medium", "large"].iter().map(|n| format!("renditions/{user}/{upload}/{n}.jpg")).collect()
}

#[tokio::test]
async fn an_upload_becomes_three_jpeg_renditions_with_their_size_in_the_metadata_and_the_upload_is_deleted() {
    let world = world().await;
    world.profile(ALICE).await;
    let upload = UploadId::generate(domain::now());
    let event = world.upload(&upload_key(ALICE, upload), jpeg(2000, 1500)).await;

    let handled = handle(&world.resizer, event).await.unwrap();
    assert_eq!(handled.outcomes, [Outcome::Rendered]);
    let sizes: Vec<_> =
        handled.records[0].renditions.as_ref().unwrap().iter().map(|(n, s)| (n.as_str(), s.width, s.height)).collect();
    assert_eq!(sizes, [("large", 1600, 1200), ("medium", 800, 600), ("thumbnail", 200, 150)]);

    for (key, (width, height)) in rendition_keys(ALICE, upload).iter().zip([(200, 150), (800, 600), (1600, 1200)]) {
        let stored = world.resizer.objects.0.get_object(BUCKET, key).await.unwrap();
        assert_eq!(stored.info.attributes.content_type.as_deref(), Some("image/jpeg"), "{key}");
        assert!(stored.body.starts_with(&[0xFF, 0xD8, 0xFF]), "{key} is a JPEG");
        let meta = &stored.info.attributes.metadata;
        assert_eq!((meta["width"].as_str(), meta["height"].as_str()), (&*width.to_string(), &*height.to_string()));
        assert_eq!(meta["upload-id"], upload.to_string());
    }
    assert!(!world.exists(&upload_key(ALICE, upload)).await, "the upload is deleted");
    assert_eq!(world.photo(ALICE).await.attempt, Some(Attempt::Processing { upload_id: upload }));
    // The renditions start record-photo, never this function again (the triggers' prefixes).
    let notified = world.notified().await;
    let renditions: Vec<_> = notified.iter().filter(|(_, k)| k.starts_with("renditions/")).collect();
    assert_eq!(renditions.len(), 3, "{notified:?}");
    assert!(renditions.iter().all(|(f, _)| f == "RecordPhotoFunction"), "{notified:?}");
}

#[tokio::test]
async fn the_same_upload_notified_twice_is_rendered_once() {
    let world = world().await;
    world.profile(ALICE).await;
    let upload = UploadId::generate(domain::now());
    let event = world.upload(&upload_key(ALICE, upload), png(900, 600)).await;
    let again: S3Event = serde_json::from_value(serde_json::to_value(&event).unwrap()).unwrap();
    assert_eq!(handle(&world.resizer, event).await.unwrap().outcomes, [Outcome::Rendered]);
    assert_eq!(handle(&world.resizer, again).await.unwrap().outcomes, [Outcome::Gone]);
    let writes = world.notified().await.into_iter().filter(|(_, k)| k.starts_with("renditions/")).count();
    assert_eq!(writes, 3, "one set of renditions");
}

#[tokio::test]
async fn a_bomb_a_truncated_file_and_a_gif_are_recorded_as_failed_deleted_and_not_retried() {
    let world = world().await;
    world.profile(ALICE).await;
    let photo = jpeg(640, 480);
    let cases = [
        (bomb(), FailureCode::TooLarge, "pixels"),
        (photo[..photo.len() / 2].to_vec(), FailureCode::Corrupt, "damaged or incomplete"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(), FailureCode::Unsupported, "GIF"),
    ];
    for (bytes, code, says) in cases {
        let upload = UploadId::generate(domain::now());
        let event = world.upload(&upload_key(ALICE, upload), bytes).await;
        let handled = handle(&world.resizer, event).await.expect("a bad image is no error");
        let record = &handled.records[0];
        assert_eq!((record.outcome, record.code), (Outcome::Failed, Some(code)), "{record:?}");
        let reason = record.reason.clone().unwrap();
        assert!(reason.contains(says), "{code:?}: {reason}");
        let Some(Attempt::Failed { upload_id, code: stored, reason: shown }) = world.photo(ALICE).await.attempt else {
            panic!("not recorded as failed")
        };
        assert_eq!((upload_id, stored, shown), (upload, code, reason));
        assert!(!world.exists(&upload_key(ALICE, upload)).await, "the upload is deleted");
        for key in rendition_keys(ALICE, upload) {
            assert!(!world.exists(&key).await, "{key}");
        }
    }
}

#[tokio::test]
async fn keys_are_url_decoded_and_a_key_of_another_shape_is_ignored() {
    let world = world().await;
    world.profile("user+1").await;
    let upload = UploadId::generate(domain::now());
    let event = world.upload(&upload_key("user+1", upload), png(300, 200)).await;
    assert_eq!(event.records[0].s3.object.key.as_deref(), Some(&*format!("uploads/user%2B1/{upload}")));
    let handled = handle(&world.resizer, event).await.unwrap();
    assert_eq!(
        (handled.outcomes.as_slice(), handled.records[0].key.as_str()),
        (&[Outcome::Rendered][..], &*upload_key("user+1", upload))
    );
    assert!(world.exists(&format!("renditions/user+1/{upload}/thumbnail.jpg")).await);

    let odd = world.upload(&format!("uploads/{ALICE}/my holiday photo.jpg"), png(10, 10)).await;
    let handled = handle(&world.resizer, odd).await.unwrap();
    assert_eq!(handled.outcomes, [Outcome::Ignored]);
    assert_eq!(handled.records[0].key, format!("uploads/{ALICE}/my holiday photo.jpg"));
    assert!(world.exists(&format!("uploads/{ALICE}/my holiday photo.jpg")).await, "an ignored key is left alone");
}

#[tokio::test]
async fn an_upload_older_than_the_photo_shown_is_deleted_unrendered() {
    let world = world().await;
    world.profile(ALICE).await;
    let older = UploadId::generate(domain::now() - time::Duration::minutes(1));
    let newer = UploadId::generate(domain::now());
    let shown =
        PhotoState { current: Some(PhotoSet { upload_id: newer, renditions: Default::default() }), attempt: None };
    world.resizer.photos.update_photo(&UserId::parse(ALICE).unwrap(), &shown, 0).await.unwrap();
    let event = world.upload(&upload_key(ALICE, older), png(300, 200)).await;
    assert_eq!(handle(&world.resizer, event).await.unwrap().outcomes, [Outcome::Superseded]);
    assert!(!world.exists(&upload_key(ALICE, older)).await);
    assert!(!world.exists(&rendition_keys(ALICE, older)[0]).await);
    assert_eq!(world.photo(ALICE).await, shown);
}

#[tokio::test]
async fn an_upload_by_a_user_without_a_profile_is_deleted() {
    let world = world().await;
    let upload = UploadId::generate(domain::now());
    let event = world.upload(&upload_key(ALICE, upload), png(300, 200)).await;
    assert_eq!(handle(&world.resizer, event).await.unwrap().outcomes, [Outcome::NoProfile]);
    assert!(!world.exists(&upload_key(ALICE, upload)).await);
    assert_eq!(world.resizer.photos.get_profile(&UserId::parse(ALICE).unwrap()).await.unwrap(), None);
}

/// A profile store that is down.
struct Down;

impl PhotoGet for Down {
    async fn get_photo(&self, _: &UserId) -> Result<Option<domain::photo::PhotoRecord>, StoreError> {
        Err(StoreError::unavailable(std::io::Error::other("connection reset by 10.0.0.7")))
    }
}

impl PhotoUpdate for Down {
    async fn update_photo(&self, _: &UserId, _: &PhotoState, _: u64) -> Result<u64, StoreError> {
        Err(StoreError::unavailable(std::io::Error::other("connection reset by 10.0.0.7")))
    }
}

#[tokio::test]
async fn a_store_outage_fails_retryable_and_leaves_the_upload_for_the_retry() {
    let world = world().await;
    let upload = UploadId::generate(domain::now());
    let event = world.upload(&upload_key(ALICE, upload), png(300, 200)).await;
    let down = Resizer {
        photos: Down,
        objects: world.resizer.objects.clone(),
        render: PhotoRenderer::default(),
        bucket: world.resizer.bucket.clone(),
        specs: RenditionSpecs::standard(),
    };
    let (error_type, message) = handle(&down, event).await.unwrap_err().into_parts();
    assert_eq!(error_type, "Retryable");
    assert!(!message.contains("10.0.0.7"), "{message}");
    assert!(world.exists(&upload_key(ALICE, upload)).await, "the retry finds the upload");
}

#[tokio::test]
async fn a_missing_bucket_fails_misconfigured() {
    let world = world().await;
    world.profile(ALICE).await;
    let upload = UploadId::generate(domain::now());
    let event = world.upload(&upload_key(ALICE, upload), png(300, 200)).await;
    let elsewhere = Resizer {
        photos: world.resizer.photos.clone(),
        objects: world.resizer.objects.clone(),
        render: PhotoRenderer::default(),
        bucket: BucketName::parse("no-such-bucket").unwrap(),
        specs: RenditionSpecs::standard(),
    };
    assert_eq!(handle(&elsewhere, event).await.unwrap_err().error_type(), "Misconfigured");
}

/// `events/resize-photo/<case>.json`.
fn sample(case: &str) -> S3Event {
    let path = format!("{}/../../events/resize-photo/{case}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[tokio::test]
async fn every_sample_event_gives_its_documented_outcome_in_a_fresh_stack_and_with_the_upload_there() {
    let world = world().await;
    // As in a fresh stack: no profile, no objects.
    for (case, want) in [
        ("photo-upload", Outcome::NoProfile),
        ("bomb-upload", Outcome::NoProfile),
        ("bad-shape-upload", Outcome::Ignored),
        ("rendition-key", Outcome::Ignored),
    ] {
        assert_eq!(handle(&world.resizer, sample(case)).await.unwrap().outcomes, [want], "{case}");
    }
    // With Alice's profile, and the objects the events name.
    world.profile(ALICE).await;
    let key = |case: &str| decode_event_key(sample(case).records[0].s3.object.key.as_deref().unwrap()).unwrap();
    world
        .resizer
        .objects
        .0
        .put_object(BUCKET, &key("bomb-upload"), bomb().into(), None, Default::default())
        .await
        .unwrap();
    world
        .resizer
        .objects
        .0
        .put_object(BUCKET, &key("photo-upload"), jpeg(1000, 800).into(), None, Default::default())
        .await
        .unwrap();
    let bombed = handle(&world.resizer, sample("bomb-upload")).await.unwrap();
    assert_eq!((bombed.outcomes[0], bombed.records[0].code), (Outcome::Failed, Some(FailureCode::TooLarge)));
    // The photo upload is newer than the bomb (its id is later): it renders, and the bomb's failure stays behind it.
    assert_eq!(handle(&world.resizer, sample("photo-upload")).await.unwrap().outcomes, [Outcome::Rendered]);
    assert_eq!(handle(&world.resizer, sample("photo-upload")).await.unwrap().outcomes, [Outcome::Gone]);
}

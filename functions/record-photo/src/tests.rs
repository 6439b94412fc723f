//! The handler against real local parts: the local stack's S3 in-process (its notifications recorded, so a test
//! feeds the handler the event S3 sends for each rendition), the SQLite profiles, and the local EventBridge with
//! the template's rule for `PhotoProcessed` (what it delivers recorded, as Lambda's asynchronous invoke receives it).

use super::*;
use domain::ServiceError;
use domain::bus::{BusEvent, EntryFailure, EntryOutcome, EventBusName, EventId, batches};
use domain::object::{BucketName, ETag, ObjectInfo, ObjectKey};
use domain::photo::service::PhotoProcessed;
use domain::photo::{Attempt, PhotoRecord, PhotoSet, PhotoState, RenditionSize, RenditionSpecs, UploadId};
use domain::ports::ProfilePut;
use domain::{Caller, Profile, UserId};
use local_adapters::{LocalStore, SqliteProfiles};
use local_core::BoxFuture;
use local_core::invoke::{EventInvoker, ExecutionStarter, FunctionError, MessageSender, SendError, StartError};
use local_events::{EntryResult, EventBridge, PutEventsEntry};
use local_s3::{S3, S3Error};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

const ALICE: &str = "4f9d2c1e-7b3a-4c8e-9a21-5d6e7f8a9b0c";
const BUCKET: &str = "task-platform-uploads";
const BUS: &str = "local-task-events";

/// The pipeline's S3 trigger for renditions, the bus and the `PhotoProcessed` rule, as `template.yaml` declares
/// them.
const TEMPLATE: &str = r#"
Resources:
  UploadsBucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: task-platform-uploads
  TaskEventBus:
    Type: AWS::Events::EventBus
    Properties:
      Name: local-task-events
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
  NotifyPhotoProcessedFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: bootstrap
      Events:
        PhotoProcessed:
          Type: EventBridgeRule
          Properties:
            EventBusName: !Ref TaskEventBus
            Pattern:
              source: [task-platform.photos]
              detail-type: [PhotoProcessed]
"#;

/// What Lambda's asynchronous invoke was asked to deliver, by function.
#[derive(Default)]
struct Invocations(Mutex<Vec<(String, Value)>>);

impl Invocations {
    fn to(&self, function: &str) -> Vec<Value> {
        self.0.lock().unwrap().iter().filter(|(f, _)| f == function).map(|(_, e)| e.clone()).collect()
    }
}

impl EventInvoker for Invocations {
    fn invoke_async<'a>(&'a self, function: &'a str, event: Value) -> BoxFuture<'a, Result<String, FunctionError>> {
        Box::pin(async move {
            self.0.lock().unwrap().push((function.to_owned(), event));
            Ok("request".to_owned())
        })
    }
}

/// No state machines and no queues here: the template has none as targets.
struct Nowhere;

impl ExecutionStarter for Nowhere {
    fn start_execution<'a>(&'a self, arn: &'a str, _: String) -> BoxFuture<'a, Result<String, StartError>> {
        Box::pin(async move { Err(StartError { code: "StateMachineDoesNotExist".into(), message: arn.to_owned() }) })
    }
}

impl MessageSender for Nowhere {
    fn send_message<'a>(
        &'a self,
        queue: &'a str,
        _: String,
        _: BTreeMap<String, String>,
    ) -> BoxFuture<'a, Result<String, SendError>> {
        Box::pin(async move { Err(SendError { code: "QueueDoesNotExist".into(), message: queue.to_owned() }) })
    }
}

/// The object ports on the local S3, called in-process as the local stack's `LocalObjects` does.
#[derive(Clone)]
struct LocalObjects(Arc<S3>);

fn s3_error(e: S3Error) -> ServiceError {
    match e {
        S3Error::NoSuchBucket(_) => ServiceError::NotFound(Box::new(e)),
        S3Error::Io(_) | S3Error::Index(_) => ServiceError::Unavailable(Box::new(e)),
        other => ServiceError::InvalidInput(Box::new(other)),
    }
}

impl ObjectHead for LocalObjects {
    async fn head_object(&self, bucket: &BucketName, key: &ObjectKey) -> Result<Option<ObjectInfo>, ServiceError> {
        match self.0.head_object(bucket.as_str(), key.as_str()).await {
            Ok(info) => Ok(Some(ObjectInfo {
                size: info.size,
                content_type: info
                    .attributes
                    .content_type
                    .as_deref()
                    .and_then(|c| domain::object::ContentType::parse(c).ok()),
                metadata: info.attributes.metadata.clone(),
                etag: ETag::new(format!("\"{}\"", info.etag)),
            })),
            Err(S3Error::NoSuchKey(_)) => Ok(None),
            Err(e) => Err(s3_error(e)),
        }
    }
}

impl ObjectDelete for LocalObjects {
    async fn delete_object(&self, bucket: &BucketName, key: &ObjectKey) -> Result<(), ServiceError> {
        self.0.delete_object(bucket.as_str(), key.as_str()).await.map(drop).map_err(s3_error)
    }
}

/// The event port on the local EventBridge, called in-process as the local stack's `LocalEvents` does.
#[derive(Clone)]
struct LocalEvents(Arc<EventBridge>);

impl EventPut for LocalEvents {
    async fn put_events(&self, bus: &EventBusName, entries: &[BusEvent]) -> Result<Vec<EntryOutcome>, ServiceError> {
        let mut outcomes = Vec::new();
        for batch in batches(entries) {
            let request = batch
                .iter()
                .map(|e| PutEventsEntry {
                    time: e.time(),
                    source: Some(e.source().to_owned()),
                    resources: e.resources().to_vec(),
                    detail_type: Some(e.detail_type().to_owned()),
                    detail: Some(e.detail_json().to_owned()),
                    event_bus_name: Some(bus.as_str().to_owned()),
                    trace_header: None,
                })
                .collect();
            let answer = self.0.put_events(request).await.map_err(|e| ServiceError::Unavailable(Box::new(e)))?;
            outcomes.extend(answer.entries.into_iter().map(|r| match r {
                EntryResult::Accepted { event_id } => EntryOutcome::Accepted(EventId::new(event_id)),
                EntryResult::Failed { error_code, error_message } => {
                    EntryOutcome::Failed(EntryFailure { code: error_code, message: error_message })
                }
            }));
        }
        Ok(outcomes)
    }
}

type TestRecorder = Recorder<SqliteProfiles, LocalObjects, LocalEvents>;

struct World {
    recorder: TestRecorder,
    invocations: Arc<Invocations>,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let profiles = LocalStore::open(&dir.path().join("local.db")).unwrap().profiles("UsersTable").unwrap();
    let template = local_template::Template::parse(TEMPLATE, Arc::new(local_template::NoSecrets)).unwrap();
    let invocations = Arc::new(Invocations::default());
    let s3 = S3::open(dir.path(), &template, Default::default(), Default::default(), invocations.clone()).unwrap();
    let targets = local_events::Targets {
        functions: invocations.clone(),
        state_machines: Arc::new(Nowhere),
        queues: Arc::new(Nowhere),
    };
    let events =
        EventBridge::open(dir.path(), &template, Default::default(), targets, std::time::Duration::from_secs(1))
            .unwrap();
    let recorder = Recorder {
        photos: profiles,
        objects: LocalObjects(s3),
        events: LocalEvents(events),
        bus: EventBusName::parse(BUS).unwrap(),
        bucket: BucketName::parse(BUCKET).unwrap(),
        specs: RenditionSpecs::standard(),
    };
    World { recorder, invocations, _dir: dir }
}

fn alice() -> UserId {
    UserId::parse(ALICE).unwrap()
}

impl World {
    async fn profile(&self) {
        let caller = Caller { id: alice(), email: Some("alice@example.com".into()), name: None };
        self.recorder.photos.put_profile(&Profile::from_claims(&caller, domain::now())).await.unwrap();
    }

    /// Writes rendition `name` of `upload` as `resize-photo` does, and returns the event S3 sent for it.
    async fn rendition(&self, upload: UploadId, name: &str, long_edge: u32) -> S3Event {
        let key = format!("renditions/{ALICE}/{upload}/{name}.jpg");
        let metadata = BTreeMap::from([
            ("width".to_owned(), long_edge.to_string()),
            ("height".to_owned(), (long_edge * 3 / 4).to_string()),
            ("upload-id".to_owned(), upload.to_string()),
        ]);
        self.put(&key, metadata).await
    }

    async fn put(&self, key: &str, metadata: BTreeMap<String, String>) -> S3Event {
        let jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10];
        self.recorder.objects.0.put_object(BUCKET, key, jpeg.into(), Some("image/jpeg"), metadata).await.unwrap();
        let want = local_s3::notify::event_key(key);
        for _ in 0..500 {
            let sent = self.invocations.to("RecordPhotoFunction");
            if let Some(event) = sent.iter().rev().find(|e| e["Records"][0]["s3"]["object"]["key"] == want.as_str()) {
                return serde_json::from_value(event.clone()).unwrap();
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("S3 sent no event for {key}");
    }

    /// The three renditions of `upload`, and the event of each, in the order written.
    async fn set(&self, upload: UploadId) -> Vec<S3Event> {
        let mut events = Vec::new();
        for (name, edge) in [("large", 1600), ("medium", 800), ("thumbnail", 200)] {
            events.push(self.rendition(upload, name, edge).await);
        }
        events
    }

    async fn photo(&self) -> PhotoRecord {
        self.recorder.photos.get_photo(&alice()).await.unwrap().unwrap()
    }

    async fn exists(&self, key: &str) -> bool {
        self.recorder.objects.0.head_object(BUCKET, key).await.is_ok()
    }

    /// The `PhotoProcessed` events the bus delivered to `notify-photo-processed` so far (waiting a little for the
    /// dispatcher).
    async fn delivered(&self, at_least: usize) -> Vec<Value> {
        for _ in 0..300 {
            let sent = self.invocations.to("NotifyPhotoProcessedFunction");
            if sent.len() >= at_least {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                return self.invocations.to("NotifyPhotoProcessedFunction");
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        self.invocations.to("NotifyPhotoProcessedFunction")
    }
}

fn set_of(upload: UploadId) -> PhotoSet {
    let renditions = [("large", 1600), ("medium", 800), ("thumbnail", 200)]
        .into_iter()
        .map(|(n, e)| (domain::photo::RenditionName::parse(n).unwrap(), RenditionSize { width: e, height: e * 3 / 4 }))
        .collect();
    PhotoSet { upload_id: upload, renditions }
}

fn keys_of(upload: UploadId) -> Vec<String> {
    set_of(upload).keys(&alice()).iter().map(|k| k.key().to_string()).collect()
}

#[tokio::test]
async fn the_last_rendition_completes_the_set_the_profile_shows_it_and_photo_processed_reaches_its_rule() {
    let world = world().await;
    world.profile().await;
    let upload = UploadId::generate(domain::now());
    let events = world.set(upload).await;
    let mut outcomes = Vec::new();
    for event in events {
        outcomes.extend(handle(&world.recorder, event).await.unwrap().outcomes);
    }
    // Every notification ran after all three were written, so each finds the set complete: one changes the
    // profile, the others find it done.
    assert_eq!(outcomes, [Outcome::Shown, Outcome::AlreadyShown, Outcome::AlreadyShown]);
    assert_eq!(
        world.photo().await,
        PhotoRecord { state: PhotoState { current: Some(set_of(upload)), attempt: None }, revision: 1 }
    );

    let delivered = world.delivered(3).await;
    assert_eq!(delivered.len(), 3, "put at least once per complete notification");
    let event = &delivered[0];
    assert_eq!(
        (event["source"].as_str(), event["detail-type"].as_str()),
        (Some("task-platform.photos"), Some("PhotoProcessed"))
    );
    let detail = PhotoProcessed::from_detail(&event["detail"]).unwrap();
    assert_eq!(detail, PhotoProcessed::new(&alice(), &set_of(upload)));
    assert_eq!(
        event["detail"]["renditions"]["large"],
        json!({"key": format!("renditions/{ALICE}/{upload}/large.jpg"), "width": 1600, "height": 1200})
    );
    assert!(delivered.iter().all(|e| e["detail"] == event["detail"]), "every put of one set is the same event");
}

#[tokio::test]
async fn a_set_is_incomplete_until_its_last_rendition_exists() {
    let world = world().await;
    world.profile().await;
    let upload = UploadId::generate(domain::now());
    let first = world.rendition(upload, "large", 1600).await;
    let handled = handle(&world.recorder, first).await.unwrap();
    assert_eq!(handled.outcomes, [Outcome::Incomplete]);
    let missing: Vec<_> = handled.records[0].missing.iter().map(|n| n.as_str()).collect();
    assert_eq!(missing, ["thumbnail", "medium"]);
    assert_eq!(world.photo().await, PhotoRecord::default(), "nothing recorded yet");
    world.rendition(upload, "medium", 800).await;
    let last = world.rendition(upload, "thumbnail", 200).await;
    assert_eq!(handle(&world.recorder, last).await.unwrap().outcomes, [Outcome::Shown]);
}

#[tokio::test]
async fn a_newer_set_replaces_the_photo_and_deletes_the_old_one_and_a_late_older_set_is_deleted_instead() {
    let world = world().await;
    world.profile().await;
    let (older, old, newer) = (
        UploadId::generate(domain::now() - time::Duration::minutes(2)),
        UploadId::generate(domain::now() - time::Duration::minutes(1)),
        UploadId::generate(domain::now()),
    );
    let first = world.set(old).await;
    assert_eq!(handle(&world.recorder, first[2].clone()).await.unwrap().outcomes, [Outcome::Shown]);
    let second = world.set(newer).await;
    let handled = handle(&world.recorder, second[2].clone()).await.unwrap();
    assert_eq!((handled.outcomes[0], handled.records[0].replaced.clone()), (Outcome::Shown, Some(old.to_string())));
    assert_eq!(world.photo().await.state.current, Some(set_of(newer)));
    for key in keys_of(old) {
        assert!(!world.exists(&key).await, "the replaced set is deleted: {key}");
    }
    // A set of an upload made before both, completing late (its notifications delayed).
    let late = world.set(older).await;
    assert_eq!(handle(&world.recorder, late[2].clone()).await.unwrap().outcomes, [Outcome::Superseded]);
    assert_eq!(world.photo().await.state.current, Some(set_of(newer)), "a late older set does not win");
    for key in keys_of(older) {
        assert!(!world.exists(&key).await, "the late set is deleted: {key}");
    }
    for key in keys_of(newer) {
        assert!(world.exists(&key).await, "{key}");
    }
    assert_eq!(world.delivered(2).await.len(), 2, "no PhotoProcessed for the superseded set");
}

#[tokio::test]
async fn a_set_completing_clears_its_processing_state_but_one_behind_a_newer_failed_upload_is_superseded() {
    let world = world().await;
    world.profile().await;
    let (first, second, third) = (
        UploadId::generate(domain::now() - time::Duration::minutes(2)),
        UploadId::generate(domain::now() - time::Duration::minutes(1)),
        UploadId::generate(domain::now()),
    );
    let processing = PhotoState::default().begin(first).unwrap();
    world.recorder.photos.update_photo(&alice(), &processing, 0).await.unwrap();
    let events = world.set(first).await;
    assert_eq!(handle(&world.recorder, events[2].clone()).await.unwrap().outcomes, [Outcome::Shown]);
    let shown = PhotoState { current: Some(set_of(first)), attempt: None };
    assert_eq!(world.photo().await.state, shown, "processing → ready");

    // The third upload fails while the second is still being rendered: the user's latest word is the third.
    let failure = domain::photo::Failure::new(domain::photo::FailureCode::Corrupt, "truncated");
    let failed = shown.begin(second).unwrap().begin(third).unwrap().fail(third, failure).unwrap();
    world.recorder.photos.update_photo(&alice(), &failed, 2).await.unwrap();
    let late = world.set(second).await;
    assert_eq!(handle(&world.recorder, late[2].clone()).await.unwrap().outcomes, [Outcome::Superseded]);
    let after = world.photo().await.state;
    assert_eq!(after, failed, "the first photo stays shown beside the third's failure");
    assert!(matches!(after.attempt, Some(Attempt::Failed { upload_id, .. }) if upload_id == third));
}

#[tokio::test]
async fn a_rendition_without_its_size_is_unreadable_and_keys_of_another_shape_are_ignored() {
    let world = world().await;
    world.profile().await;
    let upload = UploadId::generate(domain::now());
    world.rendition(upload, "large", 1600).await;
    world.rendition(upload, "medium", 800).await;
    let odd = world.put(&format!("renditions/{ALICE}/{upload}/thumbnail.jpg"), BTreeMap::new()).await;
    let handled = handle(&world.recorder, odd).await.unwrap();
    assert_eq!(handled.outcomes, [Outcome::Unreadable]);
    assert_eq!(world.photo().await, PhotoRecord::default());

    let stray = world.put(&format!("renditions/{ALICE}/{upload}/notes+draft.txt"), BTreeMap::new()).await;
    assert_eq!(
        stray.records[0].s3.object.key.as_deref(),
        Some(&*format!("renditions/{ALICE}/{upload}/notes%2Bdraft.txt"))
    );
    let handled = handle(&world.recorder, stray).await.unwrap();
    assert_eq!(
        (handled.outcomes[0], handled.records[0].key.clone()),
        (Outcome::Ignored, format!("renditions/{ALICE}/{upload}/notes+draft.txt"))
    );
}

#[tokio::test]
async fn a_set_of_a_user_without_a_profile_is_deleted() {
    let world = world().await;
    let upload = UploadId::generate(domain::now());
    let events = world.set(upload).await;
    assert_eq!(handle(&world.recorder, events[2].clone()).await.unwrap().outcomes, [Outcome::NoProfile]);
    for key in keys_of(upload) {
        assert!(!world.exists(&key).await, "{key}");
    }
}

/// A bus that fails the first `n` puts as unavailable, then puts through the local EventBridge.
struct Flaky {
    fail: Mutex<usize>,
    bus: LocalEvents,
}

impl EventPut for Flaky {
    async fn put_events(&self, bus: &EventBusName, entries: &[BusEvent]) -> Result<Vec<EntryOutcome>, ServiceError> {
        let fail = {
            let mut left = self.fail.lock().unwrap();
            let fail = *left > 0;
            *left = left.saturating_sub(1);
            fail
        };
        if fail {
            return Err(ServiceError::Unavailable(Box::new(std::io::Error::other("connection reset by 10.0.0.9"))));
        }
        self.bus.put_events(bus, entries).await
    }
}

#[tokio::test]
async fn a_bus_outage_after_the_profile_changed_fails_retryable_and_the_retry_puts_the_event() {
    let world = world().await;
    world.profile().await;
    let upload = UploadId::generate(domain::now());
    let events = world.set(upload).await;
    let flaky = Recorder {
        photos: world.recorder.photos.clone(),
        objects: world.recorder.objects.clone(),
        events: Flaky { fail: Mutex::new(1), bus: world.recorder.events.clone() },
        bus: world.recorder.bus.clone(),
        bucket: world.recorder.bucket.clone(),
        specs: RenditionSpecs::standard(),
    };
    let failed = handle(&flaky, events[2].clone()).await.unwrap_err();
    let (error_type, message) = failed.into_parts();
    assert_eq!(error_type, "Retryable");
    assert!(!message.contains("10.0.0.9"), "{message}");
    assert_eq!(world.photo().await.revision, 1, "the profile changed before the put failed");
    // Lambda's retry of the same event: the profile is left alone, the event goes out.
    assert_eq!(handle(&flaky, events[2].clone()).await.unwrap().outcomes, [Outcome::AlreadyShown]);
    assert_eq!(world.photo().await.revision, 1);
    assert_eq!(world.delivered(1).await.len(), 1);
}

#[tokio::test]
async fn a_missing_bucket_fails_misconfigured() {
    let world = world().await;
    world.profile().await;
    let upload = UploadId::generate(domain::now());
    let events = world.set(upload).await;
    // (A missing bus would not do: EventBridge accepts events for a bus that does not exist, and drops them.)
    let elsewhere =
        Recorder { bucket: BucketName::parse("no-such-bucket").unwrap(), ..clone_recorder(&world.recorder) };
    assert_eq!(handle(&elsewhere, events[2].clone()).await.unwrap_err().error_type(), "Misconfigured");
}

fn clone_recorder(r: &TestRecorder) -> TestRecorder {
    Recorder {
        photos: r.photos.clone(),
        objects: r.objects.clone(),
        events: r.events.clone(),
        bus: r.bus.clone(),
        bucket: r.bucket.clone(),
        specs: r.specs.clone(),
    }
}

/// `events/record-photo/<case>.json`.
fn sample(case: &str) -> S3Event {
    let path = format!("{}/../../events/record-photo/{case}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[tokio::test]
async fn every_sample_event_gives_its_documented_outcome_in_a_fresh_stack_and_with_the_set_there() {
    let world = world().await;
    for (case, want) in [
        ("rendition-created", Outcome::Incomplete),
        ("bad-shape-rendition", Outcome::Ignored),
        ("upload-key", Outcome::Ignored),
    ] {
        assert_eq!(handle(&world.recorder, sample(case)).await.unwrap().outcomes, [want], "{case}");
    }
    world.profile().await;
    let key = decode_event_key(sample("rendition-created").records[0].s3.object.key.as_deref().unwrap()).unwrap();
    let upload = domain::photo::RenditionKey::parse(&key).unwrap().upload;
    world.set(upload).await;
    assert_eq!(handle(&world.recorder, sample("rendition-created")).await.unwrap().outcomes, [Outcome::Shown]);
}

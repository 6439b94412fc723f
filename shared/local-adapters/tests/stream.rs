//! Table streams: every write of a tasks table appends its record in the same transaction, holding what DynamoDB
//! Streams carries; a write that fails appends nothing; readers are woken by the commit; the stream keeps its ARN
//! and its numbering across restarts.

use domain::ports::*;
use domain::*;
use local_adapters::stream::{EventName, RETENTION, StreamRecord, ViewType};
use local_adapters::{LocalStore, OpenError, SqliteTasks, TableStream};
use serde_dynamo::{AttributeValue, Item};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tempfile::TempDir;

const TASKS: &str = "TasksTable";
const ARN: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/TasksTable";

struct Fixture {
    _dir: TempDir,
    path: PathBuf,
    tasks: SqliteTasks,
    stream: TableStream,
}

fn open(path: &Path, view: ViewType) -> (SqliteTasks, TableStream) {
    let store = LocalStore::open(path).expect("open");
    let tasks = store.tasks(TASKS).expect("table");
    let stream = store.enable_stream(TASKS, ARN, view).expect("stream");
    (tasks, stream)
}

fn fixture(view: ViewType) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("local.db");
    let (tasks, stream) = open(&path, view);
    Fixture { _dir: dir, path, tasks, stream }
}

fn alice() -> UserId {
    UserId::parse("alice").unwrap()
}

fn task(title: &str) -> Task {
    let at = now();
    Task {
        owner: alice(),
        id: TaskId::generate(at),
        title: Title::parse(title).unwrap(),
        description: Some(Description::parse("words").unwrap()),
        status: Status::Pending,
        created_at: at,
        updated_at: at,
        version: Version::FIRST,
    }
}

fn image(t: &Task) -> Item {
    dynamo_items::task_to_item(t).unwrap()
}

fn keys(t: &Task) -> Item {
    Item::from(std::collections::HashMap::from([
        ("owner".to_owned(), AttributeValue::S(t.owner.to_string())),
        ("id".to_owned(), AttributeValue::S(t.id.to_string())),
    ]))
}

fn all(stream: &TableStream) -> Vec<StreamRecord> {
    stream.read(None, 1000).unwrap()
}

#[tokio::test]
async fn a_put_an_update_and_a_delete_append_insert_modify_and_remove_with_keys_and_both_images() {
    let f = fixture(ViewType::NewAndOldImages);
    assert_eq!(f.stream.latest(), None);
    let t = task("first");
    f.tasks.put_task(&t).await.unwrap();
    let patch = TaskPatch { status: Some(Status::Done), ..Default::default() };
    let updated = f.tasks.update_task(&alice(), t.id, &patch, Some(Version(1)), now()).await.unwrap();
    f.tasks.delete_task(&alice(), t.id, Some(Version(2))).await.unwrap();

    let records = all(&f.stream);
    let names: Vec<_> = records.iter().map(|r| r.event_name).collect();
    assert_eq!(names, [EventName::Insert, EventName::Modify, EventName::Remove]);
    assert!(records.windows(2).all(|w| w[0].sequence < w[1].sequence), "sequence numbers increase");
    assert_eq!(f.stream.latest(), Some(records[2].sequence));
    for r in &records {
        assert_eq!(r.keys, keys(&t));
        assert!(r.size_bytes > 0);
        assert!(now() - r.created_at < time::Duration::seconds(5));
    }
    let (insert, modify, remove) = (&records[0], &records[1], &records[2]);
    assert_eq!((insert.new_image.as_ref(), insert.old_image.as_ref()), (Some(&image(&t)), None));
    assert_eq!((modify.new_image.as_ref(), modify.old_image.as_ref()), (Some(&image(&updated)), Some(&image(&t))));
    assert_eq!((remove.new_image.as_ref(), remove.old_image.as_ref()), (None, Some(&image(&updated))));
    // The images read back through the one item layout, `owner_status` and all.
    assert_eq!(dynamo_items::task_from_item(modify.new_image.clone().unwrap()).unwrap(), updated);
    assert!(modify.size_bytes > insert.size_bytes, "two images weigh more than one");
}

#[tokio::test]
async fn a_record_as_json_has_the_shape_dynamodb_streams_gives_it() {
    let f = fixture(ViewType::NewAndOldImages);
    let t = task("shape");
    f.tasks.put_task(&t).await.unwrap();
    let record = &all(&f.stream)[0];
    let json = f.stream.record_json(record);
    assert_eq!(json["eventName"], "INSERT");
    assert_eq!(json["eventVersion"], "1.1");
    assert_eq!(json["eventSource"], "aws:dynamodb");
    assert_eq!(json["awsRegion"], "us-east-1");
    assert_eq!(json["eventID"].as_str().unwrap().len(), 32);
    let d = &json["dynamodb"];
    assert_eq!(d["Keys"]["owner"], serde_json::json!({"S": "alice"}));
    assert_eq!(d["NewImage"]["status"], serde_json::json!({"S": "pending"}));
    assert_eq!(d["NewImage"]["version"], serde_json::json!({"N": "1"}));
    assert!(d.get("OldImage").is_none(), "an INSERT has no old image");
    assert_eq!(d["SequenceNumber"], format!("{:021}", record.sequence));
    assert_eq!(d["StreamViewType"], "NEW_AND_OLD_IMAGES");
    assert_eq!(d["SizeBytes"], record.size_bytes);
    assert_eq!(d["ApproximateCreationDateTime"], record.created_at.unix_timestamp());
    let label = f.stream.label();
    assert_eq!(f.stream.arn(), format!("{ARN}/stream/{label}"));
    assert!(
        time::PrimitiveDateTime::parse(
            label,
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]")
        )
        .is_ok()
    );
}

#[tokio::test]
async fn writes_that_fail_their_condition_append_nothing() {
    let f = fixture(ViewType::NewAndOldImages);
    let t = task("once");
    f.tasks.put_task(&t).await.unwrap();
    let before = f.stream.latest();
    assert!(matches!(f.tasks.put_task(&t).await, Err(StoreError::AlreadyExists)));
    let patch = TaskPatch { title: Some(Title::parse("x").unwrap()), ..Default::default() };
    assert!(matches!(
        f.tasks.update_task(&alice(), t.id, &patch, Some(Version(9)), now()).await,
        Err(StoreError::VersionMismatch { current: 1 })
    ));
    let missing = TaskId::generate(now());
    assert!(matches!(f.tasks.update_task(&alice(), missing, &patch, None, now()).await, Err(StoreError::NotFound)));
    assert!(matches!(
        f.tasks.delete_task(&alice(), t.id, Some(Version(3))).await,
        Err(StoreError::VersionMismatch { .. })
    ));
    assert!(matches!(f.tasks.delete_task(&alice(), missing, None).await, Err(StoreError::NotFound)));
    assert_eq!(f.stream.latest(), before);
    assert_eq!(all(&f.stream).len(), 1);
}

#[tokio::test]
async fn a_record_that_cannot_be_appended_undoes_the_write_it_belongs_to() {
    let f = fixture(ViewType::NewAndOldImages);
    let kept = task("kept");
    f.tasks.put_task(&kept).await.unwrap();
    // Make every append fail: the records table refuses inserts from now on.
    let raw = rusqlite::Connection::open(&f.path).unwrap();
    raw.execute_batch(
        "CREATE TRIGGER refuse BEFORE INSERT ON \"TasksTable$stream\" BEGIN SELECT RAISE(ABORT, 'no'); END;",
    )
    .unwrap();

    let lost = task("lost");
    assert!(matches!(f.tasks.put_task(&lost).await, Err(StoreError::Unavailable(_))));
    assert_eq!(f.tasks.get_task(&alice(), lost.id).await.unwrap(), None, "the put rolled back with its record");
    let patch = TaskPatch { status: Some(Status::Done), ..Default::default() };
    assert!(f.tasks.update_task(&alice(), kept.id, &patch, None, now()).await.is_err());
    assert_eq!(f.tasks.get_task(&alice(), kept.id).await.unwrap(), Some(kept.clone()), "the update rolled back");
    assert!(f.tasks.delete_task(&alice(), kept.id, None).await.is_err());
    assert!(f.tasks.get_task(&alice(), kept.id).await.unwrap().is_some(), "the delete rolled back");
    assert_eq!(all(&f.stream).len(), 1);

    raw.execute_batch("DROP TRIGGER refuse;").unwrap();
    f.tasks.delete_task(&alice(), kept.id, None).await.unwrap();
    assert_eq!(all(&f.stream).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_reader_is_woken_by_the_commit_that_adds_a_record() {
    let f = fixture(ViewType::NewAndOldImages);
    let latest = f.stream.latest();
    let stream = f.stream.clone();
    let waiter = tokio::spawn(async move {
        stream.wait_after(latest).await;
        Instant::now()
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!waiter.is_finished(), "nothing was written yet");
    f.tasks.put_task(&task("wake")).await.unwrap();
    let committed = Instant::now();
    let woken = tokio::time::timeout(Duration::from_secs(5), waiter).await.expect("woken").unwrap();
    assert!(woken.saturating_duration_since(committed) < Duration::from_millis(50));
    // Already past: resolves at once.
    tokio::time::timeout(Duration::from_millis(100), f.stream.wait_after(latest)).await.expect("at once");
}

#[tokio::test]
async fn reading_after_a_sequence_number_pages_through_the_stream_in_order() {
    let f = fixture(ViewType::NewAndOldImages);
    for i in 0..7 {
        f.tasks.put_task(&task(&format!("t{i}"))).await.unwrap();
    }
    let mut after = None;
    let mut seen = Vec::new();
    loop {
        let page = f.stream.read(after, 3).unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 3);
        after = page.last().map(|r| r.sequence);
        seen.extend(page.into_iter().map(|r| r.sequence));
    }
    assert_eq!(seen, all(&f.stream).iter().map(|r| r.sequence).collect::<Vec<_>>());
    assert_eq!(seen.len(), 7);
}

#[tokio::test]
async fn the_stream_keeps_its_arn_and_numbering_across_a_restart_and_trimming() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("local.db");
    let (tasks, stream) = open(&path, ViewType::NewAndOldImages);
    for i in 0..3 {
        tasks.put_task(&task(&format!("t{i}"))).await.unwrap();
    }
    let (arn, latest) = (stream.arn().to_owned(), stream.latest());
    drop((tasks, stream));

    let (tasks, stream) = open(&path, ViewType::NewAndOldImages);
    assert_eq!(stream.arn(), arn);
    assert_eq!(stream.latest(), latest);
    assert_eq!(all(&stream).len(), 3);

    // Age the first two records past retention: they go, unless a reader has not passed them yet.
    let old = (time::OffsetDateTime::now_utc() - RETENTION - time::Duration::minutes(1)).unix_timestamp() * 1000;
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute("UPDATE \"TasksTable$stream\" SET created_ms = ?1 WHERE seq <= 2", [old]).unwrap();
    assert_eq!(stream.trim(Some(1)).await.unwrap(), 1, "only what every reader passed");
    assert_eq!(stream.trim(None).await.unwrap(), 1);
    assert_eq!(all(&stream).iter().map(|r| r.sequence).collect::<Vec<_>>(), [3]);
    // A trimmed sequence number is never given again.
    tasks.put_task(&task("after")).await.unwrap();
    assert_eq!(stream.latest(), Some(4));
    drop((tasks, stream));
    let (_tasks, stream) = open(&path, ViewType::NewAndOldImages);
    assert_eq!(stream.latest(), Some(4));
}

#[tokio::test]
async fn another_view_type_is_a_new_stream_and_keys_only_carries_no_images() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("local.db");
    let (tasks, stream) = open(&path, ViewType::NewAndOldImages);
    tasks.put_task(&task("before")).await.unwrap();
    let first_arn = stream.arn().to_owned();
    drop((tasks, stream));
    std::thread::sleep(Duration::from_millis(5)); // a later label
    let (tasks, stream) = open(&path, ViewType::KeysOnly);
    assert_ne!(stream.arn(), first_arn);
    assert!(all(&stream).is_empty(), "a new stream starts empty");
    let t = task("keys");
    tasks.put_task(&t).await.unwrap();
    let r = &all(&stream)[0];
    assert_eq!((r.keys.clone(), r.new_image.as_ref(), r.old_image.as_ref()), (keys(&t), None, None));
    assert_eq!(stream.record_json(r)["dynamodb"]["StreamViewType"], "KEYS_ONLY");
}

#[tokio::test]
async fn a_stream_turned_on_after_the_ports_were_made_records_their_writes() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(&dir.path().join("local.db")).unwrap();
    let tasks = store.tasks(TASKS).unwrap();
    tasks.put_task(&task("unrecorded")).await.unwrap();
    let stream = store.enable_stream(TASKS, ARN, ViewType::NewImage).unwrap();
    assert_eq!(stream.latest(), None);
    let t = task("recorded");
    tasks.put_task(&t).await.unwrap();
    let records = all(&stream);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].new_image, Some(image(&t)));
    // Reads are the same statements, with or without a stream.
    let plan = tasks.get_query_plan().unwrap().join(" | ");
    assert!(plan.contains("USING PRIMARY KEY"), "{plan}");
}

#[test]
fn a_table_arn_that_is_not_the_tables_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(&dir.path().join("local.db")).unwrap();
    for arn in ["arn:aws:dynamodb:us-east-1:1:table/Other", "TasksTable"] {
        let e = store.enable_stream(TASKS, arn, ViewType::NewAndOldImages).unwrap_err();
        assert!(matches!(e, OpenError::Stream { .. }), "{e}");
    }
}

#[tokio::test]
async fn deleting_a_row_too_damaged_to_read_records_its_keys_as_the_old_image() {
    let f = fixture(ViewType::NewAndOldImages);
    let t = task("damaged");
    f.tasks.put_task(&t).await.unwrap();
    let raw = rusqlite::Connection::open(&f.path).unwrap();
    raw.execute("UPDATE TasksTable SET status = 'banana'", []).unwrap();
    f.tasks.delete_task(&alice(), t.id, Some(Version(1))).await.unwrap();
    let remove = all(&f.stream).pop().unwrap();
    assert_eq!(remove.event_name, EventName::Remove);
    assert_eq!(remove.old_image, Some(keys(&t)));
}

#[test]
fn streams_also_work_outside_any_async_runtime() {
    let f = fixture(ViewType::NewAndOldImages);
    let t = task("sync");
    block_on(f.tasks.put_task(&t)).unwrap();
    assert_eq!(all(&f.stream).len(), 1);
    assert_eq!(f.stream.latest(), Some(1));
}

/// Polls a future to completion on this thread, with no runtime at all.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::yield_now();
    }
}

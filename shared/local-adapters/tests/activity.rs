//! The SQLite activity log and idempotency store against the shared contract (`domain::activity_contract`), plus
//! what only an embedded store has to prove: its list plan and the rows a page costs, its handling of rows edited
//! into nonsense, and the sweep that stands in for DynamoDB's TTL.

use domain::activity::{Activity, ActivityAppend, ActivityList, ActivityQuery, Changes};
use domain::event::FieldChange;
use domain::idempotency::{ClaimOutcome, Holder, Idempotency, IdempotencyKey};
use domain::{ChangeId, StoreError, TaskEventKind, TaskId, UserId};
use local_adapters::{CorruptRow, LocalStore, OpenError, SqliteActivity, SqliteIdempotency};
use serde_json::json;
use tempfile::TempDir;

const ACTIVITY: &str = "ActivityTable";
const IDEMPOTENCY: &str = "IdempotencyTable";

fn open() -> (LocalStore, TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("local.db");
    (LocalStore::open(&path).expect("open"), dir, path)
}

async fn log() -> (SqliteActivity, TempDir) {
    let (store, dir, _) = open();
    (store.activity(ACTIVITY).expect("table"), dir)
}

async fn claims() -> (SqliteIdempotency, TempDir) {
    let (store, dir, _) = open();
    (store.idempotency(IDEMPOTENCY).expect("table"), dir)
}

mod contract {
    domain::activity_contract_tests!(log: super::log(), claims: super::claims());
}

fn entry(owner: &UserId, task: TaskId, version: u64) -> Activity {
    let changed = Changes::from([("status".to_owned(), FieldChange { old: json!("pending"), new: json!("done") })]);
    Activity::new(owner.clone(), ChangeId::new(task, version, TaskEventKind::TaskStatusChanged), domain::now(), changed)
}

#[tokio::test]
async fn a_page_reads_the_key_backwards_with_no_scan_and_no_sort_and_costs_only_its_rows() {
    let (store, _dir, path) = open();
    let log = store.activity(ACTIVITY).unwrap();
    let alice = UserId::parse("alice").unwrap();
    let task = TaskId::generate(domain::now());
    for v in 1..=300 {
        log.append_activity(&entry(&alice, task, v)).await.unwrap();
    }
    // Other tasks and owners around it, which a scan would walk through.
    for other in ["bob", "carol"] {
        let owner = UserId::parse(other).unwrap();
        for v in 1..=300 {
            log.append_activity(&entry(&owner, task, v)).await.unwrap();
        }
    }
    rusqlite::Connection::open(&path).unwrap().execute_batch("ANALYZE").unwrap();
    for after in [false, true] {
        let plan = log.list_query_plan(after).unwrap().join(" | ");
        assert!(plan.contains("SEARCH") && plan.contains("PRIMARY KEY"), "{plan}");
        assert!(!plan.contains("SCAN") && !plan.contains("TEMP B-TREE"), "{plan}");
    }
    let first = log.list_activity_counted(&alice, task, &ActivityQuery { after: None, fetch: 26 }).unwrap();
    assert_eq!((first.0.len(), first.1), (26, 26));
    assert_eq!(first.0[0].version(), 300);
    let after = Some(first.0[25].position());
    let (next, visited) = log.list_activity_counted(&alice, task, &ActivityQuery { after, fetch: 26 }).unwrap();
    assert_eq!((next.len(), visited), (26, 26));
    assert_eq!(next[0].version(), 274);
}

#[tokio::test]
async fn a_row_edited_into_nonsense_or_out_of_place_is_reported_unavailable_not_a_panic() {
    let (store, _dir, path) = open();
    let log = store.activity(ACTIVITY).unwrap();
    let alice = UserId::parse("alice").unwrap();
    let task = TaskId::generate(domain::now());
    log.append_activity(&entry(&alice, task, 2)).await.unwrap();
    let raw = rusqlite::Connection::open(&path).unwrap();
    let all = ActivityQuery { after: None, fetch: 10 };
    let column_of = |result: Result<Vec<Activity>, StoreError>| match result {
        Err(StoreError::Unavailable(source)) => source.downcast_ref::<CorruptRow>().expect("a CorruptRow").column,
        other => panic!("expected Unavailable(CorruptRow), got {other:?}"),
    };
    raw.execute("UPDATE ActivityTable SET changed = '[1'", []).unwrap();
    assert_eq!(column_of(log.list_activity(&alice, task, &all).await), "changed");
    raw.execute("UPDATE ActivityTable SET changed = '{}', seq = 29", []).unwrap();
    assert_eq!(column_of(log.list_activity(&alice, task, &all).await), "change_id");
    raw.execute("UPDATE ActivityTable SET seq = 9, change_id = 'nonsense'", []).unwrap();
    assert_eq!(column_of(log.list_activity(&alice, task, &all).await), "change_id");
}

#[tokio::test]
async fn expired_records_are_swept_an_hour_after_their_time_and_live_ones_are_kept() {
    let (store, _dir, path) = open();
    let claims = store.idempotency(IDEMPOTENCY).unwrap();
    let now = domain::now();
    let (old, recent, live) = (key("old"), key("recent"), key("live"));
    let holder = Holder::generate();
    let hours = time::Duration::hours;
    // Claimed long ago (times are the caller's), so expired two hours and ten minutes ago respectively.
    claims.claim(&old, &holder, now - hours(3), now - hours(2)).await.unwrap();
    claims.claim(&recent, &holder, now - hours(1), now - time::Duration::minutes(10)).await.unwrap();
    claims.claim(&live, &holder, now, now + hours(1)).await.unwrap();
    let raw = rusqlite::Connection::open(&path).unwrap();
    let ids = || -> Vec<String> {
        let mut stmt = raw.prepare("SELECT id FROM IdempotencyTable ORDER BY id").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    // The third claim swept the record expired over an hour ago; the one expired ten minutes ago waits, absent.
    assert_eq!(ids(), ["test:live", "test:recent"]);
    assert_eq!(claims.claim(&recent, &Holder::generate(), now, now + hours(1)).await.unwrap(), ClaimOutcome::Claimed);
}

fn key(name: &str) -> IdempotencyKey {
    IdempotencyKey::parse(&format!("test:{name}")).unwrap()
}

#[test]
fn tables_of_other_shapes_and_names_dynamodb_would_refuse_are_refused_at_setup() {
    let (store, _dir, path) = open();
    rusqlite::Connection::open(&path).unwrap().execute_batch("CREATE TABLE Elsewhere (pk TEXT PRIMARY KEY)").unwrap();
    assert!(matches!(store.activity("Elsewhere"), Err(OpenError::Sqlite { .. })));
    assert!(matches!(store.idempotency("Elsewhere"), Err(OpenError::Sqlite { .. })));
    assert!(matches!(store.activity("a b"), Err(OpenError::InvalidTableName { .. })));
    assert!(matches!(store.idempotency("sqlite_x"), Err(OpenError::InvalidTableName { .. })));
    store.activity(ACTIVITY).unwrap();
    assert!(
        matches!(store.idempotency(ACTIVITY), Err(OpenError::Sqlite { .. })),
        "an activity table is not a claims table"
    );
}

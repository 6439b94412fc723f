//! The DynamoDB adapter against `moto_server`: the shared store contract (`domain::contract`), then what is
//! particular to DynamoDB: bounded index reads, corrupt items, conditional failures told apart, error causes.
//!
//! One moto per test binary ([`MotoServer::shared`]); each test gets a fresh client (its own tokio runtime) and
//! fresh tables, so tests run concurrently without seeing each other's data.

use aws_adapters::dynamo::schema::*;
use aws_adapters::dynamo::{CallFailed, CorruptItem, task_item};
use aws_adapters::testing::{MotoServer, batch_put_tasks, create_tables};
use aws_adapters::{DynamoStore, DynamoTasks};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::ports::*;
use domain::*;
use std::collections::{HashMap, HashSet};

async fn store() -> DynamoStore {
    let (store, _) = store_and_client().await;
    store
}

async fn store_and_client() -> (DynamoStore, Client) {
    let client = MotoServer::shared().client();
    let (tasks, users) = create_tables(&client).await;
    (aws_adapters::dynamo::store(client.clone(), tasks, users), client)
}

domain::store_contract_tests!(store());

fn owner() -> UserId {
    UserId::parse(&format!("user-{:032x}", rand::random::<u128>())).unwrap()
}

fn task(owner: &UserId, i: usize, status: Status, at: Timestamp) -> Task {
    Task {
        owner: owner.clone(),
        id: TaskId::generate(at),
        title: Title::parse(&format!("task {i}")).unwrap(),
        description: None,
        status,
        created_at: at,
        updated_at: at,
        version: Version::FIRST,
    }
}

/// `n` tasks one millisecond apart, the status of each chosen by `status_of(i)`.
fn tasks(owner: &UserId, n: usize, status_of: impl Fn(usize) -> Status) -> Vec<Task> {
    let start = domain::now() - time::Duration::days(2);
    (0..n).map(|i| task(owner, i, status_of(i), start + time::Duration::milliseconds(i as i64))).collect()
}

async fn put_raw(client: &Client, table: &str, item: HashMap<String, AttributeValue>) {
    client.put_item().table_name(table).set_item(Some(item)).send().await.expect("raw put");
}

async fn get_raw(client: &Client, table: &str, owner: &UserId, id: TaskId) -> HashMap<String, AttributeValue> {
    client
        .get_item()
        .table_name(table)
        .key(TASK_OWNER, AttributeValue::S(owner.to_string()))
        .key(TASK_ID, AttributeValue::S(id.to_string()))
        .send()
        .await
        .expect("raw get")
        .item
        .expect("the item exists")
}

fn corrupt_item(err: &StoreError) -> &CorruptItem {
    match err {
        StoreError::Unavailable(source) => {
            source.downcast_ref::<CorruptItem>().unwrap_or_else(|| panic!("not a CorruptItem: {err:?}"))
        }
        other => panic!("expected Unavailable(CorruptItem), got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_filter_reads_only_the_by_status_index_and_scans_at_most_fetch_items_per_page() {
    let (store, client) = store_and_client().await;
    let alice = owner();
    // 3,000 tasks of which one in fifty is done: a filter applied after reading would scan ~1,300 per page.
    let all = tasks(&alice, 3_000, |i| if i % 50 == 7 { Status::Done } else { Status::ALL[i % 2] });
    batch_put_tasks(&client, store.tasks.table(), &all).await.expect("load");
    let want: Vec<TaskId> = all.iter().rev().filter(|t| t.status == Status::Done).map(|t| t.id).collect();
    assert_eq!(want.len(), 60);

    let fetch = 26;
    let mut got = Vec::new();
    let mut after = None;
    loop {
        let query = ListQuery { status: Some(Status::Done), after, fetch };
        let (page, cost) = store.tasks.list_tasks_counted(&alice, &query).await.expect("list");
        assert_eq!(cost.index, Some(BY_STATUS_INDEX), "a status filter queries the index");
        assert!(cost.scanned_count <= fetch as u64, "scanned {} for fetch {fetch}", cost.scanned_count);
        assert_eq!(cost.scanned_count, page.len() as u64, "nothing read is thrown away");
        assert_eq!(cost.queries, 1);
        assert!(page.iter().all(|t| t.status == Status::Done));
        after = page.last().map(|t| t.id);
        let last_page = page.len() < fetch;
        got.extend(page.into_iter().map(|t| t.id));
        if last_page {
            break;
        }
    }
    assert_eq!(got, want, "every done task, newest first, once");

    let (page, cost) =
        store.tasks.list_tasks_counted(&alice, &ListQuery { status: None, after: None, fetch }).await.unwrap();
    assert_eq!((page.len(), cost.scanned_count, cost.index), (fetch, fetch as u64, None), "unfiltered: the table");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_large_items_past_one_megabyte_is_completed_without_reading_more_than_fetch() {
    let (store, client) = store_and_client().await;
    let alice = owner();
    let description = Description::parse(&"x".repeat(domain::task::DESCRIPTION_MAX_CHARS)).unwrap();
    let mut all = tasks(&alice, 101, |_| Status::Pending);
    for t in &mut all {
        t.description = Some(description.clone());
    }
    batch_put_tasks(&client, store.tasks.table(), &all).await.expect("load");
    // 101 items of ~10 KB are just over DynamoDB's 1 MB response limit, so one Query cannot return them all.
    let (page, cost) =
        store.tasks.list_tasks_counted(&alice, &ListQuery { status: None, after: None, fetch: 101 }).await.unwrap();
    assert_eq!(page.len(), 101);
    assert_eq!(cost.scanned_count, 101, "{cost:?}");
    assert!(cost.queries >= 2, "the 1 MB limit was reached and the page completed: {cost:?}");
    let ids: HashSet<_> = page.iter().map(|t| t.id).collect();
    assert_eq!(ids.len(), 101);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_failures_tell_a_missing_task_from_a_stale_version() {
    let store = store().await;
    let (alice, bob) = (owner(), owner());
    let t = task(&alice, 0, Status::Pending, domain::now());
    store.put_task(&t).await.unwrap();
    let patch = TaskPatch { status: Some(Status::Done), ..Default::default() };
    let now = domain::now();

    // Missing (never existed, or someone else's): 404 whatever version is named.
    let ghost = TaskId::generate(now);
    for expected in [None, Some(Version(1)), Some(Version(9))] {
        assert!(matches!(store.update_task(&alice, ghost, &patch, expected, now).await, Err(StoreError::NotFound)));
        assert!(matches!(store.update_task(&bob, t.id, &patch, expected, now).await, Err(StoreError::NotFound)));
        assert!(matches!(store.delete_task(&alice, ghost, expected).await, Err(StoreError::NotFound)));
        assert!(matches!(store.delete_task(&bob, t.id, expected).await, Err(StoreError::NotFound)));
    }
    assert_eq!(store.get_task(&alice, ghost).await.unwrap(), None, "a failed update created nothing");

    // Present at another version: 412 with the current version.
    let stale = store.update_task(&alice, t.id, &patch, Some(Version(5)), now).await;
    assert!(matches!(stale, Err(StoreError::VersionMismatch { current: 1 })), "{stale:?}");
    let updated = store.update_task(&alice, t.id, &patch, Some(Version(1)), now).await.unwrap();
    assert_eq!(updated.version, Version(2));
    let stale = store.delete_task(&alice, t.id, Some(Version(1))).await;
    assert!(matches!(stale, Err(StoreError::VersionMismatch { current: 2 })), "{stale:?}");
    store.delete_task(&alice, t.id, Some(Version(2))).await.unwrap();
    assert!(matches!(store.delete_task(&alice, t.id, Some(Version(2))).await, Err(StoreError::NotFound)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_items_are_unavailable_naming_the_item_never_a_panic() {
    let (store, client) = store_and_client().await;
    let table = store.tasks.table().to_owned();
    let alice = owner();
    let now = domain::now();
    let mut ids = Vec::new();
    let corruptions: [(&str, Option<AttributeValue>); 5] = [
        (TASK_TITLE, Some(AttributeValue::S("".into()))),
        (TASK_STATUS, Some(AttributeValue::S("finished".into()))),
        (TASK_VERSION, Some(AttributeValue::S("one".into()))),
        (TASK_CREATED_AT, Some(AttributeValue::N("12".into()))),
        (TASK_TITLE, None),
    ];
    for (i, (attr, value)) in corruptions.iter().enumerate() {
        let t = task(&alice, i, Status::Pending, now + time::Duration::milliseconds(i as i64));
        let mut item = task_item(&t).unwrap();
        match value {
            Some(v) => item.insert(attr.to_string(), v.clone()),
            None => item.remove(*attr),
        };
        put_raw(&client, &table, item).await;
        ids.push(t.id);

        let err = store.get_task(&alice, t.id).await.unwrap_err();
        let corrupt = corrupt_item(&err);
        assert_eq!(corrupt.key, format!("owner={alice}, id={}", t.id), "{attr}");
        assert_eq!(corrupt.table, table);
        assert!(std::error::Error::source(corrupt).is_some(), "{attr}: the cause is kept");
    }
    // A list that meets a corrupt item fails the same way rather than skipping it silently.
    let err = store.list_tasks(&alice, &ListQuery { status: None, after: None, fetch: 10 }).await.unwrap_err();
    corrupt_item(&err);
    // A version that is not a number fails the version condition; the old item it returns is read as corrupt,
    // not as "another version".
    let patch = TaskPatch { title: Some(Title::parse("x").unwrap()), ..Default::default() };
    let err = store.update_task(&alice, ids[2], &patch, Some(Version(1)), now).await.unwrap_err();
    corrupt_item(&err);

    let users = store.profiles.table().to_owned();
    let bob = owner();
    let item = HashMap::from([
        (USER_ID.to_owned(), AttributeValue::S(bob.to_string())),
        (USER_DISPLAY_NAME.to_owned(), AttributeValue::S("Bob".into())),
        (USER_EMAIL.to_owned(), AttributeValue::S("not an email".into())),
    ]);
    client.put_item().table_name(&users).set_item(Some(item)).send().await.unwrap();
    let err = store.get_profile(&bob).await.unwrap_err();
    assert_eq!(corrupt_item(&err).key, format!("user_id={bob}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_writes_only_the_patched_attributes_and_clearing_removes_the_attribute() {
    let (store, client) = store_and_client().await;
    let table = store.tasks.table().to_owned();
    let alice = owner();
    let mut t = task(&alice, 0, Status::Pending, domain::now());
    t.description = Some(Description::parse("keep me").unwrap());
    store.put_task(&t).await.unwrap();

    let later = t.created_at + time::Duration::seconds(1);
    let title_only = TaskPatch { title: Some(Title::parse("renamed").unwrap()), ..Default::default() };
    store.update_task(&alice, t.id, &title_only, None, later).await.unwrap();
    let raw = get_raw(&client, &table, &alice, t.id).await;
    assert_eq!(raw[TASK_DESCRIPTION], AttributeValue::S("keep me".into()));
    assert_eq!(raw[TASK_OWNER_STATUS], AttributeValue::S(format!("{alice}#pending")));
    assert_eq!(raw[TASK_VERSION], AttributeValue::N("2".into()));

    let clear = TaskPatch { description: Some(None), status: Some(Status::InProgress), ..Default::default() };
    let updated = store.update_task(&alice, t.id, &clear, Some(Version(2)), later).await.unwrap();
    assert_eq!(updated.description, None);
    let raw = get_raw(&client, &table, &alice, t.id).await;
    assert!(!raw.contains_key(TASK_DESCRIPTION), "REMOVEd, not stored as NULL: {raw:?}");
    assert_eq!(raw[TASK_STATUS], AttributeValue::S("in_progress".into()));
    assert_eq!(raw[TASK_OWNER_STATUS], AttributeValue::S(format!("{alice}#in_progress")));

    let users = store.profiles.table().to_owned();
    let caller = Caller { id: alice.clone(), email: Some("a@example.com".into()), name: Some("A".into()) };
    store.put_profile(&Profile::from_claims(&caller, later)).await.unwrap();
    let patch = ProfilePatch { display_name: None, email: Some(None) };
    let p = store.update_profile(&alice, &patch, later).await.unwrap();
    assert_eq!((p.email, p.version, p.display_name.as_str()), (None, 2, "A"));
    let raw =
        client.get_item().table_name(&users).key(USER_ID, AttributeValue::S(alice.to_string())).send().await.unwrap();
    assert!(!raw.item.unwrap().contains_key(USER_EMAIL));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_failure_is_unavailable_and_keeps_the_sdk_error_as_its_cause() {
    let client = MotoServer::shared().client();
    let missing = DynamoTasks::new(client, "NoSuchTable");
    let err = missing.get_task(&owner(), TaskId::generate(domain::now())).await.unwrap_err();
    let StoreError::Unavailable(source) = &err else { panic!("{err:?}") };
    let failed = source.downcast_ref::<CallFailed>().unwrap_or_else(|| panic!("not a CallFailed: {source:?}"));
    assert_eq!((failed.operation, failed.table.as_str()), ("GetItem", "NoSuchTable"));
    let sdk = failed
        .source
        .downcast_ref::<aws_sdk_dynamodb::error::SdkError<aws_sdk_dynamodb::operation::get_item::GetItemError>>();
    let sdk = sdk.unwrap_or_else(|| panic!("the SDK error itself: {:?}", failed.source));
    assert!(matches!(sdk.as_service_error(), Some(e) if e.is_resource_not_found_exception()), "{sdk:?}");

    // A put onto a missing table is not "already exists", and a conditional put onto a present one is.
    let t = task(&owner(), 0, Status::Pending, domain::now());
    assert!(matches!(missing.put_task(&t).await, Err(StoreError::Unavailable(_))));
}

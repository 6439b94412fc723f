//! The DynamoDB activity log and idempotency store against `moto_server`: the shared contract
//! (`domain::activity_contract`), then what is particular to DynamoDB: a page is one Query of one partition that
//! reads only its entries, the table's TTL is on `expires_at`, and a claim's time is the TTL attribute's epoch
//! seconds.
//!
//! One moto per test binary ([`MotoServer::shared`]); each test gets a fresh client and fresh tables.

use aws_adapters::dynamo::idempotency::{IDEMPOTENCY_EXPIRES_AT, IDEMPOTENCY_ID};
use aws_adapters::testing::{MotoServer, create_activity_tables};
use aws_adapters::{DynamoActivity, DynamoIdempotency};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveStatus};
use domain::activity::{Activity, ActivityAppend, ActivityQuery, Changes};
use domain::event::FieldChange;
use domain::idempotency::{Holder, Idempotency, IdempotencyKey};
use domain::{ChangeId, TaskEventKind, TaskId, UserId};
use serde_json::json;

async fn tables() -> (Client, String, String) {
    let client = MotoServer::shared().client();
    let (activity, claims) = create_activity_tables(&client).await;
    (client, activity, claims)
}

async fn log() -> (DynamoActivity, ()) {
    let (client, activity, _) = tables().await;
    (DynamoActivity::new(client, activity), ())
}

async fn claims() -> (DynamoIdempotency, ()) {
    let (client, _, claims) = tables().await;
    (DynamoIdempotency::new(client, claims), ())
}

domain::activity_contract_tests!(log: log(), claims: claims());

fn entry(owner: &UserId, task: TaskId, version: u64) -> Activity {
    // A large change, so that a page of them passes DynamoDB's 1 MB response limit.
    let big = "d".repeat(9000);
    let changed = Changes::from([("description".to_owned(), FieldChange { old: json!(big), new: json!(big) })]);
    Activity::new(owner.clone(), ChangeId::new(task, version, TaskEventKind::TaskUpdated), domain::now(), changed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_reads_only_its_entries_even_across_the_one_megabyte_limit() {
    let (client, table, _) = tables().await;
    let log = DynamoActivity::new(client, table);
    let (alice, bob) = (UserId::parse("alice").unwrap(), UserId::parse("bob").unwrap());
    let task = TaskId::generate(domain::now());
    for v in 1..=130 {
        log.append_activity(&entry(&alice, task, v)).await.unwrap();
    }
    for v in 1..=20 {
        log.append_activity(&entry(&bob, task, v)).await.unwrap();
    }
    // 121 entries of ~18 KB are over 2 MB: at least three requests, and still exactly 121 read.
    let (page, scanned) =
        log.list_activity_counted(&alice, task, &ActivityQuery { after: None, fetch: 121 }).await.unwrap();
    assert_eq!((page.len(), scanned), (121, 121));
    assert_eq!((page[0].version(), page[120].version()), (130, 10));
    let after = Some(page[120].position());
    let (rest, scanned) = log.list_activity_counted(&alice, task, &ActivityQuery { after, fetch: 26 }).await.unwrap();
    assert_eq!((rest.len(), scanned), (9, 9));
    assert_eq!(rest.iter().map(Activity::version).collect::<Vec<_>>(), (1..=9).rev().collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_claims_table_expires_records_by_ttl_on_expires_at_in_epoch_seconds() {
    let (client, _, table) = tables().await;
    let ttl = client.describe_time_to_live().table_name(&table).send().await.unwrap();
    let ttl = ttl.time_to_live_description().expect("a TTL description");
    assert_eq!(ttl.attribute_name(), Some(IDEMPOTENCY_EXPIRES_AT));
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));

    let claims = DynamoIdempotency::new(client.clone(), &table);
    let key = IdempotencyKey::parse("test:ttl").unwrap();
    let now = domain::now();
    claims.claim(&key, &Holder::generate(), now, now + time::Duration::minutes(2)).await.unwrap();
    let item = client
        .get_item()
        .table_name(&table)
        .key(IDEMPOTENCY_ID, AttributeValue::S(key.as_str().to_owned()))
        .send()
        .await
        .unwrap()
        .item
        .expect("the record");
    let expected = (now + time::Duration::minutes(2)).unix_timestamp().to_string();
    assert_eq!(item[IDEMPOTENCY_EXPIRES_AT], AttributeValue::N(expected));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_with_a_status_nobody_writes_is_reported_corrupt_not_taken_over() {
    let (client, _, table) = tables().await;
    let claims = DynamoIdempotency::new(client.clone(), &table);
    let key = IdempotencyKey::parse("test:corrupt").unwrap();
    let now = domain::now();
    claims.claim(&key, &Holder::generate(), now, now + time::Duration::minutes(2)).await.unwrap();
    client
        .update_item()
        .table_name(&table)
        .key(IDEMPOTENCY_ID, AttributeValue::S(key.as_str().to_owned()))
        .update_expression("SET #s = :s")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":s", AttributeValue::S("maybe".into()))
        .send()
        .await
        .unwrap();
    let err = claims.claim(&key, &Holder::generate(), now, now + time::Duration::minutes(2)).await.unwrap_err();
    let domain::StoreError::Unavailable(source) = &err else { panic!("{err:?}") };
    assert!(source.downcast_ref::<aws_adapters::dynamo::CorruptItem>().is_some(), "{err:?}");
}

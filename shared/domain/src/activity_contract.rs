//! The activity log's and the idempotency store's contract: the guarantees of [`crate::activity`] and
//! [`crate::idempotency`], as checks every adapter runs against itself (SQLite on a temporary database, DynamoDB
//! against `moto_server`). Use [`activity_contract_tests!`](crate::activity_contract_tests) in an adapter's tests.
//!
//! Each check makes its own random owners, tasks and keys, so checks can share one store and run concurrently.

use crate::activity::{Activity, ActivityAppend, ActivityList, ActivityQuery, Changes, Position};
use crate::contract::futures_join_all;
use crate::event::FieldChange;
use crate::idempotency::{ClaimOutcome, Holder, Idempotency, IdempotencyKey};
use crate::*;
use serde_json::json;
use std::collections::HashSet;

/// What the log checks run against.
pub trait ActivityLog: ActivityAppend + ActivityList {}
impl<T: ActivityAppend + ActivityList> ActivityLog for T {}

fn owner() -> UserId {
    UserId::parse(&format!("user-{:032x}", rand::random::<u128>())).unwrap()
}

fn status_change(old: &str, new: &str) -> Changes {
    Changes::from([("status".to_owned(), FieldChange { old: json!(old), new: json!(new) })])
}

/// An entry of `owner`'s log of `task`: change `kind` at `version`, at `at`.
fn entry(owner: &UserId, task: TaskId, version: u64, kind: TaskEventKind, at: Timestamp) -> Activity {
    let changed = match kind {
        TaskEventKind::TaskStatusChanged => status_change("pending", "done"),
        _ => Changes::from([("title".to_owned(), FieldChange { old: json!("a"), new: json!(format!("v{version}")) })]),
    };
    Activity::new(owner.clone(), ChangeId::new(task, version, kind), at, changed)
}

/// A task's history of `writes` writes: created, then alternately a status change alone and a status change with
/// a rename (two entries of one version), then deleted. Timestamps deliberately out of order: the log orders by
/// position, not by time.
fn history(owner: &UserId, task: TaskId, writes: u64) -> Vec<Activity> {
    let start = crate::now() - time::Duration::days(1);
    let at = |i: u64| start + time::Duration::seconds(((i * 7919) % 101) as i64);
    let mut out = vec![entry(owner, task, 1, TaskEventKind::TaskCreated, at(1))];
    for v in 2..=writes {
        out.push(entry(owner, task, v, TaskEventKind::TaskStatusChanged, at(v)));
        if v % 2 == 0 {
            out.push(entry(owner, task, v, TaskEventKind::TaskUpdated, at(v)));
        }
    }
    out.push(entry(owner, task, writes, TaskEventKind::TaskDeleted, at(0)));
    out
}

async fn list_all(log: &impl ActivityLog, owner: &UserId, task: TaskId, page: usize) -> Vec<Activity> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let got = log.list_activity(owner, task, &ActivityQuery { after, fetch: page }).await.expect("list");
        assert!(got.len() <= page, "a list returned {} entries for fetch {page}", got.len());
        let done = got.len() < page;
        after = got.last().map(Activity::position);
        all.extend(got);
        if done || after.is_none() {
            return all;
        }
    }
}

pub async fn an_appended_change_reads_back_equal_and_only_in_its_owners_log_of_its_task(log: &impl ActivityLog) {
    let (alice, bob) = (owner(), owner());
    let (task, other) = (TaskId::generate(crate::now()), TaskId::generate(crate::now()));
    let e = entry(&alice, task, 2, TaskEventKind::TaskStatusChanged, crate::now());
    log.append_activity(&e).await.unwrap();
    let all = ActivityQuery { after: None, fetch: 10 };
    assert_eq!(log.list_activity(&alice, task, &all).await.unwrap(), vec![e]);
    assert!(log.list_activity(&bob, task, &all).await.unwrap().is_empty());
    assert!(log.list_activity(&alice, other, &all).await.unwrap().is_empty());
}

pub async fn appending_a_change_again_is_refused_and_keeps_the_first_whatever_its_time(log: &impl ActivityLog) {
    let alice = owner();
    let task = TaskId::generate(crate::now());
    let first = entry(&alice, task, 3, TaskEventKind::TaskDeleted, crate::now());
    log.append_activity(&first).await.unwrap();
    // A deletion observed twice: same change, another time, and (were it possible) other fields.
    let again = Activity::new(
        alice.clone(),
        first.change_id().clone(),
        first.occurred_at() + time::Duration::seconds(30),
        status_change("done", "pending"),
    );
    assert!(matches!(log.append_activity(&again).await, Err(StoreError::AlreadyExists)));
    let all = ActivityQuery { after: None, fetch: 10 };
    assert_eq!(log.list_activity(&alice, task, &all).await.unwrap(), vec![first]);
}

pub async fn of_concurrent_appends_of_one_change_exactly_one_stores_it(log: &impl ActivityLog) {
    let alice = owner();
    let task = TaskId::generate(crate::now());
    let e = entry(&alice, task, 1, TaskEventKind::TaskCreated, crate::now());
    let results = futures_join_all((0..8).map(|_| log.append_activity(&e))).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    assert!(results.iter().all(|r| matches!(r, Ok(()) | Err(StoreError::AlreadyExists))), "{results:?}");
    let all = ActivityQuery { after: None, fetch: 10 };
    assert_eq!(log.list_activity(&alice, task, &all).await.unwrap().len(), 1);
}

pub async fn a_log_lists_newest_first_by_position_not_by_time(log: &impl ActivityLog) {
    let alice = owner();
    let task = TaskId::generate(crate::now());
    // Versions 1 to 12 cross from one digit to two, where a plain string order of versions would go wrong.
    let mut entries = history(&alice, task, 12);
    // Delivered out of order, as a bus may.
    entries.reverse();
    entries.rotate_left(5);
    for e in &entries {
        log.append_activity(e).await.unwrap();
    }
    let got = log.list_activity(&alice, task, &ActivityQuery { after: None, fetch: 100 }).await.unwrap();
    let mut want: Vec<Position> = entries.iter().map(Activity::position).collect();
    want.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(got.iter().map(Activity::position).collect::<Vec<_>>(), want);
    assert_eq!(got[0].kind(), TaskEventKind::TaskDeleted);
    assert_eq!(got.last().unwrap().kind(), TaskEventKind::TaskCreated);
    let after = Some(got[3].position());
    let rest = log.list_activity(&alice, task, &ActivityQuery { after, fetch: 2 }).await.unwrap();
    assert_eq!(rest, got[4..6].to_vec());
}

pub async fn following_pages_reaches_every_entry_exactly_once(log: &impl ActivityLog) {
    let alice = owner();
    let task = TaskId::generate(crate::now());
    let entries = history(&alice, task, 40);
    for e in &entries {
        log.append_activity(e).await.unwrap();
    }
    // Another task of the same owner, which no page of this one may show.
    for e in history(&alice, TaskId::generate(crate::now()), 5) {
        log.append_activity(&e).await.unwrap();
    }
    for page in [1, 7, 26, 101] {
        let got = list_all(log, &alice, task, page).await;
        let ids: HashSet<_> = got.iter().map(|a| a.change_id().clone()).collect();
        assert_eq!(ids.len(), got.len(), "duplicates across pages of {page}");
        assert_eq!(ids, entries.iter().map(|a| a.change_id().clone()).collect(), "page {page}");
        assert!(got.windows(2).all(|w| w[0].position() > w[1].position()), "page {page}: newest first");
    }
}

fn key() -> IdempotencyKey {
    IdempotencyKey::parse(&format!("contract:{:032x}", rand::random::<u128>())).unwrap()
}

/// A whole second, as stores keep claim times.
fn second() -> Timestamp {
    crate::now().replace_millisecond(0).unwrap()
}

fn secs(n: i64) -> time::Duration {
    time::Duration::seconds(n)
}

pub async fn a_key_is_claimed_once_and_once_done_stays_done(claims: &impl Idempotency) {
    let (k, first, second_attempt) = (key(), Holder::generate(), Holder::generate());
    let now = second();
    assert_eq!(claims.claim(&k, &first, now, now + secs(60)).await.unwrap(), ClaimOutcome::Claimed);
    let busy = claims.claim(&k, &second_attempt, now + secs(1), now + secs(61)).await.unwrap();
    assert_eq!(busy, ClaimOutcome::InProgress { until: now + secs(60) });
    claims.complete(&k, &first, now + secs(3600)).await.unwrap();
    // Well past the claim's lapse, within the keep time.
    let later = claims.claim(&k, &second_attempt, now + secs(120), now + secs(180)).await.unwrap();
    assert_eq!(later, ClaimOutcome::AlreadyDone);
    // Releasing a done record changes nothing.
    claims.release(&k, &first).await.unwrap();
    assert_eq!(claims.claim(&k, &second_attempt, now, now + secs(60)).await.unwrap(), ClaimOutcome::AlreadyDone);
}

pub async fn a_lapsed_claim_is_taken_over_and_its_old_holder_can_neither_complete_nor_release_it(
    claims: &impl Idempotency,
) {
    let (k, dead, next, third) = (key(), Holder::generate(), Holder::generate(), Holder::generate());
    let now = second();
    assert_eq!(claims.claim(&k, &dead, now, now + secs(30)).await.unwrap(), ClaimOutcome::Claimed);
    // At the lapse time itself the claim is over.
    assert_eq!(claims.claim(&k, &next, now + secs(30), now + secs(90)).await.unwrap(), ClaimOutcome::Claimed);
    assert!(matches!(claims.complete(&k, &dead, now + secs(3600)).await, Err(StoreError::NotFound)));
    claims.release(&k, &dead).await.unwrap();
    let busy = claims.claim(&k, &third, now + secs(31), now + secs(91)).await.unwrap();
    assert_eq!(busy, ClaimOutcome::InProgress { until: now + secs(90) }, "the new holder keeps its claim");
    claims.complete(&k, &next, now + secs(3600)).await.unwrap();
    assert_eq!(claims.claim(&k, &third, now + secs(32), now + secs(92)).await.unwrap(), ClaimOutcome::AlreadyDone);
}

pub async fn a_released_claim_is_free_at_once_and_a_done_record_past_its_keep_time_is_free_again(
    claims: &impl Idempotency,
) {
    let (k, failed, retry, late) = (key(), Holder::generate(), Holder::generate(), Holder::generate());
    let now = second();
    assert_eq!(claims.claim(&k, &failed, now, now + secs(60)).await.unwrap(), ClaimOutcome::Claimed);
    claims.release(&k, &failed).await.unwrap();
    assert!(matches!(claims.complete(&k, &failed, now + secs(60)).await, Err(StoreError::NotFound)));
    assert_eq!(claims.claim(&k, &retry, now + secs(1), now + secs(61)).await.unwrap(), ClaimOutcome::Claimed);
    claims.complete(&k, &retry, now + secs(10)).await.unwrap();
    assert_eq!(claims.claim(&k, &late, now + secs(9), now + secs(69)).await.unwrap(), ClaimOutcome::AlreadyDone);
    assert_eq!(claims.claim(&k, &late, now + secs(10), now + secs(70)).await.unwrap(), ClaimOutcome::Claimed);
}

pub async fn of_concurrent_claims_of_one_key_exactly_one_is_claimed(claims: &impl Idempotency) {
    let k = key();
    let now = second();
    let holders: Vec<Holder> = (0..8).map(|_| Holder::generate()).collect();
    let results = futures_join_all(holders.iter().map(|h| claims.claim(&k, h, now, now + secs(60)))).await;
    let claimed = results.iter().filter(|r| matches!(r, Ok(ClaimOutcome::Claimed))).count();
    assert_eq!(claimed, 1, "{results:?}");
    let busy = ClaimOutcome::InProgress { until: now + secs(60) };
    assert!(results.iter().all(|r| matches!(r, Ok(o) if *o == ClaimOutcome::Claimed || *o == busy)), "{results:?}");
}

/// Generates one `#[tokio::test]` per contract check: the log checks on what `log` (an async expression) builds,
/// the idempotency checks on what `claims` builds. Both yield `(store, guard)`, the guard being whatever must
/// outlive the store (a temporary directory; `()` when nothing must).
#[macro_export]
macro_rules! activity_contract_tests {
    (log: $log:expr, claims: $claims:expr $(,)?) => {
        $crate::activity_contract_tests!(@each $log;
            an_appended_change_reads_back_equal_and_only_in_its_owners_log_of_its_task,
            appending_a_change_again_is_refused_and_keeps_the_first_whatever_its_time,
            of_concurrent_appends_of_one_change_exactly_one_stores_it,
            a_log_lists_newest_first_by_position_not_by_time,
            following_pages_reaches_every_entry_exactly_once,
        );
        $crate::activity_contract_tests!(@each $claims;
            a_key_is_claimed_once_and_once_done_stays_done,
            a_lapsed_claim_is_taken_over_and_its_old_holder_can_neither_complete_nor_release_it,
            a_released_claim_is_free_at_once_and_a_done_record_past_its_keep_time_is_free_again,
            of_concurrent_claims_of_one_key_exactly_one_is_claimed,
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (store, _guard) = $make.await;
                $crate::activity_contract::$name(&store).await;
            }
        )*
    };
}

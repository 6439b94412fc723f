//! The store contract: the guarantees of [`crate::ports`], as checks every adapter runs against itself. The
//! DynamoDB adapter runs them against `moto_server`, the SQLite adapter against a temporary database, so the two
//! stores cannot drift apart. Use [`store_contract_tests!`](crate::store_contract_tests) in an adapter's tests.
//!
//! Each check makes its own random owners, so checks can share one store and run concurrently.

use crate::ports::*;
use crate::*;
use std::collections::HashSet;

/// Everything a full store offers; what the contract runs against.
pub trait Store:
    TaskGet + TaskPut + TaskList + TaskUpdate + TaskDelete + ProfileGet + ProfilePut + ProfileUpdate
{
}
impl<T: TaskGet + TaskPut + TaskList + TaskUpdate + TaskDelete + ProfileGet + ProfilePut + ProfileUpdate> Store for T {}

fn owner() -> UserId {
    UserId::parse(&format!("user-{}", ulid::Ulid::from_parts(0, rand::random::<u128>() & ((1 << 80) - 1)))).unwrap()
}

fn task(owner: &UserId, title: &str, status: Status, at: Timestamp) -> Task {
    Task {
        owner: owner.clone(),
        id: TaskId::generate(at),
        title: Title::parse(title).unwrap(),
        description: Some(Description::parse("some words").unwrap()),
        status,
        created_at: at,
        updated_at: at,
        version: Version::FIRST,
    }
}

/// `n` tasks for `owner`, one millisecond apart (so ids order by creation), statuses cycling.
async fn seed(s: &impl Store, owner: &UserId, n: usize, description: &str) -> Vec<Task> {
    let start = crate::now() - time::Duration::days(1);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut t =
            task(owner, &format!("task {i}"), Status::ALL[i % 3], start + time::Duration::milliseconds(i as i64));
        t.description = Some(Description::parse(description).unwrap());
        s.put_task(&t).await.expect("put");
        out.push(t);
    }
    out
}

async fn list_all(s: &impl Store, owner: &UserId, status: Option<Status>, page: usize) -> Vec<Task> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let got = s.list_tasks(owner, &ListQuery { status, after, fetch: page }).await.expect("list");
        assert!(got.len() <= page, "a list returned {} items for fetch {page}", got.len());
        let done = got.len() < page;
        after = got.last().map(|t| t.id);
        all.extend(got);
        if done || after.is_none() {
            return all;
        }
    }
}

pub async fn a_stored_task_reads_back_equal_and_only_for_its_owner(s: &impl Store) {
    let (alice, bob) = (owner(), owner());
    let mut t = task(&alice, "Read the contract", Status::InProgress, crate::now());
    t.description = None;
    s.put_task(&t).await.unwrap();
    assert_eq!(s.get_task(&alice, t.id).await.unwrap(), Some(t.clone()));
    assert_eq!(s.get_task(&bob, t.id).await.unwrap(), None);
}

pub async fn putting_an_existing_id_is_refused_not_overwritten(s: &impl Store) {
    let alice = owner();
    let t = task(&alice, "first", Status::Pending, crate::now());
    s.put_task(&t).await.unwrap();
    let mut again = t.clone();
    again.title = Title::parse("second").unwrap();
    assert!(matches!(s.put_task(&again).await, Err(StoreError::AlreadyExists)));
    assert_eq!(s.get_task(&alice, t.id).await.unwrap().unwrap().title.as_str(), "first");
}

pub async fn lists_are_newest_first_scoped_to_the_owner_and_filtered_by_status(s: &impl Store) {
    let (alice, bob) = (owner(), owner());
    let tasks = seed(s, &alice, 10, "x").await;
    seed(s, &bob, 3, "x").await;
    let all = s.list_tasks(&alice, &ListQuery { status: None, after: None, fetch: 100 }).await.unwrap();
    let mut expected: Vec<_> = tasks.iter().map(|t| t.id).collect();
    expected.reverse();
    assert_eq!(all.iter().map(|t| t.id).collect::<Vec<_>>(), expected);
    for status in Status::ALL {
        let got = s.list_tasks(&alice, &ListQuery { status: Some(status), after: None, fetch: 100 }).await.unwrap();
        let want: Vec<_> = tasks.iter().rev().filter(|t| t.status == status).map(|t| t.id).collect();
        assert!(!want.is_empty());
        assert_eq!(got.iter().map(|t| t.id).collect::<Vec<_>>(), want, "filter {status}");
    }
}

pub async fn following_pages_reaches_every_task_exactly_once_past_a_megabyte(s: &impl Store) {
    // The Python design lost tasks past DynamoDB's 1 MB page: 603 tasks of ~2 KB is 1.2 MB.
    let alice = owner();
    let tasks = seed(s, &alice, 603, &"d".repeat(2000)).await;
    for (status, page) in [(None, 26), (Some(Status::Done), 11), (None, 101)] {
        let got = list_all(s, &alice, status, page).await;
        let ids: HashSet<_> = got.iter().map(|t| t.id).collect();
        assert_eq!(ids.len(), got.len(), "duplicates across pages");
        let want: HashSet<_> = tasks.iter().filter(|t| status.is_none_or(|s| t.status == s)).map(|t| t.id).collect();
        assert_eq!(ids, want, "filter {status:?}, page {page}");
    }
}

pub async fn updating_a_missing_task_is_not_found_and_creates_nothing(s: &impl Store) {
    let alice = owner();
    let id = TaskId::generate(crate::now());
    let patch = TaskPatch { title: Some(Title::parse("ghost").unwrap()), ..Default::default() };
    assert!(matches!(s.update_task(&alice, id, &patch, None, crate::now()).await, Err(StoreError::NotFound)));
    assert_eq!(s.get_task(&alice, id).await.unwrap(), None);
    assert!(s.list_tasks(&alice, &ListQuery { status: None, after: None, fetch: 10 }).await.unwrap().is_empty());
}

pub async fn an_update_applies_the_patch_bumps_the_version_and_moves_the_status_index(s: &impl Store) {
    let (alice, bob) = (owner(), owner());
    let t = task(&alice, "before", Status::Pending, crate::now());
    s.put_task(&t).await.unwrap();
    let later = t.created_at + time::Duration::seconds(5);
    let patch = TaskPatch { status: Some(Status::Done), description: Some(None), ..Default::default() };
    let updated = s.update_task(&alice, t.id, &patch, Some(Version(1)), later).await.unwrap();
    assert_eq!(updated, patch.apply(&t, later));
    assert_eq!(s.get_task(&alice, t.id).await.unwrap(), Some(updated.clone()));
    let done = s.list_tasks(&alice, &ListQuery { status: Some(Status::Done), after: None, fetch: 10 }).await.unwrap();
    assert_eq!(done, vec![updated]);
    let pending =
        s.list_tasks(&alice, &ListQuery { status: Some(Status::Pending), after: None, fetch: 10 }).await.unwrap();
    assert!(pending.is_empty());
    assert!(matches!(s.update_task(&bob, t.id, &patch, None, later).await, Err(StoreError::NotFound)));
}

pub async fn a_stale_version_is_refused_with_the_current_one(s: &impl Store) {
    let alice = owner();
    let t = task(&alice, "v", Status::Pending, crate::now());
    s.put_task(&t).await.unwrap();
    let patch = TaskPatch { title: Some(Title::parse("w").unwrap()), ..Default::default() };
    s.update_task(&alice, t.id, &patch, None, crate::now()).await.unwrap();
    let stale = s.update_task(&alice, t.id, &patch, Some(Version(1)), crate::now()).await;
    assert!(matches!(stale, Err(StoreError::VersionMismatch { current: 2 })), "{stale:?}");
    let stale = s.delete_task(&alice, t.id, Some(Version(1))).await;
    assert!(matches!(stale, Err(StoreError::VersionMismatch { current: 2 })), "{stale:?}");
    assert!(s.get_task(&alice, t.id).await.unwrap().is_some());
}

pub async fn of_concurrent_writers_with_the_same_version_exactly_one_wins(s: &impl Store) {
    let alice = owner();
    let t = task(&alice, "race", Status::Pending, crate::now());
    s.put_task(&t).await.unwrap();
    let patches: Vec<_> = (0..8)
        .map(|i| TaskPatch { title: Some(Title::parse(&format!("writer {i}")).unwrap()), ..Default::default() })
        .collect();
    let results =
        futures_join_all(patches.iter().map(|p| s.update_task(&alice, t.id, p, Some(Version(1)), crate::now()))).await;
    let wins = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(wins, 1, "{results:?}");
    assert!(
        results.iter().all(|r| matches!(r, Ok(_) | Err(StoreError::VersionMismatch { current: 2 }))),
        "{results:?}"
    );
}

pub async fn deleting_removes_once_and_a_missing_task_is_not_found(s: &impl Store) {
    let (alice, bob) = (owner(), owner());
    let t = task(&alice, "gone", Status::Pending, crate::now());
    s.put_task(&t).await.unwrap();
    assert!(matches!(s.delete_task(&bob, t.id, None).await, Err(StoreError::NotFound)));
    s.delete_task(&alice, t.id, Some(Version(1))).await.unwrap();
    assert_eq!(s.get_task(&alice, t.id).await.unwrap(), None);
    assert!(matches!(s.delete_task(&alice, t.id, None).await, Err(StoreError::NotFound)));
}

pub async fn profiles_are_created_once_and_updated_in_place(s: &impl Store) {
    let alice = owner();
    assert_eq!(s.get_profile(&alice).await.unwrap(), None);
    let patch = ProfilePatch { display_name: Some(DisplayName::parse("Ada").unwrap()), email: Some(None) };
    assert!(matches!(s.update_profile(&alice, &patch, crate::now()).await, Err(StoreError::NotFound)));
    let caller = Caller { id: alice.clone(), email: Some("ada@example.com".into()), name: None };
    let p = Profile::from_claims(&caller, crate::now());
    s.put_profile(&p).await.unwrap();
    assert!(matches!(s.put_profile(&p).await, Err(StoreError::AlreadyExists)));
    assert_eq!(s.get_profile(&alice).await.unwrap(), Some(p.clone()));
    let later = p.created_at + time::Duration::seconds(1);
    let updated = s.update_profile(&alice, &patch, later).await.unwrap();
    assert_eq!(updated, patch.apply(&p, later));
    assert_eq!(s.get_profile(&alice).await.unwrap(), Some(updated));
}

/// Polls all futures concurrently on the current task (no runtime-specific spawning needed).
pub(crate) async fn futures_join_all<F: std::future::Future>(futs: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    use std::pin::Pin;
    use std::task::{Context, Poll};
    let mut futs: Vec<Pin<Box<F>>> = futs.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
    std::future::poll_fn(|cx: &mut Context<'_>| {
        let mut pending = false;
        for (f, slot) in futs.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *slot = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending { Poll::Pending } else { Poll::Ready(()) }
    })
    .await;
    out.into_iter().map(|v| v.expect("every future completed")).collect()
}

/// Generates one `#[tokio::test]` per contract check for the store that `$make` (an async expression) builds.
#[macro_export]
macro_rules! store_contract_tests {
    // `guarded: make()` when the store comes with something that must outlive it (a temporary directory):
    // `make()` then yields `(store, guard)`.
    (guarded: $make:expr) => {
        $crate::store_contract_tests!(@all (store, _guard), store = $make);
    };
    ($make:expr) => {
        $crate::store_contract_tests!(@all store, store = $make);
    };
    // `$store` travels with `$bind` so both name the same (hygienic) variable.
    (@all $bind:pat, $store:ident = $make:expr) => {
        $crate::store_contract_tests!(@each $bind, $store = $make;
            a_stored_task_reads_back_equal_and_only_for_its_owner,
            putting_an_existing_id_is_refused_not_overwritten,
            lists_are_newest_first_scoped_to_the_owner_and_filtered_by_status,
            following_pages_reaches_every_task_exactly_once_past_a_megabyte,
            updating_a_missing_task_is_not_found_and_creates_nothing,
            an_update_applies_the_patch_bumps_the_version_and_moves_the_status_index,
            a_stale_version_is_refused_with_the_current_one,
            of_concurrent_writers_with_the_same_version_exactly_one_wins,
            deleting_removes_once_and_a_missing_task_is_not_found,
            profiles_are_created_once_and_updated_in_place,
        );
    };
    (@each $bind:pat, $store:ident = $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let $bind = $make.await;
                $crate::contract::$name(&$store).await;
            }
        )*
    };
}

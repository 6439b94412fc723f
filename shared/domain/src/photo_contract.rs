//! The photo state's contract: the guarantees of [`PhotoGet`] and [`PhotoUpdate`], as checks every profile store
//! runs against itself (SQLite on a temporary database, DynamoDB against `moto_server`). Use
//! [`photo_contract_tests!`](crate::photo_contract_tests) in an adapter's tests.
//!
//! Each check makes its own random users, so checks can share one store and run concurrently.

use crate::contract::futures_join_all;
use crate::photo::UploadId;
use crate::photo::{Attempt, Failure, FailureCode, PhotoRecord, PhotoSet, PhotoState, RenditionName, RenditionSize};
use crate::ports::{PhotoGet, PhotoUpdate, ProfileGet, ProfilePut, ProfileUpdate};
use crate::*;
use std::collections::BTreeMap;

/// What the checks run against: a profile store with the photo ports.
pub trait PhotoStore: ProfileGet + ProfilePut + ProfileUpdate + PhotoGet + PhotoUpdate {}
impl<T: ProfileGet + ProfilePut + ProfileUpdate + PhotoGet + PhotoUpdate> PhotoStore for T {}

fn user() -> UserId {
    UserId::parse(&format!("user-{:032x}", rand::random::<u128>())).unwrap()
}

async fn profile(s: &impl PhotoStore) -> Profile {
    let caller = Caller { id: user(), email: Some("ada@example.com".into()), name: Some("Ada".into()) };
    let p = Profile::from_claims(&caller, crate::now());
    s.put_profile(&p).await.expect("put profile");
    p
}

fn ready(seconds_ago: i64) -> PhotoState {
    let upload = UploadId::generate(crate::now() - time::Duration::seconds(seconds_ago));
    let renditions = ["thumbnail", "medium", "large"]
        .into_iter()
        .zip([200, 800, 1600])
        .map(|(n, edge)| (RenditionName::parse(n).unwrap(), RenditionSize { width: edge, height: edge * 3 / 4 }))
        .collect::<BTreeMap<_, _>>();
    PhotoState { current: Some(PhotoSet { upload_id: upload, renditions }), attempt: None }
}

fn failed_after(state: &PhotoState) -> PhotoState {
    let upload = UploadId::generate(crate::now());
    let failure = Failure::new(FailureCode::TooLarge, "30000 × 30000 pixels is more than 50 megapixels");
    state.begin(upload).unwrap().fail(upload, failure).unwrap()
}

pub async fn a_profile_without_a_photo_has_an_empty_state_and_no_profile_has_none(s: &impl PhotoStore) {
    assert_eq!(s.get_photo(&user()).await.unwrap(), None);
    let p = profile(s).await;
    assert_eq!(s.get_photo(&p.user_id).await.unwrap(), Some(PhotoRecord::default()));
}

pub async fn a_photo_state_reads_back_equal_with_its_revision_counting_writes(s: &impl PhotoStore) {
    let p = profile(s).await;
    let first = ready(10);
    assert_eq!(s.update_photo(&p.user_id, &first, 0).await.unwrap(), 1);
    assert_eq!(s.get_photo(&p.user_id).await.unwrap(), Some(PhotoRecord { state: first.clone(), revision: 1 }));
    let second = failed_after(&first);
    assert!(matches!(second.attempt, Some(Attempt::Failed { .. })));
    assert_eq!(s.update_photo(&p.user_id, &second, 1).await.unwrap(), 2);
    assert_eq!(s.get_photo(&p.user_id).await.unwrap(), Some(PhotoRecord { state: second, revision: 2 }));
    assert_eq!(s.update_photo(&p.user_id, &PhotoState::default(), 2).await.unwrap(), 3);
    assert_eq!(s.get_photo(&p.user_id).await.unwrap().unwrap().state, PhotoState::default());
}

pub async fn a_stale_revision_is_refused_with_the_current_one_and_changes_nothing(s: &impl PhotoStore) {
    let p = profile(s).await;
    let first = ready(10);
    s.update_photo(&p.user_id, &first, 0).await.unwrap();
    for stale in [0, 2, 7] {
        let refused = s.update_photo(&p.user_id, &ready(5), stale).await;
        assert!(matches!(refused, Err(StoreError::VersionMismatch { current: 1 })), "{stale}: {refused:?}");
    }
    assert_eq!(s.get_photo(&p.user_id).await.unwrap(), Some(PhotoRecord { state: first, revision: 1 }));
}

pub async fn a_photo_for_a_user_without_a_profile_is_not_found_and_creates_nothing(s: &impl PhotoStore) {
    let nobody = user();
    let refused = s.update_photo(&nobody, &ready(1), 0).await;
    assert!(matches!(refused, Err(StoreError::NotFound)), "{refused:?}");
    assert_eq!(s.get_profile(&nobody).await.unwrap(), None);
    assert_eq!(s.get_photo(&nobody).await.unwrap(), None);
}

pub async fn profile_edits_and_photo_changes_never_overwrite_each_other(s: &impl PhotoStore) {
    let p = profile(s).await;
    let photo = ready(3);
    s.update_photo(&p.user_id, &photo, 0).await.unwrap();
    let patch = ProfilePatch { display_name: Some(DisplayName::parse("Ada L.").unwrap()), email: Some(None) };
    let later = p.created_at + time::Duration::seconds(1);
    let edited = s.update_profile(&p.user_id, &patch, later).await.unwrap();
    assert_eq!(edited, patch.apply(&p, later));
    assert_eq!(s.get_photo(&p.user_id).await.unwrap(), Some(PhotoRecord { state: photo.clone(), revision: 1 }));
    let newer = failed_after(&photo);
    s.update_photo(&p.user_id, &newer, 1).await.unwrap();
    assert_eq!(s.get_profile(&p.user_id).await.unwrap(), Some(edited), "a photo change leaves the profile alone");
}

pub async fn of_concurrent_photo_writers_with_the_same_revision_exactly_one_wins(s: &impl PhotoStore) {
    let p = profile(s).await;
    let states: Vec<_> = (0..8).map(|i| ready(i * 10)).collect();
    let results = futures_join_all(states.iter().map(|state| s.update_photo(&p.user_id, state, 0))).await;
    let wins: Vec<_> = results.iter().enumerate().filter(|(_, r)| r.is_ok()).map(|(i, _)| i).collect();
    assert_eq!(wins.len(), 1, "{results:?}");
    assert!(
        results.iter().all(|r| matches!(r, Ok(1) | Err(StoreError::VersionMismatch { current: 1 }))),
        "{results:?}"
    );
    let stored = s.get_photo(&p.user_id).await.unwrap().unwrap();
    assert_eq!(stored, PhotoRecord { state: states[wins[0]].clone(), revision: 1 });
}

/// Generates one `#[tokio::test]` per photo contract check for the store `$make` (an async expression yielding
/// `(store, guard)`, the guard kept alive for the test) builds.
#[macro_export]
macro_rules! photo_contract_tests {
    ($make:expr) => {
        $crate::photo_contract_tests!(@each $make;
            a_profile_without_a_photo_has_an_empty_state_and_no_profile_has_none,
            a_photo_state_reads_back_equal_with_its_revision_counting_writes,
            a_stale_revision_is_refused_with_the_current_one_and_changes_nothing,
            a_photo_for_a_user_without_a_profile_is_not_found_and_creates_nothing,
            profile_edits_and_photo_changes_never_overwrite_each_other,
            of_concurrent_photo_writers_with_the_same_revision_exactly_one_wins,
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (store, _guard) = $make.await;
                $crate::photo_contract::$name(&store).await;
            }
        )*
    };
}

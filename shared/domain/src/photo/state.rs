//! What a profile stores about its photo, and the one rule every change of it obeys: **only a newer upload moves
//! it on**. Notifications arrive late, twice and out of order (S3 and EventBridge promise at-least-once, not order),
//! so every writer reads the state, asks it where its upload stands ([`PhotoState::standing`]) and writes only a
//! step forward, with a compare-and-set on the state's revision ([`PhotoRecord`], the `PhotoUpdate` port).
//!
//! The state has two slots:
//! - `current`: the set of renditions shown, the newest upload that completed. Replaced only by a newer set.
//! - `attempt`: the newest upload after `current`, while it is processed or once it failed. A failed upload
//!   keeps the photo the user had: `current` stays, and `GET /me` shows both the failure and the old photo.
//!
//! An upload older than the newest one the state knows (in either slot) is [`Standing::Superseded`]: it can no
//! longer change anything, and its objects are deleted.
//!
//! Stored form (JSON in SQLite's `photo` column, a map in DynamoDB's `photo` attribute), through serde:
//! `{"current": {"upload_id", "renditions": {name: {"width", "height"}}}, "attempt": {"status": "processing" |
//! "failed", "upload_id", "code", "reason"}}`, each slot absent when empty.

use super::{RenditionKey, RenditionName, UploadId};
use crate::{Timestamp, UserId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A rendition's size in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenditionSize {
    pub width: u32,
    pub height: u32,
}

/// A complete set of renditions of one upload: their names and sizes (their keys follow from the owner, the upload
/// and the name: [`RenditionKey`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoSet {
    pub upload_id: UploadId,
    pub renditions: BTreeMap<RenditionName, RenditionSize>,
}

impl PhotoSet {
    /// The keys of this set's objects, for `owner`.
    pub fn keys(&self, owner: &UserId) -> Vec<RenditionKey> {
        self.renditions
            .keys()
            .map(|name| RenditionKey { owner: owner.clone(), upload: self.upload_id, name: name.clone() })
            .collect()
    }
}

/// Why an upload could not be made into renditions (the resizer's error codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureCode {
    /// Not a JPEG, PNG or WebP (by its bytes, whatever it was uploaded as).
    Unsupported,
    /// Truncated or damaged.
    Corrupt,
    /// Over a limit: bytes, pixels or memory (a decompression bomb).
    TooLarge,
}

impl FailureCode {
    /// `unsupported`, `corrupt` or `too_large`; anything else is `None`.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "unsupported" => Some(Self::Unsupported),
            "corrupt" => Some(Self::Corrupt),
            "too_large" => Some(Self::TooLarge),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unsupported => "unsupported",
            Self::Corrupt => "corrupt",
            Self::TooLarge => "too_large",
        }
    }
}

/// Longest reason kept, in characters.
pub const REASON_MAX_CHARS: usize = 300;

/// A failed upload: the code a client can act on, and a reason a person can read (shown by `GET /me`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "FailureRepr")]
pub struct Failure {
    pub code: FailureCode,
    pub reason: String,
}

#[derive(Deserialize)]
struct FailureRepr {
    code: FailureCode,
    reason: String,
}

impl From<FailureRepr> for Failure {
    fn from(raw: FailureRepr) -> Self {
        Self::new(raw.code, &raw.reason)
    }
}

impl Failure {
    /// The reason on one line, without control characters, at most [`REASON_MAX_CHARS`] characters.
    pub fn new(code: FailureCode, reason: &str) -> Self {
        let one_line: String = reason.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        let mut reason: String = one_line.trim().chars().take(REASON_MAX_CHARS).collect();
        if reason.is_empty() {
            reason = code.as_str().replace('_', " ");
        }
        Self { code, reason }
    }
}

/// The newest upload after the shown set: being processed, or failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Attempt {
    Processing { upload_id: UploadId },
    Failed { upload_id: UploadId, code: FailureCode, reason: String },
}

impl Attempt {
    pub fn upload_id(&self) -> UploadId {
        match self {
            Self::Processing { upload_id } | Self::Failed { upload_id, .. } => *upload_id,
        }
    }

    fn failed(upload_id: UploadId, failure: Failure) -> Self {
        let Failure { code, reason } = failure;
        Self::Failed { upload_id, code, reason: Failure::new(code, &reason).reason }
    }
}

/// A profile's photo: the set shown and the newest attempt after it (see the module doc).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<PhotoSet>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<Attempt>,
}

/// Where an upload stands against a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Newer than anything the state knows.
    New,
    /// The newest upload, recorded as being processed.
    Processing,
    /// The newest upload, recorded as failed.
    Failed,
    /// The newest upload, and its set is the one shown.
    Ready,
    /// Older than the newest upload the state knows: it changes nothing any more.
    Superseded,
}

impl PhotoState {
    pub fn is_empty(&self) -> bool {
        self.current.is_none() && self.attempt.is_none()
    }

    /// The newest upload the state knows of, in either slot.
    pub fn newest(&self) -> Option<UploadId> {
        let current = self.current.as_ref().map(|s| s.upload_id);
        let attempt = self.attempt.as_ref().map(Attempt::upload_id);
        current.max(attempt)
    }

    pub fn standing(&self, upload: UploadId) -> Standing {
        match self.newest() {
            None => Standing::New,
            Some(newest) if upload > newest => Standing::New,
            Some(newest) if upload < newest => Standing::Superseded,
            Some(_) => match &self.attempt {
                Some(Attempt::Processing { upload_id }) if *upload_id == upload => Standing::Processing,
                Some(Attempt::Failed { upload_id, .. }) if *upload_id == upload => Standing::Failed,
                _ => Standing::Ready,
            },
        }
    }

    /// The state once `upload` is being processed; `None` when that is no step forward (it is already, it
    /// finished, or a newer upload is known).
    pub fn begin(&self, upload: UploadId) -> Option<Self> {
        (self.standing(upload) == Standing::New)
            .then(|| Self { current: self.current.clone(), attempt: Some(Attempt::Processing { upload_id: upload }) })
    }

    /// The state once `upload` failed; `None` when it finished already or a newer upload is known.
    pub fn fail(&self, upload: UploadId, failure: Failure) -> Option<Self> {
        matches!(self.standing(upload), Standing::New | Standing::Processing)
            .then(|| Self { current: self.current.clone(), attempt: Some(Attempt::failed(upload, failure)) })
    }

    /// The state once `set` is complete: shown, and the attempt it finishes gone. `None` when it is shown already
    /// or a newer upload is known. (A set completing after its upload was recorded failed is shown all the same:
    /// its renditions exist, which is what counts.)
    pub fn complete(&self, set: &PhotoSet) -> Option<Self> {
        matches!(self.standing(set.upload_id), Standing::New | Standing::Processing | Standing::Failed)
            .then(|| Self { current: Some(set.clone()), attempt: None })
    }
}

/// A profile's photo state with its revision: how many times it was written (0 for never), the compare-and-set
/// guard of the `PhotoUpdate` port.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhotoRecord {
    pub state: PhotoState,
    pub revision: u64,
}

/// One rendition as `GET /me` shows it: a URL to GET it (presigned, valid until the view's `expires_at`) and its
/// size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenditionView {
    pub url: String,
    pub width: u32,
    pub height: u32,
}

/// What `GET /me` says of the photo, e.g. `{"status": "ready", "upload_id", "thumbnail": {"url", "width",
/// "height"}, "medium": …, "large": …, "expires_at"}`; `"processing"` or `"failed"` (with `code` and `reason`)
/// while a newer upload is under way or after it failed, with the renditions of the photo still shown, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhotoView {
    pub status: &'static str,
    pub upload_id: UploadId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<FailureCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The shown set's renditions by name, beside the fields above (the names are kept clear of theirs).
    #[serde(flatten)]
    pub renditions: BTreeMap<String, RenditionView>,
    /// When the renditions' URLs stop working.
    #[serde(skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    pub expires_at: Option<Timestamp>,
}

/// Names a rendition may not take, because the photo's view has fields of these names beside the renditions.
pub const RESERVED_NAMES: [&str; 5] = ["status", "upload_id", "code", "reason", "expires_at"];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(n: u64) -> UploadId {
        UploadId(ulid::Ulid::from_parts(1_700_000_000_000 + n, 0))
    }

    fn set(n: u64) -> PhotoSet {
        let size = RenditionSize { width: 200, height: 150 };
        PhotoSet { upload_id: id(n), renditions: BTreeMap::from([(RenditionName::parse("thumbnail").unwrap(), size)]) }
    }

    fn corrupt() -> Failure {
        Failure::new(FailureCode::Corrupt, "the JPEG ends early")
    }

    #[test]
    fn an_upload_goes_from_new_to_processing_to_ready_and_a_failure_keeps_the_photo_shown() {
        let empty = PhotoState::default();
        let processing = empty.begin(id(1)).unwrap();
        assert_eq!(processing.standing(id(1)), Standing::Processing);
        assert_eq!(processing.begin(id(1)), None, "a second delivery does not write again");
        let ready = processing.complete(&set(1)).unwrap();
        assert_eq!(ready, PhotoState { current: Some(set(1)), attempt: None });
        assert_eq!(ready.standing(id(1)), Standing::Ready);
        let failed = ready.begin(id(2)).unwrap().fail(id(2), corrupt()).unwrap();
        assert_eq!(failed.current, Some(set(1)), "the old photo stays shown");
        assert_eq!(failed.standing(id(2)), Standing::Failed);
        assert_eq!(failed.fail(id(2), corrupt()), None);
        assert_eq!(failed.complete(&set(3)).unwrap().attempt, None, "a newer set clears the failed attempt");
    }

    #[test]
    fn a_late_notification_of_an_older_upload_changes_nothing() {
        let ready = PhotoState::default().complete(&set(5)).unwrap();
        assert_eq!(ready.standing(id(4)), Standing::Superseded);
        assert_eq!(ready.complete(&set(4)), None);
        assert_eq!(ready.begin(id(4)), None);
        assert_eq!(ready.fail(id(4), corrupt()), None);
        let newer_attempt = ready.begin(id(7)).unwrap();
        assert_eq!(newer_attempt.complete(&set(6)), None, "an upload older than the one in progress is behind too");
    }

    #[test]
    fn failure_reasons_are_one_short_line() {
        let f = Failure::new(FailureCode::TooLarge, &format!("  too\nmany\tpixels {}  ", "x".repeat(500)));
        assert!(f.reason.starts_with("too many pixels"));
        assert_eq!(f.reason.chars().count(), REASON_MAX_CHARS);
        assert_eq!(Failure::new(FailureCode::TooLarge, " ").reason, "too large");
    }

    #[test]
    fn the_stored_form_is_plain_json_and_reads_back() {
        let state = PhotoState { current: Some(set(1)), attempt: Some(Attempt::failed(id(2), corrupt())) };
        let json = serde_json::to_value(&state).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "current": {"upload_id": id(1).to_string(), "renditions": {"thumbnail": {"width": 200, "height": 150}}},
                "attempt": {"status": "failed", "upload_id": id(2).to_string(), "code": "corrupt", "reason": "the JPEG ends early"},
            })
        );
        assert_eq!(serde_json::from_value::<PhotoState>(json).unwrap(), state);
        assert_eq!(serde_json::to_value(PhotoState::default()).unwrap(), serde_json::json!({}));
        let bad = serde_json::json!({"current": {"upload_id": "nope", "renditions": {}}});
        assert!(serde_json::from_value::<PhotoState>(bad).is_err());
    }

    #[derive(Debug, Clone)]
    enum Op {
        Begin(u64),
        Fail(u64),
        Complete(u64),
    }

    fn apply(state: &PhotoState, op: &Op) -> Option<PhotoState> {
        match op {
            Op::Begin(n) => state.begin(id(*n)),
            Op::Fail(n) => state.fail(id(*n), corrupt()),
            Op::Complete(n) => state.complete(&set(*n)),
        }
    }

    proptest! {
        #[test]
        fn whatever_the_order_of_notifications_the_newest_upload_never_goes_backwards(
            ops in proptest::collection::vec(
                prop_oneof![(0u64..6).prop_map(Op::Begin), (0u64..6).prop_map(Op::Fail), (0u64..6).prop_map(Op::Complete)],
                0..40,
            )
        ) {
            let mut state = PhotoState::default();
            for op in &ops {
                let before = state.clone();
                if let Some(next) = apply(&state, op) {
                    prop_assert!(next.newest() >= before.newest(), "{op:?}: {before:?} → {next:?}");
                    let shown = |s: &PhotoState| s.current.as_ref().map(|c| c.upload_id);
                    prop_assert!(shown(&next) >= shown(&before), "the shown set only gets newer");
                    prop_assert_eq!(apply(&next, op), None, "the same notification again writes nothing");
                    state = next;
                }
                if let (Some(current), Some(attempt)) = (&state.current, &state.attempt) {
                    prop_assert!(attempt.upload_id() > current.upload_id, "an attempt is always newer than the set shown");
                }
            }
        }
    }
}

//! Pages of a list: the page size and the `next` token.
//!
//! The token names the last task of the page and is sealed with an HMAC over the owner, the status filter and
//! that id. A token that was tampered with, made up, issued to another user or for another filter fails the check
//! and is a `400`, never a store error and never someone else's data. The owner is inside the MAC but not in the
//! token, so a token reveals nothing but a task id its holder has already seen.
//!
//! Lists whose position is not a task id (a task's activity log, `crate::activity`) seal any cursor text the same
//! way, under a named scope: [`PageKey::seal_cursor`].

use crate::{Error, Status, Task, TaskId, UserId};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use sha2::Sha256;

/// How many tasks a page holds: 1..=100, 25 when not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(u16);

impl Limit {
    pub const DEFAULT: Limit = Limit(25);
    pub const MAX: u16 = 100;

    pub fn parse(raw: Option<&str>) -> Result<Self, Error> {
        let Some(raw) = raw else { return Ok(Self::DEFAULT) };
        match raw.trim().parse::<u16>() {
            Ok(n) if (1..=Self::MAX).contains(&n) => Ok(Self(n)),
            _ => Err(Error::BadRequest(format!(
                "`limit` must be an integer from 1 to {}; got `{}`",
                Self::MAX,
                raw.chars().take(20).collect::<String>()
            ))),
        }
    }

    pub fn get(self) -> usize {
        self.0 as usize
    }
}

/// A page-token secret too short to keep tokens unforgeable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the page-token secret must be at least 16 bytes; it is {len}")]
pub struct WeakPageKey {
    pub len: usize,
}

/// The secret that seals page tokens. On AWS it comes from Secrets Manager through the function's environment; in
/// the local stack from the data directory.
#[derive(Clone)]
pub struct PageKey(Vec<u8>);

impl PageKey {
    /// Keys shorter than 16 bytes are refused: a guessable key makes tokens forgeable.
    pub fn new(secret: impl Into<Vec<u8>>) -> Result<Self, WeakPageKey> {
        let secret = secret.into();
        if secret.len() < 16 {
            return Err(WeakPageKey { len: secret.len() });
        }
        Ok(Self(secret))
    }

    fn mac(&self, owner: &UserId, status: Option<Status>, after: &str) -> Hmac<Sha256> {
        self.mac_of([owner.as_str(), status.map_or("*", Status::as_str), after])
    }

    fn mac_of(&self, parts: [&str; 3]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        // Length-prefixed fields, so no two (owner, filter, id) triples produce the same MAC input.
        for part in parts {
            mac.update(&(part.len() as u32).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac
    }

    /// The token that resumes `owner`'s list `scope` (e.g. one task's activity log) after `cursor`, for lists whose
    /// position is not a task id. The cursor travels base64url-encoded, so any text is safe in a query string. The
    /// scope goes into the MAC behind an `@`, which no status filter (nor `*`) starts with: a task-list token never
    /// opens as a cursor token, nor one scope's token in another scope.
    pub fn seal_cursor(&self, owner: &UserId, scope: &str, cursor: &str) -> PageToken {
        let scope = format!("@{scope}");
        let tag = self.mac_of([owner.as_str(), &scope, cursor]).finalize().into_bytes();
        PageToken(format!("{}.{}", B64.encode(cursor), B64.encode(tag)))
    }

    /// The cursor a token resumes after, if the token was sealed by this key for this owner and scope.
    pub fn open_cursor(&self, owner: &UserId, scope: &str, token: &str) -> Result<String, Error> {
        let bad = || Error::BadRequest("`next` is not a page token issued for this list".into());
        let (cursor, tag) = token.split_once('.').ok_or_else(bad)?;
        let cursor = String::from_utf8(B64.decode(cursor).map_err(|_| bad())?).map_err(|_| bad())?;
        let tag = B64.decode(tag).map_err(|_| bad())?;
        let scope = format!("@{scope}");
        self.mac_of([owner.as_str(), &scope, &cursor]).verify_slice(&tag).map_err(|_| bad())?;
        Ok(cursor)
    }

    /// The token that resumes `owner`'s list (with this `status` filter) after task `after`.
    pub fn seal(&self, owner: &UserId, status: Option<Status>, after: TaskId) -> PageToken {
        let after = after.to_string();
        let tag = self.mac(owner, status, &after).finalize().into_bytes();
        PageToken(format!("{}.{}", after, B64.encode(tag)))
    }

    /// The task id a token resumes after, if the token was sealed by this key for this owner and filter.
    pub fn open(&self, owner: &UserId, status: Option<Status>, token: &str) -> Result<TaskId, Error> {
        let bad = || Error::BadRequest("`next` is not a page token issued for this list".into());
        let (after, tag) = token.split_once('.').ok_or_else(bad)?;
        let tag = B64.decode(tag).map_err(|_| bad())?;
        self.mac(owner, status, after).verify_slice(&tag).map_err(|_| bad())?;
        TaskId::parse(after).map_err(|_| bad())
    }
}

impl std::fmt::Debug for PageKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageKey(<redacted>)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PageToken(String);

impl PageToken {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One page of a list: `{"tasks": [...], "count": n, "next": token|null}`.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    pub tasks: Vec<Task>,
    pub count: usize,
    pub next: Option<PageToken>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key() -> PageKey {
        PageKey::new(*b"0123456789abcdef0123456789abcdef").unwrap()
    }

    fn user(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    #[test]
    fn a_token_opens_only_for_its_owner_and_filter() {
        let id = TaskId::generate(crate::now());
        let t = key().seal(&user("alice"), Some(Status::Done), id);
        assert_eq!(key().open(&user("alice"), Some(Status::Done), t.as_str()).unwrap(), id);
        assert!(key().open(&user("bob"), Some(Status::Done), t.as_str()).is_err());
        assert!(key().open(&user("alice"), None, t.as_str()).is_err());
        let other = PageKey::new(*b"another key, also 32 bytes long!").unwrap();
        assert!(other.open(&user("alice"), Some(Status::Done), t.as_str()).is_err());
    }

    #[test]
    fn a_cursor_token_opens_only_for_its_owner_and_scope_and_never_as_a_task_list_token() {
        let cursor = "01JDQ3V5R5T4Y2E7Q9M8N6B4C2/3/TaskUpdated";
        let t = key().seal_cursor(&user("alice"), "activity/T1", cursor);
        assert!(t.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)), "{}", t.as_str());
        assert_eq!(key().open_cursor(&user("alice"), "activity/T1", t.as_str()).unwrap(), cursor);
        assert!(key().open_cursor(&user("bob"), "activity/T1", t.as_str()).is_err());
        assert!(key().open_cursor(&user("alice"), "activity/T2", t.as_str()).is_err());
        assert!(key().open(&user("alice"), None, t.as_str()).is_err());
        let task_token = key().seal(&user("alice"), None, TaskId::generate(crate::now()));
        assert!(key().open_cursor(&user("alice"), "*", task_token.as_str()).is_err());
    }

    #[test]
    fn limits_outside_one_to_a_hundred_are_bad_requests() {
        assert_eq!(Limit::parse(None).unwrap().get(), 25);
        assert_eq!(Limit::parse(Some("100")).unwrap().get(), 100);
        for bad in ["0", "101", "-1", "abc", "", "1e3"] {
            assert!(matches!(Limit::parse(Some(bad)), Err(Error::BadRequest(_))), "{bad}");
        }
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(PageKey::new(*b"short").is_err());
    }

    proptest! {
        #[test]
        fn no_made_up_token_opens(raw in "\\PC{0,120}") {
            prop_assert!(key().open(&user("alice"), None, &raw).is_err());
        }

        #[test]
        fn a_token_with_any_byte_changed_does_not_open(pos in 0usize..200, c in "[A-Za-z0-9_.-]") {
            let t = key().seal(&user("alice"), None, TaskId::generate(crate::now()));
            let s = t.as_str();
            let pos = pos % s.len();
            let mut forged = s.to_owned();
            forged.replace_range(pos..pos + 1, &c);
            if forged != s {
                prop_assert!(key().open(&user("alice"), None, &forged).is_err());
            }
        }
    }
}

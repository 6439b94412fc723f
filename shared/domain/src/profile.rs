//! A user's profile: created from the token's claims on first use, then edited through `PUT /me`. The photo and
//! notification pipelines read it (avatar, where to send mail).

use crate::{Caller, Error, Timestamp, UserId};
use serde::Serialize;
use serde_json::Value;

pub const DISPLAY_NAME_MAX_CHARS: usize = 100;

/// A name to show: non-empty after trimming, at most [`DISPLAY_NAME_MAX_CHARS`] characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let t = raw.trim();
        if t.is_empty() {
            return Err(Error::Invalid("`display_name` must not be empty".into()));
        }
        if t.chars().count() > DISPLAY_NAME_MAX_CHARS {
            return Err(Error::Invalid(format!("`display_name` is longer than {DISPLAY_NAME_MAX_CHARS} characters")));
        }
        if t.chars().any(char::is_control) {
            return Err(Error::Invalid("`display_name` must not contain control characters".into()));
        }
        Ok(Self(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address in the shape mail systems accept: `local@domain`, the domain dotted, no spaces, ≤ 254 bytes.
/// Deliverability is the mail system's business; this only keeps obvious garbage out of the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let t = raw.trim();
        let bad =
            || Error::Invalid(format!("`email` is not an email address: `{}`", t.chars().take(60).collect::<String>()));
        if t.len() > 254 || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = t.rsplit_once('@').ok_or_else(bad)?;
        let domain_ok = domain.len() >= 3
            && domain.contains('.')
            && domain.split('.').all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'));
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(bad());
        }
        Ok(Self(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub user_id: UserId,
    pub display_name: DisplayName,
    pub email: Option<Email>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: Timestamp,
    pub version: u64,
}

impl Profile {
    /// The profile a first-time caller gets, from what their token says. A claim that does not parse is left out
    /// rather than failing the request: the user can fix it with `PUT /me`.
    pub fn from_claims(caller: &Caller, now: Timestamp) -> Self {
        let email = caller.email.as_deref().and_then(|e| Email::parse(e).ok());
        let display_name = caller
            .name
            .as_deref()
            .and_then(|n| DisplayName::parse(n).ok())
            .or_else(|| email.as_ref().and_then(|e| DisplayName::parse(e.as_str().split('@').next()?).ok()))
            .or_else(|| DisplayName::parse(caller.id.as_str()).ok())
            .unwrap_or_else(|| DisplayName("user".into()));
        Self { user_id: caller.id.clone(), display_name, email, created_at: now, updated_at: now, version: 1 }
    }
}

/// `PUT /me`: any of `display_name`, `email` (null clears the email).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfilePatch {
    pub display_name: Option<DisplayName>,
    pub email: Option<Option<Email>>,
}

impl ProfilePatch {
    pub fn from_json(body: &Value) -> Result<Self, Error> {
        let map = body
            .as_object()
            .ok_or_else(|| Error::Invalid("the body must be a JSON object with any of: display_name, email".into()))?;
        if let Some(k) = map.keys().find(|k| !matches!(k.as_str(), "display_name" | "email")) {
            return Err(Error::Invalid(format!(
                "unknown field `{}`; expected any of: display_name, email",
                k.chars().take(40).collect::<String>()
            )));
        }
        let display_name = match map.get("display_name") {
            None => None,
            Some(Value::String(s)) => Some(DisplayName::parse(s)?),
            Some(_) => return Err(Error::Invalid("`display_name` must be a string".into())),
        };
        let email = match map.get("email") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(s)) => Some(Some(Email::parse(s)?)),
            Some(_) => return Err(Error::Invalid("`email` must be a string or null".into())),
        };
        if display_name.is_none() && email.is_none() {
            return Err(Error::Invalid("nothing to update; send any of: display_name, email".into()));
        }
        Ok(Self { display_name, email })
    }

    pub fn apply(&self, p: &Profile, now: Timestamp) -> Profile {
        Profile {
            display_name: self.display_name.clone().unwrap_or_else(|| p.display_name.clone()),
            email: self.email.clone().unwrap_or_else(|| p.email.clone()),
            updated_at: now,
            version: p.version + 1,
            ..p.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn caller(name: Option<&str>, email: Option<&str>) -> Caller {
        Caller { id: UserId::parse("u-1").unwrap(), email: email.map(Into::into), name: name.map(Into::into) }
    }

    #[test]
    fn a_first_profile_takes_its_name_from_the_claims_then_the_email() {
        let now = crate::now();
        assert_eq!(Profile::from_claims(&caller(Some("Ada"), None), now).display_name.as_str(), "Ada");
        let p = Profile::from_claims(&caller(None, Some("ada@example.com")), now);
        assert_eq!(p.display_name.as_str(), "ada");
        assert_eq!(p.email.unwrap().as_str(), "ada@example.com");
        assert_eq!(Profile::from_claims(&caller(None, Some("nonsense")), now).email, None);
    }

    #[test]
    fn emails_without_a_dotted_domain_or_with_spaces_are_refused() {
        for bad in ["", "a", "a@b", "@b.com", "a@.com", "a b@c.com", "a@b..com"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(Email::parse("first.last+tag@mail.example.org").is_ok());
    }

    #[test]
    fn a_profile_patch_refuses_wrong_types_and_unknown_fields() {
        assert!(ProfilePatch::from_json(&json!({"display_name": 3})).is_err());
        assert!(ProfilePatch::from_json(&json!({"nick": "x"})).is_err());
        assert!(ProfilePatch::from_json(&json!({})).is_err());
        assert_eq!(ProfilePatch::from_json(&json!({"email": null})).unwrap().email, Some(None));
    }

    proptest! {
        #[test]
        fn email_parse_never_panics(raw in "\\PC{0,300}") {
            let _ = Email::parse(&raw);
        }
    }
}

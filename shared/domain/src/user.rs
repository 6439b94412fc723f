//! Who is calling: the user id taken from a verified token's `sub`, and the claims a profile is first built from.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A user's stable id: the identity provider's `sub` claim (a UUID in Cognito). Opaque to the domain, but bounded
/// so it can be a key in any store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserId(String);

impl UserId {
    pub fn parse(raw: &str) -> Result<Self, crate::Error> {
        let ok = !raw.is_empty()
            && raw.len() <= 128
            && raw.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | '+' | ':'));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(crate::Error::Unauthenticated("the token's subject is not a valid user id"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for UserId {
    type Error = crate::Error;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<UserId> for String {
    fn from(value: UserId) -> Self {
        value.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The authenticated caller, as the JWT authorizer vouches for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub id: UserId,
    /// `email` claim, when the token carries one (Cognito ID tokens do).
    pub email: Option<String>,
    /// `name`, else `cognito:username`/`username`: what a new profile is called until the user renames it.
    pub name: Option<String>,
}

//! The identities this account may send from: those `template.yaml` declares (`AWS::SES::EmailIdentity`, an
//! address or a domain) and those created at runtime with `CreateEmailIdentity`. Locally every identity is verified
//! the moment it exists (there is no inbox to click a link in and no DNS to publish DKIM records to); runtime ones
//! are kept in `<data>/ses/identities.json` so they survive a restart, as on SES.
//!
//! A domain identity verifies every address at it and at its subdomains; an address identity verifies that
//! address (without regard to case). Only the sender is checked, never the recipients: SES's sandbox checks both,
//! but locally no mail leaves the machine, and requiring every test recipient to be declared would only get in the
//! way.

use crate::{
    SesError,
    address::{Domain, EmailAddress},
};
use local_core::{Arn, Identity, files};
use local_template::{Template, TemplateError};
use serde::{Deserialize, Serialize};
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::Mutex,
};
use time::OffsetDateTime;

pub const RESOURCE_TYPE: &str = "AWS::SES::EmailIdentity";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IdentityKind {
    EmailAddress,
    Domain,
}

impl IdentityKind {
    /// The name SES's API gives the kind (`IdentityType`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EmailAddress => "EMAIL_ADDRESS",
            Self::Domain => "DOMAIN",
        }
    }
}

/// An identity's name, parsed: an address (it has an `@`) or a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailIdentity {
    Address(EmailAddress),
    Domain(Domain),
}

impl EmailIdentity {
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.contains('@') {
            EmailAddress::parse(text).map(Self::Address).map_err(|e| e.to_string())
        } else {
            Domain::parse(text).map(Self::Domain).map_err(|why| format!("Invalid domain identity '{text}': {why}"))
        }
    }

    pub fn kind(&self) -> IdentityKind {
        match self {
            Self::Address(_) => IdentityKind::EmailAddress,
            Self::Domain(_) => IdentityKind::Domain,
        }
    }

    /// The name as SES shows it: the address as written, the domain lower-cased.
    pub fn name(&self) -> &str {
        match self {
            Self::Address(a) => a.as_str(),
            Self::Domain(d) => d.as_str(),
        }
    }

    /// The key two identities are the same by (SES ignores case in both kinds).
    fn key(&self) -> String {
        self.name().to_ascii_lowercase()
    }

    /// Whether this identity lets `sender` send.
    pub fn verifies(&self, sender: &EmailAddress) -> bool {
        match self {
            Self::Address(a) => a.same_as(sender.as_str()),
            Self::Domain(d) => d.contains(sender.domain()),
        }
    }
}

/// An identity that may send, for the API and for `local resources`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    pub identity: EmailIdentity,
    /// The template's logical id; `None` for an identity created at runtime.
    pub logical_id: Option<String>,
    pub arn: Arn,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    #[serde(default)]
    pub value: String,
}

/// The template's identities, resolved (`EmailIdentity` may be `!Sub 'noreply@${Domain}'`), in logical-id order.
pub fn template_identities(template: &Template, identity: &Identity) -> Result<Vec<VerifiedIdentity>, SesError> {
    let mut out: Vec<VerifiedIdentity> = Vec::new();
    for r in template.of_type(&[RESOURCE_TYPE]) {
        let at = format!("{}.Properties.EmailIdentity", r.id);
        if r.properties["EmailIdentity"].is_null() {
            return Err(TemplateError::invalid(at, "an AWS::SES::EmailIdentity needs EmailIdentity").into());
        }
        let name = template.string(&r.properties["EmailIdentity"], &at)?;
        let parsed = EmailIdentity::parse(&name).map_err(|problem| TemplateError::invalid(&at, problem))?;
        if let Some(twin) = out.iter().find(|v| v.identity.key() == parsed.key()) {
            let problem = format!("{name} is also declared by {}", twin.logical_id.as_deref().unwrap_or_default());
            return Err(TemplateError::invalid(at, problem).into());
        }
        out.push(VerifiedIdentity {
            arn: identity.email_identity_arn(parsed.name()),
            identity: parsed,
            logical_id: Some(r.id.to_owned()),
            tags: Vec::new(),
        });
    }
    Ok(out)
}

/// An identity created at runtime, as kept on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stored {
    identity: String,
    #[serde(default)]
    tags: Vec<Tag>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

pub(crate) struct Identities {
    account: Identity,
    declared: Vec<VerifiedIdentity>,
    path: PathBuf,
    /// Runtime identities by key. A std `Mutex`: it is held only around in-memory work and one small atomic file
    /// write, on the blocking pool, never across an await.
    runtime: Mutex<BTreeMap<String, Stored>>,
}

impl Identities {
    pub(crate) fn open(dir: &Path, account: Identity, declared: Vec<VerifiedIdentity>) -> Result<Self, SesError> {
        let path = dir.join("identities.json");
        let runtime = match std::fs::read(&path) {
            Ok(bytes) => {
                let stored: Vec<Stored> = serde_json::from_slice(&bytes)
                    .map_err(|e| SesError::storage(&path)(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
                stored.into_iter().map(|s| (s.identity.to_ascii_lowercase(), s)).collect()
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(SesError::storage(&path)(e)),
        };
        Ok(Self { account, declared, path, runtime: Mutex::new(runtime) })
    }

    fn runtime(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Stored>> {
        // A panic while holding the lock cannot leave the map half-changed (each change is one insert or remove
        // after the file is written), so a poisoned lock is still safe to use.
        self.runtime.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn verified(&self, s: &Stored) -> Option<VerifiedIdentity> {
        let identity = EmailIdentity::parse(&s.identity).ok()?;
        Some(VerifiedIdentity {
            arn: self.account.email_identity_arn(identity.name()),
            identity,
            logical_id: None,
            tags: s.tags.clone(),
        })
    }

    /// Every identity, declared and runtime, ordered by name.
    pub(crate) fn all(&self) -> Vec<VerifiedIdentity> {
        let mut all = self.declared.clone();
        all.extend(self.runtime().values().filter_map(|s| self.verified(s)));
        all.sort_by_key(|v| v.identity.key());
        all
    }

    pub(crate) fn get(&self, name: &str) -> Option<VerifiedIdentity> {
        let key = name.to_ascii_lowercase();
        self.declared
            .iter()
            .find(|v| v.identity.key() == key)
            .cloned()
            .or_else(|| self.runtime().get(&key).and_then(|s| self.verified(s)))
    }

    /// Whether some identity lets `sender` send.
    pub(crate) fn verifies(&self, sender: &EmailAddress) -> bool {
        self.declared.iter().any(|v| v.identity.verifies(sender))
            || self.runtime().values().filter_map(|s| self.verified(s)).any(|v| v.identity.verifies(sender))
    }

    pub(crate) fn create(&self, identity: EmailIdentity, tags: Vec<Tag>) -> Result<VerifiedIdentity, SesError> {
        let key = identity.key();
        let mut runtime = self.runtime();
        if runtime.contains_key(&key) || self.declared.iter().any(|v| v.identity.key() == key) {
            return Err(SesError::IdentityExists(identity.name().to_owned()));
        }
        let stored = Stored { identity: identity.name().to_owned(), tags, created_at: OffsetDateTime::now_utc() };
        let mut next = runtime.clone();
        next.insert(key, stored.clone());
        self.persist(&next)?;
        *runtime = next;
        Ok(VerifiedIdentity {
            arn: self.account.email_identity_arn(identity.name()),
            identity,
            logical_id: None,
            tags: stored.tags,
        })
    }

    pub(crate) fn delete(&self, name: &str) -> Result<(), SesError> {
        let key = name.to_ascii_lowercase();
        if let Some(declared) = self.declared.iter().find(|v| v.identity.key() == key) {
            return Err(SesError::DeclaredInTemplate {
                identity: declared.identity.name().to_owned(),
                resource: declared.logical_id.clone().unwrap_or_default(),
            });
        }
        let mut runtime = self.runtime();
        if !runtime.contains_key(&key) {
            return Err(SesError::IdentityNotFound(name.to_owned()));
        }
        let mut next = runtime.clone();
        next.remove(&key);
        self.persist(&next)?;
        *runtime = next;
        Ok(())
    }

    /// Writes the whole set before the in-memory map changes, so a failed write changes nothing.
    fn persist(&self, runtime: &BTreeMap<String, Stored>) -> Result<(), SesError> {
        let list: Vec<&Stored> = runtime.values().collect();
        let bytes = serde_json::to_vec_pretty(&list)
            .map_err(|e| SesError::storage(&self.path)(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
        files::write_atomic(&self.path, &bytes).map_err(SesError::storage(&self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    #[test]
    fn an_address_identity_verifies_that_address_only_and_a_domain_every_address_at_it() {
        let a = EmailIdentity::parse("NoReply@example.com").unwrap();
        assert!(a.verifies(&address("noreply@EXAMPLE.com")));
        assert!(!a.verifies(&address("other@example.com")));
        let d = EmailIdentity::parse("example.com").unwrap();
        assert_eq!(d.kind(), IdentityKind::Domain);
        assert!(d.verifies(&address("anyone@example.com")));
        assert!(d.verifies(&address("anyone@mail.example.com")));
        assert!(!d.verifies(&address("anyone@example.org")));
    }

    #[test]
    fn runtime_identities_survive_a_reopen_and_declared_ones_cannot_be_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let account = Identity::default();
        let declared = vec![VerifiedIdentity {
            identity: EmailIdentity::parse("example.com").unwrap(),
            logical_id: Some("Sender".into()),
            arn: account.email_identity_arn("example.com"),
            tags: vec![],
        }];
        let ids = Identities::open(dir.path(), account.clone(), declared.clone()).unwrap();
        ids.create(EmailIdentity::parse("me@example.org").unwrap(), vec![]).unwrap();
        assert!(matches!(
            ids.create(EmailIdentity::parse("ME@example.org").unwrap(), vec![]),
            Err(SesError::IdentityExists(_))
        ));
        assert!(matches!(ids.delete("example.com"), Err(SesError::DeclaredInTemplate { .. })));

        let reopened = Identities::open(dir.path(), account, declared).unwrap();
        assert!(reopened.verifies(&address("me@example.org")));
        reopened.delete("me@example.org").unwrap();
        assert!(!reopened.verifies(&address("me@example.org")));
        assert!(matches!(reopened.delete("me@example.org"), Err(SesError::IdentityNotFound(_))));
    }
}

//! What the invoice pipeline stores about one submitted PDF: its id, its owner (the uploader), where it came from,
//! how far it got ([`InvoiceStatus`]), the fields read from it, and, when it was refused, why and where.
//!
//! An invoice's id is derived, not drawn: a ULID whose time is the upload's and whose 80 other bits are a hash of
//! the object (bucket, key, ETag). Every delivery of one S3 notification therefore names the same invoice, the
//! state machine's execution is named from the same hash, and a retried or duplicated step writes onto the same
//! key, where the store's conditional put keeps one. Ids sort by upload time, so "newest first" is key order.

use super::Invoice;
use crate::{Error, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// An invoice's id (26 characters of Crockford base32, a ULID).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InvoiceId(ulid::Ulid);

impl InvoiceId {
    /// The id of the object `fingerprint` names, uploaded at `at`.
    pub fn derive(at: Timestamp, fingerprint: &ObjectFingerprint) -> Self {
        let ms = (at.unix_timestamp_nanos() / 1_000_000).max(0) as u64;
        let hash = fingerprint.digest();
        let mut random = [0u8; 16];
        random[6..].copy_from_slice(&hash[..10]);
        Self(ulid::Ulid::from_parts(ms, u128::from_be_bytes(random)))
    }

    pub fn parse(raw: &str) -> Result<Self, Error> {
        let invalid = || Error::BadRequest(format!("`{}` is not an invoice id", crate::task::truncate(raw)));
        // As `TaskId::parse`: 26 characters, a first character ≤ 7 (128 bits), and the canonical spelling.
        if raw.len() != 26 || raw.as_bytes()[0] > b'7' {
            return Err(invalid());
        }
        let id = ulid::Ulid::from_string(&raw.to_ascii_uppercase()).map_err(|_| invalid())?;
        if !id.to_string().eq_ignore_ascii_case(raw) {
            return Err(invalid());
        }
        Ok(Self(id))
    }
}

impl fmt::Display for InvoiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for InvoiceId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for InvoiceId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// The object an invoice was read from, as S3 named it when it was created. Two uploads to one key differ by
/// their ETag (and version id, on a versioned bucket), so they are two invoices; two notifications of one upload
/// are the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectFingerprint {
    pub bucket: String,
    pub key: String,
    pub etag: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
}

impl ObjectFingerprint {
    fn digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        // Length-prefixed, so no two different objects hash the same text.
        for part in [
            &self.bucket,
            &self.key,
            &self.etag.trim_matches('"').to_owned(),
            self.version_id.as_ref().unwrap_or(&String::new()),
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        h.finalize().into()
    }

    /// A Step Functions execution name for this object: `invoice-` and 40 hex characters of its hash (names are
    /// at most 80 characters of `[A-Za-z0-9_-]`). The same object always gets the same name, so a second
    /// StartExecution for it starts nothing new.
    pub fn execution_name(&self) -> String {
        let digest = self.digest();
        let mut name = String::with_capacity(48);
        name.push_str("invoice-");
        for b in &digest[..20] {
            name.push_str(&format!("{b:02x}"));
        }
        name
    }
}

/// How far an invoice got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InvoiceStatus {
    /// Read, valid, and stored (the acknowledgement mail follows).
    Stored,
    /// Read, and refused by a validation rule (or as a duplicate): the submitter is told which.
    Rejected,
    /// Not read or not stored: the PDF is damaged or not an invoice, or a step failed after its retries.
    Failed,
}

impl InvoiceStatus {
    pub const ALL: [InvoiceStatus; 3] = [InvoiceStatus::Stored, InvoiceStatus::Rejected, InvoiceStatus::Failed];

    pub fn parse(raw: &str) -> Result<Self, Error> {
        match raw {
            "stored" => Ok(Self::Stored),
            "rejected" => Ok(Self::Rejected),
            "failed" => Ok(Self::Failed),
            _ => Err(Error::BadRequest(format!(
                "`{}` is not an invoice status (stored, rejected or failed)",
                crate::task::truncate(raw)
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stored => "stored",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
        }
    }
}

/// Why an invoice was rejected or failed, and in which state of the state machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The state that failed (`Parse`, `Validate`, `Store`, `Email`).
    pub state: String,
    /// A stable code: the validation rule (`BR-CO-15`, `duplicate`) or the error name (`InvalidDocument`).
    pub code: String,
    /// For a person: what was wrong, with the numbers involved.
    pub reason: String,
}

/// One invoice as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceRecord {
    pub id: InvoiceId,
    pub owner: UserId,
    pub status: InvoiceStatus,
    pub object: ObjectFingerprint,
    /// When the PDF was uploaded (the S3 event's time).
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: Timestamp,
    /// When this record was last written.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: Timestamp,
    /// The Step Functions execution that processed it.
    pub execution_arn: Option<String>,
    /// The fields read from the PDF (absent when it could not be read).
    pub invoice: Option<Invoice>,
    /// Set when `status` is `rejected` or `failed`.
    pub problem: Option<Problem>,
}

/// What storing a valid invoice came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOutcome {
    /// Written now.
    Stored,
    /// This id was already written (a retried or repeated step): nothing new was written.
    AlreadyStored,
    /// The owner already has another invoice with this seller and number: nothing was written.
    Duplicate(InvoiceId),
}

/// One page of an owner's invoices, newest first; `next` names the last one listed when more follow.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoicePage {
    pub invoices: Vec<InvoiceRecord>,
    pub next: Option<InvoiceId>,
}

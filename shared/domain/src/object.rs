//! Objects in a bucket: the names (bucket, key), what is stored with the bytes (content type, metadata), and the
//! presigned requests that let a browser upload or download one object directly, without passing the bytes
//! through a function. The rules are S3's, so a value that parses here is one S3 (and the local stack) accepts.

use crate::{Error, Timestamp};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// A bucket name under S3's rules for general purpose buckets: 3–63 characters of lower-case letters, digits, `.`
/// and `-`; starts and ends with a letter or digit; no `..`; not shaped like an IP address; none of the prefixes
/// and suffixes S3 reserves (`xn--`, `sthree-`, `amzn-s3-demo-`, `-s3alias`, `--ol-s3`, `.mrap`, `--x-s3`,
/// `--table-s3`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct BucketName(String);

const RESERVED_BUCKET_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
const RESERVED_BUCKET_SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

impl BucketName {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::Invalid(format!("`{}` is not a bucket name: {why}", truncate(raw)));
        if !(3..=63).contains(&raw.len()) {
            return Err(bad("it must be 3 to 63 characters long"));
        }
        if !raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-') {
            return Err(bad("only lower-case letters, digits, `.` and `-` are allowed"));
        }
        let edge_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        if !edge_ok(raw.as_bytes()[0]) || !edge_ok(raw.as_bytes()[raw.len() - 1]) {
            return Err(bad("it must start and end with a letter or digit"));
        }
        if raw.contains("..") {
            return Err(bad("it must not contain `..`"));
        }
        if raw.parse::<std::net::Ipv4Addr>().is_ok() {
            return Err(bad("it must not be an IP address"));
        }
        if RESERVED_BUCKET_PREFIXES.iter().any(|p| raw.starts_with(p))
            || RESERVED_BUCKET_SUFFIXES.iter().any(|s| raw.ends_with(s))
        {
            return Err(bad("S3 reserves its prefix or suffix"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BucketName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Longest object key, in bytes of UTF-8 (S3's limit).
pub const OBJECT_KEY_MAX_BYTES: usize = 1024;

/// An object key: 1 to [`OBJECT_KEY_MAX_BYTES`] bytes of UTF-8. Control characters are refused although S3
/// stores them, because S3's XML responses (listings, errors, event notifications) cannot carry them intact.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ObjectKey(String);

impl ObjectKey {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::Invalid(format!("`{}` is not an object key: {why}", truncate(raw)));
        if raw.is_empty() || raw.len() > OBJECT_KEY_MAX_BYTES {
            return Err(bad("it must be 1 to 1024 bytes long"));
        }
        if raw.chars().any(char::is_control) {
            return Err(bad("it must not contain control characters"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A media type as a `Content-Type` header carries it: `type/subtype`, each an RFC 9110 token, then optional
/// `; name=value` parameters of visible ASCII. At most 255 bytes. Kept as given (not lower-cased): a presigned
/// upload signs the exact string, and the uploader must send the exact string back.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ContentType(String);

impl ContentType {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let bad = || Error::Invalid(format!("`{}` is not a content type", truncate(raw)));
        if raw.is_empty() || raw.len() > 255 || !raw.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
            return Err(bad());
        }
        let essence = raw.split(';').next().unwrap_or_default();
        let (kind, subtype) = essence.split_once('/').ok_or_else(bad)?;
        if !is_token(kind) || !is_token(subtype) {
            return Err(bad());
        }
        Ok(Self(raw.to_owned()))
    }

    /// `image/jpeg`.
    pub fn jpeg() -> Self {
        Self("image/jpeg".to_owned())
    }

    /// `application/pdf`.
    pub fn pdf() -> Self {
        Self("application/pdf".to_owned())
    }

    /// `application/octet-stream`: bytes of no particular kind.
    pub fn octet_stream() -> Self {
        Self("application/octet-stream".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// RFC 9110 `token`: the characters a header field's name and a media type's parts are made of.
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Largest total size of user metadata, keys and values together, in bytes (S3's limit).
pub const METADATA_MAX_BYTES: usize = 2048;

/// User metadata stored with an object (S3 sends it as `x-amz-meta-{key}` headers). Keys are lower-case ASCII
/// letters, digits and `-`, starting with a letter or digit, because S3 lower-cases keys and proxies may drop
/// headers with `_`: a key that parses comes back exactly as it went in. Values are printable ASCII without
/// leading or trailing spaces, which HTTP would trim. Keys and values total at most [`METADATA_MAX_BYTES`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Metadata(BTreeMap<String, String>);

impl Metadata {
    pub fn new() -> Self {
        Self::default()
    }

    /// This metadata with `key` set to `value`, or why the pair (or the new total size) is refused.
    pub fn with(mut self, key: &str, value: &str) -> Result<Self, Error> {
        let key_ok = key.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !key_ok {
            return Err(Error::Invalid(format!("`{}` is not a metadata key", truncate(key))));
        }
        if !value.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) || value.trim() != value {
            return Err(Error::Invalid(format!(
                "the metadata value of `{key}` is not printable ASCII without edge spaces"
            )));
        }
        self.0.insert(key.to_owned(), value.to_owned());
        if self.size() > METADATA_MAX_BYTES {
            return Err(Error::Invalid(format!("metadata is larger than {METADATA_MAX_BYTES} bytes")));
        }
        Ok(self)
    }

    /// Keys and values together, in bytes, as S3 counts them.
    pub fn size(&self) -> usize {
        self.0.iter().map(|(k, v)| k.len() + v.len()).sum()
    }

    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }
}

/// An entity tag: the store's name for one version of an object's bytes, as the store gives it (S3's are quoted).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ETag(String);

impl ETag {
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What to store: the bytes and what travels with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewObject {
    pub bytes: Vec<u8>,
    pub content_type: ContentType,
    pub metadata: Metadata,
}

/// An object as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub bytes: Vec<u8>,
    /// `None` when the store has no content type for it, or one that [`ContentType::parse`] refuses (an object
    /// not written through these ports).
    pub content_type: Option<ContentType>,
    /// As the store returns it; for objects written through these ports, exactly the [`Metadata`] put.
    pub metadata: BTreeMap<String, String>,
    pub etag: ETag,
}

impl Object {
    /// The size in bytes.
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }
}

/// What a store knows of an object without its bytes (a `HEAD`): enough to tell that it exists and to read what
/// was stored with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
    /// As for [`Object::content_type`].
    pub content_type: Option<ContentType>,
    /// As the store returns it; for objects written through these ports, exactly the [`Metadata`] put.
    pub metadata: BTreeMap<String, String>,
    pub etag: ETag,
}

/// How long a presigned request stays valid: 1 second to 7 days (SigV4's limit on presigned URLs). Whole
/// seconds, because the signature carries whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expiry(Duration);

impl Expiry {
    pub const MAX: Expiry = Expiry(Duration::from_secs(7 * 24 * 3600));

    pub fn from_secs(secs: u64) -> Result<Self, Error> {
        let expiry = Duration::from_secs(secs);
        if secs == 0 || expiry > Self::MAX.0 {
            return Err(Error::Invalid(format!("a presigned request must expire within 1 s to 7 days, not {secs} s")));
        }
        Ok(Self(expiry))
    }

    pub fn duration(&self) -> Duration {
        self.0
    }
}

/// The HTTP method of a presigned request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum PresignedMethod {
    Get,
    Put,
}

impl PresignedMethod {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Put => "PUT",
        }
    }
}

/// A request anyone holding it can make until `expires_at`, without credentials: send `method` to `url` with
/// exactly these `headers` (they are signed; another value, or leaving one out, is refused). Serialises as the
/// JSON an API answers with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PresignedRequest {
    pub url: String,
    pub method: PresignedMethod,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: Timestamp,
}

fn truncate(raw: &str) -> String {
    raw.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bucket_names_follow_s3_rules() {
        for ok in ["abc", "photos-uploads", "my.bucket.1", &"a".repeat(63)] {
            assert!(BucketName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "Photos",
            "under_score",
            "-start",
            "end-",
            ".dot",
            "two..dots",
            "192.168.5.4",
            "xn--bucket",
            "sthree-b",
            "amzn-s3-demo-b",
            "b-s3alias",
            "b--ol-s3",
            "b.mrap",
            "b--x-s3",
            "b--table-s3",
        ] {
            assert!(BucketName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn object_keys_are_1_to_1024_bytes_without_control_characters() {
        assert!(ObjectKey::parse("uploads/user-1/01J0Z").is_ok());
        assert!(ObjectKey::parse(&"é".repeat(512)).is_ok(), "1024 bytes of UTF-8");
        assert!(ObjectKey::parse(&format!("{}a", "é".repeat(512))).is_err(), "1025 bytes");
        assert!(ObjectKey::parse("").is_err());
        assert!(ObjectKey::parse("a\nb").is_err());
    }

    #[test]
    fn content_types_are_a_type_and_subtype_with_optional_parameters() {
        for ok in ["image/jpeg", "text/plain; charset=utf-8", "application/vnd.api+json"] {
            assert_eq!(ContentType::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["", "jpeg", "image/", "/jpeg", "image /jpeg", "image/jpeg\r\nx: y", "image/jpég"] {
            assert!(ContentType::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn metadata_keeps_keys_s3_returns_unchanged_and_stays_within_2_kib() {
        let m = Metadata::new().with("upload-id", "01J0Z").unwrap().with("user", "u-1").unwrap();
        assert_eq!(m.size(), "upload-id01J0Zuseru-1".len());
        for key in ["Upper", "under_score", "", "-lead", "sp ace"] {
            assert!(Metadata::new().with(key, "v").is_err(), "{key:?}");
        }
        for value in [" lead", "trail ", "né", "a\tb"] {
            assert!(Metadata::new().with("k", value).is_err(), "{value:?}");
        }
        assert!(Metadata::new().with("k", &"v".repeat(METADATA_MAX_BYTES - 1)).is_ok());
        assert!(Metadata::new().with("k", &"v".repeat(METADATA_MAX_BYTES)).is_err());
    }

    #[test]
    fn an_expiry_is_between_one_second_and_seven_days() {
        assert!(Expiry::from_secs(0).is_err());
        assert_eq!(Expiry::from_secs(300).unwrap().duration(), Duration::from_secs(300));
        assert_eq!(Expiry::from_secs(7 * 24 * 3600).unwrap(), Expiry::MAX);
        assert!(Expiry::from_secs(7 * 24 * 3600 + 1).is_err());
    }

    #[test]
    fn a_presigned_request_serialises_as_the_json_an_api_answers_with() {
        let req = PresignedRequest {
            url: "https://b.s3.amazonaws.com/k?X-Amz-Signature=s".into(),
            method: PresignedMethod::Put,
            headers: BTreeMap::from([("content-type".into(), "image/jpeg".into())]),
            expires_at: time::macros::datetime!(2030-01-02 03:04:05 UTC),
        };
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            serde_json::json!({
                "url": "https://b.s3.amazonaws.com/k?X-Amz-Signature=s",
                "method": "PUT",
                "headers": {"content-type": "image/jpeg"},
                "expires_at": "2030-01-02T03:04:05Z",
            })
        );
    }

    proptest! {
        #[test]
        fn every_bucket_name_that_parses_obeys_the_character_rules(raw in "[a-z0-9.-]{1,70}") {
            if let Ok(name) = BucketName::parse(&raw) {
                let s = name.as_str();
                prop_assert!((3..=63).contains(&s.len()));
                prop_assert!(!s.contains(".."));
                prop_assert!(s.as_bytes()[0].is_ascii_alphanumeric() && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric());
            }
        }

        #[test]
        fn every_key_of_1_to_1024_bytes_without_control_characters_parses(raw in "[^\\p{Cc}]{1,300}") {
            prop_assert_eq!(ObjectKey::parse(&raw).is_ok(), raw.len() <= OBJECT_KEY_MAX_BYTES);
        }
    }
}

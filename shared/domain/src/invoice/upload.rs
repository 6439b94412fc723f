//! `POST /invoices/upload`: a presigned PUT of one PDF to a fresh key under the caller's prefix,
//! `invoices/{caller}/{ulid}-{file name}`, where the bucket's notification starts the pipeline
//! ([`super::service::Submission::from_notification`] reads the owner back from that key).
//!
//! The request says how large the PDF is (1 byte to [`MAX_PDF_BYTES`]) and, optionally, what it is called. The name
//! is kept readable in the key (the acknowledgement mail attaches the PDF under it) but only as the characters an
//! S3 key, a URL and a mail header all carry without escaping: anything else becomes `_`. The ULID in front makes
//! every key fresh, so an upload never replaces another.

use super::service::{MAX_PDF_BYTES, SUBMISSION_PREFIX};
use crate::object::{BucketName, ContentType, Expiry, ObjectKey, PresignedMethod};
use crate::ports::{ObjectPresign, ProfileGet, ProfilePut};
use crate::{Caller, Error, ServiceError, Timestamp};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// How long a presigned upload stays valid: five minutes, as a photo's (enough to start a 20 MiB PUT on a slow line).
pub const UPLOAD_URL_SECONDS: u64 = 300;

/// The longest file name kept, in characters: with the ULID and `-` in front the key's last segment stays within
/// the 100 characters the acknowledgement mail keeps as the attachment's name.
pub const MAX_FILE_NAME_CHARS: usize = 64;

/// An uploaded invoice's file name: 1 to [`MAX_FILE_NAME_CHARS`] characters of `[A-Za-z0-9._-]`, ending in `.pdf`
/// (any case), with something before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName(String);

impl FileName {
    /// `raw` with every character outside `[A-Za-z0-9._-]` replaced by `_`; refused when it is empty, longer than
    /// [`MAX_FILE_NAME_CHARS`], or not a `.pdf`.
    pub fn sanitize(raw: &str) -> Result<Self, Error> {
        let raw = raw.trim();
        let count = raw.chars().count();
        if count == 0 {
            return Err(Error::Invalid("`file_name` must not be empty".into()));
        }
        if count > MAX_FILE_NAME_CHARS {
            return Err(Error::Invalid(format!(
                "`file_name` is {count} characters; at most {MAX_FILE_NAME_CHARS} are kept"
            )));
        }
        let name: String = raw
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' })
            .collect();
        let stem =
            name.len().checked_sub(4).filter(|&at| name[at..].eq_ignore_ascii_case(".pdf")).map(|at| &name[..at]);
        match stem {
            Some(stem) if !stem.is_empty() => Ok(Self(name)),
            _ => {
                Err(Error::Invalid(format!("`file_name` must be a PDF's name, ending in `.pdf`; got `{}`", clip(raw))))
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `{"size": <bytes>, "file_name"?: string}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRequest {
    /// 1 to [`MAX_PDF_BYTES`].
    pub size: u64,
    pub file_name: Option<FileName>,
}

impl UploadRequest {
    pub fn from_json(body: &Value) -> Result<Self, Error> {
        let map = body
            .as_object()
            .ok_or_else(|| Error::Invalid("the body must be a JSON object with `size` (and `file_name`)".into()))?;
        if let Some(k) = map.keys().find(|k| !matches!(k.as_str(), "size" | "file_name")) {
            return Err(Error::Invalid(format!("unknown field `{}`; expected `size` and `file_name`", clip(k))));
        }
        let size = match map.get("size") {
            // `2048.0` is the whole number 2048 to JSON, so it is taken as one (as for a photo's size).
            Some(Value::Number(n)) => n
                .as_u64()
                .or_else(|| {
                    n.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u64::MAX as f64).map(|f| f as u64)
                })
                .ok_or_else(|| Error::Invalid("`size` must be a whole number of bytes".into()))?,
            Some(_) => return Err(Error::Invalid("`size` must be a number of bytes".into())),
            None => return Err(Error::Invalid("`size` is required".into())),
        };
        if size == 0 {
            return Err(Error::Invalid("`size` must be at least 1 byte".into()));
        }
        if size > MAX_PDF_BYTES as u64 {
            return Err(Error::Invalid(format!(
                "`size` is {size} bytes; an invoice PDF may be at most {MAX_PDF_BYTES} bytes (20 MiB)"
            )));
        }
        let file_name = match map.get("file_name") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(FileName::sanitize(s)?),
            Some(_) => return Err(Error::Invalid("`file_name` must be a string".into())),
        };
        Ok(Self { size, file_name })
    }
}

/// The answer to `POST /invoices/upload`: send `method` to `upload_url` with exactly `headers` (the content type
/// and length are signed) before `expires_at`; the PDF is then at `key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UploadTicket {
    pub upload_url: String,
    pub method: PresignedMethod,
    pub headers: BTreeMap<String, String>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: Timestamp,
    pub key: String,
}

/// The key of a fresh upload of `owner`'s: `invoices/{owner}/{ulid}-{file name}`, or `invoices/{owner}/{ulid}.pdf`
/// without a name (the ULID already names it; it is not repeated).
fn upload_key(caller: &Caller, file_name: Option<&FileName>, now: Timestamp) -> Result<ObjectKey, Error> {
    let ms = (now.unix_timestamp_nanos() / 1_000_000).max(0) as u64;
    let id = ulid::Ulid::from_parts(ms, rand::random::<u128>() & ((1u128 << 80) - 1));
    let name = match file_name {
        Some(name) => format!("{id}-{}", name.as_str()),
        None => format!("{id}.pdf"),
    };
    ObjectKey::parse(&format!("{SUBMISSION_PREFIX}{}/{name}", caller.id))
}

/// A presigned upload of the PDF `body` describes to a fresh key under the caller's prefix. The caller's profile
/// is created first if it does not exist (as `GET /me` would), so the pipeline has an address to tell the
/// submitter a refusal at.
pub async fn request_upload<S, O>(
    profiles: &S,
    objects: &O,
    bucket: &BucketName,
    caller: &Caller,
    body: &Value,
    now: Timestamp,
) -> Result<UploadTicket, Error>
where
    S: ProfileGet + ProfilePut,
    O: ObjectPresign,
{
    let request = UploadRequest::from_json(body)?;
    crate::service::get_profile(profiles, caller, now).await?;
    let key = upload_key(caller, request.file_name.as_ref(), now)?;
    let expiry = Expiry::from_secs(UPLOAD_URL_SECONDS)?;
    let signed = objects
        .presign_put(bucket, &key, &ContentType::pdf(), request.size, expiry)
        .await
        .map_err(|e: ServiceError| Error::Store(Box::new(e)))?;
    Ok(UploadTicket {
        upload_url: signed.url,
        method: signed.method,
        headers: signed.headers,
        expires_at: signed.expires_at,
        key: key.as_str().to_owned(),
    })
}

fn clip(raw: &str) -> String {
    raw.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UserId;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn a_file_name_keeps_its_plain_characters_and_the_rest_become_underscores() {
        assert_eq!(FileName::sanitize("R-2024_0042.pdf").unwrap().as_str(), "R-2024_0042.pdf");
        assert_eq!(FileName::sanitize(" Rechnung März 2024.PDF ").unwrap().as_str(), "Rechnung_M_rz_2024.PDF");
        assert_eq!(FileName::sanitize("../../etc/passwd.pdf").unwrap().as_str(), ".._.._etc_passwd.pdf");
        for bad in ["", "   ", ".pdf", "invoice.pdf.exe", "invoice", "invoice.pd", &format!("{}.pdf", "a".repeat(61))] {
            assert!(matches!(FileName::sanitize(bad), Err(Error::Invalid(_))), "{bad:?}");
        }
        assert!(FileName::sanitize(&format!("{}.pdf", "a".repeat(60))).is_ok(), "64 characters are kept");
    }

    #[test]
    fn a_request_is_a_size_within_limits_and_an_optional_name() {
        let ok = UploadRequest::from_json(&json!({"size": 2048})).unwrap();
        assert_eq!((ok.size, ok.file_name), (2048, None));
        let named = UploadRequest::from_json(&json!({"size": 2048.0, "file_name": "a b.pdf"})).unwrap();
        assert_eq!(named.file_name.unwrap().as_str(), "a_b.pdf");
        assert!(UploadRequest::from_json(&json!({"size": MAX_PDF_BYTES, "file_name": null})).is_ok());
        for bad in [
            json!({"size": 0}),
            json!({"size": MAX_PDF_BYTES + 1}),
            json!({"size": -1}),
            json!({"size": 1.5}),
            json!({"size": "10"}),
            json!({}),
            json!({"size": 10, "file_name": 7}),
            json!({"size": 10, "content_type": "application/pdf"}),
            json!([10]),
        ] {
            assert!(matches!(UploadRequest::from_json(&bad), Err(Error::Invalid(_))), "{bad}");
        }
    }

    #[test]
    fn keys_are_fresh_under_the_callers_prefix_and_read_back_as_a_submission() {
        let caller =
            Caller { id: UserId::parse("4f9d2c1e-7b3a-4c8e-9a21-5d6e7f8a9b0c").unwrap(), email: None, name: None };
        let now = crate::now();
        let named = FileName::sanitize("R-42.pdf").unwrap();
        let a = upload_key(&caller, Some(&named), now).unwrap();
        let b = upload_key(&caller, None, now).unwrap();
        assert!(
            a.as_str().starts_with("invoices/4f9d2c1e-7b3a-4c8e-9a21-5d6e7f8a9b0c/")
                && a.as_str().ends_with("-R-42.pdf")
        );
        let last = b.as_str().rsplit('/').next().unwrap();
        assert!(last.len() == 30 && last.ends_with(".pdf") && !last.contains('-'), "{b}");
        assert_ne!(upload_key(&caller, None, now).unwrap(), b, "every upload gets its own key");
        for key in [a, b] {
            let submission =
                super::super::service::Submission::from_notification("bucket", key.as_str(), "etag", None, now)
                    .unwrap();
            assert_eq!(submission.expect("an invoice submission").owner, caller.id);
        }
    }

    proptest! {
        #[test]
        fn a_sanitized_name_holds_only_plain_characters(raw in "\\PC{1,64}") {
            if let Ok(name) = FileName::sanitize(&format!("{raw}.pdf")) {
                prop_assert!(name.as_str().chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')));
                prop_assert!(name.as_str().to_ascii_lowercase().ends_with(".pdf"));
            }
        }
    }
}

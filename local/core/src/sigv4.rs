//! Verifying AWS Signature Version 4, as AWS's front ends do, for the services that do not verify their own
//! (SQS, SES, Step Functions; S3 verifies in its own protocol layer, which also handles presigned URLs and
//! chunked uploads). The front door checks a request here before the service sees it.
//!
//! Written by hand because the SDK's `aws-sigv4` crate only signs: it chooses for itself which headers to sign,
//! so it cannot recompute a signature over the headers a client chose (the `SignedHeaders` list). Verification
//! rebuilds the canonical request from exactly those headers, per the SigV4 specification, and compares in
//! constant time.

use crate::{hex, identity::Credentials};
use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, StatusCode};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How far a request's `X-Amz-Date` may be from the server's clock, as on AWS.
pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// Why a request's signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    #[error("Request is missing Authentication Token")]
    Missing,
    #[error("Authorization header requires {0}")]
    Incomplete(&'static str),
    #[error("The security token included in the request is invalid (unknown access key `{0}`)")]
    UnknownAccessKey(String),
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."
    )]
    Mismatch,
    #[error("Signature expired: {0} is not within 15 minutes of the server's time")]
    Skewed(String),
}

impl crate::protocol::AwsError for SigV4Error {
    fn code(&self) -> &str {
        match self {
            Self::Missing => "MissingAuthenticationTokenException",
            Self::Incomplete(_) => "IncompleteSignatureException",
            Self::UnknownAccessKey(_) => "UnrecognizedClientException",
            Self::Mismatch => "SignatureDoesNotMatch",
            Self::Skewed(_) => "InvalidSignatureException",
        }
    }

    fn status(&self) -> StatusCode {
        StatusCode::FORBIDDEN
    }
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 …` header.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Authorization<'a> {
    access_key: &'a str,
    /// `<date>/<region>/<service>/aws4_request`
    scope: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Result<Authorization<'_>, SigV4Error> {
    let rest =
        value.strip_prefix("AWS4-HMAC-SHA256").ok_or(SigV4Error::Incomplete("the AWS4-HMAC-SHA256 algorithm"))?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let credential = credential.ok_or(SigV4Error::Incomplete("a Credential"))?;
    let (access_key, scope) = credential.split_once('/').ok_or(SigV4Error::Incomplete("a credential scope"))?;
    if scope.split('/').count() != 4 || !scope.ends_with("/aws4_request") {
        return Err(SigV4Error::Incomplete("a credential scope of date/region/service/aws4_request"));
    }
    let signed_headers: Vec<&str> = signed.ok_or(SigV4Error::Incomplete("SignedHeaders"))?.split(';').collect();
    if !signed_headers.contains(&"host") {
        return Err(SigV4Error::Incomplete("the host header to be signed"));
    }
    let signature = signature.ok_or(SigV4Error::Incomplete("a Signature"))?;
    Ok(Authorization { access_key, scope, signed_headers, signature })
}

/// What SigV4 encodes: everything but RFC 3986's unreserved characters (`A–Z a–z 0–9 - _ . ~`).
const SIGV4_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
/// The same, for a path, whose `/` separate segments.
const SIGV4_PATH_ENCODE: &AsciiSet = &SIGV4_ENCODE.remove(b'/');

/// RFC 3986 encoding as SigV4 wants it: unreserved characters kept, everything else `%XX` (upper case); a path
/// keeps its `/`.
fn uri_encode(s: &str, keep_slash: bool) -> String {
    let set = if keep_slash { SIGV4_PATH_ENCODE } else { SIGV4_ENCODE };
    utf8_percent_encode(s, set).to_string()
}

/// The canonical query string: every parameter decoded, re-encoded, sorted by name then value.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&crate::endpoint::percent_decode(k), false),
                uri_encode(&crate::endpoint::percent_decode(v), false),
            )
        })
        .collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The signature of `canonical_request`, made at `amz_date` within `scope` (`date/region/service/aws4_request`):
/// the string to sign, HMAC'd with the key SigV4 derives from the secret through each part of the scope.
fn signature(secret: &str, scope: &str, amz_date: &str, canonical_request: &str) -> String {
    let string_to_sign =
        format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex(&Sha256::digest(canonical_request.as_bytes())));
    let mut key = format!("AWS4{secret}").into_bytes();
    for part in scope.split('/') {
        key = hmac(&key, part.as_bytes());
    }
    hex(&hmac(&key, string_to_sign.as_bytes()))
}

/// `YYYYMMDD'T'HHMMSS'Z'` as seconds since the epoch.
fn parse_amz_date(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<u64>().ok();
    let (y, m, d, hh, mm, ss) = (num(0..4)?, num(4..6)?, num(6..8)?, num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm), so no calendar crate is needed for one conversion.
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe;
    let days_since_epoch = days.checked_sub(719_468)?;
    Some(days_since_epoch * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Verifies the `Authorization` header's signature over the request. `path` and `query` are the raw (as sent,
/// still percent-encoded) path and query; `body` is the whole body (its hash is recomputed unless the client sent
/// `x-amz-content-sha256`).
pub fn verify(
    method: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
    credentials: &Credentials,
    now: SystemTime,
) -> Result<(), SigV4Error> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let auth = parse_authorization(header("authorization").ok_or(SigV4Error::Missing)?)?;
    if auth.access_key != credentials.access_key_id {
        return Err(SigV4Error::UnknownAccessKey(auth.access_key.chars().take(64).collect()));
    }
    let amz_date = header("x-amz-date").ok_or(SigV4Error::Incomplete("an X-Amz-Date header"))?;
    let signed_at = parse_amz_date(amz_date).ok_or(SigV4Error::Incomplete("a valid X-Amz-Date"))?;
    let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    if now.abs_diff(signed_at) > MAX_SKEW.as_secs() {
        return Err(SigV4Error::Skewed(amz_date.to_owned()));
    }
    if !auth.scope.starts_with(&amz_date[..8]) {
        return Err(SigV4Error::Incomplete("a credential scope dated as X-Amz-Date"));
    }

    let mut canonical_headers = String::new();
    for name in &auth.signed_headers {
        let values: Vec<String> = headers
            .get_all(*name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        if values.is_empty() {
            return Err(SigV4Error::Mismatch);
        }
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let payload_hash = match header("x-amz-content-sha256") {
        Some(h) => h.to_owned(),
        None => hex(&Sha256::digest(body)),
    };
    let path = if path.is_empty() { "/" } else { path };
    let canonical_request = format!(
        "{method}\n{}\n{}\n{canonical_headers}\n{}\n{payload_hash}",
        uri_encode(path, true),
        canonical_query(query),
        auth.signed_headers.join(";"),
    );
    let expected = signature(&credentials.secret_access_key, auth.scope, amz_date, &canonical_request);
    // Constant time, so the signature cannot be guessed byte by byte from response times.
    let same = expected.len() == auth.signature.len()
        && expected.bytes().zip(auth.signature.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if same { Ok(()) } else { Err(SigV4Error::Mismatch) }
}

/// What a presigned URL is for.
#[derive(Debug, Clone)]
pub struct PresignRequest<'a> {
    pub method: &'a str,
    /// `scheme://host[:port]`, as the client will call it (the host is signed).
    pub endpoint: &'a str,
    /// The path, not yet encoded (`/bucket/key with spaces`); S3 encodes each segment once.
    pub path: &'a str,
    /// Query parameters of the request itself (`uploadId`, `partNumber`), signed with it; not yet encoded.
    pub query: &'a [(&'a str, &'a str)],
    /// Headers the client must send with these exact values (`content-type`, `content-length`), lower case.
    pub headers: &'a [(&'a str, String)],
    pub region: &'a str,
    pub service: &'a str,
    pub expires_in: Duration,
}

/// A presigned URL (SigV4 query authentication, `UNSIGNED-PAYLOAD`), as the SDKs' presigners make them: anyone
/// holding it may make that one request, with those headers, until it expires.
pub fn presign(req: &PresignRequest<'_>, credentials: &Credentials, now: SystemTime) -> String {
    let secs = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let amz_date = format_amz_date(secs);
    let scope = format!("{}/{}/{}/aws4_request", &amz_date[..8], req.region, req.service);
    let host = req.endpoint.split_once("://").map_or(req.endpoint, |(_, h)| h).trim_end_matches('/');
    let mut headers: Vec<(String, String)> =
        req.headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect();
    headers.push(("host".into(), host.to_owned()));
    headers.sort();
    let signed_headers = headers.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(";");
    let own: String =
        req.query.iter().map(|(k, v)| format!("{}={}&", uri_encode(k, false), uri_encode(v, false))).collect();
    let query = format!(
        "{own}X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={}&X-Amz-Date={amz_date}&X-Amz-Expires={}&X-Amz-SignedHeaders={}",
        uri_encode(&format!("{}/{scope}", credentials.access_key_id), false),
        req.expires_in.as_secs(),
        uri_encode(&signed_headers, false),
    );
    let path = uri_encode(req.path, true);
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{}\n", v.trim())).collect();
    let canonical_request = format!(
        "{}\n{path}\n{}\n{canonical_headers}\n{signed_headers}\nUNSIGNED-PAYLOAD",
        req.method,
        canonical_query(&query)
    );
    let signature = signature(&credentials.secret_access_key, &scope, &amz_date, &canonical_request);
    format!("{}{path}?{query}&X-Amz-Signature={signature}", req.endpoint.trim_end_matches('/'))
}

/// Seconds since the epoch as `YYYYMMDD'T'HHMMSS'Z'`.
fn format_amz_date(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil from days (Howard Hinnant's algorithm), the inverse of `parse_amz_date`.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's published example (IAM ListUsers, from the SigV4 documentation's "signature calculation" walkthrough).
    #[test]
    fn the_documented_example_request_verifies_and_any_change_to_it_does_not() {
        let mut headers = HeaderMap::new();
        headers.insert("host", "iam.amazonaws.com".parse().unwrap());
        headers.insert("content-type", "application/x-www-form-urlencoded; charset=utf-8".parse().unwrap());
        headers.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
                .parse()
                .unwrap(),
        );
        let creds = Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        };
        let at = UNIX_EPOCH + Duration::from_secs(parse_amz_date("20150830T123600Z").unwrap());
        let query = "Action=ListUsers&Version=2010-05-08";
        assert_eq!(verify("GET", "/", query, &headers, b"", &creds, at), Ok(()));
        assert_eq!(
            verify("GET", "/", "Action=ListUsers&Version=2010-05-09", &headers, b"", &creds, at),
            Err(SigV4Error::Mismatch)
        );
        assert_eq!(verify("POST", "/", query, &headers, b"", &creds, at), Err(SigV4Error::Mismatch));
        let wrong = Credentials { secret_access_key: "other".into(), ..creds.clone() };
        assert_eq!(verify("GET", "/", query, &headers, b"", &wrong, at), Err(SigV4Error::Mismatch));
        let late = at + Duration::from_secs(16 * 60);
        assert!(matches!(verify("GET", "/", query, &headers, b"", &creds, late), Err(SigV4Error::Skewed(_))));
        let other_key = Credentials { access_key_id: "test".into(), ..creds };
        assert!(matches!(
            verify("GET", "/", query, &headers, b"", &other_key, at),
            Err(SigV4Error::UnknownAccessKey(_))
        ));
    }

    #[test]
    fn a_request_without_or_with_a_malformed_authorization_is_refused_by_name() {
        let creds = Credentials::default();
        let now = SystemTime::now();
        assert_eq!(verify("POST", "/", "", &HeaderMap::new(), b"", &creds, now), Err(SigV4Error::Missing));
        for bad in [
            "Basic abc",
            "AWS4-HMAC-SHA256 Credential=test",
            "AWS4-HMAC-SHA256 Credential=test/x/y, SignedHeaders=host, Signature=00",
        ] {
            let mut h = HeaderMap::new();
            h.insert("authorization", bad.parse().unwrap());
            assert!(matches!(verify("POST", "/", "", &h, b"", &creds, now), Err(SigV4Error::Incomplete(_))), "{bad}");
        }
    }

    #[test]
    fn amz_dates_format_back_to_what_they_parse_from() {
        for s in ["19700101T000000Z", "20150830T123600Z", "20240229T235959Z", "21000301T000000Z"] {
            assert_eq!(format_amz_date(parse_amz_date(s).unwrap()), s);
        }
    }

    #[test]
    fn amz_dates_convert_to_epoch_seconds() {
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(0));
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(1_440_938_160));
        assert_eq!(parse_amz_date("2015-08-30T12:36:00Z"), None);
        assert_eq!(parse_amz_date("20151330T123600Z"), None);
    }
}

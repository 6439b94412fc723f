//! One port for every service, as LocalStack has: each emulated service says which requests are its own, and the
//! front door routes a request by its `X-Amz-Target` header, else by the service named in its SigV4 credential
//! scope (the `Authorization` header or a presigned URL's `X-Amz-Credential`), else to the template's HTTP API.

use crate::BoxFuture;
use axum::{body::Body, extract::Request, response::Response};
use http::HeaderMap;
use std::net::SocketAddr;

pub const TARGET_HEADER: &str = "x-amz-target";

/// What the front door knows of a request when it hands it to a service.
#[derive(Debug, Clone)]
pub struct CallContext {
    pub peer: SocketAddr,
    pub request_id: String,
}

/// An emulated AWS service on the stack's one port.
pub trait Service: Send + Sync + 'static {
    /// The service's name in logs (`s3`, `sqs`, `states`).
    fn name(&self) -> &'static str;

    /// `X-Amz-Target` prefixes this service answers (`AWSStepFunctions.`, `AmazonSQS.`); none for REST services.
    fn target_prefixes(&self) -> &'static [&'static str] {
        &[]
    }

    /// Signing names in the SigV4 credential scope this service answers (`s3`, `sqs`, `ses`, `states`).
    fn signing_names(&self) -> &'static [&'static str];

    /// Who checks this service's SigV4 signatures, and whether unsigned requests are refused.
    fn signatures(&self) -> Signatures {
        Signatures::Required
    }

    fn serve(&self, request: Request<Body>, ctx: CallContext) -> BoxFuture<'_, Response>;
}

/// How a service's requests are authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signatures {
    /// The front door verifies the signature and refuses unsigned requests.
    Required,
    /// The front door verifies a signature when there is one; unsigned requests pass (a loopback-only API).
    IfPresent,
    /// The service verifies its own (S3: presigned URLs and chunked payload signatures live in its protocol).
    ByService,
}

/// The host the request is addressed to: the URI's authority (HTTP/2, absolute-form), else the `Host` header.
pub fn request_host<'a>(uri: &'a http::Uri, headers: &'a HeaderMap) -> Option<&'a str> {
    uri.authority().map(|a| a.as_str()).or_else(|| headers.get(http::header::HOST).and_then(|v| v.to_str().ok()))
}

/// `host` (`name[:port]`) split into its name and whether its port (if any) is digits.
fn split_host(host: &str) -> Option<(&str, bool)> {
    let (name, port) = match host.strip_prefix('[') {
        Some(v6) => {
            let (address, rest) = v6.split_once(']')?;
            (address, rest.strip_prefix(':').or(rest.is_empty().then_some("")))
        }
        None => match host.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, Some("")),
        },
    };
    Some((name, port.is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))))
}

/// Whether `host` (`name[:port]`) names this machine: `localhost` or a loopback address (`127.0.0.1`, `[::1]`),
/// with any port or none. A name an attacker's DNS can answer for is never one of these.
pub fn is_loopback_host(host: &str) -> bool {
    split_host(host).is_some_and(|(name, port_ok)| {
        port_ok
            && (name.eq_ignore_ascii_case("localhost")
                || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()))
    })
}

/// Whether a request addressed to `host` cannot come from DNS rebinding: an IP literal (no DNS involved; any
/// address, so a stack opened with `--host` is reachable by its address), `localhost`, or a name under
/// `.localhost`, which resolvers and browsers keep on this machine (RFC 6761; S3's virtual-hosted style uses
/// `<bucket>.s3.localhost`). A page whose domain an attacker re-points at 127.0.0.1 still sends that domain as its
/// Host, and is refused.
pub fn is_rebinding_safe_host(host: &str) -> bool {
    split_host(host).is_some_and(|(name, port_ok)| {
        let name = name.trim_end_matches('.');
        port_ok
            && (name.parse::<std::net::IpAddr>().is_ok()
                || name.eq_ignore_ascii_case("localhost")
                || name.to_ascii_lowercase().ends_with(".localhost"))
    })
}

/// The `X-Amz-Target` header, when present and readable.
pub fn target(headers: &HeaderMap) -> Option<&str> {
    headers.get(TARGET_HEADER).and_then(|v| v.to_str().ok())
}

/// The service of a request's SigV4 credential scope (`<key>/<date>/<region>/<service>/aws4_request`), from the
/// `Authorization` header or, for a presigned URL, the `X-Amz-Credential` query parameter. A request signed with
/// Signature Version 2 (`Authorization: AWS <key>:<sig>`, or a URL with `AWSAccessKeyId`, which is what
/// `aws s3 presign` makes in us-east-1) is S3's: S3 is the one service that still takes it.
pub fn signing_service(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    let authorization = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
    if authorization.starts_with("AWS ") || form_pairs(query.unwrap_or("")).any(|(k, _)| k == "AWSAccessKeyId") {
        return Some("s3".to_owned());
    }
    let from_header = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.starts_with("AWS4-HMAC-SHA256"))
        .and_then(|v| v.split("Credential=").nth(1))
        .map(|c| c.split([',', ' ']).next().unwrap_or("").to_owned());
    let credential = from_header
        .or_else(|| form_pairs(query.unwrap_or("")).find(|(k, _)| k == "X-Amz-Credential").map(|(_, v)| v))?;
    let parts: Vec<&str> = credential.split('/').collect();
    // key/date/region/service/aws4_request; the key itself has no '/'.
    (parts.len() == 5 && parts[4] == "aws4_request").then(|| parts[3].to_owned())
}

fn form_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        Some((percent_decode(k), percent_decode(v)))
    })
}

/// Percent-decoding of a URL component: `+` stays `+` (as SigV4 query strings and path segments mean it, unlike
/// form encoding), an escape that is not one is kept as written, bytes that are not UTF-8 are replaced.
pub fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signing_service_comes_from_the_header_or_the_presigned_query() {
        let mut h = HeaderMap::new();
        h.insert(
            http::header::AUTHORIZATION,
            "AWS4-HMAC-SHA256 Credential=test/20261130/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=ab"
                .parse()
                .unwrap(),
        );
        assert_eq!(signing_service(&h, None).as_deref(), Some("sqs"));
        let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F20261130%2Fus-east-1%2Fs3%2Faws4_request";
        assert_eq!(signing_service(&HeaderMap::new(), Some(q)).as_deref(), Some("s3"));
        assert_eq!(signing_service(&HeaderMap::new(), Some("a=b")), None);
        let v2 = "AWSAccessKeyId=test&Signature=abc%3D&Expires=1796042952";
        assert_eq!(signing_service(&HeaderMap::new(), Some(v2)).as_deref(), Some("s3"));
    }

    #[test]
    fn only_names_of_this_machine_pass_the_loopback_check_with_any_port() {
        for host in ["localhost", "LocalHost:3000", "127.0.0.1", "127.0.0.1:3000", "[::1]", "[::1]:3000"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:3000",
            "localhost.evil.example",
            "127.0.0.1.nip.io:3000",
            "10.0.0.1:3000",
            "::1",
            "[::1",
            "[::1]x",
            "localhost:3000:1",
            "localhost:x",
            "",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn ip_literals_and_localhost_names_are_safe_from_rebinding_and_other_names_are_not() {
        for host in ["127.0.0.1:3000", "10.0.0.7:3000", "[::1]:3000", "localhost", "bucket.s3.localhost:3000"] {
            assert!(is_rebinding_safe_host(host), "{host}");
        }
        for host in ["evil.example:3000", "localhost.evil.example", "127.0.0.1.nip.io", "x.localhost.evil", "a:b", ""] {
            assert!(!is_rebinding_safe_host(host), "{host}");
        }
    }

    #[test]
    fn percent_decoding_keeps_what_is_not_an_escape() {
        assert_eq!(percent_decode("a%2Fb%zz%4"), "a/b%zz%4");
        assert_eq!(percent_decode("x+y%20z"), "x+y z");
    }
}

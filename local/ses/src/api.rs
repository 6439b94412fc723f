//! SES v2's own wire protocol, REST-JSON (routes by method and path under `/v2/email/`, JSON bodies with
//! PascalCase members, errors as `x-amzn-ErrorType` plus `{"message": …}`), so `aws sesv2 …` and the SDKs work
//! against the local stack unchanged. Operations: `SendEmail` (`POST /v2/email/outbound-emails`),
//! `CreateEmailIdentity` (`POST /v2/email/identities`), `GetEmailIdentity` and `DeleteEmailIdentity`
//! (`GET`/`DELETE /v2/email/identities/{EmailIdentity}`), `ListEmailIdentities` (both `GET /v2/email/identities`,
//! as botocore's model has it, and `POST /v2/email/list-identities` with `Filter`, as the Rust SDK's newer model
//! has it) and `GetAccount` (`GET /v2/email/account`); any other route is a 404 `UnknownOperationException`.
//!
//! Size: a request body over 40 MiB plus 1 MiB of JSON is refused before it is read, and a message over 40 MiB
//! after base64 encoding ([`MAX_MESSAGE_BYTES`]) is a `BadRequestException`, as SES v2's limit is stated. A request is first parsed into a [`Command`] (route, path labels, query and
//! body), then applied; every failure is an [`SesError`] turned into SES's answer in one place. Bad input is always
//! a 4xx, never a 5xx or a panic.

use crate::{
    Ses, SesError,
    error::MAX_MESSAGE_BYTES,
    identities::{EmailIdentity, Tag, VerifiedIdentity},
    message::{Attachment, RawEmail, SimpleEmail},
    outbox::MessageTag,
};
use axum::{body::Body, extract::Request, response::Response};
use base64::Engine;
use http::{Method, StatusCode};
use local_core::{
    BoxFuture,
    endpoint::{CallContext, Service, percent_decode},
    page::{Order, paginate},
    protocol::rest_json,
};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::{Value, json};

/// The largest request body read: the largest message (already base64 in `Content.Raw.Data`) and room for the JSON
/// around it.
const MAX_BODY: usize = MAX_MESSAGE_BYTES + 1024 * 1024;
/// ListEmailIdentities' largest page, as on SES.
const MAX_PAGE: usize = 1000;
/// The sandbox's sending quota, as a new SES account has it (it is reported, not enforced).
const SANDBOX_MAX_24_HOUR_SEND: f64 = 200.0;
const SANDBOX_MAX_SEND_RATE: f64 = 1.0;

impl Service for Ses {
    fn name(&self) -> &'static str {
        "ses"
    }

    /// `ses` is what the SES v2 SDKs sign with; `email` is the service's endpoint prefix, which some older
    /// clients sign with.
    fn signing_names(&self) -> &'static [&'static str] {
        &["ses", "email"]
    }

    fn serve(&self, request: Request<Body>, ctx: CallContext) -> BoxFuture<'_, Response> {
        Box::pin(async move {
            match self.answer(request).await {
                Ok(v) => rest_json::respond(StatusCode::OK, &v, &ctx.request_id),
                Err(e) => rest_json::error(&e, &ctx.request_id),
            }
        })
    }
}

impl Ses {
    async fn answer(&self, request: Request<Body>) -> Result<Value, SesError> {
        let (parts, body) = request.into_parts();
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if let Some(n) = declared.filter(|n| *n > MAX_BODY) {
            return Err(SesError::TooLarge(n));
        }
        let body = axum::body::to_bytes(body, MAX_BODY).await.map_err(|e| {
            SesError::bad_request(format!("The request body could not be read (over {MAX_BODY} bytes?): {e}"))
        })?;
        let ses = self.clone();
        // Sending writes and syncs files (up to 40 MB): the blocking pool's work, not the runtime's.
        tokio::task::spawn_blocking(move || {
            let command = Command::parse(&parts.method, parts.uri.path(), parts.uri.query(), &body)?;
            command.apply(&ses)
        })
        .await
        .map_err(crate::join_error)?
    }
}

/// One SES v2 operation, parsed from its request.
#[derive(Debug)]
pub(crate) enum Command {
    SendEmail(Box<SendEmailInput>),
    CreateEmailIdentity(CreateEmailIdentityInput),
    GetEmailIdentity(String),
    DeleteEmailIdentity(String),
    ListEmailIdentities(ListInput),
    GetAccount,
}

fn body<T: DeserializeOwned>(body: &[u8]) -> Result<T, SesError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    serde_json::from_slice(body).map_err(|e| SesError::bad_request(format!("The request body is not valid: {e}")))
}

fn query_pairs(query: Option<&str>) -> impl Iterator<Item = (String, String)> + '_ {
    query.unwrap_or("").split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k), percent_decode(v))
    })
}

impl Command {
    pub(crate) fn parse(method: &Method, path: &str, query: Option<&str>, raw: &[u8]) -> Result<Self, SesError> {
        let unknown = || SesError::UnknownOperation { method: method.to_string(), path: path.to_owned() };
        let rest = path.strip_prefix("/v2/email/").ok_or_else(unknown)?;
        let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
        Ok(match (method.as_str(), segments.as_slice()) {
            ("POST", ["outbound-emails"]) => Self::SendEmail(Box::new(body(raw)?)),
            ("POST", ["identities"]) => Self::CreateEmailIdentity(body(raw)?),
            // Older models (botocore's) list with a GET and a query; newer ones (the Rust SDK's) with a POST and
            // a body that may also filter.
            ("GET", ["identities"]) => {
                let mut list = ListInput::default();
                for (k, v) in query_pairs(query) {
                    match k.as_str() {
                        "PageSize" => list.page_size = Some(v.parse().map_err(|_| page_size_error(&v))?),
                        "NextToken" => list.next_token = Some(v),
                        _ => {}
                    }
                }
                Self::ListEmailIdentities(list)
            }
            ("POST", ["list-identities"]) => Self::ListEmailIdentities(body(raw)?),
            ("GET", ["identities", name]) => Self::GetEmailIdentity(percent_decode(name)),
            ("DELETE", ["identities", name]) => Self::DeleteEmailIdentity(percent_decode(name)),
            ("GET", ["account"]) => Self::GetAccount,
            _ => return Err(unknown()),
        })
    }

    pub(crate) fn apply(self, ses: &Ses) -> Result<Value, SesError> {
        match self {
            Self::SendEmail(input) => {
                let envelope = input.send(ses)?;
                Ok(json!({"MessageId": envelope.id}))
            }
            Self::CreateEmailIdentity(input) => {
                let identity = EmailIdentity::parse(&input.email_identity).map_err(SesError::BadRequest)?;
                check_resource_tags(&input.tags)?;
                let created = ses.0.identities.create(identity, input.tags)?;
                let kind = created.identity.kind();
                Ok(json!({
                    "IdentityType": kind.as_str(),
                    "VerifiedForSendingStatus": true,
                    "DkimAttributes": dkim(&created),
                }))
            }
            Self::GetEmailIdentity(name) => {
                let v = ses.0.identities.get(&name).ok_or(SesError::IdentityNotFound(name))?;
                Ok(json!({
                    "IdentityType": v.identity.kind().as_str(),
                    "FeedbackForwardingStatus": true,
                    "VerifiedForSendingStatus": true,
                    "VerificationStatus": "SUCCESS",
                    "DkimAttributes": dkim(&v),
                    "Policies": {},
                    "Tags": v.tags,
                }))
            }
            Self::DeleteEmailIdentity(name) => {
                ses.0.identities.delete(&name)?;
                Ok(json!({}))
            }
            Self::ListEmailIdentities(list) => {
                let page_size = match list.page_size {
                    None => 0,
                    Some(n) => usize::try_from(n).ok().filter(|n| *n <= MAX_PAGE).ok_or_else(|| page_size_error(n))?,
                };
                let filter = list.filter.unwrap_or_default();
                let mut all = ses.0.identities.all();
                for (key, value) in &filter {
                    match key.as_str() {
                        "IDENTITY_NAME_CONTAINS" => {
                            let part = value.to_ascii_lowercase();
                            all.retain(|v| v.identity.name().to_ascii_lowercase().contains(&part))
                        }
                        "IDENTITY_TYPE" => all.retain(|v| v.identity.kind().as_str() == value),
                        // Every identity is verified locally.
                        "VERIFICATION_STATUS" => all.retain(|_| value == "SUCCESS"),
                        other => return Err(SesError::bad_request(format!("Unknown identity filter '{other}'."))),
                    }
                }
                let key = |v: &VerifiedIdentity| v.identity.name().to_ascii_lowercase();
                // The token is bound to the filter: a token from one listing is refused for another.
                let request = json!({ "filter": filter });
                let page = paginate(all, &request, key, Order::Ascending, page_size, list.next_token.as_deref())
                    .map_err(|e| SesError::bad_request(e.to_string()))?;
                let identities: Vec<Value> = page
                    .items
                    .iter()
                    .map(|v| {
                        json!({
                            "IdentityType": v.identity.kind().as_str(),
                            "IdentityName": v.identity.name(),
                            "SendingEnabled": true,
                            "VerificationStatus": "SUCCESS",
                        })
                    })
                    .collect();
                let mut out = json!({"EmailIdentities": identities});
                if let Some(t) = page.next_token {
                    out["NextToken"] = json!(t);
                }
                Ok(out)
            }
            Self::GetAccount => {
                let since = time::OffsetDateTime::now_utc() - time::Duration::hours(24);
                let sent = ses.0.outbox.count_since(since)?;
                Ok(json!({
                    "DedicatedIpAutoWarmupEnabled": false,
                    "EnforcementStatus": "HEALTHY",
                    "ProductionAccessEnabled": false,
                    "SendingEnabled": true,
                    "SendQuota": {
                        "Max24HourSend": SANDBOX_MAX_24_HOUR_SEND,
                        "MaxSendRate": SANDBOX_MAX_SEND_RATE,
                        "SentLast24Hours": sent as f64,
                    },
                    "SuppressionAttributes": {"SuppressedReasons": []},
                }))
            }
        }
    }
}

/// DKIM as SES reports it once verified: domains sign (locally nothing is signed, but the status is what code
/// checking the identity expects); addresses do not.
fn dkim(v: &VerifiedIdentity) -> Value {
    match v.identity {
        EmailIdentity::Domain(_) => json!({
            "SigningEnabled": true,
            "Status": "SUCCESS",
            "Tokens": [],
            "SigningAttributesOrigin": "AWS_SES",
        }),
        EmailIdentity::Address(_) => json!({"SigningEnabled": false, "Status": "NOT_STARTED", "Tokens": []}),
    }
}

fn page_size_error(n: impl std::fmt::Display) -> SesError {
    SesError::bad_request(format!("PageSize must be 0 to {MAX_PAGE}, not '{n}'."))
}

fn check_resource_tags(tags: &[Tag]) -> Result<(), SesError> {
    if tags.len() > 50 {
        return Err(SesError::bad_request("A resource can have at most 50 tags."));
    }
    for t in tags {
        if t.key.is_empty() || t.key.chars().count() > 128 || t.value.chars().count() > 256 {
            return Err(SesError::bad_request(format!(
                "Invalid tag '{}': keys have 1 to 128 characters, values at most 256.",
                t.key
            )));
        }
    }
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListInput {
    filter: Option<std::collections::BTreeMap<String, String>>,
    next_token: Option<String>,
    page_size: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateEmailIdentityInput {
    email_identity: String,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SendEmailInput {
    from_email_address: Option<String>,
    destination: Option<DestinationInput>,
    #[serde(default)]
    reply_to_addresses: Vec<String>,
    content: ContentInput,
    #[serde(default)]
    email_tags: Vec<MessageTagInput>,
    configuration_set_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DestinationInput {
    #[serde(default)]
    to_addresses: Vec<String>,
    #[serde(default)]
    cc_addresses: Vec<String>,
    #[serde(default)]
    bcc_addresses: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ContentInput {
    simple: Option<SimpleInput>,
    raw: Option<RawInput>,
    template: Option<TemplateInput>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SimpleInput {
    subject: TextInput,
    body: BodyInput,
    #[serde(default)]
    headers: Vec<HeaderInput>,
    #[serde(default)]
    attachments: Vec<AttachmentInput>,
}

/// `Data` and its `Charset`; the charset is accepted and the text written as UTF-8 (see [`crate::message`]).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TextInput {
    data: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BodyInput {
    text: Option<TextInput>,
    html: Option<TextInput>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HeaderInput {
    name: String,
    value: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AttachmentInput {
    raw_content: String,
    file_name: String,
    content_disposition: Option<String>,
    content_id: Option<String>,
    content_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawInput {
    data: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TemplateInput {
    template_name: Option<String>,
    template_arn: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MessageTagInput {
    name: String,
    value: String,
}

fn decode_base64(what: &str, data: &str) -> Result<Vec<u8>, SesError> {
    base64::engine::general_purpose::STANDARD
        .decode(data.as_bytes())
        .map_err(|e| SesError::bad_request(format!("{what} is not valid base64: {e}")))
}

/// `EmailTags`: names and values of ASCII letters, digits, `_` and `-`, at most 256 characters each.
fn message_tags(tags: Vec<MessageTagInput>) -> Result<Vec<MessageTag>, SesError> {
    let valid = |s: &str, min: usize| {
        (min..=256).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    tags.into_iter()
        .map(|t| {
            if valid(&t.name, 1) && valid(&t.value, 0) {
                Ok(MessageTag { name: t.name, value: t.value })
            } else {
                Err(SesError::bad_request(format!(
                    "Invalid message tag '{}': names and values are ASCII letters, digits, '_' and '-', at most 256 characters.",
                    t.name
                )))
            }
        })
        .collect()
}

impl SendEmailInput {
    fn send(self, ses: &Ses) -> Result<crate::outbox::Envelope, SesError> {
        let options =
            crate::SendOptions { tags: message_tags(self.email_tags)?, configuration_set: self.configuration_set_name };
        let destination = self.destination.unwrap_or_default();
        match (self.content.simple, self.content.raw, self.content.template) {
            (Some(simple), None, None) => {
                let from = self
                    .from_email_address
                    .ok_or_else(|| SesError::bad_request("FromEmailAddress is required for Simple content."))?;
                let attachments = simple
                    .attachments
                    .into_iter()
                    .map(|a| {
                        Ok(Attachment {
                            content: decode_base64("Attachment RawContent", &a.raw_content)?,
                            inline: a.content_disposition.as_deref().is_some_and(|d| d.eq_ignore_ascii_case("INLINE")),
                            file_name: a.file_name,
                            content_type: a.content_type,
                            content_id: a.content_id,
                        })
                    })
                    .collect::<Result<_, SesError>>()?;
                let email = SimpleEmail {
                    from,
                    to: destination.to_addresses,
                    cc: destination.cc_addresses,
                    bcc: destination.bcc_addresses,
                    reply_to: self.reply_to_addresses,
                    subject: simple.subject.data,
                    text: simple.body.text.map(|t| t.data),
                    html: simple.body.html.map(|t| t.data),
                    headers: simple.headers.into_iter().map(|h| (h.name, h.value)).collect(),
                    attachments,
                };
                ses.send_simple_now(&email, options)
            }
            (None, Some(raw), None) => {
                if raw.data.len() > MAX_MESSAGE_BYTES {
                    return Err(SesError::TooLarge(raw.data.len()));
                }
                let raw = RawEmail {
                    from: self.from_email_address,
                    to: destination.to_addresses,
                    cc: destination.cc_addresses,
                    bcc: destination.bcc_addresses,
                    data: decode_base64("Content.Raw.Data", &raw.data)?,
                };
                ses.send_raw_now(raw, options)
            }
            (None, None, Some(t)) => Err(SesError::TemplatesUnsupported(
                t.template_name.or(t.template_arn).unwrap_or_else(|| "inline TemplateContent".into()),
            )),
            (None, None, None) => Err(SesError::bad_request("Content must have one of Simple, Raw or Template.")),
            _ => Err(SesError::bad_request("Content must have only one of Simple, Raw or Template.")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_outside_the_ses_v2_api_are_unknown_operations() {
        for (m, p) in [
            (Method::GET, "/"),
            (Method::GET, "/v2/email/outbound-emails"),
            (Method::POST, "/v2/email/templates"),
            (Method::PUT, "/v2/email/identities/x.com"),
            (Method::GET, "/v2/email/identities/x.com/extra"),
        ] {
            assert!(matches!(Command::parse(&m, p, None, b""), Err(SesError::UnknownOperation { .. })), "{m} {p}");
        }
    }

    #[test]
    fn identity_names_in_paths_are_percent_decoded_and_page_sizes_checked() {
        let c = Command::parse(&Method::GET, "/v2/email/identities/me%40example.com", None, b"").unwrap();
        assert!(matches!(c, Command::GetEmailIdentity(n) if n == "me@example.com"));
        let q = Some("PageSize=5&NextToken=abc");
        let c = Command::parse(&Method::GET, "/v2/email/identities", q, b"").unwrap();
        assert!(
            matches!(c, Command::ListEmailIdentities(ListInput { page_size: Some(5), next_token: Some(t), .. }) if t == "abc")
        );
        let bad = Command::parse(&Method::GET, "/v2/email/identities", Some("PageSize=x"), b"");
        assert!(matches!(bad, Err(SesError::BadRequest(_))));
    }
}

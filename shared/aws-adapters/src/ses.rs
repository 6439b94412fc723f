//! The mail port on SES (API v2): [`SesMail`] sends raw RFC 5322 messages (`EmailContent::raw`, for attachments)
//! and simple ones SES composes (`EmailContent::simple`). SES's refusals of a message (unverified sender, sending
//! paused or suspended, an unverified MAIL FROM domain) are [`ServiceError::MailRejected`]; its sending-rate and
//! quota limits are retryable.

use crate::call::{CallFailed, Meaning, MissingInResponse, classify};
use aws_config::SdkConfig;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::error::SdkError;
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::operation::send_email::builders::SendEmailFluentBuilder;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, RawMessage};
use domain::ServiceError;
use domain::mail::{MailAddress, RawMail, Recipients, SimpleMail};
use domain::message::MessageId;
use domain::ports::MailSend;
use std::error::Error as StdError;

/// Mail through SES v2, through one client.
#[derive(Debug, Clone)]
pub struct SesMail {
    client: Client,
}

impl SesMail {
    /// A client from `config` (region, credentials, endpoint).
    pub fn new(config: &SdkConfig) -> Self {
        Self { client: Client::new(config) }
    }

    /// Over a client built elsewhere.
    pub fn from_client(client: Client) -> Self {
        Self { client }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    fn send_email(&self, from: &MailAddress, to: &Recipients) -> SendEmailFluentBuilder {
        let destination = to.as_slice().iter().fold(Destination::builder(), |d, a| d.to_addresses(a.as_str())).build();
        self.client.send_email().from_email_address(from.as_str()).destination(destination)
    }
}

fn failed(from: &MailAddress, meaning: Meaning, source: impl StdError + Send + Sync + 'static) -> ServiceError {
    meaning.with(CallFailed {
        service: "SES",
        operation: "SendEmail",
        target: from.to_string(),
        source: Box::new(source),
    })
}

fn meaning(e: &SdkError<SendEmailError>) -> Meaning {
    match e.as_service_error() {
        Some(
            SendEmailError::MessageRejected(_)
            | SendEmailError::AccountSuspendedException(_)
            | SendEmailError::SendingPausedException(_)
            | SendEmailError::MailFromDomainNotVerifiedException(_),
        ) => Meaning::MailRejected,
        // The maximum sending rate or the daily quota: a later attempt goes through.
        Some(SendEmailError::LimitExceededException(_) | SendEmailError::TooManyRequestsException(_)) => {
            Meaning::Unavailable
        }
        Some(SendEmailError::BadRequestException(_)) => Meaning::InvalidInput,
        // A configuration set or a contact list named by the request.
        Some(SendEmailError::NotFoundException(_)) => Meaning::NotFound,
        _ => classify(e),
    }
}

fn message_id(from: &MailAddress, id: Option<&str>) -> Result<MessageId, ServiceError> {
    id.map(MessageId::new).ok_or_else(|| failed(from, Meaning::Unavailable, MissingInResponse("MessageId")))
}

fn utf8(data: &str) -> Result<Content, aws_sdk_sesv2::error::BuildError> {
    Content::builder().data(data).charset("UTF-8").build()
}

impl MailSend for SesMail {
    async fn send_raw(&self, mail: &RawMail) -> Result<MessageId, ServiceError> {
        let from = mail.from();
        let raw = RawMessage::builder()
            .data(Blob::new(mail.message()))
            .build()
            .map_err(|e| failed(from, Meaning::InvalidInput, e))?;
        let out = self
            .send_email(from, mail.to())
            .content(EmailContent::builder().raw(raw).build())
            .send()
            .await
            .map_err(|e| failed(from, meaning(&e), e))?;
        message_id(from, out.message_id())
    }

    async fn send_simple(&self, mail: &SimpleMail) -> Result<MessageId, ServiceError> {
        let from = &mail.from;
        let invalid = |e| failed(from, Meaning::InvalidInput, e);
        let mut body = Body::builder();
        if let Some(text) = mail.body.text() {
            body = body.text(utf8(text).map_err(invalid)?);
        }
        if let Some(html) = mail.body.html() {
            body = body.html(utf8(html).map_err(invalid)?);
        }
        let message =
            Message::builder().subject(utf8(mail.subject.as_str()).map_err(invalid)?).body(body.build()).build();
        let out = self
            .send_email(from, &mail.to)
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| failed(from, meaning(&e), e))?;
        message_id(from, out.message_id())
    }
}

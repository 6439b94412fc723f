//! What can go wrong, by meaning, and the one place ([`AwsError`] for [`SesError`]) where each meaning becomes the
//! error code and HTTP status SES answers with. Handlers return these; none formats an error body by hand.

use http::StatusCode;
use local_core::protocol::AwsError;
use local_template::TemplateError;
use std::{io, path::PathBuf};

/// The largest message SES v2 accepts: 40 MB including attachments, counted after base64 encoding (the SES
/// developer guide's quotas page; SES v1's `SendRawEmail` had 10 MB). We read "MB" as MiB.
pub const MAX_MESSAGE_BYTES: usize = 40 * 1024 * 1024;

/// The most recipients (To, Cc and Bcc together) one message may have, as on SES.
pub const MAX_RECIPIENTS: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum SesError {
    /// The request is not what the operation takes: malformed JSON, a missing or ill-formed member, an invalid
    /// address, a Raw message without a `From` header or without recipients.
    #[error("{0}")]
    BadRequest(String),

    /// The sender is not an identity this account verified (SES's sandbox answer, with SES's own words).
    #[error(
        "Email address is not verified. The following identities failed the check in region {region}: {}",
        identities.join(", ")
    )]
    NotVerified { region: String, identities: Vec<String> },

    /// The message (after base64 encoding) is over [`MAX_MESSAGE_BYTES`].
    #[error("Message length is more than {MAX_MESSAGE_BYTES} bytes long: '{0}'.")]
    TooLarge(usize),

    #[error("Recipient count exceeds {MAX_RECIPIENTS}.")]
    TooManyRecipients(usize),

    /// `Content.Template`: the local stack keeps no email templates.
    #[error(
        "Email templates are not supported by the local stack: send Content.Simple or Content.Raw instead \
         (template `{0}`)"
    )]
    TemplatesUnsupported(String),

    #[error("Email identity {0} does not exist.")]
    IdentityNotFound(String),

    #[error("Email identity {0} already exists.")]
    IdentityExists(String),

    /// An identity `template.yaml` declares cannot be deleted at runtime: the next start would bring it back.
    #[error("Email identity {identity} is declared in template.yaml (resource {resource}); remove it there instead.")]
    DeclaredInTemplate { identity: String, resource: String },

    /// An outbox id that is not an SES message id (`local outbox show ../../etc/passwd`).
    #[error("`{0}` is not an SES message id")]
    InvalidMessageId(String),

    #[error("No message {0} in the outbox.")]
    NoSuchMessage(String),

    #[error("No SES v2 operation at {method} {path}")]
    UnknownOperation { method: String, path: String },

    /// The template's SES resources cannot be used; start-up fails with it.
    #[error(transparent)]
    Template(#[from] TemplateError),

    /// The data directory cannot be read or written: the stack's fault, not the caller's.
    #[error("SES storage {}: {source}", path.display())]
    Storage {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl SesError {
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    pub(crate) fn storage(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Storage { path, source }
    }
}

impl AwsError for SesError {
    fn code(&self) -> &str {
        match self {
            Self::BadRequest(_)
            | Self::TooLarge(_)
            | Self::TooManyRecipients(_)
            | Self::TemplatesUnsupported(_)
            | Self::DeclaredInTemplate { .. }
            | Self::InvalidMessageId(_) => "BadRequestException",
            Self::NotVerified { .. } => "MessageRejected",
            Self::IdentityNotFound(_) | Self::NoSuchMessage(_) => "NotFoundException",
            Self::IdentityExists(_) => "AlreadyExistsException",
            Self::UnknownOperation { .. } => "UnknownOperationException",
            Self::Template(_) | Self::Storage { .. } => "InternalFailure",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::IdentityNotFound(_) | Self::NoSuchMessage(_) | Self::UnknownOperation { .. } => StatusCode::NOT_FOUND,
            Self::Template(_) | Self::Storage { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

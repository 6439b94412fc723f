//! What can go wrong, by meaning: each variant is one of S3's error codes (or a failure of the machine underneath),
//! and its code and HTTP status are decided here, once, for both the wire and the in-process API.

use http::StatusCode;
use local_core::protocol::AwsError;
use local_template::TemplateError;

/// Why an S3 operation (or opening the store) failed.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error("The specified bucket does not exist")]
    NoSuchBucket(String),
    #[error("The specified key does not exist.")]
    NoSuchKey(String),
    #[error(
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
    )]
    NoSuchUpload(String),
    #[error("The bucket you tried to delete is not empty")]
    BucketNotEmpty(String),
    #[error("Your previous request to create the named bucket succeeded and you already own it.")]
    BucketAlreadyOwnedByYou(String),
    #[error("The specified bucket is not valid: {0}")]
    InvalidBucketName(String),
    #[error("Your key is too long")]
    KeyTooLong,
    #[error("At least one of the pre-conditions you specified did not hold")]
    PreconditionFailed,
    #[error("Not Modified")]
    NotModified,
    #[error("The requested range is not satisfiable")]
    InvalidRange,
    #[error("The Content-MD5 you specified did not match what we received.")]
    BadDigest,
    #[error("The {0} you specified did not match the calculated checksum.")]
    ChecksumMismatch(&'static str),
    #[error("The Content-MD5 you specified was invalid.")]
    InvalidDigest,
    #[error("Your proposed upload is smaller than the minimum allowed object size.")]
    EntityTooSmall,
    #[error("Your proposed upload exceeds the maximum allowed object size.")]
    EntityTooLarge,
    #[error(
        "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag."
    )]
    InvalidPart,
    #[error("The list of parts was not in ascending order. Parts list must be specified in order of the part number.")]
    InvalidPartOrder,
    #[error("The XML you provided was not well-formed or did not validate against our published schema")]
    MalformedXml,
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("You did not provide the number of bytes specified by the Content-Length HTTP header.")]
    IncompleteBody,
    #[error("the request body could not be read: {0}")]
    Body(String),
    /// The template names a bucket or a notification the store cannot honour.
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("the object store's files: {0}")]
    Io(#[from] std::io::Error),
    #[error("the object index: {0}")]
    Index(#[from] rusqlite::Error),
    #[error("the object store needs a Tokio runtime to run its notification dispatcher")]
    NoRuntime,
}

impl AwsError for S3Error {
    fn code(&self) -> &str {
        match self {
            Self::NoSuchBucket(_) => "NoSuchBucket",
            Self::NoSuchKey(_) => "NoSuchKey",
            Self::NoSuchUpload(_) => "NoSuchUpload",
            Self::BucketNotEmpty(_) => "BucketNotEmpty",
            Self::BucketAlreadyOwnedByYou(_) => "BucketAlreadyOwnedByYou",
            Self::InvalidBucketName(_) => "InvalidBucketName",
            Self::KeyTooLong => "KeyTooLongError",
            Self::PreconditionFailed => "PreconditionFailed",
            Self::NotModified => "NotModified",
            Self::InvalidRange => "InvalidRange",
            Self::BadDigest | Self::ChecksumMismatch(_) => "BadDigest",
            Self::InvalidDigest => "InvalidDigest",
            Self::EntityTooSmall => "EntityTooSmall",
            Self::EntityTooLarge => "EntityTooLarge",
            Self::InvalidPart => "InvalidPart",
            Self::InvalidPartOrder => "InvalidPartOrder",
            Self::MalformedXml => "MalformedXML",
            Self::InvalidArgument(_) => "InvalidArgument",
            Self::InvalidRequest(_) => "InvalidRequest",
            Self::IncompleteBody | Self::Body(_) => "IncompleteBody",
            Self::Template(_) | Self::Io(_) | Self::Index(_) | Self::NoRuntime => "InternalError",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::NoSuchBucket(_) | Self::NoSuchKey(_) | Self::NoSuchUpload(_) => StatusCode::NOT_FOUND,
            Self::BucketNotEmpty(_) | Self::BucketAlreadyOwnedByYou(_) => StatusCode::CONFLICT,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::NotModified => StatusCode::NOT_MODIFIED,
            Self::InvalidRange => StatusCode::RANGE_NOT_SATISFIABLE,
            Self::Template(_) | Self::Io(_) | Self::Index(_) | Self::NoRuntime => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl S3Error {
    /// The bucket or key the error concerns, for the `<Resource>` of the XML error and for logs.
    pub fn resource(&self) -> Option<&str> {
        match self {
            Self::NoSuchBucket(r)
            | Self::NoSuchKey(r)
            | Self::NoSuchUpload(r)
            | Self::BucketNotEmpty(r)
            | Self::BucketAlreadyOwnedByYou(r)
            | Self::InvalidBucketName(r) => Some(r),
            _ => None,
        }
    }
}

/// The one place a store error becomes the protocol layer's error (code, message, status).
impl From<S3Error> for s3s::S3Error {
    fn from(e: S3Error) -> Self {
        if e.status().is_server_error() {
            tracing::error!(error = %e, "s3 request failed");
        }
        let code = s3s::S3ErrorCode::from_bytes(e.code().as_bytes()).unwrap_or(s3s::S3ErrorCode::InternalError);
        // The cause of an internal failure is logged above, never sent: it names files of the data directory.
        let message = if e.status().is_server_error() {
            "We encountered an internal error. Please try again.".into()
        } else {
            e.to_string()
        };
        let mut out = s3s::S3Error::with_message(code, message);
        out.set_status_code(e.status());
        out
    }
}

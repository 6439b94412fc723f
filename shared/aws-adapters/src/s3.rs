//! The object ports on S3: [`S3Objects`] gets, heads, puts and deletes objects and presigns uploads and downloads.
//! Presigning is SigV4 in the query string, computed locally from the client's credentials; the content type and
//! length of an upload are signed headers, so S3 refuses an upload of another type or size.
//!
//! For `get_object` and `head_object` to tell a missing object (`Ok(None)`) from a denial, the function's role
//! needs `s3:ListBucket` on the bucket as well as `s3:GetObject`; without it S3 answers `AccessDenied` for a
//! missing key.

use crate::call::{CallFailed, Meaning, MissingInResponse, classify};
use aws_config::SdkConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::operation::head_object::HeadObjectError;
use aws_sdk_s3::presigning::{PresignedRequest as SdkPresigned, PresigningConfig};
use aws_sdk_s3::primitives::ByteStream;
use domain::object::{
    BucketName, ContentType, ETag, Expiry, NewObject, Object, ObjectInfo, ObjectKey, PresignedMethod, PresignedRequest,
};
use domain::ports::{ObjectDelete, ObjectGet, ObjectHead, ObjectPresign, ObjectPut};
use domain::{ServiceError, Timestamp};
use std::error::Error as StdError;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How requests name the bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum S3Addressing {
    /// `https://bucket.s3.region.amazonaws.com/key`: what S3 expects, and the only form for new buckets.
    VirtualHosted,
    /// `http://endpoint/bucket/key`: for a local endpoint (moto, the local stack), where a bucket cannot be a host
    /// name of `127.0.0.1`.
    PathStyle,
}

/// Objects in S3 buckets, through one client.
#[derive(Debug, Clone)]
pub struct S3Objects {
    client: Client,
}

impl S3Objects {
    /// A client from `config` (region, credentials, endpoint) addressing buckets as `addressing` says.
    pub fn new(config: &SdkConfig, addressing: S3Addressing) -> Self {
        let config =
            aws_sdk_s3::config::Builder::from(config).force_path_style(addressing == S3Addressing::PathStyle).build();
        Self { client: Client::from_conf(config) }
    }

    /// Over a client built elsewhere.
    pub fn from_client(client: Client) -> Self {
        Self { client }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}

fn failed(
    operation: &'static str,
    bucket: &BucketName,
    key: &ObjectKey,
    meaning: Meaning,
    source: impl StdError + Send + Sync + 'static,
) -> ServiceError {
    meaning.with(CallFailed { service: "S3", operation, target: format!("{bucket}/{key}"), source: Box::new(source) })
}

impl ObjectGet for S3Objects {
    async fn get_object(&self, bucket: &BucketName, key: &ObjectKey) -> Result<Option<Object>, ServiceError> {
        let result = self.client.get_object().bucket(bucket.as_str()).key(key.as_str()).send().await;
        let out = match result {
            Ok(out) => out,
            Err(e) => {
                return match e.as_service_error() {
                    Some(GetObjectError::NoSuchKey(_)) => Ok(None),
                    // Archived (Glacier): S3 says 403, but no credentials will help until the object is restored.
                    Some(GetObjectError::InvalidObjectState(_)) => {
                        Err(failed("GetObject", bucket, key, Meaning::InvalidInput, e))
                    }
                    _ => Err(failed("GetObject", bucket, key, classify(&e), e)),
                };
            }
        };
        let content_type = out.content_type().and_then(|c| ContentType::parse(c).ok());
        let metadata =
            out.metadata().map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
        let etag = out.e_tag().map(ETag::new);
        // The body streams after the headers; a connection lost here is as retryable as one lost before.
        let bytes = out.body.collect().await.map_err(|e| failed("GetObject", bucket, key, Meaning::Unavailable, e))?;
        let etag =
            etag.ok_or_else(|| failed("GetObject", bucket, key, Meaning::Unavailable, MissingInResponse("ETag")))?;
        Ok(Some(Object { bytes: bytes.to_vec(), content_type, metadata, etag }))
    }
}

impl ObjectHead for S3Objects {
    async fn head_object(&self, bucket: &BucketName, key: &ObjectKey) -> Result<Option<ObjectInfo>, ServiceError> {
        let result = self.client.head_object().bucket(bucket.as_str()).key(key.as_str()).send().await;
        let out = match result {
            Ok(out) => out,
            // A HEAD answer has no body, so S3 cannot say which is missing: a 404 is the key's (or the bucket's).
            Err(e) if matches!(e.as_service_error(), Some(HeadObjectError::NotFound(_))) => return Ok(None),
            Err(e) => return Err(failed("HeadObject", bucket, key, classify(&e), e)),
        };
        let size = out.content_length().and_then(|n| u64::try_from(n).ok()).ok_or_else(|| {
            failed("HeadObject", bucket, key, Meaning::Unavailable, MissingInResponse("Content-Length"))
        })?;
        let etag = out
            .e_tag()
            .map(ETag::new)
            .ok_or_else(|| failed("HeadObject", bucket, key, Meaning::Unavailable, MissingInResponse("ETag")))?;
        Ok(Some(ObjectInfo {
            size,
            content_type: out.content_type().and_then(|c| ContentType::parse(c).ok()),
            metadata: out
                .metadata()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            etag,
        }))
    }
}

impl ObjectPut for S3Objects {
    async fn put_object(&self, bucket: &BucketName, key: &ObjectKey, object: NewObject) -> Result<ETag, ServiceError> {
        let out = self
            .client
            .put_object()
            .bucket(bucket.as_str())
            .key(key.as_str())
            .content_type(object.content_type.as_str())
            .set_metadata(Some(object.metadata.as_map().iter().map(|(k, v)| (k.clone(), v.clone())).collect()))
            .body(ByteStream::from(object.bytes))
            .send()
            .await
            .map_err(|e| failed("PutObject", bucket, key, classify(&e), e))?;
        out.e_tag()
            .map(ETag::new)
            .ok_or_else(|| failed("PutObject", bucket, key, Meaning::Unavailable, MissingInResponse("ETag")))
    }
}

impl ObjectDelete for S3Objects {
    async fn delete_object(&self, bucket: &BucketName, key: &ObjectKey) -> Result<(), ServiceError> {
        self.client
            .delete_object()
            .bucket(bucket.as_str())
            .key(key.as_str())
            .send()
            .await
            .map_err(|e| failed("DeleteObject", bucket, key, classify(&e), e))?;
        Ok(())
    }
}

/// Why a presigned request could not be made from the values given (before any signing).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PresignRefused(String);

impl ObjectPresign for S3Objects {
    async fn presign_put(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        content_type: &ContentType,
        content_length: u64,
        expiry: Expiry,
    ) -> Result<PresignedRequest, ServiceError> {
        let length = i64::try_from(content_length).map_err(|_| {
            failed(
                "PutObject (presign)",
                bucket,
                key,
                Meaning::InvalidInput,
                PresignRefused(format!("{content_length} bytes is too long")),
            )
        })?;
        let (config, expires_at) =
            presigning(expiry).map_err(|e| failed("PutObject (presign)", bucket, key, Meaning::InvalidInput, e))?;
        let signed = self
            .client
            .put_object()
            .bucket(bucket.as_str())
            .key(key.as_str())
            .content_type(content_type.as_str())
            .content_length(length)
            .presigned(config)
            .await
            .map_err(|e| failed("PutObject (presign)", bucket, key, classify(&e), e))?;
        Ok(presigned(&signed, PresignedMethod::Put, expires_at))
    }

    async fn presign_get(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        expiry: Expiry,
    ) -> Result<PresignedRequest, ServiceError> {
        let (config, expires_at) =
            presigning(expiry).map_err(|e| failed("GetObject (presign)", bucket, key, Meaning::InvalidInput, e))?;
        let signed = self
            .client
            .get_object()
            .bucket(bucket.as_str())
            .key(key.as_str())
            .presigned(config)
            .await
            .map_err(|e| failed("GetObject (presign)", bucket, key, classify(&e), e))?;
        Ok(presigned(&signed, PresignedMethod::Get, expires_at))
    }
}

/// A presigning configuration starting now, in whole seconds (what `X-Amz-Date` carries), and the instant it
/// ends, so `expires_at` is exactly `X-Amz-Date + X-Amz-Expires`.
fn presigning(expiry: Expiry) -> Result<(PresigningConfig, Timestamp), aws_sdk_s3::presigning::PresigningConfigError> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let start = UNIX_EPOCH + Duration::from_secs(now);
    let config = PresigningConfig::builder().start_time(start).expires_in(expiry.duration()).build()?;
    Ok((config, Timestamp::from(start + expiry.duration())))
}

fn presigned(signed: &SdkPresigned, method: PresignedMethod, expires_at: Timestamp) -> PresignedRequest {
    PresignedRequest {
        url: signed.uri().to_owned(),
        method,
        headers: signed.headers().map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned())).collect(),
        expires_at,
    }
}

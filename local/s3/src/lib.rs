//! S3 in the local stack: the template's buckets (`AWS::S3::Bucket`) and any a user creates, objects kept in the
//! data directory, S3's own wire protocol (so `aws s3 cp` and the SDKs work unchanged, with SigV4 checked), and the
//! bucket notifications SAM functions subscribe to.
//!
//! # Layout
//!
//! - [`wire`]: the S3 protocol, mapping each operation's typed input onto the store and its output back;
//! - `store`: S3's semantics (conditions, multipart rules, listings) over the two halves of the storage:
//!   - `index`: SQLite (WAL) at `<data>/s3/index.sqlite3`, mapping (bucket, key) to a blob, with the metadata;
//!   - `blobs`: the bytes, one file per object version at `<data>/s3/objects/<ulid>`;
//! - [`notify`]: the template's S3 triggers, the event records, and the outbox dispatcher;
//! - [`error`]: errors by meaning, each with its S3 code and status.
//!
//! # What comes from `s3s`, and what is ours
//!
//! The protocol layer is the `s3s` crate (0.14, the newest that builds with Rust 1.95): its router, its XML
//! (de)serialisers for every operation, its SigV4 verification (Authorization header, presigned query strings,
//! `aws-chunked` bodies signed per chunk or `STREAMING-UNSIGNED-PAYLOAD-TRAILER` with trailing checksums, as the
//! Rust SDK sends), its error codes and its checksum hashers (CRC32, CRC32C, CRC64NVME, SHA-1, SHA-256). That is
//! the part of S3 that is large, exacting and already right there; it streams bodies (a request body reaches us as a
//! stream, a response body leaves as one), and its service is called from our [`Service::serve`] by converting the
//! axum request body and response body, nothing more. It costs one more dependency tree to compile (about a minute
//! here, mostly shared with hyper and the AWS SDK). `s3s-fs`, its file backend, is not used: it stores a key as a
//! path under the bucket's directory (so keys like `a//b` or a 1,024-byte key are not kept exactly and a key is a
//! filesystem name), and an object's bytes and attributes are separate files, not switched in one atomic step.
//!
//! Written here by hand: the storage (an index plus immutable blobs, so a write is atomic and keys are data), the
//! verification of Content-MD5 and of `x-amz-checksum-*` against what we computed, conditional requests, listing,
//! multipart assembly and ETags, bucket notifications, and two checks `s3s` does not make: the bounds of a
//! presigned URL's `X-Amz-Expires` (1 to 604,800 seconds) and `InvalidAccessKeyId` for an unknown key.

mod blobs;
pub mod error;
mod index;
pub mod notify;
mod store;
pub mod wire;

pub use error::S3Error;
pub use index::{Attributes, Checksums, ObjectInfo};
pub use notify::NotificationConfig;

use axum::{body::Body, extract::Request, response::Response};
use bytes::Bytes;
use local_core::{
    BoxFuture, Credentials, Identity,
    endpoint::{CallContext, Service},
    invoke::EventInvoker,
    protocol::{AwsError, xml},
};
use local_template::{Template, TemplateError};
use std::{collections::BTreeMap, path::Path, sync::Arc};
use time::OffsetDateTime;

/// The longest a presigned URL may be valid, as S3 allows: one week.
pub const MAX_PRESIGN_SECONDS: i64 = 604_800;

/// The stack's S3: open once over the data directory, then served on the stack's endpoint and called in-process.
pub struct S3 {
    store: Arc<store::Store>,
    service: s3s::service::S3Service,
    dispatcher: tokio::task::JoinHandle<()>,
}

impl Drop for S3 {
    fn drop(&mut self) {
        // Queued events stay in the outbox and are sent by the next S3 opened over this data directory.
        self.dispatcher.abort();
    }
}

/// A bucket, as ListBuckets gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketInfo {
    pub name: String,
    pub created: OffsetDateTime,
}

/// An object with its bytes, for the in-process API.
#[derive(Debug, Clone)]
pub struct Object {
    pub info: ObjectInfo,
    pub body: Bytes,
}

struct Auth(Credentials);

#[async_trait::async_trait]
impl s3s::auth::S3Auth for Auth {
    async fn get_secret_key(&self, access_key: &str) -> s3s::S3Result<s3s::auth::SecretKey> {
        if access_key == self.0.access_key_id {
            Ok(self.0.secret_access_key.clone().into())
        } else {
            Err(s3s::s3_error!(InvalidAccessKeyId, "The AWS Access Key Id you provided does not exist in our records."))
        }
    }
}

impl S3 {
    /// Opens the store under `<data_dir>/s3`, sweeps blobs a crash left, creates the template's buckets that are
    /// missing, reads the template's S3 triggers, and starts sending queued notifications to `notify`. Must be called
    /// within a Tokio runtime.
    pub fn open(
        data_dir: &Path,
        template: &Template,
        identity: Identity,
        credentials: Credentials,
        notify: Arc<dyn EventInvoker>,
    ) -> Result<Arc<Self>, S3Error> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| S3Error::NoRuntime)?;
        let dir = data_dir.join("s3");
        local_core::files::create_private_dir(&dir)?;
        let index = Arc::new(index::Index::open(&dir.join("index.sqlite3"))?);
        let blobs = blobs::Blobs::create(dir.join("objects"))?;
        let swept = blobs.sweep(&index.referenced_blobs()?)?;
        if swept > 0 {
            tracing::info!(swept, "s3: removed blobs of interrupted writes");
        }
        for bucket in template.of_type(&["AWS::S3::Bucket"]) {
            let name = template.physical_name(bucket.id)?;
            store::check_bucket_name(&name).map_err(|_| {
                TemplateError::invalid(
                    format!("{}.BucketName", bucket.id),
                    format!("`{name}` is not a valid bucket name"),
                )
            })?;
            index.create_bucket(&name, OffsetDateTime::now_utc())?;
        }
        let notifications = notify::read_template(template)?;
        let wake = Arc::new(tokio::sync::Notify::new());
        let dispatcher = runtime.spawn(notify::dispatch(index.clone(), notify, wake.clone()));
        let store = Arc::new(store::Store::new(index, blobs, identity, notifications, wake));
        let mut builder = s3s::service::S3ServiceBuilder::new(wire::Wire(store.clone()));
        builder.set_auth(Auth(credentials));
        Ok(Arc::new(Self { store, service: builder.build(), dispatcher }))
    }

    /// The template's S3 triggers: which function each bucket's events go to, with their filters.
    pub fn notifications(&self) -> &[NotificationConfig] {
        &self.store.notifications
    }

    fn requester() -> notify::Requester {
        notify::Requester {
            principal: "AWS:local".into(),
            source_ip: "127.0.0.1".into(),
            request_id: ulid::Ulid::generate().to_string(),
        }
    }

    /// Whether notifications are queued in the outbox, not yet handed to Lambda.
    pub async fn has_pending_notifications(&self) -> Result<bool, S3Error> {
        let index = self.store.index.clone();
        tokio::task::spawn_blocking(move || index.pending(1))
            .await
            .map_err(|e| S3Error::Io(std::io::Error::other(e)))?
            .map(|p| !p.is_empty())
    }

    pub async fn create_bucket(&self, bucket: &str) -> Result<bool, S3Error> {
        self.store.create_bucket(bucket).await
    }

    pub async fn list_buckets(&self) -> Result<Vec<BucketInfo>, S3Error> {
        Ok(self.store.buckets().await?.into_iter().map(|(name, created)| BucketInfo { name, created }).collect())
    }

    /// Stores an object, with the same checks and the same `ObjectCreated:Put` notifications as an HTTP PUT.
    pub async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        content_type: Option<&str>,
        metadata: BTreeMap<String, String>,
    ) -> Result<ObjectInfo, S3Error> {
        store::check_key(key)?;
        self.store.require_bucket(bucket).await?;
        let stream = futures::stream::iter([Ok::<_, std::convert::Infallible>(body)]);
        let staged = self.store.blobs.stage(stream, blobs::Algorithms::default(), store::MAX_PUT).await?;
        let attributes = Attributes {
            content_type: content_type.map(str::to_owned),
            metadata: metadata.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect(),
            ..Attributes::default()
        };
        self.store
            .commit(
                bucket,
                key,
                staged,
                attributes,
                Checksums::default(),
                None,
                index::WriteConditions::default(),
                "ObjectCreated:Put",
                &Self::requester(),
            )
            .await
    }

    pub async fn head_object(&self, bucket: &str, key: &str) -> Result<ObjectInfo, S3Error> {
        self.store.head(bucket, key).await
    }

    pub async fn get_object(&self, bucket: &str, key: &str) -> Result<Object, S3Error> {
        loop {
            let info = self.store.head(bucket, key).await?;
            match self.store.blobs.read_all(&info.blob).await {
                Ok(body) => return Ok(Object { info, body: body.into() }),
                // Replaced between the two reads; read the index again.
                Err(S3Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Deletes an object (`ObjectRemoved:Delete` notifications as over HTTP); `false` when there was none.
    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<bool, S3Error> {
        Ok(self.store.delete(bucket, key, &Self::requester()).await?.is_some())
    }

    /// Every object of `bucket` under `prefix`, in key order.
    pub async fn list_objects(&self, bucket: &str, prefix: &str) -> Result<Vec<ObjectInfo>, S3Error> {
        let mut out = Vec::new();
        let mut after = String::new();
        loop {
            let page = self.store.list(bucket, prefix, None, &after, 1000).await?;
            out.extend(page.objects);
            match (page.truncated, page.last) {
                (true, Some(last)) => after = last,
                _ => return Ok(out),
            }
        }
    }
}

/// A presigned URL whose `X-Amz-Expires` S3 refuses before looking at the signature.
#[derive(Debug, thiserror::Error)]
enum PresignError {
    #[error("X-Amz-Expires must be less than a week (in seconds) that is 604800 seconds")]
    TooLong,
    #[error("X-Amz-Expires must be non-negative")]
    Negative,
    #[error("X-Amz-Expires should be a number")]
    NotANumber,
}

impl AwsError for PresignError {
    fn code(&self) -> &str {
        "AuthorizationQueryParametersError"
    }
}

fn check_presign_expiry(query: Option<&str>) -> Result<(), PresignError> {
    let Some(query) = query else { return Ok(()) };
    let Some(expires) = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "X-Amz-Expires").map(|(_, v)| v)
    else {
        return Ok(());
    };
    let seconds: i64 = expires.trim().parse().map_err(|_| PresignError::NotANumber)?;
    match seconds {
        s if s <= 0 => Err(PresignError::Negative),
        s if s > MAX_PRESIGN_SECONDS => Err(PresignError::TooLong),
        _ => Ok(()),
    }
}

impl Service for S3 {
    fn name(&self) -> &'static str {
        "s3"
    }

    fn signing_names(&self) -> &'static [&'static str] {
        &["s3"]
    }

    /// S3 checks its own: presigned URLs and aws-chunked payload signatures are part of its protocol layer, and
    /// its bodies stream (the front door must not read them to hash them).
    fn signatures(&self) -> local_core::endpoint::Signatures {
        local_core::endpoint::Signatures::ByService
    }

    fn serve(&self, request: Request<Body>, ctx: CallContext) -> BoxFuture<'_, Response> {
        Box::pin(async move {
            if let Err(e) = check_presign_expiry(request.uri().query()) {
                return xml::error(&e, None, &ctx.request_id);
            }
            let (mut parts, body) = request.into_parts();
            parts.extensions.insert(ctx.clone());
            let request = http::Request::from_parts(parts, s3s::Body::http_body_unsync(body));
            let mut response = match self.service.call(request).await {
                Ok(r) => r.map(Body::new),
                Err(e) => {
                    tracing::error!(requestId = %ctx.request_id, error = ?e, "s3: the protocol layer failed");
                    xml::error(&S3Error::Io(std::io::Error::other("protocol layer")), None, &ctx.request_id)
                }
            };
            let headers = response.headers_mut();
            if let Ok(v) = http::HeaderValue::from_str(&ctx.request_id) {
                headers.insert("x-amz-request-id", v);
            }
            if let Ok(v) = http::HeaderValue::from_str(&notify::id_2(&ctx.request_id)) {
                headers.insert("x-amz-id-2", v);
            }
            response
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_presigned_expiry_must_be_between_one_second_and_one_week() {
        assert!(check_presign_expiry(Some("X-Amz-Expires=3600&X-Amz-Signature=x")).is_ok());
        assert!(check_presign_expiry(Some("X-Amz-Expires=604800")).is_ok());
        assert!(matches!(check_presign_expiry(Some("X-Amz-Expires=604801")), Err(PresignError::TooLong)));
        assert!(matches!(check_presign_expiry(Some("X-Amz-Expires=0")), Err(PresignError::Negative)));
        assert!(matches!(check_presign_expiry(Some("X-Amz-Expires=-5")), Err(PresignError::Negative)));
        assert!(matches!(check_presign_expiry(Some("X-Amz-Expires=soon")), Err(PresignError::NotANumber)));
        assert!(check_presign_expiry(Some("list-type=2")).is_ok());
    }
}

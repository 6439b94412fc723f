//! S3's wire protocol, by way of `s3s`: its router has parsed the request, checked SigV4 (header, presigned or
//! aws-chunked with trailers) and decoded the XML before any method here runs; each method maps the typed input onto
//! the [`Store`], and the typed output back. The checks S3 makes of a body (Content-MD5, `x-amz-checksum-*` in a
//! header or a trailer) are made here against what staging computed, before anything is committed.

use crate::{
    blobs::{Algorithms, Staged},
    error::S3Error,
    index::{Attributes, Checksums, ObjectInfo, WriteConditions, etag_matches},
    notify::Requester,
    store::{self, Listing, MAX_PUT, Store},
};
use base64::Engine;
use local_core::endpoint::CallContext;
use s3s::{
    S3Request, S3Response, S3Result,
    dto::{self, ETag, ETagCondition, Timestamp, TimestampFormat},
};
use std::{collections::BTreeMap, sync::Arc};
use time::OffsetDateTime;

pub(crate) struct Wire(pub Arc<Store>);

type Out<T> = S3Result<S3Response<T>>;

fn ok<T>(output: T) -> Out<T> {
    Ok(S3Response::new(output))
}

fn requester<T>(req: &S3Request<T>) -> Requester {
    let ctx = req.extensions.get::<CallContext>();
    Requester {
        principal: format!("AWS:{}", req.credentials.as_ref().map(|c| c.access_key.as_str()).unwrap_or("anonymous")),
        source_ip: ctx.map(|c| c.peer.ip().to_string()).unwrap_or_else(|| "127.0.0.1".into()),
        request_id: ctx.map(|c| c.request_id.clone()).unwrap_or_default(),
    }
}

fn http_date(t: &Timestamp) -> Option<String> {
    let mut buf = Vec::new();
    t.format(TimestampFormat::HttpDate, &mut buf).ok()?;
    String::from_utf8(buf).ok()
}

fn parse_http_date(s: &str) -> Option<Timestamp> {
    Timestamp::parse(TimestampFormat::HttpDate, s).ok()
}

fn condition_text(c: &ETagCondition) -> String {
    match c {
        ETagCondition::Any => "*".into(),
        ETagCondition::ETag(e) => e.value().to_owned(),
    }
}

/// Whole seconds, as HTTP dates compare.
fn seconds(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

/// The conditions of a read: `If-*` of a GET or HEAD, or `x-amz-copy-source-if-*` of a copy's source.
struct ReadConditions<'a> {
    if_match: Option<&'a ETagCondition>,
    if_none_match: Option<&'a ETagCondition>,
    if_modified_since: Option<&'a Timestamp>,
    if_unmodified_since: Option<&'a Timestamp>,
}

/// The [`ReadConditions`] of an input: GetObject and HeadObject name the four fields `if_*`, CopyObject and
/// UploadPartCopy `copy_source_if_*`.
macro_rules! read_conditions {
    ($input:ident) => {
        read_conditions!($input: if_match, if_none_match, if_modified_since, if_unmodified_since)
    };
    (copy source of $input:ident) => {
        read_conditions!($input: copy_source_if_match, copy_source_if_none_match, copy_source_if_modified_since,
            copy_source_if_unmodified_since)
    };
    ($input:ident: $if_match:ident, $if_none_match:ident, $if_modified_since:ident, $if_unmodified_since:ident) => {
        ReadConditions {
            if_match: $input.$if_match.as_ref(),
            if_none_match: $input.$if_none_match.as_ref(),
            if_modified_since: $input.$if_modified_since.as_ref(),
            if_unmodified_since: $input.$if_unmodified_since.as_ref(),
        }
    };
}

impl ReadConditions<'_> {
    /// The conditions of GET and HEAD, in RFC 9110's order, as S3 applies them.
    fn check(&self, info: &ObjectInfo) -> Result<(), S3Error> {
        let Self { if_match, if_none_match, if_modified_since, if_unmodified_since } = *self;
        let modified = seconds(info.last_modified);
        match if_match {
            Some(c) if !etag_matches(&condition_text(c), &info.etag) => return Err(S3Error::PreconditionFailed),
            Some(_) => {}
            None => {
                if let Some(t) = if_unmodified_since
                    && modified > seconds(OffsetDateTime::from(t.clone()))
                {
                    return Err(S3Error::PreconditionFailed);
                }
            }
        }
        match if_none_match {
            Some(c) if etag_matches(&condition_text(c), &info.etag) => return Err(S3Error::NotModified),
            Some(_) => {}
            None => {
                if let Some(t) = if_modified_since
                    && modified <= seconds(OffsetDateTime::from(t.clone()))
                {
                    return Err(S3Error::NotModified);
                }
            }
        }
        Ok(())
    }

    /// The conditions of a copy's source: every failure is a 412 on copy.
    fn check_copy_source(&self, info: &ObjectInfo) -> Result<(), S3Error> {
        self.check(info).map_err(|e| match e {
            S3Error::NotModified => S3Error::PreconditionFailed,
            e => e,
        })
    }
}

fn write_conditions(if_match: Option<&ETagCondition>, if_none_match: Option<&ETagCondition>) -> WriteConditions {
    WriteConditions {
        if_match: if_match.map(condition_text),
        if_none_match_any: if_none_match.is_some_and(ETagCondition::is_any),
    }
}

/// A declared length over [`MAX_PUT`] is refused before anything else is looked at, as S3 does.
fn check_declared_length(content_length: Option<i64>) -> Result<(), S3Error> {
    if content_length.is_some_and(|n| n as u64 > MAX_PUT) {
        return Err(S3Error::EntityTooLarge);
    }
    Ok(())
}

/// What a PutObject or an UploadPart says of its body, to check the staged bytes against.
struct SentBody<'a> {
    body: Option<dto::StreamingBlob>,
    content_length: Option<i64>,
    content_md5: Option<&'a str>,
    algorithm: Option<&'a dto::ChecksumAlgorithm>,
    /// The checksums given in headers; a trailer may add others.
    checksums: Checksums,
}

/// The [`SentBody`] of a PutObject or UploadPart input: s3s gives the two the same fields in two types.
macro_rules! sent_body {
    ($input:ident) => {
        SentBody {
            body: $input.body,
            content_length: $input.content_length,
            content_md5: $input.content_md5.as_deref(),
            algorithm: $input.checksum_algorithm.as_ref(),
            checksums: Checksums {
                crc32: $input.checksum_crc32,
                crc32c: $input.checksum_crc32c,
                crc64nvme: $input.checksum_crc64nvme,
                sha1: $input.checksum_sha1,
                sha256: $input.checksum_sha256,
            },
        }
    };
}

/// The attributes a PutObject, a CreateMultipartUpload or a replacing CopyObject sets, from the same fields of
/// their three input types.
macro_rules! attributes {
    ($input:ident) => {
        Attributes {
            content_type: $input.content_type,
            content_disposition: $input.content_disposition,
            content_encoding: $input.content_encoding,
            content_language: $input.content_language,
            cache_control: $input.cache_control,
            expires: $input.expires.as_ref().and_then(http_date),
            metadata: kept_metadata($input.metadata),
        }
    };
}

/// An output with its `x-amz-checksum-*` fields taken from [`Checksums`]; the other fields as given.
macro_rules! with_checksums {
    ($output:path { $($field:ident: $value:expr),* $(,)? }, $checksums:expr) => {{
        let Checksums { crc32, crc32c, crc64nvme, sha1, sha256 } = $checksums;
        $output {
            $($field: $value,)*
            checksum_crc32: crc32,
            checksum_crc32c: crc32c,
            checksum_crc64nvme: crc64nvme,
            checksum_sha1: sha1,
            checksum_sha256: sha256,
            ..Default::default()
        }
    }};
}

/// A GetObject or HeadObject output: the headers both answer for `info`, and the fields given.
macro_rules! object_output {
    ($output:path { $($field:ident: $value:expr),* $(,)? }, $info:expr) => {{
        let info: &ObjectInfo = $info;
        let a = &info.attributes;
        $output {
            $($field: $value,)*
            accept_ranges: Some("bytes".into()),
            e_tag: Some(etag(&info.etag)),
            last_modified: Some(info.last_modified.into()),
            content_type: a.content_type.clone(),
            content_disposition: a.content_disposition.clone(),
            content_encoding: a.content_encoding.clone(),
            content_language: a.content_language.clone(),
            cache_control: a.cache_control.clone(),
            expires: a.expires.as_deref().and_then(parse_http_date),
            metadata: user_metadata(a),
            parts_count: info.parts.map(|p| p as i32),
            ..Default::default()
        }
    }};
}

/// Which algorithms staging computes: those of the checksums given, and those the request names for a trailer.
fn algorithms_for(
    headers: &http::HeaderMap,
    algorithm: Option<&dto::ChecksumAlgorithm>,
    given: &Checksums,
) -> Algorithms {
    let named = |name: &str| {
        algorithm.is_some_and(|a| a.as_str().eq_ignore_ascii_case(name))
            || headers
                .get("x-amz-trailer")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.split(',').any(|t| t.trim().eq_ignore_ascii_case(&format!("x-amz-checksum-{name}"))))
    };
    Algorithms {
        crc32: given.crc32.is_some() || named("crc32"),
        crc32c: given.crc32c.is_some() || named("crc32c"),
        crc64nvme: given.crc64nvme.is_some() || named("crc64nvme"),
        sha1: given.sha1.is_some() || named("sha1"),
        sha256: given.sha256.is_some() || named("sha256"),
    }
}

/// Verifies a staged body against Content-MD5 and the declared checksums (with any a trailer carried).
fn verify(
    staged: &Staged,
    content_md5: Option<&str>,
    mut expected: Checksums,
    trailers: Option<&s3s::TrailingHeaders>,
) -> Result<(), S3Error> {
    if let Some(md5) = content_md5 {
        let digest =
            base64::engine::general_purpose::STANDARD.decode(md5.trim()).map_err(|_| S3Error::InvalidDigest)?;
        if digest.len() != 16 {
            return Err(S3Error::InvalidDigest);
        }
        if digest != staged.md5 {
            return Err(S3Error::BadDigest);
        }
    }
    if let Some(trailers) = trailers.and_then(s3s::TrailingHeaders::take) {
        let get = |name: &str| trailers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        expected.crc32 = expected.crc32.or_else(|| get("x-amz-checksum-crc32"));
        expected.crc32c = expected.crc32c.or_else(|| get("x-amz-checksum-crc32c"));
        expected.crc64nvme = expected.crc64nvme.or_else(|| get("x-amz-checksum-crc64nvme"));
        expected.sha1 = expected.sha1.or_else(|| get("x-amz-checksum-sha1"));
        expected.sha256 = expected.sha256.or_else(|| get("x-amz-checksum-sha256"));
    }
    let pairs = [
        ("x-amz-checksum-crc32", &expected.crc32, &staged.checksums.crc32),
        ("x-amz-checksum-crc32c", &expected.crc32c, &staged.checksums.crc32c),
        ("x-amz-checksum-crc64nvme", &expected.crc64nvme, &staged.checksums.crc64nvme),
        ("x-amz-checksum-sha1", &expected.sha1, &staged.checksums.sha1),
        ("x-amz-checksum-sha256", &expected.sha256, &staged.checksums.sha256),
    ];
    for (name, want, got) in pairs {
        if let Some(want) = want
            && Some(want) != got.as_ref()
        {
            return Err(S3Error::ChecksumMismatch(name));
        }
    }
    Ok(())
}

/// User metadata as kept: names in lower case.
fn kept_metadata(metadata: Option<dto::Metadata>) -> BTreeMap<String, String> {
    metadata.unwrap_or_default().into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect()
}

fn user_metadata(a: &Attributes) -> Option<dto::Metadata> {
    (!a.metadata.is_empty()).then(|| a.metadata.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

fn etag(e: &str) -> ETag {
    ETag::Strong(e.to_owned())
}

/// A key in a listing answered with `encoding-type=url`: everything but unreserved characters and `/` escaped.
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn page_size(max: Option<i32>, what: &str) -> Result<usize, S3Error> {
    match max {
        None => Ok(1000),
        Some(n) if n < 0 => Err(S3Error::InvalidArgument(format!("{what} must be non-negative"))),
        Some(n) => Ok((n as usize).min(1000)),
    }
}

/// How a listing gives keys back: URL-encoded when the request asked for `encoding-type=url`.
fn key_encoder(encoding: Option<&dto::EncodingType>) -> impl Fn(&str) -> String + Copy {
    let url = encoding.is_some_and(|e| e.as_str() == dto::EncodingType::URL);
    move |s: &str| if url { url_encode(s) } else { s.to_owned() }
}

/// A page's objects and common prefixes, as both versions of ListObjects answer them.
fn listed(
    page: &Listing,
    encode: &impl Fn(&str) -> String,
    owner: Option<dto::Owner>,
) -> (Vec<dto::Object>, Vec<dto::CommonPrefix>) {
    let objects = page
        .objects
        .iter()
        .map(|o| dto::Object {
            key: Some(encode(&o.key)),
            e_tag: Some(etag(&o.etag)),
            last_modified: Some(o.last_modified.into()),
            size: Some(o.size as i64),
            storage_class: Some(dto::ObjectStorageClass::from_static(dto::ObjectStorageClass::STANDARD)),
            owner: owner.clone(),
            ..Default::default()
        })
        .collect();
    let prefixes = page.common_prefixes.iter().map(|p| dto::CommonPrefix { prefix: Some(encode(p)) }).collect();
    (objects, prefixes)
}

fn token_encode(last: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last)
}

fn token_decode(token: &str) -> Result<String, S3Error> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| S3Error::InvalidArgument("The continuation token provided is incorrect".into()))
}

/// `bytes=<first>-<last>` of a copy source, inside an object of `size` bytes.
fn copy_range(range: &str, size: u64) -> Result<std::ops::Range<u64>, S3Error> {
    let bad = || S3Error::InvalidArgument(format!("Range specified is not valid for source object of size: {size}"));
    let (a, b) = range.strip_prefix("bytes=").and_then(|r| r.split_once('-')).ok_or_else(bad)?;
    let (a, b): (u64, u64) = (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?);
    if a > b || b >= size {
        return Err(bad());
    }
    Ok(a..b + 1)
}

impl Wire {
    fn owner(&self) -> dto::Owner {
        dto::Owner { id: Some(self.0.identity.account.clone()), display_name: Some("local".into()) }
    }

    /// A copy's source: its bucket, key and object, if `conditions` hold.
    async fn copy_source(
        &self,
        source: &dto::CopySource,
        conditions: &ReadConditions<'_>,
    ) -> Result<(String, String, ObjectInfo), S3Error> {
        let (bucket, key) = match source {
            dto::CopySource::Bucket { bucket, key, .. } => (bucket.to_string(), key.to_string()),
            _ => return Err(S3Error::InvalidArgument("Only bucket/key copy sources are supported locally".into())),
        };
        let info = self.0.head(&bucket, &key).await?;
        conditions.check_copy_source(&info)?;
        Ok((bucket, key, info))
    }

    /// Who initiated an upload: locally always the owner.
    fn initiator(&self) -> dto::Initiator {
        let owner = self.owner();
        dto::Initiator { id: owner.id, display_name: owner.display_name }
    }

    /// Stages a sent body and checks it against its declared length, Content-MD5 and checksums (given in headers
    /// or in a trailer), before anything is committed.
    async fn stage_verified(
        &self,
        sent: SentBody<'_>,
        headers: &http::HeaderMap,
        trailers: Option<&s3s::TrailingHeaders>,
    ) -> Result<Staged, S3Error> {
        let algorithms = algorithms_for(headers, sent.algorithm, &sent.checksums);
        let body = sent.body.ok_or(S3Error::IncompleteBody)?;
        let staged = self.0.blobs.stage(body, algorithms, MAX_PUT).await?;
        if let Some(n) = sent.content_length
            && n as u64 != staged.size
        {
            return Err(S3Error::IncompleteBody);
        }
        verify(&staged, sent.content_md5, sent.checksums, trailers)?;
        Ok(staged)
    }

    /// The object at (bucket, key) with its blob open, so a write replacing it meanwhile cannot pull the file away.
    async fn open(&self, bucket: &str, key: &str) -> Result<(ObjectInfo, std::fs::File), S3Error> {
        let mut tries = 0;
        loop {
            let info = self.0.head(bucket, key).await?;
            match self.0.blobs.open(&info.blob).await {
                Ok(f) => return Ok((info, f)),
                // Replaced between the two reads: read the index again.
                Err(S3Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound && tries < 3 => tries += 1,
                Err(e) => return Err(e),
            }
        }
    }
}

#[async_trait::async_trait]
impl s3s::S3 for Wire {
    async fn create_bucket(&self, req: S3Request<dto::CreateBucketInput>) -> Out<dto::CreateBucketOutput> {
        let bucket = req.input.bucket;
        if !self.0.create_bucket(&bucket).await? && self.0.identity.region != "us-east-1" {
            // us-east-1 answers 200 to its owner's repeated CreateBucket; every other region 409.
            return Err(S3Error::BucketAlreadyOwnedByYou(bucket).into());
        }
        ok(dto::CreateBucketOutput { location: Some(format!("/{bucket}")) })
    }

    async fn delete_bucket(&self, req: S3Request<dto::DeleteBucketInput>) -> Out<dto::DeleteBucketOutput> {
        self.0.delete_bucket(&req.input.bucket).await?;
        ok(dto::DeleteBucketOutput::default())
    }

    async fn head_bucket(&self, req: S3Request<dto::HeadBucketInput>) -> Out<dto::HeadBucketOutput> {
        self.0.require_bucket(&req.input.bucket).await?;
        ok(dto::HeadBucketOutput { bucket_region: Some(self.0.identity.region.clone()), ..Default::default() })
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<dto::GetBucketLocationInput>,
    ) -> Out<dto::GetBucketLocationOutput> {
        self.0.require_bucket(&req.input.bucket).await?;
        let region = &self.0.identity.region;
        // us-east-1 is the empty constraint, as S3 answers it.
        let location_constraint = (region != "us-east-1").then(|| dto::BucketLocationConstraint::from(region.clone()));
        ok(dto::GetBucketLocationOutput { location_constraint })
    }

    async fn list_buckets(&self, _req: S3Request<dto::ListBucketsInput>) -> Out<dto::ListBucketsOutput> {
        let buckets = self
            .0
            .buckets()
            .await?
            .into_iter()
            .map(|(name, created)| dto::Bucket {
                name: Some(name),
                creation_date: Some(created.into()),
                bucket_region: Some(self.0.identity.region.clone()),
            })
            .collect();
        ok(dto::ListBucketsOutput { buckets: Some(buckets), owner: Some(self.owner()), ..Default::default() })
    }

    async fn put_object(&self, req: S3Request<dto::PutObjectInput>) -> Out<dto::PutObjectOutput> {
        let by = requester(&req);
        let input = req.input;
        store::check_key(&input.key)?;
        check_declared_length(input.content_length)?;
        self.0.require_bucket(&input.bucket).await?;
        let staged = self.stage_verified(sent_body!(input), &req.headers, req.trailing_headers.as_ref()).await?;
        let checksums = staged.checksums.clone();
        let attrs = attributes!(input);
        let conditions = write_conditions(input.if_match.as_ref(), input.if_none_match.as_ref());
        let info = self
            .0
            .commit(&input.bucket, &input.key, staged, attrs, checksums, None, conditions, "ObjectCreated:Put", &by)
            .await?;
        ok(with_checksums!(dto::PutObjectOutput { e_tag: Some(etag(&info.etag)) }, info.checksums))
    }

    async fn get_object(&self, req: S3Request<dto::GetObjectInput>) -> Out<dto::GetObjectOutput> {
        let input = req.input;
        let (info, file) = self.open(&input.bucket, &input.key).await?;
        read_conditions!(input).check(&info)?;
        let (range, content_range) = match &input.range {
            None => (0..info.size, None),
            Some(r) => {
                let range = r.check(info.size).map_err(|_| S3Error::InvalidRange)?;
                let cr = format!("bytes {}-{}/{}", range.start, range.end - 1, info.size);
                (range, Some(cr))
            }
        };
        let whole = content_range.is_none();
        let with_checksums =
            whole && input.checksum_mode.as_ref().is_some_and(|m| m.as_str() == dto::ChecksumMode::ENABLED);
        let sums = if with_checksums { info.checksums.clone() } else { Checksums::default() };
        let len = range.end - range.start;
        let body = dto::StreamingBlob::wrap(crate::blobs::Blobs::stream(file, range));
        ok(object_output!(
            dto::GetObjectOutput {
                body: Some(body),
                content_length: Some(len as i64),
                content_range: content_range,
                checksum_crc32: sums.crc32,
                checksum_crc32c: sums.crc32c,
                checksum_crc64nvme: sums.crc64nvme,
                checksum_sha1: sums.sha1,
                checksum_sha256: sums.sha256,
            },
            &info
        ))
    }

    async fn head_object(&self, req: S3Request<dto::HeadObjectInput>) -> Out<dto::HeadObjectOutput> {
        let input = req.input;
        let info = self.0.head(&input.bucket, &input.key).await?;
        read_conditions!(input).check(&info)?;
        ok(object_output!(dto::HeadObjectOutput { content_length: Some(info.size as i64) }, &info))
    }

    async fn delete_object(&self, req: S3Request<dto::DeleteObjectInput>) -> Out<dto::DeleteObjectOutput> {
        let by = requester(&req);
        self.0.delete(&req.input.bucket, &req.input.key, &by).await?;
        Ok(S3Response::with_status(dto::DeleteObjectOutput::default(), http::StatusCode::NO_CONTENT))
    }

    async fn delete_objects(&self, req: S3Request<dto::DeleteObjectsInput>) -> Out<dto::DeleteObjectsOutput> {
        let by = requester(&req);
        let input = req.input;
        if input.delete.objects.len() > 1000 || input.delete.objects.is_empty() {
            return Err(S3Error::MalformedXml.into());
        }
        self.0.require_bucket(&input.bucket).await?;
        let quiet = input.delete.quiet.unwrap_or(false);
        let (mut deleted, mut errors) = (Vec::new(), Vec::new());
        for o in input.delete.objects {
            match self.0.delete(&input.bucket, &o.key, &by).await {
                Ok(_) if quiet => {}
                Ok(_) => deleted.push(dto::DeletedObject { key: Some(o.key), ..Default::default() }),
                Err(e) => {
                    use local_core::protocol::AwsError;
                    errors.push(dto::Error {
                        code: Some(e.code().to_owned()),
                        message: Some(e.to_string()),
                        key: Some(o.key),
                        version_id: None,
                    })
                }
            }
        }
        ok(dto::DeleteObjectsOutput { deleted: Some(deleted), errors: Some(errors), ..Default::default() })
    }

    async fn copy_object(&self, req: S3Request<dto::CopyObjectInput>) -> Out<dto::CopyObjectOutput> {
        let by = requester(&req);
        let input = req.input;
        store::check_key(&input.key)?;
        let (src_bucket, src_key, source) =
            self.copy_source(&input.copy_source, &read_conditions!(copy source of input)).await?;
        let replace = input.metadata_directive.as_ref().is_some_and(|d| d.as_str() == dto::MetadataDirective::REPLACE);
        if !replace && src_bucket == input.bucket && src_key == input.key {
            return Err(S3Error::InvalidRequest(
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.".into(),
            )
            .into());
        }
        self.0.require_bucket(&input.bucket).await?;
        let attrs = if replace { attributes!(input) } else { source.attributes.clone() };
        let staged = self.0.blobs.stage_copy(&source.blob, None).await.map_err(|e| match e {
            S3Error::Io(e) if e.kind() == std::io::ErrorKind::NotFound => S3Error::NoSuchKey(src_key.clone()),
            e => e,
        })?;
        let info = self
            .0
            .commit(
                &input.bucket,
                &input.key,
                staged,
                attrs,
                source.checksums.clone(),
                None,
                WriteConditions::default(),
                "ObjectCreated:Copy",
                &by,
            )
            .await?;
        ok(dto::CopyObjectOutput {
            copy_object_result: Some(dto::CopyObjectResult {
                e_tag: Some(etag(&info.etag)),
                last_modified: Some(info.last_modified.into()),
                ..Default::default()
            }),
            ..Default::default()
        })
    }

    async fn list_objects_v2(&self, req: S3Request<dto::ListObjectsV2Input>) -> Out<dto::ListObjectsV2Output> {
        let input = req.input;
        let max = page_size(input.max_keys, "max-keys")?;
        let after = match &input.continuation_token {
            Some(t) => token_decode(t)?,
            None => input.start_after.clone().unwrap_or_default(),
        };
        let prefix = input.prefix.clone().unwrap_or_default();
        let page = self.0.list(&input.bucket, &prefix, input.delimiter.as_deref(), &after, max).await?;
        let encode = key_encoder(input.encoding_type.as_ref());
        let owner = input.fetch_owner.unwrap_or(false).then(|| self.owner());
        let (contents, common_prefixes) = listed(&page, &encode, owner);
        let count = contents.len() + common_prefixes.len();
        ok(dto::ListObjectsV2Output {
            name: Some(input.bucket),
            prefix: Some(encode(&prefix)),
            delimiter: input.delimiter.as_deref().map(encode),
            start_after: input.start_after.as_deref().map(encode),
            max_keys: Some(max as i32),
            key_count: Some(count as i32),
            is_truncated: Some(page.truncated),
            continuation_token: input.continuation_token,
            next_continuation_token: page.last.as_deref().filter(|_| page.truncated).map(token_encode),
            contents: Some(contents),
            common_prefixes: Some(common_prefixes),
            encoding_type: input.encoding_type,
            ..Default::default()
        })
    }

    async fn list_objects(&self, req: S3Request<dto::ListObjectsInput>) -> Out<dto::ListObjectsOutput> {
        let input = req.input;
        let max = page_size(input.max_keys, "max-keys")?;
        let prefix = input.prefix.clone().unwrap_or_default();
        let after = input.marker.clone().unwrap_or_default();
        let page = self.0.list(&input.bucket, &prefix, input.delimiter.as_deref(), &after, max).await?;
        let encode = key_encoder(input.encoding_type.as_ref());
        let (contents, common_prefixes) = listed(&page, &encode, Some(self.owner()));
        // S3 gives NextMarker only with a delimiter; without one the client continues from the last key.
        let next_marker = page.last.as_deref().filter(|_| page.truncated && input.delimiter.is_some()).map(encode);
        ok(dto::ListObjectsOutput {
            name: Some(input.bucket),
            prefix: Some(encode(&prefix)),
            delimiter: input.delimiter.as_deref().map(encode),
            marker: Some(encode(&after)),
            max_keys: Some(max as i32),
            is_truncated: Some(page.truncated),
            next_marker,
            contents: Some(contents),
            common_prefixes: Some(common_prefixes),
            encoding_type: input.encoding_type,
            ..Default::default()
        })
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<dto::CreateMultipartUploadInput>,
    ) -> Out<dto::CreateMultipartUploadOutput> {
        let input = req.input;
        let attrs = attributes!(input);
        let upload = self.0.create_upload(&input.bucket, &input.key, attrs).await?;
        ok(dto::CreateMultipartUploadOutput {
            bucket: Some(upload.bucket),
            key: Some(upload.key),
            upload_id: Some(upload.id),
            ..Default::default()
        })
    }

    async fn upload_part(&self, req: S3Request<dto::UploadPartInput>) -> Out<dto::UploadPartOutput> {
        let input = req.input;
        let number = part_number(input.part_number)?;
        check_declared_length(input.content_length)?;
        self.0.upload(&input.bucket, &input.key, &input.upload_id).await?;
        let staged = self.stage_verified(sent_body!(input), &req.headers, req.trailing_headers.as_ref()).await?;
        let checksums = staged.checksums.clone();
        let part = self.0.put_part(&input.bucket, &input.key, &input.upload_id, number, staged).await?;
        ok(with_checksums!(dto::UploadPartOutput { e_tag: Some(etag(&part.etag)) }, checksums))
    }

    async fn upload_part_copy(&self, req: S3Request<dto::UploadPartCopyInput>) -> Out<dto::UploadPartCopyOutput> {
        let input = req.input;
        let number = part_number(input.part_number)?;
        self.0.upload(&input.bucket, &input.key, &input.upload_id).await?;
        let (.., source) = self.copy_source(&input.copy_source, &read_conditions!(copy source of input)).await?;
        let range = input.copy_source_range.as_deref().map(|r| copy_range(r, source.size)).transpose()?;
        let staged = self.0.blobs.stage_copy(&source.blob, range).await?;
        let part = self.0.put_part(&input.bucket, &input.key, &input.upload_id, number, staged).await?;
        ok(dto::UploadPartCopyOutput {
            copy_part_result: Some(dto::CopyPartResult {
                e_tag: Some(etag(&part.etag)),
                last_modified: Some(part.last_modified.into()),
                ..Default::default()
            }),
            ..Default::default()
        })
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<dto::CompleteMultipartUploadInput>,
    ) -> Out<dto::CompleteMultipartUploadOutput> {
        let by = requester(&req);
        let input = req.input;
        let listed = input
            .multipart_upload
            .and_then(|m| m.parts)
            .unwrap_or_default()
            .into_iter()
            .map(|p| match (p.part_number, p.e_tag) {
                (Some(n), Some(e)) if n > 0 => Ok((n as u32, e.value().to_owned())),
                _ => Err(S3Error::MalformedXml),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let conditions = write_conditions(input.if_match.as_ref(), input.if_none_match.as_ref());
        let info = self.0.complete(&input.bucket, &input.key, &input.upload_id, &listed, conditions, &by).await?;
        ok(dto::CompleteMultipartUploadOutput {
            bucket: Some(info.bucket.clone()),
            key: Some(info.key.clone()),
            e_tag: Some(etag(&info.etag)),
            location: Some(format!("/{}/{}", info.bucket, url_encode(&info.key))),
            ..Default::default()
        })
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<dto::AbortMultipartUploadInput>,
    ) -> Out<dto::AbortMultipartUploadOutput> {
        let input = req.input;
        self.0.abort(&input.bucket, &input.key, &input.upload_id).await?;
        Ok(S3Response::with_status(dto::AbortMultipartUploadOutput::default(), http::StatusCode::NO_CONTENT))
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<dto::ListMultipartUploadsInput>,
    ) -> Out<dto::ListMultipartUploadsOutput> {
        let input = req.input;
        let max = page_size(input.max_uploads, "max-uploads")?;
        let prefix = input.prefix.clone().unwrap_or_default();
        let after = (input.key_marker.clone().unwrap_or_default(), input.upload_id_marker.clone().unwrap_or_default());
        let mut uploads = self.0.uploads(&input.bucket, &prefix, after, max).await?;
        let truncated = uploads.len() > max;
        uploads.truncate(max);
        let last = uploads.last().map(|u| (u.key.clone(), u.id.clone())).filter(|_| truncated);
        let (owner, initiator) = (self.owner(), self.initiator());
        ok(dto::ListMultipartUploadsOutput {
            bucket: Some(input.bucket),
            prefix: Some(prefix),
            key_marker: input.key_marker,
            upload_id_marker: input.upload_id_marker,
            max_uploads: Some(max as i32),
            is_truncated: Some(truncated),
            next_key_marker: last.as_ref().map(|l| l.0.clone()),
            next_upload_id_marker: last.map(|l| l.1),
            uploads: Some(
                uploads
                    .into_iter()
                    .map(|u| dto::MultipartUpload {
                        key: Some(u.key),
                        upload_id: Some(u.id),
                        initiated: Some(u.initiated.into()),
                        owner: Some(owner.clone()),
                        initiator: Some(initiator.clone()),
                        storage_class: Some(dto::StorageClass::from_static(dto::StorageClass::STANDARD)),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        })
    }

    async fn list_parts(&self, req: S3Request<dto::ListPartsInput>) -> Out<dto::ListPartsOutput> {
        let input = req.input;
        self.0.upload(&input.bucket, &input.key, &input.upload_id).await?;
        let max = page_size(input.max_parts, "max-parts")?;
        let after = input.part_number_marker.unwrap_or(0).max(0) as u32;
        let mut parts = self.0.parts(&input.upload_id, after, max + 1).await?;
        let truncated = parts.len() > max;
        parts.truncate(max);
        ok(dto::ListPartsOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(input.upload_id),
            max_parts: Some(max as i32),
            part_number_marker: input.part_number_marker,
            is_truncated: Some(truncated),
            next_part_number_marker: parts.last().filter(|_| truncated).map(|p| p.number as i32),
            initiator: Some(self.initiator()),
            owner: Some(self.owner()),
            storage_class: Some(dto::StorageClass::from_static(dto::StorageClass::STANDARD)),
            parts: Some(
                parts
                    .into_iter()
                    .map(|p| dto::Part {
                        part_number: Some(p.number as i32),
                        e_tag: Some(etag(&p.etag)),
                        size: Some(p.size as i64),
                        last_modified: Some(p.last_modified.into()),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        })
    }
}

fn part_number(n: i32) -> Result<u32, S3Error> {
    if (1..=store::MAX_PARTS as i32).contains(&n) {
        Ok(n as u32)
    } else {
        Err(S3Error::InvalidArgument("Part number must be an integer between 1 and 10000, inclusive".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_source_range_must_lie_inside_the_source() {
        assert_eq!(copy_range("bytes=0-9", 10).unwrap(), 0..10);
        assert!(copy_range("bytes=0-10", 10).is_err());
        assert!(copy_range("bytes=5-4", 10).is_err());
        assert!(copy_range("0-4", 10).is_err());
    }

    #[test]
    fn a_listing_key_is_url_encoded_except_unreserved_characters_and_slashes() {
        assert_eq!(url_encode("a b/c+d%é"), "a%20b/c%2Bd%25%C3%A9");
    }
}

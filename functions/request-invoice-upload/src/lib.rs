//! `POST /invoices/upload`: `{"size": <bytes>, "file_name"?: "<name>.pdf"}` answers `{"upload_url", "method": "PUT",
//! "headers", "expires_at", "key"}`, a presigned PUT of exactly that many bytes of `application/pdf` to
//! `invoices/{caller}/{ulid}-{file name}`, valid for five minutes. The client sends the PDF straight to S3; the
//! bucket's notification on `invoices/` starts `start-invoice`, and the pipeline mails the outcome. Over 20 MiB, a
//! name that is not a `.pdf` or a body of another shape is a 422, a body that is not JSON a 400
//! ([`domain::invoice::upload::request_upload`]).

use apigw::{HttpEvent, HttpResponse, Reply, caller, json_body, respond};
use domain::invoice::upload::request_upload;
use domain::object::BucketName;
use domain::ports::{ObjectPresign, ProfileGet, ProfilePut};

/// What the handler works with: the profiles (the caller's is created on first use, so a refusal has an address
/// to go to), the presigner, and the bucket (`UPLOADS_BUCKET`).
#[derive(Debug, Clone)]
pub struct Uploads<S, O> {
    pub profiles: S,
    pub objects: O,
    pub bucket: BucketName,
}

pub async fn handle<S, O>(uploads: &Uploads<S, O>, event: HttpEvent) -> HttpResponse
where
    S: ProfileGet + ProfilePut,
    O: ObjectPresign,
{
    respond(
        async {
            let caller = caller(&event)?;
            let body = json_body(&event)?;
            let Uploads { profiles, objects, bucket } = uploads;
            let ticket = request_upload(profiles, objects, bucket, &caller, &body, domain::now()).await?;
            Reply::json(&ticket)
        }
        .await,
    )
}

#[cfg(test)]
mod tests;

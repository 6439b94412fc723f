//! `POST /me/photo`: `{"content_type": "image/jpeg" | "image/png" | "image/webp", "size": <bytes>}` answers
//! `{"upload_id", "upload_url", "method": "PUT", "headers", "expires_at"}`, a presigned PUT of exactly that type
//! and size to `uploads/{caller}/{upload id}`, valid for five minutes. The client sends the bytes straight to S3;
//! the bucket's notification starts `resize-photo`. Over 20 MiB or another type is a 422, a body that is not JSON a
//! 400 ([`domain::photo::service::request_upload`]).

use apigw::{HttpEvent, HttpResponse, Reply, caller, json_body, respond};
use domain::object::BucketName;
use domain::photo::service::request_upload;
use domain::ports::{ObjectPresign, ProfileGet, ProfilePut};

/// What the handler works with: the profiles (the caller's is created on first use, so the photo has a profile
/// to be recorded in), the presigner, and the bucket (`UPLOADS_BUCKET`).
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
mod tests {
    use super::*;
    use aws_adapters::testing::MotoServer;
    use aws_adapters::{S3Addressing, S3Objects};
    use aws_lambda_events::encodings::Body;
    use domain::UserId;
    use domain::object::ObjectKey;
    use domain::ports::ObjectGet;
    use local_adapters::{LocalStore, SqliteProfiles};
    use serde_json::{Value, json};

    const ALICE: &str = "4f9d2c1e-7b3a-4c8e-9a21-5d6e7f8a9b0c";

    struct World {
        uploads: Uploads<SqliteProfiles, S3Objects>,
        _dir: tempfile::TempDir,
    }

    /// Profiles in SQLite as the local stack keeps them; presigning by the S3 adapter against moto, in a fresh
    /// bucket.
    async fn world() -> World {
        let dir = tempfile::tempdir().unwrap();
        let profiles = LocalStore::open(&dir.path().join("local.db")).unwrap().profiles("UsersTable").unwrap();
        let objects = S3Objects::new(&MotoServer::shared().sdk_config(), S3Addressing::PathStyle);
        // A fresh bucket per test (an upload id is a fresh random name).
        let fresh = domain::photo::UploadId::generate(domain::now()).to_string().to_ascii_lowercase();
        let bucket = BucketName::parse(&format!("uploads-{fresh}")).unwrap();
        objects.client().create_bucket().bucket(bucket.as_str()).send().await.expect("moto creates the bucket");
        World { uploads: Uploads { profiles, objects, bucket }, _dir: dir }
    }

    /// `events/request-photo-upload/<case>.json`.
    fn sample(case: &str) -> HttpEvent {
        let path = format!("{}/../../events/request-photo-upload/{case}.json", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    fn with_body(body: &Value) -> HttpEvent {
        let mut event = sample("valid-jpeg");
        event.body = Some(body.to_string());
        event
    }

    fn body(response: &HttpResponse) -> Value {
        let Some(Body::Text(text)) = &response.body else { panic!("no body: {response:?}") };
        serde_json::from_str(text).unwrap()
    }

    #[tokio::test]
    async fn every_sample_event_gives_its_documented_status() {
        let world = world().await;
        for (case, status) in
            [("valid-jpeg", 200), ("too-large", 422), ("wrong-type", 422), ("malformed-json", 400), ("no-claims", 401)]
        {
            let response = handle(&world.uploads, sample(case)).await;
            assert_eq!(response.status_code, status, "{case}: {:?}", response.body);
        }
    }

    #[tokio::test]
    async fn the_presigned_put_uploads_exactly_the_declared_photo_to_the_callers_prefix() {
        let world = world().await;
        let bytes = vec![0xAB; 48_213];
        let response = handle(&world.uploads, with_body(&json!({"content_type": "image/png", "size": 48_213}))).await;
        assert_eq!(response.status_code, 200, "{:?}", response.body);
        let ticket = body(&response);
        assert_eq!(ticket["method"], "PUT");
        assert_eq!(ticket["headers"]["content-type"], "image/png");
        assert_eq!(ticket["headers"]["content-length"], "48213");
        let upload_id = ticket["upload_id"].as_str().unwrap();
        let key = format!("uploads/{ALICE}/{upload_id}");
        assert!(ticket["upload_url"].as_str().unwrap().contains(&key), "{ticket}");
        let expires_at = time::OffsetDateTime::parse(
            ticket["expires_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        let left = expires_at - domain::now();
        assert!(left > time::Duration::seconds(290) && left <= time::Duration::seconds(301), "{left}");

        // What a browser does with the ticket.
        let mut put = reqwest::Client::new().put(ticket["upload_url"].as_str().unwrap()).body(bytes.clone());
        for (name, value) in ticket["headers"].as_object().unwrap() {
            put = put.header(name, value.as_str().unwrap());
        }
        let uploaded = put.send().await.unwrap();
        assert!(uploaded.status().is_success(), "{}", uploaded.status());
        let stored = world.uploads.objects.get_object(&world.uploads.bucket, &ObjectKey::parse(&key).unwrap()).await;
        assert_eq!(stored.unwrap().expect("uploaded").bytes, bytes);

        let again = body(&handle(&world.uploads, with_body(&json!({"content_type": "image/png", "size": 1}))).await);
        assert!(again["upload_id"].as_str().unwrap() > upload_id, "every request gets a new, later upload id");
    }

    #[tokio::test]
    async fn the_first_request_creates_the_callers_profile_so_the_photo_has_one_to_go_to() {
        let world = world().await;
        let alice = UserId::parse(ALICE).unwrap();
        assert_eq!(world.uploads.profiles.get_profile(&alice).await.unwrap(), None);
        assert_eq!(handle(&world.uploads, sample("valid-jpeg")).await.status_code, 200);
        let profile = world.uploads.profiles.get_profile(&alice).await.unwrap().expect("created");
        assert_eq!(profile.email.unwrap().as_str(), "alice@example.com");
    }

    #[tokio::test]
    async fn a_body_of_the_wrong_shape_is_refused_naming_what_is_wrong() {
        let world = world().await;
        for (bad, says) in [
            (json!({"content_type": "image/jpeg"}), "`size` is required"),
            (json!({"size": 10}), "`content_type` is required"),
            (json!({"content_type": "image/jpeg", "size": "10"}), "`size` must be a number"),
            (json!({"content_type": "image/jpeg", "size": 1.5}), "whole number"),
            (json!({"content_type": "image/jpeg", "size": -3}), "whole number"),
            (json!({"content_type": "image/jpeg", "size": 0}), "at least 1 byte"),
            (json!({"content_type": "image/jpeg", "size": 20_971_521}), "at most 20971520 bytes"),
            (json!({"content_type": "image/heic", "size": 10}), "image/jpeg, image/png, image/webp"),
            (json!({"content_type": "image/jpeg", "size": 10, "name": "me.jpg"}), "unknown field `name`"),
            (json!(["image/jpeg", 10]), "JSON object"),
        ] {
            let response = handle(&world.uploads, with_body(&bad)).await;
            assert_eq!(response.status_code, 422, "{bad}");
            let message = body(&response)["message"].as_str().unwrap().to_owned();
            assert!(message.contains(says), "{bad}: {message}");
        }
        let at_the_limit = json!({"content_type": "image/webp", "size": 20 * 1024 * 1024});
        assert_eq!(handle(&world.uploads, with_body(&at_the_limit)).await.status_code, 200);
    }
}

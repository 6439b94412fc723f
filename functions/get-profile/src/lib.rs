//! `GET /me`: the caller's profile, created from the token's claims (`email`, `name`) on first use, with its
//! `photo` when it has one: `{"status": "ready" | "processing" | "failed", "upload_id", …}`, each rendition of the
//! photo shown as `{"url", "width", "height"}` with a GET URL presigned at read time (valid for an hour), a failure
//! with its `code` and `reason` ([`domain::photo::service::profile_with_photo`]). No photo, no `photo` field.

use apigw::{HttpEvent, HttpResponse, Reply, caller, respond};
use domain::object::BucketName;
use domain::photo::service::profile_with_photo;
use domain::ports::{ObjectPresign, PhotoGet, ProfileGet, ProfilePut};

/// What the handler works with: the profiles (with their photo state), the presigner, and the bucket the
/// renditions are in (`UPLOADS_BUCKET`).
#[derive(Debug, Clone)]
pub struct Profiles<S, O> {
    pub store: S,
    pub objects: O,
    pub bucket: BucketName,
}

pub async fn handle<S, O>(profiles: &Profiles<S, O>, event: HttpEvent) -> HttpResponse
where
    S: ProfileGet + ProfilePut + PhotoGet,
    O: ObjectPresign,
{
    respond(
        async {
            let caller = caller(&event)?;
            let Profiles { store, objects, bucket } = profiles;
            let view = profile_with_photo(store, objects, bucket, &caller, domain::now()).await?;
            Reply::versioned(&view, view.profile.version)
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
    use domain::object::{ContentType, Metadata, NewObject};
    use domain::photo::{
        Failure, FailureCode, PhotoSet, PhotoState, RenditionSize, RenditionSpecs, UploadId, UploadKey,
    };
    use domain::ports::{ObjectPut, PhotoUpdate};
    use domain::{Caller, Profile, UserId};
    use local_adapters::{LocalStore, SqliteProfiles};
    use serde_json::Value;

    const ALICE: &str = "4f9d2c1e-7b3a-4c8e-9a21-5d6e7f8a9b0c";

    struct World {
        profiles: Profiles<SqliteProfiles, S3Objects>,
        _dir: tempfile::TempDir,
    }

    /// Profiles in SQLite as the local stack keeps them; the renditions in a fresh bucket of moto, presigned by
    /// the S3 adapter.
    async fn world() -> World {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(&dir.path().join("local.db")).unwrap().profiles("UsersTable").unwrap();
        let objects = S3Objects::new(&MotoServer::shared().sdk_config(), S3Addressing::PathStyle);
        let fresh = UploadId::generate(domain::now()).to_string().to_ascii_lowercase();
        let bucket = BucketName::parse(&format!("photos-{fresh}")).unwrap();
        objects.client().create_bucket().bucket(bucket.as_str()).send().await.expect("moto creates the bucket");
        World { profiles: Profiles { store, objects, bucket }, _dir: dir }
    }

    impl World {
        /// Alice's profile with `photo` as its photo state.
        async fn alice_with(&self, photo: &PhotoState) {
            let caller = Caller { id: alice(), email: Some("alice@example.com".into()), name: None };
            let store = &self.profiles.store;
            if store.get_profile(&caller.id).await.unwrap().is_none() {
                store.put_profile(&Profile::from_claims(&caller, domain::now())).await.unwrap();
            }
            let revision = store.get_photo(&caller.id).await.unwrap().unwrap().revision;
            store.update_photo(&caller.id, photo, revision).await.unwrap();
        }

        /// The renditions of `upload`, written as `resize-photo` writes them; their set.
        async fn renditions(&self, upload: UploadId) -> PhotoSet {
            let key = UploadKey { owner: alice(), upload };
            let mut renditions = std::collections::BTreeMap::new();
            for spec in RenditionSpecs::standard().as_slice() {
                let size = RenditionSize { width: spec.long_edge, height: spec.long_edge * 3 / 4 };
                let object = NewObject {
                    bytes: format!("jpeg of {}", spec.name).into_bytes(),
                    content_type: ContentType::jpeg(),
                    metadata: Metadata::new(),
                };
                let p = &self.profiles;
                p.objects.put_object(&p.bucket, &key.rendition(&spec.name).key(), object).await.unwrap();
                renditions.insert(spec.name.clone(), size);
            }
            PhotoSet { upload_id: upload, renditions }
        }

        async fn get_me(&self, case: &str) -> (i64, Value) {
            let response = handle(&self.profiles, sample(case)).await;
            let Some(Body::Text(text)) = &response.body else { panic!("no body") };
            (response.status_code, serde_json::from_str(text).unwrap())
        }
    }

    fn alice() -> UserId {
        UserId::parse(ALICE).unwrap()
    }

    /// `events/get-profile/<case>.json`.
    fn sample(case: &str) -> HttpEvent {
        let path = format!("{}/../../events/get-profile/{case}.json", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn every_sample_event_gives_its_documented_status_and_a_profile_without_a_photo_has_no_photo_field() {
        let world = world().await;
        let (status, first) = world.get_me("first-use").await;
        assert_eq!(status, 200);
        assert_eq!(first["email"], "alice@example.com");
        assert!(first.get("photo").is_none(), "{first}");
        assert_eq!(world.get_me("first-use").await, (200, first), "a second GET reads the same profile");
        assert_eq!(world.get_me("no-claims").await.0, 401);
    }

    #[tokio::test]
    async fn a_ready_photo_shows_each_rendition_with_its_size_and_a_url_that_downloads_it() {
        let world = world().await;
        let set = world.renditions(UploadId::generate(domain::now())).await;
        world.alice_with(&PhotoState { current: Some(set.clone()), attempt: None }).await;
        let (status, me) = world.get_me("first-use").await;
        assert_eq!(status, 200);
        let photo = &me["photo"];
        assert_eq!(photo["status"], "ready");
        assert_eq!(photo["upload_id"], set.upload_id.to_string());
        assert!(photo.get("code").is_none() && photo.get("reason").is_none(), "{photo}");
        for (name, width, height) in [("thumbnail", 200, 150), ("medium", 800, 600), ("large", 1600, 1200)] {
            assert_eq!((photo[name]["width"].as_u64(), photo[name]["height"].as_u64()), (Some(width), Some(height)));
            let got = reqwest::get(photo[name]["url"].as_str().unwrap()).await.unwrap();
            assert!(got.status().is_success(), "{name}: {}", got.status());
            assert_eq!(got.text().await.unwrap(), format!("jpeg of {name}"));
        }
        let expires_at = time::OffsetDateTime::parse(
            photo["expires_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        assert!(expires_at > domain::now() + time::Duration::minutes(59), "{expires_at}");
    }

    #[tokio::test]
    async fn a_failed_upload_shows_its_code_and_reason_beside_the_photo_still_shown() {
        let world = world().await;
        let set = world.renditions(UploadId::generate(domain::now() - time::Duration::minutes(5))).await;
        let newer = UploadId::generate(domain::now());
        let bomb = Failure::new(FailureCode::TooLarge, "the image is 65500 × 65500 pixels; at most 64 megapixels");
        let state = PhotoState { current: Some(set.clone()), attempt: None }.fail(newer, bomb).unwrap();
        world.alice_with(&state).await;
        let photo = world.get_me("first-use").await.1["photo"].clone();
        assert_eq!(photo["status"], "failed");
        assert_eq!(photo["upload_id"], newer.to_string());
        assert_eq!(photo["code"], "too_large");
        assert_eq!(photo["reason"], "the image is 65500 × 65500 pixels; at most 64 megapixels");
        assert_eq!(photo["thumbnail"]["width"], 200, "the previous photo is still shown: {photo}");
    }

    #[tokio::test]
    async fn an_upload_being_processed_shows_as_processing() {
        let world = world().await;
        let upload = UploadId::generate(domain::now());
        world.alice_with(&PhotoState::default().begin(upload).unwrap()).await;
        let photo = world.get_me("first-use").await.1["photo"].clone();
        assert_eq!(photo, serde_json::json!({"status": "processing", "upload_id": upload.to_string()}));
    }
}

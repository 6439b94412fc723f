//! The photo state on the DynamoDB users table against `moto_server`: the shared photo contract
//! (`domain::photo_contract`), then what is particular to DynamoDB: the photo is one map attribute beside the
//! profile's, and a profile item written before photos existed reads back with none.
//!
//! One moto per test binary ([`MotoServer::shared`]); each test gets a fresh client and a fresh table.

use aws_adapters::DynamoProfiles;
use aws_adapters::dynamo::profile_item;
use aws_adapters::dynamo::schema::*;
use aws_adapters::testing::{MotoServer, create_tables};
use aws_sdk_dynamodb::types::AttributeValue;
use domain::photo::{PhotoRecord, PhotoSet, PhotoState, RenditionName, RenditionSize, UploadId};
use domain::ports::{PhotoGet, PhotoUpdate, ProfileGet};
use domain::{Caller, Profile, UserId};

async fn profiles() -> (DynamoProfiles, ()) {
    let client = MotoServer::shared().client();
    let (_, users) = create_tables(&client).await;
    (DynamoProfiles::new(client, users), ())
}

domain::photo_contract_tests!(profiles());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_photo_is_a_map_attribute_beside_the_profile_and_an_old_item_reads_back_without_one() {
    let (profiles, ()) = profiles().await;
    let caller = Caller { id: UserId::parse("ada").unwrap(), email: None, name: Some("Ada".into()) };
    let profile = Profile::from_claims(&caller, domain::now());
    // Written as the previous release wrote it: the profile's attributes only.
    profiles
        .client()
        .put_item()
        .table_name(profiles.table())
        .set_item(Some(profile_item(&profile).unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(profiles.get_photo(&caller.id).await.unwrap(), Some(PhotoRecord::default()));

    let upload = UploadId::generate(domain::now());
    let size = RenditionSize { width: 200, height: 150 };
    let set = PhotoSet { upload_id: upload, renditions: [(RenditionName::parse("thumbnail").unwrap(), size)].into() };
    let state = PhotoState { current: Some(set), attempt: None };
    assert_eq!(profiles.update_photo(&caller.id, &state, 0).await.unwrap(), 1);

    let item = profiles
        .client()
        .get_item()
        .table_name(profiles.table())
        .key(USER_ID, AttributeValue::S("ada".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(item[USER_PHOTO_REVISION], AttributeValue::N("1".into()));
    let AttributeValue::M(photo) = &item[USER_PHOTO] else { panic!("{:?}", item[USER_PHOTO]) };
    let AttributeValue::M(current) = &photo["current"] else { panic!("{photo:?}") };
    assert_eq!(current["upload_id"], AttributeValue::S(upload.to_string()));
    assert_eq!(profiles.get_profile(&caller.id).await.unwrap(), Some(profile), "the profile reads past its photo");
}

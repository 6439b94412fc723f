//! The users table and the three profile ports: one item per user, keyed by `user_id`. The photo ports read and
//! write two more attributes of the same item (`photo`, `photo_revision`), which the profile's writes never name,
//! so neither can overwrite the other's changes.

use super::error::{Guarded, call_failed, condition_failed, put_new};
use super::item::{
    CorruptItem, Item, number, photo_from_item, photo_to_value, profile_from_item, profile_to_item, string, version_of,
};
use super::schema::*;
use super::update::VersionedUpdate;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use domain::photo::{PhotoRecord, PhotoState};
use domain::ports::{PhotoGet, PhotoUpdate, ProfileGet, ProfilePut, ProfileUpdate};
use domain::{Profile, ProfilePatch, StoreError, Timestamp, UserId};
use std::collections::HashMap;

/// The users table (`USERS_TABLE`): partition key `user_id`.
#[derive(Debug, Clone)]
pub struct DynamoProfiles {
    client: Client,
    table: String,
}

impl DynamoProfiles {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    fn key(user: &UserId) -> Item {
        HashMap::from([(USER_ID.to_owned(), string(user.as_str()))])
    }
}

impl ProfileGet for DynamoProfiles {
    async fn get_profile(&self, user: &UserId) -> Result<Option<Profile>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(user)))
            // The profile created on first use reads back on the very next request.
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| call_failed("GetItem", &self.table, e))?;
        out.item.map(|raw| profile_from_item(&self.table, raw)).transpose()
    }
}

impl ProfilePut for DynamoProfiles {
    async fn put_profile(&self, profile: &Profile) -> Result<(), StoreError> {
        put_new(&self.client, &self.table, profile_to_item(profile)?, USER_ID).await
    }
}

impl ProfileUpdate for DynamoProfiles {
    async fn update_profile(&self, user: &UserId, patch: &ProfilePatch, now: Timestamp) -> Result<Profile, StoreError> {
        let mut update = VersionedUpdate::new(USER_UPDATED_AT, USER_VERSION, now)?;
        update.name(USER_ID);
        if let Some(name) = &patch.display_name {
            update.set(USER_DISPLAY_NAME, string(name.as_str()));
        }
        if let Some(email) = &patch.email {
            update.set_or_remove(USER_EMAIL, email.as_ref().map(|e| string(e.as_str())));
        }
        let expression = update.expression();
        let VersionedUpdate { names, values, .. } = update;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(user)))
            .update_expression(expression)
            // Without it UpdateItem would create a half profile; a user without one is NotFound.
            .condition_expression("attribute_exists(#user_id)")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => {
                let raw = out.attributes.filter(|a| !a.is_empty()).ok_or_else(|| {
                    StoreError::unavailable(CorruptItem {
                        table: self.table.clone(),
                        key: format!("{USER_ID}={user}"),
                        what: "profile",
                        source: "UpdateItem with ReturnValues=ALL_NEW returned no attributes".into(),
                    })
                })?;
                profile_from_item(&self.table, raw)
            }
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    let guarded = Guarded {
                        table: &self.table,
                        what: "profile",
                        key_names: &[USER_ID],
                        version_attr: USER_VERSION,
                    };
                    Err(condition_failed("UpdateItem", &guarded, failed.item(), None))
                }
                _ => Err(call_failed("UpdateItem", &self.table, e)),
            },
        }
    }
}

impl PhotoGet for DynamoProfiles {
    async fn get_photo(&self, user: &UserId) -> Result<Option<PhotoRecord>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(user)))
            .projection_expression("#user_id, #photo, #photo_revision")
            .expression_attribute_names("#user_id", USER_ID)
            .expression_attribute_names("#photo", USER_PHOTO)
            .expression_attribute_names("#photo_revision", USER_PHOTO_REVISION)
            // A compare-and-set reads what the last write stored.
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| call_failed("GetItem", &self.table, e))?;
        out.item.map(|raw| photo_from_item(&self.table, raw)).transpose()
    }
}

impl PhotoUpdate for DynamoProfiles {
    async fn update_photo(&self, user: &UserId, photo: &PhotoState, expected: u64) -> Result<u64, StoreError> {
        let next = expected.checked_add(1).ok_or_else(|| {
            StoreError::unavailable(CorruptItem {
                table: self.table.clone(),
                key: format!("{USER_ID}={user}"),
                what: "profile",
                source: "the photo revision cannot be counted any higher".into(),
            })
        })?;
        let mut names = HashMap::from([
            ("#photo".to_owned(), USER_PHOTO.to_owned()),
            ("#photo_revision".to_owned(), USER_PHOTO_REVISION.to_owned()),
        ]);
        // An absent revision is 0, so only a write expecting 0 may find it absent; that write must still find the
        // profile (a later revision implies it). DynamoDB refuses names an expression does not use.
        let condition = if expected == 0 {
            names.insert("#user_id".to_owned(), USER_ID.to_owned());
            "attribute_exists(#user_id) AND (attribute_not_exists(#photo_revision) OR #photo_revision = :expected)"
        } else {
            "#photo_revision = :expected"
        };
        let values = HashMap::from([
            (":photo".to_owned(), photo_to_value(photo)?),
            (":next".to_owned(), number(next)),
            (":expected".to_owned(), number(expected)),
        ]);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(user)))
            .update_expression("SET #photo = :photo, #photo_revision = :next")
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(next),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    let Some(old) = failed.item() else { return Err(StoreError::NotFound) };
                    let current = match old.get(USER_PHOTO_REVISION) {
                        None => 0,
                        Some(_) => version_of(&self.table, "profile", &[USER_ID], old, USER_PHOTO_REVISION)?,
                    };
                    Err(StoreError::VersionMismatch { current })
                }
                _ => Err(call_failed("UpdateItem", &self.table, e)),
            },
        }
    }
}

//! The users table and the three profile ports: one item per user, keyed by `user_id`.

use super::error::{Guarded, call_failed, condition_failed, put_new};
use super::item::{CorruptItem, Item, profile_from_item, profile_to_item, string};
use super::schema::*;
use super::update::VersionedUpdate;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use domain::ports::{ProfileGet, ProfilePut, ProfileUpdate};
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

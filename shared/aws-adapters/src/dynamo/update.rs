//! A versioned UpdateItem expression: every change sets `updated_at`, adds one to `version`, and sets or removes the
//! patched attributes. One builder keeps the `#name`/`:value` placeholders and the expression in step, for tasks
//! and profiles alike (placeholders are the attribute names, which are plain identifiers; see `schema`).

use super::item::{Item, number, timestamp};
use aws_sdk_dynamodb::types::AttributeValue;
use domain::{StoreError, Timestamp};
use std::collections::HashMap;

pub(crate) struct VersionedUpdate {
    pub names: HashMap<String, String>,
    pub values: Item,
    set: Vec<String>,
    remove: Vec<String>,
}

impl VersionedUpdate {
    pub fn new(updated_at: &str, version: &str, now: Timestamp) -> Result<Self, StoreError> {
        let mut update = Self { names: HashMap::new(), values: HashMap::new(), set: Vec::new(), remove: Vec::new() };
        update.set(updated_at, timestamp(now)?);
        update.name(version);
        update.values.insert(":one".to_owned(), number(1));
        update.set.push(format!("#{version} = #{version} + :one"));
        Ok(update)
    }

    /// Declares `#attr` for use in this expression or its condition.
    pub fn name(&mut self, attr: &str) {
        self.names.insert(format!("#{attr}"), attr.to_owned());
    }

    pub fn set(&mut self, attr: &str, value: AttributeValue) {
        self.name(attr);
        self.values.insert(format!(":{attr}"), value);
        self.set.push(format!("#{attr} = :{attr}"));
    }

    /// Sets `attr`, or removes it when the patch clears it (`None`): an optional field is absent, never null.
    pub fn set_or_remove(&mut self, attr: &str, value: Option<AttributeValue>) {
        match value {
            Some(v) => self.set(attr, v),
            None => {
                self.name(attr);
                self.remove.push(format!("#{attr}"));
            }
        }
    }

    pub fn expression(&self) -> String {
        let mut expression = format!("SET {}", self.set.join(", "));
        if !self.remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", self.remove.join(", ")));
        }
        expression
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamo::item::string;

    #[test]
    fn an_update_sets_the_patched_attributes_bumps_the_version_and_removes_the_cleared_ones() {
        let mut u = VersionedUpdate::new("updated_at", "version", domain::now()).unwrap();
        u.set("title", string("t"));
        u.set_or_remove("description", None);
        assert_eq!(
            u.expression(),
            "SET #updated_at = :updated_at, #version = #version + :one, #title = :title REMOVE #description"
        );
        for (k, v) in [
            ("#updated_at", "updated_at"),
            ("#version", "version"),
            ("#title", "title"),
            ("#description", "description"),
        ] {
            assert_eq!(u.names[k], v);
        }
        assert!(
            u.values.contains_key(":one") && u.values.contains_key(":title") && !u.values.contains_key(":description")
        );
    }
}

//! One module per page: each handler asks the source for what its page shows and writes the HTML. Queries are read
//! from the raw query string (not a serde extractor) so a bad value gets the console's own 400 page naming it.

pub mod cost;
pub mod dead_letters;
pub mod execution;
pub mod executions;
pub mod logs;
pub mod mail;
pub mod pipelines;

/// A query string's pairs, decoded; repeated keys kept in order.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(raw: Option<&str>) -> Self {
        Self(form_urlencoded::parse(raw.unwrap_or("").as_bytes()).into_owned().collect())
    }

    /// The first value of `key`, trimmed, when not empty (an empty form field means "not given").
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    /// Every value of `key`, empty ones included (the paging trail uses "" for the first page).
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect()
    }
}

//! Between domain values and SQLite columns. Writes use the domain's own spellings (status wire names, RFC 3339
//! timestamps, ULID text); reads parse every column back through the domain's parsers, so a row that was edited by
//! hand into something the domain refuses becomes a [`CorruptRow`] error instead of a panic or a bogus value.

use crate::error::CorruptRow;
use domain::{StoreError, Timestamp};
use rusqlite::Row;
use rusqlite::types::ValueRef;
use std::error::Error as StdError;
use time::format_description::well_known::Rfc3339;

/// Decodes the columns of one row of one table.
pub(crate) struct Columns<'r, 's> {
    pub(crate) row: &'r Row<'s>,
    pub(crate) table: &'r str,
}

impl<'r> Columns<'r, '_> {
    fn corrupt(&self, column: &'static str, source: impl Into<Box<dyn StdError + Send + Sync>>) -> StoreError {
        StoreError::unavailable(CorruptRow { table: self.table.to_owned(), column, source: source.into() })
    }

    fn value(&self, idx: usize, column: &'static str) -> Result<ValueRef<'r>, StoreError> {
        self.row.get_ref(idx).map_err(|e| self.corrupt(column, e))
    }

    /// A TEXT column that must not be NULL.
    pub(crate) fn text(&self, idx: usize, column: &'static str) -> Result<&'r str, StoreError> {
        self.value(idx, column)?.as_str().map_err(|e| self.corrupt(column, e))
    }

    /// A TEXT column that may be NULL.
    pub(crate) fn text_or_null(&self, idx: usize, column: &'static str) -> Result<Option<&'r str>, StoreError> {
        self.value(idx, column)?.as_str_or_null().map_err(|e| self.corrupt(column, e))
    }

    /// Runs a domain parser over a column, so what the domain refuses is reported as corrupt.
    pub(crate) fn parse<T, E>(
        &self,
        idx: usize,
        column: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, StoreError>
    where
        E: Into<Box<dyn StdError + Send + Sync>>,
    {
        parse(self.text(idx, column)?).map_err(|e| self.corrupt(column, e))
    }

    pub(crate) fn parse_or_null<T, E>(
        &self,
        idx: usize,
        column: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<Option<T>, StoreError>
    where
        E: Into<Box<dyn StdError + Send + Sync>>,
    {
        self.text_or_null(idx, column)?.map(parse).transpose().map_err(|e| self.corrupt(column, e))
    }

    pub(crate) fn timestamp(&self, idx: usize, column: &'static str) -> Result<Timestamp, StoreError> {
        self.parse(idx, column, |s| Timestamp::parse(s, &Rfc3339))
    }

    /// A version: a positive INTEGER.
    pub(crate) fn version(&self, idx: usize) -> Result<u64, StoreError> {
        let raw = self.value(idx, "version")?.as_i64().map_err(|e| self.corrupt("version", e))?;
        u64::try_from(raw)
            .ok()
            .filter(|v| *v >= 1)
            .ok_or_else(|| self.corrupt("version", format!("{raw} is not a positive version")))
    }

    /// A count: a non-negative INTEGER (0 allowed, unlike a version).
    pub(crate) fn count(&self, idx: usize, column: &'static str) -> Result<u64, StoreError> {
        let raw = self.value(idx, column)?.as_i64().map_err(|e| self.corrupt(column, e))?;
        u64::try_from(raw).map_err(|_| self.corrupt(column, format!("{raw} is negative")))
    }
}

/// A timestamp as stored: RFC 3339 text. The domain truncates instants to milliseconds, so the text round-trips to
/// an equal value.
pub(crate) fn timestamp_text(at: Timestamp) -> Result<String, StoreError> {
    at.format(&Rfc3339).map_err(StoreError::unavailable)
}

/// A version as stored. SQLite integers are signed; a version past `i64::MAX` cannot happen by incrementing from 1,
/// but is refused rather than wrapped if it ever arrives.
pub(crate) fn version_int(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(StoreError::unavailable)
}

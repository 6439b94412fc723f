//! Table names. The local stack takes them from `template.yaml` (`TASKS_TABLE=TasksTable`), so they are data,
//! and identifiers cannot be bound as SQL parameters: they are checked against DynamoDB's rule here and only then
//! quoted into statement text.

use crate::OpenError;

/// A table name that is safe to splice into SQL, already quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableName {
    raw: String,
}

impl TableName {
    /// DynamoDB's rule: 3 to 255 characters of `[A-Za-z0-9_.-]`. SQLite reserves names starting with `sqlite_`
    /// (case-insensitively) for itself, so those are refused up front rather than by a confusing CREATE error.
    pub(crate) fn parse(raw: &str) -> Result<Self, OpenError> {
        let refuse = |why| Err(OpenError::InvalidTableName { name: raw.chars().take(300).collect(), why });
        if raw.len() < 3 {
            return refuse("shorter than 3 characters");
        }
        if raw.len() > 255 {
            return refuse("longer than 255 characters");
        }
        if !raw.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')) {
            return refuse("it contains a character outside A-Z, a-z, 0-9, `_`, `-`, `.`");
        }
        if raw.len() >= 7 && raw[..7].eq_ignore_ascii_case("sqlite_") {
            return refuse("SQLite reserves names starting with `sqlite_`");
        }
        Ok(Self { raw: raw.to_owned() })
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.raw
    }

    /// The name as a SQL identifier. The character check already excludes `"`, so the doubling below never fires;
    /// it stays so that quoting is correct on its own, not only because of the check.
    pub(crate) fn quoted(&self) -> String {
        quote(&self.raw)
    }

    /// The quoted name of this table's stream records table: `<name>$stream`. `$` is outside DynamoDB's
    /// table-name characters, so no table of the template can take this name.
    pub(crate) fn quoted_stream(&self) -> String {
        quote(&format!("{}$stream", self.raw))
    }

    /// The quoted name of a table kept beside this one (an invoices table's number claims): `<name>$<suffix>`,
    /// which, like the stream's, no table of the template can take.
    pub(crate) fn quoted_companion(&self, suffix: &str) -> String {
        quote(&format!("{}${suffix}", self.raw))
    }

    /// The quoted name of an index on this table, derived so two tables never share an index name.
    pub(crate) fn quoted_index(&self, suffix: &str) -> String {
        quote(&format!("{}__{suffix}", self.raw))
    }
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_dynamodb_rule() {
        for good in ["abc", "TasksTable", "my.tasks-table_2", &"x".repeat(255)] {
            assert!(TableName::parse(good).is_ok(), "{good}");
        }
        for bad in
            ["", "ab", "tasks table", "t\"x", "tasks;drop", "täsks", "sqlite_master", "SQLITE_x", &"x".repeat(256)]
        {
            assert!(TableName::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(TableName::parse("a.b").unwrap().quoted(), "\"a.b\"");
    }
}

//! ARNs as a parsed type: `arn:<partition>:<service>:<region>:<account>:<resource>`. Parsed once where a request
//! brings one in, formatted in one place, so no service splits strings on `:` by hand.

use std::{fmt, str::FromStr};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Arn {
    pub partition: String,
    pub service: String,
    pub region: String,
    pub account: String,
    /// Everything after the account: `function:name`, `stateMachine:name`, `table/name`, a queue name, a bucket.
    pub resource: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{arn}` is not an ARN ({why})")]
pub struct ArnError {
    pub arn: String,
    pub why: &'static str,
}

impl FromStr for Arn {
    type Err = ArnError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |why| ArnError { arn: s.chars().take(256).collect(), why };
        let mut parts = s.splitn(6, ':');
        if parts.next() != Some("arn") {
            return Err(err("it does not start with arn:"));
        }
        let mut field = |what| parts.next().ok_or_else(|| err(what));
        let partition = field("no partition")?.to_owned();
        let service = field("no service")?.to_owned();
        let region = field("no region")?.to_owned();
        let account = field("no account")?.to_owned();
        let resource = field("no resource")?.to_owned();
        if partition.is_empty() || service.is_empty() {
            return Err(err("an empty partition or service"));
        }
        if resource.is_empty() {
            return Err(err("an empty resource"));
        }
        Ok(Self { partition, service, region, account, resource })
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "arn:{}:{}:{}:{}:{}", self.partition, self.service, self.region, self.account, self.resource)
    }
}

impl serde::Serialize for Arn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Arn {
    /// The resource split into its type and its path: `function:name:qualifier` → (`function`, `name:qualifier`),
    /// `table/name` → (`table`, `name`); a resource with neither separator is all path (`("", resource)`).
    pub fn resource_parts(&self) -> (&str, &str) {
        let i = self.resource.find([':', '/']);
        match i {
            Some(i) => (&self.resource[..i], &self.resource[i + 1..]),
            None => ("", &self.resource),
        }
    }

    /// The resource of type `kind` (`function`, `stateMachine`, `execution`): what follows `kind:`, or `None` for
    /// another type.
    pub fn resource_of(&self, kind: &str) -> Option<&str> {
        match self.resource_parts() {
            (k, rest) if k == kind => Some(rest),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_arn_round_trips_through_its_text() {
        for s in [
            "arn:aws:lambda:us-east-1:123456789012:function:F:$LATEST",
            "arn:aws:states:us-east-1:123456789012:execution:M:run-1",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::123456789012:role/local",
            "arn:aws:dynamodb:us-east-1:123456789012:table/Tasks",
        ] {
            assert_eq!(s.parse::<Arn>().unwrap().to_string(), s);
        }
    }

    #[test]
    fn the_resource_splits_into_its_type_and_path() {
        let a: Arn = "arn:aws:lambda:us-east-1:1:function:F:$LATEST".parse().unwrap();
        assert_eq!(a.resource_of("function"), Some("F:$LATEST"));
        assert_eq!(a.resource_of("stateMachine"), None);
        let t: Arn = "arn:aws:dynamodb:us-east-1:1:table/Tasks".parse().unwrap();
        assert_eq!(t.resource_parts(), ("table", "Tasks"));
    }

    #[test]
    fn text_that_is_not_an_arn_is_an_error() {
        for s in ["", "arn", "arn:aws:lambda", "nope:aws:lambda:r:a:x", "arn:aws:lambda:r:a:", "arn::lambda:r:a:x"] {
            assert!(s.parse::<Arn>().is_err(), "{s}");
        }
    }
}

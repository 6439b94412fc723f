//! Addresses, parsed once where a request brings them in: an [`EmailAddress`] (`local@domain`, as SES accepts
//! it: an ASCII local part and an ASCII, Punycode-encoded domain) and a [`Mailbox`] (an address with an optional
//! display name, `"Name" <local@domain>`, where the name may be an RFC 2047 encoded-word or plain Unicode). Once
//! one of these exists it is valid, so no handler can forget a check.

use std::fmt;

/// Why text is not an address; the message is what SES's `BadRequestException` says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Illegal address: '{text}' ({why})")]
pub struct InvalidAddress {
    pub text: String,
    pub why: &'static str,
}

/// A domain name in ASCII (Punycode for international names), lower-cased: SES compares domains without case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Domain(String);

impl Domain {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        if text.is_empty() || text.len() > 253 {
            return Err("a domain has 1 to 253 characters");
        }
        let labels: Vec<&str> = text.split('.').collect();
        if labels.len() < 2 {
            return Err("a domain has at least two labels");
        }
        for label in labels {
            if label.is_empty() || label.len() > 63 {
                return Err("each label of a domain has 1 to 63 characters");
            }
            if !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Err("a domain is ASCII letters, digits and hyphens (Punycode for international names)");
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err("a label of a domain neither starts nor ends with a hyphen");
            }
        }
        Ok(Self(text.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `other` is this domain or one of its subdomains (SES lets a verified domain send from its
    /// subdomains too).
    pub fn contains(&self, other: &Domain) -> bool {
        other.0 == self.0 || other.0.strip_suffix(&self.0).is_some_and(|head| head.ends_with('.'))
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `local@domain`, as written (the local part keeps its case, as mail servers may honour it), with its domain
/// parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress {
    text: String,
    domain: Domain,
}

impl EmailAddress {
    pub fn parse(text: &str) -> Result<Self, InvalidAddress> {
        let err = |why| InvalidAddress { text: text.chars().take(320).collect(), why };
        let (local, domain) = text.rsplit_once('@').ok_or_else(|| err("missing final '@domain'"))?;
        if local.is_empty() || local.len() > 64 {
            return Err(err("the local part has 1 to 64 characters"));
        }
        // RFC 5322 dot-atom: the local part SES accepts (it does not do SMTPUTF8, so ASCII only).
        let atext = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b);
        if !local.bytes().all(|b| atext(b) || b == b'.') {
            return Err(err("the local part is 7-bit ASCII without spaces or specials"));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(err("the local part neither starts nor ends with a dot, nor has two in a row"));
        }
        let domain = Domain::parse(domain).map_err(err)?;
        Ok(Self { text: text.to_owned(), domain })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// Whether two addresses are the same mailbox for SES's identity checks (which ignore case).
    pub fn same_as(&self, other: &str) -> bool {
        self.text.eq_ignore_ascii_case(other)
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// An address and an optional display name: what `FromEmailAddress`, the `Destination` lists and
/// `ReplyToAddresses` hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: EmailAddress,
}

impl Mailbox {
    /// `local@domain`, `Name <local@domain>`, `"Last, First" <local@domain>` or `=?utf-8?…?= <local@domain>`.
    /// The address syntax around the name is read by `mail-parser`, which decodes encoded-words and quoting.
    pub fn parse(text: &str) -> Result<Self, InvalidAddress> {
        let err = |why| InvalidAddress { text: text.chars().take(320).collect(), why };
        // A line break would let the caller write headers of their own into the message.
        if text.chars().any(char::is_control) {
            return Err(err("control characters are not allowed in an address"));
        }
        let header = format!("To: {text}\r\n\r\n");
        let message =
            mail_parser::MessageParser::new().parse_headers(header.as_bytes()).ok_or_else(|| err("unreadable"))?;
        let mut addrs = message.to().map(|a| a.iter().collect::<Vec<_>>()).unwrap_or_default();
        let addr = match (addrs.pop(), addrs.is_empty()) {
            (Some(a), true) => a,
            (Some(_), false) => return Err(err("one address is expected, not a list")),
            (None, _) => return Err(err("no address")),
        };
        let address = addr.address.as_deref().ok_or_else(|| err("missing final '@domain'"))?;
        let name = addr.name.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
        Ok(Self { name, address: EmailAddress::parse(address)? })
    }
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name} <{}>", self.address),
            None => write!(f, "{}", self.address),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mailbox_reads_plain_named_quoted_and_encoded_forms() {
        let plain = Mailbox::parse("a.b+tag@Example.com").unwrap();
        assert_eq!((plain.name, plain.address.as_str()), (None, "a.b+tag@Example.com"));
        assert_eq!(plain.address.domain().as_str(), "example.com");
        let named = Mailbox::parse("Ann Lee <ann@example.com>").unwrap();
        assert_eq!(named.name.as_deref(), Some("Ann Lee"));
        let quoted = Mailbox::parse("\"Lee, Ann\" <ann@example.com>").unwrap();
        assert_eq!(quoted.name.as_deref(), Some("Lee, Ann"));
        let encoded = Mailbox::parse("=?utf-8?B?SsO8cmdlbg==?= <j@example.com>").unwrap();
        assert_eq!(encoded.name.as_deref(), Some("Jürgen"));
        let unicode = Mailbox::parse("Jürgen <j@example.com>").unwrap();
        assert_eq!(unicode.name.as_deref(), Some("Jürgen"));
    }

    #[test]
    fn text_that_is_not_one_address_is_refused() {
        for bad in [
            "",
            "nobody",
            "@example.com",
            "a@",
            "a@localhost",
            "a b@example.com",
            "a@exa mple.com",
            "a@-x.com",
            "a..b@example.com",
            "ü@example.com",
            "a@ü.com",
            "a@example.com, b@example.com",
            "a@example.com\r\nBcc: c@example.com",
        ] {
            assert!(Mailbox::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_domain_contains_itself_and_its_subdomains_only() {
        let d = Domain::parse("Example.com").unwrap();
        assert!(d.contains(&Domain::parse("example.COM").unwrap()));
        assert!(d.contains(&Domain::parse("mail.example.com").unwrap()));
        assert!(!d.contains(&Domain::parse("badexample.com").unwrap()));
        assert!(!d.contains(&Domain::parse("example.com.evil.org").unwrap()));
    }
}

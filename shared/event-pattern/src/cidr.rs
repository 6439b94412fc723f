//! IP addresses and `cidr` ranges, following event-ruler's `CIDR` class: an address is recognised only when it
//! looks like one (`[0-9]+(\.[0-9]+){3}` or hex digits and colons with at least one colon), and a range runs
//! from the address as written to the address with all host bits set.

/// An address as a number, IPv4 and IPv6 kept apart (a v4 range never matches a v6 address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ip {
    V4(u32),
    V6(u128),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IpError {
    /// Does not look like an address at all (event-ruler: "Nonstandard IP address").
    Nonstandard,
    /// Looks like one but does not parse (event-ruler: "Invalid IP address").
    Invalid,
}

fn looks_like_v4(s: &str) -> bool {
    let mut parts = 0;
    for part in s.split('.') {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        parts += 1;
    }
    parts == 4
}

fn looks_like_v6(s: &str) -> bool {
    s.contains(':') && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b':')
}

pub(crate) fn parse_ip(s: &str) -> Result<Ip, IpError> {
    if looks_like_v4(s) {
        // Java's parser takes each part as a decimal 0..=255, leading zeros included.
        let mut value: u32 = 0;
        for part in s.split('.') {
            let octet = part.trim_start_matches('0');
            if octet.len() > 3 {
                return Err(IpError::Invalid);
            }
            let octet: u32 = if octet.is_empty() { 0 } else { octet.parse().map_err(|_| IpError::Invalid)? };
            if octet > 255 {
                return Err(IpError::Invalid);
            }
            value = value << 8 | octet;
        }
        Ok(Ip::V4(value))
    } else if looks_like_v6(s) {
        s.parse::<std::net::Ipv6Addr>().map(|a| Ip::V6(u128::from(a))).map_err(|_| IpError::Invalid)
    } else {
        Err(IpError::Nonstandard)
    }
}

/// An inclusive range of addresses of one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IpRange {
    low: Ip,
    high: Ip,
}

impl IpRange {
    pub(crate) fn single(ip: Ip) -> Self {
        Self { low: ip, high: ip }
    }

    pub(crate) fn contains(&self, ip: Ip) -> bool {
        match (self.low, self.high, ip) {
            (Ip::V4(lo), Ip::V4(hi), Ip::V4(v)) => lo <= v && v <= hi,
            (Ip::V6(lo), Ip::V6(hi), Ip::V6(v)) => lo <= v && v <= hi,
            _ => false,
        }
    }
}

/// Parses `{"cidr": "..."}` with event-ruler's checks and messages. Note two event-ruler quirks kept on
/// purpose: the range starts at the address as written (`10.0.0.5/24` is 10.0.0.5–10.0.0.255), and a full-length
/// mask (`/32`, `/128`) is refused.
pub(crate) fn parse_cidr(text: &str) -> Result<IpRange, String> {
    // Java's String.split drops trailing empty strings.
    let mut parts: Vec<&str> = text.split('/').collect();
    while parts.len() > 1 && parts.last() == Some(&"") {
        parts.pop();
    }
    if parts.len() != 2 {
        return Err("Malformed CIDR, one '/' required".into());
    }
    let bits: i32 = parts[1].parse().map_err(|_| "Malformed CIDR, mask bits must be an integer".to_string())?;
    if bits < 0 {
        return Err("Malformed CIDR, mask bits must not be negative".into());
    }
    let ip = parse_ip(parts[0]).map_err(|e| match e {
        IpError::Nonstandard => format!("Nonstandard IP address: {}", parts[0]),
        IpError::Invalid => format!("Invalid IP address: {}", parts[0]),
    })?;
    match ip {
        Ip::V4(v) => {
            if bits > 31 {
                return Err("IPv4 mask bits must be < 32".into());
            }
            let host = u32::MAX >> bits;
            Ok(IpRange { low: Ip::V4(v), high: Ip::V4(v | host) })
        }
        Ip::V6(v) => {
            if bits > 127 {
                return Err("IPv6 mask bits must be < 128".into());
            }
            let host = u128::MAX >> bits;
            Ok(IpRange { low: Ip::V6(v), high: Ip::V6(v | host) })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_only_when_they_look_like_addresses() {
        assert_eq!(parse_ip("10.0.0.1"), Ok(Ip::V4(0x0a00_0001)));
        assert_eq!(parse_ip("010.000.0.1"), Ok(Ip::V4(0x0a00_0001)));
        assert_eq!(parse_ip("256.0.0.1"), Err(IpError::Invalid));
        assert_eq!(parse_ip("10.0.0"), Err(IpError::Nonstandard));
        assert_eq!(parse_ip("xx.11.xx"), Err(IpError::Nonstandard));
        assert_eq!(parse_ip("::1"), Ok(Ip::V6(1)));
        assert_eq!(parse_ip("1:2:3"), Err(IpError::Invalid));
    }

    #[test]
    fn a_cidr_range_covers_the_host_bits() {
        let r = parse_cidr("10.0.0.0/24").unwrap();
        assert!(r.contains(parse_ip("10.0.0.255").unwrap()));
        assert!(!r.contains(parse_ip("10.0.1.0").unwrap()));
        assert!(!r.contains(parse_ip("::a00:0").unwrap()));
        let r = parse_cidr("2001:db8:1234:1a00::/64").unwrap();
        assert!(r.contains(parse_ip("2001:db8:1234:1a00:9691:9503:25ad:1761").unwrap()));
        assert!(!r.contains(parse_ip("2001:db8:1234:1a01::1").unwrap()));
    }

    #[test]
    fn malformed_cidrs_get_event_rulers_messages() {
        assert_eq!(parse_cidr("bad-type").unwrap_err(), "Malformed CIDR, one '/' required");
        assert_eq!(parse_cidr("10.0.0.0/xx").unwrap_err(), "Malformed CIDR, mask bits must be an integer");
        assert_eq!(parse_cidr("xx.11.xx/12").unwrap_err(), "Nonstandard IP address: xx.11.xx");
        assert_eq!(parse_cidr("10.0.0.0/32").unwrap_err(), "IPv4 mask bits must be < 32");
        assert_eq!(parse_cidr("10.0.0.0/-1").unwrap_err(), "Malformed CIDR, mask bits must not be negative");
        assert!(parse_cidr("10.0.0.0/24/").is_ok());
    }
}

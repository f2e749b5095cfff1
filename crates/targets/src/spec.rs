//! Target expressions and the address spaces they denote.
//!
//! A target expression is parsed into an [`Expr`] without touching the
//! network; names are resolved later, when the list is built. Every
//! expression that denotes many addresses becomes a [`Space`] that can say
//! how many addresses it has, give the i-th one and tell whether it holds an
//! address, all in constant time, so `0.0.0.0/0` costs a few bytes.

use crate::error::TargetError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The values one IPv4 octet may take in an nmap range such as `0-7,9`:
/// sorted, merged, inclusive ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OctetSet {
    ranges: Vec<(u8, u8)>,
    count: u16,
}

impl OctetSet {
    /// Parses one octet of a range expression: `N`, `A-B`, `-B`, `A-`,
    /// `-` or `*`, or a comma-separated list of those.
    fn parse(text: &str, token: &str) -> Result<Self, TargetError> {
        let mut ranges = Vec::new();
        for item in text.split(',') {
            let number = |t: &str| -> Result<u8, TargetError> {
                if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(TargetError::invalid(
                        token,
                        format!("invalid octet \"{item}\""),
                    ));
                }
                let digits = t.trim_start_matches('0');
                if digits.len() > 3 {
                    return Err(TargetError::invalid(
                        token,
                        format!("octet {t} out of range"),
                    ));
                }
                let n: u16 = digits.parse().unwrap_or(0);
                u8::try_from(n)
                    .map_err(|_| TargetError::invalid(token, format!("octet {t} out of range")))
            };
            let range = match item {
                "" => return Err(TargetError::invalid(token, "empty octet")),
                "*" | "-" => (0, 255),
                _ => match item.split_once('-') {
                    None => {
                        let n = number(item)?;
                        (n, n)
                    }
                    Some((a, b)) => {
                        let start = if a.is_empty() { 0 } else { number(a)? };
                        let end = if b.is_empty() { 255 } else { number(b)? };
                        if start > end {
                            return Err(TargetError::invalid(
                                token,
                                format!("octet range \"{item}\": start is after end"),
                            ));
                        }
                        (start, end)
                    }
                },
            };
            ranges.push(range);
        }
        ranges.sort_unstable();
        let mut merged: Vec<(u8, u8)> = Vec::with_capacity(ranges.len());
        for (s, e) in ranges {
            match merged.last_mut() {
                Some(last) if u16::from(s) <= u16::from(last.1) + 1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        let count = merged
            .iter()
            .map(|&(s, e)| u16::from(e) - u16::from(s) + 1)
            .sum();
        Ok(OctetSet {
            ranges: merged,
            count,
        })
    }

    /// How many values the octet takes (1..=256).
    pub(crate) fn count(&self) -> u64 {
        u64::from(self.count)
    }

    /// The i-th value, ascending; `i < count()`.
    fn nth(&self, mut i: u64) -> u8 {
        for &(s, e) in &self.ranges {
            let n = u64::from(e - s) + 1;
            if i < n {
                // i < n <= 256 - s, so the sum fits in u8.
                return s + i as u8;
            }
            i -= n;
        }
        0
    }

    fn contains(&self, v: u8) -> bool {
        self.ranges.iter().any(|&(s, e)| s <= v && v <= e)
    }

    /// Every value, ascending.
    pub(crate) fn values(&self) -> impl Iterator<Item = u8> + '_ {
        self.ranges.iter().flat_map(|&(s, e)| s..=e)
    }

    /// The merged ranges, ascending.
    pub(crate) fn ranges(&self) -> &[(u8, u8)] {
        &self.ranges
    }

    fn single_value(&self) -> Option<u8> {
        match self.ranges.as_slice() {
            [(s, e)] if s == e => Some(*s),
            _ => None,
        }
    }
}

/// A set of addresses that can be indexed without being listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Space {
    /// Consecutive IPv4 addresses from `start` (a prefix or one address).
    V4 { start: u32, count: u64 },
    /// An nmap octet-range pattern: the product of four octet sets.
    Octets(Box<[OctetSet; 4]>),
    /// IPv6 addresses from `start` to `last` inclusive.
    V6 { start: u128, last: u128 },
}

impl Space {
    /// The network of `prefix` bits containing `addr` (callers have
    /// checked the prefix against the family).
    pub(crate) fn prefix(addr: IpAddr, prefix: u8) -> Space {
        match addr {
            IpAddr::V4(a) => {
                let host_bits = 32 - u32::from(prefix.min(32));
                let mask = u32::MAX.checked_shl(host_bits).unwrap_or(0);
                Space::V4 {
                    start: u32::from(a) & mask,
                    count: 1u64 << host_bits,
                }
            }
            IpAddr::V6(a) => {
                let host_bits = 128 - u32::from(prefix.min(128));
                let mask = u128::MAX.checked_shl(host_bits).unwrap_or(0);
                let start = u128::from(a) & mask;
                Space::V6 {
                    start,
                    last: start | !mask,
                }
            }
        }
    }

    /// One address.
    pub(crate) fn single(addr: IpAddr) -> Space {
        match addr {
            IpAddr::V4(_) => Space::prefix(addr, 32),
            IpAddr::V6(_) => Space::prefix(addr, 128),
        }
    }

    /// How many addresses (saturating: `::/0` says `u128::MAX`).
    pub(crate) fn len(&self) -> u128 {
        match self {
            Space::V4 { count, .. } => u128::from(*count),
            Space::Octets(o) => o.iter().map(|s| u128::from(s.count())).product(),
            Space::V6 { start, last } => (last - start).saturating_add(1),
        }
    }

    /// The lowest and highest address, as (is IPv6, low, high) numbers.
    pub(crate) fn bounds(&self) -> (bool, u128, u128) {
        match self {
            Space::V4 { start, count } => {
                let lo = u128::from(*start);
                (false, lo, lo + u128::from(*count).saturating_sub(1))
            }
            Space::Octets(o) => {
                let lo = o.iter().map(|s| s.ranges()[0].0);
                let hi = o.iter().map(|s| s.ranges()[s.ranges().len() - 1].1);
                let num = |it: &mut dyn Iterator<Item = u8>| {
                    it.fold(0u128, |acc, v| acc << 8 | u128::from(v))
                };
                (false, num(&mut lo.into_iter()), num(&mut hi.into_iter()))
            }
            Space::V6 { start, last } => (true, *start, *last),
        }
    }

    /// Extends the space by `other` if it continues it without a gap (both
    /// consecutive ranges of one family); returns whether it did.
    pub(crate) fn append(&mut self, other: &Space) -> bool {
        match (self, other) {
            (
                Space::V4 { start, count },
                Space::V4 {
                    start: s2,
                    count: c2,
                },
            ) if u64::from(*start) + *count == u64::from(*s2) => {
                *count += c2;
                true
            }
            (
                Space::V6 { last, .. },
                Space::V6 {
                    start: s2,
                    last: l2,
                },
            ) if last.checked_add(1) == Some(*s2) => {
                *last = *l2;
                true
            }
            _ => false,
        }
    }

    /// Whether consecutive indices are consecutive addresses (a prefix or
    /// one address, not an octet pattern).
    pub(crate) fn is_consecutive(&self) -> bool {
        matches!(self, Space::V4 { .. } | Space::V6 { .. })
    }

    /// Whether the space is an IPv6 prefix shorter than /64, too large to
    /// scan (it may still be excluded).
    pub(crate) fn too_large(&self) -> bool {
        matches!(self, Space::V6 { start, last } if last - start > u128::from(u64::MAX))
    }

    /// The i-th address, in ascending order; `None` past the end.
    pub(crate) fn get(&self, i: u128) -> Option<IpAddr> {
        if i >= self.len() {
            return None;
        }
        Some(match self {
            // i < count <= 2^32 - start, so it fits in u32 and the sum too.
            Space::V4 { start, .. } => IpAddr::V4(Ipv4Addr::from(start.wrapping_add(i as u32))),
            Space::Octets(o) => {
                // Mixed radix, last octet fastest.
                let mut rest = i as u64;
                let mut out = [0u8; 4];
                for k in (0..4).rev() {
                    let c = o[k].count();
                    out[k] = o[k].nth(rest % c);
                    rest /= c;
                }
                IpAddr::V4(Ipv4Addr::from(out))
            }
            Space::V6 { start, .. } => IpAddr::V6(Ipv6Addr::from(start.wrapping_add(i))),
        })
    }

    /// Whether `addr` is in the space.
    pub(crate) fn contains(&self, addr: IpAddr) -> bool {
        match (self, addr) {
            (Space::V4 { start, count }, IpAddr::V4(a)) => {
                let a = u32::from(a);
                a >= *start && u64::from(a - start) < *count
            }
            (Space::Octets(o), IpAddr::V4(a)) => {
                o.iter().zip(a.octets()).all(|(set, v)| set.contains(v))
            }
            (Space::V6 { start, last }, IpAddr::V6(a)) => {
                let a = u128::from(a);
                *start <= a && a <= *last
            }
            _ => false,
        }
    }
}

/// A parsed target expression, before name resolution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Expr {
    /// Addresses given literally (an address, a prefix or octet ranges).
    Space(Space),
    /// A host name, with an optional prefix around its address.
    Name { name: String, prefix: Option<u8> },
}

/// Parses one target expression: an IPv4 or IPv6 address, a CIDR prefix
/// on an address or name (`198.18.0.0/15`, `host/24`), IPv4 octet ranges
/// (`198.18.0-255.1-254`, `198.18.0,1,3-7.-`, `*` for a whole octet) or a
/// host name. IPv6 prefixes of any length parse (an exclusion may be
/// `::/0`); the target list rejects those it cannot index.
pub(crate) fn parse_expr(token: &str) -> Result<Expr, TargetError> {
    if token.is_empty() {
        return Err(TargetError::invalid(token, "empty target"));
    }
    let (base, prefix_text) = match token.rsplit_once('/') {
        Some((b, p)) => (b, Some(p)),
        None => (token, None),
    };
    let prefix = |max: u8| -> Result<Option<u8>, TargetError> {
        let Some(p) = prefix_text else {
            return Ok(None);
        };
        let bad = || TargetError::Prefix {
            prefix: p.to_string(),
            token: token.to_string(),
        };
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        match p.parse::<u8>() {
            Ok(n) if n <= max => Ok(Some(n)),
            _ => Err(bad()),
        }
    };
    if base.contains(':') {
        if base.contains('%') {
            return Err(TargetError::invalid(
                token,
                "IPv6 scope IDs are not supported",
            ));
        }
        let addr: Ipv6Addr = base
            .parse()
            .map_err(|_| TargetError::invalid(token, "not a valid IPv6 address"))?;
        return Ok(Expr::Space(match prefix(128)? {
            None => Space::single(IpAddr::V6(addr)),
            Some(p) => Space::prefix(IpAddr::V6(addr), p),
        }));
    }
    if !base.is_empty()
        && base
            .bytes()
            .all(|b| b.is_ascii_digit() || b".,-*".contains(&b))
    {
        let parts: Vec<&str> = base.split('.').collect();
        if parts.len() != 4 {
            return Err(TargetError::invalid(
                token,
                "expected 4 octets separated by dots",
            ));
        }
        let mut sets = Vec::with_capacity(4);
        for part in &parts {
            sets.push(OctetSet::parse(part, token)?);
        }
        let singles: Vec<u8> = sets.iter().filter_map(OctetSet::single_value).collect();
        if let [a, b, c, d] = singles[..] {
            let addr = IpAddr::V4(Ipv4Addr::new(a, b, c, d));
            return Ok(Expr::Space(match prefix(32)? {
                None => Space::single(addr),
                Some(p) => Space::prefix(addr, p),
            }));
        }
        if prefix_text.is_some() {
            return Err(TargetError::invalid(
                token,
                "octet ranges cannot have a CIDR prefix",
            ));
        }
        let sets: [OctetSet; 4] = match sets.try_into() {
            Ok(s) => s,
            Err(_) => return Err(TargetError::invalid(token, "expected 4 octets")),
        };
        return Ok(Expr::Space(Space::Octets(Box::new(sets))));
    }
    if !is_host_name(base) {
        return Err(TargetError::invalid(
            token,
            "not an address, address range or host name",
        ));
    }
    Ok(Expr::Name {
        name: base.to_string(),
        prefix: prefix(128)?,
    })
}

/// Whether `s` may be a DNS host name (letters, digits, `-`, `_`, dots;
/// at most 253 characters; no empty labels but an optional final dot).
fn is_host_name(s: &str) -> bool {
    let body = s.strip_suffix('.').unwrap_or(s);
    !body.is_empty()
        && s.len() <= 253
        && body.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space(token: &str) -> Space {
        match parse_expr(token) {
            Ok(Expr::Space(s)) => s,
            other => panic!("{token}: {other:?}"),
        }
    }

    fn err(token: &str) -> String {
        parse_expr(token).unwrap_err().to_string()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn literals_and_prefixes() {
        let s = space("198.18.0.1");
        assert_eq!(s.len(), 1);
        assert_eq!(s.get(0), Some(ip("198.18.0.1")));
        let s = space("198.18.3.4/15");
        assert_eq!(s.len(), 1 << 17);
        assert_eq!(s.get(0), Some(ip("198.18.0.0")));
        assert_eq!(s.get((1 << 17) - 1), Some(ip("198.19.255.255")));
        assert_eq!(s.get(1 << 17), None);
        assert!(s.contains(ip("198.19.1.1")));
        assert!(!s.contains(ip("198.20.0.0")));
        assert!(!s.contains(ip("::1")));
        let s = space("0.0.0.0/0");
        assert_eq!(s.len(), 1 << 32);
        assert_eq!(s.get((1 << 32) - 1), Some(ip("255.255.255.255")));
        assert_eq!(space("198.18.0.7/32").len(), 1);
        let s = space("2001:2::1");
        assert_eq!(s.get(0), Some(ip("2001:2::1")));
        let s = space("2001:2::1234/120");
        assert_eq!(s.len(), 256);
        assert_eq!(s.get(255), Some(ip("2001:2::12ff")));
        let s = space("2001:2::/64");
        assert_eq!(s.len(), 1u128 << 64);
        assert_eq!(
            s.get((1u128 << 64) - 1),
            Some(ip("2001:2::ffff:ffff:ffff:ffff"))
        );
        assert!(s.contains(ip("2001:2::abcd")));
        assert!(!s.contains(ip("2001:2:0:1::")));
        assert_eq!(space("::1/128").len(), 1);
    }

    #[test]
    fn octet_ranges() {
        let s = space("198.18.0-255.1-254");
        assert_eq!(s.len(), 256 * 254);
        assert_eq!(s.get(0), Some(ip("198.18.0.1")));
        assert_eq!(s.get(254), Some(ip("198.18.1.1")));
        assert!(s.contains(ip("198.18.7.254")));
        assert!(!s.contains(ip("198.18.7.255")));
        let s = space("198.18.0,1,3-7.-");
        assert_eq!(s.len(), 7 * 256);
        assert_eq!(s.get(2 * 256), Some(ip("198.18.3.0")));
        assert!(!s.contains(ip("198.18.2.0")));
        assert_eq!(space("198.18.5-.1").len(), 251);
        assert_eq!(space("198.18.-7.1").len(), 8);
        assert_eq!(space("198.18.*.1").len(), 256);
        // Overlapping items are merged, not counted twice.
        assert_eq!(space("198.18.1,1,0-3,2.1").len(), 4);
        assert_eq!(space("-.-.-.-").len(), 1 << 32);
        assert_eq!(space("198.018.000.001").get(0), Some(ip("198.18.0.1")));
    }

    #[test]
    fn names() {
        assert_eq!(
            parse_expr("scanme.example").unwrap(),
            Expr::Name {
                name: "scanme.example".into(),
                prefix: None
            }
        );
        assert_eq!(
            parse_expr("localhost/24").unwrap(),
            Expr::Name {
                name: "localhost".into(),
                prefix: Some(24)
            }
        );
        assert!(matches!(
            parse_expr("a-b_c.example."),
            Ok(Expr::Name { .. })
        ));
    }

    #[test]
    fn errors_name_the_token() {
        assert_eq!(
            err("300.1.1.1/33"),
            "invalid target \"300.1.1.1/33\": octet 300 out of range"
        );
        assert_eq!(
            err("198.18.0.1/33"),
            "invalid CIDR prefix \"/33\" in \"198.18.0.1/33\""
        );
        assert_eq!(
            err("198.18.0.1/"),
            "invalid CIDR prefix \"/\" in \"198.18.0.1/\""
        );
        assert_eq!(
            err("198.18.0.1/x"),
            "invalid CIDR prefix \"/x\" in \"198.18.0.1/x\""
        );
        assert_eq!(
            err("198.18.0.1/-1"),
            "invalid CIDR prefix \"/-1\" in \"198.18.0.1/-1\""
        );
        assert_eq!(
            err("::1/129"),
            "invalid CIDR prefix \"/129\" in \"::1/129\""
        );
        assert_eq!(
            err("host/129"),
            "invalid CIDR prefix \"/129\" in \"host/129\""
        );
        assert!(space("2001:2::/63").too_large());
        assert!(!space("2001:2::/64").too_large());
        assert!(space("::/0").contains(ip("2001:2::1")));
        assert_eq!(space("::/0").len(), u128::MAX);
        assert_eq!(
            err("1.2.3"),
            "invalid target \"1.2.3\": expected 4 octets separated by dots"
        );
        assert_eq!(
            err("1.2.3.4.5"),
            "invalid target \"1.2.3.4.5\": expected 4 octets separated by dots"
        );
        assert_eq!(err("1.2..4"), "invalid target \"1.2..4\": empty octet");
        assert_eq!(err("1.2.3,.4"), "invalid target \"1.2.3,.4\": empty octet");
        assert_eq!(
            err("1.2.5-1.4"),
            "invalid target \"1.2.5-1.4\": octet range \"5-1\": start is after end"
        );
        assert_eq!(
            err("1.2.1-2-3.4"),
            "invalid target \"1.2.1-2-3.4\": invalid octet \"1-2-3\""
        );
        assert_eq!(
            err("1.2.3.99999999999"),
            "invalid target \"1.2.3.99999999999\": octet 99999999999 out of range"
        );
        assert_eq!(
            err("1.2.3.4-5/24"),
            "invalid target \"1.2.3.4-5/24\": octet ranges cannot have a CIDR prefix"
        );
        assert_eq!(
            err("2001:2::g"),
            "invalid target \"2001:2::g\": not a valid IPv6 address"
        );
        assert_eq!(
            err("fe80::1%eth0"),
            "invalid target \"fe80::1%eth0\": IPv6 scope IDs are not supported"
        );
        assert_eq!(
            err("a..b"),
            "invalid target \"a..b\": not an address, address range or host name"
        );
        assert_eq!(
            err("bad!name"),
            "invalid target \"bad!name\": not an address, address range or host name"
        );
        assert_eq!(err(""), "invalid target \"\": empty target");
        assert_eq!(
            err("/24"),
            "invalid target \"/24\": not an address, address range or host name"
        );
    }
}

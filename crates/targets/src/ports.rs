//! Port specifications: nmap's `-p`, `--exclude-ports`, `-F` and
//! `--top-ports`, turned into one sorted port list per protocol.
//!
//! Parsing is separate from choosing: [`PortSpec`] only records what was
//! typed (numbers, ranges, names from the port table, protocol prefixes),
//! and [`resolve_ports`] combines it with the protocols being scanned, the
//! exclusions and the frequency ranks. Ports are kept in a 64 KiB-bit set
//! per protocol, so `-p-` costs the same as `-p 80`.

use crate::error::PortError;
use crate::table::ServiceTable;
use portolan_model::Protocol;

/// The set of ports of one protocol: one bit per port number.
#[derive(Clone, PartialEq, Eq)]
pub struct PortSet {
    bits: Box<[u64; 1024]>,
}

impl Default for PortSet {
    fn default() -> Self {
        PortSet {
            bits: Box::new([0; 1024]),
        }
    }
}

impl std::fmt::Debug for PortSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PortSet({})", format_ranges(&self.to_vec()))
    }
}

impl PortSet {
    /// Adds every port from `start` to `end` inclusive.
    pub fn insert_range(&mut self, start: u16, end: u16) {
        for p in start..=end {
            self.insert(p);
        }
    }

    /// Adds one port.
    pub fn insert(&mut self, port: u16) {
        self.bits[usize::from(port >> 6)] |= 1u64 << (port & 63);
    }

    /// Removes one port.
    pub fn remove(&mut self, port: u16) {
        self.bits[usize::from(port >> 6)] &= !(1u64 << (port & 63));
    }

    /// Whether `port` is in the set.
    pub fn contains(&self, port: u16) -> bool {
        self.bits[usize::from(port >> 6)] & (1u64 << (port & 63)) != 0
    }

    /// Adds every port of `other`.
    pub fn union_with(&mut self, other: &PortSet) {
        for (a, b) in self.bits.iter_mut().zip(other.bits.iter()) {
            *a |= *b;
        }
    }

    /// Removes every port of `other`.
    pub fn subtract(&mut self, other: &PortSet) {
        for (a, b) in self.bits.iter_mut().zip(other.bits.iter()) {
            *a &= !*b;
        }
    }

    /// Whether no port is in the set.
    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|w| *w == 0)
    }

    /// The ports, ascending.
    pub fn to_vec(&self) -> Vec<u16> {
        let mut out = Vec::new();
        for (i, &w) in self.bits.iter().enumerate() {
            let mut w = w;
            while w != 0 {
                let bit = w.trailing_zeros();
                // i < 1024 and bit < 64, so the port fits in u16.
                out.push(((i as u32) << 6 | bit) as u16);
                w &= w - 1;
            }
        }
        out
    }
}

/// A parsed port specification, as typed after `-p` or `--exclude-ports`.
///
/// Numbers and ranges without a protocol prefix apply to every protocol
/// scanned; names apply to the protocols the port table lists them for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortSpec {
    /// Ports for every protocol (no prefix, numeric).
    any: PortSet,
    /// Ports for one protocol: TCP, UDP, SCTP.
    only: [PortSet; 3],
}

fn proto_slot(p: Protocol) -> usize {
    match p {
        Protocol::Tcp => 0,
        Protocol::Udp => 1,
        Protocol::Sctp => 2,
    }
}

impl PortSpec {
    /// Parses nmap's port syntax: comma-separated ports (`22`), ranges
    /// (`1-1024`, open `-1024`, `60000-`, `-` for 1-65535), service names
    /// and `*`/`?` patterns (`ssh`, `http*`), and protocol prefixes `T:`,
    /// `U:`, `S:` that apply to every item after them until the next one.
    /// Port 0 is included only when written (`0`, `0-10`).
    pub fn parse(text: &str, table: &ServiceTable) -> Result<PortSpec, PortError> {
        let mut spec = PortSpec::default();
        if text.trim().is_empty() {
            return Err(PortError::Invalid {
                token: text.to_string(),
                reason: "empty".into(),
            });
        }
        let mut scope: Option<Protocol> = None;
        for raw in text.split(',') {
            let mut item = raw.trim();
            if let Some((prefix, rest)) = item.split_once(':') {
                scope = Some(match prefix {
                    "T" | "t" => Protocol::Tcp,
                    "U" | "u" => Protocol::Udp,
                    "S" | "s" => Protocol::Sctp,
                    _ => {
                        return Err(PortError::Invalid {
                            token: item.to_string(),
                            reason: format!("unknown protocol prefix \"{prefix}:\""),
                        })
                    }
                });
                item = rest.trim();
            }
            if item.is_empty() {
                return Err(PortError::Invalid {
                    token: text.to_string(),
                    reason: "empty item".into(),
                });
            }
            let target = match scope {
                None => &mut spec.any,
                Some(p) => &mut spec.only[proto_slot(p)],
            };
            if item.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
                let (start, end) = parse_range(item)?;
                target.insert_range(start, end);
            } else {
                spec.add_name(item, scope, table)?;
            }
        }
        Ok(spec)
    }

    fn add_name(
        &mut self,
        pattern: &str,
        scope: Option<Protocol>,
        table: &ServiceTable,
    ) -> Result<(), PortError> {
        let valid = pattern
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.+/*?".contains(&b));
        if !valid {
            return Err(PortError::Invalid {
                token: pattern.to_string(),
                reason: "not a port, range or service name".into(),
            });
        }
        let mut found = false;
        for (proto, port) in table.ports_matching(pattern) {
            if scope.is_none_or(|s| s == proto) {
                self.only[proto_slot(proto)].insert(port);
                found = true;
            }
        }
        if found {
            Ok(())
        } else {
            Err(PortError::NoMatch(pattern.to_string()))
        }
    }

    /// The ports this specification selects for `proto`.
    pub fn ports(&self, proto: Protocol) -> PortSet {
        let mut set = self.any.clone();
        set.union_with(&self.only[proto_slot(proto)]);
        set
    }
}

/// Parses `N`, `A-B`, `-B`, `A-` or `-`.
fn parse_range(item: &str) -> Result<(u16, u16), PortError> {
    let number = |t: &str| -> Result<u16, PortError> {
        // Digits only (checked by the caller); long runs are out of range.
        if t.len() > 5 {
            return Err(PortError::OutOfRange(item.to_string()));
        }
        t.parse::<u32>()
            .ok()
            .and_then(|n| u16::try_from(n).ok())
            .ok_or_else(|| PortError::OutOfRange(item.to_string()))
    };
    let (start, end) = match item.split_once('-') {
        None => {
            let n = number(item)?;
            (n, n)
        }
        Some((a, b)) => {
            if b.contains('-') {
                return Err(PortError::Invalid {
                    token: item.to_string(),
                    reason: "too many dashes".into(),
                });
            }
            let start = if a.is_empty() { 1 } else { number(a)? };
            let end = if b.is_empty() { u16::MAX } else { number(b)? };
            (start, end)
        }
    };
    if start > end {
        return Err(PortError::Reversed(item.to_string()));
    }
    Ok((start, end))
}

/// The ports to scan, per protocol, each list sorted and without duplicates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortLists {
    /// TCP ports.
    pub tcp: Vec<u16>,
    /// UDP ports.
    pub udp: Vec<u16>,
    /// SCTP ports.
    pub sctp: Vec<u16>,
}

impl PortLists {
    /// The list of one protocol.
    pub fn get(&self, proto: Protocol) -> &[u16] {
        match proto {
            Protocol::Tcp => &self.tcp,
            Protocol::Udp => &self.udp,
            Protocol::Sctp => &self.sctp,
        }
    }

    fn get_mut(&mut self, proto: Protocol) -> &mut Vec<u16> {
        match proto {
            Protocol::Tcp => &mut self.tcp,
            Protocol::Udp => &mut self.udp,
            Protocol::Sctp => &mut self.sctp,
        }
    }

    /// How many (protocol, port) pairs there are in all.
    pub fn total(&self) -> usize {
        self.tcp.len() + self.udp.len() + self.sctp.len()
    }
}

/// How many ports the default scan covers per protocol.
pub const DEFAULT_TOP_PORTS: u32 = 1000;

/// Chooses the ports to scan for each protocol in `protocols` (the others
/// stay empty):
///
/// - `spec` (`-p`) selects ports; without it the `top` (`--top-ports N`,
///   `-F` = 100) or else the 1000 most common ports of each protocol;
/// - with both `spec` and `top`, the `top` most common of the specified
///   ports (as nmap does);
/// - `exclude` (`--exclude-ports`, same syntax) is removed last.
pub fn resolve_ports(
    spec: Option<&str>,
    exclude: Option<&str>,
    top: Option<u32>,
    protocols: &[Protocol],
    table: &ServiceTable,
) -> Result<PortLists, PortError> {
    let spec = spec.map(|s| PortSpec::parse(s, table)).transpose()?;
    let exclude = exclude.map(|s| PortSpec::parse(s, table)).transpose()?;
    let mut lists = PortLists::default();
    for &proto in protocols {
        let mut set = PortSet::default();
        match (&spec, top) {
            (Some(spec), None) => set = spec.ports(proto),
            (Some(spec), Some(n)) => {
                let wanted = spec.ports(proto);
                let all = table.top(proto, usize::MAX);
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                for port in all.into_iter().filter(|p| wanted.contains(*p)).take(n) {
                    set.insert(port);
                }
            }
            (None, top) => {
                let n = top.unwrap_or(DEFAULT_TOP_PORTS);
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                for port in table.top(proto, n) {
                    set.insert(port);
                }
            }
        }
        if let Some(ex) = &exclude {
            set.subtract(&ex.ports(proto));
        }
        *lists.get_mut(proto) = set.to_vec();
    }
    Ok(lists)
}

/// Formats ports as nmap's compact range list (see
/// [`portolan_model::format_ranges`]; re-exported here for callers of the
/// port syntax).
pub use portolan_model::format_ranges;

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp];

    fn table() -> ServiceTable {
        ServiceTable::parse(
            "ftp\t21/tcp\t4\n\
             ssh\t22/tcp\t2\n\
             ssh\t22/sctp\t-\n\
             telnet\t23/tcp\t-\n\
             domain\t53/tcp\t5\n\
             domain\t53/udp\t1\n\
             http\t80/tcp\t1\n\
             http\t80/udp\t-\n\
             sunrpc\t111/udp\t2\n\
             netbios-ns\t137/udp\t3\n\
             https\t443/tcp\t3\n\
             mysql\t3306/tcp\t6\n\
             ms-sql-s\t1433/tcp\t-\n\
             http-alt\t8080/tcp\t7\n",
        )
        .unwrap()
    }

    fn tcp(spec: &str) -> Result<Vec<u16>, String> {
        resolve_ports(Some(spec), None, None, &[Protocol::Tcp], &table())
            .map(|l| l.tcp)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn numbers_lists_and_ranges() {
        assert_eq!(tcp("22,80,443").unwrap(), vec![22, 80, 443]);
        assert_eq!(tcp("443,22,22,80").unwrap(), vec![22, 80, 443]);
        assert_eq!(tcp("1-5").unwrap(), vec![1, 2, 3, 4, 5]);
        assert_eq!(tcp("-").unwrap().len(), 65535);
        assert_eq!(tcp("-").unwrap()[0], 1);
        assert_eq!(tcp("-3").unwrap(), vec![1, 2, 3]);
        assert_eq!(tcp("65533-").unwrap(), vec![65533, 65534, 65535]);
        assert_eq!(tcp("0").unwrap(), vec![0]);
        assert_eq!(tcp("0-2").unwrap(), vec![0, 1, 2]);
        assert_eq!(tcp("0-").unwrap().len(), 65536);
        assert_eq!(tcp("65535").unwrap(), vec![65535]);
        assert_eq!(tcp(" 22 , 80 ").unwrap(), vec![22, 80]);
    }

    #[test]
    fn errors_name_the_token() {
        assert_eq!(
            tcp("70000").unwrap_err(),
            "invalid port \"70000\": out of range 0-65535"
        );
        assert_eq!(
            tcp("22,65536").unwrap_err(),
            "invalid port \"65536\": out of range 0-65535"
        );
        assert_eq!(
            tcp("1-99999999999999999999").unwrap_err(),
            "invalid port \"1-99999999999999999999\": out of range 0-65535"
        );
        assert_eq!(
            tcp("5-1").unwrap_err(),
            "invalid port range \"5-1\": start is after end"
        );
        assert_eq!(tcp("foo").unwrap_err(), "no port matches \"foo\"");
        assert_eq!(tcp("U:ftp").unwrap_err(), "no port matches \"ftp\"");
        assert_eq!(
            tcp("").unwrap_err(),
            "invalid port specification \"\": empty"
        );
        assert_eq!(
            tcp("22,,80").unwrap_err(),
            "invalid port specification \"22,,80\": empty item"
        );
        assert_eq!(
            tcp("22,T:").unwrap_err(),
            "invalid port specification \"22,T:\": empty item"
        );
        assert_eq!(
            tcp("1-2-3").unwrap_err(),
            "invalid port specification \"1-2-3\": too many dashes"
        );
        assert_eq!(
            tcp("X:80").unwrap_err(),
            "invalid port specification \"X:80\": unknown protocol prefix \"X:\""
        );
        assert_eq!(
            tcp("8 0").unwrap_err(),
            "invalid port specification \"8 0\": not a port, range or service name"
        );
    }

    #[test]
    fn names_and_wildcards() {
        assert_eq!(tcp("ssh").unwrap(), vec![22]);
        assert_eq!(tcp("http*").unwrap(), vec![80, 443, 8080]);
        assert_eq!(tcp("*sql*").unwrap(), vec![1433, 3306]);
        assert_eq!(tcp("HTTP").unwrap(), vec![80]);
        assert_eq!(tcp("ftp,8000-8001,ssh").unwrap(), vec![21, 22, 8000, 8001]);
        // A name matches every protocol it is listed for, and only those.
        let l = resolve_ports(Some("ssh,domain"), None, None, &ALL, &table()).unwrap();
        assert_eq!(l.tcp, vec![22, 53]);
        assert_eq!(l.udp, vec![53]);
        assert_eq!(l.sctp, vec![22]);
        // A name listed only for a protocol not scanned is not an error.
        let l = resolve_ports(Some("sunrpc,22"), None, None, &[Protocol::Tcp], &table()).unwrap();
        assert_eq!(l.tcp, vec![22]);
    }

    #[test]
    fn protocol_prefixes_apply_until_the_next_one() {
        let l = resolve_ports(Some("U:53,111,137,T:21-25,80"), None, None, &ALL, &table()).unwrap();
        assert_eq!(l.udp, vec![53, 111, 137]);
        assert_eq!(l.tcp, vec![21, 22, 23, 24, 25, 80]);
        assert!(l.sctp.is_empty());
        // Unprefixed ports go to every protocol scanned, and only those.
        let l = resolve_ports(
            Some("7,S:9"),
            None,
            None,
            &[Protocol::Tcp, Protocol::Sctp],
            &table(),
        )
        .unwrap();
        assert_eq!(l.tcp, vec![7]);
        assert_eq!(l.sctp, vec![7, 9]);
        assert!(l.udp.is_empty());
        let l = resolve_ports(Some("u:domain,t:http"), None, None, &ALL, &table()).unwrap();
        assert_eq!(l.udp, vec![53]);
        assert_eq!(l.tcp, vec![80]);
    }

    #[test]
    fn top_ports_default_and_fast() {
        let t = table();
        let l = resolve_ports(None, None, None, &ALL, &t).unwrap();
        assert_eq!(l.tcp, vec![21, 22, 53, 80, 443, 3306, 8080]);
        assert_eq!(l.udp, vec![53, 111, 137]);
        assert!(l.sctp.is_empty());
        let l = resolve_ports(None, None, Some(3), &[Protocol::Tcp], &t).unwrap();
        assert_eq!(l.tcp, vec![22, 80, 443]);
        // --top-ports with -p: the most common of the specified ports.
        let l = resolve_ports(Some("1-100"), None, Some(2), &[Protocol::Tcp], &t).unwrap();
        assert_eq!(l.tcp, vec![22, 80]);
        let l = resolve_ports(None, None, Some(0), &[Protocol::Tcp], &t).unwrap();
        assert!(l.tcp.is_empty());
    }

    #[test]
    fn exclude_ports() {
        let t = table();
        let l = resolve_ports(Some("1-30"), Some("2-29"), None, &[Protocol::Tcp], &t).unwrap();
        assert_eq!(l.tcp, vec![1, 30]);
        let l = resolve_ports(None, Some("http*,T:ssh"), None, &[Protocol::Tcp], &t).unwrap();
        assert_eq!(l.tcp, vec![21, 53, 3306]);
        let l = resolve_ports(Some("53"), Some("U:53"), None, &ALL, &t).unwrap();
        assert_eq!(l.tcp, vec![53]);
        assert!(l.udp.is_empty());
        assert_eq!(
            resolve_ports(Some("80"), Some("99999"), None, &ALL, &t)
                .unwrap_err()
                .to_string(),
            "invalid port \"99999\": out of range 0-65535"
        );
    }

    #[test]
    fn formats_ranges_like_nmap() {
        let mut ports: Vec<u16> = (1..=1024).collect();
        ports.extend([3306, 8081, 8080]);
        assert_eq!(format_ranges(&ports), "1-1024,3306,8080-8081");
        assert_eq!(format_ranges(&[]), "");
        assert_eq!(format_ranges(&[0, 65535, 65534, 7, 7]), "0,7,65534-65535");
        assert_eq!(
            format_ranges(&(0..=u16::MAX).collect::<Vec<_>>()),
            "0-65535"
        );
    }
}

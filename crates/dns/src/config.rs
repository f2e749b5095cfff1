//! Where names come from: the name servers to ask and the hosts file.
//!
//! nmap asks the servers of `/etc/resolv.conf` (or `--dns-servers`)
//! itself, so it can keep many queries in flight, and answers addresses
//! that `/etc/hosts` lists without sending anything. The same is done
//! here; the parsers take text so they are tested without touching the
//! machine's files.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// The DNS port.
pub const DNS_PORT: u16 = 53;

/// How the mass resolver works: servers, local names and timing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverConfig {
    /// Name servers, asked in rotation.
    pub servers: Vec<SocketAddr>,
    /// Names for addresses, answered without a query (first name wins).
    pub hosts: HashMap<IpAddr, String>,
    /// How long to wait for each try; its length is the number of tries.
    pub timeouts: Vec<Duration>,
    /// Most queries in flight at once.
    pub max_outstanding: usize,
}

impl Default for ResolverConfig {
    /// No servers, no hosts, tries after 1 s and 2 s, 128 in flight (more
    /// overflows the receive buffer of a server with default socket sizes).
    fn default() -> Self {
        ResolverConfig {
            servers: Vec::new(),
            hosts: HashMap::new(),
            timeouts: vec![Duration::from_secs(1), Duration::from_secs(2)],
            max_outstanding: 128,
        }
    }
}

impl ResolverConfig {
    /// The machine's configuration: the servers of `/etc/resolv.conf`
    /// (the loopback resolver when it names none, as the C library does)
    /// and the names of `/etc/hosts`. Unreadable files count as empty.
    pub fn system() -> Self {
        let text = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        let mut servers = parse_resolv_conf(&text);
        if servers.is_empty() {
            servers = vec![
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ];
        }
        Self::with_servers(&servers)
    }

    /// The given servers on port 53, with the names of `/etc/hosts`.
    pub fn with_servers(servers: &[IpAddr]) -> Self {
        let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
        ResolverConfig {
            servers: servers
                .iter()
                .map(|&a| SocketAddr::new(a, DNS_PORT))
                .collect(),
            hosts: parse_hosts(&hosts),
            ..Self::default()
        }
    }
}

/// The `nameserver` addresses of a resolv.conf text, in order. Lines that
/// do not hold a plain IPv4 or IPv6 address (such as a link-local address
/// with a `%zone`) are skipped.
pub fn parse_resolv_conf(text: &str) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut words = strip_comment(line).split_whitespace();
        if words.next() != Some("nameserver") {
            continue;
        }
        if let Some(addr) = words.next().and_then(|w| w.parse::<IpAddr>().ok()) {
            if !out.contains(&addr) {
                out.push(addr);
            }
        }
    }
    out
}

/// Address → first name of a hosts-file text. An address listed on
/// several lines keeps the name of its first line.
pub fn parse_hosts(text: &str) -> HashMap<IpAddr, String> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let mut words = strip_comment(line).split_whitespace();
        let (Some(addr), Some(name)) = (words.next(), words.next()) else {
            continue;
        };
        if let Ok(addr) = addr.parse::<IpAddr>() {
            out.entry(addr).or_insert_with(|| name.to_string());
        }
    }
    out
}

/// A line without its `#` or `;` comment.
fn strip_comment(line: &str) -> &str {
    line.split(['#', ';']).next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_nameservers_in_order() {
        let text = "# generated\nsearch example.test\nnameserver 198.18.0.53\n\
                    nameserver   2001:2::53  # v6\n; nameserver 198.18.9.9\n\
                    nameserver fe80::1%eth0\nnameserver bogus\nnameserver\n\
                    options timeout:2\nnameserver 198.18.0.53\n";
        let want: Vec<IpAddr> = vec![
            "198.18.0.53".parse().unwrap(),
            "2001:2::53".parse().unwrap(),
        ];
        assert_eq!(parse_resolv_conf(text), want);
    }

    #[test]
    fn hosts_first_name_wins() {
        let text = "127.0.0.1 localhost loopback\n::1 ip6-localhost ip6-loopback\n\
                    198.18.0.7\tseven.test seven # the lab\n198.18.0.7 other.test\n\
                    # 198.18.0.8 commented.test\nnot-an-address foo\n198.18.0.9\n";
        let h = parse_hosts(text);
        let get = |a: &str| h.get(&a.parse::<IpAddr>().unwrap()).map(String::as_str);
        assert_eq!(get("127.0.0.1"), Some("localhost"));
        assert_eq!(get("::1"), Some("ip6-localhost"));
        assert_eq!(get("198.18.0.7"), Some("seven.test"));
        assert_eq!(get("198.18.0.8"), None);
        assert_eq!(get("198.18.0.9"), None);
        assert_eq!(h.len(), 3);
    }

    #[test]
    fn explicit_servers_use_port_53() {
        let c = ResolverConfig::with_servers(&["198.18.0.53".parse().unwrap()]);
        assert_eq!(c.servers, vec!["198.18.0.53:53".parse().unwrap()]);
        assert_eq!(c.timeouts.len(), 2);
    }
}

//! Hosts: addresses, names, up/down status and their ports.

use crate::os::OsReport;
use crate::port::{ExtraPorts, PortResult, PortState, Protocol, Reason};
use crate::script::ScriptResult;
use crate::traits::TraitSamples;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

/// Whether a host answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HostStatus {
    /// The host answered (or `-Pn` said to assume so).
    Up,
    /// No answer to discovery.
    Down,
    /// Not probed (list scan).
    Unknown,
}

impl HostStatus {
    /// `up`, `down` or `unknown`, as in nmap's XML.
    pub fn as_str(self) -> &'static str {
        match self {
            HostStatus::Up => "up",
            HostStatus::Down => "down",
            HostStatus::Unknown => "unknown",
        }
    }
}

/// Where a host name came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HostnameKind {
    /// The name the user typed.
    User,
    /// A reverse (PTR) lookup.
    #[serde(rename = "PTR")]
    Ptr,
}

impl HostnameKind {
    /// `user` or `PTR`, as in nmap's XML.
    pub fn as_str(self) -> &'static str {
        match self {
            HostnameKind::User => "user",
            HostnameKind::Ptr => "PTR",
        }
    }
}

/// One name of a host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hostname {
    /// The name.
    pub name: String,
    /// Where it came from.
    #[serde(rename = "type")]
    pub kind: HostnameKind,
}

/// An Ethernet address and, when known, its vendor. JSON writes it as
/// `{"address": "02:42:AC:11:00:02", "vendor": null}`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "crate::shape::MacShape")]
pub struct MacAddress {
    /// The six bytes.
    pub octets: [u8; 6],
    /// Vendor from the IEEE registry, when known.
    pub vendor: Option<String>,
}

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = self.octets;
        write!(
            f,
            "{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
            o[0], o[1], o[2], o[3], o[4], o[5]
        )
    }
}

/// Everything learned about one target host.
///
/// Its JSON shape is the `host` line of `docs/json-schema.md`: ports are
/// split into those listed and those summarised (`extraports`), and every
/// port reads back exactly.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(try_from = "crate::shape::HostShape")]
pub struct HostResult {
    /// The address scanned.
    pub addr: IpAddr,
    /// Ethernet address, for hosts on the local segment.
    pub mac: Option<MacAddress>,
    /// Names: the one typed by the user first, then reverse names.
    pub hostnames: Vec<Hostname>,
    /// Up, down or unknown.
    pub status: HostStatus,
    /// Why the host is considered up or down.
    pub reason: Reason,
    /// TTL of the reply that decided the status (0 when none).
    pub reason_ttl: u8,
    /// Smoothed round-trip time to the host, when measured.
    pub latency: Option<Duration>,
    /// When scanning of this host began, in seconds since the Unix epoch.
    pub start_time: u64,
    /// When it ended, in seconds since the Unix epoch.
    pub end_time: u64,
    /// Whether `--host-timeout` cut the scan of this host short.
    pub timed_out: bool,
    /// Whether the run was interrupted (Ctrl-C, SIGTERM) before this
    /// host's scan finished: `ports` lists what was found, and the ports
    /// not listed were not scanned (not "closed"), nor were later stages
    /// (`-sV`) done.
    pub incomplete: bool,
    /// Every port scanned on this host, sorted by port then protocol.
    pub ports: Vec<PortResult>,
    /// Set when the host rate-limited the answers that tell port states
    /// (ICMP errors for UDP, resets for TCP) during the scan.
    pub icmp_rate_limit: Option<IcmpRateLimit>,
    /// A few replies' stack traits (first SYN/ACK, first RST...), kept by
    /// the engine for the host stages (OS detection) when the scan's plan
    /// asks for them (`ScanPlan::stack_samples`). Evidence, not a
    /// result: no output format writes it, so it does not survive a round
    /// trip through a file. Boxed: most hosts of a sweep have none, and
    /// results are moved between stages.
    pub stack: Option<Box<TraitSamples>>,
    /// What checks (`-sC`, `--script`) and risk hints reported, on the
    /// host's ports (`port` set) and on the host itself, in the order
    /// they finished.
    pub scripts: Vec<ScriptResult>,
    /// OS detection's answer (`-O`), when it was asked for.
    pub os: Option<OsReport>,
}

/// A host that sends the answers telling its port states at a steady
/// trickle: ICMP port unreachables for UDP (Linux sends about one per
/// second per destination by default), or TCP resets behind a firewall's
/// rate limit. Also what that cost the scan.
///
/// It is data, not prose, so every output format can word it its own way.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct IcmpRateLimit {
    /// The protocol whose ports were affected: UDP (ICMP errors limited)
    /// or TCP (resets limited).
    pub protocol: Protocol,
    /// The answer rate observed after the host's initial burst, per
    /// second.
    pub observed_per_sec: f64,
    /// Ports of `protocol` left without an answer (reported with the
    /// technique's no-reply state, open|filtered for UDP).
    pub unresolved: u32,
    /// Whether the unresolved ports were retried at the host's pace
    /// (`--udp-exact` for UDP; always for TCP): then `unresolved` are ports
    /// that never answered at all.
    #[serde(default)]
    pub exact: bool,
    /// For TCP: the limited answers are the ICMP errors of FIN, NULL,
    /// Xmas, Maimon, ACK or window scans (a filter's rejects), not resets;
    /// `unresolved` are silent ports the retry budget could not tell from
    /// rejected ones.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tcp_icmp: bool,
}

impl HostResult {
    /// A host with no ports scanned yet.
    pub fn new(addr: IpAddr, status: HostStatus, reason: Reason) -> Self {
        HostResult {
            addr,
            mac: None,
            hostnames: Vec::new(),
            status,
            reason,
            reason_ttl: 0,
            latency: None,
            start_time: 0,
            end_time: 0,
            timed_out: false,
            incomplete: false,
            ports: Vec::new(),
            icmp_rate_limit: None,
            stack: None,
            scripts: Vec::new(),
            os: None,
        }
    }

    /// The name the user typed, or else the first reverse name.
    pub fn display_name(&self) -> Option<&str> {
        self.hostnames.first().map(|h| h.name.as_str())
    }

    /// Splits the ports into those listed and those summarised, the way
    /// nmap does: a state other than `open` with more than
    /// `25 * (verbose + 1)` ports is summarised; with `open_only` every
    /// state that cannot be open is summarised.
    ///
    /// Shown ports come sorted by port then protocol; summaries come with
    /// the largest count first, their reasons most frequent first.
    pub fn port_summary(&self, verbose: u8, open_only: bool) -> PortSummary<'_> {
        let threshold = 25u32 * (u32::from(verbose) + 1);
        let mut counts: Vec<(PortState, Protocol, u32)> = Vec::new();
        for p in &self.ports {
            match counts
                .iter_mut()
                .find(|(s, pr, _)| *s == p.state && *pr == p.protocol)
            {
                Some(c) => c.2 += 1,
                None => counts.push((p.state, p.protocol, 1)),
            }
        }
        let hidden = |state: PortState, proto: Protocol| -> bool {
            if state == PortState::Open {
                return false;
            }
            if open_only && !state.shown_with_open_only() {
                return true;
            }
            counts
                .iter()
                .any(|&(s, pr, n)| s == state && pr == proto && n > threshold)
        };
        let mut shown: Vec<&PortResult> = Vec::new();
        let mut extra: Vec<ExtraPorts> = Vec::new();
        for p in &self.ports {
            if !hidden(p.state, p.protocol) {
                shown.push(p);
                continue;
            }
            let e = match extra
                .iter_mut()
                .position(|e| e.state == p.state && e.protocol == p.protocol)
            {
                Some(i) => &mut extra[i],
                None => {
                    extra.push(ExtraPorts {
                        state: p.state,
                        protocol: p.protocol,
                        count: 0,
                        reasons: Vec::new(),
                    });
                    extra.last_mut().expect("just pushed")
                }
            };
            e.count += 1;
            match e.reasons.iter_mut().find(|(r, _)| *r == p.reason) {
                Some(r) => r.1 += 1,
                None => e.reasons.push((p.reason, 1)),
            }
        }
        shown.sort_by_key(|p| (p.port, p.protocol));
        extra.sort_by(|a, b| b.count.cmp(&a.count).then(a.protocol.cmp(&b.protocol)));
        for e in &mut extra {
            e.reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        }
        PortSummary { shown, extra }
    }

    /// The ports of `state` in `protocol`, sorted by number.
    pub fn ports_in(&self, state: PortState, protocol: Protocol) -> Vec<u16> {
        let mut v: Vec<u16> = self
            .ports
            .iter()
            .filter(|p| p.state == state && p.protocol == protocol)
            .map(|p| p.port)
            .collect();
        v.sort_unstable();
        v
    }
}

/// The ports of a host split into listed and summarised ones.
#[derive(Debug)]
pub struct PortSummary<'a> {
    /// Ports listed one by one.
    pub shown: Vec<&'a PortResult>,
    /// Ports summarised per state and protocol.
    pub extra: Vec<ExtraPorts>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::PortResult;

    fn port(port: u16, state: PortState, reason: Reason) -> PortResult {
        PortResult {
            port,
            protocol: Protocol::Tcp,
            state,
            reason,
            reason_ttl: 64,
            service: None,
        }
    }

    #[test]
    fn many_closed_ports_are_summarised_and_open_ones_listed() {
        let mut h = HostResult::new(
            "127.0.0.1".parse().unwrap(),
            HostStatus::Up,
            Reason::Localhost,
        );
        for p in 1..=100 {
            h.ports
                .push(port(p, PortState::Closed, Reason::ConnRefused));
        }
        h.ports.push(port(22, PortState::Open, Reason::SynAck));
        h.ports
            .push(port(200, PortState::Filtered, Reason::NoResponse));
        let s = h.port_summary(0, false);
        assert_eq!(
            s.shown.iter().map(|p| p.port).collect::<Vec<_>>(),
            vec![22, 200]
        );
        assert_eq!(s.extra.len(), 1);
        assert_eq!(s.extra[0].count, 100);
        assert_eq!(s.extra[0].reasons, vec![(Reason::ConnRefused, 100)]);
    }

    #[test]
    fn few_closed_ports_are_listed_and_verbosity_raises_the_threshold() {
        let mut h = HostResult::new("::1".parse().unwrap(), HostStatus::Up, Reason::Localhost);
        for p in 1..=40 {
            h.ports.push(port(p, PortState::Closed, Reason::Reset));
        }
        assert_eq!(h.port_summary(0, false).extra.len(), 1);
        assert_eq!(h.port_summary(1, false).shown.len(), 40);
    }

    #[test]
    fn open_only_hides_every_state_that_cannot_be_open() {
        let mut h = HostResult::new("::1".parse().unwrap(), HostStatus::Up, Reason::Localhost);
        h.ports.push(port(1, PortState::Closed, Reason::Reset));
        h.ports
            .push(port(2, PortState::OpenFiltered, Reason::NoResponse));
        let s = h.port_summary(0, true);
        assert_eq!(s.shown.len(), 1);
        assert_eq!(s.shown[0].port, 2);
        assert_eq!(s.extra[0].state, PortState::Closed);
    }

    #[test]
    fn mac_prints_as_nmap_does() {
        let m = MacAddress {
            octets: [0, 0x1b, 0x21, 0xa, 0xb, 0xc],
            vendor: None,
        };
        assert_eq!(m.to_string(), "00:1B:21:0A:0B:0C");
    }
}

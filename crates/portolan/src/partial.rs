//! The hosts a checkpoint keeps begun but not finished, with the ports
//! resolved so far (see [`crate::checkpoint`]).
//!
//! Why this form: a checkpoint is rewritten every two seconds, and may
//! hold a host of 65,535 ports half done, or thousands of hosts of a few
//! ports each. Listing every port as a record would make it megabytes;
//! most of a host's ports share one state, reason and TTL (closed by a
//! reset, or filtered), so that one is written once with its ports as a
//! range list (`tcp:1-1024,8080;udp:53`), and the same list is shared by
//! every host that has it. The other ports are listed one by one.

use portolan_model::{HostResult, HostStatus, PortResult, PortState, Protocol, Reason};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// A host begun and not finished: the ports resolved so far.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartialHost {
    /// Its address.
    pub addr: IpAddr,
    /// Why it is up, and the TTL of that answer.
    pub reason: Reason,
    /// See `reason`.
    pub ttl: u8,
    /// Its most common port result, and where its ports are.
    pub common: Option<CommonPorts>,
    /// Its other ports.
    pub others: Vec<KnownPort>,
}

/// Ports of one state, reason and TTL: [`Checkpoint::port_sets`]`[set]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommonPorts {
    /// Their state.
    pub state: PortState,
    /// Their reason.
    pub reason: Reason,
    /// Their reason's TTL.
    pub ttl: u8,
    /// Index of their port list.
    pub set: usize,
}

/// One resolved port.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KnownPort {
    /// Its number.
    pub port: u16,
    /// Its protocol.
    pub protocol: Protocol,
    /// Its state.
    pub state: PortState,
    /// Its reason.
    pub reason: Reason,
    /// Its reason's TTL.
    pub ttl: u8,
}

/// `tcp:1-3,7;udp:53` for the ports given (sorted by protocol, port).
fn ranges(ports: &[(Protocol, u16)]) -> String {
    let mut by_proto: BTreeMap<Protocol, Vec<u16>> = BTreeMap::new();
    for &(proto, port) in ports {
        by_proto.entry(proto).or_default().push(port);
    }
    let mut out = String::new();
    for (proto, mut list) in by_proto {
        list.sort_unstable();
        list.dedup();
        if !out.is_empty() {
            out.push(';');
        }
        out.push_str(proto.as_str());
        out.push(':');
        let mut i = 0;
        while i < list.len() {
            let mut j = i;
            while j + 1 < list.len() && list[j + 1] == list[j] + 1 {
                j += 1;
            }
            if i > 0 {
                out.push(',');
            }
            if i == j {
                out.push_str(&list[i].to_string());
            } else {
                out.push_str(&format!("{}-{}", list[i], list[j]));
            }
            i = j + 1;
        }
    }
    out
}

/// [`ranges`]' text read back; `None` if it is not such a text.
fn parse_ranges(text: &str) -> Option<Vec<(Protocol, u16)>> {
    let mut out = Vec::new();
    for part in text.split(';').filter(|p| !p.is_empty()) {
        let (proto, list) = part.split_once(':')?;
        let proto = match proto {
            "tcp" => Protocol::Tcp,
            "udp" => Protocol::Udp,
            "sctp" => Protocol::Sctp,
            _ => return None,
        };
        for r in list.split(',') {
            let (a, b) = r.split_once('-').unwrap_or((r, r));
            let (a, b): (u16, u16) = (a.parse().ok()?, b.parse().ok()?);
            if a > b {
                return None;
            }
            out.extend((a..=b).map(|p| (proto, p)));
        }
    }
    Some(out)
}

impl PartialHost {
    /// `host`'s resolved ports in the checkpoint's form; shared port
    /// lists go to `sets` (each found again through `index`).
    pub fn of(
        host: &HostResult,
        sets: &mut Vec<String>,
        index: &mut HashMap<String, usize>,
    ) -> Self {
        let mut counts: HashMap<(PortState, Reason, u8), usize> = HashMap::new();
        for p in &host.ports {
            *counts.entry((p.state, p.reason, p.reason_ttl)).or_default() += 1;
        }
        let top = counts
            .into_iter()
            .max_by_key(|&(k, n)| (n, std::cmp::Reverse(k)))
            .map(|(k, _)| k);
        let mut mine = Vec::new();
        let mut others = Vec::new();
        for p in &host.ports {
            if Some((p.state, p.reason, p.reason_ttl)) == top {
                mine.push((p.protocol, p.port));
            } else {
                others.push(KnownPort {
                    port: p.port,
                    protocol: p.protocol,
                    state: p.state,
                    reason: p.reason,
                    ttl: p.reason_ttl,
                });
            }
        }
        let common = top.map(|(state, reason, ttl)| {
            let text = ranges(&mine);
            let set = *index.entry(text).or_insert_with_key(|t| {
                sets.push(t.clone());
                sets.len() - 1
            });
            CommonPorts {
                state,
                reason,
                ttl,
                set,
            }
        });
        PartialHost {
            addr: host.addr,
            reason: host.reason,
            ttl: host.reason_ttl,
            common,
            others,
        }
    }

    /// The host with its resolved ports, as the resumed run's engine
    /// starts it; `None` if the checkpoint's port list is damaged.
    pub fn to_host(&self, sets: &[String]) -> Option<HostResult> {
        let mut h = HostResult::new(self.addr, HostStatus::Up, self.reason);
        h.reason_ttl = self.ttl;
        h.incomplete = true;
        if let Some(c) = &self.common {
            for (protocol, port) in parse_ranges(sets.get(c.set)?)? {
                h.ports.push(PortResult {
                    port,
                    protocol,
                    state: c.state,
                    reason: c.reason,
                    reason_ttl: c.ttl,
                    service: None,
                });
            }
        }
        h.ports.extend(self.others.iter().map(|k| PortResult {
            port: k.port,
            protocol: k.protocol,
            state: k.state,
            reason: k.reason,
            reason_ttl: k.ttl,
            service: None,
        }));
        Some(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(
        port: u16,
        protocol: Protocol,
        state: PortState,
        reason: Reason,
        ttl: u8,
    ) -> PortResult {
        PortResult {
            port,
            protocol,
            state,
            reason,
            reason_ttl: ttl,
            service: None,
        }
    }

    #[test]
    fn a_host_reads_back_with_every_port_as_it_was_and_lists_are_shared() {
        let mut h = HostResult::new(
            "198.18.0.9".parse().unwrap(),
            HostStatus::Up,
            Reason::SynAck,
        );
        h.reason_ttl = 64;
        h.incomplete = true;
        for p in (1..=1000u16).filter(|p| p % 7 != 0) {
            h.ports
                .push(port(p, Protocol::Tcp, PortState::Closed, Reason::Reset, 64));
        }
        h.ports
            .push(port(22, Protocol::Tcp, PortState::Open, Reason::SynAck, 63));
        h.ports.push(port(
            53,
            Protocol::Udp,
            PortState::Closed,
            Reason::Reset,
            64,
        ));
        h.ports.push(port(
            65535,
            Protocol::Tcp,
            PortState::Filtered,
            Reason::NoResponse,
            0,
        ));
        h.ports
            .retain(|p| !(p.port == 22 && p.state == PortState::Closed));
        let (mut sets, mut index) = (Vec::new(), HashMap::new());
        let p = PartialHost::of(&h, &mut sets, &mut index);
        let mut other = h.clone();
        other.addr = "198.18.0.10".parse().unwrap();
        let q = PartialHost::of(&other, &mut sets, &mut index);
        assert_eq!(sets.len(), 1, "one list for both hosts: {sets:?}");
        assert_eq!(q.common.as_ref().map(|c| c.set), Some(0));
        assert_eq!(p.others.len(), 2);
        let mut back = p.to_host(&sets).unwrap();
        back.ports.sort_by_key(|p| (p.protocol, p.port));
        h.ports.sort_by_key(|p| (p.protocol, p.port));
        assert_eq!(back, h);
    }

    #[test]
    fn range_lists_round_trip_and_bad_ones_are_refused() {
        let ports = [
            (Protocol::Tcp, 1),
            (Protocol::Tcp, 2),
            (Protocol::Tcp, 3),
            (Protocol::Tcp, 9),
            (Protocol::Sctp, 7),
        ];
        let text = ranges(&ports);
        assert_eq!(text, "tcp:1-3,9;sctp:7");
        let mut back = parse_ranges(&text).unwrap();
        back.sort();
        let mut want = ports.to_vec();
        want.sort();
        assert_eq!(back, want);
        for bad in ["tcp:3-1", "icmp:1", "tcp:x", "tcp:70000", "tcp"] {
            assert_eq!(parse_ranges(bad), None, "{bad}");
        }
    }
}

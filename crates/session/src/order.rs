//! Hosts written in target order, as nmap writes each host group.
//!
//! Why: hosts finish in whatever order the network answers (and the
//! engine visits them in a permuted order), so two runs of the same scan
//! listed hosts differently. nmap reports a host group's hosts in the
//! order they were given. Here one group is the whole target list when it
//! has at most [`MAX_ORDERED`] hosts: finished hosts are held and written
//! in target order once probing and the host stages are over. Larger
//! scans are written as hosts finish, so memory stays bounded by
//! [`MAX_ORDERED`] hosts. Held hosts are also bounded by their ports: once
//! they hold [`MAX_HELD_PORTS`] port results (a full-port scan of a few
//! hosts), the group ends there and they are written, in target order,
//! before the next are held, as nmap ends a host group.

use portolan_model::{HostResult, HostnameKind};
use portolan_targets::TargetList;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

/// The most targets whose hosts are held to be written in order.
pub const MAX_ORDERED: u64 = 4096;

/// The most port results held at once (one full-port host: some 20 MB
/// with their table-guessed services), after which the held hosts are
/// written (see the module docs).
pub const MAX_HELD_PORTS: usize = 1 << 16;

/// A target as it appears in a host: its address and the name typed.
type Key = (IpAddr, Option<String>);

/// Holds finished hosts and gives them back in target order.
pub(crate) struct TargetOrder {
    /// Each target's positions in the list (a target given twice has two).
    ranks: HashMap<Key, VecDeque<u64>>,
    held: Vec<(u64, u64, HostResult)>,
    /// Port results in `held`.
    held_ports: usize,
}

impl TargetOrder {
    /// An orderer for `targets`, or `None` when the list is too long to
    /// hold.
    pub fn new(targets: &TargetList) -> Option<Self> {
        if targets.len() > MAX_ORDERED {
            return None;
        }
        let mut ranks: HashMap<Key, VecDeque<u64>> = HashMap::new();
        for (i, t) in targets.iter().enumerate() {
            let key = (t.addr, t.name.map(|n| n.to_string()));
            ranks.entry(key).or_default().push_back(i as u64);
        }
        Some(TargetOrder {
            ranks,
            held: Vec::new(),
            held_ports: 0,
        })
    }

    /// Holds `host` until [`drain`](Self::drain).
    pub fn hold(&mut self, host: HostResult) {
        let typed = host
            .hostnames
            .iter()
            .find(|h| h.kind == HostnameKind::User)
            .map(|h| h.name.clone());
        let rank = self
            .ranks
            .get_mut(&(host.addr, typed))
            .and_then(VecDeque::pop_front)
            .unwrap_or(u64::MAX);
        let arrival = self.held.len() as u64;
        self.held_ports += host.ports.len();
        self.held.push((rank, arrival, host));
    }

    /// Whether the held hosts should be written now (see
    /// [`MAX_HELD_PORTS`]).
    /// The hosts held so far, in no particular order.
    pub fn held(&self) -> impl Iterator<Item = &HostResult> {
        self.held.iter().map(|(_, _, h)| h)
    }

    pub fn is_full(&self) -> bool {
        self.held_ports >= MAX_HELD_PORTS
    }

    /// The held hosts, in target order (unknown ones last, as they came).
    pub fn drain(&mut self) -> Vec<HostResult> {
        self.held.sort_by_key(|&(rank, arrival, _)| (rank, arrival));
        self.held_ports = 0;
        self.held.drain(..).map(|(_, _, h)| h).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portolan_model::{HostStatus, Hostname, Reason};
    use portolan_targets::{SystemResolver, TargetOptions};

    fn host(addr: &str, name: Option<&str>) -> HostResult {
        let mut h = HostResult::new(addr.parse().unwrap(), HostStatus::Up, Reason::UserSet);
        if let Some(n) = name {
            h.hostnames.push(Hostname {
                name: n.into(),
                kind: HostnameKind::User,
            });
        }
        h
    }

    #[test]
    fn hosts_come_back_in_target_order_whatever_order_they_finished() {
        let exprs: Vec<String> = ["198.18.0.9", "198.18.0.1-3", "198.18.0.1"]
            .map(String::from)
            .to_vec();
        let (list, _) = TargetList::build(&exprs, &[], &TargetOptions::default(), &SystemResolver)
            .expect("targets");
        let mut order = TargetOrder::new(&list).expect("small list");
        for a in [
            "198.18.0.3",
            "198.18.0.1",
            "198.18.0.9",
            "198.18.0.2",
            "198.18.0.1",
        ] {
            order.hold(host(a, None));
        }
        order.hold(host("198.18.7.7", None));
        let got: Vec<String> = order.drain().iter().map(|h| h.addr.to_string()).collect();
        assert_eq!(
            got,
            [
                "198.18.0.9",
                "198.18.0.1",
                "198.18.0.2",
                "198.18.0.3",
                "198.18.0.1",
                "198.18.7.7"
            ]
        );
    }

    #[test]
    fn held_ports_are_bounded_and_a_full_group_is_written_in_order() {
        let exprs = vec!["198.18.0.1-3".to_string()];
        let (list, _) = TargetList::build(&exprs, &[], &TargetOptions::default(), &SystemResolver)
            .expect("targets");
        let mut order = TargetOrder::new(&list).expect("small list");
        let mut big = host("198.18.0.3", None);
        big.ports = vec![
            portolan_model::PortResult {
                port: 1,
                protocol: portolan_model::Protocol::Tcp,
                state: portolan_model::PortState::Closed,
                reason: Reason::Reset,
                reason_ttl: 64,
                service: None,
            };
            MAX_HELD_PORTS / 2
        ];
        order.hold(host("198.18.0.2", None));
        order.hold(big.clone());
        assert!(!order.is_full());
        order.hold(big);
        assert!(order.is_full());
        assert_eq!(order.drain().len(), 3);
        assert!(!order.is_full(), "drained");
    }
}

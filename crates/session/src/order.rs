//! Hosts written in target order, as nmap writes each host group.
//!
//! Why: hosts finish in whatever order the network answers (and the
//! engine visits them in a permuted order), so two runs of the same scan
//! listed hosts differently. nmap reports a host group's hosts in the
//! order they were given. Here one group is the whole target list when it
//! has at most [`MAX_ORDERED`] hosts: finished hosts are held and written
//! in target order once probing and the host stages are over. Larger
//! scans are written as hosts finish, so memory stays bounded by
//! [`MAX_ORDERED`] hosts.

use portolan_model::{HostResult, HostnameKind};
use portolan_targets::TargetList;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

/// The most targets whose hosts are held to be written in order.
pub const MAX_ORDERED: u64 = 4096;

/// A target as it appears in a host: its address and the name typed.
type Key = (IpAddr, Option<String>);

/// Holds finished hosts and gives them back in target order.
pub(crate) struct TargetOrder {
    /// Each target's positions in the list (a target given twice has two).
    ranks: HashMap<Key, VecDeque<u64>>,
    held: Vec<(u64, u64, HostResult)>,
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
        self.held.push((rank, arrival, host));
    }

    /// The held hosts, in target order (unknown ones last, as they came).
    pub fn drain(&mut self) -> Vec<HostResult> {
        self.held.sort_by_key(|&(rank, arrival, _)| (rank, arrival));
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
}

//! The order probes go out in: host groups, permutations, shards.
//!
//! A scan of a /8 must not hold state for sixteen million hosts, and
//! consecutive probes must not hammer one host or one port, so hosts are
//! visited in a keyed permuted order, in *host groups*: the next group's
//! hosts are fetched from the [`HostSource`](crate::target::HostSource)
//! when the previous group has sent all its first transmissions, and at
//! most two groups' worth of hosts hold state at a time, so memory is
//! bounded by the group size, not by the scan. Within a group the
//! `hosts x ports` space (ports of every technique, concatenated) is
//! permuted again, so consecutive probes hit different hosts and ports;
//! with `sequential_ports` a host's ports go out in the given order,
//! hosts interleaved, and so does a single port's sweep (its hosts are in
//! permuted order already).
//!
//! **Shards.** `--shard K/N` splits by host: the host at permuted position
//! `p` belongs to shard `p mod N == K-1`. Every host is scanned by exactly
//! one shard, so each shard's results are complete hosts.

use super::host_limits::RstEvidence;
use super::{join, HostState, PortSlot, Scan, FRESH};
use crate::permutation::{mix64, Permutation};
use crate::rtt::RttEstimator;
use crate::target::HostTarget;
use std::time::Instant;

/// Which target indexes a shard holds, for callers that walk the targets
/// themselves (`-sL`): the same test the scan's host order makes, so a
/// listed shard is exactly the hosts that shard would scan.
#[derive(Debug)]
pub struct ShardFilter {
    perm: Permutation,
    k: u64,
    n: u64,
}

impl ShardFilter {
    /// The filter for `plan`'s shard over `hosts` targets; `None` when
    /// the plan has no shard (every index belongs).
    pub fn new(plan: &super::ScanPlan, hosts: u64) -> Option<Self> {
        match plan.shard {
            Some((k, n)) if n > 1 && k >= 1 && k <= n => Some(ShardFilter {
                perm: Permutation::new(hosts, plan.seed),
                k: u64::from(k - 1),
                n: u64::from(n),
            }),
            _ => None,
        }
    }

    /// Whether the target at `index` is in this shard.
    pub fn contains(&self, index: u64) -> bool {
        self.perm.inverse(index) % self.n == self.k
    }
}

pub(super) struct Group {
    pub(super) slots: Vec<(u32, u32)>,
    pub(super) perm: Permutation,
    pub(super) next: u64,
}

/// Hosts fetched at most per call when skipping excluded indexes.
const HOST_SCAN_BUDGET: u32 = 1 << 16;

impl Scan {
    /// The next first transmission, without consuming it.
    pub(super) fn peek_fresh(&mut self, now: Instant) -> Option<(u64, u32)> {
        loop {
            let exhausted = match &self.group {
                Some(g) => g.next >= g.perm.len(),
                None => true,
            };
            if exhausted {
                self.group = None;
                if (self.next_host >= self.shard_hosts && self.repeats.is_empty())
                    || self.active >= (self.group_size as usize).saturating_mul(2)
                {
                    return None;
                }
                let before = (self.next_host, self.repeats.len());
                self.start_group(now);
                if self.group.is_none() && (self.next_host, self.repeats.len()) == before {
                    // Only repeats whose address is still being scanned.
                    return None;
                }
                continue;
            }
            let g = self.group.as_ref().expect("not exhausted");
            let nh = g.slots.len() as u64;
            let j = g.next;
            // One port per host: the hosts are already in the keyed
            // permuted order (`host_perm`), so a second permutation would
            // only scatter the walk over the host states (a cache miss per
            // probe on a sweep's 65536 hosts) without mixing anything more.
            let (hi, pi) = if self.plan.sequential_ports || self.port_map.len() == 1 {
                (j % nh, j / nh)
            } else {
                let v = g.perm.get(j);
                (v % nh, v / nh)
            };
            let (slot, gen) = g.slots[hi as usize];
            let key = join(slot, pi as u32);
            if self.pending(key, gen).is_some() {
                return Some((key, gen));
            }
            if let Some(g) = &mut self.group {
                g.next += 1;
            }
        }
    }

    fn start_group(&mut self, now: Instant) {
        let mut slots = Vec::new();
        for _ in 0..self.repeats.len() {
            if slots.len() >= self.group_size as usize {
                break;
            }
            let target = self.repeats.pop_front().expect("counted");
            if self.by_addr.contains_key(&target.addr) {
                self.repeats.push_back(target);
            } else {
                let slot = self.alloc(target);
                slots.push(slot);
            }
        }
        let mut budget = HOST_SCAN_BUDGET;
        while slots.len() < self.group_size as usize
            && self.next_host < self.shard_hosts
            && budget > 0
        {
            budget -= 1;
            let pos = self.next_host * self.shard_n + self.shard_k;
            self.next_host += 1;
            let idx = self.host_perm.get(pos);
            let Some(target) = self.hosts_src.get(idx) else {
                self.hosts_skipped += 1;
                continue;
            };
            if self.by_addr.contains_key(&target.addr) {
                self.repeats.push_back(target);
                continue;
            }
            let slot = self.alloc(target);
            if self.apply_known(slot.0, now) {
                slots.push(slot);
            }
        }
        if self.port_map.is_empty() {
            for &(slot, _) in &slots {
                self.finish(slot, now, false);
            }
            return;
        }
        if slots.is_empty() {
            return;
        }
        let size = slots.len() as u64 * self.port_map.len() as u64;
        let seed = mix64(self.plan.seed ^ mix64(self.next_host));
        self.group = Some(Group {
            slots,
            perm: Permutation::new(size, seed),
            next: 0,
        });
    }

    /// Gives the host in `slot` the ports an earlier run resolved
    /// ([`ScanPlan::known`](super::ScanPlan::known)); returns false when
    /// that left nothing to probe (the host is finished then).
    fn apply_known(&mut self, slot: u32, now: Instant) -> bool {
        let Some(known) = self
            .plan
            .known
            .clone()
            .filter(|_| !self.plan.decide_on_answer)
        else {
            return true;
        };
        let Some(Some(h)) = self.hosts.get_mut(slot as usize) else {
            return true;
        };
        let Some(earlier) = known.get(&h.target.addr) else {
            return true;
        };
        for p in &earlier.ports {
            let tech = self
                .plan
                .techniques
                .iter()
                .position(|t| t.protocol == p.protocol);
            let Some(idx) = tech.and_then(|t| self.lookup.get(t)).and_then(|l| {
                l.get(usize::from(p.port))
                    .copied()
                    .filter(|&i| i > 0)
                    .map(|i| i as usize - 1)
            }) else {
                continue;
            };
            let slot = &mut h.ports[idx];
            if slot.state.is_none() {
                *slot = PortSlot {
                    state: Some(p.state),
                    reason: p.reason,
                    ttl: p.reason_ttl,
                    sent: 0,
                    in_flight: false,
                };
                h.left = h.left.saturating_sub(1);
                self.resolved += 1;
            }
        }
        if earlier.reason != portolan_model::Reason::UserSet {
            h.answered = Some((earlier.reason, earlier.reason_ttl));
        }
        if h.left == 0 {
            self.finish(slot, now, false);
            return false;
        }
        true
    }

    fn alloc(&mut self, target: HostTarget) -> (u32, u32) {
        self.next_gen = self.next_gen.wrapping_add(1);
        let gen = self.next_gen;
        let addr = target.addr;
        let state = HostState {
            gen,
            target,
            ports: smallvec::smallvec![FRESH; self.port_map.len()],
            left: self.port_map.len() as u32,
            answered: None,
            rtt: RttEstimator::default(),
            started: None,
            icmp_errors: 0,
            silent_exhausted: 0,
            trickle: None,
            stack: None,
            rate_limit: None,
            rst: RstEvidence::default(),
            icmp_witness: None,
            check: None,
        };
        let slot = match self.free.pop() {
            Some(s) => {
                self.hosts[s as usize] = Some(state);
                s
            }
            None => {
                self.hosts.push(Some(state));
                (self.hosts.len() - 1) as u32
            }
        };
        self.by_addr.insert(addr, slot);
        self.active += 1;
        (slot, gen)
    }

    /// Whether every port has had its first transmission (the scan only
    /// retransmits and waits from here on).
    pub fn is_draining(&self) -> bool {
        self.stopped
            || (self.group.as_ref().is_none_or(|g| g.next >= g.perm.len())
                && self.next_host >= self.shard_hosts)
    }
}

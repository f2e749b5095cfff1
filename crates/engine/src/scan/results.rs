//! What a scan hands out: resolved ports, finished hosts, progress.
//!
//! A port is resolved once, by a reply or by running out of attempts
//! (its technique's no-reply state); a host is finished when its last port
//! is resolved, at `--host-timeout`, or by a decisive discovery answer,
//! and its state is then turned into a [`HostResult`] at once and freed,
//! so finished hosts cost no memory while the scan goes on.

use super::host_limits::{error_signalled, is_tcp};
use super::{join, HostState, Scan};
use portolan_model::{
    HostResult, HostStatus, Hostname, HostnameKind, IcmpRateLimit, PortResult, Protocol, Reason,
};
use std::time::{Duration, Instant, UNIX_EPOCH};

/// A snapshot of a scan's progress.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Progress {
    /// Probes sent, retransmissions included.
    pub probes_sent: u64,
    /// Retransmissions among them.
    pub retransmits: u64,
    /// Ports with a final state.
    pub ports_resolved: u64,
    /// Ports to scan in total (excluded hosts included until skipped).
    pub ports_total: u64,
    /// Hosts finished.
    pub hosts_done: u64,
    /// Hosts in this shard, excluded indexes included.
    pub hosts_total: u64,
    /// Recent send rate, probes per second.
    pub rate: f64,
    /// Estimated time to completion.
    pub eta: Option<Duration>,
    /// Congestion window.
    pub cwnd: usize,
    /// Probes in flight.
    pub in_flight: usize,
}

impl Scan {
    pub(super) fn port_resolved(&mut self, slot: u32, now: Instant) {
        self.resolved += 1;
        let Some(Some(h)) = self.hosts.get_mut(slot as usize) else {
            return;
        };
        h.left = h.left.saturating_sub(1);
        if h.left == 0 {
            self.finish(slot, now, false);
        }
    }

    pub(super) fn resolve_silent(&mut self, slot: u32, idx: u32, now: Instant) {
        let (tech, _) = self.port_map[idx as usize];
        let (state, reason) = self.plan.techniques[usize::from(tech)].no_reply;
        let Some(Some(h)) = self.hosts.get_mut(slot as usize) else {
            return;
        };
        let p = &mut h.ports[idx as usize];
        if p.state.is_some() {
            return;
        }
        p.state = Some(state);
        p.reason = reason;
        p.ttl = 0;
        self.silent_resolved += 1;
        self.port_resolved(slot, now);
    }

    pub(super) fn finish(&mut self, slot: u32, now: Instant, timed_out: bool) {
        let Some(mut h) = self.hosts.get_mut(slot as usize).and_then(Option::take) else {
            return;
        };
        self.free.push(slot);
        self.active -= 1;
        self.by_addr.remove(&h.target.addr);
        if h.trickle.is_some() {
            self.trickling.retain(|&(s, _)| s != slot);
        }
        if h.check.is_some() {
            self.checking.retain(|&(s, _)| s != slot);
        }
        if timed_out || h.left > 0 {
            for (idx, p) in h.ports.iter().enumerate() {
                if p.in_flight {
                    let key = join(slot, idx as u32);
                    if let Some(f) = self.in_flight.remove(&key) {
                        self.unpipe(&f);
                        self.cc.on_void(f.epoch);
                    }
                }
            }
        }
        self.hosts_done += 1;
        let (reason, ttl) = h.answered.unwrap_or((Reason::UserSet, 0));
        let mut r = HostResult::new(h.target.addr, HostStatus::Up, reason);
        r.reason_ttl = ttl;
        if let Some(name) = &h.target.name {
            r.hostnames.push(Hostname {
                name: name.to_string(),
                kind: HostnameKind::User,
            });
        }
        r.latency = h.rtt.srtt();
        r.start_time = self.unix_at(h.started.unwrap_or(now));
        r.end_time = self.unix_at(now);
        r.timed_out = timed_out;
        r.stack = h.stack.take();
        r.ports = self.resolved_ports(&h);
        r.ports.sort_by_key(|p| (p.port, p.protocol));
        if let (true, Some(t)) = (h.rst.paced, &h.trickle) {
            // The limit as a saturated window measured it, else the resets
            // per second while paced (a little under the limit).
            let secs = now.saturating_duration_since(t.since).as_secs_f64();
            if let Some(m) = h.rst.measured {
                h.rate_limit = Some(m);
            } else if secs >= 1.0 && t.replies > 0 {
                h.rate_limit = Some(f64::from(t.replies) / secs);
            }
        }
        if let Some(rate) = h.rate_limit {
            let tcp = h.rst.paced;
            let unresolved = h
                .ports
                .iter()
                .enumerate()
                .filter(|(idx, p)| {
                    let (tech, _) = self.port_map[*idx];
                    let affected = if tcp {
                        is_tcp(&self.plan, tech)
                    } else {
                        error_signalled(&self.plan, tech)
                    };
                    affected && p.state.is_some() && p.reason == Reason::NoResponse
                })
                .count() as u32;
            r.icmp_rate_limit = Some(IcmpRateLimit {
                protocol: if tcp { Protocol::Tcp } else { Protocol::Udp },
                observed_per_sec: rate,
                unresolved,
                exact: tcp || self.plan.udp_exact,
                tcp_icmp: false,
            });
        }
        if let (None, Some((rate, unresolved))) =
            (r.icmp_rate_limit, h.check.as_ref().and_then(|c| c.note()))
        {
            r.icmp_rate_limit = Some(IcmpRateLimit {
                protocol: Protocol::Tcp,
                observed_per_sec: rate,
                unresolved,
                exact: unresolved == 0,
                tcp_icmp: true,
            });
        }
        self.done.push_back(r);
    }

    /// Finishes, marked incomplete, every active host with a port
    /// resolved (see [`Scan::stop`]).
    pub(super) fn finish_interrupted(&mut self) {
        let now = self.last_now;
        let partial: Vec<u32> = self
            .hosts
            .iter()
            .enumerate()
            .filter(|(_, h)| {
                h.as_ref()
                    .is_some_and(|h| h.ports.iter().any(|p| p.state.is_some()))
            })
            .map(|(slot, _)| slot as u32)
            .collect();
        for slot in partial {
            self.finish(slot, now, false);
            if let Some(r) = self.done.back_mut() {
                r.incomplete = true;
            }
        }
    }

    /// The ports resolved so far of every host still being scanned (with
    /// at least one), as [`HostResult`]s marked incomplete: what a
    /// checkpoint keeps so that `--resume` continues a host where it was
    /// ([`ScanPlan::known`](super::ScanPlan::known)). Empty for a
    /// discovery scan, whose unanswered pings prove nothing yet.
    pub fn partial_hosts(&self) -> Vec<HostResult> {
        if self.plan.decide_on_answer {
            return Vec::new();
        }
        let mut out = Vec::new();
        for h in self.hosts.iter().flatten() {
            if h.left as usize == h.ports.len() {
                continue;
            }
            let (reason, ttl) = h.answered.unwrap_or((Reason::UserSet, 0));
            let mut r = HostResult::new(h.target.addr, HostStatus::Up, reason);
            r.reason_ttl = ttl;
            r.incomplete = true;
            r.ports = self.resolved_ports(h);
            out.push(r);
        }
        out
    }

    /// The ports of `h` resolved so far, in slot order.
    fn resolved_ports(&self, h: &HostState) -> Vec<PortResult> {
        h.ports
            .iter()
            .enumerate()
            .filter_map(|(idx, p)| {
                let (tech, port) = self.port_map[idx];
                Some(PortResult {
                    port,
                    protocol: self.plan.techniques[usize::from(tech)].protocol,
                    state: p.state?,
                    reason: p.reason,
                    reason_ttl: p.ttl,
                    service: None,
                })
            })
            .collect()
    }

    fn unix_at(&self, t: Instant) -> u64 {
        let wall = self.plan.start_wall + t.saturating_duration_since(self.start);
        wall.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
    }

    /// The next finished host, if any.
    pub fn poll_host(&mut self) -> Option<HostResult> {
        self.done.pop_front()
    }

    /// Progress figures as of the last call that passed an instant.
    pub fn progress(&self) -> Progress {
        let ports = self.port_map.len() as u64;
        let total = self.shard_hosts.saturating_sub(self.hosts_skipped) * ports;
        let elapsed = self
            .last_now
            .saturating_duration_since(self.start)
            .as_secs_f64();
        let eta = if self.resolved > 0 && elapsed > 0.0 {
            let per_sec = self.resolved as f64 / elapsed;
            Some(Duration::from_secs_f64(
                (total.saturating_sub(self.resolved) as f64 / per_sec).min(1e9),
            ))
        } else {
            None
        };
        let rate = if self.rate > 0.0 {
            self.rate
        } else if elapsed > 0.0 {
            self.sent as f64 / elapsed
        } else {
            0.0
        };
        Progress {
            probes_sent: self.sent,
            retransmits: self.retransmits,
            ports_resolved: self.resolved,
            ports_total: total,
            hosts_done: self.hosts_done,
            hosts_total: self.shard_hosts,
            rate,
            eta,
            cwnd: self.cc.window(),
            in_flight: self.in_flight.len(),
        }
    }
}

//! Probes in flight: their slots, deadlines, retransmissions and replies.
//!
//! Every transmission is one entry of a map keyed by (host slot, port
//! index), one entry of the *pipe* (probes younger than an RTT estimate,
//! which hold the congestion window) and one entry of a deadline heap;
//! stale heap and pipe entries are recognised by their launch number
//! rather than removed, so a reply or a timeout costs O(log n), not a
//! search.
//!
//! **Retries.** A probe unanswered at its deadline (the host's RTO, or the
//! scan's until the host answered) is retransmitted until the port has had
//! `allowed` transmissions, where `allowed` is the smallest of
//! `max_retries + 1` and the largest of: 2; one more than the most
//! transmissions any answered port needed; and the count that makes missing
//! an answering port to random loss unlikely (`a · q^k < 0.01`, with `a`
//! the ports per host expected to answer, from the share of ports that
//! answered so far, and `q` the proven loss ratio: transmissions followed
//! by an answer to a later attempt, with a prior of 1 in 50). A clean
//! network thus costs one retransmission per silent port, a lossy one as
//! many as its measured loss requires.
//!
//! Replies feed the RTT estimates, the congestion control, the loss
//! evidence above and the rate-limit evidence of `host_limits`; with
//! [`ScanPlan::decide_on_answer`](super::ScanPlan::decide_on_answer) a
//! host's first decisive answer finishes it.

use super::host_limits::{error_signalled, is_tcp, Phase};
use super::icmp_allowance::{icmp_checked, is_icmp_error};
use super::{join, split, HostState, Probe, Scan, SendError};
use crate::module::{ProbeSpec, Reply};
use portolan_model::{PortState, Reason};
use std::cmp::Reverse;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::time::{Duration, Instant};

/// Multiplicative hasher for the engine's `u64` keys.
#[derive(Default)]
pub(super) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (n ^ (n >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

pub(super) type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<KeyHasher>>;

pub(super) struct InFlight {
    pub(super) sent_at: Instant,
    pub(super) attempt: u8,
    pub(super) gen: u32,
    /// Number of this transmission among all the scan's, so a pipe or
    /// deadline entry of an earlier transmission of the same port (one the
    /// driver could not send, then sent again) is never taken for it.
    pub(super) launch: u32,
    pub(super) known: bool,
    pub(super) epoch: u64,
    pub(super) in_pipe: bool,
}

impl Scan {
    /// How long a probe counts toward the window: about one RTO without
    /// the `--min-rtt-timeout` floor. A probe unanswered by then is lost or
    /// filtered; it still waits for its deadline, but no longer holds the
    /// window, so silently dropped ports cost one RTT of window, not one
    /// timeout (TCP likewise stops counting packets marked lost).
    pub(super) fn pipe_time(&self) -> Duration {
        let t = &self.plan.timing;
        self.global_rtt.rto(
            Duration::from_millis(1),
            t.max_rtt_timeout,
            t.initial_rtt_timeout,
        )
    }

    pub(super) fn drain_pipe(&mut self, now: Instant) {
        let pt = self.pipe_time();
        while let Some(&(sent, key, launch)) = self.pipe.front() {
            if sent + pt > now {
                break;
            }
            self.pipe.pop_front();
            if let Some(f) = self.in_flight.get_mut(&key) {
                if f.launch == launch && f.in_pipe {
                    f.in_pipe = false;
                    self.cc.on_silence();
                    if f.known {
                        self.pipe_known -= 1;
                    } else {
                        self.pipe_silent -= 1;
                    }
                }
            }
        }
    }

    /// Transmissions a port may get now (see the module documentation).
    pub fn allowed_attempts(&self) -> u8 {
        let cap = self.plan.timing.max_retries.saturating_add(1);
        let q = (self.proven_lost as f64 + 1.0)
            / (self.answers as f64 + self.proven_lost as f64 + 50.0);
        let ports = self.port_map.len().max(1) as f64;
        let answering =
            (self.answers as f64 + 1.0) / (self.answers + self.silent_resolved + 1) as f64;
        let at_risk = (ports * answering).max(1.0);
        let by_loss = ((0.01 / at_risk).ln() / q.ln()).ceil();
        let by_loss = if by_loss.is_finite() {
            by_loss.clamp(1.0, 255.0) as u8
        } else {
            255
        };
        let want = by_loss.max(self.max_needed.saturating_add(1)).max(2);
        want.min(cap).max(1)
    }

    pub(super) fn rto(&self, host: &HostState) -> Duration {
        let t = &self.plan.timing;
        let est = if host.rtt.srtt().is_some() {
            &host.rtt
        } else {
            &self.global_rtt
        };
        est.rto(t.min_rtt_timeout, t.max_rtt_timeout, t.initial_rtt_timeout)
    }

    /// Whether `(key, gen)` names a live, unresolved port not in flight;
    /// returns whether its host has answered.
    pub(super) fn pending(&self, key: u64, gen: u32) -> Option<bool> {
        let (slot, idx) = split(key);
        let h = self.hosts.get(slot as usize)?.as_ref()?;
        if h.gen != gen {
            return None;
        }
        let p = h.ports.get(idx as usize)?;
        if p.state.is_some() || p.in_flight {
            return None;
        }
        Some(h.answered.is_some())
    }

    pub(super) fn launch(&mut self, now: Instant, key: u64, gen: u32) -> Probe {
        let (slot, idx) = split(key);
        let (tech, port) = self.port_map[idx as usize];
        let host = self.hosts[slot as usize].as_mut().expect("pending checked");
        if host.started.is_none() {
            host.started = Some(now);
            if let Some(ht) = self.plan.timing.host_timeout {
                self.host_deadlines.push_back((now + ht, slot, gen));
            }
        }
        let p = &mut host.ports[idx as usize];
        let attempt = p.sent;
        let retrans = attempt > 0;
        p.sent = p.sent.saturating_add(1);
        p.in_flight = true;
        let known = host.answered.is_some();
        let addr = host.target.addr;
        let host = self.hosts[slot as usize].as_ref().expect("live");
        let deadline = now + self.rto(host);
        let epoch = self.cc.on_send(now, self.global_rtt.srtt());
        self.launches = self.launches.wrapping_add(1);
        let launch = self.launches;
        self.in_flight.insert(
            key,
            InFlight {
                sent_at: now,
                attempt,
                gen,
                launch,
                known,
                epoch,
                in_pipe: true,
            },
        );
        if known {
            self.pipe_known += 1;
        } else {
            self.pipe_silent += 1;
        }
        self.pipe.push_back((now, key, launch));
        self.deadlines.push(Reverse((deadline, key, launch)));
        self.sent += 1;
        if retrans {
            self.retransmits += 1;
        }
        if !self.plan.timing.scan_delay.is_zero() {
            self.next_send_at = now + self.plan.timing.scan_delay;
        }
        let elapsed = now.saturating_duration_since(self.rate_mark.0);
        if elapsed >= Duration::from_millis(500) {
            self.rate = (self.sent - self.rate_mark.1) as f64 / elapsed.as_secs_f64();
            self.rate_mark = (now, self.sent);
        }
        Probe {
            technique: usize::from(tech),
            spec: ProbeSpec {
                dst: addr,
                dport: port,
                attempt,
            },
            deadline,
            key,
            gen,
            scan: self.id,
        }
    }

    fn take_in_flight(&mut self, key: u64) -> Option<InFlight> {
        let f = self.in_flight.remove(&key)?;
        self.unpipe(&f);
        let (slot, idx) = split(key);
        if let Some(Some(h)) = self.hosts.get_mut(slot as usize) {
            if h.gen == f.gen {
                if let Some(p) = h.ports.get_mut(idx as usize) {
                    p.in_flight = false;
                }
            }
        }
        Some(f)
    }

    pub(super) fn unpipe(&mut self, f: &InFlight) {
        if f.in_pipe {
            if f.known {
                self.pipe_known -= 1;
            } else {
                self.pipe_silent -= 1;
            }
        }
    }

    /// Feeds a validated reply of technique `technique`. Replies about
    /// unknown hosts, unscanned ports or ports already resolved are
    /// ignored.
    pub fn on_reply(&mut self, now: Instant, technique: usize, reply: Reply) {
        self.last_now = now;
        let Some(&slot) = self.by_addr.get(&reply.dst) else {
            return;
        };
        let Some(table) = self.lookup.get(technique) else {
            return;
        };
        let idx = table[usize::from(reply.dport)];
        if idx == 0 {
            return;
        }
        let idx = idx - 1;
        let key = join(slot, idx);
        {
            let Some(Some(h)) = self.hosts.get(slot as usize) else {
                return;
            };
            let p = h.ports[idx as usize];
            if p.state.is_some() {
                // Perhaps the witness of an ICMP allowance round.
                self.witness_answer(slot, idx, reply.reason, reply.attempt, now);
                return;
            }
            if p.sent == 0 {
                return;
            }
            // A reply naming an attempt never sent is not ours (modules
            // encode the attempt modulo 16): for example another program's
            // SYN seen on loopback, which a bare-SYN rule cannot otherwise
            // tell from a split handshake.
            if matches!(reply.attempt, Some(a) if p.sent <= 16 && a >= p.sent) {
                return;
            }
        }
        let flight = self.take_in_flight(key);
        let Some(Some(h)) = self.hosts.get_mut(slot as usize) else {
            return;
        };
        if let (true, Some(t)) = (self.plan.stack_samples, reply.traits) {
            h.stack.get_or_insert_with(Box::default).offer(t);
        }
        let sent = h.ports[idx as usize].sent;
        let answered_attempt = reply.attempt.unwrap_or(sent.saturating_sub(1));
        let mut rtt = None;
        let mut first_sample = false;
        if let Some(f) = &flight {
            let unambiguous = match reply.attempt {
                Some(a) => a == f.attempt,
                None => sent == 1,
            };
            if unambiguous {
                let r = now.saturating_duration_since(f.sent_at);
                h.rtt.sample(r);
                first_sample = self.global_rtt.srtt().is_none();
                self.global_rtt.sample(r);
                rtt = Some(r);
            }
            self.cc.on_answer(f.epoch, f.sent_at, f.known, rtt);
        }
        self.answers += 1;
        let (tech, _) = self.port_map[idx as usize];
        let icmp_error = reply.state == PortState::Closed && error_signalled(&self.plan, tech);
        let checked = icmp_checked(&self.plan, tech);
        let tcp_icmp = checked && is_icmp_error(reply.reason);
        // An answer to an allowance round's probe (untimed) is paced by
        // the host's allowance, not by loss.
        let in_round = checked && flight.is_none() && h.check.is_some();
        let tcp = is_tcp(&self.plan, tech);
        let reset = tcp && reply.reason == Reason::Reset;
        let mut suspect = false;
        if tcp && answered_attempt == 0 {
            h.rst.first_answered = h.rst.first_answered.saturating_add(1);
        } else if reset && !h.rst.paced {
            let e = &mut h.rst;
            if answered_attempt == 1 {
                e.late1 = e.late1.saturating_add(1);
            } else {
                e.late2 = e.late2.saturating_add(1);
            }
            e.first_late.get_or_insert(now);
            e.last_late = Some(now);
            suspect = h.trickle.is_none() && e.rate_limited();
        }
        if reset && h.rst.paced {
            // Paced at the host's reset rate: a retry it answers proves
            // no loss, and an answer lets the pace quicken a little.
            if let Some(t) = &mut h.trickle {
                t.replies += 1;
                t.window.2 += 1;
            }
        } else if icmp_error {
            // Rate-limited by nature: a retry it answers proves no loss.
            h.icmp_errors += 1;
            if let Some(t) = &mut h.trickle {
                t.replies += 1;
                if t.phase == Phase::Exact {
                    t.interval = t.interval.mul_f64(0.97).max(t.base / 2);
                }
            }
        } else if !tcp_icmp && !in_round {
            self.proven_lost += u64::from(answered_attempt);
            self.max_needed = self.max_needed.max(answered_attempt.saturating_add(1));
        }
        if h.answered.is_none() {
            h.answered = Some((reply.reason, reply.ttl));
        }
        let p = &mut h.ports[idx as usize];
        p.state = Some(reply.state);
        p.reason = reply.reason;
        p.ttl = reply.ttl;
        let gen = h.gen;
        if tcp_icmp {
            self.on_icmp_error(slot, idx, now);
        }
        let decided = self.plan.decide_on_answer
            && reply.state != self.plan.techniques[usize::from(tech)].no_reply.0;
        if decided {
            let Some(Some(h)) = self.hosts.get(slot as usize) else {
                return;
            };
            // Discovery: the host is up; its other probes are moot.
            self.resolved += u64::from(h.left);
            self.finish(slot, now, false);
        } else {
            self.port_resolved(slot, now);
            if suspect {
                self.start_rst_pace(slot, gen, now);
            }
        }
        if first_sample {
            self.shorten_deadlines();
        }
        self.cc.tick(now, self.global_rtt.srtt());
    }

    /// Re-arms the probes sent before any RTT was known (timed with the
    /// long initial timeout) with the measured one, so a probe lost early
    /// is not waited for a whole second.
    fn shorten_deadlines(&mut self) {
        let t = &self.plan.timing;
        let rto = self
            .global_rtt
            .rto(t.min_rtt_timeout, t.max_rtt_timeout, t.initial_rtt_timeout);
        for (&key, f) in &self.in_flight {
            self.deadlines
                .push(Reverse((f.sent_at + rto, key, f.launch)));
        }
    }

    /// Reports that `probe` could not be sent.
    pub fn on_send_error(&mut self, now: Instant, probe: &Probe, err: SendError) {
        if probe.scan != self.id {
            return;
        }
        let Some(f) = self.in_flight.get(&probe.key) else {
            return;
        };
        if f.gen != probe.gen || f.attempt != probe.spec.attempt {
            return;
        }
        if let Some(f) = self.take_in_flight(probe.key) {
            self.cc.on_void(f.epoch);
        }
        self.sent = self.sent.saturating_sub(1);
        let (slot, idx) = split(probe.key);
        match err {
            SendError::Transient => {
                if let Some(Some(h)) = self.hosts.get_mut(slot as usize) {
                    let p = &mut h.ports[idx as usize];
                    p.sent = p.sent.saturating_sub(1);
                }
                self.retransmit.push_front((probe.key, probe.gen));
            }
            SendError::Permanent => self.resolve_silent(slot, idx, now),
        }
    }

    /// Expires probes whose deadline passed (retransmitting them or
    /// resolving their ports as unanswered) and hosts past
    /// `--host-timeout`.
    pub fn handle_timeouts(&mut self, now: Instant) {
        self.last_now = now;
        while let Some(&(at, slot, gen)) = self.host_deadlines.front() {
            if at > now {
                break;
            }
            self.host_deadlines.pop_front();
            if matches!(self.hosts.get(slot as usize), Some(Some(h)) if h.gen == gen) {
                self.finish(slot, now, true);
            }
        }
        self.drain_pipe(now);
        self.end_measurements(now);
        self.end_rounds(now);
        let allowed = self.allowed_attempts();
        while let Some(&Reverse((at, key, launch))) = self.deadlines.peek() {
            if at > now {
                break;
            }
            self.deadlines.pop();
            match self.in_flight.get(&key) {
                Some(f) if f.launch == launch => {}
                _ => continue,
            }
            let Some(f) = self.take_in_flight(key) else {
                continue;
            };
            self.cc.on_loss(f.epoch, f.known);
            let (slot, idx) = split(key);
            let (tech, _) = self.port_map[idx as usize];
            let tcp = is_tcp(&self.plan, tech);
            let (sent, paced) = match self.hosts.get_mut(slot as usize) {
                Some(Some(h)) => {
                    if tcp && f.attempt == 0 {
                        h.rst.first_lost = h.rst.first_lost.saturating_add(1);
                    }
                    (h.ports[idx as usize].sent, tcp && h.rst.paced)
                }
                _ => continue,
            };
            if paced {
                self.exhausted(slot, idx, sent, now);
            } else if sent < allowed && !self.stopped {
                self.retransmit.push_back((key, f.gen));
            } else {
                self.exhausted(slot, idx, sent, now);
            }
        }
        self.cc.tick(now, self.global_rtt.srtt());
        if self.deadlines.len() > 4 * self.in_flight.len() + 4096 {
            let live: Vec<_> = self
                .deadlines
                .drain()
                .filter(|Reverse((_, key, launch))| {
                    matches!(self.in_flight.get(key), Some(f) if f.launch == *launch)
                })
                .collect();
            self.deadlines = live.into();
        }
    }
}

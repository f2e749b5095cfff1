//! TCP techniques answered by ICMP: a host's spent ICMP allowance, told
//! from silence.
//!
//! FIN, NULL, Xmas and Maimon scans read silence as open|filtered and an
//! ICMP unreachable as filtered; ACK and window scans read both as
//! filtered, but the reason differs. A host sends ICMP errors from an
//! allowance (Linux: per destination, one per `icmp_ratelimit` = 1 s
//! after a burst of 6, and 1000/s overall), so a port its filter rejects
//! is silent whenever the allowance is spent, by this scan or by the one
//! before it, and silence alone would read it open|filtered in some runs
//! and filtered in others.
//!
//! **Rounds with a witness.** Once the host has sent one ICMP error for
//! such a technique, that port is its *witness*, and the host's silent
//! ports (those already settled reopened, later ones as they run out)
//! are not settled by silence but by *rounds*: all of them re-probed back
//! to back, then the witness. The host spends its allowance in arrival
//! order, so if the witness is answered the allowance was not spent
//! before it, and any rejected port before it would have been answered
//! too: every port of the round still silent is settled at once by the
//! witness's answer, one round trip, however fast or slow the host's
//! limit. If the witness is silent, the allowance ran out inside the
//! round; the ports still silent wait for the next round, at the host's
//! ICMP pace: the interval doubles after a round that drew no ICMP error
//! at all (from [`PACE_FIRST`] up to [`PACE_MAX`]) and holds after one
//! that drew some. A host that refills one error per second thus settles
//! one rejected port per round and the rest with the last. A host that
//! does not limit settles everything in the first round.
//!
//! **Spent before the scan.** A scan that starts with the allowance
//! spent (a SYN scan of the same host just before) may see no ICMP error
//! at all in its first fraction of a second. So for the techniques whose
//! silence means open|filtered, a host that answered something (a reset)
//! and left ports silent keeps them for one *linger* round, sent
//! [`LINGER`] after its first probe (Linux refills one error per second,
//! so by then the host can answer at least one): if that round draws an
//! ICMP error, the witness exists and rounds follow; if not, the host
//! showed no allowance to wait for and its silent ports take their
//! no-reply state. This is the one cost on a host that rejects nothing:
//! about a second, in parallel with other hosts.
//!
//! **Budget.** A host gets at most [`ROUNDS`] rounds of at most
//! [`ROUND_MAX`] ports each; ports still unsettled then take their
//! no-reply state and are counted in the host's
//! [`IcmpRateLimit`](portolan_model::IcmpRateLimit) note (`tcp_icmp`),
//! which is also set, with nothing unresolved, whenever the host was seen
//! to withhold an ICMP error it sent later.
//!
//! Round probes are not counted in the congestion window nor timed per
//! port (the round has one deadline), and their answers are no loss
//! evidence: they are paced by the host's allowance, not by the path.
//! A round is sent in one run of probes to that host, so nothing to the
//! host comes between its ports and its witness; the bound on error is a
//! refill completing inside a round's few microseconds (a few in a
//! million for small rounds).

use super::{join, Probe, Scan, ScanPlan};
use crate::module::ProbeSpec;
use portolan_model::{PortState, Reason};
use std::time::{Duration, Instant};

/// How long after a host's first probe its linger round goes out.
pub const LINGER: Duration = Duration::from_millis(1100);
/// Wait before the round after one that drew no ICMP error (doubling).
pub const PACE_FIRST: Duration = Duration::from_millis(500);
/// Longest wait between rounds (Linux's bucket holds six errors, so
/// waiting longer only collects more of them).
pub const PACE_MAX: Duration = Duration::from_millis(1500);
/// Rounds a host gets before its unsettled ports take their no-reply
/// state.
pub const ROUNDS: u32 = 12;
/// Most ports in one round.
pub const ROUND_MAX: usize = 256;

/// A host's silent ports of ICMP-answered techniques being told from
/// ports whose ICMP error its spent allowance withheld.
pub(super) struct IcmpCheck {
    /// Silent ports waiting for the next round.
    queue: Vec<u32>,
    /// The round in flight (or being sent) and how many are sent.
    round: Vec<u32>,
    launched: usize,
    /// The witness's port and attempt, once this round's witness is sent.
    witness_sent: Option<(u32, u8)>,
    /// Whether this round ends with the witness (not a linger round).
    with_witness: bool,
    /// When the round in flight counts as unanswered.
    deadline: Option<Instant>,
    next_at: Instant,
    interval: Duration,
    rounds: u32,
    /// ICMP errors drawn by the round in flight / by all rounds.
    round_icmp: u32,
    icmp: u32,
    /// When the first round went out and the last error of a round came.
    first_round: Option<Instant>,
    last_icmp: Option<Instant>,
    /// The host withheld an ICMP error it sent later.
    withheld: bool,
    /// Ports settled by the budget rather than by a witness.
    unverified: u32,
    /// The linger round drew nothing (no witness): silent ports settle
    /// at once until an ICMP error makes one.
    idle: bool,
    /// The budget is spent: silent ports settle at once.
    spent: bool,
}

impl IcmpCheck {
    fn new(next_at: Instant) -> Self {
        IcmpCheck {
            queue: Vec::new(),
            round: Vec::new(),
            launched: 0,
            witness_sent: None,
            with_witness: false,
            deadline: None,
            next_at,
            interval: PACE_FIRST,
            rounds: 0,
            round_icmp: 0,
            icmp: 0,
            first_round: None,
            last_icmp: None,
            withheld: false,
            unverified: 0,
            idle: false,
            spent: false,
        }
    }

    /// Whether a round is being sent or awaited.
    fn busy(&self) -> bool {
        !self.round.is_empty() || self.deadline.is_some()
    }

    /// When the host's rounds next need the scan: a round being sent
    /// (now), its deadline, or the next round's start.
    pub(super) fn wakeup(&self, left: u32) -> Option<Instant> {
        let ready = left as usize == self.queue.len() || self.queue.len() >= ROUND_MAX;
        if let Some(d) = self.deadline {
            Some(d)
        } else if !self.round.is_empty()
            || (ready && !self.queue.is_empty() && !self.idle && !self.spent)
        {
            Some(self.next_at)
        } else {
            None
        }
    }

    /// Whether the host withheld ICMP errors, its rate (errors per second
    /// drawn by rounds) and the ports the budget left unsettled.
    pub(super) fn note(&self) -> Option<(f64, u32)> {
        if !self.withheld && self.unverified == 0 {
            return None;
        }
        let span = match (self.first_round, self.last_icmp) {
            (Some(a), Some(b)) => b.saturating_duration_since(a).as_secs_f64(),
            _ => 0.0,
        };
        let rate = if self.icmp >= 2 && span > 0.05 {
            f64::from(self.icmp - 1) / span
        } else {
            f64::from(self.icmp) / span.max(1.0)
        };
        Some((rate, self.unverified))
    }
}

/// Whether technique `tech` is a TCP technique whose filtered answer is an
/// ICMP error that a spent allowance turns into silence (module docs).
pub(super) fn icmp_checked(plan: &ScanPlan, tech: u8) -> bool {
    plan.icmp_checked
        .get(usize::from(tech))
        .copied()
        .unwrap_or(false)
}

/// Whether silence of technique `tech` reads open|filtered, so that a
/// host's silent ports linger for its allowance to refill.
fn lingers(plan: &ScanPlan, tech: u8) -> bool {
    icmp_checked(plan, tech)
        && plan
            .techniques
            .get(usize::from(tech))
            .is_some_and(|t| t.no_reply.0 == PortState::OpenFiltered)
}

/// Whether `reason` names an ICMP error (destination unreachable).
pub(super) fn is_icmp_error(reason: Reason) -> bool {
    matches!(
        reason,
        Reason::HostUnreach
            | Reason::NetUnreach
            | Reason::ProtoUnreach
            | Reason::PortUnreach
            | Reason::AdminProhibited
            | Reason::HostProhibited
            | Reason::NetProhibited
            | Reason::IcmpUnreach
    )
}

impl Scan {
    /// A port of an ICMP-answered technique ran out of attempts silent:
    /// queues it for a round when its host has (or may have) an
    /// allowance to tell; returns whether it did.
    pub(super) fn check_silent(&mut self, slot: u32, idx: u32, now: Instant) -> bool {
        let (tech, _) = self.port_map[idx as usize];
        let lingers = lingers(&self.plan, tech);
        let Some(Some(h)) = self.hosts.get_mut(slot as usize) else {
            return false;
        };
        match &mut h.check {
            Some(c) if c.spent => {
                c.unverified += 1;
                false
            }
            Some(c) if !c.idle => {
                c.queue.push(idx);
                true
            }
            Some(_) => false,
            None if h.icmp_witness.is_none() && !(lingers && h.answered.is_some()) => false,
            None => {
                let first = h.started.unwrap_or(now);
                let at = if h.icmp_witness.is_some() {
                    now
                } else {
                    first + LINGER
                };
                let gen = h.gen;
                h.check = Some(Box::new(IcmpCheck::new(at)));
                self.checking.push((slot, gen));
                self.reopen_silent(slot);
                if let Some(Some(h)) = self.hosts.get_mut(slot as usize) {
                    if let Some(c) = &mut h.check {
                        c.queue.push(idx);
                    }
                }
                true
            }
        }
    }

    /// Reopens the host's ports of ICMP-answered techniques that took
    /// their no-reply state, queueing them for the next round.
    fn reopen_silent(&mut self, slot: u32) {
        let Some(Some(h)) = self.hosts.get_mut(slot as usize) else {
            return;
        };
        let Some(c) = &mut h.check else { return };
        let mut reopened = 0u32;
        for (i, p) in h.ports.iter_mut().enumerate() {
            let (t, _) = self.port_map[i];
            if p.reason == Reason::NoResponse && p.state.is_some() && icmp_checked(&self.plan, t) {
                p.state = None;
                c.queue.push(i as u32);
                reopened += 1;
            }
        }
        h.left += reopened;
        self.resolved = self.resolved.saturating_sub(u64::from(reopened));
        self.silent_resolved = self.silent_resolved.saturating_sub(u64::from(reopened));
    }

    /// An ICMP error of an ICMP-answered technique for port `idx` (not
    /// yet resolved): the first makes the host's witness and reopens its
    /// silent ports; any counts toward its rounds.
    pub(super) fn on_icmp_error(&mut self, slot: u32, idx: u32, now: Instant) {
        let Some(Some(h)) = self.hosts.get_mut(slot as usize) else {
            return;
        };
        let first = h.icmp_witness.is_none();
        if first {
            h.icmp_witness = Some(idx);
        }
        if let Some(c) = &mut h.check {
            if c.busy() {
                c.round_icmp += 1;
                c.icmp += 1;
                c.last_icmp = Some(now);
                if c.round.contains(&idx) {
                    // Silent through its attempts, answered now.
                    c.withheld = true;
                }
            }
            if first {
                c.idle = false;
            }
        }
        if first {
            let gen = h.gen;
            if h.check.is_none() {
                h.check = Some(Box::new(IcmpCheck::new(now)));
                self.checking.push((slot, gen));
            }
            self.reopen_silent(slot);
        }
    }

    /// A reply about an already resolved port: ends the round whose
    /// witness it answers; returns whether it did.
    pub(super) fn witness_answer(
        &mut self,
        slot: u32,
        idx: u32,
        reason: Reason,
        attempt: Option<u8>,
        now: Instant,
    ) -> bool {
        let Some(Some(h)) = self.hosts.get_mut(slot as usize) else {
            return false;
        };
        let Some(c) = &mut h.check else { return false };
        let Some((w, sent)) = c.witness_sent else {
            return false;
        };
        if w != idx || !is_icmp_error(reason) || attempt.is_some_and(|a| a % 16 != sent % 16) {
            return false;
        }
        c.icmp += 1;
        c.round_icmp += 1;
        c.last_icmp = Some(now);
        self.end_round(slot, now, true);
        true
    }

    /// The next probe of a round due by `now`, if any.
    pub(super) fn poll_checks(&mut self, now: Instant) -> Option<Probe> {
        for i in 0..self.checking.len() {
            let (slot, gen) = self.checking[i];
            let rto = match self.hosts.get(slot as usize) {
                Some(Some(h)) if h.gen == gen => self.rto(h),
                _ => continue,
            };
            let Some(Some(h)) = self.hosts.get_mut(slot as usize) else {
                continue;
            };
            let left = h.left as usize;
            let witness = h.icmp_witness;
            let Some(c) = &mut h.check else { continue };
            if c.deadline.is_some() {
                continue;
            }
            if c.round.is_empty() {
                let ready = left == c.queue.len() || c.queue.len() >= ROUND_MAX;
                if c.queue.is_empty() || c.next_at > now || !ready || c.idle || c.spent {
                    continue;
                }
                let n = c.queue.len().min(ROUND_MAX);
                c.round = c.queue.drain(..n).collect();
                c.launched = 0;
                c.with_witness = witness.is_some();
                c.round_icmp = 0;
                c.rounds += 1;
                c.first_round.get_or_insert(now);
            }
            while c.launched < c.round.len() {
                let idx = c.round[c.launched];
                c.launched += 1;
                let p = &mut h.ports[idx as usize];
                if p.state.is_some() || p.in_flight {
                    continue;
                }
                p.in_flight = true;
                return Some(self.launch_untracked(now, slot, idx, gen));
            }
            let w = witness.filter(|_| c.with_witness && c.witness_sent.is_none());
            if let Some(w) = w {
                c.witness_sent = Some((w, h.ports[w as usize].sent));
                return Some(self.launch_untracked(now, slot, w, gen));
            }
            c.deadline = Some(now + rto);
        }
        None
    }

    /// A probe of a round: counted as sent, but neither in the window nor
    /// timed on its own (the round has one deadline).
    fn launch_untracked(&mut self, now: Instant, slot: u32, idx: u32, gen: u32) -> Probe {
        let (tech, port) = self.port_map[idx as usize];
        let h = self.hosts[slot as usize].as_mut().expect("checked host");
        let p = &mut h.ports[idx as usize];
        let attempt = p.sent;
        p.sent = p.sent.saturating_add(1);
        let addr = h.target.addr;
        let deadline = now + self.rto(self.hosts[slot as usize].as_ref().expect("live"));
        self.sent += 1;
        self.retransmits += 1;
        if !self.plan.timing.scan_delay.is_zero() {
            self.next_send_at = now + self.plan.timing.scan_delay;
        }
        Probe {
            technique: usize::from(tech),
            spec: ProbeSpec {
                dst: addr,
                dport: port,
                attempt,
            },
            deadline,
            key: join(slot, idx),
            gen,
            scan: self.id,
        }
    }

    /// Ends the rounds whose deadline passed by `now`.
    pub(super) fn end_rounds(&mut self, now: Instant) {
        let due: Vec<u32> = self
            .checking
            .iter()
            .filter(|&&(slot, gen)| {
                matches!(self.hosts.get(slot as usize), Some(Some(h)) if h.gen == gen
                    && h.check.as_ref().is_some_and(|c| c.deadline.is_some_and(|d| d <= now)))
            })
            .map(|&(slot, _)| slot)
            .collect();
        for slot in due {
            self.end_round(slot, now, false);
        }
    }

    /// Ends a host's round: `witnessed` settles its silent ports; else
    /// they wait for the next round, or settle when the budget is spent
    /// or a linger round found no allowance.
    fn end_round(&mut self, slot: u32, now: Instant, witnessed: bool) {
        let Some(Some(h)) = self.hosts.get_mut(slot as usize) else {
            return;
        };
        let witness = h.icmp_witness;
        let Some(c) = &mut h.check else { return };
        let round = std::mem::take(&mut c.round);
        c.launched = 0;
        c.deadline = None;
        let with_witness = c.witness_sent.take().is_some();
        let mut silent = Vec::new();
        for idx in round {
            let p = &mut h.ports[idx as usize];
            p.in_flight = false;
            if p.state.is_none() {
                silent.push(idx);
            }
        }
        let settle: Vec<u32> = if witnessed {
            c.next_at = now;
            silent
        } else if witness.is_none() {
            // A linger round that drew nothing: no allowance to wait for.
            c.idle = true;
            silent.append(&mut c.queue);
            silent
        } else {
            if with_witness {
                c.withheld = true;
            }
            if c.round_icmp == 0 {
                if with_witness {
                    c.interval = (c.interval * 2).min(PACE_MAX);
                }
            } else {
                c.withheld = true;
            }
            c.next_at = now
                + if with_witness || c.round_icmp == 0 {
                    c.interval
                } else {
                    PACE_FIRST
                };
            if c.rounds >= ROUNDS {
                c.spent = true;
                silent.append(&mut c.queue);
                c.unverified += silent.len() as u32;
                silent
            } else {
                // The ports that stayed silent go first next time.
                silent.append(&mut c.queue);
                c.queue = silent;
                Vec::new()
            }
        };
        for idx in settle {
            self.resolve_silent(slot, idx, now);
        }
    }
}

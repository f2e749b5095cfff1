//! Hosts that rate-limit their error replies: detected, measured, paced.
//!
//! Retransmission alone cannot get past a host that answers closed ports
//! at a few per second: every round names a few more ports and the rest
//! end up silent. This part tells such a host from random loss and from a
//! firewall, measures its rate, and then either resolves its ports at once
//! or sends them one at a time at the host's pace (a *trickle*), while
//! other hosts go on at full speed.
//!
//! **ICMP rate limits.** Linux sends at most about one ICMP error per
//! second to each destination (after a burst of about six), so a UDP scan
//! of a Linux host sees a few ports closed and the rest silent: waiting
//! for ICMP the host will not send would cost a second per closed port.
//! For techniques whose silence means open|filtered (UDP), a host that
//! sent at least one port unreachable and then left
//! [`SUSPECT_SILENT`] ports unanswered after their retries is *measured*:
//! for [`MEASURE`] its unresolved ports get one extra probe every
//! [`MEASURE_INTERVAL`], and the ICMP errors that come back give the
//! host's steady rate. If any came, the host is recorded as rate-limited
//! ([`IcmpRateLimit`](portolan_model::IcmpRateLimit) in its result); by
//! default its remaining ports then take the no-reply state at once
//! (retries cannot change them at that rate). With
//! [`ScanPlan::udp_exact`] the remaining ports are instead
//! retried at the host's pace (the measured rate, slowed when probes go
//! unanswered, quickened when they are) until each got its ICMP or
//! `max_retries`, as nmap does: every closed port is named, in about
//! `ports / rate` seconds. ICMP errors of such techniques never count as
//! loss evidence, so a rate-limited host does not raise every port's
//! retries. Probes go out in the permuted order across hosts, so many
//! hosts' limits run in parallel.
//!
//! **TCP reset rate limits.** A firewall may rate-limit the resets a
//! host sends (`limit rate over N/second drop`): a SYN scan then sees a
//! burst of closed ports and silence, and retransmission rounds, each far
//! faster than the limit, name only about `N` more ports per second, so
//! the rest would end up filtered. Three cases look alike at first and are
//! told apart per host ([`RstEvidence`]): a reset limit leaves most *first*
//! transmissions unanswered and keeps answering retries at its rate round
//! after round; random loss answers most first transmissions, and its
//! late answers thin out geometrically (a reset for a third try needs two
//! losses); a firewall that drops most ports answers retries only for the
//! few lost answers. A host with more first transmissions lost than
//! answered, at least [`RST_SUSPECT`] resets answering third or later
//! tries, and those at least a quarter as many as the resets answering
//! second tries, is *reset-paced*: its TCP ports that ran out unanswered
//! are reopened, and all its unresolved TCP ports are sent one at a time
//! at the host's rate, first estimated from the late resets per second,
//! then measured by half-second windows (a window that sent 15 % more
//! probes than resets came back ran above the limit and its reset rate is
//! the limit; two calmer windows in a row probe 25 % faster). Each port
//! may get up to [`RST_PACE_EXTRA`] transmissions beyond `max_retries + 1`,
//! so a closed port gets its reset unless the pace overshoots that many
//! times; a port silent after them is filtered. Resets of a paced host
//! are no loss evidence, so the host does not raise other hosts' retries.
//! Such a host costs about `ports / rate` seconds (other hosts go on at
//! full speed meanwhile), and its result records the rate
//! ([`IcmpRateLimit`](portolan_model::IcmpRateLimit) with protocol TCP).

use super::icmp_allowance::icmp_checked;
use super::{join, split, Probe, Scan, ScanPlan};
use portolan_model::{PortState, Protocol, Reason};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// What a host's TCP resets say about a reset rate limit (module docs,
/// "TCP reset rate limits").
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct RstEvidence {
    /// First transmissions of TCP techniques answered / timed out.
    pub(super) first_answered: u32,
    pub(super) first_lost: u32,
    /// Resets answering attempt 1 / attempts 2 and later.
    pub(super) late1: u32,
    pub(super) late2: u32,
    /// When the first and the latest late reset arrived.
    pub(super) first_late: Option<Instant>,
    pub(super) last_late: Option<Instant>,
    /// Whether the host's unresolved TCP ports are paced at its rate.
    pub(super) paced: bool,
    /// The limit measured by a saturated pacing window, resets per second.
    pub(super) measured: Option<f64>,
    /// Whether the last pacing window was saturated (the next one then
    /// holds the pace instead of probing faster).
    pub(super) held: bool,
}

impl RstEvidence {
    /// Whether the evidence says "reset rate limit" rather than random
    /// loss or a firewall that drops most ports.
    pub(super) fn rate_limited(&self) -> bool {
        // Loss hits first transmissions as often as retries and thins out
        // geometrically (a reset for a third try needs two losses); a
        // partial firewall's silent ports never answer a retry; a rate
        // limit leaves most first tries unanswered and keeps answering
        // retries at its rate, round after round.
        self.late2 >= RST_SUSPECT
            && self.first_answered < self.first_lost
            && u64::from(self.late2) * 4 >= u64::from(self.late1)
            && self.rate().is_some()
    }

    /// Late resets per second between the first and the latest one.
    pub(super) fn rate(&self) -> Option<f64> {
        let span = self
            .last_late?
            .saturating_duration_since(self.first_late?)
            .as_secs_f64();
        let n = self.late1.saturating_add(self.late2);
        if span < 0.01 || n < 2 {
            return None;
        }
        Some(f64::from(n - 1) / span)
    }
}

/// Where a host's rate-limit handling stands (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// Probing unresolved ports quickly to measure the ICMP rate.
    Measuring,
    /// `--udp-exact`: retrying unresolved ports at the host's pace.
    Exact,
    /// Done: unanswered ports take the no-reply state.
    Closed,
}

pub(super) struct Trickle {
    pub(super) phase: Phase,
    pub(super) since: Instant,
    pub(super) replies: u32,
    pub(super) next_at: Instant,
    pub(super) interval: Duration,
    /// The pace the measurement allows (`--udp-exact` never goes faster
    /// than twice it).
    pub(super) base: Duration,
    pub(super) queue: VecDeque<u32>,
    /// Reset pacing: start, probes sent and resets received of the
    /// current one-second window (see [`rst_window`]).
    pub(super) window: (Instant, u32, u32),
}

/// Unanswered ports (after retries) of a host that sent an ICMP error
/// before it is measured for an ICMP rate limit.
pub const SUSPECT_SILENT: u32 = 8;
/// How long a suspected host's ICMP rate is measured.
pub const MEASURE: Duration = Duration::from_secs(2);
/// Spacing of the measuring probes to one host (20 per second, well above
/// any rate limit worth detecting).
pub const MEASURE_INTERVAL: Duration = Duration::from_millis(50);
/// Slowest pace of `--udp-exact` retries to one host.
const EXACT_SLOWEST: Duration = Duration::from_secs(5);

/// Resets answering a third or later transmission before a host whose
/// first transmissions mostly go unanswered is deemed to rate-limit its
/// resets.
pub const RST_SUSPECT: u32 = 8;
/// Length of a reset-paced host's pacing window (at least 20 probes).
const RST_WINDOW: Duration = Duration::from_millis(500);
/// Probes per answer in a pacing window above which the pace exceeded the
/// host's limit (random loss up to about 7 % per round trip stays below).
const RST_SATURATED: f64 = 1.15;
/// Transmissions beyond `max_retries + 1` a port of a reset-limited host
/// may get at the host's pace (see the module docs).
pub const RST_PACE_EXTRA: u8 = 4;

impl Scan {
    /// A port ran out of attempts unanswered: it takes its no-reply state,
    /// unless its host's ICMP rate limit is (or is about to be) measured
    /// or paced, which queues it for one more probe.
    pub(super) fn exhausted(&mut self, slot: u32, idx: u32, sent: u8, now: Instant) {
        let (tech, _) = self.port_map[idx as usize];
        let cap = self.plan.timing.max_retries.saturating_add(1);
        if !self.stopped && is_tcp(&self.plan, tech) {
            if let Some(Some(h)) = self.hosts.get_mut(slot as usize) {
                if let (true, Some(t)) = (h.rst.paced, &mut h.trickle) {
                    if sent < cap.saturating_add(RST_PACE_EXTRA) {
                        t.queue.push_back(idx);
                        return;
                    }
                }
            }
        }
        if !self.stopped && icmp_checked(&self.plan, tech) && self.check_silent(slot, idx, now) {
            return;
        }
        if !self.stopped && sent < cap && error_signalled(&self.plan, tech) {
            if let Some(Some(h)) = self.hosts.get_mut(slot as usize) {
                match &mut h.trickle {
                    Some(t) if t.phase == Phase::Closed => {}
                    Some(t) => {
                        if t.phase == Phase::Exact {
                            // Unanswered at the current pace: slow down.
                            t.interval = t.interval.mul_f64(1.25).min(EXACT_SLOWEST);
                        }
                        t.queue.push_back(idx);
                        return;
                    }
                    None => {
                        h.silent_exhausted += 1;
                        if h.icmp_errors > 0 && h.silent_exhausted >= SUSPECT_SILENT {
                            // The ports that ran out before suspicion
                            // arose are reopened and queued too.
                            let mut queue = VecDeque::from([idx]);
                            for (i, p) in h.ports.iter_mut().enumerate() {
                                let (t, _) = self.port_map[i];
                                if p.reason == Reason::NoResponse
                                    && p.state.is_some()
                                    && p.sent < cap
                                    && error_signalled(&self.plan, t)
                                {
                                    p.state = None;
                                    queue.push_back(i as u32);
                                }
                            }
                            let reopened = queue.len() as u32 - 1;
                            h.left += reopened;
                            self.resolved = self.resolved.saturating_sub(u64::from(reopened));
                            self.silent_resolved =
                                self.silent_resolved.saturating_sub(u64::from(reopened));
                            h.trickle = Some(Box::new(Trickle {
                                phase: Phase::Measuring,
                                since: now,
                                replies: 0,
                                next_at: now,
                                interval: MEASURE_INTERVAL,
                                base: MEASURE_INTERVAL,
                                queue,
                                window: (now, 0, 0),
                            }));
                            let gen = h.gen;
                            self.trickling.push((slot, gen));
                            return;
                        }
                    }
                }
            }
        }
        self.resolve_silent(slot, idx, now);
    }

    /// Ends the measurements due by `now`: records the rate of hosts that
    /// sent ICMP errors during it, then either resolves their queued ports
    /// or (`--udp-exact`) paces them.
    pub(super) fn end_measurements(&mut self, now: Instant) {
        let mut closing: Vec<(u32, Vec<u32>)> = Vec::new();
        let exact = self.plan.udp_exact;
        for &(slot, gen) in &self.trickling {
            let Some(Some(h)) = self.hosts.get_mut(slot as usize) else {
                continue;
            };
            if h.gen != gen {
                continue;
            }
            let Some(t) = &mut h.trickle else { continue };
            if t.phase != Phase::Measuring || t.since + MEASURE > now {
                continue;
            }
            let secs = now
                .saturating_duration_since(t.since)
                .as_secs_f64()
                .max(1e-3);
            let rate = f64::from(t.replies) / secs;
            if t.replies > 0 {
                h.rate_limit = Some(rate);
            }
            if exact && t.replies > 0 {
                t.phase = Phase::Exact;
                t.base = Duration::from_secs_f64(1.0 / rate);
                t.interval = t.base.mul_f64(1.05).min(EXACT_SLOWEST);
                t.next_at = now;
            } else {
                t.phase = Phase::Closed;
                closing.push((slot, t.queue.drain(..).collect()));
            }
        }
        for (slot, idxs) in closing {
            for idx in idxs {
                let live = matches!(
                    self.hosts.get(slot as usize),
                    Some(Some(h)) if h.ports[idx as usize].state.is_none()
                        && !h.ports[idx as usize].in_flight
                );
                if live {
                    self.resolve_silent(slot, idx, now);
                }
            }
        }
    }

    /// Starts pacing a host that rate-limits its TCP resets: its TCP ports
    /// that already ran out unanswered are reopened, and every unresolved
    /// one is from now on sent only by [`poll_trickle`](Self::poll_trickle)
    /// at the measured reset rate.
    pub(super) fn start_rst_pace(&mut self, slot: u32, gen: u32, now: Instant) {
        let Some(Some(h)) = self.hosts.get_mut(slot as usize) else {
            return;
        };
        if h.gen != gen || h.trickle.is_some() || h.rst.paced {
            return;
        }
        let Some(rate) = h.rst.rate() else { return };
        let mut queue = VecDeque::new();
        for (i, p) in h.ports.iter_mut().enumerate() {
            let (t, _) = self.port_map[i];
            if p.reason == Reason::NoResponse && p.state.is_some() && is_tcp(&self.plan, t) {
                p.state = None;
                queue.push_back(i as u32);
            }
        }
        let reopened = queue.len() as u32;
        h.left += reopened;
        self.resolved = self.resolved.saturating_sub(u64::from(reopened));
        self.silent_resolved = self.silent_resolved.saturating_sub(u64::from(reopened));
        let base = Duration::from_secs_f64(1.0 / rate.max(0.2));
        h.rst.paced = true;
        h.rate_limit = Some(rate);
        h.trickle = Some(Box::new(Trickle {
            phase: Phase::Exact,
            since: now,
            replies: 0,
            next_at: now,
            interval: base,
            base,
            queue,
            window: (now, 0, 0),
        }));
        self.trickling.push((slot, gen));
    }

    /// Hands a pending TCP port of a reset-paced host to its pacing queue;
    /// returns whether it did.
    pub(super) fn divert(&mut self, key: u64, gen: u32) -> bool {
        let (slot, idx) = split(key);
        let (tech, _) = self.port_map[idx as usize];
        if !is_tcp(&self.plan, tech) {
            return false;
        }
        match self.hosts.get_mut(slot as usize) {
            Some(Some(h)) if h.gen == gen && h.rst.paced => match &mut h.trickle {
                Some(t) => {
                    t.queue.push_back(idx);
                    true
                }
                None => false,
            },
            _ => false,
        }
    }

    /// The next due probe of a host being measured or paced.
    pub(super) fn poll_trickle(&mut self, now: Instant) -> Option<Probe> {
        for i in 0..self.trickling.len() {
            let (slot, gen) = self.trickling[i];
            let Some(Some(h)) = self.hosts.get_mut(slot as usize) else {
                continue;
            };
            if h.gen != gen {
                continue;
            }
            let Some(t) = &mut h.trickle else { continue };
            if t.phase == Phase::Closed || t.next_at > now {
                continue;
            }
            if h.rst.paced {
                rst_window(t, &mut h.rst, now);
            }
            while let Some(idx) = t.queue.pop_front() {
                let p = h.ports[idx as usize];
                if p.state.is_some() || p.in_flight {
                    continue;
                }
                t.window.1 += 1;
                // On schedule, without a catch-up burst after a late poll.
                t.next_at = (t.next_at + t.interval).max(now);
                let key = join(slot, idx);
                return Some(self.launch(now, key, gen));
            }
        }
        None
    }
}

/// Closes a reset-paced host's pacing window when due and adjusts the
/// pace. A window that sent clearly more probes than resets came back
/// ([`RST_SATURATED`]) ran above the host's limit, so its resets per
/// second are the limit itself: the pace drops to just under it and holds
/// for a window. Two unsaturated windows in a row mean the pace may be
/// under the limit (the first estimate, from retransmission rounds, is
/// rough): it probes 25 % faster.
fn rst_window(t: &mut Trickle, ev: &mut RstEvidence, now: Instant) {
    let (start, sent, replies) = t.window;
    let secs = now.saturating_duration_since(start).as_secs_f64();
    if secs
        < RST_WINDOW
            .as_secs_f64()
            .max(20.0 * t.interval.as_secs_f64())
    {
        return;
    }
    t.window = (now, 0, 0);
    if sent < 8 {
        return;
    }
    if f64::from(sent) >= f64::from(replies) * RST_SATURATED {
        let rate = (f64::from(replies) / secs).max(0.2);
        ev.measured = Some(rate);
        ev.held = true;
        t.interval = Duration::from_secs_f64(1.0 / (rate * 0.97));
    } else if ev.held {
        ev.held = false;
    } else if t.queue.len() as u32 > sent {
        // Enough left to be worth a faster pace.
        t.interval = t.interval.div_f64(1.25);
    }
    t.base = t.interval;
}

/// Whether technique `tech` scans TCP ports (and so may be answered by
/// rate-limited resets).
pub(super) fn is_tcp(plan: &ScanPlan, tech: u8) -> bool {
    plan.techniques
        .get(usize::from(tech))
        .is_some_and(|t| t.protocol == Protocol::Tcp)
}

/// Whether technique `tech` learns closed ports only from ICMP errors
/// (silence meaning open|filtered), so its hosts' ICMP rate limits matter.
pub(super) fn error_signalled(plan: &ScanPlan, tech: u8) -> bool {
    plan.techniques
        .get(usize::from(tech))
        .is_some_and(|t| t.protocol == Protocol::Udp && t.no_reply.0 == PortState::OpenFiltered)
}

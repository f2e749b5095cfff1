//! How fast probes go out: the window, the rate limits, the scan delay.
//!
//! **Window.** Probes to hosts that answered are limited by the congestion
//! window (see [`crate::congestion`]); probes to hosts not heard from yet
//! by four times the window, since their silence carries no congestion
//! signal, or by a window doubling every RTT (25 ms at least) until the
//! first congestion signal, so sparse networks ramp up quickly. Such
//! probes are parked (up to 4096) while their window is full, so they
//! never hold up probes to hosts that answer. `--max-rate` is a token
//! bucket ([`crate::limiter`]): the scan's own, or one the whole run
//! shares ([`Scan::set_rate_limiter`]). `--min-rate` lets probes past a
//! full window while the scan is behind its floor rate.
//!
//! [`Scan::poll_probe`] applies these limits in that order (rate, delay,
//! outstanding-probe cap, paced hosts, window) and [`Scan::next_wakeup`]
//! names the earliest instant one of them, or a deadline, lets something
//! happen, so a driver never polls in vain.

use super::host_limits::{Phase, MEASURE};
use super::{Probe, Scan};
use crate::limiter::{RateLimiter, SharedRateLimiter};
use std::cmp::Reverse;
use std::time::{Duration, Instant};

/// Probes to silent hosts parked while their window is full.
const DEFER_CAP: usize = 4096;

impl Scan {
    fn behind_min_rate(&self, now: Instant) -> bool {
        match self.plan.timing.min_rate {
            Some(r) if r > 0.0 => {
                let due = r * now.saturating_duration_since(self.start).as_secs_f64();
                (self.sent as f64) < due
            }
            _ => false,
        }
    }

    /// The next probe allowed now, recorded as in flight; `None` when the
    /// window, the rate limit or the scan delay holds it back, or nothing
    /// is left to send.
    pub fn poll_probe(&mut self, now: Instant) -> Option<Probe> {
        if self.stopped {
            return None;
        }
        self.last_now = now;
        // The token is taken up front, so another consumer of a shared
        // budget cannot take it between the check and the send.
        if let Some(l) = &self.limiter {
            if !l.try_take(now) {
                return None;
            }
        }
        let probe = self.next_probe(now);
        if let (None, Some(l)) = (&probe, &self.limiter) {
            l.put_back();
        }
        probe
    }

    /// [`poll_probe`](Self::poll_probe) past the rate limit.
    fn next_probe(&mut self, now: Instant) -> Option<Probe> {
        if now < self.next_send_at {
            return None;
        }
        self.drain_pipe(now);
        if self.in_flight.len() >= self.in_flight_cap() {
            return None;
        }
        if let Some(p) = self.poll_checks(now) {
            return Some(p);
        }
        if let Some(p) = self.poll_trickle(now) {
            return Some(p);
        }
        let forced = self.behind_min_rate(now);
        let window = self.cc.window();
        let known_open = forced || self.window_open(true, window);
        let unknown_open = forced || self.window_open(false, window);
        if !known_open && !unknown_open {
            return None;
        }
        // Probes to silent hosts that waited for their window go first.
        if unknown_open {
            while let Some((key, gen)) = self.deferred.pop_front() {
                match self.pending(key, gen) {
                    None => continue,
                    Some(true) if !known_open => {
                        self.deferred.push_front((key, gen));
                        break;
                    }
                    Some(_) if self.divert(key, gen) => continue,
                    Some(_) => return Some(self.launch(now, key, gen)),
                }
            }
        }
        loop {
            let from_retransmit = !self.retransmit.is_empty();
            let (key, gen) = match self.retransmit.front() {
                Some(&c) => c,
                None => self.peek_fresh(now)?,
            };
            let consume = |s: &mut Self| {
                if from_retransmit {
                    s.retransmit.pop_front();
                } else if let Some(g) = &mut s.group {
                    g.next += 1;
                }
            };
            let Some(known) = self.pending(key, gen) else {
                consume(self);
                continue;
            };
            if self.divert(key, gen) {
                consume(self);
                continue;
            }
            if (known && known_open) || (!known && unknown_open) {
                consume(self);
                return Some(self.launch(now, key, gen));
            }
            // Blocked: park a silent host's probe so it does not hold up
            // probes to hosts that answer; stop at a blocked answering one.
            if known || self.deferred.len() >= DEFER_CAP {
                return None;
            }
            consume(self);
            self.deferred.push_back((key, gen));
        }
    }

    fn window_open(&self, known: bool, window: usize) -> bool {
        if known {
            self.pipe_known < window
        } else {
            self.pipe_silent < self.silent_window(window)
        }
    }

    /// The window for probes to hosts not heard from: four times the
    /// congestion window, or, until the first congestion signal, a window
    /// that doubles every RTT (at least 25 ms) from the start, because
    /// sparse answers (one host in 13 up) would grow it too slowly.
    fn silent_window(&self, window: usize) -> usize {
        let w = window.saturating_mul(4);
        if self.cc.reductions() > 0 {
            return w;
        }
        let step = self
            .global_rtt
            .srtt()
            .unwrap_or(Duration::ZERO)
            .max(Duration::from_millis(25));
        let elapsed = self.last_now.saturating_duration_since(self.start);
        let doublings = (elapsed.as_nanos() / step.as_nanos().max(1)).min(20) as u32;
        let max = (self.plan.timing.max_parallelism as usize).saturating_mul(4);
        let ramp = (self.plan.timing.max_parallelism.clamp(1, 64) as usize) << doublings;
        w.max(ramp.min(max))
    }

    /// The earliest instant something will be due: a deadline, a host
    /// timeout, or the pacing instant of the next probe.
    pub fn next_wakeup(&self) -> Option<Instant> {
        if self.stopped {
            return None;
        }
        let mut w: Option<Instant> = None;
        let mut at = |t: Instant| w = Some(w.map_or(t, |x: Instant| x.min(t)));
        if let Some(Reverse((t, ..))) = self.deadlines.peek() {
            at(*t);
        }
        if let Some(&(t, ..)) = self.host_deadlines.front() {
            at(t);
        }
        for &(slot, gen) in &self.trickling {
            if let Some(Some(h)) = self.hosts.get(slot as usize) {
                if let (true, Some(t)) = (h.gen == gen, &h.trickle) {
                    if t.phase == Phase::Measuring {
                        at(t.since + MEASURE);
                    }
                    if t.phase != Phase::Closed && !t.queue.is_empty() {
                        at(t.next_at);
                    }
                }
            }
        }
        for &(slot, gen) in &self.checking {
            if let Some(Some(h)) = self.hosts.get(slot as usize) {
                if let (true, Some(c)) = (h.gen == gen, &h.check) {
                    if let Some(t) = c.wakeup(h.left) {
                        at(t);
                    }
                }
            }
        }
        // At the outstanding-probe cap only deadlines free room.
        if self.has_work() && self.in_flight.len() < self.in_flight_cap() {
            // A probe leaving the pipe reopens the window.
            if let Some(&(sent, ..)) = self.pipe.front() {
                at(sent + self.pipe_time());
            }
            if let Some(t) = self
                .limiter
                .as_ref()
                .and_then(SharedRateLimiter::next_ready)
            {
                at(t);
            }
            if !self.plan.timing.scan_delay.is_zero() {
                at(self.next_send_at);
            }
            if let Some(r) = self.plan.timing.min_rate {
                if r > 0.0 {
                    at(self.start
                        + Duration::from_secs_f64((self.sent as f64 + 1.0) / r)
                        + Duration::from_micros(1));
                }
            }
        }
        w
    }
}

impl Scan {
    /// Draws the scan's probes from `limiter`, a budget shared with other
    /// consumers (the run's `--max-rate`, see [`crate::limiter`]), instead
    /// of the scan's own bucket.
    pub fn set_rate_limiter(&mut self, limiter: SharedRateLimiter) {
        self.limiter = Some(limiter);
    }
}

/// The scan's own `--max-rate` bucket, full at `now`.
pub(super) fn own_limiter(rate: Option<f64>, now: Instant) -> Option<SharedRateLimiter> {
    rate.map(|r| SharedRateLimiter::new(RateLimiter::new(r, RateLimiter::scan_burst(r), now)))
}

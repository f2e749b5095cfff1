//! Congestion control that tells congestion from noise.
//!
//! nmap halves its window on every drop, so on a path with 1 % random loss
//! it never leaves its minimum window and a 65535-port scan takes minutes.
//! Portolan's controller reacts to evidence that *its own sending* causes
//! the loss or the delay:
//!
//! * **Window.** Slow start (`+1` per answered probe, doubling per RTT)
//!   until the first congestion signal, then a gentle increase of
//!   `+1/8` per answer (+12.5 % per RTT), between the parallelism bounds.
//! * **Epochs.** Time is cut into epochs of about one smoothed RTT (at
//!   least 5 ms and at least 64 events). Each epoch counts answered probes
//!   `a` and timed-out probes `l` (to hosts that have answered before, so
//!   silent hosts and dead addresses are not "loss"), and RTT samples.
//! * **Noise floor.** An exponentially weighted average `p` of the loss
//!   ratio of epochs judged *uncongested*. Random loss is independent of
//!   rate, so it shows up here and raises the bar, instead of cutting the
//!   window.
//! * **Loss signal.** An epoch is congested when its losses exceed what
//!   noise explains: `l > n·(2p + 0.02) + 3·sqrt(n·max(p, 0.01))` with
//!   `n = a + l` (twice the floor, plus three standard deviations).
//!   Overrunning a bottleneck drops a share that grows with the excess
//!   rate, which crosses this bar quickly; 1-5 % random loss does not.
//! * **Delay signal.** An epoch whose mean RTT exceeds `1.25·min_rtt + 2 ms`
//!   is congested too: a queue is building at a bottleneck, before it
//!   overflows (the BBR/Vegas observation).
//! * **Reaction.** A congested epoch multiplies the window by 0.7 and ends
//!   slow start. Probes sent before a reduction are not held against the
//!   new window (their losses and delays are ignored), so one burst of
//!   drops costs one reduction, not one per RTO.

use std::time::{Duration, Instant};

/// Minimum events for an epoch to be judged.
const EPOCH_EVENTS: u32 = 64;
/// Minimum epoch length.
const EPOCH_MIN: Duration = Duration::from_millis(5);

/// The scan-wide congestion window and its loss/delay bookkeeping.
#[derive(Clone, Debug)]
pub struct Congestion {
    cwnd: f64,
    ssthresh: f64,
    min: f64,
    max: f64,
    epoch_start: Option<Instant>,
    answered: u32,
    lost: u32,
    rtt_sum: f64,
    rtt_n: u32,
    floor: f64,
    min_rtt: Option<Duration>,
    recovery_start: Option<Instant>,
    reductions: u64,
}

impl Congestion {
    /// A controller whose window stays within `[min, max]` and starts at
    /// `initial`.
    pub fn new(min: u32, max: u32, initial: u32) -> Self {
        let min = f64::from(min.max(1));
        let max = f64::from(max.max(1)).max(min);
        Congestion {
            cwnd: f64::from(initial).clamp(min, max),
            ssthresh: f64::INFINITY,
            min,
            max,
            epoch_start: None,
            answered: 0,
            lost: 0,
            rtt_sum: 0.0,
            rtt_n: 0,
            floor: 0.0,
            min_rtt: None,
            recovery_start: None,
            reductions: 0,
        }
    }

    /// The current window, in probes.
    pub fn window(&self) -> usize {
        self.cwnd as usize
    }

    /// The loss ratio random loss is believed to cause.
    pub fn noise_floor(&self) -> f64 {
        self.floor
    }

    /// How many times the window was cut.
    pub fn reductions(&self) -> u64 {
        self.reductions
    }

    fn counts(&self, sent_at: Instant) -> bool {
        match self.recovery_start {
            None => true,
            Some(r) => sent_at >= r,
        }
    }

    /// A probe sent at `sent_at` was answered; `rtt` when Karn's rule
    /// allows timing it.
    pub fn on_answer(&mut self, sent_at: Instant, rtt: Option<Duration>) {
        if !self.counts(sent_at) {
            return;
        }
        self.answered += 1;
        if let Some(r) = rtt {
            self.min_rtt = Some(self.min_rtt.map_or(r, |m| m.min(r)));
            self.rtt_sum += r.as_secs_f64();
            self.rtt_n += 1;
        }
        if self.cwnd < self.ssthresh {
            self.cwnd += 1.0;
        } else {
            self.cwnd += 0.125;
        }
        self.cwnd = self.cwnd.min(self.max);
    }

    /// A probe sent at `sent_at` to a host known to answer timed out.
    pub fn on_loss(&mut self, sent_at: Instant) {
        if self.counts(sent_at) {
            self.lost += 1;
        }
    }

    /// Closes the epoch if it is long enough and adjusts the window.
    pub fn tick(&mut self, now: Instant, srtt: Option<Duration>) {
        let start = *self.epoch_start.get_or_insert(now);
        let len = srtt.unwrap_or(EPOCH_MIN).max(EPOCH_MIN);
        let n = self.answered + self.lost;
        if now.saturating_duration_since(start) < len || n < EPOCH_EVENTS {
            return;
        }
        let nf = f64::from(n);
        let l = f64::from(self.lost);
        let p = self.floor;
        let loss_bar = nf * (2.0 * p + 0.02) + 3.0 * (nf * p.max(0.01)).sqrt();
        let lossy = l > loss_bar;
        let delayed = match self.min_rtt {
            Some(m) if self.rtt_n >= 8 => {
                let mean = self.rtt_sum / f64::from(self.rtt_n);
                mean > 1.25 * m.as_secs_f64() + 0.002
            }
            _ => false,
        };
        if lossy || delayed {
            self.cwnd = (self.cwnd * 0.7).max(self.min);
            self.ssthresh = self.cwnd;
            self.recovery_start = Some(now);
            self.reductions += 1;
        } else {
            self.floor += (l / nf - self.floor) / 8.0;
        }
        self.epoch_start = Some(now);
        self.answered = 0;
        self.lost = 0;
        self.rtt_sum = 0.0;
        self.rtt_n = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_loss_raises_the_floor_not_the_alarm() {
        let mut c = Congestion::new(1, 10_000, 10);
        let t0 = Instant::now();
        let mut t = t0;
        for i in 0..100_000u32 {
            t += Duration::from_micros(100);
            if i % 50 == 0 {
                c.on_loss(t);
            } else {
                c.on_answer(t, Some(Duration::from_millis(20)));
            }
            c.tick(t, Some(Duration::from_millis(20)));
        }
        assert_eq!(c.reductions(), 0);
        assert!(c.window() > 5000);
        assert!((c.noise_floor() - 0.02).abs() < 0.01);
    }

    #[test]
    fn heavy_loss_and_queueing_cut_the_window() {
        let mut c = Congestion::new(1, 10_000, 1000);
        let mut t = Instant::now();
        c.tick(t, None);
        for i in 0..200u32 {
            t += Duration::from_micros(100);
            if i % 3 == 0 {
                c.on_loss(t);
            } else {
                c.on_answer(t, None);
            }
        }
        t += Duration::from_millis(10);
        c.tick(t, None);
        assert_eq!(c.reductions(), 1);
        let w = c.window();
        for _ in 0..100 {
            t += Duration::from_micros(100);
            c.on_answer(t, Some(Duration::from_millis(1)));
        }
        for _ in 0..100 {
            t += Duration::from_micros(100);
            c.on_answer(t, Some(Duration::from_millis(30)));
        }
        t += Duration::from_millis(10);
        c.tick(t, None);
        assert_eq!(c.reductions(), 2);
        assert!(c.window() < w + 100);
    }
}

//! Congestion control that tells congestion from noise.
//!
//! nmap halves its window on every drop, so on a path with 1 % random loss
//! it never leaves its minimum window and a 65535-port scan takes minutes;
//! and it reads a firewall's silently dropped ports as drops too. Portolan
//! reacts only to evidence that *its own sending rate* causes loss or
//! delay:
//!
//! * **Window.** Slow start (`+1` per answered probe, doubling per RTT)
//!   until the first congestion signal, then `+1/8` per answer (+12.5 %
//!   per RTT), within the parallelism bounds. A probe still unanswered
//!   after about one RTT leaves the window ("the pipe") and grows it like
//!   an answer: silence is filtering or noise unless the epochs below say
//!   otherwise, and it must not pin the window (nmap crawls on firewalled
//!   hosts for exactly this reason).
//! * **Send epochs.** Probes are grouped by *when they were sent* into
//!   epochs of about one smoothed RTT (at least 5 ms and 64 probes). An
//!   epoch is judged once every probe in it has an outcome: answered, or
//!   timed out (to a host that has answered before; probes to silent hosts
//!   carry no signal). Its loss ratio is thus the loss *at that send rate*.
//! * **Noise floor.** The first judged epoch (sent in slow start, at a low
//!   rate) sets the floor `p`; uncongested epochs refine it (weight 1/8).
//! * **Loss signal.** An epoch is congested when its losses exceed what the
//!   floor explains: `l > n·(2p + 0.02) + 3·sqrt(n·max(p, 0.01))` with
//!   `n` probes judged (twice the floor plus three standard deviations).
//! * **The rate test.** Congestion loss falls when the rate falls; noise
//!   does not. So a congested epoch cuts the window by 0.7 once; epochs
//!   sent before the cut are then ignored, and the first epoch sent after
//!   it decides: if its loss ratio is still at least 80 % of the one that
//!   caused the cut, the loss did not respond to the rate, so it is noise
//!   (a firewall dropping ports, a lossy radio link): the floor adopts it
//!   and the window is restored. Otherwise the cut stands and cutting may
//!   continue.
//! * **Delay signal.** Independently, answers are grouped by arrival time
//!   into epochs of the same length; one whose mean RTT exceeds
//!   `1.25·min_rtt + 2 ms` means a queue is building at a bottleneck before
//!   it overflows (the Vegas/BBR observation), and cuts the window by 0.7.
//!   Probes sent before a cut do not count toward the next delay epoch.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Minimum probes in an epoch.
const EPOCH_EVENTS: u32 = 64;
/// Minimum epoch length.
const EPOCH_MIN: Duration = Duration::from_millis(5);
/// Most send epochs awaiting judgement; older ones are dropped unjudged.
const MAX_OPEN_EPOCHS: usize = 4096;

#[derive(Clone, Copy, Debug)]
struct SendEpoch {
    start: Instant,
    sent: u32,
    done: u32,
    answered: u32,
    lost: u32,
}

/// The scan-wide congestion window and its loss/delay bookkeeping.
#[derive(Clone, Debug)]
pub struct Congestion {
    cwnd: f64,
    ssthresh: f64,
    min: f64,
    max: f64,
    epochs: VecDeque<SendEpoch>,
    first_epoch: u64,
    floor: Option<f64>,
    /// Newest send epoch at the last loss cut, its ratio, and the window
    /// before it; `None` once the cut is confirmed or refuted.
    cut: Option<(u64, f64, f64)>,
    /// Epochs up to this one were sent before the last cut.
    ignore_upto: Option<u64>,
    delay_start: Option<Instant>,
    rtt_sum: f64,
    rtt_n: u32,
    min_rtt: Option<Duration>,
    delay_cut_at: Option<Instant>,
    reductions: u64,
    restores: u64,
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
            epochs: VecDeque::new(),
            first_epoch: 0,
            floor: None,
            cut: None,
            ignore_upto: None,
            delay_start: None,
            rtt_sum: 0.0,
            rtt_n: 0,
            min_rtt: None,
            delay_cut_at: None,
            reductions: 0,
            restores: 0,
        }
    }

    /// The current window, in probes.
    pub fn window(&self) -> usize {
        self.cwnd as usize
    }

    /// The loss ratio random loss (or filtering) is believed to cause.
    pub fn noise_floor(&self) -> f64 {
        self.floor.unwrap_or(0.0)
    }

    /// How many times the window was cut.
    pub fn reductions(&self) -> u64 {
        self.reductions
    }

    /// How many loss cuts the rate test undid as noise.
    pub fn restores(&self) -> u64 {
        self.restores
    }

    /// Records a probe sent at `now`; returns its send epoch, to pass back
    /// with its outcome.
    pub fn on_send(&mut self, now: Instant, srtt: Option<Duration>) -> u64 {
        let len = srtt.unwrap_or(EPOCH_MIN).max(EPOCH_MIN);
        let open_new = match self.epochs.back() {
            None => true,
            Some(e) => e.sent >= EPOCH_EVENTS && now.saturating_duration_since(e.start) >= len,
        };
        if open_new {
            if self.epochs.len() >= MAX_OPEN_EPOCHS {
                self.epochs.pop_front();
                self.first_epoch += 1;
            }
            self.epochs.push_back(SendEpoch {
                start: now,
                sent: 0,
                done: 0,
                answered: 0,
                lost: 0,
            });
        }
        let id = self.first_epoch + self.epochs.len() as u64 - 1;
        if let Some(e) = self.epochs.back_mut() {
            e.sent += 1;
        }
        id
    }

    fn epoch(&mut self, id: u64) -> Option<&mut SendEpoch> {
        let i = id.checked_sub(self.first_epoch)?;
        self.epochs.get_mut(usize::try_from(i).ok()?)
    }

    /// A probe of send epoch `epoch`, sent at `sent_at`, was answered;
    /// `counts` when its host had answered before it was sent; `rtt` when
    /// Karn's rule allows timing it.
    pub fn on_answer(&mut self, epoch: u64, sent_at: Instant, counts: bool, rtt: Option<Duration>) {
        if let Some(e) = self.epoch(epoch) {
            e.done += 1;
            if counts {
                e.answered += 1;
            }
        }
        if let Some(r) = rtt {
            self.min_rtt = Some(self.min_rtt.map_or(r, |m| m.min(r)));
            if self.delay_cut_at.is_none_or(|c| c <= sent_at) {
                self.rtt_sum += r.as_secs_f64();
                self.rtt_n += 1;
            }
        }
        self.grow();
    }

    /// A probe left the pipe unanswered. While epochs are judged
    /// uncongested such silence is filtering or noise, so it grows the
    /// window like an answer: a firewall dropping most ports must not pin
    /// the window at its initial size.
    pub fn on_silence(&mut self) {
        self.grow();
    }

    fn grow(&mut self) {
        if self.cwnd < self.ssthresh {
            self.cwnd += 1.0;
        } else {
            self.cwnd += 0.125;
        }
        self.cwnd = self.cwnd.min(self.max);
    }

    /// A probe of send epoch `epoch` timed out; `counts` when its host had
    /// answered before it was sent.
    pub fn on_loss(&mut self, epoch: u64, counts: bool) {
        if let Some(e) = self.epoch(epoch) {
            e.done += 1;
            if counts {
                e.lost += 1;
            }
        }
    }

    /// A probe of send epoch `epoch` will have no outcome (its host was
    /// dropped, or it could not be sent).
    pub fn on_void(&mut self, epoch: u64) {
        if let Some(e) = self.epoch(epoch) {
            e.done += 1;
        }
    }

    /// Judges finished epochs and adjusts the window.
    pub fn tick(&mut self, now: Instant, srtt: Option<Duration>) {
        while self.epochs.len() > 1 {
            let e = self.epochs[0];
            if e.done < e.sent {
                break;
            }
            let id = self.first_epoch;
            self.epochs.pop_front();
            self.first_epoch += 1;
            self.judge(id, e);
        }
        self.judge_delay(now, srtt);
    }

    fn newest_epoch(&self) -> u64 {
        self.first_epoch + self.epochs.len().saturating_sub(1) as u64
    }

    fn judge(&mut self, id: u64, e: SendEpoch) {
        let n = e.answered + e.lost;
        if n < EPOCH_EVENTS / 2 {
            return;
        }
        let nf = f64::from(n);
        let l = f64::from(e.lost);
        let ratio = l / nf;
        let Some(p) = self.floor else {
            self.floor = Some(ratio);
            return;
        };
        if self.ignore_upto.is_some_and(|u| id <= u) {
            return;
        }
        let bar = nf * (2.0 * p + 0.02) + 3.0 * (nf * p.max(0.01)).sqrt();
        let congested = l > bar;
        match self.cut {
            Some((_, cut_ratio, before)) if ratio >= 0.8 * cut_ratio => {
                // The rate fell and the loss did not: noise.
                self.floor = Some(ratio);
                self.cwnd = self.cwnd.max(before).min(self.max);
                self.cut = None;
                self.restores += 1;
            }
            _ if congested => {
                let before = self.cwnd;
                self.reduce();
                let newest = self.newest_epoch();
                self.cut = Some((newest, ratio, before));
                self.ignore_upto = Some(newest);
            }
            _ => {
                self.floor = Some(p + (ratio - p) / 8.0);
                self.cut = None;
            }
        }
    }

    fn reduce(&mut self) {
        self.cwnd = (self.cwnd * 0.7).max(self.min);
        self.ssthresh = self.cwnd;
        self.reductions += 1;
    }

    fn judge_delay(&mut self, now: Instant, srtt: Option<Duration>) {
        let start = *self.delay_start.get_or_insert(now);
        let len = srtt.unwrap_or(EPOCH_MIN).max(EPOCH_MIN);
        if now.saturating_duration_since(start) < len || self.rtt_n < 8 {
            return;
        }
        if let Some(m) = self.min_rtt {
            let mean = self.rtt_sum / f64::from(self.rtt_n);
            if mean > 1.25 * m.as_secs_f64() + 0.002 {
                self.reduce();
                self.delay_cut_at = Some(now);
                self.ignore_upto = Some(self.newest_epoch());
            }
        }
        self.delay_start = Some(now);
        self.rtt_sum = 0.0;
        self.rtt_n = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends `n` probes 100 us apart at `t`, resolving each at once with
    /// loss every `every`-th probe; returns the new time.
    fn run(c: &mut Congestion, mut t: Instant, n: u32, every: u32, rtt: Duration) -> Instant {
        for i in 0..n {
            t += Duration::from_micros(100);
            let e = c.on_send(t, Some(rtt));
            if every > 0 && i % every == 0 {
                c.on_loss(e, true);
            } else {
                c.on_answer(e, t, true, Some(rtt));
            }
            c.tick(t, Some(rtt));
        }
        t
    }

    #[test]
    fn random_loss_raises_the_floor_not_the_alarm() {
        let mut c = Congestion::new(1, 10_000, 10);
        run(
            &mut c,
            Instant::now(),
            100_000,
            50,
            Duration::from_millis(20),
        );
        assert_eq!(c.reductions(), 0);
        assert!(c.window() > 5000);
        assert!((c.noise_floor() - 0.02).abs() < 0.01);
    }

    #[test]
    fn loss_that_does_not_follow_the_rate_is_noise() {
        let mut c = Congestion::new(1, 10_000, 1000);
        let rtt = Duration::from_millis(1);
        let t = run(&mut c, Instant::now(), 1000, 0, rtt);
        // Loss jumps to 50 % (a firewalled host group) and stays there.
        run(&mut c, t, 5000, 2, rtt);
        assert!(c.reductions() >= 1);
        assert_eq!(c.restores(), 1);
        assert!(c.noise_floor() > 0.3);
        assert!(c.window() >= 1000);
    }

    #[test]
    fn loss_that_follows_the_rate_cuts_the_window() {
        let mut c = Congestion::new(1, 10_000, 1000);
        let rtt = Duration::from_millis(1);
        let t = run(&mut c, Instant::now(), 1000, 0, rtt);
        // One epoch's worth of heavy loss, which the cut then stops.
        let t = run(&mut c, t, 64, 2, rtt);
        let t = run(&mut c, t, 64, 0, rtt);
        assert_eq!(c.reductions(), 1);
        let w = c.window();
        run(&mut c, t, 1000, 0, rtt);
        assert_eq!(c.restores(), 0);
        assert!(c.window() >= w);
    }

    #[test]
    fn queueing_delay_cuts_the_window() {
        let mut c = Congestion::new(1, 10_000, 1000);
        let t = run(&mut c, Instant::now(), 500, 0, Duration::from_millis(1));
        assert_eq!(c.reductions(), 0);
        run(&mut c, t, 500, 0, Duration::from_millis(30));
        assert!(c.reductions() >= 1);
    }
}

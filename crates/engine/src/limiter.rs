//! One `--max-rate` budget for the whole run.
//!
//! `--max-rate N` promises at most `N` probes per second from the run, not
//! from each of its parts: host discovery, the port scan's batches and the
//! `-sV` prober's connections run at the same time and must share one
//! budget. So there is one token bucket, [`RateLimiter`], and a handle to
//! it every consumer clones, [`SharedRateLimiter`]: the raw driver's engine
//! (one thread) and the prober's tokio tasks draw from the same bucket.
//!
//! **Sans-IO.** The limiter never reads a clock: every call takes the
//! caller's `Instant`, so the engine stays deterministic on the simulated
//! network and tests inject instants. Consumers must pass instants of one
//! clock; an instant earlier than one already seen (another thread's,
//! taken a moment before) counts as that later one, so time never runs
//! backwards for the bucket and no refill is counted twice.
//!
//! **Polling, first come first served.** Every consumer asks
//! [`SharedRateLimiter::try_take`] when it wants to send, and when no
//! token is there waits until [`SharedRateLimiter::next_ready`]: the raw
//! driver sleeps until its engine's next wake-up, which includes that
//! instant; the prober's tasks queue behind one another so that one task
//! per token wakes. A token thus goes to whoever asks first once it is
//! whole: the raw driver, woken at the token's instant, tends to win
//! while it has probes to send, and the prober then gets the tokens the
//! scan leaves (while it waits for replies, and after it); the run takes
//! the budget's time either way. (Reserving tokens ahead, going into
//! debt, would save the async side its polling but hand it every token
//! while it has work: a poller asks only for a whole token, which a
//! debtor never leaves.) The engine takes its token before it looks for a probe and
//! [`SharedRateLimiter::put_back`]s it when there was none, so no other
//! consumer takes the token between a check and a send: together they
//! never exceed `burst + rate * t` in any stretch `t`.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The longest wait a limiter ever names, so a tiny rate
/// cannot overflow an `Instant` (about eleven days).
const MAX_WAIT_SECS: f64 = 1e6;

/// A token bucket: `rate` tokens per second, at most `burst` banked (see
/// the module docs). It takes instants from its caller and never reads a
/// clock.
#[derive(Clone, Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    /// A bucket of `rate` tokens per second holding at most `burst`,
    /// full at `now`.
    pub fn new(rate: f64, burst: f64, now: Instant) -> Self {
        RateLimiter {
            rate,
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// The burst a scan's `--max-rate` bucket allows: 10 ms worth of
    /// tokens, within 1..=256.
    pub fn scan_burst(rate: f64) -> f64 {
        (rate / 100.0).clamp(1.0, 256.0)
    }

    /// Tokens per second.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Tokens banked as of the last call.
    pub fn tokens(&self) -> f64 {
        self.tokens
    }

    /// Adds the tokens earned since the last call, up to the burst.
    pub fn refill(&mut self, now: Instant) {
        let now = now.max(self.last);
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + dt * self.rate).min(self.burst);
        self.last = now;
    }

    /// Whether a whole token is there at `now`.
    pub fn ready(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.tokens >= 1.0 - 1e-9
    }

    /// Takes a token if one is there at `now`; returns whether it did.
    pub fn try_take(&mut self, now: Instant) -> bool {
        let ok = self.ready(now);
        if ok {
            self.tokens -= 1.0;
        }
        ok
    }

    /// Returns a token taken by [`try_take`](Self::try_take) and not used.
    pub fn put_back(&mut self) {
        self.tokens += 1.0;
    }

    /// When the next whole token will be there (a microsecond after, so a
    /// caller woken then finds it whole); `None` if one is there already
    /// as of the last call, or the rate is not positive.
    pub fn next_ready(&self) -> Option<Instant> {
        if self.tokens < 1.0 && self.rate > 0.0 {
            Some(after(self.last, (1.0 - self.tokens) / self.rate) + Duration::from_micros(1))
        } else {
            None
        }
    }
}

/// `t` plus `secs` seconds, the wait capped at [`MAX_WAIT_SECS`].
fn after(t: Instant, secs: f64) -> Instant {
    let secs = if secs.is_finite() {
        secs.clamp(0.0, MAX_WAIT_SECS)
    } else {
        MAX_WAIT_SECS
    };
    t + Duration::from_secs_f64(secs)
}

/// A [`RateLimiter`] shared between threads: clones draw from one bucket.
#[derive(Clone)]
pub struct SharedRateLimiter(Arc<Mutex<RateLimiter>>);

impl SharedRateLimiter {
    /// Shares `limiter`.
    pub fn new(limiter: RateLimiter) -> Self {
        SharedRateLimiter(Arc::new(Mutex::new(limiter)))
    }

    /// A run's `--max-rate` budget: `rate` per second with a scan's burst
    /// ([`RateLimiter::scan_burst`]), full at `now`; `None` unless `rate`
    /// is finite and positive.
    pub fn per_second(rate: f64, now: Instant) -> Option<Self> {
        (rate.is_finite() && rate > 0.0)
            .then(|| Self::new(RateLimiter::new(rate, RateLimiter::scan_burst(rate), now)))
    }

    /// Runs `f` on the bucket (a poisoned lock is taken over: the bucket
    /// is a few numbers, always consistent).
    pub fn with<R>(&self, f: impl FnOnce(&mut RateLimiter) -> R) -> R {
        let mut l = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut l)
    }

    /// See [`RateLimiter::try_take`].
    pub fn try_take(&self, now: Instant) -> bool {
        self.with(|l| l.try_take(now))
    }

    /// See [`RateLimiter::put_back`].
    pub fn put_back(&self) {
        self.with(RateLimiter::put_back)
    }

    /// See [`RateLimiter::next_ready`].
    pub fn next_ready(&self) -> Option<Instant> {
        self.with(|l| l.next_ready())
    }

    /// Whether `self` and `other` draw from the same bucket.
    pub fn same_as(&self, other: &SharedRateLimiter) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for SharedRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with(|l| f.debug_tuple("SharedRateLimiter").field(l).finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_full_bucket_gives_its_burst_then_one_token_per_interval() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(100.0, 3.0, t0);
        assert!((0..3).all(|_| l.try_take(t0)));
        assert!(!l.try_take(t0));
        assert_eq!(l.next_ready(), Some(t0 + ms(10) + Duration::from_micros(1)));
        assert!(!l.try_take(t0 + ms(9)));
        assert!(l.try_take(t0 + ms(10)));
        assert!(!l.try_take(t0 + ms(10)));
    }

    #[test]
    fn idle_time_banks_no_more_than_the_burst() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(1000.0, 5.0, t0);
        l.refill(t0 + Duration::from_secs(60));
        assert_eq!(l.tokens(), 5.0);
        assert_eq!(l.next_ready(), None);
    }

    #[test]
    fn put_back_returns_an_unused_token() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(10.0, 1.0, t0);
        assert!(l.try_take(t0));
        l.put_back();
        assert!(l.try_take(t0));
        assert!(!l.try_take(t0));
    }

    #[test]
    fn an_earlier_instant_counts_no_refill_twice() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(100.0, 1.0, t0);
        assert!(l.try_take(t0));
        assert!(l.try_take(t0 + ms(10)));
        // Another thread's instant, a moment older: no token yet.
        assert!(!l.try_take(t0 + ms(5)));
        assert!(!l.try_take(t0 + ms(15)));
        assert!(l.try_take(t0 + ms(20)));
    }

    #[test]
    fn tiny_rates_and_deep_debt_do_not_overflow() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(1e-300, 1.0, t0);
        assert!(l.try_take(t0));
        assert!(l.next_ready().is_some_and(|t| t > t0));
        let mut z = RateLimiter::new(0.0, 1.0, t0);
        assert!(z.try_take(t0));
        assert_eq!(z.next_ready(), None);
    }

    /// Two consumers polling at their own pace (the engine every 0.7 ms,
    /// the prober every 0.3 ms) share one budget: over any stretch of
    /// time their sends together stay within `burst + rate * stretch`,
    /// together they use the whole budget, and each gets a share.
    #[test]
    fn two_consumers_never_exceed_one_budget_together() {
        let t0 = Instant::now();
        let (rate, burst) = (200.0, 4.0);
        let shared = SharedRateLimiter::new(RateLimiter::new(rate, burst, t0));
        let engine = shared.clone();
        let prober = shared.clone();
        assert!(engine.same_as(&prober));
        let mut sends: Vec<(Instant, bool)> = Vec::new();
        let steps = 35_000u64;
        for step in 0..=steps {
            let now = t0 + Duration::from_micros(step * 100);
            if step % 7 == 0 {
                while engine.try_take(now) {
                    sends.push((now, true));
                }
            }
            if step % 3 == 0 && prober.try_take(now) {
                sends.push((now, false));
            }
        }
        for i in 0..sends.len() {
            for j in i..sends.len() {
                let span = sends[j].0.duration_since(sends[i].0).as_secs_f64();
                let n = (j - i + 1) as f64;
                assert!(n <= burst + rate * span + 1e-6, "{n} sends in {span} s");
            }
        }
        let total = sends.len() as f64;
        let budget = burst + rate * 3.5;
        assert!(total >= budget - 1.0, "{total} of {budget}");
        let by_prober = sends.iter().filter(|s| !s.1).count();
        assert!(
            by_prober > 100 && by_prober < sends.len() - 100,
            "{by_prober} of {}",
            sends.len()
        );
    }
}

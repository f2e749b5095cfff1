//! `--max-rate` for checks: every new connection or UDP datagram a check
//! starts takes a token from the run's budget (the engine's
//! [`SharedRateLimiter`], shared with the scan and `-sV`), so checks add
//! no burst of their own beyond the budget. Waiters queue behind one
//! another (a tokio mutex), so one task per token wakes, as in the
//! prober.

use portolan_engine::limiter::{RateLimiter, SharedRateLimiter};
use std::time::{Duration, Instant};

/// The run's token bucket and the queue of checks waiting for it.
#[derive(Debug)]
pub struct Pacer {
    limiter: SharedRateLimiter,
    turn: tokio::sync::Mutex<()>,
}

impl Pacer {
    /// Draws from `limiter` (the run's shared budget).
    pub fn shared(limiter: SharedRateLimiter) -> Pacer {
        Pacer {
            limiter,
            turn: tokio::sync::Mutex::new(()),
        }
    }

    /// A budget of its own: `rate` per second, a burst of one; `None`
    /// unless `rate` is finite and positive.
    pub fn per_second(rate: f64) -> Option<Pacer> {
        (rate.is_finite() && rate > 0.0).then(|| {
            Pacer::shared(SharedRateLimiter::new(RateLimiter::new(
                rate,
                1.0,
                Instant::now(),
            )))
        })
    }

    /// Waits for a token and takes it.
    pub async fn wait(&self) {
        let _turn = self.turn.lock().await;
        loop {
            let now = Instant::now();
            if self.limiter.try_take(now) {
                return;
            }
            let at = self
                .limiter
                .next_ready()
                .unwrap_or(now + Duration::from_millis(10));
            tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
        }
    }
}

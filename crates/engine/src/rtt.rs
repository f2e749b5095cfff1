//! Round-trip time estimation (RFC 6298).
//!
//! Each host keeps its own estimator and the scan keeps a global one for
//! hosts that have not answered yet. Samples follow Karn's rule: only
//! replies that unambiguously answer one known transmission are timed,
//! because a reply to a retransmitted probe could answer any attempt.

use std::time::Duration;

/// Smoothed RTT and its variation, per RFC 6298.
#[derive(Clone, Copy, Debug, Default)]
pub struct RttEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
}

impl RttEstimator {
    /// Feeds one RTT sample.
    pub fn sample(&mut self, r: Duration) {
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(s) => {
                let diff = s.abs_diff(r);
                self.rttvar = (self.rttvar * 3 + diff) / 4;
                self.srtt = Some((s * 7 + r) / 8);
            }
        }
    }

    /// The smoothed RTT, once any sample arrived.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// The retransmission timeout: `srtt + 4 * rttvar` clamped to
    /// `[min, max]`, or `initial` before the first sample.
    pub fn rto(&self, min: Duration, max: Duration, initial: Duration) -> Duration {
        match self.srtt {
            None => initial.clamp(min, max.max(min)),
            Some(s) => (s + self.rttvar * 4).clamp(min, max.max(min)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_rfc6298() {
        let ms = Duration::from_millis;
        let mut e = RttEstimator::default();
        assert_eq!(e.rto(ms(100), ms(10_000), ms(1000)), ms(1000));
        e.sample(ms(200));
        assert_eq!(e.srtt(), Some(ms(200)));
        assert_eq!(e.rto(ms(100), ms(10_000), ms(1000)), ms(600));
        e.sample(ms(200));
        assert_eq!(e.rto(ms(100), ms(10_000), ms(1000)), ms(500));
        assert_eq!(e.rto(ms(100), ms(300), ms(1000)), ms(300));
        let mut f = RttEstimator::default();
        f.sample(Duration::from_micros(50));
        assert_eq!(f.rto(ms(100), ms(10_000), ms(1000)), ms(100));
    }
}

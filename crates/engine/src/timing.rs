//! Timing knobs and the `-T0`..`-T5` templates.
//!
//! Every knob nmap users know is here, so the binary maps flags one to one:
//! it starts from [`Timing::template`] and overwrites the fields the user
//! set. Portolan's defaults can be faster than nmap's in one respect: its
//! congestion control does not read random loss as congestion (see
//! `congestion`), so it needs no low parallelism ceiling to stay polite.
//!
//! | Template | min/initial/max RTT timeout | retries | scan delay (max) | host timeout | parallelism |
//! |----------|-----------------------------|---------|------------------|--------------|-------------|
//! | T0 paranoid   | 100 ms / 5 min / 5 min  | 10 | 5 min (5 min)    | none   | 1 |
//! | T1 sneaky     | 100 ms / 15 s / 15 s    | 10 | 15 s (15 s)      | none   | 1 |
//! | T2 polite     | 100 ms / 1 s / 10 s     | 10 | 400 ms (1 s)     | none   | 1..=16384 |
//! | T3 normal     | 100 ms / 1 s / 10 s     | 10 | 0 (1 s)          | none   | 1..=16384 |
//! | T4 aggressive | 100 ms / 500 ms / 1250 ms | 6 | 0 (10 ms)       | none   | 1..=16384 |
//! | T5 insane     | 50 ms / 250 ms / 300 ms | 2  | 0 (5 ms)         | 15 min | 1..=16384 |
//!
//! Scan delay is the minimum interval between two probes of the scan
//! (portolan applies it globally, which for T0-T2 also serialises hosts);
//! max scan delay caps any delay the engine raises by itself. The retries
//! column is a ceiling: the engine retransmits only as often as the loss it
//! has measured requires (see `scan`). No template sets a rate limit or a
//! host group size; `--min-rate`, `--max-rate` and `--min/max-hostgroup`
//! override the automatic choice.

use std::fmt;
use std::time::Duration;

/// Every timing knob of a scan.
#[derive(Clone, Debug, PartialEq)]
pub struct Timing {
    /// Lower bound of a probe's timeout (`--min-rtt-timeout`).
    pub min_rtt_timeout: Duration,
    /// Upper bound of a probe's timeout (`--max-rtt-timeout`).
    pub max_rtt_timeout: Duration,
    /// Timeout before any RTT was measured (`--initial-rtt-timeout`).
    pub initial_rtt_timeout: Duration,
    /// Most retransmissions of one probe (`--max-retries`).
    pub max_retries: u8,
    /// Give up on a host after this long (`--host-timeout`).
    pub host_timeout: Option<Duration>,
    /// Minimum interval between probes (`--scan-delay`).
    pub scan_delay: Duration,
    /// Cap of any delay the engine adds itself (`--max-scan-delay`).
    pub max_scan_delay: Duration,
    /// Floor of the congestion window (`--min-parallelism`).
    pub min_parallelism: u32,
    /// Ceiling of the congestion window (`--max-parallelism`).
    pub max_parallelism: u32,
    /// Never send slower than this many probes per second (`--min-rate`).
    pub min_rate: Option<f64>,
    /// Never send faster than this many probes per second (`--max-rate`).
    pub max_rate: Option<f64>,
    /// Smallest host group (`--min-hostgroup`).
    pub min_hostgroup: Option<u32>,
    /// Largest host group (`--max-hostgroup`).
    pub max_hostgroup: Option<u32>,
}

/// A timing template level outside 0..=5.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadTemplate(pub u8);

impl fmt::Display for BadTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "timing template {} is not in 0..=5", self.0)
    }
}

impl std::error::Error for BadTemplate {}

/// The default window ceiling: enough for ~160 k probes/s at a 100 ms RTT.
pub const DEFAULT_MAX_PARALLELISM: u32 = 16_384;

impl Default for Timing {
    /// Template 3 (normal).
    fn default() -> Self {
        Timing {
            min_rtt_timeout: Duration::from_millis(100),
            max_rtt_timeout: Duration::from_secs(10),
            initial_rtt_timeout: Duration::from_secs(1),
            max_retries: 10,
            host_timeout: None,
            scan_delay: Duration::ZERO,
            max_scan_delay: Duration::from_secs(1),
            min_parallelism: 1,
            max_parallelism: DEFAULT_MAX_PARALLELISM,
            min_rate: None,
            max_rate: None,
            min_hostgroup: None,
            max_hostgroup: None,
        }
    }
}

impl Timing {
    /// The knobs of template `-T<level>` (see the module table).
    pub fn template(level: u8) -> Result<Timing, BadTemplate> {
        let ms = Duration::from_millis;
        let d = Timing::default();
        Ok(match level {
            0 => Timing {
                initial_rtt_timeout: Duration::from_secs(300),
                max_rtt_timeout: Duration::from_secs(300),
                scan_delay: Duration::from_secs(300),
                max_scan_delay: Duration::from_secs(300),
                max_parallelism: 1,
                ..d
            },
            1 => Timing {
                initial_rtt_timeout: Duration::from_secs(15),
                max_rtt_timeout: Duration::from_secs(15),
                scan_delay: Duration::from_secs(15),
                max_scan_delay: Duration::from_secs(15),
                max_parallelism: 1,
                ..d
            },
            2 => Timing {
                scan_delay: ms(400),
                ..d
            },
            3 => d,
            4 => Timing {
                min_rtt_timeout: ms(100),
                initial_rtt_timeout: ms(500),
                max_rtt_timeout: ms(1250),
                max_retries: 6,
                max_scan_delay: ms(10),
                ..d
            },
            5 => Timing {
                min_rtt_timeout: ms(50),
                initial_rtt_timeout: ms(250),
                max_rtt_timeout: ms(300),
                max_retries: 2,
                host_timeout: Some(Duration::from_secs(900)),
                max_scan_delay: ms(5),
                ..d
            },
            other => return Err(BadTemplate(other)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_the_table() {
        let t4 = Timing::template(4).unwrap();
        assert_eq!(t4.max_rtt_timeout, Duration::from_millis(1250));
        assert_eq!(t4.max_retries, 6);
        let t5 = Timing::template(5).unwrap();
        assert_eq!(t5.max_retries, 2);
        assert_eq!(t5.host_timeout, Some(Duration::from_secs(900)));
        assert_eq!(Timing::template(3).unwrap(), Timing::default());
        assert_eq!(Timing::template(0).unwrap().max_parallelism, 1);
        assert_eq!(Timing::template(6), Err(BadTemplate(6)));
        assert!(BadTemplate(6).to_string().contains('6'));
    }
}

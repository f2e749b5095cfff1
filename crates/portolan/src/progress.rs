//! The progress line on standard error.
//!
//! On a terminal a single line is redrawn in place (percent done, probe
//! rate, hosts done, hosts up and open ports found so far, ETA) once a
//! scan has run for a second; with `--stats-every` nmap's
//! two-line status report is printed at that interval instead, terminal or
//! not, so logs of long scans show how far they got.
//!
//! The ETA is the binary's own ([`Eta`]), not the engine's: the engine's
//! estimate is per scan, and when discovery feeds port-scan batches it is
//! discovery's (done long before the ports are, so a SYN scan said
//! `0:00:00 remaining` at 17 %). The share of work done (ports, or
//! discovery probes, resolved out of all known so far) is the same figure
//! for every technique, and its smoothed pace gives the time left.

use crate::found::Found;
use portolan_model::HostResult;
use portolan_session::Progress;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Redraw interval of the terminal line.
const REDRAW: Duration = Duration::from_millis(250);
/// Scans shorter than this never show the terminal line.
const QUIET_START: Duration = Duration::from_secs(1);

/// Prints the scan's progress as it goes.
pub struct Reporter {
    title: &'static str,
    start: Instant,
    live: bool,
    every: Option<Duration>,
    last_draw: Option<Instant>,
    last_stats: Instant,
    drawn: bool,
    eta: Eta,
    found: Found,
}

impl Reporter {
    /// A reporter for a scan called `title` ("Connect Scan"); `every` is
    /// `--stats-every`; `interactive` is false with `--noninteractive`.
    pub fn new(title: &'static str, every: Option<Duration>, interactive: bool) -> Self {
        let now = Instant::now();
        Reporter {
            title,
            start: now,
            live: interactive && std::io::stderr().is_terminal(),
            every,
            last_draw: None,
            last_stats: now,
            drawn: false,
            eta: Eta::new(now),
            found: Found::default(),
        }
    }

    /// Counts an up host whose ports are known, for the line's totals.
    pub fn host_up(&mut self, host: &HostResult) {
        self.found.add(host);
    }

    /// Takes a progress snapshot; prints when it is time to.
    pub fn update(&mut self, p: &Progress) {
        let now = Instant::now();
        let elapsed = now.duration_since(self.start);
        let eta = self.eta.update(now, p.ports_resolved, p.ports_total);
        if let Some(every) = self.every {
            if now.duration_since(self.last_stats) >= every {
                self.last_stats = now;
                self.clear();
                crate::say::err(format_args!("{}", stats_lines(self.title, elapsed, p, eta)));
            }
        }
        if self.live
            && elapsed >= QUIET_START
            && self
                .last_draw
                .is_none_or(|t| now.duration_since(t) >= REDRAW)
        {
            self.last_draw = Some(now);
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K{}", live_line(self.title, p, self.found, eta));
            let _ = err.flush();
            self.drawn = true;
        }
    }

    /// Erases the terminal line, if one is shown.
    pub fn clear(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
            self.drawn = false;
        }
    }
}

fn percent(p: &Progress) -> f64 {
    if p.ports_total == 0 {
        100.0
    } else {
        100.0 * p.ports_resolved as f64 / p.ports_total as f64
    }
}

fn clock(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

/// The terminal line: `Connect Scan: 45.20% done, 23521 probes/s, 0 of 1
/// hosts done, 1 up, 3 open ports, ETA 0:00:04`.
pub fn live_line(title: &str, p: &Progress, found: Found, eta: Option<Duration>) -> String {
    let eta = eta.map_or_else(|| "?".to_string(), clock);
    format!(
        "{title}: {:.2}% done, {:.0} probes/s, {} of {} hosts done, {} up, {} open port{}, ETA {eta}",
        percent(p),
        p.rate,
        p.hosts_done,
        p.hosts_total,
        found.hosts_up,
        found.open_ports,
        if found.open_ports == 1 { "" } else { "s" },
    )
}

/// nmap's `--stats-every` report.
pub fn stats_lines(title: &str, elapsed: Duration, p: &Progress, eta: Option<Duration>) -> String {
    let remaining = eta.map_or_else(|| "unknown".to_string(), clock);
    format!(
        "Stats: {} elapsed; {} hosts completed, {} undergoing {title}\n\
         {title} Timing: About {:.2}% done; {:.0} probes/s ({remaining} remaining)",
        clock(elapsed),
        p.hosts_done,
        p.hosts_total.saturating_sub(p.hosts_done).min(1 << 20),
        percent(p),
        p.rate,
    )
}

/// How often the pace is measured: shorter intervals are noise.
const PACE_WINDOW: Duration = Duration::from_secs(1);
/// Weight of the newest pace in the smoothed one.
const PACE_WEIGHT: f64 = 0.3;
/// Longest ETA shown (a stalled scan is not "a thousand years").
const MAX_ETA: f64 = 100.0 * 3600.0;

/// Time left from the share of work done: the pace (share per second) is
/// measured over each [`PACE_WINDOW`] and smoothed exponentially, and the
/// rest of the work is divided by it. The share may shrink when more work
/// appears (hosts coming up add their ports); a window that lost ground
/// counts as no progress.
#[derive(Debug)]
pub struct Eta {
    /// Start of the current window and the share done then.
    mark: (Instant, f64),
    /// Smoothed pace, share of the work per second.
    pace: Option<f64>,
}

impl Eta {
    /// An estimator for work starting at `start`, nothing done.
    pub fn new(start: Instant) -> Self {
        Eta {
            mark: (start, 0.0),
            pace: None,
        }
    }

    /// Takes `done` of `total` at `now`; returns the time left, or `None`
    /// while the pace is unknown (nothing measured yet, or stalled).
    pub fn update(&mut self, now: Instant, done: u64, total: u64) -> Option<Duration> {
        if total == 0 {
            return None;
        }
        let share = (done as f64 / total as f64).clamp(0.0, 1.0);
        let (since, before) = self.mark;
        let dt = now.saturating_duration_since(since);
        if dt >= PACE_WINDOW {
            let pace = ((share - before) / dt.as_secs_f64()).max(0.0);
            self.pace = Some(match self.pace {
                Some(old) => old + PACE_WEIGHT * (pace - old),
                None => pace,
            });
            self.mark = (now, share);
        }
        let pace = self.pace.filter(|&p| p > 0.0)?;
        Some(Duration::from_secs_f64(((1.0 - share) / pace).min(MAX_ETA)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_show_percent_rate_and_eta() {
        let p = Progress {
            ports_resolved: 452,
            ports_total: 1000,
            rate: 23521.4,
            eta: Some(Duration::from_secs(4)),
            hosts_total: 1,
            ..Progress::default()
        };
        let eta = Some(Duration::from_secs(4));
        let found = Found {
            hosts_up: 1,
            open_ports: 3,
        };
        assert_eq!(
            live_line("Connect Scan", &p, found, eta),
            "Connect Scan: 45.20% done, 23521 probes/s, 0 of 1 hosts done, 1 up, 3 open ports, ETA 0:00:04"
        );
        let s = stats_lines("Connect Scan", Duration::from_secs(65), &p, eta);
        assert!(
            s.starts_with("Stats: 0:01:05 elapsed; 0 hosts completed, 1 undergoing Connect Scan\n")
        );
        assert!(s.contains("About 45.20% done; 23521 probes/s (0:00:04 remaining)"));
    }

    fn secs(d: Option<Duration>) -> f64 {
        d.expect("an ETA").as_secs_f64()
    }

    #[test]
    fn eta_follows_a_steady_pace() {
        let t0 = Instant::now();
        let mut eta = Eta::new(t0);
        assert_eq!(eta.update(t0 + Duration::from_millis(500), 5, 1000), None);
        // 1 % a second: at 17 %, 83 s are left.
        let mut left = None;
        for s in 1..=17 {
            left = eta.update(t0 + Duration::from_secs(s), s * 10, 1000);
        }
        assert!((secs(left) - 83.0).abs() < 0.5, "{left:?}");
        // Between windows the estimate counts down with the work done.
        let left = eta.update(t0 + Duration::from_millis(17_500), 175, 1000);
        assert!((secs(left) - 82.5).abs() < 0.5, "{left:?}");
    }

    #[test]
    fn eta_is_smoothed_and_survives_growing_work() {
        let t0 = Instant::now();
        let mut eta = Eta::new(t0);
        for s in 1..=10 {
            eta.update(t0 + Duration::from_secs(s), s * 10, 1000);
        }
        // One fast second does not make the estimate jump to the new pace.
        let left = secs(eta.update(t0 + Duration::from_secs(11), 200, 1000));
        let instant_pace = (1.0 - 0.2) / 0.1;
        assert!(left > instant_pace * 1.5 && left < 80.0, "{left}");
        // More work appearing (hosts coming up) is no negative pace.
        let left = eta.update(t0 + Duration::from_secs(12), 200, 2000);
        assert!(left.is_some_and(|d| d.as_secs_f64() > 10.0), "{left:?}");
        // A stalled scan has no ETA rather than "0:00:00".
        let mut stalled = Eta::new(t0);
        assert_eq!(stalled.update(t0 + Duration::from_secs(2), 0, 1000), None);
    }
}

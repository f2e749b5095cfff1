//! The progress line on standard error.
//!
//! On a terminal a single line is redrawn in place (percent done, probe
//! rate, ETA) once a scan has run for a second; with `--stats-every` nmap's
//! two-line status report is printed at that interval instead, terminal or
//! not, so logs of long scans show how far they got.

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
        }
    }

    /// Takes a progress snapshot; prints when it is time to.
    pub fn update(&mut self, p: &Progress) {
        let now = Instant::now();
        let elapsed = now.duration_since(self.start);
        if let Some(every) = self.every {
            if now.duration_since(self.last_stats) >= every {
                self.last_stats = now;
                self.clear();
                crate::say::err(format_args!("{}", stats_lines(self.title, elapsed, p)));
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
            let _ = write!(err, "\r\x1b[K{}", live_line(self.title, p));
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

/// The terminal line: `Connect Scan: 45.20% done, 23521 probes/s, ETA 0:00:04`.
pub fn live_line(title: &str, p: &Progress) -> String {
    let eta = p.eta.map_or_else(|| "?".to_string(), clock);
    format!(
        "{title}: {:.2}% done, {:.0} probes/s, {} of {} hosts done, ETA {eta}",
        percent(p),
        p.rate,
        p.hosts_done,
        p.hosts_total
    )
}

/// nmap's `--stats-every` report.
pub fn stats_lines(title: &str, elapsed: Duration, p: &Progress) -> String {
    let remaining = p.eta.map_or_else(|| "unknown".to_string(), clock);
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
        assert_eq!(
            live_line("Connect Scan", &p),
            "Connect Scan: 45.20% done, 23521 probes/s, 0 of 1 hosts done, ETA 0:00:04"
        );
        let s = stats_lines("Connect Scan", Duration::from_secs(65), &p);
        assert!(
            s.starts_with("Stats: 0:01:05 elapsed; 0 hosts completed, 1 undergoing Connect Scan\n")
        );
        assert!(s.contains("About 45.20% done; 23521 probes/s (0:00:04 remaining)"));
    }
}

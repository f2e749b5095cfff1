//! nmap's `-v` progress lines on the terminal: `Initiating SYN Stealth
//! Scan at 17:30`, `Discovered open port 22/tcp on 198.18.0.2`, `Completed
//! SYN Stealth Scan at 17:30, 1.52s elapsed (1000 total ports)`.
//!
//! Why here and not in the outputs: nmap prints them on the terminal only,
//! never in `-oN`/`-oX` files, so they belong with the terminal. Ports are
//! announced when their host's ports are known (the session reports
//! hosts, not single ports), before the `Completed` line.

use crate::say;
use portolan_model::{HostResult, PortState};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The `-v` lines of one scan.
pub struct Chatter {
    title: &'static str,
    ports_per_host: u64,
    started: Option<Instant>,
    hosts_up: u64,
    ports_seen: u64,
    completed: bool,
}

impl Chatter {
    /// Lines for a scan called `title` of `ports_per_host` ports a host.
    pub fn new(title: &'static str, ports_per_host: u64) -> Self {
        Chatter {
            title,
            ports_per_host,
            started: None,
            hosts_up: 0,
            ports_seen: 0,
            completed: false,
        }
    }

    /// The scan starts.
    pub fn begin(&mut self) {
        self.started = Some(Instant::now());
        say::out(&format!("Initiating {} at {}\n", self.title, hh_mm(now())));
    }

    /// The engine's latest count of work (host×port), for the total.
    pub fn progress(&mut self, ports_total: u64) {
        self.ports_seen = self.ports_seen.max(ports_total);
    }

    /// A finished host: its open ports are announced.
    pub fn host(&mut self, host: &HostResult) {
        if host.status == portolan_model::HostStatus::Up {
            self.hosts_up += 1;
        }
        let mut text = String::new();
        for p in host.ports.iter().filter(|p| p.state == PortState::Open) {
            text.push_str(&format!(
                "Discovered open port {}/{} on {}\n",
                p.port, p.protocol, host.addr
            ));
        }
        if !text.is_empty() {
            say::out(&text);
        }
    }

    /// Probing is over.
    pub fn done(&mut self) {
        let Some(started) = self.started else { return };
        if self.completed {
            return;
        }
        self.completed = true;
        // Up hosts times their ports is exact; the engine's count (which
        // counts discovery probes too) stands in while service detection
        // still holds every host.
        let total = match self.hosts_up {
            0 => self.ports_seen,
            up => self.ports_per_host * up,
        };
        say::out(&format!(
            "Completed {} at {}, {:.2}s elapsed ({total} total ports)\n",
            self.title,
            hh_mm(now()),
            started.elapsed().as_secs_f64()
        ));
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `HH:MM` in UTC, as the `Starting Portolan ... UTC` line.
fn hh_mm(unix: u64) -> String {
    format!("{:02}:{:02}", (unix / 3600) % 24, (unix / 60) % 60)
}

#[cfg(test)]
mod tests {
    #[test]
    fn clock_is_hours_and_minutes() {
        assert_eq!(super::hh_mm(86_400 + 17 * 3600 + 5 * 60 + 59), "17:05");
    }
}

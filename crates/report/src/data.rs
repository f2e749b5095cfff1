//! The report's own view of scans: what a report needs of each host, and
//! no more.
//!
//! Why not keep [`HostResult`]s: a report lists ports the way nmap's
//! normal output does (every open port, and the other states unless a
//! state has too many ports, when it is counted instead), so a host of
//! 1,000 closed ports costs one count, not 1,000 rows. `-oH` holds every
//! host of the scan until the end, so this is also what bounds its memory.

use crate::changes::ChangeSet;
use crate::os::HostOs;
use portolan_model::{
    ExtraPorts, HostResult, HostStatus, PortResult, PortState, RunStats, ScanDocument, ScanInfo,
    ScriptResult,
};
use std::net::IpAddr;
use std::time::Duration;

/// One scan as a report shows it.
#[derive(Clone, Debug)]
pub struct ReportScan {
    /// What the scan was asked to do.
    pub info: ScanInfo,
    /// How it ended; `None` while it runs, or when its file stops early.
    pub stats: Option<RunStats>,
    /// Where it came from (a file name), when read from a file.
    pub source: Option<String>,
    /// Its hosts, in the order they were written.
    pub hosts: Vec<ReportHost>,
    /// Its warnings, in order.
    pub warnings: Vec<String>,
    /// What changed since the scan before it, or why that is not known;
    /// `None` when nothing was asked (see [`crate::changes`]).
    pub changes: Option<ChangeSet>,
}

/// One host as a report shows it.
#[derive(Clone, Debug)]
pub struct ReportHost {
    /// The address scanned.
    pub addr: IpAddr,
    /// The name typed or found by reverse DNS.
    pub name: Option<String>,
    /// Up, down or unknown.
    pub status: HostStatus,
    /// Ethernet address and vendor, as text.
    pub mac: Option<String>,
    /// Smoothed round-trip time.
    pub latency: Option<Duration>,
    /// The ports listed one by one (every open port among them), sorted.
    pub listed: Vec<PortResult>,
    /// The ports counted instead of listed, per state and protocol.
    pub extra: Vec<ExtraPorts>,
    /// What OS detection concluded, when it ran.
    pub os: Option<HostOs>,
    /// The checks' results (`-sC`), as the scan gave them.
    pub scripts: Vec<ScriptResult>,
}

impl ReportHost {
    /// The report's view of `host`: ports split by nmap's listing rule
    /// (`-v` 0, not `--open`), so every open port is listed.
    pub fn new(host: &HostResult) -> Self {
        let summary = host.port_summary(0, false);
        ReportHost {
            addr: host.addr,
            name: host.display_name().map(str::to_owned),
            status: host.status,
            mac: host.mac.as_ref().map(|m| match &m.vendor {
                Some(v) => format!("{m} ({v})"),
                None => m.to_string(),
            }),
            latency: host.latency,
            listed: summary.shown.into_iter().cloned().collect(),
            extra: summary.extra,
            os: host.os.as_ref().map(HostOs::new),
            scripts: host.scripts.clone(),
        }
    }

    /// How many ports of this host are in `state`, listed or counted.
    pub fn count(&self, state: PortState) -> u64 {
        let listed = self.listed.iter().filter(|p| p.state == state).count() as u64;
        let extra: u64 = self
            .extra
            .iter()
            .filter(|e| e.state == state)
            .map(|e| u64::from(e.count))
            .sum();
        listed + extra
    }

    /// The listed ports that are open.
    pub fn open_ports(&self) -> impl Iterator<Item = &PortResult> {
        self.listed.iter().filter(|p| p.state == PortState::Open)
    }
}

impl ReportScan {
    /// A scan that has only started.
    pub fn new(info: ScanInfo) -> Self {
        ReportScan {
            info,
            stats: None,
            source: None,
            hosts: Vec::new(),
            warnings: Vec::new(),
            changes: None,
        }
    }

    /// The report's view of a whole scan read back from a file.
    pub fn from_document(doc: &ScanDocument, source: Option<String>) -> Self {
        ReportScan {
            info: doc.info.clone(),
            stats: doc.stats.clone(),
            source,
            hosts: doc.hosts.iter().map(ReportHost::new).collect(),
            warnings: doc.warnings.clone(),
            changes: None,
        }
    }

    /// Hosts up: those listed as up (the outputs write every up host).
    pub fn hosts_up(&self) -> u64 {
        self.count_status(HostStatus::Up)
    }

    /// Hosts down: from the scan's end line when it has one (down hosts
    /// are listed only with `-v`), else those listed as down.
    pub fn hosts_down(&self) -> u64 {
        let listed = self.count_status(HostStatus::Down);
        self.stats
            .as_ref()
            .map_or(listed, |s| s.hosts_down.max(listed))
    }

    fn count_status(&self, status: HostStatus) -> u64 {
        self.hosts.iter().filter(|h| h.status == status).count() as u64
    }
}

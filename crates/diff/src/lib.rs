//! Comparing two scans: what ndiff compares (hosts up or down, host
//! names, port states, services and versions), on the model's
//! [`ScanDocument`], whichever store or file each scan came from.
//!
//! Why on the model and not on the store: a scan to compare may be a
//! stored one, a file from nmap, or portolan's XML or JSON, and the HTML
//! report will show the same differences; all of them read into a
//! `ScanDocument`, so the comparison is written once, here.
//!
//! Two rules go beyond ndiff:
//! - **Coverage**: a port is compared only when both scans report it for
//!   the host (both scanned it, and the host was up in both). A port only
//!   one scan covered is counted as *not compared*, never shown as
//!   closed or gone.
//! - **Flapping**: a change between `open|filtered` and `closed`,
//!   `filtered` or `closed|filtered` is what ICMP rate limiting and loss
//!   make of the same UDP port from one run to the next; it is left out
//!   unless [`DiffOptions::all`].
//!
//! OS and check findings are not compared yet: scans do not carry them.

mod compare;
mod text;
mod xml;

pub use compare::{diff, diff_host};
pub use text::write_text;
pub use xml::write_xml;

use portolan_model::{HostStatus, PortState, Protocol};
use serde::Serialize;
use std::net::IpAddr;

/// What to compare.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiffOptions {
    /// Show `open|filtered` flapping too.
    pub all: bool,
}

/// The header of one side: which scan it is.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScanSide {
    /// The scanner's version.
    pub version: String,
    /// The command line.
    pub args: String,
    /// Start, seconds since the epoch.
    pub start_time: u64,
}

/// The differences between scan `a` and scan `b`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScanDiff {
    /// The older scan (`-` lines).
    pub a: ScanSide,
    /// The newer scan (`+` lines).
    pub b: ScanSide,
    /// Hosts with a difference, in address order.
    pub hosts: Vec<HostDiff>,
    /// Ports left out of the comparison (covered by one scan only, or
    /// of a host down in one), over all hosts.
    pub not_compared: u64,
    /// `open|filtered` flaps left out (see [`DiffOptions::all`]).
    pub flaps_suppressed: u64,
}

impl ScanDiff {
    /// Whether the scans differ (ndiff's exit status 1).
    pub fn differs(&self) -> bool {
        !self.hosts.is_empty()
    }
}

/// One host's side: whether it was in the scan, and how.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HostSide {
    /// Up, down or unknown.
    pub status: HostStatus,
    /// Its names.
    pub hostnames: Vec<String>,
    /// OS detection's best match, when the scan ran it and it named one.
    pub os: Option<String>,
}

/// One host that differs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostDiff {
    /// The address.
    pub addr: IpAddr,
    /// The host in scan `a`, when it was there.
    pub a: Option<HostSide>,
    /// The host in scan `b`, when it was there.
    pub b: Option<HostSide>,
    /// Ports whose state or service differs (for a host in one scan
    /// only: its open ports).
    pub ports: Vec<PortDiff>,
    /// This host's ports not compared.
    pub not_compared: u64,
}

impl HostDiff {
    /// Whether the status differs (or the host is in one scan only).
    pub fn status_changed(&self) -> bool {
        self.a.as_ref().map(|h| h.status) != self.b.as_ref().map(|h| h.status)
    }

    /// Whether the names differ (both scans have the host).
    pub fn names_changed(&self) -> bool {
        matches!((&self.a, &self.b), (Some(a), Some(b)) if a.hostnames != b.hostnames)
    }

    /// Whether OS detection named different systems. Coverage-aware: a
    /// scan without an OS answer (no `-O`, or not enough evidence) is not
    /// compared.
    pub fn os_changed(&self) -> bool {
        matches!((&self.a, &self.b),
            (Some(HostSide { os: Some(a), .. }), Some(HostSide { os: Some(b), .. })) if a != b)
    }

    /// Whether anything differs: status, names, OS or ports.
    pub fn differs(&self) -> bool {
        self.status_changed() || self.names_changed() || self.os_changed() || !self.ports.is_empty()
    }

    /// The name to show: the newest known.
    pub fn name(&self) -> Option<&str> {
        [&self.b, &self.a]
            .into_iter()
            .flatten()
            .find_map(|h| h.hostnames.first().map(String::as_str))
    }
}

/// One port's side.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PortSide {
    /// Its state.
    pub state: PortState,
    /// Service name, when known (`ssl/http` inside TLS).
    pub service: Option<String>,
    /// Product (`OpenSSH`).
    pub product: Option<String>,
    /// Version (`9.2p1`).
    pub version: Option<String>,
    /// Extra information (`protocol 2.0`).
    pub extrainfo: Option<String>,
}

impl PortSide {
    /// nmap's VERSION column: product, version, (extra info).
    pub fn version_text(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        parts.extend(self.product.clone());
        parts.extend(self.version.clone());
        parts.extend(self.extrainfo.as_ref().map(|e| format!("({e})")));
        parts.join(" ")
    }
}

/// One port that differs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PortDiff {
    /// Number.
    pub port: u16,
    /// Protocol.
    pub protocol: Protocol,
    /// In scan `a`.
    pub a: Option<PortSide>,
    /// In scan `b`.
    pub b: Option<PortSide>,
}

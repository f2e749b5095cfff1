//! A whole scan as one value, and the events a scan's output is made of.
//!
//! Output is written as a stream of events (the scan starts, hosts finish,
//! warnings, the scan ends) so that an interrupted scan keeps what it
//! finished; a [`ScanDocument`] is that stream gathered back into one
//! value, what scan history, diffs and reports read.

use crate::host::HostResult;
use crate::run::{RunStats, ScanInfo};
use serde::{Deserialize, Serialize};

/// One event of a scan's output, tagged by `type` as in the JSON output's
/// lines (`scan`, `host`, `warning`, `end`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ScanEvent {
    /// The scan started: what it was asked to do.
    Scan(ScanInfo),
    /// One host finished.
    Host(HostResult),
    /// A problem that did not stop the scan.
    Warning {
        /// The warning's text.
        message: String,
    },
    /// The scan ended (after an interrupt too).
    End(RunStats),
}

/// [`ScanEvent`] borrowing its content, for writing without a copy; it
/// writes exactly what the owned event writes.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ScanEventRef<'a> {
    /// See [`ScanEvent::Scan`].
    Scan(&'a ScanInfo),
    /// See [`ScanEvent::Host`].
    Host(HostListing<'a>),
    /// See [`ScanEvent::Warning`].
    Warning {
        /// The warning's text.
        message: &'a str,
    },
    /// See [`ScanEvent::End`].
    End(&'a RunStats),
}

/// A host to write with the display rule that picks which of its ports
/// are listed one by one (the rest are summarised as `extraports`).
/// Either way every port is written: the rule changes the layout, not
/// what reads back. A bare [`HostResult`] writes with the default rule
/// (`verbose` 0, not `open_only`).
#[derive(Clone, Copy, Debug)]
pub struct HostListing<'a> {
    /// The host.
    pub host: &'a HostResult,
    /// `-v` level: a state with more than `25 * (verbose + 1)` ports is
    /// summarised.
    pub verbose: u8,
    /// `--open`: every state that cannot be open is summarised.
    pub open_only: bool,
}

/// A whole scan: what was asked, every host written, and how it ended.
#[derive(Clone, Debug, PartialEq)]
pub struct ScanDocument {
    /// What the scan was asked to do.
    pub info: ScanInfo,
    /// The hosts, in the order they were written.
    pub hosts: Vec<HostResult>,
    /// Warnings, in order.
    pub warnings: Vec<String>,
    /// How the scan ended; `None` when the output stops before its end
    /// (a scan killed without a chance to finish).
    pub stats: Option<RunStats>,
}

impl ScanDocument {
    /// A document of a scan that has only started.
    pub fn new(info: ScanInfo) -> Self {
        ScanDocument {
            info,
            hosts: Vec::new(),
            warnings: Vec::new(),
            stats: None,
        }
    }
}

//! Where a session's results go: a caller-supplied observer.
//!
//! The session does not know about files or terminals; it hands every
//! event to a [`ScanObserver`] in the order it happens, so the same scan
//! can feed nmap's output formats (the `portolan` binary wires
//! `portolan_output::Outputs` and its progress line to it), a database, or
//! a test's `Vec`. Writing errors are the observer's to report back:
//! `begin`, `host`, `note` and `end` return `io::Result`, and the session
//! ends the run with [`crate::SessionError::Output`] after the first one
//! (hosts still in flight are still delivered, so files stay complete).

use portolan_engine::Progress;
use portolan_model::{HostResult, RunStats, ScanInfo};
use std::io;

/// Receives a session's events (see the module docs). Only
/// [`host`](Self::host) must be written; the rest default to doing
/// nothing.
pub trait ScanObserver {
    /// The scan starts: what it will do, for output headers.
    fn begin(&mut self, info: &ScanInfo) -> io::Result<()> {
        let _ = info;
        Ok(())
    }

    /// A host is finished (ports, services and names known), up or down;
    /// down hosts come only when discovery ran. Hosts come in target order
    /// once the scan is over when there are at most
    /// [`crate::order::MAX_ORDERED`] targets, else as each is done.
    fn host(&mut self, host: &HostResult) -> io::Result<()>;

    /// A host's ports are known (before service detection and names, and
    /// before [`host`](Self::host), which may come later: hosts are
    /// written in target order). For live displays such as nmap's
    /// `Discovered open port` lines.
    fn ports_known(&mut self, host: &HostResult) {
        let _ = host;
    }

    /// The engine's progress, a few times a second while probing.
    fn progress(&mut self, progress: &Progress) {
        let _ = progress;
    }

    /// Whether [`partial`](Self::partial) is wanted now; asked with each
    /// progress report while probing.
    fn wants_partial(&mut self) -> bool {
        false
    }

    /// The up hosts not yet handed to [`host`](Self::host) whose port
    /// scan is under way or done, with the ports resolved so far (marked
    /// incomplete when some are still being probed): what a checkpoint
    /// keeps for `--resume` to continue them at port granularity.
    fn partial(&mut self, hosts: &[HostResult]) {
        let _ = hosts;
    }

    /// Probing is over; only host stages (service detection, names) may
    /// still be working. A progress display should go away now.
    fn probing_done(&mut self) {}

    /// Something the user should know that is not a result (a feature
    /// unavailable, a fallback). One line, without a program-name prefix.
    fn warning(&mut self, message: &str) {
        let _ = message;
    }

    /// A note that belongs with the results (nmap's "Host seems down"
    /// hint), written to the outputs.
    fn note(&mut self, note: &str) -> io::Result<()> {
        let _ = note;
        Ok(())
    }

    /// The scan is over (also after an error or a stop; `stats.error`
    /// and `stats.interrupted` say so).
    fn end(&mut self, stats: &RunStats) -> io::Result<()> {
        let _ = stats;
        Ok(())
    }
}

/// Collects every host in memory: the simplest observer, for programs that
/// want the results as a list once the scan is over.
#[derive(Debug, Default)]
pub struct Collect {
    /// The hosts, in the order they finished.
    pub hosts: Vec<HostResult>,
    /// Warnings, in order.
    pub warnings: Vec<String>,
}

impl ScanObserver for Collect {
    fn host(&mut self, host: &HostResult) -> io::Result<()> {
        self.hosts.push(host.clone());
        Ok(())
    }

    fn warning(&mut self, message: &str) {
        self.warnings.push(message.to_string());
    }
}

//! Work on finished hosts between the scan and the outputs.
//!
//! Service detection and reverse DNS take time per host but need nothing
//! from other hosts, so each runs as a stage: the scan hands a host over as
//! soon as its ports are known, the stage works on it in the background
//! (its own threads or runtime), and the host is written when every stage
//! is done with it. The scan loop never waits for a stage; it drains them
//! whenever it reports progress, and once more at the end.

use portolan_model::HostResult;

/// A background step on finished hosts (see the module docs).
pub trait HostStage {
    /// Takes a finished host; returns at once.
    fn submit(&mut self, host: HostResult);

    /// A host the stage is done with, if one is ready; never blocks.
    fn try_next(&mut self) -> Option<HostResult>;

    /// Hosts submitted and not yet taken back.
    fn in_progress(&self) -> usize;

    /// Waits for every submitted host and returns those not yet taken, in
    /// any order. With `interrupted` the stage abandons its work and
    /// returns the hosts as they are.
    fn finish(&mut self, interrupted: bool) -> Vec<HostResult>;

    /// Whether `--host-timeout` bounds this stage: a host whose time is
    /// up (or that timed out earlier) skips it. True for work that probes
    /// the host (`-sV`, checks); false for naming it (reverse DNS), which
    /// nmap does for timed-out hosts too.
    fn bounded_by_host_timeout(&self) -> bool {
        true
    }
}

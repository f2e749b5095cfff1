//! Stopping a scan from anywhere: another thread, or a signal handler.
//!
//! The drivers poll one `AtomicBool` between batches (a store is the only
//! thing a signal handler may safely do), so stopping is setting it: the
//! engine stops sending, finished hosts stay delivered and the observer
//! still gets its end. [`StopHandle`] wraps the flag so callers need not
//! share an `Arc<AtomicBool>` by hand. A library must not take the
//! process's signals unasked, so handlers are installed only by
//! [`StopHandle::stop_on_signals`], which the `portolan` binary calls.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// A cloneable switch that stops a running [`crate::Session`].
#[derive(Clone, Debug, Default)]
pub struct StopHandle(Arc<AtomicBool>, Arc<AtomicUsize>);

impl StopHandle {
    /// A handle not yet stopped.
    pub fn new() -> Self {
        StopHandle::default()
    }

    /// Asks the scan to stop; returns at once (async-signal-safe).
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether [`stop`](Self::stop) was called (or a signal arrived).
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// The flag itself, for drivers that poll an `AtomicBool`.
    pub fn flag(&self) -> &AtomicBool {
        &self.0
    }

    /// The signal that stopped the scan (`SIGINT`, `SIGTERM`), if one did;
    /// `None` when it was stopped by [`stop`](Self::stop) or not at all.
    /// When several arrived, the latest.
    pub fn signal(&self) -> Option<i32> {
        match self.1.load(Ordering::Relaxed) {
            0 => None,
            n => i32::try_from(n).ok(),
        }
    }

    /// Opt-in: SIGINT and SIGTERM stop the scan; a second one exits the
    /// process at once with status 128 + its number (130 for SIGINT, 143
    /// for SIGTERM, as an interrupted shell command). [`signal`](Self::signal)
    /// says which one arrived.
    pub fn stop_on_signals(&self) -> io::Result<()> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        for sig in [SIGINT, SIGTERM] {
            let code = 128 + sig;
            signal_hook::flag::register_conditional_shutdown(sig, code, Arc::clone(&self.0))?;
            // Both are plain atomic stores, safe in a signal handler; the
            // number is stored before the flag is raised.
            signal_hook::flag::register_usize(sig, Arc::clone(&self.1), sig as usize)?;
            signal_hook::flag::register(sig, Arc::clone(&self.0))?;
        }
        Ok(())
    }
}

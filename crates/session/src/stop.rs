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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A cloneable switch that stops a running [`crate::Session`].
#[derive(Clone, Debug, Default)]
pub struct StopHandle(Arc<AtomicBool>);

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

    /// Opt-in: SIGINT and SIGTERM stop the scan; a second one exits the
    /// process at once with status 130 (as an interrupted shell command).
    pub fn stop_on_signals(&self) -> io::Result<()> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        for sig in [SIGINT, SIGTERM] {
            signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&self.0))?;
            signal_hook::flag::register(sig, Arc::clone(&self.0))?;
        }
        Ok(())
    }
}

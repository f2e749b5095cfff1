//! The machinery the runtime-backed host stages share (`-sV`, checks):
//! a tokio runtime of their own, one task per host, hosts handed back
//! through a channel, and a cancel switch for an interrupt.
//!
//! Why one piece: each task owns its host through a [`HostGuard`] that
//! hands it back however the task ends (done, cancelled, panicked, or
//! dropped with the runtime), and finishing after an interrupt must wait a
//! short grace and then drop what is left; both stages need exactly that.

use portolan_model::HostResult;
use std::io;
use std::sync::mpsc;
use std::time::Duration;
use tokio::runtime::Runtime;
use tokio::sync::watch;

/// How long an interrupted [`HostTasks::finish`] waits for tasks to
/// notice before dropping them.
const CANCEL_GRACE: Duration = Duration::from_millis(500);

/// Hosts being worked on by tasks of a runtime of their own.
pub(crate) struct HostTasks {
    rt: Option<Runtime>,
    done_tx: mpsc::Sender<HostResult>,
    done_rx: mpsc::Receiver<HostResult>,
    /// Hosts handed to a task and not yet taken back.
    pending: usize,
    cancel: watch::Sender<bool>,
}

impl HostTasks {
    /// A runtime of two workers named `thread_name`.
    pub fn start(thread_name: &str) -> io::Result<Self> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(thread_name)
            .enable_all()
            .build()?;
        let (done_tx, done_rx) = mpsc::channel();
        let (cancel, _) = watch::channel(false);
        Ok(HostTasks {
            rt: Some(rt),
            done_tx,
            done_rx,
            pending: 0,
            cancel,
        })
    }

    /// Whether tasks can still be started (until `finish`).
    pub fn is_running(&self) -> bool {
        self.rt.is_some()
    }

    /// Hosts handed to a task and not yet taken back.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Runs the task `work` makes of `host`'s guard (`mark`: whether a
    /// host whose task did not finish comes back marked incomplete). With
    /// the runtime gone (after `finish`), the host comes straight back.
    pub fn spawn<F, Fut>(&mut self, host: HostResult, mark: bool, work: F)
    where
        F: FnOnce(HostGuard, watch::Receiver<bool>) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        self.pending += 1;
        let guard = HostGuard {
            host: Some(host),
            tx: self.done_tx.clone(),
            finished: !mark,
        };
        if let Some(rt) = self.rt.as_ref() {
            rt.spawn(work(guard, self.cancel.subscribe()));
        }
    }

    /// A host a task is done with, if one is ready; never blocks.
    pub fn try_next(&mut self) -> Option<HostResult> {
        let h = self.done_rx.try_recv().ok()?;
        self.pending = self.pending.saturating_sub(1);
        Some(h)
    }

    /// Waits for every task (with `interrupted`, cancels them and waits
    /// at most a grace) and returns the hosts not yet taken back.
    pub fn finish(&mut self, interrupted: bool) -> Vec<HostResult> {
        let mut out = Vec::new();
        if interrupted {
            let _ = self.cancel.send(true);
        }
        while self.pending > 0 {
            let got = if interrupted {
                self.done_rx.recv_timeout(CANCEL_GRACE).ok()
            } else {
                self.done_rx.recv().ok()
            };
            let Some(h) = got else { break };
            self.pending -= 1;
            out.push(h);
        }
        // Dropping the runtime drops any task left, and its guard hands
        // the host back.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(CANCEL_GRACE);
        }
        while let Ok(h) = self.done_rx.try_recv() {
            self.pending = self.pending.saturating_sub(1);
            out.push(h);
        }
        out
    }
}

impl Drop for HostTasks {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// Hands its host back when dropped, however the task holding it ends;
/// marked incomplete unless the task said it finished.
pub(crate) struct HostGuard {
    pub host: Option<HostResult>,
    tx: mpsc::Sender<HostResult>,
    /// Set by the task when its work is done.
    pub finished: bool,
}

impl Drop for HostGuard {
    fn drop(&mut self) {
        if let Some(mut h) = self.host.take() {
            if !self.finished {
                h.incomplete = true;
            }
            let _ = self.tx.send(h);
        }
    }
}

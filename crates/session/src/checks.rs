//! Checks (`-sC`, `--script`) as a [`HostStage`], after service
//! detection: a host's checks start as soon as `-sV` hands the host on,
//! while the scan goes on with other hosts. All hosts share one runner,
//! so at most the scan's parallelism of checks run at once, each under
//! its timeout ([`portolan_checks::Runner`]); a host comes back with its
//! findings and risk hints in `scripts`.
//!
//! Like [`crate::version::VersionStage`], each host's task owns the host
//! through a guard that hands it back however the task ends, so an
//! interrupted scan still writes every host.

use crate::config::CheckFlags;
use crate::stage::HostStage;
use portolan_checks::{CheckOptions, RiskTable, Runner, ScriptArgs, Selection};
use portolan_model::HostResult;
use std::io;
use std::sync::{mpsc, Arc};
use std::time::Duration;
use tokio::runtime::Runtime;
use tokio::sync::watch;

/// How long an interrupted [`ChecksStage::finish`] waits for tasks.
const CANCEL_GRACE: Duration = Duration::from_millis(500);

/// The checks the flags select, with their arguments and risk table; an
/// error is one line naming the bad word, pair or file line.
pub fn check_options(
    flags: &CheckFlags,
    parallelism: usize,
) -> Result<Option<CheckOptions>, String> {
    if !flags.default_set && flags.scripts.is_none() {
        return Ok(None);
    }
    let mut selection = Selection::default();
    if flags.default_set {
        selection.extend(&Selection::default_set());
    }
    if let Some(spec) = &flags.scripts {
        selection.extend(&Selection::parse(spec).map_err(|e| e.to_string())?);
    }
    let args = ScriptArgs::parse(flags.args.as_deref().unwrap_or(""))?;
    let risk = match &flags.risk_db {
        Some(path) => RiskTable::with_file(path)?,
        None => RiskTable::builtin(),
    };
    let mut opts = CheckOptions::new(selection);
    opts.args = Arc::new(args);
    opts.risk = Arc::new(risk);
    opts.parallelism = parallelism.max(1);
    if let Some(t) = flags.timeout {
        opts.timeout = t;
    }
    Ok(Some(opts))
}

/// Checks on hosts as they finish (see the module docs).
pub struct ChecksStage {
    rt: Option<Runtime>,
    runner: Runner,
    done_tx: mpsc::Sender<HostResult>,
    done_rx: mpsc::Receiver<HostResult>,
    pending: usize,
    cancel: watch::Sender<bool>,
}

impl ChecksStage {
    /// Starts the stage's runtime.
    pub fn start(opts: CheckOptions) -> io::Result<ChecksStage> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("portolan-sc")
            .enable_all()
            .build()?;
        let (done_tx, done_rx) = mpsc::channel();
        let (cancel, _) = watch::channel(false);
        Ok(ChecksStage {
            rt: Some(rt),
            runner: Runner::new(opts),
            done_tx,
            done_rx,
            pending: 0,
            cancel,
        })
    }
}

impl HostStage for ChecksStage {
    fn in_progress(&self) -> usize {
        self.pending
    }

    fn submit(&mut self, host: HostResult) {
        self.pending += 1;
        let mut guard = Guard {
            host: Some(host),
            tx: self.done_tx.clone(),
        };
        let Some(rt) = self.rt.as_ref() else {
            return;
        };
        let runner = self.runner.clone();
        let mut cancel = self.cancel.subscribe();
        rt.spawn(async move {
            let finished = {
                let Some(host) = guard.host.as_mut() else {
                    return;
                };
                let work = runner.run_host(host);
                tokio::select! {
                    biased;
                    _ = cancel.wait_for(|c| *c) => false,
                    _ = work => true,
                }
            };
            // Interrupted: the findings in flight are dropped; the host
            // goes on as the scan left it, with its risk hints.
            if let (false, Some(host)) = (finished, guard.host.as_mut()) {
                runner.add_hints(host);
            }
        });
    }

    fn try_next(&mut self) -> Option<HostResult> {
        let h = self.done_rx.try_recv().ok()?;
        self.pending = self.pending.saturating_sub(1);
        Some(h)
    }

    fn finish(&mut self, interrupted: bool) -> Vec<HostResult> {
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

impl Drop for ChecksStage {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// Hands its host back when dropped, however the task holding it ends.
struct Guard {
    host: Option<HostResult>,
    tx: mpsc::Sender<HostResult>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(h) = self.host.take() {
            let _ = self.tx.send(h);
        }
    }
}

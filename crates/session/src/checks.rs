//! Checks (`-sC`, `--script`) as a [`HostStage`], after service
//! detection: a host's checks start as soon as `-sV` hands the host on,
//! while the scan goes on with other hosts. All hosts share one runner,
//! so at most the scan's parallelism of checks run at once, each under
//! its timeout, their connections paced by the run's `--max-rate` budget ([`portolan_checks::Runner`]); a host comes back with its
//! findings and risk hints in `scripts`.
//!
//! Like [`crate::version::VersionStage`], each host is a task of the
//! stage's runtime ([`crate::tasks`]) that hands it back however it ends,
//! so an interrupted scan still writes every host.

use crate::config::CheckFlags;
use crate::stage::HostStage;
use crate::tasks::HostTasks;
use portolan_checks::pace::Pacer;
use portolan_checks::{CheckOptions, RiskTable, Runner, ScriptArgs, Selection};
use portolan_engine::SharedRateLimiter;
use portolan_model::HostResult;
use std::io;
use std::sync::Arc;

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
    tasks: HostTasks,
    runner: Runner,
}

impl ChecksStage {
    /// Starts the stage's runtime.
    /// `budget`, when given, is the run's `--max-rate` budget (shared
    /// with the scan and `-sV`): each check connection draws from it.
    pub fn start(
        mut opts: CheckOptions,
        budget: Option<SharedRateLimiter>,
    ) -> io::Result<ChecksStage> {
        if let Some(b) = budget {
            opts.pacer = Some(Arc::new(Pacer::shared(b)));
        }
        Ok(ChecksStage {
            tasks: HostTasks::start("portolan-sc")?,
            runner: Runner::new(opts),
        })
    }
}

impl HostStage for ChecksStage {
    fn in_progress(&self) -> usize {
        self.tasks.pending()
    }

    fn submit(&mut self, host: HostResult) {
        let runner = self.runner.clone();
        // Unmarked if cut short: the host goes on as the scan left it.
        self.tasks
            .spawn(host, false, move |mut guard, mut cancel| async move {
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
        self.tasks.try_next()
    }

    fn finish(&mut self, interrupted: bool) -> Vec<HostResult> {
        self.tasks.finish(interrupted)
    }
}

//! Service and version detection (`-sV`) as a [`HostStage`].
//!
//! A host's open ports are probed as soon as the port scan hands the host
//! over, while the scan goes on with other hosts: probing is the slow part
//! of `-sV` (banner waits of a second or more), so it should overlap the
//! scan instead of following it. Every service of every submitted host is
//! probed concurrently by one [`portolan_service::Prober`] on its own tokio
//! runtime, bounded by the scan's parallelism and paced by the run's
//! `--max-rate` budget, which it shares with the scan; a host comes back
//! when all its ports are done.
//!
//! UDP ports the scan left `open|filtered` are probed too, as nmap does: a
//! reply to any probe proves the port open (reason `udp-response`).
//!
//! Each host's task owns the host through a guard that hands it back when
//! the task ends for any reason (done, cancelled, panicked, or dropped with
//! the runtime), so an interrupted scan still gets every host to write; a
//! host whose probing did not finish comes back marked incomplete.
//!
//! `--host-timeout` bounds probing too: it counts from the start of the
//! host's scan, and a host whose time runs out while its services are
//! probed comes back marked timed out, as nmap reports it.

use crate::stage::HostStage;
use crate::tasks::{HostGuard, HostTasks};
use portolan_engine::SharedRateLimiter;
use portolan_model::{HostResult, PortResult, PortState, Protocol, Reason};
use portolan_service::{
    Database, DbError, Detection, ProbeOptions, Prober, Target, TraceEvent, TraceFn,
};
use std::collections::VecDeque;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// What the version flags asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionOptions {
    /// `--version-intensity` (`--version-light` = 2, `--version-all` = 9).
    pub intensity: u8,
    /// `--allports`.
    pub all_ports: bool,
    /// `--version-trace`.
    pub trace: bool,
    /// `--service-db FILE`, merged with the built-in database.
    pub db_file: Option<PathBuf>,
    /// `--host-timeout`, counted from the start of each host's scan.
    pub host_timeout: Option<Duration>,
}

/// Loads the built-in probe database and merges the user's file, if any.
/// Errors name the file, the line and the reason.
pub fn load_database(opts: &VersionOptions) -> Result<Arc<Database>, DbError> {
    let mut db = Database::builtin()?;
    if let Some(path) = &opts.db_file {
        db.merge(Database::from_file(path)?)?;
    }
    Ok(Arc::new(db))
}

/// Service detection on hosts as they finish (see the module docs).
pub struct VersionStage {
    tasks: HostTasks,
    prober: Prober,
    /// Hosts with nothing to probe, returned without a trip to the runtime.
    ready: VecDeque<HostResult>,
    host_timeout: Option<Duration>,
}

impl VersionStage {
    /// Starts the stage's runtime. `parallelism` bounds the services probed
    /// at once (and the file-descriptor limit, raised to its hard maximum,
    /// bounds it further); `max_rate` (the scan's `--max-rate`) bounds new
    /// connections and UDP probes per second.
    pub fn start(
        db: Arc<Database>,
        opts: &VersionOptions,
        parallelism: usize,
        max_rate: Option<f64>,
    ) -> io::Result<VersionStage> {
        Self::start_shared(db, opts, parallelism, max_rate, None)
    }

    /// As [`start`](Self::start); `shared`, when given, is the run's
    /// `--max-rate` budget, shared with the scan, and replaces `max_rate`.
    pub fn start_shared(
        db: Arc<Database>,
        opts: &VersionOptions,
        parallelism: usize,
        max_rate: Option<f64>,
        shared: Option<SharedRateLimiter>,
    ) -> io::Result<VersionStage> {
        let tasks = HostTasks::start("portolan-sv")?;
        let defaults = ProbeOptions::default();
        // Each service may hold its NULL connection and a window of probe
        // connections; half the descriptors are left to the port scan.
        let per_service = defaults.probes_in_flight + 1;
        let budget = portolan_connect::socket_budget(usize::MAX) / 2 / per_service;
        let popts = ProbeOptions {
            intensity: opts.intensity,
            all_ports: opts.all_ports,
            parallelism: parallelism.clamp(1, budget.max(1)),
            max_rate,
            rate_limiter: shared,
            ..defaults
        };
        let mut prober = Prober::new(db, popts);
        if opts.trace {
            prober = prober.with_trace(trace_to_stderr());
        }
        Ok(VersionStage {
            tasks,
            prober,
            ready: VecDeque::new(),
            host_timeout: opts.host_timeout,
        })
    }
}

impl HostStage for VersionStage {
    fn in_progress(&self) -> usize {
        self.tasks.pending() + self.ready.len()
    }

    fn submit(&mut self, host: HostResult) {
        let targets = targets(&host);
        if targets.is_empty() || !self.tasks.is_running() {
            self.ready.push_back(host);
            return;
        }
        let left = self
            .host_timeout
            .map(|t| t.saturating_sub(elapsed_since(host.start_time)));
        let prober = self.prober.clone();
        self.tasks.spawn(host, true, move |guard, cancel| {
            probe_host(prober, guard, targets, cancel, left)
        });
    }

    fn try_next(&mut self) -> Option<HostResult> {
        self.ready.pop_front().or_else(|| self.tasks.try_next())
    }

    fn finish(&mut self, interrupted: bool) -> Vec<HostResult> {
        let mut out: Vec<HostResult> = self.ready.drain(..).collect();
        out.extend(self.tasks.finish(interrupted));
        out
    }
}

/// Time since `start` (Unix seconds, as hosts carry it). The start is
/// whole seconds, so this reads up to a second long: a host timeout ends
/// probing at most that much early, never late.
pub(crate) fn elapsed_since(start: u64) -> Duration {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    now.saturating_sub(Duration::from_secs(start))
}

/// Probes `targets` of the guarded host concurrently, recording each
/// result as it comes, until all are done, the stage is cancelled, or the
/// host's time (`left` of its `--host-timeout`) runs out.
async fn probe_host(
    prober: Prober,
    mut guard: HostGuard,
    targets: Vec<Target>,
    mut cancel: watch::Receiver<bool>,
    left: Option<Duration>,
) {
    let mut set = tokio::task::JoinSet::new();
    if left != Some(Duration::ZERO) {
        for t in targets {
            let p = prober.clone();
            set.spawn(async move { p.detect_one(t).await });
        }
    }
    let timeout = async {
        match left {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(timeout);
    loop {
        tokio::select! {
            biased;
            _ = cancel.wait_for(|c| *c) => break,
            _ = &mut timeout => {
                if let Some(h) = guard.host.as_mut() {
                    h.timed_out = true;
                }
                guard.finished = true;
                break;
            }
            r = set.join_next() => match r {
                None => {
                    guard.finished = true;
                    break;
                }
                Some(Ok(d)) => {
                    if let Some(h) = guard.host.as_mut() {
                        record(h, d);
                    }
                }
                Some(Err(_)) => {}
            },
        }
    }
}

/// The ports of `host` worth probing: open TCP and UDP ports, and UDP
/// ports without a reply (`open|filtered`).
fn targets(host: &HostResult) -> Vec<Target> {
    host.ports
        .iter()
        .filter(|p| probed(p))
        .map(|p| Target {
            addr: host.addr,
            port: p.port,
            protocol: p.protocol,
        })
        .collect()
}

fn probed(p: &PortResult) -> bool {
    match p.protocol {
        Protocol::Tcp => p.state == PortState::Open,
        Protocol::Udp => matches!(p.state, PortState::Open | PortState::OpenFiltered),
        _ => false,
    }
}

/// Writes what probing learned into the host's port: the identification
/// replaces the port-table guess, and an answering UDP port is open.
fn record(host: &mut HostResult, d: Detection) {
    let Some(p) = host
        .ports
        .iter_mut()
        .find(|p| p.port == d.target.port && p.protocol == d.target.protocol)
    else {
        return;
    };
    if p.protocol == Protocol::Udp && p.state == PortState::OpenFiltered && d.answered {
        p.state = PortState::Open;
        p.reason = Reason::UdpResponse;
        p.reason_ttl = 0;
    }
    if let Some(service) = d.service {
        p.service = Some(Box::new(service));
    }
}

/// Probes every open port of `hosts` and records what answered, all at
/// once (for callers that hold every host until the scan ends).
pub fn detect(
    hosts: &mut [HostResult],
    db: Arc<Database>,
    opts: &VersionOptions,
    parallelism: usize,
) -> io::Result<()> {
    let mut stage = VersionStage::start(db, opts, parallelism, None)?;
    for h in hosts.iter() {
        stage.submit(h.clone());
    }
    // Hosts come back in any order: put each in the first unfilled slot
    // of its address.
    let mut filled = vec![false; hosts.len()];
    for h in stage.finish(false) {
        if let Some(i) = (0..hosts.len()).find(|&i| !filled[i] && hosts[i].addr == h.addr) {
            hosts[i] = h;
            filled[i] = true;
        }
    }
    Ok(())
}

/// `--version-trace`: one line per probing step on standard error.
fn trace_to_stderr() -> TraceFn {
    Arc::new(|ev: &TraceEvent<'_>| {
        let line = match ev {
            TraceEvent::Sent {
                target,
                probe,
                tunnel,
                bytes,
            } => format!(
                "Service scan sending probe {probe} to {}:{}/{}{} ({} bytes)",
                target.addr,
                target.port,
                target.protocol,
                if *tunnel { " (ssl)" } else { "" },
                bytes.len()
            ),
            TraceEvent::Received {
                target,
                probe,
                bytes,
                ..
            } => format!(
                "Service scan got {} bytes from {}:{}/{} to probe {probe}",
                bytes.len(),
                target.addr,
                target.port,
                target.protocol
            ),
            TraceEvent::Matched { target, probe, .. } => format!(
                "Service scan match (probe {probe}) on {}:{}/{}",
                target.addr, target.port, target.protocol
            ),
            TraceEvent::Tls { target, ok } => format!(
                "Service scan TLS handshake with {}:{}/{} {}",
                target.addr,
                target.port,
                target.protocol,
                if *ok { "succeeded" } else { "failed" }
            ),
            TraceEvent::ConnectFailed { target, error } => format!(
                "Service scan connect to {}:{}/{} failed: {error}",
                target.addr, target.port, target.protocol
            ),
        };
        eprintln!("{line}");
    })
}

//! The TCP connect scan (`-sT`): portolan's engine driven over ordinary
//! sockets, for users without raw-socket privileges.
//!
//! The engine ([`portolan_engine::Scan`]) decides what to probe, when a
//! probe has gone unanswered and when to retry, exactly as for raw scans;
//! this driver only turns each probe into a non-blocking `connect()` on a
//! tokio runtime and each result into a [`Reply`] (the rules are in
//! [`outcome`]). Thousands of connects are in flight at once, bounded by a
//! permit pool sized from the file-descriptor limit, which is raised to its
//! hard maximum first.

mod attempt;
mod limits;
pub mod outcome;

pub use limits::socket_budget;
pub use outcome::{classify, Outcome};

use portolan_engine::{Probe, ProbeSpec, Progress, Reply, Scan, SendError};
use portolan_model::HostResult;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Semaphore};

/// Longest the driver sleeps between looks at the stop flag and progress.
const MAX_WAIT: Duration = Duration::from_millis(50);
/// Sockets in flight at most, whatever the descriptor limit allows.
const MAX_SOCKETS: usize = 16_384;

/// Settings of the connect driver.
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    /// Source address to bind (`-S`).
    pub source: Option<IpAddr>,
    /// Sockets in flight at most; 0 = from the descriptor limit.
    pub max_sockets: usize,
}

/// What the driver reports while it runs.
pub trait Observer {
    /// A host is finished.
    fn host(&mut self, host: HostResult);
    /// Called now and then with the scan's progress.
    fn progress(&mut self, _progress: &Progress) {}
}

impl<F: FnMut(HostResult)> Observer for F {
    fn host(&mut self, host: HostResult) {
        self(host)
    }
}

struct Done {
    technique: usize,
    spec: ProbeSpec,
    outcome: Outcome,
    probe: Probe,
}

/// Runs `scan` to completion, or until `stop` is set, with every technique
/// of the plan scanned by connect(). Must be called inside a tokio runtime.
pub async fn run(
    scan: &mut Scan,
    opts: &ConnectOptions,
    stop: &AtomicBool,
    observer: &mut dyn Observer,
) {
    let budget = if opts.max_sockets == 0 {
        socket_budget(MAX_SOCKETS)
    } else {
        opts.max_sockets
    };
    let permits = Arc::new(Semaphore::new(budget));
    let (tx, mut rx) = mpsc::unbounded_channel::<Done>();
    let mut done = Vec::with_capacity(1024);
    let mut last_progress = Instant::now();
    loop {
        if stop.load(Ordering::Relaxed) {
            scan.stop();
        }
        let now = Instant::now();
        scan.handle_timeouts(now);
        while let Some(h) = scan.poll_host() {
            observer.host(h);
        }
        if scan.is_done() {
            break;
        }
        if now.duration_since(last_progress) >= MAX_WAIT {
            observer.progress(&scan.progress());
            last_progress = now;
        }
        // Launch every probe the engine allows while sockets are free.
        while let Ok(permit) = permits.clone().try_acquire_owned() {
            let Some(probe) = scan.poll_probe(now) else {
                drop(permit);
                break;
            };
            let tx = tx.clone();
            let source = opts.source;
            tokio::spawn(async move {
                let dst = SocketAddr::new(probe.spec.dst, probe.spec.dport);
                let deadline = tokio::time::Instant::from_std(probe.deadline);
                let outcome = attempt::attempt(dst, source, deadline).await;
                drop(permit);
                let _ = tx.send(Done {
                    technique: probe.technique,
                    spec: probe.spec,
                    outcome,
                    probe,
                });
            });
        }
        // Wait for results, the engine's next deadline, or a stop check.
        let wait = scan
            .next_wakeup()
            .map_or(MAX_WAIT, |t| t.saturating_duration_since(Instant::now()))
            .min(MAX_WAIT);
        let first = tokio::select! {
            d = rx.recv() => d,
            _ = tokio::time::sleep(wait) => None,
        };
        done.clear();
        done.extend(first);
        while let Ok(d) = rx.try_recv() {
            done.push(d);
        }
        let now = Instant::now();
        for d in done.drain(..) {
            match d.outcome {
                Outcome::State(state, reason) => scan.on_reply(
                    now,
                    d.technique,
                    Reply {
                        dst: d.spec.dst,
                        dport: d.spec.dport,
                        attempt: Some(d.spec.attempt),
                        state,
                        reason,
                        ttl: 0,
                    },
                ),
                // The engine's own deadline turns silence into a retry or
                // the no-reply state.
                Outcome::Silent => {}
                Outcome::LocalError => scan.on_send_error(now, &d.probe, SendError::Transient),
            }
        }
    }
    observer.progress(&scan.progress());
}

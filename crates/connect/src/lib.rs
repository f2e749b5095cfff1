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
pub mod layer;
mod limits;
pub mod outcome;

pub use layer::{ConnectModule, Connector};
pub use limits::socket_budget;
pub use outcome::{classify, Outcome};

pub use portolan_engine::Observer;
use portolan_engine::{Engine, Probe, Reply, SendError};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

/// Longest the driver sleeps between looks at the stop flag and progress.
const MAX_WAIT: Duration = Duration::from_millis(50);
/// Probes handed to one task.
const CHUNK: usize = 32;
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

struct Done {
    probe: Probe,
    outcome: Outcome,
}

/// Runs `scan` to completion, or until `stop` is set, with every technique
/// of the plan scanned by connect(). Must be called inside a tokio runtime.
pub async fn run(
    scan: &mut dyn Engine,
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
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<Done>>();
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
        if now.duration_since(last_progress) >= portolan_engine::driver::PROGRESS_EVERY {
            portolan_engine::driver::report_progress(&*scan, observer);
            last_progress = now;
        }
        // Launch every probe the engine allows while sockets are free, in
        // chunks that run on every worker thread: most attempts are decided
        // inside connect() itself (see `attempt`), so the system calls are
        // the work, and they spread over the cores this way.
        let mut chunk: Vec<(Probe, OwnedSemaphorePermit)> = Vec::with_capacity(CHUNK);
        while let Ok(permit) = permits.clone().try_acquire_owned() {
            let Some(probe) = scan.poll_probe(now) else {
                drop(permit);
                break;
            };
            chunk.push((probe, permit));
            if chunk.len() == CHUNK {
                launch(std::mem::take(&mut chunk), opts.source, &tx);
            }
        }
        if !chunk.is_empty() {
            launch(chunk, opts.source, &tx);
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
        done.extend(first.into_iter().flatten());
        while let Ok(d) = rx.try_recv() {
            done.extend(d);
        }
        let now = Instant::now();
        for d in done.drain(..) {
            deliver(scan, now, &d.probe, d.outcome);
        }
    }
    observer.progress(&scan.progress());
}

/// Starts the attempts of `chunk` in a task; results come back over `tx`.
fn launch(
    chunk: Vec<(Probe, OwnedSemaphorePermit)>,
    source: Option<IpAddr>,
    tx: &mpsc::UnboundedSender<Vec<Done>>,
) {
    let tx = tx.clone();
    tokio::spawn(async move {
        // Decided attempts go back together, one message (and one wake-up
        // of the driver) per chunk.
        let mut decided = Vec::with_capacity(chunk.len());
        for (probe, permit) in chunk {
            let dst = SocketAddr::new(probe.spec.dst, probe.spec.dport);
            match attempt::start(dst, source) {
                attempt::Started::Done(outcome) => {
                    drop(permit);
                    decided.push(Done { probe, outcome });
                }
                attempt::Started::Pending(socket) => {
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        let deadline = tokio::time::Instant::from_std(probe.deadline);
                        let outcome = attempt::finish(socket, deadline).await;
                        drop(permit);
                        let _ = tx.send(vec![Done { probe, outcome }]);
                    });
                }
            }
        }
        if !decided.is_empty() {
            let _ = tx.send(decided);
        }
    });
}

/// Hands one attempt's outcome to the engine.
fn deliver(scan: &mut dyn Engine, now: Instant, probe: &Probe, outcome: Outcome) {
    match outcome {
        Outcome::State(state, reason) => scan.on_reply(
            now,
            probe.technique,
            Reply {
                dst: probe.spec.dst,
                dport: probe.spec.dport,
                attempt: Some(probe.spec.attempt),
                state,
                reason,
                ttl: 0,
                traits: None,
                mac: None,
            },
        ),
        // The engine's own deadline turns silence into a retry or the
        // no-reply state.
        Outcome::Silent => {}
        Outcome::LocalError => scan.on_send_error(now, probe, SendError::Transient),
    }
}

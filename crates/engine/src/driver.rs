//! The raw-packet driver: an [`Engine`] (a [`crate::Scan`] or a
//! [`crate::Pipeline`]) over a [`PacketIo`].
//!
//! One thread, one loop: send a batch of the probes the engine allows,
//! receive until the engine's next wakeup (not at all when more probes are
//! ready), classify replies with the probe modules, expire timeouts, and
//! hand finished hosts out. Buffers are allocated once, before the loop.
//!
//! The loop is the same for every layer: a module says which transport
//! its probes travel by ([`Layer`]), and [`run`] routes each probe and
//! each received item by it, so link-layer pings (ARP, ND) get the
//! engine's retries, timeouts and RTTs like any IP probe and pipeline
//! into the port scan in the same run.

use crate::io::{Clock, IpOnly, PacketIo, Transport};
use crate::module::{Layer, ProbeContext, ProbeModule};
use crate::pipeline::Engine;
use crate::scan::{Probe, Progress, SendError};
use portolan_model::HostResult;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Probes built and sent per batch.
pub const BATCH: usize = 64;
/// How often drivers report progress.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(50);
/// Longest single wait in `recv`, so `stop` is noticed promptly.
const MAX_WAIT: Duration = Duration::from_millis(100);
/// How long to wait for replies (or the next deadline) after the I/O took
/// less than a whole batch, before offering the rest again: the senders
/// are behind, and offering again at once would only spin on the CPU
/// they need.
const BACKPRESSURE_WAIT: Duration = Duration::from_millis(1);
/// Size of each probe buffer.
const BUF: usize = 1536;

/// What a driver reports while it runs; every driver (raw packets,
/// connect) takes one.
pub trait Observer {
    /// A host is finished.
    fn host(&mut self, host: HostResult);
    /// The scan's progress, now and then.
    fn progress(&mut self, _progress: &Progress) {}
    /// Whether [`partial`](Self::partial) is wanted now (asked with each
    /// progress report; a checkpoint wants it every few seconds).
    fn wants_partial(&mut self) -> bool {
        false
    }
    /// The hosts still being scanned, with the ports resolved so far
    /// ([`Engine::partial_hosts`](crate::Engine::partial_hosts)).
    fn partial(&mut self, _hosts: Vec<HostResult>) {}
}

/// Reports `scan`'s progress to `observer`, and its partial hosts when
/// the observer wants them (what every driver does every
/// [`PROGRESS_EVERY`]).
pub fn report_progress(scan: &dyn crate::Engine, observer: &mut dyn Observer) {
    if observer.wants_partial() {
        observer.partial(scan.partial_hosts());
    }
    observer.progress(&scan.progress());
}

impl<F: FnMut(HostResult)> Observer for F {
    fn host(&mut self, host: HostResult) {
        self(host)
    }
}

/// Runs `scan` to completion (or until `stop` is set), sending probes
/// built by `modules[probe.technique]` through `io`, and calling the
/// observer's `host`
/// for each finished host and, every 50 ms or so, `progress`. Modules
/// beyond the plan's techniques are
/// ignored; a technique without a module has its probes resolved as
/// unsendable. Every module must be of [`Layer::Ip`] (see [`run`]).
pub fn run_raw<I: PacketIo, C: Clock>(
    scan: &mut dyn Engine,
    modules: &[&dyn ProbeModule],
    ctx: &ProbeContext,
    io: &mut I,
    clock: &C,
    stop: &AtomicBool,
    observer: &mut dyn Observer,
) -> io::Result<()> {
    run(scan, modules, ctx, &mut IpOnly(io), clock, stop, observer)
}

/// [`run_raw`] over a [`Transport`] of several layers: each probe goes
/// out by its module's [`ProbeModule::layer`], and each received packet
/// or frame is offered to the modules of the layer it came by (the first
/// that claims it takes it), so ARP / ND pings and IP probes share one
/// loop, one clock and the engine's timing.
pub fn run<T: Transport + ?Sized, C: Clock>(
    scan: &mut dyn Engine,
    modules: &[&dyn ProbeModule],
    ctx: &ProbeContext,
    io: &mut T,
    clock: &C,
    stop: &AtomicBool,
    observer: &mut dyn Observer,
) -> io::Result<()> {
    let layers: Vec<Layer> = modules.iter().map(|m| m.layer()).collect();
    let mut last_progress = clock.now();
    let mut bufs: Vec<Vec<u8>> = (0..BATCH).map(|_| vec![0u8; BUF]).collect();
    let mut lens = [0usize; BATCH];
    let mut probes: Vec<Probe> = Vec::with_capacity(BATCH);
    let mut replies = Vec::with_capacity(256);
    loop {
        if stop.load(Ordering::Relaxed) {
            scan.stop();
        }
        let now = clock.now();
        scan.handle_timeouts(now);
        while let Some(h) = scan.poll_host() {
            observer.host(h);
        }
        if scan.is_done() {
            observer.progress(&scan.progress());
            return Ok(());
        }
        if now.saturating_duration_since(last_progress) >= PROGRESS_EVERY {
            report_progress(&*scan, observer);
            last_progress = now;
        }
        // Build a batch.
        probes.clear();
        while probes.len() < BATCH {
            let Some(p) = scan.poll_probe(now) else { break };
            let i = probes.len();
            let len = match modules.get(p.technique) {
                Some(m) => m.build(ctx, &p.spec, &mut bufs[i]),
                None => 0,
            };
            if len == 0 {
                scan.on_send_error(now, &p, SendError::Permanent);
                continue;
            }
            lens[i] = len;
            probes.push(p);
        }
        let full_batch = probes.len() == BATCH;
        let mut held_back = false;
        if !probes.is_empty() {
            held_back = send_batch(scan, &layers, &probes, &bufs, &lens, io, clock)?;
        }
        // Receive: don't wait when more probes are ready to go (unless the
        // I/O is holding them back).
        let now = clock.now();
        let next = || {
            scan.next_wakeup()
                .map_or(MAX_WAIT, |t| t.saturating_duration_since(now))
                .min(MAX_WAIT)
        };
        let wait = if held_back {
            next().min(BACKPRESSURE_WAIT)
        } else if full_batch {
            Duration::ZERO
        } else {
            next()
        };
        replies.clear();
        io.recv_stamped(
            wait,
            &mut |layer: Layer, pkt: &[u8], at: Option<Instant>| {
                for (t, m) in modules.iter().enumerate() {
                    if layers[t] != layer {
                        continue;
                    }
                    if let Some(r) = m.classify(ctx, pkt) {
                        replies.push((t, r, at));
                        break;
                    }
                }
            },
        )?;
        if !replies.is_empty() {
            let now = clock.now();
            for &(t, r, at) in &replies {
                // The kernel's arrival stamp times the round trip; it is
                // never later than now.
                scan.on_reply(at.map_or(now, |a| a.min(now)), t, r);
            }
        }
    }
}

/// Sends a built batch, each layer's probes in one call (in the common
/// one-layer case, the whole batch at once); what a layer could not send
/// now is reported as a transient send error. Returns whether some were.
fn send_batch<T: Transport + ?Sized, C: Clock>(
    scan: &mut dyn Engine,
    layers: &[Layer],
    probes: &[Probe],
    bufs: &[Vec<u8>],
    lens: &[usize],
    io: &mut T,
    clock: &C,
) -> io::Result<bool> {
    let mut held_back = false;
    let layer_of = |p: &Probe| layers.get(p.technique).copied().unwrap_or(Layer::Ip);
    for layer in [Layer::Ip, Layer::Link, Layer::Connect] {
        let mut views: [&[u8]; BATCH] = [&[]; BATCH];
        let mut idx = [0usize; BATCH];
        let mut n = 0;
        for (i, p) in probes.iter().enumerate() {
            if layer_of(p) == layer {
                views[n] = &bufs[i][..lens[i]];
                idx[n] = i;
                n += 1;
            }
        }
        if n == 0 {
            continue;
        }
        let sent = match io.send(layer, &views[..n]) {
            Ok(k) => k.min(n),
            Err(e) if is_transient(&e) => 0,
            Err(e) => return Err(e),
        };
        let now = clock.now();
        held_back |= sent < n;
        for &i in &idx[sent..n] {
            scan.on_send_error(now, &probes[i], SendError::Transient);
        }
    }
    Ok(held_back)
}

fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    ) || e.raw_os_error() == Some(105) // ENOBUFS
}

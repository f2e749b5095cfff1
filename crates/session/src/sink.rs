//! Where hosts go once the engine is done with them, and how discovery's
//! answers are merged into them.
//!
//! Why a layer between the engine and the caller's observer: a host the
//! port scan finished still needs what discovery learnt of it (the reason
//! it is up, TTL, latency, MAC address), service names from the port table,
//! and its turn through the host stages (service detection, reverse DNS),
//! which work in the background. [`Sink`] does that and pumps the stages
//! whenever the engine reports progress; [`Discoverer`] is discovery's
//! observer, deciding up or down and keeping up hosts for the port scan.

use crate::discovery;
use crate::observer::ScanObserver;
use crate::order::TargetOrder;
use crate::stage::HostStage;
use portolan_engine::SharedRateLimiter;
use portolan_engine::{Observer, Progress};
use portolan_model::{HostResult, HostStatus, MacAddress, Reason, ServiceInfo};
use portolan_targets::ServiceTable;
use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// What discovery saw of an up host.
pub(crate) struct Answer {
    pub reason: Reason,
    pub ttl: u8,
    pub latency: Option<Duration>,
    pub mac: Option<MacAddress>,
}

/// Where finished hosts go: service names added, stages passed, then
/// handed to the observer.
pub(crate) struct Sink<'a> {
    observer: &'a mut dyn ScanObserver,
    table: &'static ServiceTable,
    /// Up hosts so far.
    pub hosts_up: u64,
    /// Hosts written marked incomplete (an interrupt caught them).
    pub hosts_incomplete: u64,
    /// Hosts whose `--host-timeout` ran out during discovery (counted
    /// with the down ones, but not down).
    pub discovery_timed_out: u64,
    /// `--host-timeout`: a host whose time is up skips the stages it
    /// bounds and is marked timed out.
    pub host_timeout: Option<Duration>,
    /// The observer's first write error.
    pub error: Option<io::Error>,
    /// Background work on up hosts before they are written (service
    /// detection, reverse DNS), in order.
    pub stages: Vec<Box<dyn HostStage>>,
    /// `-R`: down hosts are named too.
    pub name_down: bool,
    /// What discovery found for each up host (reason, TTL, latency);
    /// `None` with `-Pn`, where every host is up by the user's word.
    pub discovered: Option<HashMap<IpAddr, Answer>>,
    /// The run's `--max-rate` budget, shared by the scans and `-sV`.
    pub budget: Option<SharedRateLimiter>,
    /// Finished hosts held to be written in target order (see
    /// [`crate::order`]); `None` writes them as they finish.
    pub order: Option<TargetOrder>,
}

impl<'a> Sink<'a> {
    /// A sink with no stages, feeding `observer`.
    pub fn new(observer: &'a mut dyn ScanObserver, table: &'static ServiceTable) -> Self {
        Sink {
            observer,
            table,
            hosts_up: 0,
            hosts_incomplete: 0,
            discovery_timed_out: 0,
            host_timeout: None,
            error: None,
            stages: Vec::new(),
            name_down: false,
            discovered: None,
            budget: None,
            order: None,
        }
    }

    /// A warning for the user.
    pub fn warning(&mut self, message: &str) {
        self.observer.warning(message);
    }

    /// A note with the results.
    pub fn note(&mut self, note: &str) {
        if let Err(e) = self.observer.note(note) {
            self.error.get_or_insert(e);
        }
    }

    /// Probing is over.
    pub fn probing_done(&mut self) {
        self.observer.probing_done();
    }

    /// A host the port scan finished: up, for the reason discovery found
    /// (or `user-set` with `-Pn`).
    pub fn host(&mut self, mut host: HostResult) {
        host.status = HostStatus::Up;
        match self.discovered.as_ref().and_then(|d| d.get(&host.addr)) {
            Some(a) => {
                host.reason = a.reason;
                host.reason_ttl = a.ttl;
                if host.latency.is_none() {
                    host.latency = a.latency;
                }
                if host.mac.is_none() {
                    host.mac = a.mac.clone();
                }
            }
            None => {
                host.reason = Reason::UserSet;
                host.reason_ttl = 0;
            }
        }
        self.finished(host);
    }

    /// An up host, ready: service names added, reverse name looked up,
    /// then written (or held for service detection).
    pub fn finished(&mut self, mut host: HostResult) {
        for p in &mut host.ports {
            if p.service.is_none() {
                let name = self.table.name(p.port, p.protocol).unwrap_or("unknown");
                p.service = Some(Box::new(ServiceInfo::from_table(name)));
            }
        }
        self.hosts_up += 1;
        self.observer.ports_known(&host);
        self.pass(0, host);
    }

    /// A host discovery found down: written (the outputs show it only
    /// with `-v`), after reverse DNS with `-R`.
    pub fn down(&mut self, host: HostResult) {
        if host.timed_out {
            self.discovery_timed_out += 1;
        }
        if self.name_down {
            self.pass(0, host);
        } else {
            self.write(host);
        }
    }

    /// Hands `host` to stage `i` (or the next stage `--host-timeout`
    /// leaves it), or writes it after the last stage.
    fn pass(&mut self, mut i: usize, mut host: HostResult) {
        while let Some(stage) = self.stages.get(i) {
            if !stage.bounded_by_host_timeout() || !self.time_is_up(&mut host) {
                break;
            }
            i += 1;
        }
        match self.stages.get_mut(i) {
            Some(stage) => stage.submit(host),
            None => self.write(host),
        }
    }

    /// Whether `host` timed out, or its `--host-timeout` has run out since
    /// its scan began (it is then marked timed out). Only up hosts: a
    /// down host has nothing left to bound.
    fn time_is_up(&self, host: &mut HostResult) -> bool {
        if host.timed_out {
            return true;
        }
        let Some(limit) = self.host_timeout else {
            return false;
        };
        if host.status != HostStatus::Up {
            return false;
        }
        if crate::version::elapsed_since(host.start_time) >= limit {
            host.timed_out = true;
        }
        host.timed_out
    }

    /// Moves the hosts the stages are done with along; never blocks.
    pub fn pump(&mut self) {
        for i in 0..self.stages.len() {
            while let Some(h) = self.stages[i].try_next() {
                self.pass(i + 1, h);
            }
        }
    }

    /// Waits for every stage (until `stop` is set, when they give up at
    /// once) and writes what they hold; returns whether the run was
    /// interrupted.
    pub fn drain_stages(&mut self, stop: &AtomicBool) -> bool {
        loop {
            self.pump();
            if stop.load(Ordering::Relaxed) || self.stages.iter().all(|s| s.in_progress() == 0) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let interrupted = stop.load(Ordering::Relaxed);
        for i in 0..self.stages.len() {
            self.pump();
            for h in self.stages[i].finish(interrupted) {
                self.pass(i + 1, h);
            }
        }
        interrupted
    }

    fn progress(&mut self, progress: &Progress) {
        self.observer.progress(progress);
        self.pump();
    }

    /// The engine's hosts in progress, and the finished ones held for
    /// target order (their ports without what the stages added: a
    /// resumed run passes them through the stages again), to the
    /// observer.
    pub fn partial(&mut self, mut hosts: Vec<HostResult>) {
        if let Some(order) = &self.order {
            hosts.extend(
                order
                    .held()
                    .filter(|h| h.status == HostStatus::Up && !h.ports.is_empty())
                    .map(|h| {
                        let mut h = h.clone();
                        for p in &mut h.ports {
                            p.service = None;
                        }
                        h.os = None;
                        h.scripts.clear();
                        h
                    }),
            );
        }
        self.observer.partial(&hosts);
    }

    /// Hands `host` to the observer as it is (or holds it, to be written
    /// in target order by [`flush`](Self::flush)).
    pub fn write(&mut self, host: HostResult) {
        match &mut self.order {
            Some(order) => {
                order.hold(host);
                if order.is_full() {
                    self.flush();
                }
            }
            None => self.emit(&host),
        }
    }

    /// Writes the hosts held for ordering.
    pub fn flush(&mut self) {
        let held = self.order.as_mut().map(TargetOrder::drain);
        for host in held.into_iter().flatten() {
            self.emit(&host);
        }
    }

    fn emit(&mut self, host: &HostResult) {
        if host.incomplete && host.status == HostStatus::Up {
            self.hosts_incomplete += 1;
        }
        if let Err(e) = self.observer.host(host) {
            self.error.get_or_insert(e);
        }
    }
}

impl Observer for Sink<'_> {
    fn host(&mut self, host: HostResult) {
        Sink::host(self, host);
    }

    fn wants_partial(&mut self) -> bool {
        self.observer.wants_partial()
    }

    fn partial(&mut self, hosts: Vec<HostResult>) {
        Sink::partial(self, hosts);
    }

    fn progress(&mut self, progress: &Progress) {
        Sink::progress(self, progress);
    }
}

/// Discovery's observer. Down hosts are written (the outputs show them
/// only with `-v`) and counted as they finish; up hosts are written at
/// once (with `-sn`, or when they come port-scanned out of a pipeline), or
/// kept for the port scan.
pub(crate) struct Discoverer<'s, 'o> {
    pub sink: &'s mut Sink<'o>,
    /// Connect pings: a refusal proves the host up.
    pub refusal_counts: bool,
    /// True to keep up hosts for a port scan that follows.
    pub keep_up: bool,
    /// True when hosts come from a discovery scan, to be decided from
    /// their probe rows; false when they come decided (from a pipeline).
    pub undecided: bool,
    pub up: Vec<HostResult>,
    pub down: u64,
}

impl Discoverer<'_, '_> {
    /// A host whose status is decided.
    pub fn decided(&mut self, host: HostResult) {
        match host.status {
            HostStatus::Up if self.keep_up => self.up.push(host),
            HostStatus::Up => self.sink.finished(host),
            _ => {
                self.down += 1;
                self.sink.down(host);
            }
        }
    }
}

impl Observer for Discoverer<'_, '_> {
    fn host(&mut self, host: HostResult) {
        let host = if self.undecided {
            discovery::classify(host, self.refusal_counts)
        } else {
            host
        };
        self.decided(host);
    }

    fn progress(&mut self, progress: &Progress) {
        self.sink.progress(progress);
    }

    fn wants_partial(&mut self) -> bool {
        self.sink.observer.wants_partial()
    }

    fn partial(&mut self, hosts: Vec<HostResult>) {
        self.sink.partial(hosts);
    }
}

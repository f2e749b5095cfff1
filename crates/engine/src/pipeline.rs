//! Host discovery and the port scan as one pipeline.
//!
//! nmap users expect a down host to cost no port probes, and an up host's
//! ports to be scanned while the discovery of other hosts goes on. A
//! [`Pipeline`] drives two kinds of [`Scan`] through one driver: the
//! discovery scan over every target (with
//! [`ScanPlan::decide_on_answer`], so an up host costs one answered ping),
//! and port-scan *batches* over the hosts found up so far. A batch starts
//! as soon as a host is up and no batch is running, or when every running
//! batch has sent all its first transmissions (at most [`MAX_BATCHES`] at a
//! time, as the engine keeps at most two host groups live); hosts found up
//! meanwhile wait for the next batch. Each scan keeps its own congestion
//! control and RTT estimate; `--max-rate` is enforced across all of them by
//! one token bucket: the pipeline's own, or the run's
//! ([`Pipeline::set_rate_limiter`]), which the `-sV` prober shares.
//!
//! Techniques are numbered discovery first, then the port scan's: a driver
//! is given the discovery modules followed by the port-scan modules, and
//! the pipeline routes each probe's send error and each reply to the scan
//! it belongs to. Replies carry no batch number, but a host is in one batch
//! only, so the batches that do not hold the address ignore it; stale send
//! errors are told apart by [`Scan::id`].
//!
//! Link-layer pings (ARP, ND) are discovery techniques like the others;
//! the MAC address their replies carry ([`Reply::mac`]) is set on the
//! host's result (vendor left to the caller's `classify`, as the engine
//! holds no vendor table).
//!
//! [`Engine`] is what drivers need of the engine; [`Scan`] and
//! [`Pipeline`] both implement it.

use crate::limiter::{RateLimiter, SharedRateLimiter};
use crate::module::Reply;
use crate::scan::{Probe, Progress, Scan, ScanPlan, SendError};
use crate::target::{HostSource, HostTarget};
use portolan_model::{HostResult, HostStatus, MacAddress};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Instant, SystemTime};

/// What a driver needs of the engine (see [`Scan`]'s methods of the same
/// names for the contract).
pub trait Engine {
    /// The next probe allowed now, if any.
    fn poll_probe(&mut self, now: Instant) -> Option<Probe>;
    /// A validated reply of technique `technique`.
    fn on_reply(&mut self, now: Instant, technique: usize, reply: Reply);
    /// `probe` could not be sent.
    fn on_send_error(&mut self, now: Instant, probe: &Probe, err: SendError);
    /// Expires what is due.
    fn handle_timeouts(&mut self, now: Instant);
    /// The earliest instant something will be due.
    fn next_wakeup(&self) -> Option<Instant>;
    /// The next finished host, if any.
    fn poll_host(&mut self) -> Option<HostResult>;
    /// Whether nothing is left to send or wait for.
    fn is_done(&self) -> bool;
    /// Progress figures.
    fn progress(&self) -> Progress;
    /// Stops: nothing more is sent.
    fn stop(&mut self);
    /// The resolved ports of the hosts still being port-scanned (see
    /// [`Scan::partial_hosts`]); none unless implemented.
    fn partial_hosts(&self) -> Vec<HostResult> {
        Vec::new()
    }
}

impl Engine for Scan {
    fn poll_probe(&mut self, now: Instant) -> Option<Probe> {
        Scan::poll_probe(self, now)
    }
    fn on_reply(&mut self, now: Instant, technique: usize, reply: Reply) {
        Scan::on_reply(self, now, technique, reply)
    }
    fn on_send_error(&mut self, now: Instant, probe: &Probe, err: SendError) {
        Scan::on_send_error(self, now, probe, err)
    }
    fn handle_timeouts(&mut self, now: Instant) {
        Scan::handle_timeouts(self, now)
    }
    fn next_wakeup(&self) -> Option<Instant> {
        Scan::next_wakeup(self)
    }
    fn poll_host(&mut self) -> Option<HostResult> {
        Scan::poll_host(self)
    }
    fn is_done(&self) -> bool {
        Scan::is_done(self)
    }
    fn progress(&self) -> Progress {
        Scan::progress(self)
    }
    fn stop(&mut self) {
        Scan::stop(self)
    }
    fn partial_hosts(&self) -> Vec<HostResult> {
        Scan::partial_hosts(self)
    }
}

/// Port-scan batches running at once at most.
pub const MAX_BATCHES: usize = 2;

/// Decides a discovery result: sets its status (up or down) and reason and
/// clears its probe rows.
pub type Classify = Box<dyn FnMut(HostResult) -> HostResult + Send>;

/// Discovery feeding the port scan (see the module docs).
pub struct Pipeline {
    discovery: Scan,
    classify: Classify,
    /// The port scan's plan; `None` for discovery only (`-sn`).
    port_plan: Option<ScanPlan>,
    /// Techniques of the discovery scan; port-scan techniques follow.
    offset: usize,
    batches: Vec<Scan>,
    next_id: u32,
    /// Up hosts waiting for a batch.
    waiting: Vec<HostResult>,
    /// What discovery found of the hosts in running batches.
    found: HashMap<IpAddr, HostResult>,
    /// MAC addresses link-layer discovery replies carried, until their
    /// hosts are decided.
    macs: HashMap<IpAddr, [u8; 6]>,
    done: VecDeque<HostResult>,
    /// Progress of the batches already finished.
    past: Progress,
    /// The `--max-rate` budget over every scan of the pipeline.
    limiter: Option<SharedRateLimiter>,
    /// Alternates which kind of scan is asked for a probe first.
    ports_first: bool,
    stopped: bool,
    /// The latest instant a call passed.
    last_now: Instant,
    /// The pipeline's start, monotonic and wall clock: a batch's plan
    /// starts on the wall clock when the batch does.
    t0: Instant,
    wall0: SystemTime,
}

impl Pipeline {
    /// Discovery of `hosts` per `discovery` (with
    /// [`ScanPlan::decide_on_answer`] set), each finished host decided by
    /// `classify`; up hosts then port-scanned per `port_plan` (its shard
    /// is ignored: discovery already took only this shard's hosts).
    /// `--max-rate` (either plan's) is enforced by the pipeline over both.
    pub fn new(
        discovery: ScanPlan,
        hosts: Box<dyn HostSource>,
        classify: Classify,
        port_plan: Option<ScanPlan>,
        now: Instant,
    ) -> Self {
        let offset = discovery.techniques.len();
        let rate = port_plan
            .as_ref()
            .and_then(|p| p.timing.max_rate)
            .or(discovery.timing.max_rate)
            .filter(|r| *r > 0.0);
        let mut discovery = discovery;
        let discovery_wall = discovery.start_wall;
        discovery.decide_on_answer = true;
        // The pipeline's bucket limits the rate; a scan's own bucket would
        // ask to be woken while the pipeline holds its probes back.
        discovery.timing.max_rate = None;
        let port_plan = port_plan.map(|mut p| {
            p.shard = None;
            p.timing.max_rate = None;
            p
        });
        Pipeline {
            discovery: Scan::new(discovery, hosts, now),
            classify,
            port_plan,
            offset,
            batches: Vec::new(),
            next_id: 1,
            waiting: Vec::new(),
            found: HashMap::new(),
            macs: HashMap::new(),
            done: VecDeque::new(),
            past: Progress::default(),
            limiter: rate.map(|r| SharedRateLimiter::new(RateLimiter::new(r, burst(r), now))),
            ports_first: false,
            stopped: false,
            last_now: now,
            t0: now,
            wall0: discovery_wall,
        }
    }

    /// Adds a host found up by other means (an ARP / ND sweep): it is
    /// port-scanned like the hosts discovery finds (or, without a port
    /// scan, handed out as it is).
    pub fn add_up(&mut self, host: HostResult) {
        self.decided_up(host);
    }

    /// An up host: waits for a batch (or, without a port scan, is done).
    /// After a stop it is dropped: it was never port-scanned, so it is not
    /// reported as scanned.
    fn decided_up(&mut self, host: HostResult) {
        match (&self.port_plan, self.stopped) {
            (Some(_), false) => self.waiting.push(host),
            (Some(_), true) => {}
            (None, _) => self.done.push_back(host),
        }
    }

    /// Number of discovery techniques: port-scan technique `i` is
    /// driver technique `offset() + i`.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Moves finished hosts out of the scans: discovery results are
    /// decided (down ones are done, up ones wait for a batch or, without
    /// a port scan, are done); port-scan results get what discovery found.
    fn collect(&mut self) {
        while let Some(mut h) = self.discovery.poll_host() {
            if let Some(octets) = self.macs.remove(&h.addr) {
                if h.mac.is_none() {
                    h.mac = Some(MacAddress {
                        octets,
                        vendor: None,
                    });
                }
            }
            let h = (self.classify)(h);
            if h.status == HostStatus::Up {
                self.decided_up(h);
            } else {
                self.done.push_back(h);
            }
        }
        for b in &mut self.batches {
            while let Some(mut h) = b.poll_host() {
                if let Some(d) = self.found.remove(&h.addr) {
                    h.status = HostStatus::Up;
                    h.reason = d.reason;
                    h.reason_ttl = d.reason_ttl;
                    h.start_time = d.start_time.min(h.start_time);
                    if h.latency.is_none() {
                        h.latency = d.latency;
                    }
                    if h.mac.is_none() {
                        h.mac = d.mac;
                    }
                }
                self.done.push_back(h);
            }
        }
        let past = &mut self.past;
        self.batches.retain(|b| {
            if b.is_done() {
                let p = b.progress();
                past.probes_sent += p.probes_sent;
                past.retransmits += p.retransmits;
                past.ports_resolved += p.ports_resolved;
                past.ports_total += p.ports_total;
                false
            } else {
                true
            }
        });
        self.start_batch(self.last_now);
    }

    /// Starts a batch over the waiting hosts when the running ones allow.
    fn start_batch(&mut self, now: Instant) {
        if self.stopped || self.waiting.is_empty() {
            return;
        }
        let Some(plan) = &self.port_plan else { return };
        let room = self.batches.len() < MAX_BATCHES && self.batches.iter().all(Scan::is_draining);
        if !room {
            return;
        }
        let hosts: Vec<HostTarget> = self.waiting.iter().map(HostTarget::of).collect();
        for h in self.waiting.drain(..) {
            self.found.insert(h.addr, h);
        }
        let mut plan = plan.clone();
        plan.seed = crate::permutation::mix64(plan.seed ^ u64::from(self.next_id));
        plan.start_wall = self.wall0 + now.saturating_duration_since(self.t0);
        let mut scan = Scan::new(plan, Box::new(hosts), now);
        scan.set_id(self.next_id);
        self.next_id = self.next_id.wrapping_add(1).max(1);
        self.batches.push(scan);
    }

    /// Draws every scan's probes from `limiter`, a budget shared with other
    /// consumers (the run's `--max-rate`, see [`crate::limiter`]), instead
    /// of the pipeline's own bucket.
    pub fn set_rate_limiter(&mut self, limiter: SharedRateLimiter) {
        self.limiter = Some(limiter);
    }

    /// A probe of discovery or of a batch, alternating which is asked
    /// first ([`Engine::poll_probe`] past the rate limit).
    fn next_probe(&mut self, now: Instant) -> Option<Probe> {
        if !self.waiting.is_empty() {
            self.start_batch(now);
        }
        self.ports_first = !self.ports_first;
        if self.ports_first {
            self.poll_batches(now)
                .or_else(|| self.discovery.poll_probe(now))
        } else {
            self.discovery
                .poll_probe(now)
                .or_else(|| self.poll_batches(now))
        }
    }

    fn poll_batches(&mut self, now: Instant) -> Option<Probe> {
        for b in &mut self.batches {
            if let Some(mut p) = b.poll_probe(now) {
                p.technique += self.offset;
                return Some(p);
            }
        }
        None
    }
}

/// Burst of the global rate bucket: a tenth of a second's worth, at
/// least one probe.
fn burst(rate: f64) -> f64 {
    (rate / 10.0).max(1.0)
}

impl Engine for Pipeline {
    fn poll_probe(&mut self, now: Instant) -> Option<Probe> {
        if self.stopped {
            return None;
        }
        self.last_now = now;
        // The token is taken up front (and put back if no scan has a
        // probe), so another consumer of a shared budget cannot take it
        // between the check and the send.
        if let Some(l) = &self.limiter {
            if !l.try_take(now) {
                return None;
            }
        }
        let p = self.next_probe(now);
        if let (None, Some(l)) = (&p, &self.limiter) {
            l.put_back();
        }
        p
    }

    fn on_reply(&mut self, now: Instant, technique: usize, reply: Reply) {
        if technique < self.offset {
            if let Some(mac) = reply.mac {
                self.macs.entry(reply.dst).or_insert(mac);
            }
            self.discovery.on_reply(now, technique, reply);
        } else {
            for b in &mut self.batches {
                b.on_reply(now, technique - self.offset, reply);
            }
        }
    }

    fn on_send_error(&mut self, now: Instant, probe: &Probe, err: SendError) {
        if probe.technique < self.offset {
            self.discovery.on_send_error(now, probe, err);
        } else {
            let mut p = *probe;
            p.technique -= self.offset;
            for b in &mut self.batches {
                b.on_send_error(now, &p, err);
            }
        }
    }

    fn handle_timeouts(&mut self, now: Instant) {
        self.last_now = now;
        self.discovery.handle_timeouts(now);
        for b in &mut self.batches {
            b.handle_timeouts(now);
        }
        self.collect();
    }

    fn next_wakeup(&self) -> Option<Instant> {
        if self.stopped {
            return None;
        }
        let mut w = self.discovery.next_wakeup();
        let mut at = |t: Instant| w = Some(w.map_or(t, |x: Instant| x.min(t)));
        for b in &self.batches {
            if let Some(t) = b.next_wakeup() {
                at(t);
            }
        }
        if let Some(token) = self
            .limiter
            .as_ref()
            .and_then(SharedRateLimiter::next_ready)
        {
            // Nothing can be sent before the next token, so a scan's wish
            // to send earlier (--min-rate, its window) must not wake the
            // driver in vain; its deadlines wait at most one token's time.
            w = Some(w.map_or(token, |x: Instant| x.max(token)));
        }
        w
    }

    fn poll_host(&mut self) -> Option<HostResult> {
        if self.done.is_empty() {
            self.collect();
        }
        self.done.pop_front()
    }

    fn is_done(&self) -> bool {
        self.stopped
            || (self.discovery.is_done()
                && self.batches.is_empty()
                && self.waiting.is_empty()
                && self.done.is_empty())
    }

    fn partial_hosts(&self) -> Vec<HostResult> {
        self.batches.iter().flat_map(Scan::partial_hosts).collect()
    }

    fn progress(&self) -> Progress {
        let d = self.discovery.progress();
        let mut p = Progress {
            probes_sent: d.probes_sent + self.past.probes_sent,
            retransmits: d.retransmits + self.past.retransmits,
            // Discovery's probes count like ports, so -sn shows progress
            // and a port scan's share grows as hosts come up.
            ports_resolved: d.ports_resolved + self.past.ports_resolved,
            ports_total: d.ports_total + self.past.ports_total,
            hosts_done: d.hosts_done,
            hosts_total: d.hosts_total,
            rate: d.rate,
            eta: d.eta,
            cwnd: d.cwnd,
            in_flight: d.in_flight,
        };
        let mut busy = 0;
        for b in &self.batches {
            let bp = b.progress();
            p.probes_sent += bp.probes_sent;
            p.retransmits += bp.retransmits;
            p.ports_resolved += bp.ports_resolved;
            p.ports_total += bp.ports_total;
            p.rate += bp.rate;
            p.in_flight += bp.in_flight;
            p.cwnd = p.cwnd.max(bp.cwnd);
            busy += bp.hosts_total.saturating_sub(bp.hosts_done);
        }
        // A host counts as done once its port scan is done too.
        p.hosts_done = p
            .hosts_done
            .saturating_sub(busy + self.waiting.len() as u64);
        p
    }

    fn stop(&mut self) {
        // Hosts already finished keep what discovery found; hosts caught
        // mid-port-scan come out of their batch marked incomplete and get
        // it too; hosts known up but not port-scanned at all are dropped,
        // as they were not scanned (see `Scan::stop`).
        self.stopped = true;
        self.discovery.stop();
        for b in &mut self.batches {
            b.stop();
        }
        self.collect();
        self.batches.clear();
        self.waiting.clear();
        self.found.clear();
    }
}

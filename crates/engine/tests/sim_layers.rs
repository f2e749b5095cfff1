//! Link-layer discovery (ARP-like pings of `Layer::Link`) pipelined into
//! the port scan through one multi-layer driver loop, over the simulated
//! network: neighbours answer link-layer requests with their MAC, routed
//! hosts answer IP pings, up hosts are port-scanned while others are still
//! being asked, silent neighbours are retried by the engine, the stop flag
//! ends each phase, and a run is a function of its seeds.

mod common;
use common::ctx;

use portolan_engine::sim::{
    PortBehavior, SimArpModule, SimClock, SimConfig, SimHost, SimModule, SimNet,
};
use portolan_engine::{
    run, Engine, Pipeline, Probe, ProbeModule, Progress, Rekeyed, Reply, ScanPlan, SendError,
    TechniquePlan, Timing, ValidationKey,
};
use portolan_model::{HostResult, HostStatus, PortState, Protocol, Reason};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PING: u16 = 7;
const TARGETS: u32 = 120;

fn tech(ports: Vec<u16>) -> TechniquePlan {
    TechniquePlan {
        protocol: Protocol::Tcp,
        ports,
        no_reply: (PortState::Filtered, Reason::NoResponse),
    }
}

fn addr(i: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 18, 8, 0)) + i))
}

fn mac(i: u32) -> [u8; 6] {
    [0x02, 0, 0, 0, 0, i as u8]
}

/// Neighbours: every 10th target (answers link requests, ports 22, 80
/// open). Routed: every 15th target that is not a neighbour (answers the
/// IP ping, port 80 open). The rest are silent.
fn is_neighbour(i: u32) -> bool {
    i % 10 == 0
}
fn is_routed(i: u32) -> bool {
    i % 15 == 7
}

/// Up when a discovery probe was answered, with the engine's first
/// answer as the reason (as the session's classifier).
fn classify(mut h: HostResult) -> HostResult {
    let up = h.ports.iter().any(|p| p.state == PortState::Open);
    h.status = if up { HostStatus::Up } else { HostStatus::Down };
    if !up {
        h.reason = Reason::NoResponse;
    }
    h.ports.clear();
    h
}

/// When to raise the stop flag.
#[derive(Clone, Copy, PartialEq)]
enum StopAt {
    Never,
    /// At the first link-layer answer: discovery is still going.
    FirstNeighbour,
    /// At the first port-scan answer.
    FirstPortReply,
}

/// The pipeline, watched: records when the first port-scan probe and the
/// last discovery probe went out, and raises the stop flag as told.
struct Watched {
    inner: Pipeline,
    stop: Arc<AtomicBool>,
    stop_at: StopAt,
    first_port_probe: Option<Instant>,
    last_discovery_probe: Option<Instant>,
    port_probes_after_stop: u32,
}

impl Engine for Watched {
    fn poll_probe(&mut self, now: Instant) -> Option<Probe> {
        let p = self.inner.poll_probe(now)?;
        if p.technique >= self.inner.offset() {
            self.first_port_probe.get_or_insert(now);
            if self.stop.load(Ordering::Relaxed) {
                self.port_probes_after_stop += 1;
            }
        } else {
            self.last_discovery_probe = Some(now);
        }
        Some(p)
    }
    fn on_reply(&mut self, now: Instant, t: usize, r: Reply) {
        let hit = match self.stop_at {
            StopAt::Never => false,
            StopAt::FirstNeighbour => r.mac.is_some(),
            StopAt::FirstPortReply => t >= self.inner.offset(),
        };
        if hit {
            self.stop.store(true, Ordering::Relaxed);
        }
        self.inner.on_reply(now, t, r)
    }
    fn on_send_error(&mut self, now: Instant, p: &Probe, e: SendError) {
        self.inner.on_send_error(now, p, e)
    }
    fn handle_timeouts(&mut self, now: Instant) {
        self.inner.handle_timeouts(now)
    }
    fn next_wakeup(&self) -> Option<Instant> {
        self.inner.next_wakeup()
    }
    fn poll_host(&mut self) -> Option<HostResult> {
        self.inner.poll_host()
    }
    fn is_done(&self) -> bool {
        self.inner.is_done()
    }
    fn progress(&self) -> Progress {
        self.inner.progress()
    }
    fn stop(&mut self) {
        self.inner.stop()
    }
}

struct Run {
    hosts: Vec<HostResult>,
    net: SimNet,
    eng: Watched,
    elapsed: Duration,
}

fn scan(seed: u64, stop_at: StopAt) -> Run {
    let t0 = Instant::now();
    let mut cfg = SimConfig {
        seed,
        delay: Duration::from_millis(1),
        jitter: Duration::from_micros(200),
        loss_out: 0.02,
        ..SimConfig::default()
    };
    for i in 0..TARGETS {
        if is_neighbour(i) {
            cfg.neighbours.insert(addr(i), mac(i));
            // Silent to the IP ping (a closed port's reset would decide
            // the sim's ping as "closed", not up).
            let mut h = SimHost::with_open(&[22, 80]);
            h.ports.insert(PING, PortBehavior::Filtered);
            cfg.hosts.insert(addr(i), h);
        } else if is_routed(i) {
            cfg.hosts.insert(addr(i), SimHost::with_open(&[PING, 80]));
        }
    }
    let mut net = SimNet::new(cfg, t0);
    let clock: SimClock = net.clock();
    let timing = Timing::default();
    // Discovery: the link-layer ping (port 0) and an IP ping.
    let mut dplan = ScanPlan::new(vec![tech(vec![0]), tech(vec![PING])], timing.clone());
    dplan.seed = seed ^ 3;
    let mut pplan = ScanPlan::new(vec![tech(vec![22, 80, 443])], timing);
    pplan.seed = seed ^ 4;
    let targets: Vec<IpAddr> = (0..TARGETS).map(addr).collect();
    let pipe = Pipeline::new(
        dplan,
        Box::new(targets),
        Box::new(classify),
        Some(pplan),
        t0,
    );
    let stop = Arc::new(AtomicBool::new(false));
    let mut eng = Watched {
        inner: pipe,
        stop: stop.clone(),
        stop_at,
        first_port_probe: None,
        last_discovery_probe: None,
        port_probes_after_stop: 0,
    };
    let port = Rekeyed::new(Box::new(SimModule), ValidationKey::from_seed(9));
    let modules: [&dyn ProbeModule; 3] = [&SimArpModule, &SimModule, &port];
    let mut hosts = Vec::new();
    run(
        &mut eng,
        &modules,
        &ctx(),
        &mut net,
        &clock,
        &stop,
        &mut |h| hosts.push(h),
    )
    .unwrap();
    hosts.sort_by_key(|h| h.addr);
    let elapsed = net.elapsed();
    Run {
        hosts,
        net,
        eng,
        elapsed,
    }
}

fn index(a: IpAddr) -> u32 {
    let IpAddr::V4(v) = a else { unreachable!() };
    u32::from(v) - u32::from(Ipv4Addr::new(198, 18, 8, 0))
}

#[test]
fn neighbours_by_link_and_routed_hosts_by_ip_are_port_scanned_in_one_run() {
    let r = scan(1, StopAt::Never);
    assert_eq!(r.hosts.len(), TARGETS as usize, "every target reported");
    for h in &r.hosts {
        let i = index(h.addr);
        if is_neighbour(i) {
            assert_eq!(h.status, HostStatus::Up, "{}", h.addr);
            assert_eq!(h.mac.as_ref().map(|m| m.octets), Some(mac(i)));
            let open: Vec<u16> = h
                .ports
                .iter()
                .filter(|p| p.state == PortState::Open)
                .map(|p| p.port)
                .collect();
            assert_eq!(open, vec![22, 80], "{}", h.addr);
        } else if is_routed(i) {
            assert_eq!(
                (h.status, h.reason, h.mac.is_none()),
                (HostStatus::Up, Reason::SynAck, true)
            );
            assert_eq!(h.ports.len(), 3, "{}", h.addr);
        } else {
            assert_eq!((h.status, h.ports.len()), (HostStatus::Down, 0));
        }
    }
    // Neighbours answered the link-layer ping first (1 ms away, asked
    // before or with the IP ping): their reason is arp-response mostly.
    let by_arp = r
        .hosts
        .iter()
        .filter(|h| h.reason == Reason::ArpResponse)
        .count();
    assert!(by_arp > 0);
    assert!(r.hosts.iter().all(|h| h.reason != Reason::ArpResponse
        || h.latency.is_some_and(|l| l < Duration::from_millis(10))));
    // Pipelined: the port scan began while discovery was still asking.
    let (first_port, last_disc) = (
        r.eng.first_port_probe.unwrap(),
        r.eng.last_discovery_probe.unwrap(),
    );
    assert!(first_port < last_disc, "port scan waited for discovery");
    // Silent targets were asked by link layer max_retries + 1 times at
    // most, and neighbours answered were not asked much more than once.
    let frames = &r.net.stats().frames_per_addr;
    let cap = u32::from(Timing::default().max_retries) + 1;
    for i in 0..TARGETS {
        let n = frames.get(&addr(i)).copied().unwrap_or(0);
        assert!(n >= 1 && n <= cap, "{}: {n} requests", addr(i));
    }
    assert!(frames.get(&addr(3)).copied() > Some(1), "silent: retried");
}

#[test]
fn a_run_is_a_function_of_its_seeds() {
    let a = scan(5, StopAt::Never);
    let b = scan(5, StopAt::Never);
    let key = |r: &Run| {
        r.hosts
            .iter()
            .map(|h| {
                (
                    h.addr,
                    h.status,
                    h.reason,
                    h.mac.as_ref().map(|m| m.octets),
                    h.latency,
                    h.ports
                        .iter()
                        .map(|p| (p.port, p.state))
                        .collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&a), key(&b));
    assert_eq!(a.elapsed, b.elapsed);
    assert_eq!(a.net.stats().sent, b.net.stats().sent);
    let c = scan(6, StopAt::Never);
    assert_ne!(key(&a), key(&c), "the seed drives jitter and loss");
}

#[test]
fn the_stop_flag_ends_discovery_and_the_port_scan() {
    let full = scan(2, StopAt::Never);
    for at in [StopAt::FirstNeighbour, StopAt::FirstPortReply] {
        let r = scan(2, at);
        assert!(r.elapsed < full.elapsed / 2, "stopped late");
        assert!(r.net.stats().sent < full.net.stats().sent / 2);
        assert!(r.hosts.len() < TARGETS as usize, "hosts left undone");
        assert!(r.eng.port_probes_after_stop <= 1);
    }
}

//! The session's run modes as engine runs over the simulated network, one
//! driver loop each, with the stop flag raised in each phase: ping only
//! (`-sn`), a port scan without discovery (`-Pn`) mixing connect attempts
//! and raw UDP (`-sT -sU`), and raw pings pipelined into a connect scan.
//! (Neighbours pipelined into a port scan: `sim_layers.rs`.) Everything is
//! deterministic: simulated time, seeded loss.

use portolan_engine::sim::{PortBehavior, SimConfig, SimHost, SimModule, SimNet, SimUdpModule};
use portolan_engine::{
    run, ConnectModule, Engine, HostSource, Pipeline, Probe, ProbeContext, ProbeModule, Progress,
    Reply, Scan, ScanPlan, SendError, TechniquePlan, Timing, ValidationKey,
};
use portolan_model::{HostResult, HostStatus, PortState, Protocol, Reason};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PING: u16 = 7;
const TARGETS: u32 = 60;

fn ctx() -> ProbeContext {
    ProbeContext {
        src_v4: Some(Ipv4Addr::new(198, 18, 0, 1)),
        src_v6: None,
        source_port: None,
        key: ValidationKey::from_seed(11),
        ttl: 64,
    }
}

fn tech(protocol: Protocol, ports: Vec<u16>, m: &dyn ProbeModule) -> TechniquePlan {
    TechniquePlan {
        protocol,
        ports,
        no_reply: m.no_reply(),
    }
}

fn addr(i: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 18, 9, 0)) + i))
}

/// Every 6th target is up: ping port open, TCP 80 open, 81 closed, 82
/// dropped, UDP 53 answering, 54 closed; the others are silent.
fn net(seed: u64, t0: Instant) -> SimNet {
    let mut cfg = SimConfig {
        seed,
        delay: Duration::from_millis(2),
        jitter: Duration::from_micros(300),
        loss_out: 0.01,
        ..SimConfig::default()
    };
    for i in (0..TARGETS).step_by(6) {
        let mut h = SimHost::with_open(&[PING, 80, 53]);
        h.ports.insert(82, PortBehavior::Filtered);
        cfg.hosts.insert(addr(i), h);
    }
    SimNet::new(cfg, t0)
}

fn targets() -> Box<dyn HostSource> {
    Box::new((0..TARGETS).map(addr).collect::<Vec<IpAddr>>())
}

fn classify(mut h: HostResult) -> HostResult {
    let up = h.ports.iter().any(|p| p.state == PortState::Open);
    h.status = if up { HostStatus::Up } else { HostStatus::Down };
    h.ports.clear();
    h
}

/// Raises the stop flag at the first reply of a technique `>= from` (and
/// `< to`), and counts the probes handed out after it.
struct StopAt<E: Engine> {
    inner: E,
    range: (usize, usize),
    stop: Arc<AtomicBool>,
    after_stop: u32,
    /// When each technique's first and last probe went out.
    first: [Option<Instant>; 4],
    last: [Option<Instant>; 4],
}

impl<E: Engine> Engine for StopAt<E> {
    fn poll_probe(&mut self, now: Instant) -> Option<Probe> {
        let p = self.inner.poll_probe(now)?;
        if self.stop.load(Ordering::Relaxed) {
            self.after_stop += 1;
        }
        if let Some(f) = self.first.get_mut(p.technique) {
            f.get_or_insert(now);
            self.last[p.technique] = Some(now);
        }
        Some(p)
    }
    fn on_reply(&mut self, now: Instant, t: usize, r: Reply) {
        if t >= self.range.0 && t < self.range.1 {
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

struct Outcome {
    hosts: Vec<HostResult>,
    elapsed: Duration,
    sent: u64,
    after_stop: u32,
    first: [Option<Instant>; 4],
    last: [Option<Instant>; 4],
}

/// Runs `engine` with `modules` over a fresh network, stopping at the
/// first reply of a technique in `stop_range` (`(0, 0)`: never).
fn drive<E: Engine>(
    engine: fn(Instant) -> E,
    modules: &[&dyn ProbeModule],
    stop_range: (usize, usize),
) -> Outcome {
    let t0 = Instant::now();
    let mut net = net(3, t0);
    let engine = engine(t0);
    let clock = net.clock();
    let stop = Arc::new(AtomicBool::new(false));
    let mut eng = StopAt {
        inner: engine,
        range: stop_range,
        stop: stop.clone(),
        after_stop: 0,
        first: [None; 4],
        last: [None; 4],
    };
    let mut hosts = Vec::new();
    run(
        &mut eng,
        modules,
        &ctx(),
        &mut net,
        &clock,
        &stop,
        &mut |h| hosts.push(h),
    )
    .unwrap();
    hosts.sort_by_key(|h| h.addr);
    Outcome {
        hosts,
        elapsed: net.elapsed(),
        sent: net.stats().sent,
        after_stop: eng.after_stop,
        first: eng.first,
        last: eng.last,
    }
}

fn port_states(h: &HostResult) -> Vec<(u16, Protocol, PortState, Reason)> {
    h.ports
        .iter()
        .map(|p| (p.port, p.protocol, p.state, p.reason))
        .collect()
}

fn ping_only(t0: Instant) -> Pipeline {
    let mut plan = ScanPlan::new(
        vec![tech(Protocol::Tcp, vec![PING], &SimModule)],
        Timing::default(),
    );
    plan.seed = 21;
    Pipeline::new(plan, targets(), Box::new(classify), None, t0)
}

#[test]
fn ping_only_finds_the_up_hosts_and_stops_when_told() {
    let full = drive(ping_only, &[&SimModule], (0, 0));
    assert_eq!(full.hosts.len(), TARGETS as usize);
    for (i, h) in full.hosts.iter().enumerate() {
        let up = i % 6 == 0;
        assert_eq!(h.status == HostStatus::Up, up, "{}", h.addr);
        assert!(h.ports.is_empty());
    }
    let stopped = drive(ping_only, &[&SimModule], (0, 1));
    assert!(stopped.hosts.len() < TARGETS as usize);
    assert!(stopped.elapsed < full.elapsed);
    assert_eq!(stopped.after_stop, 0, "nothing is sent after the stop");
}

/// `-Pn -sT -sU`: connect attempts and raw UDP in one scan.
fn connect_and_udp(t0: Instant) -> Scan {
    let mut plan = ScanPlan::new(
        vec![
            tech(Protocol::Tcp, vec![80, 81, 82], &ConnectModule),
            tech(Protocol::Udp, vec![53, 54], &SimUdpModule),
        ],
        Timing {
            max_retries: 1,
            ..Timing::default()
        },
    );
    plan.seed = 22;
    Scan::new(plan, targets(), t0)
}

#[test]
fn connect_and_udp_run_as_one_scan_without_discovery() {
    let modules: [&dyn ProbeModule; 2] = [&ConnectModule, &SimUdpModule];
    let full = drive(connect_and_udp, &modules, (0, 0));
    assert_eq!(full.hosts.len(), TARGETS as usize);
    let up = &full.hosts[0];
    use PortState::*;
    assert_eq!(
        port_states(up),
        vec![
            (53, Protocol::Udp, Open, Reason::UdpResponse),
            (54, Protocol::Udp, Closed, Reason::PortUnreach),
            (80, Protocol::Tcp, Open, Reason::SynAck),
            (81, Protocol::Tcp, Closed, Reason::ConnRefused),
            (82, Protocol::Tcp, Filtered, Reason::NoResponse),
        ]
    );
    let silent = &full.hosts[1];
    assert!(silent.ports.iter().all(|p| p.reason == Reason::NoResponse));
    // Ctrl-C at the first connect outcome, then at the first UDP answer.
    for range in [(0, 1), (1, 2)] {
        let stopped = drive(connect_and_udp, &modules, range);
        assert!(stopped.sent < full.sent, "{range:?}");
        assert!(stopped.elapsed < full.elapsed, "{range:?}");
        assert_eq!(stopped.after_stop, 0, "{range:?}");
    }
}

/// Raw pings pipelined into a connect scan.
fn pings_into_connect(t0: Instant) -> Pipeline {
    let mut dplan = ScanPlan::new(
        vec![tech(Protocol::Tcp, vec![PING], &SimModule)],
        Timing::default(),
    );
    dplan.seed = 23;
    let mut pplan = ScanPlan::new(
        vec![tech(Protocol::Tcp, vec![80, 81, 82], &ConnectModule)],
        Timing::default(),
    );
    pplan.seed = 24;
    Pipeline::new(dplan, targets(), Box::new(classify), Some(pplan), t0)
}

#[test]
fn raw_pings_pipeline_into_a_connect_scan() {
    let modules: [&dyn ProbeModule; 2] = [&SimModule, &ConnectModule];
    let full = drive(pings_into_connect, &modules, (0, 0));
    assert_eq!(full.hosts.len(), TARGETS as usize);
    for (i, h) in full.hosts.iter().enumerate() {
        if i % 6 == 0 {
            assert_eq!(h.status, HostStatus::Up);
            let states: Vec<PortState> = h.ports.iter().map(|p| p.state).collect();
            assert_eq!(
                states,
                vec![PortState::Open, PortState::Closed, PortState::Filtered]
            );
        } else {
            assert_eq!((h.status, h.ports.len()), (HostStatus::Down, 0));
        }
    }
    // Pipelined: connect attempts began while pings were still going out.
    assert!(full.first[1].unwrap() < full.last[0].unwrap());
    // Ctrl-C while pinging, and once the connect scan answers.
    for range in [(0, 1), (1, 2)] {
        let stopped = drive(pings_into_connect, &modules, range);
        assert!(stopped.sent < full.sent, "{range:?}");
        assert!(stopped.elapsed < full.elapsed, "{range:?}");
        assert_eq!(stopped.after_stop, 0, "{range:?}");
    }
}

#[test]
fn every_mode_is_a_function_of_its_seed() {
    let modules: [&dyn ProbeModule; 2] = [&SimModule, &ConnectModule];
    let a = drive(pings_into_connect, &modules, (0, 0));
    let b = drive(pings_into_connect, &modules, (0, 0));
    assert_eq!((a.elapsed, a.sent), (b.elapsed, b.sent));
    let key = |o: &Outcome| -> Vec<_> {
        o.hosts
            .iter()
            .map(|h| (h.addr, h.status, port_states(h)))
            .collect()
    };
    assert_eq!(key(&a), key(&b));
}

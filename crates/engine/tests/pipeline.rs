//! Discovery feeding the port scan, over the simulated network
//! (deterministic: assertions are on simulated time and packet counts),
//! and its edge cases: no busy wakeups with --min-rate and --max-rate
//! together, hosts finished before a stop keep discovery's reason, and a
//! late batch's host times are not shifted back.

mod common;
use common::ctx;

use portolan_engine::sim::{PortBehavior, SimClock, SimConfig, SimHost, SimModule, SimNet};
use portolan_engine::{
    run_raw, Clock, Engine, Pipeline, Probe, ProbeModule, Progress, Rekeyed, Reply, ScanPlan,
    SendError, TechniquePlan, Timing, ValidationKey,
};
use portolan_model::{HostResult, HostStatus, PortState, Protocol, Reason};
use std::cell::Cell;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

/// The "ping" ports: a host is up when one of them answers.
const PING_A: u16 = 7;
const PING_B: u16 = 9;

fn tech(ports: Vec<u16>) -> TechniquePlan {
    TechniquePlan {
        protocol: Protocol::Tcp,
        ports,
        no_reply: SimModule.no_reply(),
    }
}

fn addr(i: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 18, 8, 0)) + i))
}

/// Up when any probe was answered open, as the binary's classifier does.
fn classify(mut h: HostResult) -> HostResult {
    let up = h.ports.iter().any(|p| p.state == PortState::Open);
    h.status = if up { HostStatus::Up } else { HostStatus::Down };
    if !up {
        h.reason = Reason::NoResponse;
    }
    h.ports.clear();
    h
}

/// Discovery's reason is EchoReply here, so it can be told from the port
/// scan's (SynAck).
fn classify_echo(mut h: HostResult) -> HostResult {
    let up = h.ports.iter().any(|p| p.state == PortState::Open);
    h.status = if up { HostStatus::Up } else { HostStatus::Down };
    h.reason = if up {
        Reason::EchoReply
    } else {
        Reason::NoResponse
    };
    h.ports.clear();
    h
}

/// Counts driver iterations whose wakeup was already due (busy loop), and
/// optionally stops the pipeline right after the first port-scan reply.
struct Watched {
    inner: Pipeline,
    clock: SimClock,
    due_wakeups: Cell<u64>,
    stop_after_port_reply: bool,
}
impl Engine for Watched {
    fn poll_probe(&mut self, now: Instant) -> Option<Probe> {
        self.inner.poll_probe(now)
    }
    fn on_reply(&mut self, now: Instant, t: usize, r: Reply) {
        self.inner.on_reply(now, t, r);
        if self.stop_after_port_reply && t >= self.inner.offset() {
            self.inner.stop();
        }
    }
    fn on_send_error(&mut self, now: Instant, p: &Probe, e: SendError) {
        self.inner.on_send_error(now, p, e)
    }
    fn handle_timeouts(&mut self, now: Instant) {
        self.inner.handle_timeouts(now)
    }
    fn next_wakeup(&self) -> Option<Instant> {
        let w = self.inner.next_wakeup();
        if w.is_some_and(|w| w <= self.clock.now()) {
            self.due_wakeups.set(self.due_wakeups.get() + 1);
            assert!(
                self.due_wakeups.get() < 200_000,
                "driver spins: wakeup always due"
            );
        }
        w
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
    progress: Progress,
    /// Driver wakeups that were already due (a busy loop shows here).
    due_wakeups: u64,
}

/// How a run over the 200-target network is set up.
struct Setup {
    /// The port scan; `None` for -sn.
    ports: Option<Vec<u16>>,
    timing: Timing,
    classify: fn(HostResult) -> HostResult,
    /// Stop the pipeline at the first port-scan reply.
    stop_after_port_reply: bool,
}

/// 200 targets; every 13th is up with ports 22 and 80 open (and the ping
/// port PING_A), the rest silent. `ports`: the port scan, `None` for -sn.
fn run(ports: Option<Vec<u16>>, max_rate: Option<f64>) -> Run {
    run_with(Setup {
        ports,
        timing: Timing {
            max_rate,
            ..Timing::default()
        },
        classify,
        stop_after_port_reply: false,
    })
}

fn run_with(setup: Setup) -> Run {
    let t0 = Instant::now();
    let mut cfg = SimConfig {
        delay: Duration::from_millis(2),
        ..SimConfig::default()
    };
    let targets: Vec<IpAddr> = (0..200).map(addr).collect();
    for i in (0..200).step_by(13) {
        let mut h = SimHost::with_open(&[PING_A, 22, 80]);
        h.ports.insert(PING_B, PortBehavior::Filtered);
        cfg.hosts.insert(addr(i), h);
    }
    let mut net = SimNet::new(cfg, t0);
    let clock = net.clock();
    let timing = setup.timing;
    let mut dplan = ScanPlan::new(vec![tech(vec![PING_A]), tech(vec![PING_B])], timing.clone());
    dplan.seed = 3;
    let port_plan = setup.ports.map(|p| {
        let mut pp = ScanPlan::new(vec![tech(p)], timing);
        pp.seed = 4;
        pp
    });
    let pipe = Pipeline::new(
        dplan,
        Box::new(targets),
        Box::new(setup.classify),
        port_plan,
        t0,
    );
    let mut eng = Watched {
        inner: pipe,
        clock: clock.clone(),
        due_wakeups: Cell::new(0),
        stop_after_port_reply: setup.stop_after_port_reply,
    };
    let ping: &dyn ProbeModule = &SimModule;
    let scan = Rekeyed::new(Box::new(SimModule), ValidationKey::from_seed(8));
    let modules: [&dyn ProbeModule; 3] = [ping, ping, &scan];
    let stop = AtomicBool::new(false);
    let mut hosts = Vec::new();
    run_raw(
        &mut eng,
        &modules,
        &ctx(),
        &mut net,
        &clock,
        &stop,
        &mut |h| hosts.push(h),
    )
    .unwrap();
    Run {
        hosts,
        progress: eng.inner.progress(),
        due_wakeups: eng.due_wakeups.get(),
        net,
    }
}

fn probes_to(r: &Run) -> HashMap<IpAddr, Vec<(u16, u32)>> {
    let mut m: HashMap<IpAddr, Vec<(u16, u32)>> = HashMap::new();
    for (&(a, p), &n) in &r.net.stats().per_port {
        m.entry(a).or_default().push((p, n));
    }
    m
}

#[test]
fn down_hosts_cost_no_port_probes_and_up_hosts_are_scanned() {
    let r = run(Some((1..=100).collect()), None);
    assert_eq!(r.hosts.len(), 200);
    let up: Vec<&HostResult> = r
        .hosts
        .iter()
        .filter(|h| h.status == HostStatus::Up)
        .collect();
    assert_eq!(up.len(), 16);
    for h in &up {
        // Every port scanned, states right, the reason from discovery.
        assert_eq!(h.ports.len(), 100, "{}", h.addr);
        assert_eq!(h.ports_in(PortState::Open, Protocol::Tcp), vec![7, 22, 80]);
        assert_eq!(h.reason, Reason::SynAck);
    }
    let sent = probes_to(&r);
    for h in r.hosts.iter().filter(|h| h.status == HostStatus::Down) {
        assert_eq!(h.reason, Reason::NoResponse);
        assert!(h.ports.is_empty());
        // Only the two pings, with their retries.
        for &(p, _) in &sent[&h.addr] {
            assert!(p == PING_A || p == PING_B, "{} got a probe on {p}", h.addr);
        }
    }
    // Pipelined: up hosts' port scans finish while discovery still waits
    // for the silent hosts' ping timeouts.
    let first_up = r.hosts.iter().position(|h| h.status == HostStatus::Up);
    let last_down = r.hosts.iter().rposition(|h| h.status == HostStatus::Down);
    assert!(first_up < last_down, "{first_up:?} {last_down:?}");
    // 200 hosts x 2 pings, then 16 hosts x 100 ports.
    assert_eq!(r.progress.ports_total, 200 * 2 + 16 * 100);
    assert_eq!(r.progress.ports_resolved, 200 * 2 + 16 * 100);
}

#[test]
fn a_host_is_decided_by_its_first_answer() {
    let r = run(None, None);
    let sent = probes_to(&r);
    let up: Vec<&HostResult> = r
        .hosts
        .iter()
        .filter(|h| h.status == HostStatus::Up)
        .collect();
    assert_eq!(up.len(), 16);
    for h in up {
        // The filtered ping is never retransmitted once the other answered.
        let n = |port| {
            sent[&h.addr]
                .iter()
                .find(|&&(p, _)| p == port)
                .map_or(0, |&(_, n)| n)
        };
        assert_eq!(n(PING_A), 1, "{}", h.addr);
        assert!(n(PING_B) <= 1, "{}: {}", h.addr, n(PING_B));
        assert!(h.ports.is_empty());
        assert!(h.latency.is_some());
    }
}

#[test]
fn max_rate_holds_across_discovery_and_port_batches() {
    let rate = 2000.0;
    let r = run(Some((1..=100).collect()), Some(rate));
    let sent = r.net.stats().sent as f64;
    let secs = r.net.elapsed().as_secs_f64();
    // Bursts of a tenth of a second are allowed; the average may not
    // exceed the rate by more than that.
    assert!(
        sent <= rate * secs + rate / 10.0 + 1.0,
        "{sent} probes in {secs:.3} s"
    );
    assert_eq!(
        r.hosts
            .iter()
            .filter(|h| h.status == HostStatus::Up && h.ports.len() == 100)
            .count(),
        16
    );
}

#[test]
fn max_rate_alone_does_not_spin() {
    let t = Timing {
        max_rate: Some(500.0),
        ..Timing::default()
    };
    let r = run_with(Setup {
        ports: Some((1..=100).collect()),
        timing: t,
        classify,
        stop_after_port_reply: false,
    });
    let (due, sent) = (r.due_wakeups, r.net.stats().sent);
    assert!(due < 10 * sent);
}

#[test]
fn min_rate_with_max_rate_does_not_spin() {
    // `--min-rate 500 --max-rate 500`: discovery and the batch each want
    // 500/s but share one 500/s bucket.
    let t = Timing {
        max_rate: Some(500.0),
        min_rate: Some(500.0),
        ..Timing::default()
    };
    let r = run_with(Setup {
        ports: Some((1..=100).collect()),
        timing: t,
        classify,
        stop_after_port_reply: false,
    });
    let (due, sent) = (r.due_wakeups, r.net.stats().sent);
    assert!(due < 10 * sent, "{due} busy wakeups for {sent} probes");
}

#[test]
fn hosts_finished_before_stop_keep_discovery_reason() {
    let r = run_with(Setup {
        ports: Some(vec![22]),
        timing: Timing::default(),
        classify: classify_echo,
        stop_after_port_reply: true,
    });
    for h in r.hosts.iter().filter(|h| h.status == HostStatus::Up) {
        assert_eq!(
            h.reason,
            Reason::EchoReply,
            "{} lost discovery's reason",
            h.addr
        );
    }
}

/// Host times of a batch started late in the run.
#[test]
fn batch_host_times_are_not_shifted_back() {
    use std::time::{SystemTime, UNIX_EPOCH};
    let t0 = Instant::now();
    // A 3 s round trip: the up host's ping answer comes ~3 s in, so its
    // batch starts then and its port scan ends ~6 s in.
    let mut cfg = SimConfig {
        delay: Duration::from_millis(1500),
        ..SimConfig::default()
    };
    let targets: Vec<IpAddr> = vec![addr(0)];
    cfg.hosts.insert(addr(0), SimHost::with_open(&[PING_A, 22]));
    let mut net = SimNet::new(cfg, t0);
    let clock = net.clock();
    let timing = Timing {
        initial_rtt_timeout: Duration::from_secs(8),
        max_rtt_timeout: Duration::from_secs(10),
        ..Timing::default()
    };
    let wall0 = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let dplan = ScanPlan::new(vec![tech(vec![PING_A])], timing.clone());
    let pp = ScanPlan::new(vec![tech(vec![22])], timing);
    let pipe = Pipeline::new(
        dplan,
        Box::new(targets),
        Box::new(classify_echo),
        Some(pp),
        t0,
    );
    let mut eng = Watched {
        inner: pipe,
        clock: clock.clone(),
        due_wakeups: Cell::new(0),
        stop_after_port_reply: false,
    };
    let ping: &dyn ProbeModule = &SimModule;
    let scan = Rekeyed::new(Box::new(SimModule), ValidationKey::from_seed(8));
    let modules: [&dyn ProbeModule; 2] = [ping, &scan];
    let stop = AtomicBool::new(false);
    let mut seen = Vec::new();
    let c2 = clock.clone();
    run_raw(
        &mut eng,
        &modules,
        &ctx(),
        &mut net,
        &clock,
        &stop,
        &mut |h: HostResult| seen.push((h, c2.now().saturating_duration_since(t0))),
    )
    .unwrap();
    let (h, at) = &seen[0];
    assert!(
        h.end_time + 1 >= wall0 + at.as_secs(),
        "end_time {} is {} s before the host finished",
        h.end_time,
        wall0 + at.as_secs() - h.end_time
    );
}

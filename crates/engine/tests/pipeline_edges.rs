//! Pipeline edge cases over the simulated network: no busy wakeups with
//! --min-rate and --max-rate together, hosts finished before a stop keep
//! discovery's reason, and a late batch's host times are not shifted back.

use portolan_engine::sim::{PortBehavior, SimClock, SimConfig, SimHost, SimModule, SimNet};
use portolan_engine::{
    run_raw, Clock, Engine, Pipeline, Probe, ProbeContext, ProbeModule, Progress, Rekeyed, Reply,
    ScanPlan, SendError, TechniquePlan, Timing, ValidationKey,
};
use portolan_model::{HostResult, HostStatus, PortState, Protocol, Reason};
use std::cell::Cell;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

const PING_A: u16 = 7;
const PING_B: u16 = 9;

fn ctx() -> ProbeContext {
    ProbeContext {
        src_v4: Some(Ipv4Addr::new(198, 18, 0, 1)),
        src_v6: None,
        source_port: None,
        key: ValidationKey::from_seed(7),
        ttl: 64,
    }
}
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
/// Discovery's reason is EchoReply here, so it can be told from the port
/// scan's (SynAck).
fn classify(mut h: HostResult) -> HostResult {
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

fn run(
    ports: Vec<u16>,
    timing: Timing,
    stop_after_port_reply: bool,
) -> (Vec<HostResult>, u64, u64) {
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
    let mut dplan = ScanPlan::new(vec![tech(vec![PING_A]), tech(vec![PING_B])], timing.clone());
    dplan.seed = 3;
    let mut pp = ScanPlan::new(vec![tech(ports)], timing);
    pp.seed = 4;
    let pipe = Pipeline::new(dplan, Box::new(targets), Box::new(classify), Some(pp), t0);
    let mut eng = Watched {
        inner: pipe,
        clock: clock.clone(),
        due_wakeups: Cell::new(0),
        stop_after_port_reply,
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
    (hosts, eng.due_wakeups.get(), net.stats().sent)
}

#[test]
fn max_rate_alone_does_not_spin() {
    let t = Timing {
        max_rate: Some(500.0),
        ..Timing::default()
    };
    let (hosts, due, sent) = run((1..=100).collect(), t, false);
    eprintln!("hosts {} due {due} sent {sent}", hosts.len());
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
    let (hosts, due, sent) = run((1..=100).collect(), t, false);
    eprintln!("hosts {} due {due} sent {sent}", hosts.len());
    assert!(due < 10 * sent, "{due} busy wakeups for {sent} probes");
}

#[test]
fn hosts_finished_before_stop_keep_discovery_reason() {
    let (hosts, _, _) = run(vec![22], Timing::default(), true);
    for h in hosts.iter().filter(|h| h.status == HostStatus::Up) {
        eprintln!("{} {:?} ports {}", h.addr, h.reason, h.ports.len());
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
    let pipe = Pipeline::new(dplan, Box::new(targets), Box::new(classify), Some(pp), t0);
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

//! End-to-end engine tests over the simulated network (deterministic:
//! assertions are on simulated time).

use portolan_engine::sim::{Bottleneck, PortBehavior, SimConfig, SimHost, SimModule, SimNet};
use portolan_engine::{
    run_raw, HostSource, ProbeContext, ProbeModule, Scan, ScanPlan, TechniquePlan, Timing,
    ValidationKey,
};
use portolan_model::{HostResult, PortState, Protocol, Reason};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

fn ctx() -> ProbeContext {
    ProbeContext {
        src_v4: Some(Ipv4Addr::new(198, 18, 0, 1)),
        src_v6: Some("2001:2::1".parse().unwrap()),
        source_port: None,
        key: ValidationKey::from_seed(99),
        ttl: 64,
    }
}

fn plan(ports: Vec<u16>, timing: Timing, seed: u64) -> ScanPlan {
    let mut p = ScanPlan::new(
        vec![TechniquePlan {
            protocol: Protocol::Tcp,
            ports,
            no_reply: SimModule.no_reply(),
        }],
        timing,
    );
    p.seed = seed;
    p
}

fn host(i: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(198, 18, 1, i))
}

struct Run {
    hosts: Vec<HostResult>,
    elapsed: Duration,
    net: SimNet,
    scan: Scan,
}

fn run(cfg: SimConfig, plan: ScanPlan, targets: Box<dyn HostSource>) -> Run {
    let t0 = Instant::now();
    let mut net = SimNet::new(cfg, t0);
    let clock = net.clock();
    let mut scan = Scan::new(plan, targets, t0);
    let mut hosts = Vec::new();
    let stop = AtomicBool::new(false);
    let m: &dyn ProbeModule = &SimModule;
    run_raw(&mut scan, &[m], &ctx(), &mut net, &clock, &stop, &mut |h| {
        hosts.push(h)
    })
    .unwrap();
    let elapsed = net.elapsed();
    Run {
        hosts,
        elapsed,
        net,
        scan,
    }
}

const OPEN31: [u16; 31] = [
    1, 7, 21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 443, 445, 993, 995, 1723, 3306, 3389,
    5900, 8080, 8443, 9000, 10000, 20000, 30000, 40000, 50000, 60000, 65535,
];

fn full_host_run(delay_ms: u64, loss: f64, seed: u64) -> Run {
    let mut cfg = SimConfig {
        seed,
        delay: Duration::from_millis(delay_ms),
        loss_out: loss,
        loss_back: loss,
        ..SimConfig::default()
    };
    cfg.hosts.insert(host(2), SimHost::with_open(&OPEN31));
    let r = run(
        cfg,
        plan((1..=65535).collect(), Timing::default(), seed),
        Box::new(vec![host(2)]),
    );
    assert_eq!(r.hosts.len(), 1);
    let h = &r.hosts[0];
    assert_eq!(h.ports.len(), 65535);
    assert_eq!(
        h.ports_in(PortState::Open, Protocol::Tcp),
        OPEN31.to_vec(),
        "loss {loss}"
    );
    r
}

#[test]
fn clean_full_port_scan_is_exact_and_fast() {
    let r = full_host_run(0, 0.0, 1);
    let h = &r.hosts[0];
    assert_eq!(
        h.ports_in(PortState::Closed, Protocol::Tcp).len(),
        65535 - 31
    );
    let p = r.scan.progress();
    eprintln!("clean: {:?} sent {} {:?}", r.elapsed, r.net.stats().sent, p);
    assert!(r.elapsed < Duration::from_millis(500), "{:?}", r.elapsed);
    assert!(p.retransmits < 100);
}

#[test]
fn random_loss_does_not_collapse_throughput() {
    let clean = full_host_run(10, 0.0, 2);
    eprintln!(
        "10ms clean: {:?} {:?}",
        clean.elapsed,
        clean.scan.progress()
    );
    for (loss, seed) in [(0.01, 3), (0.01, 4), (0.05, 5)] {
        let r = full_host_run(10, loss, seed);
        let h = &r.hosts[0];
        eprintln!(
            "10ms loss {loss}: {:?} {:?} reductions {}",
            r.elapsed,
            r.scan.progress(),
            r.scan.congestion().reductions()
        );
        // Every non-open port answered RST at some attempt.
        assert_eq!(
            h.ports_in(PortState::Closed, Protocol::Tcp).len(),
            65535 - 31
        );
        assert!(
            r.elapsed < Duration::from_secs(2),
            "loss {loss}: {:?}",
            r.elapsed
        );
        // Only the retransmission rounds of the lost probes (one 100 ms
        // minimum RTO each) come on top of the clean time.
        let tail = Duration::from_millis(600);
        assert!(
            r.elapsed < clean.elapsed + tail,
            "loss {loss}: {:?}",
            r.elapsed
        );
    }
}

#[test]
fn every_port_state_is_right_across_hosts() {
    let mut cfg = SimConfig::default();
    let mut targets = Vec::new();
    let mut expect: HashMap<IpAddr, SimHost> = HashMap::new();
    for i in 1..=40u8 {
        let a = host(i);
        targets.push(a);
        let mut h = SimHost::with_open(&[80, u16::from(i) + 100]);
        h.ports.insert(443, PortBehavior::Filtered);
        h.ports.insert(8080, PortBehavior::Unreachable);
        if i % 7 == 0 {
            h = SimHost::silent();
        }
        if i % 5 == 0 {
            h.others = PortBehavior::Filtered;
        }
        cfg.hosts.insert(a, h.clone());
        expect.insert(a, h);
    }
    let ports: Vec<u16> = (1..=200).chain([443, 8080]).collect();
    let r = run(
        cfg,
        plan(ports.clone(), Timing::template(4).unwrap(), 7),
        Box::new(targets),
    );
    assert_eq!(r.hosts.len(), 40);
    for h in &r.hosts {
        let sim = &expect[&h.addr];
        assert_eq!(h.ports.len(), ports.len());
        for p in &h.ports {
            let (state, reason) = match sim.behavior(p.port) {
                PortBehavior::Open => (PortState::Open, Reason::SynAck),
                PortBehavior::Closed => (PortState::Closed, Reason::Reset),
                PortBehavior::Filtered => (PortState::Filtered, Reason::NoResponse),
                PortBehavior::Unreachable => (PortState::Filtered, Reason::AdminProhibited),
            };
            assert_eq!(
                (p.state, p.reason),
                (state, reason),
                "{} port {}",
                h.addr,
                p.port
            );
            if p.reason != Reason::NoResponse {
                assert_eq!(p.reason_ttl, 64);
            }
        }
    }
    assert!(r.scan.is_done());
}

#[test]
fn filtered_ports_get_bounded_retries() {
    let mut cfg = SimConfig::default();
    let mut h = SimHost::with_open(&[22]);
    h.others = PortBehavior::Filtered;
    cfg.hosts.insert(host(3), h);
    cfg.hosts.insert(host(4), SimHost::silent());
    let timing = Timing {
        max_retries: 3,
        ..Timing::default()
    };
    let r = run(
        cfg,
        plan((1..=300).collect(), timing, 3),
        Box::new(vec![host(3), host(4)]),
    );
    assert_eq!(r.hosts.len(), 2);
    for h in &r.hosts {
        for p in &h.ports {
            if p.port != 22 || h.addr == host(4) {
                assert_eq!(
                    (p.state, p.reason),
                    (PortState::Filtered, Reason::NoResponse)
                );
            }
        }
    }
    let max = r.net.stats().per_port.values().copied().max().unwrap();
    let min = r
        .net
        .stats()
        .per_port
        .iter()
        .filter(|(k, _)| **k != (host(3), 22))
        .map(|(_, &n)| n)
        .min()
        .unwrap();
    assert!(max <= 4, "max probes per port {max}");
    assert!(min >= 2, "a silent port got only {min} probe(s)");
}

#[test]
fn max_rate_is_respected() {
    let mut cfg = SimConfig {
        record_sends: true,
        ..SimConfig::default()
    };
    cfg.hosts.insert(host(5), SimHost::with_open(&[80]));
    let rate = 1000.0;
    let timing = Timing {
        max_rate: Some(rate),
        ..Timing::default()
    };
    let r = run(
        cfg,
        plan((1..=3000).collect(), timing, 5),
        Box::new(vec![host(5)]),
    );
    assert_eq!(
        r.hosts[0].ports_in(PortState::Open, Protocol::Tcp),
        vec![80]
    );
    let times = &r.net.stats().send_times;
    let t0 = times[0];
    let burst = 10.0;
    for (i, t) in times.iter().enumerate() {
        let allowed = rate * t.duration_since(t0).as_secs_f64() + burst + 1.0;
        assert!(
            (i as f64) < allowed,
            "send {i} at {:?}",
            t.duration_since(t0)
        );
    }
    assert!(r.elapsed >= Duration::from_secs_f64(2.9));
    assert!(r.elapsed < Duration::from_secs(4), "{:?}", r.elapsed);
}

#[test]
fn min_rate_overrides_a_small_window() {
    let mut cfg = SimConfig::default();
    cfg.hosts.insert(host(6), SimHost::silent());
    let timing = Timing {
        max_parallelism: 1,
        min_rate: Some(2000.0),
        max_retries: 1,
        ..Timing::default()
    };
    let r = run(
        cfg,
        plan((1..=2000).collect(), timing, 6),
        Box::new(vec![host(6)]),
    );
    // 4000 probes at >= 2000/s (a window of 1 with a 1 s timeout would take an hour).
    assert_eq!(r.net.stats().sent, 4000);
    assert!(r.elapsed < Duration::from_secs(4), "{:?}", r.elapsed);
}

#[test]
fn a_bottleneck_makes_it_back_off() {
    let mut cfg = SimConfig {
        delay: Duration::from_millis(5),
        bottleneck: Some(Bottleneck {
            pps: 20_000.0,
            queue: 200,
        }),
        ..SimConfig::default()
    };
    cfg.hosts.insert(host(7), SimHost::with_open(&OPEN31));
    let r = run(
        cfg,
        plan((1..=65535).collect(), Timing::default(), 8),
        Box::new(vec![host(7)]),
    );
    let s = r.net.stats();
    eprintln!(
        "bottleneck: {:?} sent {} drops {} reductions {} restores {} {:?}",
        r.elapsed,
        s.sent,
        s.queue_drops,
        r.scan.congestion().reductions(),
        r.scan.congestion().restores(),
        r.scan.progress()
    );
    assert_eq!(
        r.hosts[0].ports_in(PortState::Open, Protocol::Tcp),
        OPEN31.to_vec()
    );
    assert!(r.scan.congestion().reductions() > 0);
    assert!(
        (s.queue_drops as f64) < 0.1 * s.sent as f64,
        "drops {}",
        s.queue_drops
    );
    // Capacity-bound: 65535 probes at 20 k/s take >= 3.3 s; don't take twice that.
    assert!(r.elapsed < Duration::from_secs(7), "{:?}", r.elapsed);
}

#[test]
fn host_timeout_gives_up_on_slow_hosts() {
    let mut cfg = SimConfig::default();
    cfg.hosts.insert(host(8), SimHost::silent());
    cfg.hosts.insert(host(9), SimHost::with_open(&[80]));
    let timing = Timing {
        host_timeout: Some(Duration::from_millis(150)),
        max_parallelism: 100,
        ..Timing::default()
    };
    let r = run(
        cfg,
        plan((1..=1000).collect(), timing, 9),
        Box::new(vec![host(8), host(9)]),
    );
    eprintln!("{:?} {:?}", r.elapsed, r.scan.progress());
    assert_eq!(r.hosts.len(), 2);
    let silent = r.hosts.iter().find(|h| h.addr == host(8)).unwrap();
    assert!(silent.timed_out);
    assert!(silent.ports.len() < 1000);
    let live = r.hosts.iter().find(|h| h.addr == host(9)).unwrap();
    assert!(!live.timed_out);
    assert_eq!(live.ports.len(), 1000);
    assert!(r.scan.is_done());
    assert_eq!(r.scan.in_flight(), 0);
}

#[test]
fn rate_limited_resets_still_finish_with_open_ports_found() {
    let mut cfg = SimConfig::default();
    let mut h = SimHost::with_open(&[22, 80]);
    h.error_rate_limit = Some((1.0, 1.0));
    cfg.hosts.insert(host(10), h);
    let timing = Timing::template(4).unwrap();
    let r = run(
        cfg,
        plan((1..=200).collect(), timing, 10),
        Box::new(vec![host(10)]),
    );
    assert_eq!(
        r.hosts[0].ports_in(PortState::Open, Protocol::Tcp),
        vec![22, 80]
    );
    assert!(r.net.stats().rate_limited > 0);
}

#[test]
fn runs_are_reproducible_with_a_seed() {
    let a = full_host_run(1, 0.02, 11);
    let b = full_host_run(1, 0.02, 11);
    assert_eq!(a.elapsed, b.elapsed);
    assert_eq!(a.net.stats().sent, b.net.stats().sent);
    assert_eq!(a.hosts[0].ports, b.hosts[0].ports);
}

#[test]
fn port_80_across_a_sparse_slash_16() {
    let first = u32::from(Ipv4Addr::new(198, 18, 0, 0));
    let mut cfg = SimConfig {
        delay: Duration::from_micros(100),
        ..SimConfig::default()
    };
    let mut up = Vec::new();
    for i in (0..65536u32).step_by(13) {
        let a = IpAddr::V4((first + i).into());
        let h = if i % 2 == 0 {
            SimHost::with_open(&[80])
        } else {
            SimHost::with_open(&[])
        };
        cfg.hosts.insert(a, h);
        up.push(a);
    }
    let targets = Box::new(portolan_engine::Ipv4Range { first, len: 65536 });
    let r = run(cfg, plan(vec![80], Timing::default(), 13), targets);
    eprintln!(
        "/16: {:?} sent {} {:?}",
        r.elapsed,
        r.net.stats().sent,
        r.scan.progress()
    );
    assert_eq!(r.hosts.len(), 65536);
    let answered = r
        .hosts
        .iter()
        .filter(|h| h.ports[0].reason != Reason::NoResponse)
        .count();
    assert_eq!(answered, up.len());
    assert!(r.elapsed < Duration::from_secs(1), "{:?}", r.elapsed);
}

#[test]
fn a_firewall_dropping_most_ports_is_not_congestion() {
    // One answering port per 100, the rest silently dropped: the loss
    // ratio is 99 % whatever the rate, so it must not shrink the window.
    let mut cfg = SimConfig {
        delay: Duration::from_millis(10),
        ..SimConfig::default()
    };
    let mut h = SimHost::with_open(&OPEN31);
    h.others = PortBehavior::Filtered;
    for p in (100..=65535u16).step_by(100) {
        h.ports.entry(p).or_insert(PortBehavior::Closed);
    }
    cfg.hosts.insert(host(11), h);
    let r = run(
        cfg,
        plan((1..=65535).collect(), Timing::default(), 12),
        Box::new(vec![host(11)]),
    );
    let c = r.scan.congestion();
    eprintln!(
        "firewall: {:?} {:?} reductions {} restores {} floor {}",
        r.elapsed,
        r.scan.progress(),
        c.reductions(),
        c.restores(),
        c.noise_floor()
    );
    assert_eq!(
        r.hosts[0].ports_in(PortState::Open, Protocol::Tcp),
        OPEN31.to_vec()
    );
    assert_eq!(
        r.hosts[0].ports_in(PortState::Closed, Protocol::Tcp).len(),
        647
    );
    assert!(r.elapsed < Duration::from_secs(2), "{:?}", r.elapsed);
}

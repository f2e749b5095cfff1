//! FIN-like scans of hosts whose ICMP allowance is spent (the scan
//! before used it up), over the simulated network: a port the host
//! rejects with an ICMP unreachable is filtered in every run, whatever
//! the order and whatever the allowance held at the start; a host that
//! does not limit costs one more round trip, one that rejects nothing
//! one linger round.

mod common;

use portolan_engine::sim::{IcmpAllowance, PortBehavior, SimConfig, SimFinModule, SimHost};
use portolan_engine::{ProbeModule, ScanPlan, TechniquePlan, Timing};
use portolan_model::{HostResult, PortState, Protocol, Reason};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

const OPEN: [u16; 2] = [22, 80];
const CLOSED: [u16; 2] = [25, 113];
const REJECTED: [u16; 3] = [111, 135, 139];
const DROPPED: [u16; 1] = [23];
const PORTS: [u16; 8] = [22, 23, 25, 80, 111, 113, 135, 139];
/// The engine's linger (`icmp_allowance::LINGER`).
const LINGER: Duration = Duration::from_millis(1100);

fn addr() -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(198, 18, 1, 1))
}

/// Linux's allowance: one per second, six at most.
fn linux(start: f64) -> Option<IcmpAllowance> {
    Some(IcmpAllowance {
        per_sec: 1.0,
        burst: 6.0,
        start,
    })
}

fn firewalled(allowance: Option<IcmpAllowance>) -> SimHost {
    let mut h = SimHost::with_open(&OPEN);
    for p in REJECTED {
        h.ports.insert(p, PortBehavior::Unreachable);
    }
    for p in DROPPED {
        h.ports.insert(p, PortBehavior::Filtered);
    }
    h.icmp_allowance = allowance;
    h
}

fn plan(ports: Vec<u16>, seed: u64, checked: bool) -> ScanPlan {
    let mut p = ScanPlan::new(
        vec![TechniquePlan {
            protocol: Protocol::Tcp,
            ports,
            no_reply: SimFinModule.no_reply(),
        }],
        Timing::default(),
    );
    p.seed = seed;
    p.icmp_checked = vec![checked];
    p
}

fn run(mut cfg: SimConfig, plan: ScanPlan, host: SimHost) -> (HostResult, Duration, u64) {
    cfg.hosts.insert(addr(), host);
    let (mut hosts, net) = common::run_sim(cfg, plan, Box::new(vec![addr()]), &SimFinModule);
    assert_eq!(hosts.len(), 1);
    (hosts.remove(0), net.elapsed(), net.stats().sent)
}

fn state(h: &HostResult, port: u16) -> (PortState, Reason) {
    let p = h
        .ports
        .iter()
        .find(|p| p.port == port)
        .expect("port listed");
    (p.state, p.reason)
}

fn check_exact(h: &HostResult) {
    for p in OPEN.into_iter().chain(DROPPED) {
        assert_eq!(
            state(h, p),
            (PortState::OpenFiltered, Reason::NoResponse),
            "port {p}"
        );
    }
    for p in CLOSED {
        assert_eq!(state(h, p), (PortState::Closed, Reason::Reset), "port {p}");
    }
    for p in REJECTED {
        assert_eq!(
            state(h, p),
            (PortState::Filtered, Reason::PortUnreach),
            "port {p}"
        );
    }
}

#[test]
fn spent_allowance_reads_rejected_ports_filtered_in_every_run() {
    let mut worst = Duration::ZERO;
    for seed in 0..40u64 {
        // What the scan before left: nothing, or a fraction of an error.
        let start = (seed % 5) as f64 * 0.2;
        let cfg = SimConfig {
            seed,
            ..SimConfig::default()
        };
        let (h, t, _) = run(
            cfg,
            plan(PORTS.to_vec(), seed, true),
            firewalled(linux(start)),
        );
        check_exact(&h);
        let rl = h.icmp_rate_limit.expect("the allowance was seen spent");
        assert!(rl.tcp_icmp && rl.exact && rl.unresolved == 0, "{rl:?}");
        assert!((0.3..=3.0).contains(&rl.observed_per_sec), "{rl:?}");
        worst = worst.max(t);
    }
    // Three rejected ports at one error per second, after the linger.
    eprintln!("spent allowance, 8 ports: worst {worst:?}");
    assert!(worst < Duration::from_secs(8), "took {worst:?}");
}

#[test]
fn without_the_check_the_same_scan_reads_them_open_filtered() {
    // The failure the check exists for.
    let (h, _, _) = run(
        SimConfig::default(),
        plan(PORTS.to_vec(), 1, false),
        firewalled(linux(0.0)),
    );
    assert!(REJECTED
        .iter()
        .any(|&p| state(&h, p).0 == PortState::OpenFiltered));
}

#[test]
fn a_host_that_does_not_limit_costs_one_round_trip_more() {
    let (base, t_base, _) = run(
        SimConfig::default(),
        plan(PORTS.to_vec(), 3, false),
        firewalled(None),
    );
    check_exact(&base);
    let (h, t, _) = run(
        SimConfig::default(),
        plan(PORTS.to_vec(), 3, true),
        firewalled(None),
    );
    check_exact(&h);
    assert!(h.icmp_rate_limit.is_none());
    eprintln!("unlimited: {t:?} vs {t_base:?} unchecked");
    assert!(
        t <= t_base + Duration::from_millis(5),
        "{t:?} vs {t_base:?}"
    );
}

#[test]
fn a_host_that_rejects_nothing_lingers_once() {
    let mut host = SimHost::with_open(&OPEN);
    host.ports.insert(23, PortBehavior::Filtered);
    host.icmp_allowance = linux(0.0);
    let (h, t, _) = run(SimConfig::default(), plan(PORTS.to_vec(), 5, true), host);
    for p in [22, 23, 80] {
        assert_eq!(state(&h, p).0, PortState::OpenFiltered, "{p}");
    }
    assert_eq!(h.ports_in(PortState::Closed, Protocol::Tcp).len(), 5);
    assert!(h.icmp_rate_limit.is_none());
    eprintln!("rejects nothing: {t:?}");
    assert!(
        t >= LINGER && t < LINGER + Duration::from_millis(400),
        "{t:?}"
    );
}

#[test]
fn a_host_that_never_answers_does_not_linger() {
    let (h, t, _) = run(
        SimConfig::default(),
        plan(PORTS.to_vec(), 5, true),
        SimHost::silent(),
    );
    assert_eq!(h.ports_in(PortState::OpenFiltered, Protocol::Tcp).len(), 8);
    let (_, t_base, _) = run(
        SimConfig::default(),
        plan(PORTS.to_vec(), 5, false),
        SimHost::silent(),
    );
    assert_eq!(t, t_base);
}

#[test]
fn many_rejected_ports_are_paced_and_then_noted() {
    // 200 ports, every fifth rejected, the rest open or closed; the
    // allowance starts full: its burst and a few rounds name some, the
    // budget ends the rest with the note.
    let mut host = SimHost::with_open(&[]);
    for p in 1..=200u16 {
        let b = match p % 5 {
            0 => PortBehavior::Unreachable,
            1 => PortBehavior::Open,
            _ => PortBehavior::Closed,
        };
        host.ports.insert(p, b);
    }
    host.icmp_allowance = linux(6.0);
    let (h, t, sent) = run(
        SimConfig::default(),
        plan((1..=200).collect(), 9, true),
        host,
    );
    let rl = h.icmp_rate_limit.expect("noted");
    assert!(rl.tcp_icmp, "{rl:?}");
    let filtered = h.ports_in(PortState::Filtered, Protocol::Tcp);
    let of = h.ports_in(PortState::OpenFiltered, Protocol::Tcp);
    assert!(filtered.iter().all(|p| p % 5 == 0), "{filtered:?}");
    assert_eq!(filtered.len() + of.len(), 80);
    assert_eq!(rl.unresolved as usize, of.len(), "{rl:?}");
    assert!(!rl.exact);
    eprintln!("200 ports, 40 rejected: {t:?}, {sent} probes, {rl:?}");
    assert!(t < Duration::from_secs(25), "{t:?}");
}

#[test]
fn a_slow_limit_on_few_ports_is_settled_exactly() {
    // One error every 2 s (half an error left by the scan before, so the
    // linger round finds one): slower than the pace starts, within the
    // budget.
    let allowance = Some(IcmpAllowance {
        per_sec: 0.5,
        burst: 6.0,
        start: 0.5,
    });
    for seed in 0..10u64 {
        let (h, t, _) = run(
            SimConfig {
                seed,
                ..SimConfig::default()
            },
            plan(PORTS.to_vec(), seed, true),
            firewalled(allowance),
        );
        check_exact(&h);
        assert!(t < Duration::from_secs(15), "{t:?}");
    }
}

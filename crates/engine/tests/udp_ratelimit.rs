//! UDP scans of hosts that rate-limit ICMP (like Linux: a burst of six,
//! then one per second), over the simulated network: the fast default
//! detects the limit and finishes in seconds; `udp_exact` names every
//! closed port in about ports / rate seconds.

mod common;

use portolan_engine::sim::{PortBehavior, SimConfig, SimHost, SimUdpModule};
use portolan_engine::{HostSource, Ipv4Range, ProbeModule, ScanPlan, TechniquePlan, Timing};
use portolan_model::{HostResult, PortState, Protocol};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

const OPEN: [u16; 3] = [53, 123, 161];
const DROPPED: [u16; 3] = [500, 600, 700];

fn linux_host(limit: Option<(f64, f64)>) -> SimHost {
    let mut h = SimHost::with_open(&OPEN);
    for p in DROPPED {
        h.ports.insert(p, PortBehavior::Filtered);
    }
    h.error_rate_limit = limit;
    h
}

fn plan(ports: u16, exact: bool) -> ScanPlan {
    let mut p = ScanPlan::new(
        vec![TechniquePlan {
            protocol: Protocol::Udp,
            ports: (1..=ports).collect(),
            no_reply: SimUdpModule.no_reply(),
        }],
        Timing::default(),
    );
    p.seed = 3;
    p.udp_exact = exact;
    p
}

fn run(
    cfg: SimConfig,
    plan: ScanPlan,
    targets: Box<dyn HostSource>,
) -> (Vec<HostResult>, Duration) {
    let (hosts, net) = common::run_sim(cfg, plan, targets, &SimUdpModule);
    (hosts, net.elapsed())
}

fn one_host(limit: Option<(f64, f64)>, ports: u16, exact: bool) -> (HostResult, Duration) {
    let addr = IpAddr::V4(Ipv4Addr::new(198, 18, 1, 1));
    let mut cfg = SimConfig::default();
    cfg.hosts.insert(addr, linux_host(limit));
    let (mut hosts, t) = run(cfg, plan(ports, exact), Box::new(vec![addr]));
    assert_eq!(hosts.len(), 1);
    (hosts.remove(0), t)
}

fn check_honest(h: &HostResult) {
    let scanned = |p: u16| h.ports.iter().any(|r| r.port == p);
    for p in OPEN.into_iter().filter(|&p| scanned(p)) {
        assert!(
            h.ports_in(PortState::Open, Protocol::Udp).contains(&p),
            "{p}"
        );
    }
    let closed = h.ports_in(PortState::Closed, Protocol::Udp);
    for p in DROPPED {
        assert!(!closed.contains(&p), "dropped port {p} reported closed");
    }
}

#[test]
fn rate_limited_host_is_detected_and_finishes_fast() {
    let (h, t) = one_host(Some((1.0, 6.0)), 1000, false);
    check_honest(&h);
    assert!(t < Duration::from_secs(5), "took {t:?}");
    eprintln!("fast: {t:?} {:?}", h.icmp_rate_limit);
    let rl = h.icmp_rate_limit.expect("rate limit detected");
    assert!(
        (0.5..=3.0).contains(&rl.observed_per_sec),
        "rate {}",
        rl.observed_per_sec
    );
    let of = h.ports_in(PortState::OpenFiltered, Protocol::Udp).len() as u32;
    assert_eq!(rl.unresolved, of);
    assert!(of > 900, "{of} open|filtered");
    assert!(!rl.exact);
}

#[test]
fn unlimited_host_gets_no_note_and_every_closed_port() {
    let (h, t) = one_host(None, 1000, false);
    check_honest(&h);
    assert!(h.icmp_rate_limit.is_none());
    assert_eq!(h.ports_in(PortState::Closed, Protocol::Udp).len(), 994);
    assert!(t < Duration::from_secs(3), "took {t:?}");
}

#[test]
fn firewalled_host_with_one_reject_is_not_called_rate_limited() {
    // Every port dropped except one that answers a port unreachable.
    let addr = IpAddr::V4(Ipv4Addr::new(198, 18, 1, 1));
    let mut host = SimHost::silent();
    host.ports.insert(9, PortBehavior::Closed);
    let mut cfg = SimConfig::default();
    cfg.hosts.insert(addr, host);
    let (hosts, t) = run(cfg, plan(200, false), Box::new(vec![addr]));
    assert!(hosts[0].icmp_rate_limit.is_none());
    assert_eq!(hosts[0].ports_in(PortState::Closed, Protocol::Udp), vec![9]);
    assert!(t < Duration::from_secs(6), "took {t:?}");
}

#[test]
fn exact_mode_names_every_closed_port_at_the_hosts_pace() {
    let ports = 1000u16;
    let (h, t) = one_host(Some((1.0, 6.0)), ports, true);
    check_honest(&h);
    let closed = h.ports_in(PortState::Closed, Protocol::Udp).len();
    assert_eq!(closed, usize::from(ports) - 6, "every closed port named");
    let rl = h.icmp_rate_limit.expect("rate limit detected");
    assert!(rl.exact);
    assert_eq!(
        rl.unresolved, 3,
        "only the dropped ports stay open|filtered"
    );
    // About ports / rate: 994 closed ports at one per second.
    let secs = t.as_secs_f64();
    eprintln!("exact: {secs} s {rl:?}");
    assert!((800.0..=1400.0).contains(&secs), "took {secs} s");
}

#[test]
fn a_slash_24_of_rate_limited_hosts_runs_in_parallel() {
    let range = Ipv4Range {
        first: u32::from(Ipv4Addr::new(198, 18, 2, 0)),
        len: 256,
    };
    let mut cfg = SimConfig::default();
    for i in 0..=255u8 {
        cfg.hosts.insert(
            IpAddr::V4(Ipv4Addr::new(198, 18, 2, i)),
            linux_host(Some((1.0, 6.0))),
        );
    }
    let (hosts, t) = run(cfg, plan(100, false), Box::new(range));
    assert_eq!(hosts.len(), 256);
    for h in &hosts {
        check_honest(h);
        assert!(h.icmp_rate_limit.is_some(), "{}", h.addr);
    }
    assert!(t < Duration::from_secs(10), "took {t:?}");
}

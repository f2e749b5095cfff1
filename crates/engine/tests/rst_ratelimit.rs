//! A host that rate-limits its TCP resets (an nftables `limit rate over
//! N/second drop` on outgoing RSTs) must come out with every closed port
//! closed, paced at its rate; random loss and firewalls that drop most
//! ports must not be mistaken for it (deterministic, simulated time).

mod common;

use portolan_engine::sim::{PortBehavior, SimConfig, SimHost, SimModule};
use portolan_engine::{ProbeModule, ScanPlan, TechniquePlan, Timing};
use portolan_model::{HostResult, PortState, Protocol};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

fn target(i: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(198, 18, 3, i))
}

fn run(cfg: SimConfig, ports: u16, seed: u64, targets: Vec<IpAddr>) -> (Vec<HostResult>, Duration) {
    let mut plan = ScanPlan::new(
        vec![TechniquePlan {
            protocol: Protocol::Tcp,
            ports: (1..=ports).collect(),
            no_reply: SimModule.no_reply(),
        }],
        Timing::default(),
    );
    plan.seed = seed;
    let (mut hosts, net) = common::run_sim(cfg, plan, Box::new(targets), &SimModule);
    hosts.sort_by_key(|h| h.addr);
    (hosts, net.elapsed())
}

const OPEN: [u16; 3] = [22, 80, 443];

fn limited(rate: f64, burst: f64) -> SimHost {
    let mut h = SimHost::with_open(&OPEN);
    h.error_rate_limit = Some((rate, burst));
    h
}

fn assert_all_closed_but_open(h: &HostResult, ports: u16) {
    assert_eq!(h.ports.len(), usize::from(ports));
    assert_eq!(h.ports_in(PortState::Open, Protocol::Tcp), OPEN.to_vec());
    assert_eq!(
        h.ports_in(PortState::Closed, Protocol::Tcp).len(),
        usize::from(ports) - OPEN.len(),
        "{:?}",
        h.icmp_rate_limit
    );
}

#[test]
fn reset_limited_host_gives_every_closed_port_at_its_pace() {
    for (rate, ports, seed) in [(200.0, 2000u16, 1), (100.0, 1000, 2), (1000.0, 5000, 3)] {
        let mut cfg = SimConfig {
            delay: Duration::from_micros(100),
            ..SimConfig::default()
        };
        cfg.hosts.insert(target(1), limited(rate, 20.0));
        let (hosts, elapsed) = run(cfg, ports, seed, vec![target(1)]);
        let h = &hosts[0];
        eprintln!("rate {rate}: {elapsed:?} {:?}", h.icmp_rate_limit);
        assert_all_closed_but_open(h, ports);
        let rl = h.icmp_rate_limit.expect("rate limit recorded");
        assert_eq!(rl.protocol, Protocol::Tcp);
        assert!(rl.exact);
        assert_eq!(rl.unresolved, 0);
        assert!(
            (rl.observed_per_sec - rate).abs() < rate * 0.3,
            "{}",
            rl.observed_per_sec
        );
        let bound = Duration::from_secs_f64(f64::from(ports) / rate * 1.3 + 3.0);
        assert!(elapsed < bound, "rate {rate}: {elapsed:?} > {bound:?}");
    }
}

#[test]
fn reset_limited_host_with_delay_and_loss_is_still_exact() {
    let mut cfg = SimConfig {
        delay: Duration::from_millis(10),
        loss_out: 0.01,
        loss_back: 0.01,
        seed: 9,
        ..SimConfig::default()
    };
    cfg.hosts.insert(target(1), limited(200.0, 20.0));
    let (hosts, elapsed) = run(cfg, 1000, 4, vec![target(1)]);
    let h = &hosts[0];
    eprintln!("lossy limited: {elapsed:?} {:?}", h.icmp_rate_limit);
    assert_all_closed_but_open(h, 1000);
    assert_eq!(h.icmp_rate_limit.map(|r| r.protocol), Some(Protocol::Tcp));
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[test]
fn random_loss_is_not_a_reset_limit() {
    for (loss, seed) in [(0.01, 5), (0.05, 6)] {
        let mut cfg = SimConfig {
            delay: Duration::from_millis(10),
            loss_out: loss,
            loss_back: loss,
            seed,
            ..SimConfig::default()
        };
        cfg.hosts.insert(target(1), SimHost::with_open(&OPEN));
        let (hosts, elapsed) = run(cfg, 20000, seed, vec![target(1)]);
        let h = &hosts[0];
        eprintln!("loss {loss}: {elapsed:?}");
        assert_all_closed_but_open(h, 20000);
        assert_eq!(h.icmp_rate_limit, None);
        assert!(elapsed < Duration::from_secs(2), "loss {loss}: {elapsed:?}");
    }
}

#[test]
fn partial_firewall_is_not_paced() {
    // Every tenth port resets, the rest are dropped; with and without loss.
    for (loss, seed) in [(0.0, 7), (0.05, 8)] {
        let mut cfg = SimConfig {
            delay: Duration::from_millis(1),
            loss_out: loss,
            loss_back: loss,
            seed,
            ..SimConfig::default()
        };
        let mut h = SimHost::with_open(&[]);
        h.others = PortBehavior::Filtered;
        for p in (10..=20000u16).step_by(10) {
            h.ports.insert(p, PortBehavior::Closed);
        }
        cfg.hosts.insert(target(1), h);
        let (hosts, elapsed) = run(cfg, 20000, seed, vec![target(1)]);
        let h = &hosts[0];
        eprintln!("firewall loss {loss}: {elapsed:?}");
        assert_eq!(h.icmp_rate_limit, None);
        assert_eq!(h.ports_in(PortState::Closed, Protocol::Tcp).len(), 2000);
        assert!(elapsed < Duration::from_secs(3), "loss {loss}: {elapsed:?}");
    }
}

#[test]
fn limited_and_unlimited_hosts_side_by_side() {
    let mut cfg = SimConfig::default();
    cfg.hosts.insert(target(1), limited(200.0, 20.0));
    cfg.hosts.insert(target(2), SimHost::with_open(&OPEN));
    let (hosts, elapsed) = run(cfg, 1000, 10, vec![target(1), target(2)]);
    eprintln!("pair: {elapsed:?}");
    assert_eq!(hosts.len(), 2);
    for h in &hosts {
        assert_all_closed_but_open(h, 1000);
    }
    assert_eq!(
        hosts[0].icmp_rate_limit.map(|r| r.protocol),
        Some(Protocol::Tcp)
    );
    assert_eq!(hosts[1].icmp_rate_limit, None);
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

//! Port-granular `--resume` in the engine, over the simulated network
//! (deterministic): a host given ports an earlier run resolved
//! ([`ScanPlan::known`]) is probed on the others only and reported whole,
//! and the partial hosts a driver hands out while a scan runs
//! ([`Engine::partial_hosts`]) only ever hold ports as the scan resolves
//! them.

use portolan_engine::sim::{SimConfig, SimHost, SimModule, SimNet};
use portolan_engine::{
    run_raw, HostSource, KnownPorts, Observer, ProbeContext, ProbeModule, Scan, ScanPlan,
    TechniquePlan, Timing, ValidationKey,
};
use portolan_model::{HostResult, HostStatus, PortState, Protocol, Reason};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

const OPEN: [u16; 6] = [22, 80, 443, 8080, 40000, 65535];

fn ctx() -> ProbeContext {
    ProbeContext {
        src_v4: Some(Ipv4Addr::new(198, 18, 0, 1)),
        src_v6: None,
        source_port: None,
        key: ValidationKey::from_seed(5),
        ttl: 64,
    }
}

fn host(i: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(198, 18, 1, i))
}

fn plan(known: Option<KnownPorts>) -> ScanPlan {
    let mut p = ScanPlan::new(
        vec![TechniquePlan {
            protocol: Protocol::Tcp,
            ports: (1..=65535).collect(),
            no_reply: SimModule.no_reply(),
        }],
        Timing::default(),
    );
    p.seed = 3;
    p.known = known.map(Arc::new);
    p
}

#[derive(Default)]
struct Watch {
    hosts: Vec<HostResult>,
    partials: Vec<Vec<HostResult>>,
}

impl Observer for Watch {
    fn host(&mut self, host: HostResult) {
        self.hosts.push(host);
    }
    fn wants_partial(&mut self) -> bool {
        true
    }
    fn partial(&mut self, hosts: Vec<HostResult>) {
        self.partials.push(hosts);
    }
}

/// Scans `targets` (hosts 2 and 3 have [`OPEN`] open, the rest closed);
/// returns what the observer saw and the probes sent.
fn run(plan: ScanPlan, targets: Vec<IpAddr>) -> (Watch, u64) {
    let t0 = Instant::now();
    let mut cfg = SimConfig::default();
    cfg.hosts.insert(host(2), SimHost::with_open(&OPEN));
    cfg.hosts.insert(host(3), SimHost::with_open(&OPEN));
    let mut net = SimNet::new(cfg, t0);
    let clock = net.clock();
    let hosts: Box<dyn HostSource> = Box::new(targets);
    let mut scan = Scan::new(plan, hosts, t0);
    let stop = AtomicBool::new(false);
    let m: &dyn ProbeModule = &SimModule;
    let mut watch = Watch::default();
    run_raw(&mut scan, &[m], &ctx(), &mut net, &clock, &stop, &mut watch).unwrap();
    let sent = net.stats().sent;
    (watch, sent)
}

fn ports(h: &HostResult) -> Vec<(u16, PortState, Reason)> {
    let mut v: Vec<_> = h
        .ports
        .iter()
        .map(|p| (p.port, p.state, p.reason))
        .collect();
    v.sort();
    v
}

#[test]
fn known_ports_are_not_probed_and_the_host_is_reported_whole() {
    let (whole, sent_whole) = run(plan(None), vec![host(2)]);
    assert_eq!(whole.hosts.len(), 1);
    let all = &whole.hosts[0];
    assert_eq!(all.ports.len(), 65535);
    assert!(sent_whole >= 65535);
    // Snapshots taken while it ran hold only ports as finally resolved.
    let final_ports: HashMap<u16, (PortState, Reason)> = all
        .ports
        .iter()
        .map(|p| (p.port, (p.state, p.reason)))
        .collect();
    let snapshots: Vec<&HostResult> = whole.partials.iter().flatten().collect();
    assert!(!snapshots.is_empty(), "no partial host was handed out");
    for s in &snapshots {
        assert!(s.incomplete && s.ports.len() < 65535);
        for p in &s.ports {
            assert_eq!(final_ports[&p.port], (p.state, p.reason), "port {}", p.port);
        }
    }

    // Host 2 with its even ports known, host 3 with every port known.
    let mut half = HostResult::new(host(2), HostStatus::Up, Reason::UserSet);
    half.incomplete = true;
    half.ports = all
        .ports
        .iter()
        .filter(|p| p.port % 2 == 0)
        .cloned()
        .collect();
    let mut full = HostResult::new(host(3), HostStatus::Up, Reason::UserSet);
    full.ports = all.ports.clone();
    let known: KnownPorts = [(host(2), half.clone()), (host(3), full)]
        .into_iter()
        .collect();
    let (resumed, sent) = run(plan(Some(known.clone())), vec![host(2)]);
    assert_eq!(ports(&resumed.hosts[0]), ports(all), "the result differs");
    let odd = 65535 - half.ports.len() as u64;
    assert!(
        (odd..odd + 100).contains(&sent),
        "{sent} probes for {odd} unknown ports"
    );
    // A host with every port known is finished without a probe.
    let (done, sent) = run(plan(Some(known)), vec![host(3)]);
    assert_eq!(sent, 0);
    assert_eq!(ports(&done.hosts[0]), ports(all));
    assert!(!done.hosts[0].incomplete);
}

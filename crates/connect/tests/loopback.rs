//! The connect driver against real loopback listeners.

use portolan_connect::{run, ConnectOptions};
use portolan_engine::{Scan, ScanPlan, TechniquePlan, Timing};
use portolan_model::{HostResult, PortState, Protocol, Reason};
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

fn scan_loopback(addr: IpAddr, ports: Vec<u16>) -> Vec<HostResult> {
    let plan = ScanPlan::new(
        vec![TechniquePlan {
            protocol: Protocol::Tcp,
            ports,
            no_reply: (PortState::Filtered, Reason::NoResponse),
        }],
        Timing::template(4).unwrap(),
    );
    let mut scan = Scan::new(plan, Box::new(vec![addr]), Instant::now());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let stop = AtomicBool::new(false);
    let mut hosts = Vec::new();
    rt.block_on(run(
        &mut scan,
        &ConnectOptions::default(),
        &stop,
        &mut |h: HostResult| hosts.push(h),
    ));
    hosts
}

#[test]
fn listeners_are_open_and_the_rest_closed() {
    let listeners: Vec<TcpListener> = (0..5)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap())
        .collect();
    let open: Vec<u16> = listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect();
    // Closed ports: bind and drop, so nothing listens there now. The
    // kernel may hand out the same free port twice; the scan lists each
    // port once, so keep each once here too.
    let mut closed: Vec<u16> = (0..20)
        .map(|_| {
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        })
        .filter(|p| !open.contains(p))
        .collect();
    closed.sort_unstable();
    closed.dedup();
    let mut ports = open.clone();
    ports.extend(&closed);
    let hosts = scan_loopback(IpAddr::V4(Ipv4Addr::LOCALHOST), ports.clone());
    assert_eq!(hosts.len(), 1);
    let h = &hosts[0];
    assert_eq!(h.ports.len(), ports.len());
    for p in &h.ports {
        if open.contains(&p.port) {
            assert_eq!(
                (p.state, p.reason),
                (PortState::Open, Reason::SynAck),
                "port {}",
                p.port
            );
        } else {
            assert_eq!(
                (p.state, p.reason),
                (PortState::Closed, Reason::ConnRefused),
                "port {}",
                p.port
            );
        }
    }
    assert!(h.latency.is_some());
}

#[test]
fn ipv6_loopback_works() {
    let Ok(l) = TcpListener::bind("[::1]:0") else {
        eprintln!("skipped: no IPv6 loopback");
        return;
    };
    let port = l.local_addr().unwrap().port();
    let hosts = scan_loopback("::1".parse().unwrap(), vec![port]);
    assert_eq!(hosts[0].ports[0].state, PortState::Open);
}

//! The benchmark scenarios' testbeds, checked with std sockets instead of
//! portolan: what each scenario expects to be open really is open.

use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

use portolan_testbed::bench::{Prepared, Scenario};
use portolan_testbed::{in_netns, require_root};

fn try_connect(p: &Prepared, addr: SocketAddr, ms: u64, tries: usize) -> std::io::Result<()> {
    in_netns(p.testbed.scanner_ns(), move || {
        let mut last = Ok(());
        for _ in 0..tries {
            last = TcpStream::connect_timeout(&addr, Duration::from_millis(ms)).map(drop);
            if last.is_ok() {
                break;
            }
        }
        last
    })
    .expect("enter scanner namespace")
}

fn expected_all_open(p: &Prepared, tries: usize) {
    let exp = p.expected.as_ref().expect("scenario has expectations");
    for (host, port) in exp.iter() {
        let ip: IpAddr = host.parse().unwrap();
        let r = try_connect(p, SocketAddr::new(ip, *port), 1000, tries);
        assert!(r.is_ok(), "{host}:{port} should be open: {r:?}");
    }
}

#[test]
fn connect_lo_and_syn_veth_setups_have_their_listeners() {
    if !require_root() {
        return;
    }
    for s in [Scenario::ConnectLo, Scenario::SynVeth] {
        let p = s.prepare().unwrap();
        let exp = p.expected.as_ref().unwrap();
        assert_eq!(exp.len(), if s == Scenario::ConnectLo { 30 } else { 31 });
        assert!(p.args.ends_with(&["-oG".to_string(), "-".to_string()]));
        expected_all_open(&p, 1);
        let (host, _) = exp.iter().next().unwrap();
        let closed = SocketAddr::new(host.parse().unwrap(), 9);
        let e = try_connect(&p, closed, 500, 1).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
    }
}

#[test]
fn syn_lossy_setup_is_delayed_and_reachable() {
    if !require_root() {
        return;
    }
    let p = Scenario::SynLossy.prepare().unwrap();
    // 1 % loss each way: allow a retry.
    expected_all_open(&p, 3);
    let (fwd, _) = p.testbed.relay_stats();
    assert!(fwd > 0);
}

#[test]
fn sweep16_setup_answers_on_up_hosts_only() {
    if !require_root() {
        return;
    }
    let p = Scenario::Sweep16.prepare().unwrap();
    let exp = p.expected.as_ref().unwrap();
    assert_eq!(exp.len(), 5042);
    for (host, port) in exp.iter().step_by(500) {
        let r = try_connect(&p, SocketAddr::new(host.parse().unwrap(), *port), 1000, 1);
        assert!(r.is_ok(), "{host} up: {r:?}");
    }
    let down: SocketAddr = "198.19.0.2:80".parse().unwrap();
    let e = try_connect(&p, down, 300, 1).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TimedOut);
}

#[test]
fn mem15_routes_the_whole_range_into_the_testbed() {
    if !require_root() {
        return;
    }
    let p = Scenario::Mem15.prepare().unwrap();
    assert!(p.stop_after.is_some());
    // Not the target: routed to it, dropped there (no forwarding).
    let far: SocketAddr = "198.18.200.1:80".parse().unwrap();
    let e = try_connect(&p, far, 300, 1).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TimedOut);
    let t = SocketAddr::new(IpAddr::V4(p.testbed.target_addr(0)), 9);
    let e = try_connect(&p, t, 500, 1).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
}

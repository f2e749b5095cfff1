//! End-to-end tests of `RawIo` in throwaway network namespaces (root only;
//! skipped with a notice otherwise).

mod common;

use std::net::{IpAddr, TcpListener, UdpSocket};
use std::time::{Duration, Instant};

use common::*;
use portolan_engine::PacketIo;
use portolan_netio::{has_raw_privilege, route_to, NetError, RawConfig, RawIo, PRIVILEGE_HINT};

const OPEN: u16 = 8080;
const CLOSED: u16 = 8081;

/// Receives for up to `within`, until `done` says enough was seen.
fn collect(io: &mut RawIo, within: Duration, done: impl Fn(&[Seen]) -> bool) -> Vec<Seen> {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    while Instant::now() < deadline && !done(&seen) {
        io.recv(Duration::from_millis(50), &mut |p| {
            seen.push(parse(p).expect("the filter passes only IP packets"))
        })
        .expect("recv");
    }
    seen
}

fn addr(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Sends SYNs to an open and a closed port of `target` from the scanner
/// namespace and checks the SYN/ACK and RST come back through the ring.
fn syn_scan_two_ports(target: IpAddr, expect_src: IpAddr, expect_if: &str) -> Vec<Seen> {
    let route = route_to(target, None, None).expect("route");
    assert_eq!(route.src, expect_src, "{route:?}");
    assert_eq!(route.interface, expect_if, "{route:?}");
    let mut io = RawIo::open(&RawConfig::from_route(&route)).expect("open RawIo");
    let p1 = syn(route.src, target, 40000, OPEN, 1);
    let p2 = syn(route.src, target, 40001, CLOSED, 2);
    assert_eq!(io.send(&[&p1, &p2]).expect("send"), 2);
    let seen = collect(&mut io, Duration::from_secs(3), |s| {
        s.iter()
            .any(|x| x.sport == OPEN && x.flags & (SYN | ACK) == SYN | ACK)
            && s.iter().any(|x| x.sport == CLOSED && x.flags & RST != 0)
    });
    eprintln!("{target}: seen {seen:?}");
    let synack = seen
        .iter()
        .find(|x| x.src == target && x.sport == OPEN && x.dport == 40000);
    assert!(
        matches!(synack, Some(x) if x.flags & (SYN | ACK) == SYN | ACK),
        "no SYN/ACK from the open port: {seen:?}"
    );
    let rst = seen
        .iter()
        .find(|x| x.src == target && x.sport == CLOSED && x.dport == 40001);
    assert!(
        matches!(rst, Some(x) if x.flags & RST != 0),
        "no RST from the closed port: {seen:?}"
    );
    for x in &seen {
        assert_eq!(
            x.dst, route.src,
            "the filter passed a packet not for us: {x:?}"
        );
    }
    let stats = io.stats();
    assert_eq!(stats.send.sent, 2);
    assert!(stats.recv.delivered >= 2, "{stats:?}");
    seen
}

#[test]
fn syn_and_rst_replies_over_veth_ipv4() {
    if !root_or_skip("syn_and_rst_replies_over_veth_ipv4") {
        return;
    }
    let tb = Testbed::new();
    let _listener = tb.in_target(|| TcpListener::bind((TARGET_V4, OPEN)).unwrap());
    tb.in_scanner(|| syn_scan_two_ports(addr(TARGET_V4), addr(SCANNER_V4), "va"));
}

#[test]
fn syn_and_rst_replies_over_veth_ipv6() {
    if !root_or_skip("syn_and_rst_replies_over_veth_ipv6") {
        return;
    }
    let tb = Testbed::new();
    let _listener = tb.in_target(|| TcpListener::bind((TARGET_V6, OPEN)).unwrap());
    tb.in_scanner(|| syn_scan_two_ports(addr(TARGET_V6), addr(SCANNER_V6), "va"));
}

#[test]
fn syn_and_rst_replies_over_loopback() {
    if !root_or_skip("syn_and_rst_replies_over_loopback") {
        return;
    }
    let tb = Testbed::new();
    for (target, listen) in [("127.0.0.1", "127.0.0.1"), ("::1", "::1")] {
        let _listener = tb.in_scanner(|| TcpListener::bind((listen, OPEN)).unwrap());
        let seen = tb.in_scanner(|| syn_scan_two_ports(addr(target), addr(target), "lo"));
        // Loopback delivers each probe once as incoming (that copy passes:
        // it is addressed to us) but its outgoing copy must be filtered.
        let own = seen
            .iter()
            .filter(|x| x.dport == OPEN && x.flags == SYN)
            .count();
        assert!(
            own <= 1,
            "outgoing copies of our probe were captured: {seen:?}"
        );
    }
}

#[test]
fn routes_follow_the_kernel_and_the_overrides() {
    if !root_or_skip("routes_follow_the_kernel_and_the_overrides") {
        return;
    }
    let tb = Testbed::new();
    tb.in_scanner(|| {
        let r = route_to(addr(TARGET_V4), None, None).unwrap();
        assert_eq!(
            (r.interface.as_str(), r.src, r.is_loopback),
            ("va", addr(SCANNER_V4), false)
        );
        assert!(r.ifindex > 1);
        let r = route_to(addr(TARGET_V6), None, None).unwrap();
        assert_eq!((r.interface.as_str(), r.src), ("va", addr(SCANNER_V6)));
        // Our own veth address is reached over loopback.
        let r = route_to(addr(SCANNER_V4), None, None).unwrap();
        assert_eq!((r.interface.as_str(), r.is_loopback), ("lo", true), "{r:?}");
        // -S picks the other local address; -e with no route still works.
        let r = route_to(addr(TARGET_V4), None, Some(addr(UNUSED_V4))).unwrap();
        assert_eq!((r.interface.as_str(), r.src), ("va", addr(UNUSED_V4)));
        let r = route_to(addr(TARGET_V4), Some("va"), None).unwrap();
        assert_eq!(r.src, addr(SCANNER_V4));
        // No route at all: the namespace has no default route.
        let e = route_to(addr("198.19.0.1"), None, None).unwrap_err();
        assert!(e.to_string().contains("198.19.0.1"), "{e}");
    });
}

#[test]
fn filter_drops_traffic_for_other_addresses() {
    if !root_or_skip("filter_drops_traffic_for_other_addresses") {
        return;
    }
    let tb = Testbed::new();
    tb.in_scanner(|| {
        let route = route_to(addr(TARGET_V4), None, None).unwrap();
        let mut io = RawIo::open(&RawConfig::from_route(&route)).unwrap();
        // From the target: UDP to an address of the scanner's interface that
        // the scan does not use, and then to the scan's source.
        tb.in_target(|| {
            let u = UdpSocket::bind((TARGET_V4, 5000)).unwrap();
            for _ in 0..3 {
                u.send_to(b"not for the scan", (UNUSED_V4, 9)).unwrap();
            }
            u.send_to(b"for the scan", (SCANNER_V4, 9)).unwrap();
        });
        let seen = collect(&mut io, Duration::from_secs(3), |s| {
            s.iter().any(|x| x.proto == 17)
        });
        assert!(
            seen.iter()
                .any(|x| x.proto == 17 && x.sport == 5000 && x.dst == addr(SCANNER_V4)),
            "the UDP datagram to the scan's source did not arrive: {seen:?}"
        );
        // Drain a little longer: nothing for the unused address may appear.
        let more = collect(&mut io, Duration::from_millis(300), |_| false);
        for x in seen.iter().chain(&more) {
            assert_eq!(x.dst, addr(SCANNER_V4), "filter passed {x:?}");
        }
    });
}

#[test]
fn send_rejects_garbage_without_panicking() {
    if !root_or_skip("send_rejects_garbage_without_panicking") {
        return;
    }
    let tb = Testbed::new();
    tb.in_scanner(|| {
        let mut cfg = RawConfig::new("lo");
        cfg.add_source(addr("127.0.0.1"));
        let mut io = RawIo::open(&cfg).unwrap();
        let good = syn(addr("127.0.0.1"), addr("127.0.0.1"), 40000, CLOSED, 1);
        let v6 = syn(addr("::1"), addr("::1"), 40000, CLOSED, 1);
        let e = io.send(&[&[0xff, 1, 2][..]]).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{e}");
        assert!(io.send(&[&[][..]]).is_err());
        // Good packets before a bad one still go out.
        assert_eq!(io.send(&[&good, &[0x45, 0][..]]).unwrap(), 1);
        // An unrepresentably long timeout waits for the reply, no panic.
        assert!(io.recv(Duration::MAX, &mut |_| {}).unwrap() >= 1);
        // No IPv6 source configured: refused with a reason.
        let e = io.send(&[&v6]).unwrap_err();
        assert!(e.to_string().contains("IPv6"), "{e}");
        assert_eq!(io.send(&[]).unwrap(), 0);
    });
}

#[test]
fn open_errors_name_the_problem() {
    if !root_or_skip("open_errors_name_the_problem") {
        return;
    }
    let e = RawIo::open(&RawConfig::new("lo")).unwrap_err();
    assert!(e.to_string().contains("source"), "{e}");
    let mut cfg = RawConfig::new("no-such-if0");
    cfg.add_source(addr("127.0.0.1"));
    let e = RawIo::open(&cfg).unwrap_err();
    assert!(matches!(e, NetError::UnknownInterface { .. }), "{e}");
    assert!(e.to_string().contains("no-such-if0"), "{e}");
}

/// The unprivileged half of `unprivileged_processes_get_the_capability_hint`:
/// run in a child without capabilities.
#[test]
#[ignore = "run by unprivileged_processes_get_the_capability_hint"]
fn unprivileged_child() {
    if std::env::var_os("PORTOLAN_NETIO_EXPECT_NO_PRIV").is_none() {
        return;
    }
    assert!(!has_raw_privilege());
    let mut cfg = RawConfig::new("lo");
    cfg.add_source(addr("127.0.0.1"));
    let e = RawIo::open(&cfg).unwrap_err();
    assert!(matches!(e, NetError::NoPrivilege), "{e:?}");
    assert_eq!(e.to_string(), PRIVILEGE_HINT);
    assert!(e.to_string().contains("CAP_NET_RAW"));
    assert!(e.to_string().contains("setcap cap_net_raw"));
}

#[test]
fn unprivileged_processes_get_the_capability_hint() {
    if !root_or_skip("unprivileged_processes_get_the_capability_hint") {
        return;
    }
    assert!(has_raw_privilege());
    // Re-run this test binary's `unprivileged_child` as root with every
    // capability dropped from the bounding set (so exec grants none).
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new("setpriv")
        .args(["--bounding-set=-all", "--inh-caps=-all", "--"])
        .arg(exe)
        .args(["--exact", "unprivileged_child", "--ignored", "--nocapture"])
        .env("PORTOLAN_NETIO_EXPECT_NO_PRIV", "1")
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            portolan_testbed::skip(format_args!(
                "capability-drop check: cannot run setpriv: {e}"
            ));
            return;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("1 passed"),
        "child failed: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

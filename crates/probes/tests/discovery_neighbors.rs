//! ARP and Neighbor Discovery pings on a real Ethernet link, run by the
//! engine's driver loop over the link layer: a scanner namespace joined to
//! a target namespace by a veth pair (198.18.n.0/30 and 2001:2:0:n:0::/80,
//! built by portolan-testbed and deleted on drop, also on panic). Frames go
//! through portolan-netio's `FrameIo`. Needs root; skipped, saying so,
//! without it.

use portolan_engine::{
    run, Links, Pipeline, ProbeContext, ProbeModule, ScanPlan, SystemClock, TechniquePlan, Timing,
    ValidationKey,
};
use portolan_model::{HostResult, HostStatus, PortState, Protocol, Reason};
use portolan_netio::{interface_mac, is_ethernet, FrameFilter, FrameIo, NetError};
use portolan_probes::discovery::{ArpSweep, FrameLink, NdSweep, NeighborPing};
use portolan_testbed::{in_netns, require_root, Testbed};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// A neighbour found: address, MAC, reason, latency.
type Found = (IpAddr, [u8; 6], Reason, Option<Duration>);

/// Asks `targets` with `module` over `io` through the engine (`max_retries`
/// retransmissions, the default timing otherwise); returns the neighbours
/// that answered.
fn ask(module: &dyn ProbeModule, io: FrameIo, targets: &[IpAddr], max_retries: u8) -> Vec<Found> {
    let timing = Timing {
        max_retries,
        ..Timing::default()
    };
    let technique = TechniquePlan {
        protocol: Protocol::Tcp,
        ports: vec![0],
        no_reply: module.no_reply(),
    };
    let classify = |mut h: HostResult| {
        let up = h.ports.iter().any(|p| p.state == PortState::Open);
        h.status = if up { HostStatus::Up } else { HostStatus::Down };
        h.ports.clear();
        h
    };
    let mut pipe = Pipeline::new(
        ScanPlan::new(vec![technique], timing),
        Box::new(targets.to_vec()),
        Box::new(classify),
        None,
        std::time::Instant::now(),
    );
    let ctx = ProbeContext {
        src_v4: None,
        src_v6: None,
        source_port: None,
        key: ValidationKey::from_seed(1),
        ttl: 64,
    };
    let mut link = Link(io);
    let mut links = Links::new(None, Some(&mut link), &SystemClock);
    let mut found = Vec::new();
    run(
        &mut pipe,
        &[module],
        &ctx,
        &mut links,
        &SystemClock,
        &AtomicBool::new(false),
        &mut |h: HostResult| {
            if h.status == HostStatus::Up {
                let mac = h.mac.as_ref().map(|m| m.octets).expect("a MAC");
                found.push((h.addr, mac, h.reason, h.latency));
            }
        },
    )
    .expect("run");
    found
}

/// The scanner's end of the veth to target 0.
const SCANNER_IF: &str = "t0";
/// The target's end.
const TARGET_IF: &str = "s0";

struct Link(FrameIo);

impl FrameLink for Link {
    fn send_frames(&mut self, frames: &[&[u8]]) -> io::Result<usize> {
        self.0.send(frames)
    }

    fn recv_frames(
        &mut self,
        timeout: Duration,
        on_frame: &mut dyn FnMut(&[u8]),
    ) -> io::Result<usize> {
        self.0.recv(timeout, on_frame)
    }
}

fn target_mac(tb: &mut Testbed) -> [u8; 6] {
    let ns = tb.target(0).expect("target 0").ns().to_string();
    in_netns(&ns, || interface_mac(TARGET_IF))
        .expect("join target namespace")
        .expect("target MAC")
}

#[test]
fn arp_sweep_finds_the_neighbour_and_nothing_else() {
    if !require_root() {
        return;
    }
    let mut tb = Testbed::new("arpsweep").expect("testbed");
    let (us, them) = (tb.scanner_addr(0), tb.target_addr(0));
    let absent = Ipv4Addr::new(them.octets()[0], them.octets()[1], them.octets()[2], 250);
    let want_mac = target_mac(&mut tb);
    let found: Vec<Found> = in_netns(tb.scanner_ns(), || {
        assert!(is_ethernet(SCANNER_IF).unwrap());
        assert!(!is_ethernet("lo").unwrap());
        assert!(matches!(
            FrameIo::open(
                "lo",
                &FrameFilter {
                    arp_for: Some(us),
                    nd_for: None
                }
            ),
            Err(NetError::Config(_))
        ));
        let io = FrameIo::open(
            SCANNER_IF,
            &FrameFilter {
                arp_for: Some(us),
                nd_for: None,
            },
        )
        .expect("frame socket");
        assert_eq!(io.mac(), interface_mac(SCANNER_IF).unwrap());
        let probe = NeighborPing::new(ArpSweep::new(io.mac(), us));
        ask(&probe, io, &[IpAddr::V4(absent), IpAddr::V4(them)], 1)
    })
    .expect("join scanner namespace");
    assert_eq!(found.len(), 1, "{found:?}");
    let (ip, mac, reason, rtt) = found[0];
    assert_eq!(ip, IpAddr::V4(them));
    assert_eq!(mac, want_mac);
    assert_eq!(reason, Reason::ArpResponse);
    assert!(
        rtt.is_some_and(|r| r < Duration::from_millis(300)),
        "{rtt:?}"
    );
}

#[test]
fn nd_sweep_gets_the_advertisement() {
    if !require_root() {
        return;
    }
    let mut tb = Testbed::new("ndsweep").expect("testbed");
    let (us, them) = (tb.scanner_addr6(0), tb.target_addr6(0));
    let mut o = them.segments();
    o[7] = 0x99;
    let absent = Ipv6Addr::from(o);
    let want_mac = target_mac(&mut tb);
    let found = in_netns(tb.scanner_ns(), || {
        let io = FrameIo::open(
            SCANNER_IF,
            &FrameFilter {
                arp_for: None,
                nd_for: Some(us),
            },
        )
        .expect("frame socket");
        let probe = NeighborPing::new(NdSweep::new(io.mac(), us));
        ask(&probe, io, &[IpAddr::V6(them), IpAddr::V6(absent)], 1)
    })
    .expect("join scanner namespace");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, IpAddr::V6(them));
    assert_eq!(found[0].1, want_mac);
    assert_eq!(found[0].2, Reason::NdResponse);
}

/// The figure: ARP pings of a /24 on one segment within 0.5 s,
/// every up host found and no false one. One address in 13 answers (the
/// target owns them all), the rest stay silent.
#[test]
fn arp_sweep_of_a_slash_24_is_fast_and_exact() {
    if !require_root() {
        return;
    }
    let mut tb = Testbed::new("arp24").expect("testbed");
    let (us, them) = (tb.scanner_addr(0), tb.target_addr(0));
    let [a, b, c, _] = them.octets();
    let us_last = us.octets()[3];
    let target_ns = tb.target(0).expect("target 0").ns().to_string();
    let mut want: Vec<IpAddr> = vec![IpAddr::V4(them)];
    for last in (0..=255u8).step_by(13) {
        let addr = Ipv4Addr::new(a, b, c, last);
        if last == us_last || addr == them || last == 0 || last == 255 {
            continue;
        }
        let st = std::process::Command::new("ip")
            .args(["-n", &target_ns, "addr", "add"])
            .arg(format!("{addr}/32"))
            .args(["dev", TARGET_IF])
            .status()
            .expect("run ip");
        assert!(st.success(), "ip addr add {addr}");
        want.push(IpAddr::V4(addr));
    }
    want.sort();
    let targets: Vec<IpAddr> = (0..=255u8)
        .map(|l| IpAddr::V4(Ipv4Addr::new(a, b, c, l)))
        .filter(|&t| t != IpAddr::V4(us))
        .collect();
    let (found, took) = in_netns(tb.scanner_ns(), || {
        let io = FrameIo::open(
            SCANNER_IF,
            &FrameFilter {
                arp_for: Some(us),
                nd_for: None,
            },
        )
        .expect("frame socket");
        let probe = NeighborPing::new(ArpSweep::new(io.mac(), us));
        let start = std::time::Instant::now();
        let found = ask(&probe, io, &targets, 1);
        (found, start.elapsed())
    })
    .expect("join scanner namespace");
    let mut got: Vec<IpAddr> = found.iter().map(|n| n.0).collect();
    got.sort();
    assert_eq!(got, want);
    eprintln!("ARP sweep of a /24: {} up in {took:?}", got.len());
    assert!(took < Duration::from_millis(500), "took {took:?}");
}

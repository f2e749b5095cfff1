//! ARP and Neighbor Discovery sweeps on a real Ethernet link: a scanner
//! namespace joined to a target namespace by a veth pair (198.18.n.0/30
//! and 2001:2:0:n:0::/80, built by portolan-testbed and deleted on drop,
//! also on panic). Frames go through portolan-netio's `FrameIo`. Needs
//! root; skipped, saying so, without it.

use portolan_model::Reason;
use portolan_netio::{interface_mac, is_ethernet, FrameFilter, FrameIo, NetError};
use portolan_probes::discovery::neighbor::{sweep, Neighbor};
use portolan_probes::discovery::{ArpSweep, FrameLink, NdSweep};
use portolan_testbed::{in_netns, require_root, Testbed};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

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
    let found: Vec<Neighbor> = in_netns(tb.scanner_ns(), || {
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
        let probe = ArpSweep::new(io.mac(), us);
        let mut link = Link(io);
        sweep(
            &probe,
            &mut link,
            &[IpAddr::V4(absent), IpAddr::V4(them)],
            2,
            Duration::from_millis(300),
        )
        .expect("sweep")
    })
    .expect("join scanner namespace");
    assert_eq!(found.len(), 1, "{found:?}");
    let n = found[0];
    assert_eq!(n.reply.ip, IpAddr::V4(them));
    assert_eq!(n.reply.mac, want_mac);
    assert_eq!(n.reply.reason, Reason::ArpResponse);
    assert!(n.rtt < Duration::from_millis(300), "{:?}", n.rtt);
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
        let probe = NdSweep::new(io.mac(), us);
        let mut link = Link(io);
        sweep(
            &probe,
            &mut link,
            &[IpAddr::V6(them), IpAddr::V6(absent)],
            2,
            Duration::from_millis(300),
        )
        .expect("sweep")
    })
    .expect("join scanner namespace");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].reply.ip, IpAddr::V6(them));
    assert_eq!(found[0].reply.mac, want_mac);
    assert_eq!(found[0].reply.reason, Reason::NdResponse);
}

/// The figure: an ARP sweep of a /24 on one segment within 0.5 s,
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
        let probe = ArpSweep::new(io.mac(), us);
        let mut link = Link(io);
        let start = std::time::Instant::now();
        let found =
            sweep(&probe, &mut link, &targets, 2, Duration::from_millis(150)).expect("sweep");
        (found, start.elapsed())
    })
    .expect("join scanner namespace");
    let mut got: Vec<IpAddr> = found.iter().map(|n| n.reply.ip).collect();
    got.sort();
    assert_eq!(got, want);
    eprintln!("ARP sweep of a /24: {} up in {took:?}", got.len());
    assert!(took < Duration::from_millis(500), "took {took:?}");
}

//! Every IP-level discovery probe against real Linux stacks: a scanner
//! namespace joined by veth pairs to a target that answers as a default
//! Linux host (nothing listening) and to one that drops everything
//! (links in 198.18.n.0/24 and 2001:2:0:n::/64, built by portolan-testbed,
//! deleted on drop, also on panic). Probes go out and replies come back
//! through portolan-netio's `RawIo`, as in a scan. The SCTP INIT ping: a
//! target without SCTP in its kernel answers with ICMP protocol
//! unreachable (IPv6: parameter problem, unrecognised next header), which
//! shows it up; one whose nftables drop SCTP stays silent (with SCTP in the
//! kernel the target would answer ABORT instead: that test then skips).
//! Needs root; skipped, saying so, without it.

use portolan_engine::{PacketIo, ProbeContext, ProbeSpec, ValidationKey};
use portolan_model::{PortState, Reason};
use portolan_netio::{RawConfig, RawIo};
use portolan_probes::discovery::{
    ping_module, PingKind, DEFAULT_SCTP_PING_PORT, DEFAULT_UDP_PING_PORT,
};
use portolan_testbed::{in_netns, require_root, Rule, Testbed};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Sends one probe per (kind, target, port) and returns the reason of the
/// first reply the module accepts, or `None` after `wait`.
fn ping(
    io: &mut RawIo,
    ctx: &ProbeContext,
    kind: PingKind,
    dst: IpAddr,
    dport: u16,
    wait: Duration,
) -> Option<Reason> {
    let m = ping_module(kind);
    let mut buf = [0u8; 1500];
    let n = m.build(
        ctx,
        &ProbeSpec {
            dst,
            dport,
            attempt: 0,
        },
        &mut buf,
    );
    assert!(n > 0, "{kind:?} builds for {dst}");
    assert_eq!(io.send(&[&buf[..n]]).expect("send"), 1);
    let end = Instant::now() + wait;
    let mut got = None;
    while got.is_none() {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        io.recv(left, &mut |p| {
            if got.is_none() {
                if let Some(r) = m.classify(ctx, p) {
                    assert_eq!(
                        (r.dst, r.dport, r.state, r.attempt),
                        (dst, dport, PortState::Open, Some(0))
                    );
                    got = Some(r.reason);
                }
            }
        })
        .expect("recv");
    }
    got
}

#[test]
fn ip_pings_against_a_default_host_and_a_silent_one() {
    if !require_root() {
        return;
    }
    let mut tb = Testbed::builder("ipping")
        .targets(2)
        .build()
        .expect("testbed");
    tb.target(1)
        .unwrap()
        .nft_silent()
        .expect("silence target 1");
    let ctx = ProbeContext {
        src_v4: Some(tb.scanner_addr(0)),
        src_v6: Some(tb.scanner_addr6(0)),
        source_port: None,
        key: ValidationKey::from_seed(0xd15c),
        ttl: 64,
    };
    let (t4, t6) = (
        IpAddr::V4(tb.target_addr(0)),
        IpAddr::V6(tb.target_addr6(0)),
    );
    let wait = Duration::from_millis(400);
    let up: Vec<(PingKind, IpAddr, u16, Option<Reason>)> = vec![
        (PingKind::Echo, t4, 0, Some(Reason::EchoReply)),
        (PingKind::Echo, t6, 0, Some(Reason::EchoReply)),
        (PingKind::Timestamp, t4, 0, Some(Reason::TimestampReply)),
        // Linux does not answer address mask requests.
        (PingKind::AddressMask, t4, 0, None),
        (PingKind::TcpSyn, t4, 443, Some(Reason::Reset)),
        (PingKind::TcpSyn, t6, 443, Some(Reason::Reset)),
        (PingKind::TcpAck, t4, 80, Some(Reason::Reset)),
        (PingKind::TcpAck, t6, 80, Some(Reason::Reset)),
        (
            PingKind::Udp,
            t4,
            DEFAULT_UDP_PING_PORT,
            Some(Reason::PortUnreach),
        ),
        (
            PingKind::Udp,
            t6,
            DEFAULT_UDP_PING_PORT,
            Some(Reason::PortUnreach),
        ),
    ];
    let silent = IpAddr::V4(tb.target_addr(1));
    let ctx1 = ProbeContext {
        src_v4: Some(tb.scanner_addr(1)),
        ..ctx.clone()
    };
    let (got_up, got_silent) = in_netns(tb.scanner_ns(), || {
        let mut cfg = RawConfig::new("t0");
        cfg.add_source(ctx.src_v4.unwrap().into());
        cfg.add_source(ctx.src_v6.unwrap().into());
        cfg.send_threads = 0;
        let mut io = RawIo::open(&cfg).expect("raw sockets");
        let got_up: Vec<Option<Reason>> = up
            .iter()
            .map(|&(k, dst, port, _)| ping(&mut io, &ctx, k, dst, port, wait))
            .collect();
        let mut cfg = RawConfig::new("t1");
        cfg.add_source(ctx1.src_v4.unwrap().into());
        cfg.send_threads = 0;
        let mut io = RawIo::open(&cfg).expect("raw sockets");
        let got_silent: Vec<Option<Reason>> = [PingKind::Echo, PingKind::TcpSyn, PingKind::Udp]
            .iter()
            .map(|&k| ping(&mut io, &ctx1, k, silent, 443, Duration::from_millis(200)))
            .collect();
        (got_up, got_silent)
    })
    .expect("join scanner namespace");
    for ((kind, dst, port, want), got) in up.iter().zip(&got_up) {
        assert_eq!(got, want, "{kind:?} to {dst} port {port}");
    }
    assert_eq!(got_silent, vec![None, None, None], "silent host");
}

/// Whether this kernel speaks SCTP (then INITs draw ABORTs, not ICMP).
fn kernel_has_sctp() -> bool {
    std::path::Path::new("/proc/net/sctp").exists()
}

#[test]
fn init_draws_protocol_unreachable_from_a_host_without_sctp() {
    if !require_root() {
        return;
    }
    if !portolan_testbed::skip_unless(
        !kernel_has_sctp(),
        "this kernel speaks SCTP, so targets answer ABORT, not ICMP",
    ) {
        return;
    }
    let mut tb = Testbed::builder("sctpping")
        .targets(2)
        .build()
        .expect("testbed");
    tb.target(1)
        .unwrap()
        .nft(Rule::Raw {
            output: false,
            text: "meta l4proto sctp drop".to_string(),
        })
        .expect("drop SCTP on target 1");
    let ctx = ProbeContext {
        src_v4: Some(tb.scanner_addr(0)),
        src_v6: Some(tb.scanner_addr6(0)),
        source_port: None,
        key: ValidationKey::from_seed(0x5c7b),
        ttl: 64,
    };
    let ctx1 = ProbeContext {
        src_v4: Some(tb.scanner_addr(1)),
        src_v6: Some(tb.scanner_addr6(1)),
        ..ctx.clone()
    };
    let up = [
        IpAddr::V4(tb.target_addr(0)),
        IpAddr::V6(tb.target_addr6(0)),
    ];
    let dropped = [
        IpAddr::V4(tb.target_addr(1)),
        IpAddr::V6(tb.target_addr6(1)),
    ];
    const SCTP: PingKind = PingKind::SctpInit;
    let (wait, quiet) = (Duration::from_millis(500), Duration::from_millis(300));
    let (got_up, got_dropped) = in_netns(tb.scanner_ns(), || {
        let open = |dev: &str, c: &ProbeContext| {
            let mut cfg = RawConfig::new(dev);
            cfg.add_source(c.src_v4.unwrap().into());
            cfg.add_source(c.src_v6.unwrap().into());
            cfg.send_threads = 0;
            RawIo::open(&cfg).expect("raw sockets")
        };
        let mut io = open("t0", &ctx);
        let got_up: Vec<Option<Reason>> = up
            .iter()
            .map(|&d| ping(&mut io, &ctx, SCTP, d, DEFAULT_SCTP_PING_PORT, wait))
            .collect();
        let mut io = open("t1", &ctx1);
        let got_dropped: Vec<Option<Reason>> = dropped
            .iter()
            .map(|&d| ping(&mut io, &ctx1, SCTP, d, DEFAULT_SCTP_PING_PORT, quiet))
            .collect();
        (got_up, got_dropped)
    })
    .expect("join scanner namespace");
    assert_eq!(
        got_up,
        vec![Some(Reason::ProtoUnreach), Some(Reason::ProtoUnreach)],
        "a host without SCTP"
    );
    assert_eq!(got_dropped, vec![None, None], "a host that drops SCTP");
}

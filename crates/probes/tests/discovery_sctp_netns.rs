//! The SCTP INIT ping against real Linux stacks: a target without SCTP
//! in its kernel answers an INIT with ICMP protocol unreachable (IPv6:
//! parameter problem, unrecognised next header), which shows it up; a
//! target whose nftables drop SCTP stays silent. The testbed (from
//! portolan-testbed) is deleted on drop, also on panic. Needs root, and a
//! kernel without SCTP (with it, the target would answer ABORT instead);
//! skipped, saying so, otherwise.

use portolan_engine::{PacketIo, ProbeContext, ProbeModule, ProbeSpec, ValidationKey};
use portolan_model::{PortState, Reason};
use portolan_netio::{RawConfig, RawIo};
use portolan_probes::discovery::{SctpPing, DEFAULT_SCTP_PING_PORT};
use portolan_testbed::{in_netns, require_root, Rule, Testbed};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Whether this kernel speaks SCTP (then INITs draw ABORTs, not ICMP).
fn kernel_has_sctp() -> bool {
    std::path::Path::new("/proc/net/sctp").exists()
}

/// Sends one INIT and returns the reason of the first accepted reply.
fn ping(io: &mut RawIo, ctx: &ProbeContext, dst: IpAddr, wait: Duration) -> Option<Reason> {
    let m = SctpPing::new();
    let mut buf = [0u8; 1500];
    let spec = ProbeSpec {
        dst,
        dport: DEFAULT_SCTP_PING_PORT,
        attempt: 0,
    };
    let n = m.build(ctx, &spec, &mut buf);
    assert!(n > 0, "builds for {dst}");
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
                        (dst, DEFAULT_SCTP_PING_PORT, PortState::Open, Some(0))
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
fn init_draws_protocol_unreachable_from_a_host_without_sctp() {
    if !require_root() {
        return;
    }
    if kernel_has_sctp() {
        eprintln!("SKIP: this kernel speaks SCTP, so targets answer ABORT, not ICMP");
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
            .map(|&d| ping(&mut io, &ctx, d, Duration::from_millis(500)))
            .collect();
        let mut io = open("t1", &ctx1);
        let got_dropped: Vec<Option<Reason>> = dropped
            .iter()
            .map(|&d| ping(&mut io, &ctx1, d, Duration::from_millis(300)))
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

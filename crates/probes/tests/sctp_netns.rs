//! The SCTP INIT scan (`-sY`) against real Linux stacks in network
//! namespaces (links in 198.18.n.0/24 and 2001:2:0:n::/64, built by
//! portolan-testbed, deleted on drop, also on panic): a target without SCTP
//! in its kernel answers the INIT with ICMP protocol unreachable (IPv6:
//! parameter problem, unrecognised next header), which the scan's rules read
//! as filtered (`proto-unreach`); one whose nftables reject SCTP with
//! "administratively prohibited" is filtered (`admin-prohibited`); one that
//! drops SCTP stays silent, which the module's no-reply rule calls
//! filtered (`no-response`). With SCTP in the kernel the targets would
//! answer ABORT instead: the test then skips. Needs root; skipped, saying
//! so, without it.

use portolan_engine::{PacketIo, ProbeContext, ProbeModule, ProbeSpec, ValidationKey};
use portolan_model::{PortState, Reason};
use portolan_netio::{RawConfig, RawIo};
use portolan_probes::sctp::SctpInitScan;
use portolan_testbed::{in_netns, require_root, Rule, Testbed};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Sends one INIT and returns the state and reason of the first reply the
/// module accepts, or `None` after `wait`.
fn scan_one(
    io: &mut RawIo,
    ctx: &ProbeContext,
    dst: IpAddr,
    dport: u16,
    wait: Duration,
) -> Option<(PortState, Reason)> {
    let m = SctpInitScan::new();
    let mut buf = [0u8; 1500];
    let spec = ProbeSpec {
        dst,
        dport,
        attempt: 0,
    };
    let n = m.build(ctx, &spec, &mut buf);
    assert!(n > 0, "INIT builds for {dst}");
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
                    assert_eq!((r.dst, r.dport, r.attempt), (dst, dport, Some(0)));
                    got = Some((r.state, r.reason));
                }
            }
        })
        .expect("recv");
    }
    got
}

#[test]
fn init_scan_reads_real_stacks_and_filters() {
    if !require_root() {
        return;
    }
    if std::path::Path::new("/proc/net/sctp").exists() {
        eprintln!("SKIP: this kernel speaks SCTP, so targets answer ABORT, not ICMP");
        return;
    }
    let mut tb = Testbed::builder("sctpscan")
        .targets(3)
        .build()
        .expect("testbed");
    let t1 = tb.target(1).unwrap();
    for text in [
        "meta nfproto ipv4 meta l4proto sctp reject with icmp type admin-prohibited",
        "meta nfproto ipv6 meta l4proto sctp reject with icmpv6 type admin-prohibited",
    ] {
        t1.nft(Rule::Raw {
            output: false,
            text: text.to_string(),
        })
        .expect("reject SCTP on target 1");
    }
    tb.target(2)
        .unwrap()
        .nft(Rule::Raw {
            output: false,
            text: "meta l4proto sctp drop".to_string(),
        })
        .expect("drop SCTP on target 2");
    let ctx_for = |i: usize| ProbeContext {
        src_v4: Some(tb.scanner_addr(i)),
        src_v6: Some(tb.scanner_addr6(i)),
        source_port: None,
        key: ValidationKey::from_seed(0x5c7 + i as u64),
        ttl: 64,
    };
    let targets = |i: usize| {
        [
            IpAddr::V4(tb.target_addr(i)),
            IpAddr::V6(tb.target_addr6(i)),
        ]
    };
    let want = [
        Some((PortState::Filtered, Reason::ProtoUnreach)),
        Some((PortState::Filtered, Reason::AdminProhibited)),
        None,
    ];
    let got: Vec<Vec<Option<(PortState, Reason)>>> = in_netns(tb.scanner_ns(), || {
        (0..3)
            .map(|i| {
                let ctx = ctx_for(i);
                let mut cfg = RawConfig::new(format!("t{i}"));
                cfg.add_source(ctx.src_v4.unwrap().into());
                cfg.add_source(ctx.src_v6.unwrap().into());
                cfg.send_threads = 0;
                let mut io = RawIo::open(&cfg).expect("raw sockets");
                let wait = Duration::from_millis(if want[i].is_some() { 500 } else { 300 });
                targets(i)
                    .iter()
                    .map(|&d| scan_one(&mut io, &ctx, d, 2905, wait))
                    .collect()
            })
            .collect()
    })
    .expect("join scanner namespace");
    for (i, w) in want.iter().enumerate() {
        assert_eq!(got[i], vec![*w, *w], "target {i}");
    }
    assert_eq!(
        SctpInitScan::new().no_reply(),
        (PortState::Filtered, Reason::NoResponse)
    );
}

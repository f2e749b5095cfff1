//! UDP reply validation: only datagrams and ICMP errors that match a probe
//! of this scan (keyed source port, addresses, probed port) are accepted;
//! our own probes seen on loopback, stale and spoofed packets and garbage
//! are dropped without a panic.

mod common;
mod udp_support;

use common::*;
use portolan_engine::{ProbeContext, ProbeSpec, ValidationKey};
use portolan_model::{PortState, Reason};
use portolan_packet::{IcmpError, IcmpErrorKind, TcpFlags, TcpProbe};
use portolan_probes::tcp::{ProbeNumbers, SPORT_END, SPORT_MIN};
use portolan_probes::{tcp_module, udp_module, TcpScanKind};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use udp_support::*;

#[test]
fn source_port_and_ip_id_carry_the_hash() {
    let ctx = ctx();
    let m = udp_module();
    for target in TARGETS {
        for attempt in [0u8, 3, 15, 16, 200] {
            let p = send_udp(m.as_ref(), &ctx, target, 123, attempt);
            let n = ProbeNumbers::from_hash(ctx.key.hash(p.src, target, 123));
            assert_eq!(p.sport, n.sport(attempt));
            assert!((SPORT_MIN..SPORT_END).contains(&p.sport));
            if target.is_ipv4() {
                let id = u16::from_be_bytes([p.bytes[4], p.bytes[5]]);
                assert_eq!(id, n.ip_id.wrapping_add(u16::from(attempt)));
            }
        }
    }
}

#[test]
fn replies_from_elsewhere_or_to_another_port_are_rejected() {
    let ctx = ctx();
    let m = udp_module();
    for target in TARGETS {
        let p = send_udp(m.as_ref(), &ctx, target, 53, 0);
        assert!(m.classify(&ctx, &udp_reply(&p, b"ok", 64)).is_some());
        // From another port of the target (not a reply-from-any-port service).
        assert_eq!(m.classify(&ctx, &udp_reply_from(&p, 54, b"ok", 64)), None);
        // To one of our ports that is not this probe's.
        let mut q = p.clone();
        q.sport = p.sport.wrapping_add(16);
        assert_eq!(m.classify(&ctx, &udp_reply(&q, b"ok", 64)), None);
        // From another host, spoofing the target's port.
        let mut q = p.clone();
        q.dst = router_for(target);
        assert_eq!(m.classify(&ctx, &udp_reply(&q, b"ok", 64)), None);
        // To an address that is not ours.
        let mut q = p.clone();
        q.src = router_for(target);
        assert_eq!(m.classify(&ctx, &udp_reply(&q, b"ok", 64)), None);
        // A stale reply to an earlier scan (another key).
        let old = ctx_with(ValidationKey::from_seed(99), None);
        let stale = send_udp(m.as_ref(), &old, target, 53, 0);
        assert_eq!(m.classify(&ctx, &udp_reply(&stale, b"ok", 64)), None);
        assert_eq!(m.classify(&ctx, &port_unreach(&stale, 64)), None);
    }
}

#[test]
fn icmp_errors_must_quote_our_udp_probe() {
    let ctx = ctx();
    let m = udp_module();
    for target in TARGETS {
        let p = send_udp(m.as_ref(), &ctx, target, 500, 1);
        let code = if target.is_ipv4() { 3 } else { 4 };
        // A quote with too few bytes to hold the ports says nothing.
        assert_eq!(
            m.classify(&ctx, &unreach_from(&p, target, code, 2, 64)),
            None
        );
        // Another source port quoted.
        let mut q = p.clone();
        let hl = if target.is_ipv4() { 20 } else { 40 };
        q.bytes[hl] ^= 0x40;
        assert_eq!(
            m.classify(&ctx, &unreach_from(&q, target, code, 8, 64)),
            None
        );
        // A TCP probe to the same port, quoted in a port unreachable.
        let tcp = tcp_module(TcpScanKind::Syn, None);
        let mut buf = [0u8; 1500];
        let spec = ProbeSpec {
            dst: target,
            dport: 500,
            attempt: 1,
        };
        let n = tcp.build(&ctx, &spec, &mut buf);
        let mut t = p.clone();
        t.bytes = buf[..n].to_vec();
        assert_eq!(
            m.classify(&ctx, &unreach_from(&t, target, code, 8, 64)),
            None
        );
        // Sent to someone else (the quoted source is not the receiver).
        let mut buf = [0u8; 1500];
        let n = IcmpError {
            src: target,
            dst: router_for(target),
            ttl: 64,
            ip_id: 0,
            kind: IcmpErrorKind::Unreach { code },
            quoted: &p.bytes,
        }
        .emit(&mut buf)
        .unwrap();
        assert_eq!(m.classify(&ctx, &buf[..n]), None);
        // Not an unreachable: time exceeded about the probe.
        let n = IcmpError {
            src: router_for(target),
            dst: p.src,
            ttl: 64,
            ip_id: 0,
            kind: IcmpErrorKind::TimeExceeded { code: 0 },
            quoted: &p.bytes,
        }
        .emit(&mut buf)
        .unwrap();
        assert_eq!(m.classify(&ctx, &buf[..n]), None);
    }
}

/// A scan of this machine over loopback: our address is the target's.
fn loopback_ctx(source_port: Option<u16>) -> ProbeContext {
    let mut c = ctx_with(ValidationKey::from_seed(0x10), source_port);
    c.src_v4 = Some(Ipv4Addr::LOCALHOST);
    c.src_v6 = Some(Ipv6Addr::LOCALHOST);
    c
}

const LOOPBACKS: [IpAddr; 2] = [
    IpAddr::V4(Ipv4Addr::LOCALHOST),
    IpAddr::V6(Ipv6Addr::LOCALHOST),
];

#[test]
fn our_own_probes_seen_on_loopback_are_not_replies() {
    let m = udp_module();
    for g in [None, Some(53u16), Some(40000)] {
        let ctx = loopback_ctx(g);
        for lo in LOOPBACKS {
            for port in [53u16, 7, 33000, 40000, 60000] {
                for attempt in [0u8, 1, 9] {
                    let p = send_udp(m.as_ref(), &ctx, lo, port, attempt);
                    assert_eq!(m.classify(&ctx, &p.bytes), None, "{g:?} {lo} {port}");
                    // While the genuine answer still counts (with -g, unless
                    // the probe's port is -g's own: then they look alike).
                    if g != Some(port) {
                        let r = m.classify(&ctx, &udp_reply(&p, b"hi", 64));
                        assert_eq!(r.map(|r| r.dport), Some(port), "{g:?} {lo} {port}");
                    }
                }
            }
        }
    }
}

#[test]
fn our_kernels_unreachable_about_a_reply_is_not_about_a_probe() {
    // The target answers; with no socket on the scanner's port our own
    // kernel sends a port unreachable quoting that answer. On loopback it
    // is captured too, and must not read as the target closing a port.
    let m = udp_module();
    for g in [None, Some(40000u16)] {
        let ctx = loopback_ctx(g);
        for lo in LOOPBACKS {
            for port in [53u16, 33001, 45000, 60999] {
                let p = send_udp(m.as_ref(), &ctx, lo, port, 0);
                let reply = udp_reply(&p, b"answer", 64);
                let hl = if lo.is_ipv4() { 20 } else { 40 };
                let mut r = p.clone();
                r.bytes = reply;
                let code = if lo.is_ipv4() { 3 } else { 4 };
                // (Our kernel is at the same address as the target here.)
                let icmp = unreach_from(&r, lo, code, 8 + hl, 64);
                assert_eq!(m.classify(&ctx, &icmp), None, "{g:?} {lo} {port}");
                // The target's own unreachable about our probe is accepted.
                let r = m.classify(&ctx, &port_unreach(&p, 64)).unwrap();
                assert_eq!((r.dport, r.state), (port, PortState::Closed));
            }
        }
    }
}

#[test]
fn fixed_source_port_is_used_and_attempt_is_unknown() {
    let ctx = ctx_with(ValidationKey::from_seed(7), Some(53));
    let m = udp_module();
    for target in TARGETS {
        let p = send_udp(m.as_ref(), &ctx, target, 161, 4);
        assert_eq!(p.sport, 53);
        let r = m.classify(&ctx, &udp_reply(&p, b"x", 64)).unwrap();
        assert_eq!(
            (r.dport, r.attempt, r.reason),
            (161, None, Reason::UdpResponse)
        );
        let r = m.classify(&ctx, &port_unreach(&p, 64)).unwrap();
        assert_eq!(
            (r.dport, r.attempt, r.reason),
            (161, None, Reason::PortUnreach)
        );
        let mut q = p.clone();
        q.sport = 54;
        assert_eq!(m.classify(&ctx, &udp_reply(&q, b"x", 64)), None);
    }
}

#[test]
fn no_source_address_of_the_family_builds_nothing() {
    let mut ctx = ctx();
    ctx.src_v6 = None;
    let m = udp_module();
    let mut buf = [0u8; 1500];
    let spec = ProbeSpec {
        dst: TARGET_V6,
        dport: 53,
        attempt: 0,
    };
    assert_eq!(m.build(&ctx, &spec, &mut buf), 0);
    // A buffer too small for the payload builds nothing rather than panic.
    let spec = ProbeSpec {
        dst: TARGET_V4,
        dport: 67,
        attempt: 0,
    };
    assert_eq!(m.build(&ctx, &spec, &mut buf[..100]), 0);
}

#[test]
fn tcp_segments_are_not_udp_replies() {
    let ctx = ctx();
    let m = udp_module();
    let p = send_udp(m.as_ref(), &ctx, TARGET_V4, 53, 0);
    let mut buf = [0u8; 1500];
    let n = TcpProbe {
        src: p.dst,
        dst: p.src,
        ttl: 64,
        ip_id: 1,
        sport: 53,
        dport: p.sport,
        seq: 1,
        ack: 0,
        flags: TcpFlags::RST,
        window: 0,
        options: &[],
    }
    .emit(&mut buf)
    .unwrap();
    assert_eq!(m.classify(&ctx, &buf[..n]), None);
}

#[test]
fn truncated_replies_are_ignored() {
    let ctx = ctx();
    let m = udp_module();
    for target in TARGETS {
        let p = send_udp(m.as_ref(), &ctx, target, 53, 0);
        for pkt in [udp_reply(&p, b"0123456789", 64), port_unreach(&p, 64)] {
            for cut in 0..pkt.len() {
                // Any prefix: rejected or (for ICMP quotes) still about us.
                if let Some(r) = m.classify(&ctx, &pkt[..cut]) {
                    assert_eq!((r.dst, r.dport), (target, 53));
                }
            }
        }
    }
}

proptest! {
    #[test]
    fn garbage_never_classifies_or_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let ctx = ctx();
        prop_assert!(udp_module().classify(&ctx, &bytes).is_none());
    }

    #[test]
    fn corrupted_replies_never_panic(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        which in 0usize..4,
    ) {
        let ctx = ctx();
        let m = udp_module();
        let target = TARGETS[which % 2];
        let p = send_udp(m.as_ref(), &ctx, target, 53, 0);
        let mut pkt = if which < 2 { udp_reply(&p, b"abc", 64) } else { port_unreach(&p, 64) };
        for (at, x) in flips {
            let i = at % pkt.len();
            pkt[i] ^= x;
        }
        if let Some(r) = m.classify(&ctx, &pkt) {
            prop_assert_eq!(r.dst, target);
        }
    }

    #[test]
    fn every_probe_round_trips(port in 1u16.., attempt in any::<u8>(), v6 in any::<bool>(), seed in any::<u64>()) {
        let ctx = ctx_with(ValidationKey::from_seed(seed), None);
        let m = udp_module();
        let target = TARGETS[usize::from(v6)];
        let p = send_udp(m.as_ref(), &ctx, target, port, attempt);
        let r = m.classify(&ctx, &udp_reply(&p, b"x", 64)).unwrap();
        prop_assert_eq!((r.dst, r.dport, r.attempt), (target, port, Some(attempt % 16)));
        let r = m.classify(&ctx, &port_unreach(&p, 64)).unwrap();
        prop_assert_eq!((r.dport, r.state), (port, PortState::Closed));
        prop_assert!(m.classify(&ctx, &p.bytes).is_none());
    }
}

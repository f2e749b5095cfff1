//! The SCTP INIT ping (`-PY`) against replies crafted the way real stacks
//! send them: INIT ACK, ABORT and the target's protocol unreachable show
//! the host up with nmap's reasons; other ICMP errors, third parties,
//! wrong tags, ports and keys are dropped; hostile bytes never panic.

use portolan_engine::{ProbeContext, ProbeModule, ProbeSpec, ValidationKey};
use portolan_model::{PortState, Reason};
use portolan_packet::sctp::{chunk, InitChunk, SctpPacket, FLAG_T};
use portolan_packet::{ipv4, ipv6, parse, IcmpError, IcmpErrorKind, Parsed, SctpProbe};
use portolan_probes::discovery::{ping_module, PingKind, SctpPing, DEFAULT_SCTP_PING_PORT};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const US4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const T4: Ipv4Addr = Ipv4Addr::new(198, 18, 3, 4);
const ROUTER4: Ipv4Addr = Ipv4Addr::new(198, 19, 255, 254);

fn us6() -> Ipv6Addr {
    "2001:2::1".parse().unwrap()
}
fn t6() -> Ipv6Addr {
    "2001:2::3:4".parse().unwrap()
}
fn targets() -> [IpAddr; 2] {
    [IpAddr::V4(T4), IpAddr::V6(t6())]
}

fn ctx(seed: u64) -> ProbeContext {
    ProbeContext {
        src_v4: Some(US4),
        src_v6: Some(us6()),
        source_port: None,
        key: ValidationKey::from_seed(seed),
        ttl: 61,
    }
}

fn build(c: &ProbeContext, dst: IpAddr, dport: u16, attempt: u8) -> Vec<u8> {
    let mut buf = [0u8; 1500];
    let n = SctpPing::new().build(
        c,
        &ProbeSpec {
            dst,
            dport,
            attempt,
        },
        &mut buf,
    );
    buf[..n].to_vec()
}

/// The probe's (src, dst, sport, dport, initiate tag).
fn fields(probe: &[u8]) -> (IpAddr, IpAddr, u16, u16, u32) {
    let Ok(Parsed::Sctp {
        src,
        dst,
        sport,
        dport,
        vtag: 0,
        chunk: chunk::INIT,
        initiate_tag: Some(tag),
        ..
    }) = parse(probe)
    else {
        panic!("an SCTP INIT with a zero verification tag");
    };
    (src, dst, sport, dport, tag)
}

/// A reply from the target: one chunk of `chunk_type` with `flags`, in a
/// packet whose verification tag is `vtag`.
fn sctp_reply(probe: &[u8], chunk_type: u8, flags: u8, vtag: u32) -> Vec<u8> {
    let (src, dst, sport, dport, _) = fields(probe);
    let ack;
    let chunks: &[u8] = if chunk_type == chunk::INIT_ACK {
        ack = InitChunk {
            initiate_tag: 0x5eed,
            a_rwnd: 65536,
            outbound_streams: 10,
            inbound_streams: 10,
            initial_tsn: 1,
        }
        .to_bytes(chunk::INIT_ACK);
        &ack
    } else {
        &[chunk_type, flags, 0, 4][..]
    };
    let mut b = [0u8; 200];
    let n = SctpProbe {
        src: dst,
        dst: src,
        ttl: 64,
        ip_id: 0,
        sport: dport,
        dport: sport,
        vtag,
        chunks,
    }
    .emit(&mut b)
    .unwrap();
    b[..n].to_vec()
}

/// An ICMP error from `sender` quoting `quote` bytes of `probe`.
fn icmp_error(probe: &[u8], sender: IpAddr, kind: IcmpErrorKind, quote: usize) -> Vec<u8> {
    let (src, ..) = fields(probe);
    let mut b = [0u8; 1500];
    let n = IcmpError {
        src: sender,
        dst: src,
        ttl: 63,
        ip_id: 0,
        kind,
        quoted: &probe[..quote.min(probe.len())],
    }
    .emit(&mut b)
    .unwrap();
    b[..n].to_vec()
}

fn proto_unreach(v6: bool) -> IcmpErrorKind {
    if v6 {
        IcmpErrorKind::ParamProblem { code: 1 }
    } else {
        IcmpErrorKind::Unreach { code: 2 }
    }
}

fn ip_len(dst: IpAddr) -> usize {
    if dst.is_ipv4() {
        ipv4::HEADER_LEN
    } else {
        ipv6::HEADER_LEN
    }
}

#[test]
fn probe_is_a_valid_init_with_a_hashed_tag() {
    let c = ctx(1);
    for dst in targets() {
        let p = build(&c, dst, 80, 0);
        let s = SctpPacket::new_checked(&p[ip_len(dst)..]).unwrap();
        assert!(s.verify_checksum());
        assert_eq!(s.vtag(), 0);
        let init = InitChunk::from_value(s.chunk_value()).unwrap();
        assert_ne!(init.initiate_tag, 0);
        assert_ne!(init.outbound_streams, 0);
        assert_ne!(init.inbound_streams, 0);
        // Another key or port gives other numbers; the same gives the same.
        assert_eq!(p, build(&c, dst, 80, 0));
        assert_ne!(fields(&p).4, fields(&build(&ctx(2), dst, 80, 0)).4);
        assert_ne!(fields(&p).4, fields(&build(&c, dst, 81, 0)).4);
        // Retries use the next source port.
        assert_eq!(fields(&build(&c, dst, 80, 1)).2, fields(&p).2 + 1);
    }
}

#[test]
fn init_ack_abort_and_proto_unreach_show_the_host_up() {
    let c = ctx(3);
    let m = SctpPing::new();
    for dst in targets() {
        let p = build(&c, dst, 80, 2);
        let tag = fields(&p).4;
        let cases = [
            (sctp_reply(&p, chunk::INIT_ACK, 0, tag), Reason::InitAck, 64),
            (sctp_reply(&p, chunk::ABORT, 0, tag), Reason::Abort, 64),
            (sctp_reply(&p, chunk::ABORT, FLAG_T, 0), Reason::Abort, 64),
            (
                icmp_error(&p, dst, proto_unreach(dst.is_ipv6()), 1500),
                Reason::ProtoUnreach,
                63,
            ),
            (
                icmp_error(&p, dst, proto_unreach(dst.is_ipv6()), ip_len(dst) + 8),
                Reason::ProtoUnreach,
                63,
            ),
        ];
        for (reply, reason, ttl) in cases {
            let r = m.classify(&c, &reply).unwrap_or_else(|| panic!("{reason}"));
            assert_eq!(
                (r.dst, r.dport, r.attempt, r.state, r.reason, r.ttl),
                (dst, 80, Some(2), PortState::Open, reason, ttl)
            );
        }
    }
    assert_eq!(Reason::InitAck.as_str(), "init-ack");
    assert_eq!(Reason::Abort.as_str(), "abort");
}

#[test]
fn wrong_tags_ports_keys_and_chunks_are_dropped() {
    let c = ctx(4);
    let m = SctpPing::new();
    for dst in targets() {
        let p = build(&c, dst, 80, 0);
        let tag = fields(&p).4;
        for reply in [
            sctp_reply(&p, chunk::INIT_ACK, 0, tag ^ 1),
            sctp_reply(&p, chunk::INIT_ACK, 0, 0),
            sctp_reply(&p, chunk::ABORT, 0, tag.wrapping_add(1)),
            // T bit set but a tag that is not the reflected 0.
            sctp_reply(&p, chunk::ABORT, FLAG_T, 7),
            // A chunk that proves nothing.
            sctp_reply(&p, chunk::HEARTBEAT, 0, tag),
            sctp_reply(&p, chunk::SHUTDOWN_COMPLETE, FLAG_T, 0),
        ] {
            assert_eq!(m.classify(&c, &reply), None);
        }
        // Another scan's key.
        let ok = sctp_reply(&p, chunk::INIT_ACK, 0, tag);
        assert!(m.classify(&c, &ok).is_some());
        assert_eq!(m.classify(&ctx(5), &ok), None);
        // Our own probe, seen on loopback.
        assert_eq!(m.classify(&c, &p), None);
        // A reply to a port we did not send from.
        let mut other = p.clone();
        let hl = ip_len(dst);
        let sport = u16::from_be_bytes([other[hl], other[hl + 1]]).wrapping_add(16);
        other[hl..hl + 2].copy_from_slice(&sport.to_be_bytes());
        let moved = sctp_reply(&other, chunk::INIT_ACK, 0, tag);
        assert_eq!(m.classify(&c, &moved), None);
    }
}

#[test]
fn other_icmp_errors_and_third_parties_are_ignored() {
    let c = ctx(6);
    let m = SctpPing::new();
    for dst in targets() {
        let v6 = dst.is_ipv6();
        let p = build(&c, dst, 80, 0);
        let router = if v6 {
            IpAddr::V6("2001:2::ffff".parse().unwrap())
        } else {
            IpAddr::V4(ROUTER4)
        };
        // Protocol unreachable from a router: says nothing about the host.
        assert_eq!(
            m.classify(&c, &icmp_error(&p, router, proto_unreach(v6), 1500)),
            None
        );
        // Other errors from the target itself: not "up" either.
        let others: &[IcmpErrorKind] = if v6 {
            &[
                IcmpErrorKind::Unreach { code: 0 },
                IcmpErrorKind::Unreach { code: 1 },
                IcmpErrorKind::Unreach { code: 3 },
                IcmpErrorKind::Unreach { code: 4 },
                IcmpErrorKind::ParamProblem { code: 0 },
                IcmpErrorKind::TimeExceeded { code: 0 },
            ]
        } else {
            &[
                IcmpErrorKind::Unreach { code: 0 },
                IcmpErrorKind::Unreach { code: 1 },
                IcmpErrorKind::Unreach { code: 3 },
                IcmpErrorKind::Unreach { code: 13 },
                IcmpErrorKind::ParamProblem { code: 1 },
                IcmpErrorKind::TimeExceeded { code: 0 },
            ]
        };
        for &kind in others {
            assert_eq!(
                m.classify(&c, &icmp_error(&p, dst, kind, 1500)),
                None,
                "{kind:?}"
            );
        }
        // A quoted INIT whose initiate tag is not ours.
        let mut forged = p.clone();
        let hl = ip_len(dst);
        forged[hl + 16] ^= 0x80;
        assert_eq!(
            m.classify(&c, &icmp_error(&forged, dst, proto_unreach(v6), 1500)),
            None
        );
        // Another key.
        let e = icmp_error(&p, dst, proto_unreach(v6), 1500);
        assert!(m.classify(&c, &e).is_some());
        assert_eq!(m.classify(&ctx(7), &e), None);
    }
}

#[test]
fn ipv4_proto_unreach_checks_the_quoted_ip_id() {
    let c = ctx(8);
    let m = SctpPing::new();
    let p = build(&c, IpAddr::V4(T4), 80, 0);
    let mut other = p.clone();
    // Change the IP ID (and fix the header checksum).
    other[4] ^= 0x40;
    other[10..12].fill(0);
    let sum = !portolan_packet::checksum::fold(portolan_packet::checksum::sum(&other[..20], 0));
    other[10..12].copy_from_slice(&sum.to_be_bytes());
    let e = icmp_error(&other, IpAddr::V4(T4), proto_unreach(false), 1500);
    assert_eq!(m.classify(&c, &e), None);
}

#[test]
fn fixed_source_port_still_validates_by_tag() {
    let mut c = ctx(9);
    c.source_port = Some(5353);
    let m = SctpPing::new();
    for dst in targets() {
        let p = build(&c, dst, 80, 3);
        assert_eq!(fields(&p).2, 5353);
        let tag = fields(&p).4;
        let r = m
            .classify(&c, &sctp_reply(&p, chunk::INIT_ACK, 0, tag))
            .unwrap();
        assert_eq!((r.reason, r.attempt), (Reason::InitAck, None));
        assert_eq!(
            m.classify(&c, &sctp_reply(&p, chunk::INIT_ACK, 0, tag ^ 4)),
            None
        );
    }
}

#[test]
fn plan_facts_of_the_kind() {
    assert_eq!(PingKind::SctpInit.flag(), "-PY");
    assert!(PingKind::SctpInit.uses_ports());
    assert!(PingKind::SctpInit.supports_ipv6());
    assert!(PingKind::ALL.contains(&PingKind::SctpInit));
    assert_eq!(DEFAULT_SCTP_PING_PORT, 80);
    let m = ping_module(PingKind::SctpInit);
    assert_eq!(m.no_reply(), (PortState::Filtered, Reason::NoResponse));
    let mut buf = [0u8; 1500];
    let c = ProbeContext {
        src_v6: None,
        ..ctx(1)
    };
    let spec = ProbeSpec {
        dst: IpAddr::V6(t6()),
        dport: 80,
        attempt: 0,
    };
    assert_eq!(m.build(&c, &spec, &mut buf), 0);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_nor_pass(
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
        version in prop_oneof![Just(0x45u8), Just(0x60u8), any::<u8>()],
    ) {
        let c = ctx(11);
        let mut b = bytes;
        if let Some(first) = b.first_mut() {
            *first = version;
        }
        prop_assert_eq!(SctpPing::new().classify(&c, &b), None);
    }

    #[test]
    fn corrupted_replies_never_panic(
        v6 in any::<bool>(),
        which in 0usize..4,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
        cut in any::<usize>(),
    ) {
        let c = ctx(12);
        let dst = targets()[usize::from(v6)];
        let p = build(&c, dst, 80, 1);
        let tag = fields(&p).4;
        let mut r = match which {
            0 => sctp_reply(&p, chunk::INIT_ACK, 0, tag),
            1 => sctp_reply(&p, chunk::ABORT, FLAG_T, 0),
            2 => icmp_error(&p, dst, proto_unreach(v6), 1500),
            _ => icmp_error(&p, dst, proto_unreach(v6), ip_len(dst) + 8),
        };
        for (at, x) in flips {
            let len = r.len();
            r[at % len] ^= x;
        }
        let len = r.len();
        r.truncate(cut % (len + 1));
        let _ = SctpPing::new().classify(&c, &r);
    }
}

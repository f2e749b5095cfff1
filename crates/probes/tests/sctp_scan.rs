//! The SCTP INIT scan (`-sY`), every row of its rule table with replies
//! crafted the way an SCTP stack or a router sends them (this kernel has
//! no SCTP to answer for real), for IPv4 and IPv6. The expected rows are
//! written here as nmap documents them: INIT-ACK → open, ABORT → closed,
//! ICMP unreachable (type 3 code 0/1/2/3/9/10/13) → filtered, no response
//! → filtered.

mod common;

use common::{ctx, router_for, TARGETS};
use portolan_engine::{ProbeContext, ProbeModule, ProbeSpec};
use portolan_model::{PortState, PortState::*, Reason, ScanType};
use portolan_packet::sctp::{chunk, InitChunk, FLAG_T};
use portolan_packet::{parse, IcmpError, IcmpErrorKind, Parsed, SctpProbe};
use portolan_probes::icmp::{unreach_reason, V4_CODES, V6_CODES};
use portolan_probes::sctp::{init, SctpInitScan};
use portolan_probes::{rules::rule, Response};
use proptest::prelude::*;
use std::net::IpAddr;

fn build(c: &ProbeContext, dst: IpAddr, dport: u16, attempt: u8) -> Vec<u8> {
    let mut buf = [0u8; 1500];
    let spec = ProbeSpec {
        dst,
        dport,
        attempt,
    };
    let n = SctpInitScan::new().build(c, &spec, &mut buf);
    assert!(n > 0);
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
        panic!("an SCTP INIT");
    };
    (src, dst, sport, dport, tag)
}

/// A one-chunk reply from the target with verification tag `vtag`.
fn sctp_reply(probe: &[u8], chunk_type: u8, flags: u8, vtag: u32) -> Vec<u8> {
    let (src, dst, sport, dport, _) = fields(probe);
    let ack = InitChunk {
        initiate_tag: 0x5eed,
        a_rwnd: 65536,
        outbound_streams: 10,
        inbound_streams: 10,
        initial_tsn: 1,
    }
    .to_bytes(chunk::INIT_ACK);
    let abort = [chunk_type, flags, 0, 4];
    let chunks: &[u8] = if chunk_type == chunk::INIT_ACK {
        &ack
    } else {
        &abort
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

/// An ICMP error from `sender` quoting the whole probe.
fn icmp_error(probe: &[u8], sender: IpAddr, kind: IcmpErrorKind) -> Vec<u8> {
    let (src, ..) = fields(probe);
    let mut b = [0u8; 1500];
    let n = IcmpError {
        src: sender,
        dst: src,
        ttl: 63,
        ip_id: 0,
        kind,
        quoted: probe,
    }
    .emit(&mut b)
    .unwrap();
    b[..n].to_vec()
}

fn classify(c: &ProbeContext, reply: &[u8]) -> Option<(PortState, Reason)> {
    SctpInitScan::new()
        .classify(c, reply)
        .map(|r| (r.state, r.reason))
}

#[test]
fn the_table_is_nmaps() {
    assert_eq!(
        init::RULES,
        [
            rule(Response::InitAck, Open),
            rule(Response::Abort, Closed),
            rule(Response::IcmpUnreachable, Filtered),
            rule(Response::NoResponse, Filtered),
        ]
    );
    let m = SctpInitScan::new();
    assert_eq!(m.scan_type(), ScanType::SctpInit);
    assert_eq!(m.scan_type().as_str(), "sctpinit");
    assert_eq!(m.no_reply(), (Filtered, Reason::NoResponse));
}

#[test]
fn init_ack_is_open_and_abort_closed() {
    let c = ctx();
    for dst in TARGETS {
        let p = build(&c, dst, 2905, 1);
        let tag = fields(&p).4;
        let r = SctpInitScan::new()
            .classify(&c, &sctp_reply(&p, chunk::INIT_ACK, 0, tag))
            .unwrap();
        assert_eq!(
            (r.dst, r.dport, r.attempt, r.state, r.reason, r.ttl),
            (dst, 2905, Some(1), Open, Reason::InitAck, 64)
        );
        assert_eq!(r.traits, None);
        let abort = sctp_reply(&p, chunk::ABORT, 0, tag);
        assert_eq!(classify(&c, &abort), Some((Closed, Reason::Abort)));
        let reflected = sctp_reply(&p, chunk::ABORT, FLAG_T, 0);
        assert_eq!(classify(&c, &reflected), Some((Closed, Reason::Abort)));
        // Someone else's tag, or another chunk: nothing.
        assert_eq!(
            classify(&c, &sctp_reply(&p, chunk::INIT_ACK, 0, tag ^ 1)),
            None
        );
        assert_eq!(
            classify(&c, &sctp_reply(&p, chunk::ABORT, 0, tag ^ 1)),
            None
        );
        assert_eq!(classify(&c, &sctp_reply(&p, chunk::ERROR, 0, tag)), None);
    }
}

#[test]
fn icmp_unreachables_are_filtered_from_anyone() {
    let c = ctx();
    for dst in TARGETS {
        let v6 = dst.is_ipv6();
        let p = build(&c, dst, 80, 0);
        let codes: &[u8] = if v6 { &V6_CODES } else { &V4_CODES };
        for &code in codes {
            let reason = unreach_reason(v6, code).unwrap();
            for sender in [dst, router_for(dst)] {
                let e = icmp_error(&p, sender, IcmpErrorKind::Unreach { code });
                assert_eq!(
                    classify(&c, &e),
                    Some((Filtered, reason)),
                    "{dst} code {code} from {sender}"
                );
            }
        }
        // Codes that say nothing about the port, and other errors.
        let ignored: &[IcmpErrorKind] = if v6 {
            &[
                IcmpErrorKind::Unreach { code: 7 },
                IcmpErrorKind::TimeExceeded { code: 0 },
                IcmpErrorKind::ParamProblem { code: 0 },
            ]
        } else {
            &[
                IcmpErrorKind::Unreach { code: 4 },
                IcmpErrorKind::Unreach { code: 5 },
                IcmpErrorKind::TimeExceeded { code: 0 },
            ]
        };
        for &kind in ignored {
            assert_eq!(classify(&c, &icmp_error(&p, dst, kind)), None, "{kind:?}");
        }
    }
}

#[test]
fn ipv6_unrecognised_next_header_from_the_target_is_proto_unreach() {
    let c = ctx();
    let dst = TARGETS[1];
    let p = build(&c, dst, 80, 0);
    let kind = IcmpErrorKind::ParamProblem { code: 1 };
    assert_eq!(
        classify(&c, &icmp_error(&p, dst, kind)),
        Some((Filtered, Reason::ProtoUnreach))
    );
    assert_eq!(classify(&c, &icmp_error(&p, router_for(dst), kind)), None);
}

#[test]
fn shares_the_pings_packets() {
    // One INIT for both: the scan's probe is the ping's, byte for byte.
    let c = ctx();
    for dst in TARGETS {
        let mut buf = [0u8; 1500];
        let spec = ProbeSpec {
            dst,
            dport: 80,
            attempt: 2,
        };
        let n = portolan_probes::discovery::SctpPing::new().build(&c, &spec, &mut buf);
        assert_eq!(build(&c, dst, 80, 2), buf[..n].to_vec());
    }
}

proptest! {
    #[test]
    fn hostile_bytes_never_panic(
        v6 in any::<bool>(),
        which in 0usize..3,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
        cut in any::<usize>(),
    ) {
        let c = ctx();
        let dst = TARGETS[usize::from(v6)];
        let p = build(&c, dst, 80, 0);
        let tag = fields(&p).4;
        let mut r = match which {
            0 => sctp_reply(&p, chunk::INIT_ACK, 0, tag),
            1 => sctp_reply(&p, chunk::ABORT, FLAG_T, 0),
            _ => icmp_error(&p, router_for(dst), IcmpErrorKind::Unreach { code: 1 }),
        };
        for (at, x) in flips {
            let len = r.len();
            r[at % len] ^= x;
        }
        let len = r.len();
        r.truncate(cut % (len + 1));
        let _ = classify(&c, &r);
    }
}

//! SCTP packets: INIT probes over IPv4 and IPv6 parse back field for
//! field, carry a CRC32c that verifies, and are read back from the ICMP
//! errors that quote them.

use portolan_packet::sctp::{self, chunk, InitChunk, SctpPacket};
use portolan_packet::{
    ipv4, ipv6, parse, IcmpError, IcmpErrorKind, Parsed, Quoted, QuotedTransport, SctpProbe,
    PROTO_SCTP,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const V4_SRC: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1));
const V4_DST: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2));
const V6_SRC: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 1));
const V6_DST: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 2));

const INIT: InitChunk = InitChunk {
    initiate_tag: 0x1234_5678,
    a_rwnd: 106_496,
    outbound_streams: 10,
    inbound_streams: 65535,
    initial_tsn: 0x0bad_cafe,
};

fn init_probe(src: IpAddr, dst: IpAddr) -> Vec<u8> {
    let mut buf = [0u8; 1500];
    let n = SctpProbe {
        src,
        dst,
        ttl: 64,
        ip_id: 0xbeef,
        sport: 40001,
        dport: 80,
        vtag: 0,
        chunks: &INIT.to_bytes(chunk::INIT),
    }
    .emit(&mut buf)
    .unwrap();
    buf[..n].to_vec()
}

#[test]
fn init_round_trips_v4_and_v6() {
    for (src, dst) in [(V4_SRC, V4_DST), (V6_SRC, V6_DST)] {
        let pkt = init_probe(src, dst);
        let hl = if src.is_ipv4() {
            ipv4::HEADER_LEN
        } else {
            ipv6::HEADER_LEN
        };
        assert_eq!(pkt.len(), hl + 32);
        if src.is_ipv4() {
            assert_eq!(pkt[9], PROTO_SCTP);
        } else {
            assert_eq!(pkt[6], PROTO_SCTP);
        }
        let s = SctpPacket::new_checked(&pkt[hl..]).unwrap();
        assert!(s.verify_checksum());
        assert_eq!(InitChunk::from_value(s.chunk_value()), Some(INIT));
        assert_eq!(
            parse(&pkt).unwrap(),
            Parsed::Sctp {
                src,
                dst,
                ttl: 64,
                sport: 40001,
                dport: 80,
                vtag: 0,
                chunk: chunk::INIT,
                chunk_flags: 0,
                initiate_tag: Some(0x1234_5678),
            }
        );
    }
}

/// The INIT's SCTP bytes, checked byte by byte against RFC 9260's layout,
/// with the CRC32c computed independently (bitwise, no table) and stored
/// least significant byte first.
#[test]
fn init_bytes_match_the_rfc_layout() {
    let pkt = init_probe(V4_SRC, V4_DST);
    let s = &pkt[ipv4::HEADER_LEN..];
    let want_head: [u8; 8] = [0x9c, 0x41, 0, 80, 0, 0, 0, 0];
    assert_eq!(&s[..8], &want_head);
    let want_chunk: [u8; 20] = [
        1, 0, 0, 20, // INIT, no flags, length 20
        0x12, 0x34, 0x56, 0x78, // initiate tag
        0, 1, 0xa0, 0, // a_rwnd 106496
        0, 10, 0xff, 0xff, // streams out, in
        0x0b, 0xad, 0xca, 0xfe, // initial TSN
    ];
    assert_eq!(&s[12..], &want_chunk);
    let mut zeroed = s.to_vec();
    zeroed[8..12].fill(0);
    let mut c = !0u32;
    for b in zeroed {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 == 1 {
                (c >> 1) ^ 0x82f6_3b78
            } else {
                c >> 1
            };
        }
    }
    assert_eq!(&s[8..12], &(!c).to_le_bytes());
    assert_eq!(sctp::checksum(s), Some(!c));
}

#[test]
fn abort_and_init_ack_replies_parse() {
    let mut buf = [0u8; 1500];
    let abort = [chunk::ABORT, sctp::FLAG_T, 0, 4];
    let n = SctpProbe {
        src: V4_DST,
        dst: V4_SRC,
        ttl: 63,
        ip_id: 0,
        sport: 80,
        dport: 40001,
        vtag: 0x1234_5678,
        chunks: &abort,
    }
    .emit(&mut buf)
    .unwrap();
    let Parsed::Sctp {
        chunk: c,
        chunk_flags,
        initiate_tag,
        vtag,
        ..
    } = parse(&buf[..n]).unwrap()
    else {
        panic!("not SCTP");
    };
    assert_eq!(
        (c, chunk_flags, initiate_tag, vtag),
        (chunk::ABORT, sctp::FLAG_T, None, 0x1234_5678)
    );
    let ack = InitChunk {
        initiate_tag: 77,
        ..INIT
    };
    let n = SctpProbe {
        src: V6_DST,
        dst: V6_SRC,
        ttl: 64,
        ip_id: 0,
        sport: 80,
        dport: 40001,
        vtag: 0x1234_5678,
        chunks: &ack.to_bytes(chunk::INIT_ACK),
    }
    .emit(&mut buf)
    .unwrap();
    let Parsed::Sctp {
        chunk: c,
        initiate_tag,
        ..
    } = parse(&buf[..n]).unwrap()
    else {
        panic!("not SCTP");
    };
    assert_eq!((c, initiate_tag), (chunk::INIT_ACK, Some(77)));
}

#[test]
fn protocol_unreachable_quotes_the_init() {
    for (src, dst) in [(V4_SRC, V4_DST), (V6_SRC, V6_DST)] {
        let probe = init_probe(src, dst);
        let hl = if src.is_ipv4() { 20 } else { 40 };
        // IPv4 code 2 protocol unreachable; IPv6 parameter problem code 1
        // (unrecognised next header), as Linux answers an unknown protocol.
        let kind = if src.is_ipv4() {
            IcmpErrorKind::Unreach { code: 2 }
        } else {
            IcmpErrorKind::ParamProblem { code: 1 }
        };
        for quote_len in [hl + 8, probe.len()] {
            let mut buf = [0u8; 1500];
            let n = IcmpError {
                src: dst,
                dst: src,
                ttl: 64,
                ip_id: 0,
                kind,
                quoted: &probe[..quote_len],
            }
            .emit(&mut buf)
            .unwrap();
            let full = quote_len == probe.len();
            assert_eq!(
                parse(&buf[..n]).unwrap(),
                Parsed::IcmpError {
                    src: dst,
                    dst: src,
                    ttl: 64,
                    kind,
                    quoted: Quoted {
                        src,
                        dst,
                        proto: PROTO_SCTP,
                        ip_id: if src.is_ipv4() { 0xbeef } else { 0 },
                        transport: QuotedTransport::Sctp {
                            sport: 40001,
                            dport: 80,
                            vtag: Some(0),
                            initiate_tag: full.then_some(0x1234_5678),
                        },
                    },
                }
            );
        }
    }
}

#[test]
fn truncated_sctp_is_an_error_not_a_panic() {
    let pkt = init_probe(V4_SRC, V4_DST);
    for cut in 0..pkt.len() {
        let _ = parse(&pkt[..cut]);
    }
    // An IPv4 header claiming less than the common header and a chunk.
    let mut short = pkt[..20 + 14].to_vec();
    short[2..4].copy_from_slice(&34u16.to_be_bytes());
    short[10..12].fill(0);
    let c = !portolan_packet::checksum::fold(portolan_packet::checksum::sum(&short[..20], 0));
    short[10..12].copy_from_slice(&c.to_be_bytes());
    assert!(parse(&short).is_err());
}

//! Build → parse round trips for every builder, with every checksum
//! cross-checked by etherparse (an independent implementation).

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use portolan_packet::{
    mss_option, parse, IcmpEcho, IcmpError, IcmpErrorKind, IcmpTimestamp, IpFields, Parsed, Quoted,
    QuotedTransport, TcpFlags, TcpProbe, UdpProbe,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const V4_SRC: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1));
const V4_DST: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 7, 9));
const V4_ROUTER: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 19, 0, 254));
const V6_SRC: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 1));
const V6_DST: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 7, 9));
const V6_ROUTER: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 2, 0, 0xff, 0, 0, 0, 1));

fn v4(a: IpAddr) -> [u8; 4] {
    match a {
        IpAddr::V4(a) => a.octets(),
        IpAddr::V6(_) => panic!("not v4"),
    }
}

fn v6(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V6(a) => a.octets(),
        IpAddr::V4(_) => panic!("not v6"),
    }
}

/// Checks the IP header (and, for IPv4, its checksum) with etherparse and
/// every transport checksum it can compute.
fn etherparse_agrees(pkt: &[u8]) {
    let sliced = SlicedPacket::from_ip(pkt).expect("etherparse parses it");
    let (src, dst) = match &sliced.net {
        Some(NetSlice::Ipv4(ip)) => {
            let h = ip.header();
            assert_eq!(h.header_checksum(), h.to_header().calc_header_checksum());
            (
                IpAddr::V4(h.source_addr()),
                IpAddr::V4(h.destination_addr()),
            )
        }
        Some(NetSlice::Ipv6(ip)) => {
            let h = ip.header();
            (
                IpAddr::V6(h.source_addr()),
                IpAddr::V6(h.destination_addr()),
            )
        }
        None => panic!("no IP layer"),
    };
    match sliced.transport.expect("a transport layer") {
        TransportSlice::Tcp(t) => {
            let c = match (src, dst) {
                (IpAddr::V4(_), _) => t.calc_checksum_ipv4(v4(src), v4(dst)).unwrap(),
                _ => t.calc_checksum_ipv6(v6(src), v6(dst)).unwrap(),
            };
            assert_eq!(t.checksum(), c, "tcp checksum");
        }
        TransportSlice::Udp(u) => {
            let h = u.to_header();
            let c = match (src, dst) {
                (IpAddr::V4(_), _) => h
                    .calc_checksum_ipv4_raw(v4(src), v4(dst), u.payload())
                    .unwrap(),
                _ => h
                    .calc_checksum_ipv6_raw(v6(src), v6(dst), u.payload())
                    .unwrap(),
            };
            assert_eq!(u.checksum(), c, "udp checksum");
        }
        TransportSlice::Icmpv4(i) => {
            // Sum the message as etherparse's header + payload would.
            let mut whole = i.slice().to_vec();
            whole[2] = 0;
            whole[3] = 0;
            let h = etherparse::Icmpv4Header::from_slice(&whole).unwrap().0;
            let hl = h.header_len();
            let fresh = etherparse::Icmpv4Header::with_checksum(h.icmp_type, &whole[hl..]);
            assert_eq!(i.checksum(), fresh.checksum, "icmpv4 checksum");
        }
        TransportSlice::Icmpv6(i) => {
            assert!(i.is_checksum_valid(v6(src), v6(dst)), "icmpv6 checksum");
        }
    }
}

fn syn(src: IpAddr, dst: IpAddr, mss: &[u8]) -> Vec<u8> {
    let mut buf = [0u8; 1500];
    let n = TcpProbe {
        src,
        dst,
        ttl: 51,
        ip_id: 0xbeef,
        sport: 40001,
        dport: 443,
        seq: 0xdead_beef,
        ack: 0,
        flags: TcpFlags::SYN,
        window: 1024,
        options: mss,
    }
    .emit(&mut buf)
    .unwrap();
    buf[..n].to_vec()
}

#[test]
fn tcp_syn_round_trips_v4_and_v6() {
    let mss = mss_option(1460);
    for (src, dst, len) in [(V4_SRC, V4_DST, 44), (V6_SRC, V6_DST, 64)] {
        let p = syn(src, dst, &mss);
        assert_eq!(p.len(), len);
        etherparse_agrees(&p);
        assert_eq!(
            parse(&p).unwrap(),
            Parsed::Tcp {
                src,
                dst,
                ttl: 51,
                sport: 40001,
                dport: 443,
                seq: 0xdead_beef,
                ack: 0,
                flags: TcpFlags::SYN,
                window: 1024,
                ip: IpFields {
                    ident: 0xbeef,
                    dont_frag: src.is_ipv4(),
                    ecn: 0,
                },
                reserved: 0,
                urgent: 0,
                options: &mss,
                data_len: 0,
            }
        );
        let sliced = SlicedPacket::from_ip(&p).unwrap();
        let Some(TransportSlice::Tcp(t)) = sliced.transport else {
            panic!()
        };
        assert_eq!(t.options(), &mss);
    }
}

#[test]
fn ipv4_probe_sets_df_and_id_like_a_stack() {
    let p = syn(V4_SRC, V4_DST, &mss_option(1460));
    let ip = portolan_packet::ipv4::Ipv4Packet::new_checked(&p).unwrap();
    assert!(ip.dont_frag());
    assert_eq!(ip.ident(), 0xbeef);
    assert!(ip.verify_checksum());
}

#[test]
fn every_tcp_flag_combination_survives() {
    for f in 0..=255u8 {
        let mut buf = [0u8; 100];
        let n = TcpProbe {
            src: V6_SRC,
            dst: V6_DST,
            ttl: 64,
            ip_id: 1,
            sport: 1,
            dport: 2,
            seq: 3,
            ack: 4,
            flags: TcpFlags(f),
            window: 5,
            options: &[],
        }
        .emit(&mut buf)
        .unwrap();
        let Ok(Parsed::Tcp { flags, ack, .. }) = parse(&buf[..n]) else {
            panic!()
        };
        assert_eq!((flags, ack), (TcpFlags(f), 4));
    }
}

#[test]
fn udp_round_trips_with_odd_payloads() {
    for (src, dst) in [(V4_SRC, V4_DST), (V6_SRC, V6_DST)] {
        for len in [0usize, 1, 7, 48] {
            let payload: Vec<u8> = (0..len as u8).map(|b| b.wrapping_mul(37)).collect();
            let mut buf = [0u8; 1500];
            let n = UdpProbe {
                src,
                dst,
                ttl: 64,
                ip_id: 9,
                sport: 53535,
                dport: 53,
                payload: &payload,
            }
            .emit(&mut buf)
            .unwrap();
            etherparse_agrees(&buf[..n]);
            let Ok(Parsed::Udp {
                sport,
                dport,
                payload: got,
                ttl,
                ..
            }) = parse(&buf[..n])
            else {
                panic!()
            };
            assert_eq!((sport, dport, got, ttl), (53535, 53, &payload[..], 64));
        }
    }
}

#[test]
fn icmp_echo_round_trips() {
    for (src, dst) in [(V4_SRC, V4_DST), (V6_SRC, V6_DST)] {
        for reply in [false, true] {
            let mut buf = [0u8; 1500];
            let n = IcmpEcho {
                src,
                dst,
                ttl: 64,
                ip_id: 2,
                reply,
                ident: 0x1234,
                seq: 7,
                payload: b"portolan",
            }
            .emit(&mut buf)
            .unwrap();
            etherparse_agrees(&buf[..n]);
            assert_eq!(
                parse(&buf[..n]).unwrap(),
                Parsed::IcmpEcho {
                    src,
                    dst,
                    ttl: 64,
                    reply,
                    ident: 0x1234,
                    seq: 7
                }
            );
        }
    }
}

#[test]
fn icmp_timestamp_round_trips_and_is_v4_only() {
    let mut buf = [0u8; 100];
    let ts = IcmpTimestamp {
        src: V4_SRC,
        dst: V4_DST,
        ttl: 64,
        ip_id: 3,
        reply: true,
        ident: 5,
        seq: 6,
        originate: 1,
        receive: 2,
        transmit: 3,
    };
    let n = ts.emit(&mut buf).unwrap();
    etherparse_agrees(&buf[..n]);
    assert_eq!(
        parse(&buf[..n]).unwrap(),
        Parsed::IcmpTimestamp {
            src: V4_SRC,
            dst: V4_DST,
            ttl: 64,
            reply: true,
            ident: 5,
            seq: 6,
            originate: 1,
            receive: 2,
            transmit: 3
        }
    );
    assert!(IcmpTimestamp {
        src: V6_SRC,
        dst: V6_DST,
        ..ts
    }
    .emit(&mut buf)
    .is_err());
}

#[test]
fn icmp_unreachable_quotes_the_probe() {
    for (src, dst, router) in [(V4_SRC, V4_DST, V4_ROUTER), (V6_SRC, V6_DST, V6_ROUTER)] {
        let probe = syn(src, dst, &mss_option(1460));
        let hl = if src.is_ipv4() { 20 } else { 40 };
        // Quote the IP header plus 8 bytes (the RFC 792 minimum) and the whole packet.
        for quote_len in [hl + 8, probe.len()] {
            let mut buf = [0u8; 1500];
            let n = IcmpError {
                src: router,
                dst: src,
                ttl: 250,
                ip_id: 0,
                kind: IcmpErrorKind::Unreach { code: 3 },
                quoted: &probe[..quote_len],
            }
            .emit(&mut buf)
            .unwrap();
            etherparse_agrees(&buf[..n]);
            let full = quote_len > hl + 8;
            assert_eq!(
                parse(&buf[..n]).unwrap(),
                Parsed::IcmpError {
                    src: router,
                    dst: src,
                    ttl: 250,
                    kind: IcmpErrorKind::Unreach { code: 3 },
                    quoted: Quoted {
                        src,
                        dst,
                        proto: 6,
                        ip_id: if src.is_ipv4() { 0xbeef } else { 0 },
                        transport: QuotedTransport::Tcp {
                            sport: 40001,
                            dport: 443,
                            seq: Some(0xdead_beef),
                            ack: full.then_some(0),
                            flags: full.then_some(TcpFlags::SYN),
                        },
                    },
                }
            );
        }
    }
}

#[test]
fn icmpv6_packet_too_big_and_time_exceeded() {
    let probe = syn(V6_SRC, V6_DST, &[]);
    for kind in [
        IcmpErrorKind::PacketTooBig { mtu: 1280 },
        IcmpErrorKind::TimeExceeded { code: 0 },
    ] {
        let mut buf = [0u8; 1500];
        let n = IcmpError {
            src: V6_ROUTER,
            dst: V6_SRC,
            ttl: 60,
            ip_id: 0,
            kind,
            quoted: &probe,
        }
        .emit(&mut buf)
        .unwrap();
        let Ok(Parsed::IcmpError { kind: got, .. }) = parse(&buf[..n]) else {
            panic!()
        };
        assert_eq!(got, kind);
    }
}

#[test]
fn ipv6_extension_headers_are_walked() {
    let probe = syn(V6_SRC, V6_DST, &[]);
    // Insert a hop-by-hop header (8 bytes, PadN) and a first fragment header.
    let mut p = probe[..40].to_vec();
    p[6] = 0; // hop-by-hop next
    p.extend_from_slice(&[44, 0, 1, 4, 0, 0, 0, 0]); // next: fragment; PadN 4
    p.extend_from_slice(&[6, 0, 0, 1, 0, 0, 0, 42]); // next: TCP; offset 0, M=1
    p.extend_from_slice(&probe[40..]);
    let len = (p.len() - 40) as u16;
    p[4..6].copy_from_slice(&len.to_be_bytes());
    let Ok(Parsed::Tcp { dport, seq, .. }) = parse(&p) else {
        panic!("{:?}", parse(&p))
    };
    assert_eq!((dport, seq), (443, 0xdead_beef));
    // A non-first fragment has no TCP header to read.
    p[48 + 2] = 0x01; // offset 32 bytes
    assert_eq!(parse(&p).unwrap(), Parsed::Other);
}

#[test]
fn endless_extension_chain_is_refused() {
    let probe = syn(V6_SRC, V6_DST, &[]);
    let mut p = probe[..40].to_vec();
    p[6] = 60;
    for _ in 0..20 {
        p.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]);
    }
    let len = (p.len() - 40) as u16;
    p[4..6].copy_from_slice(&len.to_be_bytes());
    assert_eq!(parse(&p).unwrap(), Parsed::Other);
}

#[test]
fn ipv4_options_are_skipped_and_bad_checksums_refused() {
    let probe = syn(V4_SRC, V4_DST, &[]);
    // Rebuild with IHL 6 (one NOP-padded option word).
    let mut p = probe[..20].to_vec();
    p.extend_from_slice(&[1, 1, 1, 0]);
    p.extend_from_slice(&probe[20..]);
    p[0] = 0x46;
    let total = p.len() as u16;
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p[10] = 0;
    p[11] = 0;
    let c = portolan_packet::checksum::checksum(&p[..24], 0);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    let Ok(Parsed::Tcp { dport, .. }) = parse(&p) else {
        panic!()
    };
    assert_eq!(dport, 443);
    p[10] ^= 1;
    assert!(parse(&p).is_err());
}

#[test]
fn emit_into_small_buffer_errors() {
    let mut buf = [0u8; 43];
    let r = TcpProbe {
        src: V4_SRC,
        dst: V4_DST,
        ttl: 1,
        ip_id: 1,
        sport: 1,
        dport: 1,
        seq: 1,
        ack: 0,
        flags: TcpFlags::SYN,
        window: 1,
        options: &mss_option(1460),
    }
    .emit(&mut buf);
    assert_eq!(
        r,
        Err(portolan_packet::Error::BufferTooSmall { need: 44, have: 43 })
    );
    let r = UdpProbe {
        src: V4_SRC,
        dst: V6_DST,
        ttl: 1,
        ip_id: 1,
        sport: 1,
        dport: 1,
        payload: &[],
    }
    .emit(&mut [0u8; 100]);
    assert_eq!(r, Err(portolan_packet::Error::FamilyMismatch));
}

//! Hostile input: parsing arbitrary bytes, and every truncation or
//! corruption of valid packets, returns a value and never panics.

use portolan_packet::sctp::{chunk, InitChunk};
use portolan_packet::{
    mss_option, parse, IcmpError, IcmpErrorKind, SctpProbe, TcpFlags, TcpProbe, UdpProbe,
};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn addr_pair(v6: bool, a: u32, b: u32) -> (IpAddr, IpAddr) {
    if v6 {
        let s = Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, (a >> 16) as u16, a as u16);
        let d = Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, (b >> 16) as u16, b as u16);
        (IpAddr::V6(s), IpAddr::V6(d))
    } else {
        (IpAddr::V4(Ipv4Addr::from(a)), IpAddr::V4(Ipv4Addr::from(b)))
    }
}

/// A few valid packets of every kind, to truncate and corrupt.
fn valid_packets(v6: bool, a: u32, b: u32, flags: u8, payload: &[u8]) -> Vec<Vec<u8>> {
    let (src, dst) = addr_pair(v6, a, b);
    let mut out = Vec::new();
    let mut buf = [0u8; 1500];
    let n = TcpProbe {
        src,
        dst,
        ttl: 64,
        ip_id: a as u16,
        sport: a as u16,
        dport: b as u16,
        seq: a,
        ack: b,
        flags: TcpFlags(flags),
        window: 1024,
        options: &mss_option(1460),
    }
    .emit(&mut buf)
    .unwrap();
    out.push(buf[..n].to_vec());
    let tcp = buf[..n].to_vec();
    let n = UdpProbe {
        src,
        dst,
        ttl: 64,
        ip_id: 1,
        sport: 1,
        dport: 2,
        payload,
    }
    .emit(&mut buf)
    .unwrap();
    out.push(buf[..n].to_vec());
    let udp = buf[..n].to_vec();
    let init = InitChunk {
        initiate_tag: a | 1,
        a_rwnd: b,
        outbound_streams: 10,
        inbound_streams: 10,
        initial_tsn: a,
    };
    let n = SctpProbe {
        src,
        dst,
        ttl: 64,
        ip_id: 2,
        sport: a as u16,
        dport: b as u16,
        vtag: 0,
        chunks: &init.to_bytes(chunk::INIT),
    }
    .emit(&mut buf)
    .unwrap();
    out.push(buf[..n].to_vec());
    for quote in [&tcp[..], &udp[..], &buf[..n].to_vec()[..]] {
        let mut e = [0u8; 1500];
        let m = IcmpError {
            src: dst,
            dst: src,
            ttl: 9,
            ip_id: 0,
            kind: IcmpErrorKind::Unreach { code: 3 },
            quoted: quote,
        }
        .emit(&mut e)
        .unwrap();
        out.push(e[..m].to_vec());
    }
    out
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn arbitrary_bytes_behind_a_valid_version_nibble_never_panic(
        v6 in any::<bool>(),
        mut bytes in proptest::collection::vec(any::<u8>(), 1..200),
    ) {
        bytes[0] = if v6 { 0x60 | (bytes[0] & 0x0f) } else { 0x40 | (bytes[0] & 0x0f) };
        let _ = parse(&bytes);
    }

    #[test]
    fn truncations_and_corruptions_of_valid_packets_never_panic(
        v6 in any::<bool>(),
        a in any::<u32>(),
        b in any::<u32>(),
        flags in any::<u8>(),
        payload in proptest::collection::vec(any::<u8>(), 0..40),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
    ) {
        for p in valid_packets(v6, a, b, flags, &payload) {
            prop_assert!(parse(&p).is_ok());
            for cut in 0..p.len() {
                let _ = parse(&p[..cut]);
            }
            let mut q = p.clone();
            for (at, x) in &flips {
                let i = at % q.len();
                q[i] ^= x;
            }
            for cut in 0..=q.len() {
                let _ = parse(&q[..cut]);
            }
        }
    }
}

proptest! {
    #[test]
    fn incremental_checksum_update_verifies(
        data in proptest::collection::vec(any::<u8>(), 8..200),
        at in any::<usize>(),
        new in proptest::collection::vec(any::<u8>(), 1..9),
    ) {
        use portolan_packet::checksum::{adjust, checksum, verify};
        let mut d = data;
        d[0] = 0;
        d[1] = 0;
        let c = checksum(&d, 0);
        d[0..2].copy_from_slice(&c.to_be_bytes());
        // Patch an even offset past the checksum field.
        let room = d.len() - 2;
        let len = new.len().min(room);
        let at = 2 + (at % (room - len + 1)) / 2 * 2;
        let old = d[at..at + len].to_vec();
        d[at..at + len].copy_from_slice(&new[..len]);
        let c = adjust(u16::from_be_bytes([d[0], d[1]]), &old, &new[..len]);
        d[0..2].copy_from_slice(&c.to_be_bytes());
        prop_assert!(verify(&d, 0));
    }
}

//! Shared test support: a scan context, and replies crafted the way a real
//! stack or router would send them, with portolan-packet's builders.

#![allow(dead_code)]

use portolan_engine::{ProbeContext, ProbeModule, ProbeSpec, ValidationKey};
use portolan_packet::{parse, IcmpError, IcmpErrorKind, Parsed, TcpFlags, TcpProbe};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub const US_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
pub const US_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 1);
pub const TARGET_V4: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 3, 4));
pub const TARGET_V6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 3, 4));
pub const ROUTER_V4: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 19, 255, 254));
pub const ROUTER_V6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 2, 0, 0xff, 0, 0, 0, 0xfe));

/// The two targets, one per family.
pub const TARGETS: [IpAddr; 2] = [TARGET_V4, TARGET_V6];

pub fn ctx() -> ProbeContext {
    ctx_with(ValidationKey::from_seed(7), None)
}

pub fn ctx_with(key: ValidationKey, source_port: Option<u16>) -> ProbeContext {
    ProbeContext {
        src_v4: Some(US_V4),
        src_v6: Some(US_V6),
        source_port,
        key,
        ttl: 57,
    }
}

pub fn router_for(target: IpAddr) -> IpAddr {
    if target.is_ipv4() {
        ROUTER_V4
    } else {
        ROUTER_V6
    }
}

/// A built probe and its fields.
#[derive(Clone, Debug)]
pub struct Sent {
    pub bytes: Vec<u8>,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub ttl: u8,
}

pub fn send(m: &dyn ProbeModule, ctx: &ProbeContext, dst: IpAddr, dport: u16, attempt: u8) -> Sent {
    let mut buf = [0u8; 1500];
    let n = m.build(
        ctx,
        &ProbeSpec {
            dst,
            dport,
            attempt,
        },
        &mut buf,
    );
    assert!(n > 0, "probe built");
    let bytes = buf[..n].to_vec();
    let Ok(Parsed::Tcp {
        src,
        dst,
        ttl,
        sport,
        dport,
        seq,
        ack,
        flags,
        ..
    }) = parse(&bytes)
    else {
        panic!("probe parses as TCP")
    };
    Sent {
        bytes,
        src,
        dst,
        sport,
        dport,
        seq,
        ack,
        flags,
        ttl,
    }
}

/// A TCP segment from the target back to us.
pub fn tcp_reply(p: &Sent, flags: TcpFlags, seq: u32, ack: u32, window: u16, ttl: u8) -> Vec<u8> {
    let mut buf = [0u8; 1500];
    let n = TcpProbe {
        src: p.dst,
        dst: p.src,
        ttl,
        ip_id: 0x4242,
        sport: p.dport,
        dport: p.sport,
        seq,
        ack,
        flags,
        window,
        options: &[],
    }
    .emit(&mut buf)
    .unwrap();
    buf[..n].to_vec()
}

/// The SYN/ACK of a listening port.
pub fn syn_ack(p: &Sent, ttl: u8) -> Vec<u8> {
    tcp_reply(
        p,
        TcpFlags::SYN | TcpFlags::ACK,
        0x1357_9bdf,
        p.seq.wrapping_add(1),
        64240,
        ttl,
    )
}

/// The bare SYN of a split-handshake server.
pub fn bare_syn(p: &Sent, ttl: u8) -> Vec<u8> {
    tcp_reply(p, TcpFlags::SYN, 0x2468_ace0, 0, 64240, ttl)
}

/// The reset RFC 9293 section 3.10.7.1 prescribes for a segment arriving
/// at a closed port: with ACK in the segment, `<SEQ=SEG.ACK><CTL=RST>`;
/// without, `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`.
pub fn rfc_rst(p: &Sent, window: u16, ttl: u8) -> Vec<u8> {
    if p.flags.contains(TcpFlags::ACK) {
        tcp_reply(p, TcpFlags::RST, p.ack, 0, window, ttl)
    } else {
        let len =
            u32::from(p.flags.contains(TcpFlags::SYN)) + u32::from(p.flags.contains(TcpFlags::FIN));
        tcp_reply(
            p,
            TcpFlags::RST | TcpFlags::ACK,
            0,
            p.seq.wrapping_add(len),
            window,
            ttl,
        )
    }
}

/// An ICMP unreachable from a router, quoting the probe's IP header and
/// `extra` bytes of TCP (8 is the RFC 792 minimum).
pub fn icmp_unreach(p: &Sent, code: u8, extra: usize, ttl: u8) -> Vec<u8> {
    let hl = if p.src.is_ipv4() { 20 } else { 40 };
    let quoted = &p.bytes[..(hl + extra).min(p.bytes.len())];
    let mut buf = [0u8; 1500];
    let n = IcmpError {
        src: router_for(p.dst),
        dst: p.src,
        ttl,
        ip_id: 0,
        kind: IcmpErrorKind::Unreach { code },
        quoted,
    }
    .emit(&mut buf)
    .unwrap();
    buf[..n].to_vec()
}

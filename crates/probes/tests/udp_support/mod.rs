//! UDP test support: probes built by the module and replies crafted the
//! way a real stack or router sends them (portolan-packet's builders).

#![allow(dead_code)]

use portolan_engine::{ProbeContext, ProbeModule, ProbeSpec};
use portolan_packet::{parse, IcmpError, IcmpErrorKind, Parsed, UdpProbe};
use std::net::IpAddr;

/// A built UDP probe and its fields.
#[derive(Clone, Debug)]
pub struct SentUdp {
    pub bytes: Vec<u8>,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    pub payload: Vec<u8>,
    pub ttl: u8,
}

pub fn send_udp(
    m: &dyn ProbeModule,
    ctx: &ProbeContext,
    dst: IpAddr,
    dport: u16,
    attempt: u8,
) -> SentUdp {
    let mut buf = [0u8; 1500];
    let spec = ProbeSpec {
        dst,
        dport,
        attempt,
    };
    let n = m.build(ctx, &spec, &mut buf);
    assert!(n > 0, "probe built");
    let bytes = buf[..n].to_vec();
    let Ok(Parsed::Udp {
        src,
        dst,
        ttl,
        sport,
        dport,
        payload,
    }) = parse(&bytes)
    else {
        panic!("probe parses as UDP")
    };
    let payload = payload.to_vec();
    SentUdp {
        src,
        dst,
        sport,
        dport,
        payload,
        ttl,
        bytes,
    }
}

/// A datagram from the target's port `from_port` back to the probe's
/// source port.
pub fn udp_reply_from(p: &SentUdp, from_port: u16, data: &[u8], ttl: u8) -> Vec<u8> {
    let mut buf = [0u8; 1500];
    let n = UdpProbe {
        src: p.dst,
        dst: p.src,
        ttl,
        ip_id: 0x4242,
        sport: from_port,
        dport: p.sport,
        payload: data,
    }
    .emit(&mut buf)
    .unwrap();
    buf[..n].to_vec()
}

/// The service's answer, from the probed port.
pub fn udp_reply(p: &SentUdp, data: &[u8], ttl: u8) -> Vec<u8> {
    udp_reply_from(p, p.dport, data, ttl)
}

/// An ICMP unreachable from `from`, quoting the probe's IP header and
/// `extra` bytes of it (8 is the RFC 792 minimum).
pub fn unreach_from(p: &SentUdp, from: IpAddr, code: u8, extra: usize, ttl: u8) -> Vec<u8> {
    let hl = if p.src.is_ipv4() { 20 } else { 40 };
    let quoted = &p.bytes[..(hl + extra).min(p.bytes.len())];
    let mut buf = [0u8; 1500];
    let n = IcmpError {
        src: from,
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

/// The port unreachable the target's own kernel sends for a closed port
/// (ICMPv4 type 3 code 3, ICMPv6 type 1 code 4), quoting as much as Linux
/// does (the whole probe, up to the minimum MTU).
pub fn port_unreach(p: &SentUdp, ttl: u8) -> Vec<u8> {
    let code = if p.dst.is_ipv4() { 3 } else { 4 };
    unreach_from(p, p.dst, code, 1200, ttl)
}

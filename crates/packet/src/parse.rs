//! A received IP packet, reduced to what a scanner decides on.
//!
//! [`parse`] turns bytes from the wire into one small [`Parsed`] value:
//! a TCP segment's ports, numbers, flags and window (with the header
//! fields that show the sender's stack, [`IpFields`] and the raw options); a UDP datagram; an
//! SCTP packet's ports, tag and first chunk; an ICMP echo or timestamp; or an ICMP error with the fields of the packet
//! it quotes. Probe modules then only compare numbers.
//!
//! The IPv4 header checksum is verified (it is always computed in
//! software), and so are ICMP's (the kernel computes them in software
//! too). UDP's is checked for being complete, partial or absent
//! ([`checksum::received_ok`]): packets captured on loopback carry
//! partial checksums left for offload, and a UDP reply's keyed hash has
//! only a few bits (it lives in our source port), so without the check a
//! corrupted address could pass for another host's reply. TCP's and
//! SCTP's are not checked: their replies echo 32-bit keyed numbers, which
//! corruption or forgery would not match.

use crate::checksum;
use crate::error::Error;
use crate::icmp::{self, IcmpErrorKind, IcmpPacket};
use crate::ipv4::Ipv4Packet;
use crate::ipv6::Ipv6Packet;
use crate::sctp::SctpPacket;
use crate::tcp::{TcpFlags, TcpPacket};
use crate::udp::UdpPacket;
use crate::{be16, be32, PROTO_ICMP, PROTO_ICMPV6, PROTO_SCTP, PROTO_TCP, PROTO_UDP};
use std::net::IpAddr;

/// A received IP packet, parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// A TCP segment.
    Tcp {
        /// Sender.
        src: IpAddr,
        /// Receiver.
        dst: IpAddr,
        /// IPv4 TTL or IPv6 hop limit.
        ttl: u8,
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
        /// Sequence number.
        seq: u32,
        /// Acknowledgment number.
        ack: u32,
        /// Flags.
        flags: TcpFlags,
        /// Window size.
        window: u16,
        /// The IP header's identification, DF and ECN fields.
        ip: IpFields,
        /// The 4 bits between data offset and flags (reserved and NS).
        reserved: u8,
        /// Urgent pointer.
        urgent: u16,
        /// The options block, raw ([`crate::TcpOptions`] walks it).
        options: &'a [u8],
        /// Length of the segment's data.
        data_len: u16,
    },
    /// A UDP datagram.
    Udp {
        /// Sender.
        src: IpAddr,
        /// Receiver.
        dst: IpAddr,
        /// IPv4 TTL or IPv6 hop limit.
        ttl: u8,
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
        /// Data.
        payload: &'a [u8],
    },
    /// An SCTP packet, read up to its first chunk.
    Sctp {
        /// Sender.
        src: IpAddr,
        /// Receiver.
        dst: IpAddr,
        /// IPv4 TTL or IPv6 hop limit.
        ttl: u8,
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
        /// Verification tag.
        vtag: u32,
        /// The first chunk's type ([`crate::sctp::chunk`]).
        chunk: u8,
        /// The first chunk's flags.
        chunk_flags: u8,
        /// The initiate tag of a first chunk that is an INIT or INIT ACK.
        initiate_tag: Option<u32>,
    },
    /// An ICMP or ICMPv6 echo request or reply.
    IcmpEcho {
        /// Sender.
        src: IpAddr,
        /// Receiver.
        dst: IpAddr,
        /// IPv4 TTL or IPv6 hop limit.
        ttl: u8,
        /// A reply (else a request).
        reply: bool,
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq: u16,
    },
    /// An ICMPv4 timestamp request or reply.
    IcmpTimestamp {
        /// Sender.
        src: IpAddr,
        /// Receiver.
        dst: IpAddr,
        /// TTL.
        ttl: u8,
        /// A reply (else a request).
        reply: bool,
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq: u16,
        /// Originate timestamp.
        originate: u32,
        /// Receive timestamp.
        receive: u32,
        /// Transmit timestamp.
        transmit: u32,
    },
    /// An ICMP error about a packet, quoted.
    IcmpError {
        /// The router or host that sent the error (not necessarily the
        /// quoted packet's destination).
        src: IpAddr,
        /// Receiver.
        dst: IpAddr,
        /// TTL of the error's own IP header.
        ttl: u8,
        /// What went wrong.
        kind: IcmpErrorKind,
        /// The offending packet's fields.
        quoted: Quoted,
    },
    /// Anything else: other protocols, other ICMP types, non-first
    /// fragments, errors quoting something unreadable.
    Other,
}

/// The IP header fields of a received packet that show the sender's
/// stack (read only for TCP segments, for OS detection).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IpFields {
    /// IPv4 identification; for IPv6 the flow label.
    pub ident: u32,
    /// IPv4 don't-fragment bit (false for IPv6).
    pub dont_frag: bool,
    /// ECN codepoint: the low 2 bits of the IPv4 TOS / IPv6 traffic class.
    pub ecn: u8,
}

/// The packet quoted in an ICMP error (its IP header and the first bytes
/// of its payload: at least 8, RFC 792).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quoted {
    /// Its source (normally us).
    pub src: IpAddr,
    /// Its destination (normally the target).
    pub dst: IpAddr,
    /// Its protocol.
    pub proto: u8,
    /// Its IPv4 identification (0 for IPv6).
    pub ip_id: u16,
    /// Its transport fields, as far as quoted.
    pub transport: QuotedTransport,
}

/// The transport fields of a quoted packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuotedTransport {
    /// TCP: ports always; the rest when quoted.
    Tcp {
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
        /// Sequence number (bytes 4-7).
        seq: Option<u32>,
        /// Acknowledgment number (bytes 8-11).
        ack: Option<u32>,
        /// Flags (byte 13).
        flags: Option<TcpFlags>,
    },
    /// UDP ports.
    Udp {
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
    },
    /// SCTP: ports always; the rest when quoted.
    Sctp {
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
        /// Verification tag (bytes 4-7).
        vtag: Option<u32>,
        /// The initiate tag of a first chunk that is an INIT (bytes 16-19),
        /// when quoted that far.
        initiate_tag: Option<u32>,
    },
    /// An ICMP or ICMPv6 echo request's identifier and sequence.
    IcmpEcho {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq: u16,
    },
    /// Another protocol, or too little quoted to read ports.
    Other,
}

/// Parses a received IPv4 or IPv6 packet (starting at its IP header).
///
/// Fails on malformed or truncated IP or transport headers and on a bad
/// IPv4 header checksum; returns [`Parsed::Other`] for well-formed packets
/// of no interest.
pub fn parse(packet: &[u8]) -> Result<Parsed<'_>, Error> {
    match packet.first().map(|b| b >> 4) {
        Some(4) => parse_v4(packet),
        Some(6) => parse_v6(packet),
        Some(_) => Err(Error::Malformed {
            what: "ip",
            why: "version is neither 4 nor 6",
        }),
        None => Err(Error::Truncated {
            what: "ip",
            need: 1,
            have: 0,
        }),
    }
}

fn parse_v4(packet: &[u8]) -> Result<Parsed<'_>, Error> {
    let ip = Ipv4Packet::new_checked(packet)?;
    if !ip.verify_checksum() {
        return Err(Error::Checksum { what: "ipv4" });
    }
    if ip.frag_offset() != 0 {
        return Ok(Parsed::Other);
    }
    let (src, dst) = (IpAddr::V4(ip.src()), IpAddr::V4(ip.dst()));
    let fields = IpFields {
        ident: u32::from(ip.ident()),
        dont_frag: ip.dont_frag(),
        ecn: ip.tos() & 0x03,
    };
    transport(
        src,
        dst,
        ip.ttl(),
        fields,
        ip.protocol(),
        ip.payload(),
        false,
    )
}

fn parse_v6(packet: &[u8]) -> Result<Parsed<'_>, Error> {
    let ip = Ipv6Packet::new_checked(packet)?;
    let (src, dst) = (IpAddr::V6(ip.src()), IpAddr::V6(ip.dst()));
    let (proto, payload) = match ip.upper_layer() {
        Ok(u) => u,
        Err(Error::Malformed { .. }) => return Ok(Parsed::Other),
        Err(e) => return Err(e),
    };
    let fields = IpFields {
        ident: ip.flow_label(),
        dont_frag: false,
        ecn: ip.traffic_class() & 0x03,
    };
    transport(src, dst, ip.hop_limit(), fields, proto, payload, true)
}

fn transport<'a>(
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
    ip: IpFields,
    proto: u8,
    payload: &'a [u8],
    v6: bool,
) -> Result<Parsed<'a>, Error> {
    match proto {
        PROTO_TCP => {
            let t = TcpPacket::new_checked(payload)?;
            Ok(Parsed::Tcp {
                src,
                dst,
                ttl,
                sport: t.src_port(),
                dport: t.dst_port(),
                seq: t.seq(),
                ack: t.ack(),
                flags: t.flags(),
                window: t.window(),
                ip,
                reserved: t.reserved(),
                urgent: t.urgent(),
                options: t.options(),
                data_len: u16::try_from(t.payload().len()).unwrap_or(u16::MAX),
            })
        }
        PROTO_UDP => {
            let u = UdpPacket::new_checked(payload)?;
            if !checksum::received_ok(src, dst, PROTO_UDP, payload, 6) {
                return Err(Error::Checksum { what: "udp" });
            }
            Ok(Parsed::Udp {
                src,
                dst,
                ttl,
                sport: u.src_port(),
                dport: u.dst_port(),
                payload: u.payload(),
            })
        }
        PROTO_SCTP => {
            let p = SctpPacket::new_checked(payload)?;
            Ok(Parsed::Sctp {
                src,
                dst,
                ttl,
                sport: p.src_port(),
                dport: p.dst_port(),
                vtag: p.vtag(),
                chunk: p.chunk_type(),
                chunk_flags: p.chunk_flags(),
                initiate_tag: p.initiate_tag(),
            })
        }
        PROTO_ICMP if !v6 => {
            let m = IcmpPacket::new_checked(payload)?;
            if !checksum::verify(payload, 0) {
                return Err(Error::Checksum { what: "icmp" });
            }
            icmp_v4(src, dst, ttl, m)
        }
        PROTO_ICMPV6 if v6 => {
            let m = IcmpPacket::new_checked(payload)?;
            let initial = checksum::pseudo(src, dst, PROTO_ICMPV6, payload.len());
            if !checksum::verify(payload, initial) {
                return Err(Error::Checksum { what: "icmpv6" });
            }
            icmp_v6(src, dst, ttl, m)
        }
        _ => Ok(Parsed::Other),
    }
}

fn icmp_v4<'a>(src: IpAddr, dst: IpAddr, ttl: u8, m: IcmpPacket<'a>) -> Result<Parsed<'a>, Error> {
    use icmp::v4::*;
    let (ident, seq) = (m.ident(), m.seq());
    Ok(match m.msg_type() {
        t @ (ECHO_REQUEST | ECHO_REPLY) => Parsed::IcmpEcho {
            src,
            dst,
            ttl,
            reply: t == ECHO_REPLY,
            ident,
            seq,
        },
        t @ (TIMESTAMP_REQUEST | TIMESTAMP_REPLY) => {
            let b = m.body();
            match (be32(b, 0), be32(b, 4), be32(b, 8)) {
                (Some(originate), Some(receive), Some(transmit)) => Parsed::IcmpTimestamp {
                    src,
                    dst,
                    ttl,
                    reply: t == TIMESTAMP_REPLY,
                    ident,
                    seq,
                    originate,
                    receive,
                    transmit,
                },
                _ => {
                    return Err(Error::Truncated {
                        what: "icmp timestamp",
                        need: 20,
                        have: 8 + b.len(),
                    })
                }
            }
        }
        t => match IcmpErrorKind::from_v4(t, m.code()) {
            Some(kind) => match quoted_v4(m.body()) {
                Some(quoted) => Parsed::IcmpError {
                    src,
                    dst,
                    ttl,
                    kind,
                    quoted,
                },
                None => Parsed::Other,
            },
            None => Parsed::Other,
        },
    })
}

fn icmp_v6<'a>(src: IpAddr, dst: IpAddr, ttl: u8, m: IcmpPacket<'a>) -> Result<Parsed<'a>, Error> {
    use icmp::v6::*;
    Ok(match m.msg_type() {
        t @ (ECHO_REQUEST | ECHO_REPLY) => Parsed::IcmpEcho {
            src,
            dst,
            ttl,
            reply: t == ECHO_REPLY,
            ident: m.ident(),
            seq: m.seq(),
        },
        t => match IcmpErrorKind::from_v6(t, m.code(), m.rest()) {
            Some(kind) => match quoted_v6(m.body()) {
                Some(quoted) => Parsed::IcmpError {
                    src,
                    dst,
                    ttl,
                    kind,
                    quoted,
                },
                None => Parsed::Other,
            },
            None => Parsed::Other,
        },
    })
}

/// Reads a quoted IPv4 packet: a whole header, then as much as is quoted.
fn quoted_v4(body: &[u8]) -> Option<Quoted> {
    let ip = Ipv4Packet::new_quoted(body).ok()?;
    let transport = if ip.frag_offset() == 0 {
        quoted_transport(
            ip.protocol(),
            ip.payload(),
            PROTO_ICMP,
            icmp::v4::ECHO_REQUEST,
        )
    } else {
        QuotedTransport::Other
    };
    Some(Quoted {
        src: IpAddr::V4(ip.src()),
        dst: IpAddr::V4(ip.dst()),
        proto: ip.protocol(),
        ip_id: ip.ident(),
        transport,
    })
}

/// Reads a quoted IPv6 packet, walking its extension headers as far as
/// they are quoted.
fn quoted_v6(body: &[u8]) -> Option<Quoted> {
    let ip = Ipv6Packet::new_quoted(body).ok()?;
    let (proto, transport) = match ip.upper_layer() {
        Ok((proto, rest)) => (
            proto,
            quoted_transport(proto, rest, PROTO_ICMPV6, icmp::v6::ECHO_REQUEST),
        ),
        Err(_) => (ip.next_header(), QuotedTransport::Other),
    };
    Some(Quoted {
        src: IpAddr::V6(ip.src()),
        dst: IpAddr::V6(ip.dst()),
        proto,
        ip_id: 0,
        transport,
    })
}

fn quoted_transport(proto: u8, t: &[u8], icmp_proto: u8, echo_request: u8) -> QuotedTransport {
    let ports = be16(t, 0).zip(be16(t, 2));
    match (proto, ports) {
        (PROTO_TCP, Some((sport, dport))) => QuotedTransport::Tcp {
            sport,
            dport,
            seq: be32(t, 4),
            ack: be32(t, 8),
            flags: t.get(13).map(|&f| TcpFlags(f)),
        },
        (PROTO_UDP, Some((sport, dport))) => QuotedTransport::Udp { sport, dport },
        (PROTO_SCTP, Some((sport, dport))) => QuotedTransport::Sctp {
            sport,
            dport,
            vtag: be32(t, 4),
            initiate_tag: match t.get(12) {
                Some(&crate::sctp::chunk::INIT) => be32(t, 16),
                _ => None,
            },
        },
        (p, _) if p == icmp_proto && t.first() == Some(&echo_request) => {
            match (be16(t, 4), be16(t, 6)) {
                (Some(ident), Some(seq)) => QuotedTransport::IcmpEcho { ident, seq },
                _ => QuotedTransport::Other,
            }
        }
        _ => QuotedTransport::Other,
    }
}

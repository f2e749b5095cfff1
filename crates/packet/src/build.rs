//! Builders that write a whole IP packet into a caller's buffer.
//!
//! Each builder is a small value (a "repr") whose `emit` writes the IP
//! header, the transport header and checksums into `&mut [u8]` and returns
//! the packet's length. IPv4 or IPv6 is chosen by the addresses; mixing the
//! two is an error. No allocation: the engine emits into a reused buffer.
//!
//! Probes should look like a real stack's packets, not a flood tool's: on
//! IPv4 the don't-fragment bit is set (as Linux does for TCP) and the IP ID
//! is whatever the caller derives (the probe modules take it from the
//! validation hash, so it varies); on IPv6 the same value becomes the flow
//! label. SYN probes should carry an MSS option ([`mss_option`]), or the
//! whole set a real client offers ([`client_syn_options`]).

use crate::checksum::{pseudo_v4, pseudo_v6};
use crate::error::Error;
use crate::icmp::{self, IcmpErrorKind};
use crate::ipv4::{self, Ipv4Repr};
use crate::ipv6::{self, Ipv6Repr};
use crate::tcp::{TcpFlags, TcpRepr};
use crate::{sctp, udp, PROTO_ICMP, PROTO_ICMPV6, PROTO_SCTP, PROTO_TCP, PROTO_UDP};
use std::net::IpAddr;

/// The 4-byte TCP maximum-segment-size option (kind 2, length 4).
pub fn mss_option(mss: u16) -> [u8; 4] {
    let m = mss.to_be_bytes();
    [2, 4, m[0], m[1]]
}

/// Length of [`client_syn_options`]' result.
pub const CLIENT_SYN_OPTIONS_LEN: usize = 20;

/// The options of a real client's SYN, in Linux's order: MSS, SACK
/// permitted, timestamps (`tsval`, echo 0), NOP, window scale `wscale`
/// (RFC 7323 and RFC 2018). Offering all four makes a stack's SYN/ACK show
/// which of them it echoes and in what order, which is what single-packet
/// OS detection reads; Linux, Windows, the BSDs and macOS all send these
/// four in their SYNs (in different orders), so the probe looks like one of
/// their clients rather than a scanner's bare-MSS SYN.
pub fn client_syn_options(mss: u16, tsval: u32, wscale: u8) -> [u8; CLIENT_SYN_OPTIONS_LEN] {
    let m = mss.to_be_bytes();
    let t = tsval.to_be_bytes();
    [
        2, 4, m[0], m[1], // MSS
        4, 2, // SACK permitted
        8, 10, t[0], t[1], t[2], t[3], 0, 0, 0, 0, // timestamps: TSval, TSecr 0
        1, // NOP
        3, 3, wscale, // window scale
    ]
}

/// Writes the IP header for a payload of `payload_len` bytes of `proto`
/// (after checking the whole packet fits) and returns the header length
/// and the transport pseudo-header sum (0 for ICMPv4, which has none).
fn ip_header(
    buf: &mut [u8],
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    ttl: u8,
    ip_id: u16,
    payload_len: usize,
) -> Result<(usize, u64), Error> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let proto = if proto == PROTO_ICMPV6 {
                PROTO_ICMP
            } else {
                proto
            };
            fits(buf, ipv4::HEADER_LEN + payload_len)?;
            Ipv4Repr {
                src: s,
                dst: d,
                protocol: proto,
                payload_len,
                ttl,
                ident: ip_id,
                dont_frag: true,
            }
            .emit(buf)?;
            let len16 = u16::try_from(payload_len).unwrap_or(u16::MAX);
            let pseudo = if proto == PROTO_ICMP {
                0
            } else {
                pseudo_v4(s, d, proto, len16)
            };
            Ok((ipv4::HEADER_LEN, pseudo))
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let proto = if proto == PROTO_ICMP {
                PROTO_ICMPV6
            } else {
                proto
            };
            fits(buf, ipv6::HEADER_LEN + payload_len)?;
            Ipv6Repr {
                src: s,
                dst: d,
                next_header: proto,
                payload_len,
                hop_limit: ttl,
                flow_label: u32::from(ip_id),
            }
            .emit(buf)?;
            let len32 = u32::try_from(payload_len).unwrap_or(u32::MAX);
            Ok((ipv6::HEADER_LEN, pseudo_v6(s, d, proto, len32)))
        }
        _ => Err(Error::FamilyMismatch),
    }
}

fn fits(buf: &[u8], need: usize) -> Result<(), Error> {
    if buf.len() < need {
        Err(Error::BufferTooSmall {
            need,
            have: buf.len(),
        })
    } else {
        Ok(())
    }
}

/// A TCP probe (or, in tests and simulations, a TCP reply).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpProbe<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address (same family as `src`).
    pub dst: IpAddr,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// IPv4 identification; IPv6 flow label.
    pub ip_id: u16,
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (0 unless `flags` has ACK, as real stacks do).
    pub ack: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Window size.
    pub window: u16,
    /// Raw TCP options (at most 40 bytes, zero-padded to 4).
    pub options: &'a [u8],
}

impl TcpProbe<'_> {
    /// Writes the packet into `buf` and returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let tcp = TcpRepr {
            src_port: self.sport,
            dst_port: self.dport,
            seq: self.seq,
            ack: self.ack,
            flags: self.flags,
            window: self.window,
            options: self.options,
            payload: &[],
        };
        if self.options.len() > crate::tcp::MAX_OPTIONS_LEN {
            return Err(Error::OptionsTooLong(self.options.len()));
        }
        let (hl, pseudo) = ip_header(
            buf,
            self.src,
            self.dst,
            PROTO_TCP,
            self.ttl,
            self.ip_id,
            tcp.len(),
        )?;
        tcp.emit(&mut buf[hl..], pseudo)?;
        Ok(hl + tcp.len())
    }
}

/// A UDP probe with its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpProbe<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address (same family as `src`).
    pub dst: IpAddr,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// IPv4 identification; IPv6 flow label.
    pub ip_id: u16,
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Datagram data.
    pub payload: &'a [u8],
}

impl UdpProbe<'_> {
    /// Writes the packet into `buf` and returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let len = udp::HEADER_LEN + self.payload.len();
        let (hl, pseudo) = ip_header(
            buf, self.src, self.dst, PROTO_UDP, self.ttl, self.ip_id, len,
        )?;
        let n = udp::emit(&mut buf[hl..], self.sport, self.dport, self.payload, pseudo)?;
        Ok(hl + n)
    }
}

/// An SCTP packet: the common header and whole chunks (an INIT probe, or,
/// in tests and simulations, an INIT ACK or ABORT reply).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SctpProbe<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address (same family as `src`).
    pub dst: IpAddr,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// IPv4 identification; IPv6 flow label.
    pub ip_id: u16,
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Verification tag (0 in a packet carrying INIT).
    pub vtag: u32,
    /// The chunks, each padded to a multiple of 4 bytes
    /// ([`sctp::InitChunk::to_bytes`] makes an INIT).
    pub chunks: &'a [u8],
}

impl SctpProbe<'_> {
    /// Writes the packet into `buf` (with its CRC32c) and returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let len = sctp::HEADER_LEN + self.chunks.len();
        let (hl, _) = ip_header(
            buf, self.src, self.dst, PROTO_SCTP, self.ttl, self.ip_id, len,
        )?;
        let n = sctp::emit(
            &mut buf[hl..],
            self.sport,
            self.dport,
            self.vtag,
            self.chunks,
        )?;
        Ok(hl + n)
    }
}

/// An ICMP or ICMPv6 echo request (or reply).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpEcho<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address (same family as `src`).
    pub dst: IpAddr,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// IPv4 identification; IPv6 flow label.
    pub ip_id: u16,
    /// An echo reply instead of a request.
    pub reply: bool,
    /// Identifier.
    pub ident: u16,
    /// Sequence number.
    pub seq: u16,
    /// Echo data.
    pub payload: &'a [u8],
}

impl IcmpEcho<'_> {
    /// Writes the packet into `buf` and returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let len = icmp::HEADER_LEN + self.payload.len();
        let (hl, pseudo) = ip_header(
            buf, self.src, self.dst, PROTO_ICMP, self.ttl, self.ip_id, len,
        )?;
        let t = match (self.src, self.reply) {
            (IpAddr::V4(_), false) => icmp::v4::ECHO_REQUEST,
            (IpAddr::V4(_), true) => icmp::v4::ECHO_REPLY,
            (IpAddr::V6(_), false) => icmp::v6::ECHO_REQUEST,
            (IpAddr::V6(_), true) => icmp::v6::ECHO_REPLY,
        };
        let rest = u32::from(self.ident) << 16 | u32::from(self.seq);
        let n = icmp::emit(&mut buf[hl..], t, 0, rest, self.payload, pseudo)?;
        Ok(hl + n)
    }
}

/// An ICMPv4 timestamp request (or reply); there is no ICMPv6 equivalent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpTimestamp {
    /// Source address (IPv4).
    pub src: IpAddr,
    /// Destination address (IPv4).
    pub dst: IpAddr,
    /// TTL.
    pub ttl: u8,
    /// IP identification.
    pub ip_id: u16,
    /// A timestamp reply instead of a request.
    pub reply: bool,
    /// Identifier.
    pub ident: u16,
    /// Sequence number.
    pub seq: u16,
    /// Originate timestamp (ms since midnight UTC).
    pub originate: u32,
    /// Receive timestamp (0 in requests).
    pub receive: u32,
    /// Transmit timestamp (0 in requests).
    pub transmit: u32,
}

impl IcmpTimestamp {
    /// Writes the packet into `buf` and returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        if !self.src.is_ipv4() {
            return Err(Error::FamilyMismatch);
        }
        let mut body = [0u8; 12];
        body[0..4].copy_from_slice(&self.originate.to_be_bytes());
        body[4..8].copy_from_slice(&self.receive.to_be_bytes());
        body[8..12].copy_from_slice(&self.transmit.to_be_bytes());
        let len = icmp::HEADER_LEN + body.len();
        let (hl, _) = ip_header(
            buf, self.src, self.dst, PROTO_ICMP, self.ttl, self.ip_id, len,
        )?;
        let t = if self.reply {
            icmp::v4::TIMESTAMP_REPLY
        } else {
            icmp::v4::TIMESTAMP_REQUEST
        };
        let rest = u32::from(self.ident) << 16 | u32::from(self.seq);
        let n = icmp::emit(&mut buf[hl..], t, 0, rest, &body, 0)?;
        Ok(hl + n)
    }
}

/// An ICMP error quoting an offending packet, as a router or host sends
/// it: used by tests and the simulated network to craft replies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpError<'a> {
    /// The reporting router or host.
    pub src: IpAddr,
    /// Where the error goes (the offending packet's source).
    pub dst: IpAddr,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// IPv4 identification; IPv6 flow label.
    pub ip_id: u16,
    /// The error.
    pub kind: IcmpErrorKind,
    /// The offending packet from its IP header on; cut so the error stays
    /// within 576 bytes (IPv4, RFC 1812) or 1280 bytes (IPv6, RFC 4443).
    pub quoted: &'a [u8],
}

impl IcmpError<'_> {
    /// Writes the packet into `buf` and returns its length. Fails with
    /// [`Error::FamilyMismatch`] for a kind the family lacks.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let (hl, max, (t, code, rest)) = match self.src {
            IpAddr::V4(_) => (
                ipv4::HEADER_LEN,
                576,
                self.kind.to_v4().ok_or(Error::FamilyMismatch)?,
            ),
            IpAddr::V6(_) => (
                ipv6::HEADER_LEN,
                1280,
                self.kind.to_v6().ok_or(Error::FamilyMismatch)?,
            ),
        };
        let room = max - hl - icmp::HEADER_LEN;
        let quoted = &self.quoted[..self.quoted.len().min(room)];
        let len = icmp::HEADER_LEN + quoted.len();
        let (hl, pseudo) = ip_header(
            buf, self.src, self.dst, PROTO_ICMP, self.ttl, self.ip_id, len,
        )?;
        let n = icmp::emit(&mut buf[hl..], t, code, rest, quoted, pseudo)?;
        Ok(hl + n)
    }
}

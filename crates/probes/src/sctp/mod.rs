//! SCTP INIT probes, shared by the INIT scan (`-sY`, [`init`]) and the
//! INIT ping (`-PY`, [`crate::discovery::SctpPing`]).
//!
//! Both send the same packet, the first of an SCTP association, and both
//! must recognise the same answers to it; they differ only in what an
//! answer means (a port state, or "the host is up"). So the INIT's bytes
//! and the validation of every answer live here once ([`build`],
//! [`answer`]) and each module keeps only its reading.
//!
//! # Validation
//! With `h = key.hash(src, dst, dport)` and [`ProbeNumbers::from_hash`]:
//! - **initiate tag** = the low 32 bits of `h` (1 if they are 0: the tag
//!   must not be 0), **initial TSN** = its high 32 bits;
//! - **source port**, **IP ID** (IPv6: flow label): the TCP scans'.
//!
//! A reply must come from the probed address and port to one of the
//! probe's source ports, and:
//! - INIT ACK: carry our initiate tag as its verification tag (RFC 9260
//!   section 8.5: every packet to us carries the tag we chose);
//! - ABORT: carry our initiate tag too (section 8.5.1 rule A: an INIT
//!   answered by ABORT gets the INIT's initiate tag, T bit clear), or, from stacks
//!   that reflect the tag instead (T bit set), the 0 of our INIT's common
//!   header. That form carries no secret, so like TCP's bare SYN only
//!   addresses and ports vouch for it;
//! - ICMP error: quote our INIT: our address and source port, the target
//!   and port, a zero verification tag, our initiate tag when quoted that
//!   far, and (IPv4) our IP ID.
//!
//! Every other chunk is dropped.

pub mod init;

pub use init::SctpInitScan;

use crate::tcp::{ProbeNumbers, ATTEMPT_SLOTS};
use portolan_engine::{ProbeContext, ProbeSpec};
use portolan_packet::sctp::{chunk, InitChunk, FLAG_T};
use portolan_packet::{parse, IcmpErrorKind, Parsed, QuotedTransport, SctpProbe, PROTO_SCTP};
use std::net::IpAddr;

/// The receiver window the INIT advertises (a common Linux value).
pub const INIT_A_RWND: u32 = 106_496;
/// Outbound streams the INIT asks for (Linux's default).
pub const INIT_OUTBOUND_STREAMS: u16 = 10;
/// Inbound streams the INIT accepts (Linux's default).
pub const INIT_INBOUND_STREAMS: u16 = 65535;

/// The initiate tag of a probe with numbers `n` (never 0).
fn initiate_tag(n: &ProbeNumbers) -> u32 {
    n.seq.max(1)
}

/// The INIT chunk of a probe with numbers `n`.
pub fn init_chunk(n: &ProbeNumbers) -> InitChunk {
    InitChunk {
        initiate_tag: initiate_tag(n),
        a_rwnd: INIT_A_RWND,
        outbound_streams: INIT_OUTBOUND_STREAMS,
        inbound_streams: INIT_INBOUND_STREAMS,
        initial_tsn: n.ack,
    }
}

/// Writes the INIT of `probe` into `buf` (see
/// [`portolan_engine::ProbeModule::build`]).
pub fn build(ctx: &ProbeContext, probe: &ProbeSpec, buf: &mut [u8]) -> usize {
    let Some(src) = ctx.src_for(probe.dst) else {
        return 0;
    };
    let n = ProbeNumbers::of(ctx, src, probe.dst, probe.dport);
    SctpProbe {
        src,
        dst: probe.dst,
        ttl: ctx.ttl,
        ip_id: n.ip_id_of(probe.attempt),
        sport: n.source_port(ctx, probe.attempt),
        dport: probe.dport,
        vtag: 0,
        chunks: &init_chunk(&n).to_bytes(chunk::INIT),
    }
    .emit(buf)
    .unwrap_or(0)
}

/// What came back to an INIT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answered {
    /// An INIT ACK from the target: something listens.
    InitAck,
    /// An ABORT from the target: nothing listens.
    Abort,
    /// An ICMP error quoting the INIT.
    Icmp {
        /// Who sent it (the target, or a router or filter on the way).
        sender: IpAddr,
        /// What it says.
        kind: IcmpErrorKind,
    },
}

/// A validated answer to one of the scan's INITs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The probed host.
    pub dst: IpAddr,
    /// The probed port.
    pub dport: u16,
    /// The attempt answered, when the source port tells.
    pub attempt: Option<u8>,
    /// TTL / hop limit of the answer.
    pub ttl: u8,
    /// What came back.
    pub what: Answered,
}

/// Parses `packet` and returns it as an answer to one of the INITs keyed
/// by `ctx`, or `None` if it is not one (see the module docs).
pub fn answer(ctx: &ProbeContext, packet: &[u8]) -> Option<Answer> {
    match parse(packet).ok()? {
        Parsed::Sctp {
            src,
            dst,
            ttl,
            sport,
            dport,
            vtag,
            chunk: c,
            chunk_flags,
            ..
        } => {
            if ctx.src_for(src) != Some(dst) {
                return None;
            }
            let n = ProbeNumbers::of(ctx, dst, src, sport);
            let attempt = n.reply_attempt(ctx, dport)?;
            let ours = vtag == initiate_tag(&n);
            let what = match c {
                chunk::INIT_ACK if ours => Answered::InitAck,
                chunk::ABORT if ours || (chunk_flags & FLAG_T != 0 && vtag == 0) => Answered::Abort,
                _ => return None,
            };
            Some(Answer {
                dst: src,
                dport: sport,
                attempt,
                ttl,
                what,
            })
        }
        Parsed::IcmpError {
            src: sender,
            dst,
            ttl,
            kind,
            quoted,
        } => {
            let QuotedTransport::Sctp {
                sport,
                dport,
                vtag,
                initiate_tag: quoted_tag,
            } = quoted.transport
            else {
                return None;
            };
            if quoted.proto != PROTO_SCTP
                || quoted.src != dst
                || ctx.src_for(quoted.dst) != Some(dst)
            {
                return None;
            }
            let n = ProbeNumbers::of(ctx, quoted.src, quoted.dst, dport);
            let attempt = n.reply_attempt(ctx, sport)?;
            if vtag.is_some_and(|t| t != 0) || quoted_tag.is_some_and(|t| t != initiate_tag(&n)) {
                return None;
            }
            if quoted.dst.is_ipv4() {
                // The quoted IP ID is ours plus the attempt (any attempt
                // with `-g`, where the port cannot tell it).
                let off = quoted.ip_id.wrapping_sub(n.ip_id);
                let ok = off <= u16::from(u8::MAX)
                    && attempt.is_none_or(|a| off % ATTEMPT_SLOTS == u16::from(a));
                if !ok {
                    return None;
                }
            }
            Some(Answer {
                dst: quoted.dst,
                dport,
                attempt,
                ttl,
                what: Answered::Icmp { sender, kind },
            })
        }
        _ => None,
    }
}

/// Whether an ICMP error is "this protocol is not spoken here": ICMPv4
/// protocol unreachable, ICMPv6 parameter problem "unrecognised next
/// header".
pub fn is_proto_unreach(v6: bool, kind: IcmpErrorKind) -> bool {
    match kind {
        IcmpErrorKind::Unreach { code: 2 } => !v6,
        IcmpErrorKind::ParamProblem { code: 1 } => v6,
        _ => false,
    }
}

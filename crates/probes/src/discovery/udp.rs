//! UDP ping (`-PU`): an empty datagram to a port that is probably closed.
//!
//! A closed UDP port makes the host answer with ICMP port unreachable,
//! which proves it up (reason `port-unreach`); an open one may answer with
//! data (`udp-response`). Any ICMP unreachable counts only if the target
//! itself sent it: the same message from a router on the way says nothing
//! about the host and is ignored, as is every other ICMP error.
//!
//! Numbers: the source port and IP ID are the TCP scans' (see
//! [`crate::tcp::ProbeNumbers`]), derived from the hash of (source,
//! target, port). A UDP reply must come from the probed port to one of the
//! probe's source ports; an ICMP error must quote our probe: our address
//! and source port, the target's address and port, and (IPv4) its IP ID.

use super::{host_up, SILENT};
use crate::icmp::unreach_reason;
use crate::tcp::ProbeNumbers;
use portolan_engine::{ProbeContext, ProbeModule, ProbeSpec, Reply};
use portolan_model::{PortState, Reason, ScanType};
use portolan_packet::{parse, IcmpErrorKind, Parsed, QuotedTransport, UdpProbe, PROTO_UDP};

/// The UDP ping module.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UdpPing;

impl UdpPing {
    /// A UDP ping sending empty datagrams.
    pub fn new() -> Self {
        UdpPing
    }
}

impl ProbeModule for UdpPing {
    fn scan_type(&self) -> ScanType {
        ScanType::Udp
    }

    fn build(&self, ctx: &ProbeContext, probe: &ProbeSpec, buf: &mut [u8]) -> usize {
        let Some(src) = ctx.src_for(probe.dst) else {
            return 0;
        };
        let n = ProbeNumbers::of(ctx, src, probe.dst, probe.dport);
        UdpProbe {
            src,
            dst: probe.dst,
            ttl: ctx.ttl,
            ip_id: n.ip_id_of(probe.attempt),
            sport: n.source_port(ctx, probe.attempt),
            dport: probe.dport,
            payload: &[],
        }
        .emit(buf)
        .unwrap_or(0)
    }

    fn classify(&self, ctx: &ProbeContext, packet: &[u8]) -> Option<Reply> {
        match parse(packet).ok()? {
            Parsed::Udp {
                src,
                dst,
                ttl,
                sport,
                dport,
                ..
            } => {
                if ctx.src_for(src) != Some(dst) {
                    return None;
                }
                let n = ProbeNumbers::of(ctx, dst, src, sport);
                let attempt = n.reply_attempt(ctx, dport)?;
                Some(host_up(src, sport, attempt, Reason::UdpResponse, ttl))
            }
            Parsed::IcmpError {
                src: sender,
                dst,
                ttl,
                kind: IcmpErrorKind::Unreach { code },
                quoted,
            } => {
                let QuotedTransport::Udp { sport, dport } = quoted.transport else {
                    return None;
                };
                // Only the target itself shows itself up.
                if sender != quoted.dst
                    || quoted.proto != PROTO_UDP
                    || quoted.src != dst
                    || ctx.src_for(quoted.dst) != Some(dst)
                {
                    return None;
                }
                let reason = unreach_reason(sender.is_ipv6(), code)?;
                let n = ProbeNumbers::of(ctx, quoted.src, quoted.dst, dport);
                let attempt = n.reply_attempt(ctx, sport)?;
                if quoted.dst.is_ipv4() {
                    // The quoted IP ID is ours plus the attempt (any attempt
                    // with `-g`, where the port cannot tell it).
                    let off = quoted.ip_id.wrapping_sub(n.ip_id);
                    let ok = off <= u16::from(u8::MAX)
                        && attempt.is_none_or(|a| off % crate::tcp::ATTEMPT_SLOTS == u16::from(a));
                    if !ok {
                        return None;
                    }
                }
                Some(host_up(quoted.dst, dport, attempt, reason, ttl))
            }
            _ => None,
        }
    }

    fn no_reply(&self) -> (PortState, Reason) {
        SILENT
    }
}

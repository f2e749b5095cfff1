//! UDP scan (`-sU`): a datagram to each port, and nmap's rules for what
//! comes back.
//!
//! UDP has no handshake, so an open port only shows itself by answering,
//! and a service answers only a request it understands. Each well-known
//! port therefore gets a protocol request from the payload table
//! ([`payloads`], data in `data/udp-payloads.txt`); other ports get an
//! empty datagram, which a closed port still answers with an ICMP port
//! unreachable.
//!
//! # Rules ([`RULES`])
//! Any UDP reply from the port is open; an ICMP port unreachable from the
//! probed host itself is closed; other unreachables (and a port
//! unreachable sent by some other host, such as a firewall rejecting on
//! the target's behalf, as nmap reads it too) are filtered; silence is
//! open|filtered.
//!
//! # Stateless validation
//! As for TCP ([`crate::tcp`]), nothing is remembered per probe: the
//! source port is `-g`'s or [`ProbeNumbers::sport`] of the keyed hash of
//! (our address, target, port), plus the attempt, and the IP ID (IPv6:
//! flow label) is the hash's too. A reply is accepted only if:
//! - UDP: it comes from the probed address and port to our address and a
//!   source port of that probe. A service whose entry says
//!   `reply-from any-port` (TFTP answers from a fresh port) may answer
//!   from any port, if the destination is a source port of the probe to
//!   that service's port (not with `-g`, where nothing tells probes
//!   apart).
//! - ICMP unreachable: the quoted datagram is UDP from us to the target,
//!   with a source port of the probe to the quoted destination port.
//!
//! With `-g` every probe has the same source port and UDP echoes nothing
//! else of ours, so a datagram from any port of the target to `-g`'s port
//! counts as that port's answer (with no attempt number): validation is
//! then by addresses and ports only.
//!
//! Our own probes, seen leaving on loopback, are recognised as probes
//! (our address, a source port matching the hash) and dropped, as are ICMP
//! errors our own kernel sends about the target's replies (nothing listens
//! on a raw scanner's ports), quoted replies being recognisable the same
//! way.

pub mod payloads;
#[cfg(test)]
mod wellformed;

pub use payloads::{Payload, PayloadError, PayloadTable};

use crate::icmp::unreach_reason;
use crate::rules::{self, rule, Observed, Response::*, Rule};
use crate::tcp::ProbeNumbers;
use portolan_engine::{ProbeContext, ProbeModule, ProbeSpec, Reply};
use portolan_model::PortState::*;
use portolan_model::{PortState, Reason, ScanType};
use portolan_packet::{parse, IcmpErrorKind, Parsed, QuotedTransport, UdpProbe, PROTO_UDP};
use std::net::IpAddr;
use std::sync::Arc;

/// nmap's UDP-scan rules.
pub const RULES: &[Rule] = &[
    // Any UDP response from the target port → open
    rule(Udp, Open),
    // ICMP port unreachable (type 3 code 3; ICMPv6 type 1 code 4) from the target → closed
    rule(IcmpPortUnreachable, Closed),
    // Other ICMP unreachable (type 3 code 0/1/2/9/10/13; ICMPv6 type 1 code 0-3/5/6) → filtered
    rule(IcmpUnreachable, Filtered),
    // No response received, even after retransmissions → open|filtered
    rule(NoResponse, OpenFiltered),
];

/// The UDP scan module.
#[derive(Clone, Debug)]
pub struct UdpScan {
    payloads: Arc<PayloadTable>,
}

impl Default for UdpScan {
    /// With the built-in payloads.
    fn default() -> Self {
        UdpScan::new(Arc::new(PayloadTable::builtin().clone()))
    }
}

impl UdpScan {
    /// A UDP scan sending `payloads` (an empty table sends only empty
    /// datagrams).
    pub fn new(payloads: Arc<PayloadTable>) -> Self {
        UdpScan { payloads }
    }

    /// The payload table in use.
    pub fn payloads(&self) -> &PayloadTable {
        &self.payloads
    }

    /// The rule table.
    pub fn rules(&self) -> &'static [Rule] {
        RULES
    }

    /// Whether a datagram from `src:sport` to `dst:dport` is one of our
    /// probes (or, read the other way, whether a quoted datagram is).
    fn is_probe(ctx: &ProbeContext, src: IpAddr, dst: IpAddr, sport: u16, dport: u16) -> bool {
        ctx.src_for(dst) == Some(src) && {
            let n = ProbeNumbers::of(ctx, src, dst, dport);
            n.reply_attempt(ctx, sport).is_some()
        }
    }

    /// The probe (port, attempt) a UDP datagram from `target:sport` to our
    /// port `dport` answers, if any.
    fn answered(
        &self,
        ctx: &ProbeContext,
        us: IpAddr,
        target: IpAddr,
        sport: u16,
        dport: u16,
    ) -> Option<(u16, Option<u8>)> {
        let n = ProbeNumbers::of(ctx, us, target, sport);
        if let Some(a) = n.reply_attempt(ctx, dport) {
            return Some((sport, a));
        }
        if ctx.source_port.is_some() {
            return None;
        }
        self.payloads
            .any_port_services()
            .iter()
            .filter(|&&p| p != sport)
            .find_map(|&p| {
                let n = ProbeNumbers::of(ctx, us, target, p);
                n.attempt_of(dport).map(|a| (p, Some(a)))
            })
    }

    fn reply(
        dst: IpAddr,
        dport: u16,
        attempt: Option<u8>,
        observed: Observed,
        ttl: u8,
    ) -> Option<Reply> {
        let (state, reason) = rules::lookup(RULES, observed)?;
        Some(Reply {
            dst,
            dport,
            attempt,
            state,
            reason,
            ttl,
            traits: None,
            mac: None,
        })
    }
}

impl ProbeModule for UdpScan {
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
            payload: self.payloads.bytes_for(probe.dport, probe.attempt),
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
                if ctx.src_for(src) != Some(dst) || Self::is_probe(ctx, src, dst, sport, dport) {
                    return None;
                }
                let (port, attempt) = self.answered(ctx, dst, src, sport, dport)?;
                Self::reply(src, port, attempt, Observed::Udp, ttl)
            }
            Parsed::IcmpError {
                src: sender,
                dst,
                ttl,
                kind,
                quoted,
            } => {
                let IcmpErrorKind::Unreach { code } = kind else {
                    return None;
                };
                let reason = unreach_reason(sender.is_ipv6(), code)?;
                let QuotedTransport::Udp { sport, dport } = quoted.transport else {
                    return None;
                };
                if quoted.proto != PROTO_UDP
                    || quoted.src != dst
                    || ctx.src_for(quoted.dst) != Some(dst)
                    // Our kernel's complaint about a reply it had no socket for.
                    || Self::is_probe(ctx, quoted.dst, quoted.src, dport, sport)
                {
                    return None;
                }
                let n = ProbeNumbers::of(ctx, quoted.src, quoted.dst, dport);
                let attempt = n.reply_attempt(ctx, sport)?;
                let observed = match reason {
                    Reason::PortUnreach if sender != quoted.dst => Observed::ForeignPortUnreachable,
                    r => Observed::IcmpUnreachable(r),
                };
                Self::reply(quoted.dst, dport, attempt, observed, ttl)
            }
            _ => None,
        }
    }

    fn no_reply(&self) -> (PortState, Reason) {
        rules::no_reply(RULES)
    }
}

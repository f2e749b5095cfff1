//! SCTP INIT scan (`-sY`): half-open SCTP associations.
//!
//! The SCTP counterpart of the SYN scan: an INIT is what every SCTP client
//! sends first, a listening port answers it with an INIT ACK, a closed one
//! with an ABORT, and the scanner never sends the COOKIE ECHO that would
//! complete the association. A host without SCTP (the usual Linux without
//! the `sctp` module) answers with an ICMP protocol unreachable, which
//! nmap's rules read as filtered, like every unreachable; over IPv6 that
//! answer is a parameter problem "unrecognised next header" from the
//! target, read here as the same protocol unreachable.

use super::Answered;
use crate::icmp::unreach_reason;
use crate::rules::{self, rule, Observed, Response::*, Rule};
use portolan_engine::{ProbeContext, ProbeModule, ProbeSpec, Reply};
use portolan_model::PortState::*;
use portolan_model::{PortState, Reason, ScanType};
use portolan_packet::IcmpErrorKind;
use std::net::IpAddr;

/// nmap's SCTP INIT scan rules.
pub const RULES: &[Rule] = &[
    // INIT-ACK chunk → open
    rule(InitAck, Open),
    // ABORT chunk → closed
    rule(Abort, Closed),
    // ICMP unreachable (type 3, code 0, 1, 2, 3, 9, 10, or 13) → filtered
    rule(IcmpUnreachable, Filtered),
    // No response received (even after retransmissions) → filtered
    rule(NoResponse, Filtered),
];

/// The SCTP INIT scan module.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SctpInitScan;

impl SctpInitScan {
    /// An SCTP INIT scan.
    pub fn new() -> Self {
        SctpInitScan
    }

    /// The rule table.
    pub fn rules(&self) -> &'static [Rule] {
        RULES
    }
}

/// What an answer about `target` shows, in the rule table's terms
/// (`None`: nothing, such as an ICMP error that is no unreachable).
fn observed(target: IpAddr, what: Answered) -> Option<Observed> {
    match what {
        Answered::InitAck => Some(Observed::InitAck),
        Answered::Abort => Some(Observed::Abort),
        Answered::Icmp { sender, kind } => match kind {
            IcmpErrorKind::Unreach { code } => {
                unreach_reason(sender.is_ipv6(), code).map(Observed::IcmpUnreachable)
            }
            // Only the destination reads the next header it does not know.
            k if sender == target && super::is_proto_unreach(sender.is_ipv6(), k) => {
                Some(Observed::IcmpUnreachable(Reason::ProtoUnreach))
            }
            _ => None,
        },
    }
}

impl ProbeModule for SctpInitScan {
    fn scan_type(&self) -> ScanType {
        ScanType::SctpInit
    }

    fn build(&self, ctx: &ProbeContext, probe: &ProbeSpec, buf: &mut [u8]) -> usize {
        super::build(ctx, probe, buf)
    }

    fn classify(&self, ctx: &ProbeContext, packet: &[u8]) -> Option<Reply> {
        let a = super::answer(ctx, packet)?;
        let (state, reason) = rules::lookup(RULES, observed(a.dst, a.what)?)?;
        Some(Reply {
            dst: a.dst,
            dport: a.dport,
            attempt: a.attempt,
            state,
            reason,
            ttl: a.ttl,
            traits: None,
            mac: None,
        })
    }

    fn no_reply(&self) -> (PortState, Reason) {
        rules::no_reply(RULES)
    }
}

//! SCTP INIT ping (`-PY`): the first packet of an SCTP association.
//!
//! Hosts that filter ICMP and TCP often forget SCTP. A host with SCTP
//! answers an INIT with an INIT ACK if something listens on the port and
//! with an ABORT if not; a host without SCTP (Linux without the `sctp`
//! module, most desktops) answers with an ICMP protocol unreachable (IPv6:
//! parameter problem, unrecognised next header). All three prove the host
//! up (reasons `init-ack`, `abort`, `proto-unreach`). Every other ICMP
//! error, and a protocol unreachable sent by anyone but the target, says
//! nothing about the host and is ignored, as is every other chunk.
//!
//! The INIT and the validation of its answers are the INIT scan's
//! ([`crate::sctp`], which documents them).

use super::{host_up, SILENT};
use crate::sctp::{self, Answered};
use portolan_engine::{ProbeContext, ProbeModule, ProbeSpec, Reply};
use portolan_model::{PortState, Reason, ScanType};

pub use crate::sctp::{init_chunk, INIT_A_RWND, INIT_INBOUND_STREAMS, INIT_OUTBOUND_STREAMS};

/// The SCTP INIT ping module.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SctpPing;

impl SctpPing {
    /// An SCTP INIT ping.
    pub fn new() -> Self {
        SctpPing
    }
}

impl ProbeModule for SctpPing {
    fn scan_type(&self) -> ScanType {
        // Discovery results are host states, not port rows: see the
        // module docs of `discovery`.
        ScanType::Syn
    }

    fn build(&self, ctx: &ProbeContext, probe: &ProbeSpec, buf: &mut [u8]) -> usize {
        sctp::build(ctx, probe, buf)
    }

    fn classify(&self, ctx: &ProbeContext, packet: &[u8]) -> Option<Reply> {
        let a = sctp::answer(ctx, packet)?;
        let reason = match a.what {
            Answered::InitAck => Reason::InitAck,
            Answered::Abort => Reason::Abort,
            // Only the target itself shows itself up.
            Answered::Icmp { sender, kind }
                if sender == a.dst && sctp::is_proto_unreach(sender.is_ipv6(), kind) =>
            {
                Reason::ProtoUnreach
            }
            Answered::Icmp { .. } => return None,
        };
        Some(host_up(a.dst, a.dport, a.attempt, reason, a.ttl))
    }

    fn no_reply(&self) -> (PortState, Reason) {
        SILENT
    }
}

//! NULL scan (`-sN`): a segment with no flags at all.
//!
//! RFC 9293 says a closed port answers any segment without SYN, RST or
//! ACK with a RST, and an open (listening) port drops it. Stacks that
//! follow it (most Unix-likes) give closed ports away; open ports and
//! filtered ones both stay silent. Windows and some others reset every
//! port, which then all look closed.

use crate::rules::{rule, Response::*, Rule};
use portolan_model::PortState::*;
use portolan_packet::TcpFlags;

/// The probe's flags.
pub const FLAGS: TcpFlags = TcpFlags::NONE;

/// nmap's NULL-scan rules (shared by NULL, FIN and Xmas scans).
pub const RULES: &[Rule] = &[
    // TCP RST packet → closed
    rule(Rst, Closed),
    // ICMP unreachable (type 3 code 0/1/2/3/9/10/13) → filtered
    rule(IcmpUnreachable, Filtered),
    // No response received, even after retransmissions → open|filtered
    rule(NoResponse, OpenFiltered),
];

//! Maimon scan (`-sM`): FIN/ACK, after Uriel Maimon's observation.
//!
//! RFC 9293 says a FIN/ACK to any port should draw a RST, but many
//! BSD-derived stacks silently drop it when the port is open. So a RST
//! means closed and silence means open or filtered.

use crate::rules::{rule, Response::*, Rule};
use portolan_model::PortState::*;
use portolan_packet::TcpFlags;

/// The probe's flags.
pub const FLAGS: TcpFlags = TcpFlags(TcpFlags::FIN.0 | TcpFlags::ACK.0);

/// nmap's Maimon-scan rules.
pub const RULES: &[Rule] = &[
    // TCP RST response → closed
    rule(Rst, Closed),
    // ICMP unreachable (type 3 code 0/1/2/3/9/10/13) → filtered
    rule(IcmpUnreachable, Filtered),
    // No response received, even after retransmissions → open|filtered
    rule(NoResponse, OpenFiltered),
];

//! ACK scan (`-sA`): maps firewall rules, not open ports.
//!
//! An unsolicited ACK is answered with a RST by open and closed ports
//! alike (RFC 9293), so a reset only proves the probe got through:
//! the port is unfiltered. Silence or an ICMP error means a filter.

use crate::rules::{rule, Response::*, Rule};
use portolan_model::PortState::*;
use portolan_packet::TcpFlags;

/// The probe's flags.
pub const FLAGS: TcpFlags = TcpFlags::ACK;

/// nmap's ACK-scan rules.
pub const RULES: &[Rule] = &[
    // TCP RST response → unfiltered
    rule(Rst, Unfiltered),
    // ICMP unreachable (type 3 code 0/1/2/3/9/10/13) → filtered
    rule(IcmpUnreachable, Filtered),
    // No response received, even after retransmissions → filtered
    rule(NoResponse, Filtered),
];

//! Window scan (`-sW`): an ACK scan that reads the RST's window.
//!
//! Some stacks answer an unsolicited ACK on an open port with a RST that
//! advertises a non-zero window, and on a closed port with a zero one.
//! Most stacks do not, and then every port looks closed: like nmap, the
//! rules trust the window anyway.

use crate::rules::{rule, Response::*, Rule};
use portolan_model::PortState::*;
use portolan_packet::TcpFlags;

/// The probe's flags.
pub const FLAGS: TcpFlags = TcpFlags::ACK;

/// nmap's window-scan rules.
pub const RULES: &[Rule] = &[
    // TCP RST response with non-zero window field → open
    rule(RstNonZeroWindow, Open),
    // TCP RST response with zero window field → closed
    rule(RstZeroWindow, Closed),
    // ICMP unreachable (type 3 code 0/1/2/3/9/10/13) → filtered
    rule(IcmpUnreachable, Filtered),
    // No response received, even after retransmissions → filtered
    rule(NoResponse, Filtered),
];

//! SYN scan (`-sS`): half-open connection attempts.
//!
//! A SYN is what every client sends first, so open ports answer it the
//! way they answer anyone; the scanner never completes the handshake (the
//! kernel, knowing no connection, resets it). The probe carries an MSS
//! option like a real stack's SYN.

use crate::rules::{rule, Response::*, Rule};
use portolan_model::PortState::*;
use portolan_packet::TcpFlags;

/// The probe's flags.
pub const FLAGS: TcpFlags = TcpFlags::SYN;

/// nmap's SYN-scan rules.
pub const RULES: &[Rule] = &[
    // TCP SYN/ACK response → open
    rule(SynAck, Open),
    // TCP SYN without ACK (split handshake) → open
    rule(Syn, Open),
    // TCP RST response → closed
    rule(Rst, Closed),
    // ICMP unreachable (type 3 code 0/1/2/3/9/10/13) → filtered
    rule(IcmpUnreachable, Filtered),
    // No response received, even after retransmissions → filtered
    rule(NoResponse, Filtered),
];

//! Host-discovery probes: is anybody there?
//!
//! Before scanning ports nmap asks each target one or more cheap
//! questions and scans only the hosts that answer any of them. Each
//! question is a probe module here, run by the same engine as the port
//! scans (rate control, retransmission, stateless validation, target
//! permutation), plus the link-layer sweeps of [`neighbor`]:
//!
//! | flag | module | probe | "up" replies (reason) |
//! |---|---|---|---|
//! | `-PE` | [`IcmpPing::echo`] | ICMP / ICMPv6 echo request | echo reply (`echo-reply`) |
//! | `-PP` | [`IcmpPing::timestamp`] | ICMP timestamp request (IPv4) | timestamp reply (`timestamp-reply`) |
//! | `-PM` | [`IcmpPing::address_mask`] | ICMP address mask request (IPv4) | address mask reply (`addressmask-reply`) |
//! | `-PS` | [`TcpPing::syn`] | TCP SYN | SYN/ACK (`syn-ack`), RST (`reset`) |
//! | `-PA` | [`TcpPing::ack`] | TCP ACK | RST (`reset`) |
//! | `-PU` | [`UdpPing`] | empty UDP datagram | any UDP reply (`udp-response`), an ICMP unreachable *from the target* (`port-unreach`: a closed port proves the host up) |
//! | `-PY` | [`SctpPing`] | SCTP INIT | INIT ACK (`init-ack`), ABORT (`abort`), ICMP protocol unreachable *from the target* (`proto-unreach`: no SCTP there, but a host) |
//! | `-PR` | [`NeighborPing`] of [`neighbor::ArpSweep`] | ARP request | ARP reply (`arp-response`) |
//! | (IPv6 `-PR`) | [`NeighborPing`] of [`neighbor::NdSweep`] | Neighbor Solicitation | Neighbor Advertisement (`nd-response`) |
//!
//! # The host-as-port convention
//! [`ProbeModule`] speaks of ports, so discovery maps onto it like this:
//! - a probe's `dport` is the TCP, UDP or SCTP port of a port-based ping, and
//!   **0 for the ICMP pings** (which ignore it);
//! - a [`Reply`] with state [`PortState::Open`]
//!   means **"the host answered"**; its `reason` is the one nmap prints
//!   for the host (`echo-reply`, `syn-ack`, `reset`, `port-unreach`, ...)
//!   and its `ttl` the reply's;
//! - silence ([`ProbeModule::no_reply`]) is `Filtered` / `no-response`,
//!   i.e. "this probe did not show the host up". A host is up if any of
//!   its discovery probes got a reply, and down if none did.
//!
//! ICMP errors from routers ("host unreachable") are ignored: they do not
//! show the host up, and silence already counts as down. Only the UDP ping
//! (port unreachable) and the SCTP ping (protocol unreachable) take an
//! ICMP error as an answer, and only when the target itself sent it.
//!
//! # Scan type
//! The model has no discovery technique, yet [`ProbeModule::scan_type`]
//! must name one: the TCP pings report `ScanType::Syn` / `ScanType::Ack`,
//! the UDP ping `ScanType::Udp`, and the ICMP and SCTP pings `ScanType::Syn`
//! (meaningless; a `ScanType::Ping` variant in the model would fix it; the
//! SCTP ping keeps `Syn` rather than the `-sY` scan's `SctpInit`, so that
//! nothing reading discovery's scan types changes).
//! Discovery results are host states, not port rows, so output should not
//! rely on it.
//!
//! # Validation
//! As for the port scans, nothing is remembered per probe: every probe
//! carries numbers derived from `ctx.key`'s hash of (source, target,
//! port) and a reply is accepted only if it echoes them.
//! - TCP pings are the TCP scans' probes ([`crate::tcp`]): sequence
//!   number and source port from the hash, RSTs and SYN/ACKs checked
//!   against them.
//! - The UDP ping's source port comes from the hash like TCP's, and a
//!   quoted IPv4 probe's IP ID must match too.
//! - The SCTP ping's INIT carries the hash in its initiate tag (which
//!   every answer from an SCTP stack must carry as its verification tag)
//!   and initial TSN, with the TCP scans' source port and IP ID
//!   ([`crate::sctp`] has the details).
//! - ICMP pings hash with the request's type in the port's place (8 echo,
//!   128 ICMPv6 echo, 13 timestamp, 17 address mask): the identifier is
//!   the hash's low 16 bits, the sequence number its next 16 bits plus the
//!   attempt (so a reply tells which attempt it answers, modulo 16), and a
//!   timestamp request's originate timestamp carries 32 more bits that the
//!   reply must echo.

pub mod icmp;
pub mod link;
pub mod neighbor;
pub mod sctp;
pub mod tcp;
pub mod udp;

pub use icmp::{IcmpPing, IcmpPingKind};
pub use link::NeighborPing;
pub use neighbor::{ArpSweep, FrameLink, NdSweep, NeighborReply};
pub use sctp::SctpPing;
pub use tcp::TcpPing;
pub use udp::UdpPing;

use portolan_engine::{ProbeModule, Reply};
use portolan_model::{PortState, Reason};
use std::net::IpAddr;

/// nmap's default port of `-PS` and `-PA` without a port list.
pub const DEFAULT_TCP_PING_PORT: u16 = 80;
/// nmap's default port of `-PY` without a port list.
pub const DEFAULT_SCTP_PING_PORT: u16 = 80;
/// The port of the default discovery's TCP SYN ping.
pub const DEFAULT_SYN_PING_PORT: u16 = 443;
/// nmap's default port of `-PU` without a port list (one unlikely to be
/// open, so a closed-port ICMP error is the likely answer).
pub const DEFAULT_UDP_PING_PORT: u16 = 40125;

/// nmap's default discovery with raw-socket privileges, off the local
/// Ethernet segment: ICMP echo, TCP SYN to 443, TCP ACK to 80 and ICMP
/// timestamp (each IPv6 target gets the three that exist for IPv6). On a
/// directly connected Ethernet segment ARP / ND replace them, unless the
/// user disabled ARP ping.
pub const DEFAULT_PRIVILEGED: [(PingKind, u16); 4] = [
    (PingKind::Echo, 0),
    (PingKind::TcpSyn, DEFAULT_SYN_PING_PORT),
    (PingKind::TcpAck, DEFAULT_TCP_PING_PORT),
    (PingKind::Timestamp, 0),
];

/// One host-discovery technique that is a probe module.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PingKind {
    /// `-PE` (ICMPv6 echo for IPv6 targets).
    Echo,
    /// `-PP` (IPv4 only).
    Timestamp,
    /// `-PM` (IPv4 only).
    AddressMask,
    /// `-PS`.
    TcpSyn,
    /// `-PA`.
    TcpAck,
    /// `-PU`.
    Udp,
    /// `-PY`.
    SctpInit,
}

impl PingKind {
    /// Every kind.
    pub const ALL: [PingKind; 7] = [
        PingKind::Echo,
        PingKind::Timestamp,
        PingKind::AddressMask,
        PingKind::TcpSyn,
        PingKind::TcpAck,
        PingKind::Udp,
        PingKind::SctpInit,
    ];

    /// The nmap flag that selects it.
    pub fn flag(self) -> &'static str {
        match self {
            PingKind::Echo => "-PE",
            PingKind::Timestamp => "-PP",
            PingKind::AddressMask => "-PM",
            PingKind::TcpSyn => "-PS",
            PingKind::TcpAck => "-PA",
            PingKind::Udp => "-PU",
            PingKind::SctpInit => "-PY",
        }
    }

    /// Whether its probes go to ports (and so take a port list).
    pub fn uses_ports(self) -> bool {
        matches!(
            self,
            PingKind::TcpSyn | PingKind::TcpAck | PingKind::Udp | PingKind::SctpInit
        )
    }

    /// Whether it can probe IPv6 targets (timestamp and address mask
    /// requests exist only in ICMPv4: their modules build nothing for
    /// IPv6 targets).
    pub fn supports_ipv6(self) -> bool {
        !matches!(self, PingKind::Timestamp | PingKind::AddressMask)
    }
}

/// The probe module of a discovery technique.
pub fn ping_module(kind: PingKind) -> Box<dyn ProbeModule> {
    match kind {
        PingKind::Echo => Box::new(IcmpPing::echo()),
        PingKind::Timestamp => Box::new(IcmpPing::timestamp()),
        PingKind::AddressMask => Box::new(IcmpPing::address_mask()),
        PingKind::TcpSyn => Box::new(TcpPing::syn()),
        PingKind::TcpAck => Box::new(TcpPing::ack()),
        PingKind::Udp => Box::new(UdpPing::new()),
        PingKind::SctpInit => Box::new(SctpPing::new()),
    }
}

/// The reply that shows `dst` up.
pub(crate) fn host_up(
    dst: IpAddr,
    dport: u16,
    attempt: Option<u8>,
    reason: Reason,
    ttl: u8,
) -> Reply {
    Reply {
        dst,
        dport,
        attempt,
        state: PortState::Open,
        reason,
        ttl,
        traits: None,
        mac: None,
    }
}

/// What silence means for every discovery probe: not shown up.
pub(crate) const SILENT: (PortState, Reason) = (PortState::Filtered, Reason::NoResponse);

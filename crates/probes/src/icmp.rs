//! ICMP errors, classified once for every technique.
//!
//! An ICMP error about a probe usually comes from a router or firewall on
//! the way, not from the target: the port it concerns is read from the
//! quoted probe, and the reply is attributed to the quoted destination.
//! Which unreachable codes mean "a filter is in the way" is the same for
//! every TCP technique (and, except port unreachable, for UDP), so it is
//! decided here.

use portolan_model::Reason;

/// The reason an ICMP destination-unreachable code names, for the codes
/// that show a filter or an unreachable destination; `None` for codes that
/// say nothing about the port (ICMPv4 4 "fragmentation needed", 5 "source
/// route failed", the obsolete 6-8, 11-12 type-of-service, 14-15
/// precedence), which are ignored.
///
/// | ICMPv4 type 3 code | reason | ICMPv6 type 1 code | reason |
/// |---|---|---|---|
/// | 0 net unreachable | net-unreach | 0 no route | net-unreach |
/// | 1 host unreachable | host-unreach | 1 admin prohibited | admin-prohibited |
/// | 2 protocol unreachable | proto-unreach | 2 beyond scope of source | icmp-unreach |
/// | 3 port unreachable | port-unreach | 3 address unreachable | host-unreach |
/// | 9 net prohibited | net-prohibited | 4 port unreachable | port-unreach |
/// | 10 host prohibited | host-prohibited | 5 source address policy | admin-prohibited |
/// | 13 admin prohibited | admin-prohibited | 6 reject route | net-prohibited |
pub fn unreach_reason(v6: bool, code: u8) -> Option<Reason> {
    if v6 {
        match code {
            0 => Some(Reason::NetUnreach),
            1 => Some(Reason::AdminProhibited),
            2 => Some(Reason::IcmpUnreach),
            3 => Some(Reason::HostUnreach),
            4 => Some(Reason::PortUnreach),
            5 => Some(Reason::AdminProhibited),
            6 => Some(Reason::NetProhibited),
            _ => None,
        }
    } else {
        match code {
            0 => Some(Reason::NetUnreach),
            1 => Some(Reason::HostUnreach),
            2 => Some(Reason::ProtoUnreach),
            3 => Some(Reason::PortUnreach),
            9 => Some(Reason::NetProhibited),
            10 => Some(Reason::HostProhibited),
            13 => Some(Reason::AdminProhibited),
            _ => None,
        }
    }
}

/// Every ICMPv4 unreachable code [`unreach_reason`] classifies.
pub const V4_CODES: [u8; 7] = [0, 1, 2, 3, 9, 10, 13];

/// Every ICMPv6 unreachable code [`unreach_reason`] classifies.
pub const V6_CODES: [u8; 7] = [0, 1, 2, 3, 4, 5, 6];

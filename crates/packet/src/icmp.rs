//! ICMPv4 (RFC 792) and ICMPv6 (RFC 4443) messages.
//!
//! Both share one layout: type, code, checksum, four bytes whose meaning
//! depends on the type (identifier and sequence of an echo, the MTU of a
//! packet-too-big, unused in unreachables), then a body. One view serves
//! both; the type numbers differ and are in [`v4`] and [`v6`]. Errors are
//! told apart by [`IcmpErrorKind`], whose codes keep their family's
//! meaning (ICMPv4 unreachable code 3 is "port unreachable", ICMPv6 code 4
//! is).

use crate::checksum;
use crate::error::{need, Error};

/// Length of the fixed part of an ICMP message.
pub const HEADER_LEN: usize = 8;

/// ICMPv4 type numbers.
pub mod v4 {
    /// Echo reply.
    pub const ECHO_REPLY: u8 = 0;
    /// Destination unreachable.
    pub const DEST_UNREACH: u8 = 3;
    /// Source quench (deprecated, RFC 6633).
    pub const SOURCE_QUENCH: u8 = 4;
    /// Redirect.
    pub const REDIRECT: u8 = 5;
    /// Echo request.
    pub const ECHO_REQUEST: u8 = 8;
    /// Time exceeded.
    pub const TIME_EXCEEDED: u8 = 11;
    /// Parameter problem.
    pub const PARAM_PROBLEM: u8 = 12;
    /// Timestamp request.
    pub const TIMESTAMP_REQUEST: u8 = 13;
    /// Timestamp reply.
    pub const TIMESTAMP_REPLY: u8 = 14;
}

/// ICMPv6 type numbers.
pub mod v6 {
    /// Destination unreachable.
    pub const DEST_UNREACH: u8 = 1;
    /// Packet too big.
    pub const PACKET_TOO_BIG: u8 = 2;
    /// Time exceeded.
    pub const TIME_EXCEEDED: u8 = 3;
    /// Parameter problem.
    pub const PARAM_PROBLEM: u8 = 4;
    /// Echo request.
    pub const ECHO_REQUEST: u8 = 128;
    /// Echo reply.
    pub const ECHO_REPLY: u8 = 129;
    /// Neighbour solicitation.
    pub const NEIGHBOR_SOLICIT: u8 = 135;
    /// Neighbour advertisement.
    pub const NEIGHBOR_ADVERT: u8 = 136;
}

/// A checked view of an ICMPv4 or ICMPv6 message.
#[derive(Clone, Copy, Debug)]
pub struct IcmpPacket<'a> {
    buf: &'a [u8],
}

impl<'a> IcmpPacket<'a> {
    /// Checks that the buffer holds the 8-byte fixed part.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Error> {
        need("icmp", buf, HEADER_LEN)?;
        Ok(IcmpPacket { buf })
    }

    /// Message type.
    pub fn msg_type(&self) -> u8 {
        self.buf[0]
    }

    /// Message code.
    pub fn code(&self) -> u8 {
        self.buf[1]
    }

    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.buf[2], self.buf[3]])
    }

    /// Bytes 4-5: the identifier of an echo or timestamp message.
    pub fn ident(&self) -> u16 {
        u16::from_be_bytes([self.buf[4], self.buf[5]])
    }

    /// Bytes 6-7: the sequence number of an echo or timestamp message.
    pub fn seq(&self) -> u16 {
        u16::from_be_bytes([self.buf[6], self.buf[7]])
    }

    /// Bytes 4-7 as one number: the MTU of an ICMPv6 packet-too-big.
    pub fn rest(&self) -> u32 {
        u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]])
    }

    /// The body after the fixed part: the quoted packet of an error.
    pub fn body(&self) -> &'a [u8] {
        &self.buf[HEADER_LEN..]
    }

    /// Whether the checksum verifies with `pseudo` (0 for ICMPv4, the
    /// pseudo-header sum for ICMPv6).
    pub fn verify_checksum(&self, pseudo: u64) -> bool {
        checksum::verify(self.buf, pseudo)
    }
}

/// What an ICMP error message says went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IcmpErrorKind {
    /// Destination unreachable (ICMPv4 type 3, ICMPv6 type 1), with its
    /// family's code.
    Unreach {
        /// ICMPv4: 0 net, 1 host, 2 protocol, 3 port, 9/10/13 prohibited;
        /// ICMPv6: 0 no route, 1 admin prohibited, 3 address, 4 port.
        code: u8,
    },
    /// Time exceeded (ICMPv4 type 11, ICMPv6 type 3).
    TimeExceeded {
        /// 0 TTL/hop limit exceeded in transit, 1 reassembly.
        code: u8,
    },
    /// Parameter problem (ICMPv4 type 12, ICMPv6 type 4).
    ParamProblem {
        /// The family's code.
        code: u8,
    },
    /// Source quench (ICMPv4 type 4).
    SourceQuench,
    /// Packet too big (ICMPv6 type 2).
    PacketTooBig {
        /// The next hop's MTU.
        mtu: u32,
    },
}

impl IcmpErrorKind {
    /// The error kind of an ICMPv4 message, if it is an error that quotes
    /// the offending packet (redirects are not errors here).
    pub fn from_v4(msg_type: u8, code: u8) -> Option<Self> {
        match msg_type {
            v4::DEST_UNREACH => Some(IcmpErrorKind::Unreach { code }),
            v4::TIME_EXCEEDED => Some(IcmpErrorKind::TimeExceeded { code }),
            v4::PARAM_PROBLEM => Some(IcmpErrorKind::ParamProblem { code }),
            v4::SOURCE_QUENCH => Some(IcmpErrorKind::SourceQuench),
            _ => None,
        }
    }

    /// The error kind of an ICMPv6 message (types 1-4), if it is one.
    pub fn from_v6(msg_type: u8, code: u8, rest: u32) -> Option<Self> {
        match msg_type {
            v6::DEST_UNREACH => Some(IcmpErrorKind::Unreach { code }),
            v6::PACKET_TOO_BIG => Some(IcmpErrorKind::PacketTooBig { mtu: rest }),
            v6::TIME_EXCEEDED => Some(IcmpErrorKind::TimeExceeded { code }),
            v6::PARAM_PROBLEM => Some(IcmpErrorKind::ParamProblem { code }),
            _ => None,
        }
    }

    /// ICMPv4 type, code and bytes 4-7; `None` for ICMPv6-only kinds.
    pub fn to_v4(self) -> Option<(u8, u8, u32)> {
        match self {
            IcmpErrorKind::Unreach { code } => Some((v4::DEST_UNREACH, code, 0)),
            IcmpErrorKind::TimeExceeded { code } => Some((v4::TIME_EXCEEDED, code, 0)),
            IcmpErrorKind::ParamProblem { code } => Some((v4::PARAM_PROBLEM, code, 0)),
            IcmpErrorKind::SourceQuench => Some((v4::SOURCE_QUENCH, 0, 0)),
            IcmpErrorKind::PacketTooBig { .. } => None,
        }
    }

    /// ICMPv6 type, code and bytes 4-7; `None` for ICMPv4-only kinds.
    pub fn to_v6(self) -> Option<(u8, u8, u32)> {
        match self {
            IcmpErrorKind::Unreach { code } => Some((v6::DEST_UNREACH, code, 0)),
            IcmpErrorKind::PacketTooBig { mtu } => Some((v6::PACKET_TOO_BIG, 0, mtu)),
            IcmpErrorKind::TimeExceeded { code } => Some((v6::TIME_EXCEEDED, code, 0)),
            IcmpErrorKind::ParamProblem { code } => Some((v6::PARAM_PROBLEM, code, 0)),
            IcmpErrorKind::SourceQuench => None,
        }
    }
}

/// Writes an ICMP message (fixed part plus `body`) at the start of `buf`
/// with its checksum over `pseudo` (0 for ICMPv4). Returns its length.
pub fn emit(
    buf: &mut [u8],
    msg_type: u8,
    code: u8,
    rest: u32,
    body: &[u8],
    pseudo: u64,
) -> Result<usize, Error> {
    let len = HEADER_LEN + body.len();
    let have = buf.len();
    let b = buf
        .get_mut(..len)
        .ok_or(Error::BufferTooSmall { need: len, have })?;
    b[0] = msg_type;
    b[1] = code;
    b[2..4].fill(0);
    b[4..8].copy_from_slice(&rest.to_be_bytes());
    b[8..].copy_from_slice(body);
    let c = checksum::checksum(b, pseudo);
    b[2..4].copy_from_slice(&c.to_be_bytes());
    Ok(len)
}

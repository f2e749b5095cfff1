//! ICMPv4 address mask request and reply (RFC 950), for nmap's `-PM`.
//!
//! Obsolete and rarely answered, but some old or embedded stacks that drop
//! echo requests still answer it, which is why nmap offers it as a
//! discovery probe. The message is the 8-byte ICMP header (identifier,
//! sequence) followed by a 4-byte mask; it exists only for IPv4. [`crate::parse()`]
//! reports these messages as [`crate::Parsed::Other`], so
//! [`AddressMask::parse`] reads them itself.

use crate::error::Error;
use crate::icmp::{self, IcmpPacket};
use crate::ipv4::{self, Ipv4Packet, Ipv4Repr};
use crate::{be32, PROTO_ICMP};
use std::net::Ipv4Addr;

/// ICMPv4 type of an address mask request.
pub const REQUEST: u8 = 17;
/// ICMPv4 type of an address mask reply.
pub const REPLY: u8 = 18;
/// Length of the ICMP message.
pub const MESSAGE_LEN: usize = icmp::HEADER_LEN + 4;

/// An address mask request or reply, with its IPv4 header fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AddressMask {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// TTL.
    pub ttl: u8,
    /// IP identification.
    pub ip_id: u16,
    /// A reply instead of a request.
    pub reply: bool,
    /// Identifier.
    pub ident: u16,
    /// Sequence number.
    pub seq: u16,
    /// The mask (0 in requests).
    pub mask: Ipv4Addr,
}

impl AddressMask {
    /// Writes the whole IPv4 packet into `buf` and returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let total = ipv4::HEADER_LEN + MESSAGE_LEN;
        if buf.len() < total {
            return Err(Error::BufferTooSmall {
                need: total,
                have: buf.len(),
            });
        }
        Ipv4Repr {
            src: self.src,
            dst: self.dst,
            protocol: PROTO_ICMP,
            payload_len: MESSAGE_LEN,
            ttl: self.ttl,
            ident: self.ip_id,
            dont_frag: false,
        }
        .emit(buf)?;
        let t = if self.reply { REPLY } else { REQUEST };
        let rest = u32::from(self.ident) << 16 | u32::from(self.seq);
        let n = icmp::emit(
            &mut buf[ipv4::HEADER_LEN..],
            t,
            0,
            rest,
            &self.mask.octets(),
            0,
        )?;
        Ok(ipv4::HEADER_LEN + n)
    }

    /// Parses an IPv4 packet carrying an address mask request or reply;
    /// `Ok(None)` for any other well-formed IPv4 packet.
    pub fn parse(packet: &[u8]) -> Result<Option<Self>, Error> {
        let ip = Ipv4Packet::new_checked(packet)?;
        if !ip.verify_checksum() {
            return Err(Error::Checksum { what: "ipv4" });
        }
        if ip.protocol() != PROTO_ICMP || ip.frag_offset() != 0 {
            return Ok(None);
        }
        let m = IcmpPacket::new_checked(ip.payload())?;
        let reply = match m.msg_type() {
            REQUEST => false,
            REPLY => true,
            _ => return Ok(None),
        };
        let mask = be32(m.body(), 0).ok_or(Error::Truncated {
            what: "icmp address mask",
            need: MESSAGE_LEN,
            have: ip.payload().len(),
        })?;
        Ok(Some(AddressMask {
            src: ip.src(),
            dst: ip.dst(),
            ttl: ip.ttl(),
            ip_id: ip.ident(),
            reply,
            ident: m.ident(),
            seq: m.seq(),
            mask: Ipv4Addr::from(mask),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation() {
        let m = AddressMask {
            src: Ipv4Addr::new(198, 18, 0, 2),
            dst: Ipv4Addr::new(198, 18, 0, 1),
            ttl: 64,
            ip_id: 7,
            reply: true,
            ident: 0x1234,
            seq: 0x5678,
            mask: Ipv4Addr::new(255, 255, 255, 0),
        };
        let mut buf = [0u8; 64];
        let n = m.emit(&mut buf).unwrap();
        assert_eq!(n, 32);
        assert_eq!(AddressMask::parse(&buf[..n]), Ok(Some(m)));
        assert!(crate::checksum::verify(&buf[20..n], 0));
        for cut in 0..n {
            assert!(AddressMask::parse(&buf[..cut]).is_err(), "cut at {cut}");
        }
    }
}

//! IPv4 headers (RFC 791): a checked view and an emit helper.
//!
//! Options are not interpreted, only skipped via the IHL: a scanner needs
//! the addresses, protocol, TTL and payload, and options in replies are
//! rare and never change their meaning.

use crate::checksum;
use crate::error::{need, truncated, Error};
use std::net::Ipv4Addr;

/// Length of an IPv4 header without options.
pub const HEADER_LEN: usize = 20;

/// A checked view of an IPv4 packet.
#[derive(Clone, Copy, Debug)]
pub struct Ipv4Packet<'a> {
    buf: &'a [u8],
    header_len: usize,
    end: usize,
}

impl<'a> Ipv4Packet<'a> {
    /// Checks a whole received packet: version 4, IHL of at least 5, a
    /// header and total length that fit the buffer (trailing bytes beyond
    /// the total length, such as Ethernet padding, are ignored).
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Error> {
        let p = Self::new_quoted(buf)?;
        let total = usize::from(p.total_len());
        if total > buf.len() {
            return Err(truncated("ipv4", total, buf.len()));
        }
        Ok(p)
    }

    /// Checks a packet quoted inside an ICMP error: the header must be
    /// whole, but the payload may be cut short of the total length (the
    /// payload is then whatever the quote holds).
    pub fn new_quoted(buf: &'a [u8]) -> Result<Self, Error> {
        need("ipv4", buf, HEADER_LEN)?;
        if buf[0] >> 4 != 4 {
            return Err(Error::Malformed {
                what: "ipv4",
                why: "version is not 4",
            });
        }
        let header_len = usize::from(buf[0] & 0x0f) * 4;
        if header_len < HEADER_LEN {
            return Err(Error::Malformed {
                what: "ipv4",
                why: "IHL below 5",
            });
        }
        need("ipv4", buf, header_len)?;
        let total = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
        if total < header_len {
            return Err(Error::Malformed {
                what: "ipv4",
                why: "total length below header length",
            });
        }
        Ok(Ipv4Packet {
            buf,
            header_len,
            end: total.min(buf.len()),
        })
    }

    /// Header length in bytes, options included.
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// The total-length field.
    pub fn total_len(&self) -> u16 {
        u16::from_be_bytes([self.buf[2], self.buf[3]])
    }

    /// The type-of-service byte (DSCP and ECN).
    pub fn tos(&self) -> u8 {
        self.buf[1]
    }

    /// The identification field.
    pub fn ident(&self) -> u16 {
        u16::from_be_bytes([self.buf[4], self.buf[5]])
    }

    /// The don't-fragment flag.
    pub fn dont_frag(&self) -> bool {
        self.buf[6] & 0x40 != 0
    }

    /// The more-fragments flag.
    pub fn more_frags(&self) -> bool {
        self.buf[6] & 0x20 != 0
    }

    /// The fragment offset, in 8-byte units.
    pub fn frag_offset(&self) -> u16 {
        u16::from_be_bytes([self.buf[6] & 0x1f, self.buf[7]])
    }

    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.buf[8]
    }

    /// The protocol of the payload.
    pub fn protocol(&self) -> u8 {
        self.buf[9]
    }

    /// The header checksum field.
    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.buf[10], self.buf[11]])
    }

    /// Source address.
    pub fn src(&self) -> Ipv4Addr {
        Ipv4Addr::new(self.buf[12], self.buf[13], self.buf[14], self.buf[15])
    }

    /// Destination address.
    pub fn dst(&self) -> Ipv4Addr {
        Ipv4Addr::new(self.buf[16], self.buf[17], self.buf[18], self.buf[19])
    }

    /// Whether the header checksum verifies.
    pub fn verify_checksum(&self) -> bool {
        checksum::verify(&self.buf[..self.header_len], 0)
    }

    /// The payload: after the header, up to the total length (or the end of
    /// a quote).
    pub fn payload(&self) -> &'a [u8] {
        self.buf.get(self.header_len..self.end).unwrap_or(&[])
    }
}

/// Fields of an IPv4 header to emit (no options).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Repr {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Payload protocol.
    pub protocol: u8,
    /// Payload length in bytes.
    pub payload_len: usize,
    /// Time to live.
    pub ttl: u8,
    /// Identification.
    pub ident: u16,
    /// Whether to set don't-fragment.
    pub dont_frag: bool,
}

impl Ipv4Repr {
    /// Writes the 20-byte header, checksum included, at the start of `buf`.
    /// Fails if `buf` is shorter than 20 bytes or the packet would exceed
    /// 65 535 bytes.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), Error> {
        let total = HEADER_LEN + self.payload_len;
        let total16 = u16::try_from(total).map_err(|_| Error::Malformed {
            what: "ipv4",
            why: "packet longer than 65535 bytes",
        })?;
        let have = buf.len();
        let h = buf.get_mut(..HEADER_LEN).ok_or(Error::BufferTooSmall {
            need: HEADER_LEN,
            have,
        })?;
        h[0] = 0x45;
        h[1] = 0;
        h[2..4].copy_from_slice(&total16.to_be_bytes());
        h[4..6].copy_from_slice(&self.ident.to_be_bytes());
        h[6] = if self.dont_frag { 0x40 } else { 0 };
        h[7] = 0;
        h[8] = self.ttl;
        h[9] = self.protocol;
        h[10] = 0;
        h[11] = 0;
        h[12..16].copy_from_slice(&self.src.octets());
        h[16..20].copy_from_slice(&self.dst.octets());
        let c = checksum::checksum(h, 0);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        Ok(())
    }
}

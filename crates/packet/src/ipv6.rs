//! IPv6 headers (RFC 8200): a checked view of the fixed header, a bounded
//! walk over extension headers to the upper layer, and an emit helper.
//!
//! Extension headers are walked, not interpreted: a scanner only needs to
//! find the TCP, UDP or ICMPv6 header behind them. The walk stops after
//! [`MAX_EXT_HEADERS`] headers so that a hostile chain costs bounded work,
//! and a non-first fragment yields no upper layer (its transport header is
//! in another fragment).

use crate::error::{need, truncated, Error};
use std::net::Ipv6Addr;

/// Length of the fixed IPv6 header.
pub const HEADER_LEN: usize = 40;

/// Extension headers walked at most before giving up.
pub const MAX_EXT_HEADERS: usize = 8;

/// Next-header value meaning "no next header".
pub const NO_NEXT_HEADER: u8 = 59;

/// A checked view of an IPv6 packet.
#[derive(Clone, Copy, Debug)]
pub struct Ipv6Packet<'a> {
    buf: &'a [u8],
    end: usize,
}

impl<'a> Ipv6Packet<'a> {
    /// Checks a whole received packet: version 6 and a payload length that
    /// fits the buffer (trailing bytes are ignored).
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Error> {
        let p = Self::new_quoted(buf)?;
        let total = HEADER_LEN + usize::from(p.payload_len());
        if total > buf.len() {
            return Err(truncated("ipv6", total, buf.len()));
        }
        Ok(p)
    }

    /// Checks a packet quoted inside an ICMPv6 error: the fixed header must
    /// be whole; the payload may be cut short.
    pub fn new_quoted(buf: &'a [u8]) -> Result<Self, Error> {
        need("ipv6", buf, HEADER_LEN)?;
        if buf[0] >> 4 != 6 {
            return Err(Error::Malformed {
                what: "ipv6",
                why: "version is not 6",
            });
        }
        let total = HEADER_LEN + usize::from(u16::from_be_bytes([buf[4], buf[5]]));
        Ok(Ipv6Packet {
            buf,
            end: total.min(buf.len()),
        })
    }

    /// Traffic class.
    pub fn traffic_class(&self) -> u8 {
        (self.buf[0] << 4) | (self.buf[1] >> 4)
    }

    /// Flow label (20 bits).
    pub fn flow_label(&self) -> u32 {
        u32::from_be_bytes([0, self.buf[1] & 0x0f, self.buf[2], self.buf[3]])
    }

    /// The payload-length field.
    pub fn payload_len(&self) -> u16 {
        u16::from_be_bytes([self.buf[4], self.buf[5]])
    }

    /// The next-header field of the fixed header.
    pub fn next_header(&self) -> u8 {
        self.buf[6]
    }

    /// Hop limit.
    pub fn hop_limit(&self) -> u8 {
        self.buf[7]
    }

    /// Source address.
    pub fn src(&self) -> Ipv6Addr {
        Ipv6Addr::from(octets16(&self.buf[8..24]))
    }

    /// Destination address.
    pub fn dst(&self) -> Ipv6Addr {
        Ipv6Addr::from(octets16(&self.buf[24..40]))
    }

    /// The payload after the fixed header (extension headers included).
    pub fn payload(&self) -> &'a [u8] {
        self.buf.get(HEADER_LEN..self.end).unwrap_or(&[])
    }

    /// Walks the extension headers and returns the upper-layer protocol
    /// and its bytes. Fails on a chain longer than [`MAX_EXT_HEADERS`], on
    /// a chain cut short, and on a non-first fragment.
    pub fn upper_layer(&self) -> Result<(u8, &'a [u8]), Error> {
        let mut next = self.next_header();
        let mut rest = self.payload();
        for _ in 0..=MAX_EXT_HEADERS {
            let len = match next {
                // Hop-by-hop, routing, destination options, mobility, HIP, shim6:
                // length in 8-byte units, not counting the first 8.
                0 | 43 | 60 | 135 | 139 | 140 => {
                    need("ipv6 extension header", rest, 2)?;
                    (usize::from(rest[1]) + 1) * 8
                }
                // Fragment header: fixed 8 bytes.
                44 => {
                    need("ipv6 fragment header", rest, 8)?;
                    let offset = u16::from_be_bytes([rest[2], rest[3]]) >> 3;
                    if offset != 0 {
                        return Err(Error::Malformed {
                            what: "ipv6",
                            why: "non-first fragment has no upper-layer header",
                        });
                    }
                    8
                }
                // Authentication header: length in 4-byte units, minus 2.
                51 => {
                    need("ipv6 authentication header", rest, 2)?;
                    (usize::from(rest[1]) + 2) * 4
                }
                upper => return Ok((upper, rest)),
            };
            need("ipv6 extension header", rest, len)?;
            next = rest[0];
            rest = &rest[len..];
        }
        Err(Error::Malformed {
            what: "ipv6",
            why: "too many extension headers",
        })
    }
}

fn octets16(s: &[u8]) -> [u8; 16] {
    let mut o = [0u8; 16];
    o.copy_from_slice(s);
    o
}

/// Fields of a fixed IPv6 header to emit (no extension headers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv6Repr {
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
    /// Upper-layer protocol.
    pub next_header: u8,
    /// Payload length in bytes.
    pub payload_len: usize,
    /// Hop limit.
    pub hop_limit: u8,
    /// Flow label (low 20 bits used).
    pub flow_label: u32,
}

impl Ipv6Repr {
    /// Writes the 40-byte fixed header at the start of `buf`. Fails if `buf`
    /// is shorter or the payload exceeds 65 535 bytes (no jumbograms).
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), Error> {
        let len = u16::try_from(self.payload_len).map_err(|_| Error::Malformed {
            what: "ipv6",
            why: "payload longer than 65535 bytes",
        })?;
        let have = buf.len();
        let h = buf.get_mut(..HEADER_LEN).ok_or(Error::BufferTooSmall {
            need: HEADER_LEN,
            have,
        })?;
        let first = (6u32 << 28) | (self.flow_label & 0x000f_ffff);
        h[0..4].copy_from_slice(&first.to_be_bytes());
        h[4..6].copy_from_slice(&len.to_be_bytes());
        h[6] = self.next_header;
        h[7] = self.hop_limit;
        h[8..24].copy_from_slice(&self.src.octets());
        h[24..40].copy_from_slice(&self.dst.octets());
        Ok(())
    }
}

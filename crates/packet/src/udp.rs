//! UDP headers (RFC 768): a checked view and an emit helper.

use crate::checksum;
use crate::error::{need, Error};

/// Length of a UDP header.
pub const HEADER_LEN: usize = 8;

/// A checked view of a UDP datagram.
#[derive(Clone, Copy, Debug)]
pub struct UdpPacket<'a> {
    buf: &'a [u8],
    end: usize,
}

impl<'a> UdpPacket<'a> {
    /// Checks the header and a length field between 8 and the buffer size.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Error> {
        need("udp", buf, HEADER_LEN)?;
        let len = usize::from(u16::from_be_bytes([buf[4], buf[5]]));
        if len < HEADER_LEN {
            return Err(Error::Malformed {
                what: "udp",
                why: "length below 8",
            });
        }
        need("udp", buf, len)?;
        Ok(UdpPacket { buf, end: len })
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        u16::from_be_bytes([self.buf[0], self.buf[1]])
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        u16::from_be_bytes([self.buf[2], self.buf[3]])
    }

    /// The length field (header included).
    pub fn len(&self) -> u16 {
        u16::from_be_bytes([self.buf[4], self.buf[5]])
    }

    /// Whether the datagram carries no data.
    pub fn is_empty(&self) -> bool {
        self.end == HEADER_LEN
    }

    /// Checksum field (0: none, IPv4 only).
    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.buf[6], self.buf[7]])
    }

    /// The data, up to the length field.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[HEADER_LEN..self.end]
    }

    /// Whether the checksum verifies given the pseudo-header sum (a zero
    /// checksum field means "none" and verifies).
    pub fn verify_checksum(&self, pseudo: u64) -> bool {
        self.checksum() == 0 || checksum::verify(&self.buf[..self.end], pseudo)
    }
}

/// Writes a UDP header and `payload` at the start of `buf`, with the
/// checksum computed from the pseudo-header sum `pseudo` (a computed zero
/// is sent as 0xffff, as RFC 768 requires). Returns the datagram length.
pub fn emit(
    buf: &mut [u8],
    src_port: u16,
    dst_port: u16,
    payload: &[u8],
    pseudo: u64,
) -> Result<usize, Error> {
    let len = HEADER_LEN + payload.len();
    let len16 = u16::try_from(len).map_err(|_| Error::Malformed {
        what: "udp",
        why: "datagram longer than 65535 bytes",
    })?;
    let have = buf.len();
    let b = buf
        .get_mut(..len)
        .ok_or(Error::BufferTooSmall { need: len, have })?;
    b[0..2].copy_from_slice(&src_port.to_be_bytes());
    b[2..4].copy_from_slice(&dst_port.to_be_bytes());
    b[4..6].copy_from_slice(&len16.to_be_bytes());
    b[6..8].fill(0);
    b[8..].copy_from_slice(payload);
    let mut c = checksum::checksum(b, pseudo);
    if c == 0 {
        c = 0xffff;
    }
    b[6..8].copy_from_slice(&c.to_be_bytes());
    Ok(len)
}

//! SCTP packets (RFC 9260): the common header, chunks, and CRC32c.
//!
//! A scanner needs little of SCTP: it sends one INIT chunk and reads the
//! first chunk of what comes back (INIT ACK from a listening port, ABORT
//! from a closed one). So this module has a checked view of the 12-byte
//! common header with the first chunk's type, flags and (for INIT and INIT
//! ACK) initiate tag, the INIT chunk's bytes, and the CRC32c checksum SCTP
//! uses instead of the internet checksum (RFC 9260 appendix A; RFC 3309
//! replaced Adler-32 with it). CRC32c is written here with a table built at
//! compile time: a probe is 32 bytes of SCTP, one table lookup per byte.

use crate::error::{need, Error};
use crate::{be16, be32};

/// Length of the SCTP common header.
pub const HEADER_LEN: usize = 12;
/// Length of a chunk header (type, flags, length).
pub const CHUNK_HEADER_LEN: usize = 4;
/// Length of an INIT chunk without optional parameters.
pub const INIT_CHUNK_LEN: usize = 20;

/// Chunk type numbers (RFC 9260 section 3.2).
pub mod chunk {
    /// Payload data.
    pub const DATA: u8 = 0;
    /// Initiation.
    pub const INIT: u8 = 1;
    /// Initiation acknowledgement.
    pub const INIT_ACK: u8 = 2;
    /// Selective acknowledgement.
    pub const SACK: u8 = 3;
    /// Heartbeat request.
    pub const HEARTBEAT: u8 = 4;
    /// Heartbeat acknowledgement.
    pub const HEARTBEAT_ACK: u8 = 5;
    /// Abort.
    pub const ABORT: u8 = 6;
    /// Shutdown.
    pub const SHUTDOWN: u8 = 7;
    /// Shutdown acknowledgement.
    pub const SHUTDOWN_ACK: u8 = 8;
    /// Operation error.
    pub const ERROR: u8 = 9;
    /// State cookie.
    pub const COOKIE_ECHO: u8 = 10;
    /// Cookie acknowledgement.
    pub const COOKIE_ACK: u8 = 11;
    /// Shutdown complete.
    pub const SHUTDOWN_COMPLETE: u8 = 14;
}

/// The T bit of ABORT and SHUTDOWN COMPLETE flags: set when the
/// verification tag is the one *received* (reflected), clear when it is the
/// peer's own tag (RFC 9260 section 3.3.7).
pub const FLAG_T: u8 = 0x01;

/// The CRC32c (Castagnoli, reflected polynomial 0x82F63B78) lookup table.
const CRC32C_TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0x82F6_3B78
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// The CRC32c of `data` (initial value and final XOR all ones), as iSCSI
/// (RFC 3720) and SCTP define it.
pub fn crc32c(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c = CRC32C_TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

/// The checksum SCTP stores for `packet` (common header and chunks): the
/// CRC32c computed with the checksum field taken as zero. SCTP writes it
/// least significant byte first (RFC 9260 appendix A), so the stored bytes
/// are `to_le_bytes()` of the result. `None` if shorter than the header.
pub fn checksum(packet: &[u8]) -> Option<u32> {
    let head = packet.get(..HEADER_LEN)?;
    let mut c = !0u32;
    for (i, &b) in head.iter().chain(&packet[HEADER_LEN..]).enumerate() {
        let b = if (8..12).contains(&i) { 0 } else { b };
        c = CRC32C_TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    Some(!c)
}

/// A checked view of an SCTP packet: the common header and at least the
/// first chunk's header.
#[derive(Clone, Copy, Debug)]
pub struct SctpPacket<'a> {
    buf: &'a [u8],
}

impl<'a> SctpPacket<'a> {
    /// Checks the common header and the first chunk's header, whose length
    /// must be at least 4 and fit the buffer.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Error> {
        need("sctp", buf, HEADER_LEN + CHUNK_HEADER_LEN)?;
        let len = usize::from(u16::from_be_bytes([buf[14], buf[15]]));
        if len < CHUNK_HEADER_LEN {
            return Err(Error::Malformed {
                what: "sctp",
                why: "chunk length below 4",
            });
        }
        need("sctp chunk", buf, HEADER_LEN + len)?;
        Ok(SctpPacket { buf })
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        u16::from_be_bytes([self.buf[0], self.buf[1]])
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        u16::from_be_bytes([self.buf[2], self.buf[3]])
    }

    /// Verification tag.
    pub fn vtag(&self) -> u32 {
        u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]])
    }

    /// The checksum field, read as SCTP stores it (least significant byte
    /// first).
    pub fn checksum(&self) -> u32 {
        u32::from_le_bytes([self.buf[8], self.buf[9], self.buf[10], self.buf[11]])
    }

    /// Whether the CRC32c over the whole buffer matches the checksum field.
    pub fn verify_checksum(&self) -> bool {
        checksum(self.buf) == Some(self.checksum())
    }

    /// The first chunk's type.
    pub fn chunk_type(&self) -> u8 {
        self.buf[12]
    }

    /// The first chunk's flags.
    pub fn chunk_flags(&self) -> u8 {
        self.buf[13]
    }

    /// The first chunk's value (after its 4-byte header, up to its length).
    pub fn chunk_value(&self) -> &'a [u8] {
        let len = usize::from(u16::from_be_bytes([self.buf[14], self.buf[15]]));
        &self.buf[HEADER_LEN + CHUNK_HEADER_LEN..HEADER_LEN + len]
    }

    /// The initiate tag of a first chunk that is an INIT or INIT ACK, if
    /// its value holds one.
    pub fn initiate_tag(&self) -> Option<u32> {
        match self.chunk_type() {
            chunk::INIT | chunk::INIT_ACK => be32(self.chunk_value(), 0),
            _ => None,
        }
    }
}

/// The fixed fields of an INIT chunk (RFC 9260 section 3.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InitChunk {
    /// The tag the peer must put in every packet it sends us (never 0).
    pub initiate_tag: u32,
    /// Advertised receiver window credit.
    pub a_rwnd: u32,
    /// Number of outbound streams (never 0).
    pub outbound_streams: u16,
    /// Maximum inbound streams (never 0).
    pub inbound_streams: u16,
    /// Initial TSN.
    pub initial_tsn: u32,
}

impl InitChunk {
    /// The chunk's 20 bytes (no optional parameters), of type `chunk_type`
    /// (INIT, or INIT ACK for tests that play the peer).
    pub fn to_bytes(&self, chunk_type: u8) -> [u8; INIT_CHUNK_LEN] {
        let mut b = [0u8; INIT_CHUNK_LEN];
        b[0] = chunk_type;
        b[2..4].copy_from_slice(&(INIT_CHUNK_LEN as u16).to_be_bytes());
        b[4..8].copy_from_slice(&self.initiate_tag.to_be_bytes());
        b[8..12].copy_from_slice(&self.a_rwnd.to_be_bytes());
        b[12..14].copy_from_slice(&self.outbound_streams.to_be_bytes());
        b[14..16].copy_from_slice(&self.inbound_streams.to_be_bytes());
        b[16..20].copy_from_slice(&self.initial_tsn.to_be_bytes());
        b
    }

    /// Reads the fixed fields from a chunk value (the bytes after the
    /// chunk header); `None` if it is shorter than 16 bytes.
    pub fn from_value(value: &[u8]) -> Option<InitChunk> {
        Some(InitChunk {
            initiate_tag: be32(value, 0)?,
            a_rwnd: be32(value, 4)?,
            outbound_streams: be16(value, 8)?,
            inbound_streams: be16(value, 10)?,
            initial_tsn: be32(value, 12)?,
        })
    }
}

/// Writes an SCTP common header followed by `chunks` (whole chunks, each
/// padded to 4 bytes by the caller) at the start of `buf`, with its CRC32c.
/// Returns the SCTP packet's length.
pub fn emit(
    buf: &mut [u8],
    src_port: u16,
    dst_port: u16,
    vtag: u32,
    chunks: &[u8],
) -> Result<usize, Error> {
    let len = HEADER_LEN + chunks.len();
    let have = buf.len();
    let b = buf
        .get_mut(..len)
        .ok_or(Error::BufferTooSmall { need: len, have })?;
    b[0..2].copy_from_slice(&src_port.to_be_bytes());
    b[2..4].copy_from_slice(&dst_port.to_be_bytes());
    b[4..8].copy_from_slice(&vtag.to_be_bytes());
    b[8..12].fill(0);
    b[12..].copy_from_slice(chunks);
    let c = crc32c(b);
    b[8..12].copy_from_slice(&c.to_le_bytes());
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 3720 appendix B.4's CRC32c examples (the "CRC" column read as
    /// the little-endian bytes it is stored as).
    #[test]
    fn crc32c_matches_rfc3720_vectors() {
        assert_eq!(crc32c(&[0u8; 32]), 0x8A91_36AA);
        assert_eq!(crc32c(&[0xffu8; 32]), 0x62A8_AB43);
        let inc: Vec<u8> = (0..32u8).collect();
        assert_eq!(crc32c(&inc), 0x46DD_794E);
        let dec: Vec<u8> = (0..32u8).rev().collect();
        assert_eq!(crc32c(&dec), 0x113F_DB5C);
        // The well-known check value of CRC-32C.
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn emitted_init_verifies_and_reads_back() {
        let init = InitChunk {
            initiate_tag: 0xdead_beef,
            a_rwnd: 65535,
            outbound_streams: 10,
            inbound_streams: 2048,
            initial_tsn: 7,
        };
        let mut buf = [0u8; 64];
        let n = emit(&mut buf, 40000, 80, 0, &init.to_bytes(chunk::INIT)).unwrap();
        assert_eq!(n, HEADER_LEN + INIT_CHUNK_LEN);
        let p = SctpPacket::new_checked(&buf[..n]).unwrap();
        assert!(p.verify_checksum());
        assert_eq!((p.src_port(), p.dst_port(), p.vtag()), (40000, 80, 0));
        assert_eq!(p.chunk_type(), chunk::INIT);
        assert_eq!(p.initiate_tag(), Some(0xdead_beef));
        assert_eq!(InitChunk::from_value(p.chunk_value()), Some(init));
        let mut bad = buf;
        bad[20] ^= 1;
        assert!(!SctpPacket::new_checked(&bad[..n])
            .unwrap()
            .verify_checksum());
    }

    #[test]
    fn short_or_overlong_chunks_are_errors() {
        assert!(SctpPacket::new_checked(&[0u8; 15]).is_err());
        let mut b = [0u8; 16];
        b[15] = 3;
        assert!(SctpPacket::new_checked(&b).is_err());
        b[15] = 8;
        assert!(SctpPacket::new_checked(&b).is_err());
        b[15] = 4;
        let p = SctpPacket::new_checked(&b).unwrap();
        assert!(p.chunk_value().is_empty());
        assert_eq!(p.initiate_tag(), None);
        assert!(emit(&mut [0u8; 12], 1, 2, 3, &[0; 4]).is_err());
    }
}

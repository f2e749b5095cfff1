//! TCP headers (RFC 9293): flags, a checked view, an option walker, and an
//! emit helper.
//!
//! Replies are classified by flags, sequence numbers and window alone;
//! options are read only for the stack's traits (OS detection), by
//! [`TcpOptions`]: one pass, no allocation, and a hostile option block
//! ends the walk with [`TcpOption::Malformed`] instead of a panic.

use crate::checksum;
use crate::error::{need, Error};
use std::fmt;
use std::ops::{BitAnd, BitOr, BitOrAssign};

/// Length of a TCP header without options.
pub const HEADER_LEN: usize = 20;

/// Longest TCP options block (data offset 15).
pub const MAX_OPTIONS_LEN: usize = 40;

/// The eight TCP flag bits of header byte 13.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// No flags (NULL scan).
    pub const NONE: TcpFlags = TcpFlags(0);
    /// FIN: no more data from sender.
    pub const FIN: TcpFlags = TcpFlags(0x01);
    /// SYN: synchronise sequence numbers.
    pub const SYN: TcpFlags = TcpFlags(0x02);
    /// RST: reset the connection.
    pub const RST: TcpFlags = TcpFlags(0x04);
    /// PSH: push function.
    pub const PSH: TcpFlags = TcpFlags(0x08);
    /// ACK: the acknowledgment field is significant.
    pub const ACK: TcpFlags = TcpFlags(0x10);
    /// URG: the urgent pointer is significant.
    pub const URG: TcpFlags = TcpFlags(0x20);
    /// ECE: ECN echo.
    pub const ECE: TcpFlags = TcpFlags(0x40);
    /// CWR: congestion window reduced.
    pub const CWR: TcpFlags = TcpFlags(0x80);

    /// Whether every flag of `other` is set.
    pub fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any flag of `other` is set.
    pub fn intersects(self, other: TcpFlags) -> bool {
        self.0 & other.0 != 0
    }

    /// The sequence space the flags occupy: 1 each for SYN and FIN.
    pub fn seq_len(self) -> u32 {
        u32::from(self.contains(TcpFlags::SYN)) + u32::from(self.contains(TcpFlags::FIN))
    }
}

impl BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for TcpFlags {
    fn bitor_assign(&mut self, rhs: TcpFlags) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for TcpFlags {
    type Output = TcpFlags;
    fn bitand(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 & rhs.0)
    }
}

impl fmt::Display for TcpFlags {
    /// Flag letters as tcpdump prints them (`S`, `S.`, `R.`, `FPU`), `none`
    /// for no flags.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("none");
        }
        const NAMES: [(TcpFlags, char); 8] = [
            (TcpFlags::FIN, 'F'),
            (TcpFlags::SYN, 'S'),
            (TcpFlags::RST, 'R'),
            (TcpFlags::PSH, 'P'),
            (TcpFlags::URG, 'U'),
            (TcpFlags::ECE, 'E'),
            (TcpFlags::CWR, 'W'),
            (TcpFlags::ACK, '.'),
        ];
        for (flag, c) in NAMES {
            if self.contains(flag) {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// A checked view of a TCP segment.
#[derive(Clone, Copy, Debug)]
pub struct TcpPacket<'a> {
    buf: &'a [u8],
    header_len: usize,
}

impl<'a> TcpPacket<'a> {
    /// Checks that the buffer holds a whole header, options included.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Error> {
        need("tcp", buf, HEADER_LEN)?;
        let header_len = usize::from(buf[12] >> 4) * 4;
        if header_len < HEADER_LEN {
            return Err(Error::Malformed {
                what: "tcp",
                why: "data offset below 5",
            });
        }
        need("tcp", buf, header_len)?;
        Ok(TcpPacket { buf, header_len })
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        u16::from_be_bytes([self.buf[0], self.buf[1]])
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        u16::from_be_bytes([self.buf[2], self.buf[3]])
    }

    /// Sequence number.
    pub fn seq(&self) -> u32 {
        u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]])
    }

    /// Acknowledgment number.
    pub fn ack(&self) -> u32 {
        u32::from_be_bytes([self.buf[8], self.buf[9], self.buf[10], self.buf[11]])
    }

    /// Header length in bytes, options included.
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// The eight flag bits.
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(self.buf[13])
    }

    /// The NS (ECN nonce, RFC 3540, historic) bit.
    pub fn ns(&self) -> bool {
        self.buf[12] & 0x01 != 0
    }

    /// Window size.
    pub fn window(&self) -> u16 {
        u16::from_be_bytes([self.buf[14], self.buf[15]])
    }

    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.buf[16], self.buf[17]])
    }

    /// Urgent pointer.
    pub fn urgent(&self) -> u16 {
        u16::from_be_bytes([self.buf[18], self.buf[19]])
    }

    /// The raw options bytes.
    pub fn options(&self) -> &'a [u8] {
        &self.buf[HEADER_LEN..self.header_len]
    }

    /// The 4 bits between the data offset and the flags: 3 reserved bits
    /// and NS (0 from most stacks).
    pub fn reserved(&self) -> u8 {
        self.buf[12] & 0x0f
    }

    /// The segment's data.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.header_len..]
    }

    /// Whether the checksum verifies given the pseudo-header sum (see
    /// [`checksum::pseudo_v4`] and [`checksum::pseudo_v6`], with this
    /// segment's length).
    pub fn verify_checksum(&self, pseudo: u64) -> bool {
        checksum::verify(self.buf, pseudo)
    }
}

/// TCP option kinds (RFC 9293, RFC 7323, RFC 2018).
pub mod kind {
    /// End of option list.
    pub const END: u8 = 0;
    /// No-operation (padding).
    pub const NOP: u8 = 1;
    /// Maximum segment size.
    pub const MSS: u8 = 2;
    /// Window scale.
    pub const WINDOW_SCALE: u8 = 3;
    /// SACK permitted.
    pub const SACK_PERMITTED: u8 = 4;
    /// SACK blocks.
    pub const SACK: u8 = 5;
    /// Timestamps.
    pub const TIMESTAMPS: u8 = 8;
}

/// One TCP option, as [`TcpOptions`] reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpOption<'a> {
    /// End of option list (the walk stops after it).
    End,
    /// No-operation.
    Nop,
    /// MSS.
    Mss(u16),
    /// Window-scale shift count.
    WindowScale(u8),
    /// SACK permitted.
    SackPermitted,
    /// Timestamps: the sender's value and the echoed one.
    Timestamps {
        /// TSval.
        tsval: u32,
        /// TSecr.
        tsecr: u32,
    },
    /// Any other kind, or a known kind with an unexpected length.
    Other {
        /// Its kind.
        kind: u8,
        /// Its data (after kind and length).
        data: &'a [u8],
    },
    /// A length byte that is missing, below 2 or past the end of the
    /// options (the walk stops after it).
    Malformed {
        /// The kind whose length was bad.
        kind: u8,
    },
}

/// A walk over an options block, yielding each [`TcpOption`] in order.
#[derive(Clone, Copy, Debug)]
pub struct TcpOptions<'a> {
    rest: &'a [u8],
}

impl<'a> TcpOptions<'a> {
    /// A walk over `options` (the bytes after the 20-byte header).
    #[inline]
    pub fn new(options: &'a [u8]) -> Self {
        TcpOptions { rest: options }
    }
}

impl<'a> Iterator for TcpOptions<'a> {
    type Item = TcpOption<'a>;

    #[inline]
    fn next(&mut self) -> Option<TcpOption<'a>> {
        let (&k, after) = self.rest.split_first()?;
        match k {
            kind::END => {
                self.rest = &[];
                return Some(TcpOption::End);
            }
            kind::NOP => {
                self.rest = after;
                return Some(TcpOption::Nop);
            }
            _ => {}
        }
        let len = after.first().map_or(0, |&l| usize::from(l));
        let Some(data) = (len >= 2).then(|| self.rest.get(2..len)).flatten() else {
            self.rest = &[];
            return Some(TcpOption::Malformed { kind: k });
        };
        self.rest = &self.rest[len..];
        Some(match (k, data) {
            (kind::MSS, &[a, b]) => TcpOption::Mss(u16::from_be_bytes([a, b])),
            (kind::WINDOW_SCALE, &[s]) => TcpOption::WindowScale(s),
            (kind::SACK_PERMITTED, &[]) => TcpOption::SackPermitted,
            (kind::TIMESTAMPS, &[a, b, c, d, e, f, g, h]) => TcpOption::Timestamps {
                tsval: u32::from_be_bytes([a, b, c, d]),
                tsecr: u32::from_be_bytes([e, f, g, h]),
            },
            (kind, data) => TcpOption::Other { kind, data },
        })
    }
}

/// Fields of a TCP header to emit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpRepr<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Window size.
    pub window: u16,
    /// Raw options, zero-padded to a multiple of 4 on emit (at most 40).
    pub options: &'a [u8],
    /// Data after the header.
    pub payload: &'a [u8],
}

impl TcpRepr<'_> {
    /// Header length: 20 plus the options rounded up to 4.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options.len().div_ceil(4) * 4
    }

    /// Header plus payload.
    pub fn len(&self) -> usize {
        self.header_len() + self.payload.len()
    }

    /// Whether the segment is empty (never: a header is 20 bytes).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes the segment at the start of `buf` and fills in its checksum
    /// from the pseudo-header sum `pseudo` (computed for [`Self::len`]).
    pub fn emit(&self, buf: &mut [u8], pseudo: u64) -> Result<(), Error> {
        if self.options.len() > MAX_OPTIONS_LEN {
            return Err(Error::OptionsTooLong(self.options.len()));
        }
        let hl = self.header_len();
        let len = self.len();
        let have = buf.len();
        let b = buf
            .get_mut(..len)
            .ok_or(Error::BufferTooSmall { need: len, have })?;
        b[0..2].copy_from_slice(&self.src_port.to_be_bytes());
        b[2..4].copy_from_slice(&self.dst_port.to_be_bytes());
        b[4..8].copy_from_slice(&self.seq.to_be_bytes());
        b[8..12].copy_from_slice(&self.ack.to_be_bytes());
        b[12] = ((hl / 4) as u8) << 4;
        b[13] = self.flags.0;
        b[14..16].copy_from_slice(&self.window.to_be_bytes());
        b[16..20].fill(0);
        b[HEADER_LEN..HEADER_LEN + self.options.len()].copy_from_slice(self.options);
        b[HEADER_LEN + self.options.len()..hl].fill(0);
        b[hl..].copy_from_slice(self.payload);
        let c = checksum::checksum(b, pseudo);
        b[16..18].copy_from_slice(&c.to_be_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn walk(b: &[u8]) -> Vec<TcpOption<'_>> {
        TcpOptions::new(b).collect()
    }

    #[test]
    fn linux_syn_ack_options_read_in_order() {
        // MSS 1460, SACK permitted, timestamps, NOP, window scale 7.
        let b = [
            2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 9, 0, 0, 0, 7, 1, 3, 3, 7,
        ];
        assert_eq!(
            walk(&b),
            [
                TcpOption::Mss(1460),
                TcpOption::SackPermitted,
                TcpOption::Timestamps { tsval: 9, tsecr: 7 },
                TcpOption::Nop,
                TcpOption::WindowScale(7),
            ]
        );
    }

    #[test]
    fn end_stops_and_padding_is_not_read() {
        assert_eq!(walk(&[1, 0, 2, 4]), [TcpOption::Nop, TcpOption::End]);
        assert!(walk(&[]).is_empty());
    }

    #[test]
    fn bad_lengths_end_the_walk_as_malformed() {
        let bad = TcpOption::Malformed { kind: 2 };
        assert_eq!(walk(&[2]), [bad]);
        assert_eq!(walk(&[2, 1, 0, 0]), [bad]);
        assert_eq!(walk(&[2, 0, 1, 1]), [bad]);
        assert_eq!(walk(&[1, 2, 9, 5, 180]), [TcpOption::Nop, bad]);
    }

    #[test]
    fn known_kinds_with_odd_lengths_are_other() {
        assert_eq!(
            walk(&[2, 3, 5, 3, 2]),
            [
                TcpOption::Other {
                    kind: 2,
                    data: &[5]
                },
                TcpOption::Other { kind: 3, data: &[] },
            ]
        );
        assert_eq!(
            walk(&[30, 2]),
            [TcpOption::Other {
                kind: 30,
                data: &[]
            }]
        );
    }

    proptest! {
        /// Any option bytes: the walk ends, never panics, takes at most
        /// one item per byte, and a malformed or End item is the last.
        #[test]
        fn any_option_bytes_walk_safely(b in proptest::collection::vec(any::<u8>(), 0..48)) {
            let items = walk(&b);
            prop_assert!(items.len() <= b.len());
            for (i, o) in items.iter().enumerate() {
                if matches!(o, TcpOption::End | TcpOption::Malformed { .. }) {
                    prop_assert_eq!(i, items.len() - 1);
                }
            }
        }
    }
}

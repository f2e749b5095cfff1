//! Ethernet II frames (IEEE 802.3 with an EtherType): the link layer that
//! ARP and Neighbor Discovery probes need.
//!
//! IP probes go out through raw IP sockets and never see a link-layer
//! header. Neighbour discovery is different: an ARP request is not an IP
//! packet at all, and an NS must reach the solicited-node multicast MAC
//! before the kernel knows the neighbour, so both are sent as whole frames
//! on a packet socket and their replies read as whole frames. This module
//! holds the 14-byte header those frames share.

use crate::error::{need, Error};

/// Length of an Ethernet II header (no 802.1Q tag).
pub const HEADER_LEN: usize = 14;
/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// The broadcast address.
pub const BROADCAST: [u8; 6] = [0xff; 6];

/// A checked view of an Ethernet II frame.
#[derive(Clone, Copy, Debug)]
pub struct EthernetFrame<'a> {
    buf: &'a [u8],
}

impl<'a> EthernetFrame<'a> {
    /// Checks that the buffer holds the 14-byte header.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Error> {
        need("ethernet", buf, HEADER_LEN)?;
        Ok(EthernetFrame { buf })
    }

    /// Destination MAC address.
    pub fn dst(&self) -> [u8; 6] {
        mac_at(self.buf, 0)
    }

    /// Source MAC address.
    pub fn src(&self) -> [u8; 6] {
        mac_at(self.buf, 6)
    }

    /// EtherType.
    pub fn ethertype(&self) -> u16 {
        u16::from_be_bytes([self.buf[12], self.buf[13]])
    }

    /// Everything after the header (including any padding to 60 bytes).
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[HEADER_LEN..]
    }
}

/// Writes an Ethernet II header at the start of `buf`.
pub fn emit_header(
    buf: &mut [u8],
    dst: [u8; 6],
    src: [u8; 6],
    ethertype: u16,
) -> Result<usize, Error> {
    let have = buf.len();
    let h = buf.get_mut(..HEADER_LEN).ok_or(Error::BufferTooSmall {
        need: HEADER_LEN,
        have,
    })?;
    h[0..6].copy_from_slice(&dst);
    h[6..12].copy_from_slice(&src);
    h[12..14].copy_from_slice(&ethertype.to_be_bytes());
    Ok(HEADER_LEN)
}

/// Whether `mac` is a unicast address (group bit clear) and not all zero.
pub fn is_unicast(mac: [u8; 6]) -> bool {
    mac[0] & 1 == 0 && mac != [0; 6]
}

/// Reads six bytes at `off`; the caller has checked the length.
pub(crate) fn mac_at(b: &[u8], off: usize) -> [u8; 6] {
    let mut m = [0u8; 6];
    m.copy_from_slice(&b[off..off + 6]);
    m
}

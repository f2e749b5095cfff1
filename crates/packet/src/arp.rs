//! ARP over Ethernet for IPv4 (RFC 826): the requests of an ARP ping
//! (`-PR`) and the replies that prove a neighbour up and give its MAC.
//!
//! On a directly connected Ethernet segment ARP is the fastest and most
//! reliable discovery: every IPv4 host must answer it to talk at all, no
//! firewall on the host filters it in practice, and the reply carries the
//! MAC address nmap prints. Only the Ethernet/IPv4 form (hardware type 1,
//! protocol 0x0800, lengths 6 and 4) exists here; anything else parses as
//! an error and is ignored.

use crate::error::{need, Error};
use crate::ethernet::{self, mac_at, EthernetFrame, BROADCAST, ETHERTYPE_ARP, ETHERTYPE_IPV4};
use std::net::Ipv4Addr;

/// Length of an Ethernet/IPv4 ARP packet.
pub const PACKET_LEN: usize = 28;
/// Length of an ARP frame without padding (Ethernet header plus ARP).
pub const FRAME_LEN: usize = ethernet::HEADER_LEN + PACKET_LEN;
/// Hardware type of Ethernet.
pub const HTYPE_ETHERNET: u16 = 1;
/// Operation code of a request.
pub const OP_REQUEST: u16 = 1;
/// Operation code of a reply.
pub const OP_REPLY: u16 = 2;

/// An ARP operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArpOp {
    /// "Who has `target_ip`? Tell `sender_ip`."
    Request,
    /// "`sender_ip` is at `sender_mac`."
    Reply,
}

impl ArpOp {
    fn code(self) -> u16 {
        match self {
            ArpOp::Request => OP_REQUEST,
            ArpOp::Reply => OP_REPLY,
        }
    }
}

/// An Ethernet/IPv4 ARP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArpRepr {
    /// Request or reply.
    pub op: ArpOp,
    /// Sender hardware address.
    pub sender_mac: [u8; 6],
    /// Sender protocol address.
    pub sender_ip: Ipv4Addr,
    /// Target hardware address (zero in requests).
    pub target_mac: [u8; 6],
    /// Target protocol address.
    pub target_ip: Ipv4Addr,
}

impl ArpRepr {
    /// A request from `sender` asking for `target_ip`'s MAC.
    pub fn request(sender_mac: [u8; 6], sender_ip: Ipv4Addr, target_ip: Ipv4Addr) -> Self {
        ArpRepr {
            op: ArpOp::Request,
            sender_mac,
            sender_ip,
            target_mac: [0; 6],
            target_ip,
        }
    }

    /// Parses an ARP packet (the payload of an ARP frame; trailing padding
    /// is ignored). Fails unless it is Ethernet/IPv4 with a request or
    /// reply operation.
    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        need("arp", b, PACKET_LEN)?;
        let malformed = |why| Err(Error::Malformed { what: "arp", why });
        if u16::from_be_bytes([b[0], b[1]]) != HTYPE_ETHERNET {
            return malformed("hardware type is not Ethernet");
        }
        if u16::from_be_bytes([b[2], b[3]]) != ETHERTYPE_IPV4 {
            return malformed("protocol type is not IPv4");
        }
        if b[4] != 6 || b[5] != 4 {
            return malformed("address lengths are not 6 and 4");
        }
        let op = match u16::from_be_bytes([b[6], b[7]]) {
            OP_REQUEST => ArpOp::Request,
            OP_REPLY => ArpOp::Reply,
            _ => return malformed("operation is neither request nor reply"),
        };
        Ok(ArpRepr {
            op,
            sender_mac: mac_at(b, 8),
            sender_ip: Ipv4Addr::new(b[14], b[15], b[16], b[17]),
            target_mac: mac_at(b, 18),
            target_ip: Ipv4Addr::new(b[24], b[25], b[26], b[27]),
        })
    }

    /// Writes the 28-byte packet at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let have = buf.len();
        let b = buf.get_mut(..PACKET_LEN).ok_or(Error::BufferTooSmall {
            need: PACKET_LEN,
            have,
        })?;
        b[0..2].copy_from_slice(&HTYPE_ETHERNET.to_be_bytes());
        b[2..4].copy_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
        b[4] = 6;
        b[5] = 4;
        b[6..8].copy_from_slice(&self.op.code().to_be_bytes());
        b[8..14].copy_from_slice(&self.sender_mac);
        b[14..18].copy_from_slice(&self.sender_ip.octets());
        b[18..24].copy_from_slice(&self.target_mac);
        b[24..28].copy_from_slice(&self.target_ip.octets());
        Ok(PACKET_LEN)
    }

    /// Writes the whole frame: requests go to the broadcast address,
    /// replies to the target's MAC. Returns its length ([`FRAME_LEN`]).
    pub fn emit_frame(&self, buf: &mut [u8]) -> Result<usize, Error> {
        if buf.len() < FRAME_LEN {
            return Err(Error::BufferTooSmall {
                need: FRAME_LEN,
                have: buf.len(),
            });
        }
        let dst = match self.op {
            ArpOp::Request => BROADCAST,
            ArpOp::Reply => self.target_mac,
        };
        let hl = ethernet::emit_header(buf, dst, self.sender_mac, ETHERTYPE_ARP)?;
        Ok(hl + self.emit(&mut buf[hl..])?)
    }
}

/// An ARP frame, parsed: the Ethernet addresses and the ARP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArpFrame {
    /// Ethernet destination.
    pub eth_dst: [u8; 6],
    /// Ethernet source.
    pub eth_src: [u8; 6],
    /// The ARP packet.
    pub arp: ArpRepr,
}

impl ArpFrame {
    /// Parses a whole Ethernet frame carrying ARP.
    pub fn parse(frame: &[u8]) -> Result<Self, Error> {
        let eth = EthernetFrame::new_checked(frame)?;
        if eth.ethertype() != ETHERTYPE_ARP {
            return Err(Error::Malformed {
                what: "ethernet",
                why: "EtherType is not ARP",
            });
        }
        Ok(ArpFrame {
            eth_dst: eth.dst(),
            eth_src: eth.src(),
            arp: ArpRepr::parse(eth.payload())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const US: [u8; 6] = [0x02, 0, 0, 0, 0, 1];
    const THEM: [u8; 6] = [0x02, 0, 0, 0, 0, 2];

    #[test]
    fn request_frame_bytes() {
        let mut buf = [0u8; 64];
        let n = ArpRepr::request(
            US,
            Ipv4Addr::new(198, 18, 0, 1),
            Ipv4Addr::new(198, 18, 0, 2),
        )
        .emit_frame(&mut buf)
        .unwrap();
        assert_eq!(n, 42);
        let want: [u8; 42] = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06, // ethernet
            0, 1, 8, 0, 6, 4, 0, 1, // htype, ptype, lengths, op
            2, 0, 0, 0, 0, 1, 198, 18, 0, 1, // sender
            0, 0, 0, 0, 0, 0, 198, 18, 0, 2, // target
        ];
        assert_eq!(buf[..n], want);
    }

    #[test]
    fn reply_round_trips_with_padding() {
        let reply = ArpRepr {
            op: ArpOp::Reply,
            sender_mac: THEM,
            sender_ip: Ipv4Addr::new(198, 18, 0, 2),
            target_mac: US,
            target_ip: Ipv4Addr::new(198, 18, 0, 1),
        };
        let mut buf = [0u8; 60];
        let n = reply.emit_frame(&mut buf).unwrap();
        assert_eq!(n, FRAME_LEN);
        let f = ArpFrame::parse(&buf).unwrap();
        assert_eq!((f.eth_dst, f.eth_src, f.arp), (US, THEM, reply));
    }

    #[test]
    fn other_hardware_protocols_and_truncations_are_errors() {
        let mut buf = [0u8; 42];
        ArpRepr::request(US, Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST)
            .emit_frame(&mut buf)
            .unwrap();
        for cut in 0..buf.len() {
            assert!(ArpFrame::parse(&buf[..cut]).is_err(), "cut at {cut}");
        }
        for (at, v) in [(15, 6), (16, 0x86), (18, 8), (21, 3), (12, 0x86)] {
            let mut b = buf;
            b[at] = v;
            assert!(ArpFrame::parse(&b).is_err(), "byte {at} = {v}");
        }
        assert!(
            ArpRepr::request(US, Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST)
                .emit_frame(&mut [0u8; 41])
                .is_err()
        );
    }

    proptest::proptest! {
        /// Hostile frames: the link-layer parsers never panic.
        #[test]
        fn link_parsers_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = ArpFrame::parse(&bytes);
            let _ = crate::ndp::NdpFrame::parse(&bytes);
            let _ = crate::addrmask::AddressMask::parse(&bytes);
        }
    }
}

//! IPv6 Neighbor Discovery (RFC 4861): the Neighbor Solicitations of an
//! IPv6 neighbour ping and the Advertisements that answer them.
//!
//! ND is IPv6's ARP: a host that must answer to talk at all, whatever its
//! firewall does to echo requests. A solicitation goes to the target's
//! *solicited-node* multicast group (`ff02::1:ffXX:XXXX`, the low 24 bits of
//! the target) at that group's multicast MAC (`33:33` and the group's low
//! 32 bits, RFC 2464), so it is sent as a whole frame before any neighbour
//! entry exists. The advertisement comes back unicast and carries the
//! target's MAC in a target link-layer address option.
//!
//! Received messages are checked as RFC 4861 section 7.1 asks before they
//! are believed: hop limit 255 (so they cannot come from off-link), code 0,
//! a valid ICMPv6 checksum, and options of non-zero length inside the
//! packet.

use crate::checksum::{self, pseudo_v6};
use crate::error::{need, Error};
use crate::ethernet::{self, mac_at, EthernetFrame, ETHERTYPE_IPV6};
use crate::icmp::v6::{NEIGHBOR_ADVERT, NEIGHBOR_SOLICIT};
use crate::ipv6::{self, Ipv6Packet, Ipv6Repr};
use crate::PROTO_ICMPV6;
use std::net::Ipv6Addr;

/// The hop limit every ND message is sent with and must arrive with.
pub const HOP_LIMIT: u8 = 255;
/// Option type of a source link-layer address.
pub const OPT_SOURCE_LL: u8 = 1;
/// Option type of a target link-layer address.
pub const OPT_TARGET_LL: u8 = 2;
/// ICMPv6 length of an NS or NA with one link-layer address option.
pub const MESSAGE_LEN: usize = 32;
/// Frame length of an NS or NA with one link-layer address option.
pub const FRAME_LEN: usize = ethernet::HEADER_LEN + ipv6::HEADER_LEN + MESSAGE_LEN;

/// The solicited-node multicast group of `addr` (RFC 4291 section 2.7.1).
pub fn solicited_node(addr: Ipv6Addr) -> Ipv6Addr {
    let o = addr.octets();
    Ipv6Addr::new(
        0xff02,
        0,
        0,
        0,
        0,
        1,
        0xff00 | u16::from(o[13]),
        u16::from_be_bytes([o[14], o[15]]),
    )
}

/// The Ethernet multicast address of an IPv6 multicast group (RFC 2464
/// section 7): `33:33` then the group's last four bytes.
pub fn multicast_mac(group: Ipv6Addr) -> [u8; 6] {
    let o = group.octets();
    [0x33, 0x33, o[12], o[13], o[14], o[15]]
}

/// The flags of a Neighbor Advertisement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AdvertFlags {
    /// R: the sender is a router.
    pub router: bool,
    /// S: sent in response to a solicitation.
    pub solicited: bool,
    /// O: should override a cached link-layer address.
    pub override_: bool,
}

impl AdvertFlags {
    fn byte(self) -> u8 {
        (u8::from(self.router) << 7)
            | (u8::from(self.solicited) << 6)
            | (u8::from(self.override_) << 5)
    }

    fn from_byte(b: u8) -> Self {
        AdvertFlags {
            router: b & 0x80 != 0,
            solicited: b & 0x40 != 0,
            override_: b & 0x20 != 0,
        }
    }
}

/// A Neighbor Solicitation or Advertisement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NdpMessage {
    /// "Who has `target`?"
    Solicit {
        /// The address asked about.
        target: Ipv6Addr,
        /// The asker's MAC, from its source link-layer address option.
        source_mac: Option<[u8; 6]>,
    },
    /// "`target` is at `target_mac`."
    Advert {
        /// R, S and O.
        flags: AdvertFlags,
        /// The address answered for.
        target: Ipv6Addr,
        /// Its MAC, from the target link-layer address option.
        target_mac: Option<[u8; 6]>,
    },
}

/// An NS or NA to send as a whole Ethernet frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NdpRepr {
    /// Ethernet and link-layer-option source: our MAC.
    pub src_mac: [u8; 6],
    /// Ethernet destination.
    pub dst_mac: [u8; 6],
    /// IPv6 source.
    pub src_ip: Ipv6Addr,
    /// IPv6 destination.
    pub dst_ip: Ipv6Addr,
    /// The message.
    pub message: NdpMessage,
}

impl NdpRepr {
    /// A solicitation for `target` from (`src_mac`, `src_ip`), addressed
    /// to the target's solicited-node group and its multicast MAC, with a
    /// source link-layer address option.
    pub fn solicit(src_mac: [u8; 6], src_ip: Ipv6Addr, target: Ipv6Addr) -> Self {
        let group = solicited_node(target);
        NdpRepr {
            src_mac,
            dst_mac: multicast_mac(group),
            src_ip,
            dst_ip: group,
            message: NdpMessage::Solicit {
                target,
                source_mac: Some(src_mac),
            },
        }
    }

    /// Writes the whole frame (Ethernet, IPv6 with hop limit 255, ICMPv6
    /// with its checksum) and returns its length.
    pub fn emit_frame(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let (msg_type, first, target, opt) = match self.message {
            NdpMessage::Solicit { target, source_mac } => (
                NEIGHBOR_SOLICIT,
                0,
                target,
                source_mac.map(|m| (OPT_SOURCE_LL, m)),
            ),
            NdpMessage::Advert {
                flags,
                target,
                target_mac,
            } => (
                NEIGHBOR_ADVERT,
                flags.byte(),
                target,
                target_mac.map(|m| (OPT_TARGET_LL, m)),
            ),
        };
        let icmp_len = 24 + if opt.is_some() { 8 } else { 0 };
        let total = ethernet::HEADER_LEN + ipv6::HEADER_LEN + icmp_len;
        if buf.len() < total {
            return Err(Error::BufferTooSmall {
                need: total,
                have: buf.len(),
            });
        }
        let mut off = ethernet::emit_header(buf, self.dst_mac, self.src_mac, ETHERTYPE_IPV6)?;
        Ipv6Repr {
            src: self.src_ip,
            dst: self.dst_ip,
            next_header: PROTO_ICMPV6,
            payload_len: icmp_len,
            hop_limit: HOP_LIMIT,
            flow_label: 0,
        }
        .emit(&mut buf[off..])?;
        off += ipv6::HEADER_LEN;
        let m = &mut buf[off..off + icmp_len];
        m.fill(0);
        m[0] = msg_type;
        m[4] = first;
        m[8..24].copy_from_slice(&target.octets());
        if let Some((kind, mac)) = opt {
            m[24] = kind;
            m[25] = 1;
            m[26..32].copy_from_slice(&mac);
        }
        let pseudo = pseudo_v6(self.src_ip, self.dst_ip, PROTO_ICMPV6, icmp_len as u32);
        let c = checksum::checksum(m, pseudo);
        m[2..4].copy_from_slice(&c.to_be_bytes());
        Ok(total)
    }
}

/// A received ND frame, parsed and checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NdpFrame {
    /// Ethernet destination.
    pub eth_dst: [u8; 6],
    /// Ethernet source.
    pub eth_src: [u8; 6],
    /// IPv6 source.
    pub ip_src: Ipv6Addr,
    /// IPv6 destination.
    pub ip_dst: Ipv6Addr,
    /// The message.
    pub message: NdpMessage,
}

impl NdpFrame {
    /// Parses an Ethernet frame carrying an NS or NA. Fails on anything
    /// else and on messages RFC 4861 section 7.1 says to discard.
    pub fn parse(frame: &[u8]) -> Result<Self, Error> {
        let eth = EthernetFrame::new_checked(frame)?;
        let malformed = |why| Error::Malformed { what: "ndp", why };
        if eth.ethertype() != ETHERTYPE_IPV6 {
            return Err(malformed("EtherType is not IPv6"));
        }
        let ip = Ipv6Packet::new_checked(eth.payload())?;
        if ip.next_header() != PROTO_ICMPV6 {
            return Err(malformed("not ICMPv6 (or behind extension headers)"));
        }
        if ip.hop_limit() != HOP_LIMIT {
            return Err(malformed("hop limit is not 255"));
        }
        let m = ip.payload();
        need("ndp", m, 24)?;
        if m[1] != 0 {
            return Err(malformed("code is not 0"));
        }
        let pseudo = pseudo_v6(ip.src(), ip.dst(), PROTO_ICMPV6, m.len() as u32);
        if !checksum::verify(m, pseudo) {
            return Err(Error::Checksum { what: "icmpv6" });
        }
        let mut t = [0u8; 16];
        t.copy_from_slice(&m[8..24]);
        let target = Ipv6Addr::from(t);
        let (source_mac, target_mac) = link_layer_options(&m[24..])?;
        let message = match m[0] {
            NEIGHBOR_SOLICIT => NdpMessage::Solicit { target, source_mac },
            NEIGHBOR_ADVERT => NdpMessage::Advert {
                flags: AdvertFlags::from_byte(m[4]),
                target,
                target_mac,
            },
            _ => return Err(malformed("neither a solicitation nor an advertisement")),
        };
        Ok(NdpFrame {
            eth_dst: eth.dst(),
            eth_src: eth.src(),
            ip_src: ip.src(),
            ip_dst: ip.dst(),
            message,
        })
    }
}

/// The source and target link-layer addresses found in ND options.
type LinkAddrs = (Option<[u8; 6]>, Option<[u8; 6]>);

/// Walks ND options; returns the first source and target link-layer
/// addresses of Ethernet length. Fails on a zero-length or cut option.
fn link_layer_options(mut opts: &[u8]) -> Result<LinkAddrs, Error> {
    let (mut source, mut target) = (None, None);
    while !opts.is_empty() {
        need("ndp option", opts, 2)?;
        let len = usize::from(opts[1]) * 8;
        if len == 0 {
            return Err(Error::Malformed {
                what: "ndp option",
                why: "length is zero",
            });
        }
        need("ndp option", opts, len)?;
        if len == 8 {
            match opts[0] {
                OPT_SOURCE_LL if source.is_none() => source = Some(mac_at(opts, 2)),
                OPT_TARGET_LL if target.is_none() => target = Some(mac_at(opts, 2)),
                _ => {}
            }
        }
        opts = &opts[len..];
    }
    Ok((source, target))
}

#[cfg(test)]
mod tests {
    use super::*;

    const US: [u8; 6] = [0x02, 0, 0, 0, 0, 1];
    const THEM: [u8; 6] = [0x02, 0, 0, 0, 0, 2];

    fn us() -> Ipv6Addr {
        "2001:2::1".parse().unwrap()
    }
    fn them() -> Ipv6Addr {
        "2001:2::ab:cdef".parse().unwrap()
    }

    #[test]
    fn solicited_node_group_and_mac() {
        let g = solicited_node(them());
        assert_eq!(g, "ff02::1:ffab:cdef".parse::<Ipv6Addr>().unwrap());
        assert_eq!(multicast_mac(g), [0x33, 0x33, 0xff, 0xab, 0xcd, 0xef]);
    }

    #[test]
    fn solicitation_round_trips() {
        let ns = NdpRepr::solicit(US, us(), them());
        let mut buf = [0u8; 128];
        let n = ns.emit_frame(&mut buf).unwrap();
        assert_eq!(n, FRAME_LEN);
        assert_eq!(&buf[..6], &[0x33, 0x33, 0xff, 0xab, 0xcd, 0xef]);
        assert_eq!(buf[14 + 7], 255, "hop limit");
        let f = NdpFrame::parse(&buf[..n]).unwrap();
        assert_eq!(f.ip_dst, solicited_node(them()));
        assert_eq!(
            f.message,
            NdpMessage::Solicit {
                target: them(),
                source_mac: Some(US)
            }
        );
    }

    #[test]
    fn advertisement_round_trips_and_checks() {
        let flags = AdvertFlags {
            router: false,
            solicited: true,
            override_: true,
        };
        let na = NdpRepr {
            src_mac: THEM,
            dst_mac: US,
            src_ip: them(),
            dst_ip: us(),
            message: NdpMessage::Advert {
                flags,
                target: them(),
                target_mac: Some(THEM),
            },
        };
        let mut buf = [0u8; 128];
        let n = na.emit_frame(&mut buf).unwrap();
        let f = NdpFrame::parse(&buf[..n]).unwrap();
        assert_eq!((f.eth_src, f.ip_src, f.message), (THEM, them(), na.message));
        // Every truncation fails; so do a forwarded copy, a bad checksum,
        // a non-zero code and a zero-length option.
        for cut in 0..n {
            assert!(NdpFrame::parse(&buf[..cut]).is_err(), "cut at {cut}");
        }
        for (at, x) in [(14 + 7, 0x40u8), (54 + 2, 0xff), (54 + 1, 1), (54 + 25, 1)] {
            let mut b = buf;
            b[at] ^= x;
            assert!(NdpFrame::parse(&b[..n]).is_err(), "byte {at} ^ {x}");
        }
    }
}

//! Link-layer discovery: ARP (`-PR`) for IPv4 and Neighbor Discovery for
//! IPv6 neighbours on a directly connected Ethernet segment.
//!
//! On the local segment these beat every IP-level ping: each host must
//! answer them to talk at all, host firewalls do not filter them, and the
//! answer carries the MAC address (and so the vendor) nmap prints. nmap
//! uses them instead of the IP pings whenever a target is on an Ethernet
//! segment of ours.
//!
//! [`ArpSweep`] and [`NdSweep`] are sans-IO: they build request frames
//! for a target and classify received frames into [`NeighborReply`]s.
//! [`super::NeighborPing`] makes either a probe module of the link layer,
//! which the engine drives over any [`FrameLink`] (`portolan-netio`'s
//! `FrameIo` on Linux) with its retries, timeouts and RTTs.
//!
//! Validation: ARP and ND carry no nonce, so a reply is accepted when it
//! is a reply (an NA with the solicited flag) addressed to our IP and MAC
//! from a unicast MAC, and the engine keeps only replies about addresses
//! it asked and has not heard from yet. Anyone on the segment can forge
//! such a reply; on a shared link that is the nature of ARP.

use portolan_model::Reason;
use portolan_packet::ethernet::is_unicast;
use portolan_packet::{ArpFrame, ArpOp, ArpRepr, NdpFrame, NdpMessage, NdpRepr};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub use portolan_engine::FrameLink;

/// A neighbour that answered: its address, its MAC, and why it is up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NeighborReply {
    /// The neighbour's IP address.
    pub ip: IpAddr,
    /// Its MAC address.
    pub mac: [u8; 6],
    /// `arp-response` or `nd-response`.
    pub reason: Reason,
}

/// Builds requests for a neighbour and recognises their replies.
pub trait NeighborProbe {
    /// Writes the request frame for `target` into `buf` (at least 128
    /// bytes) and returns its length; 0 if `target` is of the other family.
    fn build(&self, target: IpAddr, buf: &mut [u8]) -> usize;

    /// The neighbour a received frame shows up, if it is a valid reply to
    /// us. Anything else, hostile or malformed, is `None`.
    fn classify(&self, frame: &[u8]) -> Option<NeighborReply>;
}

/// ARP requests from one (MAC, IPv4 address) of ours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArpSweep {
    mac: [u8; 6],
    ip: Ipv4Addr,
}

impl ArpSweep {
    /// Requests from our interface's `mac` and its address `ip`.
    pub fn new(mac: [u8; 6], ip: Ipv4Addr) -> Self {
        ArpSweep { mac, ip }
    }
}

impl NeighborProbe for ArpSweep {
    fn build(&self, target: IpAddr, buf: &mut [u8]) -> usize {
        let IpAddr::V4(t) = target else { return 0 };
        ArpRepr::request(self.mac, self.ip, t)
            .emit_frame(buf)
            .unwrap_or(0)
    }

    fn classify(&self, frame: &[u8]) -> Option<NeighborReply> {
        let f = ArpFrame::parse(frame).ok()?;
        let a = f.arp;
        let ours = a.op == ArpOp::Reply
            && a.target_ip == self.ip
            && a.target_mac == self.mac
            && f.eth_dst == self.mac
            && a.sender_ip != self.ip
            && is_unicast(a.sender_mac);
        ours.then_some(NeighborReply {
            ip: IpAddr::V4(a.sender_ip),
            mac: a.sender_mac,
            reason: Reason::ArpResponse,
        })
    }
}

/// Neighbor Solicitations from one (MAC, IPv6 address) of ours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NdSweep {
    mac: [u8; 6],
    ip: Ipv6Addr,
}

impl NdSweep {
    /// Solicitations from our interface's `mac` and its address `ip`.
    pub fn new(mac: [u8; 6], ip: Ipv6Addr) -> Self {
        NdSweep { mac, ip }
    }
}

impl NeighborProbe for NdSweep {
    fn build(&self, target: IpAddr, buf: &mut [u8]) -> usize {
        let IpAddr::V6(t) = target else { return 0 };
        NdpRepr::solicit(self.mac, self.ip, t)
            .emit_frame(buf)
            .unwrap_or(0)
    }

    fn classify(&self, frame: &[u8]) -> Option<NeighborReply> {
        let f = NdpFrame::parse(frame).ok()?;
        let NdpMessage::Advert {
            flags,
            target,
            target_mac,
        } = f.message
        else {
            return None;
        };
        let mac = target_mac.unwrap_or(f.eth_src);
        let ours = flags.solicited
            && f.ip_dst == self.ip
            && f.eth_dst == self.mac
            && target != self.ip
            && is_unicast(mac);
        ours.then_some(NeighborReply {
            ip: IpAddr::V6(target),
            mac,
            reason: Reason::NdResponse,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portolan_packet::ndp::{multicast_mac, solicited_node};
    use portolan_packet::AdvertFlags;

    const US: [u8; 6] = [0x02, 0, 0, 0, 0, 1];
    const THEM: [u8; 6] = [0x02, 0, 0, 0, 0, 2];
    const US4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
    const THEM4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);

    fn us6() -> Ipv6Addr {
        "2001:2::1".parse().unwrap()
    }
    fn them6() -> Ipv6Addr {
        "2001:2::2".parse().unwrap()
    }

    fn arp_reply(target_ip: Ipv4Addr, target_mac: [u8; 6]) -> Vec<u8> {
        arp_reply_from(THEM4, target_ip, target_mac)
    }

    fn arp_reply_from(sender_ip: Ipv4Addr, target_ip: Ipv4Addr, target_mac: [u8; 6]) -> Vec<u8> {
        let mut b = [0u8; 60];
        let n = ArpRepr {
            op: ArpOp::Reply,
            sender_mac: THEM,
            sender_ip,
            target_mac,
            target_ip,
        }
        .emit_frame(&mut b)
        .unwrap();
        b[..n].to_vec()
    }

    fn na(dst: Ipv6Addr, solicited: bool, option: bool) -> Vec<u8> {
        let mut b = [0u8; 128];
        let n = NdpRepr {
            src_mac: THEM,
            dst_mac: US,
            src_ip: them6(),
            dst_ip: dst,
            message: NdpMessage::Advert {
                flags: AdvertFlags {
                    router: false,
                    solicited,
                    override_: true,
                },
                target: them6(),
                target_mac: option.then_some(THEM),
            },
        }
        .emit_frame(&mut b)
        .unwrap();
        b[..n].to_vec()
    }

    #[test]
    fn arp_request_and_reply() {
        let s = ArpSweep::new(US, US4);
        let mut buf = [0u8; 128];
        let n = s.build(IpAddr::V4(THEM4), &mut buf);
        let req = ArpFrame::parse(&buf[..n]).unwrap();
        assert_eq!(req.arp, ArpRepr::request(US, US4, THEM4));
        assert_eq!(s.build(IpAddr::V6(them6()), &mut buf), 0);
        assert_eq!(
            s.classify(&arp_reply(US4, US)),
            Some(NeighborReply {
                ip: IpAddr::V4(THEM4),
                mac: THEM,
                reason: Reason::ArpResponse
            })
        );
        assert_eq!(s.classify(&arp_reply(THEM4, US)), None, "not to our IP");
        assert_eq!(s.classify(&arp_reply(US4, THEM)), None, "not to our MAC");
        assert_eq!(s.classify(&buf[..n]), None, "a request");
    }

    #[test]
    fn nd_solicitation_and_advertisement() {
        let s = NdSweep::new(US, us6());
        let mut buf = [0u8; 128];
        let n = s.build(IpAddr::V6(them6()), &mut buf);
        let ns = NdpFrame::parse(&buf[..n]).unwrap();
        assert_eq!(ns.ip_dst, solicited_node(them6()));
        assert_eq!(ns.eth_dst, multicast_mac(solicited_node(them6())));
        assert_eq!(s.build(IpAddr::V4(THEM4), &mut buf), 0);
        let want = Some(NeighborReply {
            ip: IpAddr::V6(them6()),
            mac: THEM,
            reason: Reason::NdResponse,
        });
        assert_eq!(s.classify(&na(us6(), true, true)), want);
        assert_eq!(
            s.classify(&na(us6(), true, false)),
            want,
            "MAC from Ethernet"
        );
        assert_eq!(s.classify(&na(us6(), false, true)), None, "unsolicited");
        assert_eq!(s.classify(&na(them6(), true, true)), None, "not to us");
        assert_eq!(s.classify(&buf[..n]), None, "a solicitation");
    }
}

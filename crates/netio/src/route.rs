//! Which interface and source address the kernel would use for a target.
//!
//! Probes are written with their source address already in the header, and
//! replies are captured on one interface, so both must be known before the
//! first packet. Rather than parse routing tables we ask the kernel: a UDP
//! socket `connect`ed to the target (which sends nothing) gets the source
//! address the kernel's routing picked, and the interface holding that
//! address is taken as the egress interface. Targets that are local
//! addresses of this host are reached over loopback whatever interface
//! holds them, so they map to the loopback interface.
//!
//! Limitation: policy routing that sends traffic out of an interface other
//! than the one holding the chosen source address is not detected; `-e`
//! overrides.

use std::net::{IpAddr, SocketAddr};

use nix::ifaddrs::getifaddrs;
use nix::net::if_::{if_nametoindex, InterfaceFlags};
use socket2::{Domain, SockAddr, Socket, Type};

use crate::error::NetError;

/// Where probes to one target leave from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The interface's name, e.g. "eth0" or "lo".
    pub interface: String,
    /// The interface's index.
    pub ifindex: u32,
    /// The source address to put in probes.
    pub src: IpAddr,
    /// Whether the interface is a loopback interface.
    pub is_loopback: bool,
    /// When the target is on a directly connected Ethernet segment (veth
    /// counts): that segment's network and prefix length, from the
    /// interface's address that contains the target. nmap asks such
    /// targets by ARP / Neighbor Discovery instead of IP pings.
    pub link_net: Option<(IpAddr, u8)>,
}

impl Route {
    /// Whether `addr` is on the same Ethernet segment as this route's
    /// target.
    pub fn on_link(&self, addr: IpAddr) -> bool {
        self.link_net
            .is_some_and(|(net, len)| in_prefix(addr, net, len))
    }
}

/// The directly connected Ethernet networks of this host (veth counts),
/// for choosing ARP / Neighbor Discovery per target as nmap does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkNets {
    /// `(interface, address, prefix length)` of every address of an
    /// Ethernet interface.
    pub nets: Vec<(String, IpAddr, u8)>,
    /// Every local address (never a neighbour of its own host).
    pub local: Vec<IpAddr>,
}

impl LinkNets {
    /// Reads the interfaces' addresses.
    pub fn read() -> Result<LinkNets, NetError> {
        let (addrs, _, ethernet) = local_addrs()?;
        let nets = addrs
            .iter()
            .filter(|a| ethernet.contains(&a.name) && a.prefix > 0 && !is_link_local(a.addr))
            .map(|a| (a.name.clone(), a.addr, a.prefix))
            .collect();
        Ok(LinkNets {
            nets,
            local: addrs.iter().map(|a| a.addr).collect(),
        })
    }

    /// The Ethernet interface whose segment holds `addr`, with this host's
    /// address on that segment; `None` when `addr` is not a neighbour.
    pub fn segment_of(&self, addr: IpAddr) -> Option<(&str, IpAddr)> {
        if addr.is_loopback() || self.local.contains(&addr) {
            return None;
        }
        self.nets
            .iter()
            .find(|(_, net, len)| in_prefix(addr, *net, *len))
            .map(|(name, ours, _)| (name.as_str(), *ours))
    }
}

/// Whether `addr` is in `net/len`.
fn in_prefix(addr: IpAddr, net: IpAddr, len: u8) -> bool {
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let len = u32::from(len.min(32));
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let len = u32::from(len.min(128));
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// One address of one local interface.
struct IfAddr {
    name: String,
    addr: IpAddr,
    /// Prefix length of the address's network.
    prefix: u8,
}

/// Interface names.
type Names = Vec<String>;

/// The IP addresses of all local interfaces, the names of the loopback
/// interfaces (which may have no address) and those of the Ethernet ones.
fn local_addrs() -> Result<(Vec<IfAddr>, Names, Names), NetError> {
    let addrs = getifaddrs().map_err(|e| NetError::os("getifaddrs", e.into()))?;
    let mut out = Vec::new();
    let mut loopbacks = Vec::new();
    let mut ethernet = Vec::new();
    for ifa in addrs {
        if ifa.flags.contains(InterfaceFlags::IFF_LOOPBACK)
            && !loopbacks.contains(&ifa.interface_name)
        {
            loopbacks.push(ifa.interface_name.clone());
        }
        if let Some(link) = ifa.address.as_ref().and_then(|a| a.as_link_addr()) {
            // ARPHRD_ETHER
            if link.hatype() == 1 && !ethernet.contains(&ifa.interface_name) {
                ethernet.push(ifa.interface_name.clone());
            }
            continue;
        }
        let Some(sa) = ifa.address else { continue };
        let addr = if let Some(v4) = sa.as_sockaddr_in() {
            IpAddr::V4(v4.ip())
        } else if let Some(v6) = sa.as_sockaddr_in6() {
            IpAddr::V6(v6.ip())
        } else {
            continue;
        };
        let prefix = ifa.netmask.as_ref().map_or(0, |m| {
            if let Some(v4) = m.as_sockaddr_in() {
                u32::from(v4.ip()).count_ones() as u8
            } else if let Some(v6) = m.as_sockaddr_in6() {
                u128::from(v6.ip()).count_ones() as u8
            } else {
                0
            }
        });
        out.push(IfAddr {
            name: ifa.interface_name,
            addr,
            prefix,
        });
    }
    Ok((out, loopbacks, ethernet))
}

fn family(a: IpAddr) -> &'static str {
    if a.is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    }
}

fn is_link_local(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => v6.segments()[0] & 0xffc0 == 0xfe80,
    }
}

/// Asks the kernel which source address it would use to reach `dst`,
/// optionally only through interface `iface`. Sends nothing.
fn kernel_source(dst: IpAddr, iface: Option<(&str, u32)>) -> std::io::Result<IpAddr> {
    let sock = Socket::new(
        Domain::for_address(SocketAddr::new(dst, 0)),
        Type::DGRAM,
        None,
    )?;
    if let Some((name, _)) = iface {
        sock.bind_device(Some(name.as_bytes()))?;
    }
    let sa = match dst {
        IpAddr::V4(v4) => SocketAddr::new(IpAddr::V4(v4), 9),
        IpAddr::V6(v6) => {
            let scope = if is_link_local(dst) {
                iface.map_or(0, |(_, i)| i)
            } else {
                0
            };
            SocketAddr::V6(std::net::SocketAddrV6::new(v6, 9, 0, scope))
        }
    };
    sock.connect(&SockAddr::from(sa))?;
    let local = sock
        .local_addr()?
        .as_socket()
        .ok_or_else(|| std::io::Error::other("socket has no IP address"))?;
    Ok(local.ip())
}

fn index_of(name: &str) -> Result<u32, NetError> {
    if_nametoindex(name).map_err(|_| NetError::UnknownInterface {
        name: name.to_owned(),
    })
}

/// Finds the interface and source address for probes to `dst`.
///
/// `iface` (`-e`) forces the interface and `src` (`-S`) the source address;
/// a source that is not a local address is allowed only together with an
/// interface (address spoofing).
pub fn route_to(dst: IpAddr, iface: Option<&str>, src: Option<IpAddr>) -> Result<Route, NetError> {
    if dst.is_unspecified() {
        return Err(NetError::BadTarget { dst });
    }
    if let Some(s) = src {
        if s.is_ipv4() != dst.is_ipv4() {
            return Err(NetError::FamilyMismatch { src: s, dst });
        }
    }
    let (addrs, loopbacks, ethernet) = local_addrs()?;
    let forced = match iface {
        Some(name) => Some((name, index_of(name)?)),
        None => None,
    };

    let src = match src {
        Some(s) => {
            if forced.is_none() && !addrs.iter().any(|a| a.addr == s) {
                return Err(NetError::SourceNotLocal { src: s });
            }
            s
        }
        None => match kernel_source(dst, forced) {
            Ok(s) => s,
            Err(e) => match forced {
                // No route through the forced interface: send from its first
                // address of the right family anyway (the user asked for it).
                Some((name, _)) => addrs
                    .iter()
                    .filter(|a| a.name == name && a.addr.is_ipv4() == dst.is_ipv4())
                    .min_by_key(|a| is_link_local(a.addr) != is_link_local(dst))
                    .map(|a| a.addr)
                    .ok_or(NetError::NoAddress {
                        interface: name.to_owned(),
                        family: family(dst),
                    })?,
                None => return Err(NetError::NoRoute { dst, source: e }),
            },
        },
    };

    let loopback_name = || loopbacks.first().cloned();
    let interface = match forced {
        Some((name, _)) => name.to_owned(),
        None => {
            let to_self = dst.is_loopback() || addrs.iter().any(|a| a.addr == dst);
            let by_src = addrs.iter().find(|a| a.addr == src).map(|a| a.name.clone());
            let chosen = if to_self {
                loopback_name().or(by_src)
            } else {
                by_src
            };
            chosen.ok_or(NetError::SourceNotLocal { src })?
        }
    };
    let ifindex = index_of(&interface)?;
    let is_loopback = loopbacks.contains(&interface);
    let link_net = if is_loopback || !ethernet.contains(&interface) {
        None
    } else {
        addrs
            .iter()
            .filter(|a| a.name == interface && a.prefix > 0)
            .find(|a| in_prefix(dst, a.addr, a.prefix))
            .map(|a| (a.addr, a.prefix))
    };
    Ok(Route {
        interface,
        ifindex,
        src,
        is_loopback,
        link_net,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn loopback_targets_route_over_loopback() {
        let r = route_to(IpAddr::V4(Ipv4Addr::LOCALHOST), None, None).unwrap();
        assert!(r.is_loopback, "{r:?}");
        assert_eq!(r.src, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert!(r.ifindex > 0);
        let r = route_to(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 9)), None, None).unwrap();
        assert!(r.is_loopback, "{r:?}");
        let r = route_to(IpAddr::V4(Ipv4Addr::LOCALHOST), Some("lo"), None).unwrap();
        assert_eq!(
            (r.interface.as_str(), r.src),
            ("lo", IpAddr::V4(Ipv4Addr::LOCALHOST))
        );
    }

    #[test]
    fn prefixes() {
        let a = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(in_prefix(a("198.18.0.77"), a("198.18.0.1"), 24));
        assert!(!in_prefix(a("198.18.1.77"), a("198.18.0.1"), 24));
        assert!(in_prefix(a("198.19.5.5"), a("198.18.0.1"), 15));
        assert!(in_prefix(a("2001:2::99"), a("2001:2::1"), 64));
        assert!(!in_prefix(a("2001:3::99"), a("2001:2::1"), 64));
        assert!(!in_prefix(a("198.18.0.1"), a("2001:2::1"), 0));
        assert!(in_prefix(a("203.0.113.9"), a("198.18.0.1"), 0));
        let r = route_to(IpAddr::V4(Ipv4Addr::LOCALHOST), None, None).unwrap();
        assert_eq!(r.link_net, None, "loopback is no Ethernet segment");
    }

    #[test]
    fn bad_inputs_are_errors_naming_the_problem() {
        let e = route_to(IpAddr::V4(Ipv4Addr::UNSPECIFIED), None, None).unwrap_err();
        assert!(e.to_string().contains("0.0.0.0"), "{e}");
        let e = route_to(IpAddr::V4(Ipv4Addr::LOCALHOST), Some("no-such-if0"), None).unwrap_err();
        assert!(e.to_string().contains("no-such-if0"), "{e}");
        let e = route_to(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            None,
            Some(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        )
        .unwrap_err();
        assert!(matches!(e, NetError::FamilyMismatch { .. }), "{e}");
        let spoof = IpAddr::V4(Ipv4Addr::new(198, 19, 255, 254));
        let e = route_to(IpAddr::V4(Ipv4Addr::LOCALHOST), None, Some(spoof)).unwrap_err();
        assert!(e.to_string().contains("198.19.255.254"), "{e}");
        // With an interface, a foreign source is accepted (spoofing).
        let r = route_to(IpAddr::V4(Ipv4Addr::LOCALHOST), Some("lo"), Some(spoof)).unwrap();
        assert_eq!(r.src, spoof);
        assert_eq!(r.interface, "lo");
    }
}

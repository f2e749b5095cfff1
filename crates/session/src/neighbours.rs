//! ARP and Neighbor Discovery of the targets on a directly connected
//! Ethernet segment, as a link-layer probe module of discovery.
//!
//! Why a module and not a sweep of its own: the engine then schedules the
//! requests like any ping (retries, timeouts, RTTs, rate, `Ctrl-C`) in the
//! same driver loop as the IP pings and the port scan, so a neighbour found
//! up is port-scanned while the other targets are still being asked. Used
//! by `-PR` and, as in nmap, by default discovery for the targets on a
//! segment of ours; the IP pings skip those ([`OffSegment`]).
//!
//! [`SegmentPing`] chooses per target the segment (interface and source
//! address) to ask from; [`FrameLinks`] holds one frame socket per segment,
//! opened when its first request goes out, and routes each request to its
//! segment's socket by its sender address.

use crate::config::ScanConfig;
use crate::drivers::first_of_each_family;
use crate::plan::{Discovery, Plan};
use crate::SessionError;
use portolan_engine::{FrameLink, Layer, ProbeContext, ProbeModule, ProbeSpec, Reply};
use portolan_model::{PortState, Protocol, Reason, ScanType};
use portolan_netio::{interface_mac, route_to, FrameFilter, FrameIo, LinkNets};
use portolan_probes::discovery::neighbor::NeighborProbe;
use portolan_probes::discovery::{ArpSweep, NdSweep};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// One segment asked from: the interface, our address on it, and the
/// requests from that address.
struct Segment {
    iface: String,
    src: IpAddr,
    probe: Box<dyn NeighborProbe + Send + Sync>,
}

impl Segment {
    fn new(iface: &str, src: IpAddr) -> Result<Segment, SessionError> {
        let mac = interface_mac(iface)?;
        let probe: Box<dyn NeighborProbe + Send + Sync> = match src {
            IpAddr::V4(a) => Box::new(ArpSweep::new(mac, a)),
            IpAddr::V6(a) => Box::new(NdSweep::new(mac, a)),
        };
        Ok(Segment {
            iface: iface.to_string(),
            src,
            probe,
        })
    }
}

/// ARP (IPv4) and Neighbor Discovery (IPv6) as one discovery technique
/// (port 0, counted as TCP like the ICMP pings) of [`Layer::Link`]. A
/// neighbour that answers is up (`arp-response` / `nd-response`) with its
/// MAC; a target it does not ask (not on a segment) costs no frame.
pub(crate) struct SegmentPing {
    segments: Vec<Segment>,
    /// Default discovery: ask only the targets on a segment of ours. `-PR`
    /// (`None`): ask every target on its family's segment.
    nets: Option<LinkNets>,
}

impl SegmentPing {
    /// The segment `dst` is asked on.
    fn segment(&self, dst: IpAddr) -> Option<&Segment> {
        match &self.nets {
            Some(nets) => {
                let (iface, src) = nets.segment_of(dst)?;
                self.segments
                    .iter()
                    .find(|s| s.iface == iface && s.src == src)
            }
            None => self
                .segments
                .iter()
                .find(|s| s.src.is_ipv4() == dst.is_ipv4()),
        }
    }

    /// The (interface, source) of each segment, for [`FrameLinks`].
    fn links(&self) -> FrameLinks {
        FrameLinks {
            links: self
                .segments
                .iter()
                .map(|s| (s.iface.clone(), s.src, None))
                .collect(),
            next: 0,
        }
    }
}

impl ProbeModule for SegmentPing {
    fn scan_type(&self) -> ScanType {
        ScanType::Syn
    }

    fn protocol(&self) -> Protocol {
        Protocol::Tcp
    }

    fn layer(&self) -> Layer {
        Layer::Link
    }

    fn build(&self, _ctx: &ProbeContext, probe: &ProbeSpec, buf: &mut [u8]) -> usize {
        self.segment(probe.dst)
            .map_or(0, |s| s.probe.build(probe.dst, buf))
    }

    fn classify(&self, _ctx: &ProbeContext, frame: &[u8]) -> Option<Reply> {
        let r = self.segments.iter().find_map(|s| s.probe.classify(frame))?;
        Some(Reply {
            dst: r.ip,
            dport: 0,
            attempt: None,
            state: PortState::Open,
            reason: r.reason,
            ttl: 0,
            traits: None,
            mac: Some(r.mac),
        })
    }

    fn no_reply(&self) -> (PortState, Reason) {
        (PortState::Filtered, Reason::NoResponse)
    }
}

/// The link-layer ping of the plan's discovery and its frame sockets, if
/// it has one: for `-PR`, on the interface of the route to each family's
/// first target (so a segment reached through an interface without an
/// address in it is asked too); for default discovery, on every segment of
/// ours.
pub(crate) fn link_ping(
    plan: &Plan,
    opts: &ScanConfig,
) -> Result<Option<(SegmentPing, FrameLinks)>, SessionError> {
    let ping = match (&plan.discovery, &plan.neighbors) {
        (Discovery::Neighbor, _) => {
            let (first_v4, first_v6) = first_of_each_family(&plan.targets);
            let iface = opts.net.interface.as_deref();
            let mut segments = Vec::new();
            for first in [first_v4, first_v6].into_iter().flatten() {
                let source = opts
                    .net
                    .source_addr
                    .filter(|s| s.is_ipv4() == first.is_ipv4());
                let route = route_to(first, iface, source)?;
                segments.push(Segment::new(&route.interface, route.src)?);
            }
            SegmentPing {
                segments,
                nets: None,
            }
        }
        (Discovery::Raw(_), Some(nets)) => SegmentPing {
            // An address whose interface's MAC cannot be read is no
            // segment of ours: its targets are pinged by IP instead.
            segments: nets
                .nets
                .iter()
                .filter_map(|(iface, src, _)| Segment::new(iface, *src).ok())
                .collect(),
            nets: Some(LinkNets {
                nets: nets
                    .nets
                    .iter()
                    .filter(|(iface, ..)| interface_mac(iface).is_ok())
                    .cloned()
                    .collect(),
                local: nets.local.clone(),
            }),
        },
        _ => return Ok(None),
    };
    let links = ping.links();
    Ok(Some((ping, links)))
}

/// An IP ping that skips the targets asked by ARP / ND (the neighbours on
/// a segment of ours), as nmap does: it builds nothing for them.
pub(crate) struct OffSegment {
    inner: Box<dyn ProbeModule>,
    nets: LinkNets,
}

impl OffSegment {
    /// `inner`, for the targets `ping` does not ask.
    pub(crate) fn new(inner: Box<dyn ProbeModule>, ping: &SegmentPing) -> Self {
        OffSegment {
            inner,
            nets: ping.nets.clone().unwrap_or_default(),
        }
    }
}

impl ProbeModule for OffSegment {
    fn scan_type(&self) -> ScanType {
        self.inner.scan_type()
    }

    fn protocol(&self) -> Protocol {
        self.inner.protocol()
    }

    fn layer(&self) -> Layer {
        self.inner.layer()
    }

    fn build(&self, ctx: &ProbeContext, probe: &ProbeSpec, buf: &mut [u8]) -> usize {
        if self.nets.segment_of(probe.dst).is_some() {
            return 0;
        }
        self.inner.build(ctx, probe, buf)
    }

    fn classify(&self, ctx: &ProbeContext, packet: &[u8]) -> Option<Reply> {
        self.inner.classify(ctx, packet)
    }

    fn no_reply(&self) -> (PortState, Reason) {
        self.inner.no_reply()
    }
}

/// One frame socket per segment (interface, source address), opened at
/// its first request, as one [`FrameLink`]: a request goes out on the
/// socket of its sender address.
pub(crate) struct FrameLinks {
    links: Vec<(String, IpAddr, Option<FrameIo>)>,
    /// The socket waited on first next time (round robin).
    next: usize,
}

/// How long one socket is waited on while several are open.
const SLICE: Duration = Duration::from_millis(2);

/// The sender address of an ARP request or a Neighbor Solicitation.
fn sender(frame: &[u8]) -> Option<IpAddr> {
    match frame.get(12..14)? {
        [0x08, 0x06] => {
            let b: [u8; 4] = frame.get(28..32)?.try_into().ok()?;
            Some(IpAddr::V4(Ipv4Addr::from(b)))
        }
        [0x86, 0xdd] => {
            let b: [u8; 16] = frame.get(22..38)?.try_into().ok()?;
            Some(IpAddr::V6(Ipv6Addr::from(b)))
        }
        _ => None,
    }
}

impl FrameLinks {
    fn socket(&mut self, src: IpAddr) -> io::Result<&mut FrameIo> {
        let Some(i) = self.links.iter().position(|(_, s, _)| *s == src) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("no segment of {src}"),
            ));
        };
        let (iface, src, slot) = &mut self.links[i];
        if slot.is_none() {
            let filter = match src {
                IpAddr::V4(a) => FrameFilter {
                    arp_for: Some(*a),
                    nd_for: None,
                },
                IpAddr::V6(a) => FrameFilter {
                    arp_for: None,
                    nd_for: Some(*a),
                },
            };
            let io = FrameIo::open(iface, &filter).map_err(io::Error::other)?;
            *slot = Some(io);
        }
        Ok(slot.as_mut().expect("just opened"))
    }
}

impl FrameLink for FrameLinks {
    fn send_frames(&mut self, frames: &[&[u8]]) -> io::Result<usize> {
        for (i, f) in frames.iter().enumerate() {
            let Some(src) = sender(f) else {
                return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a request"));
            };
            if self.socket(src)?.send(&[f])? == 0 {
                return Ok(i);
            }
        }
        Ok(frames.len())
    }

    fn recv_frames(
        &mut self,
        timeout: Duration,
        on_frame: &mut dyn FnMut(&[u8]),
    ) -> io::Result<usize> {
        let open = self.links.iter().filter(|l| l.2.is_some()).count();
        if open == 0 {
            std::thread::sleep(timeout);
            return Ok(0);
        }
        let wait = if open == 1 {
            timeout
        } else {
            timeout.min(SLICE)
        };
        let count = self.links.len();
        let mut n = 0;
        for k in 0..count {
            let i = (self.next + k) % count;
            if let Some(io) = self.links[i].2.as_mut() {
                let w = if n == 0 { wait } else { Duration::ZERO };
                n += io.recv(w, on_frame)?;
            }
        }
        self.next = (self.next + 1) % count;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portolan_packet::{ArpRepr, NdpRepr};

    #[test]
    fn requests_are_routed_by_their_sender() {
        let mut b = [0u8; 128];
        let a4 = Ipv4Addr::new(198, 18, 0, 1);
        let n = ArpRepr::request([2, 0, 0, 0, 0, 1], a4, Ipv4Addr::new(198, 18, 0, 2))
            .emit_frame(&mut b)
            .unwrap();
        assert_eq!(sender(&b[..n]), Some(IpAddr::V4(a4)));
        let a6: Ipv6Addr = "2001:2::1".parse().unwrap();
        let n = NdpRepr::solicit([2, 0, 0, 0, 0, 1], a6, "2001:2::2".parse().unwrap())
            .emit_frame(&mut b)
            .unwrap();
        assert_eq!(sender(&b[..n]), Some(IpAddr::V6(a6)));
        assert_eq!(sender(&b[..10]), None);
    }
}

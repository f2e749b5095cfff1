//! ARP and Neighbor Discovery sweeps of the targets on a directly
//! connected Ethernet segment.
//!
//! Why apart from the engine: a link-layer sweep is not a probe module (it
//! sends frames, not IP packets, and a neighbour either answers within a
//! few tries or is not there), so it runs on its own frame socket, one per
//! interface and source address, in chunks so a huge target list is never
//! held in memory. Used by `-PR` and, as in nmap, as the first step of
//! default discovery; the IP pings then skip the neighbours ([`OffLink`]).

use crate::config::ScanConfig;
use crate::drivers::first_of_each_family;
use crate::modes::Hosts;
use crate::plan::{unix_now, Plan};
use crate::sink::Discoverer;
use crate::SessionError;
use portolan_engine::{HostSource, HostTarget};
use portolan_model::{HostResult, HostStatus, Hostname, HostnameKind, MacAddress, Reason};
use portolan_netio::{route_to, FrameFilter, FrameIo, LinkNets};
use portolan_probes::discovery::neighbor::{sweep, Neighbor, NeighborProbe};
use portolan_probes::discovery::{ArpSweep, FrameLink, NdSweep};
use portolan_targets::TargetList;
use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How many targets one ARP / ND sweep asks at most, so a huge target
/// list is never held in memory.
const SWEEP_CHUNK: usize = 4096;

/// A target's address and the name the user typed for it.
type Named = (IpAddr, Option<Arc<str>>);

/// ARP (IPv4) and Neighbor Discovery (IPv6) sweeps on frame sockets, one
/// socket per interface and source address asked from. A neighbour that
/// answers is up (`arp-response` / `nd-response`) with its MAC address and
/// vendor; the others are down.
struct Sweeper {
    tries: u8,
    wait: Duration,
    links: HashMap<(String, IpAddr), (Link, Box<dyn NeighborProbe>)>,
}

impl Sweeper {
    fn new(plan: &Plan, opts: &ScanConfig) -> Self {
        Sweeper {
            tries: opts
                .timing
                .max_retries
                .map_or(2, |r| r.saturating_add(1).min(10)) as u8,
            wait: plan
                .timing
                .initial_rtt_timeout
                .min(Duration::from_millis(300)),
            links: HashMap::new(),
        }
    }

    /// Asks `targets` (of `src`'s family) from `src` on `iface`; returns
    /// them all, decided, in order.
    fn sweep(
        &mut self,
        iface: &str,
        src: IpAddr,
        targets: &[Named],
    ) -> Result<Vec<HostResult>, SessionError> {
        let key = (iface.to_string(), src);
        if !self.links.contains_key(&key) {
            let filter = match src {
                IpAddr::V4(a) => FrameFilter {
                    arp_for: Some(a),
                    nd_for: None,
                },
                IpAddr::V6(a) => FrameFilter {
                    arp_for: None,
                    nd_for: Some(a),
                },
            };
            let io = FrameIo::open(iface, &filter)?;
            let probe: Box<dyn NeighborProbe> = match src {
                IpAddr::V4(a) => Box::new(ArpSweep::new(io.mac(), a)),
                IpAddr::V6(a) => Box::new(NdSweep::new(io.mac(), a)),
            };
            self.links.insert(key.clone(), (Link(io), probe));
        }
        let (link, probe) = self.links.get_mut(&key).expect("just opened");
        let addrs: Vec<IpAddr> = targets.iter().map(|(a, _)| *a).collect();
        let started = unix_now();
        let answers: HashMap<IpAddr, Neighbor> =
            sweep(probe.as_ref(), link, &addrs, self.tries, self.wait)?
                .into_iter()
                .map(|n| (n.reply.ip, n))
                .collect();
        let ended = unix_now();
        Ok(targets
            .iter()
            .map(|(addr, name)| {
                let mut h = match answers.get(addr) {
                    Some(n) => {
                        let mut h = HostResult::new(*addr, HostStatus::Up, n.reply.reason);
                        h.latency = Some(n.rtt);
                        h.mac = Some(MacAddress {
                            octets: n.reply.mac,
                            vendor: portolan_oui::vendor(n.reply.mac).map(str::to_string),
                        });
                        h
                    }
                    None => HostResult::new(*addr, HostStatus::Down, Reason::NoResponse),
                };
                if let Some(name) = name {
                    h.hostnames.push(Hostname {
                        name: name.to_string(),
                        kind: HostnameKind::User,
                    });
                }
                h.start_time = started;
                h.end_time = ended;
                h
            })
            .collect())
    }
}

/// `-PR`: ARP / ND sweeps over each family's targets, on the interface of
/// the route to that family's first target (so a segment reached through
/// an interface without an address in it can be swept too).
pub(crate) fn neighbor_sweep(
    plan: &Plan,
    opts: &ScanConfig,
    stop: &AtomicBool,
    found: &mut Discoverer<'_, '_>,
) -> Result<(), SessionError> {
    let (first_v4, first_v6) = first_of_each_family(&plan.targets);
    let iface = opts.net.interface.as_deref();
    let mut sweeper = Sweeper::new(plan, opts);
    for first in [first_v4, first_v6].into_iter().flatten() {
        let source = opts
            .net
            .source_addr
            .filter(|s| s.is_ipv4() == first.is_ipv4());
        let route = route_to(first, iface, source)?;
        let v4 = first.is_ipv4();
        let mut family = plan.targets.iter().filter(|t| t.addr.is_ipv4() == v4);
        loop {
            let chunk: Vec<Named> = family
                .by_ref()
                .take(SWEEP_CHUNK)
                .map(|t| (t.addr, t.name))
                .collect();
            if chunk.is_empty() || stop.load(Ordering::Relaxed) {
                break;
            }
            for h in sweeper.sweep(&route.interface, route.src, &chunk)? {
                found.decided(h);
            }
        }
    }
    Ok(())
}

/// Default discovery's first step, as nmap's: the targets on a directly
/// connected Ethernet segment are asked by ARP / ND instead of IP pings.
/// Each decided host goes to `decided`; returns nothing else, so the IP
/// pings then skip these targets (see [`OffLink`]).
pub(crate) fn sweep_neighbours(
    plan: &Plan,
    opts: &ScanConfig,
    nets: &LinkNets,
    stop: &AtomicBool,
    decided: &mut dyn FnMut(HostResult),
) -> Result<(), SessionError> {
    let mut sweeper = Sweeper::new(plan, opts);
    let mut targets = plan.targets.iter();
    loop {
        // One pass over up to SWEEP_CHUNK targets, neighbours grouped by
        // interface and source.
        let mut groups: HashMap<(String, IpAddr), Vec<Named>> = HashMap::new();
        let mut seen = 0;
        for t in targets.by_ref() {
            seen += 1;
            if let Some((iface, src)) = nets.segment_of(t.addr) {
                groups
                    .entry((iface.to_string(), src))
                    .or_default()
                    .push((t.addr, t.name));
            }
            if seen == SWEEP_CHUNK {
                break;
            }
        }
        if seen == 0 || stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        for ((iface, src), group) in groups {
            for h in sweeper.sweep(&iface, src, &group)? {
                decided(h);
            }
        }
    }
}

/// The targets the IP pings ask: all but the neighbours ARP / ND asked.
pub(crate) fn ip_ping_targets(plan: &Plan) -> Box<dyn HostSource> {
    match &plan.neighbors {
        Some(nets) => Box::new(OffLink {
            targets: plan.targets.clone(),
            nets: nets.clone(),
        }),
        None => Box::new(Hosts(plan.targets.clone())),
    }
}

/// The targets that are not neighbours on an Ethernet segment (those are
/// asked by ARP / ND): the IP pings' host source.
struct OffLink {
    targets: TargetList,
    nets: LinkNets,
}

impl HostSource for OffLink {
    fn len(&self) -> u64 {
        self.targets.len()
    }

    fn get(&self, index: u64) -> Option<HostTarget> {
        let t = self.targets.get(index)?;
        if self.nets.segment_of(t.addr).is_some() {
            return None;
        }
        Some(HostTarget {
            addr: t.addr,
            name: t.name,
        })
    }
}

/// netio's frame socket as the sweep's link.
struct Link(FrameIo);

impl FrameLink for Link {
    fn send_frames(&mut self, frames: &[&[u8]]) -> io::Result<usize> {
        self.0.send(frames)
    }

    fn recv_frames(
        &mut self,
        timeout: Duration,
        on_frame: &mut dyn FnMut(&[u8]),
    ) -> io::Result<usize> {
        self.0.recv(timeout, on_frame)
    }
}

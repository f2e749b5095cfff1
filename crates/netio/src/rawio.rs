//! [`RawIo`]: the engine's [`PacketIo`] on real Linux sockets.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use portolan_engine::PacketIo;

use crate::error::NetError;
use crate::pool::SendPool;
use crate::ring::{PacketRing, RecvStats, MAX_SNAPLEN};
use crate::route::Route;
use crate::send::{RawSender, SendStats};

/// What [`RawIo::open`] needs to know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawConfig {
    /// The interface replies are captured on (and probes bound to, with
    /// `bind_device`).
    pub interface: String,
    /// The IPv4 source address of the probes, if any are IPv4.
    pub src_v4: Option<Ipv4Addr>,
    /// The IPv6 source address of the probes, if any are IPv6.
    pub src_v6: Option<Ipv6Addr>,
    /// Bind the send sockets to `interface` (`SO_BINDTODEVICE`), as `-e`
    /// asks; otherwise the kernel routes each probe.
    pub bind_device: bool,
    /// Bytes of each received packet kept (64..=65535).
    pub snaplen: u32,
    /// Size of the receive ring in bytes (rounded to whole 128 KiB blocks).
    pub ring_bytes: usize,
    /// Threads sending probes (see the `pool` module); 0 sends on the
    /// caller's thread.
    pub send_threads: usize,
}

impl RawConfig {
    /// A configuration for interface `interface` with no sources yet and
    /// default buffer sizes.
    pub fn new(interface: impl Into<String>) -> Self {
        RawConfig {
            interface: interface.into(),
            src_v4: None,
            src_v6: None,
            bind_device: false,
            snaplen: MAX_SNAPLEN,
            ring_bytes: 4 << 20,
            send_threads: default_send_threads(),
        }
    }

    /// The configuration for probes along `route`.
    pub fn from_route(route: &Route) -> Self {
        let mut c = RawConfig::new(route.interface.clone());
        c.add_source(route.src);
        c
    }

    /// Adds `src` as the source address of its IP version.
    pub fn add_source(&mut self, src: IpAddr) {
        match src {
            IpAddr::V4(a) => self.src_v4 = Some(a),
            IpAddr::V6(a) => self.src_v6 = Some(a),
        }
    }
}

/// Where probes go out: on the caller's thread or through worker threads.
enum Sender {
    Direct(RawSender),
    Pool(SendPool),
}

/// One sending thread per core, at most two: more only contend for the
/// same cores the engine runs on.
fn default_send_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(2))
}

/// Raw IP sockets out, a filtered packet ring in: see the crate docs.
pub struct RawIo {
    sender: Sender,
    ring: PacketRing,
    interface: String,
}

/// Counters of both directions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IoStats {
    /// The send path's counters.
    pub send: SendStats,
    /// The receive path's counters.
    pub recv: RecvStats,
}

impl RawIo {
    /// Opens the sockets; needs `CAP_NET_RAW` ([`NetError::NoPrivilege`]
    /// otherwise).
    pub fn open(cfg: &RawConfig) -> Result<RawIo, NetError> {
        if cfg.src_v4.is_none() && cfg.src_v6.is_none() {
            return Err(NetError::Config("no source address given".into()));
        }
        let ifindex = nix::net::if_::if_nametoindex(cfg.interface.as_str()).map_err(|_| {
            NetError::UnknownInterface {
                name: cfg.interface.clone(),
            }
        })?;
        let v4: Vec<Ipv4Addr> = cfg.src_v4.into_iter().collect();
        let v6: Vec<Ipv6Addr> = cfg.src_v6.into_iter().collect();
        // The receive side first: replies to the first probes must not be
        // missed.
        let ring = PacketRing::open(ifindex, &v4, &v6, cfg.snaplen, cfg.ring_bytes)?;
        let bind = cfg.bind_device.then_some(cfg.interface.as_str());
        let open = || RawSender::open(!v4.is_empty(), !v6.is_empty(), bind, ifindex);
        let sender = if cfg.send_threads == 0 {
            Sender::Direct(open()?)
        } else {
            let senders = (0..cfg.send_threads)
                .map(|_| open())
                .collect::<Result<Vec<_>, _>>()?;
            Sender::Pool(
                SendPool::new(senders, open()?)
                    .map_err(|e| NetError::os("starting send threads", e))?,
            )
        };
        Ok(RawIo {
            sender,
            ring,
            interface: cfg.interface.clone(),
        })
    }

    /// The interface replies are captured on.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// Counters of both directions so far.
    pub fn stats(&mut self) -> IoStats {
        IoStats {
            send: match &self.sender {
                Sender::Direct(s) => s.stats(),
                Sender::Pool(p) => p.stats(),
            },
            recv: self.ring.stats(),
        }
    }
}

impl PacketIo for RawIo {
    fn send(&mut self, packets: &[&[u8]]) -> io::Result<usize> {
        match &mut self.sender {
            Sender::Direct(s) => s.send(packets),
            Sender::Pool(p) => p.send(packets),
        }
    }

    fn recv(&mut self, timeout: Duration, on_packet: &mut dyn FnMut(&[u8])) -> io::Result<usize> {
        self.ring.recv(timeout, &mut |p, _| on_packet(p))
    }

    fn recv_stamped(
        &mut self,
        timeout: Duration,
        on_packet: &mut dyn FnMut(&[u8], Option<std::time::Instant>),
    ) -> io::Result<usize> {
        self.ring.recv(timeout, on_packet)
    }
}

impl std::fmt::Debug for RawIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawIo")
            .field("interface", &self.interface)
            .finish_non_exhaustive()
    }
}

//! The boundary between the engine and the operating system.
//!
//! Raw-packet drivers talk to the network only through [`PacketIo`] and read
//! time only through [`Clock`]. `portolan-netio` implements them for Linux
//! raw and packet sockets; the simulated network implements them in memory,
//! with simulated time, so the engine runs deterministically without root.
//! Link-layer frames (ARP, ND) go through [`FrameLink`]; [`Transport`] is
//! both layers as one driver sees them.

use crate::module::Layer;
use std::io;
use std::time::{Duration, Instant};

/// Sends and receives whole IP packets (no link-layer header).
pub trait PacketIo {
    /// Sends IPv4 or IPv6 packets, each starting with its IP header.
    /// Returns how many were handed to the network, from the front; a
    /// short count means the rest should be offered again later.
    fn send(&mut self, packets: &[&[u8]]) -> io::Result<usize>;

    /// Delivers each waiting received IP packet to `on_packet`, waiting at
    /// most `timeout` for the first one. Returns how many were delivered.
    /// Packets may be anything the network carried: callers validate them.
    fn recv(&mut self, timeout: Duration, on_packet: &mut dyn FnMut(&[u8])) -> io::Result<usize>;

    /// [`recv`](Self::recv), with each packet's arrival time when the
    /// platform records one (the kernel stamps packets as they arrive, but
    /// may hand them over a few milliseconds later, which would otherwise
    /// count as round-trip time). By default no time is given.
    fn recv_stamped(
        &mut self,
        timeout: Duration,
        on_packet: &mut dyn FnMut(&[u8], Option<Instant>),
    ) -> io::Result<usize> {
        self.recv(timeout, &mut |p| on_packet(p, None))
    }
}

/// A source of monotonic time.
pub trait Clock {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// The system's monotonic clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// Sends and receives whole Ethernet frames (ARP, Neighbor Discovery):
/// the link layer's counterpart of [`PacketIo`]. `portolan-netio`'s
/// `FrameIo` implements it on Linux, [`crate::sim::SimNet`] in memory.
pub trait FrameLink {
    /// Sends frames in order; returns how many went out (a short count
    /// means "offer the rest again later").
    fn send_frames(&mut self, frames: &[&[u8]]) -> io::Result<usize>;

    /// Hands every waiting frame to `on_frame`, waiting at most `timeout`
    /// for the first. Returns how many were delivered.
    fn recv_frames(
        &mut self,
        timeout: Duration,
        on_frame: &mut dyn FnMut(&[u8]),
    ) -> io::Result<usize>;
}

/// Starts `connect()` attempts and hands back their outcomes, each as
/// bytes in the encoding of the connect probe module that built the
/// request (the engine only carries them): the connect driver's side of a
/// [`Transport`].
pub trait ConnectIo {
    /// Starts the attempts `requests` describe, in order; returns how many
    /// started (a short count: no socket free now, offer the rest later).
    fn start(&mut self, requests: &[&[u8]]) -> io::Result<usize>;

    /// Hands each finished attempt's outcome to `on_outcome`, waiting at
    /// most `timeout` for the first. Returns how many were delivered.
    fn outcomes(
        &mut self,
        timeout: Duration,
        on_outcome: &mut dyn FnMut(&[u8]),
    ) -> io::Result<usize>;
}

/// What [`Transport::recv_stamped`] hands each received item to: its
/// layer, its bytes and, where the platform records it, its arrival time.
pub type OnStamped<'a> = dyn FnMut(Layer, &[u8], Option<Instant>) + 'a;

/// Everything a raw driver moves bytes through, by layer: raw IP packets
/// and link-layer frames (see [`crate::module::Layer`]). One trait, so
/// one object (the simulator) can order both kinds of traffic on one
/// clock, and a driver routes each probe by its module's layer.
pub trait Transport {
    /// Sends `items` (whole IP packets for [`Layer::Ip`], whole Ethernet
    /// frames for [`Layer::Link`]); returns how many went out, from the
    /// front. A layer the transport lacks is an `Unsupported` error.
    fn send(&mut self, layer: Layer, items: &[&[u8]]) -> io::Result<usize>;

    /// Delivers what was received, of either layer, waiting at most
    /// `timeout` for the first item. Returns how many were delivered.
    fn recv(
        &mut self,
        timeout: Duration,
        on_item: &mut dyn FnMut(Layer, &[u8]),
    ) -> io::Result<usize>;

    /// [`recv`](Self::recv), with each item's arrival time where the
    /// platform records one (raw IP packets: see
    /// [`PacketIo::recv_stamped`]); `None` otherwise.
    fn recv_stamped(
        &mut self,
        timeout: Duration,
        on_item: &mut OnStamped<'_>,
    ) -> io::Result<usize> {
        self.recv(timeout, &mut |layer, item| on_item(layer, item, None))
    }
}

/// A raw-IP [`PacketIo`] and, optionally, a [`FrameLink`] and a
/// [`ConnectIo`] as one [`Transport`].
///
/// Two sockets cannot be waited on through these traits at once, so
/// while more than one side is in use (frames are expected when one was
/// sent within the last [`Links::FRAME_WINDOW`]; the IP and connect sides
/// once used), waits are cut into [`Links::SLICE`]s that poll each;
/// otherwise the one side in use is waited on whole.
pub struct Links<'a> {
    ip: Option<&'a mut dyn PacketIo>,
    link: Option<&'a mut dyn FrameLink>,
    connect: Option<&'a mut dyn ConnectIo>,
    clock: &'a dyn Clock,
    ip_used: bool,
    connect_used: bool,
    frames_until: Option<Instant>,
}

impl<'a> Links<'a> {
    /// How long after a frame was sent replies are looked for.
    pub const FRAME_WINDOW: Duration = Duration::from_secs(3);
    /// A single wait while both sides are in use.
    pub const SLICE: Duration = Duration::from_millis(2);

    /// The two sides (either may be absent), timed by `clock`.
    pub fn new(
        ip: Option<&'a mut dyn PacketIo>,
        link: Option<&'a mut dyn FrameLink>,
        clock: &'a dyn Clock,
    ) -> Self {
        Links {
            ip,
            link,
            connect: None,
            clock,
            ip_used: false,
            connect_used: false,
            frames_until: None,
        }
    }

    /// With `connect` as the side of [`Layer::Connect`] probes.
    pub fn with_connect(mut self, connect: &'a mut dyn ConnectIo) -> Self {
        self.connect = Some(connect);
        self
    }

    fn unsupported(layer: Layer) -> io::Error {
        io::Error::new(
            io::ErrorKind::Unsupported,
            format!("no transport for {layer:?}-layer probes"),
        )
    }
}

impl Transport for Links<'_> {
    fn send(&mut self, layer: Layer, items: &[&[u8]]) -> io::Result<usize> {
        match layer {
            Layer::Ip => {
                self.ip_used = true;
                self.ip
                    .as_mut()
                    .ok_or_else(|| Self::unsupported(layer))?
                    .send(items)
            }
            Layer::Link => {
                self.frames_until = Some(self.clock.now() + Self::FRAME_WINDOW);
                self.link
                    .as_mut()
                    .ok_or_else(|| Self::unsupported(layer))?
                    .send_frames(items)
            }
            Layer::Connect => {
                self.connect_used = true;
                self.connect
                    .as_mut()
                    .ok_or_else(|| Self::unsupported(layer))?
                    .start(items)
            }
        }
    }

    fn recv(
        &mut self,
        timeout: Duration,
        on_item: &mut dyn FnMut(Layer, &[u8]),
    ) -> io::Result<usize> {
        self.recv_stamped(timeout, &mut |layer, item, _| on_item(layer, item))
    }

    fn recv_stamped(
        &mut self,
        timeout: Duration,
        on_item: &mut OnStamped<'_>,
    ) -> io::Result<usize> {
        let frames = self.link.is_some()
            && ((self.ip.is_none() && !self.connect_used)
                || self.frames_until.is_some_and(|t| self.clock.now() < t));
        let conn = self.connect.is_some() && self.connect_used;
        let ip = self.ip.is_some() && (self.ip_used || !(frames || conn));
        let sides = usize::from(frames) + usize::from(conn) + usize::from(ip);
        if sides == 0 {
            std::thread::sleep(timeout);
            return Ok(0);
        }
        let mut wait = if sides > 1 {
            timeout.min(Self::SLICE)
        } else {
            timeout
        };
        let mut n = 0;
        // The sides polled without waiting first, the IP side (the busiest)
        // waited on last.
        if frames {
            if let Some(l) = self.link.as_mut() {
                let w = if sides == 1 { wait } else { Duration::ZERO };
                n += l.recv_frames(w, &mut |f| on_item(Layer::Link, f, None))?;
            }
        }
        if conn {
            if let Some(c) = self.connect.as_mut() {
                let w = if ip || n > 0 { Duration::ZERO } else { wait };
                n += c.outcomes(w, &mut |o| on_item(Layer::Connect, o, None))?;
            }
        }
        if ip {
            if n > 0 {
                wait = Duration::ZERO;
            }
            if let Some(i) = self.ip.as_mut() {
                n += i.recv_stamped(wait, &mut |p, at| on_item(Layer::Ip, p, at))?;
            }
        }
        Ok(n)
    }
}

/// A [`PacketIo`] alone as a [`Transport`] (the raw-IP driver's case).
pub struct IpOnly<'a, I: PacketIo>(pub &'a mut I);

impl<I: PacketIo> Transport for IpOnly<'_, I> {
    fn send(&mut self, layer: Layer, items: &[&[u8]]) -> io::Result<usize> {
        match layer {
            Layer::Ip => self.0.send(items),
            _ => Err(Links::unsupported(layer)),
        }
    }

    fn recv(
        &mut self,
        timeout: Duration,
        on_item: &mut dyn FnMut(Layer, &[u8]),
    ) -> io::Result<usize> {
        self.0.recv(timeout, &mut |p| on_item(Layer::Ip, p))
    }

    fn recv_stamped(
        &mut self,
        timeout: Duration,
        on_item: &mut OnStamped<'_>,
    ) -> io::Result<usize> {
        self.0
            .recv_stamped(timeout, &mut |p, at| on_item(Layer::Ip, p, at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Echoes what it is sent back, tagged with its side.
    #[derive(Default)]
    struct Echo(Vec<Vec<u8>>);

    impl PacketIo for Echo {
        fn send(&mut self, packets: &[&[u8]]) -> io::Result<usize> {
            self.0.extend(packets.iter().map(|p| [b"ip:", *p].concat()));
            Ok(packets.len())
        }
        fn recv(&mut self, _t: Duration, on: &mut dyn FnMut(&[u8])) -> io::Result<usize> {
            let n = self.0.len();
            self.0.drain(..).for_each(|p| on(&p));
            Ok(n)
        }
    }

    impl FrameLink for Echo {
        fn send_frames(&mut self, frames: &[&[u8]]) -> io::Result<usize> {
            self.0.extend(frames.iter().map(|f| [b"eth:", *f].concat()));
            Ok(frames.len())
        }
        fn recv_frames(&mut self, t: Duration, on: &mut dyn FnMut(&[u8])) -> io::Result<usize> {
            PacketIo::recv(self, t, on)
        }
    }

    #[test]
    fn links_route_by_layer_and_refuse_a_missing_side() {
        let (mut ip, mut eth) = (Echo::default(), Echo::default());
        let mut links = Links::new(Some(&mut ip), Some(&mut eth), &SystemClock);
        assert_eq!(links.send(Layer::Ip, &[b"a"]).unwrap(), 1);
        assert_eq!(links.send(Layer::Link, &[b"b"]).unwrap(), 1);
        let mut got = Vec::new();
        links
            .recv(Duration::ZERO, &mut |l, p| got.push((l, p.to_vec())))
            .unwrap();
        got.sort();
        assert_eq!(
            got,
            vec![
                (Layer::Ip, b"ip:a".to_vec()),
                (Layer::Link, b"eth:b".to_vec())
            ]
        );
        let mut ip = Echo::default();
        let mut only = Links::new(Some(&mut ip), None, &SystemClock);
        let e = only.send(Layer::Link, &[b"x"]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::Unsupported);
        let mut ip = Echo::default();
        assert!(IpOnly(&mut ip).send(Layer::Link, &[b"x"]).is_err());
    }
}

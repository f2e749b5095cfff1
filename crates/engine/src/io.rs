//! The boundary between the engine and the operating system.
//!
//! Raw-packet drivers talk to the network only through [`PacketIo`] and read
//! time only through [`Clock`]. `portolan-netio` implements them for Linux
//! raw and packet sockets; the simulated network implements them in memory,
//! with simulated time, so the engine runs deterministically without root.

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

//! Scan techniques as probe modules.
//!
//! A probe module knows one technique's packets and rules: how to build a
//! probe for a (host, port, attempt), how to recognise and classify a reply,
//! and what silence means. It knows nothing of timing, order or retries,
//! which the engine owns. Modules live in `portolan-probes`.

use crate::traits::StackTraits;
use crate::validate::ValidationKey;
use portolan_model::{PortState, Protocol, Reason, ScanType};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Per-scan constants every probe of a scan shares.
#[derive(Clone, Debug)]
pub struct ProbeContext {
    /// Source address for IPv4 targets.
    pub src_v4: Option<Ipv4Addr>,
    /// Source address for IPv6 targets.
    pub src_v6: Option<Ipv6Addr>,
    /// The user's fixed source port (`-g`), if any.
    pub source_port: Option<u16>,
    /// Key of the scan's reply-validation hash.
    pub key: ValidationKey,
    /// IP TTL / hop limit of probes.
    pub ttl: u8,
}

impl ProbeContext {
    /// The source address for a target, if the scan has one of its family.
    pub fn src_for(&self, dst: IpAddr) -> Option<IpAddr> {
        match dst {
            IpAddr::V4(_) => self.src_v4.map(IpAddr::V4),
            IpAddr::V6(_) => self.src_v6.map(IpAddr::V6),
        }
    }
}

/// One probe to build: which port of which host, and which try it is
/// (0 for the first transmission).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProbeSpec {
    /// Target address.
    pub dst: IpAddr,
    /// Target port.
    pub dport: u16,
    /// Attempt number, 0-based.
    pub attempt: u8,
}

/// A validated, classified reply to one of the scan's probes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The target host the reply is about.
    pub dst: IpAddr,
    /// The target port the reply is about.
    pub dport: u16,
    /// The attempt it answers, when the reply tells (for RTT sampling).
    pub attempt: Option<u8>,
    /// The state it proves.
    pub state: PortState,
    /// Why.
    pub reason: Reason,
    /// TTL / hop limit of the reply's IP header.
    pub ttl: u8,
    /// The stack's header traits, for replies that are TCP segments
    /// (`None` for ICMP errors, UDP, SCTP and connect outcomes).
    pub traits: Option<StackTraits>,
    /// The neighbour's MAC address, for link-layer replies (ARP, ND).
    pub mac: Option<[u8; 6]>,
}

/// Which transport a module's probes travel by; a driver routes each
/// probe, and each received packet or frame, by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    /// Whole IP packets on a raw socket.
    Ip,
    /// Whole Ethernet frames on a link (ARP, Neighbor Discovery).
    Link,
    /// `connect()` attempts: a probe is a request to connect, a reply an
    /// attempt's outcome, both in the connect module's own encoding.
    Connect,
}

/// One scan technique: its packets and its port-state rules.
pub trait ProbeModule: Send + Sync {
    /// The technique, as reported in output.
    fn scan_type(&self) -> ScanType;

    /// The protocol whose ports it scans.
    fn protocol(&self) -> Protocol {
        self.scan_type().protocol()
    }

    /// The transport its probes travel by: [`Layer::Ip`] unless it says.
    fn layer(&self) -> Layer {
        Layer::Ip
    }

    /// Writes the whole IP packet (or, for [`Layer::Link`], frame) for `probe` into `buf` and returns its
    /// length. `buf` is at least 1500 bytes. Returns 0 if the context has
    /// no source address of the target's family.
    fn build(&self, ctx: &ProbeContext, probe: &ProbeSpec, buf: &mut [u8]) -> usize;

    /// Parses a received IP packet (or frame, for [`Layer::Link`]). Returns `None` unless it is a valid
    /// reply to one of this scan's probes (validated with `ctx.key`), so
    /// hostile, malformed, stale or spoofed packets are dropped here.
    fn classify(&self, ctx: &ProbeContext, packet: &[u8]) -> Option<Reply>;

    /// The state and reason of a port that never answered any attempt.
    fn no_reply(&self) -> (PortState, Reason);
}

/// A module whose probes carry a validation key of their own, so two
/// modules that send the same packets in one driver (a SYN ping to 443 and
/// a SYN scan of 443 in a [`crate::Pipeline`]) never take each other's
/// replies: each validates only its own.
pub struct Rekeyed {
    inner: Box<dyn ProbeModule>,
    key: ValidationKey,
}

impl Rekeyed {
    /// `inner`, validated with `key` instead of the context's.
    pub fn new(inner: Box<dyn ProbeModule>, key: ValidationKey) -> Self {
        Rekeyed { inner, key }
    }

    fn ctx(&self, ctx: &ProbeContext) -> ProbeContext {
        ProbeContext {
            key: self.key,
            ..ctx.clone()
        }
    }
}

impl ProbeModule for Rekeyed {
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
        self.inner.build(&self.ctx(ctx), probe, buf)
    }

    fn classify(&self, ctx: &ProbeContext, packet: &[u8]) -> Option<Reply> {
        self.inner.classify(&self.ctx(ctx), packet)
    }

    fn no_reply(&self) -> (PortState, Reason) {
        self.inner.no_reply()
    }
}

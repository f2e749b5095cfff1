//! ARP and Neighbor Discovery as probe modules of [`Layer::Link`].
//!
//! Why modules and not a sweep of their own: as modules the engine
//! schedules them like any ping (retries, timeouts, RTTs, rate limits,
//! `Ctrl-C`), and a driver running several layers ([`portolan_engine::run`])
//! sends them next to the IP pings, so a neighbour found up is
//! port-scanned through the [`portolan_engine::Pipeline`] while the other
//! targets are still being asked.
//!
//! They follow the host-as-port convention of [`super`]: probes are to
//! port 0 (the engine counts them as TCP, as the ICMP pings), a reply is
//! `Open` with `arp-response` / `nd-response`, the neighbour's MAC in
//! [`Reply::mac`]. Frames carry no attempt number, so the RTT is sampled
//! only when one request was sent (the engine's rule for replies without
//! one).
//!
//! Patience (nmap's, and the old sweep's): a neighbour must answer ARP to
//! talk at all, but a sleepy one (Wi-Fi power save) may take most of
//! 100 ms or more. The engine never times a try out before the timing's
//! `min_rtt_timeout` (100 ms by default), and since a reply names no
//! attempt, a late answer to any try counts until the last try has timed
//! out: a neighbour has the whole of its tries (about 300 ms with
//! discovery's three), as long as the old sweep's rounds gave it.

use super::neighbor::NeighborProbe;
use portolan_engine::{Layer, ProbeContext, ProbeModule, ProbeSpec, Reply};
use portolan_model::{PortState, Reason, ScanType};

/// A [`NeighborProbe`] (ARP or ND) as a link-layer ping module.
pub struct NeighborPing<P: NeighborProbe> {
    probe: P,
}

impl<P: NeighborProbe> NeighborPing<P> {
    /// Pings by `probe`'s requests.
    pub fn new(probe: P) -> Self {
        NeighborPing { probe }
    }
}

impl<P: NeighborProbe + Send + Sync> ProbeModule for NeighborPing<P> {
    fn scan_type(&self) -> ScanType {
        ScanType::Syn
    }

    fn layer(&self) -> Layer {
        Layer::Link
    }

    fn build(&self, _ctx: &ProbeContext, probe: &ProbeSpec, buf: &mut [u8]) -> usize {
        self.probe.build(probe.dst, buf)
    }

    fn classify(&self, _ctx: &ProbeContext, frame: &[u8]) -> Option<Reply> {
        let r = self.probe.classify(frame)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::ArpSweep;
    use portolan_engine::ValidationKey;
    use portolan_packet::{ArpOp, ArpRepr};
    use std::net::{IpAddr, Ipv4Addr};

    const US: [u8; 6] = [0x02, 0, 0, 0, 0, 1];
    const THEM: [u8; 6] = [0x02, 0, 0, 0, 0, 2];

    #[test]
    fn arp_ping_builds_requests_and_takes_replies_with_the_mac() {
        let us = Ipv4Addr::new(198, 18, 0, 1);
        let them = Ipv4Addr::new(198, 18, 0, 2);
        let m = NeighborPing::new(ArpSweep::new(US, us));
        assert_eq!(m.layer(), Layer::Link);
        let ctx = ProbeContext {
            src_v4: None,
            src_v6: None,
            source_port: None,
            key: ValidationKey::from_seed(1),
            ttl: 64,
        };
        let mut buf = [0u8; 128];
        let spec = ProbeSpec {
            dst: IpAddr::V4(them),
            dport: 0,
            attempt: 0,
        };
        assert!(m.build(&ctx, &spec, &mut buf) > 0);
        let mut b = [0u8; 60];
        let n = ArpRepr {
            op: ArpOp::Reply,
            sender_mac: THEM,
            sender_ip: them,
            target_mac: US,
            target_ip: us,
        }
        .emit_frame(&mut b)
        .unwrap();
        let r = m.classify(&ctx, &b[..n]).unwrap();
        assert_eq!(
            (r.dst, r.state, r.reason, r.mac),
            (
                IpAddr::V4(them),
                PortState::Open,
                Reason::ArpResponse,
                Some(THEM)
            )
        );
        assert!(m.classify(&ctx, &buf[..42]).is_none(), "a request");
    }
}

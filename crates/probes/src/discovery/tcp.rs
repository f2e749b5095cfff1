//! TCP pings: SYN (`-PS`) and ACK (`-PA`).
//!
//! A host answers a SYN to any port: a SYN/ACK if something listens, a
//! RST if not; either proves it up. An ACK that belongs to no connection
//! draws a RST from open and closed ports alike, and passes stateless
//! firewalls that only block incoming SYNs. The probes, their numbers and
//! their validation are exactly the SYN and ACK scans' ([`TcpFlagScan`]);
//! only the reading differs: every valid TCP answer means "up", and ICMP
//! errors (which routers and filters send, not the host) are ignored.

use super::{host_up, SILENT};
use crate::tcp::{TcpFlagScan, TcpScanKind};
use portolan_engine::{ProbeContext, ProbeModule, ProbeSpec, Reply};
use portolan_model::{PortState, Reason, ScanType};

/// A TCP ping module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpPing {
    scan: TcpFlagScan,
}

impl TcpPing {
    /// `-PS`: SYN probes.
    pub fn syn() -> Self {
        TcpPing {
            scan: TcpFlagScan::new(TcpScanKind::Syn, None),
        }
    }

    /// `-PA`: ACK probes.
    pub fn ack() -> Self {
        TcpPing {
            scan: TcpFlagScan::new(TcpScanKind::Ack, None),
        }
    }

    /// The TCP technique whose probes it sends.
    pub fn kind(&self) -> TcpScanKind {
        self.scan.kind()
    }
}

impl ProbeModule for TcpPing {
    fn scan_type(&self) -> ScanType {
        self.scan.scan_type()
    }

    fn build(&self, ctx: &ProbeContext, probe: &ProbeSpec, buf: &mut [u8]) -> usize {
        self.scan.build(ctx, probe, buf)
    }

    fn classify(&self, ctx: &ProbeContext, packet: &[u8]) -> Option<Reply> {
        let r = self.scan.classify(ctx, packet)?;
        match r.reason {
            Reason::SynAck | Reason::Syn | Reason::Reset => Some(Reply {
                traits: r.traits,
                mac: None,
                ..host_up(r.dst, r.dport, r.attempt, r.reason, r.ttl)
            }),
            _ => None,
        }
    }

    fn no_reply(&self) -> (PortState, Reason) {
        SILENT
    }
}

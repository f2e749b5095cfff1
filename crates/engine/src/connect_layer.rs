//! The items of [`Layer::Connect`]: one format for every side.
//!
//! A connect probe is not a packet, so the layer defines its own bytes: a
//! request `[family, addr[16], port[2], attempt]` ([`ConnectRequest`]),
//! and an outcome, the request followed by one byte that names the state
//! and reason ([`OUTCOMES`]). The real connector (`portolan-connect`) and
//! the simulator both speak it, and [`ConnectModule`] reads the outcomes
//! of either, so a test in the simulator runs the very module a scan runs.
//! Silence has no outcome: the engine's timeout decides, as for packets.

use crate::module::{Layer, ProbeContext, ProbeModule, ProbeSpec, Reply};
use portolan_model::{PortState, Reason, ScanType};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The outcomes an attempt can have, by code (the byte after the request).
pub const OUTCOMES: [(PortState, Reason); 6] = [
    (PortState::Open, Reason::SynAck),
    (PortState::Closed, Reason::ConnRefused),
    (PortState::Filtered, Reason::HostUnreach),
    (PortState::Filtered, Reason::NetUnreach),
    (PortState::Filtered, Reason::AdminProhibited),
    (PortState::Filtered, Reason::ProtoUnreach),
];

/// One connect attempt, as [`Layer::Connect`] carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectRequest {
    /// Where to connect.
    pub dst: SocketAddr,
    /// The probe's attempt number.
    pub attempt: u8,
}

impl ConnectRequest {
    /// The request's length in bytes.
    pub const LEN: usize = 20;

    /// Writes the request into `buf`; returns its length, or 0 if `buf`
    /// is too small.
    pub fn encode(&self, buf: &mut [u8]) -> usize {
        let Some(buf) = buf.get_mut(..Self::LEN) else {
            return 0;
        };
        match self.dst.ip() {
            IpAddr::V4(a) => {
                buf[0] = 4;
                buf[1..5].copy_from_slice(&a.octets());
                buf[5..17].fill(0);
            }
            IpAddr::V6(a) => {
                buf[0] = 6;
                buf[1..17].copy_from_slice(&a.octets());
            }
        }
        buf[17..19].copy_from_slice(&self.dst.port().to_be_bytes());
        buf[19] = self.attempt;
        Self::LEN
    }

    /// The request at the start of `bytes` (a request or an outcome), if
    /// it is one.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let a: [u8; 16] = bytes.get(1..17)?.try_into().ok()?;
        let ip = match bytes.first()? {
            4 => IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3])),
            6 => IpAddr::V6(Ipv6Addr::from(a)),
            _ => return None,
        };
        let port = u16::from_be_bytes([*bytes.get(17)?, *bytes.get(18)?]);
        Some(ConnectRequest {
            dst: SocketAddr::new(ip, port),
            attempt: *bytes.get(19)?,
        })
    }

    /// The outcome of this request that proves `state` for `reason`, or
    /// `None` for one [`OUTCOMES`] does not name.
    pub fn outcome(&self, state: PortState, reason: Reason) -> Option<Vec<u8>> {
        let code = OUTCOMES.iter().position(|r| *r == (state, reason))?;
        let mut v = vec![0u8; Self::LEN + 1];
        self.encode(&mut v);
        v[Self::LEN] = code as u8;
        Some(v)
    }
}

/// The TCP connect scan (`-sT`) as a probe module of [`Layer::Connect`].
#[derive(Clone, Copy, Debug, Default)]
pub struct ConnectModule;

impl ProbeModule for ConnectModule {
    fn scan_type(&self) -> ScanType {
        ScanType::Connect
    }

    fn layer(&self) -> Layer {
        Layer::Connect
    }

    fn build(&self, _ctx: &ProbeContext, probe: &ProbeSpec, buf: &mut [u8]) -> usize {
        ConnectRequest {
            dst: SocketAddr::new(probe.dst, probe.dport),
            attempt: probe.attempt,
        }
        .encode(buf)
    }

    fn classify(&self, _ctx: &ProbeContext, outcome: &[u8]) -> Option<Reply> {
        if outcome.len() != ConnectRequest::LEN + 1 {
            return None;
        }
        let req = ConnectRequest::decode(outcome)?;
        let (state, reason) = *OUTCOMES.get(usize::from(outcome[ConnectRequest::LEN]))?;
        Some(Reply {
            dst: req.dst.ip(),
            dport: req.dst.port(),
            attempt: Some(req.attempt),
            state,
            reason,
            ttl: 0,
            traits: None,
            mac: None,
        })
    }

    fn no_reply(&self) -> (PortState, Reason) {
        (PortState::Filtered, Reason::NoResponse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_outcomes_round_trip_and_bad_bytes_are_refused() {
        for dst in ["198.18.0.2:80", "[2001:2::2]:443"] {
            let req = ConnectRequest {
                dst: dst.parse().unwrap(),
                attempt: 3,
            };
            let mut buf = [0u8; 32];
            let n = req.encode(&mut buf);
            assert_eq!(n, ConnectRequest::LEN);
            assert_eq!(ConnectRequest::decode(&buf[..n]), Some(req));
            let out = req.outcome(PortState::Closed, Reason::ConnRefused).unwrap();
            assert_eq!(ConnectRequest::decode(&out), Some(req));
            assert_eq!(out[ConnectRequest::LEN], 1);
        }
        let req = ConnectRequest {
            dst: "198.18.0.2:80".parse().unwrap(),
            attempt: 0,
        };
        assert_eq!(req.encode(&mut [0u8; 19]), 0);
        assert_eq!(req.outcome(PortState::Open, Reason::Reset), None);
        assert_eq!(ConnectRequest::decode(&[5; 20]), None);
        assert_eq!(ConnectRequest::decode(&[4; 19]), None);
    }
}

//! The simulator's other layers: [`Transport`] over IP packets, frames
//! and connect attempts on one clock, the link-layer ping
//! [`SimArpModule`] and the connect scan [`SimConnectModule`].
//!
//! A connect request is `[0xC5, family, addr[16], dport[2], attempt]`; its
//! outcome, one round trip later, the request with `0xC6` first and a
//! kind appended: 0 connected (open), 1 refused (closed), 2 unreachable
//! (filtered, admin-prohibited). A filtered port gives no outcome: the
//! engine's timeout decides, as a socket's would.

use super::{drain_due, get_addr, put_addr, SimNet, FRAME_LEN, FRAME_REPLY_LEN};
use crate::io::{FrameLink, PacketIo, Transport};
use crate::module::{Layer, ProbeContext, ProbeModule, ProbeSpec, Reply};
use crate::sim::PortBehavior;
use portolan_model::{PortState, Reason, ScanType};
use std::cmp::Reverse;
use std::io;
use std::time::Duration;

const CONNECT_LEN: usize = 21;

impl SimNet {
    /// A connect attempt: its outcome after a round trip, unless the port
    /// drops it or the path loses it.
    fn start_connect(&mut self, req: &[u8]) {
        let now = self.now.get() + self.cfg.send_cost;
        self.now.set(now);
        self.stats.sent += 1;
        if req.len() != CONNECT_LEN || req[0] != 0xC5 {
            self.stats.malformed += 1;
            return;
        }
        let Some(dst) = get_addr(&req[1..]) else {
            self.stats.malformed += 1;
            return;
        };
        let dport = u16::from_be_bytes([req[18], req[19]]);
        *self.stats.per_port.entry((dst, dport)).or_insert(0) += 1;
        if self.random() < self.cfg.loss_out {
            self.stats.lost += 1;
            return;
        }
        let Some(host) = self.cfg.hosts.get(&dst) else {
            return;
        };
        let extra = host.extra_delay;
        let kind = match host.behavior(dport) {
            PortBehavior::Filtered => return,
            PortBehavior::Open => 0u8,
            PortBehavior::Closed => 1,
            PortBehavior::Unreachable => 2,
        };
        if self.random() < self.cfg.loss_back {
            self.stats.lost += 1;
            return;
        }
        let back = now + (self.cfg.delay + extra) * 2 + self.jitter();
        let mut r = req.to_vec();
        r[0] = 0xC6;
        r.push(kind);
        self.seq += 1;
        self.conns.push(Reverse((back, self.seq, r)));
    }
}

impl Transport for SimNet {
    fn send(&mut self, layer: Layer, items: &[&[u8]]) -> io::Result<usize> {
        match layer {
            Layer::Ip => PacketIo::send(self, items),
            Layer::Link => self.send_frames(items),
            Layer::Connect => {
                for r in items {
                    self.start_connect(r);
                }
                Ok(items.len())
            }
        }
    }

    fn recv(
        &mut self,
        timeout: Duration,
        on_item: &mut dyn FnMut(Layer, &[u8]),
    ) -> io::Result<usize> {
        let mut due = |net: &mut SimNet| {
            let now = net.now.get();
            net.deliver(&mut |p| on_item(Layer::Ip, p))
                + net.deliver_frames(&mut |f| on_item(Layer::Link, f))
                + drain_due(&mut net.conns, now, &mut |o| on_item(Layer::Connect, o))
        };
        let n = due(self);
        if n > 0 {
            return Ok(n);
        }
        self.advance(timeout);
        Ok(due(self))
    }
}

/// A connect scan over the simulator's connect layer: connected is open
/// (`syn-ack`), refused closed (`conn-refused`), unreachable filtered
/// (`admin-prohibited`), nothing filtered (`no-response`).
#[derive(Clone, Copy, Debug, Default)]
pub struct SimConnectModule;

impl ProbeModule for SimConnectModule {
    fn scan_type(&self) -> ScanType {
        ScanType::Connect
    }

    fn layer(&self) -> Layer {
        Layer::Connect
    }

    fn build(&self, _ctx: &ProbeContext, probe: &ProbeSpec, buf: &mut [u8]) -> usize {
        if buf.len() < CONNECT_LEN {
            return 0;
        }
        buf[0] = 0xC5;
        put_addr(&mut buf[1..18], probe.dst);
        buf[18..20].copy_from_slice(&probe.dport.to_be_bytes());
        buf[20] = probe.attempt;
        CONNECT_LEN
    }

    fn classify(&self, _ctx: &ProbeContext, o: &[u8]) -> Option<Reply> {
        if o.len() != CONNECT_LEN + 1 || o[0] != 0xC6 {
            return None;
        }
        let (state, reason) = match o[CONNECT_LEN] {
            0 => (PortState::Open, Reason::SynAck),
            1 => (PortState::Closed, Reason::ConnRefused),
            2 => (PortState::Filtered, Reason::AdminProhibited),
            _ => return None,
        };
        Some(Reply {
            dst: get_addr(&o[1..])?,
            dport: u16::from_be_bytes([o[18], o[19]]),
            attempt: Some(o[20]),
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

/// An ARP-like link-layer ping over the sim's frame format: a neighbour's
/// answer is `Open` / `arp-response` with its MAC; silence is
/// `filtered` / `no-response` (the host-as-port convention of
/// discovery, port 0).
#[derive(Clone, Copy, Debug, Default)]
pub struct SimArpModule;

impl ProbeModule for SimArpModule {
    fn scan_type(&self) -> ScanType {
        ScanType::Syn
    }

    fn layer(&self) -> Layer {
        Layer::Link
    }

    fn build(&self, _ctx: &ProbeContext, probe: &ProbeSpec, buf: &mut [u8]) -> usize {
        if buf.len() < FRAME_LEN {
            return 0;
        }
        buf[0] = 0xB5;
        put_addr(&mut buf[1..18], probe.dst);
        FRAME_LEN
    }

    fn classify(&self, _ctx: &ProbeContext, f: &[u8]) -> Option<Reply> {
        if f.len() != FRAME_REPLY_LEN || f[0] != 0xB6 {
            return None;
        }
        let dst = get_addr(&f[1..])?;
        let mac: [u8; 6] = f[18..24].try_into().ok()?;
        Some(Reply {
            dst,
            dport: 0,
            attempt: None,
            state: PortState::Open,
            reason: Reason::ArpResponse,
            ttl: 0,
            traits: None,
            mac: Some(mac),
        })
    }

    fn no_reply(&self) -> (PortState, Reason) {
        (PortState::Filtered, Reason::NoResponse)
    }
}

//! The simulator's other layers: [`Transport`] over IP packets, frames
//! and connect attempts on one clock, and the link-layer ping
//! [`SimArpModule`].
//!
//! Connect attempts speak the engine's own connect-layer format
//! ([`crate::connect_layer`]), so the simulator runs the very
//! [`ConnectModule`](crate::ConnectModule) a real scan runs. An attempt's
//! outcome comes one round trip later: connected (open, `syn-ack`),
//! refused (closed, `conn-refused`) or unreachable (filtered,
//! `admin-prohibited`). A filtered port gives no outcome: the engine's
//! timeout decides, as a socket's would.

use super::{drain_due, get_addr, put_addr, SimNet, FRAME_LEN, FRAME_REPLY_LEN};
use crate::connect_layer::ConnectRequest;
use crate::io::{FrameLink, PacketIo, Transport};
use crate::module::{Layer, ProbeContext, ProbeModule, ProbeSpec, Reply};
use crate::sim::PortBehavior;
use portolan_model::{PortState, Reason, ScanType};
use std::cmp::Reverse;
use std::io;
use std::time::Duration;

impl SimNet {
    /// A connect attempt: its outcome after a round trip, unless the port
    /// drops it or the path loses it.
    fn start_connect(&mut self, req: &[u8]) {
        let now = self.now.get() + self.cfg.send_cost;
        self.now.set(now);
        self.stats.sent += 1;
        let Some(request) =
            ConnectRequest::decode(req).filter(|_| req.len() == ConnectRequest::LEN)
        else {
            self.stats.malformed += 1;
            return;
        };
        let (dst, dport) = (request.dst.ip(), request.dst.port());
        *self.stats.per_port.entry((dst, dport)).or_insert(0) += 1;
        if self.random() < self.cfg.loss_out {
            self.stats.lost += 1;
            return;
        }
        let Some(host) = self.cfg.hosts.get(&dst) else {
            return;
        };
        let extra = host.extra_delay;
        let (state, reason) = match host.behavior(dport) {
            PortBehavior::Filtered => return,
            PortBehavior::Open => (PortState::Open, Reason::SynAck),
            PortBehavior::Closed => (PortState::Closed, Reason::ConnRefused),
            PortBehavior::Unreachable => (PortState::Filtered, Reason::AdminProhibited),
        };
        if self.random() < self.cfg.loss_back {
            self.stats.lost += 1;
            return;
        }
        let back = now + (self.cfg.delay + extra) * 2 + self.jitter();
        let r = request
            .outcome(state, reason)
            .expect("a row of the connect layer's outcomes");
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

//! A simulated network with simulated time, for deterministic tests.
//!
//! [`SimNet`] implements [`PacketIo`] and its [`SimClock`] implements
//! [`Clock`]: sending costs a configurable amount of simulated time, and
//! `recv` jumps the clock to the next delivery (or the timeout), so a scan
//! of minutes runs in milliseconds and every run with the same seed is
//! identical. Hosts have open, closed, filtered and ICMP-unreachable ports,
//! extra delay, and rate-limited error replies (like Linux's 1/s ICMP
//! limit); the path has delay, jitter, seeded random loss each way, and an
//! optional bottleneck with a finite queue, so overrunning it builds delay
//! and then drops, as a real link does.
//!
//! To stay independent of real packet formats, the sim speaks its own tiny
//! wire format, built and parsed by [`SimModule`] (a SYN-scan-like
//! [`ProbeModule`]): a probe is `[0xA5, family, addr[16], dport[2],
//! attempt, cookie[4]]`, a reply `[0xA6, family, addr[16], dport[2],
//! attempt, cookie[4], kind, ttl]`, the cookie being the scan's
//! validation hash, checked on receipt.
//!
//! The link layer is simulated too ([`SimNet`] is a [`Transport`] of both
//! layers on one clock): neighbours ([`SimConfig::neighbours`]) answer the
//! link-layer requests of [`SimArpModule`], `[0xB5, family, addr[16]]`,
//! with `[0xB6, family, addr[16], mac[6]]`, after the path's delay and
//! subject to its loss, so ARP / ND discovery pipelined into a port scan
//! runs deterministically too; and `connect()` attempts of
//! [`ConnectModule`](crate::ConnectModule) get the outcome a socket would (`sim/layers.rs`).

use crate::io::{Clock, FrameLink, PacketIo};
use crate::module::{ProbeContext, ProbeModule, ProbeSpec, Reply};
use crate::permutation::mix64;
use portolan_model::{PortState, Reason, ScanType};
use std::cell::Cell;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// What a simulated port does with a probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortBehavior {
    /// Answers SYN-ACK.
    Open,
    /// Answers RST (subject to the host's error rate limit).
    Closed,
    /// Drops the probe silently.
    Filtered,
    /// Answers ICMP administratively prohibited (rate limited too).
    Unreachable,
}

/// One simulated host.
#[derive(Clone, Debug)]
pub struct SimHost {
    /// Ports that behave differently from `others`.
    pub ports: HashMap<u16, PortBehavior>,
    /// Behaviour of every other port.
    pub others: PortBehavior,
    /// Error replies (RST, ICMP) per second and burst, if limited.
    pub error_rate_limit: Option<(f64, f64)>,
    /// An allowance for ICMP errors alone (the unreachables of
    /// [`PortBehavior::Unreachable`]), as Linux keeps per destination.
    pub icmp_allowance: Option<IcmpAllowance>,
    /// Extra one-way delay to this host.
    pub extra_delay: Duration,
}

impl SimHost {
    /// A host whose `open` ports are open and every other port closed.
    pub fn with_open(open: &[u16]) -> Self {
        SimHost {
            ports: open.iter().map(|&p| (p, PortBehavior::Open)).collect(),
            others: PortBehavior::Closed,
            error_rate_limit: None,
            icmp_allowance: None,
            extra_delay: Duration::ZERO,
        }
    }

    /// A host that never answers.
    pub fn silent() -> Self {
        SimHost {
            ports: HashMap::new(),
            others: PortBehavior::Filtered,
            error_rate_limit: None,
            icmp_allowance: None,
            extra_delay: Duration::ZERO,
        }
    }

    /// What port `p` does.
    pub fn behavior(&self, p: u16) -> PortBehavior {
        self.ports.get(&p).copied().unwrap_or(self.others)
    }
}

/// A host's ICMP error allowance: a token bucket (Linux: one per second,
/// six at most, per destination).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IcmpAllowance {
    /// Errors the bucket gains per second.
    pub per_sec: f64,
    /// Errors it holds at most.
    pub burst: f64,
    /// Errors it holds when the scan starts (0: spent by an earlier scan).
    pub start: f64,
}

/// A bottleneck link on the forward path.
#[derive(Clone, Copy, Debug)]
pub struct Bottleneck {
    /// Capacity, packets per second.
    pub pps: f64,
    /// Queue length, packets; arrivals beyond it are dropped.
    pub queue: usize,
}

/// The simulated network's configuration.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Seed of the loss and jitter generator.
    pub seed: u64,
    /// One-way delay of the path.
    pub delay: Duration,
    /// Uniform random extra delay, each way, up to this.
    pub jitter: Duration,
    /// Probability a probe is lost on the way out.
    pub loss_out: f64,
    /// Probability a reply is lost on the way back.
    pub loss_back: f64,
    /// Optional forward bottleneck.
    pub bottleneck: Option<Bottleneck>,
    /// Simulated sender time per packet sent (caps the send rate).
    pub send_cost: Duration,
    /// The hosts; unknown addresses are silent.
    pub hosts: HashMap<IpAddr, SimHost>,
    /// TTL of replies.
    pub reply_ttl: u8,
    /// Record the instant of every send (for rate tests).
    pub record_sends: bool,
    /// Neighbours on the simulated segment and their MAC addresses: they
    /// answer link-layer requests (a neighbour may be a host too).
    pub neighbours: HashMap<IpAddr, [u8; 6]>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 1,
            delay: Duration::from_micros(50),
            jitter: Duration::ZERO,
            loss_out: 0.0,
            loss_back: 0.0,
            bottleneck: None,
            send_cost: Duration::from_micros(1),
            hosts: HashMap::new(),
            reply_ttl: 64,
            record_sends: false,
            neighbours: HashMap::new(),
        }
    }
}

/// Counters of what the simulated network did.
#[derive(Clone, Debug, Default)]
pub struct SimStats {
    /// Packets handed to `send`.
    pub sent: u64,
    /// Packets `send` could not parse as probes.
    pub malformed: u64,
    /// Probes and replies lost at random.
    pub lost: u64,
    /// Probes dropped by the bottleneck queue.
    pub queue_drops: u64,
    /// Error replies suppressed by a host's rate limit.
    pub rate_limited: u64,
    /// Replies delivered to the scanner.
    pub delivered: u64,
    /// Probes per (host, port).
    pub per_port: HashMap<(IpAddr, u16), u32>,
    /// Send instants, when recording.
    pub send_times: Vec<Instant>,
    /// Link-layer requests per address.
    pub frames_per_addr: HashMap<IpAddr, u32>,
}

/// The simulated clock shared with a [`SimNet`].
#[derive(Clone, Debug)]
pub struct SimClock(Rc<Cell<Instant>>);

impl Clock for SimClock {
    fn now(&self) -> Instant {
        self.0.get()
    }
}

/// The simulated network.
pub struct SimNet {
    cfg: SimConfig,
    now: Rc<Cell<Instant>>,
    start: Instant,
    rng: u64,
    link_free_at: Instant,
    queue: BinaryHeap<Reverse<(Instant, u64, Vec<u8>)>>,
    frames: BinaryHeap<Reverse<(Instant, u64, Vec<u8>)>>,
    conns: BinaryHeap<Reverse<(Instant, u64, Vec<u8>)>>,
    seq: u64,
    limits: HashMap<IpAddr, (f64, Instant)>,
    icmp_limits: HashMap<IpAddr, (f64, Instant)>,
    stats: SimStats,
}

const PROBE_LEN: usize = 25;
const REPLY_LEN: usize = 27;

impl SimNet {
    /// A network per `cfg`, its clock starting at `start`.
    pub fn new(cfg: SimConfig, start: Instant) -> Self {
        SimNet {
            rng: mix64(cfg.seed),
            cfg,
            now: Rc::new(Cell::new(start)),
            start,
            link_free_at: start,
            queue: BinaryHeap::new(),
            frames: BinaryHeap::new(),
            conns: BinaryHeap::new(),
            seq: 0,
            limits: HashMap::new(),
            icmp_limits: HashMap::new(),
            stats: SimStats::default(),
        }
    }

    /// The network's clock.
    pub fn clock(&self) -> SimClock {
        SimClock(self.now.clone())
    }

    /// Simulated time since the start.
    pub fn elapsed(&self) -> Duration {
        self.now.get().saturating_duration_since(self.start)
    }

    /// What happened so far.
    pub fn stats(&self) -> &SimStats {
        &self.stats
    }

    fn random(&mut self) -> f64 {
        self.rng = mix64(self.rng);
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }

    fn jitter(&mut self) -> Duration {
        if self.cfg.jitter.is_zero() {
            Duration::ZERO
        } else {
            self.cfg.jitter.mul_f64(self.random())
        }
    }

    fn send_one(&mut self, pkt: &[u8]) {
        let now = self.now.get() + self.cfg.send_cost;
        self.now.set(now);
        self.stats.sent += 1;
        if self.cfg.record_sends {
            self.stats.send_times.push(now);
        }
        let Some((dst, dport, attempt, cookie)) = parse_probe(pkt) else {
            self.stats.malformed += 1;
            return;
        };
        *self.stats.per_port.entry((dst, dport)).or_insert(0) += 1;
        if self.random() < self.cfg.loss_out {
            self.stats.lost += 1;
            return;
        }
        let mut arrive = now;
        if let Some(b) = self.cfg.bottleneck {
            let backlog = self
                .link_free_at
                .saturating_duration_since(now)
                .as_secs_f64()
                * b.pps;
            if backlog >= b.queue as f64 {
                self.stats.queue_drops += 1;
                return;
            }
            let depart = self.link_free_at.max(now) + Duration::from_secs_f64(1.0 / b.pps);
            self.link_free_at = depart;
            arrive = depart;
        }
        let Some(host) = self.cfg.hosts.get(&dst) else {
            return;
        };
        let extra = host.extra_delay;
        let behavior = host.behavior(dport);
        let limit = host.error_rate_limit;
        let allowance = host.icmp_allowance;
        arrive += self.cfg.delay + extra + self.jitter();
        let kind = match behavior {
            PortBehavior::Filtered => return,
            PortBehavior::Open => 0u8,
            PortBehavior::Closed => 1,
            PortBehavior::Unreachable => 2,
        };
        if kind != 0 {
            if let Some((rate, burst)) = limit {
                let (tokens, last) = self.limits.entry(dst).or_insert((burst, arrive));
                let dt = arrive.saturating_duration_since(*last).as_secs_f64();
                *tokens = (*tokens + dt * rate).min(burst);
                *last = (*last).max(arrive);
                if *tokens < 1.0 {
                    self.stats.rate_limited += 1;
                    return;
                }
                *tokens -= 1.0;
            }
        }
        if let (2, Some(a)) = (kind, allowance) {
            let start = self.start;
            let (tokens, last) = self.icmp_limits.entry(dst).or_insert((a.start, start));
            let dt = arrive.saturating_duration_since(*last).as_secs_f64();
            *tokens = (*tokens + dt * a.per_sec).min(a.burst);
            *last = (*last).max(arrive);
            if *tokens < 1.0 {
                self.stats.rate_limited += 1;
                return;
            }
            *tokens -= 1.0;
        }
        if self.random() < self.cfg.loss_back {
            self.stats.lost += 1;
            return;
        }
        let back = arrive + self.cfg.delay + extra + self.jitter();
        let mut r = Vec::with_capacity(REPLY_LEN);
        r.push(0xA6);
        r.extend_from_slice(&pkt[1..PROBE_LEN]);
        r.push(kind);
        r.push(self.cfg.reply_ttl);
        let _ = (attempt, cookie);
        self.seq += 1;
        self.queue.push(Reverse((back, self.seq, r)));
    }

    fn deliver(&mut self, on_packet: &mut dyn FnMut(&[u8])) -> usize {
        let n = drain_due(&mut self.queue, self.now.get(), on_packet);
        self.stats.delivered += n as u64;
        n
    }

    fn deliver_frames(&mut self, on_frame: &mut dyn FnMut(&[u8])) -> usize {
        let n = drain_due(&mut self.frames, self.now.get(), on_frame);
        self.stats.delivered += n as u64;
        n
    }

    /// A link-layer request: a neighbour answers with its MAC after the
    /// path's delay, unless lost on the way.
    fn send_frame(&mut self, frame: &[u8]) {
        let now = self.now.get() + self.cfg.send_cost;
        self.now.set(now);
        self.stats.sent += 1;
        let dst = match frame {
            [0xB5, rest @ ..] if rest.len() == 17 => get_addr(rest),
            _ => None,
        };
        let Some(dst) = dst else {
            self.stats.malformed += 1;
            return;
        };
        *self.stats.frames_per_addr.entry(dst).or_insert(0) += 1;
        if self.random() < self.cfg.loss_out {
            self.stats.lost += 1;
            return;
        }
        let Some(&mac) = self.cfg.neighbours.get(&dst) else {
            return;
        };
        if self.random() < self.cfg.loss_back {
            self.stats.lost += 1;
            return;
        }
        let back = now + self.cfg.delay * 2 + self.jitter();
        let mut r = Vec::with_capacity(FRAME_REPLY_LEN);
        r.push(0xB6);
        r.extend_from_slice(&frame[1..FRAME_LEN]);
        r.extend_from_slice(&mac);
        self.seq += 1;
        self.frames.push(Reverse((back, self.seq, r)));
    }

    /// Jumps the clock to the next delivery of either layer, at most
    /// `timeout` ahead.
    fn advance(&mut self, timeout: Duration) {
        let until = self.now.get() + timeout;
        let next = [self.queue.peek(), self.frames.peek(), self.conns.peek()]
            .into_iter()
            .flatten()
            .map(|Reverse((t, ..))| *t)
            .min();
        match next {
            Some(t) if t <= until => self.now.set(t.max(self.now.get())),
            _ => self.now.set(until),
        }
    }
}

/// Hands out the items of `queue` due by `now`.
fn drain_due(
    queue: &mut BinaryHeap<Reverse<(Instant, u64, Vec<u8>)>>,
    now: Instant,
    on_item: &mut dyn FnMut(&[u8]),
) -> usize {
    let mut n = 0;
    while let Some(Reverse((t, ..))) = queue.peek() {
        if *t > now {
            break;
        }
        let Some(Reverse((_, _, item))) = queue.pop() else {
            break;
        };
        on_item(&item);
        n += 1;
    }
    n
}

const FRAME_LEN: usize = 18;
const FRAME_REPLY_LEN: usize = 24;

impl FrameLink for SimNet {
    fn send_frames(&mut self, frames: &[&[u8]]) -> io::Result<usize> {
        for f in frames {
            self.send_frame(f);
        }
        Ok(frames.len())
    }

    fn recv_frames(
        &mut self,
        timeout: Duration,
        on_frame: &mut dyn FnMut(&[u8]),
    ) -> io::Result<usize> {
        let n = self.deliver_frames(on_frame);
        if n > 0 {
            return Ok(n);
        }
        self.advance(timeout);
        Ok(self.deliver_frames(on_frame))
    }
}

impl PacketIo for SimNet {
    fn send(&mut self, packets: &[&[u8]]) -> io::Result<usize> {
        for p in packets {
            self.send_one(p);
        }
        Ok(packets.len())
    }

    fn recv(&mut self, timeout: Duration, on_packet: &mut dyn FnMut(&[u8])) -> io::Result<usize> {
        let n = self.deliver(on_packet);
        if n > 0 {
            return Ok(n);
        }
        let until = self.now.get() + timeout;
        let next = self.queue.peek().map(|Reverse((t, ..))| *t);
        match next {
            Some(t) if t <= until => self.now.set(t.max(self.now.get())),
            _ => self.now.set(until),
        }
        Ok(self.deliver(on_packet))
    }
}

fn put_addr(buf: &mut [u8], a: IpAddr) {
    match a {
        IpAddr::V4(v) => {
            buf[0] = 4;
            buf[1..5].copy_from_slice(&v.octets());
            buf[5..17].fill(0);
        }
        IpAddr::V6(v) => {
            buf[0] = 6;
            buf[1..17].copy_from_slice(&v.octets());
        }
    }
}

fn get_addr(buf: &[u8]) -> Option<IpAddr> {
    let b: [u8; 16] = buf.get(1..17)?.try_into().ok()?;
    match buf.first()? {
        4 => Some(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))),
        6 => Some(IpAddr::V6(Ipv6Addr::from(b))),
        _ => None,
    }
}

fn parse_probe(p: &[u8]) -> Option<(IpAddr, u16, u8, u32)> {
    if p.len() != PROBE_LEN || p[0] != 0xA5 {
        return None;
    }
    let dst = get_addr(&p[1..])?;
    let dport = u16::from_be_bytes([p[18], p[19]]);
    let cookie = u32::from_be_bytes([p[21], p[22], p[23], p[24]]);
    Some((dst, dport, p[20], cookie))
}

/// A SYN-scan-like probe module speaking the sim's wire format.
#[derive(Clone, Copy, Debug, Default)]
pub struct SimModule;

fn cookie(ctx: &ProbeContext, dst: IpAddr, dport: u16) -> Option<u32> {
    let src = ctx.src_for(dst)?;
    Some(ctx.key.hash(src, dst, dport) as u32)
}

impl ProbeModule for SimModule {
    fn scan_type(&self) -> ScanType {
        ScanType::Syn
    }

    fn build(&self, ctx: &ProbeContext, probe: &ProbeSpec, buf: &mut [u8]) -> usize {
        let Some(c) = cookie(ctx, probe.dst, probe.dport) else {
            return 0;
        };
        if buf.len() < PROBE_LEN {
            return 0;
        }
        buf[0] = 0xA5;
        put_addr(&mut buf[1..18], probe.dst);
        buf[18..20].copy_from_slice(&probe.dport.to_be_bytes());
        buf[20] = probe.attempt;
        buf[21..25].copy_from_slice(&c.to_be_bytes());
        PROBE_LEN
    }

    fn classify(&self, ctx: &ProbeContext, p: &[u8]) -> Option<Reply> {
        if p.len() != REPLY_LEN || p[0] != 0xA6 {
            return None;
        }
        let dst = get_addr(&p[1..])?;
        let dport = u16::from_be_bytes([p[18], p[19]]);
        let c = u32::from_be_bytes([p[21], p[22], p[23], p[24]]);
        if cookie(ctx, dst, dport)? != c {
            return None;
        }
        let (state, reason) = match p[25] {
            0 => (PortState::Open, Reason::SynAck),
            1 => (PortState::Closed, Reason::Reset),
            2 => (PortState::Filtered, Reason::AdminProhibited),
            _ => return None,
        };
        Some(Reply {
            dst,
            dport,
            attempt: Some(p[20]),
            state,
            reason,
            ttl: p[26],
            traits: None,
            mac: None,
        })
    }

    fn no_reply(&self) -> (PortState, Reason) {
        (PortState::Filtered, Reason::NoResponse)
    }
}

/// A UDP-scan-like probe module over the sim's wire format: an answer
/// is a UDP response (open), an error a port unreachable (closed, subject
/// to the host's rate limit like Linux's ICMP), silence open|filtered.
#[derive(Clone, Copy, Debug, Default)]
pub struct SimUdpModule;

impl ProbeModule for SimUdpModule {
    fn scan_type(&self) -> ScanType {
        ScanType::Udp
    }

    fn build(&self, ctx: &ProbeContext, probe: &ProbeSpec, buf: &mut [u8]) -> usize {
        SimModule.build(ctx, probe, buf)
    }

    fn classify(&self, ctx: &ProbeContext, p: &[u8]) -> Option<Reply> {
        let r = SimModule.classify(ctx, p)?;
        let (state, reason) = match r.state {
            PortState::Open => (PortState::Open, Reason::UdpResponse),
            PortState::Closed => (PortState::Closed, Reason::PortUnreach),
            s => (s, r.reason),
        };
        Some(Reply { state, reason, ..r })
    }

    fn no_reply(&self) -> (PortState, Reason) {
        (PortState::OpenFiltered, Reason::NoResponse)
    }
}

/// A FIN-scan-like probe module over the sim's wire format: an open
/// port's answer is dropped (open ports stay silent), a closed port's is
/// a reset (closed), an unreachable one's an ICMP port unreachable
/// (filtered), silence open|filtered.
#[derive(Clone, Copy, Debug, Default)]
pub struct SimFinModule;

impl ProbeModule for SimFinModule {
    fn scan_type(&self) -> ScanType {
        ScanType::Fin
    }

    fn build(&self, ctx: &ProbeContext, probe: &ProbeSpec, buf: &mut [u8]) -> usize {
        SimModule.build(ctx, probe, buf)
    }

    fn classify(&self, ctx: &ProbeContext, p: &[u8]) -> Option<Reply> {
        let r = SimModule.classify(ctx, p)?;
        let (state, reason) = match r.state {
            PortState::Closed => (PortState::Closed, Reason::Reset),
            PortState::Filtered => (PortState::Filtered, Reason::PortUnreach),
            _ => return None,
        };
        Some(Reply { state, reason, ..r })
    }

    fn no_reply(&self) -> (PortState, Reason) {
        (PortState::OpenFiltered, Reason::NoResponse)
    }
}

mod layers;
pub use layers::SimArpModule;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::ValidationKey;

    fn ctx(seed: u64) -> ProbeContext {
        ProbeContext {
            src_v4: Some(Ipv4Addr::new(198, 18, 0, 1)),
            src_v6: None,
            source_port: None,
            key: ValidationKey::from_seed(seed),
            ttl: 64,
        }
    }

    #[test]
    fn replies_validate_and_forgeries_do_not() {
        let dst: IpAddr = "198.18.0.2".parse().unwrap();
        let mut cfg = SimConfig::default();
        cfg.hosts.insert(dst, SimHost::with_open(&[80]));
        let t0 = Instant::now();
        let mut net = SimNet::new(cfg, t0);
        let mut buf = [0u8; 64];
        let spec = ProbeSpec {
            dst,
            dport: 80,
            attempt: 2,
        };
        let n = SimModule.build(&ctx(1), &spec, &mut buf);
        PacketIo::send(&mut net, &[&buf[..n]]).unwrap();
        let mut got = Vec::new();
        PacketIo::recv(&mut net, Duration::from_secs(1), &mut |p| {
            got.push(p.to_vec())
        })
        .unwrap();
        assert_eq!(got.len(), 1);
        assert!(net.elapsed() >= Duration::from_micros(100));
        let r = SimModule.classify(&ctx(1), &got[0]).unwrap();
        assert_eq!(
            (r.state, r.attempt, r.dport),
            (PortState::Open, Some(2), 80)
        );
        assert!(SimModule.classify(&ctx(2), &got[0]).is_none());
        assert!(SimModule.classify(&ctx(1), &got[0][..10]).is_none());
        assert!(SimModule.classify(&ctx(1), &[]).is_none());
        let v6 = ProbeSpec {
            dst: "2001:2::1".parse().unwrap(),
            dport: 1,
            attempt: 0,
        };
        assert_eq!(SimModule.build(&ctx(1), &v6, &mut buf), 0);
    }
}

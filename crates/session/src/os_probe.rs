//! OS detection's own probes, for hosts whose scan did not show enough.
//!
//! A SYN scan (`-sS`, the default with privileges) already holds a host's
//! SYN/ACK and RST+ACK (see [`crate::os`]). Other techniques do not: a
//! connect scan's replies are the kernel's, and FIN, ACK or UDP scans get
//! no SYN/ACK. For those hosts `-O` sends the same client-like SYN the
//! SYN scan sends ([`portolan_probes::tcp_module`]) to one port the scan
//! found open and one it found closed, and keeps the SYN/ACK and RST+ACK
//! they draw: two packets per host, retried up to `--max-os-tries` times.
//!
//! One thread owns the raw sockets (one [`RawIo`] per interface and
//! address family, opened on first need) and works in batches: every
//! host waiting is probed at once, then replies are gathered for one
//! wait (four round trips of the slowest host in the batch, at least
//! 100 ms, at most 2 s), and the hosts still missing a reply are tried
//! again. A batch holds at most [`BATCH`] hosts, which bounds the packets
//! in flight and the memory per batch.

use portolan_engine::{PacketIo, ProbeContext, ProbeModule, ProbeSpec, ValidationKey};
use portolan_model::traits::{SampleKind, StackTraits, TraitSamples};
use portolan_model::{HostResult, PortState, Protocol};
use portolan_netio::{route_to, RawConfig, RawIo};
use portolan_os::{IcmpReply, SYN_VARIANTS};
use portolan_packet::{parse, IcmpErrorKind, Parsed, QuotedTransport};
use portolan_probes::discovery::{ping_module, PingKind};
use portolan_probes::{tcp_module, udp_module, TcpScanKind};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Hosts probed together at most.
pub const BATCH: usize = 256;

/// The shortest and longest wait for replies after a round of probes.
const MIN_WAIT: Duration = Duration::from_millis(100);
const MAX_WAIT: Duration = Duration::from_secs(2);

/// Where probes leave from: the scan's `-e`, `-S`, `-g` and `--ttl`.
#[derive(Clone, Debug, Default)]
pub struct ProbeNet {
    /// `-e`.
    pub interface: Option<String>,
    /// `-S`.
    pub source: Option<IpAddr>,
    /// `-g`.
    pub source_port: Option<u16>,
    /// `--ttl`.
    pub ttl: Option<u8>,
}

/// A host waiting for OS probes, with the samples it has.
pub struct Job {
    /// The host.
    pub host: HostResult,
    /// Its samples so far.
    pub samples: TraitSamples,
    /// Send the timed burst ([`BURST`] SYNs to one open port) rather
    /// than the missing samples' probes.
    pub want_burst: bool,
    /// The burst's SYN/ACKs with their receive times (seconds since the
    /// Unix epoch); `None` until a burst was sent.
    pub burst: Option<Vec<(StackTraits, f64)>>,
    /// The burst's ICMP echo reply and the port unreachable its UDP
    /// datagram drew (IPv4 only).
    pub icmp: [Option<IcmpReply>; 2],
    /// Time the SYN/ACK retransmissions of one open port (`--os-rto`).
    pub want_rto: bool,
    /// Their arrival times, seconds after the first SYN/ACK; `None`
    /// until measured (or when no SYN/ACK came).
    pub rto: Option<Vec<f32>>,
    /// The RST the host sent when it gave up, if one came.
    pub giveup: Option<portolan_os::Giveup>,
    /// The retransmission timing was asked for once already.
    pub rto_tried: bool,
    /// The SYN/ACKs to the burst's SYN option variants
    /// (`portolan_os::SYN_VARIANTS`' order).
    pub variants: [Option<StackTraits>; 3],
}

impl Job {
    /// A job for `host` with the scan's `samples`.
    pub fn new(host: HostResult, samples: TraitSamples) -> Job {
        Job {
            host,
            samples,
            want_burst: false,
            burst: None,
            icmp: [None, None],
            want_rto: false,
            rto: None,
            giveup: None,
            rto_tried: false,
            variants: [None, None, None],
        }
    }
}

/// SYNs in the timed burst, and the gap between them: six probes 100 ms
/// apart, as nmap's SEQ tests, span half a second, enough for a 100 Hz
/// or faster timestamp clock's rate (see `portolan_os::timestamp_clock`).
pub const BURST: u8 = 6;
const BURST_GAP: Duration = Duration::from_millis(100);

/// Attempt numbers of the SYN option variants and of `--os-rto`'s SYN:
/// the TCP module tells attempts apart by source-port slot (attempt
/// modulo 16); the burst's 100-105 take slots 4-9, the variants 106-108
/// slots 10-12, the RTO SYN slot 13.
const VARIANT_ATTEMPT: u8 = 106;
const RTO_ATTEMPT: u8 = 109;

/// Rewrites the client SYN in `packet` (built by the TCP module: a
/// 40-byte TCP header whose options are MSS, SACK permitted, timestamps,
/// NOP, window scale) into SYN option variant `v`
/// (`portolan_os::SYN_VARIANTS`): 0 without timestamps (MSS, NOP, NOP,
/// SACK permitted, NOP, window scale, as Linux's own SYN then), 1
/// without window scale (MSS, SACK permitted, timestamps), 2 with MSS
/// alone; the rest ends with end-of-list and zero padding, so the
/// header's length and the validated fields stay. The checksum is
/// adjusted. `false` when the packet is not such a SYN.
fn make_variant(packet: &mut [u8], v: usize) -> bool {
    let Some(at) = packet.first().and_then(|b| match b >> 4 {
        4 => Some(usize::from(b & 0x0f) * 4),
        6 => Some(40),
        _ => None,
    }) else {
        return false;
    };
    let Some(tcp) = packet.get_mut(at..) else {
        return false;
    };
    if tcp.len() < 40 || tcp[12] >> 4 != 10 || tcp[20..24] != [2, 4, tcp[22], tcp[23]] {
        return false;
    }
    let old: [u8; 20] = match tcp[20..40].try_into() {
        Ok(o) => o,
        Err(_) => return false,
    };
    let mut new = [0u8; 20];
    new[..4].copy_from_slice(&old[..4]);
    match v {
        0 => new[4..12].copy_from_slice(&[1, 1, 4, 2, 1, 3, 3, old[19]]),
        1 => new[4..16].copy_from_slice(&old[4..16]),
        _ => {}
    }
    let check = u16::from_be_bytes([tcp[16], tcp[17]]);
    let check = portolan_packet::checksum::adjust(check, &old, &new);
    tcp[20..40].copy_from_slice(&new);
    tcp[16..18].copy_from_slice(&check.to_be_bytes());
    true
}

/// The UDP port the burst's datagram goes to: one the scan found closed,
/// else 33434 (traceroute's first port, closed almost everywhere).
pub fn udp_closed_port(host: &HostResult) -> u16 {
    host.ports
        .iter()
        .find(|p| p.protocol == Protocol::Udp && p.state == PortState::Closed)
        .map_or(33434, |p| p.port)
}

/// An ICMP echo reply or port unreachable from `host` in `packet`: its
/// TTL, DF and, for the error, how many bytes of our datagram it quotes
/// (the outer length less both headers). The packet crate parses and
/// checks it; DF and the lengths are read from the IPv4 header it
/// accepted. `None` for anything else, IPv6 included.
fn icmp_reply(packet: &[u8], host: IpAddr, udp_port: u16) -> Option<(usize, IcmpReply)> {
    let (slot, src, ttl) = match parse(packet).ok()? {
        Parsed::IcmpEcho {
            src,
            ttl,
            reply: true,
            ..
        } => (0, src, ttl),
        Parsed::IcmpError {
            src,
            ttl,
            kind: IcmpErrorKind::Unreach { code: 3 },
            quoted,
            ..
        } if quoted.dst == host
            && quoted.proto == 17
            && matches!(quoted.transport, QuotedTransport::Udp { dport, .. } if dport == udp_port) =>
        {
            (1, src, ttl)
        }
        _ => return None,
    };
    if src != host || packet.first()? >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(packet[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([*packet.get(2)?, *packet.get(3)?]));
    let df = packet.get(6)? & 0x40 != 0;
    let quoted = (slot == 1).then(|| u16::try_from(total.saturating_sub(ihl + 8)).unwrap_or(0));
    Some((slot, IcmpReply { ttl, df, quoted }))
}

/// The open TCP port the burst goes to.
pub fn burst_port(host: &HostResult) -> Option<u16> {
    host.ports
        .iter()
        .find(|p| p.protocol == Protocol::Tcp && p.state == PortState::Open)
        .map(|p| p.port)
}

/// The ports to probe: an open port if the samples lack a SYN/ACK, a
/// closed one if they lack a RST+ACK (each only if the scan found one).
pub fn wanted(host: &HostResult, samples: &TraitSamples) -> Vec<u16> {
    let first = |state: PortState| {
        host.ports
            .iter()
            .find(|p| p.protocol == Protocol::Tcp && p.state == state)
            .map(|p| p.port)
    };
    let mut ports = Vec::with_capacity(2);
    if samples.get(SampleKind::SynAck).is_none() {
        ports.extend(first(PortState::Open));
    }
    if samples.get(SampleKind::RstAck).is_none() {
        ports.extend(first(PortState::Closed));
    }
    ports
}

/// The raw sockets for one interface and family, with their context.
struct Link {
    io: RawIo,
    ctx: ProbeContext,
}

/// The prober thread's body: takes jobs from `jobs`, hands them to `done`
/// with whatever replies came, until `jobs` closes. With `stop` set it
/// sends nothing more and hands every job back as it is.
pub fn run(
    jobs: Receiver<Job>,
    done: Sender<Job>,
    net: ProbeNet,
    tries: u32,
    stop: Arc<AtomicBool>,
) {
    let module = tcp_module(TcpScanKind::Syn, None);
    let key = ValidationKey::new(rand::random());
    let mut links: HashMap<(String, bool), Option<Link>> = HashMap::new();
    let mut batch: Vec<Job> = Vec::new();
    loop {
        // Wait for work; then take whatever else is waiting, up to BATCH.
        if batch.is_empty() {
            match jobs.recv_timeout(Duration::from_millis(50)) {
                Ok(j) => batch.push(j),
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        while batch.len() < BATCH {
            match jobs.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        if !stop.load(Ordering::Relaxed) {
            probe_batch(
                &mut batch,
                module.as_ref(),
                key,
                &net,
                tries,
                &mut links,
                &stop,
            );
        }
        for j in batch.drain(..) {
            if done.send(j).is_err() {
                return;
            }
        }
    }
}

/// Probes every job of `batch` for up to `tries` rounds.
fn probe_batch(
    batch: &mut [Job],
    module: &dyn ProbeModule,
    key: ValidationKey,
    net: &ProbeNet,
    tries: u32,
    links: &mut HashMap<(String, bool), Option<Link>>,
    stop: &AtomicBool,
) {
    // Which link each job goes out on (None: no route, no socket).
    let mut link_of: Vec<Option<(String, bool)>> = Vec::with_capacity(batch.len());
    for j in batch.iter() {
        let addr = j.host.addr;
        let Ok(route) = route_to(addr, net.interface.as_deref(), net.source) else {
            link_of.push(None);
            continue;
        };
        let id = (route.interface.clone(), addr.is_ipv4());
        let entry = links.entry(id.clone()).or_insert_with(|| {
            let mut cfg = RawConfig::from_route(&route);
            cfg.bind_device = net.interface.is_some();
            cfg.send_threads = 0;
            cfg.ring_bytes = 1 << 20;
            let io = RawIo::open(&cfg).ok()?;
            let ctx = ProbeContext {
                src_v4: cfg.src_v4,
                src_v6: cfg.src_v6,
                source_port: net.source_port,
                key,
                ttl: net.ttl.unwrap_or(64),
            };
            Some(Link { io, ctx })
        });
        link_of.push(entry.is_some().then_some(id));
    }
    let wait = batch
        .iter()
        .filter_map(|j| j.host.latency)
        .max()
        .map_or(Duration::from_secs(1), |rtt| rtt * 4)
        .clamp(MIN_WAIT, MAX_WAIT);
    let mut buf = [0u8; 128];
    for attempt in 0..tries.min(u32::from(u8::MAX)) as u8 {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let mut sent = 0;
        for (j, id) in batch.iter().zip(&link_of) {
            let Some(Some(link)) = id.as_ref().and_then(|id| links.get_mut(id)) else {
                continue;
            };
            if j.want_burst || j.want_rto {
                continue;
            }
            for dport in wanted(&j.host, &j.samples) {
                let spec = ProbeSpec {
                    dst: j.host.addr,
                    dport,
                    attempt,
                };
                let n = module.build(&link.ctx, &spec, &mut buf);
                if n > 0 && link.io.send(&[&buf[..n]]).is_ok_and(|k| k == 1) {
                    sent += 1;
                }
            }
        }
        if sent == 0 {
            break;
        }
        gather(batch, module, links, wait, stop);
    }
    if batch.iter().any(|j| j.want_burst) && !stop.load(Ordering::Relaxed) {
        burst(batch, module, &link_of, links, wait, stop);
    }
    if batch.iter().any(|j| j.want_rto) && !stop.load(Ordering::Relaxed) {
        rto(batch, module, &link_of, links, stop);
    }
}

/// The source port of a SYN we built (IPv4 or IPv6, no extension
/// headers: the TCP module writes none).
fn source_port(packet: &[u8]) -> Option<u16> {
    let at = match packet.first()? >> 4 {
        4 => usize::from(packet[0] & 0x0f) * 4,
        6 => 40,
        _ => return None,
    };
    Some(u16::from_be_bytes([*packet.get(at)?, *packet.get(at + 1)?]))
}

/// One host's `--os-rto` measurement: the first SYN/ACK's ISN and time,
/// the later arrivals (seconds after it), and whether it is over.
type RtoState = (Option<(u32, f64)>, Vec<f64>, bool);

/// `--os-rto`: one SYN to each wanting job's open port with the kernel's
/// RSTs to it held back ([`crate::os_rto::RstHold`]), then every SYN/ACK
/// with the first one's ISN (retransmissions) and a RST (giving up) from
/// that port are timed, each host until [`crate::os_rto::follow_until`]
/// says its series is over. The table goes when this returns, whatever
/// happens.
fn rto(
    batch: &mut [Job],
    module: &dyn ProbeModule,
    link_of: &[Option<(String, bool)>],
    links: &mut HashMap<(String, bool), Option<Link>>,
    stop: &AtomicBool,
) {
    let mut buf = [0u8; 128];
    // Per wanting job: the SYN, and the flow to hold RSTs back on.
    let mut syns: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut flows = Vec::new();
    for (i, (j, id)) in batch.iter().zip(link_of).enumerate() {
        let (true, Some(dport)) = (j.want_rto, burst_port(&j.host)) else {
            continue;
        };
        let Some(Some(link)) = id.as_ref().and_then(|id| links.get_mut(id)) else {
            continue;
        };
        let spec = ProbeSpec {
            dst: j.host.addr,
            dport,
            attempt: RTO_ATTEMPT,
        };
        let len = module.build(&link.ctx, &spec, &mut buf);
        let Some(sport) = (len > 0).then(|| source_port(&buf[..len])).flatten() else {
            continue;
        };
        flows.push((j.host.addr, dport, sport));
        syns.push((i, buf[..len].to_vec()));
    }
    for j in batch.iter_mut() {
        j.want_rto = false;
    }
    if syns.is_empty() {
        return;
    }
    let _hold = match crate::os_rto::RstHold::new(&flows) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("portolan: --os-rto: {e}; no retransmission timing");
            return;
        }
    };
    let now = || {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    };
    let started = now();
    // Per job index: (first SYN/ACK's ISN and time, later times, done).
    let mut state: HashMap<usize, RtoState> = HashMap::new();
    for (i, syn) in &syns {
        let Some(Some(link)) = link_of[*i].as_ref().and_then(|id| links.get_mut(id)) else {
            continue;
        };
        if link.io.send(&[syn]).is_ok_and(|k| k == 1) {
            state.insert(*i, (None, Vec::new(), false));
        }
    }
    let index: HashMap<(IpAddr, u16), usize> = state
        .keys()
        .filter_map(|&i| burst_port(&batch[i].host).map(|p| ((batch[i].host.addr, p), i)))
        .collect();
    let mut giveups: HashMap<usize, portolan_os::Giveup> = HashMap::new();
    loop {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let t = now();
        // A host is done when its series is over, or (no SYN/ACK at all)
        // after the first wait.
        for s in state.values_mut() {
            let over = match s.0 {
                None => t - started > crate::os_rto::follow_until(&[]),
                Some((_, first)) => t - first > crate::os_rto::follow_until(&s.1),
            };
            s.2 |= over;
        }
        if state.values().all(|s| s.2) {
            break;
        }
        for link in links.values_mut().flatten() {
            let ctx = &link.ctx;
            let _ = link.io.recv(Duration::from_millis(20), &mut |packet| {
                let Some(reply) = module.classify(ctx, packet) else {
                    return;
                };
                let (Some(&i), Some(traits)) = (index.get(&(reply.dst, reply.dport)), reply.traits)
                else {
                    return;
                };
                let Some(s) = state.get_mut(&i) else {
                    return;
                };
                if s.2 {
                    return;
                }
                let at = now();
                match (traits.sample_kind(), s.0) {
                    (SampleKind::SynAck, None) => s.0 = Some((traits.seq, at)),
                    (SampleKind::SynAck, Some((isn, first)))
                        if traits.seq == isn && s.1.len() < 64 =>
                    {
                        s.1.push(at - first);
                    }
                    (SampleKind::RstAck | SampleKind::Rst, Some((_, first))) => {
                        // Giving up: its time ends the series (as
                        // Hershel+ records it) and the RST is evidence.
                        s.1.push(at - first);
                        s.2 = true;
                        giveups.insert(
                            i,
                            portolan_os::Giveup::Rst {
                                ack: traits.sample_kind() == SampleKind::RstAck,
                                window: u32::from(traits.window),
                                ack_nonzero: traits.ack != 0,
                            },
                        );
                    }
                    _ => {}
                }
            });
        }
    }
    for (i, (first, series, _)) in state {
        if first.is_some() {
            batch[i].rto = Some(series.iter().map(|&t| t as f32).collect());
            batch[i].giveup = giveups.get(&i).copied();
        }
    }
}

/// The timed burst for the jobs that want it: [`BURST`] SYNs to each
/// one's open port, [`BURST_GAP`] apart, each SYN/ACK kept with its
/// receive time; then `wait` for the last replies.
fn burst(
    batch: &mut [Job],
    module: &dyn ProbeModule,
    link_of: &[Option<(String, bool)>],
    links: &mut HashMap<(String, bool), Option<Link>>,
    wait: Duration,
    stop: &AtomicBool,
) {
    let mut buf = [0u8; 128];
    let index: HashMap<IpAddr, usize> = batch
        .iter()
        .enumerate()
        .filter(|(_, j)| j.want_burst)
        .map(|(i, j)| (j.host.addr, i))
        .collect();
    for j in batch.iter_mut().filter(|j| j.want_burst) {
        j.burst = Some(Vec::new());
    }
    // One ICMP echo and one UDP datagram to a closed port per IPv4 host,
    // with the first SYN.
    let (echo, udp) = (ping_module(PingKind::Echo), udp_module());
    for (j, id) in batch.iter().zip(link_of) {
        let Some(Some(link)) = id.as_ref().and_then(|id| links.get_mut(id)) else {
            continue;
        };
        if !j.want_burst || !j.host.addr.is_ipv4() {
            continue;
        }
        for (module, dport) in [(&echo, 0), (&udp, udp_closed_port(&j.host))] {
            let spec = ProbeSpec {
                dst: j.host.addr,
                dport,
                attempt: 0,
            };
            let len = module.build(&link.ctx, &spec, &mut buf);
            if len > 0 {
                let _ = link.io.send(&[&buf[..len]]);
            }
        }
    }
    for n in 0..BURST {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        // Attempts past the samples' rounds: other source ports and
        // timestamps, so each SYN opens a connection of its own.
        send_syns(batch, module, link_of, links, 100 + n, None);
        let gap = if n + 1 == BURST { wait } else { BURST_GAP };
        let start = Instant::now();
        let deadline = start + gap;
        // Halfway through each of the first gaps, one SYN option variant
        // (a stack with one listening socket has the gap to itself).
        let mut variant = (usize::from(n) < SYN_VARIANTS.len()).then_some(usize::from(n));
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            if let Some(v) = variant.filter(|_| start.elapsed() >= BURST_GAP / 2) {
                variant = None;
                send_syns(
                    batch,
                    module,
                    link_of,
                    links,
                    VARIANT_ATTEMPT + v as u8,
                    Some(v),
                );
            }
            let slice = left.min(Duration::from_millis(10));
            for link in links.values_mut().flatten() {
                let ctx = &link.ctx;
                let _ = link.io.recv(slice, &mut |packet| {
                    if let Ok(Parsed::IcmpEcho { src, .. } | Parsed::IcmpError { src, .. }) =
                        parse(packet)
                    {
                        if let Some(&i) = index.get(&src) {
                            let job = &mut batch[i];
                            let port = udp_closed_port(&job.host);
                            if let Some((slot, r)) = icmp_reply(packet, src, port) {
                                job.icmp[slot].get_or_insert(r);
                            }
                        }
                        return;
                    }
                    let Some(reply) = module.classify(ctx, packet) else {
                        return;
                    };
                    let (Some(&i), Some(traits)) = (index.get(&reply.dst), reply.traits) else {
                        return;
                    };
                    let job = &mut batch[i];
                    if traits.sample_kind() != SampleKind::SynAck
                        || burst_port(&job.host) != Some(reply.dport)
                    {
                        return;
                    }
                    // A variant's answer (its slot tells which).
                    let slot = |a: u8| a % 16;
                    if let Some(v) = reply.attempt.and_then(|a| {
                        (0..SYN_VARIANTS.len())
                            .find(|&v| slot(VARIANT_ATTEMPT + v as u8) == slot(a))
                    }) {
                        job.variants[v].get_or_insert(traits);
                        return;
                    }
                    let at = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .map_or(0.0, |d| d.as_secs_f64());
                    // A host whose scan showed no SYN/ACK gets one here.
                    job.samples.offer(traits);
                    let got = job.burst.get_or_insert_with(Vec::new);
                    // A retransmitted SYN/ACK repeats its ISN: one each.
                    if got.len() < usize::from(BURST)
                        && !got.iter().any(|(t, _)| t.seq == traits.seq)
                    {
                        got.push((traits, at));
                    }
                });
            }
        }
    }
    for j in batch.iter_mut() {
        j.want_burst = false;
    }
}

/// Sends a SYN with `attempt` to the open port of every job wanting the
/// burst: the client SYN, or SYN option variant `variant` of it.
fn send_syns(
    batch: &[Job],
    module: &dyn ProbeModule,
    link_of: &[Option<(String, bool)>],
    links: &mut HashMap<(String, bool), Option<Link>>,
    attempt: u8,
    variant: Option<usize>,
) {
    let mut buf = [0u8; 128];
    for (j, id) in batch.iter().zip(link_of) {
        let (true, Some(dport)) = (j.want_burst, burst_port(&j.host)) else {
            continue;
        };
        let Some(Some(link)) = id.as_ref().and_then(|id| links.get_mut(id)) else {
            continue;
        };
        let spec = ProbeSpec {
            dst: j.host.addr,
            dport,
            attempt,
        };
        let len = module.build(&link.ctx, &spec, &mut buf);
        if len > 0 && variant.is_none_or(|v| make_variant(&mut buf[..len], v)) {
            let _ = link.io.send(&[&buf[..len]]);
        }
    }
}

/// Offers every reply that comes within `wait` to its job's samples;
/// returns early once no job misses a reply.
fn gather(
    batch: &mut [Job],
    module: &dyn ProbeModule,
    links: &mut HashMap<(String, bool), Option<Link>>,
    wait: Duration,
    stop: &AtomicBool,
) {
    let index: HashMap<IpAddr, usize> = batch
        .iter()
        .enumerate()
        .map(|(i, j)| (j.host.addr, i))
        .collect();
    let deadline = Instant::now() + wait;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        if stop.load(Ordering::Relaxed)
            || batch
                .iter()
                .all(|j| j.want_burst || j.want_rto || wanted(&j.host, &j.samples).is_empty())
        {
            return;
        }
        let slice = left.min(Duration::from_millis(20));
        for link in links.values_mut().flatten() {
            let ctx = &link.ctx;
            let _ = link.io.recv(slice, &mut |packet| {
                let Some(reply) = module.classify(ctx, packet) else {
                    return;
                };
                let (Some(&i), Some(traits)) = (index.get(&reply.dst), reply.traits) else {
                    return;
                };
                let job = &mut batch[i];
                // Only answers from the ports asked, and of the kinds
                // they should give: a hostile reply cannot fill a slot
                // with something else.
                let expected = job
                    .host
                    .ports
                    .iter()
                    .find(|p| p.protocol == Protocol::Tcp && p.port == reply.dport)
                    .map(|p| p.state);
                let fits = matches!(
                    (expected, traits.sample_kind()),
                    (Some(PortState::Open), SampleKind::SynAck)
                        | (Some(PortState::Closed), SampleKind::RstAck)
                );
                if fits {
                    job.samples.offer(traits);
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portolan_model::traits::StackTraits;
    use portolan_model::{HostStatus, PortResult, Reason};
    use std::net::Ipv4Addr;

    fn host(ports: &[(u16, PortState)]) -> HostResult {
        let mut h = HostResult::new(
            IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2)),
            HostStatus::Up,
            Reason::UserSet,
        );
        for &(port, state) in ports {
            h.ports.push(PortResult {
                port,
                protocol: Protocol::Tcp,
                state,
                reason: Reason::NoResponse,
                reason_ttl: 0,
                service: None,
            });
        }
        h
    }

    #[test]
    fn hostile_or_foreign_icmp_is_ignored() {
        let host = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2));
        // Truncated, empty, garbage: nothing, no panic.
        for len in 0..64 {
            let junk: Vec<u8> = (0..len).map(|i| (i * 37 + 0x45) as u8).collect();
            assert_eq!(icmp_reply(&junk, host, 33434), None);
        }
        // A well-formed echo reply from someone else is not the host's.
        let mut buf = [0u8; 128];
        let n = portolan_packet::IcmpEcho {
            src: IpAddr::V4(Ipv4Addr::new(198, 18, 0, 9)),
            dst: IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1)),
            ttl: 64,
            ip_id: 1,
            reply: true,
            ident: 7,
            seq: 1,
            payload: &[],
        }
        .emit(&mut buf)
        .expect("fits");
        assert_eq!(icmp_reply(&buf[..n], host, 33434), None);
        let from_host = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 9));
        let (slot, r) = icmp_reply(&buf[..n], from_host, 33434).unwrap();
        assert_eq!((slot, r.ttl, r.quoted), (0, 64, None));
    }

    #[test]
    fn probes_go_only_where_a_sample_is_missing() {
        let h = host(&[
            (23, PortState::Filtered),
            (22, PortState::Open),
            (80, PortState::Open),
            (25, PortState::Closed),
        ]);
        let mut s = TraitSamples::new();
        assert_eq!(wanted(&h, &s), [22, 25]);
        s.offer(StackTraits {
            flags: 0x12,
            ..StackTraits::default()
        });
        assert_eq!(wanted(&h, &s), [25]);
        s.offer(StackTraits {
            flags: 0x14,
            ..StackTraits::default()
        });
        assert!(wanted(&h, &s).is_empty());
        // Nothing open or closed: nothing to ask.
        assert!(wanted(&host(&[(23, PortState::Filtered)]), &TraitSamples::new()).is_empty());
    }
}

//! The UDP rules against a real kernel: probes sent with a raw socket to
//! 127.0.0.1 and ::1 inside a throwaway network namespace, where a UDP responder
//! answers only a correct DNS query, another socket never answers, and
//! closed ports get the kernel's ICMP port unreachable (rate limit off in
//! the namespace). Captured replies go through `classify`.
//!
//! Needs root (namespaces, raw sockets); skipped, saying so, without it.
//! Every packet stays on the namespace's loopback, and the namespace is
//! deleted afterwards.

use nix::sched::{setns, CloneFlags};
use portolan_engine::{ProbeContext, ProbeModule, ProbeSpec, ValidationKey};
use portolan_model::{PortState, PortState::*, Reason};
use portolan_probes::{udp_module, PayloadTable, UdpScan};
use socket2::{Domain, Protocol, Socket, Type};
use std::cell::Cell;
use std::fs::File;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// IPPROTO_RAW: send whole IP packets (implies IP_HDRINCL).
const IPPROTO_RAW: i32 = 255;

/// A namespace that is deleted when dropped.
struct Netns(String);

impl Netns {
    fn create() -> Option<Netns> {
        let name = format!("portolan-udp-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        let ok = |c: &mut Command| c.output().map(|o| o.status.success()).unwrap_or(false);
        if !ok(Command::new("ip").args(["netns", "add", &name])) {
            return None;
        }
        let ns = Netns(name);
        let setup: [&[&str]; 3] = [
            &["-n", &ns.0, "link", "set", "lo", "up"],
            &[
                "netns",
                "exec",
                &ns.0,
                "sysctl",
                "-q",
                "-w",
                "net.ipv4.icmp_ratelimit=0",
            ],
            &[
                "netns",
                "exec",
                &ns.0,
                "sysctl",
                "-q",
                "-w",
                "net.ipv6.icmp.ratelimit=0",
            ],
        ];
        for args in setup {
            assert!(ok(Command::new("ip").args(args)), "ip {args:?}");
        }
        Some(ns)
    }

    /// Runs `f` on a thread that has joined the namespace.
    fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let file = File::open(format!("/var/run/netns/{}", self.0)).expect("netns file");
        std::thread::scope(|s| {
            s.spawn(move || {
                setns(&file, CloneFlags::CLONE_NEWNET).expect("setns");
                f()
            })
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
        })
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

/// The answer to a correct one-question DNS query (RFC 1035 4.1): the
/// header with QR set and the question echoed; `None` for anything else.
fn dns_answer(q: &[u8]) -> Option<Vec<u8>> {
    let count = |at: usize| u16::from_be_bytes([q[at], q[at + 1]]);
    if q.len() < 17 || q[2] & 0xf8 != 0 || count(4) != 1 || count(6) != 0 || count(8) != 0 {
        return None;
    }
    let mut at = 12;
    loop {
        let len = usize::from(*q.get(at)?);
        if len >= 64 || at > 12 + 255 {
            return None;
        }
        at += 1 + len;
        if len == 0 {
            break;
        }
    }
    if at + 4 + if count(10) == 0 { 0 } else { 11 } > q.len() {
        return None;
    }
    let mut a = q[..at + 4].to_vec();
    a[2] |= 0x80;
    a[10..12].fill(0);
    Some(a)
}

/// Serves `sock` until `stop`: answers correct DNS queries, ignores the rest.
fn dns_responder(sock: UdpSocket, stop: Arc<AtomicBool>) {
    sock.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let mut buf = [0u8; 2048];
    while !stop.load(Ordering::Relaxed) {
        if let Ok((n, from)) = sock.recv_from(&mut buf) {
            if let Some(a) = dns_answer(&buf[..n]) {
                let _ = sock.send_to(&a, from);
            }
        }
    }
}

/// Raw sockets of one family: one to send whole probes, two to capture
/// UDP and ICMP (both directions, on loopback).
struct Raw {
    lo: IpAddr,
    send: Socket,
    udp: Socket,
    icmp: Socket,
    /// How many of our own probes were captured (and dropped).
    own_seen: Cell<usize>,
}

impl Raw {
    fn open(lo: IpAddr) -> Raw {
        let (domain, send_proto, icmp) = match lo {
            IpAddr::V4(_) => (Domain::IPV4, Protocol::from(IPPROTO_RAW), Protocol::ICMPV4),
            IpAddr::V6(_) => (Domain::IPV6, Protocol::UDP, Protocol::ICMPV6),
        };
        let send = Socket::new(domain, Type::RAW, Some(send_proto)).unwrap();
        let udp = Socket::new(domain, Type::RAW, Some(Protocol::UDP)).unwrap();
        let icmp = Socket::new(domain, Type::RAW, Some(icmp)).unwrap();
        for s in [&udp, &icmp] {
            s.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
        }
        Raw {
            lo,
            send,
            udp,
            icmp,
            own_seen: Cell::new(0),
        }
    }

    /// Length of the probe's IP header: raw IPv6 sockets neither take nor
    /// give one.
    fn hl(&self) -> usize {
        if self.lo.is_ipv4() {
            20
        } else {
            40
        }
    }

    /// A captured segment as a whole packet: IPv4 raw sockets deliver the
    /// IP header; for IPv6 it is rebuilt (on loopback both ends are ::1).
    fn whole(&self, seg: &[u8], next_header: u8) -> Vec<u8> {
        if self.lo.is_ipv4() {
            return seg.to_vec();
        }
        let mut pkt = vec![0u8; 40 + seg.len()];
        portolan_packet::ipv6::Ipv6Repr {
            src: Ipv6Addr::LOCALHOST,
            dst: Ipv6Addr::LOCALHOST,
            next_header,
            payload_len: seg.len(),
            hop_limit: 64,
            flow_label: 0,
        }
        .emit(&mut pkt)
        .unwrap();
        pkt[40..].copy_from_slice(seg);
        pkt
    }

    /// Sends one probe and returns the first reply `m` accepts within
    /// `wait`, checking on the way that our own captured probe is dropped.
    fn probe(
        &self,
        m: &dyn ProbeModule,
        ctx: &ProbeContext,
        port: u16,
        attempt: u8,
        wait: Duration,
    ) -> Option<(PortState, Reason)> {
        let mut buf = [0u8; 1500];
        let spec = ProbeSpec {
            dst: self.lo,
            dport: port,
            attempt,
        };
        let n = m.build(ctx, &spec, &mut buf);
        assert!(n > 0);
        let hl = self.hl();
        let sent = buf[..n].to_vec();
        let wire = if self.lo.is_ipv4() {
            &sent[..]
        } else {
            &sent[40..]
        };
        self.send
            .send_to(wire, &SocketAddr::new(self.lo, 0).into())
            .expect("send on loopback");
        let deadline = Instant::now() + wait;
        let mut rbuf = [0u8; 65536];
        let icmp_proto = if self.lo.is_ipv4() { 1 } else { 58 };
        while Instant::now() < deadline {
            for (mut s, proto) in [(&self.udp, 17u8), (&self.icmp, icmp_proto)] {
                let Ok(len) = s.read(&mut rbuf) else {
                    continue;
                };
                let pkt = self.whole(&rbuf[..len], proto);
                let r = m.classify(ctx, &pkt);
                if proto == 17 && pkt.get(hl..) == Some(&sent[hl..]) {
                    assert_eq!(r, None, "our own probe, captured, is not a reply");
                    self.own_seen.set(self.own_seen.get() + 1);
                    continue;
                }
                if let Some(r) = r {
                    if (r.dst, r.dport) == (self.lo, port) {
                        let want = ctx.source_port.is_none().then_some(attempt);
                        assert_eq!(r.attempt, want);
                        return Some((r.state, r.reason));
                    }
                }
            }
        }
        None
    }
}

/// A port nothing listens on.
fn free_port(lo: IpAddr) -> u16 {
    let s = UdpSocket::bind((lo, 0)).unwrap();
    s.local_addr().unwrap().port()
}

/// Probes `lo` (responder on 53, a silent socket, closed ports) and checks
/// every answer.
fn scan_loopback(lo: IpAddr) {
    let dns = UdpSocket::bind((lo, 53)).expect("bind 53 in the namespace");
    let silent = UdpSocket::bind((lo, 0)).unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let responder = {
        let stop = stop.clone();
        std::thread::spawn(move || dns_responder(dns, stop))
    };
    let raw = Raw::open(lo);
    let mut ctx = ProbeContext {
        src_v4: Some(Ipv4Addr::LOCALHOST),
        src_v6: Some(Ipv6Addr::LOCALHOST),
        source_port: None,
        key: ValidationKey::from_seed(0x0d05),
        ttl: 64,
    };
    let m = udp_module();
    let reply = Duration::from_millis(1000);
    let silence = Duration::from_millis(300);

    // The DNS payloads (root NS, then version.bind) are answered.
    for attempt in [0, 1, 2] {
        assert_eq!(
            raw.probe(m.as_ref(), &ctx, 53, attempt, reply),
            Some((Open, Reason::UdpResponse)),
            "{lo} DNS attempt {attempt}"
        );
    }
    // An empty datagram is not a DNS query: no answer, open|filtered.
    let bare = UdpScan::new(Arc::new(PayloadTable::default()));
    assert_eq!(raw.probe(&bare, &ctx, 53, 0, silence), None, "{lo}");
    assert_eq!(bare.no_reply(), (OpenFiltered, Reason::NoResponse));
    // A socket that never answers: silence.
    assert_eq!(raw.probe(m.as_ref(), &ctx, silent_port, 0, silence), None);
    // Closed ports: the kernel's port unreachable, every one of them
    // (rate limit off here).
    for i in 0..20u8 {
        let port = free_port(lo);
        assert_eq!(
            raw.probe(m.as_ref(), &ctx, port, i % 3, reply),
            Some((Closed, Reason::PortUnreach)),
            "{lo} closed port {port}"
        );
    }
    // With a fixed source port (-g) too.
    ctx.source_port = Some(40_053);
    assert_eq!(
        raw.probe(m.as_ref(), &ctx, 53, 0, reply),
        Some((Open, Reason::UdpResponse)),
        "{lo} -g"
    );
    assert_eq!(
        raw.probe(m.as_ref(), &ctx, free_port(lo), 0, reply),
        Some((Closed, Reason::PortUnreach)),
        "{lo} -g"
    );
    assert!(raw.own_seen.get() > 0, "{lo}: our probes were captured");
    stop.store(true, Ordering::Relaxed);
    responder.join().unwrap();
    drop(silent);
}

#[test]
fn a_real_kernel_and_responder_answer_as_the_rules_expect() {
    if !portolan_testbed::require_root_only() {
        return;
    }
    let Some(ns) = Netns::create() else {
        portolan_testbed::skip("cannot create a network namespace (`ip netns add`)");
        return;
    };
    ns.run(|| scan_loopback(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    ns.run(|| scan_loopback(IpAddr::V6(Ipv6Addr::LOCALHOST)));
}

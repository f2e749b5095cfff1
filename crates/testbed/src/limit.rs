//! The physical limit of a SYN scan on a testbed: a minimal stateless
//! sender and a reply counter, behind `portolan-limit`.
//!
//! A scanner cannot finish before its last probe has gone out and its last
//! answer has come back, so the time a sender with *no* state takes from
//! its first probe to its last reply is the floor any scan of the same
//! testbed is judged against (`portolan-bench` prints portolan's median
//! beside it, and the ratio). Nothing here is portolan's: every probe is a
//! prebuilt 40-byte SYN, handed to the kernel in `sendmmsg` batches on
//! header-included raw IP sockets, one per sending thread, as fast as the
//! kernel takes them (a blocking socket: a full send buffer blocks; a
//! packet refused with `ENOBUFS` is offered again). No retransmission, no
//! pacing, no timeouts; a thread counts SYN/ACKs and RSTs from a raw TCP
//! socket (`recvmmsg`), each (address, port) once.
//!
//! Why hand-written: the point is a sender with no scanner logic at all, and
//! raw `sendmmsg`/`recvmmsg` have no safe wrapper in `socket2`; `nix`'s needs
//! as much setup code as the two system calls themselves.
//!
//! **Only the testbed.** Every target must lie in 198.18.0.0/15 (the
//! benchmarking range of RFC 2544 the testbeds use); anything else is
//! refused before a socket is opened.
//!
//! # Unsafe
//! `sendmmsg` and `recvmmsg` in `send_all` and `recv_batch`, each in one
//! block whose pointers all reach into buffers alive for the call.

#![allow(unsafe_code)]

use std::io;
use std::mem;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

/// Packets per `sendmmsg` call.
const BATCH: usize = 256;
/// Socket buffer sizes asked for (forced past the sysctl limit as root).
const BUFFER: usize = 32 << 20;
/// The only addresses probes may go to: 198.18.0.0/15.
const ALLOWED: (Ipv4Addr, u32) = (Ipv4Addr::new(198, 18, 0, 0), 15);

/// What to send: a SYN to every port of every address of a network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitPlan {
    /// First address of the target network.
    pub net: Ipv4Addr,
    /// Its prefix length (32 for one host).
    pub prefix: u8,
    /// The ports each address gets a SYN on (distinct).
    pub ports: Vec<u16>,
    /// Sending threads.
    pub senders: usize,
    /// Replies after which the count is complete (stop at once); without
    /// it the receiver stops after `idle` without a reply.
    pub expect: Option<u64>,
    /// How long to wait for more replies once everything is sent.
    pub idle: Duration,
    /// Where to send one probe first, and wait for its reply, so that the
    /// next hop's link address is resolved before the clock starts (the
    /// kernel queues only a few packets for an unresolved neighbour).
    pub warm: Option<SocketAddrV4>,
}

/// What a run measured.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LimitOutcome {
    /// Probes the kernel took.
    pub sent: u64,
    /// Probes it refused for good (counted, not retried).
    pub failed: u64,
    /// From the first send to the last `sendmmsg` returning.
    pub send_time: Duration,
    /// Distinct (address, port) pairs that answered.
    pub replies: u64,
    /// Of which with SYN/ACK and with RST.
    pub synack: u64,
    /// See `synack`.
    pub rst: u64,
    /// From the first send to the last counted reply.
    pub last_reply: Duration,
}

impl LimitOutcome {
    /// The one line `portolan-bench` reads ([`parse_outcome`]).
    pub fn line(&self) -> String {
        format!(
            "LIMIT sent={} failed={} send_s={:.6} replies={} synack={} rst={} last_reply_s={:.6}",
            self.sent,
            self.failed,
            self.send_time.as_secs_f64(),
            self.replies,
            self.synack,
            self.rst,
            self.last_reply.as_secs_f64()
        )
    }
}

/// Reads the [`LimitOutcome::line`] back from a run's output: `(replies,
/// seconds from first send to last reply)`.
pub fn parse_outcome(text: &str) -> Option<(u64, f64)> {
    let line = text.lines().find_map(|l| l.strip_prefix("LIMIT "))?;
    let field = |name: &str| {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
    };
    Some((
        field("replies")?.parse().ok()?,
        field("last_reply_s")?.parse().ok()?,
    ))
}

/// Whether every address of `net/prefix` is in 198.18.0.0/15.
pub fn allowed(net: Ipv4Addr, prefix: u8) -> bool {
    prefix >= ALLOWED.1 as u8 && prefix <= 32 && in_net(net, ALLOWED.0, ALLOWED.1)
}

fn in_net(a: Ipv4Addr, net: Ipv4Addr, prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    u32::from(a) & mask == u32::from(net) & mask
}

/// The 16-bit one's complement sum of `data`, folded.
fn sum16(mut acc: u32, data: &[u8]) -> u32 {
    for c in data.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from(c[0]) << 8
        };
        acc += u32::from(w);
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// A 40-byte IPv4 TCP SYN. The kernel fills the IP checksum, length and ID
/// (`IPPROTO_RAW` sockets do for IPv4); the TCP checksum is ours.
pub fn syn(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, seq: u32) -> [u8; 40] {
    let mut p = [0u8; 40];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&40u16.to_be_bytes());
    p[8] = 64;
    p[9] = 6;
    p[12..16].copy_from_slice(&src.octets());
    p[16..20].copy_from_slice(&dst.octets());
    let t = &mut p[20..];
    t[0..2].copy_from_slice(&sport.to_be_bytes());
    t[2..4].copy_from_slice(&dport.to_be_bytes());
    t[4..8].copy_from_slice(&seq.to_be_bytes());
    t[12] = 5 << 4;
    t[13] = 0x02;
    t[14..16].copy_from_slice(&1024u16.to_be_bytes());
    let mut acc = sum16(0, &src.octets());
    acc = sum16(acc, &dst.octets());
    acc += 6 + 20;
    let c = fold(sum16(acc, t));
    t[16..18].copy_from_slice(&c.to_be_bytes());
    p
}

/// The fields of a reply the counter reads: source, ports, TCP flags.
fn tcp_reply(p: &[u8]) -> Option<(Ipv4Addr, u16, u16, u8)> {
    if p.len() < 20 || p[0] >> 4 != 4 || p[9] != 6 {
        return None;
    }
    let ihl = usize::from(p[0] & 0x0f) * 4;
    let t = p.get(ihl..ihl + 14)?;
    Some((
        Ipv4Addr::new(p[12], p[13], p[14], p[15]),
        u16::from_be_bytes([t[0], t[1]]),
        u16::from_be_bytes([t[2], t[3]]),
        t[13],
    ))
}

fn raw_socket(protocol: i32) -> io::Result<Socket> {
    let s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(protocol)))?;
    Ok(s)
}

fn force_buffers(s: &Socket) {
    use nix::sys::socket::{setsockopt, sockopt};
    if setsockopt(s, sockopt::SndBufForce, &BUFFER).is_err() {
        let _ = s.set_send_buffer_size(BUFFER);
    }
    if setsockopt(s, sockopt::RcvBufForce, &BUFFER).is_err() {
        let _ = s.set_recv_buffer_size(BUFFER);
    }
}

/// Sends `packets` on `sock` with `sendmmsg`, blocking while the send
/// buffer is full; returns (taken, refused).
fn send_all(sock: &Socket, packets: &[[u8; 40]]) -> (u64, u64) {
    let mut addrs: Vec<libc::sockaddr_in> = Vec::with_capacity(packets.len());
    let mut iovs: Vec<libc::iovec> = Vec::with_capacity(packets.len());
    for p in packets {
        // SAFETY: sockaddr_in is plain old data; all-zero is valid.
        let mut a: libc::sockaddr_in = unsafe { mem::zeroed() };
        a.sin_family = libc::AF_INET as libc::sa_family_t;
        a.sin_addr.s_addr = u32::from_ne_bytes([p[16], p[17], p[18], p[19]]);
        addrs.push(a);
        iovs.push(libc::iovec {
            iov_base: p.as_ptr() as *mut libc::c_void,
            iov_len: p.len(),
        });
    }
    let mut msgs: Vec<libc::mmsghdr> = (0..packets.len())
        .map(|i| {
            // SAFETY: mmsghdr is plain old data; all-zero is valid.
            let mut m: libc::mmsghdr = unsafe { mem::zeroed() };
            m.msg_hdr.msg_name = (&mut addrs[i] as *mut libc::sockaddr_in).cast();
            m.msg_hdr.msg_namelen = mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            m.msg_hdr.msg_iov = &mut iovs[i];
            m.msg_hdr.msg_iovlen = 1;
            m
        })
        .collect();
    let (mut done, mut refused) = (0usize, 0u64);
    while done < msgs.len() {
        let n = msgs.len() - done;
        // SAFETY: `msgs[done..]` point into `addrs` and `iovs`, which point
        // into `packets`; all are alive and unmoved for the call. The
        // kernel reads them and writes only `msg_len`.
        let r = unsafe {
            libc::sendmmsg(
                sock.as_raw_fd(),
                msgs.as_mut_ptr().add(done),
                n as libc::c_uint,
                0,
            )
        };
        if r > 0 {
            done += r as usize;
            continue;
        }
        match io::Error::last_os_error().raw_os_error() {
            Some(libc::ENOBUFS | libc::EAGAIN | libc::EINTR | libc::ENOMEM) => {
                std::thread::sleep(Duration::from_micros(20));
            }
            _ => {
                refused += 1;
                done += 1;
            }
        }
    }
    ((done as u64).saturating_sub(refused), refused)
}

/// Receives a batch of packets into `bufs`; returns their lengths' count.
fn recv_batch(sock: &Socket, bufs: &mut [[u8; 128]], lens: &mut [usize]) -> usize {
    let mut iovs: Vec<libc::iovec> = bufs
        .iter_mut()
        .map(|b| libc::iovec {
            iov_base: b.as_mut_ptr().cast(),
            iov_len: b.len(),
        })
        .collect();
    let mut msgs: Vec<libc::mmsghdr> = iovs
        .iter_mut()
        .map(|iov| {
            // SAFETY: mmsghdr is plain old data; all-zero is valid.
            let mut m: libc::mmsghdr = unsafe { mem::zeroed() };
            m.msg_hdr.msg_iov = iov;
            m.msg_hdr.msg_iovlen = 1;
            m
        })
        .collect();
    // SAFETY: each header's single iovec points into `bufs`, alive and
    // exclusively borrowed for the call; the kernel writes at most each
    // iovec's length and the headers' `msg_len`/flags.
    let r = unsafe {
        libc::recvmmsg(
            sock.as_raw_fd(),
            msgs.as_mut_ptr(),
            msgs.len() as libc::c_uint,
            libc::MSG_WAITFORONE,
            std::ptr::null_mut(),
        )
    };
    if r <= 0 {
        return 0;
    }
    let r = r as usize;
    for (len, m) in lens.iter_mut().zip(&msgs[..r]) {
        *len = m.msg_len as usize;
    }
    r
}

/// The source address the kernel would use towards `dst`.
fn source_for(dst: Ipv4Addr) -> io::Result<Ipv4Addr> {
    let s = UdpSocket::bind("0.0.0.0:0")?;
    s.connect(SocketAddrV4::new(dst, 9))?;
    match s.local_addr()?.ip() {
        std::net::IpAddr::V4(a) => Ok(a),
        std::net::IpAddr::V6(_) => Err(io::Error::other("no IPv4 source address")),
    }
}

/// Runs `plan`: see the module documentation. Must run in the scanner's
/// namespace, as root.
pub fn run(plan: &LimitPlan) -> io::Result<LimitOutcome> {
    if !allowed(plan.net, plan.prefix) {
        return Err(io::Error::other(format!(
            "{}/{} is outside 198.18.0.0/15, the testbeds' range",
            plan.net, plan.prefix
        )));
    }
    if let Some(w) = plan.warm {
        if !allowed(*w.ip(), 32) {
            return Err(io::Error::other(format!(
                "{} is outside 198.18.0.0/15, the testbeds' range",
                w.ip()
            )));
        }
    }
    if plan.ports.is_empty() {
        return Err(io::Error::other("no ports"));
    }
    let hosts: u32 = 1u32 << (32 - u32::from(plan.prefix)).min(31);
    let base = u32::from(plan.net) & !(hosts - 1);
    let src = source_for(Ipv4Addr::from(base))?;
    let sport = 20_000 + (std::process::id() % 10_000) as u16;
    let seq = 0x5eed_0000u32;

    let mut packets = Vec::with_capacity(hosts as usize * plan.ports.len());
    for h in 0..hosts {
        let dst = Ipv4Addr::from(base + h);
        for &port in &plan.ports {
            packets.push(syn(src, dst, sport, port, seq));
        }
    }
    let mut port_pos = vec![u32::MAX; 65536];
    for (i, &p) in plan.ports.iter().enumerate() {
        port_pos[usize::from(p)] = i as u32;
    }
    let nports = plan.ports.len();

    let rx = raw_socket(libc::IPPROTO_TCP)?;
    force_buffers(&rx);
    rx.set_read_timeout(Some(Duration::from_millis(5)))?;
    let senders: Vec<Socket> = (0..plan.senders.max(1))
        .map(|_| {
            let s = raw_socket(libc::IPPROTO_RAW)?;
            force_buffers(&s);
            Ok(s)
        })
        .collect::<io::Result<_>>()?;

    if let Some(w) = plan.warm {
        warm_up(&senders[0], &rx, src, w, sport.wrapping_add(1))?;
    }

    let packets = Arc::new(packets);
    let next = Arc::new(AtomicUsize::new(0));
    let sending = Arc::new(AtomicUsize::new(senders.len()));
    let stop = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(senders.len() + 1));
    let mut threads = Vec::new();
    for s in senders {
        let (packets, next, sending, start) = (
            Arc::clone(&packets),
            Arc::clone(&next),
            Arc::clone(&sending),
            Arc::clone(&start),
        );
        threads.push(std::thread::spawn(move || {
            start.wait();
            let (mut sent, mut refused) = (0, 0);
            loop {
                let i = next.fetch_add(BATCH, Ordering::Relaxed);
                if i >= packets.len() {
                    break;
                }
                let (a, b) = send_all(&s, &packets[i..(i + BATCH).min(packets.len())]);
                sent += a;
                refused += b;
            }
            sending.fetch_sub(1, Ordering::Release);
            (sent, refused, Instant::now())
        }));
    }
    let mut seen = vec![0u64; (packets.len()).div_ceil(64)];
    let mut out = LimitOutcome::default();
    let mut bufs = vec![[0u8; 128]; 256];
    let mut lens = vec![0usize; 256];
    start.wait();
    let t0 = Instant::now();
    let mut last = t0;
    let mut sent_at: Option<Instant> = None;
    while !stop.load(Ordering::Relaxed) {
        let n = recv_batch(&rx, &mut bufs, &mut lens);
        let now = Instant::now();
        for (b, &len) in bufs.iter().zip(&lens[..n]) {
            let Some((from, from_port, to_port, flags)) = tcp_reply(&b[..len.min(128)]) else {
                continue;
            };
            let h = u32::from(from).wrapping_sub(base);
            let pos = port_pos[usize::from(from_port)];
            if to_port != sport || h >= hosts || pos == u32::MAX {
                continue;
            }
            let i = h as usize * nports + pos as usize;
            let (word, bit) = (i / 64, 1u64 << (i % 64));
            let kind = if flags & 0x12 == 0x12 {
                &mut out.synack
            } else if flags & 0x04 != 0 {
                &mut out.rst
            } else {
                continue;
            };
            if seen[word] & bit != 0 {
                continue;
            }
            seen[word] |= bit;
            *kind += 1;
            out.replies += 1;
            last = now;
        }
        if plan.expect.is_some_and(|e| out.replies >= e) {
            break;
        }
        if sending.load(Ordering::Acquire) == 0 {
            let done = *sent_at.get_or_insert(now);
            if now.saturating_duration_since(last.max(done)) >= plan.idle {
                break;
            }
        }
        if now.saturating_duration_since(t0) > Duration::from_secs(30) {
            stop.store(true, Ordering::Relaxed);
        }
    }
    let mut send_end = t0;
    for t in threads {
        let (sent, refused, end) = t
            .join()
            .map_err(|_| io::Error::other("a sending thread panicked"))?;
        out.sent += sent;
        out.failed += refused;
        send_end = send_end.max(end);
    }
    out.send_time = send_end.saturating_duration_since(t0);
    out.last_reply = last.saturating_duration_since(t0);
    Ok(out)
}

/// Sends one SYN to `to` and waits up to a second for its reply.
fn warm_up(
    tx: &Socket,
    rx: &Socket,
    src: Ipv4Addr,
    to: SocketAddrV4,
    sport: u16,
) -> io::Result<()> {
    let p = syn(src, *to.ip(), sport, to.port(), 1);
    send_all(tx, &[p]);
    let mut bufs = vec![[0u8; 128]; 16];
    let mut lens = vec![0usize; 16];
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(1) {
        let n = recv_batch(rx, &mut bufs, &mut lens);
        for (b, &len) in bufs.iter().zip(&lens[..n]) {
            if let Some((from, _, dport, _)) = tcp_reply(&b[..len.min(128)]) {
                if from == *to.ip() && dport == sport {
                    return Ok(());
                }
            }
        }
    }
    Err(io::Error::other(format!("no reply from {to} to warm up")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_testbed_range_is_allowed() {
        assert!(allowed(Ipv4Addr::new(198, 18, 0, 2), 32));
        assert!(allowed(Ipv4Addr::new(198, 19, 0, 0), 16));
        assert!(allowed(Ipv4Addr::new(198, 18, 0, 0), 15));
        assert!(!allowed(Ipv4Addr::new(198, 18, 0, 0), 14));
        assert!(!allowed(Ipv4Addr::new(198, 20, 0, 1), 32));
        assert!(!allowed(Ipv4Addr::new(10, 0, 0, 1), 32));
        assert!(!allowed(Ipv4Addr::new(198, 19, 0, 0), 33));
    }

    #[test]
    fn a_syn_carries_a_valid_tcp_checksum() {
        let (s, d) = (Ipv4Addr::new(198, 18, 0, 1), Ipv4Addr::new(198, 18, 0, 2));
        let p = syn(s, d, 40000, 80, 7);
        let mut acc = sum16(0, &s.octets());
        acc = sum16(acc, &d.octets());
        acc += 6 + 20;
        assert_eq!(fold(sum16(acc, &p[20..])), 0, "sums to all ones");
        assert_eq!(tcp_reply(&p), Some((s, 40000, 80, 0x02)));
    }

    #[test]
    fn the_outcome_line_round_trips() {
        let o = LimitOutcome {
            sent: 65535,
            replies: 65535,
            last_reply: Duration::from_millis(412),
            ..LimitOutcome::default()
        };
        assert_eq!(parse_outcome(&o.line()), Some((65535, 0.412)));
        assert_eq!(parse_outcome("nothing"), None);
    }
}

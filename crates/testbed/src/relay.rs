//! A user-space "delayed wire": the way the testbed adds latency.
//!
//! The test kernel has no `netem` qdisc, so delay is made in user space. A
//! relay namespace holds two veth ends with no addresses and forwarding off;
//! one thread per direction reads every frame arriving on one end through an
//! `AF_PACKET` raw socket and writes it, unchanged, to the other end once the
//! one-way delay has passed. ARP, neighbour discovery and IP all cross it
//! transparently, as over a long cable. An optional capacity limit delays
//! frames further by their serialisation time.
//!
//! Frames are queued FIFO (a constant delay keeps order), each thread drains
//! its socket in batches and then sleeps in `poll` until the earliest frame is
//! due or more arrive, which keeps up with well over 100 k frames/s per
//! direction.
//!
//! Kernel-generated TCP/UDP packets leave a veth with their checksum only
//! partially computed (checksum offload). Reinjected through a packet socket
//! they would be dropped as corrupt, so the relay completes such checksums;
//! a checksum that is wrong in any other way is left as it is.
//!
//! # Unsafe
//! Binding a packet socket to an interface, setting
//! `PACKET_IGNORE_OUTGOING` and raising a thread's priority have no safe
//! wrapper in `nix` or `socket2`. The three `libc` calls (`bind`,
//! `setsockopt`, `setpriority`) are in `open_packet_socket`,
//! `set_int_option` and `raise_priority`, each in a minimal `unsafe` block; everything else uses `socket2`'s safe API.

#![allow(unsafe_code)]

use std::collections::VecDeque;
use std::io::{ErrorKind, Read};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use socket2::{Domain, Protocol, Socket, Type};

use crate::error::{Result, TestbedError};
use crate::sys::in_netns;

/// Frames queued per direction before the relay starts dropping (tail drop).
const MAX_QUEUE: usize = 200_000;
/// Frames read per wake-up before the due ones are sent.
const BATCH: usize = 512;

/// Counters of one relay, both directions together.
#[derive(Debug, Default)]
pub struct RelayStats {
    /// Frames written to the far side.
    pub forwarded: AtomicU64,
    /// Frames dropped (queue full, or the far side refused them).
    pub dropped: AtomicU64,
    /// Largest lateness of a frame past its due time, in microseconds: a
    /// relay that keeps up stays well under a millisecond.
    pub max_late_us: AtomicU64,
    /// Frames sent more than a millisecond after their due time.
    pub late_frames: AtomicU64,
}

/// A running delayed wire between two interfaces of one namespace.
#[derive(Debug)]
pub struct Relay {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    stats: Arc<RelayStats>,
}

/// How a relay delays frames.
#[derive(Debug, Clone, Copy)]
pub struct WireConfig {
    /// One-way delay added to every frame.
    pub delay: Duration,
    /// Capacity in bits per second; `None` for unlimited.
    pub rate_bps: Option<u64>,
}

fn open_packet_socket(ifname: &str) -> std::io::Result<Socket> {
    let proto = (libc::ETH_P_ALL as u16).to_be();
    let sock = Socket::new(
        Domain::PACKET,
        Type::RAW,
        Some(Protocol::from(i32::from(proto))),
    )?;
    let ifindex = nix::net::if_::if_nametoindex(ifname)?;
    let addr = libc::sockaddr_ll {
        sll_family: libc::AF_PACKET as u16,
        sll_protocol: proto,
        sll_ifindex: ifindex as i32,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: 0,
        sll_addr: [0; 8],
    };
    // SAFETY: `addr` is a fully initialised sockaddr_ll that outlives the
    // call, and the length passed is its exact size.
    let rc = unsafe {
        libc::bind(
            sock.as_raw_fd(),
            std::ptr::addr_of!(addr).cast::<libc::sockaddr>(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    set_int_option(&sock, libc::SOL_PACKET, libc::PACKET_IGNORE_OUTGOING, 1)?;
    // Large buffers absorb scheduling hiccups on a busy machine; the
    // FORCE variants (root) ignore net.core.[rw]mem_max.
    let _ = set_int_option(&sock, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, 16 << 20);
    let _ = set_int_option(&sock, libc::SOL_SOCKET, libc::SO_SNDBUFFORCE, 8 << 20);
    sock.set_nonblocking(true)?;
    Ok(sock)
}

fn set_int_option(sock: &Socket, level: i32, name: i32, value: i32) -> std::io::Result<()> {
    let value: libc::c_int = value;
    // SAFETY: the option value is a c_int living on the stack for the call,
    // and the length passed is its size.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            level,
            name,
            std::ptr::addr_of!(value).cast::<libc::c_void>(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

impl Relay {
    /// Starts relaying between interfaces `a` and `b` of namespace `ns`.
    pub fn start(ns: &str, a: &str, b: &str, cfg: WireConfig) -> Result<Relay> {
        let open = |ifname: &str| {
            open_packet_socket(ifname)
                .map_err(|e| TestbedError::io(format!("packet socket on {ifname} in {ns}"), e))
        };
        // Two sockets per interface: one reads, the other side's thread writes.
        let (a_rx, a_tx, b_rx, b_tx) = in_netns(ns, || -> Result<_> {
            Ok((open(a)?, open(a)?, open(b)?, open(b)?))
        })??;
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(RelayStats::default());
        let mut threads = Vec::new();
        for (name, rx, tx) in [("ab", a_rx, b_tx), ("ba", b_rx, a_tx)] {
            let (stop, stats) = (stop.clone(), stats.clone());
            let t = std::thread::Builder::new()
                .name(format!("tb-relay-{name}"))
                .spawn(move || pump(&rx, &tx, cfg, &stop, &stats))
                .map_err(|e| TestbedError::io("spawning relay thread", e))?;
            threads.push(t);
        }
        Ok(Relay {
            stop,
            threads,
            stats,
        })
    }

    /// Frames forwarded and dropped so far.
    pub fn stats(&self) -> (u64, u64) {
        (
            self.stats.forwarded.load(Ordering::Relaxed),
            self.stats.dropped.load(Ordering::Relaxed),
        )
    }

    /// Largest lateness of a frame past its due time so far, and how many
    /// frames were more than 1 ms late.
    pub fn lateness(&self) -> (Duration, u64) {
        (
            Duration::from_micros(self.stats.max_late_us.load(Ordering::Relaxed)),
            self.stats.late_frames.load(Ordering::Relaxed),
        )
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Raises the calling thread's scheduling priority (nice -10) so that the
/// "wire" is not starved by the scanner it measures on a busy machine.
/// Failure (not root) only costs accuracy.
fn raise_priority() {
    let tid = nix::unistd::gettid().as_raw();
    // SAFETY: plain syscall with integer arguments; on Linux PRIO_PROCESS
    // with a thread id changes only that thread.
    let _ = unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, -10) };
}

fn pump(rx: &Socket, tx: &Socket, cfg: WireConfig, stop: &AtomicBool, stats: &RelayStats) {
    raise_priority();
    let mut queue: VecDeque<(Instant, Vec<u8>)> = VecDeque::new();
    let mut pool: Vec<Vec<u8>> = Vec::new();
    let mut buf = vec![0u8; 65536];
    let mut next_free = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        let mut late = Duration::ZERO;
        while queue.front().is_some_and(|(due, _)| *due <= now) {
            if let Some((due, frame)) = queue.pop_front() {
                late = late.max(now - due);
                if now - due > Duration::from_millis(1) {
                    stats.late_frames.fetch_add(1, Ordering::Relaxed);
                }
                match tx.send(&frame) {
                    Ok(_) => stats.forwarded.fetch_add(1, Ordering::Relaxed),
                    Err(_) => stats.dropped.fetch_add(1, Ordering::Relaxed),
                };
                pool.push(frame);
            }
        }
        stats
            .max_late_us
            .fetch_max(late.as_micros() as u64, Ordering::Relaxed);
        let wait = queue
            .front()
            .map_or(Duration::from_millis(50), |(due, _)| {
                due.saturating_duration_since(now)
            })
            .min(Duration::from_millis(50));
        // Round up so that no frame leaves before it is due.
        let ms = wait.as_micros().div_ceil(1000) as u16;
        let readable = {
            let mut fds = [PollFd::new(std::os::fd::AsFd::as_fd(rx), PollFlags::POLLIN)];
            poll(&mut fds, PollTimeout::from(ms)).unwrap_or(0) > 0
        };
        if !readable {
            continue;
        }
        let arrived = Instant::now();
        for _ in 0..BATCH {
            let n = match (&mut &*rx).read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            if queue.len() >= MAX_QUEUE {
                stats.dropped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let mut frame = pool.pop().unwrap_or_default();
            frame.clear();
            frame.extend_from_slice(&buf[..n]);
            complete_partial_checksum(&mut frame);
            let mut due = arrived + cfg.delay;
            if let Some(rate) = cfg.rate_bps.filter(|r| *r > 0) {
                let tx_time =
                    Duration::from_nanos((n as u64 * 8).saturating_mul(1_000_000_000) / rate);
                let start = next_free.max(arrived);
                next_free = start + tx_time;
                due = due.max(next_free + cfg.delay);
            }
            queue.push_back((due, frame));
        }
    }
}

fn sum16(data: &[u8], mut acc: u32) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u32::from(*last) << 8;
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// Completes a TCP/UDP checksum left partial by checksum offload.
///
/// Offload leaves the folded pseudo-header sum in the checksum field; only a
/// field holding exactly that value (and not verifying) is rewritten.
pub fn complete_partial_checksum(frame: &mut [u8]) {
    if frame.len() < 14 {
        return;
    }
    let ethertype = u16::from_be_bytes([frame[12], frame[13]]);
    let ip = 14;
    let (proto, l4, l4_len, pseudo) = match ethertype {
        0x0800 => {
            let Some(h) = frame.get(ip..ip + 20) else {
                return;
            };
            let ihl = usize::from(h[0] & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
            let frag = u16::from_be_bytes([h[6], h[7]]) & 0x3fff;
            if h[0] >> 4 != 4 || ihl < 20 || total < ihl || frag != 0 {
                return;
            }
            let proto = h[9];
            let l4_len = total - ihl;
            let mut acc = sum16(&h[12..20], 0);
            acc += u32::from(proto) + l4_len as u32;
            (proto, ip + ihl, l4_len, acc)
        }
        0x86dd => {
            let Some(h) = frame.get(ip..ip + 40) else {
                return;
            };
            let l4_len = usize::from(u16::from_be_bytes([h[4], h[5]]));
            let proto = h[6];
            let mut acc = sum16(&h[8..40], 0);
            acc += u32::from(proto) + l4_len as u32;
            (proto, ip + 40, l4_len, acc)
        }
        _ => return,
    };
    let off = match proto {
        6 => 16,
        17 => 6,
        _ => return,
    };
    let Some(seg) = frame.get_mut(l4..l4 + l4_len) else {
        return;
    };
    if seg.len() < off + 2 {
        return;
    }
    let field = u16::from_be_bytes([seg[off], seg[off + 1]]);
    if fold(sum16(seg, pseudo)) == 0xffff {
        return; // already valid
    }
    let partial = fold(pseudo);
    if field != partial && !(field == 0 && partial == 0xffff) {
        return; // wrong for another reason: leave it alone
    }
    seg[off] = 0;
    seg[off + 1] = 0;
    let mut c = !fold(sum16(seg, pseudo));
    if proto == 17 && c == 0 {
        c = 0xffff;
    }
    seg[off..off + 2].copy_from_slice(&c.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4_tcp_frame() -> Vec<u8> {
        let mut f = vec![0u8; 14 + 20 + 20];
        f[12] = 0x08;
        f[14] = 0x45;
        f[16..18].copy_from_slice(&40u16.to_be_bytes());
        f[14 + 9] = 6;
        f[26..30].copy_from_slice(&[198, 18, 1, 1]);
        f[30..34].copy_from_slice(&[198, 18, 1, 2]);
        f[34..36].copy_from_slice(&1234u16.to_be_bytes());
        f[36..38].copy_from_slice(&80u16.to_be_bytes());
        f[46] = 0x50;
        f[47] = 0x02;
        f
    }

    fn verifies(f: &[u8]) -> bool {
        let mut acc = sum16(&f[26..34], 0) + 6 + 20;
        acc = sum16(&f[34..54], acc);
        fold(acc) == 0xffff
    }

    #[test]
    fn completes_a_partial_tcp_checksum() {
        let mut f = ipv4_tcp_frame();
        let pseudo = fold(sum16(&f[26..34], 0) + 6 + 20);
        f[50..52].copy_from_slice(&pseudo.to_be_bytes());
        complete_partial_checksum(&mut f);
        assert!(verifies(&f));
    }

    #[test]
    fn leaves_a_deliberately_bad_checksum_alone() {
        let mut f = ipv4_tcp_frame();
        f[50..52].copy_from_slice(&0x1234u16.to_be_bytes());
        complete_partial_checksum(&mut f);
        assert_eq!(&f[50..52], &0x1234u16.to_be_bytes());
    }

    #[test]
    fn ignores_truncated_frames() {
        let f = ipv4_tcp_frame();
        for n in 0..f.len() {
            let mut t = f[..n].to_vec();
            complete_partial_checksum(&mut t);
        }
    }
}

//! Whole Ethernet frames on one interface, for ARP and Neighbor Discovery.
//!
//! IP probes leave through raw IP sockets and let the kernel find the next
//! hop's MAC; neighbour discovery *is* finding that MAC, so its probes
//! must be built down to the Ethernet header and sent on the link itself:
//! an ARP request is not an IP packet, and a Neighbor Solicitation must
//! go to the target's solicited-node multicast MAC. [`FrameIo`] is an
//! `AF_PACKET`/`SOCK_RAW` socket bound to one interface: frames go out
//! exactly as built, and frames come in with their Ethernet header.
//!
//! A classic BPF filter in the kernel keeps only what can answer a sweep
//! ([`FrameFilter`]): ARP replies whose target protocol address is ours,
//! and IPv6 Neighbor Advertisements addressed to our IPv6 address, both
//! incoming. A sweep of a /24 gets a few hundred replies, so a plain
//! non-blocking `recv` loop after `poll` is plenty; the ring of
//! [`crate::RawIo`] would be overkill here.
//!
//! The filter, in `tcpdump -d` style (`#OUT` = `PACKET_OUTGOING`):
//!
//! ```text
//!       ld  #pkttype ; jeq #OUT drop
//!       ldh [12]                       ; EtherType
//!       jeq #0x0806 arp  v6
//! arp:  ldh [20] ; jeq #2 else drop    ; ARP reply
//!       ld  [38] ; jeq #our_v4 accept drop
//! v6:   jeq #0x86dd else drop
//!       ldb [20] ; jeq #58 else drop   ; next header ICMPv6
//!       ldb [54] ; jeq #136 else drop  ; Neighbor Advertisement
//!       ld [38] ; jeq w0 ; ld [42] ; jeq w1 ; ld [46] ; jeq w2 ; ld [50] ; jeq w3 accept drop
//! accept: ret #snaplen
//! drop:   ret #0
//! ```
//!
//! A family with no address in the filter drops at its first test.

use std::io;
use std::mem;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::bpf::{SockFilter, PACKET_OUTGOING};
use crate::error::NetError;

// From linux/if_packet.h.
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
/// Bytes of each received frame kept.
const SNAPLEN: u32 = 1536;
/// Most frames handed out by one `recv` call.
const MAX_PER_RECV: usize = 4096;

// Classic BPF opcodes (linux/filter.h).
const LD_W_ABS: u16 = 0x20;
const LD_H_ABS: u16 = 0x28;
const LD_B_ABS: u16 = 0x30;
const JEQ_K: u16 = 0x15;
const RET_K: u16 = 0x06;
/// `SKF_AD_OFF + SKF_AD_PKTTYPE`.
const AD_PKTTYPE: u32 = 0xffff_f000 + 4;

/// What replies a [`FrameIo`] lets through.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameFilter {
    /// Accept ARP replies whose target protocol address is this.
    pub arp_for: Option<Ipv4Addr>,
    /// Accept Neighbor Advertisements whose IPv6 destination is this.
    pub nd_for: Option<Ipv6Addr>,
}

/// Instruction with symbolic jump targets, resolved by [`assemble`].
#[derive(Clone, Copy)]
enum Ins {
    Stmt(u16, u32),
    /// Jump if equal to `k`: to label `t`, else to label `f`
    /// (`None` = the next instruction).
    Jeq(u32, Option<Lbl>, Option<Lbl>),
    Mark(Lbl),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Lbl {
    Arp,
    V6,
    Accept,
    Drop,
}

/// The BPF program of `f`, as described in the module docs.
pub(crate) fn frame_filter(f: &FrameFilter) -> Result<Vec<SockFilter>, NetError> {
    use Ins::*;
    use Lbl::*;
    if f.arp_for.is_none() && f.nd_for.is_none() {
        return Err(NetError::Config(
            "frame filter needs an IPv4 or IPv6 address to accept replies for".into(),
        ));
    }
    let mut p = vec![
        Stmt(LD_W_ABS, AD_PKTTYPE),
        Jeq(PACKET_OUTGOING, Some(Drop), None),
        Stmt(LD_H_ABS, 12),
        Jeq(0x0806, Some(Arp), Some(V6)),
        Mark(Arp),
    ];
    match f.arp_for {
        Some(a) => p.extend([
            Stmt(LD_H_ABS, 20),
            Jeq(2, None, Some(Drop)),
            Stmt(LD_W_ABS, 38),
            Jeq(u32::from(a), Some(Accept), Some(Drop)),
        ]),
        None => p.push(Jeq(0, Some(Drop), Some(Drop))),
    }
    p.push(Mark(V6));
    match f.nd_for {
        Some(a) => {
            p.extend([
                Jeq(0x86dd, None, Some(Drop)),
                Stmt(LD_B_ABS, 20),
                Jeq(58, None, Some(Drop)),
                Stmt(LD_B_ABS, 54),
                Jeq(136, None, Some(Drop)),
            ]);
            let o = a.octets();
            for w in 0..4 {
                let word = u32::from_be_bytes([o[4 * w], o[4 * w + 1], o[4 * w + 2], o[4 * w + 3]]);
                p.push(Stmt(LD_W_ABS, 38 + 4 * w as u32));
                let hit = if w == 3 { Some(Accept) } else { None };
                p.push(Jeq(word, hit, Some(Drop)));
            }
        }
        None => p.push(Jeq(0, Some(Drop), Some(Drop))),
    }
    p.extend([
        Mark(Accept),
        Stmt(RET_K, SNAPLEN),
        Mark(Drop),
        Stmt(RET_K, 0),
    ]);
    assemble(&p)
}

fn assemble(p: &[Ins]) -> Result<Vec<SockFilter>, NetError> {
    let mut marks = Vec::new();
    let mut n = 0usize;
    for i in p {
        match i {
            Ins::Mark(l) => marks.push((*l, n)),
            _ => n += 1,
        }
    }
    let off = |l: Option<Lbl>, pc: usize| -> Result<u8, NetError> {
        let Some(l) = l else { return Ok(0) };
        let to = marks
            .iter()
            .find(|(m, _)| *m == l)
            .map(|(_, i)| *i)
            .ok_or_else(|| NetError::Config(format!("BPF label {l:?} missing")))?;
        to.checked_sub(pc + 1)
            .and_then(|d| u8::try_from(d).ok())
            .ok_or_else(|| NetError::Config(format!("BPF jump to {l:?} out of range")))
    };
    let mut out = Vec::with_capacity(n);
    for i in p {
        let pc = out.len();
        out.push(match *i {
            Ins::Mark(_) => continue,
            Ins::Stmt(code, k) => SockFilter {
                code,
                jt: 0,
                jf: 0,
                k,
            },
            Ins::Jeq(k, t, f) => SockFilter {
                code: JEQ_K,
                jt: off(t, pc)?,
                jf: off(f, pc)?,
                k,
            },
        });
    }
    Ok(out)
}

/// A packet socket sending and receiving whole Ethernet frames on one
/// interface: see the module docs.
#[derive(Debug)]
pub struct FrameIo {
    fd: OwnedFd,
    interface: String,
    mac: [u8; 6],
    buf: Vec<u8>,
}

fn setsockopt<T>(fd: &OwnedFd, level: libc::c_int, name: libc::c_int, val: &T) -> io::Result<()> {
    // SAFETY: `val` is a live, initialised value whose exact size is passed;
    // the kernel copies it in.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (val as *const T).cast(),
            mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

impl FrameIo {
    /// Opens a frame socket on Ethernet interface `interface` that receives
    /// the replies `filter` describes. Needs `CAP_NET_RAW`; fails with
    /// [`NetError::Config`] on a non-Ethernet interface (loopback, tunnels).
    pub fn open(interface: &str, filter: &FrameFilter) -> Result<FrameIo, NetError> {
        let prog = frame_filter(filter)?;
        let ifindex =
            nix::net::if_::if_nametoindex(interface).map_err(|_| NetError::UnknownInterface {
                name: interface.to_owned(),
            })?;
        let mac = match link_address(interface)? {
            (libc::ARPHRD_ETHER, mac) => mac,
            (t, _) => {
                return Err(NetError::Config(format!(
                    "interface {interface} is not Ethernet (link type {t}): no ARP or ND there"
                )))
            }
        };
        // Protocol 0: nothing is received before the filter is attached
        // and the socket bound.
        // SAFETY: socket(2) takes no pointers.
        let raw = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                0,
            )
        };
        if raw < 0 {
            return Err(NetError::last_os("opening the AF_PACKET frame socket"));
        }
        // SAFETY: `raw` is a fresh descriptor nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let fprog = libc::sock_fprog {
            len: prog.len() as libc::c_ushort,
            // SockFilter is #[repr(C)] with the layout of sock_filter; the
            // kernel copies the program during the call.
            filter: prog.as_ptr() as *mut libc::sock_filter,
        };
        setsockopt(&fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &fprog)
            .map_err(|e| NetError::os("attaching the frame filter", e))?;
        let one: libc::c_int = 1;
        // Best effort: the filter drops outgoing frames anyway.
        let _ = setsockopt(&fd, libc::SOL_PACKET, PACKET_IGNORE_OUTGOING, &one);
        // SAFETY: sockaddr_ll is plain old data; all-zero is valid.
        let mut sll: libc::sockaddr_ll = unsafe { mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
        sll.sll_ifindex = ifindex as i32;
        // SAFETY: `sll` is a valid sockaddr_ll and its size is passed.
        let r = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&sll as *const libc::sockaddr_ll).cast(),
                mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(NetError::last_os(
                "binding the frame socket to the interface",
            ));
        }
        Ok(FrameIo {
            fd,
            interface: interface.to_owned(),
            mac,
            buf: vec![0u8; SNAPLEN as usize],
        })
    }

    /// The interface's own MAC address (the source of our frames).
    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    /// The interface the socket is bound to.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// Sends whole Ethernet frames, in order. Returns how many went out;
    /// a short count means the device queue is full and the rest should
    /// be offered again later. A frame the kernel refuses (e.g. too long)
    /// is an error.
    pub fn send(&mut self, frames: &[&[u8]]) -> io::Result<usize> {
        for (i, f) in frames.iter().enumerate() {
            // SAFETY: the pointer and length describe `f`, alive across the
            // call; the socket is bound, so no address is needed.
            let r = unsafe {
                libc::send(
                    self.fd.as_raw_fd(),
                    f.as_ptr().cast(),
                    f.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if r < 0 {
                let e = io::Error::last_os_error();
                return match e.raw_os_error() {
                    Some(libc::EAGAIN) | Some(libc::ENOBUFS) => Ok(i),
                    _ => Err(e),
                };
            }
        }
        Ok(frames.len())
    }

    /// Waits at most `timeout` for the first frame, then hands every frame
    /// already waiting (whole, Ethernet header first) to `on_frame`.
    /// Returns how many were delivered. Frames are whatever passed the
    /// filter: callers still validate them.
    pub fn recv(
        &mut self,
        timeout: Duration,
        on_frame: &mut dyn FnMut(&[u8]),
    ) -> io::Result<usize> {
        let deadline = Instant::now().checked_add(timeout);
        let mut n = 0;
        loop {
            n += self.drain(on_frame)?;
            if n > 0 {
                return Ok(n);
            }
            let left = deadline.map_or(timeout, |d| d.saturating_duration_since(Instant::now()));
            if left.is_zero() || !self.wait(left)? {
                return Ok(n);
            }
        }
    }

    fn drain(&mut self, on_frame: &mut dyn FnMut(&[u8])) -> io::Result<usize> {
        let mut n = 0;
        while n < MAX_PER_RECV {
            // SAFETY: sockaddr_ll is plain old data; all-zero is valid.
            let mut sll: libc::sockaddr_ll = unsafe { mem::zeroed() };
            let mut sl = mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            // SAFETY: `buf` is a live buffer of the length passed, and the
            // kernel writes at most `sl` bytes of address into `sll`.
            let r = unsafe {
                libc::recvfrom(
                    self.fd.as_raw_fd(),
                    self.buf.as_mut_ptr().cast(),
                    self.buf.len(),
                    libc::MSG_DONTWAIT,
                    (&mut sll as *mut libc::sockaddr_ll).cast(),
                    &mut sl,
                )
            };
            if r < 0 {
                let e = io::Error::last_os_error();
                return match e.raw_os_error() {
                    Some(libc::EAGAIN) | Some(libc::EINTR) => Ok(n),
                    _ => Err(e),
                };
            }
            if u32::from(sll.sll_pkttype) == PACKET_OUTGOING {
                continue;
            }
            let len = (r as usize).min(self.buf.len());
            on_frame(&self.buf[..len]);
            n += 1;
        }
        Ok(n)
    }

    fn wait(&self, timeout: Duration) -> io::Result<bool> {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ts = libc::timespec {
            tv_sec: timeout.as_secs().min(i32::MAX as u64) as libc::time_t,
            tv_nsec: timeout.subsec_nanos() as libc::c_long,
        };
        // SAFETY: `pfd` and `ts` are live for the call; one pollfd is passed.
        let r = unsafe { libc::ppoll(&mut pfd, 1, &ts, std::ptr::null()) };
        if r < 0 {
            let e = io::Error::last_os_error();
            return if e.raw_os_error() == Some(libc::EINTR) {
                Ok(false)
            } else {
                Err(e)
            };
        }
        Ok(r > 0)
    }
}

/// The link type (`ARPHRD_*`) and hardware address of an interface, via
/// `SIOCGIFHWADDR` (in the caller's network namespace, unlike
/// `/sys/class/net`, which shows the namespace `/sys` was mounted in).
fn link_address(name: &str) -> Result<(u16, [u8; 6]), NetError> {
    let unknown = || NetError::UnknownInterface {
        name: name.to_owned(),
    };
    if name.is_empty() || name.len() >= libc::IFNAMSIZ || name.contains('\0') {
        return Err(unknown());
    }
    // SAFETY: socket(2) takes no pointers.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(NetError::last_os("opening a socket for SIOCGIFHWADDR"));
    }
    // SAFETY: `raw` is a fresh descriptor nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: ifreq is plain old data; all-zero is valid.
    let mut ifr: libc::ifreq = unsafe { mem::zeroed() };
    for (d, s) in ifr.ifr_name.iter_mut().zip(name.bytes()) {
        *d = s as libc::c_char;
    }
    // SAFETY: `ifr` is a live ifreq with a NUL-terminated name (checked
    // length < IFNAMSIZ, rest zero); the kernel writes within it.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCGIFHWADDR as _, &mut ifr) };
    if r < 0 {
        let e = io::Error::last_os_error();
        return Err(match e.raw_os_error() {
            Some(libc::ENODEV) => unknown(),
            _ => NetError::os("SIOCGIFHWADDR", e),
        });
    }
    // SAFETY: after SIOCGIFHWADDR the union holds `ifru_hwaddr`.
    let sa = unsafe { ifr.ifr_ifru.ifru_hwaddr };
    let mut mac = [0u8; 6];
    for (m, b) in mac.iter_mut().zip(sa.sa_data.iter()) {
        *m = *b as u8;
    }
    Ok((sa.sa_family, mac))
}

/// The hardware (MAC) address of interface `name` in this thread's
/// network namespace. Interfaces without one (loopback, tunnels) report
/// all zeros: check [`is_ethernet`] first.
pub fn interface_mac(name: &str) -> Result<[u8; 6], NetError> {
    link_address(name).map(|(_, mac)| mac)
}

/// Whether `name` is an Ethernet-like interface (`ARPHRD_ETHER`: Ethernet,
/// veth, bridges, Wi-Fi), where ARP and ND discovery apply. Loopback,
/// tunnels and point-to-point links are not.
pub fn is_ethernet(name: &str) -> Result<bool, NetError> {
    link_address(name).map(|(t, _)| t == libc::ARPHRD_ETHER)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BPF_JMP_JA: u16 = 0x05;

    /// A classic BPF interpreter for the opcodes used, so the filter is
    /// tested without root.
    fn run(prog: &[SockFilter], pkt: &[u8], pkttype: u32) -> u32 {
        let (mut a, mut pc) = (0u32, 0usize);
        loop {
            let i = prog[pc];
            pc += 1;
            let load = |k: u32, n: usize| -> Option<u32> {
                let s = pkt.get(k as usize..k as usize + n)?;
                Some(s.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b)))
            };
            match i.code {
                LD_W_ABS if i.k == AD_PKTTYPE => a = pkttype,
                LD_W_ABS => match load(i.k, 4) {
                    Some(v) => a = v,
                    None => return 0,
                },
                LD_H_ABS => match load(i.k, 2) {
                    Some(v) => a = v,
                    None => return 0,
                },
                LD_B_ABS => match load(i.k, 1) {
                    Some(v) => a = v,
                    None => return 0,
                },
                JEQ_K => pc += usize::from(if a == i.k { i.jt } else { i.jf }),
                BPF_JMP_JA => pc += i.k as usize,
                RET_K => return i.k,
                c => panic!("unexpected opcode {c:#x}"),
            }
        }
    }

    fn arp(op: u8, tpa: [u8; 4]) -> Vec<u8> {
        let mut f = vec![0u8; 42];
        f[12..14].copy_from_slice(&[0x08, 0x06]);
        f[21] = op;
        f[38..42].copy_from_slice(&tpa);
        f
    }

    fn na(dst: Ipv6Addr, icmp_type: u8) -> Vec<u8> {
        let mut f = vec![0u8; 86];
        f[12..14].copy_from_slice(&[0x86, 0xdd]);
        f[20] = 58;
        f[38..54].copy_from_slice(&dst.octets());
        f[54] = icmp_type;
        f
    }

    #[test]
    fn filter_keeps_replies_to_us_only() {
        let v4 = Ipv4Addr::new(198, 18, 0, 1);
        let v6: Ipv6Addr = "2001:2::1".parse().unwrap();
        let prog = frame_filter(&FrameFilter {
            arp_for: Some(v4),
            nd_for: Some(v6),
        })
        .unwrap();
        assert_eq!(run(&prog, &arp(2, v4.octets()), 0), SNAPLEN);
        assert_eq!(run(&prog, &arp(1, v4.octets()), 0), 0, "request");
        assert_eq!(run(&prog, &arp(2, [198, 18, 0, 9]), 0), 0, "not for us");
        assert_eq!(run(&prog, &arp(2, v4.octets()), PACKET_OUTGOING), 0);
        assert_eq!(run(&prog, &arp(2, v4.octets())[..40], 0), 0, "truncated");
        assert_eq!(run(&prog, &na(v6, 136), 0), SNAPLEN);
        assert_eq!(run(&prog, &na(v6, 135), 0), 0, "solicitation");
        let other: Ipv6Addr = "2001:2::2".parse().unwrap();
        assert_eq!(run(&prog, &na(other, 136), 0), 0);
        let mut ip4 = arp(2, v4.octets());
        ip4[12..14].copy_from_slice(&[0x08, 0x00]);
        assert_eq!(run(&prog, &ip4, 0), 0, "IPv4");
    }

    #[test]
    fn one_family_filters_drop_the_other() {
        let v4 = Ipv4Addr::new(198, 18, 0, 1);
        let v6: Ipv6Addr = "2001:2::1".parse().unwrap();
        let p4 = frame_filter(&FrameFilter {
            arp_for: Some(v4),
            nd_for: None,
        })
        .unwrap();
        assert_eq!(run(&p4, &arp(2, v4.octets()), 0), SNAPLEN);
        assert_eq!(run(&p4, &na(v6, 136), 0), 0);
        let p6 = frame_filter(&FrameFilter {
            arp_for: None,
            nd_for: Some(v6),
        })
        .unwrap();
        assert_eq!(run(&p6, &arp(2, v4.octets()), 0), 0);
        assert_eq!(run(&p6, &na(v6, 136), 0), SNAPLEN);
        assert!(frame_filter(&FrameFilter::default()).is_err());
    }

    #[test]
    fn loopback_is_not_ethernet_and_bad_names_are_errors() {
        assert_eq!(is_ethernet("lo").ok(), Some(false));
        assert!(matches!(
            interface_mac("no-such-if0"),
            Err(NetError::UnknownInterface { .. })
        ));
        assert!(interface_mac("").is_err());
        assert!(interface_mac("a-name-far-too-long-for-linux").is_err());
    }
}

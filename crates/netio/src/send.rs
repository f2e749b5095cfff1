//! Sending: header-included raw IP sockets, batched with `sendmmsg`.
//!
//! Probes arrive fully built (IP header included), so the kernel only routes
//! them and resolves the next hop's link address (ARP / neighbour
//! discovery); that is why raw IP sockets beat `AF_PACKET` for sending: a
//! packet socket would need us to know every neighbour's MAC address.
//!
//! * IPv4: `socket(AF_INET, SOCK_RAW, IPPROTO_RAW)`, which implies
//!   `IP_HDRINCL`. The kernel fills in the header checksum, total length
//!   and, when zero, the IP ID.
//! * IPv6: `socket(AF_INET6, SOCK_RAW, IPPROTO_RAW)`. Linux sets
//!   header-inclusion for `IPPROTO_RAW` on IPv6 too (and accepts
//!   `IPV6_HDRINCL` since 4.5, which we also set, ignoring failure). The
//!   kernel sends the header exactly as given.
//!
//! Sockets are used with `MSG_DONTWAIT` and `IP_RECVERR`/`IPV6_RECVERR`, so
//! a full socket buffer (`EAGAIN`) or a full device queue (`ENOBUFS`, which
//! Linux silently swallows without `*_RECVERR`) ends a batch early instead
//! of blocking or losing probes: `send` then returns a short count and the
//! engine offers the rest again. Errors that concern one packet only (no
//! route to its target, a firewall rule, a bad length) drop that packet,
//! counted in [`SendStats`], the way a lost probe would be.

use std::io;
use std::mem;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::error::NetError;

/// Most packets per `sendmmsg` call.
const BATCH: usize = 256;
/// Requested send buffer size.
const SNDBUF: libc::c_int = 8 << 20;
/// `IPV6_HDRINCL` from linux/in6.h (not in every libc version).
const IPV6_HDRINCL: libc::c_int = 36;

/// Counters of the send path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SendStats {
    /// Packets handed to the kernel.
    pub sent: u64,
    /// Packets the kernel refused for reasons of their own (e.g. no route
    /// to the target); they are dropped like lost probes.
    pub dropped: u64,
    /// Batches cut short by a full buffer or queue.
    pub short_batches: u64,
    /// The errno of the most recent dropped packet, if any.
    pub last_drop_errno: Option<i32>,
}

/// The raw sockets probes are sent through.
pub(crate) struct RawSender {
    v4: Option<OwnedFd>,
    v6: Option<OwnedFd>,
    /// Scope for link-local IPv6 destinations (the interface index).
    scope_id: u32,
    stats: SendStats,
    // Scratch space reused by every batch.
    addrs: Vec<libc::sockaddr_storage>,
    iovs: Vec<libc::iovec>,
    msgs: Vec<libc::mmsghdr>,
}

// SAFETY: the scratch vectors hold raw pointers only during a `send` call,
// which takes `&mut self`; between calls they are dead data. The sockets are
// plain descriptors, usable from any thread.
unsafe impl Send for RawSender {}

fn set_opt(
    fd: &OwnedFd,
    level: libc::c_int,
    name: libc::c_int,
    val: libc::c_int,
) -> io::Result<()> {
    // SAFETY: `val` lives across the call and its exact size is passed.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&val as *const libc::c_int).cast(),
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Sets a socket buffer size, forcing it past the sysctl limit when allowed
/// (`CAP_NET_ADMIN`), else asking for as much as the limit allows.
pub(crate) fn set_buffer(fd: &OwnedFd, force: libc::c_int, plain: libc::c_int, bytes: libc::c_int) {
    if set_opt(fd, libc::SOL_SOCKET, force, bytes).is_err() {
        let _ = set_opt(fd, libc::SOL_SOCKET, plain, bytes);
    }
}

fn bind_device(fd: &OwnedFd, iface: &str) -> Result<(), NetError> {
    // SAFETY: the pointer and length describe `iface`'s bytes, alive across
    // the call; the kernel copies at most that many.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            iface.as_ptr().cast(),
            iface.len() as libc::socklen_t,
        )
    };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::ENODEV) {
            return Err(NetError::UnknownInterface {
                name: iface.to_owned(),
            });
        }
        return Err(NetError::os("SO_BINDTODEVICE on the send socket", e));
    }
    Ok(())
}

fn open_raw(domain: libc::c_int, op: &'static str) -> Result<OwnedFd, NetError> {
    // SAFETY: socket(2) takes no pointers.
    let fd = unsafe {
        libc::socket(
            domain,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::IPPROTO_RAW,
        )
    };
    if fd < 0 {
        return Err(NetError::last_os(op));
    }
    // SAFETY: `fd` is a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Where a packet goes, read from its IP header.
enum Dest {
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

fn destination(p: &[u8]) -> Option<Dest> {
    match p.first()? >> 4 {
        4 if p.len() >= 20 => Some(Dest::V4(Ipv4Addr::new(p[16], p[17], p[18], p[19]))),
        6 if p.len() >= 40 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(&p[24..40]);
            Some(Dest::V6(Ipv6Addr::from(a)))
        }
        _ => None,
    }
}

/// Checks that `p` is an IP packet of a version with a send socket; the
/// error says what is wrong. [`RawSender::send`] reports the same problems.
pub(crate) fn check_packet(p: &[u8], have_v4: bool, have_v6: bool) -> Result<(), &'static str> {
    match destination(p) {
        None => Err("not an IPv4 or IPv6 packet"),
        Some(Dest::V4(_)) if !have_v4 => Err("IPv4 packet but no IPv4 source was configured"),
        Some(Dest::V6(_)) if !have_v6 => Err("IPv6 packet but no IPv6 source was configured"),
        Some(_) => Ok(()),
    }
}

impl RawSender {
    /// Whether it has an IPv4 and an IPv6 socket.
    pub(crate) fn families(&self) -> (bool, bool) {
        (self.v4.is_some(), self.v6.is_some())
    }

    /// Opens a socket for each IP version that has a source address.
    pub(crate) fn open(
        v4: bool,
        v6: bool,
        bind_to: Option<&str>,
        scope_id: u32,
    ) -> Result<Self, NetError> {
        let mut s = RawSender {
            v4: None,
            v6: None,
            scope_id,
            stats: SendStats::default(),
            addrs: Vec::with_capacity(BATCH),
            iovs: Vec::with_capacity(BATCH),
            msgs: Vec::with_capacity(BATCH),
        };
        if v4 {
            let fd = open_raw(libc::AF_INET, "opening the IPv4 raw send socket")?;
            let _ = set_opt(&fd, libc::IPPROTO_IP, libc::IP_RECVERR, 1);
            s.v4 = Some(fd);
        }
        if v6 {
            let fd = open_raw(libc::AF_INET6, "opening the IPv6 raw send socket")?;
            // Already implied by IPPROTO_RAW; explicit where supported.
            let _ = set_opt(&fd, libc::IPPROTO_IPV6, IPV6_HDRINCL, 1);
            let _ = set_opt(&fd, libc::IPPROTO_IPV6, libc::IPV6_RECVERR, 1);
            s.v6 = Some(fd);
        }
        for fd in s.v4.iter().chain(s.v6.iter()) {
            set_buffer(fd, libc::SO_SNDBUFFORCE, libc::SO_SNDBUF, SNDBUF);
            if let Some(name) = bind_to {
                bind_device(fd, name)?;
            }
        }
        Ok(s)
    }

    /// The counters so far.
    pub(crate) fn stats(&self) -> SendStats {
        self.stats
    }

    /// Sends as many of `packets` as the kernel takes now; see the module
    /// docs for the error policy.
    pub(crate) fn send(&mut self, packets: &[&[u8]]) -> io::Result<usize> {
        let mut done = 0;
        while done < packets.len() {
            // The longest run of same-version packets (one socket per call).
            let first = destination(packets[done]);
            let is_v4 = match first {
                Some(Dest::V4(_)) => true,
                Some(Dest::V6(_)) => false,
                None => return bad_packet(done, "not an IPv4 or IPv6 packet"),
            };
            let fd = match if is_v4 { &self.v4 } else { &self.v6 } {
                Some(fd) => fd.as_raw_fd(),
                None => {
                    return bad_packet(
                        done,
                        if is_v4 {
                            "IPv4 packet but no IPv4 source was configured"
                        } else {
                            "IPv6 packet but no IPv6 source was configured"
                        },
                    )
                }
            };
            self.prepare(&packets[done..], is_v4);
            let n = self.msgs.len();
            if n == 0 {
                // The next packet is malformed; it is reported when it is
                // first in line, so the good ones before it still go out.
                return bad_packet(done, "malformed IP header");
            }
            // SAFETY: `msgs[..n]` point into `iovs` and `addrs` (built by
            // `prepare` and not touched until the call returns) and the iovecs
            // point into `packets`, borrowed for this whole call. The kernel
            // only reads them, and writes `msg_len` inside `msgs`.
            let r = unsafe {
                libc::sendmmsg(
                    fd,
                    self.msgs.as_mut_ptr(),
                    n as libc::c_uint,
                    libc::MSG_DONTWAIT,
                )
            };
            if r >= 0 {
                let r = r as usize;
                done += r;
                self.stats.sent += r as u64;
                // On a short count the kernel stopped at a failing packet;
                // the next call shows its error.
                continue;
            }
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EAGAIN) | Some(libc::ENOBUFS) | Some(libc::EINTR)
                | Some(libc::ENOMEM) => {
                    self.stats.short_batches += 1;
                    return Ok(done);
                }
                Some(libc::EBADF) | Some(libc::ENOTSOCK) | Some(libc::EFAULT) | None => {
                    return Err(err)
                }
                Some(code) => {
                    // This packet is refused (no route, firewall, size…):
                    // drop it like a lost probe and carry on.
                    self.stats.dropped += 1;
                    self.stats.last_drop_errno = Some(code);
                    done += 1;
                }
            }
        }
        Ok(done)
    }

    /// Fills the scratch vectors for the leading run of well-formed packets
    /// of one IP version.
    fn prepare(&mut self, packets: &[&[u8]], v4: bool) {
        self.addrs.clear();
        self.iovs.clear();
        self.msgs.clear();
        for p in packets.iter().take(BATCH) {
            // SAFETY: sockaddr_storage is plain old data; all-zero is valid.
            let mut ss: libc::sockaddr_storage = unsafe { mem::zeroed() };
            match (destination(p), v4) {
                (Some(Dest::V4(a)), true) => {
                    // SAFETY: sockaddr_storage is large and aligned enough
                    // for any socket address, including sockaddr_in.
                    let sin = unsafe {
                        &mut *(&mut ss as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in>()
                    };
                    sin.sin_family = libc::AF_INET as libc::sa_family_t;
                    sin.sin_addr.s_addr = u32::from_ne_bytes(a.octets());
                }
                (Some(Dest::V6(a)), false) => {
                    // SAFETY: as above, for sockaddr_in6.
                    let sin6 = unsafe {
                        &mut *(&mut ss as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
                    };
                    sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                    sin6.sin6_addr.s6_addr = a.octets();
                    if a.segments()[0] & 0xffc0 == 0xfe80 {
                        sin6.sin6_scope_id = self.scope_id;
                    }
                }
                _ => break,
            }
            self.addrs.push(ss);
            self.iovs.push(libc::iovec {
                iov_base: p.as_ptr() as *mut libc::c_void,
                iov_len: p.len(),
            });
        }
        let name_len = if v4 {
            mem::size_of::<libc::sockaddr_in>()
        } else {
            mem::size_of::<libc::sockaddr_in6>()
        } as libc::socklen_t;
        for i in 0..self.iovs.len() {
            // SAFETY: mmsghdr is plain old data; all-zero is valid.
            let mut m: libc::mmsghdr = unsafe { mem::zeroed() };
            m.msg_hdr.msg_name = (&mut self.addrs[i] as *mut libc::sockaddr_storage).cast();
            m.msg_hdr.msg_namelen = name_len;
            m.msg_hdr.msg_iov = &mut self.iovs[i];
            m.msg_hdr.msg_iovlen = 1;
            self.msgs.push(m);
        }
    }
}

/// The answer for a malformed packet at index `done`: the packets before it
/// count as sent; if it is first in line, an error naming the problem.
fn bad_packet(done: usize, why: &str) -> io::Result<usize> {
    if done > 0 {
        Ok(done)
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cannot send packet: {why}"),
        ))
    }
}

//! Receiving: a filtered `AF_PACKET` socket with a `TPACKET_V3` ring.
//!
//! Replies are captured below the kernel's TCP/UDP stacks (which would
//! otherwise answer or swallow them) with a packet socket bound to the
//! scan's interface. `SOCK_DGRAM` makes the kernel strip the link-layer
//! header, so every packet starts at its IP header whatever the link type
//! (Ethernet, loopback, tunnels). The classic BPF filter of [`crate::bpf`]
//! runs in the kernel and keeps only possible replies.
//!
//! The packets land in a memory-mapped ring (`PACKET_RX_RING`, version 3):
//! no copy to user space and no system call per packet. The kernel fills
//! variable-sized frames into fixed blocks and hands a whole block over when
//! it is full or `RETIRE_MS` after its first packet, whichever comes first;
//! `poll` wakes us at that point. A reply thus waits at most a few
//! milliseconds, negligible against scan timeouts of 100 ms and more.
//!
//! Outgoing packets (`PACKET_OUTGOING`) are dropped three times over: by
//! `PACKET_IGNORE_OUTGOING` (Linux ≥ 4.20), by the BPF filter, and by a
//! check of `sll_pkttype` here. On loopback each probe is *also* seen once
//! as incoming (that is how loopback delivers it); those copies pass, and the
//! engine's validation discards them like any other non-reply.

use std::io;
use std::mem;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr;
use std::sync::atomic::{fence, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::bpf::{reply_filter, SockFilter, PACKET_OUTGOING};
use crate::error::NetError;
use crate::send::set_buffer;

// From linux/if_packet.h.
const PACKET_RX_RING: libc::c_int = 5;
const PACKET_STATISTICS: libc::c_int = 6;
const PACKET_VERSION: libc::c_int = 10;
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
const TPACKET_V3: libc::c_int = 2;
const TP_STATUS_KERNEL: u32 = 0;
const TP_STATUS_USER: u32 = 1;
/// How long the kernel keeps a partly filled block before handing it over.
const RETIRE_MS: u32 = 2;
/// Ring block size: a multiple of the page size.
const BLOCK_SIZE: usize = 1 << 17;
/// Largest `snaplen` (packets are cut to this; must fit in a block).
pub(crate) const MAX_SNAPLEN: u32 = 65535;

/// `struct tpacket_req3`.
#[repr(C)]
struct TpacketReq3 {
    block_size: u32,
    block_nr: u32,
    frame_size: u32,
    frame_nr: u32,
    retire_blk_tov: u32,
    sizeof_priv: u32,
    feature_req_word: u32,
}

/// `struct tpacket_block_desc` with its `tpacket_hdr_v1` inlined; only the
/// fields read here are named (the layout up to them is the kernel's).
#[repr(C)]
struct BlockDesc {
    version: u32,
    offset_to_priv: u32,
    block_status: u32,
    num_pkts: u32,
    offset_to_first_pkt: u32,
    blk_len: u32,
}

/// The head of `struct tpacket3_hdr`.
#[repr(C)]
struct Tpacket3Hdr {
    next_offset: u32,
    sec: u32,
    nsec: u32,
    snaplen: u32,
    len: u32,
    status: u32,
    mac: u16,
    net: u16,
}

/// `TPACKET_ALIGN(sizeof(struct tpacket3_hdr))`: where the kernel puts the
/// `sockaddr_ll` after each frame header.
const SLL_OFFSET: usize = 48;
/// Offset of `sll_pkttype` in `struct sockaddr_ll`.
const SLL_PKTTYPE: usize = 10;

/// `struct tpacket_stats_v3`.
#[repr(C)]
#[derive(Default)]
struct TpacketStatsV3 {
    packets: u32,
    drops: u32,
    freeze_q_cnt: u32,
}

/// Counters of the receive path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecvStats {
    /// Packets that passed the filter and were queued by the kernel.
    pub captured: u64,
    /// Packets that passed the filter but found the ring full.
    pub dropped: u64,
    /// Packets delivered to callers.
    pub delivered: u64,
}

/// A bound, filtered packet socket and its mapped ring.
pub(crate) struct PacketRing {
    fd: OwnedFd,
    map: *mut u8,
    map_len: usize,
    block_nr: usize,
    /// The next block to look at.
    cur: usize,
    stats: RecvStats,
}

// SAFETY: the mapping is owned by this value alone (no aliases are handed
// out beyond a `recv` call) and is valid from any thread.
unsafe impl Send for PacketRing {}

fn setsockopt<T>(
    fd: &OwnedFd,
    level: libc::c_int,
    name: libc::c_int,
    val: &T,
    op: &'static str,
) -> Result<(), NetError> {
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
        Err(NetError::last_os(op))
    } else {
        Ok(())
    }
}

impl PacketRing {
    /// Opens a packet socket on interface `ifindex` that captures replies to
    /// the given sources into a ring of about `ring_bytes`.
    pub(crate) fn open(
        ifindex: u32,
        v4: &[Ipv4Addr],
        v6: &[Ipv6Addr],
        snaplen: u32,
        ring_bytes: usize,
    ) -> Result<Self, NetError> {
        let snaplen = snaplen.clamp(64, MAX_SNAPLEN);
        let filter: Vec<SockFilter> = reply_filter(v4, v6, snaplen)?;
        // Protocol 0: the socket receives nothing until `bind`, so no
        // unfiltered packet slips in before the filter is attached.
        // SAFETY: socket(2) takes no pointers.
        let raw =
            unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            return Err(NetError::last_os("opening the AF_PACKET receive socket"));
        }
        // SAFETY: `raw` is a fresh descriptor nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };

        let prog = libc::sock_fprog {
            len: filter.len() as libc::c_ushort,
            // SockFilter is #[repr(C)] with the same layout as sock_filter.
            filter: filter.as_ptr() as *mut libc::sock_filter,
        };
        // The kernel copies the program during the call; `filter` outlives it.
        setsockopt(
            &fd,
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            &prog,
            "attaching the BPF reply filter",
        )?;
        let one: libc::c_int = 1;
        // Best effort: older kernels lack it, the filter covers it anyway.
        let _ = setsockopt(
            &fd,
            libc::SOL_PACKET,
            PACKET_IGNORE_OUTGOING,
            &one,
            "PACKET_IGNORE_OUTGOING",
        );
        set_buffer(&fd, libc::SO_RCVBUFFORCE, libc::SO_RCVBUF, 8 << 20);

        setsockopt(
            &fd,
            libc::SOL_PACKET,
            PACKET_VERSION,
            &TPACKET_V3,
            "selecting TPACKET_V3",
        )?;
        let block_nr = (ring_bytes / BLOCK_SIZE).clamp(2, 1024);
        let req = TpacketReq3 {
            block_size: BLOCK_SIZE as u32,
            block_nr: block_nr as u32,
            // V3 frames are variable-sized; frame_size only has to divide the
            // block and frame_nr match, as the kernel checks.
            frame_size: 2048,
            frame_nr: (BLOCK_SIZE / 2048 * block_nr) as u32,
            retire_blk_tov: RETIRE_MS,
            sizeof_priv: 0,
            feature_req_word: 0,
        };
        setsockopt(
            &fd,
            libc::SOL_PACKET,
            PACKET_RX_RING,
            &req,
            "setting up the receive ring",
        )?;
        let map_len = BLOCK_SIZE * block_nr;
        // SAFETY: maps the ring the kernel just allocated for this socket;
        // no existing memory is affected. Checked against MAP_FAILED below.
        let map = unsafe {
            libc::mmap(
                ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(NetError::last_os("mmap of the receive ring"));
        }
        let ring = PacketRing {
            fd,
            map: map.cast(),
            map_len,
            block_nr,
            cur: 0,
            stats: RecvStats::default(),
        };

        // SAFETY: sockaddr_ll is plain old data; all-zero is valid.
        let mut sll: libc::sockaddr_ll = unsafe { mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
        sll.sll_ifindex = ifindex as i32;
        // SAFETY: `sll` is a valid sockaddr_ll and its size is passed.
        let r = unsafe {
            libc::bind(
                ring.fd.as_raw_fd(),
                (&sll as *const libc::sockaddr_ll).cast(),
                mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::ENODEV) {
                return Err(NetError::Config(format!(
                    "no interface with index {ifindex}"
                )));
            }
            return Err(NetError::os(
                "binding the receive socket to the interface",
                e,
            ));
        }
        Ok(ring)
    }

    /// Counters so far (asks the kernel for its capture and drop counts).
    pub(crate) fn stats(&mut self) -> RecvStats {
        let mut st = TpacketStatsV3::default();
        let mut len = mem::size_of::<TpacketStatsV3>() as libc::socklen_t;
        // SAFETY: `st` and `len` are live and `len` holds `st`'s size; the
        // kernel writes at most that many bytes.
        let r = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                PACKET_STATISTICS,
                (&mut st as *mut TpacketStatsV3).cast(),
                &mut len,
            )
        };
        if r == 0 {
            // The kernel resets its counters on every read.
            self.stats.captured += u64::from(st.packets);
            self.stats.dropped += u64::from(st.drops);
        }
        self.stats
    }

    /// Waits at most `timeout` for the first packet, then hands every packet
    /// already waiting (at most one pass over the ring) to `on_packet`.
    /// Each packet comes with the instant the kernel stamped it on
    /// arrival (blocks are handed over up to `RETIRE_MS` later).
    pub(crate) fn recv(
        &mut self,
        timeout: Duration,
        on_packet: &mut dyn FnMut(&[u8], Option<Instant>),
    ) -> io::Result<usize> {
        // `None`: a timeout too long to represent, i.e. wait indefinitely.
        let deadline = Instant::now().checked_add(timeout);
        let mut n = self.drain(on_packet);
        // A wake-up can bring a block with nothing to deliver (all its
        // packets were our own, seen leaving): keep waiting until the end.
        while n == 0 {
            let left = deadline.map_or(timeout, |d| d.saturating_duration_since(Instant::now()));
            if left.is_zero() || !self.wait(left)? {
                break;
            }
            n = self.drain(on_packet);
        }
        self.stats.delivered += n as u64;
        Ok(n)
    }

    /// Polls the socket; true if it became readable.
    fn wait(&self, timeout: Duration) -> io::Result<bool> {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN | libc::POLLERR,
            revents: 0,
        };
        let ts = libc::timespec {
            tv_sec: timeout.as_secs().min(i32::MAX as u64) as libc::time_t,
            tv_nsec: timeout.subsec_nanos() as libc::c_long,
        };
        // SAFETY: `pfd` and `ts` are live for the call; one pollfd is passed.
        let r = unsafe { libc::ppoll(&mut pfd, 1, &ts, ptr::null()) };
        if r < 0 {
            let e = io::Error::last_os_error();
            return if e.raw_os_error() == Some(libc::EINTR) {
                Ok(false)
            } else {
                Err(e)
            };
        }
        if pfd.revents & libc::POLLERR != 0 {
            let mut err: libc::c_int = 0;
            let mut len = mem::size_of::<libc::c_int>() as libc::socklen_t;
            // SAFETY: `err`/`len` are live and sized for SO_ERROR's int.
            unsafe {
                libc::getsockopt(
                    self.fd.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_ERROR,
                    (&mut err as *mut libc::c_int).cast(),
                    &mut len,
                )
            };
            if err != 0 {
                return Err(io::Error::from_raw_os_error(err));
            }
        }
        Ok(r > 0)
    }

    /// Delivers the packets of every block the kernel has handed over,
    /// returning each block to the kernel afterwards.
    fn drain(&mut self, on_packet: &mut dyn FnMut(&[u8], Option<Instant>)) -> usize {
        let mut n = 0;
        // The kernel stamps with the wall clock; one pair of readings maps
        // its stamps onto the monotonic clock.
        let clocks = (Instant::now(), SystemTime::now());
        for _ in 0..self.block_nr {
            // SAFETY: `cur < block_nr`, so the block lies inside the mapping.
            let block = unsafe { self.map.add(self.cur * BLOCK_SIZE) };
            let desc = block.cast::<BlockDesc>();
            // SAFETY: `desc` points at the block's descriptor, which is
            // aligned (blocks are page aligned) and inside the mapping. The
            // kernel writes it concurrently, hence the volatile read.
            let status = unsafe { ptr::read_volatile(ptr::addr_of!((*desc).block_status)) };
            if status & TP_STATUS_USER == 0 {
                break;
            }
            // Everything the kernel wrote before publishing the status is
            // visible after this fence.
            fence(Ordering::Acquire);
            // SAFETY: the block is ours until we hand it back below; the
            // kernel does not touch it meanwhile.
            n += unsafe { deliver_block(block, clocks, on_packet) };
            fence(Ordering::Release);
            // SAFETY: as above; this write hands the block back.
            unsafe {
                ptr::write_volatile(ptr::addr_of_mut!((*desc).block_status), TP_STATUS_KERNEL)
            };
            self.cur = (self.cur + 1) % self.block_nr;
        }
        n
    }
}

/// Walks one user-owned block and delivers its incoming packets. Offsets
/// written by the kernel are still checked against the block's bounds.
///
/// # Safety
/// `block` must point at a ring block of `BLOCK_SIZE` bytes owned by user
/// space (status `TP_STATUS_USER`) for the whole call.
unsafe fn deliver_block(
    block: *mut u8,
    clocks: (Instant, SystemTime),
    on_packet: &mut dyn FnMut(&[u8], Option<Instant>),
) -> usize {
    // SAFETY (whole function): every pointer below is `block + off` with
    // `off + len <= BLOCK_SIZE` checked first, and the block is ours.
    let desc = block.cast::<BlockDesc>();
    let num = ptr::read(ptr::addr_of!((*desc).num_pkts));
    let mut off = ptr::read(ptr::addr_of!((*desc).offset_to_first_pkt)) as usize;
    let mut n = 0;
    for _ in 0..num {
        if off < mem::size_of::<BlockDesc>() || off + SLL_OFFSET + 12 > BLOCK_SIZE || off % 4 != 0 {
            break;
        }
        let hdr = block.add(off).cast::<Tpacket3Hdr>();
        let next = ptr::read(ptr::addr_of!((*hdr).next_offset)) as usize;
        let snaplen = ptr::read(ptr::addr_of!((*hdr).snaplen)) as usize;
        let net = ptr::read(ptr::addr_of!((*hdr).net)) as usize;
        let sec = ptr::read(ptr::addr_of!((*hdr).sec));
        let nsec = ptr::read(ptr::addr_of!((*hdr).nsec));
        let pkttype = *block.add(off + SLL_OFFSET + SLL_PKTTYPE);
        let start = off + net;
        if start + snaplen <= BLOCK_SIZE && u32::from(pkttype) != PACKET_OUTGOING {
            let at = arrival(clocks, sec, nsec);
            on_packet(std::slice::from_raw_parts(block.add(start), snaplen), at);
            n += 1;
        }
        if next == 0 {
            break;
        }
        off += next;
    }
    n
}

/// The monotonic instant of a kernel stamp (`sec`, `nsec` since the
/// epoch), given a simultaneous reading of both clocks; `None` for no
/// stamp or one in the future.
fn arrival(clocks: (Instant, SystemTime), sec: u32, nsec: u32) -> Option<Instant> {
    if sec == 0 {
        return None;
    }
    let stamp = UNIX_EPOCH + Duration::new(u64::from(sec), nsec.min(999_999_999));
    let age = clocks.1.duration_since(stamp).ok()?;
    // A stamp older than any block's stay in the ring means the wall clock
    // moved: no stamp then.
    if age > Duration::from_secs(2) {
        return None;
    }
    clocks.0.checked_sub(age)
}

impl Drop for PacketRing {
    /// Releasing a packet socket with a ring waits for two RCU grace
    /// periods in the kernel (`synchronize_net`, 20-30 ms on a busy
    /// machine), which would sit between a scan's last reply and its
    /// output. So the release runs on a thread of its own, overlapping
    /// whatever the process does next: the thread unmaps the ring and
    /// closes a duplicate of the descriptor, which holds the socket, so
    /// that closing ours here is cheap.
    fn drop(&mut self) {
        let (map, len) = (self.map as usize, self.map_len);
        let release = move |fd: Option<OwnedFd>| {
            // SAFETY: `map`/`len` are the mapping made in `open`, unmapped
            // only here, once; no slice into it outlives a `recv` call,
            // and the ring is being dropped.
            unsafe { libc::munmap(map as *mut libc::c_void, len) };
            drop(fd);
        };
        match self.fd.try_clone() {
            Ok(dup) => {
                let spawned = std::thread::Builder::new()
                    .name("portolan-ring-close".into())
                    .spawn(move || release(Some(dup)));
                if spawned.is_err() {
                    // The closure (and the duplicate) went with the error.
                    release(None);
                }
            }
            Err(_) => release(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_stamps_map_onto_the_monotonic_clock() {
        let now = Instant::now();
        let wall = UNIX_EPOCH + Duration::new(1_800_000_000, 500_000_000);
        // Stamped 3 ms before the readings.
        let at = arrival((now, wall), 1_800_000_000, 497_000_000).unwrap();
        assert_eq!(now - at, Duration::from_millis(3));
        assert_eq!(arrival((now, wall), 0, 0), None, "no stamp");
        assert_eq!(arrival((now, wall), 1_800_000_001, 0), None, "future");
        assert_eq!(arrival((now, wall), 1_700_000_000, 0), None, "clock moved");
    }
}

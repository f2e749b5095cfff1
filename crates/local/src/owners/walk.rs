//! The walk over `/proc/*/fd`: every socket fd of every process we may
//! inspect, as (socket inode, pid) pairs.
//!
//! Why by hand, and how it stays fast: the kernel has no call that maps a
//! socket to its processes, so every fd of every process is one
//! `readlink` (100,000 sockets are 100,000 system calls; `ss -p` does the
//! same per socket and takes seconds). The cost is kept to that one call
//! per fd: each `/proc/PID/fd` is opened relative to an open `/proc`, its
//! entries read with `getdents64` into one reused buffer (rustix's
//! `RawDir`), each link read relative to the open directory into a stack
//! buffer (`readlinkat_raw`), so nothing is allocated per fd and the
//! kernel walks no path twice. Pids are handed out one at a time to the
//! threads from a shared counter, so one process with 50,000 fds does not
//! leave the other thread idle. The walk does not depend on which
//! sockets are listed, so it runs while the kernel dumps them
//! ([`walk_during`]), and the caller's thread joins it when done.

use rustix::fs::{openat, readlinkat_raw, Mode, OFlags, RawDir, CWD};
use rustix::io::Errno;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Every socket fd found: (inode, pid) pairs sorted by inode.
#[derive(Debug, Default)]
pub struct Links {
    pairs: Vec<(u64, u32)>,
    /// Some process's fds could not be read (permission).
    pub denied: bool,
}

impl Links {
    /// The pids holding `inode` (each once per fd; sorted).
    pub fn pids(&self, inode: u64) -> impl Iterator<Item = u32> + '_ {
        let start = self.pairs.partition_point(|&(i, _)| i < inode);
        self.pairs[start..]
            .iter()
            .take_while(move |&&(i, _)| i == inode)
            .map(|&(_, p)| p)
    }
}

/// Parses the inode out of a `socket:[INODE]` link target.
pub(crate) fn socket_inode(link: &[u8]) -> Option<u64> {
    let num = link.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    if num.is_empty() {
        return None;
    }
    num.iter().try_fold(0u64, |n, &d| {
        d.is_ascii_digit()
            .then(|| n.wrapping_mul(10) + u64::from(d - b'0'))
    })
}

/// `PID/fd` as bytes, without allocating.
fn fd_dir(pid: u32, buf: &mut [u8; 16]) -> &[u8] {
    let mut digits = [0u8; 10];
    let mut n = pid;
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for i in 0..len {
        buf[i] = digits[len - 1 - i];
    }
    buf[len..len + 3].copy_from_slice(b"/fd");
    &buf[..len + 3]
}

/// The shared state of one walk.
struct Walk {
    proc_dir: OwnedFd,
    pids: Vec<u32>,
    next: AtomicUsize,
}

impl Walk {
    fn new() -> Option<Walk> {
        let pids = std::fs::read_dir("/proc")
            .ok()?
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect();
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let proc_dir = openat(CWD, "/proc", flags, Mode::empty()).ok()?;
        Some(Walk {
            proc_dir,
            pids,
            next: AtomicUsize::new(0),
        })
    }

    /// Hands out no more pids.
    fn stop(&self) {
        self.next.store(self.pids.len(), Ordering::Relaxed);
    }

    /// One thread's share: pids taken from the shared counter until none
    /// is left; returns its pairs and whether any directory was denied.
    fn run(&self) -> (Vec<(u64, u32)>, bool) {
        let mut found = Vec::new();
        let mut denied = false;
        let mut dents: Vec<u8> = Vec::with_capacity(64 * 1024);
        let dents = dents.spare_capacity_mut();
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let (mut path, mut link) = ([0u8; 16], [0u8; 64]);
        while let Some(&pid) = self.pids.get(self.next.fetch_add(1, Ordering::Relaxed)) {
            let fd = match openat(&self.proc_dir, fd_dir(pid, &mut path), flags, Mode::empty()) {
                Ok(fd) => fd,
                Err(e) => {
                    denied |= e == Errno::ACCESS || e == Errno::PERM;
                    continue;
                }
            };
            let mut dir = RawDir::new(&fd, &mut *dents);
            while let Some(Ok(entry)) = dir.next() {
                let name = entry.file_name();
                if !name.to_bytes().first().is_some_and(u8::is_ascii_digit) {
                    continue;
                }
                let Ok(n) = readlinkat_raw(&fd, name, &mut link[..]) else {
                    continue;
                };
                if let Some(inode) = socket_inode(&link[..n.min(link.len())]) {
                    found.push((inode, pid));
                }
            }
        }
        (found, denied)
    }
}

/// Runs `work` on this thread while other threads walk `/proc/*/fd`;
/// when `work` is done this thread joins the walk. An error from `work`
/// stops the walk (its result is not wanted then).
pub fn walk_during<T, E>(work: impl FnOnce() -> Result<T, E>) -> (Links, Result<T, E>) {
    let Some(walk) = Walk::new() else {
        return (Links::default(), work());
    };
    let helpers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(2, 8)
        - 1;
    let (parts, result) = std::thread::scope(|s| {
        let walk = &walk;
        let handles: Vec<_> = (0..helpers).map(|_| s.spawn(|| walk.run())).collect();
        let result = work();
        let mut parts = Vec::with_capacity(helpers + 1);
        if result.is_err() {
            walk.stop();
        } else {
            parts.push(walk.run());
        }
        parts.extend(handles.into_iter().map(|h| h.join().unwrap_or_default()));
        (parts, result)
    });
    let mut links = Links::default();
    links
        .pairs
        .reserve(parts.iter().map(|(p, _)| p.len()).sum());
    for (pairs, denied) in parts {
        links.pairs.extend(pairs);
        links.denied |= denied;
    }
    links.pairs.sort_unstable();
    links.pairs.dedup();
    (links, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_links_parse() {
        assert_eq!(socket_inode(b"socket:[12345]"), Some(12345));
        assert_eq!(socket_inode(b"pipe:[12345]"), None);
        assert_eq!(socket_inode(b"socket:[12x]"), None);
        assert_eq!(socket_inode(b"socket:[]"), None);
        assert_eq!(socket_inode(b"/dev/null"), None);
    }

    #[test]
    fn fd_dir_paths() {
        let mut b = [0u8; 16];
        assert_eq!(fd_dir(0, &mut b), b"0/fd");
        assert_eq!(fd_dir(4_294_967_295, &mut b), b"4294967295/fd");
        assert_eq!(fd_dir(1234, &mut b), b"1234/fd");
    }

    #[test]
    fn walk_finds_our_socket_and_pids_are_sorted_per_inode() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let ours = std::process::id();
        let (links, r) = walk_during(|| Ok::<_, ()>(7));
        assert_eq!(r, Ok(7));
        let mine: Vec<u64> = links
            .pairs
            .iter()
            .filter(|&&(_, p)| p == ours)
            .map(|&(i, _)| i)
            .collect();
        assert!(!mine.is_empty());
        assert!(links.pids(mine[0]).any(|p| p == ours));
        assert!(links.pairs.windows(2).all(|w| w[0] <= w[1]));
        let (_, r) = walk_during(|| Err::<(), _>("stop"));
        assert_eq!(r, Err("stop"));
        drop(l);
    }
}

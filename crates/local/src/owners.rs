//! Who holds each socket: one walk over `/proc/*/fd` per listing, matching
//! `socket:[INODE]` links against the inodes the kernel returned, then
//! `comm`, `cmdline` and the owner of `/proc/PID` for the processes found.
//!
//! Cost is one `readlink` per open fd on the machine, so the walk is split
//! over the available cores; the path buffer is reused and only matching
//! fds add anything to memory. User names come from one read of
//! `/etc/passwd` (no NSS call per row; users only in LDAP and such show
//! as numbers). Processes we may not inspect (other users' when not
//! root) are skipped and reported as hidden; that is never an error.

use crate::model::Process;
use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::{readlinkat, OFlag};
use nix::sys::stat::Mode;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Owners found for a set of socket inodes.
#[derive(Debug, Default)]
pub struct OwnerMap {
    /// inode → the processes holding it (each pid once).
    pub by_inode: HashMap<u64, Vec<Arc<Process>>>,
    /// Some process's fds could not be read (permission).
    pub denied: bool,
}

fn pids() -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// Parses the inode out of a `socket:[INODE]` link target.
fn socket_inode(link: &[u8]) -> Option<u64> {
    let num = link.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    num.iter().try_fold(0u64, |n, &d| {
        d.is_ascii_digit()
            .then(|| n.wrapping_mul(10) + u64::from(d - b'0'))
    })
}

/// Scans the fds of the pids handed out by `next` (shared between the
/// threads, so one thread never waits on another's big process list),
/// returning (inode, pid) for wanted inodes and whether any fd directory
/// was unreadable. Each link is read relative to the open fd directory,
/// so the kernel does not walk `/proc/PID/fd/` again for every fd.
fn scan(pids: &[u32], next: &AtomicUsize, wanted: &HashSet<u64>) -> (Vec<(u64, u32)>, bool) {
    let mut found = Vec::new();
    let mut denied = false;
    let mut path = String::with_capacity(32);
    while let Some(&pid) = pids.get(next.fetch_add(1, Ordering::Relaxed)) {
        path.clear();
        let _ = write!(path, "/proc/{pid}/fd");
        let mut dir = match Dir::open(
            path.as_str(),
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) {
            Ok(d) => d,
            Err(e) => {
                denied |= e == Errno::EACCES || e == Errno::EPERM;
                continue;
            }
        };
        let fd = dir.as_raw_fd();
        for entry in dir.iter().flatten() {
            let name = entry.file_name();
            if name.to_bytes().first().is_none_or(|b| !b.is_ascii_digit()) {
                continue;
            }
            let Ok(link) = readlinkat(Some(fd), name) else {
                continue;
            };
            if let Some(inode) = socket_inode(link.as_encoded_bytes()) {
                if wanted.contains(&inode) {
                    found.push((inode, pid));
                }
            }
        }
    }
    (found, denied)
}

/// Finds the owners of `wanted` inodes.
pub fn owners(wanted: &HashSet<u64>, users: &Users) -> OwnerMap {
    let mut map = OwnerMap::default();
    if wanted.is_empty() {
        return map;
    }
    let pids = pids();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let next = AtomicUsize::new(0);
    let results: Vec<(Vec<(u64, u32)>, bool)> = std::thread::scope(|s| {
        let (pids, next) = (&pids, &next);
        let handles: Vec<_> = (0..threads)
            .map(|_| s.spawn(move || scan(pids, next, wanted)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut procs: HashMap<u32, Option<Arc<Process>>> = HashMap::new();
    for (found, denied) in results {
        map.denied |= denied;
        for (inode, pid) in found {
            let p = procs.entry(pid).or_insert_with(|| process(pid, users));
            let Some(p) = p else { continue };
            let list = map.by_inode.entry(inode).or_default();
            if !list.iter().any(|q| q.pid == pid) {
                list.push(Arc::clone(p));
            }
        }
    }
    map
}

/// Reads one process's name, command line and user.
fn process(pid: u32, users: &Users) -> Option<Arc<Process>> {
    let base = format!("/proc/{pid}");
    let uid = std::fs::metadata(&base).ok()?.uid();
    let name = std::fs::read(format!("{base}/comm")).unwrap_or_default();
    let name = String::from_utf8_lossy(&name)
        .trim_end_matches('\n')
        .to_string();
    let cmd = std::fs::read(format!("{base}/cmdline")).unwrap_or_default();
    let cmdline = cmd
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(String::from_utf8_lossy)
        .collect::<Vec<_>>()
        .join(" ");
    Some(Arc::new(Process {
        pid,
        name,
        cmdline,
        user: users.name(uid),
    }))
}

/// uid → user name, from `/etc/passwd`.
#[derive(Debug, Default, Clone)]
pub struct Users(HashMap<u32, String>);

impl Users {
    /// Reads `/etc/passwd` (empty when unreadable).
    pub fn load() -> Users {
        Users::parse(&std::fs::read_to_string("/etc/passwd").unwrap_or_default())
    }

    /// Parses passwd lines `name:x:uid:...`; the first name for a uid wins.
    pub fn parse(text: &str) -> Users {
        let mut map = HashMap::new();
        for line in text.lines() {
            let mut f = line.split(':');
            let (Some(name), Some(_), Some(uid)) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            if let Ok(uid) = uid.parse() {
                map.entry(uid).or_insert_with(|| name.to_string());
            }
        }
        Users(map)
    }

    /// The name of `uid`, or the number.
    pub fn name(&self, uid: u32) -> String {
        self.0.get(&uid).cloned().unwrap_or_else(|| uid.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_links_parse() {
        assert_eq!(socket_inode(b"socket:[12345]"), Some(12345));
        assert_eq!(socket_inode(b"pipe:[12345]"), None);
        assert_eq!(socket_inode(b"socket:[12x]"), None);
        assert_eq!(socket_inode(b"/dev/null"), None);
    }

    #[test]
    fn passwd_parses() {
        let u = Users::parse("root:x:0:0::/root:/bin/sh\nbad\nnobody:x:65534:65534::/:/x\n");
        assert_eq!(u.name(0), "root");
        assert_eq!(u.name(65534), "nobody");
        assert_eq!(u.name(42), "42");
    }

    #[test]
    fn finds_our_own_socket() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let ours = std::process::id();
        let mut wanted = HashSet::new();
        for e in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
            let link = std::fs::read_link(e.path()).unwrap_or_default();
            let s = link.to_string_lossy().to_string();
            if let Some(n) = s.strip_prefix("socket:[") {
                wanted.insert(n.trim_end_matches(']').parse::<u64>().unwrap());
            }
        }
        assert!(!wanted.is_empty());
        let map = owners(&wanted, &Users::load());
        assert!(map
            .by_inode
            .values()
            .any(|ps| ps.iter().any(|p| p.pid == ours)));
        drop(l);
    }
}

//! Who holds each socket: the (inode, pid) pairs of one walk over
//! `/proc/*/fd` ([`walk`]), then `comm`, `cmdline` and the owner of
//! `/proc/PID` for the processes that hold a listed socket, each read once.
//!
//! User names come from one read of `/etc/passwd` (no NSS call per row;
//! users only in LDAP and such show as numbers). Processes we may not
//! inspect (other users' when not root) are skipped and reported as
//! hidden; that is never an error.

mod walk;

pub use walk::{walk_during, Links};

use crate::model::Process;
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::sync::Arc;

/// Resolves socket inodes to their owning processes.
pub struct Owners {
    links: Links,
    users: Users,
    procs: HashMap<u32, Option<Arc<Process>>>,
    /// The last pid resolved: consecutive sockets mostly share a process.
    last: Option<(u32, Option<Arc<Process>>)>,
}

impl Owners {
    /// Owners from a walk's links and the user table.
    pub fn new(links: Links, users: Users) -> Owners {
        Owners {
            links,
            users,
            procs: HashMap::new(),
            last: None,
        }
    }

    /// Whether some process's fds could not be read.
    pub fn denied(&self) -> bool {
        self.links.denied
    }

    /// The processes holding `inode`, each once.
    pub fn of(&mut self, inode: u64) -> Vec<Arc<Process>> {
        let mut out: Vec<Arc<Process>> = Vec::new();
        let mut seen = None;
        for pid in self.links.pids(inode) {
            // Pids come sorted: a repeat (two fds of one process) is the
            // one just seen.
            if seen == Some(pid) {
                continue;
            }
            seen = Some(pid);
            let p = match &self.last {
                Some((last, p)) if *last == pid => p.clone(),
                _ => {
                    let users = &self.users;
                    let p = self
                        .procs
                        .entry(pid)
                        .or_insert_with(|| process(pid, users))
                        .clone();
                    self.last = Some((pid, p.clone()));
                    p
                }
            };
            out.extend(p);
        }
        out
    }
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
        // The listener's own inode (other tests open and close sockets
        // meanwhile, so none other is sure to be there during the walk).
        use std::os::fd::AsRawFd;
        let fd = format!("/proc/self/fd/{}", l.as_raw_fd());
        let inode = std::fs::metadata(fd).unwrap().ino();
        let (links, _) = walk_during(|| Ok::<_, ()>(()));
        let mut owners = Owners::new(links, Users::load());
        let found = owners.of(inode);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].pid, ours);
        assert!(!found[0].name.is_empty());
        assert!(owners.of(0).is_empty());
        drop(l);
    }
}

//! Keeping a scan's checkpoint up to date while it runs: which written
//! hosts count as finished (those the history store has committed), each
//! output file's length after them, and the begun hosts' resolved ports
//! (see [`crate::checkpoint`] for what a checkpoint holds and why).

use crate::checkpoint::{head_digest, Checkpoint, PartialHost, EVERY, SNAPSHOT_GRACE};
use portolan_model::{HostResult, HostStatus};
use std::collections::{HashMap, VecDeque};
use std::fs;
use std::io::{self, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// A host written to the outputs whose place in the store is not yet
/// known to be committed.
#[derive(Debug)]
struct Written {
    /// Its position among the hosts given to the store.
    index: u64,
    addr: IpAddr,
    up: bool,
    /// The output files' lengths after it.
    lens: Vec<u64>,
}

/// Keeps a scan's checkpoint up to date as hosts are written (see the
/// module docs).
pub struct Checkpointer {
    path: PathBuf,
    cp: Checkpoint,
    /// Each output file's path and its bytes so far.
    counters: Vec<(PathBuf, Arc<AtomicU64>)>,
    pending: VecDeque<Written>,
    /// Hosts handed out so far (the store's order).
    sent: u64,
    /// An interrupted host was written: later bytes never count.
    frozen: bool,
    started: Instant,
    last_write: Option<Instant>,
    warned: bool,
    /// Up and down hosts and seconds of the earlier runs.
    earlier: (u64, u64, f64),
    /// Hosts begun and not finished, with their resolved ports (the
    /// latest of each: a snapshot, or the host as an interrupt left it).
    partial: HashMap<IpAddr, HostResult>,
}

impl Checkpointer {
    /// Keeps `base` (the options, and what earlier runs finished) at
    /// `path`; `counters` count each output file's bytes.
    pub fn new(path: PathBuf, base: Checkpoint, counters: Vec<(PathBuf, Arc<AtomicU64>)>) -> Self {
        let (base_up, base_down, base_elapsed) = (base.hosts_up, base.hosts_down, base.elapsed);
        // An earlier run's begun hosts stay until this run's snapshots
        // or finished hosts replace them (a host of a later group is in
        // no snapshot before its group starts).
        let partial = base.known_ports().unwrap_or_default();
        Checkpointer {
            partial,
            path,
            cp: base,
            counters,
            pending: VecDeque::new(),
            sent: 0,
            frozen: false,
            started: Instant::now(),
            // The first write after one interval: short scans write none.
            last_write: Some(Instant::now()),
            warned: false,
            earlier: (base_up, base_down, base_elapsed),
        }
    }

    /// The checkpoint's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The outputs' headers are written (or, resumed, the files are cut
    /// at the checkpoint): the files' lengths with no host.
    pub fn begun(&mut self) {
        for (mark, (_, c)) in self.cp.files.iter_mut().zip(&self.counters) {
            mark.len = c.load(Ordering::Relaxed);
        }
    }

    /// Notes a host just written (and flushed) to the outputs; one
    /// marked incomplete (an interrupt caught it), or any after it, is
    /// not finished, and its resolved ports are kept instead.
    pub fn host(&mut self, host: &HostResult, failed: bool) {
        let index = self.sent;
        self.sent += 1;
        if host.incomplete || failed {
            self.frozen = true;
        }
        if self.frozen {
            if host.status == HostStatus::Up && !host.ports.is_empty() {
                let mut h = host.clone();
                h.incomplete = true;
                self.partial.insert(host.addr, h);
            }
            return;
        }
        let lens = self
            .counters
            .iter()
            .map(|(_, c)| c.load(Ordering::Relaxed))
            .collect();
        self.pending.push_back(Written {
            index,
            addr: host.addr,
            up: host.status == HostStatus::Up,
            lens,
        });
    }

    /// Whether a snapshot of the begun hosts is due (see
    /// [`snapshot`](Self::snapshot)).
    pub fn due(&self) -> bool {
        self.last_write.is_none_or(|t| t.elapsed() >= EVERY)
    }

    /// The begun hosts as the engine has them now: each replaces what
    /// was kept of it.
    pub fn snapshot(&mut self, hosts: &[HostResult]) {
        if self.frozen {
            return;
        }
        for h in hosts {
            self.partial.insert(h.addr, h.clone());
        }
    }

    /// Counts the hosts before position `committed` as finished.
    fn settle(&mut self, committed: u64) {
        while self.pending.front().is_some_and(|w| w.index < committed) {
            let w = self.pending.pop_front().expect("checked");
            if w.up {
                self.cp.hosts_up += 1;
            } else {
                self.cp.hosts_down += 1;
            }
            self.cp.done.push(w.addr);
            self.partial.remove(&w.addr);
            for (mark, len) in self.cp.files.iter_mut().zip(w.lens) {
                mark.len = len;
            }
        }
    }

    /// Rewrites the checkpoint if [`EVERY`] has passed and no snapshot
    /// came meanwhile (while the engine probes, its progress reports
    /// bring one at [`due`](Self::due); this is for the time after);
    /// `committed` is how many hosts the store holds (`u64::MAX` without
    /// a store).
    pub fn tick(&mut self, committed: u64, history_scan: Option<i64>) {
        if self
            .last_write
            .is_some_and(|t| t.elapsed() < EVERY + SNAPSHOT_GRACE)
        {
            return;
        }
        self.write(committed, history_scan);
    }

    /// Rewrites the checkpoint now.
    pub fn write(&mut self, committed: u64, history_scan: Option<i64>) {
        self.last_write = Some(Instant::now());
        self.settle(committed);
        if history_scan.is_some() {
            self.cp.history_scan = history_scan;
        }
        let mut cp = self.cp.clone();
        cp.elapsed += self.started.elapsed().as_secs_f64();
        let mut index = HashMap::new();
        cp.port_sets.clear();
        cp.partial = self
            .partial
            .values()
            .map(|h| PartialHost::of(h, &mut cp.port_sets, &mut index))
            .collect();
        let r = cp.files.iter_mut().try_for_each(|m| {
            m.head = head_digest(&m.path, m.len)?;
            Ok(())
        });
        self.cp.files = cp.files.clone();
        let dir = self.path.parent().filter(|d| !d.as_os_str().is_empty());
        let made = dir.map_or(Ok(()), fs::create_dir_all);
        if let Err(e) = r.and(made).and_then(|()| cp.write_atomically(&self.path)) {
            if !self.warned {
                crate::say::err(format_args!(
                    "portolan: WARNING: cannot write checkpoint {}: {e}",
                    self.path.display()
                ));
            }
            self.warned = true;
        }
    }

    /// Up and down hosts and seconds of the earlier runs (added to this
    /// run's for the closing counts).
    pub fn earlier(&self) -> (u64, u64, f64) {
        self.earlier
    }

    /// The scan finished whole: the checkpoint has nothing left to do.
    pub fn remove(&self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// A writer that counts the bytes it passes on (the output file's length,
/// since every format flushes after each host).
pub struct Counting<W> {
    inner: W,
    count: Arc<AtomicU64>,
}

impl<W> Counting<W> {
    /// Counts into `count`, which holds the bytes already in the file.
    pub fn new(inner: W, count: Arc<AtomicU64>) -> Self {
        Counting { inner, count }
    }
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::load;
    use crate::checkpoint::tests::sample;

    #[test]
    fn only_hosts_the_store_committed_count_and_files_keep_their_length_after_them() {
        let count = Arc::new(AtomicU64::new(100));
        let dir = std::env::temp_dir().join(format!("portolan-cp-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let mut base = sample();
        base.done.clear();
        base.hosts_up = 0;
        base.hosts_down = 0;
        base.files[0].path = dir.join("a.xml");
        fs::write(&base.files[0].path, vec![b'x'; 400]).unwrap();
        let path = dir.join("a.xml.resume");
        let mut c = Checkpointer::new(path.clone(), base, vec![("a".into(), count.clone())]);
        let host = |i: u8, up: bool, incomplete: bool| {
            let status = if up { HostStatus::Up } else { HostStatus::Down };
            let mut h = HostResult::new(
                format!("198.18.0.{i}").parse().unwrap(),
                status,
                portolan_model::Reason::UserSet,
            );
            h.incomplete = incomplete;
            h
        };
        for (i, up) in [(1, true), (2, false), (3, true)] {
            count.fetch_add(100, Ordering::Relaxed);
            c.host(&host(i, up, false), false);
        }
        // An interrupted host, then a finished one: neither counts.
        c.host(&host(4, true, true), false);
        c.host(&host(5, true, false), false);
        c.write(2, None);
        let cp = load(&path).unwrap().1;
        assert_eq!(
            cp.done,
            [
                "198.18.0.1".parse::<IpAddr>().unwrap(),
                "198.18.0.2".parse().unwrap()
            ]
        );
        assert_eq!((cp.hosts_up, cp.hosts_down, cp.files[0].len), (1, 1, 300));
        assert_eq!(cp.history_scan, Some(12));
        c.write(u64::MAX, Some(13));
        let cp = load(&path).unwrap().1;
        assert_eq!(cp.done.len(), 3);
        assert_eq!((cp.files[0].len, cp.history_scan), (400, Some(13)));
        assert_eq!(
            cp.files[0].head,
            head_digest(&dir.join("a.xml"), 400).unwrap()
        );
        assert_eq!(cp.check_files(), Ok(()));
        // The output file rewritten by another scan: refused.
        fs::write(dir.join("a.xml"), vec![b'y'; 400]).unwrap();
        assert!(cp.check_files().unwrap_err().contains("is not the one"));
        // nmap's form: the output file's name finds the checkpoint beside it.
        assert_eq!(load(&dir.join("a.xml")).unwrap().0, path);
        fs::remove_dir_all(&dir).unwrap();
    }
}

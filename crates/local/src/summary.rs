//! `--summary` and watch mode: counts per state and per process, the
//! CLOSE_WAIT / TIME_WAIT warnings, and the difference of two snapshots.
//!
//! Thresholds (chosen to stay quiet on healthy busy servers):
//! - [`CLOSE_WAIT_PER_PROCESS`]: 100 CLOSE_WAIT sockets held by one
//!   process. CLOSE_WAIT means the peer closed and the program never
//!   called `close`, so a pile is a descriptor leak in that program.
//! - TIME_WAIT: [`TIME_WAIT_TOTAL`] (10,000) sockets in all, or more than
//!   [`TIME_WAIT_EPHEMERAL_SHARE`] (50 %) of the ephemeral port range
//!   (`/proc/sys/net/ipv4/ip_local_port_range`), whichever is lower: past
//!   that, new outgoing connections to the same peer start failing with
//!   `EADDRNOTAVAIL`. TIME_WAIT sockets have no owner, so the warning
//!   names the busiest remote endpoint and local port instead.

use crate::model::{Proto, Snapshot, SocketEntry, State};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;

/// CLOSE_WAIT sockets one process may hold before a warning.
pub const CLOSE_WAIT_PER_PROCESS: usize = 100;
/// TIME_WAIT sockets in all before a warning.
pub const TIME_WAIT_TOTAL: usize = 10_000;
/// Share of the ephemeral port range in TIME_WAIT before a warning.
pub const TIME_WAIT_EPHEMERAL_SHARE: f64 = 0.5;

/// A pile-up worth telling the user about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Warning {
    /// One process holds many CLOSE_WAIT sockets.
    CloseWait {
        /// Its pid (0 when the owner is unknown).
        pid: u32,
        /// Its name (or `local port N` when the owner is unknown).
        name: String,
        /// How many.
        count: usize,
    },
    /// Many TIME_WAIT sockets.
    TimeWait {
        /// How many.
        count: usize,
        /// The threshold crossed.
        threshold: usize,
        /// The remote endpoint with most of them, and its count.
        top_remote: Option<(SocketAddr, usize)>,
        /// The local port with most of them, and its count.
        top_local_port: Option<(u16, usize)>,
    },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::CloseWait { pid, name, count } => {
                let who = crate::format::escape(name);
                write!(f, "{count} sockets in CLOSE_WAIT held by {who}")?;
                if *pid != 0 {
                    write!(f, " (pid {pid})")?;
                }
                write!(f, ": it does not close connections its peers closed")
            }
            Warning::TimeWait {
                count,
                threshold,
                top_remote,
                top_local_port,
            } => {
                write!(f, "{count} sockets in TIME_WAIT (threshold {threshold})")?;
                if let Some((addr, n)) = top_remote {
                    write!(f, "; most to {addr} ({n})")?;
                }
                if let Some((port, n)) = top_local_port {
                    write!(f, "; busiest local port {port} ({n})")?;
                }
                Ok(())
            }
        }
    }
}

/// Counts of one snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Sockets in all.
    pub total: usize,
    /// (protocol, state) → count.
    pub per_state: BTreeMap<(Proto, State), usize>,
    /// (pid, name) → sockets held, most first.
    pub per_process: Vec<(u32, String, usize)>,
    /// Sockets with no known owner.
    pub unowned: usize,
    /// Pile-ups.
    pub warnings: Vec<Warning>,
}

/// The ephemeral port range of the calling thread's namespace.
pub fn ephemeral_range() -> Option<(u16, u16)> {
    let t = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let mut it = t.split_ascii_whitespace().map(|w| w.parse::<u16>().ok());
    Some((it.next()??, it.next()??))
}

fn top<K: Ord + Copy>(counts: HashMap<K, usize>) -> Option<(K, usize)> {
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
}

/// Counts `snap`; `ephemeral` is the port range for the TIME_WAIT share.
pub fn summarize(snap: &Snapshot, ephemeral: Option<(u16, u16)>) -> Summary {
    let mut s = Summary {
        total: snap.sockets.len(),
        ..Default::default()
    };
    let mut procs: HashMap<u32, (String, usize)> = HashMap::new();
    let mut close_wait: HashMap<(u32, String), usize> = HashMap::new();
    let mut tw_remote: HashMap<SocketAddr, usize> = HashMap::new();
    let mut tw_port: HashMap<u16, usize> = HashMap::new();
    let mut time_wait = 0;
    for e in &snap.sockets {
        let st = e.raw.state;
        *s.per_state.entry((e.raw.proto, st)).or_default() += 1;
        if e.owners.is_empty() {
            s.unowned += 1;
        }
        for p in &e.owners {
            procs.entry(p.pid).or_insert_with(|| (p.name.clone(), 0)).1 += 1;
        }
        if e.raw.proto == Proto::Tcp && st == State::CloseWait {
            if e.owners.is_empty() {
                let key = (0, format!("local port {}", e.raw.local.port()));
                *close_wait.entry(key).or_default() += 1;
            }
            for p in &e.owners {
                *close_wait.entry((p.pid, p.name.clone())).or_default() += 1;
            }
        }
        if e.raw.proto == Proto::Tcp && st == State::TimeWait {
            time_wait += 1;
            *tw_remote.entry(e.raw.remote).or_default() += 1;
            *tw_port.entry(e.raw.local.port()).or_default() += 1;
        }
    }
    s.per_process = procs
        .into_iter()
        .map(|(pid, (name, n))| (pid, name, n))
        .collect();
    s.per_process
        .sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    let mut cw: Vec<_> = close_wait
        .into_iter()
        .filter(|(_, n)| *n >= CLOSE_WAIT_PER_PROCESS)
        .collect();
    cw.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for ((pid, name), count) in cw {
        s.warnings.push(Warning::CloseWait { pid, name, count });
    }
    let threshold = ephemeral
        .filter(|(lo, hi)| hi >= lo)
        .map(|(lo, hi)| {
            let span = f64::from(hi - lo) + 1.0;
            // Strictly more than the share: the smallest count above it.
            (span * TIME_WAIT_EPHEMERAL_SHARE).floor() as usize + 1
        })
        .map_or(TIME_WAIT_TOTAL, |share| share.min(TIME_WAIT_TOTAL));
    if time_wait >= threshold {
        s.warnings.push(Warning::TimeWait {
            count: time_wait,
            threshold,
            top_remote: top(tw_remote),
            top_local_port: top(tw_port),
        });
    }
    s
}

/// What changed between two snapshots (watch mode).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    /// Listeners (TCP LISTEN, UDP UNCONN) in the new snapshot only.
    pub opened: Vec<SocketEntry>,
    /// Listeners in the old snapshot only.
    pub closed: Vec<SocketEntry>,
    /// (protocol, state, old count, new count) for each count that moved.
    pub state_changes: Vec<(Proto, State, usize, usize)>,
}

impl Diff {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.opened.is_empty() && self.closed.is_empty() && self.state_changes.is_empty()
    }
}

type ListenKey = (Option<Arc<str>>, Proto, SocketAddr);

fn listeners(s: &Snapshot) -> HashMap<ListenKey, &SocketEntry> {
    s.sockets
        .iter()
        .filter(|e| matches!(e.raw.state, State::Listen | State::Close))
        .map(|e| ((e.netns.clone(), e.raw.proto, e.raw.local), e))
        .collect()
}

/// Compares `old` with `new`: listeners opened and closed (by namespace,
/// protocol and local address) and per-state count changes.
pub fn diff(old: &Snapshot, new: &Snapshot) -> Diff {
    let (a, b) = (listeners(old), listeners(new));
    let mut d = Diff::default();
    for (k, e) in &b {
        if !a.contains_key(k) {
            d.opened.push((*e).clone());
        }
    }
    for (k, e) in &a {
        if !b.contains_key(k) {
            d.closed.push((*e).clone());
        }
    }
    let key = |e: &SocketEntry| (e.netns.clone(), e.raw.proto, e.raw.local);
    d.opened.sort_by_key(key);
    d.closed.sort_by_key(key);
    let (sa, sb) = (summarize(old, None), summarize(new, None));
    let mut keys: Vec<_> = sa.per_state.keys().chain(sb.per_state.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let (x, y) = (
            sa.per_state.get(k).copied().unwrap_or(0),
            sb.per_state.get(k).copied().unwrap_or(0),
        );
        if x != y {
            d.state_changes.push((k.0, k.1, x, y));
        }
    }
    d
}

//! Recording every scan in the history store, as the outputs write it.
//!
//! Why by default: `portolan diff` and `portolan history` are only useful
//! if the earlier scan was kept, and nobody remembers to ask for that
//! before the scan that turns out to matter. The store is an SQLite file
//! in the user's data directory (`$XDG_DATA_HOME/portolan/history.sqlite`,
//! else `~/.local/share/portolan/history.sqlite`); `--history` picks
//! another file or a PostgreSQL URL, `--no-history` turns it off.
//!
//! A store that cannot be opened (damaged, another program's, newer,
//! unreachable) stops the command before anything is scanned or written;
//! only the default store, when its file cannot be created at all, is
//! skipped with a warning.
//! A write that fails during the scan does not stop the scan: it is
//! reported once, and recording stops there.
//!
//! Writes happen on a thread of their own, in batches: one transaction
//! for up to [`BATCH`] hosts or every [`BATCH_AGE`]. Written host by host
//! on the scan's thread, a /16 sweep (65,536 hosts with `-Pn`) took
//! several times its scan time; now the writing overlaps the scan. Hosts
//! reach the writer [`SEND_BATCH`] at a time (or after [`SEND_AGE`]; one
//! by one once probing is over): a message per host woke the writer
//! 65,536 times in a sweep, and on a busy machine those wake-ups cost the
//! scan more than the writing (+10 % against noise). A crash loses the
//! hosts not yet written, a third of a second's at most; the end of the
//! scan waits for every write.

use portolan_cli::Options;
use portolan_model::{HostResult, RunStats, ScanInfo};
use portolan_store::{Location, ScanId, ScanMeta, Store, StoreError};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Hosts written in one transaction at most.
pub const BATCH: usize = 2048;
/// The longest a batch waits to be written once its first host reached
/// the writer.
pub const BATCH_AGE: Duration = Duration::from_millis(250);
/// Hosts handed to the writer thread at once at most.
pub const SEND_BATCH: usize = 256;
/// The longest a finished host waits on the scan's thread before it is
/// handed to the writer.
pub const SEND_AGE: Duration = Duration::from_millis(100);

/// The default store's file name under the data directory.
const FILE: &str = "portolan/history.sqlite";

/// The default store: `$XDG_DATA_HOME/portolan/history.sqlite`, else
/// `$HOME/.local/share/portolan/history.sqlite` (an XDG_DATA_HOME that is
/// not absolute is ignored, as the XDG specification says); `None` when
/// neither variable is usable.
pub fn default_location() -> Option<Location> {
    let absolute = |v: std::ffi::OsString| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
    let dir = std::env::var_os("XDG_DATA_HOME")
        .and_then(absolute)
        .or_else(|| {
            std::env::var_os("HOME")
                .and_then(absolute)
                .map(|h| h.join(".local/share"))
        })?;
    Some(Location::Sqlite(dir.join(FILE)))
}

/// The store the options choose, `None` for `--no-history` (or no home
/// directory to put the default one in).
pub fn location(opts: &Options) -> Option<Location> {
    if opts.no_history {
        return None;
    }
    match &opts.history {
        Some(text) => Some(Location::parse(text)),
        None => default_location(),
    }
}

/// What the scan tells the writer thread.
enum Msg {
    Begin(ScanInfo),
    Hosts(Vec<HostResult>),
    End(RunStats),
}

/// Records one scan into a store, on a writer thread.
pub struct Recorder {
    tx: Option<Sender<Msg>>,
    /// Finished hosts not yet handed to the writer, and when the first
    /// of them came.
    outbox: Vec<HostResult>,
    outbox_since: Option<Instant>,
    /// Probing is over: hosts come one by one from the host stages, and
    /// each is handed over at once (no progress report would send it).
    eager: bool,
    thread: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
}

/// What the writer thread tells the scan's thread: for checkpoints,
/// which hosts are safely in the store.
#[derive(Debug, Default)]
pub struct Shared {
    /// The scan's id once recorded (0 before).
    scan: AtomicI64,
    /// Hosts committed so far, in the order they were sent; `u64::MAX`
    /// once recording has stopped (nothing more will be).
    committed: AtomicU64,
}

/// A scan `--resume` continues: its id in the store and the hosts its
/// checkpoint counts as done (the store's others are dropped).
pub struct Resumed {
    /// The scan's id.
    pub scan: ScanId,
    /// Hosts finished before the checkpoint.
    pub keep: Vec<IpAddr>,
}

impl Recorder {
    /// Opens the store the options choose; `Ok(None)` when recording is
    /// off. The store is opened here, so a bad one stops the command
    /// before anything is scanned.
    pub fn open(opts: &Options, resumed: Option<Resumed>) -> Result<Option<Recorder>, StoreError> {
        let Some(location) = location(opts) else {
            return Ok(None);
        };
        let store = match Store::open(&location) {
            Ok(store) => store,
            // The default store where it cannot be created (a read-only
            // home, another user's): the scan the user asked for still
            // runs. A store named with --history, or one that is damaged,
            // foreign or newer, stops the command.
            Err(e @ StoreError::Io { .. }) if opts.history.is_none() => {
                crate::say::err(format_args!(
                    "portolan: WARNING: {e}; this scan is not recorded"
                ));
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let mut targets = opts.targets.clone();
        if let Some(list) = &opts.input_list {
            targets.push(format!("-iL {}", list.display()));
        }
        let meta = ScanMeta {
            targets: targets.join(" "),
            seed: opts.seed,
            shard: opts.shard,
            source: "scan".into(),
            group: opts.scan_id.clone(),
        };
        let (tx, rx) = mpsc::channel();
        let shared = Arc::new(Shared::default());
        let mut writer = Writer::new(store, meta, shared.clone());
        writer.resumed = resumed;
        let thread = std::thread::Builder::new()
            .name("portolan-history".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| StoreError::Query(format!("cannot start the history writer: {e}")))?;
        Ok(Some(Recorder {
            tx: Some(tx),
            outbox: Vec::new(),
            outbox_since: None,
            eager: false,
            thread: Some(thread),
            shared,
        }))
    }

    /// The scan's id in the store, once recorded.
    pub fn scan_id(&self) -> Option<ScanId> {
        Some(self.shared.scan.load(Ordering::Acquire)).filter(|&id| id != 0)
    }

    /// Hosts (in the order given to [`host`](Self::host)) safely in the
    /// store; `u64::MAX` once recording has stopped.
    pub fn committed(&self) -> u64 {
        self.shared.committed.load(Ordering::Acquire)
    }

    fn send(&mut self, m: Msg) {
        if let Some(tx) = &self.tx {
            // A writer that stopped (a failed write) has said so.
            let _ = tx.send(m);
        }
    }

    /// The scan starts.
    pub fn begin(&mut self, info: &ScanInfo) {
        self.send(Msg::Begin(info.clone()));
    }

    /// A host finished.
    pub fn host(&mut self, host: &HostResult) {
        if self.tx.is_none() {
            return;
        }
        self.outbox_since.get_or_insert_with(Instant::now);
        self.outbox.push(host.clone());
        if self.eager || self.outbox.len() >= SEND_BATCH {
            self.hand_over();
        } else {
            self.tick();
        }
    }

    /// Hands the waiting hosts to the writer if the first has waited
    /// [`SEND_AGE`] (called with each progress report too, so none waits
    /// longer when hosts stop coming).
    pub fn tick(&mut self) {
        if self.outbox_since.is_some_and(|t| t.elapsed() >= SEND_AGE) {
            self.hand_over();
        }
    }

    /// Probing is over (see `eager`).
    pub fn probing_done(&mut self) {
        self.eager = true;
        self.hand_over();
    }

    fn hand_over(&mut self) {
        self.outbox_since = None;
        if !self.outbox.is_empty() {
            let hosts = std::mem::take(&mut self.outbox);
            self.send(Msg::Hosts(hosts));
        }
    }

    /// The scan ended: every write is done when this returns.
    pub fn end(&mut self, stats: &RunStats) {
        self.hand_over();
        self.send(Msg::End(stats.clone()));
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // Without an end (an error path): what was sent is still written.
        self.hand_over();
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The writer thread's state.
struct Writer {
    store: Store,
    meta: ScanMeta,
    scan: Option<ScanId>,
    /// Set after the first failed write: recording has stopped.
    failed: bool,
    /// Finished hosts not yet written, and when the first of them came.
    waiting: Vec<HostResult>,
    first_waiting: Option<Instant>,
    /// What the scan's thread reads back.
    shared: Arc<Shared>,
    /// The scan `--resume` continues.
    resumed: Option<Resumed>,
}

impl Writer {
    fn new(store: Store, meta: ScanMeta, shared: Arc<Shared>) -> Writer {
        Writer {
            store,
            meta,
            scan: None,
            failed: false,
            waiting: Vec::new(),
            first_waiting: None,
            shared,
            resumed: None,
        }
    }

    fn run(mut self, rx: Receiver<Msg>) {
        loop {
            let wait = match self.first_waiting {
                Some(t) => BATCH_AGE.saturating_sub(t.elapsed()),
                None => BATCH_AGE,
            };
            match rx.recv_timeout(wait) {
                Ok(Msg::Begin(info)) => {
                    let r = match &self.resumed {
                        Some(re) => self.store.resume_scan(re.scan, &re.keep).map(|()| re.scan),
                        None => self.store.begin_scan(&info, &self.meta),
                    };
                    self.scan = self.check(r);
                    if let Some(id) = self.scan {
                        self.shared.scan.store(id, Ordering::Release);
                    }
                }
                Ok(Msg::Hosts(hosts)) => {
                    if self.scan.is_some() && !self.failed {
                        self.first_waiting.get_or_insert_with(Instant::now);
                        self.waiting.extend(hosts);
                        if self.waiting.len() >= BATCH {
                            self.flush();
                        }
                    }
                }
                Ok(Msg::End(stats)) => {
                    self.flush();
                    if let Some(id) = self.scan.filter(|_| !self.failed) {
                        let resumed = self.resumed.is_some();
                        let r = self.store.finish_scan_as(id, &stats, resumed);
                        self.check(r);
                    }
                    return;
                }
                Err(RecvTimeoutError::Timeout) => self.flush(),
                Err(RecvTimeoutError::Disconnected) => {
                    self.flush();
                    return;
                }
            }
            if self.first_waiting.is_some_and(|t| t.elapsed() >= BATCH_AGE) {
                self.flush();
            }
        }
    }

    /// Writes the waiting hosts in one transaction.
    fn flush(&mut self) {
        let hosts = std::mem::take(&mut self.waiting);
        self.first_waiting = None;
        if let (Some(id), false, false) = (self.scan, self.failed, hosts.is_empty()) {
            let r = self.store.add_hosts(id, &hosts);
            if self.check(r).is_some() {
                self.shared
                    .committed
                    .fetch_add(hosts.len() as u64, Ordering::AcqRel);
            }
        }
    }

    /// Passes a write's result on; the first failure is reported and
    /// stops recording.
    fn check<T>(&mut self, r: Result<T, StoreError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                if !self.failed {
                    crate::say::err(format_args!(
                        "portolan: {e}; the rest of this scan is not recorded"
                    ));
                }
                self.failed = true;
                self.shared.committed.store(u64::MAX, Ordering::Release);
                None
            }
        }
    }
}

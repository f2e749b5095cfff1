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

use portolan_cli::Options;
use portolan_model::{HostResult, RunStats, ScanInfo};
use portolan_store::{Location, ScanId, ScanMeta, Store, StoreError};
use std::path::PathBuf;

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

/// Records one scan into a store.
pub struct Recorder {
    store: Store,
    meta: ScanMeta,
    scan: Option<ScanId>,
    /// Set after the first failed write: recording has stopped.
    failed: bool,
}

impl Recorder {
    /// Opens the store the options choose; `Ok(None)` when recording is
    /// off.
    pub fn open(opts: &Options) -> Result<Option<Recorder>, StoreError> {
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
        Ok(Some(Recorder {
            store,
            meta: ScanMeta {
                targets: targets.join(" "),
                seed: opts.seed,
                shard: opts.shard,
                source: "scan".into(),
                group: opts.scan_id.clone(),
            },
            scan: None,
            failed: false,
        }))
    }

    /// The scan starts.
    pub fn begin(&mut self, info: &ScanInfo) {
        let r = self.store.begin_scan(info, &self.meta);
        if let Some(id) = self.check(r) {
            self.scan = Some(id);
        }
    }

    /// A host finished.
    pub fn host(&mut self, host: &HostResult) {
        if let Some(id) = self.scan.filter(|_| !self.failed) {
            let r = self.store.add_host(id, host);
            self.check(r);
        }
    }

    /// The scan ended.
    pub fn end(&mut self, stats: &RunStats) {
        if let Some(id) = self.scan.filter(|_| !self.failed) {
            let r = self.store.finish_scan(id, stats);
            self.check(r);
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
                None
            }
        }
    }
}

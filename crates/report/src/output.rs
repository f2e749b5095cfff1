//! `-oH FILE`: the report of a running scan, kept complete on disk.
//!
//! Why rewritten and not streamed: the page's summary and charts sit
//! above its table and count every host, so an HTML report cannot be
//! appended to as nmap's formats are. Instead the file is written when
//! the scan starts, rewritten as hosts finish (at most every
//! [`MIN_GAP`], and never taking more than a tenth of the scan's time),
//! and written a last time at the end, after an interrupt too. Each write
//! goes to a temporary file beside the target and is renamed over it, so
//! the file is always a complete report: Ctrl-C, even a second one that
//! exits at once, leaves the last complete version.

use crate::{render, ReportError, ReportHost, ReportScan};
use portolan_model::{HostResult, RunStats, ScanInfo};
use portolan_output::OutputFormat;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The shortest time between two rewrites during a scan.
pub const MIN_GAP: Duration = Duration::from_secs(5);

/// The `-oH` output: gathers the scan and rewrites the report file.
pub struct HtmlFile {
    path: PathBuf,
    scan: Option<ReportScan>,
    next_write: Instant,
    /// Hosts of the earlier runs of a resumed scan.
    earlier: Vec<HostResult>,
}

impl HtmlFile {
    /// A report to be written to `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        HtmlFile {
            path: path.into(),
            scan: None,
            next_write: Instant::now(),
            earlier: Vec::new(),
        }
    }

    /// A resumed scan's report: `earlier` are the hosts its earlier runs
    /// finished (read back from its other outputs or its history store),
    /// so the report holds the whole scan, as `-oX` and `-oJ` do.
    pub fn continuing(mut self, earlier: Vec<HostResult>) -> Self {
        self.earlier = earlier;
        self
    }

    fn write(&mut self) -> io::Result<()> {
        let Some(scan) = &self.scan else {
            return Ok(());
        };
        let started = Instant::now();
        let html = render(std::slice::from_ref(scan)).map_err(io::Error::other)?;
        write_atomic(&self.path, html.as_bytes()).map_err(io::Error::other)?;
        let took = started.elapsed();
        self.next_write = Instant::now() + MIN_GAP.max(took * 10);
        Ok(())
    }
}

impl OutputFormat for HtmlFile {
    fn begin(&mut self, info: &ScanInfo) -> io::Result<()> {
        let mut scan = ReportScan::new(info.clone());
        scan.hosts = self
            .earlier
            .drain(..)
            .map(|h| ReportHost::new(&h))
            .collect();
        self.scan = Some(scan);
        self.write()
    }

    fn host(&mut self, host: &HostResult) -> io::Result<()> {
        if let Some(scan) = &mut self.scan {
            scan.hosts.push(ReportHost::new(host));
        }
        if Instant::now() >= self.next_write {
            self.write()?;
        }
        Ok(())
    }

    fn warning(&mut self, msg: &str) -> io::Result<()> {
        if let Some(scan) = &mut self.scan {
            scan.warnings.push(msg.to_owned());
        }
        Ok(())
    }

    fn end(&mut self, stats: &RunStats) -> io::Result<()> {
        if let Some(scan) = &mut self.scan {
            scan.stats = Some(stats.clone());
        }
        self.write()
    }
}

/// Writes `bytes` to `path` through a temporary file in the same
/// directory and a rename, so `path` is never seen half written.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let fail = |source: io::Error| ReportError::Write {
        path: path.display().to_string(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().map_or_else(
        || "report.html".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_data()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(fail)
}

//! The output formats, the progress line and the history store, as the
//! session's observer.
//!
//! Why in the binary: which files to write, and that standard output gets
//! normal output unless a format was sent to `-`, are command-line
//! decisions; the session only hands out events.

use crate::chatter::Chatter;
use crate::checkpoint::{Checkpointer, Counting, FileMark};
use crate::history::Recorder;
use crate::progress::Reporter;
use portolan_cli::OutputOptions as Flags;
use portolan_model::{HostResult, RunStats, ScanInfo};
use portolan_output::{OutputFormat, OutputOptions, Outputs};
use portolan_session::{Progress, ScanObserver, StopHandle};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// An output file that cannot be created.
#[derive(Debug)]
pub struct OpenError {
    path: PathBuf,
    source: io::Error,
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot write output file \"{}\": {}",
            portolan_targets::escape_token(&self.path.to_string_lossy()),
            self.source
        )
    }
}

/// Each output file's path and a count of its bytes (for checkpoints).
pub type Counters = Vec<(PathBuf, Arc<AtomicU64>)>;

/// Opens every output the flags ask for. A format sent to `-` takes
/// standard output's place; otherwise normal output goes there, and the
/// second value is true.
/// `version_scan` says `-sV` ran. `resume` holds the files' lengths at a
/// checkpoint: each file is cut there and continued, without a second
/// header; `earlier` are the hosts the checkpoint's earlier runs
/// finished, for the HTML report, which is rewritten whole.
pub fn open(
    o: &Flags,
    version_scan: bool,
    resume: Option<&[FileMark]>,
    earlier: Vec<HostResult>,
) -> Result<(Outputs, bool, Counters), OpenError> {
    let oo = OutputOptions {
        verbose: o.verbose,
        reason: o.reason,
        open_only: o.open_only,
        debugging: o.debug,
        version_scan,
    };
    let mut outputs = Outputs::default();
    let mut counters = Counters::new();
    let mut stdout_taken = false;
    type Make = fn(Box<dyn Write + Send>, OutputOptions) -> Box<dyn OutputFormat>;
    let files: [(&Option<PathBuf>, Make); 4] = [
        (&o.normal, portolan_output::normal_file),
        (&o.xml, portolan_output::xml),
        (&o.grepable, portolan_output::grepable),
        (&o.json, portolan_output::json),
    ];
    for (path, make) in files {
        let Some(path) = path else { continue };
        if path.as_os_str() == "-" {
            stdout_taken = true;
            outputs.push(make(Box::new(io::stdout()), oo));
        } else {
            let mark = resume.and_then(|ms| ms.iter().find(|m| &m.path == path));
            let count = Arc::new(AtomicU64::new(mark.map_or(0, |m| m.len)));
            counters.push((path.clone(), count.clone()));
            let format = make(create(path, mark.map(|m| m.len), count)?, oo);
            match mark {
                Some(_) => outputs.push(Box::new(Continued(format))),
                None => outputs.push(format),
            }
        }
    }
    if let Some(path) = &o.html {
        // Written when the scan starts, rewritten as hosts finish and at
        // the end; checked now so a bad path fails before the scan.
        check_writable(path)?;
        outputs.push(Box::new(
            portolan_report::HtmlFile::new(path).continuing(earlier),
        ));
    }
    if !stdout_taken {
        outputs.push(portolan_output::normal(Box::new(io::stdout()), oo));
    }
    Ok((outputs, !stdout_taken, counters))
}

/// A format continuing a file a checkpoint cut: its header is there
/// already.
struct Continued(Box<dyn OutputFormat>);

impl OutputFormat for Continued {
    fn begin(&mut self, _: &ScanInfo) -> io::Result<()> {
        Ok(())
    }

    fn host(&mut self, host: &HostResult) -> io::Result<()> {
        self.0.host(host)
    }

    fn warning(&mut self, msg: &str) -> io::Result<()> {
        self.0.warning(msg)
    }

    fn end(&mut self, stats: &RunStats) -> io::Result<()> {
        self.0.end(stats)
    }
}

/// Fails as [`create`] would, without truncating an existing file (the
/// HTML report replaces it by a rename once the scan starts).
fn check_writable(path: &Path) -> Result<(), OpenError> {
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map(drop)
        .map_err(|source| OpenError {
            path: path.to_path_buf(),
            source,
        })
}

/// Creates `path`, or with `cut` truncates it to that length and appends;
/// `count` counts the bytes written.
fn create(
    path: &Path,
    cut: Option<u64>,
    count: Arc<AtomicU64>,
) -> Result<Box<dyn Write + Send>, OpenError> {
    let opened = match cut {
        None => File::create(path),
        Some(len) => std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(len).map(|()| f))
            .and_then(|mut f| io::Seek::seek(&mut f, io::SeekFrom::End(0)).map(|_| f)),
    };
    let f = opened.map_err(|source| OpenError {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Box::new(BufWriter::new(Counting::new(f, count))))
}

/// The outputs and the progress line behind one observer; the line is
/// cleared before anything is written under it.
pub struct Terminal {
    outputs: Outputs,
    reporter: Reporter,
    stop: StopHandle,
    pipe_closed: bool,
    chatter: Option<Chatter>,
    history: Option<Recorder>,
    live: bool,
    checkpoint: Option<Checkpointer>,
}

impl Terminal {
    /// Feeds `outputs`, showing progress with `reporter`; `stop` ends the
    /// scan when standard output's reader goes away (`| head`): nobody is
    /// left to read the rest.
    pub fn new(outputs: Outputs, reporter: Reporter, stop: StopHandle) -> Self {
        Terminal {
            outputs,
            reporter,
            stop,
            pipe_closed: false,
            chatter: None,
            history: None,
            live: false,
            checkpoint: None,
        }
    }

    /// Keeps a checkpoint for `--resume` as hosts are written.
    pub fn with_checkpoint(mut self, checkpoint: Option<Checkpointer>) -> Self {
        self.checkpoint = checkpoint;
        self
    }

    /// Hosts the store has committed (all of them without a store), and
    /// the scan's id there.
    fn committed(&self) -> (u64, Option<i64>) {
        match &self.history {
            Some(h) => (h.committed(), h.scan_id()),
            None => (u64::MAX, None),
        }
    }

    /// Records the scan in a history store as well.
    pub fn with_history(mut self, history: Option<Recorder>) -> Self {
        self.history = history;
        self
    }

    /// `--live`: open ports on standard error as their hosts' ports
    /// become known (see [`crate::live`]).
    pub fn with_live(mut self, live: bool) -> Self {
        self.live = live;
        self
    }

    /// Adds `-v`'s progress lines (standard output must hold normal output).
    pub fn with_chatter(mut self, chatter: Chatter) -> Self {
        self.chatter = Some(chatter);
        self
    }

    /// Whether standard output's reader went away, which stopped the scan.
    pub fn pipe_closed(&self) -> bool {
        self.pipe_closed
    }

    /// Passes `r` on; a broken pipe stops the scan instead, quietly (the
    /// files still get every host finished until then).
    fn check(&mut self, r: io::Result<()>) -> io::Result<()> {
        match r {
            Err(e) if crate::say::is_broken_pipe(&e) => {
                self.pipe_closed = true;
                self.stop.stop();
                Ok(())
            }
            r => r,
        }
    }
}

impl ScanObserver for Terminal {
    fn begin(&mut self, info: &ScanInfo) -> io::Result<()> {
        if let Some(h) = &mut self.history {
            h.begin(info);
        }
        let r = self.outputs.begin(info);
        if let Some(cp) = &mut self.checkpoint {
            cp.begun();
        }
        if let Some(c) = &mut self.chatter {
            c.begin();
        }
        self.check(r)
    }

    fn host(&mut self, host: &HostResult) -> io::Result<()> {
        self.reporter.clear();
        if let Some(h) = &mut self.history {
            h.host(host);
        }
        let r = self.outputs.host(host);
        let (committed, scan) = self.committed();
        if let Some(cp) = &mut self.checkpoint {
            cp.host(host, r.is_err());
            cp.tick(committed, scan);
        }
        self.check(r)
    }

    fn ports_known(&mut self, host: &HostResult) {
        self.reporter.host_up(host);
        if self.live {
            let lines = crate::live::lines(host);
            if !lines.is_empty() {
                self.reporter.clear();
                crate::say::err(format_args!("{}", lines.trim_end()));
            }
        }
        if let Some(c) = &mut self.chatter {
            self.reporter.clear();
            c.host(host);
        }
    }

    fn progress(&mut self, progress: &Progress) {
        if let Some(c) = &mut self.chatter {
            c.progress(progress.ports_total);
        }
        self.reporter.update(progress);
        if let Some(h) = &mut self.history {
            h.tick();
        }
        let (committed, scan) = self.committed();
        if let Some(cp) = &mut self.checkpoint {
            cp.tick(committed, scan);
        }
    }

    fn wants_partial(&mut self) -> bool {
        self.checkpoint.as_ref().is_some_and(Checkpointer::due)
    }

    fn partial(&mut self, hosts: &[HostResult]) {
        let (committed, scan) = self.committed();
        if let Some(cp) = &mut self.checkpoint {
            cp.snapshot(hosts);
            cp.write(committed, scan);
        }
    }

    fn probing_done(&mut self) {
        self.reporter.clear();
        if let Some(h) = &mut self.history {
            h.probing_done();
        }
        if let Some(c) = &mut self.chatter {
            c.done();
        }
    }

    fn warning(&mut self, message: &str) {
        self.reporter.clear();
        crate::say::err(format_args!("portolan: {message}"));
    }

    fn note(&mut self, note: &str) -> io::Result<()> {
        self.reporter.clear();
        let r = self.outputs.warning(note);
        self.check(r)
    }

    fn end(&mut self, stats: &RunStats) -> io::Result<()> {
        self.reporter.clear();
        if let Some(c) = &mut self.chatter {
            c.done();
        }
        // A resumed scan's closing counts are the whole scan's.
        let mut stats = stats.clone();
        if let Some(cp) = &self.checkpoint {
            let (up, down, elapsed) = cp.earlier();
            stats.hosts_up += up;
            stats.hosts_down += down;
            stats.elapsed += elapsed;
        }
        if let Some(h) = &mut self.history {
            h.end(&stats);
        }
        // After the store's last write, so every host it holds counts.
        let (committed, scan) = self.committed();
        let cut_short = stats.interrupted || stats.error.is_some();
        if let Some(cp) = &mut self.checkpoint {
            if !cut_short {
                cp.remove();
            } else {
                cp.write(committed, scan);
                // A closed pipe ends the run quietly (the checkpoint stays).
                if !self.pipe_closed {
                    crate::say::err(format_args!(
                        "portolan: to continue this scan: portolan --resume {}",
                        cp.path().display()
                    ));
                }
            }
        }
        let r = self.outputs.end(&stats);
        self.check(r)
    }
}

//! The output formats, the progress line and the history store, as the
//! session's observer.
//!
//! Why in the binary: which files to write, and that standard output gets
//! normal output unless a format was sent to `-`, are command-line
//! decisions; the session only hands out events.

use crate::chatter::Chatter;
use crate::history::Recorder;
use crate::progress::Reporter;
use portolan_cli::OutputOptions as Flags;
use portolan_model::{HostResult, RunStats, ScanInfo};
use portolan_output::{OutputFormat, OutputOptions, Outputs};
use portolan_session::{Progress, ScanObserver, StopHandle};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

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

/// Opens every output the flags ask for. A format sent to `-` takes
/// standard output's place; otherwise normal output goes there, and the
/// second value is true.
/// `version_scan` says `-sV` ran.
pub fn open(o: &Flags, version_scan: bool) -> Result<(Outputs, bool), OpenError> {
    let oo = OutputOptions {
        verbose: o.verbose,
        reason: o.reason,
        open_only: o.open_only,
        debugging: o.debug,
        version_scan,
    };
    let mut outputs = Outputs::default();
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
            outputs.push(make(create(path)?, oo));
        }
    }
    if let Some(path) = &o.html {
        // Written when the scan starts, rewritten as hosts finish and at
        // the end; checked now so a bad path fails before the scan.
        check_writable(path)?;
        outputs.push(Box::new(portolan_report::HtmlFile::new(path)));
    }
    if !stdout_taken {
        outputs.push(portolan_output::normal(Box::new(io::stdout()), oo));
    }
    Ok((outputs, !stdout_taken))
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

fn create(path: &Path) -> Result<Box<dyn Write + Send>, OpenError> {
    let f = File::create(path).map_err(|source| OpenError {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Box::new(BufWriter::new(f)))
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
    }

    fn probing_done(&mut self) {
        self.reporter.clear();
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
        if let Some(h) = &mut self.history {
            h.end(stats);
        }
        let r = self.outputs.end(stats);
        self.check(r)
    }
}

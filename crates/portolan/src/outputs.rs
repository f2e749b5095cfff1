//! The output formats and the progress line, as the session's observer.
//!
//! Why in the binary: which files to write, and that standard output gets
//! normal output unless a format was sent to `-`, are command-line
//! decisions; the session only hands out events.

use crate::progress::Reporter;
use portolan_cli::OutputOptions as Flags;
use portolan_model::{HostResult, RunStats, ScanInfo};
use portolan_output::{OutputFormat, OutputOptions, Outputs};
use portolan_session::{Progress, ScanObserver};
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
            self.path.display(),
            self.source
        )
    }
}

/// Opens every output the flags ask for. A format sent to `-` takes
/// standard output's place; otherwise normal output goes there.
pub fn open(o: &Flags) -> Result<Outputs, OpenError> {
    let oo = OutputOptions {
        verbose: o.verbose,
        reason: o.reason,
        open_only: o.open_only,
        debugging: o.debug,
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
    if !stdout_taken {
        outputs.push(portolan_output::normal(Box::new(io::stdout()), oo));
    }
    Ok(outputs)
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
}

impl Terminal {
    /// Feeds `outputs`, showing progress with `reporter`.
    pub fn new(outputs: Outputs, reporter: Reporter) -> Self {
        Terminal { outputs, reporter }
    }
}

impl ScanObserver for Terminal {
    fn begin(&mut self, info: &ScanInfo) -> io::Result<()> {
        self.outputs.begin(info)
    }

    fn host(&mut self, host: &HostResult) -> io::Result<()> {
        self.reporter.clear();
        self.outputs.host(host)
    }

    fn progress(&mut self, progress: &Progress) {
        self.reporter.update(progress);
    }

    fn probing_done(&mut self) {
        self.reporter.clear();
    }

    fn warning(&mut self, message: &str) {
        self.reporter.clear();
        eprintln!("portolan: {message}");
    }

    fn note(&mut self, note: &str) -> io::Result<()> {
        self.reporter.clear();
        self.outputs.warning(note)
    }

    fn end(&mut self, stats: &RunStats) -> io::Result<()> {
        self.reporter.clear();
        self.outputs.end(stats)
    }
}

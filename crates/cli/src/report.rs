//! `portolan report`'s options: which scan files to read, and where to
//! write the HTML report.
//!
//! Why files and not scan ids yet: the scan history store does not exist;
//! when it does, a word that is not a file can name a stored scan. The
//! files are read by the report (portolan's or nmap's XML, portolan's
//! JSON), which names a bad one in a one-line error.

use std::path::PathBuf;

/// Everything a `portolan report` command line asked for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReportOptions {
    /// The scan files, in the order given (at least one).
    pub inputs: Vec<PathBuf>,
    /// `-o FILE`: where the report goes; `None` or `-` is standard output.
    pub output: Option<PathBuf>,
}

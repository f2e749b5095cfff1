//! `portolan report`'s options: which scans to read, and where to write
//! the HTML report.
//!
//! The scans stay words as typed, as `portolan diff` takes them: a file
//! (portolan's or nmap's XML, portolan's JSON), or a stored scan (`last`,
//! an id, a tag, a `--scan-id`); the binary decides which.

use std::path::PathBuf;

/// Everything a `portolan report` command line asked for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReportOptions {
    /// The scan files, in the order given (at least one).
    pub inputs: Vec<PathBuf>,
    /// `-o FILE`: where the report goes; `None` or `-` is standard output.
    pub output: Option<PathBuf>,
    /// `--history`: the store stored scans are read from.
    pub history: Option<String>,
}

//! `portolan local`'s options: which of this machine's sockets to list,
//! and how to show them.
//!
//! The selection is `portolan_local`'s own [`LocalQuery`], filled by the
//! flag table's `local` rows; what to show is here. Like the scan's
//! options, nothing is checked against the system while parsing: state
//! names, port lists and namespaces are checked by the listing, which
//! names the culprit in a one-line error.

use crate::CliError;
use portolan_local::LocalQuery;
use std::path::PathBuf;
use std::time::Duration;

/// Everything a `portolan local` command line asked for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LocalOptions {
    /// Which sockets.
    pub query: LocalQuery,
    /// `--plain`: columns for grep and awk instead of the table.
    pub plain: bool,
    /// `-s`/`--summary`: counts per state and process, and warnings.
    pub summary: bool,
    /// `-oJ FILE`: JSON (`-` is standard output).
    pub json: Option<PathBuf>,
    /// `-oX FILE`: XML (`-` is standard output).
    pub xml: Option<PathBuf>,
    /// `--exposure SCAN` (repeatable): scans of this machine from outside
    /// to join with the listeners: files, or stored scans (`last`, an id,
    /// a tag) as `portolan diff` names them.
    pub exposure: Vec<String>,
    /// `--history`: the store `--exposure` names stored scans in.
    pub history: Option<String>,
    /// `--every TIME`: watch mode's interval.
    pub every: Option<Duration>,
    /// `--count N`: watch mode's number of samples.
    pub count: Option<u64>,
}

/// Watch intervals shorter than this would make `local` a busy loop.
const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// `--every`'s value: nmap's `<time>` syntax, at least 100 ms.
pub(crate) fn interval(flag: &str, value: &str) -> Result<Duration, CliError> {
    let d = crate::values::duration(flag, value)?;
    if d < MIN_INTERVAL {
        return Err(CliError::invalid(
            flag,
            value,
            "an interval of at least 100ms",
        ));
    }
    Ok(d)
}

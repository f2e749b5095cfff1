//! Reading scan files for `portolan report`: portolan's JSON lines, and
//! XML in nmap's format (portolan's `-oX` or nmap's own), told apart by
//! their first character.
//!
//! The reader is `portolan_output::read::read_any`; this only names the
//! file in the error.

use crate::{ReportError, ReportScan};
use portolan_output::read::read_any;
use std::io::BufReader;
use std::path::Path;

/// Reads the scan in `path` (XML or JSON) for a report.
pub fn read_scan(path: &Path) -> Result<ReportScan, ReportError> {
    let shown = path.display().to_string();
    let fail = |message: String| ReportError::Input {
        path: shown.clone(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
    let doc = read_any(BufReader::new(file)).map_err(|e| fail(e.to_string()))?;
    let name = path
        .file_name()
        .map_or(shown.clone(), |n| n.to_string_lossy().into_owned());
    Ok(ReportScan::from_document(&doc, Some(name)))
}

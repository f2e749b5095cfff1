//! Reading scan files for `portolan report`: portolan's JSON lines, and
//! XML in nmap's format (portolan's `-oX` or nmap's own), told apart by
//! their first character.
//!
//! The readers are `portolan_output::read`'s; this only picks one and
//! names the file in the error.

use crate::{ReportError, ReportScan};
use portolan_output::read::{read_json, read_xml_str, MAX_INPUT};
use std::io::Read;
use std::path::Path;

/// Reads the scan in `path` (XML or JSON) for a report.
pub fn read_scan(path: &Path) -> Result<ReportScan, ReportError> {
    let shown = path.display().to_string();
    let fail = |message: String| ReportError::Input {
        path: shown.clone(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
    let mut text = String::new();
    file.take(MAX_INPUT + 1)
        .read_to_string(&mut text)
        .map_err(|e| fail(e.to_string()))?;
    if text.len() as u64 > MAX_INPUT {
        return Err(fail(format!("larger than {MAX_INPUT} bytes")));
    }
    let body = text.trim_start_matches('\u{feff}').trim_start();
    let doc = match body.chars().next() {
        Some('<') => read_xml_str(body),
        Some('{') => read_json(body.as_bytes()),
        _ => return Err(fail("neither portolan/nmap XML nor portolan JSON".into())),
    }
    .map_err(|e| fail(e.to_string()))?;
    let name = path
        .file_name()
        .map_or(shown.clone(), |n| n.to_string_lossy().into_owned());
    Ok(ReportScan::from_document(&doc, Some(name)))
}

//! `portolan report FILE... -o report.html`: scan files (portolan's or
//! nmap's XML, portolan's JSON) into one self-contained HTML report.
//!
//! The report itself is `portolan_report`'s; this reads the files in the
//! order given, and writes the page to the file (through a temporary file
//! and a rename, so a half-written report never replaces a good one) or
//! to standard output.

use portolan_cli::report::ReportOptions;
use portolan_report::{read_scan, render, write_atomic, ReportError};
use std::process::ExitCode;

/// Runs `portolan report`; an error is one line for the user.
pub fn run(o: &ReportOptions) -> Result<ExitCode, String> {
    let scans = o
        .inputs
        .iter()
        .map(|p| read_scan(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(message)?;
    let html = render(&scans).map_err(message)?;
    match &o.output {
        Some(path) if path.as_os_str() != "-" => {
            write_atomic(path, html.as_bytes()).map_err(message)?
        }
        _ => {
            crate::say::out(&html);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The error as one line, with a file name from the command line escaped
/// and cut as every echoed token is.
fn message(e: ReportError) -> String {
    let esc = portolan_targets::escape_token;
    match e {
        ReportError::Input { path, message } => format!("{}: {}", esc(&path), one_line(&message)),
        ReportError::Write { path, source } => format!("cannot write \"{}\": {source}", esc(&path)),
        e => one_line(&e.to_string()),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

//! `portolan report [SCAN|FILE...] -o report.html`: scans into one
//! self-contained HTML report.
//!
//! The report itself is `portolan_report`'s; this reads the scans in the
//! order given, files or stored scans alike (as `portolan diff` names
//! them: `last`, an id, a tag, a `--scan-id`), and adds to each scan after
//! the first what changed since the one before it, as `portolan diff`
//! computes it. A single stored scan is compared with the stored scan of
//! the same targets before it, when there is one. The page goes to the
//! file (through a temporary file and a rename, so a half-written report
//! never replaces a good one) or to standard output.

use crate::diff::Scans;
use portolan_cli::report::ReportOptions;
use portolan_model::ScanDocument;
use portolan_report::{render, write_atomic, ChangeSet, Changes, ReportError, ReportScan};
use std::process::ExitCode;

/// Runs `portolan report`; an error is one line for the user.
pub fn run(o: &ReportOptions) -> Result<ExitCode, String> {
    let mut stored = Scans::new(o.history.clone());
    let mut docs: Vec<(ScanDocument, String)> = Vec::new();
    for input in &o.inputs {
        let word = input.to_string_lossy().into_owned();
        let doc = stored.load(&word)?;
        let name = if std::path::Path::new(&word).is_file() {
            input
                .file_name()
                .map_or(word.clone(), |n| n.to_string_lossy().into_owned())
        } else {
            format!("stored scan {word}")
        };
        docs.push((doc, name));
    }
    let mut scans: Vec<ReportScan> = docs
        .iter()
        .map(|(d, name)| ReportScan::from_document(d, Some(name.clone())))
        .collect();
    for i in 1..docs.len() {
        let (before, name) = &docs[i - 1];
        let c = Changes::between(name.clone(), before.clone(), &docs[i].0);
        scans[i].changes = Some(ChangeSet::Compared(c));
    }
    if let ([(doc, _)], [word]) = (docs.as_slice(), o.inputs.as_slice()) {
        let word = word.to_string_lossy();
        if !std::path::Path::new(word.as_ref()).is_file() {
            scans[0].changes = Some(match stored.earlier(&word)? {
                Some((id, earlier)) => {
                    ChangeSet::Compared(Changes::between(format!("stored scan {id}"), earlier, doc))
                }
                None => {
                    ChangeSet::NoEarlier("no earlier stored scan of the same targets".to_string())
                }
            });
        }
    }
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

//! Portolan's HTML report: one or more scans as ONE self-contained file.
//!
//! Why one file: nmap's XSL report needs `xsltproc` or a web server
//! (browsers refuse local stylesheets), the popular Bootstrap variant
//! loads its scripts from CDNs and fails offline, and web UIs need a
//! server. This report inlines its stylesheet, script and SVG charts,
//! fetches nothing (its content security policy forbids it), opens from
//! `file://`, and prints cleanly.
//!
//! How: scans are reduced to what a report shows ([`data`]), counted
//! once ([`summary`]), and each concern renders its own section
//! ([`section`]) through minijinja templates with HTML auto-escaping
//! ([`templates`]). The host × port table travels as JSON inside the page
//! and is filtered, sorted and paged by the page's script ([`table`]),
//! which keeps 5,000 hosts × 1,000 ports responsive. Everything from the
//! network is escaped for the context it lands in ([`escape`]): a banner
//! holding markup or script shows as text.
//!
//! Where reports come from: [`input`] reads portolan's or nmap's XML and
//! JSON files (`portolan report FILE... -o report.html`), and [`HtmlFile`]
//! is the `-oH FILE` output of a running scan.
//!
//! ```
//! use portolan_model::{ScanDocument, ScanInfo};
//! let info = ScanInfo { version: "0.1.0".into(), args: "portolan 198.18.0.1".into(),
//!     start_time: 0, scans: vec![], verbose: 0, debugging: 0 };
//! let scan = portolan_report::ReportScan::from_document(&ScanDocument::new(info), None);
//! let html = portolan_report::render(&[scan]).unwrap();
//! assert!(html.starts_with("<!DOCTYPE html>"));
//! ```

pub mod changes;
pub mod charts;
pub mod data;
pub mod escape;
pub mod findings;
pub mod input;
pub mod meta;
pub mod os;
mod output;
pub mod sample;
pub mod section;
pub mod summary;
pub mod table;
pub mod templates;

#[cfg(test)]
mod tests;

pub use changes::{ChangeSet, Changes};
pub use data::{ReportHost, ReportScan};
pub use input::read_scan;
pub use output::{write_atomic, HtmlFile};

use minijinja::context;
use serde::Serialize;

/// Rows printed at most (the screen shows one page; print shows the
/// filtered rows up to this many).
pub const PRINT_CAP: usize = 5_000;

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A template failed to compile or render (a bug, not bad input).
    #[error("report template: {0}")]
    Template(#[from] minijinja::Error),
    /// The data could not be written as JSON.
    #[error("report data: {0}")]
    Json(#[from] serde_json::Error),
    /// An input file could not be read.
    #[error("{path}: {message}")]
    Input {
        /// The file, as given.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// Writing the report failed.
    #[error("cannot write \"{path}\": {source}")]
    Write {
        /// The file, as given.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

/// The JSON the page's script reads.
#[derive(Serialize)]
struct PageData<'a> {
    table: &'a table::TableData,
    print_cap: usize,
}

/// The report of `scans` as one HTML document.
pub fn render(scans: &[ReportScan]) -> Result<String, ReportError> {
    let t = templates::Templates::new()?;
    let totals = summary::Totals::new(scans);
    let table = table::TableData::new(scans);
    let findings = findings::ranked(scans);
    let sections = vec![
        section::scans(&t, scans)?,
        section::summary(&t, &totals)?,
        section::changes(&t, scans)?,
        section::findings(&t, &findings, scans)?,
        section::charts(&t, &totals)?,
        section::table(&t, &table)?,
    ];
    let data = escape::script_json(&PageData {
        table: &table,
        print_cap: PRINT_CAP,
    })?;
    let version = scans
        .first()
        .map_or(env!("CARGO_PKG_VERSION"), |s| s.info.version.as_str());
    let subtitle = match scans {
        [one] => one.info.args.clone(),
        many => format!("{} scans", many.len()),
    };
    t.render(
        "page.html",
        context! {
            title => "Portolan scan report",
            subtitle => subtitle,
            version => version,
            generated => portolan_model::rfc3339(now()),
            csp => templates::csp(),
            css => templates::CSS,
            js => templates::JS,
            sections => minijinja::Value::from(minijinja::value::Serde(&sections)),
            data => data,
        },
    )
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

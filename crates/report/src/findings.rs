//! The "findings" section: what the checks (`-sC`, `--script`) and the
//! risk table reported, most severe first, each linked to its host and
//! port in the table, with the check's full output folded under it.
//!
//! Why ranked and not grouped by host: a reader of a large scan wants the
//! one critical finding before the hundred informational ones, wherever
//! it is; the table already groups by host.

use crate::data::ReportScan;
use portolan_model::Severity;
use serde::Serialize;
use std::net::IpAddr;

/// Findings shown at most; the rest are counted (the scan's JSON or
/// XML output has them all).
pub const MAX_SHOWN: usize = 2_000;

/// One finding, as the section lists it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// `critical` … `info`.
    pub severity: &'static str,
    /// The check (`redis-info`, `risk-hint`).
    pub check: String,
    /// The host's address.
    pub addr: String,
    /// Its name, when known.
    pub name: String,
    /// `22/tcp`, or empty for a host's finding.
    pub port: String,
    /// The one-line summary.
    pub summary: String,
    /// The check's text output.
    pub output: String,
    /// The scan it came from (1-based), when the report has several.
    pub scan: usize,
}

/// Every finding of `scans`, most severe first, then by host and port.
pub fn ranked(scans: &[ReportScan]) -> Vec<Finding> {
    let mut all: Vec<(Severity, IpAddr, Option<u16>, Finding)> = Vec::new();
    for (si, scan) in scans.iter().enumerate() {
        for h in &scan.hosts {
            for s in &h.scripts {
                let port = match (s.port, s.protocol) {
                    (Some(p), Some(proto)) => format!("{p}/{proto}"),
                    (Some(p), None) => p.to_string(),
                    _ => String::new(),
                };
                all.push((
                    s.severity,
                    h.addr,
                    s.port,
                    Finding {
                        severity: s.severity.as_str(),
                        check: s.id.clone(),
                        addr: h.addr.to_string(),
                        name: h.name.clone().unwrap_or_default(),
                        port,
                        summary: s.summary.clone(),
                        output: s.output.clone(),
                        scan: si + 1,
                    },
                ));
            }
        }
    }
    all.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(a.1.cmp(&b.1))
            .then(a.2.cmp(&b.2))
            .then_with(|| a.3.check.cmp(&b.3.check))
    });
    all.into_iter().map(|x| x.3).collect()
}

/// How many findings of each severity, most severe first.
pub fn by_severity(findings: &[Finding]) -> Vec<(Severity, u64)> {
    Severity::DESCENDING
        .iter()
        .map(|s| {
            let n = findings.iter().filter(|f| f.severity == s.as_str()).count();
            (*s, n as u64)
        })
        .collect()
}

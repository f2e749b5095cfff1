//! Check results in the text formats: nmap's script layout under ports
//! and hosts (normal output), the finding IDs (grepable), and the
//! "Findings" summary with its counts per severity at the end of a run.
//!
//! Everything here came from the network through a check, so every line
//! goes through [`clean`] before it is written.

use crate::common::clean;
use portolan_model::{HostResult, Protocol, ScriptResult, Severity};
use std::fmt::Write as _;
use std::net::IpAddr;

/// The lines of one script as nmap draws them: a one-line output on the
/// `|_id: ` line; longer output on indented lines below `| id: `.
pub(crate) fn script_block(out: &mut String, r: &ScriptResult) {
    let lines: Vec<String> = r.output.lines().map(|l| clean(l).into_owned()).collect();
    match lines.as_slice() {
        [] => {
            let _ = writeln!(out, "|_{}: {}", clean(&r.id), clean(&r.summary));
        }
        [one] => {
            let _ = writeln!(out, "|_{}: {one}", clean(&r.id));
        }
        many => {
            let _ = writeln!(out, "| {}: ", clean(&r.id));
            for (i, l) in many.iter().enumerate() {
                let lead = if i + 1 == many.len() { "|_" } else { "| " };
                let _ = writeln!(out, "{lead}  {l}");
            }
        }
    }
}

/// The scripts of one port.
pub(crate) fn port_scripts(
    host: &HostResult,
    port: u16,
    protocol: Protocol,
) -> impl Iterator<Item = &ScriptResult> {
    host.scripts
        .iter()
        .filter(move |r| r.on_port(port, protocol))
}

/// The scripts of the host itself (no port).
pub(crate) fn host_scripts(host: &HostResult) -> impl Iterator<Item = &ScriptResult> {
    host.scripts.iter().filter(|r| r.port.is_none())
}

/// nmap's `Host script results:` section, if the host has any.
pub(crate) fn host_script_section(out: &mut String, host: &HostResult) {
    let mut any = false;
    for r in host_scripts(host) {
        if !any {
            out.push_str("\nHost script results:\n");
            any = true;
        }
        script_block(out, r);
    }
}

/// The grepable `Findings:` field: `port/proto/id/severity` per proven
/// finding (risk hints are left out), or `None`.
pub(crate) fn grepable_findings(host: &HostResult) -> Option<String> {
    let list: Vec<String> = host
        .scripts
        .iter()
        .filter(|r| r.id != "risk-hint")
        .map(|r| {
            let at = match (r.port, r.protocol) {
                (Some(p), Some(proto)) => format!("{p}/{proto}"),
                _ => "host".into(),
            };
            format!(
                "{at}/{}/{}",
                clean(&r.id).replace(['/', ','], "|"),
                r.severity
            )
        })
        .collect();
    (!list.is_empty()).then(|| list.join(", "))
}

/// One line of the findings summary.
#[derive(Clone, Debug)]
struct Line {
    severity: Severity,
    addr: IpAddr,
    at: Option<(u16, Protocol)>,
    id: String,
    summary: String,
}

/// The findings of a run, gathered host by host for the summary at its end.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    lines: Vec<Line>,
}

impl Findings {
    /// Records a written host's results.
    pub(crate) fn add(&mut self, host: &HostResult) {
        for r in &host.scripts {
            self.lines.push(Line {
                severity: r.severity,
                addr: host.addr,
                at: r.port.zip(r.protocol),
                id: r.id.clone(),
                summary: r.summary.clone(),
            });
        }
    }

    /// The "Findings" section, most severe first; empty without findings.
    pub(crate) fn section(&self, prefix: &str) -> String {
        let mut out = String::new();
        if self.lines.is_empty() {
            return out;
        }
        let mut lines: Vec<&Line> = self.lines.iter().collect();
        lines.sort_by(|a, b| {
            (b.severity, a.addr, a.at, &a.id).cmp(&(a.severity, b.addr, b.at, &b.id))
        });
        let _ = writeln!(out, "{prefix}Findings ({}):", lines.len());
        for l in lines {
            let at = match l.at {
                Some((p, proto)) => format!("{}:{p}/{proto}", l.addr),
                None => l.addr.to_string(),
            };
            let sev = l.severity.as_str().to_ascii_uppercase();
            let _ = writeln!(
                out,
                "{prefix}  {sev:<8} {at} {}: {}",
                clean(&l.id),
                clean(&l.summary)
            );
        }
        out
    }

    /// `; findings: 1 high, 3 info` for the closing line; empty without
    /// findings.
    pub(crate) fn counts(&self) -> String {
        let parts: Vec<String> = Severity::DESCENDING
            .iter()
            .filter_map(|s| {
                let n = self.lines.iter().filter(|l| l.severity == *s).count();
                (n > 0).then(|| format!("{n} {s}"))
            })
            .collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!("; findings: {}", parts.join(", "))
        }
    }
}

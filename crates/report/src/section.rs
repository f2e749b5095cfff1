//! The report's sections, one per concern, in page order.
//!
//! Why sections: each concern (the scans' metadata, the summary cards,
//! the charts, the host × port table) is one module that renders its own
//! template into a [`Section`]; the page only lays them out and links
//! them from its navigation. A new concern (changes between two scans,
//! findings) is one more module, one more template and one more line in
//! [`crate::render`]'s list.

use crate::changes::{ChangeSet, MAX_ROWS};
use crate::charts::{self, Chart};
use crate::data::ReportScan;
use crate::findings::{Finding, MAX_SHOWN};
use crate::meta::Meta;
use crate::summary::Totals;
use crate::table::TableData;
use crate::templates::Templates;
use crate::ReportError;
use minijinja::value::Serde;
use minijinja::{context, Value};
use portolan_model::PortState;

/// One section of the page: its anchor, heading and rendered body.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Section {
    /// The element id and navigation anchor (`hosts`).
    pub id: &'static str,
    /// The heading.
    pub title: &'static str,
    /// The body, escaped and ready to embed.
    pub html: String,
}

/// The scans' metadata: command, version, timing, seed, shard.
pub fn scans(t: &Templates, scans: &[ReportScan]) -> Result<Section, ReportError> {
    let metas: Vec<Meta> = scans.iter().map(Meta::new).collect();
    let title = if scans.len() == 1 { "Scan" } else { "Scans" };
    Ok(Section {
        id: "scans",
        title,
        html: t.render(
            "scans.html",
            context! { scans => Value::from(Serde(&metas)) },
        )?,
    })
}

/// The summary cards.
pub fn summary(t: &Templates, totals: &Totals) -> Result<Section, ReportError> {
    Ok(Section {
        id: "summary",
        title: "Summary",
        html: t.render(
            "summary.html",
            context! {
                cards => Value::from(Serde(totals.cards())),
                findings => Value::from(Serde(totals.finding_cards())),
            },
        )?,
    })
}

/// The charts: top ports, services, products and versions, port states.
pub fn charts(t: &Templates, totals: &Totals) -> Result<Section, ReportError> {
    let states: Vec<(String, u64)> = totals
        .states
        .iter()
        .map(|(s, n)| (s.as_str().to_owned(), *n))
        .collect();
    let findings: Vec<(String, u64)> = totals
        .findings
        .iter()
        .map(|(s, n)| (s.as_str().to_owned(), *n))
        .collect();
    let list: Vec<Chart> = vec![
        charts::bars(
            "top-ports",
            "Top open ports (hosts)",
            &totals.top_ports,
            |_| "st-open",
        ),
        charts::bars(
            "services",
            "Services on open ports",
            &totals.services,
            |_| "bar",
        ),
        charts::bars(
            "products",
            "Products and versions",
            &totals.products,
            |_| "bar",
        ),
        charts::bars("port-states", "Ports by state", &states, state_class),
        charts::bars(
            "findings",
            "Findings by severity",
            &findings,
            severity_class,
        ),
        charts::bars(
            "os-families",
            "OS families (hosts up)",
            &totals.os_families,
            |_| "bar",
        ),
        charts::bars(
            "os-devices",
            "Device types (hosts up)",
            &totals.os_devices,
            |_| "bar",
        ),
    ];
    Ok(Section {
        id: "charts",
        title: "Charts",
        html: t.render(
            "charts.html",
            context! { charts => Value::from(Serde(&list)) },
        )?,
    })
}

/// One scan's changes, as the template reads them.
#[derive(serde::Serialize)]
struct ChangeView {
    scan: usize,
    source: Option<String>,
    compared: bool,
    against: String,
    why: String,
    counts: Vec<CountView>,
    rows: Vec<RowView>,
    hidden: usize,
    notes: Vec<String>,
}

#[derive(serde::Serialize)]
struct CountView {
    key: &'static str,
    label: &'static str,
    value: u64,
}

#[derive(serde::Serialize)]
struct RowView {
    kind: &'static str,
    label: &'static str,
    addr: String,
    name: String,
    port: String,
    before: String,
    after: String,
}

/// What changed since the scan before, per scan that knows.
pub fn changes(t: &Templates, scans: &[ReportScan]) -> Result<Section, ReportError> {
    let mut sets = Vec::new();
    for (i, scan) in scans.iter().enumerate() {
        let Some(set) = &scan.changes else { continue };
        let mut v = ChangeView {
            scan: i + 1,
            source: scan.source.clone(),
            compared: false,
            against: String::new(),
            why: String::new(),
            counts: Vec::new(),
            rows: Vec::new(),
            hidden: 0,
            notes: Vec::new(),
        };
        match set {
            ChangeSet::NoEarlier(why) => v.why = why.clone(),
            ChangeSet::Compared(c) => {
                v.compared = true;
                v.against = c.against.clone();
                v.counts = c
                    .counts()
                    .into_iter()
                    .map(|(k, n)| CountView {
                        key: k.key(),
                        label: k.label(),
                        value: n,
                    })
                    .collect();
                let rows = c.rows();
                v.hidden = rows.len().saturating_sub(MAX_ROWS);
                v.rows = rows
                    .into_iter()
                    .take(MAX_ROWS)
                    .map(|r| RowView {
                        kind: r.kind.key(),
                        label: r.kind.label(),
                        addr: r.addr.to_string(),
                        name: r.name.clone(),
                        port: match (r.port, r.protocol) {
                            (Some(p), Some(proto)) => format!("{p}/{proto}"),
                            _ => String::new(),
                        },
                        before: r.before.clone(),
                        after: r.after.clone(),
                    })
                    .collect();
                if c.not_compared > 0 {
                    v.notes.push(format!(
                        "{} port(s) scanned by one of the two scans only, or on a host down in one, are not compared.",
                        crate::summary::thousands(c.not_compared)
                    ));
                }
                if c.flaps > 0 {
                    v.notes.push(format!(
                        "{} open|filtered flap(s) left out (portolan diff --all shows them).",
                        c.flaps
                    ));
                }
                let unreached = c.unreached();
                if unreached > 0 {
                    v.notes.push(format!(
                        "{} host(s) of the earlier scan not reached by this one (yet): not compared.",
                        crate::summary::thousands(unreached)
                    ));
                }
            }
        }
        sets.push(v);
    }
    let none = match scans {
        [_] => "No earlier scan to compare with: this report has one scan and no history (give two scans, or a stored scan id, to portolan report).",
        _ => "No earlier scan to compare with.",
    };
    Ok(Section {
        id: "changes",
        title: "Changes",
        html: t.render(
            "changes.html",
            context! { sets => Value::from(Serde(&sets)), none => none },
        )?,
    })
}

/// The checks' findings, most severe first.
pub fn findings(
    t: &Templates,
    findings: &[Finding],
    scans: &[ReportScan],
) -> Result<Section, ReportError> {
    let checks_ran = scans
        .iter()
        .any(|s| s.info.args.split_whitespace().any(is_check_flag));
    let none = if checks_ran {
        "the checks found nothing to report."
    } else {
        "no checks ran (-sC or --script runs them)."
    };
    Ok(Section {
        id: "findings",
        title: "Findings",
        html: t.render(
            "findings.html",
            context! {
                findings => Value::from(Serde(&findings[..findings.len().min(MAX_SHOWN)])),
                hidden => findings.len().saturating_sub(MAX_SHOWN),
                multi => scans.len() > 1,
                none => none,
            },
        )?,
    })
}

/// Whether a command-line word asks for checks (`-sC`, `-A`,
/// `--script`, `-sCV`).
fn is_check_flag(w: &str) -> bool {
    w == "-A"
        || w.starts_with("--script")
        || (w.starts_with("-s") && !w.starts_with("--") && w[2..].contains('C'))
}

/// The host × port table's controls; its rows travel as JSON.
pub fn table(t: &Templates, table: &TableData) -> Result<Section, ReportError> {
    let states: Vec<&str> = PortState::ALL.iter().map(|s| s.as_str()).collect();
    Ok(Section {
        id: "hosts",
        title: "Hosts and ports",
        html: t.render(
            "table.html",
            context! {
                states => states,
                rows => table.rows.len(),
                ports => table.port_rows(),
                hosts => table.hosts.len(),
                print_cap => crate::PRINT_CAP,
            },
        )?,
    })
}

/// The stylesheet class of a severity's bar (`sev-high`).
fn severity_class(label: &str) -> &'static str {
    match label {
        "critical" => "sev-critical",
        "high" => "sev-high",
        "medium" => "sev-medium",
        "low" => "sev-low",
        _ => "sev-info",
    }
}

/// The stylesheet class of a state's bar (`st-openfiltered`).
fn state_class(label: &str) -> &'static str {
    match label {
        "open" => "st-open",
        "closed" => "st-closed",
        "filtered" => "st-filtered",
        "unfiltered" => "st-unfiltered",
        "open|filtered" => "st-openfiltered",
        "closed|filtered" => "st-closedfiltered",
        _ => "bar",
    }
}

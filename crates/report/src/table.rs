//! The host × port table's data, embedded as JSON for the page's script.
//!
//! Why rendered by script and not as HTML rows: a scan of 5,000 hosts
//! can list a hundred thousand ports, and a page of that many rows opens
//! slowly and cannot be filtered or sorted quickly. The rows go into a
//! `<script type="application/json">` block (escaped by
//! [`crate::escape::script_json`]); the page shows one page of them at a
//! time, filtered and sorted in memory, and builds cells with
//! `textContent`, so no value is ever parsed as markup.
//!
//! Each row is an array, not an object (a third of the size): `[host,
//! port, proto, state, service, version, certificate, reason, ttl,
//! scan, findings]`, where `host` indexes `hosts` (`[address, name,
//! order, os]`, `order` its rank by address for sorting, `os` OS
//! detection's best match), `port` is `null` for an up host with no port
//! listed, and `findings` names the port's check results and risk hints
//! by severity (`high redis-info`), the host's own on its first row.

use crate::data::ReportScan;
use portolan_model::{rfc3339, Certificate, PortResult, ServiceInfo};
use serde::Serialize;

/// One table row; see the module docs for the layout.
pub type Row = (
    u32,
    Option<u16>,
    &'static str,
    &'static str,
    String,
    String,
    String,
    &'static str,
    u8,
    u16,
    String,
);

/// The table: its hosts and rows, and whether it spans several scans.
#[derive(Clone, Debug, Serialize)]
pub struct TableData {
    /// `[address, name, order, os]` per host.
    pub hosts: Vec<(String, String, u32, String)>,
    /// The rows.
    pub rows: Vec<Row>,
    /// More than one scan: the page shows the scan column.
    pub multi_scan: bool,
}

impl TableData {
    /// The rows of every up host of `scans`.
    pub fn new(scans: &[ReportScan]) -> Self {
        let mut hosts = Vec::new();
        let mut addrs = Vec::new();
        let mut rows = Vec::new();
        for (si, scan) in scans.iter().enumerate() {
            let scan_no = u16::try_from(si + 1).unwrap_or(u16::MAX);
            for host in scan
                .hosts
                .iter()
                .filter(|h| h.status == portolan_model::HostStatus::Up)
            {
                let hi = hosts.len() as u32;
                let os = host.os.as_ref().map(|o| o.text.clone()).unwrap_or_default();
                hosts.push((
                    host.addr.to_string(),
                    host.name.clone().unwrap_or_default(),
                    0,
                    os,
                ));
                let first_row = rows.len();
                addrs.push(host.addr);
                if host.listed.is_empty() {
                    let note = host
                        .extra
                        .iter()
                        .map(|e| format!("{} {} {}", e.count, e.state, e.protocol))
                        .collect::<Vec<_>>()
                        .join(", ");
                    rows.push((
                        hi,
                        None,
                        "",
                        "",
                        String::new(),
                        format!("no port listed ({note})"),
                        String::new(),
                        "",
                        0,
                        scan_no,
                        String::new(),
                    ));
                }
                for p in &host.listed {
                    let mut r = row(hi, p, scan.info.start_time, scan_no);
                    r.10 = findings_text(
                        host.scripts
                            .iter()
                            .filter(|s| s.on_port(p.port, p.protocol)),
                    );
                    rows.push(r);
                }
                // The host's own findings (no port) go on its first row.
                let own = findings_text(host.scripts.iter().filter(|s| s.port.is_none()));
                if let (false, Some(r)) = (own.is_empty(), rows.get_mut(first_row)) {
                    r.10 = if r.10.is_empty() {
                        own
                    } else {
                        format!("{}; {own}", r.10)
                    };
                }
            }
        }
        let mut order: Vec<u32> = (0..hosts.len() as u32).collect();
        order.sort_by_key(|&i| addrs[i as usize]);
        for (rank, i) in order.into_iter().enumerate() {
            hosts[i as usize].2 = rank as u32;
        }
        TableData {
            hosts,
            rows,
            multi_scan: scans.len() > 1,
        }
    }

    /// Rows that name a port.
    pub fn port_rows(&self) -> usize {
        self.rows.iter().filter(|r| r.1.is_some()).count()
    }
}

fn row(host: u32, p: &PortResult, scan_start: u64, scan: u16) -> Row {
    let s = p.service.as_deref();
    (
        host,
        Some(p.port),
        p.protocol.as_str(),
        p.state.as_str(),
        s.map(service_text).unwrap_or_default(),
        s.map(ServiceInfo::version_text).unwrap_or_default(),
        s.and_then(|s| s.certificate.as_deref())
            .map(|c| cert_text(c, scan_start))
            .unwrap_or_default(),
        p.reason.as_str(),
        p.reason_ttl,
        scan,
        String::new(),
    )
}

/// `high redis-info; info risk-hint`: results by severity, most severe
/// first.
fn findings_text<'a>(results: impl Iterator<Item = &'a portolan_model::ScriptResult>) -> String {
    let mut v: Vec<&portolan_model::ScriptResult> = results.collect();
    v.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));
    v.iter()
        .map(|s| format!("{} {}", s.severity.as_str(), s.id))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `ssl/http`, as nmap's SERVICE column writes a TLS-wrapped service.
fn service_text(s: &ServiceInfo) -> String {
    match &s.tunnel {
        Some(t) => format!("{t}/{}", s.name),
        None => s.name.clone(),
    }
}

/// The certificate's subject and end of validity, `expired` when it had
/// ended when the scan started.
fn cert_text(c: &Certificate, scan_start: u64) -> String {
    let subject = c
        .subject
        .iter()
        .find(|a| a.key == "commonName")
        .map(|a| a.value.clone())
        .unwrap_or_else(|| Certificate::name_text(&c.subject));
    let until = u64::try_from(c.not_after).unwrap_or(0);
    let day = rfc3339(until).chars().take(10).collect::<String>();
    let expired = if until < scan_start { ", expired" } else { "" };
    format!("{subject} (until {day}{expired})")
}

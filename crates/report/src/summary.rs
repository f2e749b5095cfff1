//! The summary cards: hosts up and down, open ports, services, ports
//! scanned, and the counts the charts draw.
//!
//! Why one pass computing everything: the charts and the cards must agree
//! with each other and with the table, so they are all counted here, from
//! the same hosts, once.

use crate::data::ReportScan;
use portolan_model::{PortState, Severity};
use serde::Serialize;
use std::collections::HashMap;

/// One summary card.
#[derive(Clone, Debug, Serialize)]
pub struct Card {
    /// Stable key, the card's `data-card` attribute (`hosts-up`).
    pub key: &'static str,
    /// The figure.
    pub value: u64,
    /// The figure as shown, with thousands separators (`5,000`).
    pub shown: String,
    /// What it counts.
    pub label: &'static str,
}

/// Counts over every scan of a report.
#[derive(Clone, Debug, Default)]
pub struct Totals {
    /// Hosts up.
    pub hosts_up: u64,
    /// Hosts down.
    pub hosts_down: u64,
    /// Open ports over all hosts.
    pub open_ports: u64,
    /// Ports scanned over all hosts, in any state.
    pub ports_scanned: u64,
    /// Ports per state, in [`PortState::ALL`] order.
    pub states: Vec<(PortState, u64)>,
    /// Open ports per `port/proto`, most first.
    pub top_ports: Vec<(String, u64)>,
    /// Open ports per service name, most first.
    pub services: Vec<(String, u64)>,
    /// Open ports per product and version, most first.
    pub products: Vec<(String, u64)>,
    /// Findings per severity, most severe first.
    pub findings: Vec<(Severity, u64)>,
    /// Up hosts per OS family (of OS detection's best match), most first.
    pub os_families: Vec<(String, u64)>,
    /// Up hosts per device type, most first.
    pub os_devices: Vec<(String, u64)>,
}

impl Totals {
    /// Counts `scans`.
    pub fn new(scans: &[ReportScan]) -> Self {
        let mut t = Totals::default();
        let mut states: HashMap<PortState, u64> = HashMap::new();
        let mut ports: HashMap<String, u64> = HashMap::new();
        let mut services: HashMap<String, u64> = HashMap::new();
        let mut products: HashMap<String, u64> = HashMap::new();
        let mut findings: HashMap<Severity, u64> = HashMap::new();
        let mut families: HashMap<String, u64> = HashMap::new();
        let mut devices: HashMap<String, u64> = HashMap::new();
        for scan in scans {
            t.hosts_up += scan.hosts_up();
            t.hosts_down += scan.hosts_down();
            for host in &scan.hosts {
                for f in &host.scripts {
                    *findings.entry(f.severity).or_default() += 1;
                }
                if let Some(os) = host
                    .os
                    .as_ref()
                    .filter(|_| host.status == portolan_model::HostStatus::Up)
                {
                    *families.entry(os.family.clone()).or_default() += 1;
                    *devices.entry(os.device.clone()).or_default() += 1;
                }
                for p in &host.listed {
                    *states.entry(p.state).or_default() += 1;
                }
                for e in &host.extra {
                    *states.entry(e.state).or_default() += u64::from(e.count);
                }
                for p in host.open_ports() {
                    t.open_ports += 1;
                    *ports
                        .entry(format!("{}/{}", p.port, p.protocol))
                        .or_default() += 1;
                    let Some(s) = &p.service else { continue };
                    *services.entry(s.name.clone()).or_default() += 1;
                    if let Some(product) = &s.product {
                        let label = match &s.version {
                            Some(v) => format!("{product} {v}"),
                            None => product.clone(),
                        };
                        *products.entry(label).or_default() += 1;
                    }
                }
            }
        }
        t.states = PortState::ALL
            .iter()
            .map(|s| (*s, states.get(s).copied().unwrap_or(0)))
            .collect();
        t.ports_scanned = t.states.iter().map(|(_, n)| n).sum();
        t.top_ports = ranked(ports);
        t.services = ranked(services);
        t.products = ranked(products);
        t.findings = Severity::DESCENDING
            .iter()
            .map(|s| (*s, findings.get(s).copied().unwrap_or(0)))
            .collect();
        t.os_families = ranked(families);
        t.os_devices = ranked(devices);
        t
    }

    /// The cards, in display order.
    pub fn cards(&self) -> Vec<Card> {
        vec![
            card("hosts-up", self.hosts_up, "hosts up"),
            card("hosts-down", self.hosts_down, "hosts down"),
            card("open-ports", self.open_ports, "open ports"),
            card("services", self.services.len() as u64, "distinct services"),
            card("ports-scanned", self.ports_scanned, "ports scanned"),
        ]
    }

    /// The findings cards, one per severity, most severe first.
    pub fn finding_cards(&self) -> Vec<Card> {
        self.findings
            .iter()
            .map(|(s, n)| card(severity_key(*s), *n, s.as_str()))
            .collect()
    }
}

fn card(key: &'static str, value: u64, label: &'static str) -> Card {
    Card {
        key,
        value,
        shown: thousands(value),
        label,
    }
}

/// A severity's card key (`findings-high`).
fn severity_key(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "findings-critical",
        Severity::High => "findings-high",
        Severity::Medium => "findings-medium",
        Severity::Low => "findings-low",
        Severity::Info => "findings-info",
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Counts sorted most first, ties by name, so reports are reproducible.
fn ranked(counts: HashMap<String, u64>) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

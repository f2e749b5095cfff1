//! Check results (`-sC`, `--script`): what a check proved about a port or
//! a host, as structured data.
//!
//! nmap's scripts return a tree of keyed elements and tables and a text
//! rendering of it; every output format shows one or the other (normal
//! output the text, XML `<elem>`/`<table>`, JSON both). Results carry a
//! severity on nuclei's scale so that a run can end with its findings
//! sorted by what matters most.

use crate::port::Protocol;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How much a finding matters: nuclei's scale (CVSS 3 bands where a CVE
/// applies). Ordered from least to most severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; proves no weakness by itself.
    Info,
    /// A small weakness.
    Low,
    /// A weakness that helps an attacker.
    Medium,
    /// Data or control exposed to anyone who can connect.
    High,
    /// Remote compromise without credentials.
    Critical,
}

impl Severity {
    /// Every severity, most severe first (the order of a findings list).
    pub const DESCENDING: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// `info`, `low`, `medium`, `high` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The severity named `s` (as [`as_str`](Self::as_str) writes it).
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::DESCENDING.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One node of a script's structured output: a keyed (or unkeyed) value,
/// or a table of further nodes, as nmap's `<elem>` and `<table>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScriptItem {
    /// `<elem key="k">value</elem>`.
    Elem {
        /// The key; `None` for list entries.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
        /// The value, as text.
        value: String,
    },
    /// `<table key="k">...</table>`.
    Table {
        /// The key; `None` for list entries.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
        /// The table's contents.
        items: Vec<ScriptItem>,
    },
}

impl ScriptItem {
    /// A keyed element.
    pub fn elem(key: impl Into<String>, value: impl Into<String>) -> Self {
        ScriptItem::Elem {
            key: Some(key.into()),
            value: value.into(),
        }
    }

    /// An unkeyed element (a list entry).
    pub fn value(value: impl Into<String>) -> Self {
        ScriptItem::Elem {
            key: None,
            value: value.into(),
        }
    }

    /// A keyed table.
    pub fn table(key: impl Into<String>, items: Vec<ScriptItem>) -> Self {
        ScriptItem::Table {
            key: Some(key.into()),
            items,
        }
    }
}

/// What one check (or risk hint) reported on one port or host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptResult {
    /// The check's name (`redis-info`), or `risk-hint` for a hint from the
    /// risk table.
    pub id: String,
    /// The port it concerns; `None` for a host check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The port's protocol; `None` for a host check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// How much the finding matters.
    pub severity: Severity,
    /// One line for the findings summary (`Redis answers INFO without
    /// authentication`).
    pub summary: String,
    /// The text nmap's normal output shows (lines joined by `\n`).
    pub output: String,
    /// The structured output.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<ScriptItem>,
}

impl ScriptResult {
    /// Whether the result belongs to `port`/`protocol`.
    pub fn on_port(&self, port: u16, protocol: Protocol) -> bool {
        self.port == Some(port) && self.protocol == Some(protocol)
    }
}

/// Renders items as nmap's text output: `key: value` lines, tables as a
/// `key: ` line with their contents indented by two spaces.
pub fn render_items(items: &[ScriptItem]) -> String {
    let mut lines = Vec::new();
    render_into(items, 0, &mut lines);
    lines.join("\n")
}

fn render_into(items: &[ScriptItem], depth: usize, out: &mut Vec<String>) {
    let pad = "  ".repeat(depth);
    for item in items {
        match item {
            ScriptItem::Elem {
                key: Some(k),
                value,
            } => out.push(format!("{pad}{k}: {value}")),
            ScriptItem::Elem { key: None, value } => out.push(format!("{pad}{value}")),
            ScriptItem::Table { key, items } => {
                if let Some(k) = key {
                    out.push(format!("{pad}{k}: "));
                }
                render_into(items, depth + 1, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_render_as_indented_key_value_lines() {
        let items = vec![
            ScriptItem::elem("version", "7.0"),
            ScriptItem::table("modules", vec![ScriptItem::value("pub")]),
        ];
        assert_eq!(render_items(&items), "version: 7.0\nmodules: \n  pub");
    }

    #[test]
    fn severities_order_and_round_trip() {
        assert!(Severity::Critical > Severity::Info);
        for s in Severity::DESCENDING {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
    }
}

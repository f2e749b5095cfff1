//! The report's sections, one per concern, in page order.
//!
//! Why sections: each concern (the scans' metadata, the summary cards,
//! the charts, the host × port table) is one module that renders its own
//! template into a [`Section`]; the page only lays them out and links
//! them from its navigation. A new concern (changes between two scans,
//! findings) is one more module, one more template and one more line in
//! [`crate::render`]'s list.

use crate::charts::{self, Chart};
use crate::data::ReportScan;
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
            context! { cards => Value::from(Serde(totals.cards())) },
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

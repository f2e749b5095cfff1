//! Portolan's results as plain data.
//!
//! Everything a scan learns ends up in these types: the engine produces them,
//! and every output format (normal, grepable, XML, JSON) and every later
//! consumer (scan history, diffs, reports) reads them. They carry no I/O and
//! no behaviour beyond small derived views, so that a new consumer is an
//! addition, not a change to the engine.
//!
//! The vocabulary is nmap's: six port states, nmap's reason names, and the
//! same split between ports shown and ports summarised as "Not shown".
//!
//! Their serde shape *is* portolan's JSON output (`docs/json-schema.md`):
//! one shape, defined once here, written by the JSON output and read back
//! by its reader, so that a scan written as JSON reads back exactly.

mod document;
mod host;
mod os;
mod port;
mod ranges;
mod run;
mod script;
mod shape;
mod time;
pub mod traits;

pub use document::{HostListing, ScanDocument, ScanEvent, ScanEventRef};
pub use host::{
    HostResult, HostStatus, Hostname, HostnameKind, IcmpRateLimit, MacAddress, PortSummary,
};
pub use os::{OsClass, OsMatch, OsReport, OsUptime};
pub use port::{
    Certificate, ExtraPorts, NameAttribute, PortResult, PortState, Protocol, Reason, ServiceInfo,
    ServiceMethod,
};
pub use ranges::{format_ranges, parse_ranges};
pub use run::{RunStats, ScanInfo, ScanType, ScanTypeInfo};
pub use script::{render_items, ScriptItem, ScriptResult, Severity};
pub use time::rfc3339;

//! The `portolan` command: nmap-style flags, wiring of targets, engine and
//! output formats, and the terminal.
//!
//! [`discovery`] sorts targets into up and down before the port scan.
//! [`cli`] turns arguments into [`cli::Options`]; [`plan`] resolves them
//! against the environment (ports, targets, privileges, timing) into a
//! [`plan::Plan`]; [`run`] drives the scan with the right driver and feeds
//! finished hosts, through the [`stage`]s (service detection, reverse DNS),
//! to the output formats; [`progress`] is the status line.

pub mod cli;
pub mod discovery;
pub mod plan;
pub mod progress;
pub mod rdns;
pub mod run;
pub mod stage;
pub mod version;

//! What portolan scans: target hosts and ports.
//!
//! This crate turns the user's words into two things the engine can walk
//! without knowing any syntax:
//!
//! - a [`TargetList`] from nmap target expressions (addresses, CIDR
//!   prefixes, IPv4 octet ranges, host names, `-iL` files, `--exclude`),
//!   indexable at random so the engine can permute it, and lazy so
//!   `0.0.0.0/0` costs no memory;
//! - [`PortLists`] from nmap port specifications (`-p`, `--exclude-ports`,
//!   `--top-ports`, `-F`), using the [`ServiceTable`] compiled in for
//!   service names and port frequency ranks.
//!
//! Parsing never panics and never touches the network except through the
//! [`Resolve`] trait; every error names the token the user typed.

mod error;
mod input;
mod list;
mod ports;
mod resolve;
mod spec;
mod table;

pub use error::{PortError, TableError, TargetError};
pub use input::{parse_list, read_list_file, split_exclude_list};
pub use list::{Target, TargetList, TargetOptions};
pub use ports::{format_ranges, resolve_ports, PortLists, PortSet, PortSpec, DEFAULT_TOP_PORTS};
pub use resolve::{MapResolver, Resolve, SystemResolver};
pub use table::ServiceTable;

/// Re-exported so callers need not depend on `portolan-model` for it.
pub use portolan_model::Protocol;

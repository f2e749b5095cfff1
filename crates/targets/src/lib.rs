//! What portolan scans: target hosts and ports.
//!
//! This crate turns the user's words into two things the engine can walk
//! without knowing any syntax:
//!
//! - a [`TargetList`] from nmap target expressions (addresses, CIDR
//!   prefixes, IPv4 octet ranges, host names, `-iL` files, `--exclude`),
//!   indexable at random so the engine can permute it, and lazy so
//!   `0.0.0.0/0` costs no memory and a `-iL` file of ten million
//!   addresses is streamed into a few bytes per address;
//! - [`PortLists`] from nmap port specifications (`-p`, `--exclude-ports`,
//!   `--top-ports`, `-F`), using the [`ServiceTable`] compiled in for
//!   service names and port frequency ranks.
//!
//! Parsing never panics and never touches the network except through the
//! [`Resolve`] trait; every error names the token the user typed, escaped
//! and cut by [`escape_token`] (which other crates may use too) so that it
//! is one line.
//!
//! # Example
//!
//! ```
//! use portolan_targets::*;
//! use std::net::IpAddr;
//!
//! // Command-line targets; `TargetList::from_sources` adds `-iL` and
//! // `--excludefile` files.
//! let targets = vec!["198.18.0.0/30".to_string(), "box.test".to_string()];
//! // `--exclude a,b` via `split_exclude_list`.
//! let excludes = split_exclude_list("198.18.0.0,198.18.0.3");
//! let resolver = MapResolver::new().with("box.test", &["198.18.9.9".parse::<IpAddr>().unwrap()]);
//! // Real runs pass `&SystemResolver`.
//! let (list, warnings) =
//!     TargetList::build(&targets, &excludes, &TargetOptions::default(), &resolver).unwrap();
//! assert!(warnings.is_empty()); // else print each: `Failed to resolve "NAME".`
//! assert_eq!(list.len(), 5); // index space, before exclusion
//! assert_eq!(list.get(0), None); // excluded
//! let names: Vec<String> = list.iter().map(|t| t.addr.to_string()).collect();
//! assert_eq!(names, ["198.18.0.1", "198.18.0.2", "198.18.9.9"]);
//! assert_eq!(list.get(4).unwrap().name.as_deref(), Some("box.test"));
//!
//! let ports = resolve_ports(
//!     Some("U:53,T:21-23,http"),
//!     None,
//!     None,
//!     &[Protocol::Tcp, Protocol::Udp],
//!     ServiceTable::builtin(),
//! )
//! .unwrap();
//! assert_eq!(ports.tcp, [21, 22, 23, 80]);
//! assert_eq!(ports.udp, [53]);
//! assert_eq!(format_ranges(&ports.tcp), "21-23,80");
//! ```

mod error;
mod exclude;
mod input;
mod list;
mod ports;
mod resolve;
mod singles;
mod spec;
mod table;

pub use error::{escape_text, escape_token, PortError, TableError, TargetError, MAX_SHOWN_CHARS};
pub use input::{parse_list, read_list_file, split_exclude_list, MAX_LINE_BYTES};
pub use list::{Target, TargetList, TargetOptions, TargetSources};
pub use ports::{format_ranges, resolve_ports, PortLists, PortSet, PortSpec, DEFAULT_TOP_PORTS};
pub use resolve::{MapResolver, Resolve, SystemResolver};
pub use table::ServiceTable;

/// Re-exported so callers need not depend on `portolan-model` for it.
pub use portolan_model::Protocol;

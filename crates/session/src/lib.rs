//! Portolan's scan session: a [`ScanConfig`] in, finished hosts out.
//!
//! This is everything above the engine that a scan needs and a command
//! line does not: planning (targets expanded, ports resolved, privileges
//! checked, timing), the run modes (list, ping, port scan, discovery
//! pipelined with the port scan, ARP / ND sweeps), raw-socket and
//! connect-driver set-up, the host stages that work on finished hosts
//! (service detection, reverse DNS), and a stop switch. The `portolan`
//! binary is a thin layer over it (flags → [`ScanConfig`] → [`Session`] →
//! output formats); another Rust program can build a scan without argv.
//!
//! # Using it
//!
//! 1. Fill in a [`ScanConfig`] (targets and ports in nmap syntax; every
//!    other field defaults to nmap's behaviour).
//! 2. [`Session::new`] plans the scan and sends nothing: a bad target,
//!    port list or missing privilege fails here. [`Session::plan`] shows
//!    what will run and the warnings planning produced.
//! 3. [`Session::run`] runs it, giving every finished host (and progress,
//!    warnings, notes) to your [`ScanObserver`] as soon as it is done, and
//!    returns the run's [`RunStats`](portolan_model::RunStats).
//!
//! To stop a run early, take a [`StopHandle`] from
//! [`Session::stop_handle`] before running and call [`StopHandle::stop`]
//! from another thread; [`StopHandle::stop_on_signals`] makes Ctrl-C and
//! SIGTERM do that (the library never installs signal handlers unasked).
//! Hosts already finished are delivered and the observer still gets its
//! `end`.
//!
//! Output formats are not in this crate: `portolan_output::Outputs` is one
//! observer among many (the binary adapts it), and [`Collect`] gathers the
//! hosts in memory.
//!
//! ```no_run
//! use portolan_session::{Collect, ScanConfig, Session};
//! use portolan_model::{PortState, ScanType};
//!
//! let config = ScanConfig {
//!     targets: vec!["127.0.0.1".into()],
//!     ports: Some("22,80,443".into()),
//!     scans: vec![ScanType::Connect],
//!     skip_discovery: true,
//!     no_dns: true,
//!     ..ScanConfig::default()
//! };
//! let session = Session::new(config)?;
//! let mut hosts = Collect::default();
//! let stats = session.run(&mut hosts)?;
//! for host in &hosts.hosts {
//!     for port in host.ports.iter().filter(|p| p.state == PortState::Open) {
//!         println!("{} {}/{}", host.addr, port.port, port.protocol);
//!     }
//! }
//! println!("{} host(s) up in {:.2} s", stats.hosts_up, stats.elapsed);
//! # Ok::<(), portolan_session::SessionError>(())
//! ```
//!
//! # Modules
//!
//! [`config`] is the input; [`plan`] resolves it; `session` runs it
//! through `modes` (which engine scans, in which order), `neighbours`
//! (ARP / ND sweeps), `list` (`-sL`), `drivers` (raw and connect set-up)
//! and `sink` (discovery answers merged, stages passed, observer fed);
//! [`stage`], [`os`], [`version`], [`checks`] and [`rdns`] are the host stages; [`discovery`]
//! decides up or down from ping results.

#![warn(missing_docs)]

pub mod checks;
pub mod config;
pub mod discovery;
mod drivers;
mod error;
mod list;
mod modes;
mod neighbours;
mod observer;
pub mod order;
pub mod os;
pub mod os_probe;
pub mod os_rto;
pub mod plan;
pub mod rdns;
mod session;
mod sink;
pub mod stage;
mod stop;
mod tasks;
pub mod version;

pub use config::ScanConfig;
pub use error::SessionError;
pub use observer::{Collect, ScanObserver};
pub use plan::{Plan, PlanError};
pub use portolan_engine::Progress;
pub use session::Session;
pub use stop::StopHandle;

//! Service and version detection (`-sV`) for portolan.
//!
//! nmap's probe database cannot be used (its licence claims programs that
//! read it), so portolan has its own: a documented text format
//! (`docs/service-db.md`, parsed by [`db`]) and a built-in database written
//! from protocol specifications and the replies of real daemons. Rules are
//! regular expressions over reply *bytes* with a bound on matching work
//! ([`matcher`]), so a hostile banner cannot stall a scan. The [`prober`]
//! talks to all open services at once on tokio, detects TLS and probes
//! inside it ([`tls`]), and returns [`portolan_model::ServiceInfo`] values.
//!
//! ```no_run
//! use portolan_service::{Database, Prober, ProbeOptions, Target};
//! use std::sync::Arc;
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! let db = Arc::new(Database::builtin()?);
//! let prober = Prober::new(db, ProbeOptions::default());
//! let t = Target { addr: "127.0.0.1".parse()?, port: 22, protocol: portolan_model::Protocol::Tcp };
//! for d in prober.detect(&[t]).await {
//!     println!("{:?}", d.service);
//! }
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod builtin;
pub mod db;
pub mod matcher;
pub mod prober;
pub mod tls;

pub use db::{Database, DbError, Example, PortList, Probe, Rule, Templates, Transport};
pub use matcher::{Identity, Pattern, PatternError, Subject};
pub use prober::{
    Detection, ProbeOptions, Prober, Target, TraceEvent, TraceFn, CONF_HARD, CONF_SOFT,
};
pub use tls::{parse_certificate, CertInfo};

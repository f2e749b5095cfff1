//! Portolan's scan techniques as probe modules.
//!
//! Each technique implements [`portolan_engine::ProbeModule`]: it builds
//! its probe packets and turns validated replies into port states. Timing,
//! order and retries are the engine's; packet bytes are
//! `portolan-packet`'s; what is left here is what makes one technique
//! differ from another — the flags it sends and its **rule table**, the
//! mapping from "what came back" to a port state, written once per
//! technique the way nmap's documentation states it ([`rules`]).
//!
//! Layout: [`registry`] lists every port-scan technique, one row each
//! (flag, protocol, privilege, module constructor, no-reply rule), and is
//! what the binary asks; `tcp/` holds the TCP techniques (one file per
//! technique, each with its flags and rule table, and one shared
//! [`tcp::TcpFlagScan`] module that builds, validates and classifies for
//! all of them, filling in the reply's stack traits); `udp/` the UDP scan;
//! `sctp/` the SCTP INIT probe shared by the `-sY` scan and the `-PY`
//! ping; `discovery/` the host-discovery probes; [`icmp`] holds the
//! ICMP-error classification every technique shares.

pub mod discovery;
pub mod icmp;
pub mod registry;
pub mod rules;
pub mod sctp;
pub mod tcp;
pub mod udp;

pub use rules::{Observed, Response, Rule};
pub use tcp::{TcpFlagScan, TcpScanKind};
pub use udp::{PayloadTable, UdpScan};

use portolan_engine::ProbeModule;

/// The probe module of a TCP technique, for the binary.
///
/// With `scanflags` (nmap's `--scanflags`), probes carry exactly those
/// flag bits and replies are read with `kind`'s rule table; pass
/// [`TcpScanKind::Syn`] when the user chose no technique, as nmap does.
pub fn tcp_module(kind: TcpScanKind, scanflags: Option<u8>) -> Box<dyn ProbeModule> {
    Box::new(TcpFlagScan::new(kind, scanflags))
}

/// The UDP scan module (`-sU`) with the built-in payloads, for the binary.
pub fn udp_module() -> Box<dyn ProbeModule> {
    Box::new(UdpScan::default())
}

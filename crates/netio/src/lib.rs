//! Portolan's Linux raw-packet I/O layer.
//!
//! The engine is sans-IO: it decides what to send and judges what comes
//! back, and touches the network only through [`portolan_engine::PacketIo`].
//! This crate implements that trait on Linux ([`RawIo`]) and answers the
//! questions a raw scan must settle first: may we use raw sockets at all
//! ([`has_raw_privilege`]), and which interface and source address reach a
//! target ([`route_to`]).
//!
//! Why this shape:
//! * **Send** through header-included raw IP sockets in `sendmmsg` batches:
//!   the kernel routes and resolves neighbours, we build every header byte.
//! * **Receive** from an `AF_PACKET` socket: replies must be seen before
//!   the kernel's own TCP stack answers them with resets. A classic BPF
//!   filter in the kernel keeps only packets addressed to our sources, and a
//!   `TPACKET_V3` ring delivers them without a copy or system call each.
//!
//! It is the only crate of portolan allowed `unsafe`; every unsafe block
//! states the invariant it relies on.
//!
//! ```no_run
//! use std::time::Duration;
//! use portolan_engine::PacketIo;
//! use portolan_netio::{has_raw_privilege, route_to, RawConfig, RawIo, PRIVILEGE_HINT};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! if !has_raw_privilege() {
//!     eprintln!("{PRIVILEGE_HINT}"); // or fall back to a connect scan
//!     return Ok(());
//! }
//! // -e and -S would go in the two `None`s; with -e also set `bind_device`.
//! let route = route_to("198.18.0.2".parse()?, None, None)?;
//! let mut io = RawIo::open(&RawConfig::from_route(&route))?;
//! let probe: Vec<u8> = Vec::new(); // a whole IP packet from route.src
//! io.send(&[&probe])?;
//! io.recv(Duration::from_millis(100), &mut |reply| {
//!     // every IP packet addressed to route.src: validate it
//!     let _ = reply;
//! })?;
//! # Ok(())
//! # }
//! ```

mod bpf;
mod error;
mod frame;
mod pool;
mod privilege;
mod rawio;
mod ring;
mod route;
mod send;

pub use error::{NetError, PRIVILEGE_HINT};
pub use frame::{interface_mac, is_ethernet, FrameFilter, FrameIo};
pub use privilege::has_raw_privilege;
pub use rawio::{IoStats, RawConfig, RawIo};
pub use ring::RecvStats;
pub use route::{route_to, LinkNets, Route};
pub use send::SendStats;

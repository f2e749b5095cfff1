//! Portolan's scan engine, sans-IO.
//!
//! The engine owns every decision of a scan and none of its I/O: it takes
//! packets (or connect outcomes) and timestamps in, and hands probes to send
//! and results out. Drivers connect it to the world: a raw-packet driver over
//! a [`PacketIo`], the TCP connect driver over tokio sockets, and a simulated
//! network in tests, which makes loss, delay and rate limits reproducible.

pub mod io;
pub mod module;
pub mod validate;

pub use io::{Clock, PacketIo, SystemClock};
pub use module::{ProbeContext, ProbeModule, ProbeSpec, Reply};
pub use validate::ValidationKey;

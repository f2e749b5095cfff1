//! Portolan's scan engine, sans-IO.
//!
//! The engine owns every decision of a scan and none of its I/O: it takes
//! packets (or connect outcomes) and timestamps in, and hands probes to send
//! and results out. Drivers connect it to the world: a raw-packet driver over
//! a [`PacketIo`], the TCP connect driver over tokio sockets, and a simulated
//! network in tests, which makes loss, delay and rate limits reproducible.

pub mod congestion;
pub mod connect_layer;
pub mod driver;
pub mod io;
pub mod limiter;
pub mod module;
pub mod permutation;
pub mod pipeline;
pub mod rtt;
pub mod scan;
pub mod sim;
pub mod target;
pub mod timing;
pub mod validate;

pub use connect_layer::{ConnectModule, ConnectRequest};
pub use driver::{run, run_raw, Observer};
pub use io::{Clock, ConnectIo, FrameLink, IpOnly, Links, PacketIo, SystemClock, Transport};
pub use limiter::{RateLimiter, SharedRateLimiter};
pub use module::{Layer, ProbeContext, ProbeModule, ProbeSpec, Rekeyed, Reply};
pub use permutation::Permutation;
pub use pipeline::{Classify, Engine, Pipeline};
/// The stack traits replies carry: defined in the model, since they travel
/// with a host's result to the host stages.
pub use portolan_model::traits;
pub use scan::{
    KnownPorts, Probe, Progress, Scan, ScanPlan, SendError, ShardFilter, TechniquePlan,
};
pub use target::{HostSource, HostTarget, Ipv4Range};
pub use timing::{BadTemplate, Timing};
pub use traits::{Echo, OptionLayout, SampleKind, StackTraits, Timestamps, TraitSamples};
pub use validate::ValidationKey;

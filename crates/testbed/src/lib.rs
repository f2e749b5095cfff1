//! Throwaway network-namespace testbeds for portolan's integration tests and
//! benchmarks.
//!
//! Portolan's port states are only meaningful against a real kernel, so the
//! tests build small networks out of namespaces: a *scanner* namespace joined
//! by veth pairs to one or more *target* namespaces, whose nftables rules
//! make each port state happen (drop → filtered, ICMP reject → filtered,
//! TCP reset → closed, a listener → open). Optional relay namespaces add
//! one-way delay (the test kernel has no `netem`), and nftables adds random
//! loss. Every address is in 198.18.0.0/15 / 2001:2::/48 (the benchmarking
//! ranges), no namespace has a route onward, and dropping the [`Testbed`]
//! deletes everything.
//!
//! ```no_run
//! use portolan_testbed::{require_root, IcmpKind, Testbed};
//! # fn main() -> Result<(), portolan_testbed::TestbedError> {
//! if !require_root() {
//!     return Ok(());
//! }
//! let mut tb = Testbed::new("demo")?;
//! tb.target(0)?
//!     .tcp_listen(&[22, 80])?
//!     .nft_drop_tcp(&[81])?
//!     .nft_reject_icmp(&[82], IcmpKind::PortUnreach)?;
//! let out = tb.run_in_scanner(std::process::Command::new("true").arg("x"))?;
//! # let _ = out; Ok(()) }
//! ```
//!
//! The benchmark harness (`portolan-bench`, see [`bench`]) uses the same
//! testbeds.

#![deny(unsafe_code)]

pub mod bench;
mod error;
mod listen;
pub mod nft;
pub mod relay;
mod sys;
mod testbed;

pub use error::{Result, TestbedError};
pub use listen::Listeners;
pub use nft::{IcmpKind, Proto, Rule};
pub use sys::in_netns;
pub use testbed::{
    cleanup_stale, sweep_up_hosts, Host, Testbed, TestbedBuilder, NS_PREFIX, ROUTING_SYSCTLS,
    SWEEP_NET,
};

/// True when testbeds can be built here (root and a working `ip netns`).
///
/// Otherwise prints a notice saying why the caller is skipping and returns
/// false; tests call it first and return early.
pub fn require_root() -> bool {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("SKIP: namespace testbed needs root (run the tests as root)");
        return false;
    }
    match std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
    {
        Ok(o) if o.status.success() => true,
        Ok(o) => {
            eprintln!(
                "SKIP: `ip netns list` failed: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            );
            false
        }
        Err(e) => {
            eprintln!("SKIP: cannot run `ip` (install iproute2): {e}");
            false
        }
    }
}

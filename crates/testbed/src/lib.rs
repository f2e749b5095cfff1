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

pub mod bench;
pub mod chromium;
mod error;
pub mod limit;
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

/// The environment variable that turns every skip into a failure.
///
/// `.ci/run` sets it, so a root-only test that cannot run there (not root,
/// no `ip netns`, a daemon missing) fails CI instead of passing silently.
pub const MUST_RUN_ENV: &str = "PORTOLAN_TESTS_MUST_RUN";

/// The one way a test skips itself: prints `SKIP: why` and returns false,
/// or, when [`MUST_RUN_ENV`] is set to anything but `0` or empty, panics
/// with `why` so the test fails.
///
/// ```no_run
/// if !portolan_testbed::skip_unless(false, "needs a kernel with SCTP") {
///     return;
/// }
/// ```
pub fn skip_unless(can_run: bool, why: impl std::fmt::Display) -> bool {
    decide(can_run, must_run(), why)
}

fn decide(can_run: bool, must_run: bool, why: impl std::fmt::Display) -> bool {
    if can_run {
        return true;
    }
    if must_run {
        panic!("this test cannot run here ({why}), and {MUST_RUN_ENV} is set");
    }
    eprintln!("SKIP: {why}");
    false
}

/// [`skip_unless`] for a test that cannot run at all: skips (or fails)
/// with `why`, and returns false.
pub fn skip(why: impl std::fmt::Display) -> bool {
    skip_unless(false, why)
}

fn must_run() -> bool {
    std::env::var_os(MUST_RUN_ENV).is_some_and(|v| !v.is_empty() && v != "0")
}

/// True when running as root; otherwise skips (see [`skip`]).
pub fn require_root_only() -> bool {
    skip_unless(
        nix::unistd::geteuid().is_root(),
        "needs root (network namespaces, raw sockets, daemons)",
    )
}

/// True when testbeds can be built here (root and a working `ip netns`).
///
/// Otherwise skips (see [`skip`]): prints why and returns false, or fails
/// the test under [`MUST_RUN_ENV`]. Tests call it first and return early.
pub fn require_root() -> bool {
    if !require_root_only() {
        return false;
    }
    match std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
    {
        Ok(o) if o.status.success() => true,
        Ok(o) => skip(format_args!(
            "`ip netns list` failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => skip(format_args!("cannot run `ip` (install iproute2): {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::decide;

    #[test]
    fn a_test_that_can_run_runs() {
        assert!(decide(true, false, "x"));
        assert!(decide(true, true, "x"));
    }

    #[test]
    fn a_test_that_cannot_run_skips_by_default() {
        assert!(!decide(false, false, "no root"));
    }

    #[test]
    #[should_panic(expected = "PORTOLAN_TESTS_MUST_RUN is set")]
    fn a_test_that_cannot_run_fails_where_every_test_must_run() {
        decide(false, true, "no root");
    }
}

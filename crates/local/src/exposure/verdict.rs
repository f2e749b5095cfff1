//! The two rules of the join: which scanned address a listener accepts
//! connections on, and what a listener plus the scan's state add up to.

use super::ScannedHost;
use crate::model::BindScope;
use portolan_model::PortState;
use std::net::IpAddr;

/// What the inside and outside views of one port add up to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verdict {
    /// Something listens on the scanned address and the scan found it open.
    Reachable,
    /// Something listens on that one address, but the scan found it
    /// filtered (or closed: a firewall's reset).
    Filtered,
    /// Something listens on all addresses, but from outside the port is
    /// filtered or closed: only this machine reaches it, so binding it to
    /// loopback would say what the firewall does.
    LocalOnly,
    /// The scan found the port open, but nothing here listens on that
    /// address: a DNAT rule, a port forward or a proxy answers for it.
    Forwarded,
    /// Something listens on loopback only: no outside scan reaches it.
    Loopback,
    /// Something listens, but the scan could not tell (`open|filtered`,
    /// `closed|filtered`, `unfiltered`: UDP services that stay silent,
    /// ACK scans).
    Inconclusive,
    /// Something listens, but the scan did not cover this port on any
    /// address it listens on.
    NotScanned,
}

impl Verdict {
    /// The key in JSON, XML and `--plain`: `reachable`, `filtered`,
    /// `local_only`, `forwarded`, `loopback`, `inconclusive`,
    /// `not_scanned`.
    pub fn key(self) -> &'static str {
        match self {
            Verdict::Reachable => "reachable",
            Verdict::Filtered => "filtered",
            Verdict::LocalOnly => "local_only",
            Verdict::Forwarded => "forwarded",
            Verdict::Loopback => "loopback",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NotScanned => "not_scanned",
        }
    }
}

/// Whether a listener bound to `local` (with `IPV6_V6ONLY` as `v6only`)
/// takes connections to the scanned host `h`.
///
/// `0.0.0.0` takes every IPv4 address; `::` every IPv6 address and, unless
/// `v6only`, every IPv4 one; any other address only itself. For a host
/// assumed to be this machine (reached through a forward, so its address
/// is not ours), any listener of its family that is not on loopback may
/// be the one the forward reaches.
pub fn accepts(local: IpAddr, v6only: bool, h: &ScannedHost) -> bool {
    let local = super::plain(local);
    let family_ok = match (local, h.addr) {
        (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => true,
        (IpAddr::V6(_), IpAddr::V4(_)) => local.is_unspecified() && !v6only,
        (IpAddr::V4(_), IpAddr::V6(_)) => false,
    };
    if !family_ok {
        return false;
    }
    if local.is_unspecified() || local == h.addr {
        return true;
    }
    h.assumed && !local.is_loopback()
}

/// The verdict for a listener of `scope` on a scanned address where the
/// scan found `outside` (`None`: not scanned).
pub fn verdict(outside: Option<PortState>, scope: BindScope) -> Verdict {
    match outside {
        None => Verdict::NotScanned,
        Some(PortState::Open) => Verdict::Reachable,
        Some(PortState::Filtered | PortState::Closed) if scope == BindScope::All => {
            Verdict::LocalOnly
        }
        Some(PortState::Filtered | PortState::Closed) => Verdict::Filtered,
        Some(PortState::OpenFiltered | PortState::ClosedFiltered | PortState::Unfiltered) => {
            Verdict::Inconclusive
        }
    }
}

//! Targets as a random-access list.
//!
//! The engine permutes host *indexes*, so it needs `get(i)` rather than an
//! iterator; the binary adapts its parsed target list (CIDR blocks,
//! ranges, names) to this trait without materialising it.

use portolan_model::{HostResult, HostnameKind};
use std::net::IpAddr;
use std::sync::Arc;

/// One host to scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostTarget {
    /// Its address.
    pub addr: IpAddr,
    /// The name the user typed, if any.
    pub name: Option<Arc<str>>,
}

impl HostTarget {
    /// The host of a result (a discovery's, say), with the name the user
    /// typed for it.
    pub fn of(host: &HostResult) -> Self {
        HostTarget {
            addr: host.addr,
            name: host
                .hostnames
                .iter()
                .find(|n| n.kind == HostnameKind::User)
                .map(|n| n.name.as_str().into()),
        }
    }
}

/// Random access to the scan's hosts.
pub trait HostSource: Send {
    /// Number of host indexes (excluded ones included).
    fn len(&self) -> u64;

    /// Whether there are no host indexes at all.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The host at `index`, or `None` when it is excluded (skip it).
    fn get(&self, index: u64) -> Option<HostTarget>;
}

impl HostSource for Vec<IpAddr> {
    fn len(&self) -> u64 {
        self.as_slice().len() as u64
    }

    fn get(&self, index: u64) -> Option<HostTarget> {
        let addr = *self.as_slice().get(usize::try_from(index).ok()?)?;
        Some(HostTarget { addr, name: None })
    }
}

impl HostSource for Vec<HostTarget> {
    fn len(&self) -> u64 {
        self.as_slice().len() as u64
    }

    fn get(&self, index: u64) -> Option<HostTarget> {
        self.as_slice().get(usize::try_from(index).ok()?).cloned()
    }
}

/// A contiguous IPv4 range `[first, first + len)`, e.g. a CIDR block.
#[derive(Clone, Copy, Debug)]
pub struct Ipv4Range {
    /// First address, as a number.
    pub first: u32,
    /// Number of addresses.
    pub len: u64,
}

impl HostSource for Ipv4Range {
    fn len(&self) -> u64 {
        self.len
    }

    fn get(&self, index: u64) -> Option<HostTarget> {
        if index >= self.len {
            return None;
        }
        let a = u64::from(self.first) + index;
        let a = u32::try_from(a).ok()?;
        Some(HostTarget {
            addr: IpAddr::V4(a.into()),
            name: None,
        })
    }
}

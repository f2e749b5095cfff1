//! This machine's addresses, per listed network namespace: what a scanned
//! host's address is compared with to know it is us.
//!
//! `getifaddrs` answers for the calling thread's namespace, so a named
//! namespace's addresses are read in a thread that entered it, as its
//! sockets are (`netns::run_in`).

use crate::error::LocalError;
use crate::netns;
use nix::ifaddrs::getifaddrs;
use std::net::IpAddr;
use std::sync::Arc;

/// A listed namespace (`None`: the current one) and its addresses.
pub type NamespaceAddrs = (Option<Arc<str>>, Vec<IpAddr>);

/// The addresses of every interface of the calling thread's namespace
/// (IPv4-mapped ones as IPv4).
pub fn interface_addresses() -> Result<Vec<IpAddr>, LocalError> {
    let list = getifaddrs().map_err(|e| LocalError::source("getifaddrs", e))?;
    let mut out: Vec<IpAddr> = list
        .filter_map(|i| {
            let a = i.address?;
            if let Some(v4) = a.as_sockaddr_in() {
                Some(IpAddr::V4(v4.ip()))
            } else {
                a.as_sockaddr_in6()
                    .map(|v6| super::plain(IpAddr::V6(v6.ip())))
            }
        })
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// The addresses of each namespace a listing with `--netns` as `netns`
/// covers: the current one (`None`), a named one, or every one (`all`).
pub fn namespace_addresses(netns: Option<&str>) -> Result<Vec<NamespaceAddrs>, LocalError> {
    let spaces: Vec<Option<String>> = match netns {
        None => vec![None],
        Some("all") => std::iter::once(None)
            .chain(netns::names().into_iter().map(Some))
            .collect(),
        Some(name) => vec![Some(name.to_string())],
    };
    let mut out = Vec::new();
    for ns in spaces {
        match netns::run_in(ns.as_deref(), interface_addresses) {
            Ok(addrs) => out.push((ns.as_deref().map(Arc::from), addrs)),
            // With `all`, a namespace deleted meanwhile is simply gone.
            Err(LocalError::NoNetns(_) | LocalError::Setns { .. })
                if netns == Some("all") && ns.is_some() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

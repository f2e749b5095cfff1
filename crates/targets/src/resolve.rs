//! Name resolution, behind a trait so tests never depend on real DNS.
//!
//! Portolan resolves the names the user typed once, while building the
//! target list (names are few; addresses may be billions). The system
//! resolver follows `/etc/hosts` and `/etc/nsswitch.conf` like every other
//! program; tests pass a [`MapResolver`] or a closure instead.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, ToSocketAddrs};

/// Turns a host name into its addresses, in the resolver's order.
pub trait Resolve {
    /// Every address of `name`, of either family. An error or an empty
    /// list both mean the name cannot be resolved.
    fn resolve(&self, name: &str) -> io::Result<Vec<IpAddr>>;
}

impl<F> Resolve for F
where
    F: Fn(&str) -> io::Result<Vec<IpAddr>>,
{
    fn resolve(&self, name: &str) -> io::Result<Vec<IpAddr>> {
        self(name)
    }
}

/// The operating system's resolver (`getaddrinfo`), blocking.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: &str) -> io::Result<Vec<IpAddr>> {
        let mut out: Vec<IpAddr> = Vec::new();
        for sa in (name, 0u16).to_socket_addrs()? {
            if !out.contains(&sa.ip()) {
                out.push(sa.ip());
            }
        }
        Ok(out)
    }
}

/// A fixed table of names, for tests and for callers that resolved
/// names themselves; unknown names fail.
#[derive(Clone, Debug, Default)]
pub struct MapResolver {
    names: HashMap<String, Vec<IpAddr>>,
}

impl MapResolver {
    /// An empty table: every name fails.
    pub fn new() -> Self {
        MapResolver::default()
    }

    /// Adds (or replaces) a name and its addresses, case-insensitively.
    pub fn with(mut self, name: &str, addrs: &[IpAddr]) -> Self {
        self.names.insert(name.to_ascii_lowercase(), addrs.to_vec());
        self
    }
}

impl Resolve for MapResolver {
    fn resolve(&self, name: &str) -> io::Result<Vec<IpAddr>> {
        let key = name.trim_end_matches('.').to_ascii_lowercase();
        self.names
            .get(&key)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "name not found"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_resolver_is_case_insensitive() {
        let a: IpAddr = "198.18.0.1".parse().unwrap();
        let r = MapResolver::new().with("Box.Test", &[a]);
        assert_eq!(r.resolve("box.test.").unwrap(), vec![a]);
        assert!(r.resolve("other.test").is_err());
    }

    #[test]
    fn system_resolver_finds_localhost_on_loopback() {
        // /etc/hosts names localhost on every ordinary Linux system; if this
        // machine resolves nothing, there is nothing to check.
        if let Ok(addrs) = SystemResolver.resolve("localhost") {
            assert!(addrs.iter().all(|a| a.is_loopback()), "{addrs:?}");
        }
    }
}

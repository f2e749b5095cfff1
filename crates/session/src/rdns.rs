//! Reverse DNS as a [`HostStage`]: finished hosts get their PTR name.
//!
//! nmap names up hosts (every host with `-R`, every target with `-sL`)
//! without slowing the scan: lookups run while ports are still being
//! probed. Here the scan submits each host as it finishes; the stage asks
//! [`portolan_dns::ReverseResolver`] (mass DNS to the configured servers,
//! or the system resolver with `--system-dns`) and hands the host back,
//! named or not, as soon as the answer is in.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::IpAddr;
use std::time::Duration;

use portolan_dns::{ResolverConfig, ReverseResolver};
use portolan_model::{HostResult, Hostname, HostnameKind};

use crate::stage::HostStage;

/// Worker threads for `--system-dns` (each blocks in getnameinfo).
pub const SYSTEM_THREADS: usize = 16;

/// Reverse lookups for finished hosts (see the module docs).
#[derive(Debug)]
pub struct ReverseDnsStage {
    resolver: ReverseResolver,
    /// Hosts waiting for the name of their address (the same address can
    /// be a target twice; it is looked up once).
    waiting: HashMap<IpAddr, Vec<HostResult>>,
    ready: VecDeque<HostResult>,
}

impl ReverseDnsStage {
    /// Starts the lookups: through the system resolver when `system`
    /// (`--system-dns`), else by mass DNS to `servers` (`--dns-servers`)
    /// or, when that is empty, to the servers of `/etc/resolv.conf`.
    /// `/etc/hosts` answers first either way.
    pub fn start(servers: &[IpAddr], system: bool) -> io::Result<Self> {
        let resolver = if system {
            ReverseResolver::system(SYSTEM_THREADS)?
        } else if servers.is_empty() {
            ReverseResolver::new(ResolverConfig::system())?
        } else {
            ReverseResolver::new(ResolverConfig::with_servers(servers))?
        };
        Ok(Self::with_resolver(resolver))
    }

    /// A stage around a resolver set up by the caller (tests use servers
    /// on ephemeral ports).
    pub fn with_resolver(resolver: ReverseResolver) -> Self {
        ReverseDnsStage {
            resolver,
            waiting: HashMap::new(),
            ready: VecDeque::new(),
        }
    }

    /// Moves a finished lookup's hosts to the ready queue, named.
    fn resolved(&mut self, addr: IpAddr, name: Option<String>) {
        for mut host in self.waiting.remove(&addr).unwrap_or_default() {
            if let Some(name) = &name {
                add_ptr_name(&mut host, name);
            }
            self.ready.push_back(host);
        }
    }

    fn drain(&mut self) {
        while let Some((addr, name)) = self.resolver.try_recv() {
            self.resolved(addr, name);
        }
    }
}

/// Appends `name` as the host's PTR name, after any name the user typed,
/// unless the host already has it or it is an address literal (which some
/// servers return, and which would only repeat the address).
pub fn add_ptr_name(host: &mut HostResult, name: &str) {
    let name = name.trim_end_matches('.');
    if name.is_empty() || name.parse::<IpAddr>().is_ok() {
        return;
    }
    if host.hostnames.iter().any(|h| h.name == name) {
        return;
    }
    host.hostnames.push(Hostname {
        name: name.to_string(),
        kind: HostnameKind::Ptr,
    });
}

impl HostStage for ReverseDnsStage {
    fn bounded_by_host_timeout(&self) -> bool {
        false
    }

    fn in_progress(&self) -> usize {
        self.waiting.values().map(Vec::len).sum::<usize>() + self.ready.len()
    }

    fn submit(&mut self, host: HostResult) {
        let addr = host.addr;
        let entry = self.waiting.entry(addr).or_default();
        let first = entry.is_empty();
        entry.push(host);
        if first && !self.resolver.submit(addr) {
            // The resolver is gone: pass the host on unnamed.
            self.resolved(addr, None);
        }
    }

    fn try_next(&mut self) -> Option<HostResult> {
        if self.ready.is_empty() {
            self.drain();
        }
        self.ready.pop_front()
    }

    fn finish(&mut self, interrupted: bool) -> Vec<HostResult> {
        self.drain();
        if !interrupted {
            while !self.waiting.is_empty() && self.resolver.pending() > 0 {
                if let Some((addr, name)) = self.resolver.recv_timeout(Duration::from_millis(100)) {
                    self.resolved(addr, name);
                }
            }
        }
        let mut out: Vec<HostResult> = self.ready.drain(..).collect();
        out.extend(self.waiting.drain().flat_map(|(_, hosts)| hosts));
        out
    }
}

//! `--exposure`: the listeners joined with a scan of this machine taken
//! from outside, so each port says whether what listens is reachable,
//! and whether what is reachable listens here.
//!
//! Why a join and not a comparison of port lists: a port is reachable on
//! an *address*. A scan reached one address of this machine (198.18.0.2
//! from the next namespace); a listener bound to that address, to
//! `0.0.0.0` (any IPv4 address) or to `::` (any IPv6 address, and any
//! IPv4 one unless `IPV6_V6ONLY`) takes those connections, one bound to
//! 127.0.0.1 or to another address does not. So every listener is joined
//! with the scanned addresses it accepts on ([`accepts`]), and every port
//! the scan found open on an address where no listener accepts is
//! reported as forwarded (a DNAT rule, a port forward or a proxy answers
//! for it). A port the scan did not cover is "not scanned", never
//! "filtered": the scan says nothing about it.
//!
//! Which scanned hosts are this machine: those whose address is one of
//! the listed namespace's interface addresses ([`addrs`]). A scan of a
//! public address that a router forwards here matches none; when the
//! scan holds exactly one host and one namespace is listed, that host is
//! taken as this machine and the report says it was assumed.
//!
//! The scan arrives as model documents ([`ScanDocument`]): the binary
//! reads them from portolan or nmap files, and the scan history store,
//! once it exists, hands over its documents the same way.

mod addrs;
mod format;
mod verdict;

pub use addrs::{interface_addresses, namespace_addresses, NamespaceAddrs};
pub use format::{phrase, write_json, write_text, write_xml};
pub use verdict::{accepts, verdict, Verdict};

use crate::error::LocalError;
use crate::model::{BindScope, Process, Proto, Snapshot, State};
use crate::query::Filter;
use portolan_model::{PortState, Protocol, ScanDocument};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// A scanned address of this machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScannedHost {
    /// The address the scan reached.
    pub addr: IpAddr,
    /// The namespace it belongs to (`None`: the current one).
    pub netns: Option<Arc<str>>,
    /// True when no address matched and this lone host was taken as this
    /// machine (a scan of a forwarded public address).
    pub assumed: bool,
}

/// One port of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExposureRow {
    /// The namespace (`None`: the current one).
    pub netns: Option<Arc<str>>,
    /// TCP or UDP.
    pub proto: Proto,
    /// The port.
    pub port: u16,
    /// The listener's local address; `None` when nothing listens
    /// ([`Verdict::Forwarded`]).
    pub listen: Option<IpAddr>,
    /// The scanned address joined with; `None` when the scan reached none
    /// of the listener's addresses.
    pub scanned: Option<IpAddr>,
    /// The port's state in the scan; `None` when not scanned.
    pub outside: Option<PortState>,
    /// What it adds up to.
    pub verdict: Verdict,
    /// The service name from portolan's port table.
    pub service: Option<&'static str>,
    /// The listener's owners.
    pub owners: Vec<Arc<Process>>,
    /// Why the port matters when the outside reaches it (the scanner's
    /// risk table), for ports open from outside; see [`Exposure::add_risk`].
    pub risk: Option<Risk>,
}

/// A risk hint for a port reachable from outside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Risk {
    /// How bad the exposure is to an untrusted network ("high", ...).
    pub rating: String,
    /// Why it matters.
    pub why: String,
}

impl ExposureRow {
    /// The listener's bind scope, if something listens.
    pub fn scope(&self) -> Option<BindScope> {
        self.listen.map(BindScope::of)
    }
}

/// The whole report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exposure {
    /// The scanned addresses taken as this machine's.
    pub hosts: Vec<ScannedHost>,
    /// Scanned addresses that are not this machine's (ignored).
    pub foreign: Vec<IpAddr>,
    /// One row per listener and scanned address, and per forwarded port.
    pub rows: Vec<ExposureRow>,
}

/// A scan's port states by (address, protocol, port): later documents
/// override earlier ones, so a newer scan of the same port wins.
type ScanStates = HashMap<(IpAddr, Proto, u16), PortState>;

fn scan_states(scans: &[ScanDocument]) -> (ScanStates, BTreeSet<IpAddr>) {
    let mut docs: Vec<&ScanDocument> = scans.iter().collect();
    docs.sort_by_key(|d| d.info.start_time);
    let mut states = HashMap::new();
    let mut hosts = BTreeSet::new();
    for doc in docs {
        for h in &doc.hosts {
            let addr = plain(h.addr);
            hosts.insert(addr);
            for p in &h.ports {
                let proto = match p.protocol {
                    Protocol::Tcp => Proto::Tcp,
                    Protocol::Udp => Proto::Udp,
                    _ => continue,
                };
                states.insert((addr, proto, p.port), p.state);
            }
        }
    }
    (states, hosts)
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
pub(crate) fn plain(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Matches the scanned addresses to the listed namespaces' addresses.
fn match_hosts(
    scanned: &BTreeSet<IpAddr>,
    spaces: &[NamespaceAddrs],
) -> Result<(Vec<ScannedHost>, Vec<IpAddr>), LocalError> {
    let mut hosts = Vec::new();
    let mut foreign = Vec::new();
    for &addr in scanned {
        match spaces.iter().find(|(_, a)| a.contains(&addr)) {
            Some((ns, _)) => hosts.push(ScannedHost {
                addr,
                netns: ns.clone(),
                assumed: false,
            }),
            None => foreign.push(addr),
        }
    }
    if hosts.is_empty() {
        if let ([(ns, _)], [addr]) = (spaces, foreign.as_slice()) {
            hosts.push(ScannedHost {
                addr: *addr,
                netns: ns.clone(),
                assumed: true,
            });
            foreign.clear();
        } else {
            let list: Vec<String> = scanned.iter().take(8).map(IpAddr::to_string).collect();
            return Err(LocalError::Exposure(if list.is_empty() {
                "the scan holds no host".into()
            } else {
                format!(
                    "no scanned host is an address of this machine (scanned: {})",
                    list.join(", ")
                )
            }));
        }
    }
    Ok((hosts, foreign))
}

/// One listening address: the sockets bound to it, their owners merged
/// (several processes or `SO_REUSEPORT` sockets share one).
struct Listener {
    netns: Option<Arc<str>>,
    proto: Proto,
    local: SocketAddr,
    v6only: bool,
    service: Option<&'static str>,
    owners: Vec<Arc<Process>>,
}

fn listeners(snap: &Snapshot) -> Vec<Listener> {
    let mut by_addr: BTreeMap<(Option<Arc<str>>, Proto, SocketAddr), Listener> = BTreeMap::new();
    for e in &snap.sockets {
        let listening = match e.raw.proto {
            Proto::Tcp => e.raw.state == State::Listen,
            Proto::Udp => e.raw.state == State::Close,
        };
        if !listening || e.raw.local.port() == 0 {
            continue;
        }
        let local = SocketAddr::new(plain(e.raw.local.ip()), e.raw.local.port());
        let key = (e.netns.clone(), e.raw.proto, local);
        let l = by_addr.entry(key).or_insert_with(|| Listener {
            netns: e.netns.clone(),
            proto: e.raw.proto,
            local,
            v6only: e.raw.v6only,
            service: e.service,
            owners: Vec::new(),
        });
        for p in &e.owners {
            if !l.owners.iter().any(|q| q.pid == p.pid) {
                l.owners.push(Arc::clone(p));
            }
        }
    }
    by_addr.into_values().collect()
}

/// Joins the listeners of `snap` with `scans`; `spaces` are the listed
/// namespaces with their addresses ([`namespace_addresses`]).
pub fn join(
    snap: &Snapshot,
    scans: &[ScanDocument],
    spaces: &[NamespaceAddrs],
) -> Result<Exposure, LocalError> {
    let (states, scanned) = scan_states(scans);
    let (hosts, foreign) = match_hosts(&scanned, spaces)?;
    let listeners = listeners(snap);
    let mut rows = Vec::new();
    for l in &listeners {
        let row = |scanned: Option<IpAddr>, outside, verdict| ExposureRow {
            netns: l.netns.clone(),
            proto: l.proto,
            port: l.local.port(),
            listen: Some(l.local.ip()),
            scanned,
            outside,
            verdict,
            service: l.service,
            owners: l.owners.clone(),
            risk: None,
        };
        let on: Vec<&ScannedHost> = hosts
            .iter()
            .filter(|h| h.netns == l.netns && accepts(l.local.ip(), l.v6only, h))
            .collect();
        if on.is_empty() {
            let v = if BindScope::of(l.local.ip()) == BindScope::Loopback {
                Verdict::Loopback
            } else {
                Verdict::NotScanned
            };
            rows.push(row(None, None, v));
        }
        for h in on {
            let outside = states.get(&(h.addr, l.proto, l.local.port())).copied();
            let v = verdict(outside, BindScope::of(l.local.ip()));
            rows.push(row(Some(h.addr), outside, v));
        }
    }
    let table = portolan_targets::ServiceTable::builtin();
    for h in &hosts {
        for (&(addr, proto, port), &state) in &states {
            let heard = |l: &&Listener| {
                l.netns == h.netns
                    && l.proto == proto
                    && l.local.port() == port
                    && accepts(l.local.ip(), l.v6only, h)
            };
            if addr != h.addr || state != PortState::Open || listeners.iter().any(|l| heard(&l)) {
                continue;
            }
            rows.push(ExposureRow {
                netns: h.netns.clone(),
                proto,
                port,
                listen: None,
                scanned: Some(addr),
                outside: Some(state),
                verdict: Verdict::Forwarded,
                service: table.name(port, proto.table_proto()),
                owners: Vec::new(),
                risk: None,
            });
        }
    }
    rows.sort_by(|a, b| {
        (&a.netns, a.proto, a.port, a.listen, a.scanned)
            .cmp(&(&b.netns, b.proto, b.port, b.listen, b.scanned))
    });
    Ok(Exposure {
        hosts,
        foreign,
        rows,
    })
}

impl Exposure {
    /// Sets each row's risk hint from `hint(protocol, port, service)`,
    /// for the ports the outside scan found open (reachable or
    /// forwarded): a listener the outside cannot reach carries no risk
    /// from outside.
    pub fn add_risk(&mut self, hint: impl Fn(Proto, u16, Option<&str>) -> Option<Risk>) {
        for r in &mut self.rows {
            if r.outside == Some(PortState::Open) {
                r.risk = hint(r.proto, r.port, r.service);
            }
        }
    }

    /// Keeps the rows the user's filter shows: its protocols, families
    /// (of the scanned address, else of the listener), ports, and owner
    /// pid or name (rows without a listener have no owner, so those
    /// filters drop them).
    pub fn retain(&mut self, filter: &Filter) {
        self.rows.retain(|r| {
            let ip = r.scanned.or(r.listen);
            let family = match ip {
                Some(IpAddr::V6(_)) => crate::model::Family::V6,
                _ => crate::model::Family::V4,
            };
            filter.protos.contains(&r.proto)
                && filter.families.contains(&family)
                && filter.port_ok(r.proto, r.port, 0)
                && filter
                    .pid
                    .is_none_or(|pid| r.owners.iter().any(|p| p.pid == pid))
                && filter
                    .process
                    .as_ref()
                    .is_none_or(|n| r.owners.iter().any(|p| &p.name == n))
        });
    }
}

#[cfg(test)]
mod tests;

//! Timelines: what each stored scan said of a host's port, reduced to
//! when it was first and last seen open and when its state or service
//! changed (`portolan history TARGET`).
//!
//! Built from whole scans read back through [`Store::load`], so the
//! ports of a host's common state count as well as the listed ones; the
//! cost grows with the store (fine for a user's history; a large team
//! store would want a query per host).

use crate::{ScanId, Store, StoreError};
use portolan_model::{HostResult, PortResult, PortState, Protocol};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Which ports to follow.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TimelineQuery {
    /// An address or host name (case-insensitive); `None`: every host.
    pub target: Option<String>,
    /// Only this port (any state); without it only ports seen open.
    pub port: Option<u16>,
    /// Only ports where this service name was seen.
    pub service: Option<String>,
}

/// One scan's word on a port, kept when it differs from the one before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortEvent {
    /// The scan.
    pub scan: ScanId,
    /// When the scan started.
    pub time: u64,
    /// The state.
    pub state: PortState,
    /// Service name and version text, when known.
    pub service: Option<String>,
}

/// One host's port through the stored scans.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortTimeline {
    /// The host.
    pub addr: IpAddr,
    /// The protocol.
    pub protocol: Protocol,
    /// The port.
    pub port: u16,
    /// The first scan that saw it open, and when.
    pub first_open: Option<(ScanId, u64)>,
    /// The last scan that saw it open, and when.
    pub last_open: Option<(ScanId, u64)>,
    /// The first scan's word, then each change.
    pub changes: Vec<PortEvent>,
    /// How many scans covered it.
    pub scans: u32,
}

impl Store {
    /// The timelines of the ports `q` asks for, by host and port.
    pub fn timeline(&mut self, q: &TimelineQuery) -> Result<Vec<PortTimeline>, StoreError> {
        let mut out: BTreeMap<(IpAddr, u16, Protocol), PortTimeline> = BTreeMap::new();
        let mut docs = Vec::new();
        for rec in self.scans()? {
            docs.push((rec.id, self.load(rec.id)?));
        }
        // A name matches its host in every scan, also those that did not
        // look the name up.
        let addrs: std::collections::HashSet<IpAddr> = docs
            .iter()
            .flat_map(|(_, d)| &d.hosts)
            .filter(|h| host_matches(h, q))
            .map(|h| h.addr)
            .collect();
        for (id, doc) in &docs {
            let id = *id;
            for h in doc.hosts.iter().filter(|h| addrs.contains(&h.addr)) {
                for p in h
                    .ports
                    .iter()
                    .filter(|p| q.port.is_none_or(|n| n == p.port))
                {
                    let t =
                        out.entry((h.addr, p.port, p.protocol))
                            .or_insert_with(|| PortTimeline {
                                addr: h.addr,
                                protocol: p.protocol,
                                port: p.port,
                                first_open: None,
                                last_open: None,
                                changes: Vec::new(),
                                scans: 0,
                            });
                    add(t, id, doc.info.start_time, p);
                }
            }
        }
        Ok(out
            .into_values()
            .filter(|t| q.port.is_some() || t.first_open.is_some())
            .filter(|t| {
                q.service.as_ref().is_none_or(|s| {
                    t.changes.iter().any(|e| {
                        e.service
                            .as_deref()
                            .and_then(|x| x.split(' ').next())
                            .is_some_and(|name| name.eq_ignore_ascii_case(s))
                    })
                })
            })
            .collect())
    }
}

fn host_matches(h: &HostResult, q: &TimelineQuery) -> bool {
    match &q.target {
        None => true,
        Some(t) => {
            h.addr.to_string() == *t || h.hostnames.iter().any(|n| n.name.eq_ignore_ascii_case(t))
        }
    }
}

fn add(t: &mut PortTimeline, scan: ScanId, time: u64, p: &PortResult) {
    t.scans += 1;
    if p.state == PortState::Open {
        t.first_open.get_or_insert((scan, time));
        t.last_open = Some((scan, time));
    }
    let service = p.service.as_ref().map(|s| {
        let v = s.version_text();
        if v.is_empty() {
            s.name.clone()
        } else {
            format!("{} {v}", s.name)
        }
    });
    let changed = t.changes.last().is_none_or(|e| {
        // A side without a service (a common-state port) is no change.
        e.state != p.state || (service.is_some() && e.service.is_some() && e.service != service)
    });
    if changed {
        t.changes.push(PortEvent {
            scan,
            time,
            state: p.state,
            service,
        });
    }
}

//! The "changes" section: what changed since the scan before, as
//! `portolan diff` computes it (`portolan_diff::diff_host`, with its
//! coverage and flapping rules), sorted into what a reader looks for:
//! new, reopened, closed and changed ports, and hosts that came up or
//! went down.
//!
//! Why one host at a time: `-oH` rewrites its report as hosts finish and
//! keeps only the report's reduced view of them ([`crate::ReportHost`]),
//! so each host is compared with the earlier scan's record of it when
//! it arrives. The earlier scan's hosts that the new one has not reached
//! are counted, and shown as gone only once the scan finished without
//! an interrupt (a host not scanned is not a host that went away).
//!
//! "Reopened" needs more than two scans: a port open now, not open in
//! the scan before, but open in some scan before that (the caller
//! passes those ports, from the history store).

use portolan_diff::{diff_host, DiffOptions, HostDiff, PortSide};
use portolan_model::{HostResult, HostStatus, PortState, Protocol, ScanDocument};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

/// A port of a host: the key of "seen open before".
pub type PortKey = (IpAddr, Protocol, u16);

/// Rows shown at most per scan; the rest are counted, and `portolan
/// diff` lists them all.
pub const MAX_ROWS: usize = 1_000;

/// What a report knows of a scan's changes.
#[derive(Clone, Debug)]
pub enum ChangeSet {
    /// Compared with an earlier scan.
    Compared(Changes),
    /// Not compared, and why, in plain words ("no earlier scan of the
    /// same targets in the history").
    NoEarlier(String),
}

/// What kind of change a row is, in the order the section lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// Open now, not open before (and never seen open).
    New,
    /// Open now, not open in the scan before, open in one before that.
    Reopened,
    /// Open before, not open now.
    Closed,
    /// Open in both, with a different service or version.
    Changed,
    /// Another change of state (`closed` to `filtered`).
    State,
    /// A host up now that was down or absent.
    HostUp,
    /// A host down or absent now that was up.
    HostDown,
    /// A host whose names changed.
    Names,
}

impl ChangeKind {
    /// Every kind, in listing order.
    pub const ALL: [ChangeKind; 8] = [
        ChangeKind::New,
        ChangeKind::Reopened,
        ChangeKind::Closed,
        ChangeKind::Changed,
        ChangeKind::State,
        ChangeKind::HostUp,
        ChangeKind::HostDown,
        ChangeKind::Names,
    ];

    /// The stable key (`host-up`), a row's `data-kind`.
    pub fn key(self) -> &'static str {
        match self {
            ChangeKind::New => "new",
            ChangeKind::Reopened => "reopened",
            ChangeKind::Closed => "closed",
            ChangeKind::Changed => "changed",
            ChangeKind::State => "state",
            ChangeKind::HostUp => "host-up",
            ChangeKind::HostDown => "host-down",
            ChangeKind::Names => "names",
        }
    }

    /// The words a reader sees (`host up`).
    pub fn label(self) -> &'static str {
        match self {
            ChangeKind::New => "new port",
            ChangeKind::Reopened => "reopened",
            ChangeKind::Closed => "closed",
            ChangeKind::Changed => "changed service",
            ChangeKind::State => "other state",
            ChangeKind::HostUp => "host up",
            ChangeKind::HostDown => "host down",
            ChangeKind::Names => "names",
        }
    }
}

/// One change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChangeRow {
    /// What kind.
    pub kind: ChangeKind,
    /// The host.
    pub addr: IpAddr,
    /// Its name, newest known.
    pub name: String,
    /// The port, for a port's change.
    pub port: Option<u16>,
    /// Its protocol (`tcp`), for a port's change.
    pub protocol: Option<&'static str>,
    /// Before: state, service and version, or the host's status.
    pub before: String,
    /// Now, in the same words.
    pub after: String,
}

/// The changes of one scan against an earlier one.
#[derive(Clone, Debug)]
pub struct Changes {
    /// How the earlier scan is named ("stored scan 12, 2026-12-04…").
    pub against: String,
    earlier: HashMap<IpAddr, HostResult>,
    seen: HashSet<IpAddr>,
    open_before: HashSet<PortKey>,
    rows: Vec<ChangeRow>,
    /// Ports compared by one scan only (see `portolan_diff`).
    pub not_compared: u64,
    /// `open|filtered` flaps left out.
    pub flaps: u64,
    finished: bool,
}

impl Changes {
    /// Changes against `earlier`, named `against`; `open_before` holds
    /// the ports seen open in scans before `earlier` (for "reopened";
    /// empty when there are none or they are not known).
    pub fn new(
        against: impl Into<String>,
        earlier: ScanDocument,
        open_before: HashSet<PortKey>,
    ) -> Self {
        Changes {
            against: against.into(),
            // A host written twice (several shards) counts as its last
            // record, as in `portolan diff`.
            earlier: earlier.hosts.into_iter().map(|h| (h.addr, h)).collect(),
            seen: HashSet::new(),
            open_before,
            rows: Vec::new(),
            not_compared: 0,
            flaps: 0,
            finished: false,
        }
    }

    /// The changes from `earlier` to the whole of `now`.
    pub fn between(against: impl Into<String>, earlier: ScanDocument, now: &ScanDocument) -> Self {
        let mut c = Changes::new(against, earlier, HashSet::new());
        for h in &now.hosts {
            c.host(h);
        }
        c.finish(now.stats.as_ref().is_none_or(|s| s.interrupted));
        c
    }

    /// Compares one finished host of the new scan. A host given again
    /// replaces its earlier comparison.
    pub fn host(&mut self, host: &HostResult) {
        if !self.seen.insert(host.addr) {
            self.rows.retain(|r| r.addr != host.addr);
        }
        let before = self.earlier.get(&host.addr);
        if let Some(d) = diff_host(
            host.addr,
            before,
            Some(host),
            DiffOptions::default(),
            &mut self.flaps,
        ) {
            self.not_compared += d.not_compared;
            self.add(&d);
        }
    }

    /// The scan ended: unless `cut_short`, the earlier scan's hosts it
    /// did not report are gone (their open ports closed).
    pub fn finish(&mut self, cut_short: bool) {
        if self.finished || cut_short {
            return;
        }
        self.finished = true;
        let mut gone: Vec<&HostResult> = self
            .earlier
            .values()
            .filter(|h| !self.seen.contains(&h.addr))
            .collect();
        gone.sort_by_key(|h| h.addr);
        let mut flaps = 0;
        let diffs: Vec<HostDiff> = gone
            .into_iter()
            .filter_map(|h| diff_host(h.addr, Some(h), None, DiffOptions::default(), &mut flaps))
            .collect();
        for d in &diffs {
            self.add(d);
        }
    }

    /// Hosts of the earlier scan this one has not reported (yet).
    pub fn unreached(&self) -> u64 {
        if self.finished {
            return 0;
        }
        self.earlier
            .keys()
            .filter(|a| !self.seen.contains(a))
            .count() as u64
    }

    /// The rows, in listing order: by kind, then host, then port.
    pub fn rows(&self) -> Vec<&ChangeRow> {
        let mut v: Vec<&ChangeRow> = self.rows.iter().collect();
        v.sort_by_key(|r| (r.kind, r.addr, r.port, r.protocol));
        v
    }

    /// How many rows of each kind, in [`ChangeKind::ALL`] order.
    pub fn counts(&self) -> Vec<(ChangeKind, u64)> {
        ChangeKind::ALL
            .iter()
            .map(|k| (*k, self.rows.iter().filter(|r| r.kind == *k).count() as u64))
            .collect()
    }

    fn add(&mut self, d: &HostDiff) {
        let name = d.name().unwrap_or_default().to_owned();
        let row = |kind, port: Option<(u16, Protocol)>, before: String, after: String| ChangeRow {
            kind,
            addr: d.addr,
            name: name.clone(),
            port: port.map(|p| p.0),
            protocol: port.map(|p| p.1.as_str()),
            before,
            after,
        };
        if d.status_changed() {
            let status = |s: &Option<portolan_diff::HostSide>, absent: &str| {
                s.as_ref()
                    .map_or_else(|| absent.to_owned(), |h| h.status.as_str().to_owned())
            };
            let up = |s: &Option<portolan_diff::HostSide>| {
                s.as_ref().is_some_and(|h| h.status == HostStatus::Up)
            };
            let kind = if up(&d.b) {
                Some(ChangeKind::HostUp)
            } else if up(&d.a) {
                Some(ChangeKind::HostDown)
            } else {
                None
            };
            if let Some(kind) = kind {
                let (before, after) = (
                    status(&d.a, "not in the scan"),
                    status(&d.b, "not in the scan"),
                );
                self.rows.push(row(kind, None, before, after));
            }
        }
        if d.names_changed() {
            let names = |s: &Option<portolan_diff::HostSide>| {
                s.as_ref()
                    .map(|h| h.hostnames.join(", "))
                    .unwrap_or_default()
            };
            self.rows
                .push(row(ChangeKind::Names, None, names(&d.a), names(&d.b)));
        }
        for p in &d.ports {
            let open =
                |s: &Option<PortSide>| s.as_ref().is_some_and(|s| s.state == PortState::Open);
            let kind = match (open(&p.a), open(&p.b)) {
                (false, true) if self.open_before.contains(&(d.addr, p.protocol, p.port)) => {
                    ChangeKind::Reopened
                }
                (false, true) => ChangeKind::New,
                (true, false) => ChangeKind::Closed,
                (true, true) => ChangeKind::Changed,
                (false, false) => ChangeKind::State,
            };
            let absent = |host: &Option<portolan_diff::HostSide>| match host {
                None => "host not in the scan".to_owned(),
                Some(h) => format!("host {}", h.status.as_str()),
            };
            let before = p.a.as_ref().map_or_else(|| absent(&d.a), side_text);
            let after = p.b.as_ref().map_or_else(|| absent(&d.b), side_text);
            self.rows
                .push(row(kind, Some((p.port, p.protocol)), before, after));
        }
    }
}

/// `open ssh OpenSSH 9.2p1 (protocol 2.0)`.
fn side_text(s: &PortSide) -> String {
    let mut parts = vec![s.state.as_str().to_owned()];
    parts.extend(s.service.clone());
    let v = s.version_text();
    if !v.is_empty() {
        parts.push(v);
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use portolan_model::{PortResult, Reason, RunStats, ScanInfo, ServiceInfo};

    fn doc(hosts: Vec<HostResult>, interrupted: bool) -> ScanDocument {
        let mut d = ScanDocument::new(ScanInfo {
            version: "0.1.0".into(),
            args: "portolan -sT 198.18.0.0/29".into(),
            start_time: 0,
            scans: Vec::new(),
            verbose: 0,
            debugging: 0,
        });
        d.hosts = hosts;
        d.stats = Some(RunStats {
            end_time: 1,
            elapsed: 1.0,
            hosts_up: 0,
            hosts_down: 0,
            interrupted,
            hosts_incomplete: 0,
            error: None,
        });
        d
    }

    fn host(last: u8, ports: &[(u16, PortState, Option<&str>)]) -> HostResult {
        let mut h = HostResult::new(
            format!("198.18.0.{last}").parse().unwrap(),
            HostStatus::Up,
            Reason::EchoReply,
        );
        for &(port, state, version) in ports {
            h.ports.push(PortResult {
                port,
                protocol: Protocol::Tcp,
                state,
                reason: Reason::SynAck,
                reason_ttl: 64,
                service: version.map(|v| {
                    let mut s = ServiceInfo::from_table("ssh");
                    s.product = Some("OpenSSH".into());
                    s.version = Some(v.into());
                    Box::new(s)
                }),
            });
        }
        h
    }

    use PortState::{Closed, Filtered, Open};

    fn kinds(c: &Changes) -> Vec<(ChangeKind, String, Option<u16>)> {
        c.rows()
            .into_iter()
            .map(|r| (r.kind, r.addr.to_string(), r.port))
            .collect()
    }

    #[test]
    fn new_reopened_closed_changed_and_hosts() {
        let a = doc(
            vec![
                host(
                    1,
                    &[
                        (22, Open, Some("9.2")),
                        (80, Open, None),
                        (443, Closed, None),
                        (8080, Closed, None),
                        (25, Closed, None),
                    ],
                ),
                host(2, &[(22, Open, None)]),
            ],
            false,
        );
        let b = doc(
            vec![
                host(
                    1,
                    &[
                        (22, Open, Some("9.6")),
                        (80, Closed, None),
                        (443, Open, None),
                        (8080, Open, None),
                        (25, Filtered, None),
                    ],
                ),
                host(3, &[(53, Open, None)]),
            ],
            false,
        );
        let before: HashSet<PortKey> =
            [("198.18.0.1".parse().unwrap(), Protocol::Tcp, 8080)].into();
        let mut c = Changes::new("scan 1", a, before);
        for h in &b.hosts {
            c.host(h);
        }
        assert_eq!(c.unreached(), 1, "198.18.0.2 not reached yet");
        c.finish(false);
        let ip = |n: u8| format!("198.18.0.{n}");
        assert_eq!(
            kinds(&c),
            vec![
                (ChangeKind::New, ip(1), Some(443)),
                (ChangeKind::New, ip(3), Some(53)),
                (ChangeKind::Reopened, ip(1), Some(8080)),
                (ChangeKind::Closed, ip(1), Some(80)),
                (ChangeKind::Closed, ip(2), Some(22)),
                (ChangeKind::Changed, ip(1), Some(22)),
                (ChangeKind::State, ip(1), Some(25)),
                (ChangeKind::HostUp, ip(3), None),
                (ChangeKind::HostDown, ip(2), None),
            ]
        );
        let changed = c.rows()[5];
        assert_eq!(changed.before, "open ssh OpenSSH 9.2");
        assert_eq!(changed.after, "open ssh OpenSSH 9.6");
        assert_eq!(c.rows()[4].after, "host not in the scan");
        assert_eq!(c.unreached(), 0);
    }

    #[test]
    fn an_interrupted_scan_does_not_call_unreached_hosts_gone() {
        let a = doc(
            vec![host(1, &[(22, Open, None)]), host(2, &[(22, Open, None)])],
            false,
        );
        let b = doc(vec![host(1, &[(22, Open, None)])], true);
        let c = Changes::between("scan 1", a, &b);
        assert!(c.rows().is_empty());
        assert_eq!(c.unreached(), 1);
        // The same scan, finished: the host is gone.
        let a = doc(
            vec![host(1, &[(22, Open, None)]), host(2, &[(22, Open, None)])],
            false,
        );
        let b = doc(vec![host(1, &[(22, Open, None)])], false);
        let c = Changes::between("scan 1", a, &b);
        assert_eq!(c.counts()[2], (ChangeKind::Closed, 1));
        assert_eq!(c.counts()[6], (ChangeKind::HostDown, 1));
    }

    #[test]
    fn a_host_given_twice_is_compared_once_by_its_last_record() {
        let a = doc(vec![host(1, &[(22, Closed, None)])], false);
        let mut c = Changes::new("scan 1", a, HashSet::new());
        c.host(&host(1, &[(22, Open, None)]));
        c.host(&host(1, &[(22, Open, None)]));
        assert_eq!(c.rows().len(), 1);
    }
}

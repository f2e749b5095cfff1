//! Recording: a scan's row, each finished host, the scan's end, and
//! imports of whole files.

use crate::codec::secs;
use crate::conn::Conn;
use crate::value::Value;
use crate::{ScanId, ScanStatus, Store, StoreError};
use portolan_model::{
    parse_ranges, HostResult, HostStatus, PortResult, PortState, Protocol, Reason, RunStats,
    ScanDocument, ScanInfo,
};
use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;

/// What a scan record holds beyond its [`ScanInfo`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanMeta {
    /// The targets as given (specifications, space-separated), or for an
    /// import the addresses found; scans of the same targets compare.
    pub targets: String,
    /// `--seed`, when given.
    pub seed: Option<u64>,
    /// `--shard K/N`, when given.
    pub shard: Option<(u32, u32)>,
    /// `scan` for a recorded scan, else the file it was imported from.
    pub source: String,
    /// `--scan-id`: the name the shards of one scan share.
    pub group: Option<String>,
}

/// Port rows per INSERT statement (13 parameters each, far below both
/// databases' limits).
const PORTS_PER_INSERT: usize = 64;
const PORT_COLUMNS: usize = 19;

impl Store {
    /// Records the start of a scan (status `running`) and returns its id.
    pub fn begin_scan(&mut self, info: &ScanInfo, meta: &ScanMeta) -> Result<ScanId, StoreError> {
        let id = self.transaction(|c| {
            // A shard run again (killed, rerun) replaces its earlier rows:
            // the group never holds one shard twice.
            if let (Some(g), Some((k, n))) = (&meta.group, meta.shard) {
                let p = [Value::text(g), Value::text(format!("{k}/{n}"))];
                crate::read::delete_scans(
                    c,
                    "SELECT id FROM portolan_scans WHERE scan_group = $1 AND shard = $2",
                    &p,
                )?;
            }
            let rows = c.query(
                "INSERT INTO portolan_scans (args, version, start_time, seed, shard, status, \
                 targets, source, scan_group) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 RETURNING id",
                &[
                    Value::text(&info.args),
                    Value::text(&info.version),
                    Value::int(secs(info.start_time)),
                    Value::Text(meta.seed.map(|s| s.to_string())),
                    Value::Text(meta.shard.map(|(k, n)| format!("{k}/{n}"))),
                    Value::text(ScanStatus::Running.as_str()),
                    Value::text(&meta.targets),
                    Value::text(&meta.source),
                    Value::Text(meta.group.clone()),
                ],
            )?;
            let id = rows
                .first()
                .and_then(|r| r.int(0))
                .ok_or_else(|| StoreError::Query("INSERT returned no id".into()))?;
            for s in &info.scans {
                c.exec(
                    "INSERT INTO portolan_scan_ports (scan_id, scan_type, protocol, \
                     num_services, services) VALUES ($1, $2, $3, $4, $5)",
                    &[
                        Value::int(id),
                        Value::text(s.scan_type.as_str()),
                        Value::text(s.protocol.as_str()),
                        Value::int(s.num_services),
                        Value::text(&s.services),
                    ],
                )?;
            }
            Ok(id)
        })?;
        self.coverage.insert(id, Arc::new(coverage_of(info)));
        Ok(id)
    }

    /// Records one finished host of scan `scan`, in its own transaction.
    pub fn add_host(&mut self, scan: ScanId, host: &HostResult) -> Result<(), StoreError> {
        let coverage = match self.coverage.get(&scan) {
            Some(c) => c.clone(),
            None => {
                let c = Arc::new(self.load_coverage(scan)?);
                self.coverage.insert(scan, c.clone());
                c
            }
        };
        let extra = common_state(host, &coverage);
        self.transaction(|c| insert_host(c, scan, host, extra))
    }

    /// Records finished hosts of scan `scan` in one transaction: the
    /// cheap way to record many (a transaction per host costs tens of
    /// microseconds, which a /16 sweep feels).
    pub fn add_hosts(&mut self, scan: ScanId, hosts: &[HostResult]) -> Result<(), StoreError> {
        let coverage = match self.coverage.get(&scan) {
            Some(c) => c.clone(),
            None => {
                let c = Arc::new(self.load_coverage(scan)?);
                self.coverage.insert(scan, c.clone());
                c
            }
        };
        self.transaction(|c| {
            let mut silent: Vec<(SilentKind, Vec<&HostResult>)> = Vec::new();
            for host in hosts {
                let extra = common_state(host, &coverage);
                match silent_kind(host, extra) {
                    Some(kind) => match silent.iter_mut().find(|(k, _)| *k == kind) {
                        Some((_, list)) => list.push(host),
                        None => silent.push((kind, vec![host])),
                    },
                    None => insert_host(c, scan, host, extra)?,
                }
            }
            for (kind, list) in silent {
                insert_silent(c, scan, kind, &list)?;
            }
            Ok(())
        })
    }

    /// Reopens scan `scan` for `--resume`: its status becomes `resumed`,
    /// and the hosts it recorded that are not in `keep` (those finished
    /// after the checkpoint, which the resumed run scans again) are
    /// removed, so no host is recorded twice. One transaction.
    pub fn resume_scan(&mut self, scan: ScanId, keep: &[IpAddr]) -> Result<(), StoreError> {
        let keep: HashSet<String> = keep.iter().map(IpAddr::to_string).collect();
        self.transaction(|c| {
            let n = c.exec(
                "UPDATE portolan_scans SET status = $1, end_time = NULL WHERE id = $2",
                &[Value::text(ScanStatus::Resumed.as_str()), Value::int(scan)],
            )?;
            if n == 0 {
                return Err(StoreError::BadData(format!(
                    "scan {scan} of the checkpoint is not in this store"
                )));
            }
            let rows = c.query(
                "SELECT id, addr FROM portolan_hosts WHERE scan_id = $1",
                &[Value::int(scan)],
            )?;
            let silent = c.query(
                "SELECT addrs FROM portolan_silent WHERE scan_id = $1",
                &[Value::int(scan)],
            )?;
            for row in silent {
                let all = row.str(0).to_owned();
                let kept: Vec<&str> = all.split(',').filter(|a| keep.contains(*a)).collect();
                if kept.len() == all.split(',').count() {
                    continue;
                }
                let p = [
                    Value::text(kept.join(",")),
                    Value::int(scan),
                    Value::text(&all),
                ];
                c.exec(
                    "UPDATE portolan_silent SET addrs = $1 WHERE scan_id = $2 AND addrs = $3",
                    &p,
                )?;
            }
            for row in rows {
                let (Some(id), Some(addr)) = (row.int(0), row.text(1)) else {
                    continue;
                };
                if keep.contains(&addr) {
                    continue;
                }
                for sql in [
                    "DELETE FROM portolan_ports WHERE host_id = $1",
                    "DELETE FROM portolan_hostnames WHERE host_id = $1",
                    "DELETE FROM portolan_hosts WHERE id = $1",
                ] {
                    c.exec(sql, &[Value::int(id)])?;
                }
            }
            Ok(())
        })
    }

    /// Records how scan `scan` ended: `interrupted` when it was cut short,
    /// else `complete`, or `resumed` when `--resume` finished it.
    pub fn finish_scan(&mut self, scan: ScanId, stats: &RunStats) -> Result<(), StoreError> {
        self.finish_scan_as(scan, stats, false)
    }

    /// [`finish_scan`](Self::finish_scan) of a scan `--resume` continued
    /// when `resumed`: complete, it is marked `resumed`.
    pub fn finish_scan_as(
        &mut self,
        scan: ScanId,
        stats: &RunStats,
        resumed: bool,
    ) -> Result<(), StoreError> {
        let status = match (stats.interrupted, resumed) {
            (true, _) => ScanStatus::Interrupted,
            (false, true) => ScanStatus::Resumed,
            (false, false) => ScanStatus::Complete,
        };
        self.transaction(|c| {
            c.exec(
                "UPDATE portolan_scans SET end_time = $1, elapsed = $2, status = $3, \
                 error = $4, hosts_up = $5, hosts_down = $6 WHERE id = $7",
                &[
                    Value::int(secs(stats.end_time)),
                    Value::Real(Some(stats.elapsed)),
                    Value::text(status.as_str()),
                    Value::opt_text(stats.error.as_deref()),
                    Value::int(secs(stats.hosts_up)),
                    Value::int(secs(stats.hosts_down)),
                    Value::int(scan),
                ],
            )
        })?;
        self.coverage.remove(&scan);
        Ok(())
    }

    /// Records a whole scan read from a file (nmap's or portolan's XML or
    /// JSON). The targets are its hosts' addresses; a document without an
    /// end reads as `interrupted`.
    pub fn import(&mut self, doc: &ScanDocument, source: &str) -> Result<ScanId, StoreError> {
        let meta = ScanMeta {
            targets: doc
                .hosts
                .iter()
                .map(|h| h.addr.to_string())
                .collect::<Vec<_>>()
                .join(" "),
            seed: None,
            shard: None,
            source: source.to_owned(),
            group: None,
        };
        let id = self.begin_scan(&doc.info, &meta)?;
        for h in &doc.hosts {
            self.add_host(id, h)?;
        }
        let stats = doc.stats.clone().unwrap_or(RunStats {
            end_time: doc.info.start_time,
            elapsed: 0.0,
            hosts_up: 0,
            hosts_down: 0,
            interrupted: true,
            hosts_incomplete: 0,
            error: None,
        });
        self.finish_scan(id, &stats)?;
        Ok(id)
    }

    fn load_coverage(&mut self, scan: ScanId) -> Result<Vec<(Protocol, Vec<u16>)>, StoreError> {
        let rows = self.conn.query(
            "SELECT protocol, services FROM portolan_scan_ports WHERE scan_id = $1",
            &[Value::int(scan)],
        )?;
        let mut out: Vec<(Protocol, Vec<u16>)> = Vec::new();
        for r in rows {
            let proto: Protocol = crate::codec::parse(r.str(0), "protocol")?;
            let ports = parse_ranges(r.str(1)).map_err(StoreError::BadData)?;
            add_coverage(&mut out, proto, ports);
        }
        Ok(out)
    }
}

/// The ports a scan covers, per protocol, sorted and without repeats.
pub(crate) fn coverage_of(info: &ScanInfo) -> Vec<(Protocol, Vec<u16>)> {
    let mut out = Vec::new();
    for s in &info.scans {
        add_coverage(
            &mut out,
            s.protocol,
            parse_ranges(&s.services).unwrap_or_default(),
        );
    }
    out
}

fn add_coverage(out: &mut Vec<(Protocol, Vec<u16>)>, proto: Protocol, ports: Vec<u16>) {
    match out.iter_mut().find(|(p, _)| *p == proto) {
        Some((_, v)) => v.extend(ports),
        None => out.push((proto, ports)),
    }
    for (_, v) in out.iter_mut() {
        v.sort_unstable();
        v.dedup();
    }
}

/// The host's most common (state, reason) when its ports are exactly the
/// scan's coverage (then those ports need no rows); else `None`.
fn common_state(
    host: &HostResult,
    coverage: &[(Protocol, Vec<u16>)],
) -> Option<(PortState, Reason)> {
    let covered: usize = coverage.iter().map(|(_, v)| v.len()).sum();
    if host.ports.is_empty() || host.ports.len() != covered {
        return None;
    }
    let in_coverage = |p: &PortResult| {
        coverage
            .iter()
            .any(|(proto, v)| *proto == p.protocol && v.binary_search(&p.port).is_ok())
    };
    if !host.ports.iter().all(in_coverage) {
        return None;
    }
    let mut counts: Vec<((PortState, Reason), usize)> = Vec::new();
    for p in &host.ports {
        match counts.iter_mut().find(|(k, _)| *k == (p.state, p.reason)) {
            Some(c) => c.1 += 1,
            None => counts.push(((p.state, p.reason), 1)),
        }
    }
    counts.into_iter().max_by_key(|(_, n)| *n).map(|(k, _)| k)
}

/// Whether `p` must have its own row: not in the host's common state, or
/// carrying what the common state cannot restore (a probed service).
fn needs_row(p: &PortResult, extra: Option<(PortState, Reason)>) -> bool {
    extra != Some((p.state, p.reason))
        || p.service
            .as_ref()
            .is_some_and(|s| s.method == portolan_model::ServiceMethod::Probed)
}

/// What the hosts of one `portolan_silent` row share: status, reason
/// and the state and reason of every port.
type SilentKind = (HostStatus, Reason, (PortState, Reason));

/// The kind of a host with nothing to say besides its ports' one common
/// state (see schema migration 4), or `None` when it needs its own row.
fn silent_kind(h: &HostResult, extra: Option<(PortState, Reason)>) -> Option<SilentKind> {
    let extra = extra?;
    let quiet = h.mac.is_none()
        && h.hostnames.is_empty()
        && h.reason_ttl == 0
        && h.latency.is_none()
        && !h.timed_out
        && h.scripts.is_empty()
        && h.os.is_none()
        && h.ports.iter().all(|p| !needs_row(p, Some(extra)));
    quiet.then_some((h.status, h.reason, extra))
}

/// One row of silent hosts: their addresses, the earliest start and the
/// latest end (their own times are not kept).
fn insert_silent(
    c: &mut dyn Conn,
    scan: ScanId,
    (status, reason, extra): SilentKind,
    hosts: &[&HostResult],
) -> Result<(), StoreError> {
    let addrs: Vec<String> = hosts.iter().map(|h| h.addr.to_string()).collect();
    let start = hosts.iter().map(|h| h.start_time).min().unwrap_or(0);
    let end = hosts.iter().map(|h| h.end_time).max().unwrap_or(0);
    c.exec(
        "INSERT INTO portolan_silent (scan_id, status, reason, extra_state, extra_reason, \
         start_time, end_time, addrs) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            Value::int(scan),
            Value::text(status.as_str()),
            Value::text(reason.as_str()),
            Value::text(extra.0.as_str()),
            Value::text(extra.1.as_str()),
            Value::int(secs(start)),
            Value::int(secs(end)),
            Value::text(addrs.join(",")),
        ],
    )?;
    Ok(())
}

fn insert_host(
    c: &mut dyn Conn,
    scan: ScanId,
    h: &HostResult,
    extra: Option<(PortState, Reason)>,
) -> Result<(), StoreError> {
    let rows = c.query(
        "INSERT INTO portolan_hosts (scan_id, addr, status, reason, reason_ttl, mac, \
         mac_vendor, latency_us, start_time, end_time, timed_out, extra_state, extra_reason, os, \
         scripts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
         RETURNING id",
        &[
            Value::int(scan),
            Value::text(h.addr.to_string()),
            Value::text(h.status.as_str()),
            Value::text(h.reason.as_str()),
            Value::int(h.reason_ttl),
            Value::Text(h.mac.as_ref().map(|m| m.to_string())),
            Value::opt_text(h.mac.as_ref().and_then(|m| m.vendor.as_deref())),
            Value::Int(
                h.latency
                    .map(|l| l.as_micros().min(i64::MAX as u128) as i64),
            ),
            Value::int(secs(h.start_time)),
            Value::int(secs(h.end_time)),
            Value::int(i64::from(h.timed_out)),
            Value::opt_text(extra.map(|e| e.0.as_str())),
            Value::opt_text(extra.map(|e| e.1.as_str())),
            // OS detection's answer as its JSON form (the model's serde).
            Value::Text(h.os.as_ref().and_then(|o| serde_json::to_string(o).ok())),
            // Check results and risk hints, host and port ones alike.
            Value::Text(
                (!h.scripts.is_empty())
                    .then(|| serde_json::to_string(&h.scripts).ok())
                    .flatten(),
            ),
        ],
    )?;
    let host_id = rows
        .first()
        .and_then(|r| r.int(0))
        .ok_or_else(|| StoreError::Query("INSERT returned no id".into()))?;
    for n in &h.hostnames {
        c.exec(
            "INSERT INTO portolan_hostnames (host_id, name, kind) VALUES ($1, $2, $3)",
            &[
                Value::int(host_id),
                Value::text(&n.name),
                Value::text(n.kind.as_str()),
            ],
        )?;
    }
    let ports: Vec<&PortResult> = h.ports.iter().filter(|p| needs_row(p, extra)).collect();
    for chunk in ports.chunks(PORTS_PER_INSERT) {
        let mut params = Vec::with_capacity(chunk.len() * PORT_COLUMNS);
        for p in chunk {
            port_values(&mut params, host_id, p);
        }
        c.exec(&port_insert(chunk.len()), &params)?;
    }
    Ok(())
}

/// `INSERT INTO portolan_ports ... VALUES (...), (...)` for `n` rows.
fn port_insert(n: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO portolan_ports (host_id, protocol, port, state, reason, reason_ttl, \
         service, product, version, extrainfo, hostname, ostype, devicetype, tunnel, method, \
         conf, cpe, certificate, findings) VALUES ",
    );
    for row in 0..n {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for col in 0..PORT_COLUMNS {
            if col > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", row * PORT_COLUMNS + col + 1));
        }
        sql.push(')');
    }
    sql
}

fn port_values(out: &mut Vec<Value>, host_id: i64, p: &PortResult) {
    let s = p.service.as_deref();
    let text = |f: fn(&portolan_model::ServiceInfo) -> Option<&str>| Value::opt_text(s.and_then(f));
    out.extend([
        Value::int(host_id),
        Value::text(p.protocol.as_str()),
        Value::int(p.port),
        Value::text(p.state.as_str()),
        Value::text(p.reason.as_str()),
        Value::int(p.reason_ttl),
        text(|s| Some(&s.name)),
        text(|s| s.product.as_deref()),
        text(|s| s.version.as_deref()),
        text(|s| s.extrainfo.as_deref()),
        text(|s| s.hostname.as_deref()),
        text(|s| s.ostype.as_deref()),
        text(|s| s.devicetype.as_deref()),
        text(|s| s.tunnel.as_deref()),
        text(|s| Some(s.method.as_str())),
        Value::Int(s.map(|s| i64::from(s.conf))),
        Value::Text(s.filter(|s| !s.cpe.is_empty()).map(|s| s.cpe.join("\n"))),
        Value::Text(
            s.and_then(|s| s.certificate.as_ref())
                .and_then(|c| serde_json::to_string(c).ok()),
        ),
        Value::Text(None),
    ]);
}

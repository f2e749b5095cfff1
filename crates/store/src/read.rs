//! Reading the store back: the list of scans, a scan by id, `last` or
//! tag, and a whole scan as the model's [`ScanDocument`] (what `diff`
//! compares), with the ports of a host's common state restored from the
//! scan's coverage.

use crate::codec::{parse, secs, unsecs};
use crate::conn::Conn;
use crate::value::{Row, Value};
use crate::write::coverage_of;
use crate::{ScanId, Store, StoreError};
use portolan_model::{
    Certificate, HostResult, HostStatus, Hostname, MacAddress, PortResult, PortState, Protocol,
    Reason, RunStats, ScanDocument, ScanInfo, ScanTypeInfo, ServiceInfo,
};
use std::collections::HashMap;
use std::time::Duration;

/// Where a scan stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanStatus {
    /// Still running, or killed without a chance to say so.
    Running,
    /// Stopped by Ctrl-C or SIGTERM.
    Interrupted,
    /// Finished.
    Complete,
    /// Continued by `--resume`: running again, or finished by the
    /// resumed run (complete in more than one run).
    Resumed,
}

impl ScanStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ScanStatus::Running => "running",
            ScanStatus::Interrupted => "interrupted",
            ScanStatus::Complete => "complete",
            ScanStatus::Resumed => "resumed",
        }
    }

    fn from_name(s: &str) -> Result<ScanStatus, StoreError> {
        [
            ScanStatus::Running,
            ScanStatus::Interrupted,
            ScanStatus::Complete,
            ScanStatus::Resumed,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
        .ok_or_else(|| StoreError::BadData(format!("an unknown scan status `{s}`")))
    }
}

/// One scan's row.
#[derive(Clone, Debug, PartialEq)]
pub struct ScanRecord {
    /// Its id.
    pub id: ScanId,
    /// The command line.
    pub args: String,
    /// The version of the scanner that made it.
    pub version: String,
    /// Start, seconds since the epoch.
    pub start_time: u64,
    /// End, when it ended.
    pub end_time: Option<u64>,
    /// Running, interrupted, complete.
    pub status: ScanStatus,
    /// The targets (see [`crate::ScanMeta::targets`]).
    pub targets: String,
    /// `scan`, or the file it was imported from.
    pub source: String,
    /// `--seed`, when given.
    pub seed: Option<u64>,
    /// `--shard`, as `K/N`.
    pub shard: Option<String>,
    /// Hosts up and down, when it ended.
    pub hosts_up: Option<u64>,
    /// See `hosts_up`.
    pub hosts_down: Option<u64>,
    /// Its tags.
    pub tags: Vec<String>,
    /// `--scan-id`: the group of shards it belongs to.
    pub group: Option<String>,
}

impl ScanRecord {
    /// N of its `--shard K/N`, when it has a well-formed one.
    pub fn shard_count(&self) -> Option<u32> {
        self.shard
            .as_deref()?
            .split_once('/')
            .and_then(|(_, n)| n.parse().ok())
    }

    /// Whether it is shard `k` of `n` of scan `group`, complete.
    fn is_complete_shard(&self, group: &str, k: u32, n: u32) -> bool {
        self.group.as_deref() == Some(group)
            && self.shard.as_deref() == Some(&format!("{k}/{n}"))
            && matches!(self.status, ScanStatus::Complete | ScanStatus::Resumed)
    }
}

/// Which of the `n` shards of scan `group` no complete record of
/// `scans` holds, in words (`shards 2, 4 of 4 missing or not
/// finished`); `None` when all are there.
pub fn missing_shards_text(scans: &[ScanRecord], group: &str, n: u32) -> Option<String> {
    let missing: Vec<String> = (1..=n)
        .filter(|&k| !scans.iter().any(|s| s.is_complete_shard(group, k, n)))
        .map(|k| k.to_string())
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "shard{} {} of {n} missing or not finished",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        )
    })
}

const SCAN_COLUMNS: &str = "id, args, version, start_time, end_time, status, targets, source, \
                            seed, shard, hosts_up, hosts_down, scan_group";

impl Store {
    /// Every scan, oldest first.
    pub fn scans(&mut self) -> Result<Vec<ScanRecord>, StoreError> {
        let rows = self.conn.query(
            &format!("SELECT {SCAN_COLUMNS} FROM portolan_scans ORDER BY id"),
            &[],
        )?;
        let tags = self
            .conn
            .query("SELECT scan_id, name FROM portolan_tags ORDER BY name", &[])?;
        rows.iter()
            .map(|r| {
                let mut rec = scan_record(r)?;
                rec.tags = tags
                    .iter()
                    .filter(|t| t.int(0) == Some(rec.id))
                    .map(|t| t.str(1).to_owned())
                    .collect();
                Ok(rec)
            })
            .collect()
    }

    /// One scan's row.
    pub fn scan(&mut self, id: ScanId) -> Result<ScanRecord, StoreError> {
        let rows = self.conn.query(
            &format!("SELECT {SCAN_COLUMNS} FROM portolan_scans WHERE id = $1"),
            &[Value::int(id)],
        )?;
        let row = rows
            .first()
            .ok_or_else(|| StoreError::NotFound(id.to_string()))?;
        scan_record(row)
    }

    /// The scan `spec` names: a number (its id), `last` (the newest), or
    /// a tag.
    pub fn resolve(&mut self, spec: &str) -> Result<ScanId, StoreError> {
        let rows = if spec == "last" {
            self.conn.query("SELECT max(id) FROM portolan_scans", &[])?
        } else if let Ok(id) = spec.parse::<i64>() {
            self.conn.query(
                "SELECT id FROM portolan_scans WHERE id = $1",
                &[Value::int(id)],
            )?
        } else {
            let tagged = self.conn.query(
                "SELECT scan_id FROM portolan_tags WHERE name = $1",
                &[Value::text(spec)],
            )?;
            if tagged.is_empty() {
                // A sharded scan's --scan-id names the whole group.
                self.conn.query(
                    "SELECT min(id) FROM portolan_scans WHERE scan_group = $1",
                    &[Value::text(spec)],
                )?
            } else {
                tagged
            }
        };
        rows.first()
            .and_then(|r| r.int(0))
            .ok_or_else(|| StoreError::NotFound(format!("`{spec}`")))
    }

    /// Names scan `id` `tag` (a tag names one scan: an old use moves).
    pub fn tag(&mut self, id: ScanId, tag: &str) -> Result<(), StoreError> {
        self.scan(id)?;
        self.transaction(|c| {
            c.exec(
                "DELETE FROM portolan_tags WHERE name = $1",
                &[Value::text(tag)],
            )?;
            c.exec(
                "INSERT INTO portolan_tags (name, scan_id) VALUES ($1, $2)",
                &[Value::text(tag), Value::int(id)],
            )?;
            Ok(())
        })
    }

    /// Removes every scan that started before `before` (seconds since the
    /// epoch), with its hosts, ports and tags; returns how many.
    pub fn prune(&mut self, before: u64) -> Result<u64, StoreError> {
        let t = [Value::int(secs(before))];
        self.transaction(|c| {
            delete_scans(c, "SELECT id FROM portolan_scans WHERE start_time < $1", &t)
        })
    }

    /// Scan `id` as a document; for a shard of a sharded scan
    /// (`--scan-id`), the whole scan: every shard's hosts, in address
    /// order, once all N shards are complete (an error names the missing
    /// or unfinished ones before that).
    pub fn load(&mut self, id: ScanId) -> Result<ScanDocument, StoreError> {
        let rec = self.scan(id)?;
        let (Some(group), Some(shard)) = (&rec.group, &rec.shard) else {
            return self.load_one(id);
        };
        let n = rec
            .shard_count()
            .ok_or_else(|| StoreError::Query(format!("scan {id}: bad shard '{shard}'")))?;
        let members: Vec<ScanRecord> = self
            .scans()?
            .into_iter()
            .filter(|s| s.group.as_deref() == Some(group))
            .collect();
        if let Some(missing) = missing_shards_text(&members, group, n) {
            return Err(StoreError::NotFound(format!(
                "all of scan `{group}`: {missing}"
            )));
        }
        let done = |k: u32| members.iter().find(|s| s.is_complete_shard(group, k, n));
        let ids: Vec<ScanId> = (1..=n).filter_map(done).map(|s| s.id).collect();
        let mut whole = self.load_one(ids[0])?;
        for &other in &ids[1..] {
            let part = self.load_one(other)?;
            whole.hosts.extend(part.hosts);
            if let (Some(w), Some(p)) = (whole.stats.as_mut(), part.stats) {
                w.end_time = w.end_time.max(p.end_time);
                w.elapsed = w.elapsed.max(p.elapsed);
                w.hosts_up += p.hosts_up;
                w.hosts_down += p.hosts_down;
            }
            whole.info.start_time = whole.info.start_time.min(part.info.start_time);
        }
        whole.hosts.sort_by_key(|h| h.addr);
        Ok(whole)
    }

    /// One scan row as a document: its info, hosts (in recorded order)
    /// with every covered port, and its end when it ended.
    fn load_one(&mut self, id: ScanId) -> Result<ScanDocument, StoreError> {
        let rec = self.scan(id)?;
        let scans = self
            .conn
            .query(
                "SELECT scan_type, protocol, num_services, services FROM portolan_scan_ports \
                 WHERE scan_id = $1",
                &[Value::int(id)],
            )?
            .iter()
            .map(|r| {
                Ok(ScanTypeInfo {
                    scan_type: parse(r.str(0), "scan type")?,
                    protocol: parse(r.str(1), "protocol")?,
                    num_services: r.int(2).unwrap_or(0) as u32,
                    services: r.str(3).to_owned(),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let info = ScanInfo {
            version: rec.version.clone(),
            args: rec.args.clone(),
            start_time: rec.start_time,
            scans,
            verbose: 0,
            debugging: 0,
        };
        let coverage = coverage_of(&info);
        let mut doc = ScanDocument::new(info);
        let p = [Value::int(id)];
        let mut names: HashMap<i64, Vec<Hostname>> = HashMap::new();
        for r in self.conn.query(
            "SELECT n.host_id, n.name, n.kind FROM portolan_hostnames n \
             JOIN portolan_hosts h ON n.host_id = h.id WHERE h.scan_id = $1",
            &p,
        )? {
            names
                .entry(r.int(0).unwrap_or(0))
                .or_default()
                .push(Hostname {
                    name: r.str(1).to_owned(),
                    kind: parse(r.str(2), "host name kind")?,
                });
        }
        let mut ports: HashMap<i64, Vec<PortResult>> = HashMap::new();
        for r in self.conn.query(
            "SELECT p.host_id, p.protocol, p.port, p.state, p.reason, p.reason_ttl, p.service, \
             p.product, p.version, p.extrainfo, p.hostname, p.ostype, p.devicetype, p.tunnel, \
             p.method, p.conf, p.cpe, p.certificate FROM portolan_ports p \
             JOIN portolan_hosts h ON p.host_id = h.id WHERE h.scan_id = $1",
            &p,
        )? {
            ports
                .entry(r.int(0).unwrap_or(0))
                .or_default()
                .push(port(&r)?);
        }
        for r in self.conn.query(
            "SELECT id, addr, status, reason, reason_ttl, mac, mac_vendor, latency_us, \
             start_time, end_time, timed_out, extra_state, extra_reason, os, scripts FROM portolan_hosts \
             WHERE scan_id = $1 ORDER BY id",
            &p,
        )? {
            let hid = r.int(0).unwrap_or(0);
            let mut h = host(&r)?;
            h.hostnames = names.remove(&hid).unwrap_or_default();
            h.ports = ports.remove(&hid).unwrap_or_default();
            if let (Some(state), Some(reason)) = (r.text(11), r.text(12)) {
                restore_common(
                    &mut h.ports,
                    parse(&state, "port state")?,
                    parse(&reason, "reason")?,
                    &coverage,
                );
            }
            h.ports.sort_by_key(|p| (p.port, p.protocol));
            if let Some(json) = r.text(13) {
                h.os = Some(serde_json::from_str(&json).map_err(|e| {
                    StoreError::Query(format!("host {}: bad OS record: {e}", h.addr))
                })?);
            }
            if let Some(json) = r.text(14) {
                h.scripts = serde_json::from_str(&json).map_err(|e| {
                    StoreError::Query(format!("host {}: bad check results: {e}", h.addr))
                })?;
            }
            doc.hosts.push(h);
        }
        for r in self.conn.query(
            "SELECT status, reason, extra_state, extra_reason, start_time, end_time, addrs \
             FROM portolan_silent WHERE scan_id = $1",
            &p,
        )? {
            let status: HostStatus = parse(r.str(0), "host status")?;
            let reason: Reason = parse(r.str(1), "reason")?;
            let extra: (PortState, Reason) =
                (parse(r.str(2), "port state")?, parse(r.str(3), "reason")?);
            for a in r.str(6).split(',').filter(|a| !a.is_empty()) {
                let addr = a
                    .parse()
                    .map_err(|_| StoreError::BadData(format!("a bad address `{a}`")))?;
                let mut h = HostResult::new(addr, status, reason);
                h.start_time = unsecs(r.int(4));
                h.end_time = unsecs(r.int(5));
                restore_common(&mut h.ports, extra.0, extra.1, &coverage);
                h.ports.sort_by_key(|p| (p.port, p.protocol));
                doc.hosts.push(h);
            }
        }
        if let Some(end) = rec.end_time {
            let row = self.conn.query(
                "SELECT elapsed, error FROM portolan_scans WHERE id = $1",
                &p,
            )?;
            let row = row.first().cloned().unwrap_or_default();
            doc.stats = Some(RunStats {
                end_time: end,
                elapsed: row.real(0).unwrap_or(0.0),
                hosts_up: rec.hosts_up.unwrap_or(0),
                hosts_down: rec.hosts_down.unwrap_or(0),
                interrupted: rec.status == ScanStatus::Interrupted,
                // Hosts' incomplete marks are not stored yet.
                hosts_incomplete: 0,
                error: row.text(1),
            });
        }
        Ok(doc)
    }
}

/// Adds a port in `state` for every covered port without a row.
fn restore_common(
    ports: &mut Vec<PortResult>,
    state: PortState,
    reason: Reason,
    coverage: &[(Protocol, Vec<u16>)],
) {
    let mut have: Vec<(Protocol, u16)> = ports.iter().map(|p| (p.protocol, p.port)).collect();
    have.sort_unstable();
    for (proto, list) in coverage {
        for &port in list {
            if have.binary_search(&(*proto, port)).is_err() {
                ports.push(PortResult {
                    port,
                    protocol: *proto,
                    state,
                    reason,
                    reason_ttl: 0,
                    service: None,
                });
            }
        }
    }
}

fn scan_record(r: &Row) -> Result<ScanRecord, StoreError> {
    Ok(ScanRecord {
        id: r.int(0).unwrap_or(0),
        args: r.str(1).to_owned(),
        version: r.str(2).to_owned(),
        start_time: unsecs(r.int(3)),
        end_time: r.int(4).map(|t| unsecs(Some(t))),
        status: ScanStatus::from_name(r.str(5))?,
        targets: r.str(6).to_owned(),
        source: r.str(7).to_owned(),
        seed: r.text(8).and_then(|s| s.parse().ok()),
        shard: r.text(9),
        hosts_up: r.int(10).map(|n| unsecs(Some(n))),
        hosts_down: r.int(11).map(|n| unsecs(Some(n))),
        group: r.text(12),
        tags: Vec::new(),
    })
}

fn host(r: &Row) -> Result<HostResult, StoreError> {
    let mut h = HostResult::new(
        r.str(1)
            .parse()
            .map_err(|_| StoreError::BadData(format!("a bad address `{}`", r.str(1))))?,
        parse(r.str(2), "host status")?,
        parse(r.str(3), "reason")?,
    );
    h.reason_ttl = r.int(4).unwrap_or(0).clamp(0, 255) as u8;
    h.mac = r.text(5).and_then(|m| mac(&m)).map(|octets| MacAddress {
        octets,
        vendor: r.text(6),
    });
    h.latency = r.int(7).map(|us| Duration::from_micros(us.max(0) as u64));
    h.start_time = unsecs(r.int(8));
    h.end_time = unsecs(r.int(9));
    h.timed_out = r.int(10).unwrap_or(0) != 0;
    Ok(h)
}

fn mac(text: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut parts = text.split(':');
    for o in &mut out {
        *o = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(out)
}

fn port(r: &Row) -> Result<PortResult, StoreError> {
    let service = match r.text(6) {
        None => None,
        Some(name) => Some(Box::new(ServiceInfo {
            name,
            product: r.text(7),
            version: r.text(8),
            extrainfo: r.text(9),
            hostname: r.text(10),
            ostype: r.text(11),
            devicetype: r.text(12),
            tunnel: r.text(13),
            method: parse(r.str(14), "service method")?,
            conf: r.int(15).unwrap_or(0).clamp(0, 10) as u8,
            cpe: r
                .text(16)
                .map(|c| c.lines().map(str::to_owned).collect())
                .unwrap_or_default(),
            certificate: match r.text(17) {
                Some(json) => Some(Box::new(
                    serde_json::from_str::<Certificate>(&json)
                        .map_err(|e| StoreError::BadData(format!("a bad certificate ({e})")))?,
                )),
                None => None,
            },
        })),
    };
    Ok(PortResult {
        port: u16::try_from(r.int(2).unwrap_or(-1))
            .map_err(|_| StoreError::BadData("a bad port number".into()))?,
        protocol: parse(r.str(1), "protocol")?,
        state: parse(r.str(3), "port state")?,
        reason: parse(r.str(4), "reason")?,
        reason_ttl: r.int(5).unwrap_or(0).clamp(0, 255) as u8,
        service,
    })
}

/// Deletes the scans `select` (a query of ids, with `params`) picks, with
/// their hosts, names, ports, tags and coverage, inside the caller's
/// transaction; returns how many scans.
pub(crate) fn delete_scans(
    c: &mut dyn Conn,
    select: &str,
    params: &[Value],
) -> Result<u64, StoreError> {
    let hosts = format!("SELECT id FROM portolan_hosts WHERE scan_id IN ({select})");
    c.exec(
        &format!("DELETE FROM portolan_ports WHERE host_id IN ({hosts})"),
        params,
    )?;
    c.exec(
        &format!("DELETE FROM portolan_hostnames WHERE host_id IN ({hosts})"),
        params,
    )?;
    c.exec(
        &format!("DELETE FROM portolan_hosts WHERE scan_id IN ({select})"),
        params,
    )?;
    c.exec(
        &format!("DELETE FROM portolan_silent WHERE scan_id IN ({select})"),
        params,
    )?;
    c.exec(
        &format!("DELETE FROM portolan_tags WHERE scan_id IN ({select})"),
        params,
    )?;
    c.exec(
        &format!("DELETE FROM portolan_scan_ports WHERE scan_id IN ({select})"),
        params,
    )?;
    c.exec(
        &format!("DELETE FROM portolan_scans WHERE id IN ({select})"),
        params,
    )
}

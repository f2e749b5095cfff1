//! The JSON shape of the model: how each type reads and writes itself
//! with serde, as `docs/json-schema.md` documents it.
//!
//! Types whose fields map one to one onto JSON keys derive their shape
//! directly. The few whose JSON adds derived keys (`family`, RFC 3339
//! times, `hosts_total`) or packs data (`extraports`, MAC text) go through
//! a shape struct here: written from a borrow, read back with `try_from`,
//! so a bad value fails with a message naming it, never a panic.

use crate::document::HostListing;
use crate::host::{HostResult, HostStatus, Hostname, IcmpRateLimit, MacAddress};
use crate::os::OsReport;
use crate::port::{
    Certificate, NameAttribute, PortResult, PortState, Protocol, Reason, ServiceInfo,
};
use crate::ranges::{format_ranges, parse_ranges};
use crate::run::{RunStats, ScanInfo, ScanTypeInfo};
use crate::script::ScriptResult;
use crate::time::rfc3339;
use serde::{Deserialize, Serialize, Serializer};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::time::Duration;

/// `scan` line: [`ScanInfo`] plus the scanner's name and RFC 3339 start.
#[derive(Serialize, Deserialize)]
pub(crate) struct ScanShape {
    #[serde(default = "portolan")]
    scanner: String,
    version: String,
    args: String,
    start_time: u64,
    #[serde(default)]
    start: String,
    scans: Vec<ScanTypeInfo>,
    verbose: u8,
    debugging: u8,
}

fn portolan() -> String {
    "portolan".into()
}

impl Serialize for ScanInfo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ScanShape {
            scanner: portolan(),
            version: self.version.clone(),
            args: self.args.clone(),
            start_time: self.start_time,
            start: rfc3339(self.start_time),
            scans: self.scans.clone(),
            verbose: self.verbose,
            debugging: self.debugging,
        }
        .serialize(s)
    }
}

impl From<ScanShape> for ScanInfo {
    fn from(v: ScanShape) -> Self {
        ScanInfo {
            version: v.version,
            args: v.args,
            start_time: v.start_time,
            scans: v.scans,
            verbose: v.verbose,
            debugging: v.debugging,
        }
    }
}

/// `end` line: [`RunStats`] plus RFC 3339 end and the host total.
#[derive(Serialize, Deserialize)]
pub(crate) struct EndShape {
    end_time: u64,
    #[serde(default)]
    end: String,
    elapsed_s: f64,
    hosts_up: u64,
    hosts_down: u64,
    #[serde(default)]
    hosts_total: u64,
    interrupted: bool,
    #[serde(default)]
    hosts_incomplete: u64,
    #[serde(default)]
    error: Option<String>,
}

impl Serialize for RunStats {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        EndShape {
            end_time: self.end_time,
            end: rfc3339(self.end_time),
            // JSON has no NaN or infinity.
            elapsed_s: if self.elapsed.is_finite() {
                self.elapsed.max(0.0)
            } else {
                0.0
            },
            hosts_up: self.hosts_up,
            hosts_down: self.hosts_down,
            hosts_total: self.hosts_total(),
            interrupted: self.interrupted,
            hosts_incomplete: self.hosts_incomplete,
            error: self.error.clone(),
        }
        .serialize(s)
    }
}

impl From<EndShape> for RunStats {
    fn from(v: EndShape) -> Self {
        RunStats {
            end_time: v.end_time,
            elapsed: v.elapsed_s,
            hosts_up: v.hosts_up,
            hosts_down: v.hosts_down,
            interrupted: v.interrupted,
            hosts_incomplete: v.hosts_incomplete,
            error: v.error,
        }
    }
}

/// A MAC as text (`02:42:AC:11:00:02`) and its vendor, null when unknown.
#[derive(Serialize, Deserialize)]
pub(crate) struct MacShape {
    address: String,
    #[serde(default)]
    vendor: Option<String>,
}

impl Serialize for MacAddress {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        MacShape {
            address: self.to_string(),
            vendor: self.vendor.clone(),
        }
        .serialize(s)
    }
}

impl TryFrom<MacShape> for MacAddress {
    type Error = String;
    fn try_from(v: MacShape) -> Result<Self, String> {
        let bad = || format!("bad MAC address `{}`", v.address);
        let mut octets = [0u8; 6];
        let mut parts = v.address.split(':');
        for o in &mut octets {
            let p = parts.next().ok_or_else(bad)?;
            if p.len() != 2 {
                return Err(bad());
            }
            *o = u8::from_str_radix(p, 16).map_err(|_| bad())?;
        }
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(MacAddress {
            octets,
            vendor: v.vendor,
        })
    }
}

/// A certificate with its times both as RFC 3339 text and Unix seconds.
#[derive(Serialize, Deserialize)]
pub(crate) struct CertShape {
    subject: Vec<NameAttribute>,
    issuer: Vec<NameAttribute>,
    #[serde(default)]
    not_before: String,
    not_before_time: i64,
    #[serde(default)]
    not_after: String,
    not_after_time: i64,
    #[serde(default)]
    alt_names: Vec<String>,
}

impl Serialize for Certificate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = |t: i64| rfc3339(u64::try_from(t).unwrap_or(0));
        CertShape {
            subject: self.subject.clone(),
            issuer: self.issuer.clone(),
            not_before: text(self.not_before),
            not_before_time: self.not_before,
            not_after: text(self.not_after),
            not_after_time: self.not_after,
            alt_names: self.alt_names.clone(),
        }
        .serialize(s)
    }
}

impl From<CertShape> for Certificate {
    fn from(v: CertShape) -> Self {
        Certificate {
            subject: v.subject,
            issuer: v.issuer,
            not_before: v.not_before_time,
            not_after: v.not_after_time,
            alt_names: v.alt_names,
        }
    }
}

/// `ipv4` or `ipv6`: written beside the address for filtering with jq.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Family {
    Ipv4,
    Ipv6,
}

/// `host` line: a [`HostResult`] with its ports split into those listed
/// one by one and those summarised (`extraports`) by nmap's rule.
#[derive(Serialize, Deserialize)]
pub(crate) struct HostShape {
    address: IpAddr,
    #[serde(default)]
    family: Option<Family>,
    status: HostStatus,
    reason: Reason,
    reason_ttl: u8,
    #[serde(default)]
    latency_s: Option<f64>,
    start_time: u64,
    end_time: u64,
    timed_out: bool,
    #[serde(default)]
    incomplete: bool,
    hostnames: Vec<Hostname>,
    #[serde(default)]
    mac: Option<MacAddress>,
    ports: Vec<PortResult>,
    extraports: Vec<ExtraShape>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    icmp_rate_limit: Option<IcmpRateLimit>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    scripts: Vec<ScriptResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    os: Option<OsReport>,
}

/// One summarised state and protocol. `count`, `reasons` and `ports`
/// are the overview nmap's XML also gives; `groups` and `services` carry
/// the rest, so that every port reads back exactly.
#[derive(Serialize, Deserialize)]
pub(crate) struct ExtraShape {
    state: PortState,
    protocol: Protocol,
    count: u32,
    #[serde(serialize_with = "reason_map", skip_deserializing)]
    reasons: Vec<(Reason, u32)>,
    #[serde(default)]
    ports: String,
    groups: Vec<GroupShape>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    services: BTreeMap<String, String>,
}

/// Summarised ports sharing a reason and reply TTL.
#[derive(Serialize, Deserialize)]
pub(crate) struct GroupShape {
    reason: Reason,
    reason_ttl: u8,
    ports: String,
}

/// Writes reason counts as a JSON object in the given order.
fn reason_map<S: Serializer>(v: &[(Reason, u32)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(v.iter().map(|(r, n)| (r, n)))
}

/// Whether a service is nothing but the port table's guess, which a
/// summarised port may keep as a bare name.
fn table_guess(s: &ServiceInfo) -> bool {
    *s == ServiceInfo::from_table(s.name.clone())
}

impl Serialize for HostResult {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        HostShape::new(self, 0, false).serialize(s)
    }
}

impl Serialize for HostListing<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        HostShape::new(self.host, self.verbose, self.open_only).serialize(s)
    }
}

impl HostShape {
    /// The shape of `h` with ports listed by nmap's rule for `verbose`
    /// and `open_only` ([`HostResult::port_summary`]).
    fn new(h: &HostResult, verbose: u8, open_only: bool) -> Self {
        let summary = h.port_summary(verbose, open_only);
        let mut listed: Vec<PortResult> = summary.shown.into_iter().cloned().collect();
        let mut extraports = Vec::new();
        for e in &summary.extra {
            let mut groups: BTreeMap<(Reason, u8), Vec<u16>> = BTreeMap::new();
            let mut services: BTreeMap<String, Vec<u16>> = BTreeMap::new();
            let mut all = Vec::new();
            for p in &h.ports {
                if p.state != e.state || p.protocol != e.protocol {
                    continue;
                }
                match p.service.as_deref() {
                    // Anything beyond a table guess is listed in full.
                    Some(svc) if !table_guess(svc) => {
                        listed.push(p.clone());
                        continue;
                    }
                    Some(svc) => services.entry(svc.name.clone()).or_default().push(p.port),
                    None => {}
                }
                groups
                    .entry((p.reason, p.reason_ttl))
                    .or_default()
                    .push(p.port);
                all.push(p.port);
            }
            if all.is_empty() {
                continue;
            }
            let mut reasons: Vec<(Reason, u32)> = Vec::new();
            for (&(r, _), ports) in &groups {
                match reasons.iter_mut().find(|(x, _)| *x == r) {
                    Some(c) => c.1 += ports.len() as u32,
                    None => reasons.push((r, ports.len() as u32)),
                }
            }
            reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            extraports.push(ExtraShape {
                state: e.state,
                protocol: e.protocol,
                count: all.len() as u32,
                reasons,
                ports: format_ranges(&all),
                groups: groups
                    .into_iter()
                    .map(|((reason, reason_ttl), ports)| GroupShape {
                        reason,
                        reason_ttl,
                        ports: format_ranges(&ports),
                    })
                    .collect(),
                services: services
                    .into_iter()
                    .map(|(name, ports)| (name, format_ranges(&ports)))
                    .collect(),
            });
        }
        extraports.sort_by(|a, b| b.count.cmp(&a.count).then(a.protocol.cmp(&b.protocol)));
        listed.sort_by_key(|p| (p.protocol, p.port));
        HostShape {
            address: h.addr,
            family: Some(if h.addr.is_ipv4() {
                Family::Ipv4
            } else {
                Family::Ipv6
            }),
            status: h.status,
            reason: h.reason,
            reason_ttl: h.reason_ttl,
            latency_s: h.latency.map(|d| d.as_secs_f64()),
            start_time: h.start_time,
            end_time: h.end_time,
            timed_out: h.timed_out,
            incomplete: h.incomplete,
            hostnames: h.hostnames.clone(),
            mac: h.mac.clone(),
            ports: listed,
            extraports,
            icmp_rate_limit: h.icmp_rate_limit,
            scripts: h.scripts.clone(),
            os: h.os.clone(),
        }
    }
}

impl TryFrom<HostShape> for HostResult {
    type Error = String;
    fn try_from(v: HostShape) -> Result<Self, String> {
        let family = if v.address.is_ipv4() {
            Family::Ipv4
        } else {
            Family::Ipv6
        };
        if v.family.is_some_and(|f| f != family) {
            return Err(format!("family does not match address {}", v.address));
        }
        let latency = match v.latency_s {
            None => None,
            Some(s) if s.is_finite() && (0.0..1e9).contains(&s) => {
                Some(Duration::from_nanos((s * 1e9).round() as u64))
            }
            Some(s) => return Err(format!("bad latency_s {s}")),
        };
        let mut ports = v.ports;
        for e in v.extraports {
            let mut names: HashMap<u16, String> = HashMap::new();
            for (name, ranges) in e.services {
                for p in parse_ranges(&ranges)? {
                    names.insert(p, name.clone());
                }
            }
            let before = ports.len();
            for g in e.groups {
                for port in parse_ranges(&g.ports)? {
                    ports.push(PortResult {
                        port,
                        protocol: e.protocol,
                        state: e.state,
                        reason: g.reason,
                        reason_ttl: g.reason_ttl,
                        service: names
                            .remove(&port)
                            .map(|n| Box::new(ServiceInfo::from_table(n))),
                    });
                }
            }
            if (ports.len() - before) as u64 != u64::from(e.count) {
                return Err(format!(
                    "extraports count {} but its groups hold {} ports",
                    e.count,
                    ports.len() - before
                ));
            }
            if let Some(p) = names.keys().min() {
                return Err(format!(
                    "extraports service for port {p} outside its groups"
                ));
            }
        }
        ports.sort_by_key(|p| (p.port, p.protocol));
        if let Some(w) = ports
            .windows(2)
            .find(|w| (w[0].port, w[0].protocol) == (w[1].port, w[1].protocol))
        {
            return Err(format!("port {}/{} listed twice", w[0].port, w[0].protocol));
        }
        Ok(HostResult {
            addr: v.address,
            mac: v.mac,
            hostnames: v.hostnames,
            status: v.status,
            reason: v.reason,
            reason_ttl: v.reason_ttl,
            latency,
            start_time: v.start_time,
            end_time: v.end_time,
            timed_out: v.timed_out,
            incomplete: v.incomplete,
            ports,
            icmp_rate_limit: v.icmp_rate_limit,
            stack: None,
            scripts: v.scripts,
            os: v.os,
        })
    }
}

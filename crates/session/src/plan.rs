//! From what the user typed to what the scan does.
//!
//! [`Plan::build`] resolves [`ScanConfig`] against the environment: which
//! techniques run (and whether raw sockets are available for them), which
//! ports (the port table), which hosts (files, names, exclusions) and the
//! timing knobs. Every problem is reported as one line naming the culprit.

use crate::config::ScanConfig;
use portolan_engine::ProbeModule;
use portolan_engine::{BadTemplate, Timing};
use portolan_model::{Protocol, ScanInfo, ScanType, ScanTypeInfo};
use portolan_netio::LinkNets;
use portolan_probes::discovery::{
    ping_module, PingKind, DEFAULT_PRIVILEGED, DEFAULT_SCTP_PING_PORT, DEFAULT_TCP_PING_PORT,
    DEFAULT_UDP_PING_PORT,
};
use portolan_targets::{
    format_ranges, resolve_ports, PortError, ServiceTable, SystemResolver, TargetError, TargetList,
    TargetOptions, TargetSources,
};
use std::time::{SystemTime, UNIX_EPOCH};
use thiserror::Error;

/// Why a scan cannot start.
#[derive(Debug, Error)]
pub enum PlanError {
    /// A target expression or file is wrong.
    #[error(transparent)]
    Targets(#[from] TargetError),
    /// A port expression is wrong.
    #[error(transparent)]
    Ports(#[from] PortError),
    /// A raw technique was asked for without the privilege it needs.
    #[error("{flag}: {hint}")]
    Privilege {
        /// The technique's flag.
        flag: &'static str,
        /// What is missing and how to grant it.
        hint: &'static str,
    },
    /// A timing template out of range.
    #[error(transparent)]
    Template(#[from] BadTemplate),
    /// A connect scan together with another TCP technique (nmap refuses
    /// more than one TCP scan type).
    #[error("-sT cannot be combined with another TCP scan technique")]
    Mixed,
    /// The port options leave nothing to scan.
    #[error("no ports to scan: {0}")]
    NoPorts(String),
}

/// How probes reach the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Driver {
    /// `connect()` on ordinary sockets: needs no privilege.
    Connect,
    /// Raw packets: needs CAP_NET_RAW.
    Raw,
}

/// One technique of the scan with its ports.
#[derive(Clone, Debug)]
pub struct Technique {
    /// What nmap calls it.
    pub scan_type: ScanType,
    /// Protocol scanned.
    pub protocol: Protocol,
    /// Ports, sorted.
    pub ports: Vec<u16>,
}

/// What happens before (or instead of) the port scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Discovery {
    /// `-Pn`: every target is taken as up.
    Skip,
    /// `-sL`: targets are listed, nothing is sent.
    List,
    /// Raw-packet pings (privileged): one engine scan whose techniques are
    /// these probe modules.
    Raw(Vec<Ping>),
    /// Unprivileged: TCP connect to these ports; connected or refused
    /// shows the host up.
    Connect(Vec<u16>),
    /// `-PR`: ARP (IPv4) and Neighbor Discovery (IPv6) on the targets'
    /// Ethernet segment; the answer also gives the MAC address.
    Neighbor,
}

/// One raw discovery technique and its ports (`[0]` for the ICMP pings,
/// which have none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ping {
    /// The probe.
    pub kind: PingKind,
    /// Its ports.
    pub ports: Vec<u16>,
}

/// The ports of nmap's unprivileged discovery: TCP connect to 80 and 443.
pub const CONNECT_PING_PORTS: [u16; 2] = [80, 443];

/// A scan ready to run.
pub struct Plan {
    /// How probes are sent.
    pub driver: Driver,
    /// Host discovery.
    pub discovery: Discovery,
    /// With raw pings: this host's Ethernet segments, whose targets are
    /// asked by ARP / ND instead (`None` with `--disable-arp-ping`).
    pub neighbors: Option<LinkNets>,
    /// False for `-sL` and `-sn`: no port scan after discovery.
    pub port_scan: bool,
    /// The techniques, all of the same driver (empty without a port scan).
    pub techniques: Vec<Technique>,
    /// `--scanflags`.
    pub scanflags: Option<u8>,
    /// The hosts.
    pub targets: TargetList,
    /// Timing knobs: template, then the user's overrides.
    pub timing: Timing,
    /// Notices for the user (unresolvable names, fallbacks).
    pub warnings: Vec<String>,
    /// What every output records at its start.
    pub info: ScanInfo,
}

impl Plan {
    /// What the progress line and nmap call this scan ("SYN Stealth
    /// Scan", "Ping Scan").
    pub fn title(&self) -> &'static str {
        if self.port_scan {
            self.techniques
                .first()
                .map_or("Scan", |t| t.scan_type.title())
        } else {
            "Ping Scan"
        }
    }

    /// Resolves `opts`; `privileged` says whether raw sockets can be opened.
    pub fn build(opts: &ScanConfig, privileged: bool) -> Result<Plan, PlanError> {
        let mut warnings = Vec::new();
        let port_scan = !opts.list_scan && !opts.ping_scan;
        let (targets, mut resolve_warnings) = build_targets(opts)?;
        warnings.append(&mut resolve_warnings);
        let discovery = discovery(opts, privileged, &mut warnings);
        // As nmap: targets on a directly connected Ethernet segment are
        // asked by ARP / ND instead of the IP pings (even ones the user
        // chose), since a neighbour that answers them is certainly up and
        // one that does not cannot be reached by IP either.
        let neighbors = if matches!(discovery, Discovery::Raw(_)) && !opts.disable_arp_ping {
            LinkNets::read().ok().filter(|n| !n.nets.is_empty())
        } else {
            None
        };
        if discovery == Discovery::Neighbor && !privileged {
            return Err(PlanError::Privilege {
                flag: "-PR",
                hint: portolan_netio::PRIVILEGE_HINT,
            });
        }
        if opts.os.enabled {
            os_detection(privileged, port_scan, &mut warnings)?;
            if opts.os.rto {
                crate::os_rto::usable().map_err(|hint| PlanError::Privilege {
                    flag: "--os-rto",
                    hint,
                })?;
            }
        }
        let (driver, techniques) = if port_scan {
            choose_techniques(opts, privileged, &mut warnings)?
        } else {
            let d = match discovery {
                Discovery::Raw(_) | Discovery::Neighbor => Driver::Raw,
                _ => Driver::Connect,
            };
            (d, Vec::new())
        };
        let table = ServiceTable::builtin();
        let protocols: Vec<Protocol> = techniques.iter().map(|t| t.protocol()).collect();
        let top = if opts.fast { Some(100) } else { opts.top_ports };
        let lists = resolve_ports(
            opts.ports.as_deref(),
            opts.exclude_ports.as_deref(),
            top,
            &protocols,
            table,
        )?;
        let techniques: Vec<Technique> = techniques
            .iter()
            .map(|&t| {
                let protocol = t.protocol();
                Technique {
                    scan_type: if opts.scanflags.is_some() && t == ScanType::Syn {
                        ScanType::Custom
                    } else {
                        t
                    },
                    protocol,
                    ports: lists.get(protocol).to_vec(),
                }
            })
            .collect();
        let techniques = if port_scan {
            drop_portless(techniques, opts, &mut warnings)?
        } else {
            techniques
        };
        if opts.timing.udp_exact && !techniques.iter().any(|t| t.protocol == Protocol::Udp) {
            warnings.push("--udp-exact has no effect without a UDP scan (-sU).".to_string());
        }

        let timing = timing(opts)?;
        let info = ScanInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            args: opts.args_line.clone(),
            start_time: unix_now(),
            scans: techniques
                .iter()
                .map(|t| ScanTypeInfo {
                    scan_type: t.scan_type,
                    protocol: t.protocol,
                    num_services: t.ports.len() as u32,
                    services: format_ranges(&t.ports),
                })
                .collect(),
            verbose: opts.verbose,
            debugging: opts.debugging,
        };
        Ok(Plan {
            driver,
            discovery,
            neighbors,
            port_scan,
            techniques,
            scanflags: opts.scanflags,
            targets,
            timing,
            warnings,
            info,
        })
    }
}

/// Whether `-O` can run: it reads the raw SYN scan's replies, or sends
/// its own SYNs (`crate::os_probe`), so it needs raw sockets (refused
/// without them, as the raw techniques are) and a port scan.
fn os_detection(
    privileged: bool,
    port_scan: bool,
    warnings: &mut Vec<String>,
) -> Result<(), PlanError> {
    if !privileged {
        return Err(PlanError::Privilege {
            flag: "-O",
            hint: portolan_netio::PRIVILEGE_HINT,
        });
    }
    if !port_scan {
        warnings.push("-O has no effect without a port scan (-sn, -sL)".to_string());
        return Ok(());
    }
    Ok(())
}

/// The discovery the options ask for: `-sL`, `-Pn`, the user's pings or
/// nmap's default. Without raw-socket privileges only TCP connect pings
/// exist; ICMP and UDP pings asked for are dropped with a notice.
fn discovery(opts: &ScanConfig, privileged: bool, warnings: &mut Vec<String>) -> Discovery {
    if opts.list_scan {
        return Discovery::List;
    }
    if opts.skip_discovery {
        return Discovery::Skip;
    }
    if opts.arp_ping {
        return Discovery::Neighbor;
    }
    let chosen: Vec<Ping> = if opts.pings.is_empty() {
        DEFAULT_PRIVILEGED
            .iter()
            .map(|&(kind, port)| Ping {
                kind,
                ports: vec![port],
            })
            .collect()
    } else {
        opts.pings
            .iter()
            .map(|p| Ping {
                kind: p.kind,
                ports: match (p.kind.uses_ports(), p.ports.is_empty()) {
                    (false, _) => vec![0],
                    (true, false) => p.ports.clone(),
                    (true, true) => vec![default_port(p.kind)],
                },
            })
            .collect()
    };
    if privileged {
        return Discovery::Raw(chosen);
    }
    if opts.pings.is_empty() {
        return Discovery::Connect(CONNECT_PING_PORTS.to_vec());
    }
    let mut ports = Vec::new();
    for p in &chosen {
        if matches!(p.kind, PingKind::TcpSyn | PingKind::TcpAck) {
            for &port in &p.ports {
                if !ports.contains(&port) {
                    ports.push(port);
                }
            }
        } else {
            warnings.push(format!(
                "{} needs raw-socket privileges (CAP_NET_RAW); skipped",
                p.kind.flag()
            ));
        }
    }
    if ports.is_empty() {
        warnings.push(
            "no discovery probe works without privileges; using TCP connect to ports 80 and 443"
                .to_string(),
        );
        ports = CONNECT_PING_PORTS.to_vec();
    }
    Discovery::Connect(ports)
}

fn default_port(kind: PingKind) -> u16 {
    match kind {
        PingKind::Udp => DEFAULT_UDP_PING_PORT,
        PingKind::SctpInit => DEFAULT_SCTP_PING_PORT,
        _ => DEFAULT_TCP_PING_PORT,
    }
}

impl Ping {
    /// Its probe module.
    pub fn module(&self) -> Box<dyn ProbeModule> {
        ping_module(self.kind)
    }

    /// The engine protocol its ports are counted under (ICMP pings borrow
    /// TCP's, with port 0: results are host states, not port rows).
    pub fn protocol(&self) -> Protocol {
        match self.kind {
            PingKind::Udp => Protocol::Udp,
            _ => Protocol::Tcp,
        }
    }
}

/// A technique whose protocol got no ports is skipped with nmap's warning;
/// if none is left, the scan cannot start.
fn drop_portless(
    techniques: Vec<Technique>,
    opts: &ScanConfig,
    warnings: &mut Vec<String>,
) -> Result<Vec<Technique>, PlanError> {
    let (kept, empty): (Vec<Technique>, Vec<Technique>) =
        techniques.into_iter().partition(|t| !t.ports.is_empty());
    if kept.is_empty() {
        let what = match (&opts.ports, &opts.exclude_ports) {
            (Some(p), Some(x)) => format!("\"-p {p}\" less \"--exclude-ports {x}\" is empty"),
            (Some(p), None) => format!("\"-p {p}\" names no port of the protocols scanned"),
            (None, Some(x)) => format!("\"--exclude-ports {x}\" excludes every port"),
            (None, None) => "the port table has none".to_string(),
        };
        return Err(PlanError::NoPorts(what));
    }
    for t in empty {
        warnings.push(format!(
            "WARNING: a {} scan type was requested, but no {} ports were specified. Skipping this scan type.",
            t.protocol, t.protocol
        ));
    }
    Ok(kept)
}

impl Technique {
    /// The probe module that sends this technique's raw packets; `None`
    /// for the connect scan, which has no packets of its own.
    pub fn module(&self, scanflags: Option<u8>) -> Option<Box<dyn ProbeModule>> {
        portolan_probes::registry::module(self.scan_type, scanflags)
    }
}

/// The default technique is SYN when raw sockets are available and connect
/// otherwise; an explicit `-sS` without privilege falls back to connect with
/// a notice, as nmap's default does; other raw techniques cannot fall back.
fn choose_techniques(
    opts: &ScanConfig,
    privileged: bool,
    warnings: &mut Vec<String>,
) -> Result<(Driver, Vec<ScanType>), PlanError> {
    let mut chosen = opts.scans.clone();
    if chosen.is_empty() {
        chosen.push(if privileged || opts.scanflags.is_some() {
            ScanType::Syn
        } else {
            ScanType::Connect
        });
    }
    if chosen.iter().all(|t| !t.is_raw()) {
        return Ok((Driver::Connect, chosen));
    }
    if chosen.contains(&ScanType::Connect) {
        // Connect attempts are a layer of the raw driver, so -sT runs with
        // raw UDP or SCTP techniques in one scan; with another TCP one it
        // is refused, as nmap refuses two TCP scan types.
        if chosen
            .iter()
            .any(|t| t.is_raw() && t.protocol() == Protocol::Tcp)
        {
            return Err(PlanError::Mixed);
        }
    }
    if privileged {
        return Ok((Driver::Raw, chosen));
    }
    let raw_only = chosen
        .iter()
        .find(|t| t.is_raw() && **t != ScanType::Syn)
        .copied();
    if let Some(t) = raw_only.or(opts.scanflags.map(|_| ScanType::Syn)) {
        let flag = if opts.scanflags.is_some() && t == ScanType::Syn {
            "--scanflags"
        } else {
            t.flag()
        };
        return Err(PlanError::Privilege {
            flag,
            hint: portolan_netio::PRIVILEGE_HINT,
        });
    }
    warnings.push(
        "-sS needs raw-socket privileges (CAP_NET_RAW); falling back to a TCP connect scan (-sT)"
            .to_string(),
    );
    let chosen = chosen
        .into_iter()
        .map(|t| {
            if t == ScanType::Syn {
                ScanType::Connect
            } else {
                t
            }
        })
        .collect();
    Ok((Driver::Connect, chosen))
}

fn build_targets(opts: &ScanConfig) -> Result<(TargetList, Vec<String>), PlanError> {
    let sources = TargetSources {
        targets: &opts.targets,
        excludes: &opts.exclude,
        input_list: opts.input_list.as_deref(),
        exclude_file: opts.exclude_file.as_deref(),
    };
    let topts = TargetOptions {
        ipv6: opts.ipv6,
        resolve_all: opts.resolve_all,
        unique: opts.unique,
    };
    let (list, warnings) = TargetList::from_sources(&sources, &topts, &SystemResolver)?;
    Ok((list.with_unique(opts.unique), warnings))
}

fn timing(opts: &ScanConfig) -> Result<Timing, PlanError> {
    let t = &opts.timing;
    let mut timing = Timing::template(t.template.unwrap_or(3))?;
    if let Some(v) = t.min_rtt_timeout {
        timing.min_rtt_timeout = v;
    }
    if let Some(v) = t.max_rtt_timeout {
        timing.max_rtt_timeout = v;
        timing.min_rtt_timeout = timing.min_rtt_timeout.min(v);
    }
    if let Some(v) = t.initial_rtt_timeout {
        timing.initial_rtt_timeout = v;
    }
    if let Some(v) = t.max_retries {
        timing.max_retries = u8::try_from(v).unwrap_or(u8::MAX);
    }
    if let Some(d) = t.host_timeout {
        // nmap's rule: 0 means no limit (also over -T5's 15 minutes).
        timing.host_timeout = (!d.is_zero()).then_some(d);
    }
    if let Some(v) = t.scan_delay {
        timing.scan_delay = v;
        timing.max_scan_delay = timing.max_scan_delay.max(v);
    }
    if let Some(v) = t.max_scan_delay {
        timing.max_scan_delay = v;
    }
    if let Some(v) = t.min_parallelism {
        timing.min_parallelism = v.max(1);
        timing.max_parallelism = timing.max_parallelism.max(timing.min_parallelism);
    }
    if let Some(v) = t.max_parallelism {
        timing.max_parallelism = v.max(1);
    }
    if t.min_rate.is_some() {
        timing.min_rate = t.min_rate;
    }
    if t.max_rate.is_some() {
        timing.max_rate = t.max_rate;
    }
    if t.min_hostgroup.is_some() {
        timing.min_hostgroup = t.min_hostgroup;
    }
    if t.max_hostgroup.is_some() {
        timing.max_hostgroup = t.max_hostgroup;
    }
    Ok(timing)
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

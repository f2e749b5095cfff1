//! Running a scan: outputs open, signals caught, the driver started, and
//! every finished host written as soon as it is finished.
//!
//! Interruption (Ctrl-C, SIGTERM) sets a flag the drivers poll: the engine
//! stops sending, hosts already finished stay written, and every output is
//! closed properly, so an interrupted scan still leaves well-formed files. A
//! second Ctrl-C exits at once.

use crate::cli::Options;
use crate::discovery;
use crate::plan::{unix_now, Discovery, Driver, Plan, PlanError};
use crate::progress::Reporter;
use crate::stage::HostStage;
use crate::version::{load_database, VersionOptions, VersionStage};
use portolan_connect::ConnectOptions;
use portolan_dns::{ResolverConfig, ReverseResolver};
use portolan_engine::{
    Classify, Engine, HostSource, HostTarget, Observer, Pipeline, ProbeContext, ProbeModule,
    Progress, Rekeyed, Scan, ScanPlan, SharedRateLimiter, SystemClock, TechniquePlan, Timing,
    ValidationKey,
};
use portolan_model::{
    HostResult, HostStatus, Hostname, HostnameKind, MacAddress, PortState, Reason, RunStats,
    ServiceInfo,
};
use portolan_netio::{route_to, FrameFilter, FrameIo, LinkNets, NetError, RawConfig, RawIo};
use portolan_output::{OutputFormat, OutputOptions, Outputs};
use portolan_probes::discovery::neighbor::{sweep, Neighbor, NeighborProbe};
use portolan_probes::discovery::{ArpSweep, FrameLink, NdSweep};
use portolan_targets::{ServiceTable, TargetList};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use thiserror::Error;

/// Why a scan failed.
#[derive(Debug, Error)]
pub enum RunError {
    /// The options do not make a scan.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// An output file cannot be written.
    #[error("cannot write output file \"{path}\": {source}")]
    OutputFile {
        /// The file.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// Writing output failed during the scan.
    #[error("writing output failed: {0}")]
    Output(io::Error),
    /// The raw-packet layer failed.
    #[error(transparent)]
    Net(#[from] NetError),
    /// Anything else from the operating system.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The service probe database (built-in or `--service-db`) is wrong.
    #[error(transparent)]
    ServiceDb(#[from] portolan_service::DbError),
}

/// Runs the scan `opts` asks for and returns the exit code.
pub fn run(opts: Options) -> Result<ExitCode, RunError> {
    let started = Instant::now();
    let privileged = opts
        .privileged
        .unwrap_or_else(portolan_netio::has_raw_privilege);
    let plan = Plan::build(&opts, privileged)?;
    let version = version_options(&opts);
    // Loaded before scanning, so a bad --service-db fails at once.
    let service_db = version.as_ref().map(load_database).transpose()?;
    let mut outputs = open_outputs(&opts)?;
    let stop = install_signal_handlers()?;
    // One --max-rate budget for the scans and -sV together.
    let budget = plan
        .timing
        .max_rate
        .and_then(|r| SharedRateLimiter::per_second(r, Instant::now()));

    for w in &plan.warnings {
        eprintln!("portolan: {w}");
    }
    if plan.targets.is_empty() {
        eprintln!("WARNING: No targets were specified, so 0 hosts scanned.");
    }
    outputs.begin(&plan.info).map_err(RunError::Output)?;

    let title = if plan.port_scan {
        plan.techniques
            .first()
            .map_or("Scan", |t| t.scan_type.title())
    } else {
        "Ping Scan"
    };
    let mut sink = Sink {
        outputs: &mut outputs,
        table: ServiceTable::builtin(),
        hosts_up: 0,
        error: None,
        stages: Vec::new(),
        name_down: opts.always_dns && !opts.no_dns,
        reporter: Reporter::new(title, opts.output.stats_every, !opts.noninteractive),
        discovered: None,
        budget: budget.clone(),
    };
    // Service detection first, so probing starts the moment a host's ports
    // are known (a slow name server delays only the writing); then the
    // host's reverse name.
    if let (Some(v), Some(db)) = (&version, &service_db) {
        let parallelism = plan.timing.max_parallelism.min(1024) as usize;
        let rate = plan.timing.max_rate;
        let stage = VersionStage::start_shared(Arc::clone(db), v, parallelism, rate, budget)?;
        sink.stages.push(Box::new(stage));
    }
    if !opts.no_dns && !matches!(plan.discovery, Discovery::List) {
        match crate::rdns::ReverseDnsStage::start(&opts.dns_servers, opts.system_dns) {
            Ok(stage) => sink.stages.push(Box::new(stage)),
            Err(e) => eprintln!("portolan: reverse DNS unavailable: {e}"),
        }
    }
    let mut hosts_down = 0;
    let result = match &plan.discovery {
        Discovery::List => {
            list_scan(&plan, &opts, &stop, &mut sink);
            hosts_down = plan.targets.len();
            Ok(())
        }
        Discovery::Skip if !plan.port_scan => {
            // -sn -Pn: every target is reported up, nothing is sent.
            for (i, t) in plan.targets.iter().enumerate() {
                if i % 256 == 0 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    sink.pump();
                }
                let mut h = HostResult::new(t.addr, HostStatus::Up, Reason::UserSet);
                if let Some(name) = &t.name {
                    h.hostnames.push(Hostname {
                        name: name.to_string(),
                        kind: HostnameKind::User,
                    });
                }
                sink.finished(h);
            }
            Ok(())
        }
        Discovery::Skip => {
            let hosts = Box::new(Hosts(plan.targets.clone()));
            port_scan(hosts, &plan, &opts, &stop, &mut sink)
        }
        Discovery::Raw(_) if plan.driver == Driver::Raw => {
            pipelined(&plan, &opts, &stop, &mut sink, &mut hosts_down)
        }
        Discovery::Connect(_) if plan.driver == Driver::Connect => {
            pipelined(&plan, &opts, &stop, &mut sink, &mut hosts_down)
        }
        Discovery::Raw(_) | Discovery::Connect(_) | Discovery::Neighbor => {
            discover_then_scan(&plan, &opts, &stop, &mut sink, &mut hosts_down)
        }
    };
    sink.reporter.clear();
    // Ctrl-C while the stages finish their work abandons it too.
    let interrupted = sink.drain_stages(&stop);
    let hosts_up = sink.hosts_up;
    let discovered = !matches!(plan.discovery, Discovery::Skip | Discovery::List);
    if discovered && hosts_up == 0 && hosts_down > 0 && !interrupted && result.is_ok() {
        let note =
            "Note: Host seems down. If it is really up, but blocking our ping probes, try -Pn";
        if let Err(e) = sink.outputs.warning(note) {
            sink.error.get_or_insert(e);
        }
    }
    let write_error = sink.error.take();
    let stats = RunStats {
        end_time: unix_now(),
        elapsed: started.elapsed().as_secs_f64(),
        hosts_up,
        hosts_down,
        interrupted,
        error: result.as_ref().err().map(|e| e.to_string()),
    };
    outputs.end(&stats).map_err(RunError::Output)?;
    result?;
    if let Some(e) = write_error {
        return Err(RunError::Output(e));
    }
    Ok(if interrupted {
        ExitCode::from(130)
    } else {
        ExitCode::SUCCESS
    })
}

/// The engine's plan: techniques, timing, order and shard.
fn scan_plan(techniques: Vec<TechniquePlan>, timing: Timing, opts: &Options) -> ScanPlan {
    let mut sp = ScanPlan::new(techniques, timing);
    if let Some(seed) = opts.seed {
        sp.seed = seed;
    }
    sp.shard = opts.shard;
    sp.sequential_ports = opts.sequential_ports;
    sp.udp_exact = opts.timing.udp_exact;
    sp
}

/// The engine, planned.
fn new_scan(
    techniques: Vec<TechniquePlan>,
    hosts: Box<dyn HostSource>,
    timing: Timing,
    opts: &Options,
) -> Scan {
    Scan::new(scan_plan(techniques, timing, opts), hosts, Instant::now())
}

/// The port scan's techniques for the engine.
fn port_techniques(plan: &Plan) -> Vec<TechniquePlan> {
    plan.techniques
        .iter()
        .map(|t| TechniquePlan {
            protocol: t.protocol,
            ports: t.ports.clone(),
            no_reply: no_reply(plan, t),
        })
        .collect()
}

/// The port scan's probe modules (raw driver).
fn port_modules(plan: &Plan) -> Vec<Box<dyn ProbeModule>> {
    plan.techniques
        .iter()
        .filter_map(|t| t.module(plan.scanflags))
        .collect()
}

/// Discovery's timing: the scan's, with fewer retries unless the user
/// set them (a silent host is the common case; a couple of
/// retransmissions tell loss from silence, as nmap's ping scan does).
fn discovery_timing(plan: &Plan, opts: &Options) -> Timing {
    let mut t = plan.timing.clone();
    if opts.timing.max_retries.is_none() {
        t.max_retries = t.max_retries.min(2);
    }
    t
}

/// Discovery's engine techniques and (raw pings) probe modules.
fn discovery_techniques(plan: &Plan) -> (Vec<TechniquePlan>, Vec<Box<dyn ProbeModule>>) {
    match &plan.discovery {
        Discovery::Raw(pings) => (
            pings
                .iter()
                .map(|p| discovery::technique(p.protocol(), p.ports.clone()))
                .collect(),
            pings.iter().map(|p| p.module()).collect(),
        ),
        Discovery::Connect(ports) => (
            vec![discovery::technique(
                portolan_model::Protocol::Tcp,
                ports.clone(),
            )],
            Vec::new(),
        ),
        _ => (Vec::new(), Vec::new()),
    }
}

/// Discovery and the port scan through one driver: hosts found up are
/// port-scanned while discovery of the others goes on (see
/// [`portolan_engine::pipeline`]). Down hosts are written (the outputs
/// show them only with `-v`) and counted in `hosts_down`.
fn pipelined(
    plan: &Plan,
    opts: &Options,
    stop: &AtomicBool,
    sink: &mut Sink<'_>,
    hosts_down: &mut u64,
) -> Result<(), RunError> {
    let (techniques, mut modules) = discovery_techniques(plan);
    let refusal_counts = matches!(plan.discovery, Discovery::Connect(_));
    let classify: Classify = Box::new(move |h| discovery::classify(h, refusal_counts));
    let port_plan = plan
        .port_scan
        .then(|| scan_plan(port_techniques(plan), plan.timing.clone(), opts));
    // Neighbours first, by ARP / ND; the IP pings skip them. Those found
    // up wait for the pipeline's port scan.
    let mut found = Discoverer {
        sink,
        refusal_counts,
        keep_up: true,
        undecided: true,
        up: Vec::new(),
        down: 0,
    };
    if let Some(nets) = &plan.neighbors {
        sweep_neighbours(plan, opts, nets, stop, &mut |h| found.decided(h))?;
    }
    let mut pipe = Pipeline::new(
        scan_plan(techniques, discovery_timing(plan, opts), opts),
        ip_ping_targets(plan),
        classify,
        port_plan,
        Instant::now(),
    );
    if let Some(b) = &found.sink.budget {
        pipe.set_rate_limiter(b.clone());
    }
    for h in found.up.drain(..) {
        pipe.add_up(h);
    }
    // The pipeline hands hosts out decided and port-scanned.
    found.keep_up = false;
    found.undecided = false;
    let result = match plan.driver {
        Driver::Connect => run_connect(&mut pipe, opts, stop, &mut found),
        Driver::Raw => {
            // The port scan's probes carry a key of their own: a SYN ping
            // to 443 and a SYN scan of 443 must not take each other's
            // replies.
            let key = ValidationKey::new(rand::random());
            for m in port_modules(plan) {
                modules.push(Box::new(Rekeyed::new(m, key)));
            }
            run_raw(&mut pipe, &modules, plan, opts, stop, &mut found)
        }
    };
    *hosts_down = found.down;
    result
}

/// The port scan over `hosts` with the plan's techniques and driver.
fn port_scan(
    hosts: Box<dyn HostSource>,
    plan: &Plan,
    opts: &Options,
    stop: &AtomicBool,
    sink: &mut Sink<'_>,
) -> Result<(), RunError> {
    let mut scan = new_scan(port_techniques(plan), hosts, plan.timing.clone(), opts);
    if let Some(b) = &sink.budget {
        scan.set_rate_limiter(b.clone());
    }
    match plan.driver {
        Driver::Connect => run_connect(&mut scan, opts, stop, sink),
        Driver::Raw => run_raw(&mut scan, &port_modules(plan), plan, opts, stop, sink),
    }
}

/// Discovery over every target, then (unless `-sn`) the port scan over
/// the hosts found up, one after the other: for `-PR` (a link-layer sweep,
/// not a probe module) and for raw pings before a connect scan (two
/// drivers). Down hosts are written (the outputs show them only
/// with `-v`) and counted in `hosts_down`.
fn discover_then_scan(
    plan: &Plan,
    opts: &Options,
    stop: &AtomicBool,
    sink: &mut Sink<'_>,
    hosts_down: &mut u64,
) -> Result<(), RunError> {
    let hosts = ip_ping_targets(plan);
    let timing_plan = discovery_timing(plan, opts);
    let mut found = Discoverer {
        sink,
        refusal_counts: matches!(plan.discovery, Discovery::Connect(_)),
        keep_up: plan.port_scan,
        undecided: true,
        up: Vec::new(),
        down: 0,
    };
    if let Some(nets) = &plan.neighbors {
        sweep_neighbours(plan, opts, nets, stop, &mut |h| found.decided(h))?;
    }
    let (techniques, modules) = discovery_techniques(plan);
    let mut dplan = scan_plan(techniques, timing_plan, opts);
    dplan.decide_on_answer = true;
    let result = match &plan.discovery {
        Discovery::Raw(_) => {
            let mut scan = Scan::new(dplan, hosts, Instant::now());
            run_raw(&mut scan, &modules, plan, opts, stop, &mut found)
        }
        Discovery::Connect(_) => {
            let mut scan = Scan::new(dplan, hosts, Instant::now());
            run_connect(&mut scan, opts, stop, &mut found)
        }
        Discovery::Neighbor => neighbor_sweep(plan, opts, stop, &mut found),
        Discovery::Skip | Discovery::List => Ok(()),
    };
    *hosts_down = found.down;
    let up = found.up;
    result?;
    if stop.load(Ordering::Relaxed) || up.is_empty() {
        return Ok(());
    }
    sink.discovered = Some(
        up.iter()
            .map(|h| {
                let answer = Answer {
                    reason: h.reason,
                    ttl: h.reason_ttl,
                    latency: h.latency,
                    mac: h.mac.clone(),
                };
                (h.addr, answer)
            })
            .collect(),
    );
    port_scan(Box::new(discovery::targets(&up)), plan, opts, stop, sink)
}

/// Discovery's observer. Down hosts are written (the outputs show them
/// only with `-v`) and counted as they finish; up hosts are written at
/// once (with `-sn`, or when they come port-scanned out of a pipeline), or
/// kept for the port scan.
struct Discoverer<'s, 'o> {
    sink: &'s mut Sink<'o>,
    /// Connect pings: a refusal proves the host up.
    refusal_counts: bool,
    /// True to keep up hosts for a port scan that follows.
    keep_up: bool,
    /// True when hosts come from a discovery scan, to be decided from
    /// their probe rows; false when they come decided (from a pipeline).
    undecided: bool,
    up: Vec<HostResult>,
    down: u64,
}

impl Discoverer<'_, '_> {
    /// A host whose status is decided.
    fn decided(&mut self, host: HostResult) {
        match host.status {
            HostStatus::Up if self.keep_up => self.up.push(host),
            HostStatus::Up => self.sink.finished(host),
            _ => {
                self.down += 1;
                self.sink.down(host);
            }
        }
    }
}

impl Observer for Discoverer<'_, '_> {
    fn host(&mut self, host: HostResult) {
        let host = if self.undecided {
            discovery::classify(host, self.refusal_counts)
        } else {
            host
        };
        self.decided(host);
    }

    fn progress(&mut self, progress: &Progress) {
        self.sink.progress(progress);
    }
}

/// How many targets one ARP / ND sweep asks at most, so a huge target
/// list is never held in memory.
const SWEEP_CHUNK: usize = 4096;

/// A target's address and the name the user typed for it.
type Named = (IpAddr, Option<Arc<str>>);

/// ARP (IPv4) and Neighbor Discovery (IPv6) sweeps on frame sockets, one
/// socket per interface and source address asked from. A neighbour that
/// answers is up (`arp-response` / `nd-response`) with its MAC address and
/// vendor; the others are down.
struct Sweeper {
    tries: u8,
    wait: Duration,
    links: HashMap<(String, IpAddr), (Link, Box<dyn NeighborProbe>)>,
}

impl Sweeper {
    fn new(plan: &Plan, opts: &Options) -> Self {
        Sweeper {
            tries: opts
                .timing
                .max_retries
                .map_or(2, |r| r.saturating_add(1).min(10)) as u8,
            wait: plan
                .timing
                .initial_rtt_timeout
                .min(Duration::from_millis(300)),
            links: HashMap::new(),
        }
    }

    /// Asks `targets` (of `src`'s family) from `src` on `iface`; returns
    /// them all, decided, in order.
    fn sweep(
        &mut self,
        iface: &str,
        src: IpAddr,
        targets: &[Named],
    ) -> Result<Vec<HostResult>, RunError> {
        let key = (iface.to_string(), src);
        if !self.links.contains_key(&key) {
            let filter = match src {
                IpAddr::V4(a) => FrameFilter {
                    arp_for: Some(a),
                    nd_for: None,
                },
                IpAddr::V6(a) => FrameFilter {
                    arp_for: None,
                    nd_for: Some(a),
                },
            };
            let io = FrameIo::open(iface, &filter)?;
            let probe: Box<dyn NeighborProbe> = match src {
                IpAddr::V4(a) => Box::new(ArpSweep::new(io.mac(), a)),
                IpAddr::V6(a) => Box::new(NdSweep::new(io.mac(), a)),
            };
            self.links.insert(key.clone(), (Link(io), probe));
        }
        let (link, probe) = self.links.get_mut(&key).expect("just opened");
        let addrs: Vec<IpAddr> = targets.iter().map(|(a, _)| *a).collect();
        let started = unix_now();
        let answers: HashMap<IpAddr, Neighbor> =
            sweep(probe.as_ref(), link, &addrs, self.tries, self.wait)?
                .into_iter()
                .map(|n| (n.reply.ip, n))
                .collect();
        let ended = unix_now();
        Ok(targets
            .iter()
            .map(|(addr, name)| {
                let mut h = match answers.get(addr) {
                    Some(n) => {
                        let mut h = HostResult::new(*addr, HostStatus::Up, n.reply.reason);
                        h.latency = Some(n.rtt);
                        h.mac = Some(MacAddress {
                            octets: n.reply.mac,
                            vendor: portolan_oui::vendor(n.reply.mac).map(str::to_string),
                        });
                        h
                    }
                    None => HostResult::new(*addr, HostStatus::Down, Reason::NoResponse),
                };
                if let Some(name) = name {
                    h.hostnames.push(Hostname {
                        name: name.to_string(),
                        kind: HostnameKind::User,
                    });
                }
                h.start_time = started;
                h.end_time = ended;
                h
            })
            .collect())
    }
}

/// `-PR`: ARP / ND sweeps over each family's targets, on the interface of
/// the route to that family's first target (so a segment reached through
/// an interface without an address in it can be swept too).
fn neighbor_sweep(
    plan: &Plan,
    opts: &Options,
    stop: &AtomicBool,
    found: &mut Discoverer<'_, '_>,
) -> Result<(), RunError> {
    let (first_v4, first_v6) = first_of_each_family(&plan.targets);
    let iface = opts.net.interface.as_deref();
    let mut sweeper = Sweeper::new(plan, opts);
    for first in [first_v4, first_v6].into_iter().flatten() {
        let source = opts
            .net
            .source_addr
            .filter(|s| s.is_ipv4() == first.is_ipv4());
        let route = route_to(first, iface, source)?;
        let v4 = first.is_ipv4();
        let mut family = plan.targets.iter().filter(|t| t.addr.is_ipv4() == v4);
        loop {
            let chunk: Vec<Named> = family
                .by_ref()
                .take(SWEEP_CHUNK)
                .map(|t| (t.addr, t.name))
                .collect();
            if chunk.is_empty() || stop.load(Ordering::Relaxed) {
                break;
            }
            for h in sweeper.sweep(&route.interface, route.src, &chunk)? {
                found.decided(h);
            }
        }
    }
    Ok(())
}

/// Default discovery's first step, as nmap's: the targets on a directly
/// connected Ethernet segment are asked by ARP / ND instead of IP pings.
/// Each decided host goes to `decided`; returns nothing else, so the IP
/// pings then skip these targets (see [`OffLink`]).
fn sweep_neighbours(
    plan: &Plan,
    opts: &Options,
    nets: &LinkNets,
    stop: &AtomicBool,
    decided: &mut dyn FnMut(HostResult),
) -> Result<(), RunError> {
    let mut sweeper = Sweeper::new(plan, opts);
    let mut targets = plan.targets.iter();
    loop {
        // One pass over up to SWEEP_CHUNK targets, neighbours grouped by
        // interface and source.
        let mut groups: HashMap<(String, IpAddr), Vec<Named>> = HashMap::new();
        let mut seen = 0;
        for t in targets.by_ref() {
            seen += 1;
            if let Some((iface, src)) = nets.segment_of(t.addr) {
                groups
                    .entry((iface.to_string(), src))
                    .or_default()
                    .push((t.addr, t.name));
            }
            if seen == SWEEP_CHUNK {
                break;
            }
        }
        if seen == 0 || stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        for ((iface, src), group) in groups {
            for h in sweeper.sweep(&iface, src, &group)? {
                decided(h);
            }
        }
    }
}

/// The targets the IP pings ask: all but the neighbours ARP / ND asked.
fn ip_ping_targets(plan: &Plan) -> Box<dyn HostSource> {
    match &plan.neighbors {
        Some(nets) => Box::new(OffLink {
            targets: plan.targets.clone(),
            nets: nets.clone(),
        }),
        None => Box::new(Hosts(plan.targets.clone())),
    }
}

/// The targets that are not neighbours on an Ethernet segment (those are
/// asked by ARP / ND): the IP pings' host source.
struct OffLink {
    targets: TargetList,
    nets: LinkNets,
}

impl HostSource for OffLink {
    fn len(&self) -> u64 {
        self.targets.len()
    }

    fn get(&self, index: u64) -> Option<HostTarget> {
        let t = self.targets.get(index)?;
        if self.nets.segment_of(t.addr).is_some() {
            return None;
        }
        Some(HostTarget {
            addr: t.addr,
            name: t.name,
        })
    }
}

/// netio's frame socket as the sweep's link.
struct Link(FrameIo);

impl FrameLink for Link {
    fn send_frames(&mut self, frames: &[&[u8]]) -> io::Result<usize> {
        self.0.send(frames)
    }

    fn recv_frames(
        &mut self,
        timeout: Duration,
        on_frame: &mut dyn FnMut(&[u8]),
    ) -> io::Result<usize> {
        self.0.recv(timeout, on_frame)
    }
}

/// `-sL`: every target with status unknown, its typed name and (unless
/// `-n`) its reverse name; nothing is sent to the targets. Names are looked
/// up in parallel, [`LIST_CHUNK`] targets at a time, and written in target
/// order.
fn list_scan(plan: &Plan, opts: &Options, stop: &AtomicBool, sink: &mut Sink<'_>) {
    let mut resolver = if opts.no_dns {
        None
    } else {
        let r = if opts.system_dns {
            ReverseResolver::system(crate::rdns::SYSTEM_THREADS)
        } else if opts.dns_servers.is_empty() {
            ReverseResolver::new(ResolverConfig::system())
        } else {
            ReverseResolver::new(ResolverConfig::with_servers(&opts.dns_servers))
        };
        r.map_err(|e| eprintln!("portolan: reverse DNS unavailable: {e}"))
            .ok()
    };
    let mut targets = plan.targets.iter();
    loop {
        let chunk: Vec<HostResult> = targets
            .by_ref()
            .take(LIST_CHUNK)
            .map(|t| {
                let mut h = HostResult::new(t.addr, HostStatus::Unknown, Reason::Unknown);
                if let Some(name) = &t.name {
                    h.hostnames.push(Hostname {
                        name: name.to_string(),
                        kind: HostnameKind::User,
                    });
                }
                h
            })
            .collect();
        if chunk.is_empty() || stop.load(Ordering::Relaxed) {
            break;
        }
        let mut names: HashMap<IpAddr, Option<String>> = HashMap::new();
        if let Some(r) = &mut resolver {
            let mut asked = 0;
            for h in &chunk {
                if !names.contains_key(&h.addr) && r.submit(h.addr) {
                    names.insert(h.addr, None);
                    asked += 1;
                }
            }
            // Short waits, so Ctrl-C is noticed; the resolver gives every
            // lookup an answer (a name or none) within its retries.
            let deadline = Instant::now() + Duration::from_secs(30);
            while asked > 0 && !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                if let Some((addr, name)) = r.recv_timeout(Duration::from_millis(50)) {
                    asked -= 1;
                    names.insert(addr, name);
                }
            }
        }
        for mut h in chunk {
            if let Some(Some(name)) = names.get(&h.addr) {
                crate::rdns::add_ptr_name(&mut h, name);
            }
            sink.write(&h);
        }
    }
}

/// Targets of `-sL` named per round of parallel lookups.
const LIST_CHUNK: usize = 4096;

/// What silence means for a technique: the probe module knows for raw
/// scans; for connect scans it is nmap's "filtered (no-response)".
fn no_reply(plan: &Plan, t: &crate::plan::Technique) -> (PortState, Reason) {
    match (plan.driver, t.module(plan.scanflags)) {
        (Driver::Raw, Some(m)) => m.no_reply(),
        _ => (PortState::Filtered, Reason::NoResponse),
    }
}

fn run_connect(
    scan: &mut dyn Engine,
    opts: &Options,
    stop: &AtomicBool,
    sink: &mut dyn Observer,
) -> Result<(), RunError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let copts = ConnectOptions {
        source: opts.net.source_addr,
        max_sockets: 0,
    };
    rt.block_on(portolan_connect::run(scan, &copts, stop, sink));
    Ok(())
}

fn run_raw(
    scan: &mut dyn Engine,
    modules: &[Box<dyn ProbeModule>],
    plan: &Plan,
    opts: &Options,
    stop: &AtomicBool,
    sink: &mut dyn Observer,
) -> Result<(), RunError> {
    let (first_v4, first_v6) = first_of_each_family(&plan.targets);
    let Some(first) = first_v4.or(first_v6) else {
        return Ok(());
    };
    let iface = opts.net.interface.as_deref();
    let route = route_to(first, iface, opts.net.source_addr)?;
    let mut cfg = RawConfig::from_route(&route);
    cfg.bind_device = iface.is_some();
    if let (Some(v4), Some(v6)) = (first_v4, first_v6) {
        let other = if route.src.is_ipv4() { v6 } else { v4 };
        if let Ok(r) = route_to(other, iface, None) {
            cfg.add_source(r.src);
        }
    }
    let mut io = RawIo::open(&cfg)?;
    let ctx = ProbeContext {
        src_v4: cfg.src_v4,
        src_v6: cfg.src_v6,
        source_port: opts.net.source_port,
        key: ValidationKey::new(rand::random()),
        ttl: opts.net.ttl.unwrap_or(64),
    };
    let refs: Vec<&dyn ProbeModule> = modules.iter().map(|m| m.as_ref()).collect();
    portolan_engine::run_raw(scan, &refs, &ctx, &mut io, &SystemClock, stop, sink)?;
    Ok(())
}

/// The first IPv4 and IPv6 target, for finding routes and sources. Only
/// the first 65536 targets are looked at, so a huge list costs nothing.
fn first_of_each_family(targets: &TargetList) -> (Option<IpAddr>, Option<IpAddr>) {
    let mut v4 = None;
    let mut v6 = None;
    for t in targets.iter().take(65_536) {
        match t.addr {
            IpAddr::V4(_) if v4.is_none() => v4 = Some(t.addr),
            IpAddr::V6(_) if v6.is_none() => v6 = Some(t.addr),
            _ => {}
        }
        if v4.is_some() && v6.is_some() {
            break;
        }
    }
    (v4, v6)
}

/// The target list as the engine's random-access host source.
struct Hosts(TargetList);

impl HostSource for Hosts {
    fn len(&self) -> u64 {
        self.0.len()
    }

    fn get(&self, index: u64) -> Option<HostTarget> {
        self.0.get(index).map(|t| HostTarget {
            addr: t.addr,
            name: t.name,
        })
    }
}

/// What discovery saw of an up host.
struct Answer {
    reason: Reason,
    ttl: u8,
    latency: Option<Duration>,
    mac: Option<MacAddress>,
}

/// Where finished hosts go: service names added, outputs written.
struct Sink<'a> {
    outputs: &'a mut Outputs,
    table: &'static ServiceTable,
    hosts_up: u64,
    error: Option<io::Error>,
    /// Background work on up hosts before they are written (service
    /// detection, reverse DNS), in order.
    stages: Vec<Box<dyn HostStage>>,
    /// `-R`: down hosts are named too.
    name_down: bool,
    reporter: Reporter,
    /// What discovery found for each up host (reason, TTL, latency);
    /// `None` with `-Pn`, where every host is up by the user's word.
    discovered: Option<HashMap<IpAddr, Answer>>,
    /// The run's `--max-rate` budget, shared by the scans and `-sV`.
    budget: Option<SharedRateLimiter>,
}

impl Sink<'_> {
    /// A host the port scan finished: up, for the reason discovery found
    /// (or `user-set` with `-Pn`).
    fn host(&mut self, mut host: HostResult) {
        host.status = HostStatus::Up;
        match self.discovered.as_ref().and_then(|d| d.get(&host.addr)) {
            Some(a) => {
                host.reason = a.reason;
                host.reason_ttl = a.ttl;
                if host.latency.is_none() {
                    host.latency = a.latency;
                }
                if host.mac.is_none() {
                    host.mac = a.mac.clone();
                }
            }
            None => {
                host.reason = Reason::UserSet;
                host.reason_ttl = 0;
            }
        }
        self.finished(host);
    }

    /// An up host, ready: service names added, reverse name looked up,
    /// then written (or held for service detection).
    fn finished(&mut self, mut host: HostResult) {
        for p in &mut host.ports {
            if p.service.is_none() {
                let name = self.table.name(p.port, p.protocol).unwrap_or("unknown");
                p.service = Some(Box::new(ServiceInfo::from_table(name)));
            }
        }
        self.hosts_up += 1;
        self.pass(0, host);
    }

    /// A host discovery found down: written (the outputs show it only
    /// with `-v`), after reverse DNS with `-R`.
    fn down(&mut self, host: HostResult) {
        if self.name_down {
            self.pass(0, host);
        } else {
            self.write(&host);
        }
    }

    /// Hands `host` to stage `i`, or writes it after the last stage.
    fn pass(&mut self, i: usize, host: HostResult) {
        match self.stages.get_mut(i) {
            Some(stage) => stage.submit(host),
            None => self.write(&host),
        }
    }

    /// Moves the hosts the stages are done with along; never blocks.
    fn pump(&mut self) {
        for i in 0..self.stages.len() {
            while let Some(h) = self.stages[i].try_next() {
                self.pass(i + 1, h);
            }
        }
    }

    /// Waits for every stage (until `stop` is set, when they give up at
    /// once) and writes what they hold; returns whether the run was
    /// interrupted.
    fn drain_stages(&mut self, stop: &AtomicBool) -> bool {
        loop {
            self.pump();
            if stop.load(Ordering::Relaxed) || self.stages.iter().all(|s| s.in_progress() == 0) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let interrupted = stop.load(Ordering::Relaxed);
        for i in 0..self.stages.len() {
            self.pump();
            for h in self.stages[i].finish(interrupted) {
                self.pass(i + 1, h);
            }
        }
        interrupted
    }

    fn progress(&mut self, progress: &Progress) {
        self.reporter.update(progress);
        self.pump();
    }

    fn write(&mut self, host: &HostResult) {
        self.reporter.clear();
        if let Err(e) = self.outputs.host(host) {
            self.error.get_or_insert(e);
        }
    }
}

/// The version flags, when -sV is on.
fn version_options(opts: &Options) -> Option<VersionOptions> {
    let v = &opts.version;
    v.enabled.then(|| VersionOptions {
        intensity: v.intensity.unwrap_or(7),
        all_ports: v.all_ports,
        trace: v.trace,
        db_file: v.db_file.clone(),
    })
}

impl Observer for Sink<'_> {
    fn host(&mut self, host: HostResult) {
        Sink::host(self, host);
    }

    fn progress(&mut self, progress: &Progress) {
        Sink::progress(self, progress);
    }
}

/// Opens every output the options ask for. A format sent to `-` takes
/// standard output's place; otherwise normal output goes there.
fn open_outputs(opts: &Options) -> Result<Outputs, RunError> {
    let o = &opts.output;
    let oo = OutputOptions {
        verbose: o.verbose,
        reason: o.reason,
        open_only: o.open_only,
        debugging: o.debug,
    };
    let mut outputs = Outputs::default();
    let mut stdout_taken = false;
    type Make = fn(Box<dyn Write + Send>, OutputOptions) -> Box<dyn OutputFormat>;
    let files: [(&Option<std::path::PathBuf>, Make); 4] = [
        (&o.normal, portolan_output::normal_file),
        (&o.xml, portolan_output::xml),
        (&o.grepable, portolan_output::grepable),
        (&o.json, portolan_output::json),
    ];
    for (path, make) in files {
        let Some(path) = path else { continue };
        if path.as_os_str() == "-" {
            stdout_taken = true;
            outputs.push(make(Box::new(io::stdout()), oo));
        } else {
            outputs.push(make(create(path)?, oo));
        }
    }
    if !stdout_taken {
        outputs.push(portolan_output::normal(Box::new(io::stdout()), oo));
    }
    Ok(outputs)
}

fn create(path: &Path) -> Result<Box<dyn Write + Send>, RunError> {
    let f = File::create(path).map_err(|source| RunError::OutputFile {
        path: path.display().to_string(),
        source,
    })?;
    Ok(Box::new(BufWriter::new(f)))
}

/// SIGINT and SIGTERM set the returned flag; a second one exits at once.
fn install_signal_handlers() -> io::Result<Arc<AtomicBool>> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&stop))?;
        signal_hook::flag::register(sig, Arc::clone(&stop))?;
    }
    Ok(stop)
}

//! The run modes: which engine scans run, in which order, with which
//! driver, for the discovery the plan asks for.
//!
//! Why one place: `-sL` sends nothing, `-sn -Pn` only reports, `-Pn`
//! port-scans every target, and discovery either runs pipelined with the
//! port scan through one driver (a host found up is port-scanned while the
//! others are still pinged; ARP / ND pings included, as link-layer probe
//! modules in the same loop) or, when it needs another driver (raw pings
//! before `-sT`), before it. The choice is made here once; the engine
//! set-up the modes share (techniques, timing, order, shard) is here too.

use crate::config::ScanConfig;
use crate::discovery;
use crate::drivers::{run_connect, run_raw, validation_key, KEY_SALT_PORTS};
use crate::list::list_scan;
use crate::neighbours::{link_ping, FrameLinks, OffSegment};
use crate::plan::{Discovery, Driver, Plan};
use crate::sink::{Answer, Discoverer, Sink};
use crate::SessionError;
use portolan_connect::ConnectModule;
use portolan_engine::{
    Classify, HostSource, HostTarget, Pipeline, ProbeModule, Rekeyed, Scan, ScanPlan, ShardFilter,
    TechniquePlan, Timing,
};
use portolan_model::{
    HostResult, HostStatus, Hostname, HostnameKind, PortState, Protocol, Reason, ScanType,
};
use portolan_targets::TargetList;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Runs the scan `plan` describes with the mode its discovery asks for;
/// counts down hosts in `hosts_down`.
pub(crate) fn run(
    plan: &Plan,
    opts: &ScanConfig,
    stop: &AtomicBool,
    sink: &mut Sink<'_>,
    hosts_down: &mut u64,
) -> Result<(), SessionError> {
    match &plan.discovery {
        Discovery::List => {
            // Only what was listed: a shard's part, or what came before
            // an interrupt.
            *hosts_down = list_scan(plan, opts, stop, sink);
            Ok(())
        }
        Discovery::Skip if !plan.port_scan => {
            // -sn -Pn: every target (of the shard) is reported up, nothing
            // is sent.
            let shard = shard_filter(plan, opts);
            for (i, t) in plan.targets.iter().enumerate() {
                if shard.as_ref().is_some_and(|s| !s.contains(i as u64)) {
                    continue;
                }
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
            port_scan(hosts, plan, opts, stop, sink)
        }
        Discovery::Raw(_) | Discovery::Neighbor => pipelined(plan, opts, stop, sink, hosts_down),
        Discovery::Connect(_) if plan.driver == Driver::Connect => {
            pipelined(plan, opts, stop, sink, hosts_down)
        }
        Discovery::Connect(_) => discover_then_scan(plan, opts, stop, sink, hosts_down),
    }
}

/// The engine's plan: techniques, timing, order and shard.
fn scan_plan(techniques: Vec<TechniquePlan>, timing: Timing, opts: &ScanConfig) -> ScanPlan {
    let mut sp = ScanPlan::new(techniques, timing);
    if let Some(seed) = opts.seed {
        sp.seed = seed;
    } else if opts.shard.is_some() {
        sp.seed = shared_seed(opts);
    }
    sp.shard = opts.shard;
    sp.sequential_ports = opts.sequential_ports;
    sp.udp_exact = opts.timing.udp_exact;
    // -O reads the scan's own replies (portolan-os).
    sp.stack_samples = opts.os.enabled;
    sp.known = opts.known_ports.clone();
    sp
}

/// The seed every shard of one scan derives without `--seed`: a hash of
/// its `--scan-id`, or else of what defines the scan (targets, ports,
/// techniques, timing, the number of shards), the same in every shard
/// process whatever its K, so the shards of one command line partition
/// the targets. Not random, so a sharded scan repeats its order;
/// `--seed` or another `--scan-id` chooses another.
fn shared_seed(opts: &ScanConfig) -> u64 {
    let text = match &opts.scan_id {
        Some(id) => format!("scan-id {id}"),
        None => {
            let mut c = opts.clone();
            c.shard = c.shard.map(|(_, n)| (0, n));
            c.args_line.clear();
            c.verbose = 0;
            c.debugging = 0;
            format!("{c:?}")
        }
    };
    // FNV-1a: stable across builds and platforms, unlike std's hashers.
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Which targets `--shard` gives this run, for modes that walk the
/// targets without an engine scan (`-sL`, `-sn -Pn`): the engine's own
/// test, with the seed the engine would use.
pub(crate) fn shard_filter(plan: &Plan, opts: &ScanConfig) -> Option<ShardFilter> {
    let sp = scan_plan(Vec::new(), plan.timing.clone(), opts);
    ShardFilter::new(&sp, plan.targets.len())
}

/// The port scan's engine plan. The TCP techniques whose filtered answer
/// is an ICMP error have their silent ports told from a spent ICMP
/// allowance (`ScanPlan::icmp_checked`).
fn port_plan(plan: &Plan, opts: &ScanConfig) -> ScanPlan {
    let mut sp = scan_plan(port_techniques(plan), plan.timing.clone(), opts);
    sp.icmp_checked = plan
        .techniques
        .iter()
        .map(|t| {
            matches!(
                t.scan_type,
                ScanType::Fin
                    | ScanType::Null
                    | ScanType::Xmas
                    | ScanType::Maimon
                    | ScanType::Ack
                    | ScanType::Window
            )
        })
        .collect();
    sp
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

/// The port scan's probe modules (raw driver): `-sT` is the connect
/// layer's module.
fn port_modules(plan: &Plan) -> Vec<Box<dyn ProbeModule>> {
    plan.techniques
        .iter()
        .filter_map(|t| match t.scan_type {
            ScanType::Connect => Some(Box::new(ConnectModule) as Box<dyn ProbeModule>),
            _ => t.module(plan.scanflags),
        })
        .collect()
}

/// Discovery's timing: the scan's, with fewer retries unless the user
/// set them (a silent host is the common case; a couple of
/// retransmissions tell loss from silence, as nmap's ping scan does).
fn discovery_timing(plan: &Plan, opts: &ScanConfig) -> Timing {
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
            vec![discovery::technique(Protocol::Tcp, ports.clone())],
            Vec::new(),
        ),
        _ => (Vec::new(), Vec::new()),
    }
}

/// Discovery's techniques, their modules, and the link layer's sockets.
type DiscoverySet = (
    Vec<TechniquePlan>,
    Vec<Box<dyn ProbeModule>>,
    Option<FrameLinks>,
);

/// Discovery's engine techniques and probe modules with, when the plan
/// asks neighbours by ARP / ND, the link-layer ping first (the IP pings
/// then skip the neighbours) and its frame sockets.
fn discovery_set(plan: &Plan, opts: &ScanConfig) -> Result<DiscoverySet, SessionError> {
    let (techniques, modules) = discovery_techniques(plan);
    let Some((ping, links)) = link_ping(plan, opts)? else {
        return Ok((techniques, modules, None));
    };
    let mut all_techniques = vec![discovery::technique(Protocol::Tcp, vec![0])];
    all_techniques.extend(techniques);
    let mut all_modules: Vec<Box<dyn ProbeModule>> = Vec::with_capacity(modules.len() + 1);
    let ip: Vec<Box<dyn ProbeModule>> = modules
        .into_iter()
        .map(|m| Box::new(OffSegment::new(m, &ping)) as Box<dyn ProbeModule>)
        .collect();
    all_modules.push(Box::new(ping));
    all_modules.extend(ip);
    Ok((all_techniques, all_modules, Some(links)))
}

/// Discovery and the port scan through one driver: hosts found up are
/// port-scanned while discovery of the others goes on (see
/// [`portolan_engine::pipeline`]). Down hosts are written (the outputs
/// show them only with `-v`) and counted in `hosts_down`.
fn pipelined(
    plan: &Plan,
    opts: &ScanConfig,
    stop: &AtomicBool,
    sink: &mut Sink<'_>,
    hosts_down: &mut u64,
) -> Result<(), SessionError> {
    let (techniques, mut modules, mut links) = discovery_set(plan, opts)?;
    let refusal_counts = matches!(plan.discovery, Discovery::Connect(_));
    let classify: Classify = Box::new(move |h| discovery::classify(h, refusal_counts));
    let port_plan = plan.port_scan.then(|| port_plan(plan, opts));
    // The pipeline hands hosts out decided and port-scanned.
    let mut found = Discoverer {
        sink,
        refusal_counts,
        keep_up: false,
        undecided: false,
        up: Vec::new(),
        down: 0,
    };
    let mut pipe = Pipeline::new(
        scan_plan(techniques, discovery_timing(plan, opts), opts),
        Box::new(Hosts(plan.targets.clone())),
        classify,
        port_plan,
        Instant::now(),
    );
    if let Some(b) = &found.sink.budget {
        pipe.set_rate_limiter(b.clone());
    }
    // Raw pings pipeline into -sT too: connect attempts are a layer of the
    // raw driver.
    let raw = plan.driver == Driver::Raw || !matches!(plan.discovery, Discovery::Connect(_));
    let result = match raw {
        false => run_connect(&mut pipe, opts, stop, &mut found),
        true => {
            // The port scan's probes carry a key of their own: a SYN ping
            // to 443 and a SYN scan of 443 must not take each other's
            // replies.
            let key = validation_key(opts, KEY_SALT_PORTS);
            for m in port_modules(plan) {
                modules.push(Box::new(Rekeyed::new(m, key)));
            }
            run_raw(
                &mut pipe,
                &modules,
                plan,
                opts,
                stop,
                &mut found,
                links.as_mut(),
            )
        }
    };
    *hosts_down = found.down;
    result
}

/// The port scan over `hosts` with the plan's techniques and driver.
fn port_scan(
    hosts: Box<dyn HostSource>,
    plan: &Plan,
    opts: &ScanConfig,
    stop: &AtomicBool,
    sink: &mut Sink<'_>,
) -> Result<(), SessionError> {
    let mut scan = Scan::new(port_plan(plan, opts), hosts, Instant::now());
    if let Some(b) = &sink.budget {
        scan.set_rate_limiter(b.clone());
    }
    match plan.driver {
        Driver::Connect => run_connect(&mut scan, opts, stop, sink),
        Driver::Raw => run_raw(&mut scan, &port_modules(plan), plan, opts, stop, sink, None),
    }
}

/// Discovery over every target, then (unless `-sn`) the port scan over
/// the hosts found up, one after the other: only for connect pings before
/// a raw port scan (the connect driver and the raw one are two loops; raw
/// pings, ARP / ND and connect attempts all share the raw driver's and are
/// pipelined). Down hosts are written (the outputs show them only with
/// `-v`) and counted in `hosts_down`.
fn discover_then_scan(
    plan: &Plan,
    opts: &ScanConfig,
    stop: &AtomicBool,
    sink: &mut Sink<'_>,
    hosts_down: &mut u64,
) -> Result<(), SessionError> {
    let refusal_counts = matches!(plan.discovery, Discovery::Connect(_));
    let mut found = Discoverer {
        sink,
        refusal_counts,
        keep_up: plan.port_scan,
        undecided: false,
        up: Vec::new(),
        down: 0,
    };
    let (techniques, modules, mut links) = discovery_set(plan, opts)?;
    let classify: Classify = Box::new(move |h| discovery::classify(h, refusal_counts));
    let mut pipe = Pipeline::new(
        scan_plan(techniques, discovery_timing(plan, opts), opts),
        Box::new(Hosts(plan.targets.clone())),
        classify,
        None,
        Instant::now(),
    );
    let result = match &plan.discovery {
        Discovery::Raw(_) | Discovery::Neighbor => run_raw(
            &mut pipe,
            &modules,
            plan,
            opts,
            stop,
            &mut found,
            links.as_mut(),
        ),
        Discovery::Connect(_) => run_connect(&mut pipe, opts, stop, &mut found),
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

/// What silence means for a technique: the registry's row says for raw
/// scans; for connect scans it is nmap's "filtered (no-response)".
fn no_reply(plan: &Plan, t: &crate::plan::Technique) -> (PortState, Reason) {
    match plan.driver {
        Driver::Raw => portolan_probes::registry::lookup(t.scan_type).no_reply,
        Driver::Connect => (PortState::Filtered, Reason::NoResponse),
    }
}

/// The target list as the engine's random-access host source.
pub(crate) struct Hosts(pub TargetList);

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

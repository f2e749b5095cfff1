//! The scan state machine every driver shares.
//!
//! A [`Scan`] decides which probe goes out next, when a probe counts as
//! unanswered, when to retransmit, and when a host is finished; drivers
//! only move bytes. The raw-packet driver and the TCP connect driver use
//! the same object, so nothing here assumes packets: a probe is a
//! (technique, host, port, attempt) and a reply is a classified
//! [`Reply`](crate::module::Reply).
//!
//! This module holds the [`Scan`] type, its plan and its public API; the
//! state machine is split by concern, each part an `impl Scan` block in its
//! own file with the reasons behind it:
//!
//! - `order`: host groups, the keyed permutation, shards;
//! - `in_flight`: probe slots, deadlines, retransmission, replies;
//! - `deadlines`: the deadline queue (a FIFO with a heap beside it);
//! - `host_limits`: ICMP and TCP reset rate limits of hosts, measured and
//!   paced;
//! - `icmp_allowance`: silence of TCP techniques answered by ICMP (FIN,
//!   NULL, Xmas, Maimon, ACK, window) told from a spent ICMP allowance;
//! - `pacing`: the window, `--max-rate`, `--min-rate`, `--scan-delay`;
//! - `results`: resolved ports, finished hosts, progress.
//!
//! **Discovery.** With [`ScanPlan::decide_on_answer`] (host discovery) a
//! host is finished by its first answer whose state differs from its
//! technique's no-reply state: its other probes are cancelled, so an up
//! host costs one answered probe, as in nmap's ping scan.

mod deadlines;
mod host_limits;
mod icmp_allowance;
mod in_flight;
mod order;
mod pacing;
mod results;

pub use host_limits::{MEASURE, MEASURE_INTERVAL, RST_PACE_EXTRA, RST_SUSPECT, SUSPECT_SILENT};
pub use icmp_allowance::{LINGER, PACE_FIRST, PACE_MAX, ROUNDS, ROUND_MAX};
pub use order::ShardFilter;
pub use results::Progress;

use crate::congestion::Congestion;
use crate::limiter::SharedRateLimiter;
use crate::module::ProbeSpec;
use crate::permutation::Permutation;
use crate::rtt::RttEstimator;
use crate::target::{HostSource, HostTarget};
use crate::timing::Timing;
use deadlines::DeadlineQueue;
use host_limits::{RstEvidence, Trickle};
use icmp_allowance::IcmpCheck;
use in_flight::{InFlight, KeyHasher, KeyMap};
use order::Group;
use pacing::own_limiter;
use portolan_model::traits::TraitSamples;
use portolan_model::{HostResult, PortState, Protocol, Reason};
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasherDefault;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// One scan technique's part of the plan.
#[derive(Clone, Debug, PartialEq)]
pub struct TechniquePlan {
    /// The protocol whose ports it scans.
    pub protocol: Protocol,
    /// The ports, in the user's order (duplicates are scanned once).
    pub ports: Vec<u16>,
    /// State and reason of a port that never answered.
    pub no_reply: (PortState, Reason),
}

/// Everything a scan needs besides its targets.
#[derive(Clone, Debug)]
pub struct ScanPlan {
    /// The techniques; they share one index space `host x sum(ports)`.
    /// At most 256; further ones are ignored.
    pub techniques: Vec<TechniquePlan>,
    /// Timing knobs.
    pub timing: Timing,
    /// Seed of the probe order (`--seed`; random per scan otherwise).
    pub seed: u64,
    /// `--shard K/N` as `(K, N)`, 1-based.
    pub shard: Option<(u32, u32)>,
    /// `-r`: keep each host's ports in order.
    pub sequential_ports: bool,
    /// Wall-clock time of the scan's start, for host start/end times.
    pub start_wall: SystemTime,
    /// `--udp-exact`: retry the unanswered UDP ports of hosts that
    /// rate-limit ICMP at their pace until every closed port is named
    /// (slow: about ports / rate seconds per host).
    pub udp_exact: bool,
    /// Per technique: a TCP technique whose filtered answer is an ICMP
    /// error (FIN, NULL, Xmas, Maimon, ACK, window), so its silent ports
    /// are told from a spent ICMP allowance (`icmp_allowance`). Missing
    /// entries are `false`.
    pub icmp_checked: Vec<bool>,
    /// Host discovery: a host is finished by its first answer (see the
    /// module docs).
    pub decide_on_answer: bool,
    /// Keep a few replies' stack traits per host ([`HostResult::stack`]),
    /// for a host stage that reads them (OS detection). Off by default:
    /// they cost about 240 bytes per live host that answered TCP, which
    /// on a sweep of a range that answers every address (two groups of
    /// 65536 live hosts) is some 30 MB nobody would read.
    pub stack_samples: bool,
    /// Ports an earlier run of this scan resolved, per host (`--resume`
    /// at port granularity): a host given here starts with those ports
    /// resolved as they were, and only the others are probed. Shared, as
    /// a pipeline hands the plan to each of its batches.
    pub known: Option<Arc<KnownPorts>>,
}

/// Per address, a host's ports already resolved (see [`ScanPlan::known`]).
pub type KnownPorts = HashMap<IpAddr, HostResult>;

impl ScanPlan {
    /// A plan with a random seed, no shard, permuted ports, starting now.
    pub fn new(techniques: Vec<TechniquePlan>, timing: Timing) -> Self {
        use std::hash::BuildHasher;
        let seed = std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64);
        ScanPlan {
            techniques,
            timing,
            seed,
            shard: None,
            sequential_ports: false,
            start_wall: SystemTime::now(),
            udp_exact: false,
            icmp_checked: Vec::new(),
            decide_on_answer: false,
            stack_samples: false,
            known: None,
        }
    }
}

/// A probe the driver must send now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    /// Index of the technique in [`ScanPlan::techniques`].
    pub technique: usize,
    /// Host, port and attempt.
    pub spec: ProbeSpec,
    /// When the engine will consider it unanswered (it may expire earlier
    /// when the first RTT measurement shortens the initial timeout).
    pub deadline: Instant,
    key: u64,
    gen: u32,
    /// The [`Scan::id`] of the scan that launched it.
    scan: u32,
}

/// Why a probe could not be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// A passing condition (buffer full, `ENOBUFS`): send it again later,
    /// without counting an attempt.
    Transient,
    /// The probe can never be sent (`EPERM`, no route, no source address):
    /// the port gets its technique's no-reply state.
    Permanent,
}

/// A port's state within an active host: 5 bytes.
#[derive(Clone, Copy, Debug)]
struct PortSlot {
    state: Option<PortState>,
    reason: Reason,
    ttl: u8,
    sent: u8,
    in_flight: bool,
}

const FRESH: PortSlot = PortSlot {
    state: None,
    reason: Reason::Unknown,
    ttl: 0,
    sent: 0,
    in_flight: false,
};

/// A host's port slots: up to three inline, in the space of a `Vec`, so a
/// sweep's hosts (one port, or a few) cost no allocation and no second
/// cache miss per probe.
type PortSlots = smallvec::SmallVec<[PortSlot; 3]>;

struct HostState {
    gen: u32,
    target: HostTarget,
    ports: PortSlots,
    left: u32,
    answered: Option<(Reason, u8)>,
    rtt: RttEstimator,
    started: Option<Instant>,
    /// ICMP errors (closed ports) of error-signalled techniques.
    icmp_errors: u32,
    /// Ports of such techniques that ran out of attempts unanswered.
    silent_exhausted: u32,
    /// Boxed: only rate-limited hosts have one, and every live host of a
    /// sweep (up to two groups of 65536) carries the field.
    trickle: Option<Box<Trickle>>,
    rate_limit: Option<f64>,
    /// TCP reset evidence (see [`RstEvidence`]).
    rst: RstEvidence,
    /// A port that answered an ICMP error for an ICMP-checked technique,
    /// and the host's allowance rounds (`icmp_allowance`); boxed as
    /// `trickle` is.
    icmp_witness: Option<u32>,
    check: Option<Box<IcmpCheck>>,
    /// A few replies' stack traits, for OS detection; boxed for the same
    /// reason as `trickle` (most hosts of a sweep never answer TCP).
    stack: Option<Box<TraitSamples>>,
}

/// One scan's whole state: see the module documentation.
pub struct Scan {
    plan: ScanPlan,
    /// Tells this scan's probes from another's (see [`Scan::set_id`]).
    id: u32,
    hosts_src: Box<dyn HostSource>,
    /// `(technique, port)` of each port index.
    port_map: Vec<(u8, u16)>,
    /// Per technique: port -> port index + 1 (0 = not scanned).
    lookup: Vec<Vec<u32>>,
    host_perm: Permutation,
    shard_k: u64,
    shard_n: u64,
    shard_hosts: u64,
    next_host: u64,
    group_size: u32,
    group: Option<Group>,
    hosts: Vec<Option<HostState>>,
    free: Vec<u32>,
    next_gen: u32,
    active: usize,
    by_addr: HashMap<IpAddr, u32, BuildHasherDefault<KeyHasher>>,
    in_flight: KeyMap<InFlight>,
    /// Probes in the pipe (sent less than an RTT estimate ago, not yet
    /// answered) to hosts that answered / that did not.
    pipe_known: usize,
    pipe_silent: usize,
    /// `(sent, key, launch)` of probes in the pipe.
    pipe: VecDeque<(Instant, u64, u32)>,
    /// `(deadline, key, launch)` of probes in flight (stale entries are
    /// skipped when popped, and dropped when they outnumber live ones).
    deadlines: DeadlineQueue<(Instant, u64, u32)>,
    /// Transmissions launched so far (wrapping).
    launches: u32,
    retransmit: VecDeque<(u64, u32)>,
    deferred: VecDeque<(u64, u32)>,
    /// Targets whose address an earlier target still being scanned has
    /// (the same address given twice): replies are matched by address, so
    /// each waits for the earlier one to finish, then is scanned (and
    /// reported) on its own, as in nmap.
    repeats: VecDeque<HostTarget>,
    host_deadlines: VecDeque<(Instant, u32, u32)>,
    done: VecDeque<HostResult>,
    cc: Congestion,
    global_rtt: RttEstimator,
    max_needed: u8,
    answers: u64,
    proven_lost: u64,
    silent_resolved: u64,
    /// The `--max-rate` budget, the scan's own or a shared one.
    limiter: Option<SharedRateLimiter>,
    next_send_at: Instant,
    start: Instant,
    last_now: Instant,
    sent: u64,
    retransmits: u64,
    resolved: u64,
    hosts_done: u64,
    hosts_skipped: u64,
    rate_mark: (Instant, u64),
    rate: f64,
    stopped: bool,
    /// Hosts whose rate limit is being measured or paced: `(slot, gen)`.
    trickling: Vec<(u32, u32)>,
    /// Hosts with ICMP allowance rounds: `(slot, gen)`.
    checking: Vec<(u32, u32)>,
}

impl Scan {
    /// A scan of `hosts` per `plan`, starting at `now`.
    pub fn new(plan: ScanPlan, hosts: Box<dyn HostSource>, now: Instant) -> Self {
        let mut plan = plan;
        plan.techniques.truncate(256);
        let mut port_map = Vec::new();
        let mut lookup = Vec::with_capacity(plan.techniques.len());
        for (t, tech) in plan.techniques.iter().enumerate() {
            let mut table = vec![0u32; 65536];
            for &p in &tech.ports {
                if table[usize::from(p)] == 0 {
                    port_map.push((t as u8, p));
                    table[usize::from(p)] = port_map.len() as u32;
                }
            }
            lookup.push(table);
        }
        let n = hosts.len();
        let (shard_k, shard_n) = match plan.shard {
            Some((k, n)) if n >= 1 && k >= 1 && k <= n => (u64::from(k - 1), u64::from(n)),
            _ => (0, 1),
        };
        let shard_hosts = if n > shard_k {
            (n - shard_k).div_ceil(shard_n)
        } else {
            0
        };
        let ports = port_map.len().max(1) as u64;
        let auto = ((1u64 << 18) / ports).clamp(1, 65_536) as u32;
        let t = &plan.timing;
        let mut group_size = auto;
        if let Some(max) = t.max_hostgroup {
            group_size = group_size.min(max.max(1));
        }
        if let Some(min) = t.min_hostgroup {
            group_size = group_size.max(min);
        }
        let group_size = group_size.clamp(1, 1 << 20);
        let initial = 64u32.clamp(t.min_parallelism.max(1), t.max_parallelism.max(1));
        let cc = Congestion::new(t.min_parallelism, t.max_parallelism, initial);
        Scan {
            id: 0,
            host_perm: Permutation::new(n, plan.seed),
            hosts_src: hosts,
            port_map,
            lookup,
            shard_k,
            shard_n,
            shard_hosts,
            next_host: 0,
            group_size,
            group: None,
            hosts: Vec::new(),
            free: Vec::new(),
            next_gen: 0,
            active: 0,
            by_addr: HashMap::default(),
            in_flight: KeyMap::default(),
            pipe_known: 0,
            pipe_silent: 0,
            pipe: VecDeque::new(),
            deadlines: DeadlineQueue::new(),
            launches: 0,
            retransmit: VecDeque::new(),
            deferred: VecDeque::new(),
            repeats: VecDeque::new(),
            host_deadlines: VecDeque::new(),
            done: VecDeque::new(),
            cc,
            global_rtt: RttEstimator::default(),
            max_needed: 1,
            answers: 0,
            proven_lost: 0,
            silent_resolved: 0,
            limiter: own_limiter(t.max_rate, now),
            next_send_at: now,
            start: now,
            last_now: now,
            sent: 0,
            retransmits: 0,
            resolved: 0,
            hosts_done: 0,
            hosts_skipped: 0,
            rate_mark: (now, 0),
            rate: 0.0,
            stopped: false,
            trickling: Vec::new(),
            checking: Vec::new(),
            plan,
        }
    }

    /// Numbers the scan, so probes of another scan driven through the
    /// same driver (a [`crate::Pipeline`]'s next batch) are never taken for
    /// this one's: send errors of such probes are ignored.
    pub fn set_id(&mut self, id: u32) {
        self.id = id;
    }

    /// The number given by [`Scan::set_id`] (0 by default).
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The plan the scan runs.
    pub fn plan(&self) -> &ScanPlan {
        &self.plan
    }

    /// Probes currently in flight (bounded by the window).
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// The most probes ever awaiting a reply or their deadline, whatever
    /// `--min-rate` asks: `4 * max_parallelism` within 4096..=65536.
    ///
    /// Each outstanding probe costs about 200 bytes across the in-flight
    /// map, the pipe and the deadline heap (with their growth slack), so
    /// the cap bounds that state near 13 MB; 65536 still covers 130 k
    /// probes/s at a half-second timeout. Measured: a 198.18.0.0/15 x 1000
    /// port scan where nothing answers peaked at 69 MB RSS with a 131072
    /// cap.
    pub fn in_flight_cap(&self) -> usize {
        (self.plan.timing.max_parallelism as usize)
            .saturating_mul(4)
            .clamp(4096, 65_536)
    }

    /// Hosts holding state now (bounded by twice the group size).
    pub fn active_hosts(&self) -> usize {
        self.active
    }

    /// The host group size in use.
    pub fn group_size(&self) -> u32 {
        self.group_size
    }

    /// The congestion controller (for statistics).
    pub fn congestion(&self) -> &Congestion {
        &self.cc
    }

    fn has_work(&self) -> bool {
        !self.retransmit.is_empty()
            || !self.deferred.is_empty()
            || !self.repeats.is_empty()
            || self.group.as_ref().is_some_and(|g| g.next < g.perm.len())
            || self.next_host < self.shard_hosts
    }

    /// Whether nothing is left to send or wait for (finished hosts may
    /// still wait in [`poll_host`](Self::poll_host)).
    pub fn is_done(&self) -> bool {
        self.stopped || (self.active == 0 && !self.has_work())
    }

    /// Stops the scan: nothing more is sent; finished hosts can still be
    /// polled, and so can hosts caught mid-scan with at least one port
    /// resolved, marked [`HostResult::incomplete`] and listing only the
    /// ports resolved. Hosts with nothing resolved yet are dropped (they
    /// were not scanned), and so is every unfinished host of a discovery
    /// scan ([`ScanPlan::decide_on_answer`]): an unanswered ping so far
    /// proves nothing.
    ///
    /// [`HostResult::incomplete`]: portolan_model::HostResult::incomplete
    pub fn stop(&mut self) {
        if !self.stopped && !self.plan.decide_on_answer {
            self.finish_interrupted();
        }
        self.stopped = true;
        self.group = None;
        self.hosts.clear();
        self.free.clear();
        self.by_addr.clear();
        self.active = 0;
        self.in_flight.clear();
        self.pipe_known = 0;
        self.pipe_silent = 0;
        self.pipe.clear();
        self.deadlines.clear();
        self.retransmit.clear();
        self.deferred.clear();
        self.host_deadlines.clear();
        self.trickling.clear();
        self.checking.clear();
    }
}

fn join(slot: u32, idx: u32) -> u64 {
    (u64::from(slot) << 32) | u64::from(idx)
}

fn split(key: u64) -> (u32, u32) {
    ((key >> 32) as u32, key as u32)
}

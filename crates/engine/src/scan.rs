//! The scan state machine every driver shares.
//!
//! A [`Scan`] decides which probe goes out next, when a probe counts as
//! unanswered, when to retransmit, and when a host is finished; drivers
//! only move bytes. The raw-packet driver and the TCP connect driver use
//! the same object, so nothing here assumes packets: a probe is a
//! (technique, host, port, attempt) and a reply is a classified [`Reply`].
//!
//! **Order.** Hosts are visited in a keyed permuted order, in *host
//! groups*: the next group's hosts are fetched from the [`HostSource`]
//! when the previous group has sent all its first transmissions, and at
//! most two groups' worth of hosts hold state at a time, so memory is
//! bounded by the group size, not by the scan. Within a group the
//! `hosts x ports` space (ports of every technique, concatenated) is
//! permuted again, so consecutive probes hit different hosts and ports;
//! with `sequential_ports` a host's ports go out in the given order,
//! hosts interleaved.
//!
//! **Shards.** `--shard K/N` splits by host: the host at permuted position
//! `p` belongs to shard `p mod N == K-1`. Every host is scanned by exactly
//! one shard, so each shard's results are complete hosts.
//!
//! **Retries.** A probe unanswered at its deadline (the host's RTO, or the
//! scan's until the host answered) is retransmitted until the port has had
//! `allowed` transmissions, where `allowed` is the smallest of
//! `max_retries + 1` and the largest of: 2; one more than the most
//! transmissions any answered port needed; and the count that makes missing
//! an answering port to random loss unlikely (`a · q^k < 0.01`, with `a`
//! the ports per host expected to answer, from the share of ports that
//! answered so far, and `q` the proven loss ratio: transmissions followed
//! by an answer to a later attempt, with a prior of 1 in 50). A clean network thus costs one retransmission per silent
//! port, a lossy one as many as its measured loss requires.
//!
//! **ICMP rate limits.** Linux sends at most about one ICMP error per
//! second to each destination (after a burst of about six), so a UDP scan
//! of a Linux host sees a few ports closed and the rest silent: waiting
//! for ICMP the host will not send would cost a second per closed port.
//! For techniques whose silence means open|filtered (UDP), a host that
//! sent at least one port unreachable and then left
//! [`SUSPECT_SILENT`] ports unanswered after their retries is *measured*:
//! for [`MEASURE`] its unresolved ports get one extra probe every
//! [`MEASURE_INTERVAL`], and the ICMP errors that come back give the
//! host's steady rate. If any came, the host is recorded as rate-limited
//! ([`IcmpRateLimit`] in its result); by default its remaining ports then
//! take the no-reply state at once (retries cannot change them at that
//! rate). With [`ScanPlan::udp_exact`] the remaining ports are instead
//! retried at the host's pace (the measured rate, slowed when probes go
//! unanswered, quickened when they are) until each got its ICMP or
//! `max_retries`, as nmap does: every closed port is named, in about
//! `ports / rate` seconds. ICMP errors of such techniques never count as
//! loss evidence, so a rate-limited host does not raise every port's
//! retries. Probes go out in the permuted order across hosts, so many
//! hosts' limits run in parallel.
//!
//! **TCP reset rate limits.** A firewall may rate-limit the resets a
//! host sends (`limit rate over N/second drop`): a SYN scan then sees a
//! burst of closed ports and silence, and retransmission rounds, each far
//! faster than the limit, name only about `N` more ports per second, so
//! the rest would end up filtered. Three cases look alike at first and are
//! told apart per host (`RstEvidence`): a reset limit leaves most *first*
//! transmissions unanswered and keeps answering retries at its rate round
//! after round; random loss answers most first transmissions, and its
//! late answers thin out geometrically (a reset for a third try needs two
//! losses); a firewall that drops most ports answers retries only for the
//! few lost answers. A host with more first transmissions lost than
//! answered, at least [`RST_SUSPECT`] resets answering third or later
//! tries, and those at least a quarter as many as the resets answering
//! second tries, is *reset-paced*: its TCP ports that ran out unanswered
//! are reopened, and all its unresolved TCP ports are sent one at a time
//! at the host's rate, first estimated from the late resets per second,
//! then measured by half-second windows (a window that sent 15 % more
//! probes than resets came back ran above the limit and its reset rate is
//! the limit; two calmer windows in a row probe 25 % faster). Each port
//! may get up to [`RST_PACE_EXTRA`] transmissions beyond `max_retries + 1`,
//! so a closed port gets its reset unless the pace overshoots that many
//! times; a port silent after them is filtered. Resets of a paced host
//! are no loss evidence, so the host does not raise other hosts' retries.
//! Such a host costs about `ports / rate` seconds (other hosts go on at
//! full speed meanwhile), and its result records the rate
//! ([`IcmpRateLimit`] with protocol TCP).
//!
//! **Window.** Probes to hosts that answered are limited by the congestion
//! window (see [`crate::congestion`]); probes to hosts not heard from yet
//! by four times the window, since their silence carries no congestion
//! signal, or by a window doubling every RTT (25 ms at least) until the
//! first congestion signal, so sparse networks ramp up quickly. Such
//! probes are parked (up to 4096) while their window is full, so they
//! never hold up probes to hosts that answer. `--max-rate` is a token bucket, `--min-rate` lets probes past a
//! full window while the scan is behind its floor rate.
//!
//! **Discovery.** With [`ScanPlan::decide_on_answer`] (host discovery) a
//! host is finished by its first answer whose state differs from its
//! technique's no-reply state: its other probes are cancelled, so an up
//! host costs one answered probe, as in nmap's ping scan.

use crate::congestion::Congestion;
use crate::module::{ProbeSpec, Reply};
use crate::permutation::{mix64, Permutation};
use crate::rtt::RttEstimator;
use crate::target::{HostSource, HostTarget};
use crate::timing::Timing;
use portolan_model::{
    HostResult, HostStatus, Hostname, HostnameKind, IcmpRateLimit, PortResult, PortState, Protocol,
    Reason,
};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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
    /// Host discovery: a host is finished by its first answer (see the
    /// module docs).
    pub decide_on_answer: bool,
}

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
            decide_on_answer: false,
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

/// A snapshot of a scan's progress.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Progress {
    /// Probes sent, retransmissions included.
    pub probes_sent: u64,
    /// Retransmissions among them.
    pub retransmits: u64,
    /// Ports with a final state.
    pub ports_resolved: u64,
    /// Ports to scan in total (excluded hosts included until skipped).
    pub ports_total: u64,
    /// Hosts finished.
    pub hosts_done: u64,
    /// Hosts in this shard, excluded indexes included.
    pub hosts_total: u64,
    /// Recent send rate, probes per second.
    pub rate: f64,
    /// Estimated time to completion.
    pub eta: Option<Duration>,
    /// Congestion window.
    pub cwnd: usize,
    /// Probes in flight.
    pub in_flight: usize,
}

/// Multiplicative hasher for the engine's `u64` keys.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (n ^ (n >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<KeyHasher>>;

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

struct HostState {
    gen: u32,
    target: HostTarget,
    ports: Vec<PortSlot>,
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
}

/// What a host's TCP resets say about a reset rate limit (module docs,
/// "TCP reset rate limits").
#[derive(Clone, Copy, Debug, Default)]
struct RstEvidence {
    /// First transmissions of TCP techniques answered / timed out.
    first_answered: u32,
    first_lost: u32,
    /// Resets answering attempt 1 / attempts 2 and later.
    late1: u32,
    late2: u32,
    /// When the first and the latest late reset arrived.
    first_late: Option<Instant>,
    last_late: Option<Instant>,
    /// Whether the host's unresolved TCP ports are paced at its rate.
    paced: bool,
    /// The limit measured by a saturated pacing window, resets per second.
    measured: Option<f64>,
    /// Whether the last pacing window was saturated (the next one then
    /// holds the pace instead of probing faster).
    held: bool,
}

impl RstEvidence {
    /// Whether the evidence says "reset rate limit" rather than random
    /// loss or a firewall that drops most ports.
    fn rate_limited(&self) -> bool {
        // Loss hits first transmissions as often as retries and thins out
        // geometrically (a reset for a third try needs two losses); a
        // partial firewall's silent ports never answer a retry; a rate
        // limit leaves most first tries unanswered and keeps answering
        // retries at its rate, round after round.
        self.late2 >= RST_SUSPECT
            && self.first_answered < self.first_lost
            && u64::from(self.late2) * 4 >= u64::from(self.late1)
            && self.rate().is_some()
    }

    /// Late resets per second between the first and the latest one.
    fn rate(&self) -> Option<f64> {
        let span = self
            .last_late?
            .saturating_duration_since(self.first_late?)
            .as_secs_f64();
        let n = self.late1.saturating_add(self.late2);
        if span < 0.01 || n < 2 {
            return None;
        }
        Some(f64::from(n - 1) / span)
    }
}

/// Where a host's rate-limit handling stands (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Probing unresolved ports quickly to measure the ICMP rate.
    Measuring,
    /// `--udp-exact`: retrying unresolved ports at the host's pace.
    Exact,
    /// Done: unanswered ports take the no-reply state.
    Closed,
}

struct Trickle {
    phase: Phase,
    since: Instant,
    replies: u32,
    next_at: Instant,
    interval: Duration,
    /// The pace the measurement allows (`--udp-exact` never goes faster
    /// than twice it).
    base: Duration,
    queue: VecDeque<u32>,
    /// Reset pacing: start, probes sent and resets received of the
    /// current one-second window (see [`rst_window`]).
    window: (Instant, u32, u32),
}

struct InFlight {
    sent_at: Instant,
    attempt: u8,
    gen: u32,
    /// Number of this transmission among all the scan's, so a pipe or
    /// deadline entry of an earlier transmission of the same port (one the
    /// driver could not send, then sent again) is never taken for it.
    launch: u32,
    known: bool,
    epoch: u64,
    in_pipe: bool,
}

struct Group {
    slots: Vec<(u32, u32)>,
    perm: Permutation,
    next: u64,
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
    by_addr: HashMap<IpAddr, u32>,
    in_flight: KeyMap<InFlight>,
    /// Probes in the pipe (sent less than an RTT estimate ago, not yet
    /// answered) to hosts that answered / that did not.
    pipe_known: usize,
    pipe_silent: usize,
    /// `(sent, key, launch)` of probes in the pipe.
    pipe: VecDeque<(Instant, u64, u32)>,
    /// `(deadline, key, launch)` of probes in flight (stale entries are
    /// skipped when popped, and dropped when they outnumber live ones).
    deadlines: BinaryHeap<Reverse<(Instant, u64, u32)>>,
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
    tokens: f64,
    last_refill: Instant,
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
}

/// Unanswered ports (after retries) of a host that sent an ICMP error
/// before it is measured for an ICMP rate limit.
pub const SUSPECT_SILENT: u32 = 8;
/// How long a suspected host's ICMP rate is measured.
pub const MEASURE: Duration = Duration::from_secs(2);
/// Spacing of the measuring probes to one host (20 per second, well above
/// any rate limit worth detecting).
pub const MEASURE_INTERVAL: Duration = Duration::from_millis(50);
/// Slowest pace of `--udp-exact` retries to one host.
const EXACT_SLOWEST: Duration = Duration::from_secs(5);

/// Resets answering a third or later transmission before a host whose
/// first transmissions mostly go unanswered is deemed to rate-limit its
/// resets.
pub const RST_SUSPECT: u32 = 8;
/// Length of a reset-paced host's pacing window (at least 20 probes).
const RST_WINDOW: Duration = Duration::from_millis(500);
/// Probes per answer in a pacing window above which the pace exceeded the
/// host's limit (random loss up to about 7 % per round trip stays below).
const RST_SATURATED: f64 = 1.15;
/// Transmissions beyond `max_retries + 1` a port of a reset-limited host
/// may get at the host's pace (see the module docs).
pub const RST_PACE_EXTRA: u8 = 4;

/// Probes to silent hosts parked while their window is full.
const DEFER_CAP: usize = 4096;

/// Hosts fetched at most per call when skipping excluded indexes.
const HOST_SCAN_BUDGET: u32 = 1 << 16;

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
        let burst = burst_for(t.max_rate);
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
            by_addr: HashMap::new(),
            in_flight: KeyMap::default(),
            pipe_known: 0,
            pipe_silent: 0,
            pipe: VecDeque::new(),
            deadlines: BinaryHeap::new(),
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
            tokens: burst,
            last_refill: now,
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

    /// How long a probe counts toward the window: about one RTO without
    /// the `--min-rtt-timeout` floor. A probe unanswered by then is lost or
    /// filtered; it still waits for its deadline, but no longer holds the
    /// window, so silently dropped ports cost one RTT of window, not one
    /// timeout (TCP likewise stops counting packets marked lost).
    fn pipe_time(&self) -> Duration {
        let t = &self.plan.timing;
        self.global_rtt.rto(
            Duration::from_millis(1),
            t.max_rtt_timeout,
            t.initial_rtt_timeout,
        )
    }

    fn drain_pipe(&mut self, now: Instant) {
        let pt = self.pipe_time();
        while let Some(&(sent, key, launch)) = self.pipe.front() {
            if sent + pt > now {
                break;
            }
            self.pipe.pop_front();
            if let Some(f) = self.in_flight.get_mut(&key) {
                if f.launch == launch && f.in_pipe {
                    f.in_pipe = false;
                    self.cc.on_silence();
                    if f.known {
                        self.pipe_known -= 1;
                    } else {
                        self.pipe_silent -= 1;
                    }
                }
            }
        }
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

    /// Transmissions a port may get now (see the module documentation).
    pub fn allowed_attempts(&self) -> u8 {
        let cap = self.plan.timing.max_retries.saturating_add(1);
        let q = (self.proven_lost as f64 + 1.0)
            / (self.answers as f64 + self.proven_lost as f64 + 50.0);
        let ports = self.port_map.len().max(1) as f64;
        let answering =
            (self.answers as f64 + 1.0) / (self.answers + self.silent_resolved + 1) as f64;
        let at_risk = (ports * answering).max(1.0);
        let by_loss = ((0.01 / at_risk).ln() / q.ln()).ceil();
        let by_loss = if by_loss.is_finite() {
            by_loss.clamp(1.0, 255.0) as u8
        } else {
            255
        };
        let want = by_loss.max(self.max_needed.saturating_add(1)).max(2);
        want.min(cap).max(1)
    }

    fn rto(&self, host: &HostState) -> Duration {
        let t = &self.plan.timing;
        let est = if host.rtt.srtt().is_some() {
            &host.rtt
        } else {
            &self.global_rtt
        };
        est.rto(t.min_rtt_timeout, t.max_rtt_timeout, t.initial_rtt_timeout)
    }

    fn refill(&mut self, now: Instant) {
        if let Some(rate) = self.plan.timing.max_rate {
            let dt = now
                .saturating_duration_since(self.last_refill)
                .as_secs_f64();
            self.tokens = (self.tokens + dt * rate).min(burst_for(Some(rate)));
        }
        self.last_refill = now;
    }

    fn behind_min_rate(&self, now: Instant) -> bool {
        match self.plan.timing.min_rate {
            Some(r) if r > 0.0 => {
                let due = r * now.saturating_duration_since(self.start).as_secs_f64();
                (self.sent as f64) < due
            }
            _ => false,
        }
    }

    /// The next probe allowed now, recorded as in flight; `None` when the
    /// window, the rate limit or the scan delay holds it back, or nothing
    /// is left to send.
    pub fn poll_probe(&mut self, now: Instant) -> Option<Probe> {
        if self.stopped {
            return None;
        }
        self.last_now = now;
        self.refill(now);
        if self.plan.timing.max_rate.is_some() && self.tokens < 1.0 - 1e-9 {
            return None;
        }
        if now < self.next_send_at {
            return None;
        }
        self.drain_pipe(now);
        if self.in_flight.len() >= self.in_flight_cap() {
            return None;
        }
        if let Some(p) = self.poll_trickle(now) {
            return Some(p);
        }
        let forced = self.behind_min_rate(now);
        let window = self.cc.window();
        let known_open = forced || self.window_open(true, window);
        let unknown_open = forced || self.window_open(false, window);
        if !known_open && !unknown_open {
            return None;
        }
        // Probes to silent hosts that waited for their window go first.
        if unknown_open {
            while let Some((key, gen)) = self.deferred.pop_front() {
                match self.pending(key, gen) {
                    None => continue,
                    Some(true) if !known_open => {
                        self.deferred.push_front((key, gen));
                        break;
                    }
                    Some(_) if self.divert(key, gen) => continue,
                    Some(_) => return Some(self.launch(now, key, gen)),
                }
            }
        }
        loop {
            let from_retransmit = !self.retransmit.is_empty();
            let (key, gen) = match self.retransmit.front() {
                Some(&c) => c,
                None => self.peek_fresh(now)?,
            };
            let consume = |s: &mut Self| {
                if from_retransmit {
                    s.retransmit.pop_front();
                } else if let Some(g) = &mut s.group {
                    g.next += 1;
                }
            };
            let Some(known) = self.pending(key, gen) else {
                consume(self);
                continue;
            };
            if self.divert(key, gen) {
                consume(self);
                continue;
            }
            if (known && known_open) || (!known && unknown_open) {
                consume(self);
                return Some(self.launch(now, key, gen));
            }
            // Blocked: park a silent host's probe so it does not hold up
            // probes to hosts that answer; stop at a blocked answering one.
            if known || self.deferred.len() >= DEFER_CAP {
                return None;
            }
            consume(self);
            self.deferred.push_back((key, gen));
        }
    }

    fn window_open(&self, known: bool, window: usize) -> bool {
        if known {
            self.pipe_known < window
        } else {
            self.pipe_silent < self.silent_window(window)
        }
    }

    /// The window for probes to hosts not heard from: four times the
    /// congestion window, or, until the first congestion signal, a window
    /// that doubles every RTT (at least 25 ms) from the start, because
    /// sparse answers (one host in 13 up) would grow it too slowly.
    fn silent_window(&self, window: usize) -> usize {
        let w = window.saturating_mul(4);
        if self.cc.reductions() > 0 {
            return w;
        }
        let step = self
            .global_rtt
            .srtt()
            .unwrap_or(Duration::ZERO)
            .max(Duration::from_millis(25));
        let elapsed = self.last_now.saturating_duration_since(self.start);
        let doublings = (elapsed.as_nanos() / step.as_nanos().max(1)).min(20) as u32;
        let max = (self.plan.timing.max_parallelism as usize).saturating_mul(4);
        let ramp = (self.plan.timing.max_parallelism.clamp(1, 64) as usize) << doublings;
        w.max(ramp.min(max))
    }

    /// Whether `(key, gen)` names a live, unresolved port not in flight;
    /// returns whether its host has answered.
    fn pending(&self, key: u64, gen: u32) -> Option<bool> {
        let (slot, idx) = split(key);
        let h = self.hosts.get(slot as usize)?.as_ref()?;
        if h.gen != gen {
            return None;
        }
        let p = h.ports.get(idx as usize)?;
        if p.state.is_some() || p.in_flight {
            return None;
        }
        Some(h.answered.is_some())
    }

    fn launch(&mut self, now: Instant, key: u64, gen: u32) -> Probe {
        let (slot, idx) = split(key);
        let (tech, port) = self.port_map[idx as usize];
        let host = self.hosts[slot as usize].as_mut().expect("pending checked");
        if host.started.is_none() {
            host.started = Some(now);
            if let Some(ht) = self.plan.timing.host_timeout {
                self.host_deadlines.push_back((now + ht, slot, gen));
            }
        }
        let p = &mut host.ports[idx as usize];
        let attempt = p.sent;
        let retrans = attempt > 0;
        p.sent = p.sent.saturating_add(1);
        p.in_flight = true;
        let known = host.answered.is_some();
        let addr = host.target.addr;
        let host = self.hosts[slot as usize].as_ref().expect("live");
        let deadline = now + self.rto(host);
        let epoch = self.cc.on_send(now, self.global_rtt.srtt());
        self.launches = self.launches.wrapping_add(1);
        let launch = self.launches;
        self.in_flight.insert(
            key,
            InFlight {
                sent_at: now,
                attempt,
                gen,
                launch,
                known,
                epoch,
                in_pipe: true,
            },
        );
        if known {
            self.pipe_known += 1;
        } else {
            self.pipe_silent += 1;
        }
        self.pipe.push_back((now, key, launch));
        self.deadlines.push(Reverse((deadline, key, launch)));
        self.sent += 1;
        if retrans {
            self.retransmits += 1;
        }
        if self.plan.timing.max_rate.is_some() {
            self.tokens -= 1.0;
        }
        if !self.plan.timing.scan_delay.is_zero() {
            self.next_send_at = now + self.plan.timing.scan_delay;
        }
        let elapsed = now.saturating_duration_since(self.rate_mark.0);
        if elapsed >= Duration::from_millis(500) {
            self.rate = (self.sent - self.rate_mark.1) as f64 / elapsed.as_secs_f64();
            self.rate_mark = (now, self.sent);
        }
        Probe {
            technique: usize::from(tech),
            spec: ProbeSpec {
                dst: addr,
                dport: port,
                attempt,
            },
            deadline,
            key,
            gen,
            scan: self.id,
        }
    }

    /// The next first transmission, without consuming it.
    fn peek_fresh(&mut self, now: Instant) -> Option<(u64, u32)> {
        loop {
            let exhausted = match &self.group {
                Some(g) => g.next >= g.perm.len(),
                None => true,
            };
            if exhausted {
                self.group = None;
                if (self.next_host >= self.shard_hosts && self.repeats.is_empty())
                    || self.active >= (self.group_size as usize).saturating_mul(2)
                {
                    return None;
                }
                let before = (self.next_host, self.repeats.len());
                self.start_group(now);
                if self.group.is_none() && (self.next_host, self.repeats.len()) == before {
                    // Only repeats whose address is still being scanned.
                    return None;
                }
                continue;
            }
            let g = self.group.as_ref().expect("not exhausted");
            let nh = g.slots.len() as u64;
            let j = g.next;
            let (hi, pi) = if self.plan.sequential_ports {
                (j % nh, j / nh)
            } else {
                let v = g.perm.get(j);
                (v % nh, v / nh)
            };
            let (slot, gen) = g.slots[hi as usize];
            let key = join(slot, pi as u32);
            if self.pending(key, gen).is_some() {
                return Some((key, gen));
            }
            if let Some(g) = &mut self.group {
                g.next += 1;
            }
        }
    }

    fn start_group(&mut self, now: Instant) {
        let mut slots = Vec::new();
        for _ in 0..self.repeats.len() {
            if slots.len() >= self.group_size as usize {
                break;
            }
            let target = self.repeats.pop_front().expect("counted");
            if self.by_addr.contains_key(&target.addr) {
                self.repeats.push_back(target);
            } else {
                let slot = self.alloc(target);
                slots.push(slot);
            }
        }
        let mut budget = HOST_SCAN_BUDGET;
        while slots.len() < self.group_size as usize
            && self.next_host < self.shard_hosts
            && budget > 0
        {
            budget -= 1;
            let pos = self.next_host * self.shard_n + self.shard_k;
            self.next_host += 1;
            let idx = self.host_perm.get(pos);
            let Some(target) = self.hosts_src.get(idx) else {
                self.hosts_skipped += 1;
                continue;
            };
            if self.by_addr.contains_key(&target.addr) {
                self.repeats.push_back(target);
                continue;
            }
            let slot = self.alloc(target);
            slots.push(slot);
        }
        if self.port_map.is_empty() {
            for &(slot, _) in &slots {
                self.finish(slot, now, false);
            }
            return;
        }
        if slots.is_empty() {
            return;
        }
        let size = slots.len() as u64 * self.port_map.len() as u64;
        let seed = mix64(self.plan.seed ^ mix64(self.next_host));
        self.group = Some(Group {
            slots,
            perm: Permutation::new(size, seed),
            next: 0,
        });
    }

    fn alloc(&mut self, target: HostTarget) -> (u32, u32) {
        self.next_gen = self.next_gen.wrapping_add(1);
        let gen = self.next_gen;
        let addr = target.addr;
        let state = HostState {
            gen,
            target,
            ports: vec![FRESH; self.port_map.len()],
            left: self.port_map.len() as u32,
            answered: None,
            rtt: RttEstimator::default(),
            started: None,
            icmp_errors: 0,
            silent_exhausted: 0,
            trickle: None,
            rate_limit: None,
            rst: RstEvidence::default(),
        };
        let slot = match self.free.pop() {
            Some(s) => {
                self.hosts[s as usize] = Some(state);
                s
            }
            None => {
                self.hosts.push(Some(state));
                (self.hosts.len() - 1) as u32
            }
        };
        self.by_addr.insert(addr, slot);
        self.active += 1;
        (slot, gen)
    }

    fn take_in_flight(&mut self, key: u64) -> Option<InFlight> {
        let f = self.in_flight.remove(&key)?;
        self.unpipe(&f);
        let (slot, idx) = split(key);
        if let Some(Some(h)) = self.hosts.get_mut(slot as usize) {
            if h.gen == f.gen {
                if let Some(p) = h.ports.get_mut(idx as usize) {
                    p.in_flight = false;
                }
            }
        }
        Some(f)
    }

    fn unpipe(&mut self, f: &InFlight) {
        if f.in_pipe {
            if f.known {
                self.pipe_known -= 1;
            } else {
                self.pipe_silent -= 1;
            }
        }
    }

    /// Feeds a validated reply of technique `technique`. Replies about
    /// unknown hosts, unscanned ports or ports already resolved are
    /// ignored.
    pub fn on_reply(&mut self, now: Instant, technique: usize, reply: Reply) {
        self.last_now = now;
        let Some(&slot) = self.by_addr.get(&reply.dst) else {
            return;
        };
        let Some(table) = self.lookup.get(technique) else {
            return;
        };
        let idx = table[usize::from(reply.dport)];
        if idx == 0 {
            return;
        }
        let idx = idx - 1;
        let key = join(slot, idx);
        {
            let Some(Some(h)) = self.hosts.get(slot as usize) else {
                return;
            };
            let p = h.ports[idx as usize];
            if p.state.is_some() || p.sent == 0 {
                return;
            }
            // A reply naming an attempt never sent is not ours (modules
            // encode the attempt modulo 16): for example another program's
            // SYN seen on loopback, which a bare-SYN rule cannot otherwise
            // tell from a split handshake.
            if matches!(reply.attempt, Some(a) if p.sent <= 16 && a >= p.sent) {
                return;
            }
        }
        let flight = self.take_in_flight(key);
        let Some(Some(h)) = self.hosts.get_mut(slot as usize) else {
            return;
        };
        let sent = h.ports[idx as usize].sent;
        let answered_attempt = reply.attempt.unwrap_or(sent.saturating_sub(1));
        let mut rtt = None;
        let mut first_sample = false;
        if let Some(f) = &flight {
            let unambiguous = match reply.attempt {
                Some(a) => a == f.attempt,
                None => sent == 1,
            };
            if unambiguous {
                let r = now.saturating_duration_since(f.sent_at);
                h.rtt.sample(r);
                first_sample = self.global_rtt.srtt().is_none();
                self.global_rtt.sample(r);
                rtt = Some(r);
            }
            self.cc.on_answer(f.epoch, f.sent_at, f.known, rtt);
        }
        self.answers += 1;
        let (tech, _) = self.port_map[idx as usize];
        let icmp_error = reply.state == PortState::Closed && error_signalled(&self.plan, tech);
        let tcp = is_tcp(&self.plan, tech);
        let reset = tcp && reply.reason == Reason::Reset;
        let mut suspect = false;
        if tcp && answered_attempt == 0 {
            h.rst.first_answered = h.rst.first_answered.saturating_add(1);
        } else if reset && !h.rst.paced {
            let e = &mut h.rst;
            if answered_attempt == 1 {
                e.late1 = e.late1.saturating_add(1);
            } else {
                e.late2 = e.late2.saturating_add(1);
            }
            e.first_late.get_or_insert(now);
            e.last_late = Some(now);
            suspect = h.trickle.is_none() && e.rate_limited();
        }
        if reset && h.rst.paced {
            // Paced at the host's reset rate: a retry it answers proves
            // no loss, and an answer lets the pace quicken a little.
            if let Some(t) = &mut h.trickle {
                t.replies += 1;
                t.window.2 += 1;
            }
        } else if icmp_error {
            // Rate-limited by nature: a retry it answers proves no loss.
            h.icmp_errors += 1;
            if let Some(t) = &mut h.trickle {
                t.replies += 1;
                if t.phase == Phase::Exact {
                    t.interval = t.interval.mul_f64(0.97).max(t.base / 2);
                }
            }
        } else {
            self.proven_lost += u64::from(answered_attempt);
            self.max_needed = self.max_needed.max(answered_attempt.saturating_add(1));
        }
        if h.answered.is_none() {
            h.answered = Some((reply.reason, reply.ttl));
        }
        let p = &mut h.ports[idx as usize];
        p.state = Some(reply.state);
        p.reason = reply.reason;
        p.ttl = reply.ttl;
        let gen = h.gen;
        let decided = self.plan.decide_on_answer
            && reply.state != self.plan.techniques[usize::from(tech)].no_reply.0;
        if decided {
            // Discovery: the host is up; its other probes are moot.
            self.resolved += u64::from(h.left);
            self.finish(slot, now, false);
        } else {
            self.port_resolved(slot, now);
            if suspect {
                self.start_rst_pace(slot, gen, now);
            }
        }
        if first_sample {
            self.shorten_deadlines();
        }
        self.cc.tick(now, self.global_rtt.srtt());
    }

    /// Re-arms the probes sent before any RTT was known (timed with the
    /// long initial timeout) with the measured one, so a probe lost early
    /// is not waited for a whole second.
    fn shorten_deadlines(&mut self) {
        let t = &self.plan.timing;
        let rto = self
            .global_rtt
            .rto(t.min_rtt_timeout, t.max_rtt_timeout, t.initial_rtt_timeout);
        for (&key, f) in &self.in_flight {
            self.deadlines
                .push(Reverse((f.sent_at + rto, key, f.launch)));
        }
    }

    fn port_resolved(&mut self, slot: u32, now: Instant) {
        self.resolved += 1;
        let Some(Some(h)) = self.hosts.get_mut(slot as usize) else {
            return;
        };
        h.left = h.left.saturating_sub(1);
        if h.left == 0 {
            self.finish(slot, now, false);
        }
    }

    /// Reports that `probe` could not be sent.
    pub fn on_send_error(&mut self, now: Instant, probe: &Probe, err: SendError) {
        if probe.scan != self.id {
            return;
        }
        let Some(f) = self.in_flight.get(&probe.key) else {
            return;
        };
        if f.gen != probe.gen || f.attempt != probe.spec.attempt {
            return;
        }
        if let Some(f) = self.take_in_flight(probe.key) {
            self.cc.on_void(f.epoch);
        }
        self.sent = self.sent.saturating_sub(1);
        let (slot, idx) = split(probe.key);
        match err {
            SendError::Transient => {
                if let Some(Some(h)) = self.hosts.get_mut(slot as usize) {
                    let p = &mut h.ports[idx as usize];
                    p.sent = p.sent.saturating_sub(1);
                }
                self.retransmit.push_front((probe.key, probe.gen));
            }
            SendError::Permanent => self.resolve_silent(slot, idx, now),
        }
    }

    fn resolve_silent(&mut self, slot: u32, idx: u32, now: Instant) {
        let (tech, _) = self.port_map[idx as usize];
        let (state, reason) = self.plan.techniques[usize::from(tech)].no_reply;
        let Some(Some(h)) = self.hosts.get_mut(slot as usize) else {
            return;
        };
        let p = &mut h.ports[idx as usize];
        if p.state.is_some() {
            return;
        }
        p.state = Some(state);
        p.reason = reason;
        p.ttl = 0;
        self.silent_resolved += 1;
        self.port_resolved(slot, now);
    }

    /// Expires probes whose deadline passed (retransmitting them or
    /// resolving their ports as unanswered) and hosts past
    /// `--host-timeout`.
    pub fn handle_timeouts(&mut self, now: Instant) {
        self.last_now = now;
        while let Some(&(at, slot, gen)) = self.host_deadlines.front() {
            if at > now {
                break;
            }
            self.host_deadlines.pop_front();
            if matches!(self.hosts.get(slot as usize), Some(Some(h)) if h.gen == gen) {
                self.finish(slot, now, true);
            }
        }
        self.drain_pipe(now);
        self.end_measurements(now);
        let allowed = self.allowed_attempts();
        while let Some(&Reverse((at, key, launch))) = self.deadlines.peek() {
            if at > now {
                break;
            }
            self.deadlines.pop();
            match self.in_flight.get(&key) {
                Some(f) if f.launch == launch => {}
                _ => continue,
            }
            let Some(f) = self.take_in_flight(key) else {
                continue;
            };
            self.cc.on_loss(f.epoch, f.known);
            let (slot, idx) = split(key);
            let (tech, _) = self.port_map[idx as usize];
            let tcp = is_tcp(&self.plan, tech);
            let (sent, paced) = match self.hosts.get_mut(slot as usize) {
                Some(Some(h)) => {
                    if tcp && f.attempt == 0 {
                        h.rst.first_lost = h.rst.first_lost.saturating_add(1);
                    }
                    (h.ports[idx as usize].sent, tcp && h.rst.paced)
                }
                _ => continue,
            };
            if paced {
                self.exhausted(slot, idx, sent, now);
            } else if sent < allowed && !self.stopped {
                self.retransmit.push_back((key, f.gen));
            } else {
                self.exhausted(slot, idx, sent, now);
            }
        }
        self.cc.tick(now, self.global_rtt.srtt());
        if self.deadlines.len() > 4 * self.in_flight.len() + 4096 {
            let live: Vec<_> = self
                .deadlines
                .drain()
                .filter(|Reverse((_, key, launch))| {
                    matches!(self.in_flight.get(key), Some(f) if f.launch == *launch)
                })
                .collect();
            self.deadlines = live.into();
        }
    }

    fn finish(&mut self, slot: u32, now: Instant, timed_out: bool) {
        let Some(mut h) = self.hosts.get_mut(slot as usize).and_then(Option::take) else {
            return;
        };
        self.free.push(slot);
        self.active -= 1;
        self.by_addr.remove(&h.target.addr);
        if h.trickle.is_some() {
            self.trickling.retain(|&(s, _)| s != slot);
        }
        if timed_out || h.left > 0 {
            for (idx, p) in h.ports.iter().enumerate() {
                if p.in_flight {
                    let key = join(slot, idx as u32);
                    if let Some(f) = self.in_flight.remove(&key) {
                        self.unpipe(&f);
                        self.cc.on_void(f.epoch);
                    }
                }
            }
        }
        self.hosts_done += 1;
        let (reason, ttl) = h.answered.unwrap_or((Reason::UserSet, 0));
        let mut r = HostResult::new(h.target.addr, HostStatus::Up, reason);
        r.reason_ttl = ttl;
        if let Some(name) = &h.target.name {
            r.hostnames.push(Hostname {
                name: name.to_string(),
                kind: HostnameKind::User,
            });
        }
        r.latency = h.rtt.srtt();
        r.start_time = self.unix_at(h.started.unwrap_or(now));
        r.end_time = self.unix_at(now);
        r.timed_out = timed_out;
        r.ports = h
            .ports
            .iter()
            .enumerate()
            .filter_map(|(idx, p)| {
                let (tech, port) = self.port_map[idx];
                Some(PortResult {
                    port,
                    protocol: self.plan.techniques[usize::from(tech)].protocol,
                    state: p.state?,
                    reason: p.reason,
                    reason_ttl: p.ttl,
                    service: None,
                })
            })
            .collect();
        r.ports.sort_by_key(|p| (p.port, p.protocol));
        if let (true, Some(t)) = (h.rst.paced, &h.trickle) {
            // The limit as a saturated window measured it, else the resets
            // per second while paced (a little under the limit).
            let secs = now.saturating_duration_since(t.since).as_secs_f64();
            if let Some(m) = h.rst.measured {
                h.rate_limit = Some(m);
            } else if secs >= 1.0 && t.replies > 0 {
                h.rate_limit = Some(f64::from(t.replies) / secs);
            }
        }
        if let Some(rate) = h.rate_limit {
            let tcp = h.rst.paced;
            let unresolved = h
                .ports
                .iter()
                .enumerate()
                .filter(|(idx, p)| {
                    let (tech, _) = self.port_map[*idx];
                    let affected = if tcp {
                        is_tcp(&self.plan, tech)
                    } else {
                        error_signalled(&self.plan, tech)
                    };
                    affected && p.state.is_some() && p.reason == Reason::NoResponse
                })
                .count() as u32;
            r.icmp_rate_limit = Some(IcmpRateLimit {
                protocol: if tcp { Protocol::Tcp } else { Protocol::Udp },
                observed_per_sec: rate,
                unresolved,
                exact: tcp || self.plan.udp_exact,
            });
        }
        self.done.push_back(r);
    }

    fn unix_at(&self, t: Instant) -> u64 {
        let wall = self.plan.start_wall + t.saturating_duration_since(self.start);
        wall.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
    }

    /// The earliest instant something will be due: a deadline, a host
    /// timeout, or the pacing instant of the next probe.
    pub fn next_wakeup(&self) -> Option<Instant> {
        if self.stopped {
            return None;
        }
        let mut w: Option<Instant> = None;
        let mut at = |t: Instant| w = Some(w.map_or(t, |x: Instant| x.min(t)));
        if let Some(Reverse((t, ..))) = self.deadlines.peek() {
            at(*t);
        }
        if let Some(&(t, ..)) = self.host_deadlines.front() {
            at(t);
        }
        for &(slot, gen) in &self.trickling {
            if let Some(Some(h)) = self.hosts.get(slot as usize) {
                if let (true, Some(t)) = (h.gen == gen, &h.trickle) {
                    if t.phase == Phase::Measuring {
                        at(t.since + MEASURE);
                    }
                    if t.phase != Phase::Closed && !t.queue.is_empty() {
                        at(t.next_at);
                    }
                }
            }
        }
        // At the outstanding-probe cap only deadlines free room.
        if self.has_work() && self.in_flight.len() < self.in_flight_cap() {
            // A probe leaving the pipe reopens the window.
            if let Some(&(sent, ..)) = self.pipe.front() {
                at(sent + self.pipe_time());
            }
            if let Some(rate) = self.plan.timing.max_rate {
                if self.tokens < 1.0 && rate > 0.0 {
                    at(self.last_refill
                        + Duration::from_secs_f64((1.0 - self.tokens) / rate)
                        + Duration::from_micros(1));
                }
            }
            if !self.plan.timing.scan_delay.is_zero() {
                at(self.next_send_at);
            }
            if let Some(r) = self.plan.timing.min_rate {
                if r > 0.0 {
                    at(self.start
                        + Duration::from_secs_f64((self.sent as f64 + 1.0) / r)
                        + Duration::from_micros(1));
                }
            }
        }
        w
    }

    /// Whether every port has had its first transmission (the scan only
    /// retransmits and waits from here on).
    pub fn is_draining(&self) -> bool {
        self.stopped
            || (self.group.as_ref().is_none_or(|g| g.next >= g.perm.len())
                && self.next_host >= self.shard_hosts)
    }

    fn has_work(&self) -> bool {
        !self.retransmit.is_empty()
            || !self.deferred.is_empty()
            || !self.repeats.is_empty()
            || self.group.as_ref().is_some_and(|g| g.next < g.perm.len())
            || self.next_host < self.shard_hosts
    }

    /// The next finished host, if any.
    pub fn poll_host(&mut self) -> Option<HostResult> {
        self.done.pop_front()
    }

    /// Whether nothing is left to send or wait for (finished hosts may
    /// still wait in [`poll_host`](Self::poll_host)).
    pub fn is_done(&self) -> bool {
        self.stopped || (self.active == 0 && !self.has_work())
    }

    /// Progress figures as of the last call that passed an instant.
    pub fn progress(&self) -> Progress {
        let ports = self.port_map.len() as u64;
        let total = self.shard_hosts.saturating_sub(self.hosts_skipped) * ports;
        let elapsed = self
            .last_now
            .saturating_duration_since(self.start)
            .as_secs_f64();
        let eta = if self.resolved > 0 && elapsed > 0.0 {
            let per_sec = self.resolved as f64 / elapsed;
            Some(Duration::from_secs_f64(
                (total.saturating_sub(self.resolved) as f64 / per_sec).min(1e9),
            ))
        } else {
            None
        };
        let rate = if self.rate > 0.0 {
            self.rate
        } else if elapsed > 0.0 {
            self.sent as f64 / elapsed
        } else {
            0.0
        };
        Progress {
            probes_sent: self.sent,
            retransmits: self.retransmits,
            ports_resolved: self.resolved,
            ports_total: total,
            hosts_done: self.hosts_done,
            hosts_total: self.shard_hosts,
            rate,
            eta,
            cwnd: self.cc.window(),
            in_flight: self.in_flight.len(),
        }
    }

    /// Stops the scan: nothing more is sent, unfinished hosts are dropped,
    /// finished ones can still be polled.
    pub fn stop(&mut self) {
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
    }

    /// A port ran out of attempts unanswered: it takes its no-reply state,
    /// unless its host's ICMP rate limit is (or is about to be) measured
    /// or paced, which queues it for one more probe.
    fn exhausted(&mut self, slot: u32, idx: u32, sent: u8, now: Instant) {
        let (tech, _) = self.port_map[idx as usize];
        let cap = self.plan.timing.max_retries.saturating_add(1);
        if !self.stopped && is_tcp(&self.plan, tech) {
            if let Some(Some(h)) = self.hosts.get_mut(slot as usize) {
                if let (true, Some(t)) = (h.rst.paced, &mut h.trickle) {
                    if sent < cap.saturating_add(RST_PACE_EXTRA) {
                        t.queue.push_back(idx);
                        return;
                    }
                }
            }
        }
        if !self.stopped && sent < cap && error_signalled(&self.plan, tech) {
            if let Some(Some(h)) = self.hosts.get_mut(slot as usize) {
                match &mut h.trickle {
                    Some(t) if t.phase == Phase::Closed => {}
                    Some(t) => {
                        if t.phase == Phase::Exact {
                            // Unanswered at the current pace: slow down.
                            t.interval = t.interval.mul_f64(1.25).min(EXACT_SLOWEST);
                        }
                        t.queue.push_back(idx);
                        return;
                    }
                    None => {
                        h.silent_exhausted += 1;
                        if h.icmp_errors > 0 && h.silent_exhausted >= SUSPECT_SILENT {
                            // The ports that ran out before suspicion
                            // arose are reopened and queued too.
                            let mut queue = VecDeque::from([idx]);
                            for (i, p) in h.ports.iter_mut().enumerate() {
                                let (t, _) = self.port_map[i];
                                if p.reason == Reason::NoResponse
                                    && p.state.is_some()
                                    && p.sent < cap
                                    && error_signalled(&self.plan, t)
                                {
                                    p.state = None;
                                    queue.push_back(i as u32);
                                }
                            }
                            let reopened = queue.len() as u32 - 1;
                            h.left += reopened;
                            self.resolved = self.resolved.saturating_sub(u64::from(reopened));
                            self.silent_resolved =
                                self.silent_resolved.saturating_sub(u64::from(reopened));
                            h.trickle = Some(Box::new(Trickle {
                                phase: Phase::Measuring,
                                since: now,
                                replies: 0,
                                next_at: now,
                                interval: MEASURE_INTERVAL,
                                base: MEASURE_INTERVAL,
                                queue,
                                window: (now, 0, 0),
                            }));
                            let gen = h.gen;
                            self.trickling.push((slot, gen));
                            return;
                        }
                    }
                }
            }
        }
        self.resolve_silent(slot, idx, now);
    }

    /// Ends the measurements due by `now`: records the rate of hosts that
    /// sent ICMP errors during it, then either resolves their queued ports
    /// or (`--udp-exact`) paces them.
    fn end_measurements(&mut self, now: Instant) {
        let mut closing: Vec<(u32, Vec<u32>)> = Vec::new();
        let exact = self.plan.udp_exact;
        for &(slot, gen) in &self.trickling {
            let Some(Some(h)) = self.hosts.get_mut(slot as usize) else {
                continue;
            };
            if h.gen != gen {
                continue;
            }
            let Some(t) = &mut h.trickle else { continue };
            if t.phase != Phase::Measuring || t.since + MEASURE > now {
                continue;
            }
            let secs = now
                .saturating_duration_since(t.since)
                .as_secs_f64()
                .max(1e-3);
            let rate = f64::from(t.replies) / secs;
            if t.replies > 0 {
                h.rate_limit = Some(rate);
            }
            if exact && t.replies > 0 {
                t.phase = Phase::Exact;
                t.base = Duration::from_secs_f64(1.0 / rate);
                t.interval = t.base.mul_f64(1.05).min(EXACT_SLOWEST);
                t.next_at = now;
            } else {
                t.phase = Phase::Closed;
                closing.push((slot, t.queue.drain(..).collect()));
            }
        }
        for (slot, idxs) in closing {
            for idx in idxs {
                let live = matches!(
                    self.hosts.get(slot as usize),
                    Some(Some(h)) if h.ports[idx as usize].state.is_none()
                        && !h.ports[idx as usize].in_flight
                );
                if live {
                    self.resolve_silent(slot, idx, now);
                }
            }
        }
    }

    /// Starts pacing a host that rate-limits its TCP resets: its TCP ports
    /// that already ran out unanswered are reopened, and every unresolved
    /// one is from now on sent only by [`poll_trickle`](Self::poll_trickle)
    /// at the measured reset rate.
    fn start_rst_pace(&mut self, slot: u32, gen: u32, now: Instant) {
        let Some(Some(h)) = self.hosts.get_mut(slot as usize) else {
            return;
        };
        if h.gen != gen || h.trickle.is_some() || h.rst.paced {
            return;
        }
        let Some(rate) = h.rst.rate() else { return };
        let mut queue = VecDeque::new();
        for (i, p) in h.ports.iter_mut().enumerate() {
            let (t, _) = self.port_map[i];
            if p.reason == Reason::NoResponse && p.state.is_some() && is_tcp(&self.plan, t) {
                p.state = None;
                queue.push_back(i as u32);
            }
        }
        let reopened = queue.len() as u32;
        h.left += reopened;
        self.resolved = self.resolved.saturating_sub(u64::from(reopened));
        self.silent_resolved = self.silent_resolved.saturating_sub(u64::from(reopened));
        let base = Duration::from_secs_f64(1.0 / rate.max(0.2));
        h.rst.paced = true;
        h.rate_limit = Some(rate);
        h.trickle = Some(Box::new(Trickle {
            phase: Phase::Exact,
            since: now,
            replies: 0,
            next_at: now,
            interval: base,
            base,
            queue,
            window: (now, 0, 0),
        }));
        self.trickling.push((slot, gen));
    }

    /// Hands a pending TCP port of a reset-paced host to its pacing queue;
    /// returns whether it did.
    fn divert(&mut self, key: u64, gen: u32) -> bool {
        let (slot, idx) = split(key);
        let (tech, _) = self.port_map[idx as usize];
        if !is_tcp(&self.plan, tech) {
            return false;
        }
        match self.hosts.get_mut(slot as usize) {
            Some(Some(h)) if h.gen == gen && h.rst.paced => match &mut h.trickle {
                Some(t) => {
                    t.queue.push_back(idx);
                    true
                }
                None => false,
            },
            _ => false,
        }
    }

    /// The next due probe of a host being measured or paced.
    fn poll_trickle(&mut self, now: Instant) -> Option<Probe> {
        for i in 0..self.trickling.len() {
            let (slot, gen) = self.trickling[i];
            let Some(Some(h)) = self.hosts.get_mut(slot as usize) else {
                continue;
            };
            if h.gen != gen {
                continue;
            }
            let Some(t) = &mut h.trickle else { continue };
            if t.phase == Phase::Closed || t.next_at > now {
                continue;
            }
            if h.rst.paced {
                rst_window(t, &mut h.rst, now);
            }
            while let Some(idx) = t.queue.pop_front() {
                let p = h.ports[idx as usize];
                if p.state.is_some() || p.in_flight {
                    continue;
                }
                t.window.1 += 1;
                // On schedule, without a catch-up burst after a late poll.
                t.next_at = (t.next_at + t.interval).max(now);
                let key = join(slot, idx);
                return Some(self.launch(now, key, gen));
            }
        }
        None
    }
}

/// Closes a reset-paced host's pacing window when due and adjusts the
/// pace. A window that sent clearly more probes than resets came back
/// ([`RST_SATURATED`]) ran above the host's limit, so its resets per
/// second are the limit itself: the pace drops to just under it and holds
/// for a window. Two unsaturated windows in a row mean the pace may be
/// under the limit (the first estimate, from retransmission rounds, is
/// rough): it probes 25 % faster.
fn rst_window(t: &mut Trickle, ev: &mut RstEvidence, now: Instant) {
    let (start, sent, replies) = t.window;
    let secs = now.saturating_duration_since(start).as_secs_f64();
    if secs
        < RST_WINDOW
            .as_secs_f64()
            .max(20.0 * t.interval.as_secs_f64())
    {
        return;
    }
    t.window = (now, 0, 0);
    if sent < 8 {
        return;
    }
    if f64::from(sent) >= f64::from(replies) * RST_SATURATED {
        let rate = (f64::from(replies) / secs).max(0.2);
        ev.measured = Some(rate);
        ev.held = true;
        t.interval = Duration::from_secs_f64(1.0 / (rate * 0.97));
    } else if ev.held {
        ev.held = false;
    } else if t.queue.len() as u32 > sent {
        // Enough left to be worth a faster pace.
        t.interval = t.interval.div_f64(1.25);
    }
    t.base = t.interval;
}

/// Whether technique `tech` scans TCP ports (and so may be answered by
/// rate-limited resets).
fn is_tcp(plan: &ScanPlan, tech: u8) -> bool {
    plan.techniques
        .get(usize::from(tech))
        .is_some_and(|t| t.protocol == Protocol::Tcp)
}

/// Whether technique `tech` learns closed ports only from ICMP errors
/// (silence meaning open|filtered), so its hosts' ICMP rate limits matter.
fn error_signalled(plan: &ScanPlan, tech: u8) -> bool {
    plan.techniques
        .get(usize::from(tech))
        .is_some_and(|t| t.protocol == Protocol::Udp && t.no_reply.0 == PortState::OpenFiltered)
}

fn burst_for(rate: Option<f64>) -> f64 {
    rate.map_or(1.0, |r| (r / 100.0).clamp(1.0, 256.0))
}

fn join(slot: u32, idx: u32) -> u64 {
    (u64::from(slot) << 32) | u64::from(idx)
}

fn split(key: u64) -> (u32, u32) {
    ((key >> 32) as u32, key as u32)
}

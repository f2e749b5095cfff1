//! What a scan is asked to do, as plain data: the library's input.
//!
//! [`ScanConfig`] is what a Rust program fills in to scan without a
//! command line; the `portolan` binary converts its parsed flags into one.
//! It holds only what the caller chose, unexpanded: port lists and target
//! specifications stay strings, because expanding them needs files, DNS
//! and the interface list, which [`crate::Plan::build`] does. Output files
//! and the terminal are not here: they belong to whoever observes the
//! session (see [`crate::ScanObserver`]). `None` always means "as nmap's
//! default / the timing template says".

use portolan_model::ScanType;
pub use portolan_probes::discovery::PingKind;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything one scan is asked to do (see the module docs).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScanConfig {
    /// The command line (or a description of the request) for output
    /// headers (`portolan -sT -p- 127.0.0.1`).
    pub args_line: String,
    /// Target specifications (nmap syntax), in order.
    pub targets: Vec<String>,
    /// A file of targets (`-` is standard input).
    pub input_list: Option<PathBuf>,
    /// Hosts/networks to skip.
    pub exclude: Vec<String>,
    /// Ports an earlier run of this scan resolved, per host (`--resume`):
    /// the port scan probes only the others (see
    /// [`portolan_engine::ScanPlan::known`]).
    pub known_ports: Option<std::sync::Arc<portolan_engine::KnownPorts>>,
    /// A file of hosts/networks to skip.
    pub exclude_file: Option<PathBuf>,
    /// Scan each address once even if given several times.
    pub unique: bool,
    /// IPv6 scanning (names resolve to IPv6 addresses).
    pub ipv6: bool,
    /// Never resolve names (`-n`).
    pub no_dns: bool,
    /// Reverse-resolve down hosts too (`-R`).
    pub always_dns: bool,
    /// Name servers for reverse lookups instead of `/etc/resolv.conf`'s.
    pub dns_servers: Vec<IpAddr>,
    /// Reverse lookups through the system resolver (getnameinfo).
    pub system_dns: bool,
    /// Scan every address a name resolves to.
    pub resolve_all: bool,
    /// Skip host discovery (`-Pn`).
    pub skip_discovery: bool,
    /// List the targets; send nothing (`-sL`).
    pub list_scan: bool,
    /// Host discovery only, no port scan (`-sn`).
    pub ping_scan: bool,
    /// Discovery probes; empty means the default discovery.
    pub pings: Vec<PingOption>,
    /// ARP / Neighbor Discovery ping (`-PR`).
    pub arp_ping: bool,
    /// No ARP / ND discovery even on a directly connected segment.
    pub disable_arp_ping: bool,
    /// Techniques, without repeats; empty means SYN when privileged, else
    /// connect.
    pub scans: Vec<ScanType>,
    /// TCP flags byte for raw TCP probes (`--scanflags`).
    pub scanflags: Option<u8>,
    /// Port ranges in nmap syntax (`-p`).
    pub ports: Option<String>,
    /// Port ranges to leave out.
    pub exclude_ports: Option<String>,
    /// The 100 most common ports (`-F`).
    pub fast: bool,
    /// The N most common ports.
    pub top_ports: Option<u32>,
    /// Ports in order instead of randomly (`-r`).
    pub sequential_ports: bool,
    /// Timing and performance.
    pub timing: TimingOptions,
    /// Interface and source spoofing.
    pub net: NetOptions,
    /// Permutation seed.
    pub seed: Option<u64>,
    /// The K-th (1-based) of N parts of the scan.
    pub shard: Option<(u32, u32)>,
    /// `--scan-id`: the name the shards of one scan share; without
    /// `--seed` it is where their shared seed comes from.
    pub scan_id: Option<String>,
    /// Raw sockets usable (`Some(true)`), not (`Some(false)`), or probed
    /// (`None`).
    pub privileged: Option<bool>,
    /// Service and version detection.
    pub version: VersionFlags,
    /// Checks (`-sC`, `--script`) and risk hints.
    pub checks: CheckFlags,
    /// OS detection (`-O`).
    pub os: OsFlags,
    /// Verbosity recorded in the outputs' scan information.
    pub verbose: u8,
    /// Debugging level recorded in the outputs' scan information.
    pub debugging: u8,
}

/// One discovery technique the user asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PingOption {
    /// Which probe.
    pub kind: PingKind,
    /// Its ports (port-based kinds; empty means the kind's default port),
    /// in the order given, without repeats.
    pub ports: Vec<u16>,
}

/// SERVICE/VERSION DETECTION flags.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionFlags {
    /// `-sV`: probe open ports.
    pub enabled: bool,
    /// `--version-intensity` (`--version-light` = 2, `--version-all` = 9);
    /// `None` = 7, nmap's default.
    pub intensity: Option<u8>,
    /// `--version-trace`.
    pub trace: bool,
    /// `--allports`.
    pub all_ports: bool,
    /// `--service-db FILE`: probes and matches merged with the built-in ones.
    pub db_file: Option<PathBuf>,
}

/// SCRIPT SCAN flags: which checks run, with what arguments.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckFlags {
    /// `-sC` (or `-A`): the default set of checks.
    pub default_set: bool,
    /// `--script`: names, categories and `all`, comma-separated.
    pub scripts: Option<String>,
    /// `--script-args`: `key=value` pairs, comma-separated.
    pub args: Option<String>,
    /// `--script-timeout`: how long one check may take (default 5 s).
    pub timeout: Option<Duration>,
    /// `--risk-db FILE`: risk table entries read before the built-in ones.
    pub risk_db: Option<PathBuf>,
}

/// OS DETECTION flags.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OsFlags {
    /// `-O` (or `-A`): classify each up host's stack.
    pub enabled: bool,
    /// `--osscan-limit`: only hosts with an open and a closed TCP port
    /// (nmap's "promising targets"); others get no OS answer at all.
    pub limit: bool,
    /// `--osscan-guess` / `--fuzzy`: list close guesses even when none is
    /// sure.
    pub guess: bool,
    /// `--max-os-tries`: tries of OS detection's own probes (default 2).
    pub max_tries: Option<u32>,
    /// `--os-db FILE`: stack entries merged with the built-in ones.
    pub db_file: Option<PathBuf>,
    /// `--os-rto`: time the SYN/ACK retransmissions of hosts nothing
    /// else decided, holding back the kernel's RSTs to them (nftables).
    pub rto: bool,
}

/// TIMING AND PERFORMANCE flags; `None` means "as the template says".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimingOptions {
    /// `-T<0-5>`.
    pub template: Option<u8>,
    /// `--min-rate` in packets per second (> 0).
    pub min_rate: Option<f64>,
    /// `--max-rate` in packets per second (> 0).
    pub max_rate: Option<f64>,
    /// `--max-retries`.
    pub max_retries: Option<u32>,
    /// `--host-timeout`.
    pub host_timeout: Option<Duration>,
    /// `--min-parallelism` (>= 1).
    pub min_parallelism: Option<u32>,
    /// `--max-parallelism` (>= 1).
    pub max_parallelism: Option<u32>,
    /// `--min-rtt-timeout`.
    pub min_rtt_timeout: Option<Duration>,
    /// `--max-rtt-timeout`.
    pub max_rtt_timeout: Option<Duration>,
    /// `--initial-rtt-timeout`.
    pub initial_rtt_timeout: Option<Duration>,
    /// `--scan-delay`.
    pub scan_delay: Option<Duration>,
    /// `--max-scan-delay`.
    pub max_scan_delay: Option<Duration>,
    /// `--min-hostgroup` (>= 1).
    pub min_hostgroup: Option<u32>,
    /// `--max-hostgroup` (>= 1).
    pub max_hostgroup: Option<u32>,
    /// `--udp-exact`: on hosts that rate-limit ICMP, retry unanswered UDP
    /// ports at the host's pace until every closed port is named (slow).
    pub udp_exact: bool,
}

/// FIREWALL/IDS EVASION AND SPOOFING flags about the packets' origin.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetOptions {
    /// `-e`: interface name.
    pub interface: Option<String>,
    /// `-S`: source address.
    pub source_addr: Option<IpAddr>,
    /// `-g`/`--source-port`.
    pub source_port: Option<u16>,
    /// `--ttl`.
    pub ttl: Option<u8>,
}

//! What the command line asked for, as plain data.
//!
//! These structs hold only what the user typed, checked for syntax: port
//! lists, target specifications and file names stay raw strings or paths,
//! because expanding them needs files, DNS or the interface list, which
//! belong to the scanner, not to argument parsing.

use portolan_model::ScanType;
pub use portolan_probes::discovery::PingKind;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything a `portolan` scan command line asked for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Options {
    /// The command line re-joined for output headers
    /// (`portolan -sT -p- 127.0.0.1`).
    pub args_line: String,
    /// Target specifications, raw, in the order given.
    pub targets: Vec<String>,
    /// `-iL`: file of targets (`-` is standard input).
    pub input_list: Option<PathBuf>,
    /// `--exclude`: hosts/networks to skip, split on commas.
    pub exclude: Vec<String>,
    /// `--excludefile`: file of hosts/networks to skip.
    pub exclude_file: Option<PathBuf>,
    /// `--unique`: scan each address once even if given several times.
    pub unique: bool,
    /// `-6`: IPv6 scanning.
    pub ipv6: bool,
    /// `-n`: never resolve names.
    pub no_dns: bool,
    /// `-R`: always reverse-resolve.
    pub always_dns: bool,
    /// `--dns-servers`: name servers for reverse lookups, instead of
    /// those in `/etc/resolv.conf`.
    pub dns_servers: Vec<std::net::IpAddr>,
    /// `--system-dns`: reverse lookups through the system resolver
    /// (getnameinfo), one worker thread per lookup in flight.
    pub system_dns: bool,
    /// `--resolve-all`: scan every address a name resolves to.
    pub resolve_all: bool,
    /// `-Pn`: skip host discovery.
    pub skip_discovery: bool,
    /// `-sL`: list the targets; send nothing.
    pub list_scan: bool,
    /// `-sn`: host discovery only, no port scan.
    pub ping_scan: bool,
    /// `-PE -PP -PM -PS -PA -PU`: discovery probes in the order first
    /// given; empty means the default discovery.
    pub pings: Vec<PingOption>,
    /// `-PR`: ARP (IPv4) / Neighbor Discovery (IPv6) ping.
    pub arp_ping: bool,
    /// `--disable-arp-ping`: no ARP / ND discovery, even on a directly
    /// connected Ethernet segment.
    pub disable_arp_ping: bool,
    /// Techniques in the order given, without repeats; empty means the
    /// default (SYN when privileged, else connect).
    pub scans: Vec<ScanType>,
    /// `--scanflags`: TCP flags byte for raw TCP probes.
    pub scanflags: Option<u8>,
    /// `-p`: port ranges, raw.
    pub ports: Option<String>,
    /// `--exclude-ports`: port ranges, raw.
    pub exclude_ports: Option<String>,
    /// `-F`: fewer ports than the default.
    pub fast: bool,
    /// `--top-ports`: the N most common ports (N >= 1).
    pub top_ports: Option<u32>,
    /// `-r`: scan ports in order instead of randomly.
    pub sequential_ports: bool,
    /// Timing and performance.
    pub timing: TimingOptions,
    /// Output files and verbosity.
    pub output: OutputOptions,
    /// Interface and source spoofing.
    pub net: NetOptions,
    /// `--seed`: permutation seed.
    pub seed: Option<u64>,
    /// `--shard K/N`: the K-th (1-based) of N parts.
    pub shard: Option<(u32, u32)>,
    /// `--privileged` = `Some(true)`, `--unprivileged` = `Some(false)`
    /// (the last one given wins).
    pub privileged: Option<bool>,
    /// `--noninteractive`: no keyboard interaction.
    pub noninteractive: bool,
    /// SERVICE/VERSION DETECTION.
    pub version: VersionFlags,
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

/// OUTPUT flags. A path of `-` means standard output.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutputOptions {
    /// `-oN` (or `-oA`'s `.nmap`).
    pub normal: Option<PathBuf>,
    /// `-oX` (or `-oA`'s `.xml`).
    pub xml: Option<PathBuf>,
    /// `-oG` (or `-oA`'s `.gnmap`).
    pub grepable: Option<PathBuf>,
    /// `-oJ`.
    pub json: Option<PathBuf>,
    /// `-v` level.
    pub verbose: u8,
    /// `-d` level.
    pub debug: u8,
    /// `--reason`.
    pub reason: bool,
    /// `--open`.
    pub open_only: bool,
    /// `--stats-every`.
    pub stats_every: Option<Duration>,
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

//! What the command line asked for, as plain data.
//!
//! These structs hold only what the user typed, checked for syntax: port
//! lists, target specifications and file names stay raw strings or paths,
//! because expanding them needs files, DNS or the interface list, which
//! belong to the scanner, not to argument parsing.

use portolan_model::ScanType;
pub use portolan_session::config::{
    CheckFlags, NetOptions, OsFlags, PingKind, PingOption, TimingOptions, VersionFlags,
};
use portolan_session::ScanConfig;
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
    /// `--scan-id NAME`: the name the shards of one scan share.
    pub scan_id: Option<String>,
    /// `--privileged` = `Some(true)`, `--unprivileged` = `Some(false)`
    /// (the last one given wins).
    pub privileged: Option<bool>,
    /// `--noninteractive`: no keyboard interaction.
    pub noninteractive: bool,
    /// SERVICE/VERSION DETECTION.
    pub version: VersionFlags,
    /// SCRIPT SCAN.
    pub checks: CheckFlags,
    /// OS DETECTION.
    pub os: OsFlags,
    /// `--history`: the store to record the scan in (a file or a
    /// `postgres://` URL); `None` is the default store.
    pub history: Option<String>,
    /// `--no-history`: record nothing.
    pub no_history: bool,
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
    /// `-oH`: the HTML report (a file; never standard output).
    pub html: Option<PathBuf>,
    /// `--live`: each open port on standard error as soon as its host's
    /// ports are known.
    pub live: bool,
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

impl Options {
    /// The scan these options ask for, as the session library's
    /// configuration: everything but the output files and the terminal,
    /// which the binary keeps.
    pub fn scan_config(&self) -> ScanConfig {
        ScanConfig {
            args_line: self.args_line.clone(),
            targets: self.targets.clone(),
            input_list: self.input_list.clone(),
            exclude: self.exclude.clone(),
            exclude_file: self.exclude_file.clone(),
            known_ports: None,
            unique: self.unique,
            ipv6: self.ipv6,
            no_dns: self.no_dns,
            always_dns: self.always_dns,
            dns_servers: self.dns_servers.clone(),
            system_dns: self.system_dns,
            resolve_all: self.resolve_all,
            skip_discovery: self.skip_discovery,
            list_scan: self.list_scan,
            ping_scan: self.ping_scan,
            pings: self.pings.clone(),
            arp_ping: self.arp_ping,
            disable_arp_ping: self.disable_arp_ping,
            scans: self.scans.clone(),
            scanflags: self.scanflags,
            ports: self.ports.clone(),
            exclude_ports: self.exclude_ports.clone(),
            fast: self.fast,
            top_ports: self.top_ports,
            sequential_ports: self.sequential_ports,
            timing: self.timing.clone(),
            net: self.net.clone(),
            seed: self.seed,
            shard: self.shard,
            privileged: self.privileged,
            version: self.version.clone(),
            checks: self.checks.clone(),
            os: self.os.clone(),
            scan_id: self.scan_id.clone(),
            verbose: self.output.verbose,
            debugging: self.output.debug,
        }
    }
}

//! The flag table: one definition per flag.
//!
//! Like ripgrep's `flags/defs.rs`, every flag is one [`Flag`] row, and that
//! row alone feeds the parser (names, how the value is taken, what it sets),
//! `--help` (group, placeholder, text) and, later, the man page and shell
//! completions. Adding a flag is adding a row; there is no second list to
//! keep in step. A row's `available` column lets a flag exist in the
//! interface before its feature does: the parser rejects it by name rather
//! than ignoring it.

use super::diff::{self, DiffFormat, DiffOptions};
use super::history::{self, HistoryOptions, ImportOptions};
use super::local::{self, LocalOptions};
use super::report::ReportOptions;
use super::subcommand::{Subcommand, DIFF, HISTORY, IMPORT, LOCAL, REPORT, SCAN};
use super::values::{self, required};
use super::{CliError, Command, Options, PingKind, PingOption, ScanType};
use std::path::PathBuf;

/// How a flag takes its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// No value (`-n`, `--open`). After a one-dash name more short flags
    /// may follow in the same argument (`-nR`).
    Switch,
    /// A scan letter of nmap's `-s` family; letters after it are more scan
    /// types (`-sSU` is `-sS -sU`).
    ScanLetter,
    /// A required value: attached (`-p22`, `--top-ports=10`) or the next
    /// argument taken verbatim (`-p 22`, `-oN -`). The string is the help
    /// placeholder.
    Required(&'static str),
    /// An optional value that can only be attached (`-PS22,80`), as in
    /// nmap's `-P` probes. The string is the help placeholder.
    Attached(&'static str),
    /// A level: each repeat adds one (`-vv`), attached digits set it
    /// (`-v3`).
    Level,
}

/// A `--help` section, in nmap's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// TARGET SPECIFICATION.
    Target,
    /// HOST DISCOVERY.
    HostDiscovery,
    /// SCAN TECHNIQUES.
    ScanTypes,
    /// PORT SPECIFICATION AND SCAN ORDER.
    Ports,
    /// SERVICE/VERSION DETECTION.
    Service,
    /// SCRIPT SCAN.
    Script,
    /// OS DETECTION.
    Os,
    /// TIMING AND PERFORMANCE.
    Timing,
    /// FIREWALL/IDS EVASION AND SPOOFING.
    Evasion,
    /// OUTPUT.
    Output,
    /// MISC.
    Misc,
    /// `portolan local`: which sockets.
    LocalSelect,
    /// `portolan local`: how they are shown.
    LocalOutput,
    /// `portolan diff`'s options.
    Diff,
    /// `portolan history`'s and `portolan import`'s options.
    History,
    /// `portolan report`: where the report goes.
    ReportOutput,
}

impl Group {
    /// Every group, in help order.
    pub const ALL: [Group; 16] = [
        Group::Target,
        Group::HostDiscovery,
        Group::ScanTypes,
        Group::Ports,
        Group::Service,
        Group::Script,
        Group::Os,
        Group::Timing,
        Group::Evasion,
        Group::Output,
        Group::Misc,
        Group::LocalSelect,
        Group::LocalOutput,
        Group::Diff,
        Group::History,
        Group::ReportOutput,
    ];

    /// The heading as nmap prints it, without the colon.
    pub fn heading(self) -> &'static str {
        match self {
            Group::Target => "TARGET SPECIFICATION",
            Group::HostDiscovery => "HOST DISCOVERY",
            Group::ScanTypes => "SCAN TECHNIQUES",
            Group::Ports => "PORT SPECIFICATION AND SCAN ORDER",
            Group::Service => "SERVICE/VERSION DETECTION",
            Group::Script => "SCRIPT SCAN",
            Group::Os => "OS DETECTION",
            Group::Timing => "TIMING AND PERFORMANCE",
            Group::Evasion => "FIREWALL/IDS EVASION AND SPOOFING",
            Group::Output => "OUTPUT",
            Group::Misc => "MISC",
            Group::LocalSelect => "SOCKET SELECTION",
            Group::LocalOutput | Group::ReportOutput => "OUTPUT",
            Group::Diff | Group::History => "OPTIONS",
        }
    }

    /// Lines printed under the heading before the flags.
    pub fn intro(self) -> &'static [&'static str] {
        match self {
            Group::Target => &[
                "Can pass hostnames, IP addresses, networks, etc.",
                "Ex: scanme.example, 198.18.0.0/24, 198.18.0-255.1-254, 2001:2::1",
            ],
            Group::Timing => &[
                "Options which take <time> are in seconds, or append 'ms' (milliseconds),",
                "'s' (seconds), 'm' (minutes), or 'h' (hours) to the value (e.g. 30m).",
            ],
            _ => &[],
        }
    }
}

/// What applying a flag does to the parse in progress.
pub(crate) struct Builder {
    /// The subcommand whose rows are being read.
    pub cmd: Subcommand,
    /// The options gathered so far.
    pub opts: Options,
    /// `portolan local`'s options gathered so far.
    pub local: LocalOptions,
    /// `portolan diff`'s options gathered so far.
    pub diff: DiffOptions,
    /// `portolan history`'s options gathered so far.
    pub history: HistoryOptions,
    /// `portolan import`'s options gathered so far.
    pub import: ImportOptions,
    /// `portolan report`'s options gathered so far.
    pub report: ReportOptions,
    /// Set by `-h`/`-V`: stop and return this command.
    pub early: Option<Command>,
}

impl Builder {
    /// An empty builder for `cmd`, starting from `opts`.
    pub(crate) fn new(cmd: Subcommand, opts: Options) -> Self {
        Builder {
            cmd,
            opts,
            local: LocalOptions::default(),
            diff: DiffOptions::default(),
            history: HistoryOptions::default(),
            import: ImportOptions::default(),
            report: ReportOptions::default(),
            early: None,
        }
    }
}

/// A flag's effect: the builder, the flag as typed (for errors) and its
/// value (`None` for switches, an absent optional value, or a level
/// increment).
type Apply = fn(&mut Builder, &str, Option<&str>) -> Result<(), CliError>;

/// One row of the flag table.
#[derive(Clone, Copy)]
pub struct Flag {
    /// Name typed after one dash, value attachable (`p`, `sS`, `oX`).
    pub short: Option<&'static str>,
    /// Name typed after one or two dashes, value after `=` or as the next
    /// argument (`top-ports`).
    pub long: Option<&'static str>,
    /// How the value is taken.
    pub value: ValueKind,
    /// Help section.
    pub group: Group,
    /// The subcommands the flag belongs to (every nmap-style flag:
    /// [`Subcommand::Scan`]).
    pub commands: &'static [Subcommand],
    /// One-line help text.
    pub help: &'static str,
    /// False for flags whose feature is not built yet; the parser rejects
    /// them with "not yet supported".
    pub available: bool,
    /// What the flag sets.
    pub(crate) apply: Apply,
}

impl std::fmt::Debug for Flag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flag")
            .field("short", &self.short)
            .field("long", &self.long)
            .field("value", &self.value)
            .field("commands", &self.commands)
            .field("available", &self.available)
            .finish_non_exhaustive()
    }
}

impl Flag {
    /// How the flag is written in help, e.g. `-g/--source-port <portnum>`,
    /// `-PS[portlist]`, `-T<0-5>`.
    pub fn usage(&self) -> String {
        let mut names: Vec<String> = Vec::new();
        names.extend(self.short.map(|s| format!("-{s}")));
        names.extend(self.long.map(|l| format!("--{l}")));
        let mut usage = names.join("/");
        match self.value {
            ValueKind::Switch | ValueKind::ScanLetter | ValueKind::Level => {}
            // A one-letter short flag whose value reads as part of the name.
            ValueKind::Required(meta) if self.short == Some("T") => usage.push_str(meta),
            ValueKind::Required(meta) => {
                usage.push(' ');
                usage.push_str(meta);
            }
            ValueKind::Attached(meta) => usage.push_str(meta),
        }
        usage
    }
}

/// The table that defines every flag.
pub fn table() -> &'static [Flag] {
    FLAGS
}

/// A row, in table order: short name, long name, value kind, group,
/// subcommands, available, help, effect.
#[allow(clippy::too_many_arguments)]
const fn flag(
    short: Option<&'static str>,
    long: Option<&'static str>,
    value: ValueKind,
    group: Group,
    commands: &'static [Subcommand],
    available: bool,
    help: &'static str,
    apply: Apply,
) -> Flag {
    Flag {
        short,
        long,
        value,
        group,
        commands,
        help,
        available,
        apply,
    }
}

/// Effect of a flag whose feature does not exist yet. Never reached while
/// the row says `available: false`; kept so a row always has an effect.
fn unsupported(_: &mut Builder, flag: &str, _: Option<&str>) -> Result<(), CliError> {
    Err(CliError::NotSupported(flag.to_owned()))
}

/// Adds a discovery probe (or more ports to one already chosen).
fn ping(b: &mut Builder, kind: PingKind, flag: &str, v: Option<&str>) -> Result<(), CliError> {
    let ports = match v {
        Some(list) => values::port_list(flag, list)?,
        None => Vec::new(),
    };
    let pings = &mut b.opts.pings;
    let entry = match pings.iter().position(|p| p.kind == kind) {
        Some(i) => &mut pings[i],
        None => {
            pings.push(PingOption {
                kind,
                ports: Vec::new(),
            });
            pings.last_mut().expect("just pushed")
        }
    };
    for p in ports {
        if !entry.ports.contains(&p) {
            entry.ports.push(p);
        }
    }
    Ok(())
}

/// Adds a scan technique unless already chosen.
fn scan(b: &mut Builder, t: ScanType) -> Result<(), CliError> {
    if !b.opts.scans.contains(&t) {
        b.opts.scans.push(t);
    }
    Ok(())
}

/// A non-empty path value.
fn path(flag: &str, v: Option<&str>) -> Result<PathBuf, CliError> {
    Ok(PathBuf::from(nonempty(flag, v, "a file name")?))
}

/// A non-empty raw value.
fn nonempty<'a>(
    flag: &str,
    v: Option<&'a str>,
    expected: &'static str,
) -> Result<&'a str, CliError> {
    let v = required(flag, v)?;
    if v.is_empty() {
        return Err(CliError::invalid(flag, v, expected));
    }
    Ok(v)
}

/// Sets a port list that nmap allows only once ("separate multiple ranges
/// with commas"), so a second one is an error rather than a silent
/// override.
fn once(slot: &mut Option<String>, flag: &str, value: &str) -> Result<(), CliError> {
    if slot.is_some() {
        return Err(CliError::Conflict(format!(
            "only one {flag} option is allowed; separate multiple ranges with commas"
        )));
    }
    *slot = Some(value.to_owned());
    Ok(())
}

/// A level flag: `None` adds one, digits set it.
fn level(current: &mut u8, flag: &str, v: Option<&str>) -> Result<(), CliError> {
    match v {
        None => *current = current.saturating_add(1),
        Some(digits) => *current = values::uint(flag, digits, "a level 0-255")?,
    }
    Ok(())
}

use Group as G;
use ValueKind as V;

const PORT_RANGES: V = V::Required("<port ranges>");
const TIME: V = V::Required("<time>");

#[rustfmt::skip]
static FLAGS: &[Flag] = &[
    // TARGET SPECIFICATION
    flag(Some("iL"), None, V::Required("<inputfilename>"), G::Target, SCAN, true,
        "Input from list of hosts/networks ('-' for standard input)",
        |b, f, v| { b.opts.input_list = Some(path(f, v)?); Ok(()) }),
    flag(None, Some("exclude"), V::Required("<host1[,host2][,host3],...>"), G::Target, SCAN, true,
        "Exclude hosts/networks",
        |b, f, v| {
            let v = required(f, v)?;
            // Commas also separate octet lists (198.18.0,1,3-7.-), which
            // the target crate's splitter keeps together.
            let hosts = portolan_targets::split_exclude_list(v);
            if hosts.is_empty() {
                return Err(CliError::invalid(f, v, "a comma-separated list of hosts/networks"));
            }
            b.opts.exclude.extend(hosts);
            Ok(())
        }),
    flag(None, Some("excludefile"), V::Required("<exclude_file>"), G::Target, SCAN, true,
        "Exclude list from file",
        |b, f, v| { b.opts.exclude_file = Some(path(f, v)?); Ok(()) }),
    flag(None, Some("unique"), V::Switch, G::Target, SCAN, true,
        "Scan each address only once, even if it is given more than once",
        |b, _, _| { b.opts.unique = true; Ok(()) }),
    flag(Some("6"), None, V::Switch, G::Target, SCAN, true,
        "Enable IPv6 scanning",
        |b, _, _| { b.opts.ipv6 = true; Ok(()) }),
    // HOST DISCOVERY
    flag(Some("sL"), None, V::ScanLetter, G::HostDiscovery, SCAN, true,
        "List Scan - simply list targets to scan",
        |b, _, _| { b.opts.list_scan = true; Ok(()) }),
    flag(Some("sn"), None, V::ScanLetter, G::HostDiscovery, SCAN, true,
        "Ping Scan - disable port scan",
        |b, _, _| { b.opts.ping_scan = true; Ok(()) }),
    flag(Some("Pn"), None, V::Switch, G::HostDiscovery, SCAN, true,
        "Treat all hosts as online -- skip host discovery",
        |b, _, _| { b.opts.skip_discovery = true; Ok(()) }),
    flag(Some("PS"), None, V::Attached("[portlist]"), G::HostDiscovery, SCAN, true,
        "TCP SYN discovery to given ports", |b, f, v| ping(b, PingKind::TcpSyn, f, v)),
    flag(Some("PA"), None, V::Attached("[portlist]"), G::HostDiscovery, SCAN, true,
        "TCP ACK discovery to given ports", |b, f, v| ping(b, PingKind::TcpAck, f, v)),
    flag(Some("PU"), None, V::Attached("[portlist]"), G::HostDiscovery, SCAN, true,
        "UDP discovery to given ports", |b, f, v| ping(b, PingKind::Udp, f, v)),
    flag(Some("PY"), None, V::Attached("[portlist]"), G::HostDiscovery, SCAN, true,
        "SCTP discovery to given ports", |b, f, v| ping(b, PingKind::SctpInit, f, v)),
    flag(Some("PE"), None, V::Switch, G::HostDiscovery, SCAN, true,
        "ICMP echo request discovery probe", |b, f, v| ping(b, PingKind::Echo, f, v)),
    flag(Some("PP"), None, V::Switch, G::HostDiscovery, SCAN, true,
        "ICMP timestamp request discovery probe", |b, f, v| ping(b, PingKind::Timestamp, f, v)),
    flag(Some("PM"), None, V::Switch, G::HostDiscovery, SCAN, true,
        "ICMP netmask request discovery probe", |b, f, v| ping(b, PingKind::AddressMask, f, v)),
    flag(Some("PR"), None, V::Switch, G::HostDiscovery, SCAN, true,
        "ARP ping discovery on the local network",
        |b, _, _| { b.opts.arp_ping = true; Ok(()) }),
    flag(None, Some("disable-arp-ping"), V::Switch, G::HostDiscovery, SCAN, true,
        "No ARP or ND ping discovery",
        |b, _, _| { b.opts.disable_arp_ping = true; Ok(()) }),
    flag(Some("n"), None, V::Switch, G::HostDiscovery, SCAN, true,
        "Never do DNS resolution",
        |b, _, _| { b.opts.no_dns = true; Ok(()) }),
    flag(Some("R"), None, V::Switch, G::HostDiscovery, SCAN, true,
        "Always resolve [default: sometimes]",
        |b, _, _| { b.opts.always_dns = true; Ok(()) }),
    flag(None, Some("resolve-all"), V::Switch, G::HostDiscovery, SCAN, true,
        "If a hostname resolves to several addresses, scan them all",
        |b, _, _| { b.opts.resolve_all = true; Ok(()) }),
    flag(None, Some("dns-servers"), V::Required("<serv1[,serv2],...>"), G::HostDiscovery, SCAN, true,
        "Specify custom DNS servers",
        |b, f, v| { b.opts.dns_servers = values::addr_list(f, required(f, v)?)?; Ok(()) }),
    flag(None, Some("system-dns"), V::Switch, G::HostDiscovery, SCAN, true,
        "Use OS's DNS resolver",
        |b, _, _| { b.opts.system_dns = true; Ok(()) }),
    // SCAN TECHNIQUES
    flag(Some("sS"), None, V::ScanLetter, G::ScanTypes, SCAN, true,
        "TCP SYN scan", |b, _, _| scan(b, ScanType::Syn)),
    flag(Some("sT"), None, V::ScanLetter, G::ScanTypes, SCAN, true,
        "TCP connect() scan", |b, _, _| scan(b, ScanType::Connect)),
    flag(Some("sA"), None, V::ScanLetter, G::ScanTypes, SCAN, true,
        "TCP ACK scan", |b, _, _| scan(b, ScanType::Ack)),
    flag(Some("sW"), None, V::ScanLetter, G::ScanTypes, SCAN, true,
        "TCP Window scan", |b, _, _| scan(b, ScanType::Window)),
    flag(Some("sM"), None, V::ScanLetter, G::ScanTypes, SCAN, true,
        "TCP Maimon scan", |b, _, _| scan(b, ScanType::Maimon)),
    flag(Some("sU"), None, V::ScanLetter, G::ScanTypes, SCAN, true,
        "UDP Scan", |b, _, _| scan(b, ScanType::Udp)),
    flag(Some("sN"), None, V::ScanLetter, G::ScanTypes, SCAN, true,
        "TCP Null scan", |b, _, _| scan(b, ScanType::Null)),
    flag(Some("sF"), None, V::ScanLetter, G::ScanTypes, SCAN, true,
        "TCP FIN scan", |b, _, _| scan(b, ScanType::Fin)),
    flag(Some("sX"), None, V::ScanLetter, G::ScanTypes, SCAN, true,
        "TCP Xmas scan", |b, _, _| scan(b, ScanType::Xmas)),
    flag(None, Some("scanflags"), V::Required("<flags>"), G::ScanTypes, SCAN, true,
        "Customize TCP scan flags: names (URGACKPSHRSTSYNFIN) in any order or a number 0-255",
        |b, f, v| { b.opts.scanflags = Some(values::scanflags(f, required(f, v)?)?); Ok(()) }),
    flag(Some("sY"), None, V::ScanLetter, G::ScanTypes, SCAN, true,
        "SCTP INIT scan", |b, _, _| scan(b, ScanType::SctpInit)),
    // PORT SPECIFICATION AND SCAN ORDER
    flag(Some("p"), None, PORT_RANGES, G::Ports, SCAN, true,
        "Only scan specified ports (Ex: -p22; -p1-65535; -p-; -p U:53,T:21-25,80)",
        |b, f, v| once(&mut b.opts.ports, f, nonempty(f, v, "port ranges")?)),
    flag(None, Some("exclude-ports"), PORT_RANGES, G::Ports, SCAN, true,
        "Exclude the specified ports from scanning",
        |b, f, v| once(&mut b.opts.exclude_ports, f, nonempty(f, v, "port ranges")?)),
    flag(Some("F"), None, V::Switch, G::Ports, SCAN, true,
        "Fast mode - Scan fewer ports than the default scan",
        |b, _, _| { b.opts.fast = true; Ok(()) }),
    flag(Some("r"), None, V::Switch, G::Ports, SCAN, true,
        "Scan ports sequentially - don't randomize",
        |b, _, _| { b.opts.sequential_ports = true; Ok(()) }),
    flag(None, Some("top-ports"), V::Required("<number>"), G::Ports, SCAN, true,
        "Scan <number> most common ports",
        |b, f, v| {
            b.opts.top_ports = Some(values::positive(f, required(f, v)?, "a positive number")?);
            Ok(())
        }),
    // SERVICE/VERSION DETECTION
    flag(Some("sV"), None, V::ScanLetter, G::Service, SCAN, true,
        "Probe open ports to determine service/version info",
        |b, _, _| { b.opts.version.enabled = true; Ok(()) }),
    flag(None, Some("version-intensity"), V::Required("<level>"), G::Service, SCAN, true,
        "Set from 0 (light) to 9 (try all probes)",
        |b, f, v| {
            let v = required(f, v)?;
            let level: u8 = values::uint(f, v, "a level from 0 to 9")?;
            if level > 9 {
                return Err(CliError::invalid(f, v, "a level from 0 to 9"));
            }
            b.opts.version.intensity = Some(level);
            Ok(())
        }),
    flag(None, Some("version-light"), V::Switch, G::Service, SCAN, true,
        "Limit to most likely probes (intensity 2)",
        |b, _, _| { b.opts.version.intensity = Some(2); Ok(()) }),
    flag(None, Some("version-all"), V::Switch, G::Service, SCAN, true,
        "Try every single probe (intensity 9)",
        |b, _, _| { b.opts.version.intensity = Some(9); Ok(()) }),
    flag(None, Some("version-trace"), V::Switch, G::Service, SCAN, true,
        "Show detailed version scan activity (for debugging)",
        |b, _, _| { b.opts.version.trace = true; Ok(()) }),
    flag(None, Some("allports"), V::Switch, G::Service, SCAN, true,
        "Don't exclude any ports from version detection",
        |b, _, _| { b.opts.version.all_ports = true; Ok(()) }),
    flag(None, Some("service-db"), V::Required("<file>"), G::Service, SCAN, true,
        "Add the probes and matches of <file> (format: docs/service-db.md) to the built-in database",
        |b, f, v| { b.opts.version.db_file = Some(path(f, v)?); Ok(()) }),
    // SCRIPT SCAN
    flag(Some("sC"), None, V::ScanLetter, G::Script, SCAN, true,
        "equivalent to --script=default (every safe check)",
        |b, _, _| { b.opts.checks.default_set = true; Ok(()) }),
    flag(None, Some("script"), V::Required("<scripts>"), G::Script, SCAN, true,
        "Run these checks: comma-separated names, categories (default, safe, auth, intrusive) or all",
        |b, f, v| {
            let v = required(f, v)?;
            portolan_checks::Selection::parse(v)
                .map_err(|e| CliError::Conflict(portolan_targets::escape_text(&e.to_string())))?;
            b.opts.checks.scripts = Some(match b.opts.checks.scripts.take() {
                Some(prev) => format!("{prev},{v}"),
                None => v.to_string(),
            });
            Ok(())
        }),
    flag(None, Some("script-args"), V::Required("<n1=v1,[n2=v2,...]>"), G::Script, SCAN, true,
        "provide arguments to the checks (snmp.community=...)",
        |b, f, v| {
            let v = required(f, v)?;
            portolan_checks::ScriptArgs::parse(v)
                .map_err(|e| CliError::Conflict(portolan_targets::escape_text(&e)))?;
            b.opts.checks.args = Some(v.to_string());
            Ok(())
        }),
    flag(None, Some("script-timeout"), TIME, G::Script, SCAN, true,
        "Give up on one check after this long (default 5s)",
        |b, f, v| { b.opts.checks.timeout = Some(values::duration(f, required(f, v)?)?); Ok(()) }),
    flag(None, Some("risk-db"), V::Required("<file>"), G::Script, SCAN, true,
        "Add the risk table entries of <file> (format: the header of crates/checks/data/risk.txt)",
        |b, f, v| { b.opts.checks.risk_db = Some(path(f, v)?); Ok(()) }),
    // OS DETECTION
    flag(Some("O"), None, V::Switch, G::Os, SCAN, true,
        "Enable OS detection",
        |b, _, _| { b.opts.os.enabled = true; Ok(()) }),
    flag(None, Some("osscan-limit"), V::Switch, G::Os, SCAN, true,
        "Limit OS detection to promising targets (an open and a closed TCP port)",
        |b, _, _| { b.opts.os.limit = true; Ok(()) }),
    flag(None, Some("osscan-guess"), V::Switch, G::Os, SCAN, true,
        "Guess OS more aggressively",
        |b, _, _| { b.opts.os.guess = true; Ok(()) }),
    flag(None, Some("fuzzy"), V::Switch, G::Os, SCAN, true,
        "Same as --osscan-guess",
        |b, _, _| { b.opts.os.guess = true; Ok(()) }),
    flag(None, Some("max-os-tries"), V::Required("<num>"), G::Os, SCAN, true,
        "Most rounds of OS detection's own probes against one target (default 2)",
        |b, f, v| {
            b.opts.os.max_tries = Some(values::positive(f, required(f, v)?, "a number of tries")?);
            Ok(())
        }),
    flag(None, Some("os-db"), V::Required("<file>"), G::Os, SCAN, true,
        "Add the stack entries of <file> (format: docs/os-detection.md)",
        |b, f, v| { b.opts.os.db_file = Some(path(f, v)?); Ok(()) }),
    flag(None, Some("os-rto"), V::Switch, G::Os, SCAN, true,
        "Time SYN/ACK retransmissions of undecided hosts (holds back RSTs with nftables; CAP_NET_ADMIN)",
        |b, _, _| { b.opts.os.rto = true; Ok(()) }),
    // TIMING AND PERFORMANCE
    flag(Some("T"), None, V::Required("<0-5>"), G::Timing, SCAN, true,
        "Set timing template (higher is faster; or paranoid, sneaky, polite, normal, \
         aggressive, insane); each template's values are documented in the README",
        |b, f, v| {
            b.opts.timing.template = Some(values::timing_template(f, required(f, v)?)?);
            Ok(())
        }),
    flag(None, Some("min-hostgroup"), V::Required("<size>"), G::Timing, SCAN, true,
        "Parallel host scan group size: at least <size> hosts",
        |b, f, v| {
            b.opts.timing.min_hostgroup = Some(values::positive(f, required(f, v)?, "a positive number")?);
            Ok(())
        }),
    flag(None, Some("max-hostgroup"), V::Required("<size>"), G::Timing, SCAN, true,
        "Parallel host scan group size: at most <size> hosts",
        |b, f, v| {
            b.opts.timing.max_hostgroup = Some(values::positive(f, required(f, v)?, "a positive number")?);
            Ok(())
        }),
    flag(None, Some("min-parallelism"), V::Required("<numprobes>"), G::Timing, SCAN, true,
        "Probe parallelization: at least <numprobes> outstanding",
        |b, f, v| {
            b.opts.timing.min_parallelism = Some(values::positive(f, required(f, v)?, "a positive number")?);
            Ok(())
        }),
    flag(None, Some("max-parallelism"), V::Required("<numprobes>"), G::Timing, SCAN, true,
        "Probe parallelization: at most <numprobes> outstanding",
        |b, f, v| {
            b.opts.timing.max_parallelism = Some(values::positive(f, required(f, v)?, "a positive number")?);
            Ok(())
        }),
    flag(None, Some("min-rtt-timeout"), TIME, G::Timing, SCAN, true,
        "Lower bound of probe round trip time",
        |b, f, v| { b.opts.timing.min_rtt_timeout = Some(values::duration(f, required(f, v)?)?); Ok(()) }),
    flag(None, Some("max-rtt-timeout"), TIME, G::Timing, SCAN, true,
        "Upper bound of probe round trip time",
        |b, f, v| { b.opts.timing.max_rtt_timeout = Some(values::duration(f, required(f, v)?)?); Ok(()) }),
    flag(None, Some("initial-rtt-timeout"), TIME, G::Timing, SCAN, true,
        "Probe round trip time to assume before any is measured",
        |b, f, v| { b.opts.timing.initial_rtt_timeout = Some(values::duration(f, required(f, v)?)?); Ok(()) }),
    flag(None, Some("max-retries"), V::Required("<tries>"), G::Timing, SCAN, true,
        "Caps number of port scan probe retransmissions",
        |b, f, v| {
            b.opts.timing.max_retries = Some(values::uint(f, required(f, v)?, "a number of retries")?);
            Ok(())
        }),
    flag(None, Some("udp-exact"), V::Switch, G::Timing, SCAN, true,
        "UDP: on hosts that rate-limit ICMP, retry at their pace to name every closed port (slow: ~ports/rate s)",
        |b, _, _| { b.opts.timing.udp_exact = true; Ok(()) }),
    flag(None, Some("host-timeout"), TIME, G::Timing, SCAN, true,
        "Give up on target after this long",
        |b, f, v| { b.opts.timing.host_timeout = Some(values::duration(f, required(f, v)?)?); Ok(()) }),
    flag(None, Some("scan-delay"), TIME, G::Timing, SCAN, true,
        "Adjust delay between probes (lower bound)",
        |b, f, v| { b.opts.timing.scan_delay = Some(values::duration(f, required(f, v)?)?); Ok(()) }),
    flag(None, Some("max-scan-delay"), TIME, G::Timing, SCAN, true,
        "Adjust delay between probes (upper bound)",
        |b, f, v| { b.opts.timing.max_scan_delay = Some(values::duration(f, required(f, v)?)?); Ok(()) }),
    flag(None, Some("min-rate"), V::Required("<number>"), G::Timing, SCAN, true,
        "Send packets no slower than <number> per second",
        |b, f, v| { b.opts.timing.min_rate = Some(values::rate(f, required(f, v)?)?); Ok(()) }),
    flag(None, Some("max-rate"), V::Required("<number>"), G::Timing, SCAN, true,
        "Send packets no faster than <number> per second",
        |b, f, v| { b.opts.timing.max_rate = Some(values::rate(f, required(f, v)?)?); Ok(()) }),
    // FIREWALL/IDS EVASION AND SPOOFING
    flag(Some("S"), None, V::Required("<IP_Address>"), G::Evasion, SCAN, true,
        "Spoof source address",
        |b, f, v| {
            let v = required(f, v)?;
            let addr = v.parse().map_err(|_| CliError::invalid(f, v, "an IPv4 or IPv6 address"))?;
            b.opts.net.source_addr = Some(addr);
            Ok(())
        }),
    flag(Some("e"), None, V::Required("<iface>"), G::Evasion, SCAN, true,
        "Use specified interface",
        |b, f, v| { b.opts.net.interface = Some(nonempty(f, v, "an interface name")?.to_owned()); Ok(()) }),
    flag(Some("g"), Some("source-port"), V::Required("<portnum>"), G::Evasion, SCAN, true,
        "Use given port number",
        |b, f, v| {
            b.opts.net.source_port = Some(values::uint(f, required(f, v)?, "a port number 0-65535")?);
            Ok(())
        }),
    flag(None, Some("ttl"), V::Required("<val>"), G::Evasion, SCAN, true,
        "Set IP time-to-live field",
        |b, f, v| { b.opts.net.ttl = Some(values::uint(f, required(f, v)?, "a TTL 0-255")?); Ok(()) }),
    // OUTPUT
    flag(Some("oN"), None, V::Required("<file>"), G::Output, SCAN, true,
        "Output scan in normal format to the given filename ('-' for stdout)",
        |b, f, v| { b.opts.output.normal = Some(path(f, v)?); Ok(()) }),
    flag(Some("oX"), None, V::Required("<file>"), G::Output, SCAN, true,
        "Output scan in XML format to the given filename ('-' for stdout)",
        |b, f, v| { b.opts.output.xml = Some(path(f, v)?); Ok(()) }),
    flag(Some("oG"), None, V::Required("<file>"), G::Output, SCAN, true,
        "Output scan in grepable format to the given filename ('-' for stdout)",
        |b, f, v| { b.opts.output.grepable = Some(path(f, v)?); Ok(()) }),
    flag(Some("oJ"), None, V::Required("<file>"), G::Output, SCAN, true,
        "Output scan in JSON format to the given filename ('-' for stdout)",
        |b, f, v| { b.opts.output.json = Some(path(f, v)?); Ok(()) }),
    flag(Some("oA"), None, V::Required("<basename>"), G::Output, SCAN, true,
        "Output in the three major formats at once (<basename>.nmap, .xml, .gnmap)",
        |b, f, v| {
            let base = nonempty(f, v, "a base file name")?;
            if base == "-" {
                return Err(CliError::invalid(f, base, "a base file name (not stdout)"));
            }
            let out = &mut b.opts.output;
            out.normal = Some(PathBuf::from(format!("{base}.nmap")));
            out.xml = Some(PathBuf::from(format!("{base}.xml")));
            out.grepable = Some(PathBuf::from(format!("{base}.gnmap")));
            Ok(())
        }),
    flag(Some("v"), None, V::Level, G::Output, SCAN, true,
        "Increase verbosity level (use -vv or -v<level> for more effect)",
        |b, f, v| level(&mut b.opts.output.verbose, f, v)),
    flag(Some("d"), None, V::Level, G::Output, SCAN, true,
        "Increase debugging level (use -dd or -d<level> for more effect)",
        |b, f, v| level(&mut b.opts.output.debug, f, v)),
    flag(None, Some("reason"), V::Switch, G::Output, SCAN, true,
        "Display the reason a port is in a particular state",
        |b, _, _| { b.opts.output.reason = true; Ok(()) }),
    flag(None, Some("open"), V::Switch, G::Output, SCAN, true,
        "Only show open (or possibly open) ports",
        |b, _, _| { b.opts.output.open_only = true; Ok(()) }),
    flag(None, Some("stats-every"), TIME, G::Output, SCAN, true,
        "Print a progress line every <time>",
        |b, f, v| { b.opts.output.stats_every = Some(values::duration(f, required(f, v)?)?); Ok(()) }),
    flag(None, Some("append-output"), V::Switch, G::Output, SCAN, false,
        "Append to rather than clobber specified output files", unsupported),
    flag(Some("oH"), None, V::Required("<file>"), G::Output, SCAN, true,
        "Output scan as one self-contained HTML report to the given filename",
        |b, f, v| {
            let p = path(f, v)?;
            if p.as_os_str() == "-" {
                return Err(CliError::invalid(f, "-", "a file name (not stdout)"));
            }
            b.opts.output.html = Some(p);
            Ok(())
        }),
    flag(None, Some("live"), V::Switch, G::Output, SCAN, true,
        "Print each open port on stderr as soon as it is found (stdout keeps the report)",
        |b, _, _| { b.opts.output.live = true; Ok(()) }),
    flag(None, Some("history"), V::Required("<file|postgres://...>"), G::Output, SCAN, true,
        "Record the scan in this history store (default: $XDG_DATA_HOME/portolan/history.sqlite)",
        |b, f, v| { b.opts.history = Some(nonempty(f, v, "a file name or postgres:// URL")?.to_owned()); Ok(()) }),
    flag(None, Some("no-history"), V::Switch, G::Output, SCAN, true,
        "Do not record the scan in the scan history",
        |b, _, _| { b.opts.no_history = true; Ok(()) }),
    flag(None, Some("resume"), V::Required("<filename>"), G::Output, SCAN, true,
        "Resume an aborted scan from its checkpoint (or an output file with one beside it)",
        |b, f, v| {
            let path = std::path::PathBuf::from(nonempty(f, v, "a checkpoint file")?);
            b.early = Some(Command::Resume(path));
            Ok(())
        }),
    flag(None, Some("noninteractive"), V::Switch, G::Output, SCAN, true,
        "Disable runtime interactions via keyboard",
        |b, _, _| { b.opts.noninteractive = true; Ok(()) }),
    // MISC
    flag(Some("A"), None, V::Switch, G::Misc, SCAN, true,
        "Enable OS detection, version detection and script scanning (-O -sV -sC; traceroute is not built yet)",
        |b, _, _| {
            b.opts.os.enabled = true;
            b.opts.version.enabled = true;
            b.opts.checks.default_set = true;
            Ok(())
        }),
    flag(None, Some("seed"), V::Required("<n>"), G::Misc, SCAN, true,
        "Seed the target and port order (decimal or 0x hex) to repeat a scan's order",
        |b, f, v| { b.opts.seed = Some(values::u64_dec_or_hex(f, required(f, v)?)?); Ok(()) }),
    flag(None, Some("shard"), V::Required("<K/N>"), G::Misc, SCAN, true,
        "Scan only the K-th of N disjoint parts of the targets (1 <= K <= N)",
        |b, f, v| { b.opts.shard = Some(values::shard(f, required(f, v)?)?); Ok(()) }),
    flag(None, Some("scan-id"), V::Required("<name>"), G::Misc, SCAN, true,
        "Name the sharded scan this process is a shard of: shards with one name share a seed and are one scan in the history store",
        |b, f, v| {
            let name = nonempty(f, v, "a name")?;
            if name.bytes().all(|c| c.is_ascii_digit()) || name == "last" {
                return Err(CliError::invalid(f, name, "a name that is not a number or 'last'"));
            }
            b.opts.scan_id = Some(name.to_owned());
            Ok(())
        }),
    flag(None, Some("send-ip"), V::Switch, G::Misc, SCAN, true,
        "Send using raw IP packets (portolan always does; no ARP/ND discovery)",
        |b, _, _| { b.opts.disable_arp_ping = true; Ok(()) }),
    flag(None, Some("privileged"), V::Switch, G::Misc, SCAN, true,
        "Assume that the user is fully privileged",
        |b, _, _| { b.opts.privileged = Some(true); Ok(()) }),
    flag(None, Some("unprivileged"), V::Switch, G::Misc, SCAN, true,
        "Assume the user lacks raw socket privileges",
        |b, _, _| { b.opts.privileged = Some(false); Ok(()) }),
    flag(Some("V"), Some("version"), V::Switch, G::Misc, SCAN, true,
        "Print version number",
        |b, _, _| { b.early = Some(Command::Version); Ok(()) }),
    flag(Some("h"), Some("help"), V::Switch, G::Misc, SCAN, true,
        "Print this help summary page",
        |b, _, _| { b.early = Some(Command::Help); Ok(()) }),
    // portolan local: SOCKET SELECTION
    flag(Some("a"), Some("all"), V::Switch, G::LocalSelect, LOCAL, true,
        "Every socket, not only listeners (TCP LISTEN, unconnected UDP)",
        |b, _, _| { b.local.query.all = true; Ok(()) }),
    flag(Some("t"), Some("tcp"), V::Switch, G::LocalSelect, LOCAL, true,
        "TCP sockets (with neither -t nor -u, both)",
        |b, _, _| { b.local.query.tcp = true; Ok(()) }),
    flag(Some("u"), Some("udp"), V::Switch, G::LocalSelect, LOCAL, true,
        "UDP sockets",
        |b, _, _| { b.local.query.udp = true; Ok(()) }),
    flag(Some("4"), None, V::Switch, G::LocalSelect, LOCAL, true,
        "IPv4 sockets (with neither -4 nor -6, both)",
        |b, _, _| { b.local.query.ipv4 = true; Ok(()) }),
    flag(Some("6"), None, V::Switch, G::LocalSelect, LOCAL, true,
        "IPv6 sockets",
        |b, _, _| { b.local.query.ipv6 = true; Ok(()) }),
    flag(Some("p"), None, PORT_RANGES, G::LocalSelect, LOCAL, true,
        "Only sockets whose local or remote port is in these ports (Ex: -p22,80; -p 8000-9090)",
        |b, f, v| { b.local.query.ports = Some(nonempty(f, v, "port ranges")?.to_owned()); Ok(()) }),
    flag(None, Some("state"), V::Required("<state[,state...]>"), G::LocalSelect, LOCAL, true,
        "Only sockets in these states (listen, established, close-wait, time-wait, ...; listening)",
        |b, f, v| {
            let v = nonempty(f, v, "state names")?;
            b.local.query.states.extend(v.split(',').map(str::to_owned));
            Ok(())
        }),
    flag(None, Some("pid"), V::Required("<pid>"), G::LocalSelect, LOCAL, true,
        "Only sockets this process holds",
        |b, f, v| { b.local.query.pid = Some(values::uint(f, required(f, v)?, "a process ID")?); Ok(()) }),
    flag(None, Some("process"), V::Required("<name>"), G::LocalSelect, LOCAL, true,
        "Only sockets held by a process of this name",
        |b, f, v| { b.local.query.process = Some(nonempty(f, v, "a process name")?.to_owned()); Ok(()) }),
    flag(None, Some("netns"), V::Required("<name|all>"), G::LocalSelect, LOCAL, true,
        "Look into this named network namespace, or every one ('all')",
        |b, f, v| { b.local.query.netns = Some(nonempty(f, v, "a namespace name or 'all'")?.to_owned()); Ok(()) }),
    flag(Some("n"), Some("no-owners"), V::Switch, G::LocalSelect, LOCAL, true,
        "Do not look up the processes that own the sockets (faster)",
        |b, _, _| { b.local.query.no_owners = true; Ok(()) }),
    flag(None, Some("procfs"), V::Switch, G::LocalSelect, LOCAL, true,
        "Read /proc/net instead of asking the kernel over netlink (sock_diag)",
        |b, _, _| { b.local.query.backend = portolan_local::Backend::ProcNet; Ok(()) }),
    // portolan local: OUTPUT
    flag(None, Some("plain"), V::Switch, G::LocalOutput, LOCAL, true,
        "Plain columns for grep/awk: no header, one socket per line",
        |b, _, _| { b.local.plain = true; Ok(()) }),
    flag(Some("s"), Some("summary"), V::Switch, G::LocalOutput, LOCAL, true,
        "Counts per state and per process, with warnings when CLOSE_WAIT or TIME_WAIT pile up",
        |b, _, _| { b.local.summary = true; Ok(()) }),
    flag(Some("oJ"), None, V::Required("<file>"), G::LocalOutput, LOCAL, true,
        "Write JSON to the given filename ('-' for stdout)",
        |b, f, v| { b.local.json = Some(path(f, v)?); Ok(()) }),
    flag(Some("oX"), None, V::Required("<file>"), G::LocalOutput, LOCAL, true,
        "Write XML to the given filename ('-' for stdout)",
        |b, f, v| { b.local.xml = Some(path(f, v)?); Ok(()) }),
    flag(None, Some("exposure"), V::Required("<file|scan>"), G::LocalOutput, LOCAL, true,
        "Join the listeners with a scan of this machine from outside: a portolan -oJ/-oX or nmap -oX file, or a stored scan (last, id, tag); repeatable",
        |b, f, v| { b.local.exposure.push(nonempty(f, v, "a file name or stored scan")?.to_owned()); Ok(()) }),
    flag(None, Some("history"), V::Required("<file|postgres://...>"), G::LocalOutput, LOCAL, true,
        "With --exposure: read stored scans from this history store (default: $XDG_DATA_HOME/portolan/history.sqlite)",
        |b, f, v| { b.local.history = Some(nonempty(f, v, "a file name or postgres:// URL")?.to_owned()); Ok(()) }),
    flag(None, Some("every"), TIME, G::LocalOutput, LOCAL, true,
        "Watch: list again every <time> and show what changed (new or closed listeners, state counts)",
        |b, f, v| { b.local.every = Some(local::interval(f, required(f, v)?)?); Ok(()) }),
    flag(None, Some("count"), V::Required("<n>"), G::LocalOutput, LOCAL, true,
        "With --every: stop after <n> samples",
        |b, f, v| { b.local.count = Some(values::positive(f, required(f, v)?, "a positive count")?); Ok(()) }),
    flag(Some("h"), Some("help"), V::Switch, G::LocalOutput, LOCAL, true,
        "Print this help summary page",
        |b, _, _| { b.early = Some(Command::SubcommandHelp(Subcommand::Local)); Ok(()) }),
    // portolan diff
    flag(None, Some("xml"), V::Switch, G::Diff, DIFF, true,
        "Write the differences as ndiff's XML (nmapdiff)",
        |b, f, _| diff::set_format(&mut b.diff, f, DiffFormat::Xml)),
    flag(None, Some("json"), V::Switch, G::Diff, DIFF, true,
        "Write the differences as JSON",
        |b, f, _| diff::set_format(&mut b.diff, f, DiffFormat::Json)),
    flag(None, Some("all"), V::Switch, G::Diff, DIFF, true,
        "Also show ports flapping between open|filtered and closed or filtered",
        |b, _, _| { b.diff.all = true; Ok(()) }),
    flag(None, Some("since"), V::Required("<age>"), G::Diff, DIFF, true,
        "Compare with the newest stored scan of the same targets at least <age> old (7d, 12h, 2w)",
        |b, f, v| { b.diff.since = Some(history::age(f, required(f, v)?)?); Ok(()) }),
    flag(None, Some("history"), V::Required("<file|postgres://...>"), G::Diff, DIFF, true,
        "Read stored scans from this history store (default: $XDG_DATA_HOME/portolan/history.sqlite)",
        |b, f, v| { b.diff.history = Some(nonempty(f, v, "a file name or postgres:// URL")?.to_owned()); Ok(()) }),
    flag(Some("h"), Some("help"), V::Switch, G::Diff, DIFF, true,
        "Print this help summary page",
        |b, _, _| { b.early = Some(Command::SubcommandHelp(Subcommand::Diff)); Ok(()) }),
    // portolan history
    flag(None, Some("port"), V::Required("<port>"), G::History, HISTORY, true,
        "Only the timeline of this port",
        |b, f, v| { b.history.port = Some(values::uint(f, required(f, v)?, "a port number 0-65535")?); Ok(()) }),
    flag(None, Some("service"), V::Required("<name>"), G::History, HISTORY, true,
        "Only ports where this service was seen (Ex: ssh, http)",
        |b, f, v| { b.history.service = Some(nonempty(f, v, "a service name")?.to_owned()); Ok(()) }),
    flag(None, Some("prune"), V::Required("<age>"), G::History, HISTORY, true,
        "Remove scans older than this (Ex: 90d, 12w, 36h)",
        |b, f, v| { b.history.prune = Some(history::age(f, required(f, v)?)?); Ok(()) }),
    flag(None, Some("tag"), V::Required("<name>"), G::History, HISTORY, true,
        "Name a scan (the one given, else the last) for use with diff",
        |b, f, v| { b.history.tag = Some(tag(f, v)?); Ok(()) }),
    flag(None, Some("history"), V::Required("<file|postgres://...>"), G::History, HISTORY, true,
        "The history store (default: $XDG_DATA_HOME/portolan/history.sqlite)",
        |b, f, v| { b.history.history = Some(nonempty(f, v, "a file name or postgres:// URL")?.to_owned()); Ok(()) }),
    flag(Some("h"), Some("help"), V::Switch, G::History, HISTORY, true,
        "Print this help summary page",
        |b, _, _| { b.early = Some(Command::SubcommandHelp(Subcommand::History)); Ok(()) }),
    // portolan import
    flag(None, Some("tag"), V::Required("<name>"), G::History, IMPORT, true,
        "Name the imported scan (the last one, with several files)",
        |b, f, v| { b.import.tag = Some(tag(f, v)?); Ok(()) }),
    flag(None, Some("history"), V::Required("<file|postgres://...>"), G::History, IMPORT, true,
        "The history store (default: $XDG_DATA_HOME/portolan/history.sqlite)",
        |b, f, v| { b.import.history = Some(nonempty(f, v, "a file name or postgres:// URL")?.to_owned()); Ok(()) }),
    flag(Some("h"), Some("help"), V::Switch, G::History, IMPORT, true,
        "Print this help summary page",
        |b, _, _| { b.early = Some(Command::SubcommandHelp(Subcommand::Import)); Ok(()) }),
    // portolan report
    flag(Some("o"), Some("output"), V::Required("<file>"), G::ReportOutput, REPORT, true,
        "Write the HTML report to the given filename ('-' for stdout, the default)",
        |b, f, v| { b.report.output = Some(path(f, v)?); Ok(()) }),
    flag(None, Some("history"), V::Required("<file|postgres://...>"), G::ReportOutput, REPORT, true,
        "Read stored scans (last, ids, tags) from this history store (default: $XDG_DATA_HOME/portolan/history.sqlite)",
        |b, f, v| { b.report.history = Some(nonempty(f, v, "a file name or postgres:// URL")?.to_owned()); Ok(()) }),
    flag(Some("h"), Some("help"), V::Switch, G::ReportOutput, REPORT, true,
        "Print this help summary page",
        |b, _, _| { b.early = Some(Command::SubcommandHelp(Subcommand::Report)); Ok(()) }),
];

/// A tag name: not empty, not a number and not `last` (those name scans
/// by id).
fn tag(flag: &str, v: Option<&str>) -> Result<String, CliError> {
    let v = nonempty(flag, v, "a tag name")?;
    if v == "last" || v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CliError::invalid(
            flag,
            v,
            "a tag name that is not a number or 'last'",
        ));
    }
    Ok(v.to_owned())
}

/// The row whose long name is `name`.
pub(crate) fn by_long(name: &str, cmd: Subcommand) -> Option<&'static Flag> {
    FLAGS
        .iter()
        .find(|f| f.long == Some(name) && f.commands.contains(&cmd))
}

/// The row whose short name is exactly `name`.
pub(crate) fn by_short(name: &str, cmd: Subcommand) -> Option<&'static Flag> {
    FLAGS
        .iter()
        .find(|f| f.short == Some(name) && f.commands.contains(&cmd))
}

/// The row whose short name is the longest prefix of `body`, as getopt
/// reads a one-dash cluster (`-p80`, `-oXout.xml`, `-sSU`).
pub(crate) fn by_short_prefix(
    body: &str,
    cmd: Subcommand,
) -> Option<(&'static Flag, &'static str)> {
    FLAGS
        .iter()
        .filter(|f| f.commands.contains(&cmd))
        .filter_map(|f| f.short.map(|s| (f, s)))
        .filter(|(_, s)| body.starts_with(s))
        .max_by_key(|(_, s)| s.len())
}

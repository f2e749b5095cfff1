//! The benchmark harness behind `portolan-bench`: scenarios, measurement,
//! result parsing and statistics.
//!
//! Performance figures come from here and never from timed unit tests: each
//! scenario builds its own testbed, runs the real `portolan` binary inside
//! the scanner namespace several times, and checks the ports it reports
//! against what the testbed really has (false positives and negatives), so a
//! fast but wrong scan never looks good.

use std::collections::BTreeSet;
use std::io::Read;
use std::net::Ipv4Addr;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::error::{Result, TestbedError};
use crate::sys::describe;
use crate::testbed::{Testbed, SEGMENT_NET};
pub use services::Services;

/// An open port as reported or expected: (host address text, TCP port).
///
/// For a service scan (`-sV`) the text also names what answered, so that a
/// port only counts as found with the right service, product and version:
/// `198.18.0.2 tcp/ssh OpenSSH 9.2p1` (the grepable version field without
/// its parenthesised extra information).
pub type HostPort = (String, u16);

/// The port that stands for "host up" in a [`HostPort`] of a discovery-only
/// (`-sn`) scan, whose output names no ports.
pub const HOST_UP: u16 = 0;

/// Open TCP/UDP ports in portolan's grepable output (`-oG`).
///
/// Reads `Host: ADDR (NAME)\tPorts: 22/open/tcp//ssh///, ...` lines; any
/// other line, and any port entry that does not parse, is ignored. When the
/// header line (`# ... as: ARGS`) shows a `-sn` scan, each
/// `Host: ADDR (NAME)\tStatus: Up` line gives `(ADDR, HOST_UP)` instead:
/// the up hosts are what such a scan finds.
pub fn parse_grepable(text: &str) -> BTreeSet<HostPort> {
    let mut open = BTreeSet::new();
    let header_has = |flag: &str| {
        text.lines().take_while(|l| l.starts_with('#')).any(|l| {
            l.split_once(" as: ")
                .is_some_and(|(_, args)| args.split_whitespace().any(|a| a == flag))
        })
    };
    let discovery_only = header_has("-sn");
    let versions = header_has("-sV");
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("Host: ") else {
            continue;
        };
        let Some(host) = rest.split_whitespace().next() else {
            continue;
        };
        if discovery_only {
            if rest.split('\t').any(|f| f.trim() == "Status: Up") {
                open.insert((host.to_string(), HOST_UP));
            }
            continue;
        }
        for field in rest.split('\t') {
            let Some(ports) = field.trim().strip_prefix("Ports: ") else {
                continue;
            };
            for entry in ports.split(", ") {
                let mut parts = entry.trim().split('/');
                let (Some(port), Some(state)) = (parts.next(), parts.next()) else {
                    continue;
                };
                if state != "open" {
                    continue;
                }
                let Ok(port) = port.parse::<u16>() else {
                    continue;
                };
                if versions {
                    // PORT/STATE/PROTO/OWNER/SERVICE/RPC/VERSION/
                    let f: Vec<&str> = parts.collect();
                    let field = |i: usize| f.get(i).copied().unwrap_or("");
                    open.insert((service_text(host, field(0), field(2), field(4)), port));
                } else {
                    open.insert((host.to_string(), port));
                }
            }
        }
    }
    open
}

/// The [`HostPort`] text of a service-scan finding: address, protocol,
/// service and version (without the parenthesised extra information, which
/// is all there is of a VNC server's: `(protocol 003.008)`).
pub fn service_text(host: &str, proto: &str, service: &str, version: &str) -> String {
    let version = version.split('(').next().unwrap_or("").trim();
    format!("{host} {proto}/{service} {version}")
        .trim_end()
        .to_string()
}

/// How a run's findings compare with the truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Accuracy {
    /// Open ports reported that really are open.
    pub found: usize,
    /// Reported open but not open.
    pub false_pos: usize,
    /// Open but not reported.
    pub false_neg: usize,
}

/// Compares reported open ports with the expected ones.
pub fn compare(expected: &BTreeSet<HostPort>, reported: &BTreeSet<HostPort>) -> Accuracy {
    let found = reported.intersection(expected).count();
    Accuracy {
        found,
        false_pos: reported.len() - found,
        false_neg: expected.len() - found,
    }
}

/// The median of `values` (mean of the middle two for an even count); `None` if empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

/// Peak resident set size (`VmHWM`, in KiB) from a `/proc/<pid>/status` text.
pub fn parse_vm_hwm_kb(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

fn read_vm_hwm_kb(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| parse_vm_hwm_kb(&s))
}

/// What one measured run of a command produced.
#[derive(Debug)]
pub struct RunOutcome {
    /// Wall time from spawn to exit.
    pub wall: Duration,
    /// Exit status (`None` if it could not be collected).
    pub status: Option<ExitStatus>,
    /// Everything written to standard output.
    pub stdout: String,
    /// Everything written to standard error.
    pub stderr: String,
    /// Highest `VmHWM` seen while sampling, in KiB.
    pub peak_rss_kb: Option<u64>,
    /// The harness sent SIGINT after the planned duration.
    pub interrupted: bool,
    /// The harness killed it after the timeout.
    pub timed_out: bool,
    /// CPU time (user and system, all threads) it used, from the
    /// harness's children's usage before and after (runs are one at a
    /// time). On a shared machine this tells efficiency apart from the
    /// share of the CPU a run got; kernel work done in its threads (on
    /// veth, the target's answers too) counts.
    pub cpu: Option<Duration>,
}

impl RunOutcome {
    /// True for a normal exit 0, or any exit after a planned SIGINT.
    pub fn ok(&self) -> bool {
        !self.timed_out && (self.interrupted || self.status.is_some_and(|s| s.success()))
    }
}

fn drain<R: Read + Send + 'static>(r: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut r) = r {
            let _ = r.read_to_end(&mut buf);
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Runs `cmd`, sampling its peak RSS every 10 ms; sends SIGINT after
/// `stop_after` if given, and SIGKILL after `timeout`.
pub fn run_measured(
    cmd: &mut Command,
    stop_after: Option<Duration>,
    timeout: Duration,
) -> Result<RunOutcome> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let cpu0 = children_cpu();
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|source| TestbedError::Spawn {
        cmd: describe(cmd),
        source,
    })?;
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let pid = child.id();
    let (mut peak, mut interrupted, mut timed_out) = (None, false, false);
    let status = loop {
        if let Some(kb) = read_vm_hwm_kb(pid) {
            peak = peak.max(Some(kb));
        }
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) => {}
            Err(_) => break None,
        }
        let t = start.elapsed();
        if stop_after.is_some_and(|s| t >= s) && !interrupted {
            interrupted = true;
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGINT);
        }
        if t >= timeout && !timed_out {
            timed_out = true;
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let wall = start.elapsed();
    let cpu = children_cpu().zip(cpu0).map(|(b, a)| b.saturating_sub(a));
    Ok(RunOutcome {
        wall,
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        peak_rss_kb: peak,
        interrupted,
        timed_out,
        cpu,
    })
}

/// User plus system CPU time of this process's waited-for children.
fn children_cpu() -> Option<Duration> {
    use nix::sys::resource::{getrusage, UsageWho};
    let u = getrusage(UsageWho::RUSAGE_CHILDREN).ok()?;
    let tv = |t: nix::sys::time::TimeVal| {
        Duration::new(t.tv_sec().max(0) as u64, t.tv_usec().max(0) as u32 * 1000)
    };
    Some(tv(u.user_time()) + tv(u.system_time()))
}

#[path = "banner.rs"]
pub mod banner;
#[path = "bench_services.rs"]
mod services;

/// The benchmark scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Connect scan of all ports of a namespace's loopback with 30 listeners.
    ConnectLo,
    /// Memory of a slow connect scan of 127.0.0.0/8, stopped after 5 s.
    ConnectMem,
    /// SYN scan of all ports of a target over veth with 31 listeners.
    SynVeth,
    /// The same through a 10 ms relay with 1 % loss each way.
    SynLossy,
    /// SYN sweep of port 80 over a /16 where one host in 13 is up and the
    /// target's firewall silently drops the other 12 (as on the internet).
    Sweep16,
    /// The same behind a capacity-limited, lossy link: the scanner's egress
    /// shaped by `tc tbf` to about 70 kpps of SYN probes (74-byte frames),
    /// and 1 % of packets dropped each way by the target's nftables.
    Sweep16Lossy,
    /// Memory of a top-1000-ports SYN scan of 198.18.0.0/15, stopped after 10 s.
    Mem15,
    /// `-sU -p1-1000` of a Linux target with 3 UDP responders, 3 dropped
    /// ports and the default ICMP rate limit (about 1 port unreachable/s).
    Udp1000,
    /// The same over a /24 of such addresses on one target namespace.
    Udp24,
    /// `-sn` (default pings) of the `sweep16` /16: one host in 13 up.
    Ping16,
    /// `-sn -PR` of a /24 on the scanner's Ethernet segment, 20 hosts up.
    Arp24,
    /// `-sV` of one host running 9 real daemons (Debian's packages) on
    /// their well-known ports: every product and version must be named.
    Sv9,
    /// `-sV` of one host running every daemon of the service crate's
    /// real-daemon test (about 45, Debian's packages) on well-known ports.
    SvDebian,
    /// `-sV` of 1000 open ports: 100 hosts with 10 banner services each.
    Sv1000,
    /// `-sV -sC` of one host running 20 real daemons (Debian's packages)
    /// on their well-known TCP ports: the checks stage's cost.
    Sc20,
}

/// A scenario ready to run: its testbed and what to expect.
#[derive(Debug)]
pub struct Prepared {
    /// Services the scenario runs in the testbed (stopped first on drop).
    pub services: Option<Services>,
    /// The testbed (the command runs in its scanner namespace).
    pub testbed: Testbed,
    /// Arguments for `portolan`.
    pub args: Vec<String>,
    /// The open ports a correct scan reports (`None`: not checked).
    pub expected: Option<BTreeSet<HostPort>>,
    /// Send SIGINT after this long (memory scenarios).
    pub stop_after: Option<Duration>,
}

/// `n` distinct pseudo-random ports in 1024..32768 (below the ephemeral
/// range, so they never meet the scanner's own source ports).
pub fn random_ports(n: usize) -> Vec<u16> {
    let mut x = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ (u64::from(std::process::id()) << 32)
        | 1;
    let mut set = BTreeSet::new();
    while set.len() < n.min(30_000) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        set.insert(1024 + (x % 31_744) as u16);
    }
    set.into_iter().collect()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn expect(host: impl ToString, ports: &[u16]) -> BTreeSet<HostPort> {
    let h = host.to_string();
    ports.iter().map(|p| (h.clone(), *p)).collect()
}

/// The UDP services of the `udp-*` scenarios' target.
const UDP_RESPONDERS: [u16; 3] = [53, 123, 161];
/// Its dropped UDP ports.
const UDP_DROPPED: [u16; 3] = [500, 600, 700];
/// The /24 of `udp-24`, local on the target.
const UDP24_NET: &str = "198.19.1.0/24";

/// A target as Linux comes: UDP responders, dropped ports, the rest closed,
/// and the default ICMP rate limit (set explicitly, in case the namespace
/// inherited another value).
fn udp_rate_limited_testbed(hint: &str) -> Result<Testbed> {
    let mut tb = Testbed::new(hint)?;
    let t = tb.target(0)?;
    t.udp_echo(&UDP_RESPONDERS)?.nft_drop_udp(&UDP_DROPPED)?;
    let mut cmd = Command::new("sysctl");
    cmd.args(["-qw", "net.ipv4.icmp_ratelimit=1000"]);
    let out = t.run(&mut cmd)?;
    if !out.status.success() {
        return Err(TestbedError::io(
            "sysctl net.ipv4.icmp_ratelimit",
            std::io::Error::other(String::from_utf8_lossy(&out.stderr).into_owned()),
        ));
    }
    Ok(tb)
}

impl Scenario {
    /// Every scenario, in the order they are run by default.
    pub const ALL: [Scenario; 15] = [
        Scenario::ConnectLo,
        Scenario::ConnectMem,
        Scenario::SynVeth,
        Scenario::SynLossy,
        Scenario::Sweep16,
        Scenario::Sweep16Lossy,
        Scenario::Mem15,
        Scenario::Udp1000,
        Scenario::Udp24,
        Scenario::Ping16,
        Scenario::Arp24,
        Scenario::Sv9,
        Scenario::SvDebian,
        Scenario::Sv1000,
        Scenario::Sc20,
    ];

    /// The scenario's command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::ConnectLo => "connect-lo",
            Scenario::ConnectMem => "connect-mem",
            Scenario::SynVeth => "syn-veth",
            Scenario::SynLossy => "syn-lossy",
            Scenario::Sweep16 => "sweep16",
            Scenario::Sweep16Lossy => "sweep16-lossy",
            Scenario::Mem15 => "mem15",
            Scenario::Udp1000 => "udp-1000",
            Scenario::Udp24 => "udp-24",
            Scenario::Ping16 => "ping16",
            Scenario::Arp24 => "arp24",
            Scenario::Sv9 => "sv9",
            Scenario::SvDebian => "sv-debian",
            Scenario::Sv1000 => "sv1000",
            Scenario::Sc20 => "sc20",
        }
    }

    /// Looks a scenario up by name.
    pub fn from_name(name: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Target median wall time in seconds, for timed scenarios.
    pub fn target_secs(self) -> Option<f64> {
        match self {
            Scenario::ConnectLo => Some(1.5),
            Scenario::SynVeth => Some(0.5),
            Scenario::SynLossy => Some(2.0),
            Scenario::Sweep16 => Some(0.8),
            Scenario::Sweep16Lossy => Some(2.0),
            Scenario::Udp1000 => Some(15.0),
            Scenario::Udp24 => Some(60.0),
            Scenario::Ping16 => Some(2.0),
            Scenario::Arp24 => Some(0.5),
            Scenario::Sv9 | Scenario::SvDebian => Some(3.0),
            Scenario::Sv1000 => Some(10.0),
            Scenario::Sc20 => Some(2.0),
            Scenario::ConnectMem | Scenario::Mem15 => None,
        }
    }

    /// Arguments for `portolan-limit` (see [`crate::limit`]) measuring the
    /// physical limit of the same work on `p`'s testbed, for scenarios that
    /// have one: a stateless sender's time from its first SYN to its last
    /// reply.
    pub fn limit_args(self, p: &Prepared) -> Option<Vec<String>> {
        let expected = p.expected.as_ref()?.len();
        match self {
            Scenario::SynVeth => {
                let addr = p.testbed.target_addr(0);
                Some(args(&[
                    "--expect",
                    "65535",
                    "--warm",
                    &format!("{addr}:{}", p.expected.iter().flatten().next()?.1),
                    &addr.to_string(),
                    "1-65535",
                ]))
            }
            Scenario::Sweep16 => {
                let up = p.testbed.up_hosts().first()?;
                Some(args(&[
                    "--expect",
                    &expected.to_string(),
                    "--warm",
                    &format!("{up}:80"),
                    &format!("{}/16", crate::testbed::SWEEP_NET),
                    "80",
                ]))
            }
            _ => None,
        }
    }

    /// Largest ratio of portolan's median to the measured limit
    /// ([`Scenario::limit_args`]), for scenarios with such a target.
    pub fn target_ratio(self) -> Option<f64> {
        match self {
            Scenario::SynVeth => Some(1.15),
            _ => None,
        }
    }

    /// Peak RSS limit in MiB, for memory scenarios (strict for connect-mem).
    pub fn target_rss_mib(self) -> Option<f64> {
        match self {
            Scenario::ConnectMem => Some(50.0),
            Scenario::Mem15 => Some(64.0),
            _ => None,
        }
    }

    /// Builds the testbed and the command line.
    pub fn prepare(self) -> Result<Prepared> {
        let mut p = match self {
            Scenario::ConnectLo => {
                let mut tb = Testbed::new("clo")?;
                let ports = random_ports(30);
                tb.scanner().tcp_listen(&ports)?;
                Prepared {
                    services: None,
                    testbed: tb,
                    args: args(&["-sT", "-p-", "-n", "-Pn", "127.0.0.1"]),
                    expected: Some(expect(Ipv4Addr::LOCALHOST, &ports)),
                    stop_after: None,
                }
            }
            Scenario::ConnectMem => Prepared {
                services: None,
                testbed: Testbed::new("cmem")?,
                args: args(&["-sT", "-p80", "--max-rate", "1", "-n", "-Pn", "127.0.0.0/8"]),
                expected: None,
                stop_after: Some(Duration::from_secs(5)),
            },
            Scenario::SynVeth | Scenario::SynLossy => {
                let mut tb = if self == Scenario::SynLossy {
                    Testbed::builder("lossy")
                        .delay(Duration::from_millis(10))
                        .build()?
                } else {
                    Testbed::new("synv")?
                };
                let ports = random_ports(31);
                let t = tb.target(0)?;
                t.tcp_listen(&ports)?;
                if self == Scenario::SynLossy {
                    t.nft_loss(1, 1)?;
                }
                let addr = tb.target_addr(0);
                Prepared {
                    services: None,
                    testbed: tb,
                    args: args(&["-sS", "-p-", "-n", "-Pn", &addr.to_string()]),
                    expected: Some(expect(addr, &ports)),
                    stop_after: None,
                }
            }
            Scenario::Sweep16 | Scenario::Sweep16Lossy => {
                let lossy = self == Scenario::Sweep16Lossy;
                let mut tb = Testbed::new(if lossy { "sw16l" } else { "sw16" })?;
                let up = tb.sweep16(0)?;
                if lossy {
                    // 70 kpps × 74 bytes (Ethernet, IPv4, TCP with a
                    // client's 20 bytes of SYN options) × 8 ≈ 41 Mbit/s.
                    tb.shape_scanner_egress(0, "41mbit")?;
                    tb.target(0)?.nft_loss(1, 1)?;
                }
                Prepared {
                    services: None,
                    testbed: tb,
                    args: args(&["-sS", "-p80", "-n", "-Pn", "198.19.0.0/16"]),
                    expected: Some(up.iter().map(|a| (a.to_string(), 80)).collect()),
                    stop_after: None,
                }
            }
            Scenario::Udp1000 => {
                let tb = udp_rate_limited_testbed("udp1k")?;
                let addr = tb.target_addr(0);
                Prepared {
                    services: None,
                    testbed: tb,
                    args: args(&["-sU", "-p1-1000", "-n", "-Pn", &addr.to_string()]),
                    expected: Some(expect(addr, &UDP_RESPONDERS)),
                    stop_after: None,
                }
            }
            Scenario::Udp24 => {
                let mut tb = udp_rate_limited_testbed("udp24")?;
                let t = tb.target(0)?;
                let mut cmd = Command::new("ip");
                cmd.args(["route", "add", "local", UDP24_NET, "dev", "lo"]);
                let out = t.run(&mut cmd)?;
                if !out.status.success() {
                    return Err(TestbedError::io(
                        format!("ip route add local {UDP24_NET}"),
                        std::io::Error::other(String::from_utf8_lossy(&out.stderr).into_owned()),
                    ));
                }
                tb.route_via_target(0, UDP24_NET)?;
                Prepared {
                    services: None,
                    testbed: tb,
                    args: args(&["-sU", "-p1-1000", "-n", "-Pn", UDP24_NET]),
                    // The responders answer from the address probed
                    // (IPV6_PKTINFO), so every host of the /24 must show
                    // all three open.
                    expected: Some(
                        (0..=255u8)
                            .flat_map(|i| expect(Ipv4Addr::new(198, 19, 1, i), &UDP_RESPONDERS))
                            .collect(),
                    ),
                    stop_after: None,
                }
            }
            Scenario::Ping16 => {
                let mut tb = Testbed::new("ping16")?;
                // The up hosts are local addresses of the target, so its
                // kernel answers echo, timestamp, SYN and ACK alike; the
                // OnlyUp rule keeps every other address silent.
                let up = tb.sweep16(0)?;
                Prepared {
                    services: None,
                    testbed: tb,
                    args: args(&["-sn", "-n", "198.19.0.0/16"]),
                    expected: Some(up.iter().map(|a| (a.to_string(), HOST_UP)).collect()),
                    stop_after: None,
                }
            }
            Scenario::Arp24 => {
                let mut tb = Testbed::new("arp24")?;
                let up = tb.segment24(0)?;
                let net = format!("{SEGMENT_NET}/24");
                Prepared {
                    services: None,
                    testbed: tb,
                    args: args(&["-sn", "-n", "-PR", &net]),
                    expected: Some(up.iter().map(|a| (a.to_string(), HOST_UP)).collect()),
                    stop_after: None,
                }
            }
            Scenario::Sv9 => crate::bench::services::sv9()?,
            Scenario::SvDebian => crate::bench::services::sv_debian()?,
            Scenario::Sv1000 => crate::bench::services::sv1000()?,
            Scenario::Sc20 => crate::bench::services::sc20()?,
            Scenario::Mem15 => {
                let tb = Testbed::new("mem15")?;
                tb.route_via_target(0, "198.18.0.0/15")?;
                Prepared {
                    services: None,
                    testbed: tb,
                    args: args(&["-sS", "--top-ports", "1000", "-n", "-Pn", "198.18.0.0/15"]),
                    expected: None,
                    stop_after: Some(Duration::from_secs(10)),
                }
            }
        };
        if p.expected.is_some() {
            p.args.extend(args(&["-oG", "-"]));
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_open_ports_of_grepable_lines() {
        let text = "# portolan 0.1 scan initiated\n\
            Host: 198.18.1.2 ()\tStatus: Up\n\
            Host: 198.18.1.2 ()\tPorts: 22/open/tcp//ssh///, 23/closed/tcp//telnet///, 80/open/tcp//http///\tIgnored State: closed (65532)\n\
            Host: 127.0.0.1 (localhost)\tPorts: 5000/open/tcp/////\n\
            Host: 198.18.1.3 ()\tPorts: 81/filtered/tcp/////, x/open/tcp, 99999/open/tcp, 443/open|filtered/tcp\n\
            # done\n";
        let got = parse_grepable(text);
        let want: BTreeSet<HostPort> = [
            ("198.18.1.2".to_string(), 22),
            ("198.18.1.2".to_string(), 80),
            ("127.0.0.1".to_string(), 5000),
        ]
        .into_iter()
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn up_hosts_of_a_discovery_only_scan() {
        let text = "# Portolan 0.1 scan initiated Sun Nov 22 12:00:00 2026 as: portolan -sn -n 198.19.0.0/16\n\
            Host: 198.19.0.1 ()\tStatus: Up\n\
            Host: 198.19.0.2 ()\tStatus: Down\n\
            Host: 198.19.0.14 ()\tStatus: Up\n\
            # done\n";
        let got = parse_grepable(text);
        let want: BTreeSet<HostPort> = [
            ("198.19.0.1".to_string(), HOST_UP),
            ("198.19.0.14".to_string(), HOST_UP),
        ]
        .into_iter()
        .collect();
        assert_eq!(got, want);
        // A port scan's status lines are not findings.
        let scan = text.replace(" -sn ", " -Pn ");
        assert!(parse_grepable(&scan).is_empty());
    }

    #[test]
    fn service_scans_name_what_answered() {
        let text = "# Portolan 0.1 scan initiated Sun Nov 22 12:00:00 2026 as: portolan -sS -sV -n 198.18.0.2\n\
            Host: 198.18.0.2 ()\tPorts: 22/open/tcp//ssh//OpenSSH 9.2p1 (Debian 2+deb12u3; protocol 2.0)/, 53/open/udp//domain//dnsmasq 2.90/, 5900/open/tcp//vnc///, 5901/open/tcp//rfb//(protocol 003.008)/, 81/closed/tcp//http///\n";
        let got = parse_grepable(text);
        let want: BTreeSet<HostPort> = [
            ("198.18.0.2 tcp/ssh OpenSSH 9.2p1".to_string(), 22),
            ("198.18.0.2 udp/domain dnsmasq 2.90".to_string(), 53),
            ("198.18.0.2 tcp/vnc".to_string(), 5900),
            ("198.18.0.2 tcp/rfb".to_string(), 5901),
        ]
        .into_iter()
        .collect();
        assert_eq!(got, want);
        assert_eq!(
            service_text("198.18.0.2", "udp", "domain", "dnsmasq 2.90"),
            "198.18.0.2 udp/domain dnsmasq 2.90"
        );
    }

    #[test]
    fn garbage_parses_to_nothing() {
        for t in [
            "",
            "Host:",
            "Host: \tPorts: ",
            "Ports: 1/open/tcp",
            "Host: a\tPorts: /open",
        ] {
            assert!(parse_grepable(t).is_empty(), "{t:?}");
        }
    }

    #[test]
    fn accuracy_counts_both_kinds_of_error() {
        let e = expect("h", &[1, 2, 3]);
        let r = expect("h", &[2, 3, 4, 5]);
        let a = compare(&e, &r);
        assert_eq!(
            a,
            Accuracy {
                found: 2,
                false_pos: 2,
                false_neg: 1
            }
        );
    }

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN, 1.0]), Some(1.0));
    }

    #[test]
    fn reads_vm_hwm() {
        let s = "Name:\tportolan\nVmPeak:\t  20000 kB\nVmHWM:\t    4321 kB\nVmRSS:\t 4000 kB\n";
        assert_eq!(parse_vm_hwm_kb(s), Some(4321));
        assert_eq!(parse_vm_hwm_kb("VmHWM: lots"), None);
    }

    #[test]
    fn random_ports_are_distinct_and_below_ephemeral() {
        let p = random_ports(31);
        assert_eq!(p.len(), 31);
        assert!(p.iter().all(|&x| (1024..32768).contains(&x)));
    }

    #[test]
    fn scenario_names_round_trip() {
        for s in Scenario::ALL {
            assert_eq!(Scenario::from_name(s.name()), Some(s));
        }
        assert_eq!(Scenario::from_name("nope"), None);
    }
}

//! Building, configuring and deleting a testbed.
//!
//! Names are unique per process and per testbed (`ptb<pid>-<n>-<hint>`), so
//! tests run in parallel threads and parallel processes without clashing, and
//! [`cleanup_stale`] can tell leftovers of killed runs (dead pid) from live
//! ones. Veth ends are created directly inside their namespaces, so interface
//! names never meet in the root namespace and can stay short.
//!
//! Addressing (testbed number `n`, target `i`): the link to target `i` is
//! 198.18.n.4i/30 — scanner .4i+1, target .4i+2 — and 2001:2:0:n:i::/80 —
//! scanner ::1, target ::2 (`nodad`). Namespaces are separate, so two
//! testbeds with the same `n` would not clash either.

use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::error::{Result, TestbedError};
use crate::listen::Listeners;
use crate::nft::{self, IcmpKind, Proto, Rule};
use crate::relay::{Relay, WireConfig};
use crate::sys::{describe, in_netns, ip, ns_sysctl, ns_sysctls};

/// Prefix of every namespace this crate creates.
pub const NS_PREFIX: &str = "ptb";
/// The network served by [`Testbed::sweep16`] (a /16).
pub const SWEEP_NET: Ipv4Addr = Ipv4Addr::new(198, 19, 0, 0);
/// One address in this many of [`SWEEP_NET`] answers.
const SWEEP_EVERY: u32 = 13;
/// The /24 served by [`Testbed::segment24`], on the scanner's Ethernet segment.
pub const SEGMENT_NET: Ipv4Addr = Ipv4Addr::new(198, 19, 2, 0);
/// Most targets one testbed can have (64 /30 links in a /24).
const MAX_TARGETS: usize = 64;

/// Routing settings every namespace gets explicitly (see `add_ns`): no
/// forwarding of either family, no reverse-path filtering.
pub const ROUTING_SYSCTLS: [(&str, &str); 6] = [
    ("net.ipv4.ip_forward", "0"),
    ("net.ipv6.conf.all.forwarding", "0"),
    ("net.ipv6.conf.default.forwarding", "0"),
    ("net.ipv4.conf.all.rp_filter", "0"),
    ("net.ipv4.conf.default.rp_filter", "0"),
    ("net.ipv4.conf.lo.rp_filter", "0"),
];

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// One namespace of a testbed: its listeners and its nftables rules.
#[derive(Debug)]
pub struct Host {
    ns: String,
    listeners: Vec<Listeners>,
    rules: Vec<Rule>,
}

impl Host {
    fn new(ns: String) -> Host {
        Host {
            ns,
            listeners: Vec::new(),
            rules: Vec::new(),
        }
    }

    /// The namespace name (for `ip netns exec`).
    pub fn ns(&self) -> &str {
        &self.ns
    }

    /// Listens on these TCP ports (dual-stack) until the testbed is dropped.
    pub fn tcp_listen(&mut self, ports: &[u16]) -> Result<&mut Self> {
        self.listeners.push(Listeners::start(&self.ns, ports, &[])?);
        Ok(self)
    }

    /// Echoes UDP datagrams on these ports back to their sender.
    pub fn udp_echo(&mut self, ports: &[u16]) -> Result<&mut Self> {
        self.listeners.push(Listeners::start(&self.ns, &[], ports)?);
        Ok(self)
    }

    /// Adds a rule and reloads this host's nftables table.
    pub fn nft(&mut self, rule: Rule) -> Result<&mut Self> {
        self.rules.push(rule);
        self.apply()?;
        Ok(self)
    }

    /// Removes all of this host's nftables rules.
    pub fn nft_clear(&mut self) -> Result<&mut Self> {
        self.rules.clear();
        self.apply()?;
        Ok(self)
    }

    /// Silently drops TCP packets to these ports (→ filtered).
    pub fn nft_drop_tcp(&mut self, ports: &[u16]) -> Result<&mut Self> {
        self.nft(Rule::Drop {
            proto: Proto::Tcp,
            ports: ports.to_vec(),
        })
    }

    /// Silently drops UDP packets to these ports.
    pub fn nft_drop_udp(&mut self, ports: &[u16]) -> Result<&mut Self> {
        self.nft(Rule::Drop {
            proto: Proto::Udp,
            ports: ports.to_vec(),
        })
    }

    /// Answers TCP packets to these ports with an ICMP error (→ filtered).
    pub fn nft_reject_icmp(&mut self, ports: &[u16], kind: IcmpKind) -> Result<&mut Self> {
        self.nft(Rule::RejectIcmp {
            proto: Proto::Tcp,
            ports: ports.to_vec(),
            kind,
        })
    }

    /// Answers UDP packets to these ports with an ICMP error.
    pub fn nft_reject_icmp_udp(&mut self, ports: &[u16], kind: IcmpKind) -> Result<&mut Self> {
        self.nft(Rule::RejectIcmp {
            proto: Proto::Udp,
            ports: ports.to_vec(),
            kind,
        })
    }

    /// Answers TCP packets to these ports with a RST (→ closed).
    pub fn nft_reject_tcp_reset(&mut self, ports: &[u16]) -> Result<&mut Self> {
        self.nft(Rule::RejectReset {
            ports: ports.to_vec(),
        })
    }

    /// Lets at most `per_second` RSTs per second leave this host.
    pub fn nft_rst_rate_limit(&mut self, per_second: u32) -> Result<&mut Self> {
        self.nft(Rule::RstRateLimit { per_second })
    }

    /// Drops this percentage of packets at random, entering and leaving.
    pub fn nft_loss(&mut self, input_pct: u8, output_pct: u8) -> Result<&mut Self> {
        if input_pct > 100 || output_pct > 100 {
            return Err(TestbedError::Config(format!(
                "loss {input_pct}%/{output_pct}% is over 100%"
            )));
        }
        self.nft(Rule::Loss {
            input_pct,
            output_pct,
        })
    }

    /// Makes this host silent: every incoming IP packet is dropped.
    pub fn nft_silent(&mut self) -> Result<&mut Self> {
        self.nft(Rule::Silent)
    }

    fn apply(&self) -> Result<()> {
        crate::sys::nft_load(&self.ns, &nft::render(&self.rules))
    }

    /// A command that runs `program` inside this host's namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns, program]);
        c
    }

    /// Runs `cmd` inside this namespace and returns its output, whatever its
    /// exit status (stdin is closed).
    pub fn run(&self, cmd: &mut Command) -> Result<Output> {
        let mut wrapped = self.command(&cmd.get_program().to_string_lossy());
        wrapped.args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => wrapped.env(k, v),
                None => wrapped.env_remove(k),
            };
        }
        if let Some(dir) = cmd.get_current_dir() {
            wrapped.current_dir(dir);
        }
        wrapped.stdin(Stdio::null());
        wrapped.output().map_err(|source| TestbedError::Spawn {
            cmd: describe(&wrapped),
            source,
        })
    }
}

/// Options for a [`Testbed`]; from [`Testbed::builder`].
#[derive(Debug, Clone)]
pub struct TestbedBuilder {
    hint: String,
    targets: usize,
    wire: Option<WireConfig>,
}

impl TestbedBuilder {
    /// Number of target namespaces (default 1, at most 64).
    pub fn targets(mut self, n: usize) -> Self {
        self.targets = n;
        self
    }

    /// Puts a relay adding this one-way delay between the scanner and every target.
    pub fn delay(mut self, one_way: Duration) -> Self {
        self.wire.get_or_insert(WireConfig {
            delay: one_way,
            rate_bps: None,
        });
        if let Some(w) = self.wire.as_mut() {
            w.delay = one_way;
        }
        self
    }

    /// Limits the relay's capacity to `bits_per_second` each way (adds a relay if needed).
    pub fn rate_bps(mut self, bits_per_second: u64) -> Self {
        self.wire
            .get_or_insert(WireConfig {
                delay: Duration::ZERO,
                rate_bps: None,
            })
            .rate_bps = Some(bits_per_second);
        self
    }

    /// Creates the namespaces, links, addresses and relays.
    pub fn build(self) -> Result<Testbed> {
        if self.targets == 0 || self.targets > MAX_TARGETS {
            return Err(TestbedError::Config(format!(
                "{} targets (must be 1..={MAX_TARGETS})",
                self.targets
            )));
        }
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let hint: String = self
            .hint
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(12)
            .collect();
        let base = format!("{NS_PREFIX}{}-{n}-{hint}", std::process::id());
        let mut tb = Testbed {
            net: (n % 254 + 1) as u8,
            namespaces: Vec::new(),
            relays: Vec::new(),
            scanner: Host::new(format!("{base}-s")),
            targets: Vec::new(),
            sweep_up: Vec::new(),
        };
        // From here on, `tb` going out of scope on error deletes what exists.
        let s = tb.scanner.ns.clone();
        tb.add_ns(&s)?;
        for i in 0..self.targets {
            let t = format!("{base}-t{i}");
            tb.add_ns(&t)?;
            tb.targets.push(Host::new(t.clone()));
            let sif = format!("t{i}");
            // Distinct interface indexes on the two ends of each veth: when
            // they are equal the kernel treats the carrier change as not
            // urgent and the link can drop packets for up to a second.
            let (s_idx, t_idx) = ((100 + i).to_string(), (200 + i).to_string());
            match self.wire {
                None => {
                    ip(&[
                        "link", "add", "name", &sif, "index", &s_idx, "netns", &s, "type", "veth",
                        "peer", "name", "s0", "index", &t_idx, "netns", &t,
                    ])?;
                }
                Some(cfg) => {
                    let r = format!("{base}-r{i}");
                    tb.add_ns(&r)?;
                    ns_sysctl(&r, "net.ipv6.conf.all.disable_ipv6", "1")?;
                    ns_sysctl(&r, "net.ipv6.conf.default.disable_ipv6", "1")?;
                    ip(&[
                        "link", "add", "name", &sif, "index", &s_idx, "netns", &s, "type", "veth",
                        "peer", "name", "wa", "index", "300", "netns", &r,
                    ])?;
                    ip(&[
                        "link", "add", "name", "wb", "index", "301", "netns", &r, "type", "veth",
                        "peer", "name", "s0", "index", &t_idx, "netns", &t,
                    ])?;
                    for dev in ["wa", "wb"] {
                        ip(&["-n", &r, "link", "set", dev, "promisc", "on", "up"])?;
                    }
                    tb.relays.push(Relay::start(&r, "wa", "wb", cfg)?);
                }
            }
            let (s4, t4) = (tb.scanner_addr(i), tb.target_addr(i));
            let (s6, t6) = (tb.scanner_addr6(i), tb.target_addr6(i));
            for (ns, dev, a4, a6) in [(&s, sif.as_str(), s4, s6), (&t, "s0", t4, t6)] {
                ip(&["-n", ns, "addr", "add", &format!("{a4}/30"), "dev", dev])?;
                ip(&[
                    "-n",
                    ns,
                    "-6",
                    "addr",
                    "add",
                    &format!("{a6}/80"),
                    "dev",
                    dev,
                    "nodad",
                ])?;
                if self.wire.is_some() {
                    // The relay can only write frames that fit the MTU: no
                    // TCP segmentation offload super-frames on its wire.
                    ip(&["-n", ns, "link", "set", "dev", dev, "gso_max_segs", "1"])?;
                    ip(&["-n", ns, "link", "set", "dev", dev, "gso_max_size", "1514"])?;
                }
                ip(&["-n", ns, "link", "set", dev, "up"])?;
            }
        }
        let extra = self.wire.map_or(Duration::ZERO, |w| 4 * w.delay);
        tb.wait_ready(Duration::from_millis(200) + extra)?;
        Ok(tb)
    }
}

/// A scanner namespace joined to target namespaces; deleted on drop.
#[derive(Debug)]
pub struct Testbed {
    net: u8,
    namespaces: Vec<String>,
    relays: Vec<Relay>,
    scanner: Host,
    targets: Vec<Host>,
    sweep_up: Vec<Ipv4Addr>,
}

impl Testbed {
    /// A testbed with one target directly on a veth (no delay).
    pub fn new(name_hint: &str) -> Result<Testbed> {
        Testbed::builder(name_hint).build()
    }

    /// Options for a testbed; `name_hint` appears in the namespace names.
    pub fn builder(name_hint: &str) -> TestbedBuilder {
        TestbedBuilder {
            hint: name_hint.to_string(),
            targets: 1,
            wire: None,
        }
    }

    fn add_ns(&mut self, ns: &str) -> Result<()> {
        ip(&["netns", "add", ns])?;
        self.namespaces.push(ns.to_string());
        // A new namespace inherits the host's IPv4 settings: a host that
        // forwards would make every target a router answering "net
        // unreachable" for addresses routed to it. No namespace here routes
        // (relays copy frames below IP), so forwarding is off everywhere,
        // and reverse-path filtering too, whatever the host has. Set before
        // any link exists, so `default` covers the veths.
        ns_sysctls(ns, &ROUTING_SYSCTLS)?;
        ip(&["-n", ns, "link", "set", "lo", "up"])?;
        // No duplicate address detection: addresses (link-local ones too)
        // are usable at once, so the first neighbour solicitation succeeds.
        for conf in ["all", "default"] {
            ns_sysctl(ns, &format!("net.ipv6.conf.{conf}.accept_dad"), "0")?;
        }
        Ok(())
    }

    /// Waits until every target answers a TCP SYN to port 9 over IPv4 and
    /// IPv6 (with a RST: nothing listens yet). A link that has just come up
    /// can lose the first packets; this also leaves the neighbour caches warm.
    fn wait_ready(&self, per_try: Duration) -> Result<()> {
        let addrs: Vec<IpAddr> = (0..self.targets.len())
            .flat_map(|i| {
                [
                    IpAddr::V4(self.target_addr(i)),
                    IpAddr::V6(self.target_addr6(i)),
                ]
            })
            .collect();
        in_netns(&self.scanner.ns, || {
            for addr in addrs {
                let sa = SocketAddr::new(addr, 9);
                let ok = (0..20).any(|_| match TcpStream::connect_timeout(&sa, per_try) {
                    Ok(_) => true,
                    Err(e) => e.kind() == ErrorKind::ConnectionRefused,
                });
                if !ok {
                    return Err(TestbedError::Config(format!(
                        "{addr} unreachable after setup"
                    )));
                }
            }
            Ok(())
        })?
    }

    /// The scanner namespace (listeners there serve its loopback).
    pub fn scanner(&mut self) -> &mut Host {
        &mut self.scanner
    }

    /// The scanner namespace's name.
    pub fn scanner_ns(&self) -> &str {
        &self.scanner.ns
    }

    /// Target `i`, to configure it.
    pub fn target(&mut self, i: usize) -> Result<&mut Host> {
        self.targets.get_mut(i).ok_or(TestbedError::NoSuchTarget(i))
    }

    /// Number of targets.
    pub fn target_count(&self) -> usize {
        self.targets.len()
    }

    fn link_base(i: usize) -> u8 {
        (i.min(MAX_TARGETS - 1) * 4) as u8
    }

    /// IPv4 address of target `i`.
    pub fn target_addr(&self, i: usize) -> Ipv4Addr {
        Ipv4Addr::new(198, 18, self.net, Self::link_base(i) + 2)
    }

    /// IPv4 address of the scanner on the link to target `i`.
    pub fn scanner_addr(&self, i: usize) -> Ipv4Addr {
        Ipv4Addr::new(198, 18, self.net, Self::link_base(i) + 1)
    }

    /// IPv6 address of target `i`.
    pub fn target_addr6(&self, i: usize) -> Ipv6Addr {
        Ipv6Addr::new(0x2001, 2, 0, u16::from(self.net), i as u16, 0, 0, 2)
    }

    /// IPv6 address of the scanner on the link to target `i`.
    pub fn scanner_addr6(&self, i: usize) -> Ipv6Addr {
        Ipv6Addr::new(0x2001, 2, 0, u16::from(self.net), i as u16, 0, 0, 1)
    }

    /// Runs `cmd` inside the scanner namespace (`ip netns exec`) and returns its output.
    pub fn run_in_scanner(&self, cmd: &mut Command) -> Result<Output> {
        self.scanner.run(cmd)
    }

    /// A command running `program` in the scanner namespace, to spawn yourself.
    pub fn scanner_command(&self, program: &str) -> Command {
        self.scanner.command(program)
    }

    /// Routes `cidr` from the scanner via target `i` (the target drops what is
    /// not its own: forwarding is off).
    pub fn route_via_target(&self, i: usize, cidr: &str) -> Result<()> {
        if i >= self.targets.len() {
            return Err(TestbedError::NoSuchTarget(i));
        }
        let via = self.target_addr(i).to_string();
        ip(&["-n", &self.scanner.ns, "route", "add", cidr, "via", &via]).map(|_| ())
    }

    /// Turns target `i` into a /16 of hosts: 198.19.0.0/16 is local there
    /// (AnyIP) with a listener on TCP port 80, one address in 13 answers and
    /// all others are silent. Returns the addresses that answer.
    pub fn sweep16(&mut self, i: usize) -> Result<Vec<Ipv4Addr>> {
        let via = self.target_addr(i).to_string();
        let net = format!("{SWEEP_NET}/16");
        let up = sweep_up_hosts();
        let t = self.target(i)?;
        ip(&["-n", &t.ns, "route", "add", "local", &net, "dev", "lo"])?;
        t.tcp_listen(&[80])?.nft(Rule::OnlyUp {
            net: SWEEP_NET,
            prefix: 16,
            up: up.clone(),
        })?;
        ip(&["-n", &self.scanner.ns, "route", "add", &net, "via", &via])?;
        self.sweep_up.clone_from(&up);
        Ok(up)
    }

    /// Puts [`SEGMENT_NET`]/24 on the veth to target `i` as one Ethernet
    /// segment without a router: the scanner reaches the /24 on-link (a
    /// device route, no address of its own in it) and target `i` holds one
    /// address in 13 of it (host numbers ≡ 1 mod 13, 20 addresses), so
    /// those answer ARP and the others nothing. Returns the held addresses.
    pub fn segment24(&mut self, i: usize) -> Result<Vec<Ipv4Addr>> {
        let net = format!("{SEGMENT_NET}/24");
        let held = segment_up_hosts();
        let sif = format!("t{i}");
        let t = self.target(i)?;
        for a in &held {
            ip(&["-n", &t.ns, "addr", "add", &format!("{a}/32"), "dev", "s0"])?;
        }
        ip(&["-n", &self.scanner.ns, "route", "add", &net, "dev", &sif])?;
        Ok(held)
    }

    /// The answering addresses set up by [`Testbed::sweep16`] (empty before).
    pub fn up_hosts(&self) -> &[Ipv4Addr] {
        &self.sweep_up
    }

    /// Limits the scanner's sending rate towards target `i` with a `tc tbf`
    /// qdisc; `rate` is in tc syntax (`"10mbit"`).
    pub fn shape_scanner_egress(&self, i: usize, rate: &str) -> Result<()> {
        if i >= self.targets.len() {
            return Err(TestbedError::NoSuchTarget(i));
        }
        let dev = format!("t{i}");
        crate::sys::ns_exec(
            &self.scanner.ns,
            "tc",
            &[
                "qdisc", "replace", "dev", &dev, "root", "tbf", "rate", rate, "burst", "16kb",
                "latency", "100ms",
            ],
        )
        .map(|_| ())
    }

    /// Largest lateness of a relayed frame past its due time, and the number
    /// of frames more than 1 ms late (zeros without relays). A relay starved
    /// of CPU shows here, so delay figures can be trusted or discounted.
    pub fn relay_lateness(&self) -> (Duration, u64) {
        self.relays
            .iter()
            .map(Relay::lateness)
            .fold((Duration::ZERO, 0), |a, b| (a.0.max(b.0), a.1 + b.1))
    }

    /// Frames forwarded and dropped by the relays so far.
    pub fn relay_stats(&self) -> (u64, u64) {
        self.relays
            .iter()
            .map(Relay::stats)
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    }
}

/// The addresses of [`SWEEP_NET`] that answer: host numbers ≡ 1 (mod 13).
pub fn sweep_up_hosts() -> Vec<Ipv4Addr> {
    let base = u32::from(SWEEP_NET);
    (0..65536u32)
        .filter(|h| h % SWEEP_EVERY == 1)
        .map(|h| Ipv4Addr::from(base + h))
        .collect()
}

/// The addresses of [`SEGMENT_NET`] that [`Testbed::segment24`] puts on
/// its target: host numbers 1..=254 that are ≡ 1 (mod 13).
pub fn segment_up_hosts() -> Vec<Ipv4Addr> {
    let base = u32::from(SEGMENT_NET);
    (1..255u32)
        .filter(|h| h % SWEEP_EVERY == 1)
        .map(|h| Ipv4Addr::from(base + h))
        .collect()
}

impl Drop for Testbed {
    fn drop(&mut self) {
        self.relays.clear();
        self.scanner.listeners.clear();
        for t in &mut self.targets {
            t.listeners.clear();
        }
        for ns in self.namespaces.drain(..).rev() {
            let _ = ip(&["netns", "del", &ns]);
        }
    }
}

/// Deletes namespaces left behind by killed runs: those with this crate's
/// prefix whose creating process is gone. Returns how many were deleted.
pub fn cleanup_stale() -> Result<usize> {
    let out = ip(&["netns", "list"])?;
    let mut deleted = 0;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some(name) = line.split_whitespace().next() else {
            continue;
        };
        let Some(rest) = name.strip_prefix(NS_PREFIX) else {
            continue;
        };
        let Some(Ok(pid)) = rest.split('-').next().map(str::parse::<u32>) else {
            continue;
        };
        if std::path::Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        if ip(&["netns", "del", name]).is_ok() {
            deleted += 1;
        }
    }
    Ok(deleted)
}

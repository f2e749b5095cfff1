//! nmap's grepable output (`-oG`): one line per host fact, fields split by
//! tabs and ports by `, `, so `grep`, `cut` and `awk` can pick results
//! apart. Deprecated in nmap but still widely scripted against, hence kept
//! field for field.

use crate::common::{clean, hidden_by_open, hosts_phrase, summary};
use crate::scripts::grepable_findings;
use crate::timefmt::ctime;
use crate::{OutputFormat, OutputOptions};
use portolan_model::{HostResult, HostStatus, PortResult, PortState, Protocol, RunStats, ScanInfo};
use std::fmt::Write as _;
use std::io::{self, Write};

/// The grepable-output writer.
pub(crate) struct Grepable {
    w: Box<dyn Write + Send>,
    opts: OutputOptions,
}

impl Grepable {
    pub(crate) fn new(w: Box<dyn Write + Send>, opts: OutputOptions) -> Self {
        Grepable { w, opts }
    }

    fn write_flush(&mut self, text: &str) -> io::Result<()> {
        self.w.write_all(text.as_bytes())?;
        self.w.flush()
    }
}

/// A value made safe for a field: no control characters (so no tab or
/// newline can forge a field or a line) and `/` turned into `|` as nmap
/// does, so the slash-separated port entry keeps its 7 fields.
fn field(text: &str) -> String {
    clean(text).replace('/', "|")
}

/// `port/state/protocol/owner/service/rpc info/version/`.
fn port_entry(p: &PortResult) -> String {
    let (service, version) = match &p.service {
        Some(s) => {
            let name = if s.tunnel.as_deref() == Some("ssl") {
                format!("ssl/{}", s.name)
            } else {
                s.name.clone()
            };
            (field(&name), field(&s.version_text()))
        }
        None => (String::new(), String::new()),
    };
    format!(
        "{}/{}/{}//{}//{}/",
        p.port, p.state, p.protocol, service, version
    )
}

impl OutputFormat for Grepable {
    fn begin(&mut self, info: &ScanInfo) -> io::Result<()> {
        let mut out = format!(
            "# Portolan {} scan initiated {} as: {}\n",
            clean(&info.version),
            ctime(info.start_time),
            clean(&info.args)
        );
        if self.opts.verbose > 0 {
            // nmap's "# Ports scanned:" line, one entry per protocol.
            let per = |proto: Protocol| {
                let scans: Vec<_> = info.scans.iter().filter(|s| s.protocol == proto).collect();
                let n: u32 = scans.first().map_or(0, |s| s.num_services);
                let list = scans
                    .first()
                    .map_or(String::new(), |s| clean(&s.services).into_owned());
                format!("{n};{list}")
            };
            let (t, u, s) = (per(Protocol::Tcp), per(Protocol::Udp), per(Protocol::Sctp));
            let _ = writeln!(
                out,
                "# Ports scanned: TCP({t}) UDP({u}) SCTP({s}) PROTOCOLS(0;)"
            );
        }
        self.write_flush(&out)
    }

    fn host(&mut self, host: &HostResult) -> io::Result<()> {
        let name = host.display_name().map(field).unwrap_or_default();
        let who = format!("Host: {} ({})", host.addr, name);
        let mut out = String::new();
        if hidden_by_open(host, self.opts.open_only) {
            return Ok(());
        }
        match host.status {
            HostStatus::Down => {
                if self.opts.verbose > 0 {
                    let _ = writeln!(out, "{who}\tStatus: Down");
                }
                return self.write_flush(&out);
            }
            HostStatus::Unknown => {
                let _ = writeln!(out, "{who}\tStatus: Unknown");
                return self.write_flush(&out);
            }
            HostStatus::Up => {}
        }
        // An interrupted host says so on its status line, in a field of its
        // own, so `grep 'Status: Up'` still finds it.
        let mark = if host.incomplete {
            "\tIncomplete: scan interrupted, ports not listed were not scanned"
        } else {
            ""
        };
        let _ = writeln!(out, "{who}\tStatus: Up{mark}");
        if !host.timed_out && !host.ports.is_empty() {
            let s = summary(host, self.opts.verbose, self.opts.open_only);
            // nmap names one ignored state: the one with the most ports,
            // counted across protocols.
            let mut totals: Vec<(PortState, u32)> = Vec::new();
            for e in &s.extra {
                match totals.iter_mut().find(|(st, _)| *st == e.state) {
                    Some(t) => t.1 += e.count,
                    None => totals.push((e.state, e.count)),
                }
            }
            let ignored = totals.iter().max_by_key(|(_, n)| *n).copied();
            if s.shown.is_empty() {
                // nmap repeats the status line when every port is ignored.
                let _ = writeln!(out, "{who}\tStatus: Up");
            } else {
                let ports: Vec<String> = s.shown.iter().map(|p| port_entry(p)).collect();
                let _ = write!(out, "{who}\tPorts: {}", ports.join(", "));
                if let Some((state, n)) = ignored {
                    let _ = write!(out, "\tIgnored State: {state} ({n})");
                }
                if let Some(os) = host.os.as_ref().and_then(crate::os::grepable_field) {
                    let _ = write!(out, "\tOS: {os}");
                }
                if let Some(f) = grepable_findings(host) {
                    let _ = write!(out, "\tFindings: {f}");
                }
                out.push('\n');
            }
        }
        self.write_flush(&out)
    }

    fn end(&mut self, stats: &RunStats) -> io::Result<()> {
        let mut out = String::new();
        if stats.interrupted {
            let _ = writeln!(out, "# {}", crate::common::interrupted_line(stats));
        }
        if let Some(err) = &stats.error {
            let _ = writeln!(out, "# Portolan scan aborted: {}", clean(err));
        }
        let _ = writeln!(
            out,
            "# Portolan done at {} -- {} scanned in {:.2} seconds",
            ctime(stats.end_time),
            hosts_phrase(stats.hosts_total(), stats.hosts_up),
            stats.elapsed
        );
        self.write_flush(&out)
    }
}

#[cfg(test)]
mod tests {
    use crate::testdata::*;
    use crate::{grepable, OutputOptions};
    use portolan_model::{HostResult, RunStats, ScanInfo};

    fn run(opts: OutputOptions, info: &ScanInfo, hosts: &[HostResult], stats: &RunStats) -> String {
        render(grepable, opts, info, hosts, Some(stats))
    }

    #[test]
    fn one_open_port_and_999_closed() {
        let text = run(
            OutputOptions::default(),
            &scan_info(),
            &[one_open_999_closed()],
            &stats(false),
        );
        assert_eq!(
            text,
            "# Portolan 0.1.0 scan initiated Sun Nov 22 10:15:00 2026 as: portolan -sT -p 1-1000 localhost
Host: 127.0.0.1 (localhost)\tStatus: Up
Host: 127.0.0.1 (localhost)\tPorts: 22/open/tcp//ssh///\tIgnored State: closed (999)
# Portolan done at Sun Nov 22 10:15:00 2026 -- 1 IP address (1 host up) scanned in 0.05 seconds
"
        );
    }

    #[test]
    fn mixed_tcp_udp_lists_tcp_then_udp_with_versions() {
        let opts = OutputOptions {
            verbose: 1,
            ..Default::default()
        };
        let text = run(opts, &mixed_scan_info(), &[mixed_tcp_udp()], &stats(false));
        assert_eq!(
            text,
            "# Portolan 0.1.0 scan initiated Sun Nov 22 10:15:00 2026 as: portolan -sS -sU -p T:1-100,U:53,161 198.18.0.1
# Ports scanned: TCP(100;1-100) UDP(2;53,161) SCTP(0;) PROTOCOLS(0;)
Host: 198.18.0.1 ()\tStatus: Up
Host: 198.18.0.1 ()\tPorts: 22/open/tcp//ssh///, 80/open/tcp//http//nginx 1.24.0 (Ubuntu)/, \
90/filtered/tcp/////, 91/filtered/tcp/////, 92/filtered/tcp/////, 53/open/udp//domain///, \
161/open|filtered/udp//snmp///\tIgnored State: closed (95)
# Portolan done at Sun Nov 22 10:15:00 2026 -- 1 IP address (1 host up) scanned in 0.05 seconds
"
        );
    }

    #[test]
    fn down_hosts_timeouts_all_ignored_and_interrupts() {
        let text = run(
            OutputOptions::default(),
            &scan_info(),
            &[down_host(), timed_out_host(), all_closed()],
            &stats(true),
        );
        assert_eq!(
            text,
            "# Portolan 0.1.0 scan initiated Sun Nov 22 10:15:00 2026 as: portolan -sT -p 1-1000 localhost
Host: 198.18.0.7 ()\tStatus: Up
Host: 127.0.0.1 (localhost)\tStatus: Up
Host: 127.0.0.1 (localhost)\tStatus: Up
# Portolan scan interrupted: hosts not scanned before the interrupt are not reported.
# Portolan done at Sun Nov 22 10:15:00 2026 -- 1 IP address (1 host up) scanned in 0.05 seconds
"
        );
        let verbose = OutputOptions {
            verbose: 1,
            ..Default::default()
        };
        let text = run(verbose, &scan_info(), &[down_host()], &stats(false));
        assert!(
            text.contains("Host: 198.18.0.5 ()\tStatus: Down\n"),
            "{text}"
        );
    }

    #[test]
    fn open_only_leaves_out_hosts_without_open_ports() {
        let opts = OutputOptions {
            open_only: true,
            ..Default::default()
        };
        let text = run(
            opts,
            &scan_info(),
            &[all_closed(), ipv6_host()],
            &stats(false),
        );
        assert_eq!(
            text,
            "# Portolan 0.1.0 scan initiated Sun Nov 22 10:15:00 2026 as: portolan -sT -p 1-1000 localhost
Host: 2001:2::1 (bench6.example)\tStatus: Up
Host: 2001:2::1 (bench6.example)\tPorts: 443/open/tcp//https///\tIgnored State: closed (2)
# Portolan done at Sun Nov 22 10:15:00 2026 -- 1 IP address (1 host up) scanned in 0.05 seconds
"
        );
    }

    #[test]
    fn hostile_strings_cannot_forge_fields_or_lines() {
        let text = run(
            OutputOptions::default(),
            &scan_info(),
            &[hostile_host()],
            &stats(false),
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        let ports = lines[2];
        assert_eq!(ports.matches('\t').count(), 1, "{ports:?}");
        let entry = ports.split("\tPorts: ").nth(1).unwrap();
        assert_eq!(entry.matches('/').count(), 7, "{entry:?}");
        assert!(!text.contains('\u{1b}') && !text.contains('\0'));
    }

    #[test]
    fn icmp_rate_limit_leaves_grepable_lines_alone() {
        let mut plain = udp_rate_limited();
        plain.icmp_rate_limit = None;
        let with = run(
            OutputOptions::default(),
            &mixed_scan_info(),
            &[udp_rate_limited()],
            &stats(false),
        );
        let without = run(
            OutputOptions::default(),
            &mixed_scan_info(),
            &[plain],
            &stats(false),
        );
        assert_eq!(with, without);
    }
}

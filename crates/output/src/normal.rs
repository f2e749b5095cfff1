//! nmap's normal output: the report people read on the terminal and in
//! `-oN` files, kept line for line so habits and screen-scrapers carry over.

use crate::common::{
    clean, hidden_by_open, hosts_phrase, name_ip, rate_limit_note, reason_with_ttl, reasons_phrase,
    service_column, service_info_line, ssl_cert_lines, summary, version_column,
};
use crate::scripts::{host_script_section, port_scripts, script_block, Findings};
use crate::timefmt::{ctime, long_utc, short_utc, sig_digits};
use crate::{OutputFormat, OutputOptions};
use portolan_model::{
    HostResult, HostStatus, PortResult, PortState, PortSummary, RunStats, ScanInfo, ServiceMethod,
};
use std::fmt::Write as _;
use std::io::{self, Write};

/// Where the report goes, which decides its first and last lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    /// `Starting Portolan ...` / `Portolan done: ...`.
    Terminal,
    /// `# Portolan ... scan initiated ...` / `# Portolan done at ...`.
    File,
}

/// The normal-output writer.
pub(crate) struct Normal {
    w: Box<dyn Write + Send>,
    opts: OutputOptions,
    style: Style,
    findings: Findings,
}

impl Normal {
    pub(crate) fn new(w: Box<dyn Write + Send>, opts: OutputOptions, style: Style) -> Self {
        Normal {
            w,
            opts,
            style,
            findings: Findings::default(),
        }
    }

    fn write_flush(&mut self, text: &str) -> io::Result<()> {
        self.w.write_all(text.as_bytes())?;
        self.w.flush()
    }
}

impl OutputFormat for Normal {
    fn begin(&mut self, info: &ScanInfo) -> io::Result<()> {
        let line = match self.style {
            Style::Terminal => format!(
                "Starting Portolan {} at {}\n",
                clean(&info.version),
                short_utc(info.start_time)
            ),
            Style::File => format!(
                "# Portolan {} scan initiated {} as: {}\n",
                clean(&info.version),
                ctime(info.start_time),
                clean(&info.args)
            ),
        };
        self.write_flush(&line)
    }

    fn host(&mut self, host: &HostResult) -> io::Result<()> {
        let text = host_report(host, &self.opts);
        if !text.is_empty() {
            self.findings.add(host);
        }
        self.write_flush(&text)
    }

    fn warning(&mut self, msg: &str) -> io::Result<()> {
        self.write_flush(&format!("{}\n", clean(msg)))
    }

    fn end(&mut self, stats: &RunStats) -> io::Result<()> {
        let prefix = match self.style {
            Style::Terminal => "",
            Style::File => "# ",
        };
        let mut out = String::new();
        if stats.interrupted {
            let _ = writeln!(out, "{prefix}{}", crate::common::interrupted_line(stats));
        }
        // The terminal already shows the error on standard error (nmap's
        // habit); printing it again on standard output would say it twice.
        // A file has no other record of it.
        if let (Some(err), Style::File) = (&stats.error, self.style) {
            let _ = writeln!(out, "{prefix}Portolan scan aborted: {}", clean(err));
        }
        out.push_str(&self.findings.section(prefix));
        let phrase = hosts_phrase(stats.hosts_total(), stats.hosts_up);
        let counts = self.findings.counts();
        let _ = match self.style {
            Style::Terminal => writeln!(
                out,
                "Portolan done: {phrase} scanned in {:.2} seconds{counts}",
                stats.elapsed
            ),
            Style::File => writeln!(
                out,
                "# Portolan done at {} -- {phrase} scanned in {:.2} seconds{counts}",
                ctime(stats.end_time),
                stats.elapsed
            ),
        };
        self.write_flush(&out)
    }
}

/// The whole report of one host, ending with its blank line; empty for a
/// down host unless verbose.
pub(crate) fn host_report(host: &HostResult, opts: &OutputOptions) -> String {
    let mut out = String::new();
    if hidden_by_open(host, opts.open_only) {
        return out;
    }
    let who = name_ip(host);
    match host.status {
        HostStatus::Down => {
            if opts.verbose > 0 {
                if opts.reason {
                    let _ = writeln!(
                        out,
                        "Portolan scan report for {who} [host down, received {}]",
                        reason_with_ttl(host.reason, host.reason_ttl)
                    );
                } else {
                    let _ = writeln!(out, "Portolan scan report for {who} [host down]");
                }
            }
            return out;
        }
        HostStatus::Unknown => {
            let _ = writeln!(out, "Portolan scan report for {who}");
            if host.timed_out {
                // Timed out during discovery: neither up nor down.
                let _ = writeln!(out, "Skipping host {who} due to host timeout");
            }
            return out;
        }
        HostStatus::Up => {}
    }
    let _ = writeln!(out, "Portolan scan report for {who}");
    out.push_str("Host is up");
    if opts.reason {
        let _ = write!(
            out,
            ", received {}",
            reason_with_ttl(host.reason, host.reason_ttl)
        );
    }
    if let Some(lat) = host.latency {
        let _ = write!(out, " ({}s latency)", sig_digits(lat.as_secs_f64(), 2));
    }
    out.push_str(".\n");
    if opts.verbose > 0 {
        let _ = writeln!(
            out,
            "Scanned at {} for {}s",
            long_utc(host.start_time),
            host.end_time.saturating_sub(host.start_time)
        );
    }
    if host.timed_out {
        let _ = writeln!(out, "Skipping host {who} due to host timeout");
        out.push('\n');
        return out;
    }
    if !host.ports.is_empty() {
        let s = summary(host, opts.verbose, opts.open_only);
        if s.shown.is_empty() {
            let n = host.ports.len();
            if n == 1 {
                let _ = writeln!(out, "The 1 scanned port on {who} is in ignored states.");
            } else {
                let _ = writeln!(out, "All {n} scanned ports on {who} are in ignored states.");
            }
            not_shown_line(&mut out, &s);
        } else {
            not_shown_line(&mut out, &s);
            port_table(&mut out, host, &s, opts);
        }
        if let Some(mac) = &host.mac {
            let vendor = mac.vendor.as_deref().map(clean);
            let _ = writeln!(
                out,
                "MAC Address: {mac} ({})",
                vendor.as_deref().unwrap_or("Unknown")
            );
        }
        if let Some(os) = &host.os {
            crate::os::normal_lines(&mut out, os, opts.verbose);
        }
        if let Some(line) = service_info_line(&s.shown) {
            let _ = writeln!(out, "{line}");
        }
        if let Some(rl) = &host.icmp_rate_limit {
            let _ = writeln!(out, "{}", rate_limit_note(rl));
        }
        host_script_section(&mut out, host);
    } else if let Some(mac) = &host.mac {
        let vendor = mac.vendor.as_deref().map(clean);
        let _ = writeln!(
            out,
            "MAC Address: {mac} ({})",
            vendor.as_deref().unwrap_or("Unknown")
        );
    }
    // A host without ports (`-sn`) is two or three lines, and nmap lists
    // such hosts without blank lines between them.
    if host.incomplete {
        let _ = writeln!(
            out,
            "Note: the scan of this host was interrupted: ports not listed were not scanned."
        );
    }
    if !host.ports.is_empty() {
        out.push('\n');
    }
    out
}

/// `Not shown: 997 closed tcp ports (conn-refused), 2 filtered tcp ports (no-response)`.
fn not_shown_line(out: &mut String, s: &PortSummary<'_>) {
    if s.extra.is_empty() {
        return;
    }
    let groups: Vec<String> = s
        .extra
        .iter()
        .map(|e| {
            format!(
                "{} {} {} port{} ({})",
                e.count,
                e.state,
                e.protocol,
                if e.count == 1 { "" } else { "s" },
                reasons_phrase(&e.reasons)
            )
        })
        .collect();
    let _ = writeln!(out, "Not shown: {}", groups.join(", "));
}

/// Whether `p`'s service name is nmap's `ssh?`: `-sV` ran, the port is
/// open, and its name is only the port table's guess or a soft match
/// (`tcpwrapped` is a finding, not a guess).
fn guessed(p: &PortResult, opts: &OutputOptions) -> bool {
    opts.version_scan
        && p.state == PortState::Open
        && p.service.as_ref().is_none_or(|s| {
            s.name != "tcpwrapped" && (s.method == ServiceMethod::Table || s.conf < CONF_HARD)
        })
}

/// A probe's hard match (nmap's confidence 10); below it a name is a guess.
const CONF_HARD: u8 = 10;

/// The PORT STATE SERVICE [REASON] [VERSION] table, each column as wide as
/// its widest cell plus one space, trailing spaces trimmed (nmap's layout).
fn port_table(out: &mut String, host: &HostResult, s: &PortSummary<'_>, opts: &OutputOptions) {
    let with_version = s.shown.iter().any(|p| !version_column(p).is_empty());
    let mut header = vec!["PORT", "STATE", "SERVICE"];
    if opts.reason {
        header.push("REASON");
    }
    if with_version {
        header.push("VERSION");
    }
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    for p in &s.shown {
        let mut row = vec![
            format!("{}/{}", p.port, p.protocol),
            p.state.to_string(),
            service_column(p) + if guessed(p, opts) { "?" } else { "" },
        ];
        if opts.reason {
            row.push(reason_with_ttl(p.reason, p.reason_ttl));
        }
        if with_version {
            row.push(version_column(p));
        }
        rows.push(row);
    }
    let mut widths = vec![0usize; header.len()];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for (i, row) in rows.iter().enumerate() {
        let mut line = String::new();
        for (cell, w) in row.iter().zip(&widths) {
            let _ = write!(line, "{cell:<w$} ", w = *w);
        }
        let _ = writeln!(out, "{}", line.trim_end_matches(' '));
        let cert = i
            .checked_sub(1)
            .and_then(|i| s.shown.get(i))
            .and_then(|p| p.service.as_ref()?.certificate.as_deref());
        if let Some(c) = cert {
            script_lines(out, "ssl-cert", &ssl_cert_lines(c));
        }
        if let Some(p) = i.checked_sub(1).and_then(|i| s.shown.get(i)) {
            for r in port_scripts(host, p.port, p.protocol) {
                script_block(out, r);
            }
        }
    }
}

/// Script output under a port, as nmap draws it: `| id: first`, `| more`,
/// `|_last`.
fn script_lines(out: &mut String, id: &str, lines: &[String]) {
    let n = lines.len();
    for (i, l) in lines.iter().enumerate() {
        let lead = if i + 1 == n { "|_" } else { "| " };
        if i == 0 {
            let _ = writeln!(out, "{lead}{id}: {l}");
        } else {
            let _ = writeln!(out, "{lead}{l}");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testdata::*;
    use crate::{normal, normal_file, OutputOptions};
    use portolan_model::{HostResult, RunStats, ScanInfo};

    fn run(opts: OutputOptions, info: &ScanInfo, hosts: &[HostResult], stats: &RunStats) -> String {
        render(normal, opts, info, hosts, Some(stats))
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
            "Starting Portolan 0.1.0 at 2026-11-22 10:15 UTC
Portolan scan report for localhost (127.0.0.1)
Host is up (0.000084s latency).
Not shown: 999 closed tcp ports (conn-refused)
PORT   STATE SERVICE
22/tcp open  ssh

Portolan done: 1 IP address (1 host up) scanned in 0.05 seconds
"
        );
    }

    #[test]
    fn mixed_tcp_and_udp_with_versions_mac_and_service_info() {
        let mut st = stats(false);
        st.elapsed = 12.345;
        let text = run(
            OutputOptions::default(),
            &mixed_scan_info(),
            &[mixed_tcp_udp()],
            &st,
        );
        assert_eq!(
            text,
            "Starting Portolan 0.1.0 at 2026-11-22 10:15 UTC
Portolan scan report for 198.18.0.1
Host is up (0.0010s latency).
Not shown: 95 closed tcp ports (reset)
PORT    STATE         SERVICE VERSION
22/tcp  open          ssh
80/tcp  open          http    nginx 1.24.0 (Ubuntu)
90/tcp  filtered      unknown
91/tcp  filtered      unknown
92/tcp  filtered      unknown
53/udp  open          domain
161/udp open|filtered snmp
MAC Address: 02:42:AC:11:00:02 (Unknown)
Service Info: OS: Linux; CPE: cpe:/o:linux:linux_kernel

Portolan done: 1 IP address (1 host up) scanned in 12.35 seconds
"
        );
    }

    #[test]
    fn reason_adds_a_column_and_the_host_reason() {
        let opts = OutputOptions {
            reason: true,
            ..Default::default()
        };
        let text = run(opts, &mixed_scan_info(), &[ipv6_host()], &stats(false));
        assert_eq!(
            text,
            "Starting Portolan 0.1.0 at 2026-11-22 10:15 UTC
Portolan scan report for bench6.example (2001:2::1)
Host is up, received syn-ack ttl 64 (0.00012s latency).
PORT    STATE  SERVICE REASON
443/tcp open   https   syn-ack ttl 64
444/tcp closed unknown reset ttl 64
445/tcp closed unknown reset ttl 64

Portolan done: 1 IP address (1 host up) scanned in 0.05 seconds
"
        );
        // Connect scans have no TTL: the reason stands alone.
        let text = run(opts, &scan_info(), &[one_open_999_closed()], &stats(false));
        assert!(
            text.contains("Host is up, received conn-refused (0.000084s latency).\n"),
            "{text}"
        );
        assert!(
            text.contains("PORT   STATE SERVICE REASON\n22/tcp open  ssh     syn-ack\n"),
            "{text}"
        );
    }

    #[test]
    fn open_only_summarises_everything_that_cannot_be_open() {
        let opts = OutputOptions {
            open_only: true,
            ..Default::default()
        };
        let text = run(opts, &mixed_scan_info(), &[mixed_tcp_udp()], &stats(false));
        assert!(
            text.contains(
                "Not shown: 95 closed tcp ports (reset), 3 filtered tcp ports (no-response)\n\
                 PORT    STATE         SERVICE VERSION\n\
                 22/tcp  open          ssh\n\
                 80/tcp  open          http    nginx 1.24.0 (Ubuntu)\n\
                 53/udp  open          domain\n\
                 161/udp open|filtered snmp\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn open_only_leaves_out_hosts_without_open_ports() {
        let opts = OutputOptions {
            open_only: true,
            ..Default::default()
        };
        let text = run(opts, &scan_info(), &[all_closed()], &stats(false));
        assert!(!text.contains("127.0.0.1"), "{text}");
    }

    #[test]
    fn all_ports_ignored() {
        let text = run(
            OutputOptions::default(),
            &scan_info(),
            &[all_closed()],
            &stats(false),
        );
        assert!(
            text.contains(
                "Host is up (0.000084s latency).\n\
                 All 1000 scanned ports on localhost (127.0.0.1) are in ignored states.\n\
                 Not shown: 1000 closed tcp ports (conn-refused)\n\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn an_incomplete_host_says_so_under_its_ports() {
        let mut partial = one_open_999_closed();
        partial.ports.truncate(400);
        partial.incomplete = true;
        let done = RunStats {
            hosts_incomplete: 1,
            ..stats(true)
        };
        let text = run(OutputOptions::default(), &scan_info(), &[partial], &done);
        assert!(
            text.contains(
                "Note: the scan of this host was interrupted: ports not listed were not scanned.\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("Portolan scan interrupted: hosts not scanned before the interrupt are not reported; 1 host partly scanned is marked incomplete.\n"),
            "{text}"
        );
    }

    #[test]
    fn interrupted_end_says_so_before_the_done_line() {
        let mut st = stats(true);
        st.hosts_up = 0;
        st.hosts_down = 3;
        let text = run(OutputOptions::default(), &scan_info(), &[down_host()], &st);
        assert!(
            text.ends_with(
                "Portolan scan interrupted: hosts not scanned before the interrupt are not reported.\n\
                 Portolan done: 3 IP addresses (0 hosts up) scanned in 0.05 seconds\n"
            ),
            "{text}"
        );
        assert!(!text.contains("198.18.0.5"), "down hosts need -v: {text}");
    }

    #[test]
    fn verbose_shows_down_hosts_scan_times_and_more_ports() {
        let opts = OutputOptions {
            verbose: 1,
            ..Default::default()
        };
        let text = run(
            opts,
            &scan_info(),
            &[down_host(), timed_out_host()],
            &stats(false),
        );
        assert!(
            text.contains("Portolan scan report for 198.18.0.5 [host down]\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "Portolan scan report for 198.18.0.7\nHost is up.\n\
                 Scanned at 2026-11-22 10:15:00 UTC for 0s\n\
                 Skipping host 198.18.0.7 due to host timeout\n\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn hostile_strings_cannot_reach_the_terminal() {
        let text = run(
            OutputOptions::default(),
            &scan_info(),
            &[hostile_host()],
            &stats(false),
        );
        assert!(!text.contains('\u{1b}') && !text.contains('\0') && !text.contains('\u{7}'));
        assert!(!text.contains('\u{FFFE}'));
        assert!(text.contains("\\x1b[2J"), "{text}");
        // Every line is one the report meant to write.
        for line in text.lines() {
            assert!(!line.contains('\t'), "{line:?}");
        }
    }

    #[test]
    fn file_style_uses_comment_lines() {
        let buf = SharedBuf::default();
        let mut out = normal_file(Box::new(buf.clone()), OutputOptions::default());
        out.begin(&scan_info()).unwrap();
        out.warning("Failed to resolve \"nohost.invalid\".")
            .unwrap();
        out.end(&stats(false)).unwrap();
        assert_eq!(
            buf.text(),
            "# Portolan 0.1.0 scan initiated Sun Nov 22 10:15:00 2026 as: portolan -sT -p 1-1000 localhost
Failed to resolve \"nohost.invalid\".
# Portolan done at Sun Nov 22 10:15:00 2026 -- 1 IP address (1 host up) scanned in 0.05 seconds
"
        );
    }

    #[test]
    fn icmp_rate_limit_note_follows_the_port_table() {
        let text = run(
            OutputOptions::default(),
            &mixed_scan_info(),
            &[udp_rate_limited()],
            &stats(false),
        );
        assert!(
            text.contains(
                "Note: 992 UDP ports left open|filtered: the host rate-limits ICMP port \
                 unreachables (about 1 per second); --udp-exact names every closed port (slow).\n\n"
            ),
            "{text}"
        );
        let mut exact = udp_rate_limited();
        if let Some(rl) = &mut exact.icmp_rate_limit {
            rl.exact = true;
            rl.unresolved = 3;
            rl.observed_per_sec = 0.5;
        }
        let text = run(
            OutputOptions::default(),
            &mixed_scan_info(),
            &[exact],
            &stats(false),
        );
        assert!(
            text.contains(
                "Note: the host rate-limits ICMP port unreachables (about 0.5 per second); \
                 --udp-exact retried at that pace, 3 UDP ports never answered (open|filtered).\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn tls_certificate_is_shown_as_nmaps_ssl_cert_script() {
        let text = run(
            OutputOptions::default(),
            &scan_info(),
            &[tls_host()],
            &stats(false),
        );
        let want = "PORT    STATE SERVICE  VERSION
443/tcp open  ssl/http nginx
| ssl-cert: Subject: commonName=portolan-test/organizationName=Portolan
| Subject Alternative Name: DNS:portolan.test
| Issuer: commonName=Portolan CA
| Not valid before: 2026-11-22T10:15:00
|_Not valid after:  2026-11-24T10:15:00
";
        assert!(text.contains(want), "{text}");
    }

    #[test]
    fn unidentified_services_get_a_question_mark_after_version_detection() {
        use portolan_model::{PortState, Protocol, Reason, ServiceMethod};
        let mut h = one_open_999_closed();
        let mut soft = with_service(
            port(80, Protocol::Tcp, PortState::Open, Reason::SynAck, 0),
            "http",
        );
        if let Some(s) = soft.service.as_mut() {
            s.method = ServiceMethod::Probed;
            s.conf = 8;
        }
        let mut hard = with_service(
            port(443, Protocol::Tcp, PortState::Open, Reason::SynAck, 0),
            "https",
        );
        if let Some(s) = hard.service.as_mut() {
            s.method = ServiceMethod::Probed;
            s.conf = 10;
            s.product = Some("nginx".into());
        }
        h.ports.retain(|p| p.port != 80 && p.port != 443);
        h.ports.extend([soft, hard]);
        let sv = OutputOptions {
            version_scan: true,
            ..OutputOptions::default()
        };
        let text = run(sv, &scan_info(), std::slice::from_ref(&h), &stats(false));
        assert!(text.contains("\n22/tcp  open  ssh?\n"), "{text}");
        assert!(text.contains("\n80/tcp  open  http?\n"), "{text}");
        assert!(text.contains("\n443/tcp open  https   nginx\n"), "{text}");
        // Without -sV a table name is all there is: no mark.
        let text = run(OutputOptions::default(), &scan_info(), &[h], &stats(false));
        assert!(text.contains("\n22/tcp  open  ssh\n"), "{text}");
    }

    #[test]
    fn ping_scan_hosts_have_no_blank_lines_between_them() {
        let mut a = one_open_999_closed();
        a.ports.clear();
        let mut b = a.clone();
        b.addr = "127.0.0.2".parse().unwrap();
        b.hostnames.clear();
        let two_up = RunStats {
            hosts_up: 2,
            ..stats(false)
        };
        let text = run(OutputOptions::default(), &scan_info(), &[a, b], &two_up);
        assert_eq!(
            text,
            "Starting Portolan 0.1.0 at 2026-11-22 10:15 UTC
Portolan scan report for localhost (127.0.0.1)
Host is up (0.000084s latency).
Portolan scan report for 127.0.0.2
Host is up (0.000084s latency).
Portolan done: 2 IP addresses (2 hosts up) scanned in 0.05 seconds
"
        );
    }
}

//! nmap's XML output (`-oX`): the format tools consume (Zenmap, ndiff,
//! Metasploit's importer, python-libnmap, many SIEM parsers). Element and
//! attribute names and meanings are nmap's (`xmloutputversion` 1.05), so
//! those tools read portolan's files unchanged.
//!
//! Every element goes through quick-xml, which escapes text and attribute
//! values; characters XML 1.0 forbids even escaped (most control
//! characters) are replaced before that by [`clean`]. Each host is written
//! whole and flushed, and `end` closes `<nmaprun>`, so an interrupted scan
//! still leaves a well-formed document.

use crate::common::{
    cert_time, clean, group_ports, hidden_by_open, hosts_phrase, port_ranges, ssl_cert_lines,
    summary,
};
use crate::scripts::{host_scripts, port_scripts};
use crate::timefmt::ctime;
use crate::{OutputFormat, OutputOptions};
use portolan_model::{
    Certificate, HostResult, HostStatus, IcmpRateLimit, OsReport, PortResult, PortState, Protocol,
    RunStats, ScanInfo, ServiceInfo,
};
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use std::io::{self, Write};
use std::net::IpAddr;

/// nmap's XML format version that portolan's documents follow.
const XML_OUTPUT_VERSION: &str = "1.05";

/// The XML writer.
pub(crate) struct Xml {
    w: Writer<Box<dyn Write + Send>>,
    opts: OutputOptions,
}

impl Xml {
    pub(crate) fn new(w: Box<dyn Write + Send>, opts: OutputOptions) -> Self {
        Xml {
            w: Writer::new(w),
            opts,
        }
    }

    fn tag<'a>(name: &'a str, attrs: &[(&str, &str)]) -> BytesStart<'a> {
        let mut start = BytesStart::new(name);
        for &(k, v) in attrs {
            // The (&str, &str) conversion escapes the value.
            start.push_attribute((k, clean(v).as_ref()));
        }
        start
    }

    fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) -> io::Result<()> {
        self.w.write_event(Event::Empty(Self::tag(name, attrs)))
    }

    fn open(&mut self, name: &str, attrs: &[(&str, &str)]) -> io::Result<()> {
        self.w.write_event(Event::Start(Self::tag(name, attrs)))
    }

    fn close(&mut self, name: &str) -> io::Result<()> {
        self.w.write_event(Event::End(BytesEnd::new(name)))
    }

    fn text(&mut self, text: &str) -> io::Result<()> {
        self.w
            .write_event(Event::Text(BytesText::new(&clean(text))))
    }

    fn nl(&mut self) -> io::Result<()> {
        self.w.write_event(Event::Text(BytesText::new("\n")))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.w.get_mut().flush()
    }

    fn address(&mut self, addr: IpAddr) -> io::Result<()> {
        let kind = if addr.is_ipv4() { "ipv4" } else { "ipv6" };
        self.empty(
            "address",
            &[("addr", &addr.to_string()), ("addrtype", kind)],
        )?;
        self.nl()
    }

    fn service(&mut self, s: &ServiceInfo) -> io::Result<()> {
        let name = if s.name.is_empty() {
            "unknown"
        } else {
            s.name.as_str()
        };
        let conf = s.conf.to_string();
        let mut attrs: Vec<(&str, &str)> = vec![("name", name)];
        let optional = [
            ("product", &s.product),
            ("version", &s.version),
            ("extrainfo", &s.extrainfo),
            ("hostname", &s.hostname),
            ("ostype", &s.ostype),
            ("devicetype", &s.devicetype),
            ("tunnel", &s.tunnel),
        ];
        for (k, v) in optional.iter() {
            if let Some(v) = v {
                attrs.push((k, v.as_str()));
            }
        }
        attrs.push(("method", s.method.as_str()));
        attrs.push(("conf", &conf));
        if s.cpe.is_empty() {
            return self.empty("service", &attrs);
        }
        self.open("service", &attrs)?;
        for cpe in &s.cpe {
            self.open("cpe", &[])?;
            self.text(cpe)?;
            self.close("cpe")?;
        }
        self.close("service")
    }

    /// nmap's `ssl-cert` script element: the text output, then the
    /// subject, issuer, validity and alternative names as tables.
    fn ssl_cert(&mut self, c: &Certificate) -> io::Result<()> {
        // nmap keeps the output's line breaks as `&#xa;`: a raw newline in
        // an attribute would be read back as a space. The lines are
        // cleaned already, so escaping is all that is left to do.
        let output = ssl_cert_lines(c)
            .iter()
            .map(|l| quick_xml::escape::escape(l.as_str()).into_owned())
            .collect::<Vec<_>>()
            .join("&#xa;");
        let mut start = BytesStart::new("script");
        start.push_attribute(("id", "ssl-cert"));
        start.push_attribute(Attribute::from((&b"output"[..], output.as_bytes())));
        self.w.write_event(Event::Start(start))?;
        for (key, name) in [("subject", &c.subject), ("issuer", &c.issuer)] {
            self.open("table", &[("key", key)])?;
            for a in name {
                self.elem(&a.key, &a.value)?;
            }
            self.close("table")?;
        }
        self.open("table", &[("key", "validity")])?;
        self.elem("notBefore", &cert_time(c.not_before))?;
        self.elem("notAfter", &cert_time(c.not_after))?;
        self.close("table")?;
        if !c.alt_names.is_empty() {
            self.open("table", &[("key", "extensions")])?;
            self.open("table", &[])?;
            self.elem("name", "X509v3 Subject Alternative Name")?;
            self.elem("value", &c.alt_names.join(", "))?;
            self.close("table")?;
            self.close("table")?;
        }
        self.close("script")
    }

    /// `<elem key="k">v</elem>`.
    fn elem(&mut self, key: &str, value: &str) -> io::Result<()> {
        self.open("elem", &[("key", key)])?;
        self.text(value)?;
        self.close("elem")
    }

    fn port(&mut self, host: &HostResult, p: &PortResult) -> io::Result<()> {
        let portid = p.port.to_string();
        let ttl = p.reason_ttl.to_string();
        self.open(
            "port",
            &[("protocol", p.protocol.as_str()), ("portid", &portid)],
        )?;
        self.empty(
            "state",
            &[
                ("state", p.state.as_str()),
                ("reason", p.reason.as_str()),
                ("reason_ttl", &ttl),
            ],
        )?;
        if let Some(s) = &p.service {
            self.service(s)?;
            if let Some(c) = &s.certificate {
                self.ssl_cert(c)?;
            }
        }
        for r in port_scripts(host, p.port, p.protocol) {
            self.script(r)?;
        }
        self.close("port")?;
        self.nl()
    }

    /// `<ports>`: nmap's `extraports` are per state (all protocols
    /// together), with one `extrareasons` per reason and protocol.
    fn ports(&mut self, host: &HostResult) -> io::Result<()> {
        let s = summary(host, self.opts.verbose, self.opts.open_only);
        self.open("ports", &[])?;
        let mut done: Vec<PortState> = Vec::new();
        for e in &s.extra {
            if done.contains(&e.state) {
                continue;
            }
            done.push(e.state);
            let groups: Vec<_> = s.extra.iter().filter(|g| g.state == e.state).collect();
            let total: u32 = groups.iter().map(|g| g.count).sum();
            self.open(
                "extraports",
                &[("state", e.state.as_str()), ("count", &total.to_string())],
            )?;
            self.nl()?;
            for g in &groups {
                for &(reason, count) in &g.reasons {
                    let ports = port_ranges(&group_ports(host, g.state, g.protocol, reason));
                    self.empty(
                        "extrareasons",
                        &[
                            ("reason", reason.as_str()),
                            ("count", &count.to_string()),
                            ("proto", g.protocol.as_str()),
                            ("ports", &ports),
                        ],
                    )?;
                    self.nl()?;
                }
            }
            self.close("extraports")?;
            self.nl()?;
        }
        for p in &s.shown {
            self.port(host, p)?;
        }
        self.close("ports")?;
        self.nl()
    }

    /// nmap's `<os>` (`<osmatch>` with its `<osclass>` and `<cpe>`, and
    /// `<osfingerprint>`), then `<uptime>` and `<distance>`. "Not enough
    /// evidence" is an empty `<os>` with portolan's `nomatch` attribute.
    fn os(&mut self, os: &OsReport) -> io::Result<()> {
        match &os.no_match {
            Some(why) if os.matches.is_empty() => self.open("os", &[("nomatch", why)])?,
            _ => self.open("os", &[])?,
        }
        self.nl()?;
        for m in &os.matches {
            let acc = m.accuracy.to_string();
            self.open("osmatch", &[("name", &m.name), ("accuracy", &acc)])?;
            self.nl()?;
            for c in &m.classes {
                let acc = c.accuracy.to_string();
                let mut attrs = vec![
                    ("type", c.device_type.as_str()),
                    ("vendor", c.vendor.as_str()),
                    ("osfamily", c.family.as_str()),
                ];
                if let Some(g) = &c.generation {
                    attrs.push(("osgen", g.as_str()));
                }
                attrs.push(("accuracy", &acc));
                self.open("osclass", &attrs)?;
                for cpe in &c.cpe {
                    self.open("cpe", &[])?;
                    self.text(cpe)?;
                    self.close("cpe")?;
                }
                self.close("osclass")?;
                self.nl()?;
            }
            self.close("osmatch")?;
            self.nl()?;
        }
        if !os.fingerprint.is_empty() {
            self.empty("osfingerprint", &[("fingerprint", &os.fingerprint)])?;
            self.nl()?;
        }
        self.close("os")?;
        self.nl()?;
        if let Some(up) = &os.uptime {
            let secs = up.seconds.to_string();
            let boot = ctime(up.last_boot);
            self.empty("uptime", &[("seconds", &secs), ("lastboot", &boot)])?;
            self.nl()?;
        }
        if let Some(d) = os.distance {
            self.empty("distance", &[("value", &d.to_string())])?;
            self.nl()?;
        }
        Ok(())
    }

    fn write_host(&mut self, host: &HostResult) -> io::Result<()> {
        let start = host.start_time.to_string();
        let end = host.end_time.to_string();
        let mut attrs = vec![("starttime", start.as_str()), ("endtime", end.as_str())];
        if host.timed_out {
            attrs.push(("timedout", "true"));
        }
        if host.incomplete {
            // nmap's DTD has `comment` on <host>, so the document stays
            // valid for nmap's readers.
            attrs.push(("comment", INCOMPLETE_COMMENT));
        }
        self.open("host", &attrs)?;
        let ttl = host.reason_ttl.to_string();
        self.empty(
            "status",
            &[
                ("state", host.status.as_str()),
                ("reason", host.reason.as_str()),
                ("reason_ttl", &ttl),
            ],
        )?;
        self.nl()?;
        self.address(host.addr)?;
        if let Some(mac) = &host.mac {
            let addr = mac.to_string();
            let mut attrs = vec![("addr", addr.as_str()), ("addrtype", "mac")];
            if let Some(v) = &mac.vendor {
                attrs.push(("vendor", v.as_str()));
            }
            self.empty("address", &attrs)?;
            self.nl()?;
        }
        self.open("hostnames", &[])?;
        self.nl()?;
        for h in &host.hostnames {
            self.empty("hostname", &[("name", &h.name), ("type", h.kind.as_str())])?;
            self.nl()?;
        }
        self.close("hostnames")?;
        self.nl()?;
        if host.status == HostStatus::Up && !host.timed_out && !host.ports.is_empty() {
            self.ports(host)?;
        }
        if let Some(os) = &host.os {
            self.os(os)?;
        }
        if host_scripts(host).next().is_some() {
            self.open("hostscript", &[])?;
            for r in host_scripts(host) {
                self.script(r)?;
            }
            self.close("hostscript")?;
            self.nl()?;
        }
        if let Some(rl) = &host.icmp_rate_limit {
            // Portolan's own element: nmap-XML readers skip unknown ones.
            let rate = format!("{:.2}", rl.observed_per_sec);
            let unresolved = rl.unresolved.to_string();
            self.empty(
                "ratelimit",
                &[
                    ("proto", rl.protocol.as_str()),
                    ("reply", rate_limited_reply(rl)),
                    ("persec", &rate),
                    ("unresolved", &unresolved),
                    ("exact", if rl.exact { "true" } else { "false" }),
                ],
            )?;
            self.nl()?;
        }
        if let Some(lat) = host.latency {
            // Only the smoothed RTT is measured; rttvar takes RFC 6298's
            // first-sample value (srtt / 2) and `to` nmap's rule
            // (srtt + 4 * rttvar, at least 100 ms).
            let srtt = lat.as_micros().min(u128::from(u64::MAX)) as u64;
            let rttvar = srtt / 2;
            let to = srtt.saturating_add(rttvar.saturating_mul(4)).max(100_000);
            self.empty(
                "times",
                &[
                    ("srtt", &srtt.to_string()),
                    ("rttvar", &rttvar.to_string()),
                    ("to", &to.to_string()),
                ],
            )?;
            self.nl()?;
        }
        self.close("host")?;
        self.nl()
    }
}

impl OutputFormat for Xml {
    fn begin(&mut self, info: &ScanInfo) -> io::Result<()> {
        self.w
            .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        self.nl()?;
        self.w
            .write_event(Event::DocType(BytesText::from_escaped("nmaprun")))?;
        self.nl()?;
        let start = info.start_time.to_string();
        self.open(
            "nmaprun",
            &[
                ("scanner", "portolan"),
                ("args", &info.args),
                ("start", &start),
                ("startstr", &ctime(info.start_time)),
                ("version", &info.version),
                ("xmloutputversion", XML_OUTPUT_VERSION),
            ],
        )?;
        self.nl()?;
        for s in &info.scans {
            self.empty(
                "scaninfo",
                &[
                    ("type", s.scan_type.as_str()),
                    ("protocol", s.protocol.as_str()),
                    ("numservices", &s.num_services.to_string()),
                    ("services", &s.services),
                ],
            )?;
            self.nl()?;
        }
        self.empty("verbose", &[("level", &self.opts.verbose.to_string())])?;
        self.nl()?;
        self.empty("debugging", &[("level", &self.opts.debugging.to_string())])?;
        self.nl()?;
        self.flush()
    }

    fn host(&mut self, host: &HostResult) -> io::Result<()> {
        if host.status == HostStatus::Down && self.opts.verbose == 0
            || hidden_by_open(host, self.opts.open_only)
        {
            return Ok(());
        }
        self.write_host(host)?;
        self.flush()
    }

    fn end(&mut self, stats: &RunStats) -> io::Result<()> {
        let time = stats.end_time.to_string();
        let timestr = ctime(stats.end_time);
        let elapsed = format!("{:.2}", stats.elapsed);
        let summary = format!(
            "Portolan done at {timestr}; {} scanned in {elapsed} seconds",
            hosts_phrase(stats.hosts_total(), stats.hosts_up)
        );
        let errormsg = match (&stats.error, stats.interrupted) {
            (Some(e), _) => Some(e.clone()),
            (None, true) => Some("Scan interrupted".to_string()),
            (None, false) => None,
        };
        let mut attrs = vec![
            ("time", time.as_str()),
            ("timestr", timestr.as_str()),
            ("summary", summary.as_str()),
            ("elapsed", elapsed.as_str()),
            (
                "exit",
                if errormsg.is_some() {
                    "error"
                } else {
                    "success"
                },
            ),
        ];
        if let Some(msg) = &errormsg {
            attrs.push(("errormsg", msg.as_str()));
        }
        self.open("runstats", &[])?;
        self.empty("finished", &attrs)?;
        let (up, down, total) = (
            stats.hosts_up.to_string(),
            stats.hosts_down.to_string(),
            stats.hosts_total().to_string(),
        );
        self.empty("hosts", &[("up", &up), ("down", &down), ("total", &total)])?;
        self.nl()?;
        self.close("runstats")?;
        self.nl()?;
        self.close("nmaprun")?;
        self.nl()?;
        self.flush()
    }
}

/// `<host comment=...>` of a host an interrupt caught mid-scan: its
/// `<ports>` hold what was found, and ports not listed were not scanned.
pub(crate) const INCOMPLETE_COMMENT: &str =
    "scan incomplete: interrupted before this host was finished; ports not listed were not scanned";

/// The reply a host's rate limit throttles, as `<ratelimit reply=...>`
/// names it: resets for TCP, ICMP unreachables for TCP techniques
/// answered by them (`tcp_icmp`), ICMP port unreachables otherwise (UDP).
fn rate_limited_reply(rl: &IcmpRateLimit) -> &'static str {
    match rl.protocol {
        Protocol::Tcp if rl.tcp_icmp => "icmp-unreach",
        Protocol::Tcp => "reset",
        _ => "icmp-port-unreach",
    }
}

mod script;

#[cfg(test)]
mod tests;

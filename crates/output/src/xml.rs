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
use crate::timefmt::ctime;
use crate::{OutputFormat, OutputOptions};
use portolan_model::{
    Certificate, HostResult, HostStatus, PortResult, PortState, Protocol, RunStats, ScanInfo,
    ServiceInfo,
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

    fn port(&mut self, p: &PortResult) -> io::Result<()> {
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
            self.port(p)?;
        }
        self.close("ports")?;
        self.nl()
    }

    fn write_host(&mut self, host: &HostResult) -> io::Result<()> {
        let start = host.start_time.to_string();
        let end = host.end_time.to_string();
        let mut attrs = vec![("starttime", start.as_str()), ("endtime", end.as_str())];
        if host.timed_out {
            attrs.push(("timedout", "true"));
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
        if let Some(rl) = &host.icmp_rate_limit {
            // Portolan's own element: nmap-XML readers skip unknown ones.
            let rate = format!("{:.2}", rl.observed_per_sec);
            let unresolved = rl.unresolved.to_string();
            self.empty(
                "ratelimit",
                &[
                    ("proto", rl.protocol.as_str()),
                    ("reply", rate_limited_reply(rl.protocol)),
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

/// The reply a host's rate limit throttles, as `<ratelimit reply=...>`
/// names it: resets for TCP, ICMP port unreachables otherwise (UDP).
fn rate_limited_reply(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Tcp => "reset",
        _ => "icmp-port-unreach",
    }
}

#[cfg(test)]
mod tests {
    use crate::testdata::*;
    use crate::{xml, OutputOptions};
    use portolan_model::{HostResult, Protocol, RunStats, ScanInfo};
    use roxmltree::{Document, Node};

    fn run(
        opts: OutputOptions,
        info: &ScanInfo,
        hosts: &[HostResult],
        stats: Option<&RunStats>,
    ) -> String {
        render(xml, opts, info, hosts, stats)
    }

    /// Parses with an independent parser; `<!DOCTYPE nmaprun>` needs DTDs allowed.
    fn parse(text: &str) -> Result<Document<'_>, roxmltree::Error> {
        let opts = roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        };
        Document::parse_with_options(text, opts)
    }

    fn child<'a>(n: Node<'a, 'a>, name: &str) -> Node<'a, 'a> {
        n.children()
            .find(|c| c.has_tag_name(name))
            .unwrap_or_else(|| panic!("no <{name}> in <{}>", n.tag_name().name()))
    }

    fn children<'a>(n: Node<'a, 'a>, name: &'a str) -> Vec<Node<'a, 'a>> {
        n.children().filter(|c| c.has_tag_name(name)).collect()
    }

    #[test]
    fn one_open_port_and_999_closed() {
        let text = run(
            OutputOptions::default(),
            &scan_info(),
            &[one_open_999_closed()],
            Some(&stats(false)),
        );
        assert!(
            text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE nmaprun>\n")
        );
        let doc = parse(&text).unwrap();
        let run = doc.root_element();
        assert_eq!(run.tag_name().name(), "nmaprun");
        assert_eq!(run.attribute("scanner"), Some("portolan"));
        assert_eq!(
            run.attribute("args"),
            Some("portolan -sT -p 1-1000 localhost")
        );
        assert_eq!(run.attribute("start"), Some("1795342500"));
        assert_eq!(run.attribute("startstr"), Some("Sun Nov 22 10:15:00 2026"));
        assert_eq!(run.attribute("xmloutputversion"), Some("1.05"));
        let si = child(run, "scaninfo");
        assert_eq!(si.attribute("type"), Some("connect"));
        assert_eq!(si.attribute("protocol"), Some("tcp"));
        assert_eq!(si.attribute("numservices"), Some("1000"));
        assert_eq!(si.attribute("services"), Some("1-1000"));
        assert_eq!(child(run, "verbose").attribute("level"), Some("0"));
        assert_eq!(child(run, "debugging").attribute("level"), Some("0"));

        let host = child(run, "host");
        assert_eq!(host.attribute("starttime"), Some("1795342500"));
        let status = child(host, "status");
        assert_eq!(status.attribute("state"), Some("up"));
        assert_eq!(status.attribute("reason"), Some("conn-refused"));
        assert_eq!(status.attribute("reason_ttl"), Some("0"));
        let addr = child(host, "address");
        assert_eq!(addr.attribute("addr"), Some("127.0.0.1"));
        assert_eq!(addr.attribute("addrtype"), Some("ipv4"));
        let hn = child(child(host, "hostnames"), "hostname");
        assert_eq!(hn.attribute("name"), Some("localhost"));
        assert_eq!(hn.attribute("type"), Some("user"));

        let ports = child(host, "ports");
        let extra = child(ports, "extraports");
        assert_eq!(extra.attribute("state"), Some("closed"));
        assert_eq!(extra.attribute("count"), Some("999"));
        let er = child(extra, "extrareasons");
        assert_eq!(er.attribute("reason"), Some("conn-refused"));
        assert_eq!(er.attribute("count"), Some("999"));
        assert_eq!(er.attribute("proto"), Some("tcp"));
        assert_eq!(er.attribute("ports"), Some("1-21,23-1000"));
        let port = child(ports, "port");
        assert_eq!(port.attribute("protocol"), Some("tcp"));
        assert_eq!(port.attribute("portid"), Some("22"));
        let st = child(port, "state");
        assert_eq!(st.attribute("state"), Some("open"));
        assert_eq!(st.attribute("reason"), Some("syn-ack"));
        let svc = child(port, "service");
        assert_eq!(svc.attribute("name"), Some("ssh"));
        assert_eq!(svc.attribute("method"), Some("table"));
        assert_eq!(svc.attribute("conf"), Some("3"));
        let times = child(host, "times");
        assert_eq!(times.attribute("srtt"), Some("84"));
        assert_eq!(times.attribute("rttvar"), Some("42"));
        assert_eq!(times.attribute("to"), Some("100000"));

        let rs = child(run, "runstats");
        let fin = child(rs, "finished");
        assert_eq!(fin.attribute("time"), Some("1795342500"));
        assert_eq!(fin.attribute("timestr"), Some("Sun Nov 22 10:15:00 2026"));
        assert_eq!(fin.attribute("elapsed"), Some("0.05"));
        assert_eq!(fin.attribute("exit"), Some("success"));
        assert_eq!(
            fin.attribute("summary"),
            Some("Portolan done at Sun Nov 22 10:15:00 2026; 1 IP address (1 host up) scanned in 0.05 seconds")
        );
        assert_eq!(fin.attribute("errormsg"), None);
        let hosts = child(rs, "hosts");
        assert_eq!(
            (
                hosts.attribute("up"),
                hosts.attribute("down"),
                hosts.attribute("total")
            ),
            (Some("1"), Some("0"), Some("1"))
        );
    }

    #[test]
    fn mixed_tcp_udp_with_mac_versions_and_cpe() {
        let text = run(
            OutputOptions::default(),
            &mixed_scan_info(),
            &[mixed_tcp_udp()],
            Some(&stats(false)),
        );
        let doc = parse(&text).unwrap();
        let run = doc.root_element();
        let infos = children(run, "scaninfo");
        assert_eq!(infos.len(), 2);
        assert_eq!(infos[0].attribute("type"), Some("syn"));
        assert_eq!(infos[1].attribute("type"), Some("udp"));
        assert_eq!(infos[1].attribute("services"), Some("53,161"));
        let host = child(run, "host");
        let addrs = children(host, "address");
        assert_eq!(addrs.len(), 2);
        assert_eq!(addrs[1].attribute("addr"), Some("02:42:AC:11:00:02"));
        assert_eq!(addrs[1].attribute("addrtype"), Some("mac"));
        assert_eq!(addrs[1].attribute("vendor"), None);
        let ports = child(host, "ports");
        let listed: Vec<(String, String)> = children(ports, "port")
            .iter()
            .map(|p| {
                (
                    p.attribute("protocol").unwrap().into(),
                    p.attribute("portid").unwrap().into(),
                )
            })
            .collect();
        let want: Vec<(String, String)> = [
            ("tcp", "22"),
            ("tcp", "80"),
            ("tcp", "90"),
            ("tcp", "91"),
            ("tcp", "92"),
            ("udp", "53"),
            ("udp", "161"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(listed, want);
        let http = children(ports, "port")[1];
        assert_eq!(child(http, "state").attribute("reason_ttl"), Some("64"));
        let svc = child(http, "service");
        assert_eq!(svc.attribute("product"), Some("nginx"));
        assert_eq!(svc.attribute("version"), Some("1.24.0"));
        assert_eq!(svc.attribute("extrainfo"), Some("Ubuntu"));
        assert_eq!(svc.attribute("ostype"), Some("Linux"));
        assert_eq!(svc.attribute("method"), Some("probed"));
        assert_eq!(svc.attribute("conf"), Some("10"));
        let cpes: Vec<&str> = children(svc, "cpe")
            .iter()
            .map(|c| c.text().unwrap())
            .collect();
        assert_eq!(
            cpes,
            [
                "cpe:/a:igor_sysoev:nginx:1.24.0",
                "cpe:/o:linux:linux_kernel"
            ]
        );
        let extra = child(ports, "extraports");
        assert_eq!(extra.attribute("count"), Some("95"));
        assert_eq!(
            child(extra, "extrareasons").attribute("ports"),
            Some("1-21,23-79,81-89,93-100")
        );
    }

    #[test]
    fn open_only_merges_states_across_protocols() {
        let opts = OutputOptions {
            open_only: true,
            ..Default::default()
        };
        let mut h = mixed_tcp_udp();
        h.ports.push(port(
            1,
            portolan_model::Protocol::Udp,
            portolan_model::PortState::Closed,
            portolan_model::Reason::PortUnreach,
            64,
        ));
        let text = run(opts, &mixed_scan_info(), &[h], Some(&stats(false)));
        let doc = parse(&text).unwrap();
        let ports = child(child(doc.root_element(), "host"), "ports");
        let extras = children(ports, "extraports");
        assert_eq!(extras.len(), 2, "{text}");
        assert_eq!(extras[0].attribute("state"), Some("closed"));
        assert_eq!(extras[0].attribute("count"), Some("96"));
        let reasons = children(extras[0], "extrareasons");
        assert_eq!(reasons.len(), 2);
        assert_eq!(reasons[1].attribute("proto"), Some("udp"));
        assert_eq!(reasons[1].attribute("reason"), Some("port-unreach"));
        assert_eq!(reasons[1].attribute("ports"), Some("1"));
        assert_eq!(extras[1].attribute("state"), Some("filtered"));
        assert_eq!(children(ports, "port").len(), 4);
    }

    #[test]
    fn ipv6_down_and_timed_out_hosts() {
        let opts = OutputOptions {
            verbose: 1,
            ..Default::default()
        };
        let text = run(
            opts,
            &scan_info(),
            &[ipv6_host(), down_host(), timed_out_host()],
            Some(&stats(false)),
        );
        let doc = parse(&text).unwrap();
        let hosts = children(doc.root_element(), "host");
        assert_eq!(hosts.len(), 3);
        assert_eq!(
            child(hosts[0], "address").attribute("addrtype"),
            Some("ipv6")
        );
        assert_eq!(
            child(hosts[0], "address").attribute("addr"),
            Some("2001:2::1")
        );
        assert_eq!(
            child(child(hosts[0], "hostnames"), "hostname").attribute("type"),
            Some("PTR")
        );
        assert_eq!(child(hosts[1], "status").attribute("state"), Some("down"));
        assert!(hosts[1].children().all(|c| !c.has_tag_name("ports")));
        assert_eq!(hosts[2].attribute("timedout"), Some("true"));
        assert!(hosts[2].children().all(|c| !c.has_tag_name("ports")));
        // With --open, hosts without open ports are left out.
        let open = OutputOptions {
            open_only: true,
            ..Default::default()
        };
        let text = run(
            open,
            &scan_info(),
            &[all_closed(), ipv6_host()],
            Some(&stats(false)),
        );
        assert_eq!(
            children(parse(&text).unwrap().root_element(), "host").len(),
            1
        );
        // Without -v, down hosts are left out.
        let text = run(
            OutputOptions::default(),
            &scan_info(),
            &[down_host()],
            Some(&stats(false)),
        );
        assert_eq!(
            children(parse(&text).unwrap().root_element(), "host").len(),
            0
        );
    }

    #[test]
    fn hostile_strings_stay_well_formed_and_round_trip_escaped() {
        let text = run(
            OutputOptions::default(),
            &scan_info(),
            &[hostile_host()],
            Some(&stats(false)),
        );
        let doc = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let host = child(doc.root_element(), "host");
        let expected = "<evil attr=\"x\" & 'y'>\\x1b[2J\\x00\\x07\\x0a\\x09,/|\u{FFFD}";
        let svc = child(child(child(host, "ports"), "port"), "service");
        for attr in [
            "name",
            "product",
            "version",
            "extrainfo",
            "hostname",
            "ostype",
            "devicetype",
        ] {
            assert_eq!(svc.attribute(attr), Some(expected), "{attr}");
        }
        assert_eq!(svc.attribute("tunnel"), Some("ssl"));
        assert_eq!(
            child(svc, "cpe").text(),
            Some(format!("cpe:/o:{expected}").as_str())
        );
        let mac = children(host, "address")[1];
        assert_eq!(mac.attribute("vendor"), Some(expected));
        let name = child(child(host, "hostnames"), "hostname");
        assert_eq!(
            name.attribute("name"),
            Some(format!("x{expected}").as_str())
        );
        let mut info = scan_info();
        info.args = format!("portolan --script-args {HOSTILE}");
        let text = run(OutputOptions::default(), &info, &[], Some(&stats(false)));
        parse(&text).unwrap();
    }

    #[test]
    fn interrupted_scan_is_well_formed_and_says_error() {
        let text = run(
            OutputOptions::default(),
            &scan_info(),
            &[one_open_999_closed()],
            Some(&stats(true)),
        );
        let doc = parse(&text).unwrap();
        let run = doc.root_element();
        assert_eq!(children(run, "host").len(), 1);
        let fin = child(child(run, "runstats"), "finished");
        assert_eq!(fin.attribute("exit"), Some("error"));
        assert_eq!(fin.attribute("errormsg"), Some("Scan interrupted"));
    }

    #[test]
    fn every_host_is_on_disk_before_end() {
        let text = run(
            OutputOptions::default(),
            &scan_info(),
            &[one_open_999_closed(), ipv6_host()],
            None,
        );
        assert!(text.ends_with("</host>\n"), "{text}");
        assert_eq!(text.matches("</host>").count(), 2);
    }

    #[test]
    fn tcp_reset_limit_says_reset() {
        let mut h = one_open_999_closed();
        h.icmp_rate_limit = Some(portolan_model::IcmpRateLimit {
            protocol: Protocol::Tcp,
            observed_per_sec: 200.0,
            unresolved: 0,
            exact: true,
        });
        let text = run(
            OutputOptions::default(),
            &mixed_scan_info(),
            &[h],
            Some(&stats(false)),
        );
        let doc = parse(&text).unwrap();
        let hosts = children(doc.root_element(), "host");
        let rl = child(hosts[0], "ratelimit");
        assert_eq!(rl.attribute("proto"), Some("tcp"));
        assert_eq!(rl.attribute("reply"), Some("reset"));
        assert_eq!(rl.attribute("persec"), Some("200.00"));
        assert_eq!(rl.attribute("exact"), Some("true"));
    }

    #[test]
    fn icmp_rate_limit_is_a_portolan_element_inside_host() {
        let text = run(
            OutputOptions::default(),
            &mixed_scan_info(),
            &[udp_rate_limited(), one_open_999_closed()],
            Some(&stats(false)),
        );
        let doc = parse(&text).unwrap();
        let hosts = children(doc.root_element(), "host");
        let rl = child(hosts[0], "ratelimit");
        assert_eq!(rl.attribute("proto"), Some("udp"));
        assert_eq!(rl.attribute("reply"), Some("icmp-port-unreach"));
        assert_eq!(rl.attribute("persec"), Some("1.00"));
        assert_eq!(rl.attribute("unresolved"), Some("992"));
        assert_eq!(rl.attribute("exact"), Some("false"));
        assert!(children(hosts[1], "ratelimit").is_empty());
    }

    #[test]
    fn tls_certificate_is_an_ssl_cert_script_element() {
        let text = run(
            OutputOptions::default(),
            &scan_info(),
            &[tls_host()],
            Some(&stats(false)),
        );
        let doc = parse(&text).unwrap();
        let port = doc
            .descendants()
            .find(|n| n.has_tag_name("port"))
            .expect("port");
        let script = child(port, "script");
        assert_eq!(script.attribute("id"), Some("ssl-cert"));
        assert_eq!(
            script.attribute("output"),
            Some(
                "Subject: commonName=portolan-test/organizationName=Portolan\n\
                 Subject Alternative Name: DNS:portolan.test\n\
                 Issuer: commonName=Portolan CA\n\
                 Not valid before: 2026-11-22T10:15:00\n\
                 Not valid after:  2026-11-24T10:15:00"
            )
        );
        let table = |key: &str| {
            children(script, "table")
                .into_iter()
                .find(|t| t.attribute("key") == Some(key))
                .unwrap_or_else(|| panic!("no table {key}"))
        };
        let elems = |t: Node<'_, '_>| -> Vec<(String, String)> {
            children(t, "elem")
                .iter()
                .map(|e| {
                    (
                        e.attribute("key").unwrap_or("").to_string(),
                        e.text().unwrap_or("").to_string(),
                    )
                })
                .collect()
        };
        assert_eq!(
            elems(table("subject")),
            [
                ("commonName".into(), "portolan-test".into()),
                ("organizationName".into(), "Portolan".into())
            ]
        );
        assert_eq!(
            elems(table("validity")),
            [
                ("notBefore".into(), "2026-11-22T10:15:00".into()),
                ("notAfter".into(), "2026-11-24T10:15:00".into())
            ]
        );
        // The script follows <service> inside <port>, as in nmap's files.
        let names: Vec<&str> = port
            .children()
            .filter(|c| c.is_element())
            .map(|c| c.tag_name().name())
            .collect();
        assert_eq!(names, ["state", "service", "script"]);
    }
}

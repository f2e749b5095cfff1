//! Tests of the XML output: element by element against nmap's layout,
//! escaping, and well-formedness after an interrupt.

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
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE nmaprun>\n"));
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
        tcp_icmp: false,
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

#[test]
fn an_incomplete_host_is_marked_and_reads_back_so() {
    let mut partial = one_open_999_closed();
    partial.ports.truncate(400);
    partial.incomplete = true;
    let done = RunStats {
        hosts_incomplete: 1,
        ..stats(true)
    };
    let text = run(
        OutputOptions::default(),
        &scan_info(),
        &[partial.clone()],
        Some(&done),
    );
    let doc = parse(&text).unwrap();
    let host = child(doc.root_element(), "host");
    assert!(host
        .attribute("comment")
        .is_some_and(|c| c.starts_with("scan incomplete")));
    // The ports found are kept.
    assert!(text.contains("<ports>"), "{text}");
    let back = crate::read::read_xml_str(&text).unwrap();
    assert_eq!(back.hosts, vec![partial]);
    assert_eq!(back.stats.unwrap().hosts_incomplete, 1);
}

#[test]
fn os_answers_are_nmaps_os_elements() {
    use portolan_model::{OsClass, OsMatch, OsReport, OsUptime};
    let mut host = one_open_999_closed();
    host.os = Some(OsReport {
        matches: vec![OsMatch {
            name: "Linux 6.1 - 6.12".into(),
            accuracy: 97,
            classes: vec![OsClass {
                device_type: "general purpose".into(),
                vendor: "Linux".into(),
                family: "Linux".into(),
                generation: Some("6.X".into()),
                accuracy: 97,
                cpe: vec!["cpe:/o:linux:linux_kernel:6".into()],
            }],
        }],
        distance: Some(2),
        uptime: Some(OsUptime {
            seconds: 3600,
            last_boot: 1795342500,
        }),
        fingerprint: "W=<script>".into(),
        ..OsReport::default()
    });
    let mut none = one_open_999_closed();
    none.os = Some(OsReport::not_enough("not enough evidence: no TCP reply"));
    let text = run(
        OutputOptions::default(),
        &scan_info(),
        &[host, none],
        Some(&stats(false)),
    );
    let doc = parse(&text).unwrap();
    let hosts = children(doc.root_element(), "host");
    let os = child(hosts[0], "os");
    let m = child(os, "osmatch");
    assert_eq!(m.attribute("name"), Some("Linux 6.1 - 6.12"));
    assert_eq!(m.attribute("accuracy"), Some("97"));
    let c = child(m, "osclass");
    assert_eq!(c.attribute("type"), Some("general purpose"));
    assert_eq!(c.attribute("osfamily"), Some("Linux"));
    assert_eq!(c.attribute("osgen"), Some("6.X"));
    assert_eq!(child(c, "cpe").text(), Some("cpe:/o:linux:linux_kernel:6"));
    assert_eq!(
        child(os, "osfingerprint").attribute("fingerprint"),
        Some("W=<script>")
    );
    assert_eq!(child(hosts[0], "uptime").attribute("seconds"), Some("3600"));
    assert_eq!(child(hosts[0], "distance").attribute("value"), Some("2"));
    // nmap's order: ports, os, uptime, distance.
    let names: Vec<&str> = hosts[0]
        .children()
        .filter(|n| n.is_element())
        .map(|n| n.tag_name().name())
        .collect();
    let at = |n: &str| names.iter().position(|x| *x == n).unwrap();
    assert!(at("ports") < at("os") && at("os") < at("uptime") && at("uptime") < at("distance"));
    let os = child(hosts[1], "os");
    assert!(children(os, "osmatch").is_empty());
    assert_eq!(
        os.attribute("nomatch"),
        Some("not enough evidence: no TCP reply")
    );
}

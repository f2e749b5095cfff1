//! XML reads into the model: portolan's own `-oX` back into what it
//! carries, nmap's real output (fixtures made by
//! `tests/fixtures/nmap/make-fixtures.sh`) exactly, hostile XML refused.

use super::{read_xml, read_xml_str};
use crate::testdata::*;
use crate::{xml, OutputOptions};
use portolan_model::{
    HostStatus, PortState, Protocol, Reason, ScanDocument, ScanType, ServiceMethod,
};
use proptest::prelude::*;
use std::collections::HashSet;
use std::time::Duration;

fn write(doc: &ScanDocument, opts: OutputOptions) -> String {
    let buf = SharedBuf::default();
    let mut out = xml(Box::new(buf.clone()), opts);
    out.begin(&doc.info).unwrap();
    for h in &doc.hosts {
        out.host(h).unwrap();
    }
    if let Some(st) = &doc.stats {
        out.end(st).unwrap();
    }
    buf.text()
}

/// `doc` as XML carries it (see the module docs of `read::xml`).
fn as_xml_carries(mut doc: ScanDocument, opts: OutputOptions) -> ScanDocument {
    doc.warnings.clear();
    for s in &mut doc.info.scans {
        if s.scan_type == ScanType::Custom {
            s.scan_type = ScanType::Syn;
        }
    }
    for h in &mut doc.hosts {
        let shown: HashSet<(u16, Protocol)> = h
            .port_summary(opts.verbose, opts.open_only)
            .shown
            .iter()
            .map(|p| (p.port, p.protocol))
            .collect();
        for p in &mut h.ports {
            if !shown.contains(&(p.port, p.protocol)) {
                p.reason_ttl = 0;
                p.service = None;
            }
        }
        if h.timed_out || h.status != HostStatus::Up {
            h.ports.clear();
        }
        h.latency = h
            .latency
            .map(|d| Duration::from_micros(d.as_micros() as u64));
        if let Some(rl) = &mut h.icmp_rate_limit {
            rl.observed_per_sec = format!("{:.2}", rl.observed_per_sec).parse().unwrap();
        }
    }
    if let Some(st) = &mut doc.stats {
        st.elapsed = format!("{:.2}", st.elapsed).parse().unwrap();
        if st.error.is_some() {
            st.interrupted = false;
        }
    }
    doc
}

#[test]
fn portolan_xml_reads_back_what_it_carries() {
    let mut info = mixed_scan_info();
    info.verbose = 1;
    info.scans[0].scan_type = ScanType::Custom;
    let mut st = stats(true);
    st.elapsed = 4.56789;
    let interrupted = ScanDocument {
        info,
        hosts: vec![
            one_open_999_closed(),
            mixed_tcp_udp(),
            ipv6_host(),
            down_host(),
            timed_out_host(),
            udp_rate_limited(),
            all_closed(),
            tls_host(),
            every_state(),
        ],
        warnings: vec!["a warning".into()],
        stats: Some(st),
    };
    let mut failed = interrupted.clone();
    failed.info.verbose = 0;
    failed.hosts.retain(|h| h.status == HostStatus::Up);
    failed.stats.as_mut().unwrap().error = Some("send failed".into());
    for (doc, verbose) in [(interrupted, 1), (failed, 0)] {
        let opts = OutputOptions {
            verbose,
            ..Default::default()
        };
        let text = write(&doc, opts);
        let back = read_xml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(back, as_xml_carries(doc, opts));
    }
}

fn fixture(name: &str) -> ScanDocument {
    let path = format!("{}/tests/fixtures/nmap/{name}", env!("CARGO_MANIFEST_DIR"));
    let file = std::fs::File::open(&path).unwrap();
    read_xml(file).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `port/proto state reason ttl service product version`, one per port.
fn port_lines(doc: &ScanDocument) -> Vec<String> {
    doc.hosts[0]
        .ports
        .iter()
        .filter(|p| p.state != PortState::Closed || p.service.is_some())
        .map(|p| {
            let s = p.service.as_deref();
            format!(
                "{}/{} {} {} {} {} {} {}",
                p.port,
                p.protocol,
                p.state,
                p.reason,
                p.reason_ttl,
                s.map_or("-", |s| &s.name),
                s.and_then(|s| s.product.as_deref()).unwrap_or("-"),
                s.and_then(|s| s.version.as_deref()).unwrap_or("-"),
            )
        })
        .collect()
}

#[test]
fn nmap_syn_version_scan() {
    let doc = fixture("tcp-syn-version.xml");
    assert_eq!(doc.info.version, "7.93");
    assert_eq!(doc.info.start_time, 1_796_402_922);
    assert_eq!(doc.info.scans.len(), 1);
    assert_eq!(doc.info.scans[0].scan_type, ScanType::Syn);
    assert_eq!(doc.info.scans[0].num_services, 101);
    assert_eq!(doc.info.scans[0].services, "1-100,8000");
    assert_eq!(doc.hosts.len(), 1, "the hosthint is not a host");
    let h = &doc.hosts[0];
    assert_eq!(h.addr.to_string(), "198.18.0.2");
    assert_eq!(h.status, HostStatus::Up);
    assert_eq!(h.reason, Reason::ArpResponse);
    assert_eq!(h.mac.as_ref().unwrap().to_string(), "02:00:00:00:00:02");
    assert_eq!(h.mac.as_ref().unwrap().vendor, None);
    assert_eq!((h.start_time, h.end_time), (1_796_402_936, 1_796_402_943));
    assert_eq!(h.latency, Some(Duration::from_micros(9)));
    assert_eq!(h.ports.len(), 101);
    let closed: Vec<u16> = h.ports_in(PortState::Closed, Protocol::Tcp);
    assert_eq!(closed.len(), 96);
    assert!(h
        .ports
        .iter()
        .filter(|p| p.state == PortState::Closed)
        .all(|p| p.reason == Reason::Reset && p.reason_ttl == 0 && p.service.is_none()));
    assert_eq!(
        port_lines(&doc),
        [
            "21/tcp open syn-ack 64 ftp ProFTPD -",
            "22/tcp open syn-ack 64 ssh OpenSSH 9.2p1 Debian 2+deb12u10",
            "81/tcp filtered no-response 0 hosts2-ns - -",
            "82/tcp filtered admin-prohibited 64 xfer - -",
            "8000/tcp open syn-ack 64 http SimpleHTTPServer 0.6",
        ]
    );
    let ssh = h.ports.iter().find(|p| p.port == 22).unwrap();
    let s = ssh.service.as_deref().unwrap();
    assert_eq!(s.method, ServiceMethod::Probed);
    assert_eq!(s.conf, 10);
    assert_eq!(s.extrainfo.as_deref(), Some("protocol 2.0"));
    assert_eq!(s.ostype.as_deref(), Some("Linux"));
    assert_eq!(
        s.cpe,
        ["cpe:/a:openbsd:openssh:9.2p1", "cpe:/o:linux:linux_kernel"]
    );
    let ftp = h.ports.iter().find(|p| p.port == 21).unwrap();
    assert_eq!(
        ftp.service.as_ref().unwrap().hostname.as_deref(),
        Some("fixture")
    );
    let http = h.ports.iter().find(|p| p.port == 8000).unwrap();
    assert_eq!(
        http.service.as_ref().unwrap().extrainfo.as_deref(),
        Some("Python 3.11.7")
    );
    let st = doc.stats.unwrap();
    assert_eq!((st.end_time, st.elapsed), (1_796_402_944, 21.24));
    assert_eq!((st.hosts_up, st.hosts_down), (1, 0));
    assert!(!st.interrupted && st.error.is_none());
}

#[test]
fn nmap_udp_scan() {
    let doc = fixture("udp.xml");
    assert_eq!(doc.info.scans[0].scan_type, ScanType::Udp);
    assert_eq!(doc.info.scans[0].protocol, Protocol::Udp);
    assert_eq!(
        port_lines(&doc),
        [
            "53/udp closed port-unreach 64 domain - -",
            "161/udp open|filtered no-response 0 snmp - -",
            "5000/udp open udp-response 64 upnp - -",
            "5001/udp closed port-unreach 64 commplex-link - -",
            "5002/udp filtered admin-prohibited 64 rfe - -",
        ]
    );
    let s = doc.hosts[0].ports[0].service.as_deref().unwrap();
    assert_eq!((s.method, s.conf), (ServiceMethod::Table, 3));
}

#[test]
fn nmap_ping_sweep() {
    let doc = fixture("ping-sweep.xml");
    assert!(doc.info.scans.is_empty());
    let hosts: Vec<String> = doc
        .hosts
        .iter()
        .map(|h| {
            format!(
                "{} {} {} {}",
                h.addr,
                h.status.as_str(),
                h.reason,
                h.ports.len()
            )
        })
        .collect();
    assert_eq!(
        hosts,
        [
            "198.18.0.2 up arp-response 0",
            "198.18.0.1 up localhost-response 0"
        ]
    );
    assert_eq!(doc.hosts[0].start_time, 0, "nmap -sn writes no host times");
    assert!(doc.hosts[1].mac.is_none());
    let st = doc.stats.unwrap();
    assert_eq!((st.hosts_up, st.hosts_down, st.hosts_total()), (2, 2, 4));
}

#[test]
fn nmap_ipv6_connect_scan() {
    let doc = fixture("ipv6-connect.xml");
    assert_eq!(doc.info.scans[0].scan_type, ScanType::Connect);
    let h = &doc.hosts[0];
    assert_eq!(h.addr.to_string(), "2001:2::2");
    assert_eq!(h.reason, Reason::NdResponse);
    assert_eq!(
        port_lines(&doc),
        [
            "21/tcp open syn-ack 0 ftp - -",
            "22/tcp open syn-ack 0 ssh - -",
            "80/tcp closed conn-refused 0 http - -",
            "8000/tcp open syn-ack 0 http-alt - -",
        ]
    );
}

fn refused(text: &str) -> String {
    match read_xml_str(text) {
        Err(e) => e.to_string(),
        Ok(d) => panic!("accepted: {d:?}"),
    }
}

#[test]
fn hostile_xml_is_refused_or_bounded() {
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE nmaprun [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><nmaprun args="&c;"/>"#;
    assert!(refused(laughs).contains("DTD"));
    let external =
        r#"<?xml version="1.0"?><!DOCTYPE nmaprun SYSTEM "file:///etc/passwd"><nmaprun args="x"/>"#;
    let _ = read_xml_str(external); // no fetch, no panic either way
    let subset = r#"<!DOCTYPE nmaprun [ <!ELEMENT nmaprun ANY> ]><nmaprun/>"#;
    assert!(refused(subset).contains("DTD"));
    let undeclared = r#"<nmaprun args="&x;"/>"#;
    assert!(refused(undeclared).starts_with("XML at 1:"));
    // A huge attribute is just a long string: read, bounded by the input.
    let huge = format!(r#"<nmaprun args="{}"/>"#, "A".repeat(8 << 20));
    assert_eq!(read_xml_str(&huge).unwrap().info.args.len(), 8 << 20);
    // Deep nesting: no recursion in the reader, no stack overflow.
    let deep = format!(
        "<nmaprun>{}{}</nmaprun>",
        "<a>".repeat(100_000),
        "</a>".repeat(100_000)
    );
    assert!(refused(&deep).contains("nested deeper than 64"));
    assert!(refused("<nmap/>").contains("root element is not <nmaprun>"));
    let bad_port = r#"<nmaprun><host><status state="up" reason="syn-ack"/><address addr="198.18.0.2" addrtype="ipv4"/><ports><port protocol="tcp" portid="99999"><state state="open" reason="syn-ack"/></port></ports></host></nmaprun>"#;
    let e = refused(bad_port);
    assert!(
        e.contains("<port>") && e.contains("bad portid=\"99999\""),
        "{e}"
    );
    let bad_state = bad_port
        .replace("99999", "1")
        .replace("state=\"open\"", "state=\"opn\"");
    assert!(refused(&bad_state).contains("unknown state=\"opn\""));
    let big = std::io::repeat(b' ').take(4097);
    let e = super::read_xml_bounded(big, 4096).unwrap_err().to_string();
    assert_eq!(e, "XML: input larger than 4096 bytes");
}

use std::io::Read as _;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// nmap's real output with one byte changed, or cut short, never panics.
    #[test]
    fn mutated_nmap_xml_never_panics(at in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<bool>()) {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/nmap/tcp-syn-version.xml");
        let mut bytes = std::fs::read(path).unwrap();
        let i = at.index(bytes.len());
        if cut { bytes.truncate(i) } else { bytes[i] = byte }
        let _ = read_xml(&bytes[..]);
    }
}

#[test]
fn os_answers_read_back() {
    use portolan_model::{OsClass, OsMatch, OsReport, OsUptime};
    let mut doc = ScanDocument::new(scan_info());
    let mut h = one_open_999_closed();
    h.end_time = 1_795_342_600;
    h.os = Some(OsReport {
        matches: vec![OsMatch {
            name: "Linux 6.18".into(),
            accuracy: 97,
            classes: vec![OsClass {
                device_type: "general purpose".into(),
                vendor: "Linux".into(),
                family: "Linux".into(),
                generation: Some("6.X".into()),
                accuracy: 97,
                cpe: vec!["cpe:/o:linux:linux_kernel:6.18".into()],
            }],
        }],
        distance: Some(1),
        uptime: Some(OsUptime {
            seconds: 100,
            last_boot: 1_795_342_500,
        }),
        fingerprint: "ttl=64 opts=MSTNW".into(),
        no_match: None,
    });
    let mut none = one_open_999_closed();
    none.addr = "198.18.0.9".parse().unwrap();
    none.os = Some(OsReport::not_enough(
        "not enough evidence: no TCP port answered",
    ));
    doc.hosts = vec![h.clone(), none.clone()];
    doc.stats = Some(stats(false));
    let back = read_xml_str(&write(&doc, OutputOptions::default())).unwrap();
    assert_eq!(back.hosts[0].os, h.os);
    assert_eq!(back.hosts[1].os, none.os);
}

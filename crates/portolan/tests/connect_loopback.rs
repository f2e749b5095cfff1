//! `-sT` against listeners on 127.0.0.1, checked in every output format.

mod common;
use common::{run, stdout, Loopback};
use std::collections::BTreeMap;

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("portolan-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn normal_output_lists_open_ports_and_summarises_closed_ones() {
    let lo = Loopback::new(3, 40);
    let out = run(&["-sT", "-n", "-Pn", "-p", &lo.port_list(), "127.0.0.1"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(text.starts_with("Starting Portolan "), "{text}");
    assert!(
        text.contains("Portolan scan report for 127.0.0.1\n"),
        "{text}"
    );
    assert!(text.contains("Host is up"), "{text}");
    assert!(
        text.contains("Not shown: 40 closed tcp ports (conn-refused)"),
        "{text}"
    );
    for p in &lo.open {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{p}/tcp ")))
            .unwrap_or_else(|| panic!("no line for {p}: {text}"));
        assert!(line.contains(" open "), "{line}");
    }
    assert!(
        text.contains("Portolan done: 1 IP address (1 host up) scanned in"),
        "{text}"
    );
}

#[test]
fn every_format_carries_the_exact_states() {
    let lo = Loopback::new(4, 30);
    let base = tmp("all");
    let json = tmp("scan.json");
    let out = run(&[
        "-sT",
        "-Pn",
        "-n",
        "--reason",
        "-p",
        &lo.port_list(),
        "-oA",
        base.to_str().unwrap(),
        "-oJ",
        json.to_str().unwrap(),
        "127.0.0.1",
    ]);
    assert!(out.status.success(), "{out:?}");

    // XML, read with an independent parser.
    let xml = std::fs::read_to_string(base.with_extension("xml")).unwrap();
    let doc = roxmltree::Document::parse_with_options(
        &xml,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "nmaprun");
    assert_eq!(root.attribute("scanner"), Some("portolan"));
    let scaninfo = root
        .children()
        .find(|n| n.has_tag_name("scaninfo"))
        .unwrap();
    assert_eq!(scaninfo.attribute("type"), Some("connect"));
    assert_eq!(scaninfo.attribute("numservices"), Some("34"));
    let mut xml_states = BTreeMap::new();
    for port in doc.descendants().filter(|n| n.has_tag_name("port")) {
        let id: u16 = port.attribute("portid").unwrap().parse().unwrap();
        let state = port.children().find(|n| n.has_tag_name("state")).unwrap();
        xml_states.insert(
            id,
            (
                state.attribute("state").unwrap().to_string(),
                state.attribute("reason").unwrap().to_string(),
            ),
        );
    }
    for p in &lo.open {
        assert_eq!(xml_states[p], ("open".to_string(), "syn-ack".to_string()));
    }
    let extra = doc
        .descendants()
        .find(|n| n.has_tag_name("extraports"))
        .unwrap();
    assert_eq!(extra.attribute("state"), Some("closed"));
    assert_eq!(extra.attribute("count"), Some("30"));
    let hosts = doc.descendants().find(|n| n.has_tag_name("hosts")).unwrap();
    assert_eq!(hosts.attribute("up"), Some("1"));
    let finished = doc
        .descendants()
        .find(|n| n.has_tag_name("finished"))
        .unwrap();
    assert_eq!(finished.attribute("exit"), Some("success"));

    // Grepable.
    let gnmap = std::fs::read_to_string(base.with_extension("gnmap")).unwrap();
    let ports_line = gnmap.lines().find(|l| l.contains("\tPorts: ")).unwrap();
    for p in &lo.open {
        assert!(
            ports_line.contains(&format!("{p}/open/tcp//")),
            "{ports_line}"
        );
    }
    assert!(
        ports_line.contains("Ignored State: closed (30)"),
        "{ports_line}"
    );

    // Normal file.
    let nmap = std::fs::read_to_string(base.with_extension("nmap")).unwrap();
    assert!(
        nmap.contains("Not shown: 30 closed tcp ports (conn-refused)"),
        "{nmap}"
    );

    // JSON lines.
    let text = std::fs::read_to_string(&json).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.first().unwrap()["type"], "scan");
    assert_eq!(lines.last().unwrap()["type"], "end");
    let host = lines.iter().find(|l| l["type"] == "host").unwrap();
    let open: Vec<u64> = host["ports"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["state"] == "open")
        .map(|p| p["port"].as_u64().unwrap())
        .collect();
    let mut want: Vec<u64> = lo.open.iter().map(|&p| u64::from(p)).collect();
    want.sort_unstable();
    let mut got = open.clone();
    got.sort_unstable();
    assert_eq!(got, want);
}

#[test]
fn xml_to_stdout_replaces_normal_output() {
    let lo = Loopback::new(1, 2);
    let out = run(&["-sT", "-Pn", "-p", &lo.port_list(), "-oX", "-", "127.0.0.1"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.starts_with("<?xml"), "{text}");
    assert!(!text.contains("Starting Portolan"));
}

#[test]
fn ipv6_loopback_is_scanned() {
    let Ok(l) = std::net::TcpListener::bind("[::1]:0") else {
        eprintln!("skipped: no IPv6 loopback");
        return;
    };
    let port = l.local_addr().unwrap().port();
    let out = run(&[
        "-sT",
        "-Pn",
        "-6",
        "-p",
        &port.to_string(),
        "-oG",
        "-",
        "::1",
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out).contains(&format!("{port}/open/tcp//")),
        "{}",
        stdout(&out)
    );
}

#[test]
fn reverse_names_with_dash_r() {
    let lo = Loopback::new(1, 0);
    let out = run(&["-sT", "-Pn", "-R", "-p", &lo.port_list(), "127.0.0.1"]);
    assert!(out.status.success());
    // /etc/hosts names 127.0.0.1 on every system this runs on.
    assert!(
        stdout(&out).contains("Portolan scan report for localhost (127.0.0.1)"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn stats_every_reports_progress_on_stderr() {
    let out = run(&[
        "-sT",
        "-Pn",
        "-n",
        "-p1-3000",
        "--max-rate",
        "10000",
        "--stats-every",
        "50ms",
        "127.0.0.1",
    ]);
    assert!(out.status.success());
    let err = common::stderr(&out);
    assert!(
        err.contains("Stats: ") && err.contains("Connect Scan Timing: About "),
        "{err}"
    );
}

#[test]
fn version_detection_names_a_banner_service() {
    use std::io::Write;
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut c in l.incoming().flatten() {
            let _ = c.write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    });
    let out = run(&[
        "-sT",
        "-sV",
        "-Pn",
        "-n",
        "-p",
        &port.to_string(),
        "-oX",
        "-",
        "127.0.0.1",
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let xml = stdout(&out);
    assert!(xml.contains("product=\"OpenSSH\""), "{xml}");
    assert!(
        xml.contains("version=\"9.2p1 Debian 2+deb12u3\"") || xml.contains("version=\"9.2p1"),
        "{xml}"
    );
    assert!(xml.contains("method=\"probed\""), "{xml}");
}

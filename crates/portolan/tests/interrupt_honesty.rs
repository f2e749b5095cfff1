//! After Ctrl-C the report says what was scanned and no more: hosts not
//! begun are left out, hosts caught mid-scan keep the ports found so far
//! and are marked incomplete, and the closing line counts only what was
//! reported. The same for connect and raw scans, with and without
//! discovery.

mod common;
use common::portolan;
use std::collections::BTreeSet;
use std::net::{Ipv4Addr, TcpListener};
use std::time::Duration;

/// Listeners on the first free ports from 1024 up: with `-r` a scan of
/// `-p 1024-65535` reaches them first, so they are found before any
/// interrupt.
fn low_listeners(n: usize) -> (Vec<TcpListener>, BTreeSet<u16>) {
    let listeners: Vec<TcpListener> = (1024u16..2048)
        .filter_map(|p| TcpListener::bind((Ipv4Addr::LOCALHOST, p)).ok())
        .take(n)
        .collect();
    let ports = listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect();
    (listeners, ports)
}

/// One `<host>` of the XML: address, status, whether marked incomplete,
/// the ports it accounts for (listed and summarised), and its open ports.
struct Host {
    addr: String,
    status: String,
    incomplete: bool,
    accounted: u64,
    open: BTreeSet<u16>,
}

fn hosts_of(xml: &str) -> (Vec<Host>, u64) {
    let doc = roxmltree::Document::parse_with_options(
        xml,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .expect("interrupted XML is well-formed");
    let hosts = doc
        .descendants()
        .filter(|n| n.has_tag_name("host"))
        .map(|h| {
            let ports: Vec<_> = h.descendants().filter(|n| n.has_tag_name("port")).collect();
            let extra: u64 = h
                .descendants()
                .filter(|n| n.has_tag_name("extraports"))
                .map(|e| e.attribute("count").unwrap().parse::<u64>().unwrap())
                .sum();
            Host {
                addr: h
                    .children()
                    .find(|n| n.has_tag_name("address"))
                    .and_then(|a| a.attribute("addr"))
                    .unwrap()
                    .to_string(),
                status: h
                    .children()
                    .find(|n| n.has_tag_name("status"))
                    .and_then(|s| s.attribute("state"))
                    .unwrap()
                    .to_string(),
                incomplete: h
                    .attribute("comment")
                    .is_some_and(|c| c.starts_with("scan incomplete")),
                accounted: ports.len() as u64 + extra,
                open: ports
                    .iter()
                    .filter(|p| {
                        p.children()
                            .find(|s| s.has_tag_name("state"))
                            .and_then(|s| s.attribute("state"))
                            == Some("open")
                    })
                    .map(|p| p.attribute("portid").unwrap().parse().unwrap())
                    .collect(),
            }
        })
        .collect();
    let total = doc
        .descendants()
        .find(|n| n.has_tag_name("hosts"))
        .and_then(|n| n.attribute("total"))
        .unwrap()
        .parse()
        .unwrap();
    (hosts, total)
}

/// Scans `targets` with `args`, ports 1024-65535 in order at 3000 probes
/// a second, interrupts after 1.5 s, and checks the report's honesty;
/// returns the hosts for further checks.
fn interrupted(args: &[&str], targets: &str, open: &BTreeSet<u16>) -> Vec<Host> {
    // One directory per scan: tests run in parallel, and two of them
    // take the same flags to different targets.
    let dir = std::env::temp_dir().join(format!(
        "portolan-honest-{}-{}-{targets}",
        std::process::id(),
        args.join("")
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let xml = dir.join("scan.xml");
    let json = dir.join("scan.json");
    let child = portolan()
        .args(args)
        .args(["-n", "-r", "-p", "1024-65535", "--max-rate", "3000"])
        .args(["-oX", xml.to_str().unwrap(), "-oJ", json.to_str().unwrap()])
        .arg(targets)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{args:?}");
    let normal = String::from_utf8_lossy(&out.stdout).to_string();
    let (hosts, total) = hosts_of(&std::fs::read_to_string(&xml).unwrap());
    let n_targets = if targets.contains('-') { 200 } else { 1 };
    assert!(
        hosts.len() < n_targets || hosts.iter().any(|h| h.incomplete),
        "{args:?}: an interrupt 1.5 s into a long scan left nothing unfinished"
    );
    // The closing line counts the hosts reported, no more.
    assert_eq!(total, hosts.len() as u64, "{args:?}: {normal}");
    let phrase = match hosts.len() {
        1 => "1 IP address".to_string(),
        n => format!("{n} IP addresses"),
    };
    assert!(
        normal.contains(&format!("Portolan done: {phrase}")),
        "{normal}"
    );
    for h in &hosts {
        assert_eq!(h.status, "up", "{args:?} {}", h.addr);
        if h.incomplete {
            assert!(
                h.accounted < 64512,
                "{args:?} {}: marked incomplete",
                h.addr
            );
        } else {
            assert_eq!(
                h.accounted, 64512,
                "{args:?} {}: every port accounted for",
                h.addr
            );
        }
        // What was found is kept: on 127.0.0.1 every listener of the
        // test (scanned first, with -r) is reported open. (Other tests and
        // services may listen too, so more may be open.)
        if h.addr == "127.0.0.1" {
            assert!(
                open.is_subset(&h.open),
                "{args:?}: open ports found before the interrupt: {:?}",
                h.open
            );
        }
    }
    let incomplete = hosts.iter().filter(|h| h.incomplete).count();
    if incomplete > 0 {
        assert!(
            normal.contains("Note: the scan of this host was interrupted"),
            "{normal}"
        );
    }
    // JSON says the same: the same hosts, the same marks and counts.
    let json = std::fs::read_to_string(&json).unwrap();
    let lines: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let jhosts: Vec<&serde_json::Value> = lines.iter().filter(|l| l["type"] == "host").collect();
    assert_eq!(jhosts.len(), hosts.len());
    assert_eq!(
        jhosts.iter().filter(|h| h["incomplete"] == true).count(),
        incomplete
    );
    let end = lines.last().unwrap();
    assert_eq!(end["type"], "end");
    assert_eq!(end["interrupted"], true);
    assert_eq!(end["hosts_total"], hosts.len() as u64);
    assert_eq!(end["hosts_incomplete"], incomplete as u64);
    hosts
}

#[test]
fn connect_scan_reports_a_partly_scanned_host_with_what_it_found() {
    let (_l, open) = low_listeners(5);
    let hosts = interrupted(&["-sT", "-Pn"], "127.0.0.1", &open);
    assert!(hosts.len() == 1 && hosts[0].incomplete);
}

#[test]
fn connect_scan_leaves_out_hosts_not_begun() {
    let (_l, open) = low_listeners(3);
    let hosts = interrupted(&["-sT", "-Pn"], "127.0.0.1-200", &open);
    assert!(hosts.len() < 200, "{} hosts reported", hosts.len());
}

#[test]
fn connect_scan_after_discovery_reports_no_unscanned_up_hosts() {
    // Discovery finds all 200 up at once; the port scan reaches a few.
    let (_l, open) = low_listeners(3);
    let hosts = interrupted(&["-sT"], "127.0.0.1-200", &open);
    assert!(hosts.len() < 200, "{} hosts reported", hosts.len());
}

#[test]
fn raw_scans_are_as_honest_as_connect_scans() {
    if !portolan_testbed::require_root_only() {
        return;
    }
    let (_l, open) = low_listeners(5);
    let hosts = interrupted(&["-sS", "-Pn"], "127.0.0.1", &open);
    assert!(hosts.len() == 1 && hosts[0].incomplete);
    interrupted(&["-sS", "-Pn"], "127.0.0.1-200", &open);
    // Pipelined raw discovery (the issue's `-sS -p- 127.0.0.0/24`).
    interrupted(&["-sS"], "127.0.0.1-200", &open);
}

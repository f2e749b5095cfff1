//! Host discovery through the binary against a namespace testbed: a host
//! that answers only ICMP (TCP dropped), one that answers only TCP to port
//! 443 (ICMP and every other TCP port dropped, a listener on 443) and one
//! that answers nothing. Up/down and the reason are asserted for the
//! default discovery and for -PE, -PS and -PA; then -sn's and the port
//! scan's output, the all-down hint, the list scan and the unprivileged
//! (connect) path. Needs root; skipped, saying so, without it.
//!
//! Each target sits on its own veth link with its own scanner address, and
//! a raw scan uses the interface and source of its first target's route,
//! so every raw run here scans one target.

mod common;
use portolan_testbed::{require_root, Rule, Testbed};
use std::collections::BTreeMap;
use std::process::Output;

const ICMP_ONLY: usize = 0;
const TCP_443_ONLY: usize = 1;
const SILENT: usize = 2;

fn testbed() -> Testbed {
    let mut tb = Testbed::builder("disc")
        .targets(3)
        .build()
        .expect("testbed");
    tb.target(ICMP_ONLY)
        .unwrap()
        .nft(Rule::Raw {
            output: false,
            text: "meta l4proto tcp drop".into(),
        })
        .unwrap();
    tb.target(TCP_443_ONLY)
        .unwrap()
        .tcp_listen(&[443])
        .unwrap()
        .nft(Rule::Raw {
            output: false,
            text: "meta l4proto { icmp, ipv6-icmp } drop".into(),
        })
        .unwrap()
        .nft(Rule::Raw {
            output: false,
            text: "tcp dport != 443 drop".into(),
        })
        .unwrap();
    tb.target(SILENT).unwrap().nft_silent().unwrap();
    tb
}

fn targets(tb: &Testbed) -> Vec<String> {
    (0..3).map(|i| tb.target_addr(i).to_string()).collect()
}

/// A run with IP pings: every target is on the scanner's Ethernet
/// segment, where ARP would otherwise replace them.
fn portolan(tb: &Testbed, args: &[&str], target: usize) -> Output {
    let addr = tb.target_addr(target).to_string();
    let mut all = vec!["-n", "-T4", "--max-retries", "1", "--disable-arp-ping"];
    all.extend_from_slice(args);
    all.push(&addr);
    common::run_in_scanner(tb, &all)
}

/// A host's state and reason.
type Status = (String, String);

/// Address -> (state, reason) of every host in an XML report.
fn statuses(xml: &str) -> BTreeMap<String, Status> {
    common::host_statuses(xml)
}

#[test]
fn up_and_down_with_each_technique() {
    if !require_root() {
        return;
    }
    let tb = testbed();
    let t = targets(&tb);
    let up = |r: &str| ("up".to_string(), r.to_string());
    let down = || ("down".to_string(), "no-response".to_string());
    // (flags, expected state and reason of ICMP_ONLY, TCP_443_ONLY, SILENT);
    // `None` reason: any of the ICMP answers.
    let cases: Vec<(Vec<&str>, [Option<Status>; 3])> = vec![
        (vec![], [None, Some(up("syn-ack")), Some(down())]),
        (
            vec!["-PE"],
            [Some(up("echo-reply")), Some(down()), Some(down())],
        ),
        (
            vec!["-PS443"],
            [Some(down()), Some(up("syn-ack")), Some(down())],
        ),
        (vec!["-PS"], [Some(down()), Some(down()), Some(down())]),
        (
            vec!["-PA443"],
            [Some(down()), Some(up("reset")), Some(down())],
        ),
        (vec!["-PA"], [Some(down()), Some(down()), Some(down())]),
        (
            vec!["-PP"],
            [Some(up("timestamp-reply")), Some(down()), Some(down())],
        ),
    ];
    for (flags, want) in cases {
        let mut args = vec!["-sn", "-v", "-oX", "-"];
        args.extend(&flags);
        for (i, w) in want.iter().enumerate() {
            let out = portolan(&tb, &args, i);
            let got = statuses(&String::from_utf8(out.stdout).unwrap());
            assert_eq!(got.len(), 1, "{flags:?}: {got:?}");
            let g = &got[&t[i]];
            match w {
                Some(w) => assert_eq!(g, w, "{flags:?} target {i}"),
                None => assert!(
                    g.0 == "up" && ["echo-reply", "timestamp-reply"].contains(&g.1.as_str()),
                    "{flags:?} target {i}: {g:?}"
                ),
            }
        }
    }
}

#[test]
fn default_discovery_on_a_segment_is_arp() {
    if !require_root() {
        return;
    }
    let tb = testbed();
    let t = targets(&tb);
    // Every target is a neighbour: ARP replaces the IP pings, so even the
    // host that drops all IP is up (it answers ARP), with its MAC address.
    for i in [ICMP_ONLY, TCP_443_ONLY, SILENT] {
        let out = common::run_in_scanner(&tb, &["-n", "-T4", "-sn", "-oX", "-", &t[i]]);
        let xml = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            statuses(&xml)[&t[i]],
            ("up".to_string(), "arp-response".to_string()),
            "target {i}: {xml}"
        );
        assert!(xml.contains(r#"addrtype="mac""#), "{xml}");
    }
    // A neighbour found by ARP is port-scanned like any up host.
    let out = common::run_in_scanner(
        &tb,
        &["-n", "-T4", "-p", "443", "-oX", "-", &t[TCP_443_ONLY]],
    );
    let xml = String::from_utf8(out.stdout).unwrap();
    assert_eq!(statuses(&xml)[&t[TCP_443_ONLY]].1, "arp-response", "{xml}");
    assert!(
        xml.contains(r#"<state state="open" reason="syn-ack""#),
        "{xml}"
    );
    // The user's IP pings give way to ARP too, as in nmap...
    let out = common::run_in_scanner(
        &tb,
        &["-n", "-T4", "-sn", "-v", "-PE", "-oX", "-", &t[SILENT]],
    );
    let xml = String::from_utf8(out.stdout).unwrap();
    assert_eq!(statuses(&xml)[&t[SILENT]].1, "arp-response", "{xml}");
    // ...unless --disable-arp-ping.
    let out = portolan(&tb, &["-sn", "-v", "-PE", "-oX", "-"], SILENT);
    let xml = String::from_utf8(out.stdout).unwrap();
    assert_eq!(statuses(&xml)[&t[SILENT]].0, "down", "{xml}");
}

#[test]
fn neighbours_by_arp_and_routed_hosts_by_ip_pings_in_one_run() {
    if !require_root() {
        return;
    }
    let mut tb = testbed();
    // 198.19.0.0/16 is routed through the ICMP-only target: a router's
    // far side, not a neighbour. 198.19.0.1 answers, 198.19.0.2 does not.
    tb.sweep16(ICMP_ONLY).expect("routed /16");
    let near = tb.target_addr(ICMP_ONLY).to_string();
    let out = common::run_in_scanner(
        &tb,
        &[
            "-n",
            "-T4",
            "--max-retries",
            "1",
            "-sn",
            "-v",
            "-oX",
            "-",
            &near,
            "198.19.0.1",
            "198.19.0.2",
        ],
    );
    let xml = String::from_utf8(out.stdout).unwrap();
    let got = statuses(&xml);
    let up = |r: &str| ("up".to_string(), r.to_string());
    assert_eq!(got[&near], up("arp-response"), "{xml}");
    // Whichever ICMP ping is answered first (TCP is dropped there).
    let (state, reason) = &got["198.19.0.1"];
    assert!(
        state == "up" && ["echo-reply", "timestamp-reply"].contains(&reason.as_str()),
        "{xml}"
    );
    assert_eq!(got["198.19.0.2"].0, "down", "{xml}");
    assert!(
        xml.contains(r#"<hosts up="2" down="1" total="3"/>"#),
        "{xml}"
    );
}

#[test]
fn ping_scan_and_port_scan_output() {
    if !require_root() {
        return;
    }
    let tb = testbed();
    let t = targets(&tb);

    for i in [ICMP_ONLY, TCP_443_ONLY] {
        let out = portolan(&tb, &["-sn"], i);
        let text = String::from_utf8(out.stdout).unwrap();
        let report = format!("Portolan scan report for {}\nHost is up (", t[i]);
        assert!(text.contains(&report), "{text}");
        assert!(!text.contains("PORT"), "{text}");
        assert!(
            text.contains("Portolan done: 1 IP address (1 host up)"),
            "{text}"
        );
        assert!(!text.contains("Host seems down"), "{text}");
    }

    // Without -v a down host is not shown; with -v it is, as nmap does.
    let out = portolan(&tb, &["-sn"], SILENT);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("scan report"), "{text}");
    let out = portolan(&tb, &["-sn", "-v", "--reason"], SILENT);
    let text = String::from_utf8(out.stdout).unwrap();
    let down = format!(
        "Portolan scan report for {} [host down, received no-response]",
        t[SILENT]
    );
    assert!(text.contains(&down), "{text}");

    // The port scan runs over up hosts only, with discovery's reason.
    let out = portolan(&tb, &["-p", "443", "-oX", "-", "-v"], TCP_443_ONLY);
    let xml = String::from_utf8(out.stdout).unwrap();
    assert_eq!(statuses(&xml)[&t[TCP_443_ONLY]].1, "syn-ack", "{xml}");
    assert!(
        xml.contains(r#"<state state="open" reason="syn-ack""#),
        "{xml}"
    );
    let out = portolan(&tb, &["-p", "443", "-oX", "-", "-v"], ICMP_ONLY);
    let xml = String::from_utf8(out.stdout).unwrap();
    assert_eq!(statuses(&xml)[&t[ICMP_ONLY]].0, "up", "{xml}");
    assert!(xml.contains(r#"<state state="filtered""#), "{xml}");
    let out = portolan(&tb, &["-p", "443", "-oX", "-", "-v"], SILENT);
    let xml = String::from_utf8(out.stdout).unwrap();
    assert_eq!(statuses(&xml)[&t[SILENT]].0, "down", "{xml}");
    assert!(
        !xml.contains("<port "),
        "a down host costs no port probes: {xml}"
    );
    assert!(
        xml.contains(r#"<hosts up="0" down="1" total="1"/>"#),
        "{xml}"
    );
}

#[test]
fn every_host_down_prints_the_hint() {
    if !require_root() {
        return;
    }
    let tb = testbed();
    let silent = tb.target_addr(SILENT).to_string();
    for extra in [&["-sn"][..], &["-p", "22"][..]] {
        let mut cmd = tb.scanner_command(env!("CARGO_BIN_EXE_portolan"));
        // Scans made by tests never go into the user's history.
        cmd.env(
            "XDG_DATA_HOME",
            concat!(env!("CARGO_TARGET_TMPDIR"), "/history"),
        );
        cmd.args(["-n", "-T4", "--max-retries", "1", "--disable-arp-ping"])
            .args(extra)
            .arg(&silent);
        let out = tb.run_in_scanner(&mut cmd).expect("portolan runs");
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains(
                "Note: Host seems down. If it is really up, but blocking our ping probes, try -Pn"
            ),
            "{extra:?}: {text}"
        );
        assert!(
            text.contains("Portolan done: 1 IP address (0 hosts up)"),
            "{text}"
        );
        assert!(!text.contains("PORT"), "{text}");
    }
}

#[test]
fn list_scan_sends_nothing_and_lists_every_target() {
    // Addresses of the benchmark range never reached: -sL sends nothing.
    let out = common::run(&["-sL", "-n", "198.18.0.0/30", "-oG", "-"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for i in 0..4 {
        let line = format!("Host: 198.18.0.{i} ()\tStatus: Unknown");
        assert!(text.contains(&line), "{text}");
    }
    assert!(text.contains("4 IP addresses (0 hosts up)"), "{text}");

    let out = common::run(&["-sL", "-n", "198.18.0.1", "198.18.0.2"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Portolan scan report for 198.18.0.1\nPortolan scan report for 198.18.0.2\n"),
        "{text}"
    );
    assert!(
        text.contains("Portolan done: 2 IP addresses (0 hosts up)"),
        "{text}"
    );

    let out = common::run(&["-sL", "-n", "198.18.0.1", "-oX", "-"]);
    let xml = String::from_utf8(out.stdout).unwrap();
    assert_eq!(statuses(&xml)["198.18.0.1"].0, "unknown", "{xml}");
    assert!(!xml.contains("<scaninfo"), "{xml}");

    // Without -n, the reverse name (localhost from /etc/hosts).
    let out = common::run(&["-sL", "127.0.0.1"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Portolan scan report for localhost (127.0.0.1)")
            || text.contains("Portolan scan report for 127.0.0.1\n"),
        "{text}"
    );
}

#[test]
fn unprivileged_discovery_connects_to_80_and_443() {
    if !require_root() {
        return;
    }
    let tb = testbed();
    let mut cmd = tb.scanner_command("setpriv");
    cmd.args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        env!("CARGO_BIN_EXE_portolan"),
        // Scans made by tests never go into the user's history.
        "--no-history",
        "-sn",
        "-n",
        "-v",
        "-T4",
        "--max-retries",
        "1",
        "-oX",
        "-",
    ]);
    cmd.args(targets(&tb));
    let out = match tb.run_in_scanner(&mut cmd) {
        Ok(o) => o,
        Err(e) => {
            portolan_testbed::skip(format_args!("setpriv unavailable: {e}"));
            return;
        }
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = targets(&tb);
    let got = statuses(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(got[&t[TCP_443_ONLY]], ("up".into(), "syn-ack".into()));
    assert_eq!(
        got[&t[ICMP_ONLY]].0, "down",
        "TCP dropped: no connect answer"
    );
    assert_eq!(got[&t[SILENT]].0, "down");

    // On loopback, where nothing listens on 80/443, the refusal proves the host up.
    let out = common::portolan()
        .args(["--unprivileged", "-sn", "-n", "--reason", "127.0.0.1"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Host is up, received conn-refused")
            || text.contains("Host is up, received syn-ack"),
        "{text}"
    );
}

#[test]
fn arp_ping_finds_neighbours_with_their_mac() {
    if !require_root() {
        return;
    }
    let tb = testbed();
    let t = targets(&tb);
    let o = tb.target_addr(ICMP_ONLY).octets();
    // On the scanner's link to target 0, owned by nobody.
    let absent = std::net::Ipv4Addr::new(o[0], o[1], o[2], 250).to_string();
    let mut cmd = tb.scanner_command(env!("CARGO_BIN_EXE_portolan"));
    // Scans made by tests never go into the user's history.
    cmd.env(
        "XDG_DATA_HOME",
        concat!(env!("CARGO_TARGET_TMPDIR"), "/history"),
    );
    cmd.args(["-n", "-PR", "-sn", "-v", "-oX", "-", &t[ICMP_ONLY], &absent]);
    let out = tb.run_in_scanner(&mut cmd).expect("portolan runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let xml = String::from_utf8(out.stdout).unwrap();
    let got = statuses(&xml);
    // ARP is not IP: the target's TCP drop does not stop it answering.
    assert_eq!(got[&t[ICMP_ONLY]], ("up".into(), "arp-response".into()));
    assert_eq!(got[&absent], ("down".into(), "no-response".into()));
    assert!(xml.contains(r#"addrtype="mac""#), "{xml}");

    // The MAC stays on the host through the port scan.
    let mut cmd = tb.scanner_command(env!("CARGO_BIN_EXE_portolan"));
    // Scans made by tests never go into the user's history.
    cmd.env(
        "XDG_DATA_HOME",
        concat!(env!("CARGO_TARGET_TMPDIR"), "/history"),
    );
    cmd.args(["-n", "-PR", "-p", "443", "--reason", &t[TCP_443_ONLY]]);
    let out = tb.run_in_scanner(&mut cmd).expect("portolan runs");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Host is up, received arp-response ("),
        "{text}"
    );
    assert!(text.contains("443/tcp open"), "{text}");
    assert!(text.contains("MAC Address: "), "{text}");

    // IPv6: Neighbor Discovery.
    let t6 = tb.target_addr6(ICMP_ONLY).to_string();
    let mut cmd = tb.scanner_command(env!("CARGO_BIN_EXE_portolan"));
    // Scans made by tests never go into the user's history.
    cmd.env(
        "XDG_DATA_HOME",
        concat!(env!("CARGO_TARGET_TMPDIR"), "/history"),
    );
    cmd.args(["-n", "-6", "-PR", "-sn", "-oX", "-", &t6]);
    let out = tb.run_in_scanner(&mut cmd).expect("portolan runs");
    let xml = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        statuses(&xml)[&t6],
        ("up".into(), "nd-response".into()),
        "{xml}"
    );
    assert!(xml.contains(r#"addrtype="mac""#), "{xml}");
}

#[test]
fn host_timeout_during_discovery_is_reported_as_timed_out_not_down() {
    if !require_root() {
        return;
    }
    let tb = testbed();
    let silent = tb.target_addr(SILENT).to_string();
    for extra in [&["-sn"][..], &["-p", "22"][..]] {
        let mut cmd = tb.scanner_command(env!("CARGO_BIN_EXE_portolan"));
        // Retries would take seconds; the host's time is up long before.
        cmd.args(["-n", "--max-retries", "8", "--disable-arp-ping", "-PE"])
            .args(["--host-timeout", "300ms", "-oX", "-"])
            .args(extra)
            .arg(&silent);
        let out = tb.run_in_scanner(&mut cmd).expect("portolan runs");
        assert!(out.status.success());
        let xml = String::from_utf8(out.stdout).unwrap();
        assert!(xml.contains(r#"timedout="true""#), "{extra:?}: {xml}");
        assert!(!xml.contains(r#"state="down""#), "{extra:?}: {xml}");
        let mut cmd = tb.scanner_command(env!("CARGO_BIN_EXE_portolan"));
        cmd.args(["-n", "--max-retries", "8", "--disable-arp-ping", "-PE"])
            .args(["--host-timeout", "300ms"])
            .args(extra)
            .arg(&silent);
        let out = tb.run_in_scanner(&mut cmd).expect("portolan runs");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains(&format!("Skipping host {silent} due to host timeout")),
            "{extra:?}: {text}"
        );
        assert!(!text.contains("Host seems down"), "{extra:?}: {text}");
        assert!(
            text.contains("Portolan done: 1 IP address (0 hosts up)"),
            "{text}"
        );
    }
}

//! Every raw TCP technique against a namespace testbed whose firewall
//! rules make each port state happen, with the exact state and reason of
//! every port asserted, over IPv4 and IPv6.
//!
//! The target is a real Linux kernel. Its answers decide some rows in ways
//! nmap users know: Linux resets unsolicited FIN/ACK and ACK segments on
//! listening ports too, so Maimon reads them closed and ACK unfiltered, and
//! its RSTs carry a zero window, so the window scan reads every port closed.

mod common;

use portolan_testbed::{require_root, IcmpKind, Testbed};
use std::collections::BTreeMap;
use std::net::IpAddr;

const OPEN: [u16; 2] = [22, 80];
const CLOSED: u16 = 81;
const DROPPED: u16 = 82;
const PORT_UNREACH: u16 = 83;
const PROHIBITED: u16 = 84;
const FW_RESET: u16 = 85;

type States = BTreeMap<u16, (String, String)>;

fn testbed() -> Testbed {
    let mut tb = Testbed::new("raw").expect("testbed");
    tb.target(0)
        .unwrap()
        .tcp_listen(&OPEN)
        .unwrap()
        .nft_drop_tcp(&[DROPPED])
        .unwrap()
        .nft_reject_icmp(&[PORT_UNREACH], IcmpKind::PortUnreach)
        .unwrap()
        .nft_reject_icmp(&[PROHIBITED], IcmpKind::AdminProhibited)
        .unwrap()
        .nft_reject_tcp_reset(&[FW_RESET])
        .unwrap();
    // Linux sends at most about one ICMP error per second to a peer (after
    // a small burst); seven techniques in a row would run the bucket dry and
    // turn the ICMP rows into silence. Rate-limited targets are the UDP
    // scan's tests; here every reply must come.
    let target = tb.target(0).unwrap();
    for key in ["net.ipv4.icmp_ratelimit=0", "net.ipv6.icmp.ratelimit=0"] {
        let mut cmd = target.command("sysctl");
        cmd.args(["-qw", key]);
        let out = target.run(&mut cmd).expect("sysctl runs");
        assert!(out.status.success(), "sysctl {key}: {out:?}");
    }
    tb
}

fn scan(tb: &Testbed, flag: &str, target: IpAddr) -> States {
    let mut cmd = tb.scanner_command(env!("CARGO_BIN_EXE_portolan"));
    // Scans made by tests never go into the user's history.
    cmd.env(
        "XDG_DATA_HOME",
        concat!(env!("CARGO_TARGET_TMPDIR"), "/history"),
    );
    cmd.args([
        flag,
        "-Pn",
        "-n",
        "-T4",
        "--max-retries",
        "1",
        "-oX",
        "-",
        "-p",
    ]);
    cmd.arg("22,80-85");
    if target.is_ipv6() {
        cmd.arg("-6");
    }
    cmd.arg(target.to_string());
    let out = tb.run_in_scanner(&mut cmd).expect("portolan runs");
    assert!(
        out.status.success(),
        "{flag}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let xml = String::from_utf8(out.stdout).unwrap();
    let doc = common::parse_xml(&xml);
    common::port_states(&doc)
}

fn expect(rows: &[(u16, &str, &str)]) -> States {
    rows.iter()
        .map(|&(p, s, r)| (p, (s.to_string(), r.to_string())))
        .collect()
}

/// The expected table of one technique: open ports, closed port, then the
/// firewall rows, which are the same for every technique but the silence
/// row.
fn table(open: (&str, &str), closed: (&str, &str), silent: &str, fw_reset: (&str, &str)) -> States {
    let mut rows = vec![
        (OPEN[0], open.0, open.1),
        (OPEN[1], open.0, open.1),
        (CLOSED, closed.0, closed.1),
        (DROPPED, silent, "no-response"),
        (PORT_UNREACH, "filtered", "port-unreach"),
        (PROHIBITED, "filtered", "admin-prohibited"),
        (FW_RESET, fw_reset.0, fw_reset.1),
    ];
    rows.sort_by_key(|r| r.0);
    expect(&rows)
}

fn expectations() -> Vec<(&'static str, States)> {
    let reset = ("closed", "reset");
    vec![
        ("-sS", table(("open", "syn-ack"), reset, "filtered", reset)),
        (
            "-sA",
            table(
                ("unfiltered", "reset"),
                ("unfiltered", "reset"),
                "filtered",
                ("unfiltered", "reset"),
            ),
        ),
        ("-sW", table(reset, reset, "filtered", reset)),
        ("-sM", table(reset, reset, "open|filtered", reset)),
        (
            "-sN",
            table(
                ("open|filtered", "no-response"),
                reset,
                "open|filtered",
                reset,
            ),
        ),
        (
            "-sF",
            table(
                ("open|filtered", "no-response"),
                reset,
                "open|filtered",
                reset,
            ),
        ),
        (
            "-sX",
            table(
                ("open|filtered", "no-response"),
                reset,
                "open|filtered",
                reset,
            ),
        ),
    ]
}

#[test]
fn every_technique_gets_every_state_right_over_ipv4() {
    if !require_root() {
        return;
    }
    let tb = testbed();
    let target = IpAddr::V4(tb.target_addr(0));
    for (flag, want) in expectations() {
        assert_eq!(scan(&tb, flag, target), want, "{flag} over IPv4");
    }
}

#[test]
fn every_technique_gets_every_state_right_over_ipv6() {
    if !require_root() {
        return;
    }
    let tb = testbed();
    let target = IpAddr::V6(tb.target_addr6(0));
    for (flag, want) in expectations() {
        assert_eq!(scan(&tb, flag, target), want, "{flag} over IPv6");
    }
}

#[test]
fn scanflags_syn_reads_like_a_syn_scan() {
    if !require_root() {
        return;
    }
    let tb = testbed();
    let target = IpAddr::V4(tb.target_addr(0));
    let mut cmd = tb.scanner_command(env!("CARGO_BIN_EXE_portolan"));
    // Scans made by tests never go into the user's history.
    cmd.env(
        "XDG_DATA_HOME",
        concat!(env!("CARGO_TARGET_TMPDIR"), "/history"),
    );
    cmd.args(["--scanflags", "SYN", "-Pn", "-n", "-p", "22,81", "-oG", "-"]);
    cmd.arg(target.to_string());
    let out = tb.run_in_scanner(&mut cmd).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("22/open/tcp//"), "{text}");
    assert!(text.contains("81/closed/tcp//"), "{text}");
}

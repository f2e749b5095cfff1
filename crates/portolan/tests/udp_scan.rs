//! `-sU` against a namespace testbed: a responder, a closed port, a
//! silently dropped port and an ICMP-rejected one, then TCP and UDP in
//! one scan, then a target that keeps Linux's default ICMP rate limit.

use portolan_testbed::{require_root, IcmpKind, Testbed};
use std::net::IpAddr;

fn testbed() -> Testbed {
    let mut tb = Testbed::new("udp").expect("testbed");
    let target = tb.target(0).unwrap();
    target
        .udp_echo(&[53])
        .unwrap()
        .tcp_listen(&[80])
        .unwrap()
        .nft_drop_udp(&[55])
        .unwrap()
        .nft_reject_icmp_udp(&[56], IcmpKind::AdminProhibited)
        .unwrap();
    // Every closed port must get its port-unreachable here; the rate-limited
    // case is a scan-strategy matter, tested in the engine.
    for key in ["net.ipv4.icmp_ratelimit=0", "net.ipv6.icmp.ratelimit=0"] {
        let mut cmd = target.command("sysctl");
        cmd.args(["-qw", key]);
        assert!(target.run(&mut cmd).unwrap().status.success());
    }
    tb
}

fn grepable(tb: &Testbed, args: &[&str], target: IpAddr) -> String {
    let mut cmd = tb.scanner_command(env!("CARGO_BIN_EXE_portolan"));
    // Scans made by tests never go into the user's history.
    cmd.env(
        "XDG_DATA_HOME",
        concat!(env!("CARGO_TARGET_TMPDIR"), "/history"),
    );
    cmd.args([
        "-Pn",
        "-n",
        "-T4",
        "--max-retries",
        "1",
        "--reason",
        "-oG",
        "-",
    ]);
    cmd.args(args);
    if target.is_ipv6() {
        cmd.arg("-6");
    }
    cmd.arg(target.to_string());
    let out = tb.run_in_scanner(&mut cmd).expect("portolan runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn check_udp_states(tb: &Testbed, target: IpAddr) {
    let text = grepable(tb, &["-sU", "-p", "53-56"], target);
    for want in [
        "53/open/udp//",
        "54/closed/udp//",
        "55/open|filtered/udp//",
        "56/filtered/udp//",
    ] {
        assert!(text.contains(want), "{target}: no {want} in {text}");
    }
}

#[test]
fn udp_states_over_ipv4_and_ipv6() {
    if !require_root() {
        return;
    }
    let tb = testbed();
    check_udp_states(&tb, IpAddr::V4(tb.target_addr(0)));
    check_udp_states(&tb, IpAddr::V6(tb.target_addr6(0)));
}

#[test]
fn tcp_and_udp_in_one_scan() {
    if !require_root() {
        return;
    }
    let tb = testbed();
    let target = IpAddr::V4(tb.target_addr(0));
    let text = grepable(&tb, &["-sS", "-sU", "-p", "T:80,81,U:53,54"], target);
    for want in [
        "80/open/tcp//",
        "81/closed/tcp//",
        "53/open/udp//",
        "54/closed/udp//",
    ] {
        assert!(text.contains(want), "no {want} in {text}");
    }
}

/// `-sT -sU`: connect attempts for TCP and raw UDP probes in one engine
/// run, with -Pn and with raw pings pipelined into the scan; and `-sT`
/// pipelined after raw pings.
#[test]
fn connect_and_udp_in_one_scan() {
    if !require_root() {
        return;
    }
    let tb = testbed();
    let target = IpAddr::V4(tb.target_addr(0));
    let want = [
        "80/open/tcp//",
        "81/closed/tcp//",
        "53/open/udp//",
        "54/closed/udp//",
    ];
    let text = grepable(&tb, &["-sT", "-sU", "-p", "T:80,81,U:53,54"], target);
    for w in want {
        assert!(text.contains(w), "-Pn: no {w} in {text}");
    }
    let mut cmd = tb.scanner_command(env!("CARGO_BIN_EXE_portolan"));
    // Scans made by tests never go into the user's history.
    cmd.env(
        "XDG_DATA_HOME",
        concat!(env!("CARGO_TARGET_TMPDIR"), "/history"),
    );
    cmd.args(["-n", "-T4", "--reason", "-oG", "-", "-sT", "-sU"]);
    cmd.args(["-p", "T:80,81,U:53,54", &target.to_string()]);
    let out = tb.run_in_scanner(&mut cmd).expect("portolan runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Status: Up"), "{text}");
    for w in want {
        assert!(text.contains(w), "pinged: no {w} in {text}");
    }
    // -sT alone after raw pings: the same loop, connect layer only.
    let mut cmd = tb.scanner_command(env!("CARGO_BIN_EXE_portolan"));
    // Scans made by tests never go into the user's history.
    cmd.env(
        "XDG_DATA_HOME",
        concat!(env!("CARGO_TARGET_TMPDIR"), "/history"),
    );
    cmd.args(["-n", "-T4", "--reason", "-oG", "-", "-sT", "-p", "80,81"]);
    cmd.arg(target.to_string());
    let out = tb.run_in_scanner(&mut cmd).expect("portolan runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for w in &want[..2] {
        assert!(text.contains(w), "-sT pinged: no {w} in {text}");
    }
}

/// A Linux target as it comes: 3 UDP responders, 3 dropped ports, every
/// other port closed, and the default ICMP rate limit (about one port
/// unreachable per second after a burst).
fn rate_limited_testbed() -> Testbed {
    let mut tb = Testbed::new("udprl").expect("testbed");
    let target = tb.target(0).unwrap();
    target
        .udp_echo(&[53, 123, 161])
        .unwrap()
        .nft_drop_udp(&[500, 600, 700])
        .unwrap();
    let mut cmd = target.command("sysctl");
    cmd.args(["-qw", "net.ipv4.icmp_ratelimit=1000"]);
    assert!(target.run(&mut cmd).unwrap().status.success());
    tb
}

#[test]
fn rate_limited_host_finishes_fast_honestly_and_says_why() {
    if !require_root() {
        return;
    }
    let tb = rate_limited_testbed();
    let target = tb.target_addr(0).to_string();
    let normal = std::env::temp_dir().join(format!("portolan-udprl-{}.nmap", std::process::id()));
    let mut cmd = tb.scanner_command(env!("CARGO_BIN_EXE_portolan"));
    // Scans made by tests never go into the user's history.
    cmd.env(
        "XDG_DATA_HOME",
        concat!(env!("CARGO_TARGET_TMPDIR"), "/history"),
    );
    cmd.args(["-Pn", "-n", "-sU", "-p1-1000", "-oG", "-", "-oN"])
        .arg(&normal)
        .arg(&target);
    let start = std::time::Instant::now();
    let out = tb.run_in_scanner(&mut cmd).expect("portolan runs");
    let took = start.elapsed();
    let text = String::from_utf8(out.stdout).unwrap();
    let report = std::fs::read_to_string(&normal).unwrap_or_default();
    let _ = std::fs::remove_file(&normal);
    eprintln!("{took:?}\n{report}");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in ["53/open/udp/", "123/open/udp/", "161/open/udp/"] {
        assert!(text.contains(want), "no {want} in {text}");
    }
    for dropped in ["500/closed/", "600/closed/", "700/closed/"] {
        assert!(!text.contains(dropped), "{dropped} in {text}");
    }
    assert!(
        report
            .contains("UDP ports left open|filtered: the host rate-limits ICMP port unreachables"),
        "no note in {report}"
    );
    assert!(took < std::time::Duration::from_secs(15), "took {took:?}");
}

//! A target whose firewall rejects some TCP ports with ICMP port
//! unreachables, scanned with FIN, NULL, Xmas, Maimon, ACK and window
//! scans right after a SYN scan that spent its ICMP allowance (Linux's
//! per-destination bucket, one error per second after a burst of six):
//! every rejected port must be `filtered`, in every run.

mod common;

use portolan_testbed::{require_root, IcmpKind, Testbed};
use std::collections::BTreeMap;
use std::time::Instant;

const OPEN: [u16; 2] = [22, 80];
const CLOSED: [u16; 2] = [25, 113];
const DROPPED: [u16; 1] = [23];
const REJECTED: [u16; 3] = [111, 135, 139];
/// Rejected too, so the SYN scan spends the allowance.
const SPENDERS: std::ops::RangeInclusive<u16> = 2000..=2049;
const RUNS: usize = 2;

fn scan(tb: &Testbed, args: &[&str], ports: &str) -> BTreeMap<u16, (String, String)> {
    let mut cmd = tb.scanner_command(env!("CARGO_BIN_EXE_portolan"));
    cmd.env("XDG_DATA_HOME", common::DATA_HOME);
    cmd.args(args);
    cmd.args(["-Pn", "-n", "-oX", "-", "-p", ports]);
    cmd.arg(tb.target_addr(0).to_string());
    let out = tb.run_in_scanner(&mut cmd).expect("portolan runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let xml = String::from_utf8(out.stdout).unwrap();
    common::port_states(&common::parse_xml(&xml))
}

/// The state each technique must give open, closed, dropped and rejected
/// ports on Linux (Maimon and window scans get a reset from every port
/// that is not filtered).
fn expected(tech: &str) -> [&'static str; 4] {
    match tech {
        "-sF" | "-sN" | "-sX" => ["open|filtered", "closed", "open|filtered", "filtered"],
        "-sM" => ["closed", "closed", "open|filtered", "filtered"],
        "-sA" => ["unfiltered", "unfiltered", "filtered", "filtered"],
        "-sW" => ["closed", "closed", "filtered", "filtered"],
        _ => unreachable!(),
    }
}

#[test]
fn rejected_ports_are_filtered_after_a_scan_spent_the_allowance() {
    if !require_root() {
        return;
    }
    let mut tb = Testbed::new("icmpal").expect("testbed");
    let mut rejected: Vec<u16> = REJECTED.to_vec();
    rejected.extend(SPENDERS);
    tb.target(0)
        .unwrap()
        .tcp_listen(&OPEN)
        .unwrap()
        .nft_drop_tcp(&DROPPED)
        .unwrap()
        .nft_reject_icmp(&rejected, IcmpKind::PortUnreach)
        .unwrap();
    let ports = "22,23,25,80,111,113,135,139";
    let mut times = Vec::new();
    for run in 0..RUNS {
        for tech in ["-sF", "-sN", "-sX", "-sM", "-sA", "-sW"] {
            // Spend the allowance: the SYN scan draws an error from each
            // of the 50 rejected ports and more than the bucket holds.
            scan(&tb, &["-sS"], "1-2100");
            let t0 = Instant::now();
            let states = scan(&tb, &[tech], ports);
            times.push((tech, t0.elapsed()));
            let want = expected(tech);
            let groups: [&[u16]; 4] = [&OPEN, &CLOSED, &DROPPED, &REJECTED];
            for (group, state) in groups.iter().zip(want) {
                for p in group.iter() {
                    assert_eq!(
                        states.get(p).map(|s| s.0.as_str()),
                        Some(state),
                        "run {run} {tech} port {p}: {states:?}"
                    );
                }
            }
            // Silence reads filtered too for ACK and window scans, which
            // therefore do not linger for the allowance: the reason may
            // be no-response there.
            if !matches!(tech, "-sA" | "-sW") {
                for p in REJECTED {
                    assert_eq!(states[&p].1, "port-unreach", "run {run} {tech} {p}");
                }
            }
        }
    }
    eprintln!("scan times after a spent allowance: {times:?}");
}

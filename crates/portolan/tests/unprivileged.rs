//! Without CAP_NET_RAW: -sS falls back to -sT with a notice; other raw
//! techniques stop with an error saying how to grant the capability.

mod common;
use common::Loopback;
use std::process::Command;

/// Runs portolan as user `nobody` with every capability dropped, if this
/// process may do that (root with setpriv available).
fn run_unprivileged(args: &[&str]) -> Option<std::process::Output> {
    if !portolan_testbed::require_root_only() {
        return None;
    }
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            env!("CARGO_BIN_EXE_portolan"),
            // Scans made by tests never go into the user's history.
            "--no-history",
        ])
        .args(args)
        .output();
    match out {
        Ok(o) => Some(o),
        Err(e) => {
            portolan_testbed::skip(format_args!("setpriv unavailable: {e}"));
            None
        }
    }
}

#[test]
fn syn_scan_falls_back_to_connect() {
    let lo = Loopback::new(1, 3);
    let Some(out) = run_unprivileged(&["-sS", "-Pn", "-n", "-p", &lo.port_list(), "127.0.0.1"])
    else {
        return;
    };
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("falling back to a TCP connect scan (-sT)"),
        "{err}"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("{}/tcp open", lo.open[0])), "{text}");
}

#[test]
fn default_scan_is_connect_without_notice() {
    let lo = Loopback::new(1, 0);
    let Some(out) =
        run_unprivileged(&["-Pn", "-n", "-p", &lo.port_list(), "-oX", "-", "127.0.0.1"])
    else {
        return;
    };
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("type=\"connect\""));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn other_raw_techniques_say_what_is_missing() {
    for flag in ["-sA", "-sW", "-sM", "-sN", "-sF", "-sX", "-sU", "-O"] {
        let Some(out) = run_unprivileged(&[flag, "-Pn", "-p80", "127.0.0.1"]) else {
            return;
        };
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(flag) && err.contains("CAP_NET_RAW") && err.contains("setcap"),
            "{err}"
        );
    }
}

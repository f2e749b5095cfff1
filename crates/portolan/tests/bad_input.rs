//! Bad input: one line naming the offending token, a non-zero exit, no panic.

mod common;
use common::{run, stderr};

fn assert_one_line_error(args: &[&str], token: &str) {
    let out = run(args);
    assert!(!out.status.success(), "{args:?} succeeded");
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{args:?}: expected one line, got {err:?}");
    assert!(
        lines[0].contains(token),
        "{args:?}: {err:?} does not name {token:?}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
}

#[test]
fn malformed_values_name_their_token() {
    assert_one_line_error(&["-sT", "-p", "70000", "127.0.0.1"], "70000");
    assert_one_line_error(&["-sT", "-p", "5-1", "127.0.0.1"], "5-1");
    assert_one_line_error(&["-sT", "-T9", "127.0.0.1"], "9");
    assert_one_line_error(&["-sT", "-p80", "300.1.1.1/33"], "300.1.1.1/33");
    assert_one_line_error(
        &["-sT", "-iL", "/nonexistent/targets.txt"],
        "/nonexistent/targets.txt",
    );
    assert_one_line_error(&["--frobnicate", "127.0.0.1"], "--frobnicate");
    assert_one_line_error(&["-sT", "--host-timeout", "5x", "127.0.0.1"], "5x");
    assert_one_line_error(
        &["-sT", "-p", "nosuchservice", "127.0.0.1"],
        "nosuchservice",
    );
}

#[test]
fn later_features_are_refused_not_ignored() {
    assert_one_line_error(&["--append-output", "127.0.0.1"], "--append-output");
}

#[test]
fn discovery_flags_name_their_token() {
    assert_one_line_error(&["-PS22,x", "127.0.0.1"], "22,x");
    assert_one_line_error(&["-PU99999", "127.0.0.1"], "99999");
    assert_one_line_error(&["-sn", "-sS", "127.0.0.1"], "-sS");
    assert_one_line_error(&["-sL", "-sn", "127.0.0.1"], "-sL");
    assert_one_line_error(&["--dns-servers", "198.18.0.53,ns1", "127.0.0.1"], "ns1");
}

#[test]
fn help_and_version_succeed() {
    let out = run(&["-h"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for heading in [
        "TARGET SPECIFICATION:",
        "HOST DISCOVERY:",
        "SCAN TECHNIQUES:",
        "PORT SPECIFICATION",
        "TIMING AND PERFORMANCE:",
        "OUTPUT:",
        "MISC:",
    ] {
        assert!(text.contains(heading), "help lacks {heading}");
    }
    let out = run(&["--version"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn unresolvable_names_warn_and_the_scan_goes_on() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port().to_string();
    let out = run(&[
        "-sT",
        "-Pn",
        "-p",
        &port,
        "no-such-host.invalid",
        "127.0.0.1",
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stderr(&out).contains("Failed to resolve \"no-such-host.invalid\""),
        "{}",
        stderr(&out)
    );
    assert!(common::stdout(&out).contains("1 IP address (1 host up)"));
}

#[test]
fn a_port_list_with_nothing_to_scan_is_an_error() {
    assert_one_line_error(&["-sT", "-p", "U:53", "127.0.0.1"], "U:53");
    assert_one_line_error(
        &["-sT", "-p", "80", "--exclude-ports", "80", "127.0.0.1"],
        "--exclude-ports 80",
    );
}

#[test]
fn connect_and_another_tcp_technique_are_refused() {
    // -sT -sU is one scan now (crates/portolan/tests/udp_scan.rs); two TCP
    // scan types stay refused, as nmap refuses them.
    assert_one_line_error(&["-sT", "-sA", "-p80", "127.0.0.1"], "-sT");
    assert_one_line_error(&["-sS", "-sT", "-p80", "127.0.0.1"], "-sT");
}

#[test]
fn a_malformed_service_database_names_file_and_line() {
    let path = std::env::temp_dir().join(format!("portolan-bad-{}.db", std::process::id()));
    std::fs::write(&path, "# comment\nnonsense here\n").unwrap();
    let p = path.to_str().unwrap();
    assert_one_line_error(
        &["-sT", "-sV", "--service-db", p, "-p80", "127.0.0.1"],
        &format!("{p}:2"),
    );
}

#[test]
fn reserved_subcommands_are_refused_by_name() {
    // The history's subcommands exist now: a word that names no file or
    // scan is one line naming it.
    assert_one_line_error(&["import", "127.0.0.1"], "\"127.0.0.1\"");
    assert_one_line_error(&["diff", "./no/such.xml", "last"], "no/such.xml");
    // -O is built: its database and tries are named when malformed.
    assert_one_line_error(
        &["-O", "--os-db", "/no/such.osdb", "127.0.0.1"],
        "/no/such.osdb",
    );
    assert_one_line_error(&["-O", "--max-os-tries", "x", "127.0.0.1"], "\"x\"");
    assert_one_line_error(
        &["local", "--state", "bogus"],
        "unknown socket state \"bogus\"",
    );
    assert_one_line_error(&["local", "127.0.0.1"], "takes no arguments");
    assert_one_line_error(&["scan", "--script", "x", "127.0.0.1"], "--script");
    // `report` is built: a word that is no scan file is named.
    assert_one_line_error(&["report", "127.0.0.1"], "127.0.0.1");
    assert_one_line_error(&["report"], "needs a scan");
}

//! nmap's habits the binary keeps: exit codes after signals, quiet ends on
//! closed pipes, errors printed once and on one line.

mod common;
use common::portolan;
use std::process::{Child, Stdio};
use std::time::Duration;

/// A long, slow loopback scan that runs until signalled.
fn slow_scan() -> Child {
    portolan()
        .args([
            "-sT",
            "-Pn",
            "-n",
            "-p80",
            "--max-rate",
            "20",
            "127.0.0.0/16",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn signal_status(sig: nix::sys::signal::Signal) -> Option<i32> {
    let mut child = slow_scan();
    std::thread::sleep(Duration::from_millis(800));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), sig).unwrap();
    child.wait().unwrap().code()
}

#[test]
fn sigterm_exits_143_and_sigint_130() {
    assert_eq!(signal_status(nix::sys::signal::Signal::SIGTERM), Some(143));
    assert_eq!(signal_status(nix::sys::signal::Signal::SIGINT), Some(130));
}

/// Runs portolan with `args`, its standard output and (when `both`) its
/// standard error on a pipe whose reader is already gone.
fn with_closed_pipe(args: &[&str], both: bool) -> std::process::Output {
    let (reader, writer) = nix::unistd::pipe().unwrap();
    drop(reader);
    let mut cmd = portolan();
    cmd.args(args).stdin(Stdio::null());
    if both {
        cmd.stdout(Stdio::from(writer.try_clone().unwrap()));
        cmd.stderr(Stdio::from(writer));
        let status = cmd.status().unwrap();
        std::process::Output {
            status,
            stdout: Vec::new(),
            stderr: Vec::new(),
        }
    } else {
        cmd.stdout(Stdio::from(writer));
        cmd.stderr(Stdio::piped());
        cmd.output().unwrap()
    }
}

#[test]
fn closed_stdout_ends_the_run_quietly() {
    let lo = common::Loopback::new(1, 2);
    let ports = lo.port_list();
    let args = ["-sT", "-Pn", "-n", "-p", &ports, "127.0.0.1"];
    let out = with_closed_pipe(&args, false);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn closed_stdout_and_stderr_end_the_run_with_its_usual_code() {
    let lo = common::Loopback::new(1, 2);
    let ports = lo.port_list();
    let scan = with_closed_pipe(&["-sT", "-Pn", "-n", "-p", &ports, "127.0.0.1"], true);
    assert_eq!(scan.status.code(), Some(0));
    // Errors and warnings go nowhere, but the exit code stays.
    let bad = with_closed_pipe(&["-sT", "-p", "80", "-e", "nosuchif0", "127.0.0.1"], true);
    assert_eq!(bad.status.code(), Some(1));
    let usage = with_closed_pipe(&["--no-such-flag"], true);
    assert_eq!(usage.status.code(), Some(1));
    let help = with_closed_pipe(&["--help"], true);
    assert_eq!(help.status.code(), Some(0));
}

/// Asserts that `out` failed and shows `error` once, on standard error.
fn error_once(out: &std::process::Output, error: &str) {
    let stdout = common::stdout(out);
    let stderr = common::stderr(out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.matches(error).count(), 1, "{stderr}");
    assert!(!stdout.contains(error), "said twice:\n{stdout}");
}

#[test]
fn a_missing_interface_is_reported_once() {
    let out = common::run(&["-sT", "-p80", "-e", "nosuchif0", "127.0.0.1"]);
    error_once(&out, "no such network interface");
    // A file still records it.
    let dir = std::env::temp_dir().join(format!("portolan-once-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let normal = dir.join("scan.nmap");
    let xml = dir.join("scan.xml");
    let n = normal.to_str().unwrap();
    let x = xml.to_str().unwrap();
    common::run(&[
        "-sT",
        "-p80",
        "-e",
        "nosuchif0",
        "-oN",
        n,
        "-oX",
        x,
        "127.0.0.1",
    ]);
    let text = std::fs::read_to_string(&normal).unwrap();
    assert!(
        text.contains("# Portolan scan aborted: no such network interface"),
        "{text}"
    );
    let text = std::fs::read_to_string(&xml).unwrap();
    assert!(text.contains(r#"exit="error""#), "{text}");
    assert!(
        text.contains("errormsg=\"no such network interface"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn privileged_without_privileges_is_reported_once() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: needs root to drop to nobody");
        return;
    }
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .args(["--inh-caps=-all", "--bounding-set=-all"])
        .arg(env!("CARGO_BIN_EXE_portolan"))
        // Scans made by tests never go into the user's history.
        .args(["--no-history", "--privileged", "-sS", "-p80", "127.0.0.1"])
        .output()
        .unwrap();
    error_once(&out, "CAP_NET_RAW");
}

#[test]
fn errors_show_typed_values_escaped_on_one_line() {
    let out = common::run(&["--max-rate", "1\x1b]0;pwned\x07\n2", "127.0.0.1"]);
    let stderr = common::stderr(&out);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(
        !stderr.contains('\x1b') && !stderr.contains('\x07'),
        "{stderr:?}"
    );
    let out = common::run(&[
        "-sT",
        "-p80",
        "-oX",
        "/nonexistent-dir/\x1b[2J.xml",
        "127.0.0.1",
    ]);
    let stderr = common::stderr(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("cannot write output file"), "{stderr:?}");
    assert!(!stderr.contains('\x1b'), "{stderr:?}");
}

#[test]
fn verbose_prints_nmaps_progress_lines() {
    let lo = common::Loopback::new(1, 2);
    let ports = lo.port_list();
    let out = common::run(&["-v", "-sT", "-Pn", "-n", "-p", &ports, "127.0.0.1"]);
    let text = common::stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    let at = |prefix: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in\n{text}"))
    };
    let init = at("Initiating Connect Scan at ");
    let found = at(&format!(
        "Discovered open port {}/tcp on 127.0.0.1",
        lo.open[0]
    ));
    let done = at("Completed Connect Scan at ");
    assert!(init < found && found < done, "{text}");
    assert!(lines[done].ends_with("s elapsed (3 total ports)"), "{text}");
    // Not without -v, and never in a file.
    let quiet = common::stdout(&common::run(&[
        "-sT",
        "-Pn",
        "-n",
        "-p",
        &ports,
        "127.0.0.1",
    ]));
    assert!(!quiet.contains("Initiating"), "{quiet}");
}

#[test]
fn a_target_given_twice_is_scanned_and_reported_twice() {
    let lo = common::Loopback::new(1, 1);
    let ports = lo.port_list();
    for technique in ["-sT", "-sn"] {
        let mut args = vec!["-n", technique, "-oX", "-"];
        if technique == "-sT" {
            args.extend(["-Pn", "-p", &ports]);
        }
        args.extend(["localhost", "127.0.0.1", "localhost"]);
        let out = common::run(&args);
        let xml = common::stdout(&out);
        let doc = common::parse_xml(&xml);
        let hosts: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("host"))
            .collect();
        assert_eq!(hosts.len(), 3, "{technique}: {xml}");
        // Each keeps the name typed for it.
        let named = hosts
            .iter()
            .filter(|h| {
                h.descendants()
                    .any(|n| n.has_tag_name("hostname") && n.attribute("name") == Some("localhost"))
            })
            .count();
        assert_eq!(named, 2, "{technique}: {xml}");
        if technique == "-sT" {
            let open = format!(r#"portid="{}""#, lo.open[0]);
            assert_eq!(xml.matches(&open).count(), 3, "{xml}");
        }
    }
    // --unique scans the address once.
    let out = common::run(&[
        "-n",
        "-sT",
        "-Pn",
        "-p",
        &ports,
        "--unique",
        "127.0.0.1",
        "127.0.0.1",
    ]);
    assert_eq!(common::stdout(&out).matches("scan report for").count(), 1);
}

#[test]
fn hosts_are_written_in_target_order() {
    let lo = common::Loopback::new(1, 1);
    let ports = lo.port_list();
    let targets = [
        "127.0.0.5",
        "127.0.0.3",
        "127.0.0.9",
        "127.0.0.1",
        "127.0.0.2",
    ];
    let dir = std::env::temp_dir().join(format!("portolan-order-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let grepable = dir.join("scan.gnmap");
    let xml = dir.join("scan.xml");
    for _ in 0..3 {
        let mut args = vec!["-n", "-sT", "-Pn", "-p", &ports];
        args.extend([
            "-oG",
            grepable.to_str().unwrap(),
            "-oX",
            xml.to_str().unwrap(),
        ]);
        args.extend(targets);
        let out = common::run(&args);
        let normal: Vec<String> = common::stdout(&out)
            .lines()
            .filter_map(|l| l.strip_prefix("Portolan scan report for "))
            .map(String::from)
            .collect();
        assert_eq!(normal, targets, "normal output");
        let g = std::fs::read_to_string(&grepable).unwrap();
        let gr: Vec<&str> = g
            .lines()
            .filter(|l| l.contains("Ports:"))
            .filter_map(|l| l.strip_prefix("Host: ")?.split(' ').next())
            .collect();
        assert_eq!(gr, targets, "{g}");
        let x = std::fs::read_to_string(&xml).unwrap();
        let doc = common::parse_xml(&x);
        let xr: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("address") && n.attribute("addrtype") == Some("ipv4"))
            .filter_map(|n| n.attribute("addr"))
            .collect();
        assert_eq!(xr, targets, "{x}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

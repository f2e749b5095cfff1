//! Target files and other input read from files or typed by the user:
//! bounded, forgiving of one bad line, and never echoed raw.

mod common;
use common::{portolan, run, stderr, stdout};
use std::net::ToSocketAddrs;
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

/// Runs portolan; fails the test if it is still running after 20 s (an
/// unbounded read of `/dev/zero` would grow for much longer than that).
fn run_bounded(args: &[&str]) -> Output {
    let mut child = portolan()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("portolan runs");
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} still running after 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("portolan-input-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

/// One line on stderr, containing every one of `parts`; non-zero exit.
fn assert_one_line_error(out: &Output, parts: &[&str]) {
    assert!(!out.status.success(), "succeeded: {out:?}");
    let err = stderr(out);
    assert_eq!(err.lines().count(), 1, "not one line: {err:?}");
    for p in parts {
        assert!(err.contains(p), "{err:?} lacks {p:?}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn endless_files_fail_fast_with_one_line() {
    let out = run_bounded(&["-sL", "-n", "-iL", "/dev/zero"]);
    assert_one_line_error(&out, &["/dev/zero:1: line longer than 4096 bytes"]);
    let out = run_bounded(&["-sL", "-n", "--excludefile", "/dev/zero", "127.0.0.1"]);
    assert_one_line_error(&out, &["/dev/zero:1: line longer than 4096 bytes"]);
    let out = run_bounded(&[
        "-sT",
        "-sV",
        "--service-db",
        "/dev/zero",
        "-p80",
        "127.0.0.1",
    ]);
    assert_one_line_error(&out, &["/dev/zero", "larger than 16 MiB"]);
}

#[test]
fn a_bad_line_warns_and_the_list_goes_on() {
    let list = temp_file(
        "list.txt",
        b"\xef\xbb\xbf127.0.0.1\r\nbad\x1b[31mx 198.18.0.300\r\n127.0.0.2 # c\r\n",
    );
    let ex = temp_file("ex.txt", b"127.0.0.2\r\n127.0.0.0/33\n");
    let (l, e) = (list.to_str().unwrap(), ex.to_str().unwrap());
    let out = run_bounded(&["-sL", "-n", "-iL", l, "--excludefile", e]);
    assert!(out.status.success(), "{out:?}");
    let err = stderr(&out);
    assert_eq!(
        err.lines().collect::<Vec<_>>(),
        [
            format!("portolan: {l}:2: invalid target \"bad\\x1b[31mx\": not an address, address range or host name"),
            format!("portolan: {l}:2: invalid target \"198.18.0.300\": octet 300 out of range"),
            format!("portolan: {e}:2: invalid CIDR prefix \"/33\" in \"127.0.0.0/33\""),
        ]
    );
    let text = stdout(&out);
    assert!(text.contains("scan report for 127.0.0.1\n"), "{text}");
    assert!(!text.contains("127.0.0.2"), "{text}");

    // Nothing valid left: an error naming the first bad line.
    std::fs::write(&list, b"# c\n198.18.0.300\n").unwrap();
    let out = run_bounded(&["-sL", "-n", "-iL", l]);
    assert_one_line_error(
        &out,
        &[&format!(
            "no valid target in \"{l}\" (1 bad; the first, line 2: invalid target \"198.18.0.300\": octet 300 out of range)"
        )],
    );
    std::fs::remove_file(&list).unwrap();
    std::fs::remove_file(&ex).unwrap();
}

#[test]
fn typed_control_characters_are_escaped_and_long_tokens_cut() {
    let out = run(&["-sL", "-n", "\x1b[31mfoo\nbar"]);
    assert_one_line_error(&out, &["\"\\x1b[31mfoo\\nbar\""]);
    assert!(!stderr(&out).contains('\x1b'));
    let long = format!("{}!", "a".repeat(5000));
    let out = run(&["-sL", "-n", &long]);
    assert_one_line_error(&out, &["aaaa…\""]);
    assert!(stderr(&out).len() < 200, "{}", stderr(&out));
}

#[test]
fn ipv4_targets_and_names_under_dash_6() {
    let out = run(&["-sL", "-n", "-6", "127.0.0.1"]);
    assert_one_line_error(&out, &["\"127.0.0.1\"", "IPv4", "-6"]);
    // localhost: only meaningful where it has no IPv6 address.
    let v6 = ("localhost", 0)
        .to_socket_addrs()
        .map(|mut a| a.any(|a| a.is_ipv6()))
        .unwrap_or(true);
    if !v6 {
        let out = run(&["-sL", "-n", "-6", "localhost"]);
        let err = stderr(&out);
        assert!(
            err.contains("\"localhost\" resolves, but not to an IPv6 address: scan it without -6."),
            "{err}"
        );
    }
}

#[test]
fn standard_input_is_a_target_file_too() {
    use std::io::Write;
    let mut child = portolan()
        .args(["-sL", "-n", "-iL", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("portolan runs");
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(b"127.0.0.3\n127.0.0.9\n127.0.0.5\n127.0.0.7\n127.0.0.1\nbad/\n")
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let listed: Vec<String> = stdout(&out)
        .lines()
        .filter_map(|l| l.strip_prefix("Portolan scan report for "))
        .map(str::to_string)
        .collect();
    assert_eq!(
        listed,
        [
            "127.0.0.3",
            "127.0.0.9",
            "127.0.0.5",
            "127.0.0.7",
            "127.0.0.1"
        ]
    );
    assert!(
        stderr(&out).contains("-:6: invalid CIDR prefix"),
        "{}",
        stderr(&out)
    );
}

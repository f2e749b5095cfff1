//! Tests of the SCRIPT SCAN flags: `-sC`, `--script`, `--script-args`,
//! `--script-timeout`, `--risk-db`, and `-A`.

use super::*;
use std::ffi::OsString;
use std::time::Duration;

fn run(args: &[&str]) -> Result<Command, CliError> {
    parse(args.iter().map(OsString::from))
}

fn opts(args: &[&str]) -> Options {
    match run(args) {
        Ok(Command::Scan(o)) => *o,
        other => panic!("{args:?} gave {other:?}"),
    }
}

fn err(args: &[&str]) -> String {
    match run(args) {
        Err(e) => e.to_string(),
        Ok(c) => panic!("{args:?} should fail but gave {c:?}"),
    }
}

#[test]
fn sc_and_a_select_the_default_set() {
    assert!(opts(&["-sC", "198.18.0.1"]).checks.default_set);
    let both = opts(&["-sVC", "198.18.0.1"]);
    assert!(both.checks.default_set && both.version.enabled);
    let a = opts(&["-A", "198.18.0.1"]);
    assert!(a.checks.default_set && a.version.enabled && a.os.enabled);
    assert!(!opts(&["198.18.0.1"]).checks.default_set);
}

#[test]
fn script_lists_add_up_and_reach_the_session_config() {
    let o = opts(&[
        "--script",
        "safe",
        "--script=ftp-anon",
        "--script-args",
        "snmp.community=private",
        "--script-timeout",
        "2s",
        "--risk-db",
        "mine.txt",
        "198.18.0.1",
    ]);
    let c = o.scan_config().checks;
    assert_eq!(c.scripts.as_deref(), Some("safe,ftp-anon"));
    assert_eq!(c.args.as_deref(), Some("snmp.community=private"));
    assert_eq!(c.timeout, Some(Duration::from_secs(2)));
    assert_eq!(c.risk_db.as_deref(), Some(std::path::Path::new("mine.txt")));
}

#[test]
fn unknown_checks_and_bad_args_are_one_line_errors() {
    assert_eq!(
        err(&["--script", "redis-inf", "198.18.0.1"]),
        "unknown check or category `redis-inf` in --script (did you mean `redis-info`?)"
    );
    assert_eq!(
        err(&["--script-args", "community", "198.18.0.1"]),
        "bad --script-args pair `community`: expected KEY=VALUE"
    );
}

#[test]
fn os_flags_reach_the_session_config() {
    let o = opts(&[
        "-O",
        "--osscan-limit",
        "--fuzzy",
        "--max-os-tries",
        "3",
        "--os-db",
        "mine.osdb",
        "198.18.0.1",
    ]);
    let c = o.scan_config().os;
    assert!(c.enabled && c.limit && c.guess);
    assert_eq!(c.max_tries, Some(3));
    assert_eq!(
        c.db_file.as_deref(),
        Some(std::path::Path::new("mine.osdb"))
    );
    assert!(opts(&["--osscan-guess", "198.18.0.1"]).os.guess);
    assert!(!opts(&["198.18.0.1"]).os.enabled);
    assert_eq!(
        err(&["--max-os-tries", "0", "198.18.0.1"]),
        "invalid value \"0\" for --max-os-tries: expected a number of tries"
    );
}

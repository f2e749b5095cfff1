//! Every scan is recorded in the history store: by default in the data
//! directory, elsewhere with `--history`, not at all with `--no-history`;
//! a store that cannot be used stops the command before anything is
//! written.

mod common;
use common::{portolan, stderr, Loopback};
use portolan_store::{Location, ScanStatus, Store};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A fresh directory for one test.
fn dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("history-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn scan_args(lo: &Loopback) -> Vec<String> {
    ["-sT", "-Pn", "-n", "-p", &lo.port_list(), "127.0.0.1"]
        .map(String::from)
        .to_vec()
}

#[test]
fn a_scan_is_recorded_in_the_data_directory() {
    let lo = Loopback::new(2, 3);
    let data = dir("default");
    let out = portolan()
        .env("XDG_DATA_HOME", &data)
        .args(scan_args(&lo))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let file = data.join("portolan/history.sqlite");
    let mut store = Store::open(&Location::Sqlite(file)).unwrap();
    let scans = store.scans().unwrap();
    assert_eq!(scans.len(), 1);
    assert_eq!(scans[0].status, ScanStatus::Complete);
    assert_eq!(scans[0].targets, "127.0.0.1");
    assert!(scans[0].args.starts_with("portolan -sT"));
    let doc = store.load(scans[0].id).unwrap();
    assert_eq!(doc.hosts.len(), 1);
    let mut open = doc.hosts[0].ports_in(
        portolan_model::PortState::Open,
        portolan_model::Protocol::Tcp,
    );
    let mut want = lo.open.clone();
    open.sort_unstable();
    want.sort_unstable();
    assert_eq!(open, want);
    assert_eq!(doc.hosts[0].ports.len(), 5);
}

#[test]
fn home_is_the_fallback_and_no_history_records_nothing() {
    let lo = Loopback::new(1, 1);
    let home = dir("home");
    let out = portolan()
        .env_remove("XDG_DATA_HOME")
        .env("HOME", &home)
        .args(scan_args(&lo))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(home.join(".local/share/portolan/history.sqlite").exists());
    let home = dir("none");
    let out = portolan()
        .env("XDG_DATA_HOME", &home)
        .arg("--no-history")
        .args(scan_args(&lo))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_dir(&home).unwrap().count(), 0);
}

#[test]
fn history_chooses_another_file() {
    let lo = Loopback::new(1, 1);
    let d = dir("explicit");
    let file = d.join("team.sqlite");
    let out = portolan()
        .env("XDG_DATA_HOME", d.join("data"))
        .arg("--history")
        .arg(&file)
        .args(scan_args(&lo))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!d.join("data").exists());
    let mut store = Store::open(&Location::Sqlite(file)).unwrap();
    assert_eq!(store.scans().unwrap().len(), 1);
}

/// Runs a scan with `--history store` and `-oX`, and asserts it fails
/// with one line holding `says`, creating no output file.
fn refused(d: &Path, store: &str, says: &str) {
    let lo = Loopback::new(1, 1);
    let xml = d.join("scan.xml");
    let out = portolan()
        .args(["--history", store, "-oX"])
        .arg(&xml)
        .args(scan_args(&lo))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(says), "{err}");
    assert!(!xml.exists(), "an output file was created");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_corrupt_or_foreign_store_stops_the_scan_and_is_kept() {
    let d = dir("bad");
    let junk = d.join("junk.sqlite");
    std::fs::write(&junk, b"not a database at all").unwrap();
    refused(&d, junk.to_str().unwrap(), "not a usable SQLite database");
    assert_eq!(std::fs::read(&junk).unwrap(), b"not a database at all");
    let foreign = d.join("foreign.sqlite");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE notes (t TEXT)")
        .unwrap();
    let before = std::fs::read(&foreign).unwrap();
    refused(&d, foreign.to_str().unwrap(), "belongs to another program");
    assert_eq!(std::fs::read(&foreign).unwrap(), before);
}

#[test]
fn an_unreachable_postgres_stops_the_scan() {
    let d = dir("pg");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://scan:hunter2@127.0.0.1:{port}/history");
    refused(&d, &url, "cannot connect to the PostgreSQL history store");
}

#[test]
fn an_interrupted_scan_is_recorded_as_interrupted() {
    let d = dir("int");
    let file = d.join("h.sqlite");
    let mut child = portolan()
        .arg("--history")
        .arg(&file)
        .args([
            "-sT",
            "-Pn",
            "-n",
            "-p80",
            "--max-rate",
            "50",
            "127.0.0.0/16",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    assert!(!child.wait().unwrap().success());
    let mut store = Store::open(&Location::Sqlite(file)).unwrap();
    let scans = store.scans().unwrap();
    assert_eq!(scans[0].status, ScanStatus::Interrupted);
    // Large scans write each host as it finishes: those are kept.
    assert!(!store.load(scans[0].id).unwrap().hosts.is_empty());
}

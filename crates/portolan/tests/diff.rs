//! `portolan diff` on files and on the history store: ndiff's exit
//! status (0 same, 1 different, 2 error) and its three formats.

mod common;
use common::{portolan, stderr, stdout};
use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;

fn fixture(name: &str) -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../diff/tests/fixtures/").to_string() + name
}

fn diff(args: &[&str]) -> std::process::Output {
    portolan().arg("diff").args(args).output().unwrap()
}

#[test]
fn files_compare_with_ndiffs_exit_status() {
    let same = diff(&[&fixture("nmap-a.xml"), &fixture("nmap-a.xml")]);
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    let changed = diff(&[&fixture("nmap-a.xml"), &fixture("nmap-b.xml")]);
    assert_eq!(changed.status.code(), Some(1), "{}", stderr(&changed));
    let want = std::fs::read_to_string(fixture("nmap.diff.txt")).unwrap();
    assert_eq!(stdout(&changed), want);
    let xml = diff(&[&fixture("nmap-a.xml"), &fixture("nmap-b.xml"), "--xml"]);
    assert_eq!(
        stdout(&xml),
        std::fs::read_to_string(fixture("nmap.diff.xml")).unwrap()
    );
    let json = diff(&[
        "--json",
        &fixture("portolan-a.json"),
        &fixture("portolan-b.xml"),
    ]);
    assert_eq!(json.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(v["hosts"][0]["ports"][0]["port"], 47001);
}

#[test]
fn errors_exit_2_with_one_line() {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("diff-err-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junk = dir.join("junk.xml");
    std::fs::write(&junk, "<nmaprun><host>").unwrap();
    let cases: [Vec<String>; 4] = [
        vec![
            fixture("nmap-a.xml"),
            dir.join("missing.xml").display().to_string(),
        ],
        vec![fixture("nmap-a.xml"), junk.display().to_string()],
        vec!["a".into(), "b".into(), "c".into()],
        vec!["--xml".into(), "--json".into()],
    ];
    for args in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = diff(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert_eq!(
            stderr(&out).lines().count(),
            1,
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(out.stdout.is_empty());
    }
    // No history yet: said so, and no store is created by reading.
    let home = dir.join("empty-home");
    let out = portolan()
        .env("XDG_DATA_HOME", &home)
        .args(["diff", "last", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no history store"),
        "{}",
        stderr(&out)
    );
    assert!(!home.exists());
}

/// Scans `ports` of 127.0.0.1 into `store` while `open` listen.
fn scan(store: &str, open: &[u16], ports: &str) {
    let _held: Vec<TcpListener> = open
        .iter()
        .map(|p| TcpListener::bind((Ipv4Addr::LOCALHOST, *p)).unwrap())
        .collect();
    let out = portolan()
        .args([
            "--history",
            store,
            "-sT",
            "-Pn",
            "-n",
            "-p",
            ports,
            "127.0.0.1",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn stored_scans_compare_by_default_by_id_and_with_files() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("diff-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = dir.join("h.sqlite").display().to_string();
    // Free ports: bound once, released, then listened on by the scans.
    let free: Vec<u16> = (0..3)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap())
        .collect::<Vec<_>>()
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect();
    let list = free
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",");
    scan(&store, &free[..1], &list);
    scan(&store, &free[1..2], &list);
    let out = diff(&["--history", &store]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(&format!("-{}/tcp open", free[0])), "{text}");
    assert!(text.contains(&format!("+{}/tcp open", free[1])), "{text}");
    let same = diff(&["--history", &store, "last", "2"]);
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    let one = diff(&["--history", &store, "1"]);
    assert_eq!(one.status.code(), Some(1));
    assert_eq!(stdout(&one), text);
    // A stored scan against a file.
    let mixed = diff(&["--history", &store, "last", &fixture("portolan-a.json")]);
    assert_eq!(mixed.status.code(), Some(1), "{}", stderr(&mixed));
    let unknown = diff(&["--history", &store, "nosuchtag", "last"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("no scan `nosuchtag`"),
        "{}",
        stderr(&unknown)
    );
}

#[test]
fn since_compares_with_the_newest_scan_old_enough() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("diff-since-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = dir.join("h.sqlite").display().to_string();
    // nmap-b.xml was made one day after nmap-a.xml, of the same target.
    for f in ["nmap-a.xml", "nmap-b.xml", "nmap-b.xml"] {
        let out = portolan()
            .args(["import", "--history", &store, &fixture(f)])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    // The newest scan is 3 (b again); a day before it is only scan 1.
    let week = diff(&["--history", &store, "--since", "1d"]);
    assert_eq!(week.status.code(), Some(1), "{}", stderr(&week));
    assert_eq!(
        stdout(&week),
        std::fs::read_to_string(fixture("nmap.diff.txt")).unwrap()
    );
    // Without --since the last two (both b) are the same.
    assert_eq!(diff(&["--history", &store]).status.code(), Some(0));
    let none = diff(&["--history", &store, "--since", "2d", "last"]);
    assert_eq!(none.status.code(), Some(2));
    assert_eq!(
        stderr(&none),
        "portolan diff: no scan of the same targets as scan 3 at least 2d older\n"
    );
    let two = diff(&["--history", &store, "--since", "1d", "1", "2"]);
    assert_eq!(two.status.code(), Some(2));
    let bad = diff(&["--since", "soon"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("soon"), "{}", stderr(&bad));
}

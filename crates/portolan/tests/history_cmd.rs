//! `portolan import` and `portolan history`: files into the store, the
//! list of scans, timelines, tags and pruning.

mod common;
use common::{portolan, stderr, stdout};
use std::path::PathBuf;

fn fixture(name: &str) -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../diff/tests/fixtures/").to_string() + name
}

fn store(name: &str) -> String {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("history-cmd-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d.join("h.sqlite").display().to_string()
}

fn ok(args: &[&str]) -> String {
    let out = portolan().args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

#[test]
fn imported_scans_list_diff_and_show_timelines() {
    let h = store("import");
    let text = ok(&[
        "import",
        &fixture("nmap-a.xml"),
        &fixture("nmap-b.xml"),
        "--history",
        &h,
        "--tag",
        "tuesday",
    ]);
    assert!(
        text.contains("as scan 1 (1 host)") && text.contains("as scan 2 (1 host)"),
        "{text}"
    );
    let list = ok(&["history", "--history", &h]);
    assert_eq!(list.lines().count(), 3, "{list}");
    assert!(list.lines().nth(2).unwrap().contains("tuesday"), "{list}");
    assert!(list.contains("(imported from "), "{list}");
    // The imported pair diffs as the files do.
    let out = portolan()
        .args(["diff", "--history", &h, "1", "tuesday"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let want = std::fs::read_to_string(fixture("nmap.diff.txt")).unwrap();
    assert_eq!(stdout(&out), want);
    // Timelines: 21 open then closed; 8000 seen once; by name too.
    let t = ok(&["history", "198.18.0.2", "--history", &h]);
    assert!(t.contains("198.18.0.2 21/tcp: first seen open 2026-12-04T16:48:42Z (scan 1), last seen open 2026-12-04T16:48:42Z (scan 1), in 2 scans"), "{t}");
    assert!(t.contains("scan 2     closed"), "{t}");
    let t = ok(&[
        "history",
        "target.example",
        "--port",
        "8000",
        "--history",
        &h,
    ]);
    assert_eq!(t.lines().count(), 2, "{t}");
    assert!(t.contains("SimpleHTTPServer 0.6"), "{t}");
    let t = ok(&["history", "--service", "http", "--history", &h]);
    assert!(
        t.contains(" 80/tcp") && t.contains(" 8000/tcp") && !t.contains(" 22/tcp"),
        "{t}"
    );
    // Tags move; pruning removes what is older than the age (the
    // imports, from 2026) and keeps a scan made now.
    ok(&["history", "--tag", "monday", "1", "--history", &h]);
    ok(&["--history", &h, "-sT", "-Pn", "-n", "-p", "1", "127.0.0.1"]);
    let p = ok(&["history", "--prune", "1h", "--history", &h]);
    assert!(p.starts_with("Removed "), "{p}");
    let list = ok(&["history", "--history", &h]);
    let ids: Vec<&str> = list
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert!(!ids.contains(&"1") && ids.contains(&"3"), "{list}");
}

#[test]
fn a_bad_file_imports_nothing_and_history_needs_a_store() {
    let h = store("bad");
    let d = PathBuf::from(&h).parent().unwrap().to_path_buf();
    let junk = d.join("junk.json");
    std::fs::write(&junk, "{\"type\":\"nonsense\"}\n").unwrap();
    let out = portolan()
        .args(["import", &fixture("nmap-a.xml")])
        .arg(&junk)
        .args(["--history", &h])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(!PathBuf::from(&h).exists(), "a store was created");
    let out = portolan()
        .args(["history", "--history", &h])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no history store"),
        "{}",
        stderr(&out)
    );
}

//! Four shard processes of one `--scan-id` record concurrently into one
//! real PostgreSQL store (Debian's `postgresql`, started by the test) and
//! are one scan there: `portolan diff` finds it the same as the
//! unsharded scan, `history` names the shards, and a shard run again
//! adds no rows.

mod common;
#[path = "../../store/tests/common/pg.rs"]
#[allow(dead_code)]
mod pg;

use common::{portolan, stderr, stdout};
use std::net::{Ipv4Addr, TcpListener};

#[test]
fn shards_of_one_scan_id_make_one_scan_in_postgres() {
    if !portolan_testbed::require_root_only()
        || !portolan_testbed::skip_unless(
            pg::pg_bin().is_some(),
            "needs Debian's postgresql package (/usr/lib/postgresql/*/bin/initdb)",
        )
    {
        return;
    }
    let mut server = pg::PgServer::start().expect("PostgreSQL starts");
    let url = server.fresh_db();
    // One listener on 127.0.0.1; the other addresses of 127.0.0.1-16
    // refuse: every host has a port to record.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let scan = |extra: &[&str]| {
        let mut c = portolan();
        c.args(["--history", &url, "-sT", "-Pn", "-n", "-p", &port]);
        c.args(extra);
        c.arg("127.0.0.1-16");
        c
    };
    let whole = scan(&[]).output().unwrap();
    assert!(whole.status.success(), "{}", stderr(&whole));
    let children: Vec<_> = (1..=4)
        .map(|k| {
            scan(&["--scan-id", "sweep", "--shard", &format!("{k}/4")])
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let diff = |args: &[&str]| {
        portolan()
            .arg("diff")
            .arg("--history")
            .arg(&url)
            .args(args)
            .output()
            .unwrap()
    };
    let same = diff(&["1", "sweep"]);
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}{}",
        stdout(&same),
        stderr(&same)
    );
    let listed = portolan()
        .args(["history", "--history", &url])
        .output()
        .unwrap();
    let text = stdout(&listed);
    for k in 1..=4 {
        assert!(text.contains(&format!("[sweep: shard {k}/4]")), "{text}");
    }
    assert_eq!(text.lines().count(), 1 + 5, "{text}");
    // Shard 3 again: it replaces its earlier rows.
    let again = scan(&["--scan-id", "sweep", "--shard", "3/4"])
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", stderr(&again));
    let listed = portolan()
        .args(["history", "--history", &url])
        .output()
        .unwrap();
    assert_eq!(
        stdout(&listed).lines().count(),
        1 + 5,
        "{}",
        stdout(&listed)
    );
    assert_eq!(diff(&["1", "sweep"]).status.code(), Some(0));
    drop(listener);
}

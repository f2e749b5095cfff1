//! `--shard K/N` with one `--seed` splits the hosts of a scan disjointly
//! and completely; the union of the shards is the unsharded scan.

mod common;
use std::collections::BTreeSet;

fn hosts(args: &[&str]) -> BTreeSet<String> {
    let mut all = vec!["-sS", "-n", "-Pn", "-p80", "--seed", "42", "-oG", "-"];
    all.extend_from_slice(args);
    all.push("127.0.0.1-20");
    let out = common::run(&all);
    assert!(out.status.success(), "{}", common::stderr(&out));
    common::stdout(&out)
        .lines()
        .filter(|l| l.contains("\tPorts: "))
        .map(|l| l.split_whitespace().nth(1).unwrap().to_string())
        .collect()
}

#[test]
fn shards_are_disjoint_and_their_union_is_the_whole_scan() {
    if !portolan_testbed::require_root_only() {
        return;
    }
    let whole = hosts(&[]);
    assert_eq!(whole.len(), 20);
    let shards: Vec<BTreeSet<String>> = (1..=3)
        .map(|k| hosts(&["--shard", &format!("{k}/3")]))
        .collect();
    let mut union = BTreeSet::new();
    for s in &shards {
        assert!(s.is_disjoint(&union), "shards overlap: {shards:?}");
        union.extend(s.iter().cloned());
    }
    assert_eq!(union, whole);
}

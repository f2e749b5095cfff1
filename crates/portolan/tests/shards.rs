//! `--shard K/N` with one `--seed` splits the hosts of a scan disjointly
//! and completely; the union of the shards is the unsharded scan.

mod common;
use std::collections::BTreeSet;

/// The addresses of the `-oG -` lines that `keep` accepts, of a run with
/// `first`, then `args`, then `targets`.
fn grepable_hosts(
    first: &[&str],
    args: &[&str],
    targets: &str,
    keep: fn(&str) -> bool,
) -> Vec<String> {
    let mut all = first.to_vec();
    all.extend_from_slice(&["--seed", "42", "-oG", "-"]);
    all.extend_from_slice(args);
    all.push(targets);
    let out = common::run(&all);
    assert!(out.status.success(), "{}", common::stderr(&out));
    common::stdout(&out)
        .lines()
        .filter(|l| keep(l))
        .map(|l| l.split_whitespace().nth(1).unwrap().to_string())
        .collect()
}

/// The hosts a SYN scan of port 80 of 127.0.0.1-20 reports.
fn hosts(args: &[&str]) -> BTreeSet<String> {
    let first = ["-sS", "-n", "-Pn", "-p80"];
    grepable_hosts(&first, args, "127.0.0.1-20", |l| l.contains("\tPorts: "))
        .into_iter()
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

/// The addresses `-sL` lists (`-oG -`), with `args` before the targets.
fn listed(args: &[&str], targets: &str) -> Vec<String> {
    grepable_hosts(&["-sL", "-n"], args, targets, |l| l.starts_with("Host: "))
}

#[test]
fn list_scan_shards_are_the_shards_a_scan_takes() {
    // -sL sends nothing, so this runs unprivileged; it lists exactly what
    // each shard would scan, in target order, and the shards partition.
    let whole = listed(&[], "198.18.0.0/26");
    assert_eq!(whole.len(), 64);
    let mut union: Vec<String> = Vec::new();
    for k in 1..=3 {
        let part = listed(&["--shard", &format!("{k}/3")], "198.18.0.0/26");
        assert!((20..=22).contains(&part.len()), "shard {k}/3: {part:?}");
        let mut sorted = part.clone();
        sorted.sort_by_key(|a| a.parse::<std::net::Ipv4Addr>().unwrap());
        assert_eq!(part, sorted, "a shard is listed in target order");
        union.extend(part);
    }
    union.sort_by_key(|a| a.parse::<std::net::Ipv4Addr>().unwrap());
    assert_eq!(union, whole, "the shards partition the list");
    // The closing line counts the shard's part, not the whole range.
    let out = common::run(&[
        "-sL",
        "-n",
        "--seed",
        "42",
        "--shard",
        "2/3",
        "198.18.0.0/26",
    ]);
    let text = common::stdout(&out);
    let n = listed(&["--shard", "2/3"], "198.18.0.0/26").len();
    assert!(
        text.contains(&format!("Portolan done: {n} IP addresses (0 hosts up)")),
        "{text}"
    );
}

#[test]
fn list_and_scan_shards_agree() {
    if !portolan_testbed::require_root_only() {
        return;
    }
    // The same seed and shard: -sL lists exactly the hosts the scan scans.
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let scanned = hosts(&["--shard", &shard]);
        let listed: BTreeSet<String> = listed(&["--shard", &shard], "127.0.0.1-20")
            .into_iter()
            .collect();
        assert_eq!(listed, scanned, "shard {shard}");
    }
}

#[test]
fn shards_without_a_seed_still_partition() {
    // Each shard process derives the same seed from the scan itself.
    let run = |extra: &[&str]| -> Vec<String> {
        let mut all = vec!["-sL", "-n", "-oG", "-"];
        all.extend_from_slice(extra);
        all.push("198.18.0.0/26");
        let out = common::run(&all);
        assert!(out.status.success(), "{}", common::stderr(&out));
        common::stdout(&out)
            .lines()
            .filter(|l| l.starts_with("Host: "))
            .map(|l| l.split_whitespace().nth(1).unwrap().to_string())
            .collect()
    };
    let mut union: Vec<String> = Vec::new();
    for k in 1..=4 {
        let part = run(&["--shard", &format!("{k}/4")]);
        assert!(!part.is_empty());
        assert!(
            part.iter().all(|h| !union.contains(h)),
            "shard {k} overlaps"
        );
        union.extend(part);
    }
    union.sort();
    let mut whole = run(&[]);
    whole.sort();
    assert_eq!(union, whole);
}

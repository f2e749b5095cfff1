//! Huge target lists must stay lazy: building, indexing and walking them
//! costs memory proportional to the number of expressions, not addresses.
//! A regression here would show as an out-of-memory kill or a large jump in
//! the process's resident memory.

use portolan_targets::{MapResolver, TargetList, TargetOptions};
use std::net::IpAddr;

/// Resident memory of this process in bytes (Linux), if readable.
fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn build(targets: &[&str], excludes: &[&str]) -> TargetList {
    let t: Vec<String> = targets.iter().map(|s| s.to_string()).collect();
    let e: Vec<String> = excludes.iter().map(|s| s.to_string()).collect();
    TargetList::build(&t, &e, &TargetOptions::default(), &MapResolver::new())
        .unwrap()
        .0
}

#[test]
fn slash_eight_indexes_without_materialising() {
    let before = rss_bytes();
    let list = build(&["198.0.0.0/8"], &["198.18.0.0/15"]);
    assert_eq!(list.len(), 1 << 24);
    let ip = |i: u64| list.get(i).map(|t| t.addr);
    assert_eq!(ip(0), Some("198.0.0.0".parse::<IpAddr>().unwrap()));
    assert_eq!(ip((1 << 24) - 1), Some("198.255.255.255".parse().unwrap()));
    assert_eq!(ip(18 << 16), None, "excluded");
    // A stride through the whole space touches every /16.
    let mut seen = 0u64;
    let mut i = 7u64;
    while i < list.len() {
        if list.get(i).is_some() {
            seen += 1;
        }
        i += 4099;
    }
    assert!(seen > 4000);
    // Walk two million addresses with the iterator.
    let walked = list.iter().take(2_000_000).count();
    assert_eq!(walked, 2_000_000);
    if let (Some(b), Some(a)) = (before, rss_bytes()) {
        // 16M addresses as a Vec would take at least 64 MiB.
        assert!(a.saturating_sub(b) < 16 << 20, "RSS grew {} bytes", a - b);
    }
}

#[test]
fn whole_address_spaces_are_constant_size() {
    let list = build(&["0.0.0.0/0", "-.-.-.-", "2001:2::/64"], &["-.-.-.0,255"]);
    assert_eq!(list.len(), u64::MAX);
    assert!(list.get(0).is_none(), "0.0.0.0 is excluded by the pattern");
    assert_eq!(
        list.get(1).map(|t| t.addr),
        Some("0.0.0.1".parse::<IpAddr>().unwrap())
    );
    assert_eq!(
        list.get((2u64 << 32) + 5).map(|t| t.addr),
        Some("2001:2::5".parse::<IpAddr>().unwrap())
    );
    let mut it = list.iter().skip(250);
    assert_eq!(
        it.next().map(|t| t.addr.to_string()).as_deref(),
        Some("0.0.0.251")
    );
}

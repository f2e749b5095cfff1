//! Tests of the target list.

use super::*;
use crate::resolve::MapResolver;
use crate::singles::Addrs;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn resolver() -> MapResolver {
    MapResolver::new()
        .with(
            "box.test",
            &[ip("198.18.5.5"), ip("2001:2::5"), ip("198.18.6.6")],
        )
        .with("v6only.test", &[ip("2001:2::7")])
        .with("v4only.test", &[ip("198.18.7.7")])
}

fn build(targets: &[&str], excludes: &[&str], opts: TargetOptions) -> (TargetList, Vec<String>) {
    TargetList::build(&strings(targets), &strings(excludes), &opts, &resolver()).unwrap()
}

fn addrs(list: &TargetList) -> Vec<String> {
    list.iter().map(|t| t.addr.to_string()).collect()
}

#[test]
fn indexes_across_expressions() {
    let (l, w) = build(
        &["198.18.0.0/30", "2001:2::1", "198.18.1.1-2"],
        &[],
        TargetOptions::default(),
    );
    assert!(w.is_empty());
    assert_eq!(l.len(), 7);
    assert_eq!(
        addrs(&l),
        [
            "198.18.0.0",
            "198.18.0.1",
            "198.18.0.2",
            "198.18.0.3",
            "2001:2::1",
            "198.18.1.1",
            "198.18.1.2"
        ]
    );
    assert_eq!(l.get(4).unwrap().addr, ip("2001:2::1"));
    assert_eq!(l.get(7), None);
    assert_eq!(l.get(u64::MAX), None);
    let (empty, _) = build(&[], &[], TargetOptions::default());
    assert!(empty.is_empty());
    assert_eq!(empty.get(0), None);
    assert_eq!(empty.iter().count(), 0);
}

#[test]
fn names_resolve_to_the_wanted_family() {
    let (l, w) = build(&["box.test"], &[], TargetOptions::default());
    assert!(w.is_empty());
    let t = l.get(0).unwrap();
    assert_eq!(t.addr, ip("198.18.5.5"));
    assert_eq!(t.name.as_deref(), Some("box.test"));
    assert_eq!(l.len(), 1);

    let v6 = TargetOptions {
        ipv6: true,
        ..Default::default()
    };
    let (l, _) = build(&["box.test", "2001:2::1"], &[], v6);
    assert_eq!(addrs(&l), ["2001:2::5", "2001:2::1"]);
    assert_eq!(l.get(1).unwrap().name, None);
    // IPv4 targets are refused under -6, as nmap refuses them; IPv4
    // exclusions are harmless.
    for t in ["198.18.0.1", "198.18.0.0/24", "198.18.0.1-9"] {
        let err = TargetList::build(&strings(&[t]), &[], &v6, &resolver()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("invalid target \"{t}\": an IPv4 address, but -6 scans IPv6 only (scan it without -6)")
        );
    }
    let (l, _) = build(&["box.test"], &["198.18.0.0/15"], v6);
    assert_eq!(addrs(&l), ["2001:2::5"]);

    let all = TargetOptions {
        resolve_all: true,
        ..Default::default()
    };
    let (l, _) = build(&["box.test"], &[], all);
    assert_eq!(addrs(&l), ["198.18.5.5", "198.18.6.6"]);
    assert!(l.iter().all(|t| t.name.as_deref() == Some("box.test")));
}

#[test]
fn unresolvable_names_warn_and_the_rest_goes_on() {
    let (l, w) = build(
        &["nope.test", "198.18.0.1", "v6only.test"],
        &[],
        TargetOptions::default(),
    );
    assert_eq!(
        w,
        [
            "Failed to resolve \"nope.test\".",
            "Failed to resolve \"v6only.test\"."
        ]
    );
    assert_eq!(addrs(&l), ["198.18.0.1"]);
    let v6 = TargetOptions {
        ipv6: true,
        ..Default::default()
    };
    let (_, w) = build(&["v4only.test"], &["nope.test"], v6);
    assert_eq!(
        w,
        [
            "\"v4only.test\" resolves, but not to an IPv6 address: scan it without -6.",
            "Failed to resolve \"nope.test\"."
        ]
    );
}

#[test]
fn prefix_on_a_name_scans_its_network() {
    let (l, _) = build(&["v4only.test/30"], &[], TargetOptions::default());
    assert_eq!(
        addrs(&l),
        ["198.18.7.4", "198.18.7.5", "198.18.7.6", "198.18.7.7"]
    );
    // The typed name belongs to the address it resolved to only.
    let named: Vec<_> = l
        .iter()
        .filter(|t| t.name.is_some())
        .map(|t| t.addr)
        .collect();
    assert_eq!(named, [ip("198.18.7.7")]);
    let v6 = TargetOptions {
        ipv6: true,
        ..Default::default()
    };
    let (l, _) = build(&["v6only.test/126"], &[], v6);
    assert_eq!(l.len(), 4);
    let err = TargetList::build(
        &strings(&["v4only.test/33"]),
        &[],
        &TargetOptions::default(),
        &resolver(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid CIDR prefix \"/33\" in \"v4only.test/33\""
    );
    let err = TargetList::build(&strings(&["v6only.test/48"]), &[], &v6, &resolver()).unwrap_err();
    assert!(err.to_string().contains("prefix too large"), "{err}");
    let err = TargetList::build(&strings(&["2001:2::/63"]), &[], &v6, &resolver()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid target \"2001:2::/63\": prefix too large (IPv6 prefixes shorter than /64 are not supported)"
    );
}

#[test]
fn syntax_errors_fail_before_any_lookup() {
    let calls = std::cell::Cell::new(0);
    let counting = |_: &str| -> std::io::Result<Vec<IpAddr>> {
        calls.set(calls.get() + 1);
        Ok(vec![])
    };
    let err = TargetList::build(
        &strings(&["a.test", "198.18.0.256"]),
        &[],
        &TargetOptions::default(),
        &counting,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid target \"198.18.0.256\": octet 256 out of range"
    );
    assert_eq!(calls.get(), 0);
    let err = TargetList::build(
        &[],
        &strings(&["1.2.3"]),
        &TargetOptions::default(),
        &counting,
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("invalid target \"1.2.3\""));
}

#[test]
fn exclusions() {
    let (l, _) = build(
        &["198.18.0.0/24", "2001:2::/120"],
        &["198.18.0.0/25", "198.18.0.200-255", "box.test", "2001:2::1"],
        TargetOptions::default(),
    );
    assert_eq!(l.len(), 512);
    assert_eq!(l.get(0), None);
    assert_eq!(l.get(128).unwrap().addr, ip("198.18.0.128"));
    let got = addrs(&l);
    // box.test also takes 2001:2::5 out.
    assert_eq!(got.len(), 72 + 254);
    assert!(!got.contains(&"2001:2::1".to_string()));
    // A name excludes all its addresses, of both families.
    let (l, _) = build(
        &["box.test", "2001:2::5", "198.18.6.6"],
        &["box.test"],
        TargetOptions::default(),
    );
    assert_eq!(l.iter().count(), 0);
    // A sparse pattern too large to expand is tested directly.
    let (l, _) = build(&["198.18.0.0/16"], &["-.-.-.1,3"], TargetOptions::default());
    assert_eq!(l.iter().count(), 65536 - 512);
    assert_eq!(l.get(1), None);
    assert_eq!(l.get(2).unwrap().addr, ip("198.18.0.2"));
    // Adjacent and overlapping exclusions merge.
    let (l, _) = build(
        &["198.18.0.0/28"],
        &["198.18.0.0-3", "198.18.0.4/30", "198.18.0.6-9"],
        TargetOptions::default(),
    );
    assert_eq!(addrs(&l).first().map(String::as_str), Some("198.18.0.10"));
    // Excluding everything: the iterator jumps over excluded ranges.
    let (l, _) = build(&["198.18.0.0/24"], &["0.0.0.0/0"], TargetOptions::default());
    assert_eq!(l.iter().count(), 0);
    let (l, _) = build(
        &["0.0.0.0/0", "2001:2::/64", "198.18.0.1"],
        &["0.0.0.0/1", "128.0.0.0/1", "2001:2::/64"],
        TargetOptions::default(),
    );
    assert_eq!(l.iter().count(), 0);
    let (l, _) = build(
        &["0.0.0.0/0", "2001:2::/65", "2001:3::1"],
        &["0.0.0.0/0", "2001:2:0:0:4000::/66", "2001:2::/66"],
        TargetOptions::default(),
    );
    assert_eq!(addrs(&l), ["2001:3::1"]);
    let (l, _) = build(&["2001:2::/64"], &["::/0"], TargetOptions::default());
    assert_eq!(l.get(12345), None);
}

#[test]
fn unique_skips_addresses_seen_in_earlier_expressions() {
    let targets = ["198.18.0.0/30", "198.18.0.2-5", "v4only.test", "198.18.7.7"];
    let (l, _) = build(&targets, &[], TargetOptions::default());
    assert_eq!(l.iter().count(), 10);
    let l = l.with_unique(true);
    assert_eq!(
        addrs(&l),
        [
            "198.18.0.0",
            "198.18.0.1",
            "198.18.0.2",
            "198.18.0.3",
            "198.18.0.4",
            "198.18.0.5",
            "198.18.7.7"
        ]
    );
    // The first occurrence keeps the typed name.
    assert_eq!(l.get(8).unwrap().name.as_deref(), Some("v4only.test"));
    assert_eq!(l.get(9), None);
    let opts = TargetOptions {
        unique: true,
        ..Default::default()
    };
    let (l, _) = build(&["198.18.0.1", "198.18.0.1"], &[], opts);
    assert_eq!(l.len(), 2);
    assert_eq!(l.iter().count(), 1);
}

#[test]
fn consecutive_addresses_share_an_entry() {
    let singles: Vec<String> = (0..1000)
        .map(|i| format!("198.18.{}.{}", i / 256, i % 256))
        .collect();
    let refs: Vec<&str> = singles.iter().map(String::as_str).collect();
    let (l, _) = build(&refs, &[], TargetOptions::default());
    assert_eq!(l.entries.len(), 1);
    assert_eq!(l.len(), 1000);
    assert_eq!(l.get(999).unwrap().addr, ip("198.18.3.231"));
    // Named targets, gaps and other families start new entries.
    let (l, _) = build(
        &[
            "198.18.7.6",
            "v4only.test",
            "198.18.7.8",
            "198.18.9.0/24",
            "2001:2::/127",
            "2001:2::2",
        ],
        &[],
        TargetOptions::default(),
    );
    assert_eq!(l.entries.len(), 5);
    assert_eq!(l.len(), 1 + 1 + 1 + 256 + 3);
    assert_eq!(l.get(1).unwrap().name.as_deref(), Some("v4only.test"));
}

#[test]
fn only_overlapping_entries_are_checked_for_repeats() {
    let (l, _) = build(
        &[
            "198.18.0.0/24",
            "198.18.1.5",
            "198.18.0.9",
            "2001:2::1",
            "198.18.2.0-9",
            "198.18.2.9/32",
        ],
        &[],
        TargetOptions::default(),
    );
    let flags: Vec<bool> = l.entries.iter().map(|e| e.may_repeat).collect();
    assert_eq!(flags, [true, false, true, false, true, true]);
    let l = l.with_unique(true);
    assert_eq!(l.iter().count(), 256 + 1 + 1 + 10);
}

#[test]
fn huge_lists_are_lazy_and_capped() {
    let (l, w) = build(&["0.0.0.0/0", "2001:2::/65"], &[], TargetOptions::default());
    assert!(w.is_empty());
    assert_eq!(l.len(), (1u64 << 32) + (1u64 << 63));
    assert_eq!(l.get((1 << 32) - 1).unwrap().addr, ip("255.255.255.255"));
    assert_eq!(l.get(1 << 32).unwrap().addr, ip("2001:2::"));
    assert_eq!(
        l.get(l.len() - 1).unwrap().addr,
        ip("2001:2::7fff:ffff:ffff:ffff")
    );
    // A /64 alone has 2^64 addresses: one more than a u64 index reaches.
    let (l, w) = build(
        &["2001:2::/64", "198.18.0.1"],
        &[],
        TargetOptions::default(),
    );
    assert_eq!(l.len(), u64::MAX);
    assert_eq!(
        l.get(u64::MAX - 1).unwrap().addr,
        ip("2001:2::ffff:ffff:ffff:fffe")
    );
    assert_eq!(w.len(), 1);
    assert!(w[0].starts_with("Too many targets"), "{w:?}");
    let mut it = l.iter();
    assert_eq!(it.next().unwrap().addr, ip("2001:2::"));
    assert_eq!(it.next().unwrap().addr, ip("2001:2::1"));
}

#[test]
fn shuffled_single_addresses_are_kept_compact() {
    let singles: Vec<String> = (0..1000u32)
        .map(|i| {
            let v = (i * 7919) % 1000;
            format!("198.18.{}.{}", v / 256, v % 256)
        })
        .chain(["198.18.0.7".to_string(), "2001:2::9".to_string()])
        .collect();
    let refs: Vec<&str> = singles.iter().map(String::as_str).collect();
    let (l, _) = build(&refs, &["198.18.0.1"], TargetOptions::default());
    // 1001 IPv4 addresses in one entry; the IPv6 one on its own.
    assert_eq!(l.entries.len(), 2);
    assert!(matches!(l.entries[0].addrs, Addrs::V4(_)));
    assert_eq!(l.len(), 1002);
    for (i, s) in singles.iter().enumerate() {
        let got = l.get(i as u64).map(|t| t.addr.to_string());
        let want = (s != "198.18.0.1").then(|| s.clone());
        assert_eq!(got, want, "index {i}");
    }
    assert_eq!(l.iter().count(), 1001);
    // --unique: 198.18.0.7 came twice.
    let l = l.with_unique(true);
    assert_eq!(l.iter().count(), 1000);
    assert_eq!(l.get(1000), None);
    assert!(l.get(7 * 143 % 1000).is_some());
    // A block of IPv6 singles, and a block seen from a later entry.
    let (l, _) = build(
        &[
            "2001:2::5",
            "2001:2::1",
            "2001:2::9",
            "2001:2::3",
            "2001:2::0/126",
        ],
        &[],
        TargetOptions {
            unique: true,
            ..Default::default()
        },
    );
    assert_eq!(l.entries.len(), 2);
    assert_eq!(
        addrs(&l),
        [
            "2001:2::5",
            "2001:2::1",
            "2001:2::9",
            "2001:2::3",
            "2001:2::",
            "2001:2::2"
        ]
    );
}

#[test]
fn files_add_targets_and_exclusions_and_bad_lines_only_warn() {
    let dir = std::env::temp_dir().join(format!("portolan-list-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let list = dir.join("targets.txt");
    let ex = dir.join("exclude.txt");
    std::fs::write(
        &list,
        "198.18.0.1\n198.18.0.300\n\r\nbox.test\n2001:2::/48\n198.18.0.2\n",
    )
    .unwrap();
    std::fs::write(&ex, "198.18.0.2 nope\x1b]0;x\x07\n").unwrap();
    let cmd = strings(&["198.18.9.9"]);
    let sources = TargetSources {
        targets: &cmd,
        excludes: &[],
        input_list: Some(&list),
        exclude_file: Some(&ex),
    };
    let (l, w) =
        TargetList::from_sources(&sources, &TargetOptions::default(), &resolver()).unwrap();
    assert_eq!(addrs(&l), ["198.18.9.9", "198.18.0.1", "198.18.5.5"]);
    let (ls, es) = (list.display(), ex.display());
    assert_eq!(
        w,
        [
            format!("{ls}:2: invalid target \"198.18.0.300\": octet 300 out of range"),
            format!("{ls}:5: invalid target \"2001:2::/48\": prefix too large (IPv6 prefixes shorter than /64 are not supported)"),
            format!("{es}:1: invalid target \"nope\\x1b]0;x\\x07\": not an address, address range or host name"),
        ]
    );
    // A file with nothing valid is an error; on the command line the first
    // bad expression is.
    std::fs::write(&list, "198.18.0.300\n").unwrap();
    let err =
        TargetList::from_sources(&sources, &TargetOptions::default(), &resolver()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("no valid target in \"{ls}\" (1 bad; the first, line 1: invalid target \"198.18.0.300\": octet 300 out of range)")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn errors_escape_and_cut_what_the_user_typed() {
    let long = format!("\x1b[2J{}\n", "a".repeat(200));
    let err = TargetList::build(
        &strings(&[&long]),
        &[],
        &TargetOptions::default(),
        &resolver(),
    )
    .unwrap_err()
    .to_string();
    assert!(!err.contains('\x1b') && !err.contains('\n'), "{err:?}");
    assert!(err.starts_with("invalid target \"\\x1b[2Jaaa"), "{err}");
    assert!(err.contains("a…\": "), "{err}");
    assert!(err.len() < 160, "{err}");
}

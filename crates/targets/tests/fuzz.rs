//! Property tests: no input makes a parser panic, and what portolan prints
//! as a port range list parses back to the same ports.
//!
//! Failing cases are saved next to this file in `fuzz.proptest-regressions`
//! and replayed first on every run; keep that file in the repository.

use portolan_targets::{
    format_ranges, resolve_ports, MapResolver, Protocol, ServiceTable, TargetList, TargetOptions,
};
use proptest::prelude::*;
use std::net::IpAddr;

mod common;
use common::{exercise_ports, exercise_targets};

fn resolver() -> MapResolver {
    MapResolver::new()
}

proptest! {
    #[test]
    fn targets_never_panic_on_any_string(s in ".{0,60}") {
        exercise_targets(&s);
    }

    #[test]
    fn targets_never_panic_on_target_like_strings(s in "[0-9a-f.,:/*%\\- \n#-]{0,40}") {
        exercise_targets(&s);
    }

    #[test]
    fn ports_never_panic_on_any_string(s in ".{0,60}") {
        exercise_ports(&s);
    }

    #[test]
    fn ports_never_panic_on_port_like_strings(s in "([TUSX]:)?[0-9a-z*?,\\-:]{0,40}") {
        exercise_ports(&s);
    }

    #[test]
    fn format_ranges_round_trips(ports in proptest::collection::vec(any::<u16>(), 1..200)) {
        let text = format_ranges(&ports);
        let parsed = resolve_ports(Some(&text), None, None, &[Protocol::Tcp], ServiceTable::builtin())
            .unwrap()
            .tcp;
        let mut want = ports.clone();
        want.sort_unstable();
        want.dedup();
        prop_assert_eq!(parsed, want);
    }

    #[test]
    fn format_ranges_round_trips_dense_runs(start in any::<u16>(), len in 0u16..3000, gap in 1u16..4) {
        let ports: Vec<u16> = (0..=len)
            .map(|k| start.saturating_add(k.saturating_mul(gap)))
            .collect();
        let text = format_ranges(&ports);
        let parsed = resolve_ports(Some(&text), None, None, &[Protocol::Udp], ServiceTable::builtin())
            .unwrap()
            .udp;
        let mut want = ports.clone();
        want.dedup();
        prop_assert_eq!(parsed, want);
    }

    #[test]
    fn octet_ranges_index_in_order(a in 0u8..=255, b in 0u8..=255, c in 0u8..=255, d in 0u8..=255) {
        let (lo, hi) = (c.min(d), c.max(d));
        let expr = format!("198.{a},{b}.{lo}-{hi}.7");
        let (list, _) = TargetList::build(&[expr], &[], &TargetOptions::default(), &resolver()).unwrap();
        let rows = if a == b { 1 } else { 2 };
        prop_assert_eq!(list.len(), rows * (u64::from(hi - lo) + 1));
        let got: Vec<IpAddr> = list.iter().map(|t| t.addr).collect();
        prop_assert_eq!(got.len() as u64, list.len());
        prop_assert!(got.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn prefixes_contain_their_address(raw in any::<u32>(), prefix in 0u8..=32, pick in any::<u64>()) {
        let addr = std::net::Ipv4Addr::from(raw);
        let (list, _) = TargetList::build(
            &[format!("{addr}/{prefix}")],
            &[],
            &TargetOptions::default(),
            &resolver(),
        )
        .unwrap();
        prop_assert_eq!(list.len(), 1u64 << (32 - prefix));
        let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
        let t = list.get(pick % list.len()).unwrap();
        match t.addr {
            IpAddr::V4(got) => prop_assert_eq!(u32::from(got) & mask, raw & mask),
            IpAddr::V6(_) => prop_assert!(false, "family changed"),
        }
    }
}

/// A small target expression around 198.18.0.0/28: an address, a prefix
/// or an octet range, so random lists overlap, touch and repeat.
fn small_expr() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u8..16).prop_map(|d| format!("198.18.0.{d}")),
        (0u8..16, 28u8..=32).prop_map(|(d, p)| format!("198.18.0.{d}/{p}")),
        (0u8..16, 0u8..16).prop_map(|(a, b)| format!("198.18.0.{}-{}", a.min(b), a.max(b))),
        (0u8..16, 0u8..16).prop_map(|(a, b)| format!("198.18.0,1.{a},{b}")),
        (0u8..16).prop_map(|d| format!("2001:2::{d:x}")),
    ]
}

fn expand(exprs: &[String]) -> Vec<IpAddr> {
    exprs
        .iter()
        .flat_map(|e| {
            let (l, _) = TargetList::build(
                std::slice::from_ref(e),
                &[],
                &TargetOptions::default(),
                &resolver(),
            )
            .unwrap();
            l.iter().map(|t| t.addr).collect::<Vec<_>>()
        })
        .collect()
}

proptest! {
    #[test]
    fn lists_compose_like_their_expressions(
        targets in proptest::collection::vec(small_expr(), 0..12),
        excludes in proptest::collection::vec(small_expr(), 0..4),
        unique in any::<bool>(),
    ) {
        let opts = TargetOptions { unique, ..Default::default() };
        let (list, _) = TargetList::build(&targets, &excludes, &opts, &resolver()).unwrap();
        let excluded = expand(&excludes);
        let mut want = Vec::new();
        for a in expand(&targets) {
            if excluded.contains(&a) || (unique && want.contains(&a)) {
                continue;
            }
            want.push(a);
        }
        let got: Vec<IpAddr> = list.iter().map(|t| t.addr).collect();
        prop_assert_eq!(got, want);
    }
}

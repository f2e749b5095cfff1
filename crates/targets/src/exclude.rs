//! Exclusions (`--exclude`, `--excludefile`): merged address ranges per
//! family, searched by bisection, plus the rare octet pattern too sparse
//! to expand, so testing an address costs a few comparisons.

use crate::spec::Space;
use std::net::IpAddr;

/// Addresses to leave out: merged ranges per family plus sparse patterns.
#[derive(Clone, Debug, Default)]
pub(crate) struct ExcludeSet {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
    patterns: Vec<Space>,
}

/// Octet patterns with at most this many runs are expanded into ranges.
const MAX_EXPANDED_RUNS: u64 = 4096;

impl ExcludeSet {
    /// Leaves out every address of `space`.
    pub(crate) fn add(&mut self, space: Space) {
        match space {
            Space::V4 { start, count } => {
                let last = u64::from(start) + count.saturating_sub(1);
                self.v4
                    .push((start, u32::try_from(last).unwrap_or(u32::MAX)));
            }
            Space::V6 { start, last } => self.v6.push((start, last)),
            Space::Octets(ref o) => {
                let runs = o[0].count() * o[1].count() * o[2].count() * o[3].ranges().len() as u64;
                if runs > MAX_EXPANDED_RUNS {
                    self.patterns.push(space);
                    return;
                }
                // Each combination of the first three octets, with each
                // range of the last, is one run of consecutive addresses.
                for a in o[0].values() {
                    for b in o[1].values() {
                        for c in o[2].values() {
                            let base = u32::from_be_bytes([a, b, c, 0]);
                            for &(s, e) in o[3].ranges() {
                                self.v4.push((base | u32::from(s), base | u32::from(e)));
                            }
                        }
                    }
                }
            }
        }
    }

    /// Sorts and merges the ranges; call once, after the last `add`.
    pub(crate) fn finish(&mut self) {
        merge(&mut self.v4, |v| v.checked_add(1));
        merge(&mut self.v6, |v| v.checked_add(1));
    }

    /// Whether `addr` is left out.
    pub(crate) fn contains(&self, addr: IpAddr) -> bool {
        let in_ranges = match addr {
            IpAddr::V4(a) => covered(&self.v4, u32::from(a)),
            IpAddr::V6(a) => covered(&self.v6, u128::from(a)),
        };
        in_ranges || self.patterns.iter().any(|p| p.contains(addr))
    }

    /// If `addr` is in one of the merged ranges, how many addresses there
    /// are from it to the end of that range (saturating).
    pub(crate) fn run_from(&self, addr: IpAddr) -> Option<u128> {
        match addr {
            IpAddr::V4(a) => {
                let v = u32::from(a);
                let r = self.v4.get(self.v4.partition_point(|r| r.1 < v))?;
                (r.0 <= v).then(|| u128::from(r.1 - v) + 1)
            }
            IpAddr::V6(a) => {
                let v = u128::from(a);
                let r = self.v6.get(self.v6.partition_point(|r| r.1 < v))?;
                (r.0 <= v).then(|| (r.1 - v).saturating_add(1))
            }
        }
    }

    /// Whether nothing is left out.
    pub(crate) fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty() && self.patterns.is_empty()
    }
}

/// Sorts inclusive ranges and merges overlapping or adjacent ones;
/// `next` gives the integer after a value (`None` at the maximum).
fn merge<T: Copy + Ord>(ranges: &mut Vec<(T, T)>, next: fn(T) -> Option<T>) {
    ranges.sort_unstable();
    let mut out: Vec<(T, T)> = Vec::with_capacity(ranges.len());
    for &(s, e) in ranges.iter() {
        match out.last_mut() {
            Some(last) if next(last.1).is_none_or(|n| n >= s) => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    *ranges = out;
}

/// Whether `v` falls in one of the sorted, disjoint inclusive `ranges`.
fn covered<T: Copy + Ord>(ranges: &[(T, T)], v: T) -> bool {
    let i = ranges.partition_point(|r| r.1 < v);
    ranges.get(i).is_some_and(|r| r.0 <= v)
}

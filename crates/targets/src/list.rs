//! The target list: every address to scan, by index, never materialised.
//!
//! The engine visits targets in a pseudo-random permutation of the index
//! space, so the list must answer "what is target number i?" in constant
//! (or logarithmic) time for lists as large as `0.0.0.0/0`. Each expression
//! keeps its own [`Space`]; a prefix-sum table maps a global index to an
//! expression. Exclusions are sorted, merged address ranges searched by
//! bisection (plus the rare octet pattern too sparse to expand), so testing
//! an index costs a few comparisons and the list holds no per-address state.

use crate::error::TargetError;
use crate::resolve::Resolve;
use crate::spec::{parse_expr, Expr, Space};
use std::net::IpAddr;
use std::sync::Arc;

/// One address to scan, with the name the user typed for it, if any.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    /// The address.
    pub addr: IpAddr,
    /// The host name the user typed, when this address is what it
    /// resolved to.
    pub name: Option<Arc<str>>,
}

/// How target expressions are read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TargetOptions {
    /// `-6`: host names resolve to IPv6 addresses (AAAA) instead of IPv4.
    /// Address literals of either family are accepted either way.
    pub ipv6: bool,
    /// `--resolve-all`: scan every address of the wanted family a name has,
    /// not just the first.
    pub resolve_all: bool,
    /// `--unique`: scan each address once even if expressions overlap.
    pub unique: bool,
}

/// A typed host name and the address it resolved to.
type NamedAddr = (Arc<str>, IpAddr);

/// One expression's addresses within the list.
#[derive(Clone, Debug)]
struct Entry {
    space: Space,
    /// Index of the entry's first address in the list.
    offset: u64,
    /// How many of the space's addresses the list includes (all of them
    /// unless the list hit the `u64` cap).
    count: u64,
    /// The typed name and the address it resolved to.
    name: Option<NamedAddr>,
    /// Whether another entry's span overlaps this one's, so `--unique`
    /// must check earlier entries (false for most entries of a long
    /// `-iL` list, which then cost nothing extra).
    may_repeat: bool,
}

/// Addresses to leave out: merged ranges per family plus sparse patterns.
#[derive(Clone, Debug, Default)]
struct ExcludeSet {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
    patterns: Vec<Space>,
}

/// Octet patterns with at most this many runs are expanded into ranges.
const MAX_EXPANDED_RUNS: u64 = 4096;

impl ExcludeSet {
    fn add(&mut self, space: Space) {
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

    fn finish(&mut self) {
        merge(&mut self.v4, |v| v.checked_add(1));
        merge(&mut self.v6, |v| v.checked_add(1));
    }

    fn contains(&self, addr: IpAddr) -> bool {
        let in_ranges = match addr {
            IpAddr::V4(a) => covered(&self.v4, u32::from(a)),
            IpAddr::V6(a) => covered(&self.v6, u128::from(a)),
        };
        in_ranges || self.patterns.iter().any(|p| p.contains(addr))
    }

    /// If `addr` is in one of the merged ranges, how many addresses there
    /// are from it to the end of that range (saturating).
    fn run_from(&self, addr: IpAddr) -> Option<u128> {
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

    fn is_empty(&self) -> bool {
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

/// Every address to scan, addressable by index (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct TargetList {
    entries: Vec<Entry>,
    len: u64,
    exclude: ExcludeSet,
    unique: bool,
}

impl TargetList {
    /// Parses `exprs` and `excludes` (nmap target syntax, one expression
    /// per string; see [`crate::read_list_file`] and
    /// [`crate::split_exclude_list`] to get them from files and
    /// `--exclude`), resolves host names with `resolver`, and returns the
    /// list with warnings for the caller to print (`Failed to resolve
    /// "NAME".`). A syntax error in any expression is an error; a name that
    /// does not resolve is only a warning.
    pub fn build(
        exprs: &[String],
        excludes: &[String],
        opts: &TargetOptions,
        resolver: &dyn Resolve,
    ) -> Result<(TargetList, Vec<String>), TargetError> {
        // Check all syntax before any lookup, so a typo fails fast.
        let parsed: Vec<(&str, Expr)> = exprs
            .iter()
            .map(|t| parse_expr(t).map(|e| (t.as_str(), e)))
            .collect::<Result<_, _>>()?;
        let parsed_ex: Vec<(&str, Expr)> = excludes
            .iter()
            .map(|t| parse_expr(t).map(|e| (t.as_str(), e)))
            .collect::<Result<_, _>>()?;

        let mut warnings = Vec::new();
        let mut spaces: Vec<(Space, Option<NamedAddr>)> = Vec::new();
        for (token, expr) in parsed {
            match expr {
                Expr::Space(s) if s.too_large() => {
                    return Err(TargetError::PrefixTooLarge {
                        token: token.to_string(),
                    })
                }
                Expr::Space(s) => spaces.push((s, None)),
                Expr::Name { name, prefix } => {
                    let addrs = lookup(&name, resolver, Some(opts.ipv6), &mut warnings);
                    let addrs = if opts.resolve_all {
                        &addrs[..]
                    } else {
                        &addrs[..addrs.len().min(1)]
                    };
                    let shared: Arc<str> = name.as_str().into();
                    for &addr in addrs {
                        let space = named_space(token, addr, prefix)?;
                        if space.too_large() {
                            return Err(TargetError::PrefixTooLarge {
                                token: token.to_string(),
                            });
                        }
                        spaces.push((space, Some((shared.clone(), addr))));
                    }
                }
            }
        }

        let mut exclude = ExcludeSet::default();
        for (token, expr) in parsed_ex {
            match expr {
                Expr::Space(s) => exclude.add(s),
                Expr::Name { name, prefix } => {
                    // Leave out every address the name has, of both families.
                    for addr in lookup(&name, resolver, None, &mut warnings) {
                        exclude.add(named_space(token, addr, prefix)?);
                    }
                }
            }
        }
        exclude.finish();

        let mut entries: Vec<Entry> = Vec::with_capacity(spaces.len());
        let mut total: u64 = 0;
        let mut capped = false;
        for (space, name) in spaces {
            let room = u64::MAX - total;
            let want = space.len();
            let count = u64::try_from(want).unwrap_or(u64::MAX).min(room);
            if u128::from(count) < want {
                capped = true;
            }
            if count == 0 {
                continue;
            }
            // Consecutive addresses (a sorted `-iL` file) share one entry.
            let merged = match entries.last_mut() {
                Some(last)
                    if name.is_none() && last.name.is_none() && u128::from(count) == want =>
                {
                    let before = last.space.len();
                    let ok = u128::from(last.count) == before && last.space.append(&space);
                    if ok {
                        last.count += count;
                    }
                    ok
                }
                _ => false,
            };
            if !merged {
                entries.push(Entry {
                    space,
                    offset: total,
                    count,
                    name,
                    may_repeat: false,
                });
            }
            total += count;
        }
        mark_overlaps(&mut entries);
        if capped {
            warnings.push(format!(
                "Too many targets: only the first {} addresses will be scanned.",
                u64::MAX
            ));
        }
        let list = TargetList {
            entries,
            len: total,
            exclude,
            unique: opts.unique,
        };
        Ok((list, warnings))
    }

    /// The same list, with `--unique` on or off: when on, an address that
    /// an earlier expression already contains is skipped.
    pub fn with_unique(mut self, unique: bool) -> Self {
        self.unique = unique;
        self
    }

    /// The size of the index space: every address of every expression,
    /// before exclusions and `--unique`.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the index space is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The target at `index`, or `None` if the index is out of range, its
    /// address is excluded, or (`--unique`) an earlier expression has it.
    pub fn get(&self, index: u64) -> Option<Target> {
        if index >= self.len {
            return None;
        }
        let k = self
            .entries
            .partition_point(|e| e.offset <= index)
            .checked_sub(1)?;
        let entry = &self.entries[k];
        let local = index - entry.offset;
        if local >= entry.count {
            return None;
        }
        let addr = entry.space.get(u128::from(local))?;
        if !self.exclude.is_empty() && self.exclude.contains(addr) {
            return None;
        }
        if self.unique
            && entry.may_repeat
            && self.entries[..k]
                .iter()
                .any(|e| e.may_repeat && e.space.contains(addr))
        {
            return None;
        }
        let name = match &entry.name {
            Some((name, named)) if *named == addr => Some(name.clone()),
            _ => None,
        };
        Some(Target { addr, name })
    }

    /// Every target in index order, skipping excluded (and, with
    /// `--unique`, repeated) addresses; holds no per-address state. An
    /// excluded range inside a prefix is jumped over, not walked.
    pub fn iter(&self) -> impl Iterator<Item = Target> + '_ {
        Iter {
            list: self,
            next: 0,
        }
    }

    /// For an index whose address an exclusion range covers, within an
    /// entry of consecutive addresses: how many indices from it on are
    /// covered too (at least 1).
    fn excluded_run(&self, index: u64) -> Option<u64> {
        let k = self
            .entries
            .partition_point(|e| e.offset <= index)
            .checked_sub(1)?;
        let entry = &self.entries[k];
        if !entry.space.is_consecutive() {
            return None;
        }
        let local = index.checked_sub(entry.offset)?;
        let addr = entry.space.get(u128::from(local))?;
        let run = self.exclude.run_from(addr)?;
        let left = entry.count.checked_sub(local)?;
        Some(u64::try_from(run).unwrap_or(u64::MAX).min(left).max(1))
    }
}

/// [`TargetList::iter`]'s iterator.
struct Iter<'a> {
    list: &'a TargetList,
    next: u64,
}

impl Iterator for Iter<'_> {
    type Item = Target;

    fn next(&mut self) -> Option<Target> {
        while self.next < self.list.len {
            let i = self.next;
            self.next += 1;
            if let Some(t) = self.list.get(i) {
                return Some(t);
            }
            if let Some(run) = self.list.excluded_run(i) {
                self.next = i.saturating_add(run);
            }
        }
        None
    }
}

/// Sets `may_repeat` on every entry whose span (lowest to highest
/// address) meets another entry's span: a sweep in address order.
fn mark_overlaps(entries: &mut [Entry]) {
    let mut order: Vec<(bool, u128, u128, usize)> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let (v6, lo, hi) = e.space.bounds();
            (v6, lo, hi, i)
        })
        .collect();
    order.sort_unstable();
    // The entry reaching furthest among those seen so far in the family.
    let mut reach: Option<(bool, u128, usize)> = None;
    for &(v6, lo, hi, i) in &order {
        match reach {
            Some((rv6, rhi, ri)) if rv6 == v6 && rhi >= lo => {
                entries[i].may_repeat = true;
                entries[ri].may_repeat = true;
                if hi > rhi {
                    reach = Some((v6, hi, i));
                }
            }
            _ => reach = Some((v6, hi, i)),
        }
    }
}

/// Resolves `name`, keeping only the wanted family (`Some(true)` = IPv6,
/// `Some(false)` = IPv4, `None` = both); warns if nothing is left.
fn lookup(
    name: &str,
    resolver: &dyn Resolve,
    want_v6: Option<bool>,
    warnings: &mut Vec<String>,
) -> Vec<IpAddr> {
    let mut addrs: Vec<IpAddr> = resolver
        .resolve(name)
        .unwrap_or_default()
        .into_iter()
        .filter(|a| want_v6.is_none_or(|v6| a.is_ipv6() == v6))
        .collect();
    let mut seen = Vec::with_capacity(addrs.len());
    addrs.retain(|a| {
        let fresh = !seen.contains(a);
        seen.push(*a);
        fresh
    });
    if addrs.is_empty() {
        warnings.push(format!("Failed to resolve \"{name}\"."));
    }
    addrs
}

/// The space of a name's address with the typed prefix, checked against
/// the address's family (IPv4 allows at most /32).
fn named_space(token: &str, addr: IpAddr, prefix: Option<u8>) -> Result<Space, TargetError> {
    match (addr, prefix) {
        (_, None) => Ok(Space::single(addr)),
        (IpAddr::V4(_), Some(p)) if p > 32 => Err(TargetError::Prefix {
            prefix: p.to_string(),
            token: token.to_string(),
        }),
        (_, Some(p)) => Ok(Space::prefix(addr, p)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::MapResolver;

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

    fn build(
        targets: &[&str],
        excludes: &[&str],
        opts: TargetOptions,
    ) -> (TargetList, Vec<String>) {
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
        let (l, _) = build(&["box.test", "198.18.0.1"], &[], v6);
        assert_eq!(addrs(&l), ["2001:2::5", "198.18.0.1"]);
        assert_eq!(l.get(1).unwrap().name, None);

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
                "Failed to resolve \"v4only.test\".",
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
        let err =
            TargetList::build(&strings(&["v6only.test/48"]), &[], &v6, &resolver()).unwrap_err();
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
}

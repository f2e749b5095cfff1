//! The target list: every address to scan, by index, never materialised.
//!
//! The engine visits targets in a pseudo-random permutation of the index
//! space, so the list must answer "what is target number i?" in constant
//! (or logarithmic) time for lists as large as `0.0.0.0/0`. Each expression
//! keeps its own [`Space`]; a prefix-sum table maps a global index to an
//! expression. Exclusions are sorted, merged address ranges searched by
//! bisection (see [`crate::exclude`]), so testing an index costs a few
//! comparisons and the list holds no per-address state, except for single
//! addresses given one by one (a `-iL` file), kept 4 or 16 bytes each
//! (see [`crate::singles`]). Files are read as a stream into that form.

use crate::error::TargetError;
use crate::exclude::ExcludeSet;
use crate::input::read_list_file;
use crate::resolve::Resolve;
use crate::singles::Addrs;
use crate::spec::{parse_expr, Expr, Space};
use std::net::IpAddr;
use std::path::Path;
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
    /// `-6`: host names resolve to IPv6 addresses (AAAA) instead of IPv4,
    /// and IPv4 targets are refused (IPv4 exclusions are harmless).
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
    addrs: Addrs,
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

/// Where the expressions of a target list come from: the command line
/// and the files of `-iL` and `--excludefile`.
#[derive(Clone, Copy, Debug, Default)]
pub struct TargetSources<'a> {
    /// Target expressions from the command line.
    pub targets: &'a [String],
    /// `--exclude` expressions (see [`crate::split_exclude_list`]).
    pub excludes: &'a [String],
    /// `-iL FILE` (`-` for standard input).
    pub input_list: Option<&'a Path>,
    /// `--excludefile FILE`.
    pub exclude_file: Option<&'a Path>,
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
    /// per string), resolves host names with `resolver`, and returns the
    /// list with warnings for the caller to print (`Failed to resolve
    /// "NAME".`). A syntax error in any expression is an error; a name that
    /// does not resolve is only a warning. See [`TargetList::from_sources`]
    /// for files.
    pub fn build(
        exprs: &[String],
        excludes: &[String],
        opts: &TargetOptions,
        resolver: &dyn Resolve,
    ) -> Result<(TargetList, Vec<String>), TargetError> {
        let sources = TargetSources {
            targets: exprs,
            excludes,
            ..TargetSources::default()
        };
        TargetList::from_sources(&sources, opts, resolver)
    }

    /// Like [`TargetList::build`], with the expressions of the `-iL` and
    /// `--excludefile` files too, read as a stream (see
    /// [`crate::read_list_file`]): command-line targets come first, then
    /// the file's. A bad expression on the command line is an error; in a
    /// file it is a warning naming `FILE:LINE`, unless the file has no good
    /// one.
    pub fn from_sources(
        sources: &TargetSources<'_>,
        opts: &TargetOptions,
        resolver: &dyn Resolve,
    ) -> Result<(TargetList, Vec<String>), TargetError> {
        // Check all command-line syntax before any lookup, so a typo fails
        // fast.
        let parsed = parse_all(sources.targets)?;
        let parsed_ex = parse_all(sources.excludes)?;
        let mut b = Builder {
            opts,
            resolver,
            warnings: Vec::new(),
            entries: Vec::new(),
            total: 0,
            capped: false,
            exclude: ExcludeSet::default(),
        };
        for (token, expr) in parsed {
            b.target(token, expr)?;
        }
        if let Some(path) = sources.input_list {
            let mut file_warnings = Vec::new();
            read_list_file(path, &mut file_warnings, |token| {
                b.target(token, parse_expr(token)?)
            })?;
            b.warnings.append(&mut file_warnings);
        }
        for (token, expr) in parsed_ex {
            b.exclude(token, expr)?;
        }
        if let Some(path) = sources.exclude_file {
            let mut file_warnings = Vec::new();
            read_list_file(path, &mut file_warnings, |token| {
                b.exclude(token, parse_expr(token)?)
            })?;
            b.warnings.append(&mut file_warnings);
        }
        Ok(b.finish())
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
        let addr = entry.addrs.get(u128::from(local))?;
        if !self.exclude.is_empty() && self.exclude.contains(addr) {
            return None;
        }
        if self.unique
            && (entry.addrs.repeats_before(u128::from(local), addr)
                || entry.may_repeat
                    && self.entries[..k]
                        .iter()
                        .any(|e| e.may_repeat && e.addrs.contains(addr)))
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
        if !entry.addrs.is_consecutive() {
            return None;
        }
        let local = index.checked_sub(entry.offset)?;
        let addr = entry.addrs.get(u128::from(local))?;
        let run = self.exclude.run_from(addr)?;
        let left = entry.count.checked_sub(local)?;
        Some(u64::try_from(run).unwrap_or(u64::MAX).min(left).max(1))
    }
}

/// Parses every expression, failing at the first bad one.
fn parse_all(exprs: &[String]) -> Result<Vec<(&str, Expr)>, TargetError> {
    exprs
        .iter()
        .map(|t| parse_expr(t).map(|e| (t.as_str(), e)))
        .collect()
}

/// From how many single addresses in a row (not consecutive ones, which
/// merge into a range anyway) they are kept as one compact entry.
const SINGLES_RUN: usize = 4;

/// A target list being built, one expression at a time.
struct Builder<'a> {
    opts: &'a TargetOptions,
    resolver: &'a dyn Resolve,
    warnings: Vec<String>,
    entries: Vec<Entry>,
    total: u64,
    capped: bool,
    exclude: ExcludeSet,
}

impl Builder<'_> {
    /// Adds a target expression (`token` as typed, `expr` parsed).
    fn target(&mut self, token: &str, expr: Expr) -> Result<(), TargetError> {
        match expr {
            Expr::Space(s) if s.too_large() => Err(TargetError::PrefixTooLarge {
                token: token.to_string(),
            }),
            Expr::Space(s) if self.opts.ipv6 && !s.bounds().0 => Err(TargetError::Ipv4WithIpv6 {
                token: token.to_string(),
            }),
            Expr::Space(s) => {
                self.push(s, None);
                Ok(())
            }
            Expr::Name { name, prefix } => {
                let addrs = lookup(
                    &name,
                    self.resolver,
                    Some(self.opts.ipv6),
                    &mut self.warnings,
                );
                let addrs = if self.opts.resolve_all {
                    &addrs[..]
                } else {
                    &addrs[..addrs.len().min(1)]
                };
                let shared: Arc<str> = name.as_str().into();
                let mut spaces = Vec::with_capacity(addrs.len());
                for &addr in addrs {
                    let space = named_space(token, addr, prefix)?;
                    if space.too_large() {
                        return Err(TargetError::PrefixTooLarge {
                            token: token.to_string(),
                        });
                    }
                    spaces.push((space, addr));
                }
                for (space, addr) in spaces {
                    self.push(space, Some((shared.clone(), addr)));
                }
                Ok(())
            }
        }
    }

    /// Adds an exclusion; a name excludes every address it has, of both
    /// families.
    fn exclude(&mut self, token: &str, expr: Expr) -> Result<(), TargetError> {
        match expr {
            Expr::Space(s) => self.exclude.add(s),
            Expr::Name { name, prefix } => {
                for addr in lookup(&name, self.resolver, None, &mut self.warnings) {
                    self.exclude.add(named_space(token, addr, prefix)?);
                }
            }
        }
        Ok(())
    }

    /// Appends a space's addresses, merged into the last entry when that
    /// keeps the list compact (a sorted or long `-iL` list).
    fn push(&mut self, space: Space, name: Option<NamedAddr>) {
        let room = u64::MAX - self.total;
        let want = space.len();
        let count = u64::try_from(want).unwrap_or(u64::MAX).min(room);
        if u128::from(count) < want {
            self.capped = true;
        }
        if count == 0 {
            return;
        }
        if name.is_none() && u128::from(count) == want {
            if let Some(last) = self.entries.last_mut() {
                if last.name.is_none()
                    && u128::from(last.count) == last.addrs.len()
                    && last.addrs.absorb(&space)
                {
                    last.count += count;
                    self.total += count;
                    return;
                }
            }
            // A run of single addresses out of order: from the
            // `SINGLES_RUN`-th on, one compact entry holds them.
            let n = self.entries.len();
            let start = n.saturating_sub(SINGLES_RUN - 1);
            let mut run: Vec<IpAddr> = self.entries[start..]
                .iter()
                .filter(|e| e.name.is_none())
                .filter_map(|e| e.addrs.single())
                .collect();
            run.extend(Addrs::Space(space.clone()).single());
            if run.len() == SINGLES_RUN {
                if let Some(addrs) = Addrs::from_singles(&run) {
                    let offset = self.entries[start].offset;
                    self.entries.truncate(start);
                    self.entries.push(Entry {
                        addrs,
                        offset,
                        count: SINGLES_RUN as u64,
                        name: None,
                        may_repeat: false,
                    });
                    self.total += count;
                    return;
                }
            }
        }
        if let Some(last) = self.entries.last_mut() {
            last.addrs.shrink();
        }
        self.entries.push(Entry {
            addrs: Addrs::Space(space),
            offset: self.total,
            count,
            name,
            may_repeat: false,
        });
        self.total += count;
    }

    fn finish(mut self) -> (TargetList, Vec<String>) {
        self.exclude.finish();
        if let Some(last) = self.entries.last_mut() {
            last.addrs.shrink();
        }
        self.entries.shrink_to_fit();
        mark_overlaps(&mut self.entries);
        if self.capped {
            self.warnings.push(format!(
                "Too many targets: only the first {} addresses will be scanned.",
                u64::MAX
            ));
        }
        let list = TargetList {
            entries: self.entries,
            len: self.total,
            exclude: self.exclude,
            unique: self.opts.unique,
        };
        (list, self.warnings)
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
            let (v6, lo, hi) = e.addrs.bounds();
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
    let mut addrs: Vec<IpAddr> = resolver.resolve(name).unwrap_or_default();
    let any = !addrs.is_empty();
    addrs.retain(|a| want_v6.is_none_or(|v6| a.is_ipv6() == v6));
    let mut seen = Vec::with_capacity(addrs.len());
    addrs.retain(|a| {
        let fresh = !seen.contains(a);
        seen.push(*a);
        fresh
    });
    if addrs.is_empty() && any && want_v6 == Some(true) {
        warnings.push(format!(
            "\"{name}\" resolves, but not to an IPv6 address: scan it without -6."
        ));
    } else if addrs.is_empty() {
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
#[path = "list_tests.rs"]
mod tests;

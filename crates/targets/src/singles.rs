//! The addresses of one target-list entry, and the compact form of long
//! runs of single addresses.
//!
//! A `-iL` file of millions of lines is mostly single addresses. In order
//! they merge into one range; out of order, each would cost a whole entry
//! (tens of bytes). A run of unnamed single addresses of one family is
//! kept instead as a plain vector of address numbers, 4 bytes per IPv4
//! address, so ten million shuffled addresses fit in about 40 MB. The
//! sorted index `--unique` needs (to find repeats) is built only when it
//! is first asked for.

use crate::spec::Space;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

/// The addresses of one entry of the target list.
#[derive(Clone, Debug)]
pub(crate) enum Addrs {
    /// A prefix, a range, an octet pattern or one address.
    Space(Space),
    /// Single IPv4 addresses, in the order given.
    V4(Singles<u32>),
    /// Single IPv6 addresses, in the order given.
    V6(Singles<u128>),
}

impl Addrs {
    /// How many addresses.
    pub(crate) fn len(&self) -> u128 {
        match self {
            Addrs::Space(s) => s.len(),
            Addrs::V4(b) => b.addrs.len() as u128,
            Addrs::V6(b) => b.addrs.len() as u128,
        }
    }

    /// The i-th address; `None` past the end.
    pub(crate) fn get(&self, i: u128) -> Option<IpAddr> {
        match self {
            Addrs::Space(s) => s.get(i),
            Addrs::V4(b) => b.get(i).map(|a| IpAddr::V4(Ipv4Addr::from(a))),
            Addrs::V6(b) => b.get(i).map(|a| IpAddr::V6(Ipv6Addr::from(a))),
        }
    }

    /// Whether `addr` is among the addresses.
    pub(crate) fn contains(&self, addr: IpAddr) -> bool {
        match (self, addr) {
            (Addrs::Space(s), _) => s.contains(addr),
            (Addrs::V4(b), IpAddr::V4(a)) => b.first_index(u32::from(a)).is_some(),
            (Addrs::V6(b), IpAddr::V6(a)) => b.first_index(u128::from(a)).is_some(),
            _ => false,
        }
    }

    /// Whether the address at index `i` (which is `addr`) already occurs
    /// at a smaller index of this entry.
    pub(crate) fn repeats_before(&self, i: u128, addr: IpAddr) -> bool {
        let first = match (self, addr) {
            (Addrs::V4(b), IpAddr::V4(a)) => b.first_index(u32::from(a)),
            (Addrs::V6(b), IpAddr::V6(a)) => b.first_index(u128::from(a)),
            _ => None,
        };
        first.is_some_and(|f| u128::from(f) < i)
    }

    /// The lowest and highest address, as (is IPv6, low, high) numbers.
    pub(crate) fn bounds(&self) -> (bool, u128, u128) {
        match self {
            Addrs::Space(s) => s.bounds(),
            Addrs::V4(b) => (false, u128::from(b.lo), u128::from(b.hi)),
            Addrs::V6(b) => (true, b.lo, b.hi),
        }
    }

    /// Whether consecutive indices are consecutive addresses.
    pub(crate) fn is_consecutive(&self) -> bool {
        matches!(self, Addrs::Space(s) if s.is_consecutive())
    }

    /// Takes in the addresses of `other` after its own if that keeps the
    /// entry compact: a range continued without a gap, or one more single
    /// address after single addresses of its family. Returns whether it
    /// did (if not, nothing changed).
    pub(crate) fn absorb(&mut self, other: &Space) -> bool {
        match (self, single(other)) {
            (Addrs::Space(s), _) => s.append(other),
            (Addrs::V4(b), Some(IpAddr::V4(a))) => b.push(u32::from(a)),
            (Addrs::V6(b), Some(IpAddr::V6(a))) => b.push(u128::from(a)),
            _ => false,
        }
    }

    /// The address, if this is a space of exactly one address.
    pub(crate) fn single(&self) -> Option<IpAddr> {
        match self {
            Addrs::Space(s) => single(s),
            _ => None,
        }
    }

    /// Single addresses of one family (at least one), compacted; `None`
    /// if the families differ.
    pub(crate) fn from_singles(addrs: &[IpAddr]) -> Option<Addrs> {
        let v4: Option<Vec<u32>> = addrs
            .iter()
            .map(|a| match a {
                IpAddr::V4(a) => Some(u32::from(*a)),
                IpAddr::V6(_) => None,
            })
            .collect();
        if let Some(v) = v4 {
            return Singles::new(v).map(Addrs::V4);
        }
        let v6: Option<Vec<u128>> = addrs
            .iter()
            .map(|a| match a {
                IpAddr::V6(a) => Some(u128::from(*a)),
                IpAddr::V4(_) => None,
            })
            .collect();
        Singles::new(v6?).map(Addrs::V6)
    }

    /// Gives back the memory a growing vector reserved.
    pub(crate) fn shrink(&mut self) {
        match self {
            Addrs::Space(_) => {}
            Addrs::V4(b) => b.addrs.shrink_to_fit(),
            Addrs::V6(b) => b.addrs.shrink_to_fit(),
        }
    }
}

/// The address of a space of exactly one address.
fn single(space: &Space) -> Option<IpAddr> {
    match space {
        Space::V4 { start, count: 1 } => Some(IpAddr::V4(Ipv4Addr::from(*start))),
        Space::V6 { start, last } if start == last => Some(IpAddr::V6(Ipv6Addr::from(*start))),
        _ => None,
    }
}

/// Single addresses as numbers, in the order given, with their bounds.
#[derive(Clone, Debug)]
pub(crate) struct Singles<T> {
    addrs: Vec<T>,
    lo: T,
    hi: T,
    /// Each distinct address with the index of its first occurrence,
    /// sorted by address; built on first use (`--unique` only).
    firsts: OnceLock<Vec<(T, u64)>>,
}

impl<T: Copy + Ord> Singles<T> {
    fn new(addrs: Vec<T>) -> Option<Self> {
        Some(Singles {
            lo: *addrs.iter().min()?,
            hi: *addrs.iter().max()?,
            addrs,
            firsts: OnceLock::new(),
        })
    }

    fn push(&mut self, a: T) -> bool {
        self.addrs.push(a);
        self.lo = self.lo.min(a);
        self.hi = self.hi.max(a);
        self.firsts = OnceLock::new();
        true
    }

    fn get(&self, i: u128) -> Option<T> {
        self.addrs.get(usize::try_from(i).ok()?).copied()
    }

    /// The index where `a` first occurs, if it does.
    fn first_index(&self, a: T) -> Option<u64> {
        if a < self.lo || a > self.hi {
            return None;
        }
        let firsts = self.firsts.get_or_init(|| {
            let mut v: Vec<(T, u64)> = self.addrs.iter().copied().zip(0u64..).collect();
            v.sort_unstable();
            v.dedup_by_key(|p| p.0);
            v
        });
        let k = firsts.binary_search_by_key(&a, |p| p.0).ok()?;
        Some(firsts[k].1)
    }
}

//! The internet checksum (RFC 1071), with IPv4 and IPv6 pseudo-headers.
//!
//! Sums are kept unfolded in a `u64` and folded once at the end: summing
//! 32-bit big-endian words is equivalent to summing 16-bit ones modulo
//! 0xffff (because 2^16 = 1 there), takes half the additions, and a `u64`
//! cannot overflow on any packet. Pieces can be summed separately and
//! added (`sum(b, sum(a, 0))`) as long as every piece but the last has an
//! even length: that is how pseudo-headers and headers are combined.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Adds `data` to the running sum `acc` (unfolded). Every piece summed
/// before the last must have an even length.
#[inline]
pub fn sum(data: &[u8], mut acc: u64) -> u64 {
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        acc += u64::from(u32::from_be_bytes([w[0], w[1], w[2], w[3]]));
    }
    let rest = words.remainder();
    let mut pairs = rest.chunks_exact(2);
    for p in &mut pairs {
        acc += u64::from(u16::from_be_bytes([p[0], p[1]]));
    }
    if let [last] = pairs.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

/// Folds a running sum to 16 bits (ones' complement addition).
#[inline]
pub fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// The checksum to store: the complement of the folded sum of `data`
/// (whose checksum field must be zero) plus `initial` (a pseudo-header sum).
#[inline]
pub fn checksum(data: &[u8], initial: u64) -> u16 {
    !fold(sum(data, initial))
}

/// Whether `data`, checksum field included, sums to all ones with `initial`.
#[inline]
pub fn verify(data: &[u8], initial: u64) -> bool {
    fold(sum(data, initial)) == 0xffff
}

/// Updates a stored checksum after the bytes `old` were replaced by `new`
/// (RFC 1624, equation 3: `HC' = ~(~HC + ~m + m')`), without summing the
/// rest of the packet again: for patching per-target fields into a
/// prebuilt probe. `old` and `new` must have the same length and start at
/// an even offset of the checksummed data. The result verifies like a
/// full recomputation (it may differ from one only as 0x0000 vs 0xffff).
#[inline]
pub fn adjust(check: u16, old: &[u8], new: &[u8]) -> u16 {
    let mut acc = sum(new, u64::from(!check));
    let mut words = old.chunks_exact(2);
    for w in &mut words {
        acc += u64::from(!u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        acc += u64::from(!(u16::from(*last) << 8));
    }
    !fold(acc)
}

/// The unfolded sum of the IPv4 pseudo-header (RFC 793 / RFC 768).
#[inline]
pub fn pseudo_v4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: u16) -> u64 {
    u64::from(u32::from(src)) + u64::from(u32::from(dst)) + u64::from(proto) + u64::from(len)
}

/// The unfolded sum of the IPv6 pseudo-header (RFC 8200 section 8.1).
#[inline]
pub fn pseudo_v6(src: Ipv6Addr, dst: Ipv6Addr, proto: u8, len: u32) -> u64 {
    let s = sum(&src.octets(), 0);
    sum(&dst.octets(), s) + u64::from(proto) + u64::from(len)
}

/// The unfolded pseudo-header sum for a segment of `proto` between `src`
/// and `dst` (of one family), `len` bytes long.
#[inline]
pub fn pseudo(src: IpAddr, dst: IpAddr, proto: u8, len: usize) -> u64 {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => pseudo_v4(s, d, proto, len as u16),
        (IpAddr::V6(s), IpAddr::V6(d)) => pseudo_v6(s, d, proto, len as u32),
        _ => 0,
    }
}

/// Whether a received segment's checksum, at `field` in `segment`, is one
/// a sender could have left: complete and correct; *partial* (only the
/// pseudo-header's folded sum, which Linux leaves in packets it loops back
/// to itself with checksum offload, seen as such by a packet socket); or
/// absent (0, which UDP allows). A corrupted address, port or length fails
/// all three, as it would fail the receiving kernel's own check, so a
/// corrupted reply is never taken for another host's.
pub fn received_ok(src: IpAddr, dst: IpAddr, proto: u8, segment: &[u8], field: usize) -> bool {
    let Some(stored) = segment.get(field..field + 2) else {
        return false;
    };
    let stored = u16::from_be_bytes([stored[0], stored[1]]);
    let initial = pseudo(src, dst, proto, segment.len());
    stored == 0 || verify(segment, initial) || stored == fold(initial)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
        let d = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(&d, 0)), 0xddf2);
        assert_eq!(checksum(&d, 0), !0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(fold(sum(&[0x12, 0x34, 0x56], 0)), 0x1234 + 0x5600);
        assert_eq!(fold(sum(&[0xab], 0)), 0xab00);
    }

    #[test]
    fn adjusting_verifies_like_recomputing() {
        let mut d: Vec<u8> = (0..64u8).map(|b| b.wrapping_mul(91)).collect();
        d[10] = 0;
        d[11] = 0;
        let c = checksum(&d, 77);
        d[10..12].copy_from_slice(&c.to_be_bytes());
        for (at, new) in [
            (2usize, [0xffu8, 0xff, 0, 1]),
            (20, [0, 0, 0, 0]),
            (60, [1, 2, 3, 4]),
        ] {
            let old = d[at..at + 4].to_vec();
            d[at..at + 4].copy_from_slice(&new);
            let c = u16::from_be_bytes([d[10], d[11]]);
            let c = adjust(c, &old, &new);
            d[10..12].copy_from_slice(&c.to_be_bytes());
            assert!(verify(&d, 77), "patch at {at}");
        }
    }

    #[test]
    fn pieces_add_up_to_the_whole() {
        let d: Vec<u8> = (0..=255u8).cycle().take(1001).collect();
        let whole = fold(sum(&d, 0));
        let split = fold(sum(&d[6..], sum(&d[..6], 0)));
        assert_eq!(whole, split);
        // Slow reference: 16-bit words with end-around carry.
        let mut acc: u32 = 0;
        for c in d.chunks(2) {
            let w = u32::from(c[0]) << 8 | u32::from(*c.get(1).unwrap_or(&0));
            acc += w;
            acc = (acc & 0xffff) + (acc >> 16);
        }
        assert_eq!(u32::from(whole), acc);
    }

    #[test]
    fn received_checksums_complete_partial_or_absent() {
        let (src, dst): (IpAddr, IpAddr) =
            ("198.18.0.2".parse().unwrap(), "198.18.0.1".parse().unwrap());
        // A UDP header (ports 53 -> 40000, length 11, checksum 0) and 3 bytes.
        let mut seg = vec![0, 53, 0x9c, 0x40, 0, 11, 0, 0, b'a', b'b', b'c'];
        assert!(received_ok(src, dst, 17, &seg, 6), "absent");
        let initial = pseudo(src, dst, 17, seg.len());
        let full = checksum(&seg, initial);
        seg[6..8].copy_from_slice(&full.to_be_bytes());
        assert!(received_ok(src, dst, 17, &seg, 6), "complete");
        let other: IpAddr = "198.18.0.3".parse().unwrap();
        assert!(!received_ok(other, dst, 17, &seg, 6), "another sender");
        seg[6..8].copy_from_slice(&fold(initial).to_be_bytes());
        assert!(received_ok(src, dst, 17, &seg, 6), "partial");
        assert!(
            !received_ok(other, dst, 17, &seg, 6),
            "partial, another sender"
        );
        assert!(!received_ok(src, dst, 17, &seg[..7], 6), "field cut off");
    }
}

//! Keyed permutations of an index space: the order probes go out in.
//!
//! Scanning in index order hammers one host (or one port) at a time, which
//! trips rate limits and intrusion detectors and makes a single slow host
//! stall the scan. Like masscan, portolan instead walks an *encrypted*
//! counter: `i -> P(i)` is a bijection of `[0, n)` chosen by a key, so every
//! index is visited exactly once, in an order that looks random, with O(1)
//! state. The cipher is a 4-round balanced Feistel network over the
//! smallest even-bit power of two covering `n`, made exact by *cycle
//! walking* (re-encrypt until the value falls below `n`; the domain is at
//! most 4n so this takes under four rounds on average).

/// A keyed bijection of `[0, n)`.
#[derive(Clone, Debug)]
pub struct Permutation {
    n: u64,
    half_bits: u32,
    mask: u64,
    keys: [u64; ROUNDS],
}

const ROUNDS: usize = 4;

/// SplitMix64's finaliser: a fast, well-mixing 64-bit hash.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Permutation {
    /// A permutation of `[0, n)` selected by `seed`.
    pub fn new(n: u64, seed: u64) -> Self {
        let bits = 64 - n.saturating_sub(1).leading_zeros();
        let half_bits = bits.div_ceil(2).max(1);
        let mask = if half_bits >= 64 {
            u64::MAX
        } else {
            (1u64 << half_bits) - 1
        };
        let mut keys = [0u64; ROUNDS];
        let mut s = seed;
        for k in &mut keys {
            s = mix64(s);
            *k = s;
        }
        Permutation {
            n,
            half_bits,
            mask,
            keys,
        }
    }

    /// The size of the permuted space.
    pub fn len(&self) -> u64 {
        self.n
    }

    /// Whether the space is empty.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The image of `i`; `i` must be below [`len`](Self::len) (larger
    /// values are returned unchanged).
    pub fn get(&self, i: u64) -> u64 {
        if i >= self.n || self.n <= 1 {
            return i;
        }
        let mut x = i;
        loop {
            x = self.encrypt(x);
            if x < self.n {
                return x;
            }
        }
    }

    /// The index whose image is `y`: `get(inverse(y)) == y` for `y` below
    /// [`len`](Self::len) (larger values are returned unchanged). Walks the
    /// cycle backwards, as [`get`](Self::get) walks it forwards.
    pub fn inverse(&self, y: u64) -> u64 {
        if y >= self.n || self.n <= 1 {
            return y;
        }
        let mut x = y;
        loop {
            x = self.decrypt(x);
            if x < self.n {
                return x;
            }
        }
    }

    fn decrypt(&self, x: u64) -> u64 {
        let mut l = (x >> self.half_bits) & self.mask;
        let mut r = x & self.mask;
        for &k in self.keys.iter().rev() {
            let f = mix64(l ^ k) & self.mask;
            let pr = l;
            l = r ^ f;
            r = pr;
        }
        (l << self.half_bits) | r
    }

    fn encrypt(&self, x: u64) -> u64 {
        let mut l = (x >> self.half_bits) & self.mask;
        let mut r = x & self.mask;
        for &k in &self.keys {
            let f = mix64(r ^ k) & self.mask;
            let nl = r;
            r = l ^ f;
            l = nl;
        }
        (l << self.half_bits) | r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_undoes_get() {
        for (k, n) in [2u64, 3, 17, 256, 1000, 65_537].into_iter().enumerate() {
            let p = Permutation::new(n, 0x5EED ^ k as u64);
            for i in 0..n {
                assert_eq!(p.inverse(p.get(i)), i, "n={n} i={i}");
            }
        }
    }

    #[test]
    fn is_a_bijection_for_many_sizes() {
        let mut sizes: Vec<u64> = (0..=130).collect();
        sizes.extend([
            255, 256, 257, 1000, 1023, 1024, 1025, 4097, 65535, 65536, 100_003,
        ]);
        for (k, &n) in sizes.iter().enumerate() {
            let p = Permutation::new(n, 0xABCD ^ k as u64);
            let mut seen = vec![false; n as usize];
            for i in 0..n {
                let v = p.get(i);
                assert!(v < n, "n={n} i={i} v={v}");
                assert!(!seen[v as usize], "n={n}: {v} twice");
                seen[v as usize] = true;
            }
        }
    }

    #[test]
    fn seed_changes_the_order_and_is_reproducible() {
        let a = Permutation::new(1000, 1);
        let b = Permutation::new(1000, 2);
        let a2 = Permutation::new(1000, 1);
        let va: Vec<u64> = (0..1000).map(|i| a.get(i)).collect();
        let vb: Vec<u64> = (0..1000).map(|i| b.get(i)).collect();
        let va2: Vec<u64> = (0..1000).map(|i| a2.get(i)).collect();
        assert_ne!(va, vb);
        assert_eq!(va, va2);
        assert_ne!(va, (0..1000).collect::<Vec<u64>>());
    }

    #[test]
    fn huge_spaces_do_not_overflow() {
        let p = Permutation::new(u64::MAX, 7);
        assert!(p.get(12345) < u64::MAX);
        let p = Permutation::new(1 << 40, 7);
        assert!(p.get((1 << 40) - 1) < 1 << 40);
    }
}

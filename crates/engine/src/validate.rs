//! Stateless reply validation.
//!
//! Each probe carries a keyed hash of its addresses and ports (in the TCP
//! sequence number, the source port, or a payload field), computed with a
//! per-scan random key. A reply is accepted only if it echoes the hash of
//! the addresses and ports it claims to answer, so the engine needs no table
//! of outstanding probes to match replies, and stale replies from an earlier
//! scan or spoofed ones from a third party are rejected.

use siphasher::sip::SipHasher24;
use std::hash::Hasher;
use std::net::IpAddr;

/// The per-scan secret of the validation hash.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ValidationKey([u8; 16]);

impl std::fmt::Debug for ValidationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ValidationKey(..)")
    }
}

impl ValidationKey {
    /// A key from 16 bytes (random per scan; fixed in tests and `--seed`).
    pub fn new(bytes: [u8; 16]) -> Self {
        ValidationKey(bytes)
    }

    /// A key derived from a 64-bit seed.
    pub fn from_seed(seed: u64) -> Self {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&seed.to_le_bytes());
        b[8..].copy_from_slice(&(!seed).rotate_left(17).to_le_bytes());
        ValidationKey(b)
    }

    /// The 64-bit keyed hash of a probe's address pair and target port.
    /// The first 32 bits go in the TCP sequence number; further bits may
    /// pick the source port.
    pub fn hash(&self, src: IpAddr, dst: IpAddr, dport: u16) -> u64 {
        let mut h = SipHasher24::new_with_key(&self.0);
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                h.write(&s.octets());
                h.write(&d.octets());
            }
            (s, d) => {
                h.write(&ip_bytes(s));
                h.write(&ip_bytes(d));
            }
        }
        h.write_u16(dport);
        h.finish()
    }
}

fn ip_bytes(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V4(v) => v.to_ipv6_mapped().octets(),
        IpAddr::V6(v) => v.octets(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_depends_on_key_and_every_field() {
        let k = ValidationKey::from_seed(1);
        let a: IpAddr = "198.18.0.1".parse().unwrap();
        let b: IpAddr = "198.18.0.2".parse().unwrap();
        let base = k.hash(a, b, 80);
        assert_eq!(base, k.hash(a, b, 80));
        assert_ne!(base, k.hash(b, a, 80));
        assert_ne!(base, k.hash(a, b, 81));
        assert_ne!(base, ValidationKey::from_seed(2).hash(a, b, 80));
    }
}

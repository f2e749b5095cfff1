//! Just enough BER (X.690) for SNMP and LDAP: definite-length TLVs,
//! written and read. Reading never trusts a length: a TLV that claims
//! more bytes than there are is an error, not a panic.

/// Writes one TLV.
pub(crate) fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = value.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = (n as u32).to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (4 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(value);
    out
}

/// A non-negative INTEGER.
pub(crate) fn int(v: u32) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut skip = bytes.iter().take_while(|&&b| b == 0).count().min(3);
    // Keep a leading zero when the top bit would read as negative.
    if bytes[skip] & 0x80 != 0 {
        skip -= 1;
    }
    tlv(0x02, &bytes[skip..])
}

/// The concatenation of `parts`, wrapped in `tag`.
pub(crate) fn cons(tag: u8, parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(tag, &parts.concat())
}

/// Reads one TLV from the front of `b`: its tag, its value and the rest.
pub(crate) fn read(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |a, &x| (a << 8) | usize::from(x));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// Every TLV in `b`, in order (stops at the first malformed one).
pub(crate) fn items(mut b: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    while let Some((tag, v, rest)) = read(b) {
        out.push((tag, v));
        b = rest;
    }
    out
}

/// An INTEGER's value (at most 8 bytes, read as unsigned).
pub(crate) fn uint(v: &[u8]) -> Option<u64> {
    (v.len() <= 8).then(|| v.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lengths_round_trip_and_lies_are_refused() {
        let big = vec![7u8; 300];
        let t = tlv(0x04, &big);
        assert_eq!(&t[..4], &[0x04, 0x82, 0x01, 0x2c]);
        let (tag, v, rest) = read(&t).unwrap();
        assert_eq!((tag, v.len(), rest.len()), (4, 300, 0));
        assert!(read(&[0x04, 0x84, 0xff, 0xff, 0xff, 0xff]).is_none());
        assert!(read(&[0x04, 0x05, 1]).is_none());
        assert!(read(&[0x30, 0x80]).is_none());
        assert_eq!(int(128), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(int(0), vec![0x02, 0x01, 0x00]);
    }
}

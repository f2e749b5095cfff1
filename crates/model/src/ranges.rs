//! Port lists as nmap writes them.

use std::fmt::Write;

/// Formats ports as nmap's compact range list (`1-1024,3306,8080-8081`),
/// as in XML `scaninfo services` and `extrareasons ports`. Input order and
/// duplicates do not matter; an empty list gives an empty string.
pub fn format_ranges(ports: &[u16]) -> String {
    let mut sorted = ports.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end.wrapping_add(1) && end != u16::MAX {
            end = sorted[i + 1];
            i += 1;
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            let _ = write!(out, "{start}");
        } else {
            let _ = write!(out, "{start}-{end}");
        }
        i += 1;
    }
    out
}

/// Reads a list written by [`format_ranges`] (`1-21,23`) back into port
/// numbers, in order; an empty string is no ports. Errors name the bad
/// piece.
pub fn parse_ranges(text: &str) -> Result<Vec<u16>, String> {
    let mut out = Vec::new();
    if text.is_empty() {
        return Ok(out);
    }
    for piece in text.split(',') {
        let num = |t: &str| {
            t.parse::<u16>()
                .map_err(|_| format!("bad port range `{piece}`"))
        };
        let (start, end) = match piece.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => (num(piece)?, num(piece)?),
        };
        if start > end {
            return Err(format!("bad port range `{piece}`"));
        }
        out.extend(start..=end);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{format_ranges, parse_ranges};

    #[test]
    fn ranges_read_back() {
        assert_eq!(parse_ranges("").unwrap(), Vec::<u16>::new());
        assert_eq!(
            parse_ranges("0,22-24,65535").unwrap(),
            [0, 22, 23, 24, 65535]
        );
        for bad in ["x", "5-1", "1-", ",", "70000", "1-2-3"] {
            assert!(parse_ranges(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ranges_are_compact_sorted_and_deduplicated() {
        assert_eq!(format_ranges(&[]), "");
        assert_eq!(
            format_ranges(&[80, 22, 23, 24, 80, 65535, 0]),
            "0,22-24,80,65535"
        );
        assert_eq!(format_ranges(&[65534, 65535]), "65534-65535");
    }
}
